"""Built-in TLS interception: `ssl_mitm` / `ssl_nomitm` and
`ssl_certcache` (plugins.md 3.1, 3.2).

Each test makes two CAs with the openssl CLI: the "origin CA" signs the
certificate of a local HTTPS origin (python ssl + http.server on
127.0.0.1), the "MITM CA" is the one 3proxy signs substitute certificates
with and the only one the client trusts.  Clients are curl and Python
sockets speaking CONNECT (HTTP proxy) or SOCKS5.  The access records show
the requests made inside the tunnel as https:// URLs, and the %E codes
8011 (TLS to the server failed) and 8012 (certificate copy or TLS with
the client failed).

Features: F-TLS-04 (with F-TLS-05 for ssl_client_verify / CA settings).
"""

import hashlib
import http.server
import os
import socket
import ssl
import subprocess
import threading

import pytest

from conftest import (LOOP4, _proc_net_ports, connect, free_port, recv_all,
                      wait_until)
from http_util import curl
from socks_util import socks5_greet, socks5_request
from test_tls import _tls_build, _openssl, records, wait_rec, head

pytestmark = pytest.mark.skipif(not _tls_build(),
                                reason="3proxy built without OpenSSL")


def make_pkis(d):
    """The origin CA and its localhost certificate, and the MITM CA."""
    d.mkdir(exist_ok=True)
    p = {k: d / v for k, v in (
        ("oca", "oca.pem"), ("ocakey", "oca.key"), ("cert", "srv.pem"),
        ("key", "srv.key"), ("ca", "mitm.pem"), ("cakey", "mitm.key"))}
    csr, ext = d / "srv.csr", d / "ext.cnf"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                   "extendedKeyUsage=serverAuth,clientAuth\n")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
             p["ocakey"], "-out", p["oca"], "-days", "2", "-subj",
             "/CN=Origin CA")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
             p["cakey"], "-out", p["ca"], "-days", "2", "-subj",
             "/CN=Test MITM CA")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", p["key"],
             "-out", csr, "-subj", "/O=Origin Org/CN=localhost")
    _openssl("x509", "-req", "-in", csr, "-CA", p["oca"], "-CAkey",
             p["ocakey"], "-CAcreateserial", "-out", p["cert"], "-days",
             "2", "-extfile", ext)
    return p


@pytest.fixture
def pkis(tmp_path):
    import shutil
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    return make_pkis(tmp_path / "pki")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.server.paths.append(self.path)
        body = ("origin says %s\n" % self.path).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class HttpsOrigin:
    """A keep-alive HTTPS origin on 127.0.0.1; records request paths."""

    def __init__(self, pki):
        self.srv = http.server.ThreadingHTTPServer((LOOP4, 0), _Handler)
        self.srv.daemon_threads = True
        self.srv.paths = []
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(pki["cert"]), str(pki["key"]))
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True,
                                          do_handshake_on_connect=False)
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    @property
    def paths(self):
        return self.srv.paths

    def url(self, path):
        return "https://localhost:%d%s" % (self.port, path)

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()
        self.thread.join(5)


@pytest.fixture
def origin(pkis):
    o = HttpsOrigin(pkis)
    yield o
    o.close()


def wait_idle(*ports):
    """Until the daemon has closed every connection to the proxy ports
    (none ESTABLISHED or CLOSE_WAIT): a worker still inside a connection
    when the test stops the daemon would keep its per-thread library
    state (a leak report, not a bug)."""
    def busy(port):
        return any(port in _proc_net_ports(("tcp", "tcp6"), state=st)
                   for st in ("01", "08"))
    for port in ports:
        wait_until(lambda: not busy(port), timeout=20,
                   what="connections to %d closed" % port)


def mitm_cfg(pkis, log, body, extra=""):
    return head(log, "ssl_server_ca_file %s\nssl_server_ca_key %s\n%s"
                "ssl_mitm\n%s" % (pkis["ca"], pkis["cakey"], extra, body))


def client_ctx(pkis):
    ctx = ssl.create_default_context(cafile=str(pkis["ca"]))
    return ctx


def connect_tunnel(port, target_port):
    s = connect(port)
    s.sendall(b"CONNECT localhost:%d HTTP/1.1\r\nHost: localhost:%d\r\n\r\n"
              % (target_port, target_port))
    buf = b""
    while b"\r\n\r\n" not in buf:
        c = s.recv(4096)
        assert c, buf
        buf += c
    assert buf.startswith(b"HTTP/1.0 200"), buf
    return s


