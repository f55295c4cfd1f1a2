"""Parent proxies, chains, local redirection and connect-back.

Chains run across several instances of our own binary (proxy -> socks5
parent -> http parent -> origin), through small parents written here that
speak each protocol by hand (to see the exact bytes, and to play broken
or refusing servers), and through real peers from Debian: microsocks
(SOCKS5 with RFC 1929), dante-server (SOCKS4 and SOCKS5) and tinyproxy
(HTTP proxy and CONNECT with Basic credentials).  Each of those is
skipped when its program is missing.

Names that only a parent can resolve: the parent is our own proxy with
`fakeresolve` (every name is 127.0.0.2, where the origin listens), or a
hand-written SOCKS parent that maps names itself; the front instance has
no way to resolve ".invalid" names, so a success proves the name went to
the parent.

Features: F-PAR-01 F-PAR-02 F-PAR-03 F-PAR-04 F-PAR-05 F-PAR-06 F-PAR-07
F-PAR-08 F-PAR-09 F-PAR-11 F-PAR-12 F-SVC-05.
"""

import os
import pwd
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import (LOOP4, connect, echo_roundtrip, free_port, recv_exact,
                      split_records, wait_split_record, wait_until)
from http_util import Origin, read_response
from socks_util import socks5_open

LOGFMT = 'logformat "L%N|%E|%h|%U|%C|%c|%R|%r|%T"'
FIELDS = ("svc", "err", "hops", "user", "cip", "cport", "rip", "rport",
          "text")
HIDDEN = "only-the-parent-knows.invalid"


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def records(path):
    return split_records(path, FIELDS)


def wait_rec(path, pred, timeout=10.0):
    return wait_split_record(path, FIELDS, pred, timeout)


def head(log, body):
    return "log %s\n%s\ninternal 127.0.0.1\n%s" % (log, LOGFMT, body)


def http_get(port, host, hport, path="/small", extra=b""):
    """GET http://host:hport/path through the HTTP proxy on port."""
    with connect(port) as s:
        s.sendall(b"GET http://%s:%d%s HTTP/1.1\r\nHost: %s:%d\r\n%s"
                  b"Connection: close\r\n\r\n"
                  % (host.encode(), hport, path.encode(), host.encode(),
                     hport, extra))
        status, _, body, _ = read_response(s)
        return status, body


def connect_tunnel_get(port, host, hport):
    """CONNECT through the HTTP proxy, then GET /small inside."""
    with connect(port) as s:
        s.sendall(b"CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n\r\n"
                  % (host.encode(), hport, host.encode(), hport))
        status, _, _, _ = read_response(s)
        if status != 200:
            return status, b""
        s.sendall(b"GET /small HTTP/1.1\r\nHost: %s:%d\r\n"
                  b"Connection: close\r\n\r\n" % (host.encode(), hport))
        status, _, body, _ = read_response(s)
        return status, body


def read_cstr(conn, limit=300):
    out = bytearray()
    while len(out) < limit:
        c = conn.recv(1)
        if not c or c == b"\0":
            break
        out += c
    return out.decode("latin-1")


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def relay(a, b):
    t = threading.Thread(target=pipe, args=(b, a), daemon=True)
    t.start()
    pipe(a, b)
    t.join(30)


class FakeSocks:
    """A SOCKS 4/4a/5 parent written by hand.  Each request is recorded
    as a dict (ver, user, password, name, ip, port); names are mapped to
    addresses through ``names``.  ``broken`` answers like the servers of
    the socks4b / socks5b types (3-byte SOCKS4 reply; no bound address
    after a SOCKS5 IPv4 reply); ``rep`` refuses SOCKS5 requests with
    that code."""

    def __init__(self, tcp_server, names=None, broken=False, rep=0,
                 auth=None):
        self.names = names or {}
        self.broken = broken
        self.rep = rep
        self.auth = auth
        self.srv = tcp_server(self._handle)
        self.port = self.srv.port

    @property
    def requests(self):
        with self.srv.cond:
            return [r for r in self.srv.results if isinstance(r, dict)]

    def _socks4(self, conn):
        h = recv_exact(conn, 7)
        port = int.from_bytes(h[1:3], "big")
        ip = socket.inet_ntoa(h[3:7])
        user = read_cstr(conn)
        name = None
        if h[3:6] == b"\0\0\0" and h[6] != 0:
            name = read_cstr(conn)
        rec = {"ver": 4, "user": user, "password": None, "name": name,
               "ip": None if name else ip, "port": port}
        reply = b"\0\x5a\0" if self.broken else b"\0\x5a" + h[1:7]
        return rec, reply

    def _socks5(self, conn):
        n = recv_exact(conn, 1)[0]
        methods = recv_exact(conn, n)
        user = password = None
        if self.auth is not None:
            if 2 not in methods:
                conn.sendall(b"\x05\xff")
                return None, None
            conn.sendall(b"\x05\x02")
            ver_ulen = recv_exact(conn, 2)
            user = recv_exact(conn, ver_ulen[1]).decode()
            password = recv_exact(conn, recv_exact(conn, 1)[0]).decode()
            ok = (user, password) == self.auth
            conn.sendall(b"\x01\x00" if ok else b"\x01\x01")
            if not ok:
                return None, None
        else:
            conn.sendall(b"\x05\x00")
        req = recv_exact(conn, 4)
        name = ip = None
        if req[3] == 1:
            ip = socket.inet_ntoa(recv_exact(conn, 4))
        elif req[3] == 3:
            name = recv_exact(conn, recv_exact(conn, 1)[0]).decode()
        else:
            ip = socket.inet_ntop(socket.AF_INET6, recv_exact(conn, 16))
        port = int.from_bytes(recv_exact(conn, 2), "big")
        rec = {"ver": 5, "user": user, "password": password, "name": name,
               "ip": ip, "port": port}
        if self.rep:
            return rec, bytes([5, self.rep, 0, 1, 0, 0, 0, 0, 0, 0])
        reply = b"\x05\0\0\x01" if self.broken \
            else b"\x05\0\0\x01\x7f\0\0\x01\x04\x38"
        return rec, reply

    def _handle(self, conn, server):
        ver = recv_exact(conn, 1)
        if ver == b"\x04":
            rec, reply = self._socks4(conn)
        elif ver == b"\x05":
            rec, reply = self._socks5(conn)
        else:
            return
        if rec is None:
            return
        server.add_result(rec)
        if self.rep:
            conn.sendall(reply)
            return
        host = rec["name"] if rec["name"] else rec["ip"]
        host = self.names.get(host, host)
        up = socket.create_connection((host, rec["port"]), timeout=10)
        with up:
            conn.sendall(reply)
            relay(conn, up)


