"""Process life: signals, reload, monitor, pidfile, maxconn."""

import os
import re
import signal
import socket
import time

import pytest

from conftest import (LOOP4, assert_serves, connect, echo_roundtrip,
                      free_port, free_udp_port, is_listening, port_is_free,
                      recv_exact, wait_not_listening, wait_until)


def mapper_cfg(port, target, extra=""):
    return ("internal 127.0.0.1\n" + extra
            + "tcppm %d 127.0.0.1 %d\n" % (port, target))


def roundtrip(sock, payload):
    sock.sendall(payload)
    return recv_exact(sock, len(payload), timeout=10)


def refused(port):
    try:
        connect(port, timeout=2).close()
    except OSError:
        return True
    return False


# --------------------------------------------------------------------------
# exit
# --------------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT],
                         ids=["SIGTERM", "SIGINT"])
def test_exit_signal_status_0(proxy, echo_server, tmp_path, sig):
    port = free_port()
    log = tmp_path / "px.log"
    d = proxy(mapper_cfg(port, echo_server.port, "log %s\n" % log))
    d.wait_listening(port)
    assert_serves(port)
    t0 = time.monotonic()
    rc = d.stop(sig, timeout=15)
    assert rc == 0, (rc, d.stderr_text())
    assert time.monotonic() - t0 < 15
    assert not is_listening(port)
    # An orderly stop: the listener wrote its exit record.
    assert re.search(r" %d 00000 - 127\.0\.0\.1:%d .* Exiting thread$"
                     % (port, port), log.read_text(), re.M), log.read_text()


def test_sigterm_with_open_tunnel(proxy, echo_server):
    """An open connection does not keep the process from exiting."""
    port = free_port()
    d = proxy(mapper_cfg(port, echo_server.port))
    d.wait_listening(port)
    with connect(port) as s:
        assert roundtrip(s, b"open") == b"open"
        t0 = time.monotonic()
        rc = d.stop(signal.SIGTERM, timeout=15)
        assert rc == 0, (rc, d.stderr_text())
        assert time.monotonic() - t0 < 15


def test_pidfile(proxy, tmp_path, echo_server):
    pidfile = tmp_path / "run" / "3proxy.pid"
    pidfile.parent.mkdir()
    port = free_port()
    d = proxy(mapper_cfg(port, echo_server.port,
                         "pidfile %s\n" % pidfile))
    d.wait_listening(port)
    wait_until(pidfile.exists, 5, what="the pid file")
    assert pidfile.read_text().strip() == str(d.pid)


def test_pidfile_unwritable_fails_start(run3proxy, tmp_path):
    (tmp_path / "cfg").write_text("pidfile %s\n"
                                  % (tmp_path / "no" / "dir" / "p.pid"))
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert "cfg:1:" in r.err


# --------------------------------------------------------------------------
# reload
# --------------------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGUSR1, signal.SIGHUP],
                         ids=["SIGUSR1", "SIGHUP"])
def test_reload_moves_service_and_tunnel_survives(proxy, echo_server,
                                                  tmp_path, sig):
    cfg = tmp_path / "px.cfg"
    a, b = free_port(), free_port()
    cfg.write_text(mapper_cfg(a, echo_server.port))
    d = proxy(cfg)
    d.wait_listening(a)
    with connect(a) as tunnel:
        assert roundtrip(tunnel, b"before reload") == b"before reload"
        cfg.write_text(mapper_cfg(b, echo_server.port))
        d.send_signal(sig)
        d.wait_listening(b, timeout=5)
        wait_not_listening(a, timeout=5)
        assert d.alive(), d.stderr_text()
        # The new configuration is in force ...
        assert_serves(b)
        assert refused(a)
        # ... and the old tunnel still relays both ways.
        for i in range(3):
            msg = b"after reload %d " % i * (1 + i * 1000)
            assert roundtrip(tunnel, msg) == msg
        tunnel.shutdown(socket.SHUT_WR)
        tunnel.settimeout(10)
        assert tunnel.recv(10) == b""
    assert echo_server.accepted >= 2


def test_reload_twice(proxy, echo_server, tmp_path):
    cfg = tmp_path / "px.cfg"
    ports = [free_port() for _ in range(3)]
    cfg.write_text(mapper_cfg(ports[0], echo_server.port))
    d = proxy(cfg)
    d.wait_listening(ports[0])
    for old, new in zip(ports, ports[1:]):
        cfg.write_text(mapper_cfg(new, echo_server.port))
        d.send_signal(signal.SIGUSR1)
        d.wait_listening(new, timeout=5)
        wait_not_listening(old, timeout=5)
        assert_serves(new)


