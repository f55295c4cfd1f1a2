"""proxy: the HTTP proxy service against a local origin, TLS server and
FTP server, with curl, wget, Python's http.client and raw sockets.

Every case states what the client does, what it gets, what the origin
received (or that it never saw the request) and the access record with
its %E code.  Feature IDs refer to shared/reference/features.md.
"""

import base64
import hashlib
import http.client
import json
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import (LOOP4, MiB, free_port, stream_digest, unused_port,
                      wait_until)
from http_util import (Origin, TlsOrigin, curl, file_sha256, make_cert,
                       raw_request, read_response, start_ftp, wait_requests,
                       write_random)

# default logformat: "G%y%m%d%H%M%S.%. %p %E %U %C:%c %R:%r %O %I %h %T"
RECORD = re.compile(r"^\d{12}\.\d{3} (\d+) (\d{5}) (\S+) (\S+):(\d+) "
                    r"(\S+):(\d+) (\d+) (\d+) (\d+) (.*)$")


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


@pytest.fixture
def px(proxy):
    """Start a proxy service: px(opts="", head="") -> (daemon, port)."""
    def start(opts="", head=""):
        port = free_port()
        d = proxy("log\ninternal 127.0.0.1\n%sproxy -p%d %s\n"
                  % (head, port, opts))
        d.wait_listening(port)
        return d, port
    return start


def records(d):
    """Access records (not listener messages) of the daemon's stdout:
    dicts with code, user, remote, text, bytes in/out."""
    out = []
    for line in d.stdout_text().splitlines():
        m = RECORD.match(line)
        if m and not m.group(11).startswith("Accepting"):
            out.append({"code": int(m.group(2)), "user": m.group(3),
                        "remote": "%s:%s" % (m.group(6), m.group(7)),
                        "out": int(m.group(8)), "in": int(m.group(9)),
                        "text": m.group(11)})
    return out


def wait_records(d, n, timeout=10.0):
    return wait_until(lambda: len(records(d)) >= n and records(d), timeout,
                      what=lambda: "%d records in:\n%s"
                      % (n, d.stdout_text()[-3000:]))


def wait_code(d, code, timeout=10.0):
    def found():
        return [r for r in records(d) if r["code"] == code]
    return wait_until(found, timeout, what=lambda: "a record with code %d "
                      "in:\n%s" % (code, d.stdout_text()[-3000:]))[0]


def proxy_conn(port):
    return http.client.HTTPConnection(LOOP4, port, timeout=30)


# --------------------------------------------------------------------------
# plain requests (F-HTTP-01, F-HTTP-02)
# --------------------------------------------------------------------------

def test_get_with_curl_and_record(px, origin):
    """F-HTTP-01/F-HTTP-02: absolute-form GET; one record with code 0,
    the request line as %T and the origin as %R:%r."""
    d, port = px()
    r = curl(["-x", "http://127.0.0.1:%d" % port, origin.url("/small")])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"hello from origin\n"
    rec = wait_records(d, 1)[0]
    assert rec["code"] == 0
    assert rec["text"] == "GET %s HTTP/1.1" % origin.url("/small")
    assert rec["remote"] == "127.0.0.1:%d" % origin.port
    assert rec["in"] > len(b"hello from origin\n")
    assert origin.last()["path"] == "/small"


def test_head_has_no_body_and_keeps_connection(px, origin):
    """F-HTTP-02: HEAD gets the head (with Content-Length) but no body,
    and the connection serves the next request."""
    d, port = px()
    c = proxy_conn(port)
    c.request("HEAD", origin.url("/big?size=123456"))
    r = c.getresponse()
    assert r.status == 200
    assert r.getheader("Content-Length") == "123456"
    assert r.read() == b""
    c.request("GET", origin.url("/small"))
    r = c.getresponse()
    assert r.read() == b"hello from origin\n"
    c.close()
    assert origin.accepted == 1
    assert [x["code"] for x in wait_records(d, 2)] == [0, 0]


def test_post_body_with_curl(px, origin, tmp_path):
    """F-HTTP-02: a 3 MB POST body (Content-Length) arrives intact."""
    d, port = px()
    f = tmp_path / "body.bin"
    digest = write_random(f, 3 * MiB)
    r = curl(["-x", "127.0.0.1:%d" % port, "--data-binary", "@%s" % f,
              origin.url("/echo")])
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info == {"len": 3 * MiB, "sha256": digest, "trailers": []}
    rec = wait_records(d, 1)[0]
    assert rec["code"] == 0 and rec["out"] >= 3 * MiB


