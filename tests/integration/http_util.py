"""Local servers and clients for the `proxy` (HTTP) integration tests.

Origin      a threaded HTTP/1.1 origin on 127.0.0.1 with fixed routes; it
            records every request it received and every connection it
            accepted, so tests can check what reached it (and what never
            did).
TlsOrigin   a TLS server answering one fixed HTTP response per connection,
            with a certificate made by ``make_cert`` (openssl) in tmp_path.
start_ftp   a pyftpdlib server over a directory (skips without pyftpdlib).
raw_request send bytes on a plain socket through the proxy, read the reply.
"""

import hashlib
import http.server
import json
import shutil
import socket
import socketserver
import ssl
import subprocess
import threading
import time
import weakref

import pytest

from conftest import LOOP4, data_chunks, wait_until

# ---------------------------------------------------------------------------
# origin
# ---------------------------------------------------------------------------


def _read_chunked(rfile):
    """Decode a chunked request body; returns (body, trailer lines).
    A body cut short (the proxy ended the request: a test of an abort)
    raises ConnectionAbortedError, which the handler drops quietly."""
    body = bytearray()
    while True:
        line = rfile.readline(4096)
        if not line.strip():
            raise ConnectionAbortedError("chunked body cut short")
        size = int(line.split(b";")[0].strip(), 16)
        if size == 0:
            break
        body += rfile.read(size)
        rfile.readline(8)
    trailers = []
    while True:
        line = rfile.readline(8192)
        if line in (b"\r\n", b"\n", b""):
            break
        trailers.append(line.rstrip(b"\r\n"))
    return bytes(body), trailers


class _OriginHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "origin/1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.server.origin._accepted(self.client_address)

    # -- helpers
    def _send(self, code, body=b"", headers=(), length=True):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _body(self):
        if self.path.startswith("/reject"):
            return b"", []
        te = self.headers.get("Transfer-Encoding")
        if te is not None and te.lower() == "chunked":
            return _read_chunked(self.rfile)
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n else b"", []

    def _record(self, body=b"", trailers=()):
        self.server.origin._record({
            "method": self.command, "path": self.path,
            "version": self.request_version,
            "headers": [(k, v) for k, v in self.headers.items()],
            "body_len": len(body), "trailers": list(trailers)})

    # -- routes
    def _route(self):
        path = self.path.split("?")[0]
        query = dict(p.split("=", 1) for p in self.path.partition("?")[2]
                     .split("&") if "=" in p)
        try:
            body, trailers = self._body()
        except ConnectionAbortedError:
            self.close_connection = True
            return
        self._record(body, trailers)
        if path == "/small":
            self._send(200, b"hello from origin\n",
                       [("Content-Type", "text/plain")])
        elif path == "/echo":
            info = {"len": len(body),
                    "sha256": hashlib.sha256(body).hexdigest(),
                    "trailers": [t.decode() for t in trailers]}
            self._send(200, json.dumps(info).encode(),
                       [("Content-Type", "application/json")])
        elif path == "/headers":
            self._send(200, json.dumps(list(self.headers.items())).encode())
        elif path == "/big":
            self._big(int(query.get("size", "1024")),
                      int(query.get("seed", "1")))
        elif path == "/chunked":
            self._chunked()
        elif path == "/close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until the server closes\n" * 100)
            self.close_connection = True
        elif path == "/204":
            self._send(204, length=False)
        elif path == "/304":
            self._send(304, length=False)
        elif path == "/hop":
            self._send(200, b"hop", [("Connection", "X-Secret"),
                                     ("X-Secret", "1"),
                                     ("Keep-Alive", "timeout=5"),
                                     ("Proxy-Agent", "x"),
                                     ("X-Kept", "yes")])
        elif path == "/auth":
            self._send(401, b"auth", [("WWW-Authenticate",
                                       'Basic realm="origin"')])
        elif path == "/reject":
            self._reject()
        elif path == "/103":
            self.wfile.write(b"HTTP/1.1 103 Early Hints\r\n"
                             b"Link: </s.css>; rel=preload\r\n\r\n")
            self._send(200, b"after hints")
        elif path == "/upgrade":
            self._upgrade()
        elif path == "/slow":
            time.sleep(float(query.get("delay", "3")))
            self._send(200, b"slow")
        else:
            self._send(404, b"no such route")

    def _reject(self):
        """Answer 413 before reading the body, then drain it."""
        self.send_response(413)
        self.send_header("Content-Length", "8")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(b"too big\n")
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(5)
            while self.connection.recv(65536):
                pass
        except OSError:
            pass

    def _upgrade(self):
        """101 to an echo protocol that upper-cases what it reads."""
        self.send_response(101)
        self.send_header("Connection", "Upgrade")
        self.send_header("Upgrade", "shout")
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        self.connection.settimeout(10)
        while True:
            data = self.connection.recv(4096)
            if not data:
                break
            self.connection.sendall(data.upper())

    def _big(self, size, seed):
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        for c in data_chunks(size, seed):
            self.wfile.write(c)

    def _chunked(self):
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Trailer", "X-Sum")
        self.end_headers()
        for part in (b"first chunk,", b"second,", b"x" * 70000):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\nX-Sum: 42\r\n\r\n")

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_OPTIONS = _route


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Origin:
    """The test origin: ``port``, ``requests`` (dicts), ``accepted``."""

    def __init__(self, host=LOOP4):
        self.lock = threading.Lock()
        self.requests = []
        self.peers = []
        self.httpd = _Server((host, 0), _OriginHandler)
        self.httpd.origin = self
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def _accepted(self, peer):
        with self.lock:
            self.peers.append(peer)

    def _record(self, req):
        with self.lock:
            self.requests.append(req)

    @property
    def accepted(self):
        with self.lock:
            return len(self.peers)

    def last(self):
        with self.lock:
            return self.requests[-1] if self.requests else None

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------------
# raw client
# ---------------------------------------------------------------------------

