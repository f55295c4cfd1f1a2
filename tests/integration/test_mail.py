"""pop3p, smtpp and imapp (F-MAIL-01, F-MAIL-02, F-MAIL-03): real
stdlib clients (poplib, smtplib, imaplib) through the proxies to local
servers the tests start (scripted POP3/IMAP servers, aiosmtpd for SMTP).

Each case states the config, what the server must receive (the user
without the @host part, and the password), what the client gets and the
log record with its %E code.
"""

import base64
import imaplib
import poplib
import smtplib

import pytest

from conftest import (LOOP4, connect, free_port, split_records, unused_port,
                      wait_split_record)
from socks_util import socks5_open

# "L": local time (the first character selects it and is not written)
LOGFMT = 'logformat "L%N|%E|%U|%C|%c|%R|%r|%h|%T"'
FIELDS = ("svc", "err", "user", "cip", "cport", "rip", "rport", "hops",
          "text")


def records(path):
    return split_records(path, FIELDS)


def wait_rec(path, pred, timeout=10.0):
    return wait_split_record(path, FIELDS, pred, timeout)


def cfg(log, body):
    return "log %s\n%s\ninternal 127.0.0.1\n%s" % (log, LOGFMT, body)


def readline(conn, f):
    line = f.readline(4096)
    return line.decode("latin-1").rstrip("\r\n")


# --------------------------------------------------------------------------
# scripted servers
# --------------------------------------------------------------------------

# The proxies read lines of up to 1023 bytes; a test sends exactly that
# many without a line end, so the proxy has read everything when it
# answers (unread bytes would turn its close into a reset).
OVERLONG = 1023

MESSAGE = b"From: a@example.org\r\nSubject: hi\r\n\r\nhello there\r\n"


def pop3_handler(conn, server):
    """A tiny POP3 server with one message; records USER and PASS."""
    f = conn.makefile("rb")
    conn.sendall(b"+OK test pop3 ready\r\n")
    for _ in range(50):
        line = readline(conn, f)
        if not line:
            return
        cmd, _, arg = line.partition(" ")
        cmd = cmd.upper()
        if cmd in ("USER", "PASS"):
            server.add_result((cmd, arg))
            conn.sendall(b"+OK\r\n")
        elif cmd == "STAT":
            conn.sendall(b"+OK 1 %d\r\n" % len(MESSAGE))
        elif cmd == "LIST":
            conn.sendall(b"+OK 1 messages\r\n1 %d\r\n.\r\n" % len(MESSAGE))
        elif cmd == "RETR":
            conn.sendall(b"+OK\r\n" + MESSAGE + b".\r\n")
        elif cmd == "QUIT":
            conn.sendall(b"+OK bye\r\n")
            return
        else:
            conn.sendall(b"-ERR unknown\r\n")


def make_imap_handler(capa):
    """A tiny IMAP server advertising ``capa`` in its greeting; accepts
    LOGIN and AUTHENTICATE PLAIN and records what it was given."""
    def handler(conn, server):
        f = conn.makefile("rb")
        conn.sendall(b"* OK [CAPABILITY IMAP4rev1%s] test imap ready\r\n"
                     % capa.encode())
        for _ in range(50):
            line = readline(conn, f)
            if not line:
                return
            tag, _, rest = line.partition(" ")
            cmd, _, arg = rest.partition(" ")
            cmd = cmd.upper()
            if cmd == "LOGIN":
                server.add_result(("LOGIN", tag, arg))
                conn.sendall(b"%s OK LOGIN completed\r\n" % tag.encode())
            elif cmd == "AUTHENTICATE" and arg.upper() == "PLAIN":
                conn.sendall(b"+ \r\n")
                dec = base64.b64decode(readline(conn, f))
                server.add_result(("PLAIN", tag, dec))
                conn.sendall(b"%s OK AUTHENTICATE completed\r\n"
                             % tag.encode())
            elif cmd == "CAPABILITY":
                conn.sendall(b"* CAPABILITY IMAP4rev1%s\r\n%s OK done\r\n"
                             % (capa.encode(), tag.encode()))
            elif cmd == "SELECT":
                conn.sendall(b"* 1 EXISTS\r\n* FLAGS (\\Seen)\r\n"
                             b"%s OK [READ-WRITE] SELECT completed\r\n"
                             % tag.encode())
            elif cmd == "FETCH":
                conn.sendall(b"* 1 FETCH (RFC822 {%d}\r\n%s)\r\n"
                             b"%s OK FETCH completed\r\n"
                             % (len(MESSAGE), MESSAGE, tag.encode()))
            elif cmd == "LOGOUT":
                conn.sendall(b"* BYE\r\n%s OK LOGOUT completed\r\n"
                             % tag.encode())
                return
            else:
                conn.sendall(b"%s BAD unknown\r\n" % tag.encode())
    return handler


