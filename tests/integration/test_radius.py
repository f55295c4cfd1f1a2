"""RADIUS authentication (`radius`, `auth radius`) through real services.

A small RADIUS server (radius_util.py, stdlib only)
listens on 127.0.0.1 UDP.  It decodes the User-Password with the Request
Authenticator (RFC 2865 5.2), records every request's attributes and
answers Access-Accept, Access-Reject (optionally with a Reply-Message
"5 ..."), a forged authenticator, garbage, or nothing.  curl drives the
`proxy` (HTTP, -U) and `socks` (SOCKS5 user/password) services against a
local HTTP origin that records the peer address of each connection.
Each case checks what the client got and the %E code of the access
record (acl-auth.md 5 and 9).

Features: F-AUTH-14 (and F-AUTH-06 for the chain).
"""

import http.server
import re
import socket
import struct
import threading

import pytest

from auth_util import LOGFMT, curl_through, record_for
from conftest import LOOP4, free_port, free_udp_port, wait_until
from radius_util import (  # noqa: F401 (radius_server is a fixture)
    ACCT_IN_GIGAWORDS, ACCT_IN_OCTETS, ACCT_IN_PACKETS, ACCT_OUT_OCTETS,
    ACCT_OUT_PACKETS, ACCT_SESSION_TIME, ACCT_STATUS, CALLED_STATION, FRAMED_IP, LOGIN_SERVICE, LOGIN_TCP_PORT, NAS_ID,
    NAS_IP, NAS_PORT, NAS_PORT_TYPE, SECRET, SERVICE_TYPE, SESSION_ID,
    USER_NAME, USER_PASSWORD, radius_server)
# BYTE_LONG (slot 2) = 1 s: a silent or forging server costs 1 s
TIMEOUTS = "timeouts 1 1 30 60 180 1800 15 60 15 5 5\n"
BIG = 300000   # body of /big: more than one read per direction


# --------------------------------------------------------------------------
# the origin, the daemon, the client
# --------------------------------------------------------------------------

class Origin:
    """HTTP origin on 127.0.0.1: answers 200 and records peer addresses."""

    def __init__(self):
        peers = self.peers = []

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *a):
                pass

            def do_GET(self):
                peers.append(self.client_address[0])
                body = b"b" * BIG if self.path == "/big" else b"ok"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.srv = http.server.ThreadingHTTPServer((LOOP4, 0), H)
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


def start(proxy, tmp_path, kind, servers, head=""):
    """One daemon with one service (`auth radius`); returns (port, log)."""
    port = free_port()
    log = tmp_path / ("%s-%d.log" % (kind, port))
    radius = "radius %s %s\n" % (SECRET.decode(), " ".join(servers))
    cfg = ("log %s\n%s%s%s%sinternal 127.0.0.1\nauth radius\n%s -p%d\n"
           % (log, LOGFMT, TIMEOUTS, radius, head,
              "proxy" if kind == "proxy" else "socks", port))
    d = proxy(cfg)
    wait_until(lambda: not d.alive() or _listening(port), 15,
               what="the daemon to listen")
    if not d.alive():
        pytest.fail("3proxy exited:\n" + d.stderr_text())
    return port, log


def _listening(port):
    from conftest import is_listening
    return is_listening(port)






def fetch(kind, port, origin, user=None, pw=None, path="/x"):
    """curl through the service: (exit status, HTTP code, local port)."""
    return curl_through(kind, port, "http://127.0.0.1:%d%s"
                        % (origin.port, path), user, pw)


def check_refused(kind, rc, code):
    if kind == "proxy":
        assert code == "407", code        # acl-auth.md 8: codes 2..9
    else:
        assert rc != 0                     # SOCKS5 auth failure


KINDS = ["proxy", "socks"]