def test_chunked_upload_with_curl(px, origin, tmp_path):
    """F-HTTP-10: a chunked request body is relayed chunk by chunk."""
    d, port = px()
    f = tmp_path / "body.bin"
    digest = write_random(f, 2 * MiB + 17, seed=9)
    r = curl(["-x", "127.0.0.1:%d" % port, "-H",
              "Transfer-Encoding: chunked", "--data-binary", "@%s" % f,
              origin.url("/echo")])
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["len"] == 2 * MiB + 17 and info["sha256"] == digest
    hdrs = dict((k.lower(), v) for k, v in origin.last()["headers"])
    assert hdrs["transfer-encoding"].lower() == "chunked"
    assert "content-length" not in hdrs


def test_chunked_upload_trailers_raw(px, origin):
    """F-HTTP-10: chunk extensions are dropped, trailers passed on."""
    d, port = px()
    req = (b"POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
           b"Connection: close\r\n\r\n"
           b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trail: t\r\n\r\n"
           % origin.url("/echo").encode())
    status, _, body, _ = raw_request(port, req)
    assert status == 200
    info = json.loads(body)
    assert info["len"] == 11 and info["trailers"] == ["X-Trail: t"]


def test_chunked_response(px, origin):
    """F-HTTP-10: a chunked response reaches an HTTP/1.1 client chunked
    and an HTTP/1.0 client decoded (close-delimited)."""
    d, port = px()
    want = b"first chunk,second," + b"x" * 70000
    r = curl(["-x", "127.0.0.1:%d" % port, origin.url("/chunked")])
    assert r.returncode == 0 and r.stdout == want
    r = curl(["-0", "-v", "-x", "127.0.0.1:%d" % port,
              origin.url("/chunked")])
    assert r.returncode == 0 and r.stdout == want
    assert b"transfer-encoding" not in r.stderr.lower()
    assert [x["code"] for x in wait_records(d, 2)] == [0, 0]


def test_close_delimited_response(px, origin):
    """F-HTTP-02: a response without length ends when the server closes;
    the client connection ends with it."""
    d, port = px()
    c = proxy_conn(port)
    c.request("GET", origin.url("/close"))
    r = c.getresponse()
    assert r.read() == b"until the server closes\n" * 100
    assert r.getheader("Connection") == "close"
    c.close()
    assert wait_records(d, 1)[0]["code"] == 0


def test_204_304_then_more_on_one_connection(px, origin):
    """F-HTTP-05: 204 and 304 have no body; the connection goes on."""
    d, port = px()
    c = proxy_conn(port)
    for path, status in (("/204", 204), ("/304", 304), ("/small", 200)):
        c.request("GET", origin.url(path))
        r = c.getresponse()
        assert r.status == status
        r.read()
    c.close()
    assert origin.accepted == 1
    assert len(wait_records(d, 3)) == 3


@pytest.mark.slow
def test_download_50m_sha256(px, origin, tmp_path):
    """F-HTTP-02: a 50 MB body is streamed intact."""
    d, port = px()
    size = 50 * MiB
    out = tmp_path / "big.bin"
    r = curl(["-x", "127.0.0.1:%d" % port, "-o", str(out),
              origin.url("/big?size=%d&seed=4" % size)], timeout=120)
    assert r.returncode == 0, r.stderr
    assert out.stat().st_size == size
    assert file_sha256(out) == stream_digest(size, seed=4)
    rec = wait_records(d, 1)[0]
    assert rec["code"] == 0 and rec["in"] >= size


