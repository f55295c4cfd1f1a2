"""Shared helpers for the integration suite.

The suite starts the real ``3proxy`` binary (``PX_BIN``, default
``<repo>/build/bin/3proxy``) on loopback and talks to it with ordinary
sockets.  Everything here is bounded in time: every wait has a deadline and
every process started is stopped at teardown, also when the test failed.

Fixtures
    proxy          factory: ``proxy(cfg_text_or_path, ...)`` -> Daemon
    run3proxy      run the binary to completion (``--check``, bad configs)
    cfgfile        factory: write a config file into tmp_path
    echo_server, sink_server, source_server, udp_echo_server, closed_port

Module-level helpers (import them with ``from conftest import ...``)
    free_port, free_udp_port, wait_listening, wait_udp_bound, port_is_free,
    wait_until, connect, data_chunks, send_stream, recv_stream, ...
"""

import collections
import hashlib
import os
import random
import re
import resource
import select
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PX_BIN = Path(os.environ.get("PX_BIN", str(REPO / "build" / "bin" / "3proxy")))
BIN_DIR = PX_BIN.parent
EXAMPLE_PLUGIN = BIN_DIR / "ExamplePlugin.ld.so"

LOOP4 = "127.0.0.1"
LOOP6 = "::1"

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:",
                     "LeakSanitizer")

DAEMON_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}

STOP_TIMEOUT = 15.0


def _raise_nofile():
    """Raise the soft descriptor limit to the hard one (this process and,
    through inheritance, every daemon it starts)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 65536
    if soft == resource.RLIM_INFINITY or soft >= hard:
        return
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass


_raise_nofile()


def nofile_limit():
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# --------------------------------------------------------------------------
# small generic helpers
# --------------------------------------------------------------------------

def wait_until(pred, timeout=5.0, interval=0.05, what="condition"):
    """Poll ``pred`` until it returns a true value; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            if callable(what):
                what = what()
            pytest.fail("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def split_records(path, fields):
    """The records of a log written with a '|'-separated logformat, as
    dicts keyed by ``fields`` (lines of another shape are skipped)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    out = []
    for line in text.splitlines():
        parts = line.split("|", len(fields) - 1)
        if len(parts) == len(fields):
            out.append(dict(zip(fields, parts)))
    return out


def wait_split_record(path, fields, pred, timeout=10.0):
    """The first record of ``path`` for which ``pred`` is true; fail
    (showing the log) after ``timeout``."""
    return wait_until(
        lambda: next((r for r in split_records(path, fields) if pred(r)),
                     None), timeout,
        what=lambda: "a matching record in %s:\n%s"
        % (path, path.read_text() if path.exists() else "-"))


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_EPHEMERAL_LOW = _ephemeral_low()
_recent_ports = collections.deque(maxlen=1024)


def free_port(host=LOOP4, kind=socket.SOCK_STREAM):
    """A port that was free a moment ago, for a listener the test starts
    later.  It comes from below the kernel's ephemeral range, so nothing
    that binds port 0 or connects meanwhile (a test server, a client's
    source port) can take it; nor can a client connect to itself through
    it (TCP simultaneous open).  Ports handed out recently are not
    handed out again."""
    top = max(2000, min(_EPHEMERAL_LOW, 65536))
    for _ in range(500):
        port = random.randrange(1024, top)
        if port not in _recent_ports and port_is_free(port, host, kind):
            _recent_ports.append(port)
            return port
    raise RuntimeError("no free port below %d" % top)


def free_udp_port(host=LOOP4):
    return free_port(host, socket.SOCK_DGRAM)


def port_is_free(port, host=LOOP4, kind=socket.SOCK_STREAM):
    """True if nobody holds ``port`` (a bind without SO_REUSEADDR works)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, kind) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def ipv6_usable():
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind((LOOP6, 0))
            s.listen(1)
            port = s.getsockname()[1]
            with socket.create_connection((LOOP6, port), timeout=2):
                pass
        return True
    except OSError:
        return False