def fake_http_parent(tcp_server, reply=b"HTTP/1.1 200 OK\r\n"
                     b"Content-Length: 2\r\nConnection: close\r\n\r\nok"):
    """Records the request head it receives, answers ``reply``."""
    def handler(conn, server):
        data = b""
        while b"\r\n\r\n" not in data:
            c = conn.recv(4096)
            if not c:
                return
            data += c
        server.add_result(data.split(b"\r\n\r\n")[0].decode("latin-1"))
        conn.sendall(reply)
    return tcp_server(handler)


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


# --------------------------------------------------------------------------
# configuration (F-PAR-01)
# --------------------------------------------------------------------------

def test_config_errors_name_the_line(run3proxy, tmp_path):
    """Every chaining error is reported with file:line; --check reports
    them all."""
    cfg = tmp_path / "bad.cfg"
    cfg.write_text(
        "parent 1000 http 127.0.0.1 3128\n"                   # 1
        "deny *\n"                                            # 2
        "parent 1000 http 127.0.0.1 3128\n"                   # 3
        "allow *\n"                                           # 4
        "parent 1500 http 127.0.0.1 3128\n"                   # 5
        "parent 1000 socks6 127.0.0.1 1080\n"                 # 6
        "parent 1000 pop3 127.0.0.1 110\n"                    # 7
        "parent 600 socks5 127.0.0.1 1080\n"                  # 8
        "parent 600 socks5 127.0.0.1 1081\n"                  # 9
        "flush\n"                                             # 10
        "allow *\n"                                           # 11
        "parent 1000 socks5 127.0.0.1 1080\n"                 # 12
        "parent 300 connect 127.0.0.1 3128\n"                 # 13
        "proxy -p%d\n" % free_port())                         # 14
    r = run3proxy(["--check", cfg])
    assert r.rc != 0
    for msg in (
            "bad.cfg:1: Chaining error: last ACL entry was not \"allow\" "
            "or \"redirect\"",
            "bad.cfg:3: Chaining error: last ACL entry was not",
            "bad.cfg:5: Chaining error: bad chain weight 1500",
            "bad.cfg:6: Chaining error: bad chain type (socks6)",
            "bad.cfg:7: Chaining error: chain type (pop3) is a local "
            "redirection, it requires 0.0.0.0 as address and 0 as port",
            "bad.cfg:9: Chaining error: parent weights of the group "
            "starting at %s:8 add up to 1200" % cfg,
            # a short last group is only a warning (3proxy accepts it:
            # the hop is optional), so corpus configs keep working
            "bad.cfg:14: warning: parent weights of the group "
            "starting at %s:13 add up to 300" % cfg):
        assert msg in r.err, (msg, r.err)
    # a real start refuses it too
    r = run3proxy([cfg])
    assert r.rc != 0
    assert "Chaining error" in r.err


def test_good_chain_config_is_accepted(run3proxy, tmp_path):
    cfg = tmp_path / "good.cfg"
    cfg.write_text(
        "parentretries 3\n"
        "allow * * * 80\n"
        "parent 1000 socks5 192.0.2.10 1080\n"
        "parent 1000 connect+s 192.0.2.20 3128 user pass\n"
        "parent 300 socks4 192.0.2.30 1080\n"
        "parent 700 socks5 192.0.2.40 1080\n"
        "redirect 192.0.2.50 3128 * * * 8080\n"
        "allow * * * 21\n"
        "parent 1000 ftp 0.0.0.0 0\n"
        "allow *\n"
        "parent 250 extip 192.0.2.1 0\n"
        "parent 750 extip 0.0.0.0 0\n"
        "socks -p%d\n" % free_port())
    r = run3proxy(["--check", cfg])
    assert r.rc == 0, r.err