@pytest.fixture
def smtp_server():
    """aiosmtpd on loopback requiring AUTH (without TLS); records the
    credentials and the messages."""
    controller_mod = pytest.importorskip("aiosmtpd.controller")
    from aiosmtpd.smtp import AuthResult

    class Handler:
        def __init__(self):
            self.messages = []
            self.logins = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.mail_from, envelope.rcpt_tos,
                                  envelope.content))
            return "250 OK"

    handler = Handler()

    def authenticator(server, session, envelope, mechanism, auth_data):
        handler.logins.append((mechanism, auth_data.login,
                               auth_data.password))
        ok = auth_data.login == b"mailer" and auth_data.password == b"s3cret"
        return AuthResult(success=ok)

    port = free_port()
    ctl = controller_mod.Controller(
        handler, hostname=LOOP4, port=port, authenticator=authenticator,
        auth_required=True, auth_require_tls=False)
    ctl.start()
    handler.port = port
    yield handler
    ctl.stop()


# --------------------------------------------------------------------------
# POP3 (F-MAIL-01)
# --------------------------------------------------------------------------

def test_pop3_session(proxy, tmp_path, tcp_server):
    """F-MAIL-01: USER alice@host:port reaches the server as USER alice,
    PASS and the mailbox session (LIST, RETR) are relayed; %T is
    alice@host:port and the record has code 0."""
    srv = tcp_server(pop3_handler)
    port, log = free_port(), tmp_path / "p.log"
    proxy(cfg(log, "auth iponly\nallow *\npop3p -p%d\n" % port),
          wait_ports=[port])
    p = poplib.POP3(LOOP4, port, timeout=10)
    assert p.getwelcome() == b"+OK Proxy"
    p.user("alice@127.0.0.1:%d" % srv.port)
    p.pass_("pw1")
    resp, listing, _ = p.list()
    assert listing == [b"1 %d" % len(MESSAGE)]
    resp, lines, _ = p.retr(1)
    assert b"\r\n".join(lines) + b"\r\n" == MESSAGE
    p.quit()
    assert srv.wait_results(2)[:2] == [("USER", "alice"), ("PASS", "pw1")]
    r = wait_rec(log, lambda r: r["text"].startswith("alice@"))
    assert r["err"] == "00000"
    assert r["text"] == "alice@127.0.0.1:%d" % srv.port
    assert r["rport"] == str(srv.port)


def test_pop3_without_host_and_commands_before_user(proxy, tmp_path):
    """F-MAIL-01: commands before USER get `-ERR need USER first`; USER
    without @host (no -h) is answered -ERR and logged 615."""
    port, log = free_port(), tmp_path / "p.log"
    proxy(cfg(log, "auth iponly\nallow *\npop3p -p%d\n" % port),
          wait_ports=[port])
    p = poplib.POP3(LOOP4, port, timeout=10)
    with pytest.raises(poplib.error_proto) as e:
        p._shortcmd("STAT")
    assert b"need USER first" in e.value.args[0]
    with pytest.raises(poplib.error_proto) as e:
        p.user("alice")
    assert e.value.args[0] == b"-ERR"
    p.close()
    wait_rec(log, lambda r: r["err"] == "00615")


