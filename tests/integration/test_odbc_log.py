"""`log &DSN[,USER[,PASSWORD]]`: records as SQL statements on an ODBC
data source (F-LOG-07, logging.md 1.3), through the real daemon.

The data source is SQLite through unixODBC's driver manager and the
libsqliteodbc driver: odbcinst.ini and odbc.ini are written into
tmp_path and found through ODBCSYSINI / ODBCINI, and the table is made
with Python's sqlite3 before the daemon starts.  Rows are read back with
sqlite3 in a bounded loop, since a writer thread executes them.

Needs a build with unixODBC (`3proxy -h` says "ODBC logging: unixODBC")
and the driver (Debian: libsqliteodbc); without ODBC in the build only
the refusal at start is checked.
"""

import base64
import glob
import signal
import socket
import sqlite3
import subprocess

import pytest

from conftest import PX_BIN, daemon_env, free_port, wait_until

DRIVERS = ("/usr/lib/x86_64-linux-gnu/odbc/libsqlite3odbc.so",
           "/usr/lib/*/odbc/libsqlite3odbc.so",
           "/usr/lib/odbc/libsqlite3odbc.so",
           "/usr/local/lib/libsqlite3odbc.so")

# The filter replaces ';' (and control characters) in %U %n %T; single
# quotes are left to the ODBC sink, which doubles them.
LOGFMT = ('logformat "-;+_Linsert into log (usr, svc, err, bin, bout, req)'
          ' values (\'%U\', \'%N\', %E, %I, %O, \'%T\')"\n')


def odbc_built_in():
    out = subprocess.run([str(PX_BIN), "-h"], env=daemon_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=20).stdout.decode("utf-8", "replace")
    return "ODBC logging: unixODBC" in out


def sqlite_driver():
    for pattern in DRIVERS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


@pytest.fixture
def dsn(tmp_path, monkeypatch):
    """DSN "testdsn" on tmp_path/log.db with an empty `log` table;
    returns the database path."""
    if not odbc_built_in():
        pytest.skip("this build has no ODBC (3proxy -h: ODBC logging: none)")
    driver = sqlite_driver()
    if driver is None:
        pytest.skip("the SQLite ODBC driver (libsqliteodbc) is not "
                    "installed")
    db = tmp_path / "log.db"
    con = sqlite3.connect(str(db))
    con.execute("create table log (usr text, svc text, err int, bin int,"
                " bout int, req text)")
    con.commit()
    con.close()
    (tmp_path / "odbcinst.ini").write_text(
        "[SQLite3]\nDriver=%s\n" % driver)
    (tmp_path / "odbc.ini").write_text(
        "[testdsn]\nDriver=SQLite3\nDatabase=%s\nTimeout=5000\n" % db)
    monkeypatch.setenv("ODBCSYSINI", str(tmp_path))
    monkeypatch.setenv("ODBCINI", str(tmp_path / "odbc.ini"))
    return db


def rows(db, where="1"):
    con = sqlite3.connect(str(db), timeout=5)
    try:
        return con.execute("select usr, svc, err, bin, bout, req from log"
                           " where " + where).fetchall()
    finally:
        con.close()


def wait_rows(db, where, n=1, timeout=15.0):
    got = []

    def enough():
        got[:] = rows(db, where)
        return len(got) >= n
    wait_until(enough, timeout, what=lambda: "%d row(s) where %s; table: %r"
               % (n, where, rows(db)))
    return got


def echo_once(port, payload=b"hello odbc"):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(payload)
        got = b""
        while len(got) < len(payload):
            chunk = s.recv(len(payload) - len(got))
            if not chunk:
                break
            got += chunk
        assert got == payload
    finally:
        s.close()


def proxy_get(port, user, password, target_port):
    """An authenticated HTTP proxy request; returns the status line."""
    cred = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(("GET http://127.0.0.1:%d/x HTTP/1.0\r\n"
                   "Proxy-Authorization: Basic %s\r\n\r\n"
                   % (target_port, cred)).encode())
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data.split(b"\r\n", 1)[0].decode("latin-1")
    finally:
        s.close()


def start(proxy, echo_server, head="log &testdsn\n", extra=""):
    tport, pport = free_port(), free_port()
    cfg = ("%s%sinternal 127.0.0.1\ntcppm %d 127.0.0.1 %d\n%s"
           % (head, LOGFMT, tport, echo_server.port, extra))
    ports = (tport,)
    if extra:
        cfg += "proxy -p%d\n" % pport
        ports = (tport, pport)
    return proxy(cfg, wait_ports=ports), tport, pport


