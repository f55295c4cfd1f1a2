"""utf8tocp1251 (`plugin utf8tocp1251.ld.so utf8tocp1251`, plugins.md 5.8,
F-PLUG-10): a client's UTF-8 user name and password are converted to
Windows-1251 for the next method of the chain, so a `users` table written
in Windows-1251 accepts Cyrillic credentials typed in UTF-8.

The config file itself is written in Windows-1251.  SOCKS5 clients send
RFC 1929 credentials; HTTP clients a Proxy-Authorization header.
"""

import base64

import pytest

from conftest import BIN_DIR, connect, free_port, recv_exact
from socks_util import CMD_CONNECT, socks5_greet, socks5_request

PLUGIN = BIN_DIR / "utf8tocp1251.ld.so"
USER, PASSWORD = "Иван", "пароль-Ёё"


@pytest.fixture
def plugin():
    if not PLUGIN.is_file():
        pytest.fail("utf8tocp1251 not built: %s" % PLUGIN)
    return PLUGIN


def start(proxy, tmp_path, chain, with_plugin=True):
    sport, hport = free_port(), free_port()
    text = (("plugin %s utf8tocp1251\n" % PLUGIN if with_plugin else "")
            + "internal 127.0.0.1\n"
            + "users %s:CL:%s\n" % (USER, PASSWORD)
            + "auth %s\n" % chain
            + "allow %s\n" % USER
            + "socks -p%d\nproxy -p%d\n" % (sport, hport))
    cfg = tmp_path / "px.cfg"
    cfg.write_bytes(text.encode("cp1251"))
    proxy(cfg, wait_ports=[sport, hport])
    return sport, hport


def socks_login(port, target, user, password):
    """The auth status (0 = accepted) and, when accepted, an echo."""
    with connect(port) as s:
        got = socks5_greet(s, (2,), user, password)
        if got != 2:
            return got[1], None
        rep = socks5_request(s, CMD_CONNECT, "127.0.0.1", target)
        if rep.code != 0:
            return rep.code, None
        s.sendall(b"ping")
        return 0, recv_exact(s, 4)


def http_status(port, user, password):
    cred = base64.b64encode(("%s:%s" % (user, password)).encode())
    with connect(port) as s:
        s.sendall(b"GET http://127.0.0.1:%d/ HTTP/1.0\r\n"
                  b"Proxy-Authorization: Basic %s\r\n\r\n"
                  % (free_port(), cred))
        line = b""
        while not line.endswith(b"\r\n"):
            chunk = s.recv(1)
            if not chunk:
                break
            line += chunk
    return int(line.split()[1])


def test_utf8_credentials_meet_cp1251_users(proxy, plugin, tmp_path,
                                            echo_server):
    sport, hport = start(proxy, tmp_path, "utf8tocp1251 strong")
    assert socks_login(sport, echo_server.port, USER, PASSWORD) == \
        (0, b"ping")
    # accepted by the proxy: the request goes on to the (closed) target
    assert http_status(hport, USER, PASSWORD) not in (407, 403)
    # a wrong password is still wrong after the conversion
    assert socks_login(sport, echo_server.port, USER, "пароль")[0] != 0
    assert http_status(hport, USER, "пароль") == 407


def test_without_the_conversion_utf8_is_refused(proxy, plugin, tmp_path,
                                                echo_server):
    """The same chain without utf8tocp1251: the UTF-8 bytes do not match
    the Windows-1251 table, so the test above depends on the plugin."""
    sport, hport = start(proxy, tmp_path, "strong")
    assert socks_login(sport, echo_server.port, USER, PASSWORD)[0] != 0
    assert http_status(hport, USER, PASSWORD) == 407


def test_cp1251_credentials_pass_unchanged(proxy, plugin, tmp_path,
                                           echo_server):
    """A client that already sends Windows-1251 is not converted twice."""
    sport, _ = start(proxy, tmp_path, "utf8tocp1251 strong")
    with connect(sport) as s:
        s.sendall(b"\x05\x01\x02")
        assert recv_exact(s, 2) == b"\x05\x02"
        u, p = USER.encode("cp1251"), PASSWORD.encode("cp1251")
        s.sendall(bytes([1, len(u)]) + u + bytes([len(p)]) + p)
        assert recv_exact(s, 2) == b"\x01\x00"
        rep = socks5_request(s, CMD_CONNECT, "127.0.0.1", echo_server.port)
        assert rep.code == 0


def test_type_alone_accepts_nobody(proxy, plugin, tmp_path, echo_server):
    sport, hport = start(proxy, tmp_path, "utf8tocp1251")
    assert socks_login(sport, echo_server.port, USER, PASSWORD)[0] != 0
    assert http_status(hport, USER, PASSWORD) == 407


def test_unknown_without_the_plugin(run3proxy, tmp_path):
    cfg = tmp_path / "px.cfg"
    cfg.write_text("auth utf8tocp1251 strong\nproxy -p%d\n" % free_port())
    r = run3proxy([cfg])
    assert r.rc == 1, r
    assert "px.cfg:1: auth: unknown authentication type 'utf8tocp1251'" \
        in r.err
