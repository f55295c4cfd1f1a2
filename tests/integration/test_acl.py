"""users, auth and ACLs through real services.

tcppm cases, and the `proxy` (curl over HTTP) and `socks` (curl over
SOCKS4/5) matrix.  Each case gives a config fragment, the
client's action, what the client gets and the %E code of the access
record (acl-auth.md 9): 1 deny ACE, 3 implicit deny, 4 no user, 5 unknown
user, 6/7/8 wrong CL/CR/NT password.

Features: F-ACL-01..10, F-ACL-12, F-AUTH-01..04, F-AUTH-06..13, F-AUTH-15.
"""

import datetime
import hashlib
import http.server
import re
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import (BIN_DIR, LOOP4, LOOP6, connect, free_port, ipv6_usable,
                      recv_all, recv_exact, wait_until)

LOGFMT = 'logformat "LREC %p %E %U %C %c"\n'
REC_RX = re.compile(r"^REC (\d+) (\d+) (\S+) (\S+) (\d+)$", re.M)
CURL = shutil.which("curl")


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def md4(data):
    """MD4 (RFC 1320) in pure Python: OpenSSL 3 may not offer it."""
    mask = 0xFFFFFFFF

    def rol(v, s):
        v &= mask
        return ((v << s) | (v >> (32 - s))) & mask

    msg = bytearray(data)
    bits = len(data) * 8
    msg.append(0x80)
    while len(msg) % 64 != 56:
        msg.append(0)
    msg += struct.pack("<Q", bits)
    h = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476]
    rounds = (
        (lambda x, y, z: (x & y) | (~x & z), 0,
         list(range(16)), (3, 7, 11, 19)),
        (lambda x, y, z: (x & y) | (x & z) | (y & z), 0x5A827999,
         [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15],
         (3, 5, 9, 13)),
        (lambda x, y, z: x ^ y ^ z, 0x6ED9EBA1,
         [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15],
         (3, 9, 11, 15)),
    )
    for off in range(0, len(msg), 64):
        x = struct.unpack("<16I", bytes(msg[off:off + 64]))
        a, b, c, d = h
        for f, k, order, shifts in rounds:
            for i, idx in enumerate(order):
                a = rol(a + f(b, c, d) + x[idx] + k, shifts[i % 4])
                a, b, c, d = d, a, b, c
        h = [(v + w) & mask for v, w in zip(h, (a, b, c, d))]
    return struct.pack("<4I", *h)


def nt_hash(password):
    wide = bytes(b for ch in password.encode("latin-1") for b in (ch, 0))
    return md4(wide).hex().upper()


def crypt3(password, salt):
    """3proxy's "$3$" format (acl-auth.md 3.1), computed independently."""
    alpha = ("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
             "abcdefghijklmnopqrstuvwxyz")
    d = hashlib.blake2b(password.encode() + b"\0" + salt.encode(),
                        digest_size=16).digest()

    def enc(v, n):
        out = ""
        for _ in range(n):
            out += alpha[v & 63]
            v >>= 6
        return out
    tail = ""
    for a, b, c in ((0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15),
                    (4, 10, 5)):
        tail += enc(d[a] << 16 | d[b] << 8 | d[c], 4)
    return "$3$%s$%s" % (salt, tail + enc(d[11], 2))


def md5crypt(password, salt):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    out = subprocess.run(["openssl", "passwd", "-1", "-salt", salt,
                          password], capture_output=True, text=True,
                         timeout=10)
    if out.returncode != 0:
        pytest.skip("openssl passwd -1 failed")
    return out.stdout.strip()


def start(proxy, cfg, ports, name=None):
    """Start the daemon and wait for its listeners."""
    d = proxy(cfg, name=name)

    def ready():
        if not d.alive():
            return True
        from conftest import is_listening
        return all(is_listening(p) for p in ports)
    wait_until(ready, 15, what="the daemon to listen")
    if not d.alive():
        pytest.fail("3proxy exited (%s):\n%s"
                    % (d.returncode, d.stderr_text()))
    return d


