"""STARTTLS through tlspr -Xpop3/-Ximap/-Xsmtp and the hand-off from
pop3p, smtpp and imapp (F-TLSPR-04, F-MAIL-06, F-TLSPR-01, F-TLSPR-06;
services.md 9.3, sections 5-7).

The origin is a scripted POP3/IMAP/SMTP server that offers STARTTLS and
then speaks TLS (Python's ssl module) with a certificate openssl makes
for the run.  The clients are poplib (stls), imaplib (starttls) and
smtplib (starttls): they verify the origin's certificate for "localhost",
so the TLS session runs end to end and the proxy only routes it by SNI.
Each case checks what the client got, what the origin saw after TLS and
the access record with its %E code.
"""

import imaplib
import poplib
import smtplib
import socket
import ssl
import threading

import pytest

from conftest import (LOOP4, connect, free_port, split_records,
                      wait_split_record)
from http_util import make_cert

LOGFMT = 'logformat "L%N|%E|%C|%R|%r|%T"'
FIELDS = ("svc", "err", "cip", "rip", "rport", "text")
ALERT = b"\x15\x03\x01\x00\x02\x02\x28"


def records(path):
    return split_records(path, FIELDS)


def wait_rec(path, pred, timeout=10.0):
    return wait_split_record(path, FIELDS, pred, timeout)


def sess(r, svc):
    """A session record of service svc (not a listener notice)."""
    return r["svc"] == svc and not r["text"].startswith(
        ("Accepting connections", "Exiting thread"))


def head(log, body):
    return "log %s\n%s\ninternal 127.0.0.1\nauth iponly\nallow *\n%s" % (
        log, LOGFMT, body)


# --------------------------------------------------------------------------
# the scripted origin
# --------------------------------------------------------------------------

