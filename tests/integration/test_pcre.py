"""Built-in PCRE2 filtering (F-PCRE-01..04, plugins.md 4) and the filter
hook sites of proxy, socks, ftppr and smtpp (F-PLUG-02).

Each case gives the pcre lines, what the client does against a local
server the test starts (HTTP origin, echo server, pyftpdlib, aiosmtpd),
what the server receives or the client gets, and the %E code of the
record.  The module is skipped only on a build without PCRE2 (`3proxy -h`
says so); the CI build has it.
"""

import ftplib
import hashlib
import json
import signal
import smtplib
import socket
import subprocess

import pytest

from conftest import (LOOP4, PX_BIN, connect, daemon_env, free_port,
                      recv_exact, split_records, wait_split_record,
                      wait_until)
from http_util import (Origin, curl, ftppr_login, raw_request,
                       read_response, start_ftp)
from socks_util import socks5_open

LOGFMT = 'logformat "L%N|%E|%U|%C|%T"'
FIELDS = ("svc", "err", "user", "cip", "text")


def _pcre_built_in():
    p = subprocess.run([str(PX_BIN), "-h"], capture_output=True,
                       env=daemon_env(), timeout=20)
    return b"built-in PCRE: PCRE2" in p.stderr + p.stdout


pytestmark = pytest.mark.skipif(not _pcre_built_in(),
                                reason="this build has no PCRE2")


def wait_rec(path, pred, timeout=10.0):
    return wait_split_record(path, FIELDS, pred, timeout)


def cfg(log, body):
    return "log %s\n%s\ninternal 127.0.0.1\nauth iponly\nallow *\n%s" % (
        log, LOGFMT, body)


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


@pytest.fixture
def http_proxy(proxy, tmp_path):
    """Start `proxy` after the given pcre lines; returns (port, log)."""
    def start(rules, head=""):
        port, log = free_port(), tmp_path / "px.log"
        proxy(cfg(log, "%s%s\nproxy -p%d\n" % (head, rules, port)),
              wait_ports=[port])
        return port, log
    return start


def get(port, url, extra=()):
    """GET url through the proxy with curl; (status, headers, body)."""
    r = curl(["-i", "-x", "http://127.0.0.1:%d" % port] + list(extra) +
             [url])
    head, _, body = r.stdout.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    hdrs = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        hdrs[k.strip().lower().decode()] = v.strip().decode()
    return int(lines[0].split()[1]), hdrs, body


# --------------------------------------------------------------------------
# HTTP proxy
# --------------------------------------------------------------------------

def test_request_deny_503_517(http_proxy, origin):
    """F-PCRE-01: `pcre request deny casino`: a matching request line gets
    503 (policy) with code 517 and never reaches the origin; another
    request passes."""
    port, log = http_proxy('pcre request deny "casino"')
    status, _, body = get(port, origin.url("/small?casino=1"))
    assert status == 503 and b"policy" in body
    wait_rec(log, lambda r: "casino" in r["text"] and r["err"] == "00517")
    assert origin.requests == []
    status, _, body = get(port, origin.url("/small"))
    assert status == 200 and body == b"hello from origin\n"


def test_srvheader_deny(http_proxy, origin):
    """F-PCRE-01: srvheader rules see the response head: a text/plain
    response is refused (503, 517), a JSON one passes."""
    port, log = http_proxy('pcre srvheader deny "Content-Type: text/plain"')
    status, _, _ = get(port, origin.url("/small"))
    assert status == 503
    wait_rec(log, lambda r: "/small" in r["text"] and r["err"] == "00517")
    status, _, body = get(port, origin.url("/echo"))
    assert status == 200 and json.loads(body)["len"] == 0


def test_cliheader_rewrite_seen_by_origin(http_proxy, origin):
    """F-PCRE-02: a cliheader rewrite with $1 changes the head the origin
    receives."""
    port, _ = http_proxy(r'pcre_rewrite cliheader dunno "X-Test: (\w+)" '
                         r'"X-Test: got-$1\r\nX-Added: yes"')
    status, _, body = get(port, origin.url("/headers"),
                          ["-H", "X-Test: abc"])
    assert status == 200
    hdrs = dict(json.loads(body))
    assert hdrs["X-Test"] == "got-abc"
    assert hdrs["X-Added"] == "yes"


