"""tcppm: bulk relay both ways, half-close, -C, failed targets, log
records, IPv6."""

import datetime
import os
import re
import socket
import threading
import time

import pytest

from conftest import (LOOP4, LOOP6, MiB, assert_serves, connect, data_chunks,
                      echo_handler, free_port, ipv6_usable, recv_all,
                      recv_exact, recv_stream, send_stream, stream_digest,
                      wait_record, wait_until)

BIG = 100 * MiB


def tcppm_cfg(port, target_port, opts="", head=""):
    return ("internal 127.0.0.1\n" + head
            + "tcppm %s %d 127.0.0.1 %d\n" % (opts, port, target_port))


# --------------------------------------------------------------------------
# bulk data
# --------------------------------------------------------------------------

@pytest.mark.parametrize("opts,size", [("", BIG), ("-s0 -b4096", 16 * MiB)],
                         ids=["default-100M", "copy-small-buffer-16M"])
def test_bulk_client_to_server(proxy, sink_server, opts, size):
    port = free_port()
    d = proxy(tcppm_cfg(port, sink_server.port, opts))
    d.wait_listening(port)
    with connect(port, timeout=60) as s:
        sent, digest = send_stream(s, data_chunks(size, seed=11))
        s.shutdown(socket.SHUT_WR)
        # The sink closes after EOF: the tunnel then ends for us too.
        assert recv_all(s, timeout=60) == b""
    (got, got_digest), = sink_server.wait_results(1, timeout=120)
    assert sent == size
    assert got == size
    assert got_digest == digest


@pytest.mark.parametrize("opts,size", [("", BIG), ("-s0 -b4096", 16 * MiB)],
                         ids=["default-100M", "copy-small-buffer-16M"])
def test_bulk_server_to_client(proxy, source_server, opts, size):
    src = source_server(size, seed=23)
    port = free_port()
    d = proxy(tcppm_cfg(port, src.port, opts))
    d.wait_listening(port)
    with connect(port, timeout=60) as s:
        got, digest = recv_stream(s, timeout=60)
    (sent, sent_digest), = src.wait_results(1, timeout=60)
    assert sent == size
    assert got == size
    assert digest == sent_digest == stream_digest(size, seed=23)


def test_bidirectional_at_once(proxy, echo_server):
    """Both directions busy at the same time: an echo of 24 MB while the
    client is still sending."""
    size = 24 * MiB
    port = free_port()
    d = proxy(tcppm_cfg(port, echo_server.port))
    d.wait_listening(port)
    with connect(port, timeout=60) as s:
        result = {}

        def reader():
            try:
                result["r"] = recv_stream(s, timeout=60)
            except OSError as e:
                result["r"] = e
        t = threading.Thread(target=reader, daemon=True)
        t.start()
        sent = send_stream(s, data_chunks(size, seed=5))
        s.shutdown(socket.SHUT_WR)
        t.join(120)
        assert not t.is_alive(), "echo did not finish"
    assert result["r"] == sent


# --------------------------------------------------------------------------
# half-close and -C
# --------------------------------------------------------------------------

def _late_reply_handler(delay):
    """Read to EOF, wait ``delay``, then answer with what was read."""
    def handler(conn, server):
        data = recv_all(conn, timeout=20)
        time.sleep(delay)
        try:
            conn.sendall(b"got:" + data)
            conn.shutdown(socket.SHUT_WR)
            server.add_result(("sent", data))
        except OSError as e:
            server.add_result(("send-failed", repr(e), data))
    return handler


def test_half_close_reaches_server_and_reply_returns(proxy, tcp_server):
    srv = tcp_server(_late_reply_handler(0.5))
    port = free_port()
    d = proxy(tcppm_cfg(port, srv.port))
    d.wait_listening(port)
    with connect(port) as s:
        s.sendall(b"question")
        s.shutdown(socket.SHUT_WR)
        answer = recv_all(s, timeout=10)
    assert answer == b"got:question"
    res, = srv.wait_results(1)
    assert res == ("sent", b"question")


