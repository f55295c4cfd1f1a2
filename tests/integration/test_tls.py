"""Built-in TLS: `ssl_serv` (TLS towards clients), `ssl_cli` (TLS towards
servers, `ssl_client_mode` 0 and 3) and the `...s` parent types.

A CA and a server certificate signed by it are made with the openssl CLI
for each test.  Origins are the plain HTTP test origin and small Python
TLS servers; clients are curl and Python sockets.  Each case checks what
the client gets and the access record with its %E code (8011: handshake
to the server failed, 8013: handshake with the client failed).

Features: F-TLS-01 F-TLS-02 F-TLS-03 F-TLS-05 F-PAR-10 F-PLUG-11.
"""

import hashlib
import shutil
import socket
import ssl
import subprocess
import threading

import pytest

from conftest import (LOOP4, PX_BIN, connect, data_chunks, free_port,
                      recv_all, split_records, send_stream, stream_digest,
                      wait_split_record, wait_until)
from http_util import Origin, curl, wait_requests
from socks_util import socks5_greet, socks5_request

LOGFMT = 'logformat "L%N|%E|%C|%R|%r|%T"'
FIELDS = ("svc", "err", "cip", "rip", "rport", "text")


def _tls_build():
    try:
        p = subprocess.run([str(PX_BIN), "-h"], capture_output=True,
                           timeout=20)
    except OSError:
        return False
    return b"built-in TLS: OpenSSL" in p.stderr


pytestmark = pytest.mark.skipif(not _tls_build(),
                                reason="3proxy built without OpenSSL")


def records(path):
    return split_records(path, FIELDS)


def wait_rec(path, pred, timeout=10.0):
    return wait_split_record(path, FIELDS, pred, timeout)


def head(log, body):
    return "log %s\n%s\ninternal 127.0.0.1\n%s" % (log, LOGFMT, body)


def _openssl(*args):
    subprocess.run(["openssl"] + [str(a) for a in args], check=True,
                   capture_output=True, timeout=60)


def make_pki(d, name="ca"):
    """A CA and a localhost certificate it signed: dict of paths."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    d.mkdir(exist_ok=True)
    ca, cakey = d / (name + ".pem"), d / (name + ".key")
    key, csr, crt = d / "srv.key", d / "srv.csr", d / "srv.pem"
    ext = d / "ext.cnf"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
             cakey, "-out", ca, "-days", "2", "-subj", "/CN=Test CA " + name)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
             "-out", csr, "-subj", "/CN=localhost")
    _openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", cakey,
             "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext)
    return {"ca": ca, "cert": crt, "key": key}


@pytest.fixture
def pki(tmp_path):
    return make_pki(tmp_path / "pki")


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


class TlsServer:
    """A TLS server running handler(sslsock) per connection."""

    def __init__(self, pki, handler):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(pki["cert"]), str(pki["key"]))
        self.handler = handler
        self.sock = socket.socket()
        self.sock.bind((LOOP4, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.done = []
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    def _serve(self, conn):
        try:
            conn.settimeout(20)
            with self.ctx.wrap_socket(conn, server_side=True) as s:
                self.done.append(self.handler(s))
        except (OSError, ssl.SSLError) as e:
            self.done.append(e)

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()


def http_once(s):
    buf = b""
    while b"\r\n\r\n" not in buf:
        c = s.recv(4096)
        if not c:
            return "eof"
        buf += c
    body = b"secret over tls\n"
    s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
              b"Connection: close\r\n\r\n%s" % (len(body), body))
    return "ok"


def digest_until_eof(s):
    """Read until the peer ends its stream (close_notify / FIN), answer
    with the sha256 and the length: proves half-close reached us."""
    h, n = hashlib.sha256(), 0
    while True:
        c = s.recv(65536)
        if not c:
            break
        h.update(c)
        n += len(c)
    s.sendall(("%s %d\n" % (h.hexdigest(), n)).encode())
    return n


@pytest.fixture
def tls_http(pki):
    srv = TlsServer(pki, http_once)
    yield srv
    srv.close()


# --------------------------------------------------------------------------
# ssl_serv: HTTPS proxy
# --------------------------------------------------------------------------

def serv_cfg(pki, extra=""):
    return ("ssl_server_cert %s\nssl_server_key %s\n%sssl_serv\n"
            % (pki["cert"], pki["key"], extra))


def test_https_proxy_curl(proxy, tmp_path, pki, origin):
    """F-TLS-01: `ssl_serv` + `proxy` is an HTTPS proxy: curl speaks TLS
    to it and gets the origin's answer; the record is code 0."""
    log = tmp_path / "px.log"
    port = free_port()
    proxy(head(log, serv_cfg(pki) + "proxy -p%d\n" % port),
          wait_ports=[port])
    r = curl(["--proxy", "https://127.0.0.1:%d" % port, "--proxy-cacert",
              str(pki["ca"]), origin.url("/small")])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hello from origin\n"
    wait_rec(log, lambda x: x["svc"] == "PROXY" and int(x["err"]) == 0)