def test_pop3_quit_before_login(proxy, tmp_path):
    port, log = free_port(), tmp_path / "p.log"
    proxy(cfg(log, "auth iponly\nallow *\npop3p -p%d\n" % port),
          wait_ports=[port])
    p = poplib.POP3(LOOP4, port, timeout=10)
    assert p.quit() == b"+OK"
    wait_rec(log, lambda r: r["svc"] == "POP3P" and r["err"] == "00000")


def test_pop3_acl_deny(proxy, tmp_path, tcp_server):
    """acl-auth.md 8: a denied POP3 login gets `-ERR`; code 1 (deny) is
    logged and the server sees no connection."""
    srv = tcp_server(pop3_handler)
    port, log = free_port(), tmp_path / "p.log"
    proxy(cfg(log, "auth iponly\ndeny * * * %d\nallow *\npop3p -p%d\n"
              % (srv.port, port)), wait_ports=[port])
    p = poplib.POP3(LOOP4, port, timeout=10)
    with pytest.raises(poplib.error_proto) as e:
        p.user("alice@127.0.0.1:%d" % srv.port)
    assert e.value.args[0] == b"-ERR"
    p.close()
    wait_rec(log, lambda r: r["err"] == "00001")
    assert srv.accepted == 0


def test_pop3_server_down(proxy, tmp_path):
    """A refused connection: `-ERR` and code 13."""
    port, log, dead = free_port(), tmp_path / "p.log", unused_port()
    proxy(cfg(log, "auth iponly\nallow *\npop3p -p%d\n" % port),
          wait_ports=[port])
    p = poplib.POP3(LOOP4, port, timeout=10)
    with pytest.raises(poplib.error_proto) as e:
        p.user("alice@127.0.0.1:%d" % dead)
    assert e.value.args[0] == b"-ERR"
    p.close()
    wait_rec(log, lambda r: r["err"] == "00013")


def test_pop3_overlong_line(proxy, tmp_path):
    """A line longer than the proxy's limit (1023 bytes without a line
    end) is an error (-ERR, 612), not silently cut."""
    port, log = free_port(), tmp_path / "p.log"
    proxy(cfg(log, "auth iponly\nallow *\npop3p -p%d\n" % port),
          wait_ports=[port])
    with connect(port) as s:
        f = s.makefile("rb")
        assert f.readline() == b"+OK Proxy\r\n"
        s.sendall(b"USER " + b"a" * (OVERLONG - 5))
        assert f.readline() == b"-ERR\r\n"
    wait_rec(log, lambda r: r["err"] == "00612")


def test_pop3_greeting_loop_protection(proxy, tmp_path):
    """A server greeting `+OK Proxy` (the proxy itself) is refused: 622."""
    port, log = free_port(), tmp_path / "p.log"
    proxy(cfg(log, "auth iponly\nallow *\npop3p -p%d\n" % port),
          wait_ports=[port])
    p = poplib.POP3(LOOP4, port, timeout=10)
    with pytest.raises(poplib.error_proto):
        p.user("alice@127.0.0.1:%d" % port)
    p.close()
    wait_rec(log, lambda r: r["err"] == "00622")


def test_pop3_local_redirection_from_socks(proxy, tmp_path, tcp_server):
    """F-PAR-06: `parent 1000 pop3 0.0.0.0 0` hands a SOCKS5 CONNECT to
    the pop3 parser; the POP3 login is checked against the ACL again
    (without the redirecting ACE): one server passes, the denied one
    gets -ERR with code 1.  Records keep the SOCKS service name."""
    good, bad = tcp_server(pop3_handler), tcp_server(pop3_handler)
    port, log = free_port(), tmp_path / "r.log"
    proxy(cfg(log, "auth iponly\n"
              "allow * * * 110\nparent 1000 pop3 0.0.0.0 0\n"
              "allow * * * %d\n"
              "socks -p%d\n" % (good.port, port)), wait_ports=[port])
    s, rep = socks5_open(port, LOOP4, 110)
    with s:
        assert rep.code == 0
        f = s.makefile("rb")
        assert f.readline() == b"+OK Proxy\r\n"
        s.sendall(b"USER bob@127.0.0.1:%d\r\n" % good.port)
        assert f.readline() == b"+OK\r\n"
        s.sendall(b"PASS pw2\r\nQUIT\r\n")
        assert f.readline() == b"+OK\r\n"
        assert f.readline() == b"+OK bye\r\n"
        f.close()    # the file holds the socket open otherwise
    assert good.wait_results(2)[:2] == [("USER", "bob"), ("PASS", "pw2")]
    r = wait_rec(log, lambda r: r["text"].startswith("bob@"))
    assert r["svc"] == "SOCK5" and r["err"] == "00000"
    assert r["rport"] == str(good.port)

    s, rep = socks5_open(port, LOOP4, 110)
    with s:
        assert rep.code == 0
        f = s.makefile("rb")
        assert f.readline() == b"+OK Proxy\r\n"
        s.sendall(b"USER eve@127.0.0.1:%d\r\n" % bad.port)
        assert f.readline() == b"-ERR\r\n"
    r = wait_rec(log, lambda r: r["text"].startswith("eve@"))
    assert r["svc"] == "SOCK5" and r["err"] == "00003"
    assert bad.accepted == 0