def _proc_net_ports(names, state=None):
    """Local ports found in /proc/net/<names> (optionally in a TCP state)."""
    ports = set()
    for name in names:
        try:
            with open("/proc/net/" + name) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 4:
                continue
            if state is not None and fields[3] != state:
                continue
            ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def listening_addrs(port):
    """Local addresses (as written in /proc/net/tcp*, e.g. 0100007F for
    127.0.0.1) of the TCP listeners on ``port``."""
    addrs = set()
    for name in ("tcp", "tcp6"):
        try:
            with open("/proc/net/" + name) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            addr, p = fields[1].rsplit(":", 1)
            if int(p, 16) == port and fields[3] == "0A":
                addrs.add(addr)
    return addrs


def _connect_probe(port, host):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        try:
            s.connect((host, port))
            return True
        except OSError:
            return False


def is_listening(port, host=LOOP4):
    """A TCP listener exists on ``port``.  Uses /proc/net/tcp* so that
    probing does not open a connection through a port mapper; falls back
    to connecting when /proc is not there."""
    if os.path.exists("/proc/net/tcp"):
        return port in _proc_net_ports(("tcp", "tcp6"), state="0A")
    return _connect_probe(port, host)


def wait_listening(port, host=LOOP4, timeout=10.0, proc=None):
    """Wait until a TCP listener is up on ``port`` (bounded)."""
    def ready():
        if proc is not None and proc.poll() is not None:
            pytest.fail("3proxy exited with %s before listening on %d:\n%s"
                        % (proc.returncode, port, proc.stderr_text()))
        return is_listening(port, host)
    wait_until(ready, timeout, what="a listener on port %d" % port)


def wait_not_listening(port, host=LOOP4, timeout=10.0):
    wait_until(lambda: not is_listening(port, host), timeout,
               what="port %d to stop listening" % port)


def wait_udp_bound(port, timeout=10.0, proc=None):
    def ready():
        if proc is not None and proc.poll() is not None:
            pytest.fail("3proxy exited with %s before binding udp %d:\n%s"
                        % (proc.returncode, port, proc.stderr_text()))
        if os.path.exists("/proc/net/udp"):
            return port in _proc_net_ports(("udp", "udp6"))
        return not port_is_free(port, kind=socket.SOCK_DGRAM)
    wait_until(ready, timeout, what="udp port %d to be bound" % port)


def connect(port, host=LOOP4, timeout=10.0):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
    except BaseException:
        s.close()
        raise
    return s


def recv_exact(sock, n, timeout=10.0):
    sock.settimeout(timeout)
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def recv_all(sock, timeout=10.0, limit=1 << 24):
    """Read until EOF (bounded by ``timeout`` per recv and ``limit`` bytes).
    A reset counts as EOF."""
    sock.settimeout(timeout)
    buf = bytearray()
    while len(buf) < limit:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def echo_roundtrip(port, payload=b"ping through 3proxy", host=LOOP4,
                   timeout=10.0):
    """Connect to ``port`` (a mapper to an echo server) and check one
    round trip; returns what came back."""
    with connect(port, host, timeout) as s:
        s.sendall(payload)
        return recv_exact(s, len(payload), timeout)


def assert_serves(port, host=LOOP4):
    payload = b"still alive %d" % random.randrange(1 << 30)
    got = echo_roundtrip(port, payload, host)
    assert got == payload, "daemon no longer relays on port %d" % port


# --------------------------------------------------------------------------
# log records (default format)
# --------------------------------------------------------------------------

LOG_RX = (r"^(?P<date>\d{12})\.(?P<ms>\d{3}) (?P<port>\d+) (?P<err>\d{5}) "
          r"(?P<user>\S+) (?P<cip>[0-9a-f.:]+):(?P<cport>\d+) "
          r"(?P<rip>[0-9a-f.:]+):(?P<rport>\d+) (?P<out>\d+) (?P<in>\d+) "
          r"(?P<hops>\d+) (?P<text>.*)$")


