"""-ni / -ne (services.md 15, F-NET-11): the listening socket of a
service, or the sockets its workers make towards servers, live in another
Linux network namespace.

Each test makes its own namespace with `ip netns add` (root, iproute2),
brings its loopback up and runs a server or client inside it with
`ip netns exec`; 127.0.0.1 inside is not the host's 127.0.0.1, so a
connection only works when the socket was made in the right namespace.
"""

import os
import random
import shutil
import subprocess
import sys

import pytest

from conftest import echo_roundtrip, free_port, wait_until

IP = shutil.which("ip")

ECHO_SERVER = r"""
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
print("ready", flush=True)
def serve(c):
    with c:
        while True:
            d = c.recv(65536)
            if not d:
                return
            c.sendall(d)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""

ECHO_CLIENT = r"""
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"inside")
got = b""
while len(got) < 6:
    d = s.recv(64)
    if not d:
        break
    got += d
print(got.decode(), flush=True)
"""


@pytest.fixture
def netns():
    """The name of a network namespace with its loopback up."""
    if sys.platform != "linux" or os.geteuid() != 0 or IP is None:
        pytest.skip("needs Linux, root and iproute2 (ip netns)")
    name = "pxt%d_%d" % (os.getpid(), random.randrange(1 << 20))
    r = subprocess.run([IP, "netns", "add", name], capture_output=True,
                       timeout=20)
    if r.returncode != 0:
        pytest.skip("ip netns add failed: %s" % r.stderr.decode().strip())
    try:
        subprocess.run([IP, "netns", "exec", name, IP, "link", "set", "lo",
                        "up"], check=True, timeout=20)
        yield name
    finally:
        subprocess.run([IP, "netns", "del", name], timeout=20)


def inside(name, script, *args, **kw):
    return subprocess.Popen([IP, "netns", "exec", name, sys.executable,
                             "-c", script] + [str(a) for a in args],
                            stdout=subprocess.PIPE, text=True, **kw)


def test_ne_connects_inside_the_namespace(proxy, netns):
    """tcppm -ne: the target exists only inside the namespace."""
    port, other, target = free_port(), free_port(), free_port()
    srv = inside(netns, ECHO_SERVER, target)
    try:
        assert srv.stdout.readline().strip() == "ready"
        d = proxy("internal 127.0.0.1\n"
                  "tcppm -ne/run/netns/%s %d 127.0.0.1 %d\n"
                  "tcppm %d 127.0.0.1 %d\n"
                  % (netns, port, target, other, target))
        d.wait_listening(port)
        assert echo_roundtrip(port, b"through") == b"through"
        # the same mapping without -ne looks for the target on the
        # host, where nothing listens
        d.wait_listening(other)
        with pytest.raises(Exception):
            echo_roundtrip(other, b"x")
    finally:
        srv.kill()
        srv.wait(10)


def test_ni_listens_inside_the_namespace(proxy, netns, echo_server):
    """tcppm -ni: the listening socket is inside; the target (the
    host's echo server) is reached from the host's namespace."""
    port = free_port()
    proxy("internal 127.0.0.1\n"
          "tcppm -ni/run/netns/%s %d 127.0.0.1 %d\n"
          % (netns, port, echo_server.port))

    def client_echoes():
        c = inside(netns, ECHO_CLIENT, port, stderr=subprocess.DEVNULL)
        out, _ = c.communicate(timeout=20)
        return out.strip() == "inside"
    wait_until(client_echoes, 15, interval=0.3,
               what="an echo through the listener inside the namespace")
    # nothing listens on that port in the host's namespace
    with pytest.raises(OSError):
        echo_roundtrip(port, b"x")


def test_bad_namespace_path(run3proxy, tmp_path):
    cfg = tmp_path / "px.cfg"
    cfg.write_text("internal 127.0.0.1\n"
                   "tcppm -ne/nonexistent/netns %d 127.0.0.1 9\n"
                   % free_port())
    r = run3proxy([cfg])
    if sys.platform == "linux":
        assert r.rc == 1, r
        assert "px.cfg:2: tcppm: -ne: cannot open network namespace " \
            "/nonexistent/netns" in r.err, r.err
    # --check only warns: the namespace may exist only where it runs
    r = run3proxy(["--check", cfg])
    assert r.rc == 0, r
