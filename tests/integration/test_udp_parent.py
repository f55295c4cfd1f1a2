"""UDP through SOCKS5 parents, bandwidth limits on datagrams, and dnspr
with a parent on its ACE.

A front instance of our binary takes SOCKS5 UDP ASSOCIATE (or udppm)
requests whose ACE has a `parent`; the parent is a second instance of
our binary (socks), or dante-server when it is installed and can relay
UDP on loopback.  Datagrams end at a local UDP echo server.

Features: F-PAR-13 F-PAR-03 F-PAR-04 F-SOCKS-05 F-PM-02 F-PM-03
F-LIM-01 F-DNS-07.
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time

import pytest

from conftest import (LOOP4, UdpEchoServer, free_port, free_udp_port,
                      split_records, wait_split_record, wait_until)
from socks_util import (CMD_UDP, socks5_open, udp_recv, udp_unwrap,
                        udp_wrap)

LOGFMT = 'logformat "L%N|%E|%h|%U|%C|%c|%R|%r|%T"'
FIELDS = ("svc", "err", "hops", "user", "cip", "cport", "rip", "rport",
          "text")
HIDDEN = "only-the-parent-knows.invalid"


def records(path):
    return split_records(path, FIELDS)


def wait_rec(path, pred, timeout=10.0):
    return wait_split_record(path, FIELDS, pred, timeout)


def head(log, body):
    return "log %s\n%s\ninternal 127.0.0.1\n%s" % (log, LOGFMT, body)


def udp_client():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((LOOP4, 0))
    return u


def associate(port):
    s, rep = socks5_open(port, "0.0.0.0", 0, cmd=CMD_UDP)
    assert rep.code == 0, rep
    return s, (rep.host, rep.port)


def closed_soon(sock, timeout=10.0):
    """True when the peer closes sock within timeout."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except (socket.timeout, ConnectionError):
        return False


@pytest.fixture
def udp_echo_hidden():
    """A UDP echo server on 127.0.0.2, where `fakeresolve` points."""
    srv = UdpEchoServer(host="127.0.0.2", prefix=b"hidden:")
    yield srv
    srv.close()


def own_parent(proxy, tmp_path, extra=""):
    """Our socks with RFC 1929 user bob as the parent; (port, log)."""
    pb = free_port()
    lb = tmp_path / "parent.log"
    proxy(head(lb, extra + "users bob:CL:bpw\nauth strong\nallow bob\n"
               "socks -p%d\n" % pb), wait_ports=[pb], name="parent")
    return pb, lb


# --------------------------------------------------------------------------
# SOCKS5 UDP ASSOCIATE through a parent
# --------------------------------------------------------------------------

def test_socks_udp_through_own_socks5_parent(proxy, tmp_path,
                                             udp_echo_server):
    """F-PAR-13, F-SOCKS-05: the front associates with the parent over a
    control connection it keeps open, wraps each datagram for the
    parent's relay and hands the replies back with their real source; the
    parent logs the association as bob, and ends it when the front's
    ends."""
    pb, lb = own_parent(proxy, tmp_path)
    pa, la = free_port(), tmp_path / "front.log"
    proxy(head(la, "auth iponly\nallow *\n"
               "parent 1000 socks5 127.0.0.1 %d bob bpw\n"
               "socks -p%d\n" % (pb, pa)), wait_ports=[pa], name="front")
    s, relay = associate(pa)
    with s, udp_client() as u:
        for i in range(3):
            u.sendto(udp_wrap(LOOP4, udp_echo_server.port, b"up%d" % i),
                     relay)
            got = udp_recv(u)
            assert got is not None, i
            assert udp_unwrap(got) == (LOOP4, udp_echo_server.port,
                                       b"echo:up%d" % i)
        # everything reached the echo server from one socket: the
        # parent's relay, not a socket of the front
        assert len(set(udp_echo_server.sources())) == 1
    rb = wait_rec(lb, lambda r: r["text"].startswith("UDPMAP"))
    assert rb["user"] == "bob" and rb["err"] == "00000"
    assert rb["text"] == "UDPMAP 127.0.0.1:%d" % udp_echo_server.port
    ra = wait_rec(la, lambda r: r["text"].startswith("UDPMAP"))
    assert ra["err"] == "00000" and ra["hops"] == "1"
    assert (ra["rip"], ra["rport"]) == (LOOP4, str(pb))