def test_tls_parent_is_refused_not_downgraded(run3proxy, tmp_path):
    """F-PAR-10: in a build without a TLS library a parent that must be
    reached over TLS is refused at start-up, never contacted in plain
    text.  (TLS builds: test_tls.py.)"""
    if "built-in TLS: OpenSSL" in run3proxy(["-h"]).err:
        pytest.skip("TLS build: `...s` parents are covered by test_tls.py")
    cfg = tmp_path / "tls.cfg"
    cfg.write_text(
        "allow *\n"
        "parent 1000 connect+s 127.0.0.1 3128\n"
        "proxy -i127.0.0.1 -p%d\n" % free_port())
    r = run3proxy([cfg])
    assert r.rc == 1
    assert "tls.cfg:2: parent type 'connect+s': this build has no TLS " \
        "library (OpenSSL)" in r.err, r.err


# --------------------------------------------------------------------------
# chains (F-PAR-02 .. F-PAR-05)
# --------------------------------------------------------------------------

def test_chain_across_own_instances(proxy, tmp_path, origin):
    """proxy -> socks5 parent (RFC 1929) -> http parent (Basic) -> origin,
    for a forwarded GET and for a CONNECT tunnel."""
    pa, pb, pc = free_port(), free_port(), free_port()
    la, lb, lc = (tmp_path / n for n in ("a.log", "b.log", "c.log"))
    proxy(head(lc, "users carol:CL:cpw\nauth strong\nallow carol\n"
               "proxy -p%d\n" % pc), wait_ports=[pc])
    proxy(head(lb, "users bob:CL:bpw\nauth strong\nallow bob\n"
               "socks -p%d\n" % pb), wait_ports=[pb])
    proxy(head(la, "auth iponly\nallow *\n"
               "parent 1000 socks5 127.0.0.1 %d bob bpw\n"
               "parent 1000 http 127.0.0.1 %d carol cpw\n"
               "proxy -p%d\n" % (pb, pc, pa)), wait_ports=[pa])

    status, body = http_get(pa, LOOP4, origin.port, "/small")
    assert status == 200 and body == b"hello from origin\n"
    ra = wait_rec(la, lambda r: r["text"].startswith("GET "))
    assert ra["err"] == "00000" and ra["hops"] == "2"
    assert (ra["rip"], ra["rport"]) == (LOOP4, str(pb))
    rb = wait_rec(lb, lambda r: r["text"].startswith("CONNECT"))
    assert rb["user"] == "bob"
    assert rb["text"] == "CONNECT 127.0.0.1:%d" % pc
    # the http parent got the request in absolute form, with Basic
    rc = wait_rec(lc, lambda r: r["text"].startswith("GET "))
    assert rc["user"] == "carol"
    assert rc["text"] == "GET http://127.0.0.1:%d/small HTTP/1.1" % origin.port
    assert "Proxy-Authorization" not in dict(origin.last()["headers"])

    status, body = connect_tunnel_get(pa, LOOP4, origin.port)
    assert status == 200 and body == b"hello from origin\n"
    rc = wait_rec(lc, lambda r: r["text"].startswith("CONNECT "))
    assert rc["user"] == "carol" and rc["err"] == "00000"


def test_every_proxy_type_as_one_hop(proxy, tmp_path, echo_server,
                                     tcp_server):
    """One tcppm per type, each through one parent of that type: our own
    proxy (connect, Basic), our socks (socks5 with RFC 1929, socks4 with
    a user id) and hand-written parents for the broken-server types."""
    lp, ls5, ls4, lf = (tmp_path / n for n in
                        ("p.log", "s5.log", "s4.log", "f.log"))
    pp, ps5, ps4 = free_port(), free_port(), free_port()
    proxy(head(lp, "users pu:ppw\nauth strong\nallow pu\nproxy -p%d\n"
               % pp), wait_ports=[pp])
    proxy(head(ls5, "users su:spw\nauth strong\nallow su\nsocks -p%d\n"
               % ps5), wait_ports=[ps5])
    proxy(head(ls4, "auth useronly\nallow u4\nsocks -p%d\n" % ps4),
          wait_ports=[ps4])
    broken = FakeSocks(tcp_server, broken=True)
    types = [
        ("tcp", echo_server.port, ""),
        ("http", echo_server.port, ""),
        ("connect", pp, "pu ppw"),
        ("connect+", pp, "pu ppw"),
        ("socks4", ps4, "u4"),
        ("socks4+", ps4, "u4"),
        ("socks4b", broken.port, ""),
        ("socks5", ps5, "su spw"),
        ("socks5+", ps5, "su spw"),
        ("socks5b", broken.port, ""),
    ]
    body = "auth iponly\n"
    ports = []
    for t, port, cred in types:
        lport = free_port()
        ports.append(lport)
        body += ("flush\nallow *\nparent 1000 %s 127.0.0.1 %d %s\n"
                 "tcppm -p%d %d 127.0.0.1 %d\n"
                 % (t, port, cred, lport, lport, echo_server.port))
    proxy(head(lf, body), wait_ports=ports)
    for (t, _, _), lport in zip(types, ports):
        payload = b"through a %s parent" % t.encode()
        assert echo_roundtrip(lport, payload) == payload, t
    recs = wait_until(lambda: (lambda rs: rs if len(rs) >= len(types)
                               else None)(
        [r for r in records(lf) if r["text"] == LOOP4]), 15)
    for r in recs:
        assert r["err"] == "00000" and r["hops"] == "1", r
    # what the parents saw
    rp = [r for r in records(lp) if r["text"].startswith("CONNECT ")]
    assert len(rp) == 2 and all(r["user"] == "pu" for r in rp)
    r5 = [r for r in records(ls5) if r["text"].startswith("CONNECT ")]
    assert len(r5) == 2 and all(r["user"] == "su" for r in r5)
    r4 = [r for r in records(ls4) if r["text"].startswith("CONNECT ")]
    assert len(r4) == 2 and all(r["user"] == "u4" for r in r4)
    assert {r["ver"] for r in broken.requests} == {4, 5}