def test_srvdata_rewrite_recomputes_length(http_proxy, origin):
    """F-PCRE-02, F-PCRE-04: a srvdata rewrite of a body with a declared
    length: every match replaced, Content-Length recomputed."""
    port, _ = http_proxy('pcre_rewrite srvdata dunno "o" "0O0"')
    status, hdrs, body = get(port, origin.url("/small"))
    assert status == 200
    assert body == b"hell0O0 fr0O0m 0O0rigin\n"
    assert hdrs["content-length"] == str(len(body))


def test_filtermaxsize_skips_large_bodies(http_proxy, origin):
    """F-PCRE-04: a body longer than filtermaxsize is relayed as is."""
    port, _ = http_proxy('pcre_rewrite srvdata dunno "o" "0O0"',
                         head="filtermaxsize 10\n")
    status, hdrs, body = get(port, origin.url("/small"))
    assert status == 200 and body == b"hello from origin\n"
    assert hdrs["content-length"] == "18"


def test_srvdata_undeclared_bodies_filtered_by_piece(http_proxy, origin):
    """plugins.md 4.2: bodies without a declared length are filtered as
    they are read: a chunked response is re-chunked around the rewritten
    pieces, a close-delimited one rewritten as it streams."""
    port, _ = http_proxy('pcre_rewrite srvdata dunno "second|server" "2"')
    status, hdrs, body = get(port, origin.url("/chunked"), ["--raw"])
    assert status == 200 and hdrs["transfer-encoding"] == "chunked"
    plain = b""
    rest = body
    while True:
        size, _, rest = rest.partition(b"\r\n")
        n = int(size, 16)
        if n == 0:
            break
        plain += rest[:n]
        assert rest[n:n + 2] == b"\r\n"
        rest = rest[n + 2:]
    assert plain == b"first chunk,2," + b"x" * 70000
    status, _, body = get(port, origin.url("/close"))
    assert status == 200 and body == b"until the 2 closes\n" * 100


def test_chunked_request_body_filtered(http_proxy, origin):
    """clidata rules see a chunked request body piece by piece."""
    port, _ = http_proxy('pcre_rewrite clidata dunno "1234" "xxxxxxxx"')
    status, _, body = get(port, origin.url("/echo"),
                          ["-H", "Transfer-Encoding: chunked",
                           "--data-binary", "secret=1234"])
    assert status == 200
    want = b"secret=xxxxxxxx"
    assert json.loads(body)["sha256"] == hashlib.sha256(want).hexdigest()


def test_clidata_rewrite_of_request_body(http_proxy, origin):
    """F-PCRE-02: clidata rewrites a request body; the origin gets the new
    body with its new length."""
    port, _ = http_proxy('pcre_rewrite clidata dunno "1234" "xxxxxxxx"')
    status, _, body = get(port, origin.url("/echo"),
                          ["--data-binary", "secret=1234&again=1234"])
    assert status == 200
    want = b"secret=xxxxxxxx&again=xxxxxxxx"
    info = json.loads(body)
    assert info["len"] == len(want)
    assert info["sha256"] == hashlib.sha256(want).hexdigest()


def test_allow_stops_and_dunno_continues(http_proxy, origin):
    """plugins.md 4.2: `allow` ends the evaluation (the deny after it is
    not reached), `dunno` goes on to the next rule."""
    port, log = http_proxy('pcre request allow "/small\\?ok"\n'
                           'pcre request dunno "/small"\n'
                           'pcre request deny "/small"')
    assert get(port, origin.url("/small?ok"))[0] == 200
    assert get(port, origin.url("/small"))[0] == 503
    assert get(port, origin.url("/echo"))[0] == 200
    wait_rec(log, lambda r: r["text"].endswith("/small HTTP/1.1") and
             r["err"] == "00517")


