"""Name service: nserver (UDP, TCP, failover), nscache/nscache6 with TTLs,
nsrecord, fakeresolve, the -4/-6/-46/-64 preferences, and the dnspr
service (F-DNS-01..08).

The tests run their own tiny DNS server (UDP and TCP on 127.0.0.1) that
counts the queries it gets, and talk to dnspr with ``dig`` (Debian package
bind9-dnsutils) or with raw datagrams for malformed queries.
"""

import re
import shutil
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import (LOOP4, LOOP6, echo_roundtrip, free_port, free_udp_port,
                      ipv6_usable, readable, wait_record,
                      wait_until)

DIG = shutil.which("dig")
needs_dig = pytest.mark.skipif(DIG is None,
                               reason="dig not installed (bind9-dnsutils)")

T_A, T_PTR, T_AAAA = 1, 12, 28


# --------------------------------------------------------------------------
# a tiny DNS server
# --------------------------------------------------------------------------

def parse_question(q):
    """(id, flags, qdcount, name, qtype) of a query; name is None when the
    question cannot be read."""
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    pos, labels = 12, []
    try:
        while q[pos] != 0:
            n = q[pos]
            labels.append(q[pos + 1:pos + 1 + n].decode("ascii", "replace"))
            pos += 1 + n
        qtype = struct.unpack("!H", q[pos + 1:pos + 3])[0]
    except (IndexError, struct.error):
        return qid, flags, qd, None, None
    return qid, flags, qd, ".".join(labels), qtype


def question_end(q):
    pos = 12
    while q[pos] != 0:
        pos += 1 + q[pos]
    return pos + 5


class DnsServer:
    """Answers A/AAAA records from ``a`` / ``aaaa`` (name -> address or
    list of addresses) with ``ttl``; unknown names get NXDOMAIN.  UDP and
    TCP on the same port of 127.0.0.1.  ``silent`` makes it read and
    drop every query.  ``queries`` lists (transport, name, qtype)."""

    def __init__(self, a=None, aaaa=None, ttl=300, silent=False):
        self.a = {k.lower(): v for k, v in (a or {}).items()}
        self.aaaa = {k.lower(): v for k, v in (aaaa or {}).items()}
        self.ttl = ttl
        self.silent = silent
        self.queries = []
        self.lock = threading.Lock()
        self._stop = threading.Event()
        for _ in range(20):
            port = free_udp_port()
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                u.bind((LOOP4, port))
                t.bind((LOOP4, port))
            except OSError:
                u.close()
                t.close()
                continue
            break
        else:
            pytest.fail("no free port for the test DNS server")
        t.listen(16)
        self.udp, self.tcp, self.port = u, t, port
        self._threads = [threading.Thread(target=self._udp_loop, daemon=True),
                         threading.Thread(target=self._tcp_loop, daemon=True)]
        for th in self._threads:
            th.start()

    # -- bookkeeping
    def count(self, name=None, transport=None):
        with self.lock:
            return sum(1 for tr, n, _ in self.queries
                       if (name is None or n == name)
                       and (transport is None or tr == transport))

    def _record(self, transport, name, qtype):
        with self.lock:
            self.queries.append((transport, name, qtype))

    # -- answers
    def answer(self, q):
        qid, flags, qd, name, qtype = parse_question(q)
        if name is None or qd != 1:
            return None
        table = {T_A: self.a, T_AAAA: self.aaaa}.get(qtype)
        addrs = table.get(name.lower()) if table is not None else None
        if addrs is None:
            known = name.lower() in self.a or name.lower() in self.aaaa
            rcode = 0 if known else 3
            return (struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, 0, 0, 0)
                    + q[12:question_end(q)])
        if isinstance(addrs, str):
            addrs = [addrs]
        fam = socket.AF_INET if qtype == T_A else socket.AF_INET6
        out = (struct.pack("!HHHHHH", qid, 0x8180, 1, len(addrs), 0, 0)
               + q[12:question_end(q)])
        for ad in addrs:
            raw = socket.inet_pton(fam, ad)
            out += struct.pack("!HHHIH", 0xc00c, qtype, 1, self.ttl,
                               len(raw)) + raw
        return out

    def _udp_loop(self):
        while not self._stop.is_set():
            if not readable(self.udp, 0.2):
                continue
            try:
                q, peer = self.udp.recvfrom(4096)
            except OSError:
                continue
            if len(q) < 12:
                continue
            self._record("udp", parse_question(q)[3], parse_question(q)[4])
            if self.silent:
                continue
            r = self.answer(q)
            if r is not None:
                self.udp.sendto(r, peer)

    def _tcp_loop(self):
        while not self._stop.is_set():
            if not readable(self.tcp, 0.2):
                continue
            try:
                c, _ = self.tcp.accept()
            except OSError:
                continue
            with c:
                c.settimeout(5)
                try:
                    hdr = c.recv(2, socket.MSG_WAITALL)
                    n = struct.unpack("!H", hdr)[0]
                    q = c.recv(n, socket.MSG_WAITALL)
                except (OSError, struct.error):
                    continue
                self._record("tcp", parse_question(q)[3],
                             parse_question(q)[4])
                if self.silent:
                    continue
                r = self.answer(q)
                if r is not None:
                    c.sendall(struct.pack("!H", len(r)) + r)

    def close(self):
        self._stop.set()
        for th in self._threads:
            th.join(5)
        self.udp.close()
        self.tcp.close()