def test_weighted_choice(proxy, tmp_path, tcp_server):
    """300/700 weights: about 30 % of 200 connections go to the first
    parent (generous bound: 30..90, over 4 standard deviations)."""
    a = tcp_server(lambda c, s: c.sendall(b"A"))
    b = tcp_server(lambda c, s: c.sendall(b"B"))
    lport = free_port()
    log = tmp_path / "w.log"
    proxy(head(log, "auth iponly\nallow *\n"
               "parent 300 tcp 127.0.0.1 %d\nparent 700 tcp 127.0.0.1 %d\n"
               "tcppm -p%d %d 127.0.0.1 9\n" % (a.port, b.port, lport,
                                                 lport)),
          wait_ports=[lport])
    seen = {"A": 0, "B": 0}
    for _ in range(200):
        with connect(lport) as s:
            got = recv_exact(s, 1).decode()
        seen[got] += 1
    assert seen["A"] + seen["B"] == 200
    assert 30 <= seen["A"] <= 90, seen


# --------------------------------------------------------------------------
# local redirection (F-PAR-06)
# --------------------------------------------------------------------------

def test_socks_redirected_to_local_http_with_acl_twice(proxy, tmp_path,
                                                       origin):
    """A SOCKS CONNECT to the origin's port is handed to the local HTTP
    parser; the ACL is checked again on the HTTP request, without the
    redirecting ACE: GET passes, POST meets the deny."""
    port = free_port()
    log = tmp_path / "r.log"
    proxy(head(log, "auth iponly\n"
               "allow * * * %d CONNECT\n"
               "parent 1000 http 0.0.0.0 0\n"
               "deny * * * * HTTP_POST\n"
               "allow * * * * HTTP_GET\n"
               "socks -p%d\n" % (origin.port, port)), wait_ports=[port])
    s, rep = socks5_open(port, LOOP4, origin.port)
    with s:
        assert rep.code == 0
        s.sendall(b"GET /small HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                  b"Connection: close\r\n\r\n" % origin.port)
        status, _, body, _ = read_response(s)
    assert status == 200 and body == b"hello from origin\n"
    r = wait_rec(log, lambda r: r["text"].startswith("GET "))
    assert r["svc"] == "SOCK5" and r["err"] == "00000"
    assert r["text"] == "GET http://127.0.0.1:%d/small HTTP/1.1" % origin.port
    assert r["hops"] == "1"

    s, rep = socks5_open(port, LOOP4, origin.port)
    with s:
        assert rep.code == 0
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                  b"Content-Length: 1\r\nConnection: close\r\n\r\nx"
                  % origin.port)
        status, _, _, _ = read_response(s)
    assert status == 403
    r = wait_rec(log, lambda r: r["text"].startswith("POST "))
    assert r["svc"] == "SOCK5" and r["err"] == "00001"
    assert len(origin.requests) == 1


def test_local_redirection_tcp(proxy, tmp_path, echo_server):
    """F-PAR-06: `tcp 0.0.0.0 0` relays to the requested destination
    after the second ACL pass."""
    port = free_port()
    log = tmp_path / "t.log"
    proxy(head(log, "auth iponly\n"
               "allow * * * %d\nparent 1000 tcp 0.0.0.0 0\n"
               "allow * * * %d\n"
               "socks -p%d\n" % (echo_server.port, echo_server.port, port)),
          wait_ports=[port])
    s, rep = socks5_open(port, LOOP4, echo_server.port)
    with s:
        assert rep.code == 0
        s.sendall(b"redirected")
        assert recv_exact(s, 10) == b"redirected"


def _dns_query(name, qid):
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
    return (struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q +
            b"\0" + struct.pack("!HH", 1, 1))


