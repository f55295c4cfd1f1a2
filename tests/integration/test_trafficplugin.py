"""TrafficPlugin (`plugin TrafficPlugin.ld.so start [debug]`,
`trafcorrect m|p ...`, plugins.md 5.2, F-PLUG-04).

A tcppm service relays to a local echo server; each case sends a known
payload, reads it back, closes, and checks the %I/%O of the access record
of that client port (the plugin corrects them before they are logged).
"""

import re
import signal

import pytest

from conftest import BIN_DIR, connect, free_port, recv_exact, wait_until

TRAFFIC_PLUGIN = BIN_DIR / "TrafficPlugin.ld.so"
PAYLOAD = b"0123456789" * 10          # 100 bytes each way
REC_RX = re.compile(r"^TRAF (\d+) (\d+) (\d+)$", re.M)


@pytest.fixture
def plugin():
    if not TRAFFIC_PLUGIN.is_file():
        pytest.fail("TrafficPlugin not built: %s" % TRAFFIC_PLUGIN)
    return TRAFFIC_PLUGIN


def config(plugin, log, port, echo_port, rules, start_args=""):
    return ("plugin %s start%s\n" % (plugin, start_args)
            + "".join("trafcorrect %s\n" % r for r in rules)
            + "log %s\n" % log
            + 'logformat "LTRAF %c %I %O"\n'
            + "internal 127.0.0.1\n"
            "tcppm %d 127.0.0.1 %d\n" % (port, echo_port))


def exchange(port):
    """One connection through port: PAYLOAD there and back.  Returns the
    client's port."""
    with connect(port) as s:
        cport = s.getsockname()[1]
        s.sendall(PAYLOAD)
        assert recv_exact(s, len(PAYLOAD)) == PAYLOAD
    return cport


def traffic(log, cport):
    """(%I, %O) of the record of client port cport."""
    def find():
        text = log.read_text() if log.exists() else ""
        for m in REC_RX.finditer(text):
            if int(m.group(1)) == cport:
                return int(m.group(2)), int(m.group(3))
        return None
    return wait_until(find, 15, what=lambda: "a record for client port %d "
                      "in:\n%s" % (cport, log.read_text()
                                   if log.exists() else ""))


def run_case(proxy, plugin, echo_server, tmp_path, rules, start_args=""):
    port, log = free_port(), tmp_path / "traf.log"
    d = proxy(config(plugin, log, port, echo_server.port, rules, start_args))
    d.wait_listening(port)
    return d, traffic(log, exchange(port))


def test_without_rules_counts_are_unchanged(proxy, plugin, echo_server,
                                            tmp_path):
    _, (i, o) = run_case(proxy, plugin, echo_server, tmp_path, [])
    assert (i, o) == (100, 100)


def test_multiply_doubles_in_and_out(proxy, plugin, echo_server, tmp_path):
    _, (i, o) = run_case(proxy, plugin, echo_server, tmp_path,
                         ["m tcppm * 2"])
    assert (i, o) == (200, 200)


def test_multiply_fraction(proxy, plugin, echo_server, tmp_path):
    _, (i, o) = run_case(proxy, plugin, echo_server, tmp_path,
                         ["m * * 0.5"])
    assert (i, o) == (50, 50)


def test_packet_overhead_tcp(proxy, plugin, echo_server, tmp_path):
    # (reads + 3 connects) * 1000 on top of the 100 bytes; at least one
    # read each way
    _, (i, o) = run_case(proxy, plugin, echo_server, tmp_path,
                         ["p tcppm tcp %d 1000" % echo_server.port])
    for v in (i, o):
        assert v >= 100 + 4 * 1000, (i, o)
        assert (v - 100) % 1000 == 0, (i, o)


def test_first_matching_rule_wins(proxy, plugin, echo_server, tmp_path):
    _, (i, o) = run_case(proxy, plugin, echo_server, tmp_path,
                         ["m tcppm * 3", "m * * 2"])
    assert (i, o) == (300, 300)


def test_rules_that_do_not_match_are_skipped(proxy, plugin, echo_server,
                                             tmp_path):
    # other service, other port, UDP: none applies to this TCP tcppm
    # connection (the reference took the first TCP rule for everything)
    other = free_port()
    _, (i, o) = run_case(proxy, plugin, echo_server, tmp_path,
                         ["m proxy * 7", "m * %d 5" % other,
                          "p * udp * 500", "p socks5 tcp * 400",
                          "m tcppm %d 2" % echo_server.port])
    assert (i, o) == (200, 200)


def test_debug_prints_decisions(proxy, plugin, echo_server, tmp_path):
    d, (i, o) = run_case(proxy, plugin, echo_server, tmp_path,
                         ["m tcppm * 2"], " debug")
    assert (i, o) == (200, 200)
    d.wait_stdout(r"^trafcorrect: TCPPM port %d tcp: rule 1 \(m TCPPM 0 "
                  r"x2\): in 100 -> 200, out 100 -> 200$" % echo_server.port)


def test_reload_replaces_the_rules(proxy, plugin, echo_server, tmp_path):
    port, log = free_port(), tmp_path / "traf.log"
    cfg = tmp_path / "px.cfg"
    cfg.write_text(config(plugin, log, port, echo_server.port,
                          ["m * * 2"]))
    d = proxy(cfg)
    d.wait_listening(port)
    assert traffic(log, exchange(port)) == (200, 200)
    cfg.write_text(config(plugin, log, port, echo_server.port,
                          ["m * * 3"]))
    d.send_signal(signal.SIGUSR1)
    wait_until(lambda: traffic_now(log, port) == (300, 300), 15,
               what="records with the reloaded rule")
    # without the plugin line the counts are the real ones again
    cfg.write_text(config(plugin, log, port, echo_server.port, [])
                   .split("\n", 1)[1])
    d.send_signal(signal.SIGUSR1)
    wait_until(lambda: traffic_now(log, port) == (100, 100), 15,
               what="records without the plugin")


def traffic_now(log, port):
    """A new connection's record (the config in force may be changing)."""
    try:
        return traffic(log, exchange(port))
    except (OSError, AssertionError):
        return None


@pytest.mark.parametrize("rule,msg", [
    ("x * * 2", "the rule type must be m"),
    ("m * * 0", "coefficient"),
    ("m * * 100", "coefficient"),
    ("m * 70000 2", "bad target port"),
    ("p * sctp * 10", "tcp or udp"),
    ("p * tcp * 99999", "packet size"),
])
def test_bad_rules_fail_the_config(run3proxy, plugin, tmp_path, rule, msg):
    (tmp_path / "cfg").write_text("plugin %s start\ntrafcorrect %s\n"
                                  % (plugin, rule))
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:2: trafcorrect: .*%s" % msg, r.err, re.M), r.err


def test_unknown_service_warns(run3proxy, plugin, tmp_path):
    (tmp_path / "cfg").write_text("plugin %s start\n"
                                  "trafcorrect m nosuch * 2\n" % plugin)
    r = run3proxy(["--check", "cfg"])
    assert r.rc == 0, r
    assert re.search(r"^cfg:2: .*unknown service 'nosuch'", r.err,
                     re.M), r.err


def test_trafcorrect_needs_the_plugin_line_of_its_run(run3proxy, plugin,
                                                      tmp_path):
    (tmp_path / "cfg").write_text("trafcorrect m * * 2\n")
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