def test_wget(px, origin, tmp_path):
    """F-HTTP-02: wget through the proxy."""
    if shutil.which("wget") is None:
        pytest.skip("wget is not installed")
    d, port = px()
    out = tmp_path / "w.txt"
    env = {"http_proxy": "http://127.0.0.1:%d/" % port, "PATH": "/usr/bin:/bin"}
    r = subprocess.run(["wget", "-q", "-O", str(out), origin.url("/small")],
                       env=env, capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == b"hello from origin\n"


# --------------------------------------------------------------------------
# keep-alive and pipelining (F-HTTP-05)
# --------------------------------------------------------------------------

def test_keepalive_reuses_both_connections(px, origin):
    """F-HTTP-05: several URLs in one curl call use one client and one
    server connection; each request has its own record."""
    d, port = px()
    r = curl(["-v", "-x", "127.0.0.1:%d" % port, origin.url("/small"),
              origin.url("/small"), origin.url("/echo")])
    assert r.returncode == 0, r.stderr
    assert b"Re-using existing connection" in r.stderr
    assert origin.accepted == 1
    recs = wait_records(d, 3)
    assert [x["code"] for x in recs] == [0, 0, 0]
    assert recs[2]["text"].startswith("GET %s " % origin.url("/echo"))


def test_keepalive_across_servers(px, origin):
    """F-HTTP-05: one client connection, requests to two servers in
    turn: the server connection is replaced when the host changes."""
    other = Origin()
    try:
        d, port = px()
        c = proxy_conn(port)
        for o in (origin, other, origin):
            c.request("GET", o.url("/small"))
            assert c.getresponse().read() == b"hello from origin\n"
        c.close()
        assert origin.accepted == 2 and other.accepted == 1
        recs = wait_records(d, 3)
        assert [x["remote"] for x in recs] == [
            "127.0.0.1:%d" % p for p in (origin.port, other.port,
                                         origin.port)]
    finally:
        other.close()


def test_pipelined_requests_answered_in_order(px, origin):
    """F-HTTP-05: three requests sent at once get three responses in
    order."""
    d, port = px()
    paths = ["/big?size=100000&seed=1", "/small", "/echo"]
    data = b"".join(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
                    % origin.url(p).encode() for p in paths)
    with socket.create_connection((LOOP4, port), timeout=10) as s:
        s.sendall(data)
        st1, h1, b1, _ = read_response(s)
        st2, h2, b2, _ = read_response(s)
        st3, h3, b3, _ = read_response(s)
    assert (st1, st2, st3) == (200, 200, 200)
    assert len(b1) == 100000
    assert b2 == b"hello from origin\n"
    assert json.loads(b3)["len"] == 0
    assert len(wait_records(d, 3)) == 3


def test_idle_end_of_keepalive_is_not_logged(px, origin):
    """F-HTTP-05: a client that closes an idle keep-alive connection (555)
    or sends nothing at all (508) leaves no record."""
    d, port = px()
    c = proxy_conn(port)
    c.request("GET", origin.url("/small"))
    c.getresponse().read()
    c.close()
    with socket.create_connection((LOOP4, port)):
        pass
    wait_records(d, 1)
    time.sleep(0.5)
    assert [x["code"] for x in records(d)] == [0]


# --------------------------------------------------------------------------
# CONNECT (F-HTTP-03)
# --------------------------------------------------------------------------

def test_connect_tunnel_to_tls(px, tmp_path):
    """F-HTTP-03: curl -p through a CONNECT tunnel to a TLS server that
    the test's own certificate signs; record text is the CONNECT line."""
    cert, key = make_cert(tmp_path)
    tls = TlsOrigin(cert, key)
    try:
        d, port = px()
        r = curl(["-p", "-x", "127.0.0.1:%d" % port, "--cacert", str(cert),
                  "https://127.0.0.1:%d/" % tls.port])
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"secret over tls\n"
        rec = wait_records(d, 1)[0]
        assert rec["code"] == 0
        assert rec["text"] == "CONNECT 127.0.0.1:%d HTTP/1.1" % tls.port
    finally:
        tls.close()


def test_connect_reply_and_pipelined_bytes(px, origin):
    """F-HTTP-03: the tunnel reply is exactly `HTTP/1.0 200 Connection
    established`; bytes sent right after the CONNECT head are kept."""
    d, port = px()
    with socket.create_connection((LOOP4, port), timeout=10) as s:
        s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /small HTTP/1.1\r\nHost: x\r\nConnection: close"
                  b"\r\n\r\n" % origin.port)
        got = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            got += c
    assert got.startswith(b"HTTP/1.0 200 Connection established\r\n\r\n"
                          b"HTTP/1.1 200 OK\r\n")
    assert got.endswith(b"hello from origin\n")


# --------------------------------------------------------------------------
# errors (F-HTTP-07)
# --------------------------------------------------------------------------

def test_origin_down(px):
    """F-HTTP-07: connection refused -> 502 and code 13."""
    d, port = px()
    dead = unused_port()
    status, hdrs, body, closed = raw_request(
        port, b"GET http://127.0.0.1:%d/ HTTP/1.1\r\nHost: x\r\n\r\n" % dead)
    assert status == 502 and closed
    assert hdrs["connection"] == "close"
    assert b"502" in body
    assert wait_code(d, 13)


def test_connect_timeout_is_504(px):
    """F-HTTP-07: a connect that times out (CONNECT timeout 1 s; the
    target's accept queue is full, so its SYNs go unanswered) -> 504,
    logged as 13."""
    lsn = socket.socket()
    lsn.bind((LOOP4, 0))
    lsn.listen(0)
    fillers = []
    try:
        for _ in range(4):
            f = socket.socket()
            f.setblocking(False)
            f.connect_ex(lsn.getsockname())
            fillers.append(f)
        time.sleep(0.2)
        d, port = px(head="timeouts 1 5 30 60 180 1800 15 60 1 5 5\n")
        start = time.monotonic()
        status, _, _, _ = raw_request(
            port, b"GET http://127.0.0.1:%d/ HTTP/1.1\r\nHost: x\r\n\r\n"
            % lsn.getsockname()[1])
        assert status == 504
        assert time.monotonic() - start < 5
        assert wait_code(d, 13)
    finally:
        for f in fillers:
            f.close()
        lsn.close()


