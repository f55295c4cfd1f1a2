"""FilePlugin (F-PLUG-06, plugins.md 5.4) and plugin buffer/stage hooks
and named symbols (F-PLUG-02, plugins.md 2, 2.1).

FakeAV.ld.so (tests/plugins/fakeav.c, built with the tests) finds
FilePlugin's published fp_registercallback and registers a fake
antivirus: it rejects when the spooled server data holds "EICAR-TEST"
and reports every call (with the spool file's size by stat during the
call) to a report file the tests read.  Its second entry,
rewrite_header, is a plain plugin buffer hook (and stage hook).
"""

import ftplib
import hashlib
import io
import os
import re
import signal
import smtplib
import socket

import pytest

from conftest import (BIN_DIR, LOOP4, free_port, recv_exact,
                      wait_split_record, wait_until)
from http_util import ftppr_login, read_response, start_ftp
from test_pcre import smtp_server  # noqa: F401 (a fixture)

FILEPLUGIN = BIN_DIR / "FilePlugin.ld.so"
FAKEAV = BIN_DIR.parent / "tests" / "FakeAV.ld.so"
LOGFMT = 'logformat "L%N|%E|%T"'
FIELDS = ("svc", "err", "text")
CLEAN = bytes(range(256)) * 300          # 76800 bytes, no signature
VIRUS = b"harmless text " * 20 + b"X5O!P%@AP EICAR-TEST file\n"


@pytest.fixture
def plugins():
    for p in (FILEPLUGIN, FAKEAV):
        if not p.is_file():
            pytest.fail("plugin not built: %s" % p)
    return FILEPLUGIN, FAKEAV


def origin_handler(conn, server):
    """One HTTP/1.1 response per request: /clean, /virus, /head (the
    request head as the body); records the heads it got."""
    buf = b""
    conn.settimeout(10)
    while True:
        while b"\r\n\r\n" not in buf:
            c = conn.recv(65536)
            if not c:
                return
            buf += c
        head, _, buf = buf.partition(b"\r\n\r\n")
        server.add_result(head)
        path = head.split(b" ")[1]
        body = {b"/clean": CLEAN, b"/virus": VIRUS}.get(path, head)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"
                     % len(body) + body)


def get(port, origin, path, extra=b""):
    """GET through the proxy; (status, body)."""
    with socket.create_connection((LOOP4, port), timeout=10) as s:
        s.sendall(b"GET http://127.0.0.1:%d%s HTTP/1.1\r\n"
                  b"Host: 127.0.0.1\r\n%sConnection: close\r\n\r\n"
                  % (origin.port, path, extra))
        status, _, body, _ = read_response(s)
        return status, body


def cfg(log, body):
    return "log %s\n%s\ninternal 127.0.0.1\nauth iponly\nallow *\n%s" % (
        log, LOGFMT, body)


def report_lines(report, kind=None):
    if not report.exists():
        return []
    out = [ln.split(" ") for ln in report.read_text().splitlines()]
    return [ln for ln in out if kind is None or ln[0] == kind]


def wait_report(report, pred, what):
    found = []

    def check():
        found[:] = [ln for ln in report_lines(report) if pred(ln)]
        return bool(found)
    wait_until(check, 10, what=what)
    return found[0]


@pytest.fixture
def av_proxy(proxy, plugins, tcp_server, tmp_path):
    """3proxy with FilePlugin spooling to tmp/spool and FakeAV; returns
    (port, origin, log, report, spool)."""
    def start(extra="", flags=""):
        fp, av = plugins
        spool = tmp_path / "spool"
        spool.mkdir(exist_ok=True)
        port, log = free_port(), tmp_path / "px.log"
        report = tmp_path / "report.txt"
        origin = tcp_server(origin_handler)
        proxy(cfg(log, "plugin %s file_plugin\nfile_cachedir %s\n%s"
                  "plugin %s fakeav %s %s\nproxy -p%d\n"
                  % (fp, spool, extra, av, report, flags, port)),
              wait_ports=[port])
        return port, origin, log, report, spool
    return start