def test_socks5_plus_parent_resolves_the_name(proxy, tmp_path,
                                              udp_echo_hidden):
    """F-PAR-13, F-PAR-12: through a socks5+ parent a name the front
    cannot resolve goes to the parent as a name (the parent's fakeresolve sends
    it to 127.0.0.2)."""
    pb, lb = own_parent(proxy, tmp_path, "fakeresolve\n")
    pa, la = free_port(), tmp_path / "front.log"
    proxy(head(la, "auth iponly\nallow *\n"
               "parent 1000 socks5+ 127.0.0.1 %d bob bpw\n"
               "socks -p%d\n" % (pb, pa)), wait_ports=[pa], name="front")
    s, relay = associate(pa)
    with s, udp_client() as u:
        u.sendto(udp_wrap(HIDDEN, udp_echo_hidden.port, b"named"), relay)
        got = udp_recv(u)
        assert got is not None
        assert udp_unwrap(got) == ("127.0.0.2", udp_echo_hidden.port,
                                   b"hidden:named")
    rb = wait_rec(lb, lambda r: r["text"].startswith("UDPMAP"))
    assert rb["text"] == "UDPMAP %s:%d" % (HIDDEN, udp_echo_hidden.port)


def test_chain_of_two_hops_to_a_udp_parent(proxy, tmp_path,
                                           udp_echo_server):
    """F-PAR-13, F-PAR-02: the control connection reaches the SOCKS5
    parent through a CONNECT hop (our proxy); the datagrams go straight to the
    parent's relay."""
    pb, lb = own_parent(proxy, tmp_path)
    ph, lh = free_port(), tmp_path / "hop.log"
    proxy(head(lh, "auth iponly\nallow *\nproxy -p%d\n" % ph),
          wait_ports=[ph], name="hop")
    pa, la = free_port(), tmp_path / "front.log"
    proxy(head(la, "auth iponly\nallow *\n"
               "parent 1000 connect 127.0.0.1 %d\n"
               "parent 1000 socks5 127.0.0.1 %d bob bpw\n"
               "socks -p%d\n" % (ph, pb, pa)), wait_ports=[pa],
          name="front")
    s, relay = associate(pa)
    with s, udp_client() as u:
        u.sendto(udp_wrap(LOOP4, udp_echo_server.port, b"two hops"), relay)
        got = udp_recv(u)
        assert got is not None
        assert udp_unwrap(got)[2] == b"echo:two hops"
    rh = wait_rec(lh, lambda r: r["text"].startswith("CONNECT"))
    assert rh["text"] == "CONNECT 127.0.0.1:%d HTTP/1.0" % pb
    wait_rec(lb, lambda r: r["text"].startswith("UDPMAP")
             and r["user"] == "bob")
    ra = wait_rec(la, lambda r: r["text"].startswith("UDPMAP"))
    assert ra["hops"] == "2" and ra["err"] == "00000"


def test_non_socks5_parent_for_udp_is_error_70(proxy, tmp_path,
                                               udp_echo_server, tcp_server):
    """F-PAR-13, acl-auth.md 6: parents for UDP must be socks5/socks5+;
    an http parent ends the association with 70 and nothing reaches the
    echo server (nor the parent)."""
    parent = tcp_server(lambda conn, server: conn.close())
    pa, la = free_port(), tmp_path / "front.log"
    proxy(head(la, "auth iponly\nallow *\n"
               "parent 1000 http 127.0.0.1 %d\n"
               "socks -p%d\n" % (parent.port, pa)), wait_ports=[pa])
    s, relay = associate(pa)
    with s, udp_client() as u:
        u.sendto(udp_wrap(LOOP4, udp_echo_server.port, b"no"), relay)
        assert closed_soon(s)
        assert udp_recv(u, 0.5) is None
    ra = wait_rec(la, lambda r: r["text"].startswith("UDPMAP"))
    assert ra["err"] == "00070"
    assert udp_echo_server.seen == []
    assert parent.accepted == 0


# --------------------------------------------------------------------------
# udppm through a parent
# --------------------------------------------------------------------------