@pytest.fixture
def dns_server():
    """Factory: ``dns_server(a={...}, aaaa={...}, ttl=300, silent=False)``."""
    servers = []

    def make(**kw):
        s = DnsServer(**kw)
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.close()


@pytest.fixture
def dead_port():
    """A UDP port whose socket never reads: queries vanish, no ICMP."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((LOOP4, 0))
    yield s.getsockname()[1]
    s.close()


# --------------------------------------------------------------------------
# clients
# --------------------------------------------------------------------------

class DigResult:
    def __init__(self, text):
        self.text = text
        m = re.search(r"status: (\w+)", text)
        self.status = m.group(1) if m else None
        m = re.search(r"flags: ([a-z ]+);", text)
        self.flags = m.group(1).split() if m else []
        self.answers = []      # (name, ttl, type, data)
        sect = None
        for line in text.splitlines():
            if line.startswith(";; ANSWER SECTION"):
                sect = "answer"
                continue
            if not line.strip() or line.startswith(";;"):
                sect = None if not line.strip() else sect
                continue
            if sect == "answer" and not line.startswith(";"):
                f = line.split()
                if len(f) >= 5:
                    self.answers.append((f[0], int(f[1]), f[3], f[4]))

    def data(self):
        return [a[3] for a in self.answers]


def dig(port, name, qtype="A", timeout=5, extra=()):
    args = [DIG, "@127.0.0.1", "-p", str(port), "+tries=1",
            "+time=%d" % timeout, "+nocookie"] + list(extra)
    if qtype == "PTR":
        args += ["-x", name]
    else:
        args += [name, qtype]
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout + 10)
    return DigResult(p.stdout.decode("utf-8", "replace"))


def build_query(name, qtype=T_A, qid=0x4321, qdcount=1):
    q = struct.pack("!HHHHHH", qid, 0x0100, qdcount, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", qtype, 1)


def raw_exchange(port, payload, timeout=3.0):
    """Send one datagram to dnspr; the reply, or None after timeout."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOP4, 0))
        s.sendto(payload, (LOOP4, port))
        if not readable(s, timeout):
            return None
        return s.recvfrom(65535)[0]


def start_dnspr(proxy, tmp_path, head, opts="", name=None):
    port = free_udp_port()
    log = tmp_path / ("%s.log" % (name or "dns%d" % port))
    d = proxy("log %s\n%s\ndnspr -p%d -i127.0.0.1 %s\n"
              % (log, head, port, opts))
    d.wait_udp_bound(port)
    return d, port, log


def record_with_text(log, text):
    return wait_record(log, lambda m: m["text"] == text)


# --------------------------------------------------------------------------
# dnspr
# --------------------------------------------------------------------------