def test_clean_download_passes_and_spool_is_removed(av_proxy):
    """A clean body passes byte-identical; the callback saw the whole
    body in <file_cachedir>/<7 digits>.tmp (its size by stat during the
    call); the file is gone once the request is over."""
    port, origin, log, report, spool = av_proxy()
    status, body = get(port, origin, b"/clean")
    assert status == 200 and body == CLEAN
    d = wait_report(report, lambda ln: ln[0] == "data", "the data call")
    path = d[1]
    assert re.fullmatch(re.escape(str(spool)) + r"/\d{7}\.tmp", path), d
    assert d[2] == d[3] == str(len(CLEAN)) and d[4] == "accept", d
    r = wait_report(report, lambda ln: ln[0] == "remove", "the remove call")
    assert r[1] == path and r[3] == str(len(CLEAN)), r
    wait_until(lambda: not os.path.exists(path), 10, what="spool removed")
    wait_split_record(log, FIELDS, lambda r: "/clean" in r["text"]
                      and r["err"] == "00000")
    assert list(spool.iterdir()) == []


def test_eicar_download_gets_503_517(av_proxy):
    """The fake antivirus rejects a body with the signature: 503 policy
    and code 517, as a pcre deny rule; the spool file is removed."""
    port, origin, log, report, spool = av_proxy()
    status, body = get(port, origin, b"/virus")
    assert status == 503, body
    assert b"EICAR" not in body
    d = wait_report(report, lambda ln: ln[0] == "data", "the data call")
    assert d[2] == d[3] == str(len(VIRUS)) and d[4] == "reject", d
    wait_split_record(log, FIELDS, lambda r: "/virus" in r["text"]
                      and r["err"] == "00517")
    wait_until(lambda: not os.path.exists(d[1]), 10, what="spool removed")
    # the next download is not affected
    status, body = get(port, origin, b"/clean")
    assert status == 200 and body == CLEAN


def test_request_callback_and_keep(av_proxy):
    """ONREQUEST sees the request line (and may refuse it: 503, 517, the
    origin is never asked); FP_KEEPFILE keeps the spool file, which then
    holds exactly the selected part."""
    port, origin, log, report, spool = av_proxy(
        flags="srvdata,request,data,remove keep")
    status, _ = get(port, origin, b"/x?fakeav-deny")
    assert status == 503
    wait_split_record(log, FIELDS, lambda r: "fakeav-deny" in r["text"]
                      and r["err"] == "00517")
    assert origin.accepted == 0
    req = wait_report(report, lambda ln: ln[0] == "request", "request call")
    assert "fakeav-deny" in " ".join(req)
    status, body = get(port, origin, b"/clean")
    assert status == 200 and body == CLEAN
    r = wait_report(report, lambda ln: ln[0] == "remove", "remove call")
    with open(r[1], "rb") as f:
        assert f.read() == CLEAN
    assert (os.stat(r[1]).st_mode & 0o777) == 0o600


def test_file_preview_limits_the_spool(av_proxy):
    """file_preview 100: only the first 100 data bytes are spooled (a
    signature past them is not seen); the client still gets all."""
    port, origin, log, report, spool = av_proxy("file_preview 100\n")
    status, body = get(port, origin, b"/virus")
    assert status == 200 and body == VIRUS
    d = wait_report(report, lambda ln: ln[0] == "data", "the data call")
    assert d[2] == d[3] == "100" and d[4] == "accept", d


def test_headers_are_spooled_when_selected(av_proxy):
    """srvheader with `headers`: the response head goes to the same
    file as the body, with a call after it (a body read whole passes
    the data hook before the head is sent: either order is fine)."""
    port, origin, log, report, spool = av_proxy(
        flags="srvheader,srvdata,headers,data")
    status, body = get(port, origin, b"/clean")
    assert status == 200 and body == CLEAN
    h = wait_report(report, lambda ln: ln[0] == "headers", "headers call")
    d = wait_report(report, lambda ln: ln[0] == "data", "data call")
    small, big = sorted([int(h[2]), int(d[2])])
    assert h[1] == d[1] and big > len(CLEAN)
    assert small == len(CLEAN) or big - small == len(CLEAN)


