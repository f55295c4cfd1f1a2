"""udppm: per-client sessions, replies from the listening port, -s."""

import socket
import time

import pytest

from conftest import (LOOP4, UdpEchoServer, free_port, free_udp_port,
                      ipv6_usable, log_records, wait_until)


def udp_client():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((LOOP4, 0))
    s.settimeout(5)
    return s


def exchange(sock, port, payload, timeout=5.0):
    """Send one datagram to the mapper; return (reply, reply source)."""
    sock.sendto(payload, (LOOP4, port))
    sock.settimeout(timeout)
    return sock.recvfrom(65535)


def start_udppm(proxy, target_port, opts="", head=""):
    port = free_udp_port()
    d = proxy("internal 127.0.0.1\n" + head
              + "udppm %s %d 127.0.0.1 %d\n" % (opts, port, target_port))
    d.wait_udp_bound(port)
    return d, port


def test_echo_two_clients_get_their_own_replies(proxy, udp_echo_server):
    d, port = start_udppm(proxy, udp_echo_server.port)
    a, b = udp_client(), udp_client()
    try:
        for i in range(5):
            # Send both before reading either: replies must not cross.
            a.sendto(b"A%d" % i, (LOOP4, port))
            b.sendto(b"B%d-longer" % i, (LOOP4, port))
            ra, src_a = a.recvfrom(65535)
            rb, src_b = b.recvfrom(65535)
            assert ra == b"echo:A%d" % i
            assert rb == b"echo:B%d-longer" % i
            # Replies come back from the listening port.
            assert src_a == (LOOP4, port)
            assert src_b == (LOOP4, port)
    finally:
        a.close()
        b.close()
    sources = udp_echo_server.sources()
    assert len(sources) == 10
    # One session per client: each client's datagrams leave from one
    # outgoing socket, and the two clients use different ones.
    from_a = {p for p, data in udp_echo_server.seen if data.startswith(b"A")}
    from_b = {p for p, data in udp_echo_server.seen if data.startswith(b"B")}
    assert len(from_a) == 1 and len(from_b) == 1, udp_echo_server.seen
    assert from_a != from_b


def test_large_datagram(proxy, udp_echo_server):
    d, port = start_udppm(proxy, udp_echo_server.port)
    payload = bytes(range(256)) * 32   # 8 KiB
    with udp_client() as c:
        reply, _ = exchange(c, port, payload)
    assert reply == b"echo:" + payload


def test_single_packet_mode(proxy, udp_echo_server):
    d, port = start_udppm(proxy, udp_echo_server.port, "-s")
    with udp_client() as c:
        for i in range(6):
            reply, src = exchange(c, port, b"q%d" % i)
            assert reply == b"echo:q%d" % i
            assert src == (LOOP4, port)
    # Every datagram was its own session with its own outgoing socket
    # (ephemeral ports are random, so they should hardly ever repeat).
    ports = [p[1] for p in udp_echo_server.sources()]
    assert len(ports) == 6
    assert len(set(ports)) >= 4, ports


def test_session_ends_after_idle_and_is_logged(proxy, udp_echo_server,
                                               tmp_path):
    """STRING_LONG (slot 4) is the idle time of a session; its end writes
    one record with the byte counts."""
    log = tmp_path / "udp.log"
    d, port = start_udppm(proxy, udp_echo_server.port,
                          head="timeouts 1 5 30 2\nlog %s\n" % log)
    with udp_client() as c:
        cport = c.getsockname()[1]
        for i in range(3):
            reply, _ = exchange(c, port, b"12345")
            assert reply == b"echo:12345"
        rec = wait_until(
            lambda: next((m for m in log_records(log)
                          if m["cport"] == str(cport)), None),
            timeout=10, what=lambda: "udppm session record in:\n%s"
            % (log.read_text() if log.exists() else "-"))
        assert rec["port"] == str(port)
        assert rec["err"] == "00000"
        assert rec["out"] == "15"         # 3 x 5 bytes from the client
        assert rec["in"] == "30"          # 3 x 10 bytes from the target
        assert rec["text"] == ""
        # After the session ended, the same client gets a new one.
        reply, _ = exchange(c, port, b"again")
        assert reply == b"echo:again"
    srcs = {p for p, data in udp_echo_server.seen}
    assert len(srcs) == 2, udp_echo_server.seen


def test_unreachable_target_does_not_break_service(proxy, udp_echo_server):
    """A second udppm to a dead port gets ICMP errors; the daemon keeps
    serving the working one."""
    dead = free_udp_port()
    good = free_udp_port()
    bad = free_udp_port()
    d = proxy("internal 127.0.0.1\n"
              "udppm %d 127.0.0.1 %d\n" % (bad, dead)
              + "udppm %d 127.0.0.1 %d\n" % (good, udp_echo_server.port))
    d.wait_udp_bound(good)
    d.wait_udp_bound(bad)
    with udp_client() as c:
        for i in range(5):
            c.sendto(b"nobody %d" % i, (LOOP4, bad))
        time.sleep(0.3)
        c.settimeout(0.3)
        with pytest.raises(socket.timeout):
            c.recvfrom(65535)
        reply, _ = exchange(c, good, b"ok?")
        assert reply == b"echo:ok?"
    assert d.alive()


def test_ipv6_udppm(proxy, tmp_path):
    """IPv6 on both sides; -64 lets the target be an IPv6 address (the
    default resolution is IPv4 only)."""
    if not ipv6_usable():
        pytest.skip("::1 is not usable here")
    target = UdpEchoServer(host="::1")
    try:
        port = free_port("::1", socket.SOCK_DGRAM)
        d = proxy("udppm -64 -i::1 %d ::1 %d\n" % (port, target.port))
        d.wait_udp_bound(port)
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as c:
            c.bind(("::1", 0))
            c.settimeout(5)
            c.sendto(b"six", ("::1", port))
            data, src = c.recvfrom(100)
        assert data == b"echo:six"
        assert src[:2] == ("::1", port)
    finally:
        target.close()
