"""socks: SOCKS 4, 4a and 5 with CONNECT, BIND and UDP ASSOCIATE.

Real clients (curl, proxychains4) and a byte-level Python client drive the
daemon; local origins (HTTP, TCP echo, UDP echo) run in threads.  Each
test checks what the client gets, what the origin sees and the access
record (%N, %E, %U, %T ...).
"""

import functools
import http.server
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import (LOOP4, LOOP6, PX_BIN, MiB, UdpEchoServer, connect,
                      daemon_env, data_chunks, free_port, ipv6_usable,
                      recv_exact, recv_stream, send_stream)
from socks_util import (CMD_BIND, CMD_CONNECT, CMD_UDP, client_record,
                        closed_soon, log_records, proxychains_conf,
                        read_socks4_reply, read_socks5_reply,
                        socks4_request_bytes,
                        socks5_greet, socks5_open, socks5_request, socks_cfg,
                        udp_recv, udp_unwrap, udp_wrap, wait_record)

BODY = b"socks origin body\n" * 64


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Http6Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _start_http(root, host):
    cls = _Http6Server if ":" in host else http.server.ThreadingHTTPServer
    handler = functools.partial(_QuietHandler, directory=str(root))
    srv = cls((host, 0), handler)
    t = threading.Thread(target=srv.serve_forever,
                         kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    return srv, t


@pytest.fixture
def http_origin(tmp_path):
    """Factory: an HTTP server on host serving /body.bin (BODY)."""
    root = tmp_path / "www"
    root.mkdir(exist_ok=True)
    (root / "body.bin").write_bytes(BODY)
    started = []

    def make(host=LOOP4):
        srv, t = _start_http(root, host)
        started.append((srv, t))
        return srv.server_address[1]
    yield make
    for srv, t in started:
        srv.shutdown()
        srv.server_close()
        t.join(5)


@pytest.fixture
def socks(proxy, tmp_path):
    """Factory: start a socks service; returns (port, log path, daemon)."""
    def start(opts="", head=""):
        port = free_port()
        log = tmp_path / ("socks%d.log" % port)
        d = proxy(socks_cfg(port, opts, head, log))
        d.wait_listening(port)
        return port, log, d
    return start


def curl(*args, timeout=20):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    return subprocess.run(["curl", "-sS", "--max-time", "15"] + list(args),
                          capture_output=True, timeout=timeout)


def last_record(log, pred, timeout=10.0):
    return wait_record(log, pred, timeout)


# --------------------------------------------------------------------------
# real clients: curl
# --------------------------------------------------------------------------

@pytest.mark.parametrize("mode,host,service", [
    ("socks4", LOOP4, "SOCK4"),
    ("socks4a", "localhost", "SOC45"),
    ("socks5", LOOP4, "SOCK5"),
    ("socks5-hostname", "localhost", "SOCK5"),
])
def test_curl_connect(socks, http_origin, mode, host, service):
    """F-SOCKS-01, F-SOCKS-03: curl fetches through each SOCKS version;
    the record names the version (%N) and the request (%T, %n)."""
    origin = http_origin()
    port, log, _ = socks()
    url = "http://%s:%d/body.bin" % (host, origin)
    r = curl("--%s" % mode, "127.0.0.1:%d" % port, url)
    assert r.returncode == 0, r.stderr
    assert r.stdout == BODY
    rec = last_record(log, lambda x: x["text"].startswith("CONNECT"))
    assert rec["service"] == service
    assert rec["err"] == "00000"
    assert rec["user"] == "-"
    assert rec["text"] == "CONNECT %s:%d" % (host, origin)
    assert (rec["rip"], rec["rport"]) == ("127.0.0.1", str(origin))
    assert (rec["qip"], rec["qport"]) == ("127.0.0.1", str(origin))
    assert rec["host"] == (host if host == "localhost" else "[127.0.0.1]")
    assert int(rec["in"]) > len(BODY)
    assert int(rec["out"]) > 0


@pytest.mark.parametrize("mode,logged_user", [
    ("socks5", "-"), ("socks5-hostname", "-"), ("socks4", "alice"),
    ("socks4a", "alice")])
def test_curl_proxy_user_with_default_auth(socks, http_origin, mode,
                                           logged_user):
    """F-SOCKS-02, F-SOCKS-08: credentials are accepted by the default
    (no -u): SOCKS5 selects method 00 when offered; the SOCKS4 user id is
    the user name (%U)."""
    origin = http_origin()
    port, log, _ = socks()
    r = curl("--%s" % mode, "127.0.0.1:%d" % port, "--proxy-user",
             "alice:secret", "http://127.0.0.1:%d/body.bin" % origin)
    assert r.returncode == 0, r.stderr
    assert r.stdout == BODY
    rec = last_record(log, lambda x: x["text"].startswith("CONNECT"))
    assert rec["err"] == "00000"
    assert rec["user"] == logged_user


def test_curl_u2_uses_userpass_and_logs_user(socks, http_origin):
    """F-SOCKS-02, F-SOCKS-08: with -u2 the method is 02 (RFC 1929) and
    the user name is logged; a client without credentials is refused."""
    origin = http_origin()
    port, log, _ = socks("-u2")
    r = curl("--socks5", "127.0.0.1:%d" % port, "--proxy-user", "bob:pw",
             "http://127.0.0.1:%d/body.bin" % origin)
    assert r.returncode == 0, r.stderr
    assert r.stdout == BODY
    rec = last_record(log, lambda x: x["text"].startswith("CONNECT"))
    assert rec["user"] == "bob"
    assert rec["err"] == "00000"
    r = curl("--socks5", "127.0.0.1:%d" % port,
             "http://127.0.0.1:%d/body.bin" % origin)
    assert r.returncode != 0
    assert r.stdout == b""


def test_ipv6_targets(socks, http_origin):
    """F-SOCKS-03: IPv6 targets (ATYP 4) work with the default family."""
    if not ipv6_usable():
        pytest.skip("::1 is not usable here")
    origin = http_origin(LOOP6)
    port, log, _ = socks()
    for mode in ("socks5", "socks5-hostname"):
        r = curl("--%s" % mode, "127.0.0.1:%d" % port,
                 "http://[::1]:%d/body.bin" % origin)
        assert r.returncode == 0, (mode, r.stderr)
        assert r.stdout == BODY
    rec = last_record(log, lambda x: x["text"] == "CONNECT ::1:%d" % origin)
    assert rec["rip"] == "::1"
    assert rec["host"] == "[::1]"


def test_ipv6_listener_socks4_reply(proxy, tmp_path, http_origin):
    """F-SOCKS-01: on an IPv6 listener a SOCKS4 CONNECT still succeeds;
    the reply's address, which SOCKS4 cannot carry, is zero."""
    if not ipv6_usable():
        pytest.skip("::1 is not usable here")
    origin = http_origin()
    port = free_port(LOOP6)
    log = tmp_path / "v6.log"
    d = proxy(socks_cfg(port, "-i::1", log=log))
    d.wait_listening(port, host=LOOP6)
    with connect(port, LOOP6) as s:
        s.sendall(socks4_request_bytes(CMD_CONNECT, "127.0.0.1", origin))
        code, ip, rport, raw = read_socks4_reply(s)
        assert code == 0x5A
        assert raw[2:] == b"\0" * 6
        s.sendall(b"GET /body.bin HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        assert data.endswith(BODY)


# --------------------------------------------------------------------------
# real clients: proxychains4
# --------------------------------------------------------------------------

FETCH = ("import sys, urllib.request;"
         "sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1],"
         " timeout=15).read())")


@pytest.mark.parametrize("kind,service", [("socks5", "SOCK5"),
                                          ("socks4", "SOCK4")])
def test_proxychains_python(socks, http_origin, tmp_path, kind, service):
    """F-SOCKS-01: an unmodified program (python3 urllib) runs through
    proxychains4 and the proxy."""
    if shutil.which("proxychains4") is None:
        pytest.skip("proxychains4 is not installed")
    origin = http_origin()
    port, log, _ = socks()
    conf = proxychains_conf(tmp_path / ("pc-%s.conf" % kind), kind, port,
                            proxy_dns=False)
    url = "http://127.0.0.1:%d/body.bin" % origin
    r = subprocess.run(["proxychains4", "-q", "-f", str(conf),
                        "/usr/bin/python3", "-c", FETCH, url],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == BODY
    rec = last_record(log, lambda x: x["text"] == "CONNECT 127.0.0.1:%d"
                      % origin)
    assert rec["service"] == service
    assert rec["err"] == "00000"


@pytest.mark.parametrize("kind,service", [("socks5", "SOCK5"),
                                          ("socks4", "SOC45")])
def test_proxychains_proxy_dns(socks, tmp_path, kind, service):
    """F-SOCKS-03: with proxy_dns, proxychains4 hands the name to the
    proxy (SOCKS5 ATYP 3 / SOCKS4a); a name that does not resolve fails
    there with 100.  (Names from /etc/hosts are resolved by proxychains4
    itself, so only an unresolvable one shows the hand-over.)"""
    if shutil.which("proxychains4") is None:
        pytest.skip("proxychains4 is not installed")
    port, log, _ = socks()
    conf = proxychains_conf(tmp_path / ("pcd-%s.conf" % kind), kind, port)
    r = subprocess.run(["proxychains4", "-q", "-f", str(conf),
                        "/usr/bin/python3", "-c", FETCH,
                        "http://no-such-host.invalid:8080/"],
                       capture_output=True, timeout=60)
    assert r.returncode != 0
    rec = last_record(log, lambda x: x["service"] == service)
    assert rec["err"] == "00100"
    assert rec["text"] == "CONNECT 0.0.0.0:0"


def test_proxychains_curl(socks, http_origin, tmp_path):
    """F-SOCKS-01: curl without proxy options, wrapped by proxychains4."""
    if shutil.which("proxychains4") is None:
        pytest.skip("proxychains4 is not installed")
    origin = http_origin()
    port, log, _ = socks()
    conf = proxychains_conf(tmp_path / "pc.conf", "socks5", port)
    r = subprocess.run(["proxychains4", "-q", "-f", str(conf), "curl", "-sS",
                        "--max-time", "15",
                        "http://127.0.0.1:%d/body.bin" % origin],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == BODY


# --------------------------------------------------------------------------
# SOCKS5 negotiation
# --------------------------------------------------------------------------

@pytest.mark.parametrize("opts,offered,selected", [
    ("", (0, 2), 0),
    ("", (2,), 2),
    ("", (1,), 0xFF),
    ("", (), 0xFF),
    ("-u", (0, 2), 0),
    ("-u", (2,), 0xFF),
    ("-u2", (0, 2), 2),
    ("-u2", (0,), 0xFF),
])
def test_method_selection(socks, opts, offered, selected):
    """F-SOCKS-08: method selection under the default, -u and -u2."""
    port, log, _ = socks(opts)
    with connect(port) as s:
        cport = s.getsockname()[1]
        s.sendall(bytes([5, len(offered)]) + bytes(offered))
        assert recv_exact(s, 2) == bytes([5, selected])
        if selected == 0xFF:
            assert closed_soon(s)
    if selected == 0xFF:
        rec = client_record(log, cport)
        assert rec["err"] == ("00004" if opts == "-u2" else "00997")


def test_userpass_subnegotiation(socks, tcp_server):
    """F-SOCKS-02: RFC 1929 - the answer is 01 00 and the user is
    logged; a bad sub-negotiation version ends with 412."""
    srv = tcp_server(lambda c, s: c.sendall(b"hi"))
    port, log, _ = socks()
    with connect(port) as s:
        cport = s.getsockname()[1]
        assert socks5_greet(s, (2,), "carol", "pw") == 2
        rep = socks5_request(s, CMD_CONNECT, "127.0.0.1", srv.port)
        assert rep.code == 0
        assert recv_exact(s, 2) == b"hi"
    rec = client_record(log, cport)
    assert rec["user"] == "carol"
    with connect(port) as s:
        cport = s.getsockname()[1]
        s.sendall(b"\x05\x01\x02")
        assert recv_exact(s, 2) == b"\x05\x02"
        s.sendall(b"\x05\x01a\x01b")
        assert recv_exact(s, 2) == b"\x01\x01"
        assert closed_soon(s)
    assert client_record(log, cport)["err"] == "00412"


PIPELINED_DATA = b"hello" * 1000   # more than one read of the handshake


def pipelined_messages(kind, port):
    """(bytes sent in one write, replies expected before the data)."""
    dst = b"\x7f\x00\x00\x01" + struct.pack(">H", port)
    req5 = b"\x05\x01\x00\x01" + dst
    ok5 = [b"\x05\x00", None]            # None: a SOCKS5 reply
    if kind == "socks5":
        return b"\x05\x01\x00" + req5, ok5
    if kind == "socks5-userpass":
        return (b"\x05\x01\x02" + b"\x01\x05carol\x02pw" + req5,
                [b"\x05\x02", b"\x01\x00", None])
    if kind == "socks4":
        return (b"\x04\x01" + struct.pack(">H", port) + b"\x7f\x00\x00\x01"
                + b"dave\x00", [8])
    return (b"\x04\x01" + struct.pack(">H", port) + b"\x00\x00\x00\x01"
            + b"dave\x00127.0.0.1\x00", [8])


@pytest.mark.parametrize("kind", ["socks5", "socks5-userpass", "socks4",
                                  "socks4a"])
def test_pipelined_handshake(socks, tcp_server, kind):
    """F-SOCKS-01/02/05: every message and the first data in one write:
    each message is answered in turn, and the data the handler read
    along with the request reaches the origin first, in order."""
    got = []

    def handler(conn, server):
        got.append(recv_exact(conn, len(PIPELINED_DATA)))
        conn.sendall(b"world")
    srv = tcp_server(handler)
    port, log, _ = socks()
    head, replies = pipelined_messages(kind, srv.port)
    with connect(port) as s:
        cport = s.getsockname()[1]
        s.sendall(head + PIPELINED_DATA)
        for r in replies:
            if r is None:
                assert read_socks5_reply(s).code == 0
            elif isinstance(r, int):
                assert recv_exact(s, r)[1] == 0x5a
            else:
                assert recv_exact(s, len(r)) == r
        assert recv_exact(s, 5) == b"world"
    assert got == [PIPELINED_DATA]
    rec = client_record(log, cport)
    assert rec["err"] == "00000"
    assert rec["out"] == str(len(PIPELINED_DATA))
    if kind == "socks5-userpass":
        assert rec["user"] == "carol"


# --------------------------------------------------------------------------
# replies: codes and addresses
# --------------------------------------------------------------------------

def test_connect_reply_bnd_is_local_address(socks, tcp_server):
    """F-SOCKS-07: without -Ne the CONNECT reply carries the address and
    port the client connected to (as 3proxy)."""
    srv = tcp_server(lambda c, s: c.recv(1))
    port, _, _ = socks()
    s, rep = socks5_open(port, "127.0.0.1", srv.port)
    with s:
        assert rep.code == 0
        assert (rep.host, rep.port) == ("127.0.0.1", port)


def test_connect_reply_bnd_with_ne(socks, tcp_server):
    """F-SOCKS-07: -Ne puts its address in the reply, with the port of
    the outgoing connection."""
    peers = []

    def handler(conn, server):
        peers.append(conn.getpeername())
        conn.recv(1)
    srv = tcp_server(handler)
    port, _, _ = socks("-Ne192.0.2.7")
    s, rep = socks5_open(port, "127.0.0.1", srv.port)
    with s:
        assert rep.code == 0
        assert srv.wait_accepted(1)
        assert rep.host == "192.0.2.7"
        assert rep.port == srv.peers[0][1]


@pytest.mark.parametrize("target,code,err", [
    ("closed", 0x05, "00013"),
    ("nonexistent.invalid", 0x04, "00100"),
    ("0.0.0.0", 0x01, "00431"),
    ("port0", 0x01, "00461"),
])
def test_connect_failure_replies(socks, closed_port, target, code, err):
    """F-SOCKS-09: each failure has its RFC 1928 code, the BND fields of
    the failure reply are zero, and the record has the %E code."""
    port, log, _ = socks()
    host, tport = {"closed": ("127.0.0.1", closed_port),
                   "port0": ("127.0.0.1", 0)}.get(target, (target, 80))
    s, rep = socks5_open(port, host, tport)
    with s:
        cport = s.getsockname()[1]
        assert rep.code == code, rep
        assert rep.raw[2:] == b"\x00\x01" + b"\0" * 6
        assert closed_soon(s)
    rec = client_record(log, cport)
    assert rec["err"] == err
    if target == "nonexistent.invalid":
        # F-SOCKS-03: as 3proxy, an unresolved name is not recorded.
        assert rec["text"] == "CONNECT 0.0.0.0:0"
    elif target == "closed":
        assert rec["text"] == "CONNECT 127.0.0.1:%d" % closed_port
        # %R shows the requested address when no connection was made.
        assert (rec["rip"], rec["rport"]) == ("127.0.0.1", str(closed_port))


def test_bad_command_and_address_type(socks):
    """F-SOCKS-09: command 09 -> 07 (407); ATYP 05 -> 08 (997); replies
    zeroed."""
    port, log, _ = socks()
    with connect(port) as s:
        cport = s.getsockname()[1]
        socks5_greet(s)
        s.sendall(b"\x05\x09\x00\x01\x7f\x00\x00\x01\x00\x50")
        rep = read_socks5_reply(s)
        assert rep.raw == b"\x05\x07\x00\x01" + b"\0" * 6
        assert closed_soon(s)
    rec = client_record(log, cport)
    assert rec["err"] == "00407"
    assert rec["text"] == "UNKNOWN 127.0.0.1:80"
    with connect(port) as s:
        cport = s.getsockname()[1]
        socks5_greet(s)
        s.sendall(b"\x05\x01\x00\x05\x7f\x00\x00\x01\x00\x50")
        rep = read_socks5_reply(s)
        assert rep.raw == b"\x05\x08\x00\x01" + b"\0" * 6
        assert closed_soon(s)
    assert client_record(log, cport)["err"] == "00997"


def test_bad_version(socks):
    """F-SOCKS-01: a first byte other than 4 or 5 gets a SOCKS4-style
    rejection and the connection is closed; the record has 401."""
    port, log, _ = socks()
    with connect(port) as s:
        cport = s.getsockname()[1]
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert recv_exact(s, 8) == b"\x00\x5b" + b"\0" * 6
        assert closed_soon(s)
    assert client_record(log, cport)["err"] == "00401"


def test_socks4_failures(socks, closed_port):
    """F-SOCKS-09: SOCKS4 answers 5B with zeroed fields: refused target
    (13), BIND-less command 03 (407), an overlong user id (451)."""
    port, log, _ = socks()
    cases = [
        (socks4_request_bytes(CMD_CONNECT, "127.0.0.1", closed_port),
         "00013"),
        (socks4_request_bytes(CMD_UDP, "127.0.0.1", 80), "00407"),
        (socks4_request_bytes(CMD_CONNECT, "127.0.0.1", 80, b"x" * 300),
         "00451"),
        (socks4_request_bytes(CMD_CONNECT, "0.0.0.0", 80), "00431"),
    ]
    for msg, err in cases:
        with connect(port) as s:
            cport = s.getsockname()[1]
            s.sendall(msg)
            code, ip, rport, raw = read_socks4_reply(s)
            assert raw == b"\x00\x5b" + b"\0" * 6, err
            assert closed_soon(s)
        assert client_record(log, cport)["err"] == err


def test_socks4_user_and_4a_name(socks, tcp_server):
    """F-SOCKS-01: the SOCKS4 user id is %U; a 4a name is resolved by
    the proxy and logged as SOC45."""
    srv = tcp_server(lambda c, s: c.sendall(b"ok"))
    port, log, _ = socks()
    with connect(port) as s:
        cport = s.getsockname()[1]
        s.sendall(socks4_request_bytes(CMD_CONNECT, None, srv.port, b"dave",
                                       host="localhost"))
        code, ip, rport, raw = read_socks4_reply(s)
        assert code == 0x5A
        assert (ip, rport) == ("127.0.0.1", port)
        assert recv_exact(s, 2) == b"ok"
    rec = client_record(log, cport)
    assert (rec["service"], rec["user"]) == ("SOC45", "dave")
    assert rec["text"] == "CONNECT localhost:%d" % srv.port


# --------------------------------------------------------------------------
# timeouts
# --------------------------------------------------------------------------

TIMEOUTS = "timeouts 1 2 30 60 180 1800 15 60 15 5 5\n"


@pytest.mark.parametrize("sent,err", [
    (b"", "00401"),
    (b"\x05", "00441"),
    (b"\x05\x02\x00", "00441"),
    (b"\x04\x01\x00", "00447"),
    (b"\x04\x01\x00\x50\x7f\x00\x00\x01ab", "00451"),
])
def test_truncated_handshake_times_out(socks, sent, err):
    """F-SOCKS-01: a half-sent message is dropped after BYTE_LONG /
    BYTE_SHORT (here 2 s / 1 s) with its truncation code."""
    port, log, _ = socks(head=TIMEOUTS)
    with connect(port) as s:
        cport = s.getsockname()[1]
        if sent:
            s.sendall(sent)
        t0 = time.monotonic()
        assert closed_soon(s, 10)
        assert time.monotonic() - t0 < 6
    assert client_record(log, cport)["err"] == err


def test_truncated_request_after_negotiation(socks):
    """F-SOCKS-01: a SOCKS5 request cut inside its address: 451."""
    port, log, _ = socks(head=TIMEOUTS)
    with connect(port) as s:
        cport = s.getsockname()[1]
        socks5_greet(s)
        s.sendall(b"\x05\x01\x00\x03\x20abc")
        assert closed_soon(s, 10)
    assert client_record(log, cport)["err"] == "00451"


def test_truncated_auth_and_bad_request_version(socks):
    """F-SOCKS-02, F-SOCKS-09: an RFC 1929 message cut short times out
    (445); a request whose VER is not 5 gets REP 01 and 421."""
    port, log, _ = socks(head=TIMEOUTS)
    with connect(port) as s:
        cport = s.getsockname()[1]
        s.sendall(b"\x05\x01\x02")
        assert recv_exact(s, 2) == b"\x05\x02"
        s.sendall(b"\x01\x05ab")
        assert closed_soon(s, 10)
    assert client_record(log, cport)["err"] == "00445"
    with connect(port) as s:
        cport = s.getsockname()[1]
        socks5_greet(s)
        s.sendall(b"\x04\x01\x00\x01\x7f\x00\x00\x01\x00\x50")
        rep = read_socks5_reply(s)
        assert rep.raw == b"\x05\x01\x00\x01" + b"\0" * 6
        assert closed_soon(s)
    assert client_record(log, cport)["err"] == "00421"


# --------------------------------------------------------------------------
# BIND
# --------------------------------------------------------------------------

def _bind_roundtrip(s, first_reply_host, first_reply_port, version):
    """Connect to the announced address as the peer; check the second
    reply and data both ways."""
    with socket.create_connection((first_reply_host, first_reply_port),
                                  timeout=10) as peer:
        if version == 5:
            second = read_socks5_reply(s)
            assert second.code == 0
            host, port = second.host, second.port
        else:
            code, host, port, _ = read_socks4_reply(s)
            assert code == 0x5A
        assert (host, port) == peer.getsockname()
        peer.sendall(b"from peer")
        assert recv_exact(s, 9) == b"from peer"
        s.sendall(b"from client")
        assert recv_exact(peer, 11) == b"from client"


def test_bind_socks5(socks):
    """F-SOCKS-04: BIND sends two replies; the peer connects to the
    announced address and data flows both ways; %T is BIND."""
    port, log, _ = socks()
    s, first = socks5_open(port, "0.0.0.0", 0, cmd=CMD_BIND)
    with s:
        cport = s.getsockname()[1]
        assert first.code == 0
        assert first.host == "127.0.0.1"
        assert first.port not in (0, port)
        _bind_roundtrip(s, first.host, first.port, 5)
    rec = client_record(log, cport)
    assert rec["err"] == "00000"
    assert rec["text"] == "BIND 0.0.0.0:0"
    assert rec["out"] == "11" and rec["in"] == "9"


def test_bind_socks4(socks):
    """F-SOCKS-04: SOCKS4 BIND, naming the expected peer."""
    port, log, _ = socks()
    with connect(port) as s:
        s.sendall(socks4_request_bytes(CMD_BIND, "127.0.0.1", 0, b"u4"))
        code, host, bport, _ = read_socks4_reply(s)
        assert code == 0x5A
        assert host == "127.0.0.1" and bport not in (0, port)
        _bind_roundtrip(s, host, bport, 4)


def test_bind_with_ne(socks):
    """F-SOCKS-07: with -Ne the first BIND reply carries that address and
    the listening port."""
    port, _, _ = socks("-Ne127.0.0.1")
    s, first = socks5_open(port, "0.0.0.0", 0, cmd=CMD_BIND)
    with s:
        assert first.code == 0 and first.host == "127.0.0.1"
        _bind_roundtrip(s, first.host, first.port, 5)


def test_bind_peer_mismatch(socks):
    """F-SOCKS-04: a peer other than the named host is refused (470)."""
    port, log, _ = socks()
    s, first = socks5_open(port, "127.0.0.2", 0, cmd=CMD_BIND)
    with s:
        cport = s.getsockname()[1]
        assert first.code == 0
        with socket.create_connection(("127.0.0.1", first.port), timeout=10):
            second = read_socks5_reply(s)
            assert second is not None and second.code != 0
            assert second.raw[3:] == b"\x01" + b"\0" * 6
    assert client_record(log, cport)["err"] == "00470"


def test_bind_aborted_by_client(socks):
    """F-SOCKS-04: closing the control connection while waiting ends the
    BIND (460) and its port is closed."""
    port, log, _ = socks()
    s, first = socks5_open(port, "0.0.0.0", 0, cmd=CMD_BIND)
    cport = s.getsockname()[1]
    s.close()
    rec = client_record(log, cport)
    assert rec["err"] == "00460"
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", first.port), timeout=2).close()


# --------------------------------------------------------------------------
# UDP ASSOCIATE
# --------------------------------------------------------------------------

@pytest.fixture
def udp_echo2():
    srv = UdpEchoServer(prefix=b"two:")
    yield srv
    srv.close()


def _associate(port, src=("0.0.0.0", 0)):
    s, rep = socks5_open(port, src[0], src[1], cmd=CMD_UDP)
    assert rep.code == 0, rep
    return s, (rep.host, rep.port)


def _udp_client():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((LOOP4, 0))
    return u


def test_udp_associate_echo(socks, udp_echo_server, udp_echo2):
    """F-SOCKS-05, F-SOCKS-06: datagrams go out de-encapsulated, replies
    come back with their source; each change of destination is a UDPMAP
    record (-U3 default)."""
    port, log, _ = socks()
    s, relay = _associate(port)
    with s, _udp_client() as u:
        cport = s.getsockname()[1]
        assert relay[0] == "127.0.0.1" and relay[1] != port
        for srv, prefix in ((udp_echo_server, b"echo:"),
                            (udp_echo2, b"two:"), (udp_echo_server, b"echo:")):
            u.sendto(udp_wrap("127.0.0.1", srv.port, b"ping"), relay)
            dgram = udp_recv(u)
            assert dgram is not None
            assert udp_unwrap(dgram) == ("127.0.0.1", srv.port,
                                         prefix + b"ping")
        # a name as destination
        u.sendto(udp_wrap("localhost", udp_echo2.port, b"name"), relay)
        assert udp_unwrap(udp_recv(u))[2] == b"two:name"
    # Three changes of destination, three interim records; then the
    # record of the end of the association.
    recs = wait_record_count(log, cport, 4)
    assert [r["text"] for r in recs] == [
        "UDPMAP 127.0.0.1:%d" % udp_echo_server.port,
        "UDPMAP 127.0.0.1:%d" % udp_echo2.port,
        "UDPMAP 127.0.0.1:%d" % udp_echo_server.port,
        "UDPMAP localhost:%d" % udp_echo2.port]
    assert all(r["service"] == "SOCK5" for r in recs)
    assert all(r["err"] == "00000" for r in recs)
    assert recs[0]["out"] == "4" and recs[0]["in"] == "9"
    assert recs[3]["host"] == "localhost"


def wait_record_count(log, cport, n, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        recs = [r for r in log_records(log) if r["cport"] == str(cport)]
        if len(recs) >= n or time.monotonic() > deadline:
            return recs
        time.sleep(0.05)


def test_udp_fragment_and_strangers_dropped(socks, udp_echo_server):
    """F-SOCKS-05: FRAG != 0 is dropped (RFC 1928 §7), datagrams from
    another source are dropped; the association goes on."""
    port, log, _ = socks()
    s, relay = _associate(port)
    with s, _udp_client() as u, _udp_client() as stranger:
        u.sendto(udp_wrap("127.0.0.1", udp_echo_server.port, b"first"), relay)
        assert udp_unwrap(udp_recv(u))[2] == b"echo:first"
        u.sendto(udp_wrap("127.0.0.1", udp_echo_server.port, b"frag", 1),
                 relay)
        stranger.sendto(udp_wrap("127.0.0.1", udp_echo_server.port, b"evil"),
                        relay)
        assert udp_recv(u, 1.0) is None
        assert udp_recv(stranger, 0.5) is None
        u.sendto(udp_wrap("127.0.0.1", udp_echo_server.port, b"last"), relay)
        assert udp_unwrap(udp_recv(u))[2] == b"echo:last"
    seen = [d for _, d in udp_echo_server.seen]
    assert seen == [b"first", b"last"]
    assert len(set(udp_echo_server.sources())) == 1


def test_udp_source_port_named_in_request(socks, udp_echo_server):
    """F-SOCKS-05: when the request names the client's address and port,
    datagrams from another port of that address are dropped."""
    port, _, _ = socks()
    with _udp_client() as u, _udp_client() as other:
        s, relay = _associate(port, u.getsockname())
        with s:
            other.sendto(udp_wrap("127.0.0.1", udp_echo_server.port, b"no"),
                         relay)
            assert udp_recv(other, 1.0) is None
            u.sendto(udp_wrap("127.0.0.1", udp_echo_server.port, b"yes"),
                     relay)
            assert udp_unwrap(udp_recv(u))[2] == b"echo:yes"


def test_udp_ends_with_control_connection(socks, udp_echo_server):
    """F-SOCKS-05: closing the TCP connection ends the association: the
    relay socket is gone and the record is written."""
    port, log, _ = socks()
    s, relay = _associate(port)
    cport = s.getsockname()[1]
    with _udp_client() as u:
        u.sendto(udp_wrap("127.0.0.1", udp_echo_server.port, b"x"), relay)
        assert udp_recv(u) is not None
        s.close()
        rec = client_record(log, cport)
        assert rec["err"] == "00000"
        assert rec["text"] == "UDPMAP 127.0.0.1:%d" % udp_echo_server.port
        u.connect(relay)
        u.settimeout(0.5)
        refused = False
        for _ in range(10):
            try:
                u.send(udp_wrap("127.0.0.1", udp_echo_server.port, b"late"))
                u.recv(100)
            except ConnectionRefusedError:
                refused = True
                break
            except socket.timeout:
                continue
        assert refused, "the relay socket still exists"


def test_udp_bad_header_ends_association(socks, udp_echo_server):
    """F-SOCKS-05: a header shorter than 10 bytes ends it with 483."""
    port, log, _ = socks()
    s, relay = _associate(port)
    with s, _udp_client() as u:
        cport = s.getsockname()[1]
        u.sendto(b"\0\0\0\x01\x7f", relay)
        assert closed_soon(s)
    assert client_record(log, cport)["err"] == "00483"


def test_udp_ni_in_reply(socks):
    """F-SOCKS-07: -Ni replaces the address of the UDP ASSOCIATE reply."""
    port, _, _ = socks("-Ni198.51.100.9")
    s, rep = socks5_open(port, "0.0.0.0", 0, cmd=CMD_UDP)
    with s:
        assert rep.code == 0
        assert rep.host == "198.51.100.9" and rep.port not in (0, port)


def test_udp_over_ipv6(proxy, tmp_path):
    """F-SOCKS-05: an association on an IPv6 listener: the relay socket
    is on ::1 and replies carry ATYP 4 sources."""
    if not ipv6_usable():
        pytest.skip("::1 is not usable here")
    echo6 = UdpEchoServer(host=LOOP6)
    try:
        port = free_port(LOOP6)
        log = tmp_path / "u6.log"
        d = proxy(socks_cfg(port, "-i::1", log=log))
        d.wait_listening(port, host=LOOP6)
        s = connect(port, LOOP6)
        with s, socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as u:
            socks5_greet(s)
            rep = socks5_request(s, CMD_UDP, "::", 0)
            assert rep.code == 0 and rep.host == "::1"
            u.bind((LOOP6, 0))
            u.sendto(udp_wrap("::1", echo6.port, b"six"), (rep.host, rep.port))
            dgram = udp_recv(u)
            assert dgram is not None and dgram[3] == 4
            assert udp_unwrap(dgram) == ("::1", echo6.port, b"echo:six")
    finally:
        echo6.close()


def test_family_6_maps_ipv4(socks, tcp_server):
    """F-SOCKS-03: with -6 an IPv4 target is reached as ::ffff:a.b.c.d."""
    if not ipv6_usable():
        pytest.skip("IPv6 is not usable here")
    srv = tcp_server(lambda c, s: c.sendall(b"v6"))
    port, log, _ = socks("-6")
    s, rep = socks5_open(port, "127.0.0.1", srv.port)
    with s:
        cport = s.getsockname()[1]
        assert rep.code == 0
        assert recv_exact(s, 2) == b"v6"
    rec = client_record(log, cport)
    assert rec["rip"] == "::ffff:127.0.0.1"
    assert rec["text"] == "CONNECT 127.0.0.1:%d" % srv.port


def test_bulk_both_ways(socks, echo_server):
    """F-SOCKS-01: 16 MiB echoed through a SOCKS5 tunnel while still
    sending; byte counts in the record."""
    size = 16 * MiB
    port, log, _ = socks()
    s, rep = socks5_open(port, "127.0.0.1", echo_server.port)
    with s:
        cport = s.getsockname()[1]
        assert rep.code == 0
        result = {}

        def reader():
            result["r"] = recv_stream(s, timeout=60)
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        sent = send_stream(s, data_chunks(size, seed=9))
        s.shutdown(socket.SHUT_WR)
        t.join(120)
        assert not t.is_alive()
    assert result["r"] == sent
    rec = client_record(log, cport)
    assert rec["out"] == str(size) and rec["in"] == str(size)


# --------------------------------------------------------------------------
# authorization (needs the ACL commands; skipped in builds without them)
# --------------------------------------------------------------------------

@pytest.fixture
def need_acl(tmp_path):
    """Skip unless this build runs ACL lines (older builds stop at them
    at start-up; --check does not tell)."""
    cfg = tmp_path / "acl-probe.cfg"
    cfg.write_text("auth iponly\nallow *\ndeny *\nsocks -i127.0.0.1 -p%d\n"
                   % free_port())
    p = subprocess.Popen([str(PX_BIN), str(cfg)], cwd=str(tmp_path),
                         env=daemon_env(), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        rc = p.wait(1.5)
    except subprocess.TimeoutExpired:
        rc = None
        p.terminate()
        p.wait(10)
    if rc is not None:
        pytest.skip("this build has no ACL commands yet")


def test_denied_requests(need_acl, socks, tcp_server):
    """F-SOCKS-09: an ACL denial answers REP 02 (SOCKS5) or 5B (SOCKS4)
    with zeroed fields; the record has code 1; the operation bits tell
    CONNECT from BIND."""
    srv = tcp_server(lambda c, s: c.sendall(b"ok"))
    port, log, _ = socks(head="auth iponly\nallow * * 127.0.0.1 %d CONNECT"
                         "\ndeny *\n" % srv.port)
    s, rep = socks5_open(port, "127.0.0.1", srv.port)
    with s:
        assert rep.code == 0
        assert recv_exact(s, 2) == b"ok"
    for host, tport, cmd in (("127.0.0.1", srv.port + 1, CMD_CONNECT),
                             ("127.0.0.1", srv.port, CMD_BIND)):
        s, rep = socks5_open(port, host, tport, cmd=cmd)
        with s:
            cport = s.getsockname()[1]
            assert rep.raw == b"\x05\x02\x00\x01" + b"\0" * 6
            assert closed_soon(s)
        assert client_record(log, cport)["err"] == "00001"
    with connect(port) as s:
        cport = s.getsockname()[1]
        s.sendall(socks4_request_bytes(CMD_CONNECT, "127.0.0.1",
                                       srv.port + 1))
        assert read_socks4_reply(s)[3] == b"\x00\x5b" + b"\0" * 6
    assert client_record(log, cport)["err"] == "00001"


@pytest.mark.parametrize("opts,second_passes", [("", False), ("-U", True)])
def test_udp_destination_denied(need_acl, socks, udp_echo_server, udp_echo2,
                                opts, second_passes):
    """F-SOCKS-05, F-SOCKS-06: each new UDP destination is authorized
    (-U3 default) and a denied one's datagrams are dropped while the
    association goes on; with -U only the first destination is."""
    port, log, _ = socks(opts, head="auth iponly\ndeny * * 127.0.0.1 %d\n"
                         "allow *\n" % udp_echo2.port)
    # The request names the client's source: an ACL without the
    # pre-authorization of acl-auth.md §6 would match a zero address
    # against the deny line.
    u = _udp_client()
    s, relay = _associate(port, u.getsockname())
    with s, u:
        u.sendto(udp_wrap("127.0.0.1", udp_echo_server.port, b"a"), relay)
        assert udp_unwrap(udp_recv(u))[2] == b"echo:a"
        u.sendto(udp_wrap("127.0.0.1", udp_echo2.port, b"b"), relay)
        got = udp_recv(u, 1.0)
        assert (got is not None) == second_passes
        u.sendto(udp_wrap("127.0.0.1", udp_echo_server.port, b"c"), relay)
        assert udp_unwrap(udp_recv(u))[2] == b"echo:c"
    assert [d for _, d in udp_echo2.seen] == ([b"b"] if second_passes
                                              else [])