def records(log):
    try:
        text = log.read_text()
    except FileNotFoundError:
        return []
    return [dict(port=int(m.group(1)), err=int(m.group(2)),
                 user=m.group(3), ip=m.group(4), cport=int(m.group(5)))
            for m in REC_RX.finditer(text)]


def record_for(log, cport, src=None, timeout=10.0):
    """The record of the connection from client port cport (and address
    src, when given: a port may come again from another source)."""
    def find():
        for r in records(log):
            if r["cport"] == cport and (src is None or r["ip"] == src):
                return r
        return None
    return wait_until(find, timeout, what=lambda: "a record for client "
                      "port %d in:\n%s" % (cport, log.read_text()
                                           if log.exists() else ""))


def bind_connect(port, src=LOOP4, dst=LOOP4, timeout=10.0):
    """Connect from a chosen loopback source; returns (sock, local port)."""
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect((dst, port))
    return s, s.getsockname()[1]


class Origin:
    """A tiny HTTP origin on loopback: every GET/HEAD answers 200 "ok"."""

    def __init__(self, host=LOOP4):
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *a):
                pass

            def _reply(self, body):
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                if body:
                    self.wfile.write(b"ok")

            def do_GET(self):
                self._reply(True)

            def do_HEAD(self):
                self._reply(False)

        cls = http.server.ThreadingHTTPServer
        if ":" in host:
            cls = type("S6", (http.server.ThreadingHTTPServer,),
                       {"address_family": socket.AF_INET6})
        self.srv = cls((host, 0), H)
        self.port = self.srv.server_address[1]
        self.t = threading.Thread(target=self.srv.serve_forever,
                                  kwargs={"poll_interval": 0.1}, daemon=True)
        self.t.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()
        self.t.join(5)


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


def curl(proxy_url, url, src=LOOP4, head=False, timeout=15):
    """Fetch url through the proxy from a fixed local port.  Returns
    (curl exit status, HTTP code, local port)."""
    if CURL is None:
        pytest.skip("curl is not installed")
    lport = free_port(src)
    cmd = [CURL, "-s", "-o", "/dev/null", "-w", "%{http_code}",
           "--max-time", "10", "--interface", src, "--local-port",
           str(lport), "-x", proxy_url, "--noproxy", ""]
    if head:
        cmd.append("-I")
    cmd.append(url)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout.strip(), lport


def proxy_url(kind, port, user=None, pw=None, host=LOOP4):
    cred = ""
    if user is not None:
        cred = user + (":" + pw if pw is not None else "") + "@"
    scheme = {"proxy": "http", "socks": "socks5h", "socks4": "socks4a"}[kind]
    if ":" in host:
        host = "[%s]" % host
    return "%s://%s%s:%d" % (scheme, cred, host, port)


def svc_line(kind, port):
    return "%s -p%d\n" % ("proxy" if kind == "proxy" else "socks", port)


class Rig:
    """One daemon with one proxy/socks service and a log file."""

    def __init__(self, proxy, tmp_path, kind, acl, head=""):
        self.kind = kind
        self.port = free_port()
        self.log = tmp_path / ("%s-%d.log" % (kind, self.port))
        cfg = ("log %s\n%s%sinternal 127.0.0.1\n%s%s"
               % (self.log, LOGFMT, head, acl, svc_line(kind, self.port)))
        self.d = start(proxy, cfg, [self.port])

    def get(self, url, user=None, pw=None, src=LOOP4, head=False,
            kind=None):
        """Returns (ok, code in the access record, record)."""
        rc, code, lport = curl(proxy_url(kind or self.kind, self.port, user,
                                         pw), url, src=src, head=head)
        rec = record_for(self.log, lport, src)
        ok = rc == 0 and code == "200"
        if self.kind == "proxy" and not ok:
            # F-ACL-02: code 1 -> 403, other refusals -> 407
            want = "403" if rec["err"] == 1 else "407"
            assert code == want, (code, rec)
        return ok, rec["err"], rec