def log_records(path):
    """Records of a log file in the default format, as regex matches."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    return [m for m in (re.match(LOG_RX, l) for l in text.splitlines()) if m]


def wait_record(path, pred, timeout=8.0):
    return wait_until(lambda: next((m for m in log_records(path) if pred(m)),
                                   None),
                      timeout, what=lambda: "a matching log record in %s:\n%s"
                      % (path, path.read_text() if path.exists() else "-"))


# --------------------------------------------------------------------------
# data streams and hashing
# --------------------------------------------------------------------------

MiB = 1 << 20


def data_chunks(total, seed=1, chunk=256 * 1024):
    """Yield ``total`` pseudo-random bytes in chunks (never all at once)."""
    rnd = random.Random(seed)
    left = total
    while left > 0:
        n = min(chunk, left)
        yield rnd.randbytes(n)
        left -= n


def stream_digest(total, seed=1):
    h = hashlib.sha256()
    for c in data_chunks(total, seed):
        h.update(c)
    return h.hexdigest()


def send_stream(sock, chunks):
    """Send every chunk; returns (bytes sent, sha256 hex)."""
    h = hashlib.sha256()
    n = 0
    for c in chunks:
        sock.sendall(c)
        h.update(c)
        n += len(c)
    return n, h.hexdigest()


def recv_stream(sock, timeout=30.0):
    """Read to EOF; returns (bytes received, sha256 hex).  ``timeout``
    bounds each individual recv."""
    sock.settimeout(timeout)
    h = hashlib.sha256()
    n = 0
    while True:
        c = sock.recv(1 << 18)
        if not c:
            break
        h.update(c)
        n += len(c)
    return n, h.hexdigest()


# --------------------------------------------------------------------------
# local servers (threads)
# --------------------------------------------------------------------------

def readable(sock, timeout):
    """poll() one socket (select() cannot take descriptors >= 1024)."""
    p = select.poll()
    p.register(sock, select.POLLIN)
    return bool(p.poll(timeout * 1000))


class _TcpServer:
    """A threaded TCP server; ``handler(conn, server)`` runs per connection
    in its own thread.  ``results`` collects whatever handlers append."""

    def __init__(self, handler, host=LOOP4, backlog=128):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(backlog)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self.handler = handler
        self.results = []
        self.peers = []
        self.cond = threading.Condition()
        self._stop = threading.Event()
        self._conns = []
        self._threads = []
        self._acceptor = threading.Thread(target=self._accept_loop,
                                          daemon=True)
        self._acceptor.start()

    @property
    def accepted(self):
        with self.cond:
            return len(self.peers)

    def _accept_loop(self):
        while not self._stop.is_set():
            if not readable(self.sock, 0.2):
                continue
            try:
                conn, peer = self.sock.accept()
            except OSError:
                continue
            with self.cond:
                self.peers.append(peer)
                self._conns.append(conn)
                self.cond.notify_all()
            t = threading.Thread(target=self._run, args=(conn,), daemon=True)
            self._threads.append(t)
            t.start()

    def _run(self, conn):
        try:
            conn.settimeout(60)
            self.handler(conn, self)
        except OSError as e:
            self.add_result(("error", repr(e)))
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def add_result(self, value):
        with self.cond:
            self.results.append(value)
            self.cond.notify_all()

    def wait_results(self, n=1, timeout=30.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.results) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    pytest.fail("server got %d results, wanted %d"
                                % (len(self.results), n))
                self.cond.wait(left)
            return list(self.results)

    def wait_accepted(self, n=1, timeout=10.0):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.peers) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def close(self):
        self._stop.set()
        self._acceptor.join(5)
        self.sock.close()
        with self.cond:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        deadline = time.monotonic() + 10
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))


def echo_handler(conn, server):
    while True:
        data = conn.recv(65536)
        if not data:
            break
        conn.sendall(data)
    try:
        conn.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _sink_handler(conn, server):
    n, digest = recv_stream(conn, timeout=60)
    server.add_result((n, digest))


def make_source_handler(total, seed):
    def handler(conn, server):
        try:
            n, digest = send_stream(conn, data_chunks(total, seed))
            conn.shutdown(socket.SHUT_WR)
            server.add_result((n, digest))
        except OSError as e:
            server.add_result(("error", repr(e)))
    return handler


class UdpEchoServer:
    """Replies ``prefix + datagram`` to the sender; remembers the source
    address of every datagram."""

    def __init__(self, host=LOOP4, prefix=b"echo:"):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.prefix = prefix
        self.seen = []
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._loop, daemon=True)
        self._t.start()

    def _loop(self):
        while not self._stop.is_set():
            if not readable(self.sock, 0.2):
                continue
            try:
                data, peer = self.sock.recvfrom(65535)
            except OSError:
                continue
            with self.lock:
                self.seen.append((peer, data))
            try:
                self.sock.sendto(self.prefix + data, peer)
            except OSError:
                pass

    def sources(self):
        with self.lock:
            return [p for p, _ in self.seen]

    def close(self):
        self._stop.set()
        self._t.join(5)
        self.sock.close()


@pytest.fixture
def tcp_server():
    """Factory for threaded TCP servers with a custom handler."""
    servers = []

    def make(handler, host=LOOP4, backlog=128):
        srv = _TcpServer(handler, host, backlog)
        servers.append(srv)
        return srv
    yield make
    for s in servers:
        s.close()


@pytest.fixture
def echo_server(tcp_server):
    return tcp_server(echo_handler)


@pytest.fixture
def sink_server(tcp_server):
    """Reads to EOF; each connection adds (bytes, sha256) to results."""
    return tcp_server(_sink_handler)


@pytest.fixture
def source_server(tcp_server):
    """Factory: a server that sends ``total`` bytes (seeded) then closes."""
    def make(total, seed=7):
        return tcp_server(make_source_handler(total, seed))
    return make


@pytest.fixture
def udp_echo_server():
    srv = UdpEchoServer()
    yield srv
    srv.close()


def unused_port(host=LOOP4):
    """A loopback TCP port with nothing listening on it (see free_port:
    not an ephemeral port, so "connection refused" tests cannot connect
    to themselves)."""
    return free_port(host)


@pytest.fixture
def closed_port():
    """A loopback TCP port with nothing listening on it."""
    return unused_port()


# --------------------------------------------------------------------------
# the daemon
# --------------------------------------------------------------------------

def check_sanitizers(text, who="3proxy"):
    for marker in SANITIZER_MARKERS:
        if marker in text:
            pytest.fail("%s stderr contains sanitizer output (%r):\n%s"
                        % (who, marker, text[-8000:]))


def daemon_env():
    env = dict(os.environ)
    env.update(DAEMON_ENV)
    return env


class Daemon:
    """A running ``3proxy``; stdout/stderr go to files in ``workdir``."""

    def __init__(self, args, workdir, stdin_text=None, name="px"):
        self.workdir = Path(workdir)
        self.out_path = self.workdir / (name + ".stdout")
        self.err_path = self.workdir / (name + ".stderr")
        self.args = [str(PX_BIN)] + [str(a) for a in args]
        # The child gets its own descriptors; ours are closed at once.
        with open(self.out_path, "wb") as out, \
                open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.args, cwd=str(self.workdir), env=daemon_env(),
                stdin=subprocess.PIPE if stdin_text is not None
                else subprocess.DEVNULL,
                stdout=out, stderr=err)
        self.pid = self.proc.pid
        self.stopped = False
        if stdin_text is not None:
            # Keep stdin open: the config ends with `end`, not EOF.
            self.proc.stdin.write(stdin_text.encode())
            self.proc.stdin.flush()

    # -- state
    def poll(self):
        return self.proc.poll()

    @property
    def returncode(self):
        return self.proc.returncode

    def alive(self):
        return self.proc.poll() is None

    def stdout_text(self):
        return self.out_path.read_bytes().decode("utf-8", "replace")

    def stderr_text(self):
        return self.err_path.read_bytes().decode("utf-8", "replace")

    def wait_stderr(self, pattern, timeout=5.0):
        rx = re.compile(pattern, re.M)
        return wait_until(lambda: rx.search(self.stderr_text()), timeout,
                          what=lambda: "stderr to match %r; stderr:\n%s"
                          % (pattern, self.stderr_text()))

    def wait_stdout(self, pattern, timeout=5.0):
        rx = re.compile(pattern, re.M)
        return wait_until(lambda: rx.search(self.stdout_text()), timeout,
                          what=lambda: "stdout to match %r; stdout:\n%s"
                          % (pattern, self.stdout_text()[-4000:]))

    def wait_listening(self, port, host=LOOP4, timeout=10.0):
        wait_listening(port, host, timeout, proc=self)

    def wait_udp_bound(self, port, timeout=10.0):
        wait_udp_bound(port, timeout, proc=self)

    def send_signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    # -- stopping
    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Stop with ``sig`` (SIGKILL after ``timeout``); returns the exit
        status (negative = killed by a signal)."""
        if not self.stopped:
            self.stopped = True
            if self.proc.poll() is None:
                try:
                    os.kill(self.pid, sig)
                except ProcessLookupError:
                    pass
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            if self.proc.stdin is not None:
                try:
                    self.proc.stdin.close()
                except OSError:
                    pass
        return self.proc.returncode