def test_half_close_other_direction(proxy, tcp_server):
    """The server closes its sending side first; the client still gets
    the data, sees EOF, and can keep sending."""
    def handler(conn, server):
        conn.sendall(b"banner")
        conn.shutdown(socket.SHUT_WR)
        server.add_result(recv_all(conn, timeout=20))
    srv = tcp_server(handler)
    port = free_port()
    d = proxy(tcppm_cfg(port, srv.port))
    d.wait_listening(port)
    with connect(port) as s:
        assert recv_all(s, timeout=10) == b"banner"
        time.sleep(0.3)
        s.sendall(b"after server EOF")
        s.shutdown(socket.SHUT_WR)
        got, = srv.wait_results(1, timeout=15)
    assert got == b"after server EOF"


def test_dash_C_ends_session_when_client_closes(proxy, tcp_server):
    srv = tcp_server(_late_reply_handler(2.0))
    port = free_port()
    d = proxy(tcppm_cfg(port, srv.port, "-C"))
    d.wait_listening(port)
    with connect(port) as s:
        s.sendall(b"question")
        t0 = time.monotonic()
        s.shutdown(socket.SHUT_WR)
        answer = recv_all(s, timeout=10)
        elapsed = time.monotonic() - t0
    # The session ended at the client's close: the late reply is lost,
    # and the end came before the reply was even sent.
    assert answer == b""
    assert elapsed < 1.5, elapsed
    res = srv.wait_results(1, timeout=15)[0]
    assert res[-1] == b"question"


# --------------------------------------------------------------------------
# failing target and log records
# --------------------------------------------------------------------------

def test_target_down_closes_client_and_logs_00013(proxy, closed_port,
                                                   tmp_path):
    port = free_port()
    log = tmp_path / "tcppm.log"
    d = proxy(tcppm_cfg(port, closed_port, "-l%s" % log))
    d.wait_listening(port)
    with connect(port) as s:
        try:
            s.sendall(b"hello?")
        except OSError:
            pass
        t0 = time.monotonic()
        assert recv_all(s, timeout=20) == b""
        assert time.monotonic() - t0 < 20
    rec = wait_record(log, lambda m: m["text"] == "127.0.0.1"
                      and m["port"] == str(port))
    assert rec["err"] == "00013", rec.group(0)
    assert rec["in"] == "0"
    assert d.alive(), d.stderr_text()


def test_log_record_fields(proxy, tcp_server, tmp_path):
    def handler(conn, server):
        data = recv_exact(conn, 11)
        conn.sendall(b"answer!")
        server.add_result(data)
        recv_all(conn, timeout=10)
    srv = tcp_server(handler)
    port = free_port()
    log = tmp_path / "px.log"
    d = proxy(tcppm_cfg(port, srv.port, head="log %s\n" % log))
    d.wait_listening(port)
    # The listener announces itself.
    acc = wait_record(log, lambda m: m["text"].startswith("Accepting"))
    assert re.fullmatch(r"Accepting connections \[%d/\d+\]" % d.pid,
                        acc["text"]), acc.group(0)
    assert acc["port"] == str(port)
    assert acc["err"] == "00000"
    assert (acc["cip"], acc["cport"]) == ("127.0.0.1", str(port))

    before = datetime.datetime.now(datetime.timezone.utc)
    with connect(port) as s:
        cport = s.getsockname()[1]
        s.sendall(b"hello world")
        assert recv_exact(s, 7) == b"answer!"
        assert srv.wait_results(1) == [b"hello world"]
    rec = wait_record(log, lambda m: m["cport"] == str(cport))
    after = datetime.datetime.now(datetime.timezone.utc)

    assert rec["port"] == str(port)
    assert rec["err"] == "00000"
    assert rec["user"] == "-"
    assert rec["cip"] == "127.0.0.1"
    assert rec["rip"] == "127.0.0.1"
    assert rec["rport"] == str(srv.port)
    assert rec["out"] == "11"      # bytes from the client
    assert rec["in"] == "7"        # bytes from the server
    assert rec["hops"] == "0"
    assert rec["text"] == "127.0.0.1"
    # %y%m%d%H%M%S in UTC, close to now.
    stamp = datetime.datetime.strptime(rec["date"], "%y%m%d%H%M%S").replace(
        tzinfo=datetime.timezone.utc)
    assert before - datetime.timedelta(seconds=2) <= stamp \
        <= after + datetime.timedelta(seconds=2), (stamp, before, after)