def test_plain_client_to_tls_port_8013(proxy, tmp_path, pki, origin):
    """F-TLS-01: a plain HTTP client on an ssl_serv port gets no answer;
    the record is 8013 "Handshake to client failed"; the service keeps
    serving TLS clients afterwards."""
    log = tmp_path / "px.log"
    port = free_port()
    proxy(head(log, serv_cfg(pki) + "proxy -p%d\n" % port),
          wait_ports=[port])
    s = connect(port)
    s.sendall(b"GET %s HTTP/1.0\r\n\r\n" % origin.url("/small").encode())
    data = recv_all(s, timeout=10)
    s.close()
    assert b"hello from origin" not in data
    rec = wait_rec(log, lambda x: int(x["err"]) == 8013)
    assert "Handshake to client failed" in rec["text"]
    assert origin.accepted == 0
    r = curl(["--proxy", "https://127.0.0.1:%d" % port, "--proxy-cacert",
              str(pki["ca"]), origin.url("/small")])
    assert r.stdout == b"hello from origin\n", r.stderr


def test_https_proxy_no_cert_is_plain(proxy, tmp_path, pki, origin):
    """F-TLS-01: without ssl_server_cert/key, ssl_serv is silently off:
    the service speaks plain HTTP."""
    port = free_port()
    proxy(head(tmp_path / "px.log", "ssl_serv\nproxy -p%d\n" % port),
          wait_ports=[port])
    r = curl(["--proxy", "http://127.0.0.1:%d" % port, origin.url("/small")])
    assert r.stdout == b"hello from origin\n", r.stderr


def test_https_proxy_large_transfers(proxy, tmp_path, pki, origin):
    """F-TLS-01: 10 MB each way through the TLS-wrapped client side (the
    relay's copy path; no splice on a wrapped side)."""
    port = free_port()
    size = 10 * 1024 * 1024
    proxy(head(tmp_path / "px.log", serv_cfg(pki) + "proxy -p%d\n" % port),
          wait_ports=[port])
    out = tmp_path / "down.bin"
    r = curl(["--proxy", "https://127.0.0.1:%d" % port, "--proxy-cacert",
              str(pki["ca"]), "-o", str(out),
              origin.url("/big?size=%d&seed=5" % size)])
    assert r.returncode == 0, r.stderr
    assert hashlib.sha256(out.read_bytes()).hexdigest() == \
        stream_digest(size, 5)
    up = tmp_path / "up.bin"
    with open(up, "wb") as f:
        for c in data_chunks(size, 9):
            f.write(c)
    r = curl(["--proxy", "https://127.0.0.1:%d" % port, "--proxy-cacert",
              str(pki["ca"]), "--data-binary", "@%s" % up,
              "-H", "Content-Type: application/octet-stream",
              origin.url("/echo")])
    assert r.returncode == 0, r.stderr
    assert stream_digest(size, 9) in r.stdout.decode()