def test_user_field_limits_rule(proxy, tmp_path, origin):
    """F-PCRE-01: the ACE fields of a rule (here the user) limit it."""
    port, log = free_port(), tmp_path / "px.log"
    proxy("log %s\n%s\nusers alice:CL:pa bob:CL:pb\nauth strong\nallow *\n"
          "pcre request deny * alice\nproxy -p%d\n" % (log, LOGFMT, port),
          wait_ports=[port])
    assert get(port, origin.url("/small"), ["-U", "alice:pa"])[0] == 503
    assert get(port, origin.url("/small"), ["-U", "bob:pb"])[0] == 200
    wait_rec(log, lambda r: r["user"] == "alice" and r["err"] == "00517")


@pytest.mark.parametrize("extend", [False, True],
                         ids=["no-extend", "extend"])
def test_source_field_and_extend(http_proxy, origin, extend):
    """F-PCRE-03: a rule for sources 10.0.0.0/8 does not apply to
    127.0.0.1; `pcre_extend` with 127.0.0.0/8 adds an ACE that does
    (doc/compat.md: the extension works)."""
    rules = 'pcre request deny * * 10.0.0.0/8\n'
    if extend:
        rules += 'pcre_extend * 127.0.0.0/8\n'
    port, _ = http_proxy(rules)
    assert get(port, origin.url("/small"))[0] == (503 if extend else 200)


def test_pcre_options_caseless(http_proxy, origin):
    """F-PCRE-03: pcre_options applies to the rules after it."""
    port, _ = http_proxy('pcre request deny "/SMALL"\n'
                         'pcre_options PCRE2_CASELESS\n'
                         'pcre request deny "/ECHO"')
    assert get(port, origin.url("/small"))[0] == 200
    assert get(port, origin.url("/echo"))[0] == 503


def test_keepalive_after_filtered_body(http_proxy, origin):
    """Two requests on one client connection, both with a filtered
    body: the second is served on the same connection."""
    port, _ = http_proxy('pcre_rewrite srvdata dunno "hello" "bye"')
    req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
           % (origin.url("/small"), origin.port)).encode()
    with connect(port) as s:
        for _ in range(2):
            s.sendall(req)
            status, hdrs, body, _ = read_response(s)
            assert status == 200 and body == b"bye from origin\n"


# --------------------------------------------------------------------------
# SOCKS and the relay
# --------------------------------------------------------------------------

def test_socks_request_deny_517(proxy, tmp_path, echo_server):
    """plugins.md 2.1: SOCKS request filters see "CONNECT host:port"; a
    rejection is logged with 517 and the tunnel is not opened."""
    port, log = free_port(), tmp_path / "px.log"
    proxy(cfg(log, 'pcre request deny "^CONNECT 127\\.0\\.0\\.1:%d$"\n'
              "socks -p%d\n" % (echo_server.port, port)), wait_ports=[port])
    s, rep = socks5_open(port, LOOP4, echo_server.port)
    s.close()
    assert rep.code != 0
    wait_rec(log, lambda r: r["err"] == "00517")
    assert echo_server.accepted == 0


def test_tunnel_data_filtered(proxy, tmp_path, echo_server):
    """Data filters put the relay on its copy path: each chunk of a SOCKS
    tunnel passes clidata and srvdata rules."""
    port, log = free_port(), tmp_path / "px.log"
    proxy(cfg(log, 'pcre_rewrite clidata dunno "ping" "PING"\n'
              'pcre_rewrite srvdata dunno "PING" "pong!"\n'
              "socks -p%d\n" % port), wait_ports=[port])
    s, rep = socks5_open(port, LOOP4, echo_server.port)
    with s:
        assert rep.code == 0
        s.sendall(b"ping")
        assert recv_exact(s, 5) == b"pong!"


def test_connect_tunnel_with_early_data(http_proxy, echo_server):
    """CONNECT: bytes sent with the request head pass the clidata rules
    like the rest of the tunnel."""
    port, _ = http_proxy('pcre_rewrite clidata dunno "ping" "PING"')
    with connect(port) as s:
        s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"ping 1 " % echo_server.port)
        status, _, rest, _ = read_response(s)
        assert status == 200
        got = rest
        while len(got) < 7:
            got += recv_exact(s, 7 - len(got))
        assert got == b"PING 1 "
        s.sendall(b"ping 2")
        assert recv_exact(s, 6) == b"PING 2"


