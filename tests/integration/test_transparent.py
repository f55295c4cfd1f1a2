"""TransparentPlugin (`plugin TransparentPlugin.ld.so transparent_plugin`,
`transparent` / `notransparent`, plugins.md 5.1, F-PLUG-03) and the
plugin filter API it is built on (register_filter, conn_socket,
conn_set_dest; F-PLUG-02).

PresetDest.ld.so (tests/plugins/presetdest.c, built with the tests)
presets a fixed destination for every accepted connection, as
TransparentPlugin does with a redirected connection's original
destination: tcppm relays there instead of its configured target, tlspr
connects there while the SNI names it.  When iptables can add a NAT
REDIRECT rule (root, nf_nat), the real plugin is also tested with a
redirected connection; otherwise those tests are skipped.
"""

import os
import re
import shutil
import signal
import socket
import subprocess

import pytest

from conftest import (BIN_DIR, LOOP4, connect, echo_handler, free_port,
                      recv_exact, wait_split_record, wait_until)
from test_tlspr import client_hello_bytes

TRANSPARENT = BIN_DIR / "TransparentPlugin.ld.so"
PRESET = BIN_DIR.parent / "tests" / "PresetDest.ld.so"
LOGFMT = 'logformat "L%N|%E|%C|%R|%r|%T"'
FIELDS = ("svc", "err", "cip", "rip", "rport", "text")
PAYLOAD = b"through the original destination\n"
# the redirected tests: the client talks to ORIG (no one listens there
# but the echo server) from LOOP4; 3proxy connects out from OUT so its
# own connection is not redirected again
ORIG, OUT = "127.0.0.2", "127.0.0.3"


@pytest.fixture
def transparent():
    if not TRANSPARENT.is_file():
        pytest.fail("TransparentPlugin not built: %s" % TRANSPARENT)
    return TRANSPARENT


@pytest.fixture
def preset():
    if not PRESET.is_file():
        pytest.fail("test plugin not built: %s" % PRESET)
    return PRESET


def head(log, body):
    return "log %s\n%s\ninternal 127.0.0.1\nauth iponly\nallow *\n%s" % (
        log, LOGFMT, body)


def wait_rec(log, pred, timeout=10.0):
    return wait_split_record(log, FIELDS, pred, timeout)


def echo_through(port, host=LOOP4, source=None):
    """One connection: PAYLOAD there and back.  Returns the client port."""
    s = socket.create_connection((host, port), timeout=10,
                                 source_address=source)
    with s:
        s.sendall(PAYLOAD)
        assert recv_exact(s, len(PAYLOAD)) == PAYLOAD
        return s.getsockname()[1]


def closed_port():
    """A port nobody listens on (just freed)."""
    return free_port()


# --------------------------------------------------------------------------
# the filter API, through the test plugin
# --------------------------------------------------------------------------

def test_tcppm_relays_to_the_preset_destination(proxy, preset, echo_server,
                                                tmp_path):
    """F-PLUG-02, services.md 10: the preset replaces tcppm's target."""
    port, log = free_port(), tmp_path / "p.log"
    proxy(head(log, "plugin %s preset_dest 127.0.0.1 %d\n"
               "tcppm %d 127.0.0.1 %d\n"
               % (preset, echo_server.port, port, closed_port())),
          wait_ports=[port])
    echo_through(port)
    r = wait_rec(log, lambda r: r["svc"] == "TCPPM" and r["rport"] != "0")
    assert r["err"] == "00000"
    assert r["rport"] == str(echo_server.port)
    assert r["text"] == "127.0.0.1"


def test_tlspr_connects_to_the_preset_address(proxy, preset, echo_server,
                                              tmp_path):
    """services.md 9.1 step 4: the SNI names the destination for ACLs and
    the log, the connection goes to the preset address (an echo server;
    without the preset tlspr would go to localhost:443)."""
    port, log = free_port(), tmp_path / "t.log"
    proxy(head(log, "plugin %s preset_dest 127.0.0.1 %d\n"
               "tlspr -p%d -c1\n" % (preset, echo_server.port, port)),
          wait_ports=[port])
    hello = client_hello_bytes("localhost")
    with connect(port) as s:
        s.sendall(hello)
        assert recv_exact(s, len(hello)) == hello
    r = wait_rec(log, lambda r: r["svc"] == "TLSPR" and r["rport"] != "0")
    assert r["err"] == "00000"
    assert r["rport"] == str(echo_server.port)
    assert "localhost" in r["text"]