class MailTlsServer:
    """POP3, IMAP or SMTP with STARTTLS.  mode: "ok", "nocapa" (STARTTLS
    not announced) or "refuse" (announced, then refused).  .plain lists
    the commands read before TLS, .secure those read over TLS."""

    def __init__(self, proto, cert, mode="ok"):
        self.proto, self.mode = proto, mode
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(str(cert[0]), str(cert[1]))
        self.plain, self.secure = [], []
        self.sock = socket.socket()
        self.sock.bind((LOOP4, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = False
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()

    def _loop(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    @staticmethod
    def _line(conn):
        """One line read byte by byte: nothing after it is consumed, so
        the ClientHello stays for the TLS layer."""
        buf = b""
        while not buf.endswith(b"\n") and len(buf) < 4096:
            c = conn.recv(1)
            if not c:
                return None
            buf += c
        return buf.decode("latin-1").rstrip("\r\n")

    def _serve(self, conn):
        try:
            conn.settimeout(10)
            s = getattr(self, "_plain_" + self.proto)(conn)
            if s is not None:
                with s:
                    getattr(self, "_secure_" + self.proto)(s)
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def _tls(self, conn):
        return self.ctx.wrap_socket(conn, server_side=True)

    def _plain_pop3(self, conn):
        conn.sendall(b"+OK test pop3 ready\r\n")
        while True:
            line = self._line(conn)
            if line is None:
                return None
            self.plain.append(line)
            cmd = line.upper()
            if cmd == "CAPA":
                stls = b"" if self.mode == "nocapa" else b"STLS\r\n"
                conn.sendall(b"+OK\r\nUSER\r\n" + stls + b".\r\n")
            elif cmd == "STLS" and self.mode == "ok":
                conn.sendall(b"+OK begin\r\n")
                return self._tls(conn)
            else:
                conn.sendall(b"-ERR not now\r\n")

    def _secure_pop3(self, s):
        f = s.makefile("rb")
        while True:
            line = f.readline(4096).decode().rstrip("\r\n")
            if not line:
                return
            self.secure.append(line)
            cmd = line.split(" ")[0].upper()
            if cmd == "CAPA":
                s.sendall(b"+OK\r\nUSER\r\n.\r\n")
            elif cmd == "STAT":
                s.sendall(b"+OK 3 300\r\n")
            elif cmd == "QUIT":
                s.sendall(b"+OK bye\r\n")
                return
            else:
                s.sendall(b"+OK\r\n")

    def _plain_imap(self, conn):
        conn.sendall(b"* OK test imap ready\r\n")
        while True:
            line = self._line(conn)
            if line is None:
                return None
            self.plain.append(line)
            tag, _, cmd = line.partition(" ")
            cmd = cmd.upper()
            if cmd == "CAPABILITY":
                st = b"" if self.mode == "nocapa" else b" STARTTLS"
                conn.sendall(b"* CAPABILITY IMAP4rev1%s LOGINDISABLED\r\n"
                             b"%s OK done\r\n" % (st, tag.encode()))
            elif cmd == "STARTTLS" and self.mode == "ok":
                conn.sendall(b"%s OK begin\r\n" % tag.encode())
                return self._tls(conn)
            else:
                conn.sendall(b"%s BAD not now\r\n" % tag.encode())

    def _secure_imap(self, s):
        f = s.makefile("rb")
        while True:
            line = f.readline(4096).decode().rstrip("\r\n")
            if not line:
                return
            self.secure.append(line)
            tag, _, rest = line.partition(" ")
            cmd = rest.split(" ")[0].upper()
            t = tag.encode()
            if cmd == "CAPABILITY":
                s.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n"
                          b"%s OK done\r\n" % t)
            elif cmd == "LOGIN":
                s.sendall(b"%s OK LOGIN over tls\r\n" % t)
            elif cmd == "LOGOUT":
                s.sendall(b"* BYE\r\n%s OK bye\r\n" % t)
                return
            else:
                s.sendall(b"%s OK\r\n" % t)

    def _plain_smtp(self, conn):
        conn.sendall(b"220-test smtp\r\n220 ready\r\n")
        while True:
            line = self._line(conn)
            if line is None:
                return None
            self.plain.append(line)
            cmd = line.split(" ")[0].upper()
            if cmd == "EHLO":
                st = b"" if self.mode == "nocapa" else b"250-STARTTLS\r\n"
                conn.sendall(b"250-test\r\n" + st + b"250 8BITMIME\r\n")
            elif cmd == "STARTTLS" and self.mode == "ok":
                conn.sendall(b"220 2.0.0 go\r\n")
                return self._tls(conn)
            else:
                conn.sendall(b"454 4.7.0 not now\r\n")

    def _secure_smtp(self, s):
        f = s.makefile("rb")
        while True:
            line = f.readline(4096).decode().rstrip("\r\n")
            if not line:
                return
            self.secure.append(line)
            cmd = line.split(" ")[0].upper()
            if cmd == "EHLO":
                s.sendall(b"250-test over tls\r\n250 AUTH PLAIN\r\n")
            elif cmd == "NOOP":
                s.sendall(b"250 2.0.0 tls ok\r\n")
            elif cmd == "QUIT":
                s.sendall(b"221 bye\r\n")
                return
            else:
                s.sendall(b"250 ok\r\n")


@pytest.fixture
def cert(tmp_path):
    return make_cert(tmp_path)


@pytest.fixture
def mail_server(cert):
    made = []

    def make(proto, mode="ok"):
        made.append(MailTlsServer(proto, cert, mode))
        return made[-1]
    yield make
    for m in made:
        m.close()


def client_ctx(cert):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(str(cert[0]))
    return ctx


# --------------------------------------------------------------------------
# the three protocols end to end
# --------------------------------------------------------------------------

def pop3_session(port, cert):
    p = poplib.POP3("localhost", port, timeout=10)
    try:
        assert "STLS" in p.capa()
        p.stls(client_ctx(cert))
        p.user("alice")
        p.pass_("secret")
        return p.stat()
    finally:
        p.quit()


def imap_session(port, cert):
    m = imaplib.IMAP4("localhost", port, timeout=10)
    m.starttls(client_ctx(cert))
    typ, data = m.login("alice", "secret")
    m.logout()
    return typ, data


def smtp_session(port, cert):
    with smtplib.SMTP("localhost", port, timeout=10) as s:
        s.starttls(context=client_ctx(cert))
        s.ehlo("client.test")
        return s.noop()


def test_tlspr_x_pop3(proxy, tmp_path, cert, mail_server):
    """F-TLSPR-04: tlspr -Xpop3 plays the POP3 prefix (CAPA lists STLS),
    takes the SNI name from the ClientHello, makes the origin start TLS
    and forwards the hello; the session then runs end to end."""
    srv = mail_server("pop3")
    port, log = free_port(), tmp_path / "p.log"
    proxy(head(log, "tlspr -p%d -Xpop3 -P%d -c2\n" % (port, srv.port)),
          wait_ports=[port])
    assert pop3_session(port, cert) == (3, 300)
    assert srv.plain == ["CAPA", "STLS"]
    assert srv.secure[:2] == ["USER alice", "PASS secret"]
    r = wait_rec(log, lambda r: sess(r, "TLSPR"))
    assert r["err"] == "00000" and r["rport"] == str(srv.port)
    assert r["text"].endswith(" localhost -")


def test_tlspr_x_imap(proxy, tmp_path, cert, mail_server):
    """F-TLSPR-04: tlspr -Ximap; the origin announces STARTTLS only in
    its CAPABILITY reply (zz CAPABILITY, zz STARTTLS)."""
    srv = mail_server("imap")
    port, log = free_port(), tmp_path / "i.log"
    proxy(head(log, "tlspr -p%d -Ximap -P%d\n" % (port, srv.port)),
          wait_ports=[port])
    typ, data = imap_session(port, cert)
    assert typ == "OK" and b"LOGIN over tls" in data[0]
    assert srv.plain == ["zz CAPABILITY", "zz STARTTLS"]
    assert any(" LOGIN alice" in c for c in srv.secure)
    r = wait_rec(log, lambda r: sess(r, "TLSPR"))
    assert r["err"] == "00000"


def test_tlspr_x_smtp(proxy, tmp_path, cert, mail_server):
    """F-TLSPR-04: tlspr -Xsmtp: EHLO [ip] and STARTTLS to the origin,
    whose greeting is multi-line."""
    srv = mail_server("smtp")
    port, log = free_port(), tmp_path / "s.log"
    proxy(head(log, "tlspr -p%d -Xsmtp -P%d\n" % (port, srv.port)),
          wait_ports=[port])
    code, msg = smtp_session(port, cert)
    assert code == 250 and b"tls ok" in msg
    assert srv.plain == ["EHLO [127.0.0.1]", "STARTTLS"]
    assert srv.secure[0].upper() == "EHLO CLIENT.TEST"
    r = wait_rec(log, lambda r: sess(r, "TLSPR"))
    assert r["err"] == "00000"


def test_tlspr_x_client_dialogue(proxy, tmp_path):
    """services.md 9.3: the -X plain phase answers as specified; other
    commands are refused until STARTTLS; QUIT ends with code 0."""
    port, port2, log = free_port(), free_port(), tmp_path / "d.log"
    proxy(head(log, "tlspr -p%d -Xsmtp\ntlspr -p%d -Ximap\n"
               % (port, port2)), wait_ports=[port, port2])
    with connect(port) as s:
        f = s.makefile("rb")
        assert f.readline() == b"220 Proxy\r\n"
        s.sendall(b"MAIL FROM:<a@b>\r\n")
        assert f.readline() == (b"530 5.7.0 Must issue a STARTTLS "
                                b"command first\r\n")
        s.sendall(b"EHLO x\r\n")
        assert f.readline() == b"250-Proxy\r\n"
        assert f.readline() == b"250 STARTTLS\r\n"
        s.sendall(b"QUIT\r\n")
        assert f.readline() == b"221 Proxy\r\n"
    wait_rec(log, lambda r: sess(r, "TLSPR") and r["err"] == "00000")
    with connect(port2) as s:
        f = s.makefile("rb")
        assert b"STARTTLS LOGINDISABLED" in f.readline()
        s.sendall(b"a1 LOGIN u p\r\n")
        assert f.readline() == b"a1 BAD need STARTTLS first\r\n"
        s.sendall(b"notag\r\n")
        assert f.readline().startswith(b"* BAD")
    wait_rec(log, lambda r: r["err"] == "00364")


# --------------------------------------------------------------------------
# hand-off from the mail proxies
# --------------------------------------------------------------------------

def test_pop3p_stls_handoff(proxy, tmp_path, cert, mail_server):
    """F-MAIL-06, F-MAIL-01: pop3p lists STLS in CAPA and hands STLS to
    tlspr in POP3 mode (-P gives the origin port)."""
    srv = mail_server("pop3")
    port, log = free_port(), tmp_path / "hp.log"
    proxy(head(log, "pop3p -p%d -P%d\n" % (port, srv.port)),
          wait_ports=[port])
    assert pop3_session(port, cert) == (3, 300)
    assert srv.plain == ["CAPA", "STLS"]
    assert srv.secure[:2] == ["USER alice", "PASS secret"]
    r = wait_rec(log, lambda r: sess(r, "POP3P"))
    assert r["err"] == "00000" and r["text"].endswith(" localhost -")


def test_imapp_starttls_handoff(proxy, tmp_path, cert, mail_server):
    """F-MAIL-06, F-MAIL-03: imapp announces STARTTLS (greeting and
    CAPABILITY) and hands STARTTLS to tlspr in IMAP mode."""
    srv = mail_server("imap")
    port, log = free_port(), tmp_path / "hi.log"
    proxy(head(log, "imapp -p%d -P%d\n" % (port, srv.port)),
          wait_ports=[port])
    typ, data = imap_session(port, cert)
    assert typ == "OK" and b"LOGIN over tls" in data[0]
    assert srv.plain == ["zz CAPABILITY", "zz STARTTLS"]
    r = wait_rec(log, lambda r: sess(r, "IMAPP"))
    assert r["err"] == "00000"


def test_smtpp_starttls_handoff(proxy, tmp_path, cert, mail_server):
    """F-MAIL-06, F-MAIL-02: smtpp's EHLO lists STARTTLS; STARTTLS is
    handed to tlspr in SMTP mode."""
    srv = mail_server("smtp")
    port, log = free_port(), tmp_path / "hs.log"
    proxy(head(log, "smtpp -p%d -P%d\n" % (port, srv.port)),
          wait_ports=[port])
    code, msg = smtp_session(port, cert)
    assert code == 250 and b"tls ok" in msg
    assert srv.plain == ["EHLO [127.0.0.1]", "STARTTLS"]
    r = wait_rec(log, lambda r: sess(r, "SMTPP"))
    assert r["err"] == "00000"


def test_no_starttls_with_x(proxy, tmp_path):
    """F-MAIL-06: with -x the mail proxies neither announce nor accept
    STARTTLS (answered as any command before login)."""
    pp, sp, ip = free_port(), free_port(), free_port()
    proxy(head(tmp_path / "x.log", "pop3p -p%d -x\nsmtpp -p%d -x\n"
               "imapp -p%d -x\n" % (pp, sp, ip)), wait_ports=[pp, sp, ip])
    with connect(pp) as s:
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"STLS\r\n")
        assert f.readline() == b"-ERR need USER first\r\n"
    with connect(sp) as s:
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"EHLO x\r\n")
        ehlo = b"".join(f.readline() for _ in range(4))
        assert b"STARTTLS" not in ehlo and ehlo.endswith(b"250 DSN\r\n")
    with connect(ip) as s:
        f = s.makefile("rb")
        assert b"STARTTLS" not in f.readline()
        s.sendall(b"a STARTTLS\r\n")
        assert f.readline() == b"a BAD need LOGIN first\r\n"