def test_tunnel_data_deny(proxy, tmp_path, echo_server):
    """A srvdata deny ends the tunnel with code 19."""
    port, log = free_port(), tmp_path / "px.log"
    proxy(cfg(log, 'pcre srvdata deny "forbidden"\nsocks -p%d\n' % port),
          wait_ports=[port])
    s, rep = socks5_open(port, LOOP4, echo_server.port)
    with s:
        assert rep.code == 0
        s.sendall(b"fine ")
        assert recv_exact(s, 5) == b"fine "
        s.sendall(b"forbidden")
        s.settimeout(10)
        try:
            assert s.recv(100) == b""
        except ConnectionResetError:
            pass
    wait_rec(log, lambda r: r["err"] == "00019")


# --------------------------------------------------------------------------
# ftppr, smtpp
# --------------------------------------------------------------------------

@pytest.fixture
def ftp_port(tmp_path):
    root = tmp_path / "ftproot"
    (root / "pub").mkdir(parents=True)
    (root / "pub" / "ok.txt").write_bytes(b"harmless\n")
    (root / "pub" / "bad.txt").write_bytes(b"forbidden words\n")
    port, stop = start_ftp(root)
    yield port
    stop()


def assert_refused(e, what):
    """e: the ftplib.error_temp of a filter refusal (plugins.md 5.4)."""
    assert str(e.value) == "421 %s refused: policy violation" % what, \
        e.value


def test_ftppr_request_deny_877(proxy, tmp_path, ftp_port):
    """ftppr: request filters see "user@host:port" before the login at
    the server; a rejection answers PASS with "421 ... policy
    violation" and ends the session with 877."""
    port, log = free_port(), tmp_path / "px.log"
    proxy(cfg(log, 'pcre request deny "^alice@"\nftppr -p%d\n' % port),
          wait_ports=[port])
    with pytest.raises(ftplib.error_temp) as e:
        ftppr_login(port, ftp_port)
    assert_refused(e, "Login")
    wait_rec(log, lambda r: r["err"] == "00877" and
             r["text"].startswith("alice@"))


def test_ftppr_command_deny_878(proxy, tmp_path, ftp_port):
    """ftppr: commands after the login pass cliheader rules; a refused
    one gets "421 ... policy violation", never reaches the server, and
    the session ends with 878."""
    port, log = free_port(), tmp_path / "px.log"
    proxy(cfg(log, 'pcre cliheader deny "^(CWD secret|DELE)"\n'
              'ftppr -p%d\n' % port), wait_ports=[port])
    f = ftppr_login(port, ftp_port)
    f.cwd("pub")
    with pytest.raises(ftplib.error_temp) as e:
        f.cwd("secret")
    assert_refused(e, "Command")
    f.close()
    wait_rec(log, lambda r: r["err"] == "00878")
    f = ftppr_login(port, ftp_port)
    with pytest.raises(ftplib.error_temp) as e:
        f.delete("pub/ok.txt")
    assert_refused(e, "Command")
    f.close()
    assert (tmp_path / "ftproot" / "pub" / "ok.txt").exists()


def test_ftppr_reply_deny_879_and_data_880(proxy, tmp_path, ftp_port):
    """ftppr: replies (the server's and the proxy's PASV answer) pass
    srvheader rules (879); transfer data passes srvdata rules (880);
    both refusals get "421 ... policy violation"."""
    port, log = free_port(), tmp_path / "px.log"
    proxy(cfg(log, 'pcre srvheader deny "^257"\npcre srvdata deny "forbidden"'
              '\nftppr -p%d\n' % port), wait_ports=[port])
    f = ftppr_login(port, ftp_port)
    got = []
    f.retrbinary("RETR pub/ok.txt", got.append)
    assert b"".join(got) == b"harmless\n"
    with pytest.raises(ftplib.error_temp) as e:
        f.retrbinary("RETR pub/bad.txt", got.append)
    assert_refused(e, "Transfer")
    f.close()
    wait_rec(log, lambda r: r["err"] == "00880" and
             r["text"] == "RETR pub/bad.txt")
    f = ftppr_login(port, ftp_port)
    with pytest.raises(ftplib.error_temp) as e:
        f.pwd()
    assert_refused(e, "Reply")
    f.close()
    wait_rec(log, lambda r: r["err"] == "00879")