KINDS = ["proxy", "socks"]


def url(o, host=LOOP4, path="/"):
    if ":" in host:
        host = "[%s]" % host
    return "http://%s:%d%s" % (host, o.port, path)


# --------------------------------------------------------------------------
# tcppm: what works before proxy and socks exist
# --------------------------------------------------------------------------

def tcppm_rig(proxy, tmp_path, echo_port, acl, head="", target=LOOP4):
    port = free_port()
    log = tmp_path / ("tcppm-%d.log" % port)
    cfg = ("log %s\n%s%sinternal 127.0.0.1\n%stcppm %d %s %d\n"
           % (log, LOGFMT, head, acl, port, target, echo_port))
    start(proxy, cfg, [port])
    return port, log


def tcppm_try(port, log, src=LOOP4):
    """Returns (relayed?, record)."""
    s, lport = bind_connect(port, src)
    with s:
        try:
            s.sendall(b"hello")
            got = recv_exact(s, 5, timeout=5)
        except OSError:
            got = b""
    return got == b"hello", record_for(log, lport, src)


@pytest.mark.parametrize("acl,src,relayed,code", [
    ("", LOOP4, True, 0),                                   # F-ACL-02 empty
    ("allow * 127.0.0.2\n", LOOP4, False, 3),               # implicit deny
    ("allow * 127.0.0.2\n", "127.0.0.2", True, 0),
    ("allow * 127.0.0.0/30\ndeny *\n", "127.0.0.2", True, 0),
    ("allow * 127.0.0.2-127.0.0.9\ndeny *\n", LOOP4, False, 1),
    ("deny * 127.0.0.1\nallow *\n", LOOP4, False, 1),       # first match
    ("allow *\ndeny * 127.0.0.1\n", LOOP4, True, 0),
    ("allow alice\n", LOOP4, False, 3),     # iponly: the user is "-"
    ("allow -\n", LOOP4, True, 0),
], ids=["empty", "implicit-deny", "src-allowed", "cidr", "range-deny",
        "deny-first", "allow-first", "user-list-iponly", "dash-user"])
def test_tcppm_source_acl(proxy, tmp_path, echo_server, acl, src, relayed,
                          code):
    """F-ACL-01 F-ACL-02 F-ACL-04: sources, order, implicit deny; a
    denied connection is closed and logged with its code."""
    port, log = tcppm_rig(proxy, tmp_path, echo_server.port, acl)
    ok, rec = tcppm_try(port, log, src)
    assert ok == relayed
    assert rec["err"] == code
    assert rec["ip"] == src


def _today_excluded():
    wd = (datetime.datetime.now().isoweekday()) % 7     # 0 = Sunday
    return ",".join(str(d) for d in range(7) if d != wd)


def _period_excluding_now():
    now = datetime.datetime.now()
    secs = now.hour * 3600 + now.minute * 60 + now.second
    if abs(secs - 43200) < 120 or secs < 120 or secs > 86280:
        pytest.skip("too close to a period boundary")
    return "12:00:00-24:00:00" if secs < 43200 else "00:00:00-12:00:00"


@pytest.mark.parametrize("fields,code", [
    ("* * 127.0.0.1 {port}", 0),
    ("* * 127.0.0.0/8", 0),
    ("* * 10.0.0.0/8", 3),
    ("* * * {port}", 0),
    ("* * * 1-1000,{other}", 3),
    ("* * * * CONNECT", 0),
    ("* * * * HTTP,UDPASSOC", 3),
    ("* * * * * 0-6", 0),
    ("* * * * * {notoday}", 3),
    ("* * * * * * 00:00:00-24:00:00", 0),
    ("* * * * * * {notnow}", 3),
], ids=["target-addr-port", "target-cidr", "target-other", "port",
        "port-other", "op-connect", "op-other", "all-weekdays",
        "not-today", "all-day", "not-now"])