def test_local_redirection_into_dns(proxy, tmp_path):
    """F-PAR-06, F-DNS-07: `dns 0.0.0.0 0` hands a SOCKS stream to the
    dnspr parser, which answers DNS over TCP (two-byte length) from
    nsrecord, one record per query.  The second ACL pass needs an ACE
    for DNSRESOLVE: without one (second service) the query gets no
    answer and code 3."""
    port, port2 = free_port(), free_port()
    log = tmp_path / "d.log"
    redirect = "allow * * * 53 CONNECT\nparent 1000 dns 0.0.0.0 0\n"
    proxy(head(log, "nscache 1024\nnsrecord www.example.test 10.1.2.3\n"
               "auth iponly\n"
               + redirect + "allow * * * * DNSRESOLVE\nsocks -p%d\n"
               "flush\n" % port + redirect + "socks -p%d\n" % port2),
          wait_ports=[port, port2])
    s, rep = socks5_open(port, LOOP4, 53)
    with s:
        assert rep.code == 0
        for qid in (0x1234, 0x1235):
            q = _dns_query("www.example.test", qid)
            s.sendall(struct.pack("!H", len(q)) + q)
            n = struct.unpack("!H", recv_exact(s, 2))[0]
            ans = recv_exact(s, n)
            assert ans[:2] == struct.pack("!H", qid)
            assert ans[6:8] == b"\0\1"           # one answer
            assert ans.endswith(bytes([10, 1, 2, 3]))
    recs = wait_until(lambda: [r for r in records(log)
                               if "www.example.test" in r["text"]][1:] and
                      [r for r in records(log)
                       if "www.example.test" in r["text"]], 10,
                      what="two DNS records")
    assert len(recs) == 2 and all(r["err"] == "00000" for r in recs)
    assert all(r["svc"] == "SOCK5" for r in recs)
    s, rep = socks5_open(port2, LOOP4, 53)
    with s:
        assert rep.code == 0
        q = _dns_query("www.example.test", 9)
        s.sendall(struct.pack("!H", len(q)) + q)
        s.settimeout(10)
        assert s.recv(100) == b""
    wait_rec(log, lambda r: r["err"] == "00003")


# --------------------------------------------------------------------------
# names resolved by the parent (F-PAR-12)
# --------------------------------------------------------------------------

def test_plus_types_let_the_parent_resolve(proxy, tmp_path, tcp_server):
    """The front never resolves the name: connect+ and http send it to
    our proxy (fakeresolve: 127.0.0.2, where the origin is), socks5+ and
    socks4+ to hand-written parents that record it.  A plain `connect`
    parent needs the address, which the front cannot find (100)."""
    org = Origin("127.0.0.2")
    try:
        ppar, front = free_port(), free_port()
        fake = FakeSocks(tcp_server, names={HIDDEN: "127.0.0.2"})
        lpar, lfront = tmp_path / "par.log", tmp_path / "front.log"
        proxy(head(lpar, "fakeresolve\nauth iponly\nallow *\n"
                   "proxy -p%d\n" % ppar), wait_ports=[ppar])
        body = "auth iponly\n"
        ports = {}
        for t, pport in (("connect+", ppar), ("http", ppar),
                         ("socks5+", fake.port), ("socks4+", fake.port),
                         ("connect", ppar)):
            ports[t] = free_port()
            body += ("flush\nallow *\nparent 1000 %s 127.0.0.1 %d\n"
                     "proxy -p%d\n" % (t, pport, ports[t]))
        proxy(head(lfront, body), wait_ports=list(ports.values()))
        for t in ("connect+", "http", "socks5+", "socks4+"):
            status, data = http_get(ports[t], HIDDEN, org.port)
            assert (status, data) == (200, b"hello from origin\n"), t
        status, data = connect_tunnel_get(ports["connect+"], HIDDEN,
                                          org.port)
        assert (status, data) == (200, b"hello from origin\n")
        names = sorted((r["ver"], r["name"]) for r in fake.requests)
        assert names == [(4, HIDDEN), (5, HIDDEN)]
        wait_rec(lpar, lambda r: r["text"] ==
                 "CONNECT %s:%d HTTP/1.0" % (HIDDEN, org.port))
        wait_rec(lpar, lambda r: r["text"] ==
                 "GET http://%s:%d/small HTTP/1.1" % (HIDDEN, org.port))
        status, _ = http_get(ports["connect"], HIDDEN, org.port)
        assert status != 200
        wait_rec(lfront, lambda r: r["err"] == "00100")
    finally:
        org.close()


# --------------------------------------------------------------------------
# redirect, zero address / port, extip, ha, credentials
# --------------------------------------------------------------------------

def test_redirect_ace_sends_absolute_form_with_basic(proxy, tmp_path,
                                                     tcp_server):
    """`redirect IP PORT` = allow + parent 1000 http IP PORT; a `parent`
    line with credentials adds Proxy-Authorization: Basic."""
    fake = fake_http_parent(tcp_server)
    auth = fake_http_parent(tcp_server)
    p1, p2 = free_port(), free_port()
    proxy(head(tmp_path / "x.log",
               "auth iponly\nredirect 127.0.0.1 %d\nproxy -p%d\n"
               "flush\nallow *\nparent 1000 http 127.0.0.1 %d Aladdin "
               "\"open sesame\"\nproxy -p%d\n"
               % (fake.port, p1, auth.port, p2)), wait_ports=[p1, p2])
    status, body = http_get(p1, "example.invalid", 8080, "/a?b=c")
    assert (status, body) == (200, b"ok")
    got = fake.wait_results(1)[0]
    assert got.startswith("GET http://example.invalid:8080/a?b=c HTTP/1.1\r\n")
    assert "Proxy-Authorization" not in got
    status, body = http_get(p2, "example.invalid", 80, "/")
    assert (status, body) == (200, b"ok")
    got = auth.wait_results(1)[0]
    assert got.startswith("GET http://example.invalid:80/ HTTP/1.1\r\n")
    assert ("\r\nProxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==" in
            got)