def test_reload_same_port_keeps_serving(proxy, echo_server, tmp_path):
    """The usual case: the port does not change.  Every connection made
    after the reload is served (none lands on a listener that is going
    away), and so is the tunnel opened before it."""
    cfg = tmp_path / "px.cfg"
    a = free_port()
    cfg.write_text(mapper_cfg(a, echo_server.port))
    d = proxy(cfg)
    d.wait_listening(a)
    with connect(a) as tunnel:
        for n in range(3):
            with open(cfg, "a") as f:
                f.write("# reload %d\n" % n)
            d.send_signal(signal.SIGUSR1)
            time.sleep(2.0)   # the new listener is up within ~1-2 s
            for i in range(10):
                msg = b"r%d-%d" % (n, i)
                assert echo_roundtrip(a, msg) == msg, (n, i)
            assert roundtrip(tunnel, b"tunnel %d" % n) == b"tunnel %d" % n
    assert d.alive()


def test_reload_storm(proxy, echo_server, tmp_path):
    cfg = tmp_path / "px.cfg"
    a = free_port()
    cfg.write_text(mapper_cfg(a, echo_server.port))
    d = proxy(cfg)
    d.wait_listening(a)
    with connect(a) as tunnel:
        for i in range(20):
            d.send_signal(signal.SIGUSR1 if i % 2 else signal.SIGHUP)
            time.sleep(0.05)
            assert roundtrip(tunnel, b"storm %d" % i) == b"storm %d" % i
    time.sleep(2.0)
    assert d.alive(), d.stderr_text()
    wait_until(lambda: is_listening(a), 5, what="listener after the storm")
    for i in range(5):
        assert_serves(a)


def test_udppm_moves_on_reload(proxy, udp_echo_server, tmp_path):
    cfg = tmp_path / "px.cfg"
    a, b = free_udp_port(), free_udp_port()
    line = "internal 127.0.0.1\nudppm %d 127.0.0.1 %d\n"
    cfg.write_text(line % (a, udp_echo_server.port))
    d = proxy(cfg)
    d.wait_udp_bound(a)
    cfg.write_text(line % (b, udp_echo_server.port))
    d.send_signal(signal.SIGUSR1)
    d.wait_udp_bound(b)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
        c.bind((LOOP4, 0))
        c.settimeout(5)
        c.sendto(b"moved", (LOOP4, b))
        assert c.recvfrom(100) == (b"echo:moved", (LOOP4, b))
    wait_until(lambda: port_is_free(a, kind=socket.SOCK_DGRAM), 5,
               what="the old udp port to be released")


def test_broken_config_on_reload_keeps_old_services(proxy, echo_server,
                                                    tmp_path):
    cfg = tmp_path / "px.cfg"
    a, b = free_port(), free_port()
    cfg.write_text(mapper_cfg(a, echo_server.port))
    d = proxy(cfg)
    d.wait_listening(a)
    with connect(a) as tunnel:
        assert roundtrip(tunnel, b"x") == b"x"
        # The new service line comes before the error: nothing of this
        # file may be applied.
        cfg.write_text(mapper_cfg(b, echo_server.port)
                       + "bogus reload line\n")
        d.send_signal(signal.SIGUSR1)
        d.wait_stderr(r"px\.cfg:3: unknown command 'bogus'", timeout=5)
        time.sleep(1.5)
        assert d.alive(), d.stderr_text()
        assert not is_listening(b), "part of a broken config was applied"
        assert is_listening(a)
        assert_serves(a)
        assert roundtrip(tunnel, b"still") == b"still"
    # Fixing the file and reloading again works.
    cfg.write_text(mapper_cfg(b, echo_server.port))
    d.send_signal(signal.SIGUSR1)
    d.wait_listening(b, timeout=5)
    assert_serves(b)


def test_reload_of_missing_file_keeps_old_services(proxy, echo_server,
                                                   tmp_path):
    cfg = tmp_path / "px.cfg"
    a = free_port()
    cfg.write_text(mapper_cfg(a, echo_server.port))
    d = proxy(cfg)
    d.wait_listening(a)
    os.rename(cfg, tmp_path / "moved.cfg")
    d.send_signal(signal.SIGUSR1)
    d.wait_stderr(r"px\.cfg", timeout=5)
    time.sleep(1.0)
    assert d.alive()
    assert_serves(a)