def digest_of_length(s):
    """Read a 4-byte length and that many bytes; answer with the digest."""
    hdr = b""
    while len(hdr) < 4:
        c = s.recv(4 - len(hdr))
        if not c:
            return "eof"
        hdr += c
    left = int.from_bytes(hdr, "big")
    h = hashlib.sha256()
    while left > 0:
        c = s.recv(min(left, 65536))
        if not c:
            return "short"
        h.update(c)
        left -= len(c)
    s.sendall(h.hexdigest().encode() + b"\n")
    return "ok"


def test_socks_over_tls_both_sides_wrapped(proxy, tmp_path, pki):
    """F-TLS-01, F-TLS-03: a SOCKS5 service inside TLS (ssl_serv) tunnels
    to a TLS server through ssl_cli: both relay sides are wrapped; 10 MB
    arrive intact and the answer comes back."""
    srv = TlsServer(pki, digest_of_length)
    try:
        port = free_port()
        size = 10 * 1024 * 1024
        proxy(head(tmp_path / "px.log", serv_cfg(pki) +
                   "ssl_cli\nsocks -p%d\n" % port), wait_ports=[port])
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(str(pki["ca"]))
        s = ctx.wrap_socket(connect(port), server_hostname="localhost")
        socks5_greet(s, (0,))
        rep = socks5_request(s, 1, LOOP4, srv.port)
        assert rep.code == 0
        s.sendall(size.to_bytes(4, "big"))
        send_stream(s, data_chunks(size, 4))
        s.settimeout(30)
        line = s.recv(100)
        s.close()
        assert line.strip().decode() == stream_digest(size, 4)
    finally:
        srv.close()


def test_half_close_through_wrapped_side(proxy, tmp_path, pki):
    """F-TLS-03: a plain client half-closes through tcppm + ssl_cli: the
    TLS server sees the end of the stream (close_notify), answers, and
    the answer still reaches the client."""
    srv = TlsServer(pki, digest_until_eof)
    try:
        port = free_port()
        size = 3 * 1024 * 1024
        proxy(head(tmp_path / "px.log", "ssl_cli\ntcppm %d 127.0.0.1 %d\n"
                   % (port, srv.port)), wait_ports=[port])
        s = connect(port)
        send_stream(s, data_chunks(size, 6))
        s.shutdown(socket.SHUT_WR)
        data = recv_all(s, timeout=30)
        s.close()
        assert data.decode().split() == [stream_digest(size, 6), str(size)]
    finally:
        srv.close()


def test_server_verify_mtls(proxy, tmp_path, pki, origin):
    """F-TLS-02: ssl_server_verify requires a client certificate signed
    by ssl_server_ca_file: curl without one fails (8013), with one
    works."""
    log = tmp_path / "px.log"
    port = free_port()
    proxy(head(log, serv_cfg(pki, "ssl_server_verify\n"
                             "ssl_server_ca_file %s\n" % pki["ca"]) +
               "proxy -p%d\n" % port), wait_ports=[port])
    base = ["--proxy", "https://127.0.0.1:%d" % port, "--proxy-cacert",
            str(pki["ca"])]
    r = curl(base + [origin.url("/small")])
    assert r.stdout != b"hello from origin\n"
    wait_rec(log, lambda x: int(x["err"]) == 8013)
    # the server certificate doubles as a client certificate here
    r = curl(base + ["--proxy-cert", str(pki["cert"]), "--proxy-key",
                     str(pki["key"]), origin.url("/small")])
    assert r.stdout == b"hello from origin\n", r.stderr