def test_zero_address_and_zero_port(proxy, tmp_path, echo_server):
    """port 0: the parent's address with the requested port; 0.0.0.0:
    the requested address with the parent's port (F-PAR-07)."""
    p1, p2 = free_port(), free_port()
    proxy(head(tmp_path / "z.log",
               "auth iponly\nallow *\nparent 1000 tcp 127.0.0.1 0\n"
               "socks -p%d\nflush\nallow *\n"
               "parent 1000 tcp 0.0.0.0 %d\nsocks -p%d\n"
               % (p1, echo_server.port, p2)), wait_ports=[p1, p2])
    s, rep = socks5_open(p1, "192.0.2.1", echo_server.port)
    with s:
        assert rep.code == 0
        s.sendall(b"zero address")
        assert recv_exact(s, 12) == b"zero address"
    s, rep = socks5_open(p2, LOOP4, 9)
    with s:
        assert rep.code == 0
        s.sendall(b"zero port")
        assert recv_exact(s, 9) == b"zero port"


def test_extip_and_ha(proxy, tmp_path, tcp_server):
    """extip picks the source address (127.0.0.2 here); ha writes a PROXY
    line naming the client before anything else (F-PAR-08, F-PAR-09)."""
    def first_line(conn, server):
        data = b""
        while b"\n" not in data:
            c = conn.recv(256)
            if not c:
                break
            data += c
        server.add_result((conn.getpeername()[0],
                           data.split(b"\n")[0] + b"\n"))
        conn.sendall(b"x")
    target = tcp_server(first_line, host="0.0.0.0")
    p1, p2 = free_port(), free_port()
    proxy(head(tmp_path / "e.log",
               "auth iponly\nallow *\nparent 1000 extip 127.0.0.2 0\n"
               "tcppm -p%d %d 127.0.0.1 %d\nflush\nallow *\n"
               "parent 1000 ha 0.0.0.0 0\n"
               "tcppm -p%d %d 127.0.0.1 %d\n"
               % (p1, p1, target.port, p2, p2, target.port)),
          wait_ports=[p1, p2])
    with connect(p1) as s:
        s.sendall(b"hello\n")
        assert recv_exact(s, 1) == b"x"
    with connect(p2) as s:
        cport = s.getsockname()[1]
        s.sendall(b"hello\n")
        assert recv_exact(s, 1) == b"x"
    res = target.wait_results(2)
    assert res[0] == ("127.0.0.2", b"hello\n")
    assert res[1][1] == b"PROXY TCP4 127.0.0.1 127.0.0.1 %d %d\r\n" % (
        cport, p2)


def test_client_credentials_star(proxy, tmp_path, tcp_server, echo_server):
    """A parent user `*` presents the client's own name and password; a
    client without one gets code 4 (F-PAR-05)."""
    fake = FakeSocks(tcp_server, auth=("alice", "wonder"))
    p1, p2 = free_port(), free_port()
    log = tmp_path / "s.log"
    proxy(head(log, "users alice:CL:wonder\nauth strong\nallow alice\n"
               "parent 1000 socks5 127.0.0.1 %d *\nsocks -p%d\n"
               "flush\nauth iponly\nallow *\n"
               "parent 1000 socks5 127.0.0.1 %d *\nsocks -p%d\n"
               % (fake.port, p1, fake.port, p2)), wait_ports=[p1, p2])
    s, rep = socks5_open(p1, LOOP4, echo_server.port, methods=(2,),
                         user="alice", password="wonder")
    with s:
        assert rep.code == 0
        s.sendall(b"star")
        assert recv_exact(s, 4) == b"star"
    assert fake.requests[0]["user"] == "alice"
    assert fake.requests[0]["password"] == "wonder"
    s, rep = socks5_open(p2, LOOP4, echo_server.port)
    with s:
        assert rep.code != 0
    wait_rec(log, lambda r: r["err"] == "00004")


# --------------------------------------------------------------------------
# failures (F-PAR-11)
# --------------------------------------------------------------------------

