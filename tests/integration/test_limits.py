"""Shared limits: bandwidth pipes (bandlimin/bandlimout and the no forms),
traffic quotas with the counter file (counter, countin/countout/countall),
and connection limits (connlim/noconnlim), through real transfers.

Rates are measured on real downloads: curl through a tcppm mapping and
through an HTTP CONNECT tunnel, and raw sockets for two clients sharing
one pipe.  Feature IDs refer to shared/reference/features.md.
"""

import signal
import socket
import struct
import threading
import time

import pytest

from conftest import (LOOP4, MiB, connect, echo_handler, free_port,
                      log_records, recv_all, recv_exact, wait_record,
                      wait_until)
from http_util import Origin, curl

RATE_BITS = 800000                 # 100 000 bytes/s
RATE_BYTES = RATE_BITS // 8


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


def tcppm_line(port, target_port, opts=""):
    return "tcppm %s %d 127.0.0.1 %d\n" % (opts, port, target_port)


def start(proxy, tmp_path, body, ports):
    """Start 3proxy with a log file and the given config body."""
    log = tmp_path / "px.log"
    d = proxy("log %s\ninternal 127.0.0.1\n%s" % (log, body))
    for p in ports:
        d.wait_listening(p)
    return d, log


def codes(log):
    """%E of the access records (not listener messages) of a log."""
    return [int(m.group("err")) for m in log_records(log)
            if not m.group("text").startswith("Accepting")]


def read_for(sock, seconds, skip=0.0):
    """Read as fast as possible for ``skip + seconds``; returns the bytes
    received after the first ``skip`` seconds."""
    sock.settimeout(1.0)
    t0 = time.monotonic()
    counted = 0
    while True:
        now = time.monotonic()
        if now - t0 >= skip + seconds:
            return counted
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        if not data:
            return counted
        if time.monotonic() - t0 >= skip:
            counted += len(data)