def test_udppm_through_socks5_parent(proxy, tmp_path, udp_echo_server,
                                     tcp_server):
    """F-PAR-13, F-PM-02, F-PM-03, services.md 11: udppm sessions use a
    SOCKS5 parent (datagrams encapsulated); the parent logs each -s
    session; an http parent gives 70."""
    pb, lb = own_parent(proxy, tmp_path)
    dead = tcp_server(lambda conn, server: conn.close())
    p1, p2 = free_udp_port(), free_udp_port()
    la = tmp_path / "front.log"
    d = proxy(head(la, "auth iponly\nallow *\n"
                   "parent 1000 socks5 127.0.0.1 %d bob bpw\n"
                   "udppm -s %d 127.0.0.1 %d\n"
                   "flush\nallow *\nparent 1000 http 127.0.0.1 %d\n"
                   "udppm %d 127.0.0.1 %d\n"
                   % (pb, p1, udp_echo_server.port, dead.port, p2,
                      udp_echo_server.port)), name="front")
    d.wait_udp_bound(p1)
    d.wait_udp_bound(p2)
    with udp_client() as u:
        for i in range(2):
            u.sendto(b"pm%d" % i, (LOOP4, p1))
            u.settimeout(5)
            data, src = u.recvfrom(65535)
            assert (data, src) == (b"echo:pm%d" % i, (LOOP4, p1))
        u.sendto(b"refused", (LOOP4, p2))
        assert udp_recv(u, 1.0) is None
    wait_until(lambda: len([r for r in records(lb)
                            if r["text"].startswith("UDPMAP")]) >= 2,
               10, what="two parent records")
    for r in records(lb):
        if r["text"].startswith("UDPMAP"):
            assert r["user"] == "bob" and r["err"] == "00000"
    wait_rec(la, lambda r: r["err"] == "00070")
    assert [dt for _, dt in udp_echo_server.seen] == [b"pm0", b"pm1"]


# --------------------------------------------------------------------------
# dante-server as the UDP parent
# --------------------------------------------------------------------------

DANTE_UDP_CONF = """logoutput: stderr
internal: 127.0.0.1 port = %d
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: %s
user.unprivileged: %s
client pass {
    from: 127.0.0.0/8 to: 0.0.0.0/0
}
socks pass {
    from: 127.0.0.0/8 to: 0.0.0.0/0
    command: udpassociate udpreply
    log: connect disconnect
}
"""


def start_dante(tmp_path, port):
    """danted on 127.0.0.1:port, or None when it cannot start."""
    if shutil.which("danted") is None:
        return None
    me = pwd.getpwuid(os.getuid()).pw_name
    conf = tmp_path / "danted.conf"
    conf.write_text(DANTE_UDP_CONF % (port, me, me))
    err = open(tmp_path / "danted.err", "wb")
    p = subprocess.Popen(["danted", "-f", str(conf), "-p",
                          str(tmp_path / "d.pid"), "-N", "1"],
                         stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                         start_new_session=True)
    err.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and p.poll() is None:
        try:
            socket.create_connection((LOOP4, port), timeout=1).close()
            return p
        except OSError:
            time.sleep(0.1)
    stop_dante(p)
    return None


def stop_dante(p):
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)


def test_dante_as_udp_parent(proxy, tmp_path, udp_echo_server):
    """F-PAR-13 against a third-party SOCKS5 server: dante relays the
    front's datagrams (skipped when dante is missing or cannot relay UDP
    on loopback: it is then tried directly first)."""
    dp = free_port()
    p = start_dante(tmp_path, dp)
    if p is None:
        pytest.skip("danted is missing or did not start")
    try:
        # does this dante relay UDP here at all?
        try:
            s, relay = associate(dp)
        except (AssertionError, OSError) as e:
            pytest.skip("dante refuses UDP ASSOCIATE: %s" % e)
        with s, udp_client() as u:
            u.sendto(udp_wrap(LOOP4, udp_echo_server.port, b"probe"),
                     relay)
            if udp_recv(u, 3.0) is None:
                pytest.skip("dante does not relay UDP on loopback")
        pa, la = free_port(), tmp_path / "front.log"
        proxy(head(la, "auth iponly\nallow *\n"
                   "parent 1000 socks5 127.0.0.1 %d\n"
                   "socks -p%d\n" % (dp, pa)), wait_ports=[pa])
        s, relay = associate(pa)
        with s, udp_client() as u:
            u.sendto(udp_wrap(LOOP4, udp_echo_server.port, b"via dante"),
                     relay)
            got = udp_recv(u)
            assert got is not None
            assert udp_unwrap(got) == (LOOP4, udp_echo_server.port,
                                       b"echo:via dante")
        ra = wait_rec(la, lambda r: r["text"].startswith("UDPMAP"))
        assert ra["err"] == "00000" and ra["rport"] == str(dp)
    finally:
        stop_dante(p)