def test_dead_parents_and_retries(proxy, tmp_path, tcp_server, closed_port):
    """A parent that is not there logs the connect code (13); one that
    accepts and hangs up is tried `parentretries` times and logs the
    protocol's code; refusals log theirs."""
    def hang_up(conn, server):
        server.add_result("accepted")
    dead5 = tcp_server(hang_up)
    dead_c = tcp_server(hang_up)
    dead4 = tcp_server(hang_up)
    refuse5 = FakeSocks(tcp_server, rep=5)
    no403 = fake_http_parent(tcp_server, b"HTTP/1.0 403 Forbidden\r\n\r\n")
    cases = [("socks5", closed_port, "00013"),
             ("socks5", dead5.port, "00052"),
             ("connect", dead_c.port, "00032"),
             ("socks4", dead4.port, "00042"),
             ("socks5", refuse5.port, "00065"),
             ("connect", no403.port, "00033")]
    log = tmp_path / "d.log"
    body = "parentretries 3\nauth iponly\n"
    ports = []
    for t, pport, _ in cases:
        ports.append(free_port())
        body += ("flush\nallow *\nparent 1000 %s 127.0.0.1 %d\n"
                 "tcppm -p%d %d 127.0.0.1 9\n" % (t, pport, ports[-1],
                                                  ports[-1]))
    proxy(head(log, body), wait_ports=ports)
    for (t, pport, code), lport in zip(cases, ports):
        with connect(lport) as s:
            s.settimeout(10)
            assert s.recv(100) == b"", t
        r = wait_rec(log, lambda r: r["err"] != "00000" and
                     r["cport"] != "0" and r["rport"] == str(pport))
        assert r["err"] == code, (t, r)
        assert r["hops"] == "1"
    # the whole chain was attempted parentretries times
    for srv in (dead5, dead_c, dead4):
        assert len(srv.wait_results(3)) == 3
    assert len(refuse5.requests) == 3


# --------------------------------------------------------------------------
# connect-back (F-SVC-05)
# --------------------------------------------------------------------------

def test_connect_back_between_two_instances(proxy, tmp_path, origin):
    """The private proxy connects out to the public tcppm (-r); users of
    the public port are served over those connections (-R)."""
    pub, cb = free_port(), free_port()
    lpub, lpriv = tmp_path / "pub.log", tmp_path / "priv.log"
    proxy(head(lpub, "auth iponly\nallow * * 127.0.0.1\n"
               "tcppm -R127.0.0.1:%d %d 127.0.0.1 3128\n" % (cb, pub)),
          wait_ports=[pub, cb])
    priv = proxy(head(lpriv, "users user:CL:password\nauth strong\n"
                      "allow user\nproxy -r127.0.0.1:%d\n" % cb))

    def get(i):
        status, body = http_get(pub, LOOP4, origin.port, "/small",
                                b"Proxy-Authorization: Basic "
                                b"dXNlcjpwYXNzd29yZA==\r\n")
        assert (status, body) == (200, b"hello from origin\n"), i
    for i in range(3):
        get(i)
    # a reload of the private side leaves a closed connection in the
    # public side's queue: it is skipped, the next one serves
    priv.send_signal(signal.SIGUSR1)
    wait_until(lambda: len([r for r in records(lpriv)
                            if r["text"].startswith("Connecting back")]) > 1,
               10)
    get(3)
    recs = wait_until(lambda: (lambda rs: rs if len(rs) >= 4 else None)(
        [r for r in records(lpriv) if r["text"].startswith("GET ")]), 10)
    assert all(r["user"] == "user" and r["err"] == "00000" for r in recs)
    # the private side's clients come from the public instance
    assert all(r["cip"] == LOOP4 for r in recs)


def test_connect_back_not_received(proxy, tmp_path):
    """No private instance: the user's connection ends after CONNECTBACK
    seconds with code 13 and the documented text."""
    pub, cb = free_port(), free_port()
    log = tmp_path / "pub.log"
    proxy(head(log, "timeouts 1 5 30 60 180 1800 15 60 15 1 5\n"
               "auth iponly\nallow *\n"
               "tcppm -R127.0.0.1:%d %d 127.0.0.1 3128\n" % (cb, pub)),
          wait_ports=[pub, cb])
    with connect(pub) as s:
        s.settimeout(10)
        assert s.recv(10) == b""
    r = wait_rec(log, lambda r: r["err"] == "00013")
    assert r["text"] == "Connect back not received, check connback client"


# --------------------------------------------------------------------------
# real peers from Debian (F-PAR-03 .. F-PAR-05)
# --------------------------------------------------------------------------

class External:
    """A program started for one test, stopped (with its process group)
    at the end."""

    def __init__(self, args, tmp_path, name):
        self.err_path = tmp_path / (name + ".err")
        with open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                args, cwd=str(tmp_path), stdin=subprocess.DEVNULL,
                stdout=err, stderr=err, start_new_session=True)

    def text(self):
        return self.err_path.read_bytes().decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


@pytest.fixture
def external(tmp_path):
    started = []

    def start(args, name, port):
        if shutil.which(args[0]) is None:
            pytest.skip("%s is not installed" % args[0])
        e = External(args, tmp_path, name)
        started.append(e)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if e.proc.poll() is not None:
                pytest.skip("%s could not start:\n%s" % (args[0], e.text()))
            try:
                with socket.create_connection((LOOP4, port), timeout=1):
                    return e
            except OSError:
                time.sleep(0.1)
        pytest.skip("%s did not listen:\n%s" % (args[0], e.text()))
    yield start
    for e in started:
        e.stop()