def test_tcppm_fields(proxy, tmp_path, echo_server, fields, code):
    """F-ACL-04 F-ACL-06 F-ACL-07 F-ACL-08 on tcppm (operation CONNECT)."""
    f = fields.format(port=echo_server.port, other=echo_server.port + 1,
                      notoday=_today_excluded() if "notoday" in fields
                      else "", notnow=_period_excluding_now()
                      if "notnow" in fields else "")
    port, log = tcppm_rig(proxy, tmp_path, echo_server.port,
                          "allow %s\n" % f)
    ok, rec = tcppm_try(port, log)
    assert rec["err"] == code
    assert ok == (code == 0)


def test_tcppm_target_hostname_wildcard(proxy, tmp_path, echo_server):
    """F-ACL-05: tcppm to "localhost" carries the name; patterns match
    it case-insensitively, an IP literal target does not match them."""
    port, log = tcppm_rig(proxy, tmp_path, echo_server.port,
                          "allow * * LOCAL*\ndeny *\n", target="localhost")
    ok, rec = tcppm_try(port, log)
    assert (ok, rec["err"]) == (True, 0)
    port, log = tcppm_rig(proxy, tmp_path, echo_server.port,
                          "deny * * *host\nallow *\n", target="localhost")
    ok, rec = tcppm_try(port, log)
    assert (ok, rec["err"]) == (False, 1)


def test_tcppm_flush_between_services(proxy, tmp_path, echo_server):
    """F-ACL-03: each service keeps the ACL in force at its line; flush
    starts a new one; lines after a service do not reach it."""
    p1, p2, p3 = free_port(), free_port(), free_port()
    log = tmp_path / "flush.log"
    e = echo_server.port
    cfg = ("log %s\n%sinternal 127.0.0.1\n"
           "deny *\n"
           "tcppm %d 127.0.0.1 %d\n"
           "flush\n"
           "tcppm %d 127.0.0.1 %d\n"
           "allow * 127.0.0.2\n"
           "tcppm %d 127.0.0.1 %d\n"
           "deny *\n"
           % (log, LOGFMT, p1, e, p2, e, p3, e))
    start(proxy, cfg, [p1, p2, p3])
    assert tcppm_try(p1, log)[1]["err"] == 1
    assert tcppm_try(p2, log)[0] is True
    ok, rec = tcppm_try(p3, log)
    assert (ok, rec["err"]) == (False, 3)
    ok, rec = tcppm_try(p3, log, src="127.0.0.2")
    assert (ok, rec["err"]) == (True, 0)


def test_tcppm_nolog(proxy, tmp_path, echo_server):
    """F-ACL-09: requests decided by a nolog ACE leave no record."""
    port, log = tcppm_rig(proxy, tmp_path, echo_server.port,
                          "allow * 127.0.0.1\nnolog\ndeny *\n")
    s, quiet = bind_connect(port, LOOP4)
    with s:
        s.sendall(b"hello")
        assert recv_exact(s, 5, timeout=5) == b"hello"
    time.sleep(0.3)
    ok, rec = tcppm_try(port, log, src="127.0.0.2")
    assert (ok, rec["err"]) == (False, 1)
    time.sleep(0.3)
    assert all(r["cport"] != quiet for r in records(log))


@pytest.mark.parametrize("head,acl,code", [
    ("auth none\n", "deny *\n", 0),          # F-AUTH-01: no ACL at all
    ("auth strong\n", "allow *\n", 4),       # F-AUTH-03: no user name
    ("auth useronly\n", "", 4),              # F-AUTH-04
    ("auth iponly strong\n", "allow * 127.0.0.1\n", 0),
    ("auth iponly strong\n", "deny *\n", 4),  # F-AUTH-06: highest code
    ("auth cache\n", "", 4),                 # F-AUTH-08: miss
])
def test_tcppm_auth_types(proxy, tmp_path, echo_server, head, acl, code):
    port, log = tcppm_rig(proxy, tmp_path, echo_server.port, acl, head=head)
    ok, rec = tcppm_try(port, log)
    assert rec["err"] == code
    assert ok == (code == 0)


