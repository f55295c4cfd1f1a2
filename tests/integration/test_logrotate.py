"""Log rotation, `rotate N` and the archiver through the real daemon.

A `tcppm` service to a local echo server writes one record per
connection into `log DIR/px%Y%m%d%H%M%S C`, the smallest period the
reference has (C: minutely, logging.md 2), so a test crosses one real
minute boundary (at most about 60 s).  Names are expanded with the
start of the period, so the seconds are always 00 (doc/compat.md).

Features: F-LOG-02 (rotation), F-LOG-03 (% templates), F-LOG-04
(`rotate N`), F-LOG-05 (`archiver` with %A/%F).
"""

import gzip
import re
import shutil
import socket
import time

import pytest

from conftest import free_port, wait_until

LOGFMT = 'logformat "LREC %c %E"\n'


def minute_name(t):
    """The file of the minute containing unix time t (local time)."""
    return time.strftime("px%Y%m%d%H%M00", time.localtime(t))


def away_from_boundary():
    """Start a case at least 10 s before a minute boundary, so its first
    records certainly land in the first minute (bounded: <= 11 s)."""
    sec = time.localtime().tm_sec
    if sec >= 50:
        time.sleep(61 - sec)


def start(proxy, tmp_path, echo_server, head):
    port = free_port()
    cfg = ("%s%sinternal 127.0.0.1\ntcppm %d 127.0.0.1 %d\n"
           % (head, LOGFMT, port, echo_server.port))
    d = proxy(cfg, wait_ports=(port,))
    return d, port


def record(port):
    """One echo connection: returns its client port as logged (%c)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    cport = s.getsockname()[1]
    try:
        s.sendall(b"hello")
        got = b""
        while len(got) < 5:
            chunk = s.recv(5 - len(got))
            if not chunk:
                break
            got += chunk
        assert got == b"hello"
    finally:
        s.close()
    return cport


def has_record(text, cport):
    return re.search(r"^REC %d 0+$" % cport, text, re.M) is not None


def test_rotate_archive_and_delete(proxy, tmp_path, echo_server):
    """F-LOG-02..05: at the minute boundary the idle daemon opens the new
    minute's file (main-loop tick), later records go there; with an
    archiver (`gzip %F`) the closed file becomes <name>.gz, and with
    `rotate 2` the archive of two minutes before the new one is deleted,
    so two files remain."""
    if shutil.which("gzip") is None:
        pytest.skip("gzip is not installed")
    logdir = tmp_path / "logs"
    logdir.mkdir()
    away_from_boundary()
    t0 = time.time()
    first = minute_name(t0)
    # the archive that `rotate 2` must delete at the next boundary
    stale = logdir / (minute_name(t0 - 60) + ".gz")
    stale.write_bytes(b"old")
    head = ("log %s/px%%Y%%m%%d%%H%%M%%S C\nrotate 2\n"
            "archiver gz gzip %%F\n" % logdir)
    d, port = start(proxy, tmp_path, echo_server, head)

    c1 = record(port)
    wait_until(lambda: (logdir / first).exists() and
               has_record((logdir / first).read_text(), c1), 10,
               what="the first record in " + first)

    # idle across the boundary: the tick rotates, archives and deletes
    second = minute_name(t0 + 60)
    wait_until(lambda: (logdir / second).exists(), 75,
               what="the second minute's file " + second)
    archive = logdir / (first + ".gz")
    wait_until(lambda: archive.exists() and not (logdir / first).exists(),
               15, what="gzip to archive " + first)
    wait_until(lambda: not stale.exists(), 5, what="the stale archive gone")

    c2 = record(port)
    wait_until(lambda: has_record((logdir / second).read_text(), c2), 10,
               what="the second record in " + second)
    old = gzip.decompress(archive.read_bytes()).decode()
    assert has_record(old, c1) and not has_record(old, c2), old
    assert not has_record((logdir / second).read_text(), c1)
    names = sorted(p.name for p in logdir.iterdir())
    assert names == sorted([first + ".gz", second]), names
    assert d.alive()


def test_suffix_names(proxy, tmp_path, echo_server):
    """F-LOG-02: a name without % gets the period's date suffix
    (logging.md 2: D -> .YYYY.MM.DD, M -> .YYYY.MM)."""
    away_from_boundary()
    base = tmp_path / "a.log"
    d, port = start(proxy, tmp_path, echo_server, "log %s D\n" % base)
    c = record(port)
    name = tmp_path / ("a.log" + time.strftime(".%Y.%m.%d"))
    wait_until(lambda: name.exists() and has_record(name.read_text(), c),
               10, what="a record in " + str(name))
    assert not base.exists()
    d.stop()

    d, port = start(proxy, tmp_path, echo_server, "log %s M\n" % base)
    c = record(port)
    name = tmp_path / ("a.log" + time.strftime(".%Y.%m"))
    wait_until(lambda: name.exists() and has_record(name.read_text(), c),
               10, what="a record in " + str(name))


def test_archiver_needs_a_command(run3proxy, tmp_path):
    """F-LOG-05: `archiver EXT` without a command is a config error
    reported as file:line."""
    (tmp_path / "cfg").write_text("archiver gz\nproxy -p%d\n" % free_port())
    r = run3proxy(["--check", "cfg"])
    assert r.rc != 0
    assert re.search(r"cfg:1: .*wrong number of arguments", r.err), r.err

