"""A small RADIUS server for the integration tests (stdlib only: socket
+ hashlib.md5), shared by test_radius.py (F-AUTH-14) and
test_logrotate.py (`log radius`, F-LOG-08).

It listens on 127.0.0.1 UDP: authentication on ``port`` and accounting
on ``port + 1`` (logging.md 1.4).  It decodes the User-Password with the
Request Authenticator (RFC 2865 5.2), records every request's attributes
and answers Access-Accept, Access-Reject (optionally with a
Reply-Message "5 ..."), a forged authenticator, garbage, or nothing.
Accounting-Requests are recorded with their Request Authenticator
checked (RFC 2866 3) and answered with an Accounting-Response.
"""

import hashlib
import os
import select
import socket
import struct
import threading

import pytest

from conftest import LOOP4

SECRET = b"t3st-secret"

# attribute types (RFC 2865, 3162, 6911)
USER_NAME, USER_PASSWORD, NAS_IP, NAS_PORT, SERVICE_TYPE = 1, 2, 4, 5, 6
FRAMED_IP, LOGIN_SERVICE, LOGIN_TCP_PORT, REPLY_MESSAGE = 8, 15, 16, 18
CALLED_STATION, NAS_ID, SESSION_ID, NAS_PORT_TYPE = 30, 32, 44, 61
# accounting (RFC 2866, 2869)
ACCT_STATUS, ACCT_IN_OCTETS, ACCT_OUT_OCTETS, ACCT_SESSION_TIME = 40, 42, 43, 46
ACCT_IN_PACKETS, ACCT_OUT_PACKETS = 47, 48
ACCT_IN_GIGAWORDS, ACCT_OUT_GIGAWORDS = 52, 53

# --------------------------------------------------------------------------
# the RADIUS server
# --------------------------------------------------------------------------

def unhide(hidden, secret, reqauth):
    """RFC 2865 5.2, reversed: the cleartext password."""
    out, prev = b"", reqauth
    for i in range(0, len(hidden), 16):
        b = hashlib.md5(secret + prev).digest()
        out += bytes(x ^ y for x, y in zip(hidden[i:i + 16], b))
        prev = hidden[i:i + 16]
    return out.rstrip(b"\0")


def attrs_of(data):
    """[(type, value)] of a packet; raises on a malformed one."""
    out, pos = [], 20
    while pos < len(data):
        t, n = data[pos], data[pos + 1]
        assert n >= 2 and pos + n <= len(data), data
        out.append((t, data[pos + 2:pos + n]))
        pos += n
    return out


def packet(code, ident, reqauth, attrs, secret):
    body = b"".join(bytes([t, len(v) + 2]) + v for t, v in attrs)
    hdr = struct.pack("!BBH", code, ident, 20 + len(body))
    auth = hashlib.md5(hdr + reqauth + body + secret).digest()
    return hdr + auth + body


class RadiusServer:
    """Answers per ``mode``: "auth" (check the users table), "badauth"
    (a correct-looking Accept with a forged authenticator), "garbage"
    or "silent".  ``requests`` holds each request decoded."""

    def __init__(self, users, mode="auth", secret=SECRET, framed=None):
        self.users = users
        self.mode = mode
        self.secret = secret
        self.framed = framed or {}
        self.requests = []
        self.lock = threading.Lock()
        self.sock, self.acct_sock = self._bind_pair()
        self.port = self.sock.getsockname()[1]
        self.accounting = []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    @staticmethod
    def _bind_pair():
        """Two UDP sockets on ports P and P + 1 (bounded retries)."""
        for _ in range(50):
            a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            a.bind((LOOP4, 0))
            b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                b.bind((LOOP4, a.getsockname()[1] + 1))
                return a, b
            except OSError:
                a.close()
                b.close()
        raise RuntimeError("no free UDP port pair")

    def loop(self):
        socks = [self.sock, self.acct_sock]
        while not self.stop.is_set():
            for s in select.select(socks, [], [], 0.2)[0]:
                try:
                    data, peer = s.recvfrom(4096)
                except OSError:
                    continue
                if s is self.sock:
                    reply = self.answer(data)
                else:
                    reply = self.account(data)
                if reply is not None:
                    s.sendto(reply, peer)

    def account(self, data):
        """Record an Accounting-Request and acknowledge it (code 5)."""
        code, ident, length = struct.unpack("!BBH", data[:4])
        reqauth = data[4:20]
        want = hashlib.md5(data[:4] + b"\0" * 16 + data[20:length]
                           + self.secret).digest()
        rec = {"code": code, "id": ident, "length": length,
               "len": len(data), "attrs": attrs_of(data[:length]),
               "auth_ok": want == reqauth}
        with self.lock:
            self.accounting.append(rec)
        if self.mode == "silent":
            return None
        return packet(5, ident, reqauth, [], self.secret)

    def seen_acct(self):
        with self.lock:
            return list(self.accounting)

    def answer(self, data):
        code, ident, length = struct.unpack("!BBH", data[:4])
        reqauth = data[4:20]
        attrs = attrs_of(data[:length])
        rec = {"code": code, "length": length, "len": len(data),
               "attrs": attrs, "id": ident}
        d = dict(attrs)
        user = d.get(USER_NAME, b"").decode()
        pw = unhide(d.get(USER_PASSWORD, b""), self.secret, reqauth)
        rec["user"], rec["password"] = user, pw.decode()
        with self.lock:
            self.requests.append(rec)
        if self.mode == "silent":
            return None
        if self.mode == "garbage":
            return os.urandom(3) + b"\x00" * 40
        if self.mode == "badauth":
            p = bytearray(packet(2, ident, reqauth, [], self.secret))
            p[4] ^= 0xFF
            return bytes(p)
        if self.users.get(user) == rec["password"]:
            extra = []
            if user in self.framed:
                extra = [(FRAMED_IP, socket.inet_aton(self.framed[user]))]
            return packet(2, ident, reqauth, extra, self.secret)
        if user == "quota":
            return packet(3, ident, reqauth,
                          [(REPLY_MESSAGE, b"5 over quota")], self.secret)
        return packet(3, ident, reqauth, [], self.secret)

    def seen(self):
        with self.lock:
            return list(self.requests)

    def close(self):
        self.stop.set()
        self.t.join(5)
        self.sock.close()
        self.acct_sock.close()


@pytest.fixture
def radius_server():
    made = []

    def make(*a, **kw):
        s = RadiusServer(*a, **kw)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()
