"""Established tunnels on event-loop threads (`relaythreads`, F-PERF).

Once a socks, HTTP CONNECT, tcppm or tlspr tunnel is established its worker hands it
to a loop thread and goes back to accept: open tunnels then hold no
thread each.  Every tunnel still relays both ways, passes half-closes
on and gets its log record with the right code and byte counts.
`relaythreads 0` keeps one worker per tunnel (the 3proxy model); each
test runs both ways where the behaviour must be the same.
F-PERF F-SOCKS-01 F-TCPPM-01 F-HTTP-01
"""

import socket

import pytest

from conftest import connect, free_port, recv_all, recv_exact, wait_until
from socks_util import socks5_open
from test_soak import threads_of

TUNNELS = 40


def open_tunnel(kind, port, target):
    if kind == "socks":
        s, rep = socks5_open(port, "127.0.0.1", target)
        assert rep.code == 0, rep
        return s
    s = connect(port)
    if kind == "connect":
        s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d"
                  b"\r\n\r\n" % (target, target))
        head = b""
        while b"\r\n\r\n" not in head:
            head += recv_exact(s, 1)
        assert head.split(b" ")[1] == b"200", head
    return s


def service_line(kind, port, target):
    if kind == "socks":
        return "socks -p%d -i127.0.0.1\n" % port
    if kind == "connect":
        return "proxy -p%d -i127.0.0.1\n" % port
    return "tcppm -i127.0.0.1 %d 127.0.0.1 %d\n" % (port, target)


LOGNAME = {"socks": "SOCK5", "connect": "PROXY", "tcppm": "TCPPM"}


def wait_line(path, pred, timeout=8.0):
    """The first line of the log at path that pred accepts (the tests
    set their own logformat)."""
    def find():
        try:
            lines = path.read_text().splitlines()
        except FileNotFoundError:
            return None
        return next((line for line in lines if pred(line)), None)
    return wait_until(find, timeout, what="a matching record in %s" % path)


def roundtrip(s, payload):
    s.sendall(payload)
    return recv_exact(s, len(payload))


@pytest.mark.parametrize("kind", ["socks", "connect", "tcppm"])
@pytest.mark.parametrize("loops", [2, 0], ids=["loops2", "loops0"])
def test_open_tunnels_and_threads(proxy, echo_server, kind, loops):
    """40 open tunnels: with loop threads the daemon's thread count comes
    back to about where it started (parked workers leave within a few
    seconds); with `relaythreads 0` every tunnel keeps its worker.
    Every tunnel echoes before and after the wait."""
    port = free_port()
    d = proxy("relaythreads %d\n%s" % (loops, service_line(
        kind, port, echo_server.port)), wait_ports=[port])
    base = threads_of(d.proc.pid)
    tunnels = [open_tunnel(kind, port, echo_server.port)
               for _ in range(TUNNELS)]
    try:
        for i, s in enumerate(tunnels):
            assert roundtrip(s, b"a%d" % i) == b"a%d" % i
        if loops:
            # the loops, plus workers that park for up to 3 s, then go
            wait_until(lambda: threads_of(d.proc.pid) <= base + loops + 2,
                       timeout=15, what="parked workers to exit")
        else:
            # every tunnel holds its own thread
            assert threads_of(d.proc.pid) >= base + TUNNELS
        for i, s in enumerate(tunnels):
            assert roundtrip(s, b"b%d" % i) == b"b%d" % i
    finally:
        for s in tunnels:
            s.close()
    assert d.alive()


def answer_after_eof(conn, server):
    """Read the request to EOF, then answer and close."""
    data = recv_all(conn)
    conn.sendall(b"got " + str(len(data)).encode())
    conn.close()


@pytest.mark.parametrize("kind", ["socks", "connect", "tcppm"])
@pytest.mark.parametrize("loops", [1, 0], ids=["loops1", "loops0"])
def test_halfclose_and_log_record(proxy, tcp_server, tmp_path, kind, loops):
    """The client half-closes after its request; the server sees EOF,
    answers, closes; the client gets the answer and EOF.  The record of
    the connection (written at its end, on the loop thread) has code 0
    and the byte counts of both directions."""
    srv = tcp_server(answer_after_eof)
    port = free_port()
    log = tmp_path / "px.log"
    d = proxy("relaythreads %d\nlog %s\nlogformat \"L%%N %%E %%I %%O\"\n%s"
              % (loops, log, service_line(kind, port, srv.port)),
              wait_ports=[port])
    s = open_tunnel(kind, port, srv.port)
    with s:
        s.sendall(b"x" * 5000)
        s.shutdown(socket.SHUT_WR)
        assert recv_all(s) == b"got 5000"
    name = LOGNAME[kind]
    # the connection's record (the service's own messages count nothing)
    rec = wait_line(log, lambda line: line.startswith(name + " ")
                      and int(line.split()[2]) > 0)
    fields = rec.split()
    assert int(fields[1]) == 0, rec
    # %I: from the server; %O: from the client (a handshake is counted
    # too, as in 3proxy)
    assert int(fields[2]) == len(b"got 5000"), rec
    assert int(fields[3]) >= 5000, rec
    assert d.alive()


@pytest.mark.parametrize("loops", [1, 0], ids=["loops1", "loops0"])
def test_idle_timeout_in_loop(proxy, echo_server, tmp_path, loops):
    """An idle tunnel ends by the relay timeout (code 92) on a loop
    thread as on a worker."""
    port = free_port()
    log = tmp_path / "px.log"
    d = proxy("relaythreads %d\ntimeouts 1 5 30 60 180 2 15 60 5 5 1\n"
              "log %s\nlogformat \"L%%N %%E %%I\"\n%s"
              % (loops, log, service_line("tcppm", port, echo_server.port)),
              wait_ports=[port])
    with connect(port) as s:
        assert roundtrip(s, b"hello") == b"hello"
        s.settimeout(10)
        assert s.recv(1) == b""        # closed by the daemon
    rec = wait_line(log, lambda line: line.startswith("TCPPM ")
                      and int(line.split()[2]) > 0)
    assert int(rec.split()[1]) == 92, rec
    assert d.alive()


@pytest.mark.parametrize("loops", [1, 0], ids=["loops1", "loops0"])
def test_metrics_gauge_counts_loop_tunnels(proxy, echo_server, loops):
    """/metrics threeproxy_relay_loop_tunnels: the open SOCKS tunnels the
    loops carry (all of them by default, none with `relaythreads 0`),
    back to 0 once they are closed."""
    from test_metrics import scrape
    ap, sp = free_port(), free_port()
    proxy("relaythreads %d\ninternal 127.0.0.1\nadmin -p%d\nsocks -p%d\n"
          % (loops, ap, sp), wait_ports=[ap, sp])
    key = ("threeproxy_relay_loop_tunnels", ())
    assert scrape(ap)[key] == 0
    tunnels = [open_tunnel("socks", sp, echo_server.port) for _ in range(5)]
    try:
        for s in tunnels:
            assert roundtrip(s, b"x") == b"x"
        want = 5 if loops else 0
        wait_until(lambda: scrape(ap)[key] == want, timeout=5,
                   what="%d tunnels in the loops" % want)
    finally:
        for s in tunnels:
            s.close()
    wait_until(lambda: scrape(ap)[key] == 0, timeout=5,
               what="the tunnels to leave the loops")