def test_unknown_host(px):
    """F-HTTP-07: a name that does not resolve -> 502 and code 100."""
    d, port = px()
    status, _, _, _ = raw_request(
        port, b"GET http://no-such-host.invalid/ HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 502
    assert wait_code(d, 100)["text"].startswith(
        "GET http://no-such-host.invalid/")


def test_response_timeout_is_504(px, origin):
    """F-HTTP-07: a server that does not answer within STRING_LONG ->
    504 and code 92."""
    d, port = px(head="timeouts 1 5 30 1 180 1800 15 60 15 5 5\n")
    status, _, _, _ = raw_request(
        port, b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
        % origin.url("/slow?delay=3").encode())
    assert status == 504
    assert wait_code(d, 92)


def test_request_to_proxy_itself(px):
    """F-NET-14: a request addressed to the proxy's own port -> 503 and
    code 519."""
    d, port = px()
    status, _, body, _ = raw_request(
        port, b"GET http://127.0.0.1:%d/ HTTP/1.1\r\nHost: x\r\n\r\n" % port)
    assert status == 503 and b"ecursion" in body
    assert wait_code(d, 519)


def test_407_with_u2_and_credentials(px, origin):
    """F-HTTP-06/F-HTTP-07: -u2 without credentials -> 407 with the Basic
    realm "proxy" and code 4; with them the request passes and the record
    names the user."""
    d, port = px("-u2")
    status, hdrs, _, _ = raw_request(
        port, b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
        % origin.url("/small").encode())
    assert status == 407
    assert hdrs["proxy-authenticate"] == 'Basic realm="proxy"'
    assert wait_code(d, 4)
    assert origin.accepted == 0
    r = curl(["-x", "127.0.0.1:%d" % port, "-U", "bob:secret",
              origin.url("/headers")])
    assert r.returncode == 0, r.stderr
    sent = [k.lower() for k, _ in json.loads(r.stdout)]
    assert "proxy-authorization" not in sent
    rec = wait_code(d, 0)
    assert rec["user"] == "bob"


def test_403_with_u(px, origin):
    """F-HTTP-07: with -u a missing user name is a 403, not a 407."""
    d, port = px("-u2 -u")
    # -u after -u2 wins: never ask; with no ACL a request is allowed.
    status, _, _, _ = raw_request(
        port, b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        % origin.url("/small").encode())
    assert status == 200


def test_acl_and_strong_auth(px, origin):
    """F-HTTP-06/F-HTTP-07/F-HTTP-13: with `auth strong`, no credentials
    -> 407 (4), a wrong password -> 407 (6), an ACL deny -> 403 (1); the
    right credentials pass."""
    d, port = px(head="users bob:CL:secret\nauth strong\n"
                 "deny bob * * 9\nallow bob\n")
    base = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-x",
            "127.0.0.1:%d" % port]
    assert curl(base + [origin.url("/small")]).stdout == b"407"
    assert wait_code(d, 4)
    assert curl(base + ["-U", "bob:wrong",
                        origin.url("/small")]).stdout == b"407"
    assert wait_code(d, 6)["user"] == "bob"
    assert curl(base + ["-U", "bob:secret",
                        "http://127.0.0.1:9/"]).stdout == b"403"
    assert wait_code(d, 1)
    assert curl(base + ["-U", "bob:secret",
                        origin.url("/small")]).stdout == b"200"
    assert wait_code(d, 0)["user"] == "bob"
    assert origin.accepted == 1


MALFORMED = [
    (b"GARBAGE\r\n\r\n", 400, 512),
    (b"GET\r\n\r\n", 400, 512),
    (b"GET http://x/\r\n\r\n", 400, 512),
    (b"GET http://127.0.0.1/ HTTP/2.0\r\n\r\n", 400, 511),
    (b"GET http://127.0.0.1/ HTTP/1.1 junk\r\n\r\n", 400, 511),
    (b"G(T http://127.0.0.1/ HTTP/1.1\r\n\r\n", 400, 511),
    (b"GET https://127.0.0.1/ HTTP/1.1\r\n\r\n", 400, 513),
    (b"GET gopher://127.0.0.1/ HTTP/1.1\r\n\r\n", 400, 513),
    (b"GET http://bad%host/ HTTP/1.1\r\n\r\n", 400, 515),
    (b"GET http://127.0.0.1:99999/ HTTP/1.1\r\n\r\n", 400, 515),
    (b"GET /no/host HTTP/1.1\r\n\r\n", 400, 515),
    (b"GET /two HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, 515),
    (b"CONNECT bad/host:443 HTTP/1.1\r\n\r\n", 400, 514),
    (b"GET http://127.0.0.1/ HTTP/1.1\r\nNoColon\r\n\r\n", 400, 516),
]


@pytest.mark.parametrize("req,status,code", MALFORMED,
                         ids=[m[0][:24].decode("latin-1") for m in MALFORMED])
def test_malformed_requests(px, req, status, code):
    """F-HTTP-07: malformed request lines and heads -> 400 (511-516)."""
    d, port = px()
    got, hdrs, _, closed = raw_request(port, req)
    assert got == status and closed
    assert hdrs["content-type"].startswith("text/html")
    assert wait_code(d, code)


def test_error_after_keepalive_request_has_its_own_record(px, origin):
    """F-HTTP-05: a bad request after a good one on the same connection
    is logged with its own line, host and code."""
    d, port = px()
    with socket.create_connection((LOOP4, port), timeout=10) as s:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
                  % origin.url("/small").encode())
        assert read_response(s)[0] == 200
        s.sendall(b"GET http://127.0.0.1:%d/x HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n"
                  % origin.port)
        assert read_response(s)[0] == 400
    recs = wait_records(d, 2)
    assert recs[1]["code"] == 516
    assert recs[1]["text"] == ("GET http://127.0.0.1:%d/x HTTP/1.1"
                               % origin.port)
    assert recs[1]["remote"] == "0.0.0.0:0"