def _ptr_name(addr):
    try:
        name = socket.gethostbyaddr(addr)[0]
        ok = addr in [a[4][0] for a in socket.getaddrinfo(
            name, None, socket.AF_INET)]
        return name if ok else None
    except OSError:
        return None


def test_tcppm_dnsname(proxy, tmp_path, echo_server):
    """F-AUTH-05: the client's confirmed PTR name is its user name."""
    name = _ptr_name(LOOP4)
    if name is None:
        pytest.skip("127.0.0.1 has no confirmed PTR name here")
    port, log = tcppm_rig(proxy, tmp_path, echo_server.port,
                          "allow %s\n" % name, head="auth dnsname\n")
    ok, rec = tcppm_try(port, log)
    assert (ok, rec["err"], rec["user"]) == (True, 0, name)
    port, log = tcppm_rig(proxy, tmp_path, echo_server.port,
                          "allow nosuchname\n", head="auth dnsname\n")
    ok, rec = tcppm_try(port, log)
    assert (ok, rec["err"]) == (False, 3)


@pytest.mark.parametrize("line,message", [
    ("allow * z.z.z.z", "px.cfg:2: allow: Invalid IP, IP range or CIDR: "
     "'z.z.z.z'"),
    ("deny * * * 80-x", "px.cfg:2: deny: Invalid port"),
    ("allow * * * * FETCH", "px.cfg:2: allow: Unknown operation"),
    ("auth iponly nbname", "px.cfg:2: auth: unknown authentication type "
     "'nbname'"),
    ("nolog", "px.cfg:2: chaining error"),
    ("users \"a:NT:00\" \"b:XY:1\" c", None),        # skipped, not fatal
])
def test_config_errors(run3proxy, cfgfile, line, message):
    """Parse errors fail with file:line (F-AUTH-15: nbname is unknown)."""
    cfg = cfgfile("internal 127.0.0.1\n%s\n" % line)
    res = run3proxy(["--check", cfg])
    if message is None:
        assert res.rc == 0, res
        assert "warning" in res.err
    else:
        assert res.rc != 0, res
        assert message in res.err, res.err


# --------------------------------------------------------------------------
# 3proxy_crypt
# --------------------------------------------------------------------------

CRYPT_BIN = BIN_DIR / "3proxy_crypt"


@pytest.mark.skipif(not CRYPT_BIN.exists(), reason="3proxy_crypt not built")
def test_3proxy_crypt_tool():
    """F-AUTH-11 F-AUTH-12: NT with one argument, MD5-crypt with two."""
    def run(*args):
        return subprocess.run([str(CRYPT_BIN)] + list(args),
                              capture_output=True, text=True, timeout=10)
    r = run("password")
    if r.returncode == 0:
        assert r.stdout == "NT:8846F7EAEE8FB117AD06BDD830B7586C\n"
        assert run("s3cr3t").stdout.strip() == "NT:" + nt_hash("s3cr3t")
    r = run("abc", "secret")
    assert r.returncode == 0
    assert r.stdout.strip() in ("CR:$1$abc$iCQ2D3nhptRYi27fDYv2s1",
                                "CR:" + crypt3("secret", "abc"))
    for args in ((), ("a", "b", "c")):
        r = run(*args)
        assert r.returncode == 1
        assert "usage" in r.stderr


def test_md4_helper_vector():
    assert nt_hash("password") == "8846F7EAEE8FB117AD06BDD830B7586C"


# --------------------------------------------------------------------------
# proxy and socks
# --------------------------------------------------------------------------