@needs_dig
def test_dnspr_answers_from_nsrecord(proxy, tmp_path):
    """F-DNS-03, F-DNS-07: a static record is answered locally, with the
    huge TTL of a permanent entry, even without any nserver."""
    d, port, log = start_dnspr(proxy, tmp_path,
                               "nscache 1024\nnsrecord intranet.test "
                               "10.1.2.3\n")
    r = dig(port, "intranet.test")
    assert r.status == "NOERROR", r.text
    assert r.answers == [("intranet.test.", 4294967295, "A", "10.1.2.3")], \
        r.text
    assert "aa" in r.flags
    rec = record_with_text(log, "0001/intranet.test/10.1.2.3")
    assert rec["err"] == "00000"


@needs_dig
def test_dnspr_resolves_through_nserver(proxy, tmp_path, dns_server):
    """F-DNS-01, F-DNS-07: an A query is looked up through the nserver and
    answered with the record's TTL."""
    srv = dns_server(a={"www.test": "192.0.2.10"}, ttl=300)
    d, port, log = start_dnspr(proxy, tmp_path,
                               "nserver 127.0.0.1:%d\nnscache 1024"
                               % srv.port)
    r = dig(port, "www.test")
    assert r.status == "NOERROR", r.text
    assert r.data() == ["192.0.2.10"], r.text
    assert 295 <= r.answers[0][1] <= 300
    assert srv.count("www.test", "udp") == 1
    record_with_text(log, "0001/www.test/192.0.2.10")


@needs_dig
def test_cache_hit_asks_upstream_once(proxy, tmp_path, dns_server):
    """F-DNS-02: with nscache the second lookup is a cache hit whose TTL
    counts down."""
    srv = dns_server(a={"cached.test": "192.0.2.20"}, ttl=600)
    d, port, log = start_dnspr(proxy, tmp_path,
                               "nserver 127.0.0.1:%d\nnscache 256"
                               % srv.port)
    r1 = dig(port, "cached.test")
    time.sleep(1.2)
    r2 = dig(port, "cached.test")
    assert r1.data() == r2.data() == ["192.0.2.20"], (r1.text, r2.text)
    assert srv.count("cached.test") == 1
    assert r2.answers[0][1] < 600


@needs_dig
def test_without_cache_every_lookup_asks(proxy, tmp_path, dns_server):
    """F-DNS-02: nothing is cached without nscache."""
    srv = dns_server(a={"nocache.test": "192.0.2.21"})
    d, port, log = start_dnspr(proxy, tmp_path,
                               "nserver 127.0.0.1:%d" % srv.port)
    for _ in range(2):
        assert dig(port, "nocache.test").data() == ["192.0.2.21"]
    assert srv.count("nocache.test") == 2


@needs_dig
def test_ttl_expiry_asks_again(proxy, tmp_path, dns_server):
    """F-DNS-02: a short TTL expires and the next lookup asks again."""
    srv = dns_server(a={"short.test": "192.0.2.30"}, ttl=1)
    d, port, log = start_dnspr(proxy, tmp_path,
                               "nserver 127.0.0.1:%d\nnscache 256"
                               % srv.port)
    assert dig(port, "short.test").data() == ["192.0.2.30"]
    time.sleep(2.5)
    assert dig(port, "short.test").data() == ["192.0.2.30"]
    assert srv.count("short.test") == 2


@needs_dig
def test_nserver_failover_within_dns_timeout(proxy, tmp_path, dns_server,
                                             dead_port):
    """F-DNS-01: a first server that swallows queries is given up after
    the DNS timeout (slot 7, here 1 s) and the second one answers."""
    srv = dns_server(a={"fail.test": "192.0.2.40"})
    d, port, log = start_dnspr(
        proxy, tmp_path,
        "timeouts 1 5 30 60 180 1800 1 60\n"
        "nserver 127.0.0.1:%d\nnserver 127.0.0.1:%d\nnscache 256"
        % (dead_port, srv.port))
    t0 = time.monotonic()
    r = dig(port, "fail.test", timeout=8)
    took = time.monotonic() - t0
    assert r.data() == ["192.0.2.40"], r.text
    assert 0.8 <= took < 4.0, took
    assert srv.count("fail.test") == 1