def test_overlong_request_line(px, origin):
    """F-HTTP-07: a request line past 8 KiB -> 400, not read further."""
    d, port = px()
    req = b"GET %s?%s HTTP/1.1\r\nHost: x\r\n\r\n" % (
        origin.url("/small").encode(), b"a" * 10000)
    status, _, _, closed = raw_request(port, req)
    assert status == 400 and closed
    assert wait_code(d, 516)
    assert origin.accepted == 0


def test_overlong_header_block(px, origin):
    """F-HTTP-07: a head past 64 KiB (or one field line past 8 KiB)
    -> 431."""
    d, port = px()
    many = b"".join(b"X-Filler-%d: %s\r\n" % (i, b"v" * 100)
                    for i in range(700))
    for extra in (many, b"X-Long: " + b"v" * 9000 + b"\r\n"):
        status, _, _, closed = raw_request(
            port, b"GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n"
            % (origin.url("/small").encode(), extra))
        assert status == 431 and closed
    assert origin.accepted == 0
    assert wait_code(d, 516)


# --------------------------------------------------------------------------
# request smuggling: refused with 400, never forwarded
# --------------------------------------------------------------------------

SMUGGLING = {
    "cl-and-te": b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"
                 b"\r\n0\r\n\r\n",
    "te-and-cl": b"Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"
                 b"\r\n0\r\n\r\n",
    "duplicate-cl-same": b"Content-Length: 5\r\nContent-Length: 5\r\n"
                         b"\r\nhello",
    "duplicate-cl-diff": b"Content-Length: 5\r\nContent-Length: 6\r\n"
                         b"\r\nhello!",
    "cl-list": b"Content-Length: 5, 5\r\n\r\nhello",
    "cl-plus": b"Content-Length: +5\r\n\r\nhello",
    "cl-negative": b"Content-Length: -1\r\n\r\n",
    "cl-hex": b"Content-Length: 0x5\r\n\r\nhello",
    "cl-empty": b"Content-Length: \r\n\r\n",
    "cl-huge": b"Content-Length: 99999999999999999999999\r\n\r\n",
    "te-identity": b"Transfer-Encoding: identity\r\n\r\n",
    "te-not-final": b"Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
    "te-twice": b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked"
                b"\r\n\r\n0\r\n\r\n",
    "te-xchunked": b"Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n",
    "te-space-name": b"Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
    "cl-space-name": b"Content-Length : 5\r\n\r\nhello",
    "te-obs-fold": b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n",
    "obs-fold": b"X-A: 1\r\n continued\r\n\r\n",
    "bare-cr-value": b"X-A: a\rb\r\n\r\n",
    "bare-cr-line": b"X-A: a\r\rContent-Length: 5\r\n\r\nhello",
    "nul-value": b"X-A: a\x00b\r\n\r\n",
    "nul-name": b"X-\x00A: b\r\n\r\n",
    "chunk-overflow": b"Transfer-Encoding: chunked\r\n\r\n"
                      b"FFFFFFFFFFFFFFFFF1\r\nhello\r\n0\r\n\r\n",
    "chunk-not-hex": b"Transfer-Encoding: chunked\r\n\r\nzz\r\nhi\r\n0\r\n\r\n",
    "chunk-negative": b"Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n"
                      b"0\r\n\r\n",
}