# --------------------------------------------------------------------------
# cases
# --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_accept_and_reject(proxy, tmp_path, origin, radius_server, kind):
    """F-AUTH-14: Access-Accept lets the user through (%E 0); a wrong
    password is rejected (407 / SOCKS failure, %E 4).  The server checks
    the hidden password and the attributes of acl-auth.md 5."""
    rs = radius_server({"alice": "Wonder-Land_42"})
    port, log = start(proxy, tmp_path, kind, ["127.0.0.1:%d" % rs.port])

    rc, code, lport = fetch(kind, port, origin, "alice", "Wonder-Land_42")
    assert rc == 0 and code == "200", (rc, code)
    assert record_for(log, lport) == (0, "alice")
    assert origin.peers == [LOOP4]

    rc, code, lport = fetch(kind, port, origin, "alice", "wrong")
    check_refused(kind, rc, code)
    assert record_for(log, lport) == (4, "alice")

    reqs = rs.seen()
    assert [r["password"] for r in reqs] == ["Wonder-Land_42", "wrong"]
    ids = set()
    for r in reqs:
        assert r["code"] == 1 and r["length"] == r["len"]
        ids.add(r["id"])
        a = dict(r["attrs"])
        assert a[SERVICE_TYPE] == struct.pack("!I", 8)
        assert a[NAS_PORT_TYPE] == struct.pack("!I", 5)
        assert a[NAS_PORT] == struct.pack("!I", port)
        assert a[NAS_IP] == socket.inet_aton(LOOP4)
        assert a[FRAMED_IP] == socket.inet_aton(LOOP4)     # the client
        assert a[NAS_ID] == (b"PROXY" if kind == "proxy" else b"SOCK5")
        assert a[USER_NAME] == b"alice"
        assert re.match(rb"^\d+\.\d{3}\.\d+$", a[SESSION_ID]), a
        assert len(a[USER_PASSWORD]) % 16 == 0
        assert a[USER_PASSWORD][:5] != r["password"].encode()[:5]
        if kind == "proxy":
            # the HTTP request names its target before auth
            assert a[CALLED_STATION] == b"127.0.0.1"
            assert a[LOGIN_TCP_PORT] == struct.pack("!I", origin.port)
        assert LOGIN_SERVICE in a


@pytest.mark.parametrize("kind", KINDS)
def test_reply_message_code(proxy, tmp_path, origin, radius_server, kind):
    """F-AUTH-14: Access-Reject with Reply-Message "5 over quota" logs
    code 5 instead of 4."""
    rs = radius_server({})
    port, log = start(proxy, tmp_path, kind, ["127.0.0.1:%d" % rs.port])
    rc, code, lport = fetch(kind, port, origin, "quota", "x")
    check_refused(kind, rc, code)
    assert record_for(log, lport) == (5, "quota")
    assert origin.peers == []


@pytest.mark.parametrize("first", ["closed", "silent"])
def test_failover(proxy, tmp_path, origin, radius_server, first):
    """F-AUTH-14: servers are tried in order; a dead first server (port
    unreachable, or no answer within BYTE_LONG) hands over to the next."""
    live = radius_server({"bob": "pw"})
    if first == "closed":
        dead = "127.0.0.1:%d" % free_udp_port()
    else:
        quiet = radius_server({"bob": "pw"}, mode="silent")
        dead = "127.0.0.1:%d" % quiet.port
    port, log = start(proxy, tmp_path, "proxy",
                      [dead, "127.0.0.1:%d/127.0.0.1" % live.port])
    rc, code, lport = fetch("proxy", port, origin, "bob", "pw")
    assert rc == 0 and code == "200", (rc, code)
    assert record_for(log, lport) == (0, "bob")
    assert len(live.seen()) == 1
    if first == "silent":
        assert len(quiet.seen()) == 1