def test_custom_logformat_to_stdout(proxy, echo_server):
    port = free_port()
    d = proxy(tcppm_cfg(port, echo_server.port, "-l",
                        head='logformat "L[%N] %p %E %O/%I %T %%"\n'))
    d.wait_listening(port)
    assert_serves(port)  # 'still alive NNN' payload
    d.wait_stdout(r"^\[TCPPM\] %d 00000 (\d+)/\1 127\.0\.0\.1 %%$" % port,
                  timeout=8)


def test_hostname_target_text_is_logged_as_written(proxy, echo_server,
                                                    tmp_path):
    port = free_port()
    log = tmp_path / "px.log"
    d = proxy("internal 127.0.0.1\nlog %s\ntcppm %d localhost %d\n"
              % (log, port, echo_server.port))
    d.wait_listening(port)
    with connect(port) as s:
        cport = s.getsockname()[1]
        s.sendall(b"x")
        # localhost may resolve to ::1 first, where nothing listens.
        s.settimeout(10)
        s.recv(1)
    rec = wait_record(log, lambda m: m["cport"] == str(cport))
    assert rec["text"] == "localhost"


# --------------------------------------------------------------------------
# IPv6
# --------------------------------------------------------------------------

def test_ipv6_listener(proxy, echo_server, tmp_path):
    if not ipv6_usable():
        pytest.skip("::1 is not usable here")
    port = free_port(LOOP6)
    log = tmp_path / "v6.log"
    d = proxy("log %s\ntcppm -i::1 %d 127.0.0.1 %d\n"
              % (log, port, echo_server.port))
    d.wait_listening(port, host=LOOP6)
    with connect(port, host=LOOP6) as s:
        cport = s.getsockname()[1]
        s.sendall(b"over ipv6")
        assert recv_exact(s, 9) == b"over ipv6"
    rec = wait_record(log, lambda m: m["cport"] == str(cport))
    assert rec["cip"] == "::1"
    assert rec["out"] == "9" and rec["in"] == "9"
    # Nothing on the IPv4 loopback for that port.
    with pytest.raises(OSError):
        connect(port, host=LOOP4, timeout=2).close()


def test_ipv6_target(proxy, tcp_server):
    if not ipv6_usable():
        pytest.skip("::1 is not usable here")
    srv = tcp_server(echo_handler, host=LOOP6)
    port = free_port()
    # -64: IPv6 preferred (the default resolution is IPv4 only).
    d = proxy("internal 127.0.0.1\ntcppm -64 %d ::1 %d\n" % (port, srv.port))
    d.wait_listening(port)
    assert_serves(port)


# --------------------------------------------------------------------------
# source address, timeouts, log targets
# --------------------------------------------------------------------------

def _loopback_alias_usable(addr):
    try:
        with socket.socket() as s:
            s.bind((addr, 0))
        return True
    except OSError:
        return False


@pytest.mark.parametrize("how", ["option", "external"])
def test_source_address(proxy, tcp_server, how):
    if not _loopback_alias_usable("127.0.0.2"):
        pytest.skip("127.0.0.2 is not usable here")

    def handler(conn, server):
        server.add_result(conn.getpeername()[0])
        conn.sendall(b"ok")
    srv = tcp_server(handler)
    port = free_port()
    if how == "option":
        cfg = tcppm_cfg(port, srv.port, "-e127.0.0.2")
    else:
        cfg = tcppm_cfg(port, srv.port, head="external 127.0.0.2\n")
    d = proxy(cfg)
    d.wait_listening(port)
    with connect(port) as s:
        assert recv_exact(s, 2) == b"ok"
    assert srv.wait_results(1) == ["127.0.0.2"]


def test_idle_tunnel_times_out_with_00092(proxy, tcp_server, tmp_path):
    """CONNECTION_LONG (slot 6) is the tcppm idle timeout."""
    def handler(conn, server):
        conn.sendall(b"hi")
        server.add_result(recv_all(conn, timeout=20))
    srv = tcp_server(handler)
    port = free_port()
    log = tmp_path / "px.log"
    d = proxy(tcppm_cfg(port, srv.port,
                        head="timeouts 1 5 30 60 180 2\nlog %s\n" % log))
    d.wait_listening(port)
    with connect(port) as s:
        cport = s.getsockname()[1]
        assert recv_exact(s, 2) == b"hi"
        t0 = time.monotonic()
        assert recv_all(s, timeout=15) == b""
        elapsed = time.monotonic() - t0
    assert 1.0 <= elapsed < 8, elapsed
    rec = wait_record(log, lambda m: m["cport"] == str(cport))
    assert rec["err"] == "00092", rec.group(0)
    assert srv.wait_results(1) == [b""]