@pytest.fixture
def proxy(tmp_path):
    """Factory that starts 3proxy.

    ``proxy(cfg)`` where ``cfg`` is config text (written to a file) or a
    Path; ``proxy(args=[...])`` for explicit arguments; ``stdin=text`` to
    feed the config through standard input.  Teardown stops every daemon
    with SIGTERM and fails the test on sanitizer output or a non-zero
    exit status of a daemon the test did not stop itself.
    """
    started = []
    counter = [0]

    def start(cfg=None, args=None, stdin=None, wait_ports=(), name=None):
        counter[0] += 1
        tag = name or "px%d" % counter[0]
        if args is None:
            if isinstance(cfg, Path):
                path = cfg
            else:
                path = tmp_path / (tag + ".cfg")
                path.write_text(cfg)
            args = [path]
        d = Daemon(args, tmp_path, stdin_text=stdin, name=tag)
        started.append(d)
        for p in wait_ports:
            d.wait_listening(p)
        return d

    yield start

    problems = []
    for d in started:
        already = d.stopped
        rc = d.stop()
        err = d.stderr_text() if d.err_path.exists() else ""
        for marker in SANITIZER_MARKERS:
            if marker in err:
                problems.append("%s: sanitizer output (%r):\n%s"
                                % (d.args, marker, err[-8000:]))
                break
        if not already and rc != 0:
            problems.append("%s: exit status %s on SIGTERM\n%s"
                            % (d.args, rc, err[-4000:]))
    if problems:
        pytest.fail("\n\n".join(problems))


