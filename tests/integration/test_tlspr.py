"""tlspr (SNI proxy), auto (protocol detection) and the `parent ... tls
0.0.0.0 0` local redirection.

The origin is a Python TLS server with a certificate made by openssl for
this run; it records the SNI name it was asked for.  Clients are Python's
ssl module, `openssl s_client` and curl.  Each case checks what the client
gets, what the origin saw and the access record with its %E code.

Features: F-TLSPR-01 F-TLSPR-02 F-TLSPR-03 F-TLSPR-04 F-TLSPR-05
F-TLSPR-06 F-SVC-01.
"""

import shutil
import socket
import ssl
import subprocess
import time

import pytest

from conftest import (LOOP4, connect, free_port, recv_all, recv_exact,
                      split_records, wait_split_record)
from http_util import Origin, TlsOrigin, make_cert
from socks_util import socks5_open

LOGFMT = 'logformat "L%N|%E|%C|%R|%r|%T"'
FIELDS = ("svc", "err", "cip", "rip", "rport", "text")


def records(path):
    return split_records(path, FIELDS)


def wait_rec(path, pred, timeout=10.0):
    return wait_split_record(path, FIELDS, pred, timeout)


def head(log, body):
    return "log %s\n%s\ninternal 127.0.0.1\n%s" % (log, LOGFMT, body)


@pytest.fixture
def cert(tmp_path):
    return make_cert(tmp_path)


@pytest.fixture
def tls_origin(cert):
    """TLS origin answering one HTTP response; .sni lists the names."""
    o = TlsOrigin(*cert)
    o.sni = []
    o.ctx.sni_callback = lambda s, name, c: o.sni.append(name)
    yield o
    o.close()


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


def client_ctx(cert):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(cert[0]))
    return ctx


def tls_get(sock, cert, name="localhost"):
    """TLS handshake on sock with SNI `name`, one request, the reply."""
    ctx = client_ctx(cert)
    if name != "localhost":
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    with ctx.wrap_socket(sock, server_hostname=name) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        return recv_all(s, timeout=10)


def closed_without_reply(sock, timeout=10.0):
    sock.settimeout(timeout)
    try:
        return sock.recv(100) == b""
    except ConnectionResetError:
        return True