@needs_dig
def test_nserver_over_tcp(proxy, tmp_path, dns_server):
    """F-DNS-01: /tcp asks over TCP with the length prefix."""
    srv = dns_server(a={"tcp.test": "192.0.2.50"})
    d, port, log = start_dnspr(proxy, tmp_path,
                               "nserver 127.0.0.1:%d/tcp\nnscache 256"
                               % srv.port)
    assert dig(port, "tcp.test").data() == ["192.0.2.50"]
    assert srv.count("tcp.test", "tcp") == 1
    assert srv.count("tcp.test", "udp") == 0


@needs_dig
def test_nxdomain_logged_888(proxy, tmp_path, dns_server):
    """F-DNS-07: an unknown name is answered NXDOMAIN, logged with 888."""
    srv = dns_server(a={"known.test": "192.0.2.60"})
    d, port, log = start_dnspr(proxy, tmp_path,
                               "nserver 127.0.0.1:%d\nnscache 256"
                               % srv.port)
    r = dig(port, "unknown.test")
    assert r.status == "NXDOMAIN", r.text
    assert r.answers == []
    rec = record_with_text(log, "0001/unknown.test/")
    assert rec["err"] == "00888"
    # [quirk] AAAA records always carry an address in %T
    r = dig(port, "unknown.test", "AAAA")
    assert r.status == "NXDOMAIN", r.text
    rec = record_with_text(log, "001c/unknown.test/::")
    assert rec["err"] == "00888"


@needs_dig
def test_nsrecord_zero_blocks(proxy, tmp_path, dns_server, echo_server):
    """F-DNS-03: a name recorded as 0.0.0.0 is answered 0.0.0.0 by dnspr
    and cannot be connected to (code 100)."""
    srv = dns_server(a={"ads.test": "127.0.0.1"})
    mport = free_port()
    d, port, log = start_dnspr(
        proxy, tmp_path,
        "nserver 127.0.0.1:%d\nnscache 256\nnsrecord ads.test 0.0.0.0\n"
        "tcppm -i127.0.0.1 %d ads.test %d" % (srv.port, mport,
                                               echo_server.port))
    assert dig(port, "ads.test").data() == ["0.0.0.0"]
    d.wait_listening(mport)
    with socket.create_connection((LOOP4, mport), timeout=5) as c:
        c.settimeout(5)
        assert c.recv(10) == b""
    wait_record(log, lambda m: m["port"] == str(mport)
                and m["err"] == "00100")
    assert srv.count("ads.test") == 0


@needs_dig
def test_dnspr_plain_forwarding(proxy, tmp_path, dns_server):
    """F-DNS-08: with -s the query goes unchanged to the first nserver
    (nsrecord is not used) and the reply is relayed verbatim."""
    srv = dns_server(a={"fwd.test": "192.0.2.70"}, ttl=1234)
    d, port, log = start_dnspr(proxy, tmp_path,
                               "nserver 127.0.0.1:%d\nnscache 256\n"
                               "nsrecord fwd.test 10.0.0.1" % srv.port,
                               opts="-s")
    r = dig(port, "fwd.test")
    assert r.answers == [("fwd.test.", 1234, "A", "192.0.2.70")], r.text
    assert "aa" not in r.flags          # the upstream's flags, not ours
    assert srv.count("fwd.test") == 1
    # other query types are forwarded too (and NXDOMAIN when unknown)
    r = dig(port, "nothing.test", "MX")
    assert r.status == "NXDOMAIN", r.text


@needs_dig
def test_dnspr_fake_answers(proxy, tmp_path):
    """F-DNS-08: -F answers every A / AAAA with the given address."""
    d, port, log = start_dnspr(proxy, tmp_path, "",
                               opts="-F10.9.8.7 -F2001:db8::5")
    r = dig(port, "any.name.test")
    assert r.answers == [("any.name.test.", 3600, "A", "10.9.8.7")], r.text
    r = dig(port, "other.test", "AAAA")
    assert r.answers == [("other.test.", 3600, "AAAA", "2001:db8::5")], \
        r.text
    record_with_text(log, "0001/any.name.test/10.9.8.7")
    record_with_text(log, "001c/other.test/2001:db8::5")