def test_ftppr_multiline_reply_deny_879(proxy, tmp_path, ftp_port):
    """A srvheader rule refusing a line inside a multi-line reply (FEAT):
    the reply the client saw start is closed, then "421 ... policy
    violation" ends the session (879)."""
    port, log = free_port(), tmp_path / "px.log"
    proxy(cfg(log, 'pcre srvheader deny "^ MDTM"\nftppr -p%d\n' % port),
          wait_ports=[port])
    f = ftppr_login(port, ftp_port)
    resp = f.sendcmd("FEAT")
    assert resp.startswith("211-") and "MDTM" not in resp, resp
    with pytest.raises(ftplib.error_temp) as e:
        f.pwd()
    assert_refused(e, "Reply")
    f.close()
    wait_rec(log, lambda r: r["err"] == "00879")


def test_ftppr_srvdata_big_download_421_880(proxy, tmp_path, ftp_port):
    """ftppr: srvdata rules see every chunk of a download of a few
    hundred KB: a clean file arrives intact, one with the marker is
    aborted with "421 ... policy violation" on the control connection
    and 880 naming the transfer."""
    import io
    root = tmp_path / "ftproot" / "pub"
    clean = bytes(range(256)) * 1200
    # the marker in every KB of the tail, so a read holds one whole
    bad = clean + b"".join(b"MARK-FORBID" + b"." * 1013 for _ in range(100))
    (root / "big.bin").write_bytes(clean)
    (root / "bigbad.bin").write_bytes(bad)
    port, log = free_port(), tmp_path / "px.log"
    proxy(cfg(log, 'pcre srvdata deny "MARK-FORBID"\nftppr -p%d\n' % port),
          wait_ports=[port])
    f = ftppr_login(port, ftp_port)
    got = io.BytesIO()
    f.retrbinary("RETR pub/big.bin", got.write)
    assert hashlib.sha256(got.getvalue()).digest() == \
        hashlib.sha256(clean).digest()
    with pytest.raises(ftplib.error_temp) as e:
        f.retrbinary("RETR pub/bigbad.bin", io.BytesIO().write)
    assert str(e.value).startswith("421") and \
        "policy violation" in str(e.value), e.value
    f.close()
    wait_rec(log, lambda r: r["err"] == "00880" and
             r["text"] == "RETR pub/bigbad.bin")


def test_proxy_ftp_urls_pass_data_rules_517(proxy, tmp_path, ftp_port):
    """proxy: ftp:// downloads (srvdata) and PUT uploads (clidata) pass
    the data rules like ftppr transfers: clean files intact, a marker
    refused with 517 (an upload before its 201: 503), the marker never
    reaching the other side."""
    root = tmp_path / "ftproot" / "pub"
    clean = bytes(range(256)) * 1200
    bad = clean + b"".join(b"MARK-FORBID" + b"." * 1013 for _ in range(100))
    (root / "big.bin").write_bytes(clean)
    (root / "bigbad.bin").write_bytes(bad)
    src_clean, src_bad = tmp_path / "c.bin", tmp_path / "b.bin"
    src_clean.write_bytes(clean)
    src_bad.write_bytes(bad)
    port, log = free_port(), tmp_path / "px.log"
    proxy(cfg(log, 'pcre srvdata,clidata deny "MARK-FORBID"\nproxy -p%d\n'
              % port), wait_ports=[port])
    url = "ftp://alice:wonderland@127.0.0.1:%d/pub/" % ftp_port
    px = ["-x", "127.0.0.1:%d" % port]
    r = curl(px + [url + "big.bin"])
    assert r.returncode == 0, r.stderr
    assert hashlib.sha256(r.stdout).digest() == hashlib.sha256(clean).digest()
    r = curl(px + [url + "bigbad.bin"])
    assert b"MARK-FORBID" not in r.stdout and len(r.stdout) < len(bad)
    wait_rec(log, lambda r: r["err"] == "00517" and "bigbad" in r["text"])
    r = curl(px + ["-T", str(src_clean), url + "up.bin"])
    assert r.returncode == 0, r.stderr
    assert (root / "up.bin").read_bytes() == clean
    r = curl(px + ["-w", "%{http_code}", "-T", str(src_bad),
                   url + "upbad.bin"])
    assert r.stdout.endswith(b"503"), r.stdout[-200:]
    wait_rec(log, lambda r: r["err"] == "00517" and "upbad" in r["text"])
    up = root / "upbad.bin"
    assert not up.exists() or b"MARK-FORBID" not in up.read_bytes()