def client_hello_bytes(name="localhost"):
    """The ClientHello Python's ssl would send, taken from a memory BIO."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname=name)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return out.read()


# --------------------------------------------------------------------------
# tlspr
# --------------------------------------------------------------------------

def test_sni_routes_to_origin(proxy, tmp_path, cert, tls_origin):
    """F-TLSPR-01, F-TLSPR-06: the SNI name picks the destination (-P
    port); TLS runs end to end; %T has version, name and ALPN."""
    port = free_port()
    log = tmp_path / "t.log"
    proxy(head(log, "auth iponly\nallow *\ntlspr -p%d -P%d\n"
               % (port, tls_origin.port)), wait_ports=[port])
    reply = tls_get(connect(port), cert)
    assert reply.endswith(b"secret over tls\n")
    assert tls_origin.sni == ["localhost"]
    r = wait_rec(log, lambda r: r["svc"] == "TLSPR" and "localhost" in
                 r["text"])
    assert r["err"] == "00000" and r["rport"] == str(tls_origin.port)
    assert r["text"] == "TLSv1.3 localhost -"

    if shutil.which("openssl"):
        p = subprocess.run(
            ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port,
             "-servername", "localhost", "-alpn", "h2,http/1.1",
             "-CAfile", str(cert[0]), "-verify_return_error",
             "-ign_eof"],
            input=b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", capture_output=True,
            timeout=30)
        assert b"secret over tls" in p.stdout
        wait_rec(log, lambda r: r["text"] == "TLSv1.3 localhost h2")


def test_acl_on_sni_name(proxy, tmp_path, cert, tls_origin):
    """F-TLSPR-01, acl-auth.md 8: ACLs see the SNI name; a denied name
    closes the connection (code 1) and the origin is never contacted."""
    port = free_port()
    log = tmp_path / "a.log"
    proxy(head(log, "auth iponly\ndeny * * denied.test\nallow *\n"
               "tlspr -p%d -P%d -c1\n" % (port, tls_origin.port)),
          wait_ports=[port])
    with pytest.raises((ssl.SSLError, OSError)):
        tls_get(connect(port), cert, name="denied.test")
    r = wait_rec(log, lambda r: "denied.test" in r["text"])
    assert r["err"] == "00001"
    assert tls_origin.sni == []
    assert tls_get(connect(port), cert).endswith(b"secret over tls\n")
    wait_rec(log, lambda r: r["err"] == "00000")


def test_no_sni(proxy, tmp_path, cert, tls_origin):
    """services.md 9.1 step 4: without SNI and without -h there is no
    destination (100, closed); -hHOST:PORT supplies one."""
    port, port2 = free_port(), free_port()
    log = tmp_path / "n.log"
    proxy(head(log, "auth iponly\nallow *\ntlspr -p%d -c1\n"
               "tlspr -p%d -c1 -h127.0.0.1:%d\n"
               % (port, port2, tls_origin.port)),
          wait_ports=[port, port2])
    ctx = client_ctx(cert)
    ctx.check_hostname = False
    with pytest.raises((ssl.SSLError, OSError)):
        with ctx.wrap_socket(connect(port)) as s:
            s.recv(10)
    r = wait_rec(log, lambda r: r["err"] == "00100")
    assert r["text"] == "TLSv1.3 - -"
    with ctx.wrap_socket(connect(port2)) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert recv_all(s).endswith(b"secret over tls\n")
    r = wait_rec(log, lambda r: r["err"] == "00000" and
                 r["text"].startswith("TLS"))
    assert r["rport"] == str(tls_origin.port)


def test_not_tls(proxy, tmp_path, echo_server):
    """F-TLSPR-02: with -c1 data that is not TLS is refused (301, closed,
    nothing sent); with -c0 it goes as it is to a known destination."""
    port, port0 = free_port(), free_port()
    log = tmp_path / "g.log"
    proxy(head(log, "auth iponly\nallow *\ntlspr -p%d -c1 -h127.0.0.1:%d\n"
               "tlspr -p%d -h127.0.0.1:%d\n"
               % (port, echo_server.port, port0, echo_server.port)),
          wait_ports=[port, port0])
    with connect(port) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert closed_without_reply(s)
    r = wait_rec(log, lambda r: r["err"] == "00301")
    assert r["text"] == "NONEv0.0 - -"
    assert echo_server.accepted == 0
    # a record header announcing a ClientHello, then nonsense
    with connect(port) as s:
        s.sendall(b"\x16\x03\x01\x00\x08\x01\x00\x00\x04\x03\x03xx")
        assert closed_without_reply(s)
    wait_rec(log, lambda r: r["err"] == "00313")
    with connect(port0) as s:
        s.sendall(b"plain text\n")
        assert recv_exact(s, 11) == b"plain text\n"
    wait_rec(log, lambda r: r["err"] == "00000" and
             r["text"] == "NONEv0.0 - -")


def test_hello_in_pieces(proxy, tmp_path, echo_server):
    """A ClientHello arriving in several TCP writes is put together; the
    origin (an echo server here) gets exactly the bytes sent."""
    port = free_port()
    log = tmp_path / "p.log"
    proxy(head(log, "auth iponly\nallow *\ntlspr -p%d -c1 -P%d\n"
               % (port, echo_server.port)), wait_ports=[port])
    hello = client_hello_bytes("localhost")
    assert len(hello) > 100
    cuts = [0, 3, 40, len(hello)]
    with connect(port) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for a, b in zip(cuts, cuts[1:]):
            s.sendall(hello[a:b])
            time.sleep(0.3)
        assert recv_exact(s, len(hello)) == hello
    r = wait_rec(log, lambda r: "localhost" in r["text"])
    assert r["rport"] == str(echo_server.port)


def test_sni_split(proxy, tmp_path, cert, tls_origin, echo_server):
    """F-TLSPR-03: with -s the hello goes in two writes; the handshake
    still completes and the bytes arrive unchanged."""
    port, port2 = free_port(), free_port()
    log = tmp_path / "s.log"
    proxy(head(log, "auth iponly\nallow *\n"
               "tlspr -p%d -P%d -s -osTCP_NODELAY\n"
               "tlspr -p%d -P%d -s -osTCP_NODELAY\n"
               % (port, tls_origin.port, port2, echo_server.port)),
          wait_ports=[port, port2])
    assert tls_get(connect(port), cert).endswith(b"secret over tls\n")
    assert tls_origin.sni == ["localhost"]
    hello = client_hello_bytes("localhost")
    with connect(port2) as s:
        s.sendall(hello)
        assert recv_exact(s, len(hello)) == hello
    wait_rec(log, lambda r: r["rport"] == str(echo_server.port))


def test_check_level_2(proxy, tmp_path, cert, tls_origin, echo_server):
    """F-TLSPR-02: -c2 wants a ServerHello as the server's first record:
    a TLS origin passes, a plain echo server (which answers with the
    ClientHello) is refused with 351."""
    port, port2 = free_port(), free_port()
    log = tmp_path / "c.log"
    proxy(head(log, "auth iponly\nallow *\ntlspr -p%d -P%d -c2\n"
               "tlspr -p%d -P%d -c2\n"
               % (port, tls_origin.port, port2, echo_server.port)),
          wait_ports=[port, port2])
    assert tls_get(connect(port), cert).endswith(b"secret over tls\n")
    with connect(port2) as s:
        s.sendall(client_hello_bytes("localhost"))
        assert closed_without_reply(s)
    wait_rec(log, lambda r: r["err"] == "00351")


# -c3/-c4: certificates in the plaintext TLS 1.2 handshake (9.2)

def tls12_origin(cert, client_auth=False):
    """A TLS origin capped at TLS 1.2; with client_auth it sends a
    CertificateRequest and accepts (and verifies) a client certificate."""
    o = TlsOrigin(*cert)
    o.ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if client_auth:
        o.ctx.verify_mode = ssl.CERT_OPTIONAL
        o.ctx.load_verify_locations(str(cert[0]))
    return o


def test_check_level_3(proxy, tmp_path, cert, tls_origin):
    """F-TLSPR-02, services.md 9.1 step 8: -c3 passes a TLS 1.2 server
    that sends its certificate; TLS 1.3 is refused with 370 (its
    certificate is encrypted)."""
    o12 = tls12_origin(cert)
    try:
        port, port13 = free_port(), free_port()
        log = tmp_path / "c3.log"
        proxy(head(log, "auth iponly\nallow *\ntlspr -p%d -P%d -c3\n"
                   "tlspr -p%d -P%d -c3\n"
                   % (port, o12.port, port13, tls_origin.port)),
              wait_ports=[port, port13])
        assert tls_get(connect(port), cert).endswith(b"secret over tls\n")
        r = wait_rec(log, lambda r: r["text"].startswith("TLS"))
        assert r["err"] == "00000" and r["rport"] == str(o12.port)
        with pytest.raises((ssl.SSLError, OSError)):
            tls_get(connect(port13), cert)
        wait_rec(log, lambda r: r["err"] == "00370")
    finally:
        o12.close()


def test_check_level_3_no_certificate(proxy, tmp_path, tcp_server):
    """F-TLSPR-02: a server flight without Certificate (ServerHello,
    ServerHelloDone) ends the session with 373; nothing of it reaches
    the client."""
    body = b"\x03\x03" + b"\x11" * 32 + b"\x00" + b"\xc0\x2f" + b"\x00"
    hello = b"\x02\x00\x00" + bytes([len(body)]) + body
    flight = hello + b"\x0e\x00\x00\x00"
    record = b"\x16\x03\x03\x00" + bytes([len(flight)]) + flight

    def handler(conn, server):
        conn.settimeout(10)
        try:
            conn.recv(65536)
            conn.sendall(record)
            conn.recv(100)
        except OSError:
            pass

    srv = tcp_server(handler)
    port, log = free_port(), tmp_path / "c3n.log"
    proxy(head(log, "auth iponly\nallow *\ntlspr -p%d -P%d -c3\n"
               % (port, srv.port)), wait_ports=[port])
    with connect(port) as s:
        s.sendall(client_hello_bytes("localhost"))
        assert closed_without_reply(s)
    wait_rec(log, lambda r: r["err"] == "00373")


def test_check_level_4(proxy, tmp_path, cert):
    """F-TLSPR-02: -c4 needs the server's CertificateRequest (else 374)
    and a client certificate (else 375); with both the session runs."""
    o_req, o_plain = tls12_origin(cert, True), tls12_origin(cert)
    try:
        port, port2 = free_port(), free_port()
        log = tmp_path / "c4.log"
        proxy(head(log, "auth iponly\nallow *\ntlspr -p%d -P%d -c4\n"
                   "tlspr -p%d -P%d -c4\n"
                   % (port, o_req.port, port2, o_plain.port)),
              wait_ports=[port, port2])
        ctx = client_ctx(cert)
        ctx.load_cert_chain(str(cert[0]), str(cert[1]))
        with ctx.wrap_socket(connect(port), server_hostname="localhost") as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            assert recv_all(s).endswith(b"secret over tls\n")
        wait_rec(log, lambda r: r["err"] == "00000" and
                 r["text"].startswith("TLSv1.3 localhost"))
        with pytest.raises((ssl.SSLError, OSError)):
            tls_get(connect(port), cert)
        wait_rec(log, lambda r: r["err"] == "00375")
        with pytest.raises((ssl.SSLError, OSError)):
            with ctx.wrap_socket(connect(port2),
                                 server_hostname="localhost") as s:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                assert recv_all(s) == b""
        wait_rec(log, lambda r: r["err"] == "00374")
    finally:
        o_req.close()
        o_plain.close()


def test_bad_options_refused(run3proxy, tmp_path):
    """F-TLSPR-04, F-TLSPR-02: an unknown -X mode and a check level
    outside 0..4 are refused; the line is named and start-up stops."""
    for opt in ("-Xftp", "-c5"):
        cfg = tmp_path / "x.cfg"
        cfg.write_text("internal 127.0.0.1\n\ntlspr -p%d %s\n"
                       % (free_port(), opt))
        res = run3proxy(["--check", cfg])
        assert res.rc == 1
        assert "x.cfg:3:" in res.err and opt in res.err


# --------------------------------------------------------------------------
# local redirection into tlspr (parent.md 6)
# --------------------------------------------------------------------------

def test_socks_and_proxy_redirected_to_tls(proxy, tmp_path, cert,
                                           tls_origin):
    """F-TLSPR-05: SOCKS and HTTP CONNECT requests go to the local tlspr
    parser; the second ACL pass sees the SNI name, the connection goes to
    the requested address, the record keeps the client's service."""
    sport, hport = free_port(), free_port()
    log = tmp_path / "r.log"
    proxy(head(log, "auth iponly\n"
               "allow * * * %d CONNECT,HTTP_CONNECT\n"
               "parent 1000 tls 0.0.0.0 0\n"
               "deny * * denied.test\nallow * * localhost\n"
               "socks -p%d\nproxy -p%d\n"
               % (tls_origin.port, sport, hport)),
          wait_ports=[sport, hport])
    s, rep = socks5_open(sport, LOOP4, tls_origin.port)
    assert rep.code == 0
    assert tls_get(s, cert).endswith(b"secret over tls\n")
    r = wait_rec(log, lambda r: r["svc"] == "SOCK5" and
                 "localhost" in r["text"])
    assert r["err"] == "00000" and r["rport"] == str(tls_origin.port)

    s, rep = socks5_open(sport, LOOP4, tls_origin.port)
    assert rep.code == 0
    with pytest.raises((ssl.SSLError, OSError)):
        tls_get(s, cert, name="denied.test")
    wait_rec(log, lambda r: r["svc"] == "SOCK5" and r["err"] == "00001")

    with connect(hport) as c:
        c.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n"
                  % tls_origin.port)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = c.recv(1000)
            assert chunk
            buf += chunk
        assert buf.startswith(b"HTTP/1.") and b" 200 " in buf
        assert tls_get(c.dup(), cert).endswith(b"secret over tls\n")
    r = wait_rec(log, lambda r: r["svc"] == "PROXY" and
                 "localhost" in r["text"])
    assert r["err"] == "00000"
    assert tls_origin.sni == ["localhost", "localhost"]