def test_smtp_message_with_the_signature_is_refused(proxy, plugins,
                                                     smtp_server, tmp_path):
    """smtpp: message lines go to the spool (clidata); a line with the
    signature ends the session with "421 ... policy violation" and the
    filter code 676, and the message is not delivered; a clean message
    is."""
    fp, av = plugins
    port, log = free_port(), tmp_path / "px.log"
    report = tmp_path / "report.txt"
    proxy(cfg(log, "plugin %s file_plugin\nfile_cachedir %s\n"
              "plugin %s fakeav %s clidata,data,remove\nsmtpp -p%d\n"
              % (fp, tmp_path, av, report, port)), wait_ports=[port])

    def send(text):
        c = smtplib.SMTP(LOOP4, port, timeout=10)
        try:
            c.ehlo("client.test")
            c.login("mailer@127.0.0.1:%d" % smtp_server.port, "pw")
            c.mail("a@example.org")
            c.rcpt("b@example.org")
            return c.data(text)
        finally:
            c.close()
    assert send(b"Subject: ok\r\n\r\nclean text\r\n")[0] == 250
    assert len(smtp_server.messages) == 1
    assert send(b"Subject: bad\r\n\r\nsome EICAR-TEST here\r\n") == \
        (421, b"Message refused: policy violation")
    wait_split_record(log, FIELDS, lambda r: r["svc"] == "SMTPP"
                      and r["err"] == "00676")
    assert len(smtp_server.messages) == 1
    d = wait_report(report, lambda ln: ln[0] == "data" and
                    ln[4] == "reject", "the refusing data call")
    wait_until(lambda: not os.path.exists(d[1]), 10, what="spool removed")


def test_commands_need_the_plugin(run3proxy, tmp_path):
    for line in ("file_cachedir /tmp", "file_preview 10"):
        (tmp_path / "cfg").write_text(line + "\n")
        r = run3proxy(["cfg"])
        assert r.rc == 1, r
        assert re.search(r"^cfg:1: '%s' needs its plugin"
                         % line.split()[0], r.err, re.M), r.err