def test_sigterm_with_open_tls_tunnels(proxy, tmp_path, pki, echo_server):
    """F-TLS-01: SIGTERM with TLS tunnels open on both sides (ssl_serv +
    ssl_cli) exits with status 0 and no sanitizer report."""
    port = free_port()
    d = proxy(head(tmp_path / "px.log", serv_cfg(pki) + "ssl_cli\n"
                   "proxy -p%d\n" % port), wait_ports=[port])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(pki["ca"]))
    srv = TlsServer(pki, digest_until_eof)
    socks = []
    try:
        for _ in range(4):
            s = ctx.wrap_socket(connect(port), server_hostname="localhost")
            s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\n\r\n" % srv.port)
            assert b" 200 " in s.recv(4096)
            s.sendall(b"x" * 100000)
            socks.append(s)
        wait_until(lambda: len(socks) == 4, 5, what="tunnels")
        rc = d.stop()
        assert rc == 0, d.stderr_text()[-4000:]
    finally:
        for s in socks:
            s.close()
        srv.close()


# --------------------------------------------------------------------------
# ssl_cli towards servers
# --------------------------------------------------------------------------

def plain_get(port):
    s = connect(port)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    data = recv_all(s, timeout=15)
    s.close()
    return data


def test_ssl_cli_mode0_tcppm(proxy, tmp_path, tls_http):
    """F-TLS-03: ssl_cli (mode 0): tcppm wraps the server side in TLS, so
    a plain client reaches a TLS origin."""
    port = free_port()
    proxy(head(tmp_path / "px.log", "ssl_cli\ntcppm %d 127.0.0.1 %d\n"
               % (port, tls_http.port)), wait_ports=[port])
    assert b"secret over tls" in plain_get(port)


def test_ssl_cli_verify(proxy, tmp_path, pki, tls_http):
    """F-TLS-03, F-TLS-05: ssl_client_verify with the right CA and SNI
    works; with a CA that did not sign the origin it fails with 8011 and
    the client gets nothing."""
    other = make_pki(tmp_path / "other", "other")
    good, bad = free_port(), free_port()
    log = tmp_path / "px.log"
    proxy(head(log, "ssl_cli\nssl_client_verify\nssl_client_sni localhost\n"
               "ssl_client_ca_file %s\ntcppm %d 127.0.0.1 %d\n"
               "ssl_client_ca_file %s\ntcppm %d 127.0.0.1 %d\n"
               % (pki["ca"], good, tls_http.port, other["ca"], bad,
                  tls_http.port)), wait_ports=[good, bad])
    assert b"secret over tls" in plain_get(good)
    assert b"secret over tls" not in plain_get(bad)
    rec = wait_rec(log, lambda x: int(x["err"]) == 8011)
    assert "SSL handshake to server failed" in rec["text"]
    assert "verify" in rec["text"]


def test_ssl_cli_mode2_connect_only(proxy, tmp_path, tls_http, origin):
    """F-TLS-03: ssl_client_mode 2 wraps only CONNECT-type requests, just
    before relaying: an HTTP CONNECT reaches the TLS server as plain text
    from the client, while a GET to a plain origin stays plain."""
    port = free_port()
    proxy(head(tmp_path / "px.log", "ssl_client_mode 2\nssl_cli\n"
               "proxy -p%d\n" % port), wait_ports=[port])
    s = connect(port)
    s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\n\r\n" % tls_http.port)
    s.settimeout(10)
    assert b" 200 " in s.recv(4096)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"secret over tls" in recv_all(s, timeout=10)
    s.close()
    r = curl(["--proxy", "http://127.0.0.1:%d" % port, origin.url("/small")])
    assert r.stdout == b"hello from origin\n", r.stderr


def test_ssl_cli_plain_server_8011(proxy, tmp_path, closed_port):
    """F-TLS-03: a server that does not speak TLS: 8011, no crash."""
    srv = socket.socket()
    srv.bind((LOOP4, 0))
    srv.listen(4)
    sp = srv.getsockname()[1]

    def answer():
        c, _ = srv.accept()
        c.recv(4096)
        c.sendall(b"HTTP/1.0 200 OK\r\n\r\nplain\n")
        c.close()
    t = threading.Thread(target=answer, daemon=True)
    t.start()
    port = free_port()
    log = tmp_path / "px.log"
    proxy(head(log, "ssl_cli\ntcppm %d 127.0.0.1 %d\n" % (port, sp)),
          wait_ports=[port])
    assert b"plain" not in plain_get(port)
    wait_rec(log, lambda x: int(x["err"]) == 8011)
    t.join(5)
    srv.close()