def test_sigcont_pauses_then_reloads(proxy, echo_server, tmp_path):
    """1st SIGCONT: listeners close, open connections go on; 2nd: the
    configuration is read again and the listeners come back."""
    cfg = tmp_path / "px.cfg"
    a, b = free_port(), free_port()
    cfg.write_text(mapper_cfg(a, echo_server.port))
    d = proxy(cfg)
    d.wait_listening(a)
    with connect(a) as tunnel:
        assert roundtrip(tunnel, b"one") == b"one"
        d.send_signal(signal.SIGCONT)
        wait_not_listening(a, timeout=5)
        assert roundtrip(tunnel, b"paused") == b"paused"
        cfg.write_text(mapper_cfg(a, echo_server.port)
                       + "tcppm %d 127.0.0.1 %d\n" % (b, echo_server.port))
        d.send_signal(signal.SIGCONT)
        d.wait_listening(a, timeout=5)
        d.wait_listening(b, timeout=5)
        assert roundtrip(tunnel, b"resumed") == b"resumed"
    assert_serves(a)
    assert_serves(b)


@pytest.mark.parametrize("watched", ["main", "included"])
def test_monitor_triggers_reload(proxy, echo_server, tmp_path, watched):
    a, b = free_port(), free_port()
    cfg = tmp_path / "px.cfg"
    inc = tmp_path / "svc.cfg"
    inc.write_text(mapper_cfg(a, echo_server.port))
    cfg.write_text("monitor %s\ninclude %s\n"
                   % (cfg if watched == "main" else inc, inc))
    d = proxy(cfg)
    d.wait_listening(a)
    time.sleep(1.2)   # a different mtime second for the change below
    inc.write_text("# moved\n" + mapper_cfg(b, echo_server.port))
    if watched == "main":
        with open(cfg, "a") as f:
            f.write("# touched\n")
    d.wait_listening(b, timeout=6)
    wait_not_listening(a, timeout=5)
    assert_serves(b)


def test_monitor_missing_file_is_only_a_warning(proxy, echo_server,
                                                tmp_path):
    a = free_port()
    d = proxy("monitor %s\n" % (tmp_path / "none.txt")
              + mapper_cfg(a, echo_server.port))
    d.wait_listening(a)
    assert_serves(a)
    assert "none.txt" in d.stderr_text()


# --------------------------------------------------------------------------
# maxconn
# --------------------------------------------------------------------------

def test_maxconn_extra_client_waits_then_is_served(proxy, echo_server):
    port = free_port()
    d = proxy(mapper_cfg(port, echo_server.port, "maxconn 2\n"))
    d.wait_listening(port)
    first = [connect(port) for _ in range(2)]
    try:
        for i, s in enumerate(first):
            assert roundtrip(s, b"c%d" % i) == b"c%d" % i
        assert echo_server.wait_accepted(2)

        third = connect(port)   # completes in the kernel backlog
        try:
            third.sendall(b"third")
            third.settimeout(1.5)
            with pytest.raises(socket.timeout):
                third.recv(10)
            assert echo_server.accepted == 2, "3rd client was served"

            first[0].close()
            assert recv_exact(third, 5, timeout=8) == b"third"
            assert echo_server.accepted == 3
            assert roundtrip(first[1], b"again") == b"again"
        finally:
            third.close()
    finally:
        for s in first:
            s.close()


def test_connection_churn_across_reload(proxy, echo_server, tmp_path):
    """F-PERF: a worker that finishes its client takes the next connection
    waiting in the backlog itself.  Under churn from 8 clients every
    connection is served, before and after a reload (which must wait for
    workers inside accept before closing the old listening socket)."""
    import threading
    cfg = tmp_path / "px.cfg"
    a = free_port()
    cfg.write_text(mapper_cfg(a, echo_server.port))
    d = proxy(cfg)
    d.wait_listening(a)
    failures = []

    def churn(tag, count):
        for i in range(count):
            msg = b"%s-%d" % (tag, i)
            try:
                with connect(a, timeout=10) as s:
                    if roundtrip(s, msg) != msg:
                        failures.append(msg)
            except OSError as e:
                failures.append((msg, e))

    for phase in range(2):
        threads = [threading.Thread(target=churn,
                                    args=(b"p%dt%d" % (phase, t), 60))
                   for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert not any(t.is_alive() for t in threads)
        assert failures == []
        with open(cfg, "a") as f:
            f.write("# reload %d\n" % phase)
        d.send_signal(signal.SIGUSR1)
        time.sleep(2.0)
    assert d.alive(), d.stderr_text()
    assert_serves(a)