_LEFTOVER = weakref.WeakKeyDictionary()


def read_response(sock, timeout=10.0):
    """Read one response head (and a Content-Length body); returns
    (status, headers dict lower-cased, body, raw head).  Bytes past the
    response are kept for the next call on the same socket."""
    sock.settimeout(timeout)
    buf = _LEFTOVER.pop(sock, b"")
    while b"\r\n\r\n" not in buf:
        c = sock.recv(65536)
        if not c:
            break
        buf += c
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines or not lines[0].startswith(b"HTTP/"):
        return None, {}, rest, head
    status = int(lines[0].split()[1])
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        hdrs.setdefault(k.strip().lower().decode(), v.strip().decode())
    n = int(hdrs.get("content-length", "0"))
    if status // 100 == 1 or status in (204, 304):
        n = 0
    while len(rest) < n:
        c = sock.recv(65536)
        if not c:
            break
        rest += c
    if "content-length" in hdrs or n == 0 and status // 100 == 1:
        _LEFTOVER[sock] = rest[n:]
        rest = rest[:n]
    return status, hdrs, rest, head


def raw_request(port, data, timeout=10.0):
    """Send ``data`` to the proxy and read one response; then the
    connection must close.  Returns (status, headers, body, closed)."""
    with socket.create_connection((LOOP4, port), timeout=timeout) as s:
        s.sendall(data)
        status, hdrs, body, _ = read_response(s, timeout)
        s.settimeout(timeout)
        closed = False
        try:
            while True:
                c = s.recv(65536)
                if not c:
                    closed = True
                    break
        except (ConnectionResetError, socket.timeout):
            closed = True
        return status, hdrs, body, closed


# ---------------------------------------------------------------------------
# TLS
# ---------------------------------------------------------------------------

def make_cert(tmp_path):
    """A self-signed certificate for localhost/127.0.0.1 (also the CA the
    client trusts).  Skips the test when openssl is missing."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class TlsOrigin:
    """Answers every TLS connection with one HTTP response, then closes."""

    def __init__(self, cert, key, body=b"secret over tls\n"):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(cert), str(key))
        self.body = body
        self.sock = socket.socket()
        self.sock.bind((LOOP4, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    def _serve(self, conn):
        try:
            conn.settimeout(10)
            with self.ctx.wrap_socket(conn, server_side=True) as s:
                buf = b""
                while b"\r\n\r\n" not in buf:
                    c = s.recv(4096)
                    if not c:
                        return
                    buf += c
                s.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                          b"Connection: close\r\n\r\n%s"
                          % (len(self.body), self.body))
        except (OSError, ssl.SSLError):
            pass

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()


# ---------------------------------------------------------------------------
# FTP
# ---------------------------------------------------------------------------

def start_ftp(root, user="alice", password="wonderland"):
    """A pyftpdlib server on 127.0.0.1 over ``root``: anonymous read
    access and one user.  Returns (port, stop function)."""
    try:
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import FTPHandler
        from pyftpdlib.servers import ThreadedFTPServer
    except ImportError:
        pytest.skip("python3-pyftpdlib is not installed (apt-get install "
                    "python3-pyftpdlib)")
    import logging
    logging.getLogger("pyftpdlib").setLevel(logging.ERROR)
    auth = DummyAuthorizer()
    auth.add_user(user, password, str(root), perm="elrw")
    auth.add_anonymous(str(root))
    handler = type("Handler", (FTPHandler,), {})
    handler.authorizer = auth
    handler.passive_ports = None
    server = ThreadedFTPServer((LOOP4, 0), handler)
    port = server.socket.getsockname()[1]
    t = threading.Thread(target=server.serve_forever,
                         kwargs={"timeout": 0.2, "blocking": True},
                         daemon=True)
    t.start()

    def stop():
        server.close_all()
        t.join(5)
    return port, stop


def ftppr_login(port, ftp_port, user="alice", password="wonderland"):
    """Log in through the ftppr on ``port`` to the start_ftp server on
    ``ftp_port`` (USER user@host:port).  Returns the ftplib.FTP."""
    import ftplib
    f = ftplib.FTP()
    f.connect(LOOP4, port, timeout=15)
    f.login("%s@127.0.0.1:%d" % (user, ftp_port), password)
    return f


def curl(args, timeout=60):
    """Run curl; returns CompletedProcess (bytes)."""
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    return subprocess.run(["curl", "-sS", "--max-time", str(timeout)] + args,
                          capture_output=True, timeout=timeout + 10)


def wait_requests(origin, n, timeout=10.0):
    wait_until(lambda: len(origin.requests) >= n, timeout,
               what="%d requests at the origin" % n)


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for c in iter(lambda: f.read(1 << 20), b""):
            h.update(c)
    return h.hexdigest()


def write_random(path, size, seed=3):
    with open(path, "wb") as f:
        for c in data_chunks(size, seed):
            f.write(c)
    return file_sha256(path)


__all__ = ["Origin", "TlsOrigin", "make_cert", "start_ftp", "curl",
           "raw_request", "read_response", "wait_requests", "file_sha256",
           "write_random"]