class Source:
    """A server that streams bytes to every client until it goes away."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOOP4, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.threads = []
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)

    def _accept(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            t = threading.Thread(target=self._feed, args=(c,), daemon=True)
            t.start()
            self.threads.append(t)

    def _feed(self, c):
        block = b"x" * 65536
        c.settimeout(1.0)
        with c:
            while not self.stop.is_set():
                try:
                    c.sendall(block)
                except socket.timeout:
                    continue
                except OSError:
                    return

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(5)
        self.sock.close()


@pytest.fixture
def source():
    s = Source()
    yield s
    s.close()


# --------------------------------------------------------------------------
# bandwidth (F-LIM-01, F-LIM-02)
# --------------------------------------------------------------------------

def curl_speed(args):
    r = curl(["-o", "/dev/null", "-w", "%{speed_download} %{size_download}"]
             + args, timeout=30)
    assert r.returncode == 0, r.stderr
    speed, size = r.stdout.decode().split()
    return float(speed), int(size)


def test_bandlimin_rate_tcppm_curl(proxy, tmp_path, origin):
    """F-LIM-01: bandlimin 800000 bit/s; curl's average speed over ~3 s
    through a tcppm mapping is within 10 % of 100 000 bytes/s."""
    port = free_port()
    start(proxy, tmp_path, "bandlimin %d *\n" % RATE_BITS
          + tcppm_line(port, origin.port), [port])
    size = 3 * RATE_BYTES
    speed, got = curl_speed(["http://127.0.0.1:%d/big?size=%d"
                             % (port, size)])
    assert got == size
    assert RATE_BYTES * 0.9 <= speed <= RATE_BYTES * 1.1, speed


def test_bandlimin_rate_http_connect(proxy, tmp_path, origin):
    """F-LIM-01: the same pipe limits a CONNECT tunnel of the HTTP proxy
    (curl --proxytunnel)."""
    port = free_port()
    start(proxy, tmp_path, "bandlimin %d *\nproxy -p%d\n"
          % (RATE_BITS, port), [port])
    size = 3 * RATE_BYTES
    speed, got = curl_speed(["--proxytunnel", "-x",
                             "http://127.0.0.1:%d" % port,
                             origin.url("/big?size=%d" % size)])
    assert got == size
    assert RATE_BYTES * 0.9 <= speed <= RATE_BYTES * 1.1, speed


def test_bandlimout_rate(proxy, tmp_path, tcp_server):
    """F-LIM-01: bandlimout limits what clients send to servers."""
    got = []

    def sink(conn, server):
        n = 0
        while True:
            data = conn.recv(65536)
            if not data:
                break
            n += len(data)
        got.append(n)

    srv = tcp_server(sink)
    port = free_port()
    start(proxy, tmp_path, "bandlimout %d *\n" % RATE_BITS
          + tcppm_line(port, srv.port), [port])
    size = 2 * RATE_BYTES
    with connect(port, timeout=30) as s:
        t0 = time.monotonic()
        s.sendall(b"u" * size)
        s.shutdown(socket.SHUT_WR)
        recv_all(s, timeout=30)
        took = time.monotonic() - t0
    wait_until(lambda: got, 10, what="the sink to finish")
    assert got[0] == size
    # 2 s of data; the last read is not waited for, and the kernel
    # buffers a little on the way
    assert 1.6 <= took <= 2.4, took


def test_shared_pipe_two_clients(proxy, tmp_path, source):
    """F-LIM-01: one rule is one pipe: two downloads share its rate,
    each getting about half."""
    port = free_port()
    start(proxy, tmp_path, "bandlimin %d *\n" % RATE_BITS
          + tcppm_line(port, source.port), [port])
    results = [0, 0]

    def run(i):
        with connect(port, timeout=10) as s:
            results[i] = read_for(s, 3.0, skip=0.5)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    total = sum(results)
    assert 3 * RATE_BYTES * 0.9 <= total <= 3 * RATE_BYTES * 1.1, results
    for r in results:
        assert 1.5 * RATE_BYTES * 0.75 <= r <= 1.5 * RATE_BYTES * 1.25, \
            results


def test_nobandlimin_exclusion(proxy, tmp_path, source, origin):
    """F-LIM-02: a matching nobandlimin ends the selection: traffic to
    the excluded port runs at full speed, other traffic is limited."""
    fast, slow = free_port(), free_port()
    start(proxy, tmp_path,
          "nobandlimin * * * %d\nbandlimin %d *\n" % (origin.port,
                                                      RATE_BITS)
          + tcppm_line(fast, origin.port) + tcppm_line(slow, source.port),
          [fast, slow])
    size = 4 * MiB
    t0 = time.monotonic()
    speed, got = curl_speed(["http://127.0.0.1:%d/big?size=%d"
                             % (fast, size)])
    assert got == size
    assert time.monotonic() - t0 < 3.0
    assert speed > 10 * RATE_BYTES
    with connect(slow, timeout=10) as s:
        n = read_for(s, 1.0, skip=0.3)
    assert n <= RATE_BYTES * 1.2, n


# --------------------------------------------------------------------------
# bandwidth on bodies forwarded by the HTTP proxy (no CONNECT)
# --------------------------------------------------------------------------

def test_bandlimin_rate_http_get(proxy, tmp_path, origin):
    """F-LIM-01: a plain GET through `proxy` (curl -x, no tunnel): the
    response body is paced by the bandlimin pipe; curl's average speed
    is within 10 % of 100 000 bytes/s and the body arrives whole."""
    port = free_port()
    start(proxy, tmp_path, "bandlimin %d *\nproxy -p%d\n"
          % (RATE_BITS, port), [port])
    size = 3 * RATE_BYTES
    speed, got = curl_speed(["-x", "http://127.0.0.1:%d" % port,
                             origin.url("/big?size=%d" % size)])
    assert got == size
    assert RATE_BYTES * 0.9 <= speed <= RATE_BYTES * 1.1, speed


def test_nobandlimin_exclusion_http_get(proxy, tmp_path, origin):
    """F-LIM-01, F-LIM-02: through the HTTP proxy a nobandlimin for the
    origin's port keeps its GETs at full speed; a GET to another origin
    is still paced."""
    other = Origin()
    try:
        port = free_port()
        start(proxy, tmp_path,
              "nobandlimin * * * %d\nbandlimin %d *\nproxy -p%d\n"
              % (origin.port, RATE_BITS, port), [port])
        px = "http://127.0.0.1:%d" % port
        size = 4 * MiB
        t0 = time.monotonic()
        speed, got = curl_speed(["-x", px,
                                 origin.url("/big?size=%d" % size)])
        assert got == size
        assert time.monotonic() - t0 < 3.0
        assert speed > 10 * RATE_BYTES
        speed, got = curl_speed(["-x", px, other.url("/big?size=%d"
                                                     % (2 * RATE_BYTES))])
        assert got == 2 * RATE_BYTES
        assert speed <= RATE_BYTES * 1.1, speed
    finally:
        other.close()


def test_bandlimout_rate_http_post(proxy, tmp_path, origin):
    """F-LIM-01: a POST body forwarded by the HTTP proxy is paced by
    bandlimout (upload = out): the origin answers only after it read the
    whole body, so the request takes size / rate within 10 %."""
    port = free_port()
    start(proxy, tmp_path, "bandlimout %d *\nproxy -p%d\n"
          % (RATE_BITS, port), [port])
    size = 3 * RATE_BYTES
    body = tmp_path / "upload.bin"
    body.write_bytes(b"u" * size)
    r = curl(["-o", "-", "-w", "\n%{time_total}", "-x",
              "http://127.0.0.1:%d" % port, "--data-binary", "@%s" % body,
              "-H", "Expect:", origin.url("/echo")], timeout=30)
    assert r.returncode == 0, r.stderr
    reply, took = r.stdout.decode().rsplit("\n", 1)
    assert '"len": %d' % size in reply
    speed = size / float(took)
    assert RATE_BYTES * 0.9 <= speed <= RATE_BYTES * 1.1, speed


def test_bandlim_config_errors(run3proxy, cfgfile):
    """F-LIM-01: a rate below 300 bit/s is refused."""
    r = run3proxy([cfgfile("bandlimin 299 *\nproxy -p%d\n" % free_port())])
    assert r.rc != 0
    assert "Wrong bandwidth specified" in r.err


# --------------------------------------------------------------------------
# traffic quotas (F-LIM-05 .. F-LIM-09)
# --------------------------------------------------------------------------

def read_record(path, n):
    """Counter n of a counter file (64-bit layout of limits.md 4.4)."""
    data = path.read_bytes()
    assert data[:4] == b"3CF\0"
    off = 16 + (n - 1) * 24
    return struct.unpack("=Qqq", data[off:off + 24])


def test_quota_cuts_download(proxy, tmp_path, source):
    """F-LIM-06, F-LIM-09: a download is cut as it crosses a 1 MiB
    quota; the record says 00010; the next connection is refused."""
    port = free_port()
    d, log = start(proxy, tmp_path, "countin 0 N 1 *\n"
                   + tcppm_line(port, source.port), [port])
    with connect(port, timeout=10) as s:
        got = len(recv_all(s, timeout=10, limit=64 * MiB))
    assert MiB - 65536 <= got <= MiB + 65536, got
    wait_record(log, lambda m: m.group("err") == "00010")
    with connect(port, timeout=10) as s:
        assert recv_all(s, timeout=10) == b""
    wait_until(lambda: codes(log).count(10) >= 2, 8, what="two 00010")


def test_counter_file_survives_restart(proxy, tmp_path, source):
    """F-LIM-05: the counter file keeps the value across a restart
    (saved at exit): the second run refuses at once with 00010."""
    port = free_port()
    cnt = tmp_path / "traffic.cnt"
    body = ("counter %s\ncountin 1/test N 1 *\n" % cnt
            + tcppm_line(port, source.port))
    d, log = start(proxy, tmp_path, body, [port])
    with connect(port, timeout=10) as s:
        got = len(recv_all(s, timeout=10, limit=64 * MiB))
    assert got <= MiB + 65536
    wait_record(log, lambda m: m.group("err") == "00010")
    assert d.stop() == 0
    value, cleared, updated = read_record(cnt, 1)
    assert value > MiB
    assert cleared > 0 and updated >= cleared
    assert cnt.stat().st_mode & 0o007 == 0

    log.unlink()
    d2, log = start(proxy, tmp_path, body, [port])
    with connect(port, timeout=10) as s:
        assert recv_all(s, timeout=10) == b""
    wait_record(log, lambda m: m.group("err") == "00010")
    assert 10 in codes(log) and 0 not in codes(log)


def test_counter_survives_reload(proxy, tmp_path, source):
    """F-LIM-05: a reload (SIGUSR1) keeps the counted value."""
    port = free_port()
    cnt = tmp_path / "reload.cnt"
    d, log = start(proxy, tmp_path, "counter %s\ncountin 3 N 1 *\n" % cnt
                   + tcppm_line(port, source.port), [port])
    with connect(port, timeout=10) as s:
        recv_all(s, timeout=10, limit=64 * MiB)
    wait_record(log, lambda m: m.group("err") == "00010")
    d.send_signal(signal.SIGUSR1)
    time.sleep(1.0)
    d.wait_listening(port)
    with connect(port, timeout=10) as s:
        assert recv_all(s, timeout=10) == b""
    wait_until(lambda: codes(log).count(10) >= 2, 8, what="two 00010")
    # the file was rewritten at the reload
    assert read_record(cnt, 3)[0] > MiB


def test_nocountin_exclusion(proxy, tmp_path, source, origin):
    """F-LIM-07: a matching nocountin keeps requests out of the quota."""
    free, counted = free_port(), free_port()
    start(proxy, tmp_path,
          "nocountin * * * %d\ncountin 0 N 1 *\n" % origin.port
          + tcppm_line(free, origin.port) + tcppm_line(counted, source.port),
          [free, counted])
    speed, got = curl_speed(["http://127.0.0.1:%d/big?size=%d"
                             % (free, 3 * MiB)])
    assert got == 3 * MiB
    with connect(counted, timeout=10) as s:
        got = len(recv_all(s, timeout=10, limit=64 * MiB))
    assert got <= MiB + 65536


def test_quota_http_proxy_503(proxy, tmp_path, origin):
    """F-LIM-06, F-LIM-09: a plain GET through the HTTP proxy (no
    CONNECT) is cut as its response body crosses a 1 MiB quota, with
    00010 in its record; the next request over the quota gets 503 and
    another 00010."""
    port = free_port()
    d, log = start(proxy, tmp_path, "countin 0 N 1 *\nproxy -p%d\n" % port,
                   [port])
    proxy_url = "http://127.0.0.1:%d" % port
    r = curl(["-o", "/dev/null", "-w", "%{http_code} %{size_download}",
              "-x", proxy_url, origin.url("/big?size=%d" % (4 * MiB))])
    assert r.returncode != 0          # a short body: curl reports it
    status, got = r.stdout.decode().split()
    assert status == "200"
    assert int(got) <= MiB + 65536, got
    wait_record(log, lambda m: m.group("err") == "00010")
    r = curl(["-o", "/dev/null", "-w", "%{http_code}", "-x", proxy_url,
              origin.url("/small")])
    assert r.stdout.decode() == "503"
    wait_until(lambda: codes(log).count(10) >= 2, 8, what="two 00010")
    assert origin.accepted == 1


def test_quota_http_proxy_chunked_upload(proxy, tmp_path, origin):
    """F-LIM-06, F-LIM-09: a chunked POST body forwarded by the HTTP
    proxy is cut as it crosses a 1 MiB countout quota (upload = out):
    the client gets no 200 and the record says 00010."""
    port = free_port()
    d, log = start(proxy, tmp_path, "countout 0 N 1 *\nproxy -p%d\n"
                   % port, [port])
    body = tmp_path / "upload.bin"
    body.write_bytes(b"u" * (4 * MiB))
    r = curl(["-o", "/dev/null", "-w", "%{http_code}", "-x",
              "http://127.0.0.1:%d" % port, "-H",
              "Transfer-Encoding: chunked", "-H", "Expect:",
              "--data-binary", "@%s" % body, origin.url("/echo")])
    assert r.stdout.decode() != "200"
    wait_record(log, lambda m: m.group("err") == "00010")
    assert not [q for q in origin.requests if q["path"] == "/echo"
                and q["body_len"] == 4 * MiB]


@pytest.mark.parametrize("cfg,message", [
    ("countin 0 D 0 *\n", "Wrong traffic limit specified"),
    ("countin 1 D 10 *\n", "needs a `counter` file line"),
])
def test_counter_config_errors(run3proxy, cfgfile, cfg, message):
    """F-LIM-06: a zero limit, and a numbered counter before `counter`."""
    r = run3proxy([cfgfile(cfg + "proxy -p%d\n" % free_port())])
    assert r.rc != 0
    assert message in r.err


# --------------------------------------------------------------------------
# connection limits (F-LIM-03, F-LIM-04)
# --------------------------------------------------------------------------

def echo_ok(port):
    """One echo round trip through ``port``; False when refused (a
    refused connection may also be reset: "ping" was not read)."""
    try:
        with connect(port, timeout=5) as s:
            s.sendall(b"ping")
            return recv_exact(s, 4, timeout=5) == b"ping"
    except OSError:
        return False


def test_connlim_rate(proxy, tmp_path, tcp_server):
    """F-LIM-03: connlim 3 60: the 4th connection within the period is
    refused with 00010."""
    echo = tcp_server(echo_handler)
    port = free_port()
    d, log = start(proxy, tmp_path, "connlim 3 60 *\n"
                   + tcppm_line(port, echo.port), [port])
    for _ in range(3):
        assert echo_ok(port)
    with connect(port, timeout=5) as s:
        assert recv_all(s, timeout=5) == b""
    wait_record(log, lambda m: m.group("err") == "00010")
    assert echo.accepted == 3


def test_connlim_concurrency_and_noconnlim(proxy, tmp_path, tcp_server):
    """F-LIM-03, F-LIM-04: connlim 2 0 allows two connections at a time;
    a closed one frees its slot; noconnlim exempts a target port."""
    echo = tcp_server(echo_handler)
    echo2 = tcp_server(echo_handler)
    port, port2 = free_port(), free_port()
    d, log = start(proxy, tmp_path,
                   "noconnlim * * * %d\nconnlim 2 0 *\n" % echo2.port
                   + tcppm_line(port, echo.port)
                   + tcppm_line(port2, echo2.port), [port, port2])
    held = [connect(port, timeout=5) for _ in range(2)]
    try:
        for s in held:
            s.sendall(b"ping")
            assert recv_exact(s, 4, timeout=5) == b"ping"
        with connect(port, timeout=5) as s:
            assert recv_all(s, timeout=5) == b""
        wait_record(log, lambda m: m.group("err") == "00010")
        # exempt: more than two at once
        extra = [connect(port2, timeout=5) for _ in range(3)]
        for s in extra:
            s.sendall(b"ping")
            assert recv_exact(s, 4, timeout=5) == b"ping"
        for s in extra:
            s.close()
    finally:
        held.pop().close()
    # one slot free again
    wait_until(lambda: echo_ok(port), 5, what="a free connlim slot")
    for s in held:
        s.close()