class Result:
    def __init__(self, rc, out, err):
        self.rc = rc
        self.out = out
        self.err = err

    def __repr__(self):
        return "Result(rc=%r, out=%r, err=%r)" % (self.rc, self.out, self.err)


@pytest.fixture
def run3proxy(tmp_path):
    """Run 3proxy to completion: ``run3proxy(args, input=None,
    timeout=20)`` -> Result.  Runs in tmp_path; a process still running
    at the timeout is killed and the test fails."""
    def run(args, input=None, timeout=20.0, cwd=None, preexec_fn=None):
        argv = [str(PX_BIN)] + [str(a) for a in args]
        p = subprocess.Popen(argv, cwd=str(cwd or tmp_path), env=daemon_env(),
                             preexec_fn=preexec_fn,
                             stdin=subprocess.PIPE if input is not None
                             else subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            out, err = p.communicate(
                input.encode() if input is not None else None, timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate(timeout=10)
            pytest.fail("%s did not exit within %ss; stderr:\n%s"
                        % (argv, timeout, err.decode("utf-8", "replace")))
        res = Result(p.returncode, out.decode("utf-8", "replace"),
                     err.decode("utf-8", "replace"))
        check_sanitizers(res.err, " ".join(argv))
        return res
    return run


@pytest.fixture
def cfgfile(tmp_path):
    """``cfgfile(text, name="px.cfg")`` writes a config into tmp_path."""
    def write(text, name="px.cfg"):
        p = tmp_path / name
        p.write_text(text)
        return p
    return write


@pytest.fixture(autouse=True, scope="session")
def _binary_present():
    if not PX_BIN.is_file() or not os.access(PX_BIN, os.X_OK):
        pytest.fail("3proxy binary not found at %s (set PX_BIN or build "
                    "the project first)" % PX_BIN, pytrace=False)