def test_open_hook_chooses_the_services(proxy, preset, tcp_server, tmp_path):
    """The open hook runs at each service line: a filter for tlspr only
    leaves tcppm with its own target; services before the plugin line
    never see the filter."""
    target, other = tcp_server(echo_handler), tcp_server(echo_handler)
    p1, p2, log = free_port(), free_port(), tmp_path / "o.log"
    proxy(head(log, "tcppm %d 127.0.0.1 %d\n"
               "plugin %s preset_dest 127.0.0.1 %d tlspr\n"
               "tcppm %d 127.0.0.1 %d\n"
               % (p1, target.port, preset, other.port, p2, target.port)),
          wait_ports=[p1, p2])
    echo_through(p1)
    echo_through(p2)
    wait_until(lambda: target.accepted == 2, 10, what="two connections "
               "at the configured target")
    assert other.accepted == 0


def test_client_hook_can_drop_the_connection(proxy, preset, echo_server,
                                             tmp_path):
    """A client hook's REJECT ends the connection before the protocol,
    logged with the filter code 19."""
    port, log = free_port(), tmp_path / "r.log"
    proxy(head(log, "plugin %s preset_dest reject 0\n"
               "tcppm %d 127.0.0.1 %d\n" % (preset, port, echo_server.port)),
          wait_ports=[port])
    with connect(port) as s:
        s.settimeout(10)
        try:
            assert s.recv(10) == b""
        except ConnectionResetError:
            pass
    wait_rec(log, lambda r: r["err"] == "00019")
    assert echo_server.accepted == 0


def test_proxy_ignores_the_preset(proxy, preset, echo_server, tmp_path):
    """proxy reads its destination from its own request (doc/compat.md):
    a CONNECT goes where it asks, not to the preset (a closed port)."""
    port, log = free_port(), tmp_path / "h.log"
    proxy(head(log, "plugin %s preset_dest 127.0.0.1 %d\n"
               "proxy -p%d\n" % (preset, closed_port(), port)),
          wait_ports=[port])
    with connect(port) as s:
        s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\n\r\n"
                  % echo_server.port)
        reply = b""
        while not reply.endswith(b"\r\n\r\n"):
            reply += recv_exact(s, 1)
        assert reply.split(b" ")[1] == b"200", reply
        s.sendall(PAYLOAD)
        assert recv_exact(s, len(PAYLOAD)) == PAYLOAD
    wait_rec(log, lambda r: r["svc"] == "PROXY"
             and r["rport"] == str(echo_server.port))


def test_reload_drops_the_filter(proxy, preset, echo_server, tcp_server,
                                 tmp_path):
    """A filter belongs to its config run: after a reload without the
    plugin line tcppm uses its configured target again."""
    target = tcp_server(echo_handler)
    port, log, cfg = free_port(), tmp_path / "l.log", tmp_path / "px.cfg"
    body = "tcppm %d 127.0.0.1 %d\n" % (port, target.port)
    cfg.write_text(head(log, "plugin %s preset_dest 127.0.0.1 %d\n"
                        % (preset, echo_server.port) + body))
    d = proxy(cfg, wait_ports=[port])
    echo_through(port)
    assert echo_server.wait_accepted(1) and target.accepted == 0
    cfg.write_text(head(log, body))
    d.send_signal(signal.SIGUSR1)

    def at_target():
        try:
            echo_through(port)
        except (OSError, AssertionError):
            return False
        return target.accepted > 0
    wait_until(at_target, 15, what="a connection at the configured target")


# --------------------------------------------------------------------------
# TransparentPlugin without a redirect, and its commands
# --------------------------------------------------------------------------

def test_tcppm_without_redirect_keeps_its_target(proxy, transparent,
                                                 echo_server, tmp_path):
    """A connection that was not redirected has no original destination
    (Linux): tcppm relays to its configured target, not to itself."""
    port, log = free_port(), tmp_path / "n.log"
    proxy(head(log, "plugin %s transparent_plugin\ntransparent\n"
               "tcppm %d 127.0.0.1 %d\nnotransparent\n"
               % (transparent, port, echo_server.port)), wait_ports=[port])
    echo_through(port)
    r = wait_rec(log, lambda r: r["svc"] == "TCPPM" and r["rport"] != "0")
    assert r["err"] == "00000" and r["rport"] == str(echo_server.port)


def test_commands_need_the_plugin(run3proxy, tmp_path):
    for cmd in ("transparent", "notransparent"):
        (tmp_path / "cfg").write_text("%s\n" % cmd)
        r = run3proxy(["cfg"])
        assert r.rc == 1, r
        assert re.search(r"^cfg:1: '%s' needs its plugin" % cmd, r.err,
                         re.M), r.err