def read_response(ts):
    """One response with Content-Length from a TLS socket."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        c = ts.recv(4096)
        if not c:
            return buf
        buf += c
    head_, _, body = buf.partition(b"\r\n\r\n")
    n = 0
    for line in head_.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(body) < n:
        c = ts.recv(4096)
        if not c:
            break
        body += c
    return head_ + b"\r\n\r\n" + body


def get(ts, port, path):
    ts.sendall(b"GET %s HTTP/1.1\r\nHost: localhost:%d\r\n\r\n"
               % (path.encode(), port))
    return read_response(ts)


def der_sha256(pem_path):
    der = ssl.PEM_cert_to_DER_cert(pem_path.read_text())
    return hashlib.sha256(der).hexdigest().upper()


def cert_info(der):
    """Issuer / subject / serial / SAN of a DER certificate (openssl)."""
    p = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout",
                        "-issuer", "-subject", "-serial", "-ext",
                        "subjectAltName,basicConstraints,extendedKeyUsage",
                        "-nameopt", "RFC2253"],
                       input=der, capture_output=True, timeout=30,
                       check=True)
    return p.stdout.decode()


def serial_of(pem_path):
    p = subprocess.run(["openssl", "x509", "-in", str(pem_path), "-noout",
                        "-serial"], capture_output=True, timeout=30,
                       check=True)
    return p.stdout.decode().strip()


# --------------------------------------------------------------------------
# interception through the HTTP proxy and SOCKS
# --------------------------------------------------------------------------

def test_mitm_connect_substitute_cert_and_inner_requests(proxy, tmp_path,
                                                         pkis, origin):
    """F-TLS-04: a CONNECT is intercepted: the client sees a certificate
    issued by the MITM CA with the origin's subject, serial and SAN
    (basicConstraints default, EKU copied); two requests on the one TLS
    connection reach the origin and each is logged as an absolute
    https:// URL with code 0 (no record for the CONNECT itself)."""
    log = tmp_path / "px.log"
    port = free_port()
    proxy(mitm_cfg(pkis, log, "proxy -p%d\n" % port), wait_ports=[port])
    s = connect_tunnel(port, origin.port)
    ts = client_ctx(pkis).wrap_socket(s, server_hostname="localhost")
    info = cert_info(ts.getpeercert(binary_form=True))
    assert "issuer=CN=Test MITM CA" in info
    assert "subject=CN=localhost,O=Origin Org" in info
    assert serial_of(pkis["cert"]) in info
    assert "DNS:localhost, IP Address:127.0.0.1" in info
    assert "CA:FALSE" in info
    assert "TLS Web Server Authentication, TLS Web Client " \
           "Authentication" in info
    r1 = get(ts, origin.port, "/first?x=1")
    r2 = get(ts, origin.port, "/second")
    ts.close()
    assert r1.startswith(b"HTTP/1.1 200") and \
        r1.endswith(b"origin says /first?x=1\n"), r1
    assert r2.endswith(b"origin says /second\n"), r2
    assert origin.paths == ["/first?x=1", "/second"]
    base = "https://localhost:%d" % origin.port
    wait_rec(log, lambda x: x["text"] == "GET %s/second HTTP/1.1" % base)
    texts = [x["text"] for x in records(log) if x["svc"] == "PROXY"]
    assert not any(t.startswith("CONNECT") for t in texts), texts
    recs = [x for x in records(log) if x["text"].startswith("GET")]
    assert [x["text"] for x in recs] == [
        "GET %s/first?x=1 HTTP/1.1" % base, "GET %s/second HTTP/1.1" % base]
    for x in recs:
        assert int(x["err"]) == 0 and x["rport"] == str(origin.port)
    wait_idle(port)


def test_mitm_curl(proxy, tmp_path, pkis, origin):
    """F-TLS-04: curl through the HTTP proxy trusting only the MITM CA
    gets the origin's body."""
    log = tmp_path / "px.log"
    port = free_port()
    proxy(mitm_cfg(pkis, log, "proxy -p%d\n" % port), wait_ports=[port])
    r = curl(["-x", "http://127.0.0.1:%d" % port, "--cacert",
              str(pkis["ca"]), origin.url("/curl")])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"origin says /curl\n"
    wait_rec(log, lambda x: x["text"] ==
             "GET %s HTTP/1.1" % origin.url("/curl"))
    wait_idle(port)


