"""ftppr, the FTP proxy (F-FTP-01..05, F-PAR-06): Python's ftplib as the
client through the proxy to a local pyftpdlib server the tests start.

Each case states the config, what the client does and gets, what the
server ends up with (files, sha256) and the log record with its %E code.
"""

import ftplib
import hashlib
import io

import pytest

from conftest import (LOOP4, MiB, connect, free_port, split_records,
                      unused_port, wait_split_record)
from http_util import file_sha256, start_ftp, write_random
from socks_util import socks5_open

LOGFMT = 'logformat "L%N|%E|%U|%C|%c|%R|%r|%h|%T|%I|%O"'
FIELDS = ("svc", "err", "user", "cip", "cport", "rip", "rport", "hops",
          "text", "bin", "bout")


def records(path):
    return split_records(path, FIELDS)


def wait_rec(path, pred, timeout=10.0):
    return wait_split_record(path, FIELDS, pred, timeout)


def cfg(log, body):
    return "log %s\n%s\ninternal 127.0.0.1\n%s" % (log, LOGFMT, body)


@pytest.fixture
def ftp_root(tmp_path):
    root = tmp_path / "ftproot"
    (root / "pub").mkdir(parents=True)
    (root / "pub" / "hello.txt").write_bytes(b"hello over ftppr\n")
    return root


@pytest.fixture
def ftp_server(ftp_root):
    port, stop = start_ftp(ftp_root)
    yield port
    stop()


@pytest.fixture
def ftppr(proxy, tmp_path):
    """Start `ftppr` with the given ACL lines; returns (port, log)."""
    def start(acl="auth iponly\nallow *\n", opts=""):
        port, log = free_port(), tmp_path / "ftp.log"
        proxy(cfg(log, "%sftppr -p%d %s\n" % (acl, port, opts)),
              wait_ports=[port])
        return port, log
    return start


def client(port):
    f = ftplib.FTP()
    f.connect(LOOP4, port, timeout=15)
    assert f.getwelcome() == "220 Ready"
    return f


def retr(f, name):
    buf = io.BytesIO()
    f.retrbinary("RETR " + name, buf.write)
    return buf.getvalue()


