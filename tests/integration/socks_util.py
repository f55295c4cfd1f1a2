"""SOCKS 4/4a/5 client pieces for the socks service tests.

Small, explicit builders and readers for the wire messages of RFC 1928
(SOCKS5), RFC 1929 (username/password) and SOCKS4/4a, so that a test can
send exactly the bytes it means, including broken ones.  Every read is
bounded by a timeout.
"""

import ipaddress
import socket
import struct
import time

from conftest import (LOOP4, connect, recv_exact, split_records,
                      wait_split_record)

# A log format that is easy to split: fields joined by '|'.
LOGFORMAT = "G%N|%E|%U|%C|%c|%R|%r|%Q|%q|%n|%O|%I|%T"
LOG_FIELDS = ("service", "err", "user", "cip", "cport", "rip", "rport",
              "qip", "qport", "host", "out", "in", "text")

CMD_CONNECT, CMD_BIND, CMD_UDP = 1, 2, 3
ATYP_IPV4, ATYP_DOMAIN, ATYP_IPV6 = 1, 3, 4


def socks_cfg(port, opts="", head="", log=None):
    """A config with one socks service on 127.0.0.1:port and a log file
    in LOGFORMAT (``log`` is a path, or None for stdout)."""
    return ("%s\nlogformat \"%s\"\ninternal 127.0.0.1\n%ssocks -p%d %s\n"
            % ("log %s" % log if log else "log", LOGFORMAT, head, port, opts))


# --------------------------------------------------------------------------
# log records
# --------------------------------------------------------------------------

def log_records(path):
    return split_records(path, LOG_FIELDS)


def wait_record(path, pred, timeout=10.0):
    """The first record in ``path`` for which ``pred`` is true."""
    return wait_split_record(path, LOG_FIELDS, pred, timeout)


def client_record(path, sock_or_port, timeout=10.0):
    """The record of the connection whose client port is given (or the
    local port of the given socket)."""
    port = sock_or_port
    if not isinstance(port, int):
        port = sock_or_port.getsockname()[1]
    return wait_record(path, lambda r: r["cport"] == str(port), timeout)


# --------------------------------------------------------------------------
# addresses
# --------------------------------------------------------------------------

def addr_field(host, port):
    """ATYP + DST.ADDR + DST.PORT for a literal IP or a name."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        name = host.encode() if isinstance(host, str) else host
        return bytes([ATYP_DOMAIN, len(name)]) + name + struct.pack(
            ">H", port)
    atyp = ATYP_IPV4 if ip.version == 4 else ATYP_IPV6
    return bytes([atyp]) + ip.packed + struct.pack(">H", port)


def parse_addr(data):
    """(host, port, length) from ATYP + ADDR + PORT at the start of data."""
    atyp = data[0]
    if atyp == ATYP_IPV4:
        return (str(ipaddress.IPv4Address(data[1:5])),
                struct.unpack(">H", data[5:7])[0], 7)
    if atyp == ATYP_IPV6:
        return (str(ipaddress.IPv6Address(data[1:17])),
                struct.unpack(">H", data[17:19])[0], 19)
    if atyp == ATYP_DOMAIN:
        n = data[1]
        return (data[2:2 + n].decode(),
                struct.unpack(">H", data[2 + n:4 + n])[0], 4 + n)
    raise ValueError("ATYP %d" % atyp)


# --------------------------------------------------------------------------
# SOCKS5
# --------------------------------------------------------------------------

class Reply:
    def __init__(self, raw):
        self.raw = raw
        self.ver = raw[0]
        self.code = raw[1]
        self.host, self.port, _ = parse_addr(raw[3:])

    def __repr__(self):
        return "Reply(%r)" % self.raw


def read_socks5_reply(sock, timeout=10.0):
    """One SOCKS5 reply; None if the connection closed first."""
    head = recv_exact(sock, 5, timeout)
    if len(head) < 5:
        return None
    atyp = head[3]
    rest = {ATYP_IPV4: 5, ATYP_IPV6: 17}.get(atyp, head[4] + 2)
    return Reply(head + recv_exact(sock, rest, timeout))


def socks5_greet(sock, methods=(0,), user=None, password=None):
    """Method negotiation (and RFC 1929 when 02 is selected).  Returns the
    selected method, or the auth status byte as ('auth', status)."""
    sock.sendall(bytes([5, len(methods)]) + bytes(methods))
    got = recv_exact(sock, 2)
    assert len(got) == 2 and got[0] == 5, got
    if got[1] == 2 and user is not None:
        u, p = user.encode(), (password or "").encode()
        sock.sendall(bytes([1, len(u)]) + u + bytes([len(p)]) + p)
        status = recv_exact(sock, 2)
        assert status[0] == 1, status
        if status[1] != 0:
            return ("auth", status[1])
    return got[1]


def socks5_request(sock, cmd, host, port):
    sock.sendall(bytes([5, cmd, 0]) + addr_field(host, port))
    return read_socks5_reply(sock)


def socks5_open(proxy_port, host, port, cmd=CMD_CONNECT, methods=(0,),
                user=None, password=None, proxy_host=LOOP4):
    """Connect to the proxy, negotiate and send one request.  Returns
    (socket, reply)."""
    s = connect(proxy_port, proxy_host)
    try:
        socks5_greet(s, methods, user, password)
        rep = socks5_request(s, cmd, host, port)
    except BaseException:
        s.close()
        raise
    return s, rep


# --------------------------------------------------------------------------
# SOCKS4 / 4a
# --------------------------------------------------------------------------

def socks4_request_bytes(cmd, ip, port, userid=b"", host=None):
    if host is not None:
        ip = "0.0.0.1"
    msg = bytes([4, cmd]) + struct.pack(">H", port) + \
        ipaddress.IPv4Address(ip).packed + userid + b"\0"
    if host is not None:
        msg += host.encode() + b"\0"
    return msg


def read_socks4_reply(sock, timeout=10.0):
    """(code, ip, port) or None if the connection closed first."""
    raw = recv_exact(sock, 8, timeout)
    if len(raw) < 8:
        return None
    return (raw[1], str(ipaddress.IPv4Address(raw[4:8])),
            struct.unpack(">H", raw[2:4])[0], raw)


# --------------------------------------------------------------------------
# UDP
# --------------------------------------------------------------------------

def udp_wrap(host, port, data, frag=0):
    return bytes([0, 0, frag]) + addr_field(host, port) + data


def udp_unwrap(dgram):
    """(host, port, data) of a datagram from the relay."""
    assert dgram[0] == 0 and dgram[1] == 0 and dgram[2] == 0, dgram[:4]
    host, port, n = parse_addr(dgram[3:])
    return host, port, dgram[3 + n:]


def udp_recv(sock, timeout=5.0):
    """One datagram, or None when nothing came within timeout."""
    sock.settimeout(timeout)
    try:
        return sock.recvfrom(65535)[0]
    except socket.timeout:
        return None


def closed_soon(sock, timeout=10.0):
    """True once the peer closes (EOF or reset) within timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if sock.recv(4096) == b"":
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
    return False


def proxychains_conf(path, kind, port, proxy_dns=True):
    """Write a proxychains4 config with one proxy and return its path."""
    path.write_text("strict_chain\n%s\ntcp_read_time_out 15000\n"
                    "tcp_connect_time_out 8000\n[ProxyList]\n%s 127.0.0.1 %d\n"
                    % ("proxy_dns" if proxy_dns else "", kind, port))
    return path

