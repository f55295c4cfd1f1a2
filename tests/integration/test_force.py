"""`force` / `noforce`: open connections and a configuration reload
(F-PROC-10, acl-auth.md section 7, cli.md section 3).

Each case opens tunnels through a service with `auth strong` as users
that the test then removes or changes in the config file, reloads with
SIGUSR1 and looks at what happens to the open tunnels: with `force`
(the default) a connection whose user no longer passes is closed and its
record carries the auth code; with `noforce` it goes on.  A tunnel is
checked at its next relay iteration, and an idle one within about a
second (the relay wakes up at least once a second).
"""

import base64
import signal
import time

import pytest

from conftest import connect, free_port, recv_exact, wait_until
from socks_util import (LOGFORMAT, closed_soon, log_records, socks5_open,
                        wait_record)

# generous: a reload is noticed on the next main-loop tick (~1 s) and an
# idle relay looks at the generation at least once a second
RELOAD_WAIT = 8.0


def config(port, log, users, mode="", service="socks"):
    """`auth strong` service on 127.0.0.1:port for the given users
    ({name: password}); `mode` is "", "force" or "noforce"."""
    spec = " ".join("%s:CL:%s" % u for u in sorted(users.items()))
    return ("log %s\nlogformat \"%s\"\ninternal 127.0.0.1\nusers %s\n"
            "auth strong\nallow *\n%s\n%s -p%d\n"
            % (log, LOGFORMAT, spec, mode, service, port))


def open_socks(port, target, user, password):
    s, rep = socks5_open(port, "127.0.0.1", target, methods=(2,),
                         user=user, password=password)
    assert rep is not None and rep.code == 0, rep
    return s


def open_connect(port, target, user, password):
    """An HTTP CONNECT tunnel with Proxy-Authorization: Basic."""
    s = connect(port)
    cred = base64.b64encode(("%s:%s" % (user, password)).encode())
    s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
              b"Proxy-Authorization: Basic %s\r\n\r\n"
              % (target, target, cred))
    head = b""
    deadline = time.monotonic() + 10
    while b"\r\n\r\n" not in head and time.monotonic() < deadline:
        chunk = recv_exact(s, 1, timeout=5)
        if not chunk:
            break
        head += chunk
    assert head.startswith(b"HTTP/1.0 200"), head
    return s


OPENERS = {"socks": open_socks, "proxy": open_connect}


def echoes(sock, payload=b"ping"):
    try:
        sock.sendall(payload)
        return recv_exact(sock, len(payload), timeout=5) == payload
    except OSError:
        return False


def reload(d, cfg, text, log):
    """Rewrite the config, send SIGUSR1 and wait until the new services
    wrote their start record (the new generation is in force)."""
    before = accepting(log)
    cfg.write_text(text)
    d.send_signal(signal.SIGUSR1)
    wait_until(lambda: accepting(log) > before, RELOAD_WAIT,
               what="the reloaded service to start")


def accepting(log):
    return sum(1 for r in log_records(log)
               if r["text"].startswith("Accepting"))


def user_codes(log, user):
    return [r["err"] for r in log_records(log) if r["user"] == user
            and not r["text"].startswith("Accepting")]


@pytest.mark.parametrize("service", ["socks", "proxy"])
@pytest.mark.parametrize("change,code", [
    ({"bob": "bpw"}, "00005"),                 # alice removed
    ({"alice": "new", "bob": "bpw"}, "00006"),  # alice's password changed
], ids=["removed", "password"])
def test_force_closes_tunnel_on_reload(proxy, tmp_path, echo_server,
                                       service, change, code):
    """F-PROC-10: with `force` (the default) alice's open tunnel is
    closed after the reload once data moves, with the auth code in its
    record; bob, still valid, keeps relaying."""
    port = free_port()
    cfg, log = tmp_path / "px.cfg", tmp_path / "px.log"
    cfg.write_text(config(port, log, {"alice": "apw", "bob": "bpw"},
                          service=service))
    d = proxy(cfg)
    d.wait_listening(port)
    opener = OPENERS[service]
    a = opener(port, echo_server.port, "alice", "apw")
    b = opener(port, echo_server.port, "bob", "bpw")
    try:
        assert echoes(a) and echoes(b)
        reload(d, cfg, config(port, log, change, service=service), log)
        try:
            a.sendall(b"after the reload")
        except OSError:
            pass                      # already closed: also fine
        assert closed_soon(a, timeout=RELOAD_WAIT)
        rec = wait_record(log, lambda r: r["user"] == "alice"
                          and not r["text"].startswith("Accepting"))
        assert rec["err"] == code, rec
        for _ in range(3):
            assert echoes(b, b"bob still here")
        assert user_codes(log, "bob") == []
    finally:
        a.close()
        b.close()


def test_force_closes_idle_tunnel(proxy, tmp_path, echo_server):
    """F-PROC-10: an idle tunnel (no data after the reload) is checked
    too, within about a second of the reload: the relay wakes up at
    least once a second and looks at the generation number."""
    port = free_port()
    cfg, log = tmp_path / "px.cfg", tmp_path / "px.log"
    cfg.write_text(config(port, log, {"alice": "apw", "bob": "bpw"},
                          mode="force"))
    d = proxy(cfg)
    d.wait_listening(port)
    a = open_socks(port, echo_server.port, "alice", "apw")
    try:
        assert echoes(a)
        reload(d, cfg, config(port, log, {"bob": "bpw"}, mode="force"),
               log)
        t0 = time.monotonic()
        assert closed_soon(a, timeout=RELOAD_WAIT)
        assert time.monotonic() - t0 < 3.0
        assert wait_record(log, lambda r: r["user"] == "alice")["err"] \
            == "00005"
    finally:
        a.close()


def test_noforce_keeps_tunnel(proxy, tmp_path, echo_server):
    """F-PROC-10: a service started after `noforce` leaves its open
    connections alone on reload: alice, removed from the users, keeps
    echoing through her tunnel, but a new connection as alice is
    refused by the new configuration."""
    port = free_port()
    cfg, log = tmp_path / "px.cfg", tmp_path / "px.log"
    cfg.write_text(config(port, log, {"alice": "apw", "bob": "bpw"},
                          mode="noforce"))
    d = proxy(cfg)
    d.wait_listening(port)
    a = open_socks(port, echo_server.port, "alice", "apw")
    try:
        assert echoes(a)
        reload(d, cfg, config(port, log, {"bob": "bpw"}, mode="noforce"),
               log)
        # longer than an idle relay needs to notice a reload
        time.sleep(2.0)
        for i in range(3):
            assert echoes(a, b"still open %d" % i)
        assert user_codes(log, "alice") == []
        s, rep = socks5_open(port, "127.0.0.1", echo_server.port,
                             methods=(2,), user="alice", password="apw")
        s.close()
        assert rep is None or rep.code != 0
    finally:
        a.close()