def test_log_file_is_appended(proxy, echo_server, tmp_path):
    log = tmp_path / "px.log"
    log.write_text("old line that must stay\n")
    port = free_port()
    d = proxy(tcppm_cfg(port, echo_server.port, head="log %s\n" % log))
    d.wait_listening(port)
    with connect(port) as s:
        cport = s.getsockname()[1]
        s.sendall(b"abc")
        recv_exact(s, 3)
    wait_record(log, lambda m: m["cport"] == str(cport))
    assert log.read_text().startswith("old line that must stay\n")


def test_log_without_argument_goes_to_stdout(proxy, echo_server):
    port = free_port()
    d = proxy(tcppm_cfg(port, echo_server.port, head="log\n"))
    d.wait_listening(port)
    with connect(port) as s:
        cport = s.getsockname()[1]
        s.sendall(b"abcd")
        recv_exact(s, 4)
    d.wait_stdout(r"^\d{12}\.\d{3} %d 00000 - 127\.0\.0\.1:%d "
                  r"127\.0\.0\.1:%d 4 4 0 127\.0\.0\.1$"
                  % (port, cport, echo_server.port), timeout=8)
    assert re.search(r"Accepting connections \[%d/" % d.pid, d.stdout_text())


def test_silent_option_hides_listener_records(proxy, echo_server, tmp_path):
    log = tmp_path / "px.log"
    port = free_port()
    d = proxy(tcppm_cfg(port, echo_server.port, "-t",
                        head="log %s\n" % log))
    d.wait_listening(port)
    with connect(port) as s:
        cport = s.getsockname()[1]
        s.sendall(b"x")
        recv_exact(s, 1)
    wait_record(log, lambda m: m["cport"] == str(cport))
    assert "Accepting" not in log.read_text()


def test_no_log_configured_writes_nothing(proxy, echo_server):
    port = free_port()
    d = proxy(tcppm_cfg(port, echo_server.port))
    d.wait_listening(port)
    assert_serves(port)
    time.sleep(0.3)
    assert d.stdout_text() == ""


# --------------------------------------------------------------------------
# -C with data still in flight, byte counts of bulk transfers
# --------------------------------------------------------------------------

def test_dash_C_delivers_buffered_data_before_ending(proxy, tcp_server):
    """With -C the session ends when the server closes, but only after
    everything it sent has reached the client."""
    size = 8 * MiB

    def handler(conn, server):
        server.add_result(send_stream(conn, data_chunks(size, seed=31)))
    srv = tcp_server(handler)
    port = free_port()
    d = proxy(tcppm_cfg(port, srv.port, "-C"))
    d.wait_listening(port)
    with connect(port) as s:
        time.sleep(0.5)   # let the server finish and close first
        got = recv_stream(s, timeout=20)
    assert got == srv.wait_results(1)[0]


def test_dash_C_upload_then_close(proxy, sink_server):
    size = 8 * MiB
    port = free_port()
    d = proxy(tcppm_cfg(port, sink_server.port, "-C"))
    d.wait_listening(port)
    with connect(port) as s:
        sent = send_stream(s, data_chunks(size, seed=32))
    assert sink_server.wait_results(1, timeout=30)[0] == sent


def test_bulk_byte_counts_in_log(proxy, source_server, tmp_path):
    size = 40 * MiB + 12345
    src = source_server(size, seed=8)
    port = free_port()
    log = tmp_path / "px.log"
    d = proxy(tcppm_cfg(port, src.port, head="log %s\n" % log))
    d.wait_listening(port)
    with connect(port) as s:
        cport = s.getsockname()[1]
        s.sendall(b"request of 20 bytes.")
        got, _ = recv_stream(s, timeout=30)
    assert got == size
    rec = wait_record(log, lambda m: m["cport"] == str(cport))
    assert rec["in"] == str(size)
    assert rec["out"] == "20"
    assert rec["err"] == "00000"