@pytest.mark.parametrize("mode", ["badauth", "garbage", "silent"])
@pytest.mark.parametrize("kind", KINDS)
def test_no_valid_answer(proxy, tmp_path, origin, radius_server, mode, kind):
    """F-AUTH-14: an Accept with a forged Response Authenticator, garbage
    and silence are no valid answer: after the BYTE_LONG wait, code 4."""
    rs = radius_server({"carol": "pw"}, mode=mode)
    port, log = start(proxy, tmp_path, kind, ["127.0.0.1:%d" % rs.port])
    rc, code, lport = fetch(kind, port, origin, "carol", "pw")
    check_refused(kind, rc, code)
    assert record_for(log, lport) == (4, "carol")
    assert len(rs.seen()) == 1
    assert origin.peers == []


@pytest.mark.parametrize("kind", KINDS)
def test_framed_ip_sets_source(proxy, tmp_path, origin, radius_server, kind):
    """F-AUTH-14: Framed-IP-Address 127.0.0.2 in the Accept becomes the
    source address of the outgoing connection; other users keep the
    service's external address."""
    rs = radius_server({"dave": "pw", "erin": "pw"},
                       framed={"dave": "127.0.0.2"})
    port, log = start(proxy, tmp_path, kind, ["127.0.0.1:%d" % rs.port])
    rc, code, lport = fetch(kind, port, origin, "dave", "pw")
    assert rc == 0 and code == "200", (rc, code)
    assert record_for(log, lport) == (0, "dave")
    rc, code, lport = fetch(kind, port, origin, "erin", "pw")
    assert rc == 0 and code == "200", (rc, code)
    assert origin.peers == ["127.0.0.2", LOOP4]


def test_no_credentials(proxy, tmp_path, origin, radius_server):
    """F-AUTH-14: without a user name and password nothing is sent and
    the request fails with code 4 (407)."""
    rs = radius_server({"alice": "pw"})
    port, log = start(proxy, tmp_path, "proxy", ["127.0.0.1:%d" % rs.port])
    rc, code, lport = fetch("proxy", port, origin)
    assert code == "407", code
    assert record_for(log, lport) == (4, "-")
    assert rs.seen() == []


def test_chain_with_strong(proxy, tmp_path, origin, radius_server):
    """F-AUTH-06, F-AUTH-14: `auth strong radius`: a local user passes
    without RADIUS; others are asked of the server."""
    rs = radius_server({"remote": "rpw"})
    port = free_port()
    log = tmp_path / "chain.log"
    cfg = ("log %s\n%s%sradius %s 127.0.0.1:%d\nusers local:CL:lpw\n"
           "internal 127.0.0.1\nauth strong radius\nproxy -p%d\n"
           % (log, LOGFMT, TIMEOUTS, SECRET.decode(), rs.port, port))
    d = proxy(cfg)
    wait_until(lambda: not d.alive() or _listening(port), 15,
               what="the daemon to listen")
    rc, code, lport = fetch("proxy", port, origin, "local", "lpw")
    assert code == "200" and record_for(log, lport) == (0, "local")
    assert rs.seen() == []
    rc, code, lport = fetch("proxy", port, origin, "remote", "rpw")
    assert code == "200" and record_for(log, lport) == (0, "remote")
    assert len(rs.seen()) == 1


@pytest.mark.parametrize("line,message", [
    ("radius s 127.0.0.1:99999", "radius: invalid server '127.0.0.1:99999'"),
    ("radius s 127.0.0.1/::1", "radius: local address '::1' is not usable"),
    ("radius s", "wrong number of arguments"),
])
def test_config_errors(run3proxy, tmp_path, line, message):
    """F-AUTH-14: a bad `radius` line is reported as file:line and stops
    the configuration."""
    (tmp_path / "cfg").write_text("%s\nproxy -p%d\n" % (line, free_port()))
    r = run3proxy(["--check", "cfg"])
    assert r.rc != 0
    assert re.search(r"cfg:1: .*" + re.escape(message), r.err), r.err