def socks_userpass_or_skip(rig):
    """The SOCKS5 handler must choose method 02 when the chain needs a
    user; skip until it does (auth_wants_user)."""
    s = connect(rig.port)
    with s:
        s.sendall(b"\x05\x02\x00\x02")
        reply = recv_exact(s, 2, timeout=5)
    if reply != b"\x05\x02":
        pytest.skip("socks does not ask for user/password yet")


@pytest.mark.parametrize("kind", KINDS)
def test_empty_acl_allows(proxy, tmp_path, origin, kind):
    """F-ACL-02"""
    rig = Rig(proxy, tmp_path, kind, "")
    assert rig.get(url(origin))[:2] == (True, 0)


@pytest.mark.parametrize("kind", KINDS)
def test_sources_and_order(proxy, tmp_path, origin, kind):
    """F-ACL-01 F-ACL-04: first match wins; implicit deny is 3."""
    rig = Rig(proxy, tmp_path, kind,
              "deny * 127.0.0.3\nallow * 127.0.0.0/29\n"
              "allow * 127.0.1.1-127.0.1.9\n")
    assert rig.get(url(origin))[:2] == (True, 0)
    assert rig.get(url(origin), src="127.0.0.3")[:2] == (False, 1)
    assert rig.get(url(origin), src="127.0.1.5")[:2] == (True, 0)
    assert rig.get(url(origin), src="127.0.2.1")[:2] == (False, 3)


@pytest.mark.parametrize("kind", KINDS)
def test_targets(proxy, tmp_path, origin, kind):
    """F-ACL-04 F-ACL-05: addresses, CIDR, leading/trailing wildcards."""
    rig = Rig(proxy, tmp_path, kind,
              "deny * * *calhost.example,10.0.0.0/8\n"
              "allow * * local*,127.0.0.0/8\n"
              "deny *\n")
    assert rig.get(url(origin, "localhost"))[:2] == (True, 0)
    assert rig.get(url(origin))[:2] == (True, 0)
    rig2 = Rig(proxy, tmp_path, kind, "allow * * *host\ndeny *\n")
    assert rig2.get(url(origin, "localhost"))[:2] == (True, 0)
    # a literal address is not a host name pattern match
    assert rig2.get(url(origin))[:2] == (False, 1)


@pytest.mark.skipif(not ipv6_usable(), reason="::1 not usable")
@pytest.mark.parametrize("kind", KINDS)
def test_ipv6(proxy, tmp_path, kind):
    """F-ACL-04: IPv6 sources and targets."""
    o6 = Origin(LOOP6)
    try:
        port = free_port(LOOP6)
        log = tmp_path / "v6.log"
        cfg = ("log %s\n%sinternal ::1\n"
               "allow * ::1/128 ::1\ndeny *\n%s"
               % (log, LOGFMT,
                  svc_line(kind, port).replace("\n", " -46\n")))
        start(proxy, cfg, [])
        wait_until(lambda: _listening6(port), 10, what="v6 listener")
        rc, code, lport = curl(proxy_url(kind, port, host=LOOP6),
                               url(o6, LOOP6), src=LOOP6)
        assert (rc, code) == (0, "200")
        assert record_for(log, lport)["err"] == 0
        rc, code, lport = curl(proxy_url(kind, port, host=LOOP6),
                               "http://127.0.0.1:%d/" % o6.port, src=LOOP6)
        assert record_for(log, lport)["err"] == 1
    finally:
        o6.close()