def test_command_arguments(run3proxy, plugins, tmp_path):
    fp, av = plugins
    (tmp_path / "cfg").write_text(
        "plugin %s file_plugin\nfile_cachedir %s\nfile_cachedir %s\n"
        "file_preview 12k\n" % (fp, tmp_path, tmp_path / "none"))
    r = run3proxy(["--check", "cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:3: .*not a directory", r.err, re.M), r.err
    assert re.search(r"^cfg:4: .*byte count", r.err, re.M), r.err
    # the consumer needs FilePlugin's symbol in its own run
    (tmp_path / "cfg").write_text("plugin %s fakeav %s\n"
                                  % (av, tmp_path / "r"))
    r = run3proxy(["cfg"])
    assert r.rc != 0 and "FilePlugin is not loaded" in r.err, r


def test_reload_without_the_plugin_removes_the_filter(proxy, plugins,
                                                       tcp_server,
                                                       tmp_path):
    fp, av = plugins
    port, log = free_port(), tmp_path / "px.log"
    conf = tmp_path / "px.cfg"
    origin = tcp_server(origin_handler)
    conf.write_text(cfg(log, "plugin %s file_plugin\nfile_cachedir %s\n"
                        "plugin %s fakeav %s\nproxy -p%d\n"
                        % (fp, tmp_path, av, tmp_path / "r", port)))
    d = proxy(conf, wait_ports=[port])
    assert get(port, origin, b"/virus")[0] == 503
    conf.write_text(cfg(log, "proxy -p%d\n" % port))
    d.send_signal(signal.SIGUSR1)

    def passes():
        try:
            return get(port, origin, b"/virus") == (200, VIRUS)
        except OSError:
            return False
    wait_until(passes, 15, what="the download without the filter")


def test_plugin_buffer_hook_rewrites_the_request_head(proxy, plugins,
                                                      tcp_server, tmp_path):
    """F-PLUG-02: a plugin's header_cli hook replaces the request head
    (api->buf_set); the origin gets the new text."""
    fp, av = plugins
    port, log = free_port(), tmp_path / "px.log"
    origin = tcp_server(origin_handler)
    proxy(cfg(log, 'plugin %s rewrite_header "X-Test: one" '
              '"X-Test: rewritten"\nproxy -p%d\n' % (av, port)),
          wait_ports=[port])
    status, body = get(port, origin, b"/head", b"X-Test: one\r\n")
    assert status == 200
    assert b"X-Test: rewritten" in body and b"X-Test: one" not in body


@pytest.mark.parametrize("stage", ["connect", "afterauth", "predata"])
def test_plugin_stage_hook_rejects(proxy, plugins, tcp_server, tmp_path,
                                   stage):
    """F-PLUG-02: a plugin's stage hook refusing ends the connection
    with code 19 (plugins.md 2.1)."""
    fp, av = plugins
    port, log = free_port(), tmp_path / "px.log"
    origin = tcp_server(origin_handler)
    proxy(cfg(log, "plugin %s rewrite_header a b %s\ntcppm %d 127.0.0.1 "
              "%d\n" % (av, stage, port, origin.port)), wait_ports=[port])
    with socket.create_connection((LOOP4, port), timeout=10) as s:
        s.sendall(b"GET /clean HTTP/1.1\r\n\r\n")
        s.settimeout(10)
        try:
            got = s.recv(65536)
        except ConnectionResetError:
            got = b""
        assert got == b""
    wait_split_record(log, FIELDS, lambda r: r["svc"] == "TCPPM"
                      and r["err"] == "00019")


# --------------------------------------------------------------------------
# ftppr: file transfers through the data hooks
# --------------------------------------------------------------------------

# a few hundred KB, many relay reads; the signature only in BAD_*
FTP_CLEAN = bytes(range(256)) * 1200                      # 307200 bytes
FTP_UP = hashlib.sha256(b"up").digest() * 10000           # 320000 bytes
FTP_BAD = FTP_CLEAN + b"X5O!P%@AP EICAR-TEST file\n" + FTP_CLEAN[:1000]


@pytest.fixture
def ftp_root(tmp_path):
    """A pyftpdlib server over tmp/ftproot; (port, root)."""
    root = tmp_path / "ftproot"
    (root / "pub").mkdir(parents=True)
    (root / "pub" / "clean.bin").write_bytes(FTP_CLEAN)
    (root / "pub" / "bad.bin").write_bytes(FTP_BAD)
    port, stop = start_ftp(root)
    yield port, root
    stop()


@pytest.fixture
def av_ftppr(proxy, plugins, ftp_root, tmp_path):
    """ftppr with FilePlugin and FakeAV; returns (port, ftp port, root,
    log, report, spool)."""
    def start(flags="srvdata,clidata,data,remove"):
        fp, av = plugins
        spool = tmp_path / "spool"
        spool.mkdir(exist_ok=True)
        port, log = free_port(), tmp_path / "px.log"
        report = tmp_path / "report.txt"
        proxy(cfg(log, "plugin %s file_plugin\nfile_cachedir %s\n"
                  "plugin %s fakeav %s %s\nftppr -p%d\n"
                  % (fp, spool, av, report, flags, port)),
              wait_ports=[port])
        return (port, ftp_root[0], ftp_root[1], log, report, spool)
    return start


def ftp_get(f, name):
    got = io.BytesIO()
    f.retrbinary("RETR " + name, got.write)
    return got.getvalue()


def sha(b):
    return hashlib.sha256(b).hexdigest()


def test_ftp_transfers_are_spooled_one_file_each(av_ftppr):
    """ftppr: a download (srvdata) and an upload (clidata) of a few
    hundred KB pass intact; each transfer has a spool file of its own
    holding exactly its bytes (kept for the check), removed at the next
    transfer or the session end."""
    port, ftp_port, root, log, report, spool = av_ftppr(
        "srvdata,clidata,data,remove keep")
    f = ftppr_login(port, ftp_port)
    assert sha(ftp_get(f, "pub/clean.bin")) == sha(FTP_CLEAN)
    f.storbinary("STOR pub/up.bin", io.BytesIO(FTP_UP))
    assert sha(ftp_get(f, "pub/clean.bin")) == sha(FTP_CLEAN)
    f.quit()
    assert sha((root / "pub" / "up.bin").read_bytes()) == sha(FTP_UP)
    wait_until(lambda: len(report_lines(report, "remove")) >= 3, 10,
               what="three remove calls")
    removes = report_lines(report, "remove")
    assert len(removes) == 3, removes
    assert [int(r[2]) for r in removes] == [len(FTP_CLEAN), len(FTP_UP),
                                            len(FTP_CLEAN)], removes
    assert len({r[1] for r in removes}) == 3, removes
    for r, want in zip(removes, (FTP_CLEAN, FTP_UP, FTP_CLEAN)):
        assert re.fullmatch(re.escape(str(spool)) + r"/\d{7}\.tmp", r[1])
        with open(r[1], "rb") as sp:
            assert sha(sp.read()) == sha(want), r
    data = report_lines(report, "data")
    assert data and all(d[4] == "accept" for d in data)
    wait_split_record(log, FIELDS, lambda r: r["text"] ==
                      "STOR pub/up.bin" and r["err"] == "00000")


def test_ftp_download_with_the_signature_gets_421(av_ftppr):
    """The callback refusing a download aborts it: the client gets
    "421 ... policy violation" on the control connection, the record
    names the transfer with 880, the spool file is removed.  A clean
    download in a new session still passes."""
    port, ftp_port, root, log, report, spool = av_ftppr()
    f = ftppr_login(port, ftp_port)
    with pytest.raises(ftplib.error_temp) as e:
        ftp_get(f, "pub/bad.bin")
    assert str(e.value).startswith("421") and \
        "policy violation" in str(e.value), e.value
    f.close()
    wait_split_record(log, FIELDS, lambda r: r["svc"] == "FTPPR" and
                      r["text"] == "RETR pub/bad.bin" and
                      r["err"] == "00880")
    d = wait_report(report, lambda ln: ln[0] == "data" and
                    ln[4] == "reject", "the refusing data call")
    wait_until(lambda: not os.path.exists(d[1]), 10, what="spool removed")
    f = ftppr_login(port, ftp_port)
    assert sha(ftp_get(f, "pub/clean.bin")) == sha(FTP_CLEAN)
    f.quit()


def test_ftp_upload_with_the_signature_gets_421(av_ftppr):
    """clidata: an upload with the signature is refused with 421 and
    880; the server's data connection is reset, so no stored file holds
    the signature."""
    port, ftp_port, root, log, report, spool = av_ftppr(
        "clidata,data,remove")
    f = ftppr_login(port, ftp_port)
    try:
        f.storbinary("STOR pub/up.bin", io.BytesIO(FTP_BAD))
        pytest.fail("the upload was accepted")
    except ftplib.error_temp as e:
        resp = str(e)
    except OSError:
        # the proxy closed the data connection while the client sent:
        # the reply waits on the control connection
        resp = f.getline()
    f.close()
    assert resp.startswith("421") and "policy violation" in resp, resp
    wait_split_record(log, FIELDS, lambda r: r["svc"] == "FTPPR" and
                      r["text"] == "STOR pub/up.bin" and
                      r["err"] == "00880")
    up = root / "pub" / "up.bin"
    assert not up.exists() or b"EICAR-TEST" not in up.read_bytes()