def test_mitm_socks_connect(proxy, tmp_path, pkis, origin):
    """F-TLS-04: a SOCKS CONNECT (CONNECT-type) is intercepted too; the
    record is the inner request under the SOCKS service name."""
    log = tmp_path / "px.log"
    port = free_port()
    proxy(mitm_cfg(pkis, log, "socks -p%d\n" % port), wait_ports=[port])
    r = curl(["--socks5-hostname", "127.0.0.1:%d" % port, "--cacert",
              str(pkis["ca"]), origin.url("/via-socks")])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"origin says /via-socks\n"
    rec = wait_rec(log, lambda x: "via-socks" in x["text"])
    assert rec["svc"] == "SOCK5" and int(rec["err"]) == 0
    assert rec["text"] == "GET %s HTTP/1.1" % origin.url("/via-socks")
    wait_idle(port)


def test_nomitm_relays_untouched(proxy, tmp_path, pkis, origin):
    """F-TLS-04: services after `ssl_nomitm` relay the tunnel as is: the
    client sees the origin's own certificate."""
    log = tmp_path / "px.log"
    port = free_port()
    proxy(mitm_cfg(pkis, log, "ssl_nomitm\nproxy -p%d\n" % port),
          wait_ports=[port])
    s = connect_tunnel(port, origin.port)
    ctx = ssl.create_default_context(cafile=str(pkis["oca"]))
    ts = ctx.wrap_socket(s, server_hostname="localhost")
    assert "issuer=CN=Origin CA" in cert_info(ts.getpeercert(True))
    assert get(ts, origin.port, "/plain").endswith(b"/plain\n")
    ts.close()
    wait_idle(port)


def test_mitm_client_hello_with_connect_head(proxy, tmp_path, pkis,
                                            origin):
    """F-TLS-04: a client that sends its TLS ClientHello in the same
    packet as the CONNECT head (before the 200) is intercepted too: the
    read-ahead bytes start the handshake with the client."""
    log = tmp_path / "px.log"
    port = free_port()
    proxy(mitm_cfg(pkis, log, "proxy -p%d\n" % port), wait_ports=[port])
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = client_ctx(pkis).wrap_bio(inc, out, server_hostname="localhost")
    with pytest.raises(ssl.SSLWantReadError):
        tls.do_handshake()
    s = connect(port)
    s.sendall(b"CONNECT localhost:%d HTTP/1.1\r\n\r\n" % origin.port +
              out.read())
    buf = b""
    while b"\r\n\r\n" not in buf:
        c = s.recv(4096)
        assert c, buf
        buf += c
    assert buf.startswith(b"HTTP/1.0 200"), buf
    inc.write(buf.partition(b"\r\n\r\n")[2])

    def pump(op):
        while True:
            try:
                r = op()
            except ssl.SSLWantReadError:
                if out.pending:
                    s.sendall(out.read())
                c = s.recv(65536)
                if not c:
                    raise AssertionError("proxy closed")
                inc.write(c)
                continue
            if out.pending:
                s.sendall(out.read())
            return r
    pump(tls.do_handshake)
    pump(lambda: tls.write(b"GET /early HTTP/1.1\r\nHost: localhost:%d"
                           b"\r\nConnection: close\r\n\r\n"
                           % origin.port))
    got = b""
    while not got.endswith(b"origin says /early\n"):
        try:
            got += pump(lambda: tls.read(65536))
        except ssl.SSLZeroReturnError:
            break
    s.close()
    assert got.startswith(b"HTTP/1.1 200") and \
        got.endswith(b"origin says /early\n"), got
    wait_rec(log, lambda x: x["text"] ==
             "GET %s HTTP/1.1" % origin.url("/early"))
    wait_idle(port)


def test_mitm_acl_denies_inner_request(proxy, tmp_path, pkis, origin):
    """F-TLS-04: requests inside the tunnel go through the ACL: the
    CONNECT is allowed, the inner GET is denied and the client gets the
    HTTP error inside TLS; the record has the https URL and the ACL
    code; the origin sees nothing."""
    log = tmp_path / "px.log"
    port = free_port()
    proxy(mitm_cfg(pkis, log, "auth iponly\nallow * * * * HTTP_CONNECT\n"
                   "deny *\nproxy -p%d\n" % port), wait_ports=[port])
    s = connect_tunnel(port, origin.port)
    ts = client_ctx(pkis).wrap_socket(s, server_hostname="localhost")
    r = get(ts, origin.port, "/forbidden")
    ts.close()
    assert r.startswith(b"HTTP/1.") and b" 403 " in r.split(b"\r\n")[0], r
    rec = wait_rec(log, lambda x: "forbidden" in x["text"])
    assert rec["text"] == "GET %s HTTP/1.1" % origin.url("/forbidden")
    assert int(rec["err"]) != 0
    assert origin.paths == []
    wait_idle(port)


