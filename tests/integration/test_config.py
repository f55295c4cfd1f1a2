"""Configuration reading: stdin fallback, $file, include, error reports,
--check."""

import re
import resource
import signal
import socket
import time

import pytest

from conftest import (LOOP4, assert_serves, free_port, is_listening,
                      listening_addrs, port_is_free, wait_until)


def tcppm_line(port, target_port, opts=""):
    return "tcppm %s%d 127.0.0.1 %d\n" % (opts + " " if opts else "", port,
                                          target_port)


# --------------------------------------------------------------------------
# where the configuration comes from
# --------------------------------------------------------------------------

def test_stdin_config_ending_with_end(proxy, echo_server, tmp_path):
    port = free_port()
    cfg = ("internal 127.0.0.1\n" + tcppm_line(port, echo_server.port)
           + "end\n"
           # Ignored: reading stops at `end` while stdin stays open.
           + "bogus command after end\n")
    d = proxy(args=[tmp_path / "does-not-exist" / "x.cfg"], stdin=cfg)
    d.wait_listening(port)
    assert_serves(port)
    # Still running, with stdin still open.
    time.sleep(0.3)
    assert d.alive(), d.stderr_text()
    assert "bogus" not in d.stderr_text()


def test_stdin_config_errors_are_reported(run3proxy, tmp_path):
    r = run3proxy([tmp_path / "missing.cfg"],
                  input="internal 127.0.0.1\nbogus\nend\n")
    assert r.rc == 1, r
    assert re.search(r":2: unknown command 'bogus'", r.err), r.err


def test_dollar_file_supplies_arguments(proxy, echo_server, tmp_path):
    port = free_port()
    args = tmp_path / "tcppm.args"
    # Newlines are separators inside an included $file.
    args.write_text("%d\n127.0.0.1\n%d\n" % (port, echo_server.port))
    d = proxy("internal 127.0.0.1\ntcppm $%s\n" % args)
    d.wait_listening(port)
    assert_serves(port)


def test_dollar_file_prefix_and_quotes(proxy, echo_server, tmp_path):
    """`-i$file` prepends `-i` to the first token of the file; comment,
    empty and indented lines are skipped; a quoted argument is fine."""
    port = free_port()
    addr = tmp_path / "addr.txt"
    addr.write_text("127.0.0.1\n")
    d = proxy("# comment line\n"
              "\n"
              "   indented lines are skipped entirely\n"
              "\tso are tab-indented ones\n"
              'tcppm -i$%s %d "127.0.0.1" %d\n'
              % (addr, port, echo_server.port))
    d.wait_listening(port)
    assert listening_addrs(port) == {"0100007F"}   # not the wildcard
    assert_serves(port)


def test_unreadable_dollar_file_is_an_error(run3proxy, cfgfile, tmp_path):
    cfg = cfgfile("internal 127.0.0.1\ntcppm $%s\n"
                  % (tmp_path / "no-such-args"))
    r = run3proxy([cfg])
    assert r.rc == 1, r
    assert re.search(r"px\.cfg:2: ", r.err), r.err


def test_include_runs_other_file(proxy, echo_server, tmp_path):
    port = free_port()
    (tmp_path / "inc.cfg").write_text(
        "# included\n" + tcppm_line(port, echo_server.port) + "end\n"
        + "bogus after end of include\n")
    d = proxy("internal 127.0.0.1\ninclude inc.cfg\n"
              "timeouts 1 5 30 60 180 1800 15 60\n")
    d.wait_listening(port)
    assert_serves(port)
    assert "bogus" not in d.stderr_text()


# --------------------------------------------------------------------------
# errors at start-up: exit 1 and file:line: message
# --------------------------------------------------------------------------