# --------------------------------------------------------------------------
# Unix-domain sockets
# --------------------------------------------------------------------------

def _unix_echo_server(path):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(str(path))
    srv.listen(8)
    srv.settimeout(10)

    def run():
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(10)
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return srv, t


def test_unix_socket_target(proxy, tmp_path):
    path = tmp_path / "echo.sock"
    srv, t = _unix_echo_server(path)
    try:
        port = free_port()
        d = proxy("internal 127.0.0.1\ntcppm %d unix:%s 1\n" % (port, path))
        d.wait_listening(port)
        assert_serves(port)
    finally:
        srv.close()
        t.join(10)


def test_unix_socket_listener(proxy, tmp_path, echo_server):
    path = tmp_path / "px.sock"
    d = proxy("internal unix:%s\ntcppm 1 127.0.0.1 %d\n"
              % (path, echo_server.port))
    wait_until(path.exists, 10, what="the unix socket")
    def try_connect():
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.settimeout(5)
        try:
            c.connect(str(path))
            return c
        except OSError:
            c.close()
            return None
    c = wait_until(try_connect, 10, what="a connection to the unix socket")
    with c:
        c.sendall(b"via unix")
        assert recv_exact(c, 8) == b"via unix"
    assert d.stop() == 0
    assert not path.exists(), "the socket file is left behind"


# --------------------------------------------------------------------------
# device binding (F-NET-10)
# --------------------------------------------------------------------------

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="SO_BINDTODEVICE needs root here")


@needs_root
def test_bind_devices_loopback(proxy, echo_server):
    """-Di/-De bound to the loopback device: traffic flows as usual."""
    port = free_port()
    d = proxy(tcppm_cfg(port, echo_server.port, "-Dilo -Delo"))
    d.wait_listening(port)
    assert_serves(port)


@needs_root
def test_unknown_outgoing_device_is_a_bind_error(proxy, echo_server,
                                                 tmp_path):
    """-De with a device that does not exist: no connection leaves through
    another interface; the record says 00012 (bind failed)."""
    port = free_port()
    log = tmp_path / "dev.log"
    d = proxy(tcppm_cfg(port, echo_server.port, "-Denosuchdev0 -l%s" % log))
    d.wait_listening(port)
    with connect(port) as s:
        assert recv_all(s, timeout=20) == b""
    rec = wait_record(log, lambda m: m["port"] == str(port)
                      and m["text"] == "127.0.0.1")
    assert rec["err"] == "00012", rec.group(0)


# --------------------------------------------------------------------------
# PROXY protocol v1 header on input (F-NET-12)
# --------------------------------------------------------------------------

def test_proxy_header_sets_client_address(proxy, echo_server, tmp_path):
    """-H: the first line names the real client; it is logged as %C:%c and
    not passed to the target; the stream after it is relayed."""
    port = free_port()
    log = tmp_path / "hdr.log"
    d = proxy(tcppm_cfg(port, echo_server.port, "-H -l%s" % log))
    d.wait_listening(port)
    with connect(port) as s:
        s.sendall(b"PROXY TCP4 192.0.2.7 198.51.100.9 40123 80\r\nping")
        assert recv_exact(s, 4) == b"ping"
    rec = wait_record(log, lambda m: m["port"] == str(port)
                      and m["text"] == "127.0.0.1")
    assert (rec["cip"], rec["cport"]) == ("192.0.2.7", "40123"), rec.group(0)


def test_proxy_header_other_line_is_consumed(proxy, echo_server, tmp_path):
    """-H: a line that is not PROXY TCP4/TCP6 is consumed and ignored; the
    real peer address stays in the log."""
    port = free_port()
    log = tmp_path / "hdr2.log"
    d = proxy(tcppm_cfg(port, echo_server.port, "-H -l%s" % log))
    d.wait_listening(port)
    with connect(port) as s:
        s.sendall(b"PROXY UNKNOWN\r\npong")
        assert recv_exact(s, 4) == b"pong"
    rec = wait_record(log, lambda m: m["port"] == str(port)
                      and m["text"] == "127.0.0.1")
    assert rec["cip"] == "127.0.0.1", rec.group(0)