@needs_dig
def test_dnspr_own_ptr(proxy, tmp_path):
    """F-DNS-07: the PTR of the listening address is answered 3proxy."""
    d, port, log = start_dnspr(proxy, tmp_path, "")
    r = dig(port, "127.0.0.1", "PTR")
    assert r.data() == ["3proxy."], r.text
    r = dig(port, "127.0.0.9", "PTR")
    assert r.status == "NXDOMAIN", r.text


def test_dnspr_malformed_queries(proxy, tmp_path):
    """F-DNS-07: short (813), long (814), two questions (816) and a bad
    name (817) get no answer and their log code; the service goes on."""
    d, port, log = start_dnspr(proxy, tmp_path,
                               "nscache 256\nnsrecord ok.test 10.0.0.9")
    assert raw_exchange(port, b"\x12\x34\x01\x00\x00", 1.0) is None
    assert raw_exchange(port, build_query("ok.test") + b"\0" * 1000,
                        1.0) is None
    assert raw_exchange(port, build_query("ok.test", qdcount=2), 1.0) is None
    bad = build_query("ok.test")[:12] + b"\x05ab" + b"\0" * 8
    assert raw_exchange(port, bad, 1.0) is None
    pointer = build_query("ok.test")[:12] + b"\xc0\x0c\x00\x01\x00\x01"
    assert raw_exchange(port, pointer, 1.0) is None
    for code in ("00813", "00814", "00816", "00817"):
        wait_record(log, lambda m, c=code: m["err"] == c)
    reply = raw_exchange(port, build_query("ok.test", qid=0x7777))
    assert reply is not None and reply[:4] == b"\x77\x77\x85\x80"
    assert reply[-4:] == socket.inet_aton("10.0.0.9")
    # random garbage of every small size: no crash
    for n in range(0, 64):
        raw_exchange(port, bytes((i * 37 + n) & 0xff for i in range(n)), 0.05)
    reply = raw_exchange(port, build_query("ok.test", qid=0x7778))
    assert reply is not None and reply[:2] == b"\x77\x78"
    assert d.alive()


def test_dnspr_denied_gets_no_answer(proxy, tmp_path):
    """F-DNS-07: the DNSRESOLVE operation is checked against the ACL."""
    d, port, log = start_dnspr(proxy, tmp_path,
                               "nscache 256\nnsrecord ok.test 10.0.0.9\n"
                               "auth iponly\ndeny * * * * DNSRESOLVE")
    assert raw_exchange(port, build_query("ok.test"), 1.0) is None
    wait_record(log, lambda m: m["err"] == "00001")


# --------------------------------------------------------------------------
# the resolver for proxied connections
# --------------------------------------------------------------------------

def test_tcppm_target_resolved_through_nserver(proxy, tmp_path, dns_server,
                                               echo_server):
    """F-DNS-01: client_connect resolves through the nserver list."""
    srv = dns_server(a={"echo.test": "127.0.0.1"})
    port = free_port()
    d = proxy("nserver 127.0.0.1:%d\nnscache 256\n"
              "tcppm -i127.0.0.1 %d echo.test %d\n"
              % (srv.port, port, echo_server.port))
    d.wait_listening(port)
    assert echo_roundtrip(port) == b"ping through 3proxy"
    assert echo_roundtrip(port) == b"ping through 3proxy"
    assert srv.count("echo.test") == 1       # the second one was cached
    assert srv.count("echo.test", "udp") == 1


def test_tcppm_name_unknown_is_100(proxy, tmp_path, dns_server):
    srv = dns_server(a={})
    port = free_port()
    log = tmp_path / "px.log"
    d = proxy("log %s\nnserver 127.0.0.1:%d\n"
              "tcppm -i127.0.0.1 %d nowhere.test 9\n"
              % (log, srv.port, port))
    d.wait_listening(port)
    with socket.create_connection((LOOP4, port), timeout=5) as c:
        c.settimeout(5)
        assert c.recv(10) == b""
    wait_record(log, lambda m: m["err"] == "00100")
    assert srv.count("nowhere.test") == 1