BAD_CONFIGS = [
    ("unknown", "internal 127.0.0.1\n# c\nbogus\n",
     r"^cfg:3: unknown command 'bogus'$"),
    ("argcount", "internal 127.0.0.1\nmaxconn\n",
     r"^cfg:2: 'maxconn': wrong number of arguments$"),
    ("argcount_tcppm", "tcppm 1234 127.0.0.1\n",
     r"^cfg:1: 'tcppm': wrong number of arguments$"),
    ("timeout", "\n\ntimeouts 1 5 0\n",
     r"^cfg:3: invalid timeout: 0$"),
    ("timeout_big", "timeouts 2000001\n",
     r"^cfg:1: invalid timeout: 2000001$"),
    ("case", "Internal 127.0.0.1\n",
     r"^cfg:1: unknown command 'Internal'$"),
    ("end_with_arg", "end x\n",
     r"^cfg:1: unknown command 'end'$"),
    ("pollspin_big", "pollspin 100001\n",
     r"^cfg:1: pollspin: invalid value '100001' \(0-100000 microseconds\)$"),
    ("pollspin_text", "pollspin fast\n",
     r"^cfg:1: pollspin: invalid value 'fast'"),
    ("relaythreads_big", "relaythreads 65\n",
     r"^cfg:1: relaythreads: invalid value '65' \(0-64\)$"),
    ("relaythreads_negative", "relaythreads -1\n",
     r"^cfg:1: relaythreads: invalid value '-1'"),
]


@pytest.mark.parametrize("spin", [0, 50, 100000])
def test_pollspin_values_serve(proxy, echo_server, spin):
    """`pollspin N` (F-PERF): off, the default and the longest spin all
    relay: a round trip through a port mapper, and a second one after an
    idle wait longer than the spin."""
    port = free_port()
    d = proxy("pollspin %d\ninternal 127.0.0.1\n%s"
              % (spin, tcppm_line(port, echo_server.port)),
              wait_ports=[port])
    assert_serves(port)
    time.sleep(0.3)
    assert_serves(port)
    assert d.alive()


@pytest.mark.parametrize("name,text,pattern", BAD_CONFIGS,
                         ids=[b[0] for b in BAD_CONFIGS])
def test_bad_config_exit_1_with_location(run3proxy, tmp_path, name, text,
                                          pattern):
    port = free_port()
    # A valid service before the error must not keep the process alive.
    (tmp_path / "cfg").write_text(text
                                  + tcppm_line(port, 9))
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert re.search(pattern, r.err, re.M), r.err
    assert port_is_free(port)


def test_bad_config_error_after_service_line(run3proxy, tmp_path):
    """The first error stops the start even when a service was already
    configured above it; nothing keeps listening."""
    port = free_port()
    (tmp_path / "cfg").write_text("internal 127.0.0.1\n"
                                  + tcppm_line(port, 9) + "bogus\n")
    t0 = time.monotonic()
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:3: unknown command 'bogus'$", r.err, re.M), r.err
    assert time.monotonic() - t0 < 15
    assert port_is_free(port)


def test_error_inside_include_names_included_file(run3proxy, tmp_path):
    (tmp_path / "inc.cfg").write_text("internal 127.0.0.1\nbogus\n")
    (tmp_path / "cfg").write_text("# main\ninclude inc.cfg\n")
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert re.search(r"^inc\.cfg:2: unknown command 'bogus'$", r.err,
                     re.M), r.err


def test_error_after_include_counts_main_file_lines(run3proxy, tmp_path):
    (tmp_path / "inc.cfg").write_text("internal 127.0.0.1\n\n\n\n\n")
    (tmp_path / "cfg").write_text("include inc.cfg\nmaxconn 1 2\n")
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:2: 'maxconn': wrong number of arguments$",
                     r.err, re.M), r.err


def test_missing_include_is_an_error(run3proxy, tmp_path):
    (tmp_path / "cfg").write_text("internal 127.0.0.1\ninclude nope.cfg\n")
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:2: .*nope\.cfg", r.err, re.M), r.err


def test_unterminated_quote_is_parse_error(run3proxy, tmp_path):
    (tmp_path / "cfg").write_text('internal 127.0.0.1\n\nlog "abc\n')
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:3: .*parse error", r.err, re.M | re.I), r.err