@pytest.mark.parametrize("kind", KINDS)
def test_framed_ip_through_parent(proxy, tmp_path, origin, radius_server,
                                  kind):
    """F-AUTH-14, F-PAR-01: the Framed-IP-Address also becomes the source
    of the first hop of a parent chain (here a `tcp` parent that is the
    origin itself, so the origin sees the hop's source address)."""
    rs = radius_server({"dave": "pw"}, framed={"dave": "127.0.0.2"})
    head = "allow *\nparent 1000 tcp 127.0.0.1 %d\n" % origin.port
    port, log = start(proxy, tmp_path, kind, ["127.0.0.1:%d" % rs.port],
                      head=head)
    rc, code, lport = fetch(kind, port, origin, "dave", "pw")
    assert rc == 0 and code == "200", (rc, code)
    assert record_for(log, lport) == (0, "dave")
    assert origin.peers == ["127.0.0.2"]


def _u32(attrs, t):
    return struct.unpack("!I", attrs[t])[0]


def test_log_radius_accounting(proxy, tmp_path, origin, radius_server):
    """F-LOG-08 (logging.md 1.4): with `log radius`, a successful `auth
    radius` sends an Accounting-Request Start and the end of the request
    a Stop with the byte and read counters; both carry the same
    Acct-Session-Id and a Request Authenticator that verifies (RFC 2866
    3), and no text record is written.  The byte counts are those that a
    text-logged twin service records (%I %O) for the same download."""
    rs = radius_server({"erin": "pw-9"})
    twin, port = free_port(), free_port()
    log = tmp_path / "twin.log"
    cfg = ("log %s\nlogformat \"LACC %%U %%I %%O\"\n%sradius %s 127.0.0.1:%d\n"
           "internal 127.0.0.1\nauth radius\nproxy -p%d\n"
           "log radius\nproxy -p%d\n"
           % (log, TIMEOUTS, SECRET.decode(), rs.port, twin, port))
    proxy(cfg, wait_ports=(twin, port))

    rc, code, _ = fetch("proxy", twin, origin, "erin", "pw-9", "/big")
    assert rc == 0 and code == "200", (rc, code)
    rec = wait_until(lambda: re.search(r"^ACC erin (\d+) (\d+)$",
                                       log.read_text(), re.M), 10,
                     what="the twin's record")
    want_in, want_out = int(rec.group(1)), int(rec.group(2))
    assert want_in > BIG and want_out > 0
    assert rs.seen_acct() == []      # text-logged service: no accounting

    rc, code, _ = fetch("proxy", port, origin, "erin", "pw-9", "/big")
    assert rc == 0 and code == "200", (rc, code)
    acct = wait_until(lambda: len(rs.seen_acct()) >= 2 and rs.seen_acct(),
                      10, what="accounting Start and Stop")
    assert len(acct) == 2, acct
    start, stop = (dict(r["attrs"]) for r in acct)
    for r in acct:
        assert r["code"] == 4 and r["auth_ok"] and r["length"] == r["len"]
    assert _u32(start, ACCT_STATUS) == 1 and _u32(stop, ACCT_STATUS) == 2
    assert start[SESSION_ID] == stop[SESSION_ID]
    assert start[USER_NAME] == stop[USER_NAME] == b"erin"
    assert USER_PASSWORD not in start and USER_PASSWORD not in stop
    assert _u32(stop, NAS_PORT) == port and stop[NAS_ID] == b"PROXY"
    assert ACCT_IN_OCTETS not in start
    assert _u32(stop, ACCT_IN_OCTETS) == want_in
    assert _u32(stop, ACCT_OUT_OCTETS) == want_out
    assert ACCT_IN_GIGAWORDS not in stop
    # read-call counts are sent; the HTTP body path does not count them
    assert ACCT_IN_PACKETS in stop and ACCT_OUT_PACKETS in stop
    assert _u32(stop, ACCT_SESSION_TIME) < 30
    # only the twin wrote text for erin's downloads
    assert len(re.findall("^ACC erin ", log.read_text(), re.M)) == 1