def test_nsrecord_used_by_connections(proxy, tmp_path, dns_server,
                                      echo_server):
    """F-DNS-03: static records serve proxied connections when the
    internal resolver is active."""
    srv = dns_server(a={})
    port = free_port()
    d = proxy("nserver 127.0.0.1:%d\nnscache 256\n"
              "nsrecord static.test 127.0.0.1\n"
              "tcppm -i127.0.0.1 %d static.test %d\n"
              % (srv.port, port, echo_server.port))
    d.wait_listening(port)
    assert echo_roundtrip(port) == b"ping through 3proxy"
    assert srv.count() == 0


def test_fakeresolve(proxy, tmp_path, tcp_server):
    """F-DNS-04: every name resolves to 127.0.0.2 without a lookup."""
    from conftest import echo_handler
    try:
        target = tcp_server(echo_handler, host="127.0.0.2")
    except OSError:
        pytest.skip("127.0.0.2 not usable here")
    port = free_port()
    d = proxy("fakeresolve\ntcppm -i127.0.0.1 %d no.such.name.invalid %d\n"
              % (port, target.port))
    d.wait_listening(port)
    assert echo_roundtrip(port) == b"ping through 3proxy"


@pytest.mark.skipif(not ipv6_usable(), reason="no IPv6 loopback")
@pytest.mark.parametrize("opt,ok", [("-6", True), ("-64", True),
                                    ("-46", True), ("-4", False),
                                    ("", False)])
def test_family_preference_with_aaaa_only(proxy, tmp_path, dns_server,
                                          tcp_server, opt, ok):
    """-6/-64/-46 reach a name that has only an AAAA record; -4 and the
    default (IPv4 only) do not (code 100)."""
    from conftest import echo_handler
    target = tcp_server(echo_handler, host=LOOP6)
    srv = dns_server(aaaa={"six.test": "::1"})
    port = free_port()
    log = tmp_path / "px.log"
    d = proxy("log %s\nnserver 127.0.0.1:%d\nnscache6 256\n"
              "tcppm %s -i127.0.0.1 %d six.test %d\n"
              % (log, srv.port, opt, port, target.port))
    d.wait_listening(port)
    if ok:
        assert echo_roundtrip(port) == b"ping through 3proxy"
    else:
        with socket.create_connection((LOOP4, port), timeout=5) as c:
            c.settimeout(5)
            assert c.recv(10) == b""
        wait_record(log, lambda m: m["err"] == "00100")


def test_family_preference_order(proxy, tmp_path, dns_server, tcp_server):
    """-64 asks AAAA first; -46 asks A first."""
    from conftest import echo_handler
    target = tcp_server(echo_handler)
    srv = dns_server(a={"both.test": "127.0.0.1"},
                     aaaa={"both.test": "::1"})
    p46, p64 = free_port(), free_port()
    d = proxy("nserver 127.0.0.1:%d\n"
              "tcppm -46 -i127.0.0.1 %d both.test %d\n"
              "tcppm -64 -i127.0.0.1 %d both.test %d\n"
              % (srv.port, p46, target.port, p64, target.port))
    d.wait_listening(p46)
    d.wait_listening(p64)
    echo_roundtrip(p46)
    with srv.lock:
        assert srv.queries[0][2] == T_A
        del srv.queries[:]
    if ipv6_usable():
        # the IPv6 target has no listener: only the order is checked
        with socket.create_connection((LOOP4, p64), timeout=5) as c:
            c.settimeout(5)
            c.recv(10)
        with srv.lock:
            assert srv.queries[0][2] == T_AAAA


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------

def test_nscache_too_small(run3proxy, tmp_path):
    (tmp_path / "cfg").write_text("nscache 255\n")
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert "Invalid NS cache size" in r.err, r.err
    (tmp_path / "cfg").write_text("nscache6 12\n")
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert "Invalid NS cache size" in r.err, r.err