# --------------------------------------------------------------------------
# failures: 8011 / 8012
# --------------------------------------------------------------------------

def test_mitm_client_verify_untrusted_origin_8011(proxy, tmp_path, pkis,
                                                  origin):
    """F-TLS-04/05: with ssl_client_verify and a CA that did not sign the
    origin, the TLS to the server fails: record 8011 "SSL handshake to
    server failed", the client gets no TLS session; with the origin's
    CA the same request passes."""
    log = tmp_path / "px.log"
    bad, good = free_port(), free_port()
    proxy(mitm_cfg(pkis, log,
                   "ssl_client_ca_file %s\nproxy -p%d\n"
                   "ssl_client_ca_file %s\nproxy -p%d\n"
                   % (pkis["ca"], bad, pkis["oca"], good),
                   extra="ssl_client_verify\n"),
          wait_ports=[bad, good])
    r = curl(["-x", "http://127.0.0.1:%d" % bad, "--cacert",
              str(pkis["ca"]), origin.url("/v")])
    assert r.returncode != 0
    rec = wait_rec(log, lambda x: int(x["err"]) == 8011)
    assert "SSL handshake to server failed" in rec["text"]
    assert "certificate verify failed" in rec["text"]
    r = curl(["-x", "http://127.0.0.1:%d" % good, "--cacert",
              str(pkis["ca"]), origin.url("/v")])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"origin says /v\n"
    wait_idle(bad, good)