# --------------------------------------------------------------------------
# auto (services.md 13)
# --------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_auto_one_port(proxy, tmp_path, cert, tls_origin, origin):
    """F-SVC-01: HTTP proxy, SOCKS5 and TLS clients on one port, each
    logged under the service detected; no data at all gives 801."""
    port = free_port()
    log = tmp_path / "auto.log"
    proxy(head(log, "auth iponly\nallow *\nauto -p%d -P%d\n"
               % (port, tls_origin.port)), wait_ports=[port])
    url = "http://127.0.0.1:%d/small" % origin.port
    for how in (["-x", "http://127.0.0.1:%d" % port],
                ["--socks5", "127.0.0.1:%d" % port]):
        p = subprocess.run(["curl", "-sS", "--max-time", "20"] + how + [url],
                           capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr
        assert p.stdout == b"hello from origin\n"
    assert tls_get(connect(port), cert).endswith(b"secret over tls\n")
    wait_rec(log, lambda r: r["svc"] == "PROXY" and r["text"].startswith(
        "GET http://127.0.0.1"))
    wait_rec(log, lambda r: r["svc"] == "SOCK5" and r["err"] == "00000")
    wait_rec(log, lambda r: r["svc"] == "TLSPR" and
             r["text"] == "TLSv1.3 localhost -")
    with connect(port) as s:
        assert closed_without_reply(s, timeout=15)
    r = wait_rec(log, lambda r: r["err"] == "00801")
    assert r["svc"] == "AUTO" and r["text"] == ""