# --------------------------------------------------------------------------
# SMTP (F-MAIL-02)
# --------------------------------------------------------------------------

def test_smtp_auth_and_send(proxy, tmp_path, smtp_server):
    """F-MAIL-02: AUTH PLAIN as mailer@host:port to the proxy; the proxy
    logs in to the server as `mailer` (AUTH LOGIN, preferred) and the
    mail is delivered."""
    port, log = free_port(), tmp_path / "s.log"
    proxy(cfg(log, "auth iponly\nallow *\nsmtpp -p%d\n" % port),
          wait_ports=[port])
    c = smtplib.SMTP(LOOP4, port, timeout=10)
    code, msg = c.ehlo("client.test")
    assert code == 250 and c.has_extn("auth")
    assert c.has_extn("starttls")     # F-MAIL-06: offered unless -x
    c.login("mailer@127.0.0.1:%d" % smtp_server.port, "s3cret")
    c.sendmail("a@example.org", ["b@example.org"], MESSAGE)
    c.quit()
    assert smtp_server.logins == [("LOGIN", b"mailer", b"s3cret")]
    assert len(smtp_server.messages) == 1
    frm, rcpt, content = smtp_server.messages[0]
    assert frm == "a@example.org" and rcpt == ["b@example.org"]
    assert b"hello there" in content
    r = wait_rec(log, lambda r: r["text"].startswith("mailer@"))
    assert r["err"] == "00000"
    assert r["text"] == "mailer@127.0.0.1:%d" % smtp_server.port


def test_smtp_plain_to_server_and_refusal(proxy, tmp_path, tcp_server):
    """A server offering only AUTH PLAIN gets `\\0user\\0password`; its
    refusal (535) reaches the client, which used AUTH LOGIN."""
    seen = []

    def handler(conn, server):
        f = conn.makefile("rb")
        conn.sendall(b"220-test smtp\r\n220 ready\r\n")
        for _ in range(20):
            line = readline(conn, f)
            if not line:
                return
            seen.append(line)
            if line.startswith("EHLO"):
                conn.sendall(b"250-test\r\n250 AUTH PLAIN\r\n")
            elif line.startswith("AUTH PLAIN "):
                conn.sendall(b"535 5.7.8 no\r\n")
            elif line.startswith("QUIT"):
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"500 what\r\n")
    srv = tcp_server(handler)
    port, log = free_port(), tmp_path / "s.log"
    proxy(cfg(log, "auth iponly\nallow *\nsmtpp -p%d\n" % port),
          wait_ports=[port])
    c = smtplib.SMTP(LOOP4, port, timeout=10)
    c.ehlo()
    c.esmtp_features["auth"] = "LOGIN"
    with pytest.raises(smtplib.SMTPAuthenticationError) as e:
        c.login("mailer@127.0.0.1:%d" % srv.port, "wrong")
    assert e.value.smtp_code == 535
    c.close()
    assert seen[0] == "EHLO [127.0.0.1]"
    assert seen[1] == "AUTH PLAIN " + base64.b64encode(
        b"\0mailer\0wrong").decode()