def test_mitm_plain_client_8012(proxy, tmp_path, pkis, origin):
    """F-TLS-04: a client that does not speak TLS after the CONNECT:
    record 8012 "Handshake to client failed"."""
    log = tmp_path / "px.log"
    port = free_port()
    proxy(mitm_cfg(pkis, log, "proxy -p%d\n" % port), wait_ports=[port])
    s = connect_tunnel(port, origin.port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    recv_all(s, timeout=10)
    s.close()
    rec = wait_rec(log, lambda x: int(x["err"]) == 8012)
    assert rec["text"].startswith("Handshake to client failed")
    wait_idle(port)


def test_mitm_plain_server_8011(proxy, tmp_path, pkis, tcp_server):
    """F-TLS-04: a destination that does not speak TLS: 8011."""
    def handler(conn, server):
        conn.recv(4096)
        conn.sendall(b"HTTP/1.0 400 Bad\r\n\r\n")
    srv = tcp_server(handler)
    log = tmp_path / "px.log"
    port = free_port()
    proxy(mitm_cfg(pkis, log, "proxy -p%d\n" % port), wait_ports=[port])
    r = curl(["-x", "http://127.0.0.1:%d" % port, "--cacert",
              str(pkis["ca"]), "https://localhost:%d/" % srv.port])
    assert r.returncode != 0
    rec = wait_rec(log, lambda x: int(x["err"]) == 8011)
    assert rec["text"].startswith("SSL handshake to server failed")
    wait_idle(port)


# --------------------------------------------------------------------------
# ssl_certcache
# --------------------------------------------------------------------------

def test_certcache_file_named_and_reused(proxy, tmp_path, pkis, origin):
    """F-TLS-04: with ssl_certcache the substitute is stored as
    <dir><first 16 bytes of SHA-256 of the origin's cert, uppercase
    hex>.pem; a new 3proxy process uses the file (mtime unchanged, the
    client sees the stored certificate)."""
    cache = tmp_path / "cache"
    cache.mkdir()
    log = tmp_path / "px.log"
    port = free_port()
    cfg = mitm_cfg(pkis, log, "proxy -p%d\n" % port,
                   extra="ssl_certcache %s/\n" % cache)
    d = proxy(cfg, wait_ports=[port])
    r = curl(["-x", "http://127.0.0.1:%d" % port, "--cacert",
              str(pkis["ca"]), origin.url("/one")])
    assert r.returncode == 0, r.stderr
    f = cache / (der_sha256(pkis["cert"])[:32] + ".pem")
    wait_until(f.exists, what="cache file %s" % f)
    assert sorted(os.listdir(cache)) == [f.name]
    st = os.stat(f)
    wait_idle(port)
    d.stop()
    proxy(cfg, wait_ports=[port])
    s = connect_tunnel(port, origin.port)
    ts = client_ctx(pkis).wrap_socket(s, server_hostname="localhost")
    seen = ts.getpeercert(binary_form=True)
    assert get(ts, origin.port, "/two").endswith(b"/two\n")
    ts.close()
    assert seen == ssl.PEM_cert_to_DER_cert(f.read_text())
    assert os.stat(f).st_mtime_ns == st.st_mtime_ns
    assert sorted(os.listdir(cache)) == [f.name]
    wait_idle(port)


def test_certcache_ca_and_key_files(proxy, tmp_path, pkis, origin):
    """F-TLS-04: without ssl_server_ca_file / _key the CA is 3proxy.pem +
    3proxy.key in the cache directory, and server.key there is the key
    of the substitute certificates."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "3proxy.pem").write_bytes(pkis["ca"].read_bytes())
    (cache / "3proxy.key").write_bytes(pkis["cakey"].read_bytes())
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-out", cache / "server.key")
    log = tmp_path / "px.log"
    port = free_port()
    proxy(head(log, "ssl_certcache %s/\nssl_mitm\nproxy -p%d\n"
               % (cache, port)), wait_ports=[port])
    s = connect_tunnel(port, origin.port)
    ts = client_ctx(pkis).wrap_socket(s, server_hostname="localhost")
    der = ts.getpeercert(binary_form=True)
    assert get(ts, origin.port, "/k").endswith(b"/k\n")
    ts.close()
    pub = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout",
                          "-pubkey"], input=der, capture_output=True,
                         check=True, timeout=30).stdout
    want = subprocess.run(["openssl", "pkey", "-in", str(cache /
                                                         "server.key"),
                           "-pubout"], capture_output=True, check=True,
                          timeout=30).stdout
    assert pub == want
    wait_idle(port)


def test_memory_cache_signs_once(proxy, tmp_path, pkis, origin):
    """F-TLS-04: without ssl_certcache the substitute is still made once
    per server certificate: with an ECDSA CA (whose signatures differ on
    every signing) two connections see the very same certificate."""
    d = tmp_path / "ec"
    d.mkdir()
    ca, key = d / "ca.pem", d / "ca.key"
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out",
             ca, "-days", "2", "-subj", "/CN=EC MITM CA")
    log = tmp_path / "px.log"
    port = free_port()
    proxy(head(log, "ssl_server_ca_file %s\nssl_server_ca_key %s\n"
               "ssl_mitm\nproxy -p%d\n" % (ca, key, port)),
          wait_ports=[port])
    seen = []
    for path in ("/m1", "/m2"):
        s = connect_tunnel(port, origin.port)
        ctx = ssl.create_default_context(cafile=str(ca))
        ts = ctx.wrap_socket(s, server_hostname="localhost")
        seen.append(ts.getpeercert(binary_form=True))
        assert get(ts, origin.port, path).endswith(path.encode() + b"\n")
        ts.close()
    assert "issuer=CN=EC MITM CA" in cert_info(seen[0])
    assert seen[0] == seen[1]
    wait_idle(port)


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------

def test_mitm_without_ca_stops_start(run3proxy, cfgfile, tmp_path):
    """F-TLS-04: ssl_mitm without a CA (no ssl_server_ca_file/_key, no
    3proxy.pem in the cache) is a file:line error at start."""
    empty = tmp_path / "empty"
    empty.mkdir()
    for text in ("ssl_mitm\nproxy -p%d\n" % free_port(),
                 "ssl_certcache %s/\nssl_mitm\nproxy -p%d\n"
                 % (empty, free_port())):
        r = run3proxy([cfgfile(text)])
        assert r.rc != 0
        assert "px.cfg:" in r.err and "ssl_mitm: no CA" in r.err, r.err


def test_mitm_config_errors(run3proxy, cfgfile):
    """F-TLS-04: ssl_mitm with ssl_serv on, ssl_serv / ssl_cli with
    ssl_mitm on, and a cache directory without a trailing separator are
    file:line errors (also for --check)."""
    for text, msg in (
            ("ssl_serv\nssl_mitm\n", "px.cfg:2: ssl_mitm: not while "
             "ssl_serv is on"),
            ("ssl_mitm\nssl_serv\n", "px.cfg:2: ssl_serv: not while "
             "ssl_mitm is on"),
            ("ssl_mitm\nssl_cli\n", "px.cfg:2: ssl_cli: not while "
             "ssl_mitm is on"),
            ("ssl_certcache /tmp\n", "px.cfg:1: ssl_certcache: '/tmp' "
             "must end with")):
        cfg = cfgfile(text)
        for args in ([cfg], ["--check", cfg]):
            r = run3proxy(args)
            assert r.rc != 0
            assert msg in r.err, r.err
