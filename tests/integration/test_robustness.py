"""Abuse: garbage, vanishing clients, connection storms.  After each one
the daemon must still serve a normal request (and, at teardown, exit
cleanly with no sanitizer report)."""

import os
import resource
import selectors
import signal
import socket
import struct
import threading
import time

import pytest

from conftest import (LOOP4, MiB, assert_serves, connect, data_chunks,
                      echo_roundtrip,
                      free_port, free_udp_port, nofile_limit, recv_all,
                      recv_exact, recv_stream, wait_record, wait_until)


def rst_close(sock):
    """Close with SO_LINGER 0: the peer gets a RST, not a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                    struct.pack("ii", 1, 0))
    sock.close()


# --------------------------------------------------------------------------
# garbage
# --------------------------------------------------------------------------

def test_garbage_to_mapper_with_closed_target(proxy, echo_server,
                                              closed_port, tmp_path):
    dead, good = free_port(), free_port()
    log = tmp_path / "px.log"
    d = proxy("internal 127.0.0.1\nlog %s\n" % log
              + "tcppm %d 127.0.0.1 %d\n" % (dead, closed_port)
              + "tcppm %d 127.0.0.1 %d\n" % (good, echo_server.port))
    d.wait_listening(dead)
    d.wait_listening(good)
    for i in range(20):
        with connect(dead) as s:
            try:
                s.sendall(os.urandom(4096 * (1 + i % 16)))
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the mapper may already have closed
            recv_all(s, timeout=10)
    # Half of them vanish without reading anything at all.
    for i in range(20):
        s = connect(dead)
        try:
            s.sendall(b"\x00\xff" * 100)
        except OSError:
            pass
        rst_close(s)
    wait_until(lambda: sum(1 for l in log.read_text().splitlines()
                           if " 00013 " in l) >= 40, 15,
               what=lambda: "40 records with 00013 in\n" + log.read_text())
    assert_serves(good)


def test_garbage_through_working_tunnel_and_client_leaves(proxy, echo_server):
    """Random binary data both ways; the client leaves while the echo is
    still coming back."""
    port = free_port()
    d = proxy("internal 127.0.0.1\ntcppm %d 127.0.0.1 %d\n"
              % (port, echo_server.port))
    d.wait_listening(port)
    for i in range(10):
        s = connect(port)
        s.sendall(os.urandom(256 * 1024))
        if i % 2:
            rst_close(s)
        else:
            s.close()
    assert_serves(port)
    blob = os.urandom(1 << 20)
    with connect(port) as s:
        s.sendall(blob)
        assert recv_exact(s, len(blob), timeout=20) == blob


# --------------------------------------------------------------------------
# clients that vanish mid-transfer
# --------------------------------------------------------------------------

def test_client_reset_during_download(proxy, source_server, echo_server,
                                      tmp_path):
    total = 256 * MiB   # far more than any socket buffers hold
    src = source_server(total, seed=3)
    port, good = free_port(), free_port()
    log = tmp_path / "px.log"
    d = proxy("internal 127.0.0.1\nlog %s\n" % log
              + "tcppm %d 127.0.0.1 %d\n" % (port, src.port)
              + "tcppm %d 127.0.0.1 %d\n" % (good, echo_server.port))
    d.wait_listening(port)
    s = connect(port)
    cport = s.getsockname()[1]
    assert len(recv_exact(s, MiB, timeout=20)) == MiB
    rst_close(s)
    # The daemon gives up the server side too: the source's send fails.
    res, = src.wait_results(1, timeout=20)
    assert res[0] == "error", res
    rec = wait_record(log, lambda m: m["cport"] == str(cport), timeout=10)
    assert rec["err"] in ("00094", "00095"), rec.group(0)
    assert MiB <= int(rec["in"]) < total
    assert_serves(good)


def test_client_reset_during_upload(proxy, sink_server, echo_server):
    port, good = free_port(), free_port()
    d = proxy("internal 127.0.0.1\n"
              "tcppm %d 127.0.0.1 %d\n" % (port, sink_server.port)
              + "tcppm %d 127.0.0.1 %d\n" % (good, echo_server.port))
    d.wait_listening(port)
    s = connect(port)
    sent = 0
    for chunk in data_chunks(8 * MiB, seed=9):
        s.sendall(chunk)
        sent += len(chunk)
    rst_close(s)
    # The server side is closed by the daemon (EOF or reset at the sink).
    res, = sink_server.wait_results(1, timeout=20)
    if res[0] != "error":
        assert res[0] <= sent
    assert_serves(good)


def test_server_reset_mid_transfer(proxy, tcp_server, echo_server):
    """The target resets while the client is still sending."""
    def handler(conn, server):
        recv_exact(conn, 1000)
        rst_close(conn)
        server.add_result("reset")
    srv = tcp_server(handler)
    port, good = free_port(), free_port()
    d = proxy("internal 127.0.0.1\n"
              "tcppm %d 127.0.0.1 %d\n" % (port, srv.port)
              + "tcppm %d 127.0.0.1 %d\n" % (good, echo_server.port))
    d.wait_listening(port)
    with connect(port) as s:
        try:
            for chunk in data_chunks(16 * MiB, seed=2):
                s.sendall(chunk)
        except OSError:
            pass
        recv_all(s, timeout=15)
    assert srv.wait_results(1) == ["reset"]
    assert_serves(good)


def test_many_parallel_tunnels(proxy, echo_server):
    """50 tunnels moving data at the same time, each checked."""
    port = free_port()
    d = proxy("internal 127.0.0.1\ntcppm %d 127.0.0.1 %d\n"
              % (port, echo_server.port))
    d.wait_listening(port)
    errors = []

    def one(i):
        try:
            blob = os.urandom(256 * 1024 + i)
            with connect(port, timeout=30) as s:
                t = threading.Thread(target=s.sendall, args=(blob,),
                                     daemon=True)
                t.start()
                got = recv_exact(s, len(blob), timeout=30)
                t.join(30)
            if got != blob:
                errors.append((i, len(got)))
        except OSError as e:
            errors.append((i, repr(e)))
    threads = [threading.Thread(target=one, args=(i,), daemon=True)
               for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "tunnels hung"
    assert errors == []
    assert_serves(port)


def test_many_udp_clients(proxy, udp_echo_server):
    port = free_udp_port()
    d = proxy("internal 127.0.0.1\nudppm %d 127.0.0.1 %d\n"
              % (port, udp_echo_server.port))
    d.wait_udp_bound(port)
    clients = []
    try:
        for i in range(60):
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.bind((LOOP4, 0))
            c.settimeout(5)
            clients.append(c)
        for rnd in range(2):
            for i, c in enumerate(clients):
                c.sendto(b"c%d/%d" % (i, rnd), (LOOP4, port))
            for i, c in enumerate(clients):
                assert c.recvfrom(100)[0] == b"echo:c%d/%d" % (i, rnd)
    finally:
        for c in clients:
            c.close()
    assert len({p for p, _ in udp_echo_server.seen}) == 60


# --------------------------------------------------------------------------
# a storm of connections
# --------------------------------------------------------------------------

class HoldServer:
    """Accepts everything, discards what it reads, and counts the
    connections that are still open (one thread, epoll)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOOP4, 0))
        self.sock.listen(4096)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.sock, selectors.EVENT_READ)
        self.accepted = 0
        self.open = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def _loop(self):
        while not self._stop.is_set():
            for key, _ in self.sel.select(0.2):
                if key.fileobj is self.sock:
                    while True:
                        try:
                            c, _ = self.sock.accept()
                        except (BlockingIOError, OSError):
                            break
                        c.setblocking(False)
                        self.sel.register(c, selectors.EVENT_READ)
                        self.accepted += 1
                        self.open += 1
                    continue
                c = key.fileobj
                try:
                    data = c.recv(65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    self.sel.unregister(c)
                    c.close()
                    self.open -= 1

    def close(self):
        self._stop.set()
        self._t.join(5)
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()
        self.sel.close()


@pytest.fixture
def hold_server():
    srv = HoldServer()
    yield srv
    srv.close()


def test_thousand_connections_opened_and_dropped(proxy, hold_server,
                                                 echo_server):
    n = 1000
    if nofile_limit() < 3 * n:
        pytest.skip("descriptor limit %d too low for %d connections"
                    % (nofile_limit(), n))
    port, good = free_port(), free_port()
    d = proxy("internal 127.0.0.1\nmaxconn 2000\n"
              "tcppm %d 127.0.0.1 %d\n" % (port, hold_server.port)
              + "tcppm %d 127.0.0.1 %d\n" % (good, echo_server.port))
    d.wait_listening(port)
    d.wait_listening(good)

    socks = []
    sel = selectors.DefaultSelector()
    try:
        for _ in range(n):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex((LOOP4, port))
            socks.append(s)
            sel.register(s, selectors.EVENT_WRITE)
        pending = len(socks)
        deadline = time.monotonic() + 30
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(0.5):
                sel.unregister(key.fileobj)
                pending -= 1
        assert pending == 0, "%d connects did not complete" % pending
        for s in socks:
            try:
                s.send(b"hello")
            except OSError:
                pass
        # Wait (bounded) until the daemon has opened most of the targets.
        wait_until(lambda: hold_server.accepted >= n, 60,
                   what=lambda: "%d target connections (have %d)"
                   % (n, hold_server.accepted))
        # Drop them all at once: half FIN, half RST.
        for i, s in enumerate(socks):
            if i % 2:
                rst_close(s)
            else:
                s.close()
        socks = []
    finally:
        sel.close()
        for s in socks:
            s.close()

    assert d.alive(), d.stderr_text()[-4000:]
    assert_serves(good)
    # Every server-side connection is released too.
    wait_until(lambda: hold_server.open == 0, 60,
               what=lambda: "target connections to close (%d open)"
               % hold_server.open)
    assert_serves(good)


# --------------------------------------------------------------------------
# signals while data is moving
# --------------------------------------------------------------------------

def _background_download(port, result):
    try:
        with connect(port, timeout=30) as s:
            result["got"] = recv_stream(s, timeout=30)
    except OSError as e:
        result["got"] = e


def test_reload_during_bulk_transfer(proxy, source_server, tmp_path):
    """Reloads in the middle of a 64 MB download do not disturb it, and
    its record is still written when it ends."""
    size = 64 * MiB
    src = source_server(size, seed=41)
    port = free_port()
    cfg = tmp_path / "px.cfg"
    log1, log2 = tmp_path / "one.log", tmp_path / "two.log"
    cfg.write_text("internal 127.0.0.1\nlog %s\ntcppm -b4096 -s0 %d "
                   "127.0.0.1 %d\n" % (log1, port, src.port))
    d = proxy(cfg)
    d.wait_listening(port)
    with connect(port, timeout=30) as s:
        first = recv_exact(s, MiB, timeout=20)
        # The new generation logs elsewhere, in another format.
        cfg.write_text("internal 127.0.0.1\nlog %s\n"
                       "logformat \"Lnew %%p %%I\"\n"
                       "tcppm %d 127.0.0.1 %d\n" % (log2, port, src.port))
        for _ in range(3):
            d.send_signal(signal.SIGUSR1)
            time.sleep(0.3)
        # Its listener record reads "new PORT 0" ("L" is the zone flag).
        wait_until(lambda: log2.exists() and "new %d 0\n" % port
                   in log2.read_text(), 8,
                   what=lambda: "the new generation's listener record in "
                   "%s" % (log2.read_text() if log2.exists() else "-"))
        n, _ = recv_stream(s, timeout=30)
    sent = src.wait_results(1)[0]
    assert len(first) + n == sent[0] == size
    # The tunnel's record was written (old or new target), nothing lost.
    wait_until(lambda: " %d " % size in log1.read_text() + "\n"
               + log2.read_text() + " ", 8,
               what=lambda: "the record of the download in\n%s\n%s"
               % (log1.read_text(), log2.read_text()))
    assert d.alive()


def test_sigterm_during_bulk_transfer(proxy, source_server, sink_server):
    size = 256 * MiB
    src = source_server(size, seed=42)
    down, up = free_port(), free_port()
    d = proxy("internal 127.0.0.1\n"
              "tcppm %d 127.0.0.1 %d\n" % (down, src.port)
              + "tcppm %d 127.0.0.1 %d\n" % (up, sink_server.port))
    d.wait_listening(down)
    d.wait_listening(up)
    stop = threading.Event()

    def upload():
        try:
            with connect(up, timeout=30) as s:
                for c in data_chunks(size, seed=43):
                    if stop.is_set():
                        break
                    s.sendall(c)
        except OSError:
            pass
    result = {}
    threads = [threading.Thread(target=_background_download,
                                args=(down, result), daemon=True),
               threading.Thread(target=upload, daemon=True)]
    for t in threads:
        t.start()
    assert src.wait_accepted(1) and sink_server.wait_accepted(1)
    time.sleep(0.3)
    t0 = time.monotonic()
    rc = d.stop(signal.SIGTERM, timeout=20)
    assert rc == 0, (rc, d.stderr_text()[-4000:])
    assert time.monotonic() - t0 < 20
    stop.set()
    for t in threads:
        t.join(40)
    assert not any(t.is_alive() for t in threads)


def test_descriptor_exhaustion_recovers(proxy, hold_server, echo_server):
    """With the descriptor table full (RLIMIT_NOFILE lowered on the
    running daemon), accept() fails with EMFILE: the daemon keeps
    running, logs the error without flooding (the listener pauses
    between tries), and serves again once the tunnels are gone."""
    port, good = free_port(), free_port()
    d = proxy("log\ninternal 127.0.0.1\nmaxconn 500\n"
              "tcppm %d 127.0.0.1 %d\n" % (port, hold_server.port)
              + "tcppm %d 127.0.0.1 %d\n" % (good, echo_server.port))
    d.wait_listening(port)
    d.wait_listening(good)
    used = len(os.listdir("/proc/%d/fd" % d.pid))
    limit = used + 20          # room for about 10 tunnels
    saved = resource.prlimit(d.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(d.pid, resource.RLIMIT_NOFILE, (limit, saved[1]))
    socks = []
    try:
        for _ in range(40):
            socks.append(connect(port, timeout=5))   # kernel backlog
        wait_until(lambda: "accept(): " in d.stdout_text()
                   or "accept(): " in d.stderr_text(), 10,
                   what="the accept() error to be logged")
        time.sleep(1.0)
        assert d.alive()
    finally:
        for s in socks:
            s.close()
    text = d.stdout_text() + d.stderr_text()
    # the listener pauses 10 ms after each failure: a second of it is
    # at most about a hundred lines
    assert 0 < text.count("accept(): ") < 400, text.count("accept(): ")
    resource.prlimit(d.pid, resource.RLIMIT_NOFILE, saved)
    for i in range(5):
        assert echo_roundtrip(good, b"again %d" % i) == b"again %d" % i