def test_smtp_need_auth_and_no_host(proxy, tmp_path):
    """Without -h a command before AUTH gets `571 need AUTH first`; a
    login without @host ends with `571 ` (668)."""
    port, log = free_port(), tmp_path / "s.log"
    proxy(cfg(log, "auth iponly\nallow *\nsmtpp -p%d\n" % port),
          wait_ports=[port])
    c = smtplib.SMTP(LOOP4, port, timeout=10)
    c.ehlo()
    c.esmtp_features["auth"] = "PLAIN"    # one attempt only
    code, msg = c.mail("a@example.org")
    assert code == 571 and msg == b"need AUTH first"
    with pytest.raises(smtplib.SMTPAuthenticationError) as e:
        c.login("mailer", "s3cret")
    assert e.value.smtp_code == 571
    c.close()
    wait_rec(log, lambda r: r["err"] == "00668")


def test_smtp_acl_deny(proxy, tmp_path, smtp_server):
    """acl-auth.md 8: denied -> `571 ` and code 1."""
    port, log = free_port(), tmp_path / "s.log"
    proxy(cfg(log, "auth iponly\ndeny * * * %d\nallow *\nsmtpp -p%d\n"
              % (smtp_server.port, port)), wait_ports=[port])
    with connect(port) as s:
        f = s.makefile("rb")
        assert f.readline() == b"220 Proxy\r\n"
        cred = base64.b64encode(b"\0mailer@127.0.0.1:%d\0s3cret"
                                % smtp_server.port)
        s.sendall(b"AUTH PLAIN " + cred + b"\r\n")
        assert f.readline() == b"571 \r\n"
    wait_rec(log, lambda r: r["err"] == "00001")
    assert smtp_server.logins == []


def test_smtp_server_down_and_overlong(proxy, tmp_path):
    """Refused connection -> `571 ` and 13; an overlong line -> `571 `
    and 662."""
    port, log, dead = free_port(), tmp_path / "s.log", unused_port()
    proxy(cfg(log, "auth iponly\nallow *\nsmtpp -p%d\n" % port),
          wait_ports=[port])
    c = smtplib.SMTP(LOOP4, port, timeout=10)
    c.ehlo()
    c.esmtp_features["auth"] = "PLAIN"    # one attempt only
    with pytest.raises(smtplib.SMTPAuthenticationError) as e:
        c.login("mailer@127.0.0.1:%d" % dead, "x")
    assert e.value.smtp_code == 571
    c.close()
    wait_rec(log, lambda r: r["err"] == "00013")
    with connect(port) as s:
        f = s.makefile("rb")
        assert f.readline() == b"220 Proxy\r\n"
        s.sendall(b"EHLO " + b"x" * (OVERLONG - 5))
        assert f.readline() == b"571 \r\n"
    wait_rec(log, lambda r: r["err"] == "00662")


def test_smtp_default_host(proxy, tmp_path, tcp_server):
    """-h: without AUTH the first other command is replayed to the
    default host after EHLO."""
    seen = []

    def handler(conn, server):
        f = conn.makefile("rb")
        conn.sendall(b"220 test smtp\r\n")
        for _ in range(20):
            line = readline(conn, f)
            if not line:
                return
            seen.append(line)
            if line.startswith("EHLO"):
                conn.sendall(b"250-test\r\n250 8BITMIME\r\n")
            elif line.startswith("QUIT"):
                conn.sendall(b"221 bye\r\n")
                return
            else:
                conn.sendall(b"250 ok\r\n")
    srv = tcp_server(handler)
    port, log = free_port(), tmp_path / "s.log"
    proxy(cfg(log, "auth iponly\nallow *\nsmtpp -p%d -h127.0.0.1:%d\n"
              % (port, srv.port)), wait_ports=[port])
    c = smtplib.SMTP(LOOP4, port, timeout=10)
    c.ehlo()
    assert c.mail("a@example.org") == (250, b"ok")
    assert c.rcpt("b@example.org") == (250, b"ok")
    c.quit()
    assert seen[0] == "EHLO [127.0.0.1]"
    assert [l.upper() for l in seen[1:4]] == [
        "MAIL FROM:<A@EXAMPLE.ORG>", "RCPT TO:<B@EXAMPLE.ORG>", "QUIT"]