def test_ssl_cli_sni_alpn_versions(proxy, tmp_path, pki):
    """F-TLS-05: ssl_client_sni, ssl_client_alpn and the protocol range
    reach the server's handshake; without ssl_client_sni no SNI is
    sent."""
    seen = []

    def note(s):
        seen.append((s.selected_alpn_protocol(), s.version()))
        return http_once(s)
    srv = TlsServer(pki, note)
    sni = []
    srv.ctx.set_alpn_protocols(["h2", "http/1.1"])
    srv.ctx.sni_callback = lambda so, name, c: sni.append(name)
    try:
        p1, p2 = free_port(), free_port()
        proxy(head(tmp_path / "px.log",
                   "ssl_cli\nssl_client_alpn x-none http/1.1\n"
                   "ssl_client_min_proto_version TLSv1.2\n"
                   "ssl_client_max_proto_version TLSv1.2\n"
                   "ssl_client_sni localhost\ntcppm %d 127.0.0.1 %d\n"
                   "ssl_client_sni\nssl_client_alpn\n"
                   "ssl_client_max_proto_version\ntcppm %d 127.0.0.1 %d\n"
                   % (p1, srv.port, p2, srv.port)), wait_ports=[p1, p2])
        assert b"secret over tls" in plain_get(p1)
        assert seen[0] == ("http/1.1", "TLSv1.2")
        assert sni == ["localhost"]
        assert b"secret over tls" in plain_get(p2)
        assert seen[1] == (None, "TLSv1.3")
        assert sni == ["localhost", None]
    finally:
        srv.close()


def test_auto_inside_tls(proxy, tmp_path, pki, origin):
    """F-TLS-01: `auto` with ssl_serv detects the protocol inside TLS."""
    port = free_port()
    proxy(head(tmp_path / "px.log", serv_cfg(pki) + "auto -p%d\n" % port),
          wait_ports=[port])
    r = curl(["--proxy", "https://127.0.0.1:%d" % port, "--proxy-cacert",
              str(pki["ca"]), origin.url("/small")])
    assert r.stdout == b"hello from origin\n", r.stderr


# --------------------------------------------------------------------------
# "...s" parents (ssl_client_mode 3)
# --------------------------------------------------------------------------

def test_https_parent_mode3(proxy, tmp_path, pki, origin):
    """F-PAR-10, F-TLS-03: `parent 1000 https` with ssl_cli and
    ssl_client_mode 3: the hop to a second instance running ssl_serv +
    proxy is TLS; curl through the first reaches the origin and the
    second's log has the request."""
    p2, p1 = free_port(), free_port()
    log2, log1 = tmp_path / "b.log", tmp_path / "a.log"
    proxy(head(log2, serv_cfg(pki) + "proxy -p%d\n" % p2), wait_ports=[p2])
    proxy(head(log1, "ssl_client_mode 3\nssl_cli\nallow *\n"
               "parent 1000 https 127.0.0.1 %d\nproxy -p%d\n" % (p2, p1)),
          wait_ports=[p1])
    r = curl(["--proxy", "http://127.0.0.1:%d" % p1, origin.url("/small")])
    assert r.stdout == b"hello from origin\n", r.stderr
    wait_rec(log2, lambda x: int(x["err"]) == 0 and
             x["rport"] == str(origin.port))
    wait_rec(log1, lambda x: int(x["err"]) == 0 and x["rport"] == str(p2))