def test_microsocks_parent(proxy, tmp_path, external, echo_server, origin):
    """microsocks as an authenticating SOCKS5 parent: the right
    credentials pass, a parent line without them gets code 54."""
    mp = free_port()
    external(["microsocks", "-i", LOOP4, "-p", str(mp), "-u", "mu", "-P",
              "mpw"], "microsocks", mp)
    p1, p2, p3 = free_port(), free_port(), free_port()
    log = tmp_path / "m.log"
    proxy(head(log, "auth iponly\nallow *\n"
               "parent 1000 socks5 127.0.0.1 %d mu mpw\n"
               "tcppm -p%d %d 127.0.0.1 %d\nproxy -p%d\n"
               "flush\nallow *\nparent 1000 socks5 127.0.0.1 %d\n"
               "tcppm -p%d %d 127.0.0.1 %d\n"
               % (mp, p1, p1, echo_server.port, p2, mp, p3, p3,
                  echo_server.port)), wait_ports=[p1, p2, p3])
    assert echo_roundtrip(p1, b"via microsocks") == b"via microsocks"
    assert http_get(p2, LOOP4, origin.port) == (200, b"hello from origin\n")
    with connect(p3) as s:
        s.settimeout(10)
        assert s.recv(10) == b""
    wait_rec(log, lambda r: r["err"] == "00054")


DANTE_CONF = """logoutput: stderr
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
    protocol: tcp
}
"""


def test_dante_parent(proxy, tmp_path, external, echo_server):
    """dante-server as a SOCKS4 and SOCKS5 parent, and as the middle of
    a two-hop chain ending at our own socks."""
    if shutil.which("danted") is None:
        pytest.skip("danted is not installed")
    me = pwd.getpwuid(os.getuid()).pw_name
    dp = free_port()
    conf = tmp_path / "danted.conf"
    conf.write_text(DANTE_CONF % (dp, me, me))
    external(["danted", "-f", str(conf), "-p", str(tmp_path / "d.pid"),
              "-N", "1"], "danted", dp)
    ours = free_port()
    proxy(head(tmp_path / "o.log", "auth iponly\nallow *\nsocks -p%d\n"
               % ours), wait_ports=[ours])
    ports = [free_port() for _ in range(3)]
    log = tmp_path / "d.log"
    proxy(head(log, "auth iponly\n"
               "allow *\nparent 1000 socks5 127.0.0.1 %d\n"
               "tcppm -p%d %d 127.0.0.1 %d\n"
               "flush\nallow *\nparent 1000 socks4 127.0.0.1 %d\n"
               "tcppm -p%d %d 127.0.0.1 %d\n"
               "flush\nallow *\nparent 1000 socks5 127.0.0.1 %d\n"
               "parent 1000 socks5 127.0.0.1 %d\n"
               "tcppm -p%d %d 127.0.0.1 %d\n"
               % (dp, ports[0], ports[0], echo_server.port,
                  dp, ports[1], ports[1], echo_server.port,
                  dp, ours, ports[2], ports[2], echo_server.port)),
          wait_ports=ports)
    for i, p in enumerate(ports):
        payload = b"via dante %d" % i
        assert echo_roundtrip(p, payload) == payload, i
    r = wait_rec(log, lambda r: r["cport"] != "0" and r["hops"] == "2")
    assert r["err"] == "00000"


def test_tinyproxy_parent(proxy, tmp_path, external, origin, echo_server):
    """tinyproxy with BasicAuth as an `http` parent (absolute-form
    requests) and as a `connect` parent; wrong credentials give 33."""
    tp = free_port()
    conf = tmp_path / "tinyproxy.conf"
    conf.write_text("Port %d\nListen 127.0.0.1\nTimeout 60\nMaxClients 50\n"
                    "Allow 127.0.0.1\nBasicAuth tuser tpass\n" % tp)
    external(["tinyproxy", "-d", "-c", str(conf)], "tinyproxy", tp)
    p1, p2, p3 = free_port(), free_port(), free_port()
    log = tmp_path / "t.log"
    proxy(head(log, "auth iponly\n"
               "allow *\nparent 1000 http 127.0.0.1 %d tuser tpass\n"
               "proxy -p%d\n"
               "flush\nallow *\nparent 1000 connect 127.0.0.1 %d tuser tpass\n"
               "tcppm -p%d %d 127.0.0.1 %d\n"
               "flush\nallow *\nparent 1000 connect 127.0.0.1 %d tuser bad\n"
               "tcppm -p%d %d 127.0.0.1 %d\n"
               % (tp, p1, tp, p2, p2, echo_server.port, tp, p3, p3,
                  echo_server.port)), wait_ports=[p1, p2, p3])
    assert http_get(p1, LOOP4, origin.port) == (200, b"hello from origin\n")
    assert connect_tunnel_get(p1, LOOP4, origin.port) == \
        (200, b"hello from origin\n")
    assert echo_roundtrip(p2, b"via tinyproxy") == b"via tinyproxy"
    with connect(p3) as s:
        s.settimeout(10)
        assert s.recv(10) == b""
    wait_rec(log, lambda r: r["err"] == "00033")