@pytest.mark.parametrize("name", sorted(SMUGGLING))
def test_smuggling_refused(px, origin, name):
    """Request smuggling vectors (RFC 9112 sections 5, 6, 7) get 400 and
    never reach the origin."""
    d, port = px()
    req = (b"POST %s HTTP/1.1\r\nHost: x\r\n"
           % origin.url("/echo").encode()) + SMUGGLING[name]
    status, _, _, closed = raw_request(port, req)
    assert status == 400 and closed
    rec = wait_records(d, 1)[0]
    assert rec["code"] in (516, 533, 534)
    assert rec["text"].startswith("POST %s" % origin.url("/echo"))
    time.sleep(0.2)
    assert origin.accepted == 0 and origin.requests == []


def test_te_chunked_any_case_and_http10(px, origin):
    """`Transfer-Encoding: ChUnKeD` is chunked; any TE in HTTP/1.0 is
    refused."""
    d, port = px()
    status, _, body, _ = raw_request(
        port, b"POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ChUnKeD"
        b"\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        % origin.url("/echo").encode())
    assert status == 200 and json.loads(body)["len"] == 3
    status, _, _, _ = raw_request(
        port, b"POST %s HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\n" % origin.url("/echo").encode())
    assert status == 400
    assert len(origin.requests) == 1


# --------------------------------------------------------------------------
# headers (F-HTTP-04, F-HTTP-08, F-HTTP-09, F-HTTP-11)
# --------------------------------------------------------------------------

def test_hop_by_hop_request_headers(px, origin):
    """Connection and what it names, Proxy-Connection, Keep-Alive, TE and
    Proxy-Authorization are not forwarded; Forwarded is added (default
    -a level, F-HTTP-08)."""
    d, port = px()
    c = proxy_conn(port)
    c.putrequest("GET", origin.url("/headers"), skip_host=True)
    for k, v in (("Host", "ignored.example"), ("Connection", "X-Drop"),
                 ("X-Drop", "1"), ("Keep-Alive", "300"),
                 ("Proxy-Connection", "keep-alive"), ("TE", "trailers"),
                 ("Proxy-Authorization", "Basic dTpw"),
                 ("X-Keep", "2")):
        c.putheader(k, v)
    c.endheaders()
    got = json.loads(c.getresponse().read())
    c.close()
    names = {k.lower(): v for k, v in got}
    for gone in ("x-drop", "keep-alive", "proxy-connection", "te",
                 "proxy-authorization"):
        assert gone not in names
    assert names["x-keep"] == "2"
    assert names["host"] == "127.0.0.1:%d" % origin.port
    assert re.match(r"for=127\.0\.0\.1:\d+;by=127\.0\.0\.1:%d$" % port,
                    names["forwarded"])


def test_hop_by_hop_response_headers(px, origin):
    """Connection, the fields it names, Keep-Alive and Proxy-* response
    fields are removed; the proxy adds its own Connection."""
    d, port = px()
    c = proxy_conn(port)
    c.request("GET", origin.url("/hop"))
    r = c.getresponse()
    assert r.read() == b"hop"
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    assert "x-secret" not in hdrs and "keep-alive" not in hdrs
    assert "proxy-agent" not in hdrs
    assert hdrs["x-kept"] == "yes"
    assert hdrs["connection"] == "keep-alive"


def test_www_authenticate_adds_proxy_support(px, origin):
    """F-HTTP-15: a 401 with WWW-Authenticate gets Proxy-support."""
    d, port = px()
    c = proxy_conn(port)
    c.request("GET", origin.url("/auth"))
    r = c.getresponse()
    r.read()
    assert r.status == 401
    assert r.getheader("Proxy-support") == "Session-Based-Authentication"
    c.close()


@pytest.mark.parametrize("opt", ["-a", "-a1", "-a2"])
def test_anonymity_levels(px, origin, opt):
    """F-HTTP-08: -a adds nothing; -a1 Via and a made-up X-Forwarded-For;
    -a2 Via and the client's address."""
    d, port = px(opt)
    r = curl(["-x", "127.0.0.1:%d" % port, origin.url("/headers")])
    names = {k.lower(): v for k, v in json.loads(r.stdout)}
    assert "forwarded" not in names
    if opt == "-a":
        assert "via" not in names and "x-forwarded-for" not in names
        return
    assert re.match(r"1\.1 \S+:%d \(3proxy tiny proxy server 3proxy-"
                    % port, names["via"])
    if opt == "-a2":
        assert names["x-forwarded-for"] == "127.0.0.1"
    else:
        assert re.match(r"^\d+\.\d+\.\d+\.\d+$", names["x-forwarded-for"])
        assert names["x-forwarded-for"] != "127.0.0.1"


def test_origin_form_uses_host(px, origin):
    """F-HTTP-04: an origin-form request goes to its Host; the record
    shows it in absolute form."""
    d, port = px()
    status, _, body, _ = raw_request(
        port, b"GET /small HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
        b"Connection: close\r\n\r\n" % origin.port)
    assert status == 200 and body == b"hello from origin\n"
    rec = wait_records(d, 1)[0]
    assert rec["text"] == "GET http://127.0.0.1:%d/small HTTP/1.1" % origin.port


def test_expect_100_continue(px, origin):
    """F-HTTP-09: the proxy answers Expect: 100-continue itself and does
    not forward the Expect field."""
    d, port = px()
    with socket.create_connection((LOOP4, port), timeout=10) as s:
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                  b"Expect: 100-continue\r\n\r\n"
                  % origin.url("/echo").encode())
        st, _, _, _ = read_response(s)
        assert st == 100
        s.sendall(b"data")
        st, _, body, _ = read_response(s)
    assert st == 200 and json.loads(body)["len"] == 4
    names = [k.lower() for k, _ in origin.last()["headers"]]
    assert "expect" not in names