def test_records_are_sql_rows(proxy, dsn, echo_server, closed_port):
    """F-LOG-07: each record is the logformat statement executed on the
    DSN: a tcppm connection gives a row with its byte counts; a user
    whose name holds a single quote is logged through the doubling
    (without it the statement is invalid SQL and no row appears)."""
    d, tport, pport = start(proxy, echo_server, extra=(
        "auth strong\nusers \"o'brien:CL:pw\"\nallow *\n"))
    echo_once(tport)
    got = wait_rows(dsn, "svc = 'TCPPM' and bin > 0")
    assert got[0][0] == "-" and got[0][3] == 10 and got[0][4] == 10, got
    status = proxy_get(pport, "o'brien", "pw", closed_port)
    assert status.startswith("HTTP/1.") and " 200 " not in status, status
    got = wait_rows(dsn, "usr = 'o''brien'")
    assert got[0][1] == "PROXY" and got[0][5].startswith("GET "), got
    assert d.alive()


def test_dead_dsn_keeps_serving(proxy, dsn, echo_server):
    """logging.md 1.3: a data source that cannot be opened is reported
    and retried; the service relays as usual and nothing is written."""
    d, tport, _ = start(proxy, echo_server,
                        head="log &nosuchdsn,user,secretpw\n")
    d.wait_stderr(r"log &nosuchdsn: cannot connect \(attempt 1")
    for _ in range(5):
        echo_once(tport)
    d.wait_stderr(r"cannot connect \(attempt 2")
    echo_once(tport)
    assert "secretpw" not in d.stderr_text()
    assert rows(dsn) == []
    assert d.alive()


def test_failed_statement_is_dropped(proxy, dsn, echo_server):
    """A statement the database refuses is dropped and reported (at most
    once a minute); the service keeps relaying, and later valid
    statements are executed."""
    tport, pport = free_port(), free_port()
    cfg = ("log &testdsn\n"
           "logformat \"Linsert into nosuchtable values (%%I)\"\n"
           "internal 127.0.0.1\ntcppm %d 127.0.0.1 %d\n"
           "%s"
           "tcppm %d 127.0.0.1 %d\n"
           % (tport, echo_server.port, LOGFMT, pport, echo_server.port))
    d = proxy(cfg, wait_ports=(tport, pport))
    echo_once(tport)
    d.wait_stderr(r"log &testdsn: \d+ statement\(s\) failed and dropped, "
                  r"first: .*nosuchtable")
    echo_once(pport, b"valid")
    wait_rows(dsn, "bin = 5")
    echo_once(tport)
    assert d.alive()


def test_reload_keeps_logging(proxy, dsn, echo_server):
    """A reload releases the old sink (its thread drains and ends) and
    opens a new one on the same DSN: records keep arriving."""
    d, tport, _ = start(proxy, echo_server)
    echo_once(tport, b"before")
    wait_rows(dsn, "bin = 6")
    d.send_signal(signal.SIGUSR1)
    wait_rows(dsn, "req like 'Accepting%'", n=2)
    d.wait_listening(tport)
    echo_once(tport, b"after reload")
    wait_rows(dsn, "bin = 12")
    assert d.alive()


def test_check_accepts_odbc_line(run3proxy, tmp_path):
    """--check accepts `log &...` with or without ODBC in the build."""
    cfg = tmp_path / "c.cfg"
    cfg.write_text("log &somedsn,user,secret\n" + LOGFMT +
                   "tcppm %d 127.0.0.1 9\n" % free_port())
    res = run3proxy(["--check", cfg])
    assert res.rc == 0, res


def test_no_odbc_build_refuses(run3proxy, tmp_path):
    """Without unixODBC in the build, `log &...` stops the start with a
    reason and without repeating the password."""
    if odbc_built_in():
        pytest.skip("this build has ODBC")
    cfg = tmp_path / "c.cfg"
    cfg.write_text("log &somedsn,user,secret\ntcppm %d 127.0.0.1 9\n"
                   % free_port())
    res = run3proxy([cfg])
    assert res.rc != 0
    assert "c.cfg:1: log &...: this build has no ODBC (unixODBC)" in res.err
    assert "secret" not in res.err