def test_login_list_retr_stor(ftppr, ftp_server, ftp_root):
    """F-FTP-01, F-FTP-03, F-FTP-05: USER alice@127.0.0.1:port logs in at
    the server; LIST (passive), RETR of 5 MB (passive, sha256 equal),
    STOR of 3 MB (the server's file has the same sha256) and LIST in
    active mode (PORT) work; a record per login and per transfer."""
    big = write_random(ftp_root / "pub" / "big.bin", 5 * MiB, seed=11)
    up = b"".join(hashlib.sha256(b"%d" % i).digest()
                  for i in range(3 * MiB // 32))
    port, log = ftppr()
    f = client(port)
    assert f.login("alice@127.0.0.1:%d" % ftp_server,
                   "wonderland").startswith("230")
    f.cwd("pub")
    assert sorted(f.nlst()) == ["big.bin", "hello.txt"]
    data = retr(f, "big.bin")
    assert len(data) == 5 * MiB
    assert hashlib.sha256(data).hexdigest() == big
    f.storbinary("STOR up.bin", io.BytesIO(up))
    f.set_pasv(False)
    lines = []
    f.retrlines("LIST", lines.append)
    assert any(line.endswith(" up.bin") for line in lines)
    assert f.quit().startswith("221")
    assert file_sha256(ftp_root / "pub" / "up.bin") == \
        hashlib.sha256(up).hexdigest()
    r = wait_rec(log, lambda r: r["text"].startswith("alice@"))
    assert (r["err"], r["text"]) == ("00000",
                                     "alice@127.0.0.1:%d" % ftp_server)
    assert r["rport"] == str(ftp_server)
    r = wait_rec(log, lambda r: r["text"] == "RETR big.bin")
    assert r["err"] == "00000" and int(r["bin"]) == 5 * MiB
    r = wait_rec(log, lambda r: r["text"] == "STOR up.bin")
    assert r["err"] == "00000" and int(r["bout"]) == len(up)


def test_open_then_user_and_default_host(ftppr, ftp_server):
    """F-FTP-02: OPEN host:port names the server, then a plain USER and
    PASS log in there; with -h the default host serves a USER without
    @host."""
    port, log = ftppr()
    f = client(port)
    assert f.sendcmd("OPEN 127.0.0.1:%d" % ftp_server) == "220 Ready"
    assert f.login("alice", "wonderland").startswith("230")
    assert retr(f, "pub/hello.txt") == b"hello over ftppr\n"
    f.close()
    wait_rec(log, lambda r: r["text"] == "alice@127.0.0.1:%d" % ftp_server
             and r["err"] == "00000")


def test_default_host_option(ftppr, ftp_server):
    """F-FTP-01, services.md 8: without @host the -h default is used; an
    empty user name logs in as anonymous."""
    port, log = ftppr(opts="-h127.0.0.1:%d" % ftp_server)
    f = client(port)
    assert f.login("anonymous", "guest@").startswith("230")
    assert retr(f, "pub/hello.txt") == b"hello over ftppr\n"
    f.close()
    wait_rec(log, lambda r: r["text"] ==
             "anonymous@127.0.0.1:%d" % ftp_server)


@pytest.mark.parametrize("rule,denied", [("FTP_DATA", True),
                                         ("FTP_GET", False)])
def test_data_connection_acl(ftppr, ftp_server, rule, denied):
    """F-FTP-04: each server data connection is authorized with operation
    FTP_DATA; a `deny ... FTP_DATA` rule turns RETR into `550 err` (code
    1 logged with the command) while the control connection and its
    commands go on.  FTP_GET is the ftp:// bit of the HTTP proxy, not
    checked by ftppr (acl-auth.md 4.3)."""
    acl = "auth iponly\ndeny * * * * %s\nallow *\n" % rule
    port, log = ftppr(acl)
    f = client(port)
    assert f.login("alice@127.0.0.1:%d" % ftp_server,
                   "wonderland").startswith("230")
    if denied:
        with pytest.raises(ftplib.error_perm, match="^550 err"):
            retr(f, "pub/hello.txt")
        assert f.pwd() == "/"
        r = wait_rec(log, lambda r: r["text"] == "RETR pub/hello.txt")
        assert r["err"] == "00001"
    else:
        assert retr(f, "pub/hello.txt") == b"hello over ftppr\n"
    f.close()


def test_wrong_password_relayed(ftppr, ftp_server):
    """F-FTP-01: the server's refusal of PASS reaches the client as its
    own 530 reply, code 701 is logged, and the client may try again."""
    port, log = ftppr()
    f = client(port)
    with pytest.raises(ftplib.error_perm, match="^530 Authentication"):
        f.login("alice@127.0.0.1:%d" % ftp_server, "wrong")
    r = wait_rec(log, lambda r: r["err"] == "00701")
    assert r["text"] == "alice@127.0.0.1:%d" % ftp_server
    assert f.sendcmd("USER alice@127.0.0.1:%d" % ftp_server) == "331 ok"
    assert f.sendcmd("PASS wonderland").startswith("230")
    f.close()


def test_user_without_host(ftppr):
    """F-FTP-01: USER without @host and no default host: 530 and code
    804."""
    port, log = ftppr()
    f = client(port)
    with pytest.raises(ftplib.error_perm, match="^530 Need user@host"):
        f.sendcmd("USER alice")
    f.close()
    wait_rec(log, lambda r: r["err"] == "00804")


def test_server_down(ftppr):
    """F-FTP-01: the server refuses the connection: 421 and the connect
    error code (13) is logged."""
    port, log = ftppr()
    dead = unused_port()
    f = client(port)
    with pytest.raises(ftplib.error_temp, match="^421"):
        f.sendcmd("USER alice@127.0.0.1:%d" % dead)
    f.close()
    r = wait_rec(log, lambda r: r["text"].startswith("alice@"))
    assert r["err"] == "00013"


def test_overlong_line_and_early_command(ftppr):
    """services.md 8: a command line longer than the proxy's line
    buffer gets `500 Line too long` and ends the session (802); a
    command other than OPEN/USER/PASS before the login ends it (810)."""
    port, log = ftppr()
    s = connect(port)
    f = s.makefile("rb")
    assert f.readline() == b"220 Ready\r\n"
    s.sendall(b"USER " + b"a" * 1018)   # 1023 bytes, no line end
    assert f.readline() == b"500 Line too long\r\n"
    assert f.readline() == b""
    s.close()
    wait_rec(log, lambda r: r["err"] == "00802")
    s = connect(port)
    f = s.makefile("rb")
    assert f.readline() == b"220 Ready\r\n"
    s.sendall(b"PWD\r\n")
    assert f.readline() == b""
    s.close()
    wait_rec(log, lambda r: r["err"] == "00810")


def open_tunnel(svc, port, ftp_port):
    """A stream to the FTP server's address through `socks` (SOCKS5
    CONNECT) or `proxy` (HTTP CONNECT), with the success reply read."""
    if svc == "socks":
        s, rep = socks5_open(port, LOOP4, ftp_port)
        assert rep.code == 0
        return s
    s = connect(port)
    s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n"
              % ftp_port)
    head = b""
    while not head.endswith(b"\r\n\r\n") and len(head) < 4096:
        c = s.recv(1)
        assert c, head
        head += c
    assert head.startswith(b"HTTP/1.") and b" 200 " in head.split(b"\r\n")[0]
    return s


@pytest.mark.parametrize("svc,name", [("socks", "SOCK5"),
                                      ("proxy", "PROXY")])
def test_local_redirection(proxy, tmp_path, ftp_server, ftp_root, svc, name):
    """F-PAR-06: `parent 1000 ftp 0.0.0.0 0` hands a SOCKS5 or HTTP
    CONNECT stream to the ftppr parser: the client speaks FTP through the
    tunnel, logs in as alice@host:port (authorized again against the ACL
    without the redirecting ACE) and its data connections go to the
    proxy's PASV address on the first service's IP."""
    big = write_random(ftp_root / "pub" / "r.bin", 1 * MiB, seed=12)
    port, log = free_port(), tmp_path / "s.log"
    op = "CONNECT" if svc == "socks" else "HTTP_CONNECT"
    proxy(cfg(log, "auth iponly\nallow * * * * %s\n"
              "parent 1000 ftp 0.0.0.0 0\nallow *\n%s -p%d\n"
              % (op, svc, port)), wait_ports=[port])
    s = open_tunnel(svc, port, ftp_server)
    s.settimeout(15)
    f = ftplib.FTP(timeout=15)
    f.sock, f.af = s, s.family
    f.file = s.makefile("r", encoding=f.encoding)
    f.welcome = f.getresp()
    assert f.welcome == "220 Ready"
    assert f.login("alice@127.0.0.1:%d" % ftp_server,
                   "wonderland").startswith("230")
    data = retr(f, "pub/r.bin")
    assert hashlib.sha256(data).hexdigest() == big
    f.close()
    r = wait_rec(log, lambda r: r["text"] == "RETR pub/r.bin")
    assert r["err"] == "00000" and int(r["bin"]) == 1 * MiB
    assert r["svc"] == name
    wait_rec(log, lambda r: r["text"] ==
             "alice@127.0.0.1:%d" % ftp_server)


def test_pasv_refused_without_mode(ftppr, ftp_server):
    """services.md 8: a transfer command without PASV/EPSV/PORT gets an
    error and ends the session with 829."""
    port, log = ftppr()
    f = client(port)
    f.login("alice@127.0.0.1:%d" % ftp_server, "wonderland")
    with pytest.raises(ftplib.error_temp, match="^425"):
        f.sendcmd("RETR pub/hello.txt")
    f.close()
    wait_rec(log, lambda r: r["err"] == "00829")


def test_passive_data_only_from_client_host(ftppr, ftp_server):
    """F-FTP-03: the proxy's passive data port is taken only by the
    client's own host.  A stranger (127.0.0.2) who connects first is
    closed without data; the client's own data connection then gets the
    file."""
    import re
    import socket
    port, log = ftppr()
    f = client(port)
    assert f.login("alice@127.0.0.1:%d" % ftp_server,
                   "wonderland").startswith("230")
    f.voidcmd("TYPE I")
    m = re.search(r"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)",
                  f.sendcmd("PASV"))
    assert m, "no PASV address"
    dport = int(m.group(5)) * 256 + int(m.group(6))
    stranger = socket.socket()
    stranger.settimeout(10)
    stranger.bind(("127.0.0.2", 0))
    stranger.connect((LOOP4, dport))
    own = socket.create_connection((LOOP4, dport), timeout=10)
    f.putcmd("RETR pub/hello.txt")
    assert f.getresp().startswith("1")
    data = b""
    for _ in range(100):
        chunk = own.recv(65536)
        if not chunk:
            break
        data += chunk
    own.close()
    assert data == b"hello over ftppr\n"
    assert stranger.recv(100) == b""
    stranger.close()
    assert f.voidresp().startswith("2")
    f.quit()
