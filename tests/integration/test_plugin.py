"""The plugin loader, with the bundled ExamplePlugin."""

import re
import signal

import pytest

from conftest import EXAMPLE_PLUGIN, assert_serves, free_port


@pytest.fixture
def example_plugin():
    if not EXAMPLE_PLUGIN.is_file():
        pytest.fail("example plugin not built: %s" % EXAMPLE_PLUGIN)
    return EXAMPLE_PLUGIN


def test_plugin_registers_command(proxy, example_plugin, echo_server):
    port = free_port()
    d = proxy("plugin %s example_start\n" % example_plugin
              + "example_say hello from   the plugin\n"
              "internal 127.0.0.1\n"
              "tcppm %d 127.0.0.1 %d\n" % (port, echo_server.port))
    d.wait_listening(port)
    d.wait_stderr(r"^3proxy: hello from the plugin$", timeout=5)
    assert_serves(port)


def test_plugin_command_runs_again_on_reload(proxy, example_plugin,
                                             echo_server, tmp_path):
    port = free_port()
    cfg = tmp_path / "px.cfg"
    cfg.write_text("plugin %s example_start\n" % example_plugin
                   + "example_say first\n"
                   "internal 127.0.0.1\n"
                   "tcppm %d 127.0.0.1 %d\n" % (port, echo_server.port))
    d = proxy(cfg)
    d.wait_listening(port)
    d.wait_stderr(r"^3proxy: first$")
    cfg.write_text(cfg.read_text().replace("first", "second"))
    d.send_signal(signal.SIGUSR1)
    d.wait_stderr(r"^3proxy: second$", timeout=5)
    assert d.alive()
    assert_serves(port)


def test_plugin_command_is_quiet_under_check(run3proxy, example_plugin,
                                             tmp_path):
    (tmp_path / "cfg").write_text("plugin %s example_start\n"
                                  "example_say not now\n" % example_plugin)
    r = run3proxy(["--check", "cfg"])
    assert r.rc == 0, r
    assert "not now" not in r.err


def test_command_unknown_without_plugin(run3proxy, tmp_path):
    (tmp_path / "cfg").write_text("internal 127.0.0.1\nexample_say hi\n")
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:2: unknown command 'example_say'$", r.err,
                     re.M), r.err
    assert "3proxy: hi" not in r.err


def test_plugin_command_argument_count(run3proxy, example_plugin, tmp_path):
    (tmp_path / "cfg").write_text("plugin %s example_start\nexample_say\n"
                                  % example_plugin)
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:2: 'example_say': wrong number of arguments$",
                     r.err, re.M), r.err


def test_missing_plugin_library_fails_start(run3proxy, tmp_path):
    (tmp_path / "cfg").write_text("internal 127.0.0.1\n"
                                  "plugin %s example_start\n"
                                  % (tmp_path / "NoSuchPlugin.ld.so"))
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:2: .*NoSuchPlugin", r.err, re.M), r.err


def test_missing_entry_function_fails_start(run3proxy, example_plugin,
                                            tmp_path):
    (tmp_path / "cfg").write_text("plugin %s no_such_entry\n"
                                  % example_plugin)
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:1: .*no_such_entry", r.err, re.M), r.err


def test_check_with_missing_plugin_is_a_warning(run3proxy, tmp_path):
    (tmp_path / "cfg").write_text("internal 127.0.0.1\n"
                                  "plugin %s example_start\n"
                                  "tcppm %d 127.0.0.1 9\n"
                                  % (tmp_path / "NoSuchPlugin.ld.so",
                                     free_port()))
    r = run3proxy(["--check", "cfg"])
    assert r.rc == 0, r
    assert re.search(r"^cfg:2: .*warning.*NoSuchPlugin", r.err,
                     re.M | re.I), r.err