def test_url_credentials(px, origin):
    """F-HTTP-11: user:pass in the URL becomes Authorization: Basic to
    the origin; the password is not logged."""
    d, port = px()
    status, _, body, _ = raw_request(
        port, b"GET http://us%%65r:p%%40ss@127.0.0.1:%d/headers HTTP/1.1\r\n"
        b"Host: x\r\nConnection: close\r\n\r\n" % origin.port)
    assert status == 200
    names = {k.lower(): v for k, v in json.loads(body)}
    assert names["authorization"] == "Basic " + base64.b64encode(
        b"user:p@ss").decode()
    rec = wait_records(d, 1)[0]
    assert "p%40ss" not in rec["text"]
    assert rec["text"].startswith("GET http://us%65r@127.0.0.1:")


# --------------------------------------------------------------------------
# protocol corners
# --------------------------------------------------------------------------

def test_early_response_during_upload(px, origin):
    """A server that answers (413) before taking the body: the client gets
    that answer, not a 502."""
    d, port = px()
    with socket.create_connection((LOOP4, port), timeout=20) as s:
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
                  b"\r\n" % (origin.url("/reject").encode(), 64 * MiB))
        status = None
        try:
            for _ in range(64 * 16):
                s.sendall(b"z" * 65536)
        except OSError:
            pass
        status, _, body, _ = read_response(s)
    assert status == 413 and body == b"too big\n"
    assert wait_records(d, 1)[0]["code"] == 0


def test_interim_103_reaches_http11_client(px, origin):
    """1xx other than 100 go to HTTP/1.1 clients before the final
    response."""
    d, port = px()
    with socket.create_connection((LOOP4, port), timeout=10) as s:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"
                  % origin.url("/103").encode())
        st1, h1, _, _ = read_response(s)
        st2, _, body, _ = read_response(s)
    assert st1 == 103 and h1["link"] == "</s.css>; rel=preload"
    assert st2 == 200 and body == b"after hints"


def test_upgrade_switches_to_a_tunnel(px, origin):
    """Connection: Upgrade with an Upgrade field is forwarded; a 101
    turns the connection into a two-way relay."""
    d, port = px()
    with socket.create_connection((LOOP4, port), timeout=10) as s:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
                  b"Upgrade: shout\r\n\r\n" % origin.url("/upgrade").encode())
        st, hdrs, _, _ = read_response(s)
        assert st == 101 and hdrs["upgrade"] == "shout"
        s.sendall(b"hello")
        got = b""
        while len(got) < 5:
            got += s.recv(100)
        assert got == b"HELLO"
    hdrs = {k.lower(): v for k, v in origin.last()["headers"]}
    assert hdrs["upgrade"] == "shout"
    assert hdrs["connection"].lower() == "upgrade"
    assert wait_records(d, 1)[0]["code"] == 0


def test_http10_keepalive(px, origin):
    """An HTTP/1.0 client asking for keep-alive keeps its connection."""
    d, port = px()
    with socket.create_connection((LOOP4, port), timeout=10) as s:
        for _ in range(2):
            s.sendall(b"GET %s HTTP/1.0\r\nProxy-Connection: keep-alive"
                      b"\r\n\r\n" % origin.url("/small").encode())
            st, hdrs, body, _ = read_response(s)
            assert st == 200 and body == b"hello from origin\n"
            assert hdrs["connection"] == "keep-alive"
        s.sendall(b"GET %s HTTP/1.0\r\n\r\n" % origin.url("/small").encode())
        st, hdrs, body, _ = read_response(s)
        assert hdrs["connection"] == "close"
        assert s.recv(10) == b""
    assert len(wait_records(d, 3)) == 3


def test_transparent_mode_passes_proxy_fields(px, origin):
    """F-HTTP-14: with -T Proxy-Authorization is passed on and no
    Connection field is added to responses."""
    d, port = px("-T")
    status, hdrs, body, _ = raw_request(
        port, b"GET /headers HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
        b"Proxy-Authorization: Basic dTpw\r\nConnection: close\r\n\r\n"
        % origin.port)
    assert status == 200
    names = {k.lower(): v for k, v in json.loads(body)}
    assert names["proxy-authorization"] == "Basic dTpw"
    assert "connection" not in hdrs or hdrs["connection"] != "keep-alive"