# --------------------------------------------------------------------------
# failures and their codes
# --------------------------------------------------------------------------

def starttls_hello(port, proto, cert):
    """Run the client's plain phase by hand, then a TLS handshake; the
    exception or data the client ends with."""
    s = connect(port)
    f = s.makefile("rb")
    f.readline()
    cmd = {"pop3": b"STLS\r\n", "smtp": b"STARTTLS\r\n",
           "imap": b"a STARTTLS\r\n"}[proto]
    s.sendall(cmd)
    assert b"egin" in f.readline() or proto == "smtp"
    return s


@pytest.mark.parametrize("proto,mode,code", [
    ("pop3", "refuse", "00363"), ("pop3", "nocapa", "00362"),
    ("smtp", "refuse", "00363"), ("smtp", "nocapa", "00362"),
    ("imap", "refuse", "00363"), ("imap", "nocapa", "00362"),
])
def test_server_refuses_starttls(proxy, tmp_path, cert, mail_server, proto,
                                 mode, code):
    """services.md 9.1 step 7: an origin that does not announce or
    refuses STARTTLS gets no hello; the client gets the TLS alert 15 03
    01 00 02 02 28 and the record 362/363."""
    srv = mail_server(proto, mode)
    port, log = free_port(), tmp_path / "r.log"
    proxy(head(log, "tlspr -p%d -X%s -P%d\n" % (port, proto, srv.port)),
          wait_ports=[port])
    s = starttls_hello(port, proto, cert)
    with s:
        ctx = client_ctx(cert)
        ctx.check_hostname = False
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
        with pytest.raises(ssl.SSLWantReadError):
            obj.do_handshake()
        s.sendall(out.read())
        s.settimeout(10)
        got = b""
        while len(got) < len(ALERT):
            c = s.recv(100)
            if not c:
                break
            got += c
        assert got == ALERT
    wait_rec(log, lambda r: r["err"] == code)
    assert "STARTTLS" not in " ".join(srv.secure)


def test_garbage_instead_of_hello(proxy, tmp_path, cert, mail_server):
    """F-TLSPR-02, F-MAIL-06: after STLS, data that is not a ClientHello
    ends the session with -c1 (301), in tlspr -Xpop3 and after the pop3p
    hand-off; the origin is never contacted."""
    srv = mail_server("pop3")
    port, port2, log = free_port(), free_port(), tmp_path / "g.log"
    proxy(head(log, "tlspr -p%d -Xpop3 -P%d -c1\npop3p -p%d -P%d -c1\n"
               % (port, srv.port, port2, srv.port)),
          wait_ports=[port, port2])
    for p, svc in ((port, "TLSPR"), (port2, "POP3P")):
        with starttls_hello(p, "pop3", cert) as s:
            s.sendall(b"USER alice\r\n")
            s.settimeout(10)
            assert s.recv(100) == b""
        r = wait_rec(log, lambda r: sess(r, svc))
        assert r["err"] == "00301"
    assert srv.plain == []