# --------------------------------------------------------------------------
# bandwidth limits on datagrams (limits.md 3)
# --------------------------------------------------------------------------

def test_udppm_replies_are_paced_by_bandlimin(proxy, tmp_path,
                                              udp_echo_server):
    """F-LIM-01: under `bandlimin 6400` (800 bytes/s) a burst of eight
    400-byte replies is not dropped but spread out: about 3.5 s from the
    first to the last (checked loosely: at least 2 s, at most 30 s).
    Without the limit the same burst takes milliseconds."""
    n, size = 8, 400
    payload = b"x" * (size - len(b"echo:"))
    port = free_udp_port()
    d = proxy(head(tmp_path / "u.log", "bandlimin 6400 *\n"
                   "udppm %d 127.0.0.1 %d\n"
                   % (port, udp_echo_server.port)))
    d.wait_udp_bound(port)
    with udp_client() as u:
        start = time.monotonic()
        for _ in range(n):
            u.sendto(payload, (LOOP4, port))
        got = []
        for _ in range(n):
            u.settimeout(30)
            got.append(u.recvfrom(65535)[0])
        took = time.monotonic() - start
    assert got == [b"echo:" + payload] * n
    assert 2.0 <= took <= 30.0, took


def test_socks_udp_replies_are_paced_by_bandlimin(proxy, tmp_path,
                                                  udp_echo_server):
    """F-LIM-01: the SOCKS5 UDP relay paces replies the same way."""
    n, size = 6, 400
    payload = b"y" * (size - len(b"echo:"))
    pa = free_port()
    proxy(head(tmp_path / "s.log", "bandlimin 6400 *\nauth iponly\n"
               "allow *\nsocks -p%d\n" % pa), wait_ports=[pa])
    s, relay = associate(pa)
    with s, udp_client() as u:
        start = time.monotonic()
        for _ in range(n):
            u.sendto(udp_wrap(LOOP4, udp_echo_server.port, payload), relay)
        got = []
        for _ in range(n):
            dg = udp_recv(u, 30)
            assert dg is not None
            got.append(udp_unwrap(dg)[2])
        took = time.monotonic() - start
    assert got == [b"echo:" + payload] * n
    assert 1.5 <= took <= 30.0, took


# --------------------------------------------------------------------------
# dnspr and parents (dns.md 6)
# --------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("dig") is None, reason="dig not installed")
def test_dnspr_with_parent_fails_with_100(proxy, tmp_path):
    """F-DNS-07, dns.md 6: dnspr does not use parents; a query whose ACE
    has one fails with 100 (answered NXDOMAIN), while the same query on
    an ACE without a parent is answered."""
    pb, _ = own_parent(proxy, tmp_path)
    p1, p2 = free_udp_port(), free_udp_port()
    log = tmp_path / "dns.log"
    d = proxy(head(log, "nscache 65536\nnsrecord parent.test 192.0.2.77\n"
                   "auth iponly\nallow *\n"
                   "parent 1000 socks5 127.0.0.1 %d bob bpw\n"
                   "dnspr -p%d\nflush\nallow *\ndnspr -p%d\n"
                   % (pb, p1, p2)), name="dns")
    d.wait_udp_bound(p1)
    d.wait_udp_bound(p2)

    def dig(port):
        return subprocess.run(
            ["dig", "@127.0.0.1", "-p", str(port), "+time=3", "+tries=1",
             "parent.test", "A"], capture_output=True, text=True,
            timeout=20).stdout

    assert "192.0.2.77" in dig(p2)
    out = dig(p1)
    assert "NXDOMAIN" in out and "192.0.2.77" not in out
    wait_rec(log, lambda r: r["err"] == "00100")