def test_socks5s_parent_mode3(proxy, tmp_path, pki, origin):
    """F-PAR-10: `parent 1000 socks5s` to an instance running ssl_serv +
    socks: SOCKS5 negotiation inside TLS."""
    p2, p1 = free_port(), free_port()
    log2 = tmp_path / "b.log"
    proxy(head(log2, serv_cfg(pki) + "socks -p%d\n" % p2), wait_ports=[p2])
    proxy(head(tmp_path / "a.log", "ssl_client_mode 3\nssl_cli\nallow *\n"
               "parent 1000 socks5s 127.0.0.1 %d\nproxy -p%d\n" % (p2, p1)),
          wait_ports=[p1])
    r = curl(["--proxy", "http://127.0.0.1:%d" % p1, origin.url("/small")])
    assert r.stdout == b"hello from origin\n", r.stderr
    wait_rec(log2, lambda x: x["svc"].startswith("SOCK") and
             int(x["err"]) == 0 and x["rport"] == str(origin.port))


def test_s_parent_without_ssl_cli_is_plain(proxy, tmp_path, origin):
    """F-PAR-10 (parent.md 3): without ssl_cli + ssl_client_mode 3 no TLS
    is done: an `https` parent gets plain HTTP, so a plain proxy parent
    works."""
    p2, p1 = free_port(), free_port()
    log2 = tmp_path / "b.log"
    proxy(head(log2, "proxy -p%d\n" % p2), wait_ports=[p2])
    proxy(head(tmp_path / "a.log", "allow *\n"
               "parent 1000 https 127.0.0.1 %d\nproxy -p%d\n" % (p2, p1)),
          wait_ports=[p1])
    r = curl(["--proxy", "http://127.0.0.1:%d" % p1, origin.url("/small")])
    assert r.stdout == b"hello from origin\n", r.stderr
    wait_requests(origin, 1)


def test_mode3_plain_parent_fails_8011(proxy, tmp_path, origin):
    """F-PAR-10: with mode 3 an `https` parent that speaks plain HTTP
    fails the handshake: 8011, the origin is never reached.  The plain
    parent waits for a request line, so the handshake ends by the
    CONNECT timeout slot (3 s here)."""
    p2, p1 = free_port(), free_port()
    log1 = tmp_path / "a.log"
    proxy(head(tmp_path / "b.log", "proxy -p%d\n" % p2), wait_ports=[p2])
    proxy(head(log1, "timeouts 1 5 30 60 180 1800 15 60 3 5 30\n"
               "ssl_client_mode 3\nssl_cli\nallow *\n"
               "parent 1000 https 127.0.0.1 %d\nproxy -p%d\n" % (p2, p1)),
          wait_ports=[p1])
    r = curl(["--proxy", "http://127.0.0.1:%d" % p1, origin.url("/small")])
    assert r.stdout != b"hello from origin\n"
    rec = wait_rec(log1, lambda x: int(x["err"]) == 8011)
    assert "timed out" in rec["text"]
    assert origin.accepted == 0


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------

def test_bad_settings_stop_start(run3proxy, cfgfile, tmp_path):
    """F-TLS-05: bad values are file:line errors at start."""
    for text, msg in (
            ("ssl_client_mode 7\n", "ssl_client_mode: bad mode"),
            ("ssl_server_min_proto_version TLSv9\n", "unknown protocol"),
            ("ssl_server_cert %s/none.pem\nssl_server_key %s/none.key\n"
             "ssl_serv\nproxy -p%d\n" % (tmp_path, tmp_path, free_port()),
             "ssl_serv: cannot load")):
        r = run3proxy([cfgfile(text)])
        assert r.rc != 0
        assert "px.cfg:" in r.err and msg in r.err, r.err


def test_ssl_plugin_line_is_noop(proxy, tmp_path, origin):
    """F-PLUG-11: `plugin <anything> ssl_plugin` does nothing in a TLS
    build; the config starts."""
    port = free_port()
    proxy(head(tmp_path / "px.log", "plugin /nonexistent/ssl.so ssl_plugin\n"
               "proxy -p%d\n" % port), wait_ports=[port])
    r = curl(["--proxy", "http://127.0.0.1:%d" % port, origin.url("/small")])
    assert r.stdout == b"hello from origin\n"