def _listening6(port):
    try:
        with socket.create_connection((LOOP6, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("kind", KINDS)
def test_ports(proxy, tmp_path, origin, kind):
    """F-ACL-06"""
    rig = Rig(proxy, tmp_path, kind,
              "allow * * * 1-1023,%d\ndeny *\n" % origin.port)
    assert rig.get(url(origin))[:2] == (True, 0)
    rig2 = Rig(proxy, tmp_path, kind,
               "allow * * * 1-1023,%d-65535\ndeny *\n" % (origin.port + 1))
    assert rig2.get(url(origin))[:2] == (False, 1)


def test_operations_http(proxy, tmp_path, origin):
    """F-ACL-07: HTTP_GET allowed, HEAD denied; CONNECT is HTTPS."""
    rig = Rig(proxy, tmp_path, "proxy", "allow * * * * HTTP_GET\ndeny *\n")
    assert rig.get(url(origin))[:2] == (True, 0)
    assert rig.get(url(origin), head=True)[:2] == (False, 1)


def test_operations_socks(proxy, tmp_path, origin):
    """F-ACL-07: SOCKS CONNECT is CONNECT, not HTTP."""
    rig = Rig(proxy, tmp_path, "socks", "allow * * * * CONNECT\n")
    assert rig.get(url(origin))[:2] == (True, 0)
    rig2 = Rig(proxy, tmp_path, "socks", "allow * * * * HTTP\n")
    assert rig2.get(url(origin))[:2] == (False, 3)


@pytest.mark.parametrize("kind", KINDS)
def test_weekdays_and_times(proxy, tmp_path, origin, kind):
    """F-ACL-08"""
    rig = Rig(proxy, tmp_path, kind,
              "allow * * * * * %s\nallow * * * * * * %s\n"
              "allow * * * * * 0-6 00:00:00-24:00:00 \n"
              % (_today_excluded(), _period_excluding_now()))
    ok, code, rec = rig.get(url(origin))
    assert (ok, code) == (True, 0)
    rig2 = Rig(proxy, tmp_path, kind,
               "allow * * * * * %s\nallow * * * * * * %s\n"
               % (_today_excluded(), _period_excluding_now()))
    assert rig2.get(url(origin))[:2] == (False, 3)


@pytest.mark.parametrize("kind", KINDS)
def test_flush_between_services(proxy, tmp_path, origin, kind):
    """F-ACL-03"""
    p1, p2 = free_port(), free_port()
    log = tmp_path / "flush.log"
    cfg = ("log %s\n%sinternal 127.0.0.1\ndeny *\n%sflush\n%s"
           % (log, LOGFMT, svc_line(kind, p1), svc_line(kind, p2)))
    start(proxy, cfg, [p1, p2])
    rc, code, lport = curl(proxy_url(kind, p1), url(origin))
    assert record_for(log, lport)["err"] == 1
    rc, code, lport = curl(proxy_url(kind, p2), url(origin))
    assert (rc, code) == (0, "200")
    assert record_for(log, lport)["err"] == 0


def users_head(tmp_path):
    """alice: CL, bob: CR ($1$ via openssl), carol: NT, dave: $3$, erin:
    CR from a passwd-style $file (F-AUTH-13)."""
    passwd = tmp_path / "passwd"
    passwd.write_text("erin:CR:%s\nfrank:plain\n"
                      % md5crypt("erinpw", "xy12"))
    return ('users alice:CL:alicepw "bob:CR:%s" carol:NT:%s '
            '"dave:CR:%s"\nusers $%s\n'
            % (md5crypt("bobpw", "salt1"), nt_hash("carolpw"),
               crypt3("davepw", "pepper"), passwd))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("user,pw,code", [
    ("alice", "alicepw", 0), ("alice", "wrong", 6),
    ("bob", "bobpw", 0), ("bob", "wrong", 7),
    ("carol", "carolpw", 0), ("carol", "wrong", 8),
    ("dave", "davepw", 0), ("dave", "wrong", 7),
    ("erin", "erinpw", 0), ("erin", "wrong", 7),
    ("frank", "plain", 0), ("frank", "plai", 6),
    ("nobody", "x", 5), (None, None, 4),
])
def test_password_types(proxy, tmp_path, origin, kind, user, pw, code):
    """F-AUTH-03 F-AUTH-10..13: each password type right and wrong."""
    rig = Rig(proxy, tmp_path, kind, "allow *\n",
              head=users_head(tmp_path) + "auth strong\n")
    if kind == "socks":
        socks_userpass_or_skip(rig)
    ok, err, rec = rig.get(url(origin), user, pw)
    assert (ok, err) == (code == 0, code)
    if code == 0:
        assert rec["user"] == user


@pytest.mark.parametrize("kind", KINDS)
def test_users_in_acl(proxy, tmp_path, origin, kind):
    """F-ACL-01: user lists; deny ACE -> 1, no match -> 3."""
    rig = Rig(proxy, tmp_path, kind, "allow alice\ndeny bob\n",
              head="users alice:CL:a bob:CL:b carol:CL:c\nauth strong\n")
    if kind == "socks":
        socks_userpass_or_skip(rig)
    assert rig.get(url(origin), "alice", "a")[:2] == (True, 0)
    assert rig.get(url(origin), "bob", "b")[:2] == (False, 1)
    assert rig.get(url(origin), "carol", "c")[:2] == (False, 3)


@pytest.mark.parametrize("kind", KINDS)
def test_iponly_strong(proxy, tmp_path, origin, kind):
    """F-AUTH-06: a password only where the ACL needs a name."""
    rig = Rig(proxy, tmp_path, kind,
              "allow * 127.0.0.2\nallow alice\ndeny *\n",
              head="users alice:CL:a\nauth iponly strong\n")
    if kind == "socks":
        socks_userpass_or_skip(rig)
    assert rig.get(url(origin), src="127.0.0.2")[:2] == (True, 0)
    assert rig.get(url(origin))[:2] == (False, 4)
    ok, err, rec = rig.get(url(origin), "alice", "a")
    assert (ok, err, rec["user"]) == (True, 0, "alice")
    assert rig.get(url(origin), "alice", "b")[:2] == (False, 6)


def test_useronly_socks4(proxy, tmp_path, origin):
    """F-AUTH-04: SOCKS4 user ids with `auth useronly`."""
    rig = Rig(proxy, tmp_path, "socks", "allow alice\n",
              head="auth useronly\n")
    assert rig.get(url(origin), "alice", kind="socks4")[:2] == (True, 0)
    assert rig.get(url(origin), "bob", kind="socks4")[:2] == (False, 3)


@pytest.mark.parametrize("kind", KINDS)
def test_cache_expiry(proxy, tmp_path, origin, kind):
    """F-AUTH-07 F-AUTH-08: `authcache ip`: after one login the address
    is that user until the entry expires."""
    rig = Rig(proxy, tmp_path, kind, "allow alice\n",
              head="users alice:CL:a\nauthcache ip 2\nauth cache strong\n")
    if kind == "socks":
        socks_userpass_or_skip(rig)
    assert rig.get(url(origin))[:2] == (False, 4)
    assert rig.get(url(origin), "alice", "a")[:2] == (True, 0)
    ok, err, rec = rig.get(url(origin))
    assert (ok, err, rec["user"]) == (True, 0, "alice")
    # another address is not that user
    assert rig.get(url(origin), src="127.0.0.2")[:2] == (False, 4)
    time.sleep(3.2)
    assert rig.get(url(origin))[:2] == (False, 4)


def test_cacheacl_skips_acl_on_hit(proxy, tmp_path, origin):
    """F-AUTH-09: `cacheacl` hits do not evaluate the ACL again; the key
    holds what the ACL constrains (here the port)."""
    rig = Rig(proxy, tmp_path, "proxy", "allow alice * * %d\ndeny *\n"
              % origin.port,
              head="users alice:CL:a\nauthcache user,pass,dstport 60\n"
                   "auth cacheacl strong\n")
    assert rig.get(url(origin), "alice", "a")[:2] == (True, 0)
    assert rig.get(url(origin), "alice", "a")[:2] == (True, 0)
    assert rig.get(url(origin), "alice", "x")[:2] == (False, 6)