# --------------------------------------------------------------------------
# IMAP (F-MAIL-03)
# --------------------------------------------------------------------------

@pytest.mark.parametrize("capa,method", [("", "LOGIN"),
                                         (" AUTH=PLAIN", "PLAIN")])
def test_imap_session(proxy, tmp_path, tcp_server, capa, method):
    """F-MAIL-03: LOGIN user@host:port; the server gets the user without
    @host with the client's tag, by the LOGIN command or, when it offers
    AUTH=PLAIN, AUTHENTICATE PLAIN; SELECT and FETCH are relayed."""
    srv = tcp_server(make_imap_handler(capa))
    port, log = free_port(), tmp_path / "i.log"
    proxy(cfg(log, "auth iponly\nallow *\nimapp -p%d\n" % port),
          wait_ports=[port])
    m = imaplib.IMAP4(LOOP4, port, timeout=10)
    assert "AUTH=PLAIN" in m.capabilities
    typ, _ = m.login("carol@127.0.0.1:%d" % srv.port, 'p"w')
    assert typ == "OK"
    typ, dat = m.select("INBOX")
    assert typ == "OK" and dat == [b"1"]
    typ, dat = m.fetch("1", "(RFC822)")
    assert typ == "OK" and dat[0][1] == MESSAGE
    m.logout()
    got = srv.wait_results(1)[0]
    assert got[0] == method
    if method == "LOGIN":
        assert got[2] == 'carol "p\\"w"' or got[2] == '"carol" "p\\"w"'
    else:
        assert got[2] == b"\0carol\0p\"w"
    r = wait_rec(log, lambda r: r["text"].startswith("carol@"))
    assert r["err"] == "00000"
    assert r["text"] == "carol@127.0.0.1:%d" % srv.port


def test_imap_errors(proxy, tmp_path, tcp_server):
    """Before login: other commands get `BAD need LOGIN first`; login
    without @host -> `<tag> NO proxy error` (694); ACL deny -> NO and
    code 1; server down -> NO and 13; overlong line -> `* NO` (692)."""
    srv = tcp_server(make_imap_handler(""))
    port, log, dead = free_port(), tmp_path / "i.log", unused_port()
    proxy(cfg(log, "auth iponly\ndeny * * * %d\nallow *\nimapp -p%d\n"
              % (srv.port, port)), wait_ports=[port])

    def attempt(line):
        with connect(port) as s:
            f = s.makefile("rb")
            assert f.readline().startswith(b"* OK [CAPABILITY IMAP4rev1 ")
            s.sendall(b"a1 NOOP\r\n")
            assert f.readline() == b"a1 BAD need LOGIN first\r\n"
            s.sendall(line)
            return f.readline()

    assert attempt(b"a2 LOGIN carol pw\r\n") == b"a2 NO proxy error\r\n"
    wait_rec(log, lambda r: r["err"] == "00694")
    assert attempt(b"a3 LOGIN carol@127.0.0.1:%d pw\r\n" % srv.port) == \
        b"a3 NO proxy error\r\n"
    wait_rec(log, lambda r: r["err"] == "00001")
    assert srv.accepted == 0
    assert attempt(b"a4 LOGIN carol@127.0.0.1:%d pw\r\n" % dead) == \
        b"a4 NO proxy error\r\n"
    wait_rec(log, lambda r: r["err"] == "00013")
    with connect(port) as s:
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"a5 LOGIN " + b"x" * (OVERLONG - 9))
        assert f.readline() == b"* NO proxy error\r\n"
    wait_rec(log, lambda r: r["err"] == "00692")


def test_mail_services_start_check(run3proxy, tmp_path):
    """The three services are accepted by --check (they were refused as
    not built before)."""
    c = tmp_path / "m.cfg"
    c.write_text("allow *\npop3p -p%d\nsmtpp -p%d -x\nimapp -p%d "
                 "-hmail.example.net\n" % (free_port(), free_port(),
                                           free_port()))
    r = run3proxy(["--check", c])
    assert r.rc == 0, r.err