def test_backslash_does_not_escape_quote(run3proxy, tmp_path):
    # In "\"" the "" is a literal quote and the string never closes.
    (tmp_path / "cfg").write_text('logformat "\\""\n')
    r = run3proxy(["--check", "cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:1: .*parse error", r.err, re.M | re.I), r.err


def test_usage_errors(run3proxy):
    r = run3proxy(["-h"])
    assert r.rc == 1
    assert "Usage:" in r.err
    assert re.search(r"3proxy-\d", r.err), r.err
    r = run3proxy(["a.cfg", "b.cfg"])
    assert r.rc == 1
    assert "Usage:" in r.err


# --------------------------------------------------------------------------
# --check
# --------------------------------------------------------------------------

def test_check_reports_every_error(run3proxy, tmp_path):
    (tmp_path / "inc.cfg").write_text("internal 127.0.0.1\nnosuchcmd\n")
    (tmp_path / "cfg").write_text(
        "internal 127.0.0.1\n"        # 1
        "maxconn\n"                   # 2
        "timeouts 0\n"                # 3
        "bogus x\n"                   # 4
        "include inc.cfg\n"           # 5 (inc.cfg:2)
        'log "open\n'                 # 6
        "tcppm 1 2\n")                # 7
    r = run3proxy(["--check", "cfg"])
    assert r.rc == 1, r
    expected = [
        r"^cfg:2: 'maxconn': wrong number of arguments$",
        r"^cfg:3: invalid timeout: 0$",
        r"^cfg:4: unknown command 'bogus'$",
        r"^inc\.cfg:2: unknown command 'nosuchcmd'$",
        r"^cfg:6: .*parse error",
        r"^cfg:7: 'tcppm': wrong number of arguments$",
    ]
    for pat in expected:
        assert re.search(pat, r.err, re.M | re.I), (pat, r.err)


def test_check_good_config_exits_0_without_listening(run3proxy, tmp_path,
                                                     echo_server):
    port = free_port()
    uport = free_port(kind=socket.SOCK_DGRAM)
    (tmp_path / "cfg").write_text(
        "internal 127.0.0.1\n"
        "log %s\n" % (tmp_path / "check.log")
        + "maxconn 10\n"
        + tcppm_line(port, echo_server.port)
        + "udppm %d 127.0.0.1 %d\n" % (uport, 9))
    t0 = time.monotonic()
    r = run3proxy(["--check", "cfg"], timeout=15)
    assert r.rc == 0, r
    assert time.monotonic() - t0 < 10
    assert "error" not in r.err.lower(), r.err
    assert port_is_free(port), "--check opened the tcppm port"
    assert not is_listening(port)
    assert port_is_free(uport, kind=socket.SOCK_DGRAM)
    assert echo_server.accepted == 0


def test_check_accepts_unimplemented_services(run3proxy, tmp_path):
    (tmp_path / "cfg").write_text("internal 127.0.0.1\nproxy -p%d\n"
                                  "socks -p%d\n" % (free_port(), free_port()))
    r = run3proxy(["--check", "cfg"])
    assert r.rc == 0, r


def test_check_missing_config_file(run3proxy, tmp_path):
    r = run3proxy(["--check", tmp_path / "nope.cfg"])
    assert r.rc == 1, r
    assert "nope.cfg" in r.err


# --------------------------------------------------------------------------
# lexical details seen end to end
# --------------------------------------------------------------------------

def test_crlf_line_endings(proxy, echo_server):
    port = free_port()
    d = proxy("# windows file\r\ninternal 127.0.0.1\r\n"
              "tcppm %d 127.0.0.1 %d\r\n" % (port, echo_server.port))
    d.wait_listening(port)
    assert_serves(port)


def test_hash_inside_line_is_not_a_comment(run3proxy, tmp_path):
    (tmp_path / "cfg").write_text("internal 127.0.0.1 # listen here\n")
    r = run3proxy(["--check", "cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:1: 'internal': wrong number of arguments$",
                     r.err, re.M), r.err


def test_quoting_rules_in_logformat(proxy, echo_server, tmp_path):
    """Quotes may start mid-token, "" inside quotes is one literal quote,
    and $ inside quotes is an ordinary character."""
    port = free_port()
    log = tmp_path / "q.log"
    d = proxy('internal 127.0.0.1\nlog %s\n' % log
              + 'logformat L"[""%p""] $HOME a"b" c"d\n'
              + 'tcppm -i127.0"."0.1 %d "127.0.0.1" %d\n'
              % (port, echo_server.port))
    d.wait_listening(port)
    assert_serves(port)
    want = '["%d"] $HOME ab cd' % port
    wait_until(lambda: log.exists() and want in log.read_text().
                    splitlines(), 8,
                    what=lambda: "%r in\n%s" % (want, log.read_text()
                                                 if log.exists() else "-"))


def test_dollar_file_at_end_of_file_without_newline(proxy, echo_server,
                                                    tmp_path):
    """The original refuses a `$file` that ends the last line of a file
    without a final newline; here such a file works (a dropped final
    newline must not break a configuration)."""
    port = free_port()
    args = tmp_path / "args"
    args.write_text("%d 127.0.0.1 %d\n" % (port, echo_server.port))
    d = proxy("internal 127.0.0.1\ntcppm $%s" % args)
    d.wait_listening(port)
    assert_serves(port)


def test_dollar_in_included_text_is_literal(proxy, echo_server, tmp_path):
    """The content of a $file is not expanded again: a `$name` in it is a
    plain token (here part of the log format)."""
    port = free_port()
    log = tmp_path / "d.log"
    fmt = tmp_path / "fmt"
    fmt.write_text('"L%%p $%s"\n' % fmt)
    d = proxy("internal 127.0.0.1\nlog %s\nlogformat $%s\n"
              "tcppm %d 127.0.0.1 %d\n" % (log, fmt, port, echo_server.port))
    d.wait_listening(port)
    assert_serves(port)
    want = "%d $%s" % (port, fmt)
    wait_until(
        lambda: log.exists() and want in log.read_text().splitlines(), 8,
        what=lambda: "%r in\n%s" % (want, log.read_text()
                                     if log.exists() else "-"))


def test_stdin_config_up_to_eof(proxy, echo_server, tmp_path):
    port = free_port()
    cfg = "internal 127.0.0.1\n" + tcppm_line(port, echo_server.port)
    d = proxy(args=[tmp_path / "none.cfg"], stdin=cfg)
    d.proc.stdin.close()
    d.wait_listening(port)
    assert_serves(port)


def test_reload_signal_with_stdin_config_keeps_running(proxy, echo_server,
                                                       tmp_path):
    """A configuration read from standard input cannot be read again;
    a reload request must not stop the services."""
    port = free_port()
    cfg = "internal 127.0.0.1\n" + tcppm_line(port, echo_server.port) \
        + "end\n"
    d = proxy(args=[tmp_path / "none.cfg"], stdin=cfg)
    d.wait_listening(port)
    d.send_signal(signal.SIGUSR1)
    time.sleep(1.5)
    assert d.alive(), d.stderr_text()
    assert_serves(port)


def test_internal_sets_listen_address(proxy, echo_server):
    """`internal 127.0.0.1` makes the listener bind 127.0.0.1, not the
    wildcard address."""
    port = free_port()
    d = proxy("internal 127.0.0.1\n" + tcppm_line(port, echo_server.port))
    d.wait_listening(port)
    assert listening_addrs(port) == {"0100007F"}


def test_check_reads_stdin(run3proxy):
    r = run3proxy(["--check", "-"], input="internal 127.0.0.1\nbogus\n")
    assert r.rc == 1, r
    assert re.search(r":2: unknown command 'bogus'$", r.err, re.M), r.err
    r = run3proxy(["--check", "-"], input="internal 127.0.0.1\n")
    assert r.rc == 0, r


def test_check_has_no_side_effects(run3proxy, tmp_path):
    marker = tmp_path / "system-ran"
    (tmp_path / "cfg").write_text(
        "log %s\n" % (tmp_path / "px.log")
        + "pidfile %s\n" % (tmp_path / "px.pid")
        + 'system "touch %s"\n' % marker
        + "internal 127.0.0.1\ntcppm %d 127.0.0.1 9\n" % free_port())
    r = run3proxy(["--check", "cfg"])
    assert r.rc == 0, r
    assert not marker.exists(), "--check ran a system command"
    assert not (tmp_path / "px.pid").exists(), "--check wrote the pid file"
    assert not (tmp_path / "px.log").exists(), "--check opened the log"


def test_check_missing_include_is_a_warning(run3proxy, tmp_path):
    (tmp_path / "cfg").write_text("internal 127.0.0.1\n"
                                  "include /nonexistent/inc.cfg\n")
    r = run3proxy(["--check", "cfg"])
    assert r.rc == 0, r
    assert re.search(r"^cfg:2: warning: .*inc\.cfg", r.err, re.M), r.err


def test_maxconn_warns_when_descriptor_limit_is_low(run3proxy, tmp_path):
    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
    (tmp_path / "cfg").write_text("internal 127.0.0.1\nmaxconn 1000\n")
    r = run3proxy(["--check", "cfg"], preexec_fn=low_limit)
    assert r.rc == 0, r
    assert re.search(r"^cfg:2: warning: .*ulimit.*256.*2000", r.err,
                     re.M), r.err
    (tmp_path / "cfg").write_text("internal 127.0.0.1\nmaxconn 100\n")
    r = run3proxy(["--check", "cfg"], preexec_fn=low_limit)
    assert r.rc == 0 and "ulimit" not in r.err, r


@pytest.mark.parametrize("value", ["0", "abc", "-5"])
def test_maxconn_invalid_value(run3proxy, tmp_path, value):
    (tmp_path / "cfg").write_text("maxconn %s\n" % value)
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:1: ", r.err, re.M), r.err


@pytest.mark.parametrize("line", [
    "tcppm -Z %(p)d 127.0.0.1 9",
    "tcppm 0 127.0.0.1 9",
    "tcppm %(p)d 127.0.0.1 0",
    "tcppm %(p)d 127.0.0.1 70000",
    "tcppm -e300.1.1.1 %(p)d 127.0.0.1 9",
    "udppm -q %(p)d 127.0.0.1 9",
], ids=["option", "port0", "tport0", "tport-big", "bad-external",
        "udp-option"])
def test_bad_service_line(run3proxy, tmp_path, line):
    port = free_port()
    (tmp_path / "cfg").write_text("internal 127.0.0.1\n# x\n"
                                  + line % {"p": port} + "\n")
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:3: ", r.err, re.M), r.err
    assert port_is_free(port)
    if "-e" in line:
        return  # --check does not resolve names (they may be local)
    r = run3proxy(["--check", "cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:3: ", r.err, re.M), r.err


def test_busy_port_is_retried(proxy, echo_server, tmp_path):
    """A bind failure is logged and retried in the background; the
    service comes up once the port is free."""
    holder = socket.socket()
    holder.bind((LOOP4, 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    log = tmp_path / "px.log"
    try:
        d = proxy("internal 127.0.0.1\nlog %s\n" % log
                  + tcppm_line(port, echo_server.port))
        wait_until(
            lambda: log.exists() and "bind()" in log.read_text(), 8,
            what=lambda: "a bind() record in the log")
        assert d.alive(), d.stderr_text()
    finally:
        holder.close()
    d.wait_listening(port, timeout=15)
    assert_serves(port)


# --------------------------------------------------------------------------
# size limits of the reader
# --------------------------------------------------------------------------

def test_token_limit(run3proxy, tmp_path):
    """At most 4095 tokens per command (the command word included)."""
    (tmp_path / "ok").write_text("timeouts" + " 1" * 4094 + "\n")
    r = run3proxy(["--check", "ok"])
    assert r.rc == 0, r
    (tmp_path / "cfg").write_text("internal 127.0.0.1\n"
                                  "timeouts" + " 1" * 4095 + "\n")
    r = run3proxy(["--check", "cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:2: ", r.err, re.M), r.err


def test_overlong_line_is_split(run3proxy, tmp_path):
    """A line longer than 65534 bytes is split by the reader and the rest
    is read as a new line: a long comment turns into a command."""
    (tmp_path / "cfg").write_text("internal 127.0.0.1\n#" + "x" * 70000
                                  + "\n")
    r = run3proxy(["--check", "cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:\d+: unknown command 'xxxx", r.err, re.M), \
        r.err[:300]


def test_overlong_line_error_names_its_line(run3proxy, tmp_path):
    """An error in the first part of an over-long line is reported with
    that line's number."""
    (tmp_path / "cfg").write_text("internal 127.0.0.1\n# two\nbogus "
                                  + "x" * 70000 + "\n")
    r = run3proxy(["--check", "cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:3: unknown command 'bogus'$", r.err, re.M), \
        r.err[:300]


def test_recursive_include_is_an_error(run3proxy, tmp_path):
    (tmp_path / "a.cfg").write_text("internal 127.0.0.1\ninclude b.cfg\n")
    (tmp_path / "b.cfg").write_text("# b\n\ninclude a.cfg\n")
    for args in (["a.cfg"], ["--check", "a.cfg"]):
        r = run3proxy(args)
        assert r.rc == 1, r
        assert re.search(r"^[ab]\.cfg:[23]: .*include", r.err, re.M), \
            r.err[-2000:]