def test_plugin_arguments(run3proxy, transparent, tmp_path):
    (tmp_path / "cfg").write_text("plugin %s transparent_plugin extra\n"
                                  % transparent)
    r = run3proxy(["cfg"])
    assert r.rc != 0, r
    assert "usage" in r.err, r.err
    (tmp_path / "cfg").write_text("plugin %s transparent_plugin\n"
                                  "notransparent\ntransparent\n"
                                  "transparent x\n" % transparent)
    r = run3proxy(["--check", "cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:4: ", r.err, re.M), r.err


def test_commands_need_the_plugin_line_of_their_run(proxy, transparent,
                                                    echo_server, tmp_path):
    """The plugin's commands stay registered, but a run without the
    plugin line refuses them: the reload fails and the old config
    goes on serving."""
    port, log, cfg = free_port(), tmp_path / "c.log", tmp_path / "px.cfg"
    body = "tcppm %d 127.0.0.1 %d\n" % (port, echo_server.port)
    cfg.write_text(head(log, "plugin %s transparent_plugin\n" % transparent
                        + body))
    d = proxy(cfg, wait_ports=[port])
    cfg.write_text(head(log, "notransparent\n" + body))
    d.send_signal(signal.SIGUSR1)
    d.wait_stderr(r"px.cfg:\d+: the TransparentPlugin line must come first",
                  timeout=15)
    echo_through(port)


# --------------------------------------------------------------------------
# a real netfilter REDIRECT (Linux, root, iptables with nf_nat)
# --------------------------------------------------------------------------

@pytest.fixture
def redirect():
    """redirect(dport, to_port): connections from LOOP4 to ORIG:dport go
    to 127.0.0.1:to_port.  Skips when the rule cannot be added; removes
    its rules afterwards."""
    added = []

    def add(dport, to_port):
        if shutil.which("iptables") is None or os.geteuid() != 0:
            pytest.skip("needs root and iptables")
        spec = ["-p", "tcp", "-s", LOOP4, "-d", ORIG, "--dport", str(dport),
                "-j", "REDIRECT", "--to-ports", str(to_port)]
        try:
            r = subprocess.run(["iptables", "-t", "nat", "-A", "OUTPUT"]
                               + spec, capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as e:
            pytest.skip("iptables failed: %s" % e)
        if r.returncode != 0:
            pytest.skip("iptables REDIRECT not available: %s"
                        % r.stderr.decode(errors="replace").strip())
        added.append(spec)

    yield add
    for spec in added:
        subprocess.run(["iptables", "-t", "nat", "-D", "OUTPUT"] + spec,
                       capture_output=True, timeout=30)


def redirected_config(transparent, log, port, target, enable=True):
    return head(log, "plugin %s transparent_plugin\n%s"
                "tcppm -e%s %d 127.0.0.1 %d\n"
                % (transparent, "" if enable else "notransparent\n",
                   OUT, port, target))


def test_redirect_goes_to_the_original_destination(proxy, transparent,
                                                   redirect, tcp_server,
                                                   tmp_path):
    """SO_ORIGINAL_DST: a connection redirected to tcppm reaches the
    address the client asked for, not tcppm's configured target."""
    orig, target = tcp_server(echo_handler, host=ORIG), \
        tcp_server(echo_handler)
    port, log = free_port(), tmp_path / "x.log"
    redirect(orig.port, port)
    proxy(redirected_config(transparent, log, port, target.port),
          wait_ports=[port])
    echo_through(orig.port, host=ORIG, source=(LOOP4, 0))
    assert orig.wait_accepted(1)
    assert orig.peers[0][0] == OUT       # through 3proxy
    assert target.accepted == 0
    r = wait_rec(log, lambda r: r["svc"] == "TCPPM" and r["rport"] != "0")
    assert (r["err"], r["rip"], r["rport"], r["text"]) == \
        ("00000", ORIG, str(orig.port), ORIG)


def test_notransparent_and_reload(proxy, transparent, redirect, tcp_server,
                                  tmp_path):
    """`notransparent` services keep their target even for redirected
    connections; a reload starts from the default (enabled) again."""
    orig, target = tcp_server(echo_handler, host=ORIG), \
        tcp_server(echo_handler)
    port, log, cfg = free_port(), tmp_path / "y.log", tmp_path / "px.cfg"
    redirect(orig.port, port)
    cfg.write_text(redirected_config(transparent, log, port, target.port,
                                     enable=False))
    d = proxy(cfg, wait_ports=[port])
    echo_through(orig.port, host=ORIG, source=(LOOP4, 0))
    assert target.wait_accepted(1) and orig.accepted == 0
    cfg.write_text(redirected_config(transparent, log, port, target.port))
    d.send_signal(signal.SIGUSR1)

    def at_orig():
        try:
            echo_through(orig.port, host=ORIG, source=(LOOP4, 0))
        except (OSError, AssertionError):
            return False
        return orig.accepted > 0
    wait_until(at_orig, 15, what="a connection at the original destination")