def test_nserver_syntax(run3proxy, tmp_path):
    ok = ("nserver 127.0.0.1\nnserver 127.0.0.1:5353\n"
          "nserver 127.0.0.1:53/tcp\nnserver [::1]:53\nnserver ::1\n"
          "nserver 10.0.0.1\nauthnserver 127.0.0.1/tcp\ndialer /bin/true\n"
          "nscache 65536\nnscache6 65536\nnsrecord a.test 10.0.0.1\n"
          "nsrecord b.test ::1\nfakeresolve\n")
    (tmp_path / "ok.cfg").write_text(ok)
    r = run3proxy(["--check", "ok.cfg"])
    assert r.rc == 0, r
    for bad in ("nserver 127.0.0.1:0\n", "nserver 127.0.0.1:x\n",
                "nserver [::1\n", "nsrecord a.test not_an_address!\n"):
        (tmp_path / "bad.cfg").write_text(bad)
        r = run3proxy(["bad.cfg"])
        assert r.rc == 1, (bad, r)


def test_nsrecord_without_cache_is_dropped(proxy, tmp_path, dns_server,
                                           echo_server):
    """F-DNS-03: nsrecord needs its cache first; otherwise it is dropped
    (with a warning) and the name goes to the nserver."""
    srv = dns_server(a={"late.test": "127.0.0.1"})
    port = free_port()
    d = proxy("nserver 127.0.0.1:%d\nnsrecord late.test 10.255.255.1\n"
              "nscache 256\ntcppm -i127.0.0.1 %d late.test %d\n"
              % (srv.port, port, echo_server.port))
    d.wait_listening(port)
    assert echo_roundtrip(port) == b"ping through 3proxy"
    assert srv.count("late.test") == 1
    assert "nsrecord late.test" in d.stderr_text()


@needs_dig
def test_reload_resets_nsrecord_keeps_cache(proxy, tmp_path, dns_server):
    """nsrecord entries belong to the configuration: a reload without them
    drops them; the cache (same size) survives the reload."""
    srv = dns_server(a={"kept.test": "192.0.2.80"}, ttl=3000)
    port = free_udp_port()
    cfg = tmp_path / "px.cfg"
    base = ("nserver 127.0.0.1:%d\nnscache 512\n%s"
            "dnspr -p%d -i127.0.0.1\n")
    cfg.write_text(base % (srv.port, "nsrecord gone.test 10.0.0.7\n", port))
    d = proxy(cfg)
    d.wait_udp_bound(port)
    assert dig(port, "gone.test").data() == ["10.0.0.7"]
    assert dig(port, "kept.test").data() == ["192.0.2.80"]
    cfg.write_text(base % (srv.port, "", port))
    d.send_signal(signal.SIGUSR1)

    def reloaded():
        return dig(port, "gone.test", timeout=2).status == "NXDOMAIN"
    wait_until(reloaded, 15, interval=0.3, what="the reload")
    assert dig(port, "kept.test").data() == ["192.0.2.80"]
    assert srv.count("kept.test") == 1


def test_more_than_five_nservers_ignored(proxy, tmp_path, dns_server,
                                         echo_server, dead_port):
    """Only the first five nservers are used; a sixth is never asked."""
    srv6 = dns_server(a={"six.test": "127.0.0.1"})
    port = free_port()
    log = tmp_path / "px.log"
    d = proxy("log %s\ntimeouts 1 5 30 60 180 1800 1 60\n%s"
              "nserver 127.0.0.1:%d\n"
              "tcppm -i127.0.0.1 %d six.test %d\n"
              % (log, "nserver 127.0.0.1:%d\n" % dead_port * 5, srv6.port,
                 port, echo_server.port))
    d.wait_listening(port)
    with socket.create_connection((LOOP4, port), timeout=15) as c:
        c.settimeout(15)
        assert c.recv(10) == b""
    wait_record(log, lambda m: m["err"] == "00100", timeout=15)
    assert srv6.count() == 0