@pytest.fixture
def smtp_server():
    controller_mod = pytest.importorskip("aiosmtpd.controller")
    from aiosmtpd.smtp import AuthResult

    class Handler:
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.rcpt_tos, envelope.content))
            return "250 OK"

    handler = Handler()
    port = free_port()
    ctl = controller_mod.Controller(
        handler, hostname=LOOP4, port=port,
        authenticator=lambda *a: AuthResult(success=True),
        auth_required=True, auth_require_tls=False)
    ctl.start()
    handler.port = port
    yield handler
    ctl.stop()


def smtp_auth_plain(c, user, password):
    """AUTH PLAIN by hand: smtplib's login() would try another mechanism
    on the closed connection and hide the reply."""
    import base64
    token = base64.b64encode(b"\0" + user.encode() + b"\0" +
                             password.encode()).decode()
    return c.docmd("AUTH", "PLAIN " + token)


def test_smtpp_request_deny_617(proxy, tmp_path, smtp_server):
    """smtpp: request filters see the target host; a refused one gets
    "421 ... policy violation" (617)."""
    port, log = free_port(), tmp_path / "px.log"
    proxy(cfg(log, 'pcre request deny "^127\\.0\\.0\\.1$"\nsmtpp -p%d\n'
              % port), wait_ports=[port])
    c = smtplib.SMTP(LOOP4, port, timeout=10)
    c.ehlo("client.test")
    code, msg = smtp_auth_plain(c, "mailer@127.0.0.1:%d" % smtp_server.port,
                                "pw")
    assert (code, msg) == (421, b"Request refused: policy violation")
    c.close()
    wait_rec(log, lambda r: r["err"] == "00617")


def test_smtpp_commands_and_data(proxy, tmp_path, smtp_server):
    """smtpp under filters: message lines pass clidata rewrites, server
    replies srvheader rewrites, and a RCPT matching a cliheader deny
    ends the session with 676."""
    port, log = free_port(), tmp_path / "px.log"
    proxy(cfg(log, 'pcre_rewrite clidata dunno "secret" "[censored]"\n'
              'pcre_rewrite srvheader dunno "^250 OK" "250 Fine"\n'
              'pcre cliheader deny "(?i)^rcpt to:<blocked@"\nsmtpp -p%d\n'
              % port), wait_ports=[port])
    c = smtplib.SMTP(LOOP4, port, timeout=10)
    c.ehlo("client.test")
    c.login("mailer@127.0.0.1:%d" % smtp_server.port, "pw")
    c.mail("a@example.org")
    c.rcpt("b@example.org")
    code, msg = c.data(b"Subject: x\r\n\r\nthe secret word\r\n")
    assert code == 250 and msg == b"Fine"
    assert smtp_server.messages[0][0] == ["b@example.org"]
    assert b"the [censored] word" in smtp_server.messages[0][1]
    c.mail("a@example.org")
    assert c.rcpt("blocked@example.org") == \
        (421, b"Command refused: policy violation")
    c.close()
    wait_rec(log, lambda r: r["err"] == "00676")
    assert len(smtp_server.messages) == 1


def smtp_session(port, smtp_server):
    """A client logged in through smtpp with MAIL and RCPT done."""
    c = smtplib.SMTP(LOOP4, port, timeout=15)
    c.ehlo("client.test")
    c.login("mailer@127.0.0.1:%d" % smtp_server.port, "pw")
    c.mail("a@example.org")
    c.rcpt("b@example.org")
    return c