def test_trickled_head_is_cut_off(px, origin):
    """A client trickling its head gets at most STRING_LONG (here 1 s)
    in total, not one timeout per byte."""
    d, port = px(head="timeouts 1 5 30 1 180 1800 15 60 15 5 5\n")
    start = time.monotonic()
    with socket.create_connection((LOOP4, port), timeout=10) as s:
        try:
            for c in b"GET %s" % origin.url("/").encode()[:12]:
                s.sendall(bytes([c]))
                time.sleep(0.1)
        except OSError:
            pass
        s.settimeout(10)
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass
    assert time.monotonic() - start < 3
    assert origin.accepted == 0
    assert wait_code(d, 511)


# --------------------------------------------------------------------------
# FTP over HTTP (F-HTTP-12)
# --------------------------------------------------------------------------

@pytest.fixture
def ftp_root(tmp_path):
    root = tmp_path / "ftproot"
    (root / "pub").mkdir(parents=True)
    (root / "pub" / "hello.txt").write_bytes(b"hello over ftp\n")
    return root


def test_ftp_file_and_listing(px, ftp_root):
    """F-HTTP-12: GET ftp://host/file fetches it (anonymous); a directory
    gives an HTML listing."""
    port_ftp, stop = start_ftp(ftp_root)
    try:
        digest = write_random(ftp_root / "pub" / "big.bin", 3 * MiB, seed=5)
        d, port = px()
        r = curl(["-x", "127.0.0.1:%d" % port,
                  "ftp://127.0.0.1:%d/pub/hello.txt" % port_ftp])
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"hello over ftp\n"
        r = curl(["-x", "127.0.0.1:%d" % port,
                  "ftp://127.0.0.1:%d/pub/big.bin" % port_ftp])
        assert hashlib.sha256(r.stdout).hexdigest() == digest
        r = curl(["-x", "127.0.0.1:%d" % port,
                  "ftp://127.0.0.1:%d/pub/" % port_ftp])
        assert r.returncode == 0, r.stderr
        assert b"<html" in r.stdout and b"hello.txt" in r.stdout
        assert b'href="../"' in r.stdout
        recs = wait_records(d, 3)
        assert [x["code"] for x in recs] == [0, 0, 0]
    finally:
        stop()


def test_ftp_login_and_missing_file(px, ftp_root):
    """F-HTTP-12: user:pass@ logs in as that user (password not logged);
    a wrong password -> 401 (700/701); a missing file -> 404 (780)."""
    port_ftp, stop = start_ftp(ftp_root)
    try:
        d, port = px()
        r = curl(["-x", "127.0.0.1:%d" % port,
                  "ftp://alice:wonderland@127.0.0.1:%d/pub/hello.txt"
                  % port_ftp])
        assert r.stdout == b"hello over ftp\n"
        rec = wait_code(d, 0)
        assert "wonderland" not in rec["text"]
        status, hdrs, _, _ = raw_request(
            port, b"GET ftp://alice:wrong@127.0.0.1:%d/pub/hello.txt "
            b"HTTP/1.1\r\nHost: x\r\n\r\n" % port_ftp, timeout=20)
        assert status == 401
        assert hdrs["www-authenticate"] == 'Basic realm="FTP Server"'
        assert wait_code(d, 701)
        status, _, _, _ = raw_request(
            port, b"GET ftp://127.0.0.1:%d/pub/none.txt HTTP/1.1\r\n"
            b"Host: x\r\n\r\n" % port_ftp)
        assert status == 404
        assert wait_code(d, 780)
    finally:
        stop()


def test_ftp_put_upload(px, ftp_root, tmp_path):
    """F-HTTP-12: PUT ftp://user:pass@host/path stores the request body
    (STOR) and answers 201."""
    port_ftp, stop = start_ftp(ftp_root)
    try:
        d, port = px()
        src = tmp_path / "up.bin"
        digest = write_random(src, 1 * MiB + 3, seed=8)
        r = curl(["-x", "127.0.0.1:%d" % port, "-T", str(src),
                  "ftp://alice:wonderland@127.0.0.1:%d/pub/up.bin"
                  % port_ftp])
        assert r.returncode == 0, r.stderr
        wait_until(lambda: (ftp_root / "pub" / "up.bin").exists() and
                   file_sha256(ftp_root / "pub" / "up.bin") == digest,
                   what="the uploaded file at the FTP server")
        rec = wait_records(d, 1)[0]
        assert rec["code"] == 0 and rec["text"].startswith("PUT ftp://")
    finally:
        stop()
