"""StringsPlugin (`plugin StringsPlugin.ld.so start FILE`, plugins.md 5.3,
F-PLUG-05): the HTTP proxy's error pages and the admin page texts come
from a strings file; a reload without the plugin line brings the built-in
texts back; an unreadable file fails the start with code 1001.

curl drives the `proxy` service (407 without credentials, 403 from the
ACL); http.client reads the admin index page.
"""

import re
import signal
import subprocess

import pytest

from auth_util import CURL
from conftest import BIN_DIR, REPO, free_port, wait_until
from test_admin import admin_get

STRINGS_PLUGIN = BIN_DIR / "StringsPlugin.ld.so"
N_PROXY = 13          # entries of the proxy table (msgtab.h)
N_ADMIN = 7


@pytest.fixture
def plugin():
    if not STRINGS_PLUGIN.is_file():
        pytest.fail("StringsPlugin not built: %s" % STRINGS_PLUGIN)
    if CURL is None:
        pytest.skip("curl is not installed")
    return STRINGS_PLUGIN


def strings_file(path, proxy=None, admin=None):
    """Write a strings file; proxy/admin map entry index -> text (the
    other entries get a placeholder), or are lists used as they are."""
    def section(name, entries, n):
        if isinstance(entries, dict):
            entries = [entries.get(i, "<p>%s %d</p>" % (name, i))
                       for i in range(n)]
        return ("[--%s--]\n" % name + "".join("%s\n[end]\n" % e
                                              for e in entries)
                + "[/--%s--]\n" % name)
    text = "# strings for the tests\n"
    if proxy is not None:
        text += section("proxy", proxy, N_PROXY)
    if admin is not None:
        text += section("admin", admin, N_ADMIN)
    path.write_text(text)
    return path


def curl_body(port, user=None):
    """(HTTP code, body) of a GET through the proxy on port."""
    cmd = [CURL, "-s", "-o", "-", "-w", "\n%{http_code}", "--max-time",
           "15", "--noproxy", "", "-x", "http://127.0.0.1:%d" % port]
    if user:
        cmd += ["--proxy-user", user]
    cmd.append("http://127.0.0.1:%d/" % free_port())
    p = subprocess.run(cmd, capture_output=True, timeout=30)
    body, _, code = p.stdout.rpartition(b"\n")
    return int(code), body


def proxy_cfg(strings, port, aport, with_plugin=True):
    return (("plugin %s start %s\n" % (STRINGS_PLUGIN, strings)
             if with_plugin else "")
            + "internal 127.0.0.1\n"
            "users alice:CL:pw\n"
            "auth strong\n"
            "deny alice\n"
            "proxy -p%d\n"
            "auth iponly\n"
            "allow *\n"
            "admin -p%d\n" % (port, aport))


PROXY_TEXTS = {2: "<h1>Zugriff verweigert</h1>\\n<p>ACL</p>",
               4: "<h1>Anmeldung erforderlich</h1>"}
ADMIN_TEXTS = {4: "<p>Willkommen bei der Verwaltung</p>",
               3: "<footer>Beispiel GmbH</footer></body></html>"}


def test_strings_replace_proxy_and_admin_pages(proxy, plugin, tmp_path):
    f = strings_file(tmp_path / "strings", PROXY_TEXTS, ADMIN_TEXTS)
    port, aport = free_port(), free_port()
    proxy(proxy_cfg(f, port, aport), wait_ports=[port, aport])
    code, body = curl_body(port)
    assert code == 407
    assert body == b"<h1>Anmeldung erforderlich</h1>"
    code, body = curl_body(port, "alice:pw")
    assert code == 403
    # a literal \n in the file is CR LF on the wire
    assert body == b"<h1>Zugriff verweigert</h1>\r\n<p>ACL</p>"
    status, _, page = admin_get(aport, "/")
    assert status == 200
    assert b"<p>Willkommen bei der Verwaltung</p>" in page
    assert page.endswith(b"<footer>Beispiel GmbH</footer></body></html>")
    assert b"3proxy web administration" not in page


def test_reload_without_plugin_restores_texts(proxy, plugin, tmp_path):
    f = strings_file(tmp_path / "strings", PROXY_TEXTS, ADMIN_TEXTS)
    port, aport = free_port(), free_port()
    cfg = tmp_path / "px.cfg"
    cfg.write_text(proxy_cfg(f, port, aport))
    d = proxy(cfg, wait_ports=[port, aport])
    assert curl_body(port)[1] == b"<h1>Anmeldung erforderlich</h1>"
    cfg.write_text(proxy_cfg(f, port, aport, with_plugin=False))
    d.send_signal(signal.SIGUSR1)

    def builtin():
        try:
            return b"Proxy authentication required." in curl_body(port)[1]
        except (OSError, ValueError, subprocess.SubprocessError):
            return False
    wait_until(builtin, 15, what="the built-in 407 page after reload")
    code, body = curl_body(port, "alice:pw")
    assert code == 403 and b"Access control list denies" in body
    _, _, page = admin_get(aport, "/")
    assert b"3proxy web administration" in page
    assert b"Willkommen" not in page


def test_count_mismatch_warns_and_uses_what_is_there(proxy, plugin,
                                                     tmp_path):
    f = strings_file(tmp_path / "strings",
                     ["<p>zero</p>", "<p>one</p>", "<p>two</p>",
                      "<p>three</p>", "<p>vier</p>"])
    port, aport = free_port(), free_port()
    d = proxy(proxy_cfg(f, port, aport), wait_ports=[port, aport])
    d.wait_stderr(r"StringsPlugin: .*strings: 5 proxy strings, the table "
                  r"has %d$" % N_PROXY)
    assert curl_body(port) == (407, b"<p>vier</p>")
    # entry 5 and on keep the built-in text; no admin section: no warning
    assert "admin strings" not in d.stderr_text()


def test_missing_file_fails_start_with_code_1001(run3proxy, plugin,
                                                 tmp_path):
    (tmp_path / "cfg").write_text("plugin %s start %s\n"
                                  % (STRINGS_PLUGIN, tmp_path / "nofile"))
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert re.search(r"StringsPlugin: cannot read .*nofile", r.err), r.err
    assert re.search(r"^cfg:1: .*failed with code 1001$", r.err, re.M), r.err


def test_sample_file_gives_the_builtin_texts(proxy, plugin, tmp_path):
    """cfg/strings.sample lists the built-in tables: loading it changes
    nothing (but LF line ends in the admin pages, which the file format
    turns into CR LF) and warns about nothing.  The counters page is
    compared: the index page shows config line numbers."""
    sample = REPO / "cfg" / "strings.sample"
    port, aport = free_port(), free_port()
    d0 = proxy(proxy_cfg(sample, port, aport, with_plugin=False),
               wait_ports=[port, aport])
    builtin = (curl_body(port), curl_body(port, "alice:pw"),
               admin_get(aport, "/C")[2].replace(b"\r", b""))
    d0.stop()
    d = proxy(proxy_cfg(sample, port, aport), wait_ports=[port, aport])
    assert (curl_body(port), curl_body(port, "alice:pw"),
            admin_get(aport, "/C")[2].replace(b"\r", b"")) == builtin
    assert "StringsPlugin" not in d.stderr_text()