def test_smtpp_refused_message_421_not_delivered(proxy, tmp_path,
                                                 smtp_server):
    """A message line matching a clidata deny: the client, having sent
    the whole message (a few hundred KB after the marker), reads
    "421 ... policy violation"; the server never gets the message's "."
    and delivers nothing (676).  A clean message still goes through."""
    port, log = free_port(), tmp_path / "px.log"
    proxy(cfg(log, 'pcre clidata deny "MARK-FORBID"\nsmtpp -p%d\n' % port),
          wait_ports=[port])
    c = smtp_session(port, smtp_server)
    assert c.data(b"Subject: ok\r\n\nclean text\r\n")[0] == 250
    c.close()
    assert len(smtp_server.messages) == 1
    body = (b"Subject: bad\r\n\nfirst line\r\nMARK-FORBID here\r\n" +
            b"".join(b"line %06d of the tail\r\n" % i
                     for i in range(20000)))
    c = smtp_session(port, smtp_server)
    assert c.data(body) == (421, b"Message refused: policy violation")
    c.close()
    wait_rec(log, lambda r: r["err"] == "00676")
    assert len(smtp_server.messages) == 1


def test_smtpp_refused_reply_677(proxy, tmp_path, smtp_server):
    """A server reply matching a srvheader deny (the 354 that opens the
    message): the client gets "421 ... policy violation", the server's
    connection is reset while it waits for message text, so nothing is
    delivered (677)."""
    port, log = free_port(), tmp_path / "px.log"
    proxy(cfg(log, 'pcre srvheader deny "^354"\nsmtpp -p%d\n' % port),
          wait_ports=[port])
    c = smtp_session(port, smtp_server)
    with pytest.raises(smtplib.SMTPDataError) as e:
        c.data(b"Subject: x\r\n\ntext\r\n")
    assert (e.value.smtp_code, e.value.smtp_error) == \
        (421, b"Reply refused: policy violation")
    c.close()
    wait_rec(log, lambda r: r["err"] == "00677")
    assert smtp_server.messages == []


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------

def test_reload_replaces_rules(proxy, tmp_path, origin):
    """plugins.md 4: rules are re-created at reload."""
    port, log = free_port(), tmp_path / "px.log"
    path = tmp_path / "px.cfg"
    path.write_text(cfg(log, 'pcre request deny "/small"\nproxy -p%d\n'
                        % port))
    d = proxy(path, wait_ports=[port])
    assert get(port, origin.url("/small"))[0] == 503
    assert get(port, origin.url("/echo"))[0] == 200
    path.write_text(cfg(log, 'pcre request deny "/echo"\nproxy -p%d\n'
                        % port))
    d.send_signal(signal.SIGUSR1)
    wait_until(lambda: get(port, origin.url("/echo"))[0] == 503,
               timeout=10, what="the new rule in force")
    assert get(port, origin.url("/small"))[0] == 200


def test_bad_regex_is_a_config_error(run3proxy, cfgfile):
    """F-PCRE-01: a regex that does not compile is `file:line:` and a
    non-zero exit, also with --check."""
    path = cfgfile('allow *\npcre request deny "a(b"\nproxy -p%d\n'
                   % free_port())
    for args in ([path], ["--check", path]):
        r = run3proxy(args)
        assert r.rc != 0
        assert "px.cfg:2: pcre: bad regex" in r.err


def test_bad_action_and_pcre_plugin(run3proxy, cfgfile):
    """An unknown action is refused; `plugin ... pcre_plugin` is a no-op
    (F-PLUG-11)."""
    r = run3proxy(["--check", cfgfile('pcre request block x\n')])
    assert r.rc != 0 and "px.cfg:1: pcre: unknown action 'block'" in r.err
    r = run3proxy(["--check", cfgfile('plugin /nowhere/pcre.ld.so '
                                      'pcre_plugin\npcre request deny x\n')])
    assert r.rc == 0, r.err


def test_help_names_pcre(run3proxy):
    r = run3proxy(["-h"])
    assert "built-in PCRE: PCRE2" in r.err + r.out
