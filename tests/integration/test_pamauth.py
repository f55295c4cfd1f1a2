"""The PamAuth plugin (`plugin pamauth.ld.so start SERVICE`, `auth pam`).

A throw-away PAM service /etc/pam.d/px-test-<random> runs pam_exec with
expose_authtok: its script gets the password on standard input and the
user in PAM_USER, and accepts only alice/s3cret.  curl drives the `proxy`
(HTTP, -U) and `socks` (SOCKS5 user/password) services against a local
HTTP origin; each case checks what the client got and the %E code of the
access record (4 = no credentials, 5 = wrong, plugins.md 5.5).

Needs root (to write /etc/pam.d) and pamauth.ld.so next to the binary
under test (built only when the PAM headers, libpam0g-dev, are found).

Features: F-PLUG-07 (PamAuth), F-PLUG-02 (plugin auth types), F-AUTH-07
(`authcache` in front of a plugin type).
"""

import os
import secrets
import signal

import pytest

from auth_util import CURL, LOGFMT, curl_through, record_for
from conftest import BIN_DIR, free_port, is_listening, wait_until
from http_util import Origin

PAM_PLUGIN = BIN_DIR / "pamauth.ld.so"
PAM_DIR = "/etc/pam.d"

ACCEPT = """#!/bin/bash
# pam_exec expose_authtok: the password on stdin, NUL-terminated
IFS= read -r -d '' pw || true
[ "$PAM_USER" = alice ] && [ "$pw" = s3cret ] && exit 0
exit 1
"""
REFUSE = "#!/bin/bash\nexit 1\n"


@pytest.fixture
def pam_service(tmp_path, request):
    """(service name, check script path): a PAM service that exists for
    this test only.  The file under /etc/pam.d is always removed."""
    if os.geteuid() != 0:
        pytest.skip("needs root to write a PAM service in /etc/pam.d")
    if not PAM_PLUGIN.is_file():
        pytest.skip("pamauth.ld.so was not built (no PAM headers: "
                    "install libpam0g-dev): %s" % PAM_PLUGIN)
    if CURL is None:
        pytest.skip("curl is not installed")
    tmp_path.chmod(0o755)
    script = tmp_path / "check.sh"
    script.write_text(ACCEPT)
    script.chmod(0o755)
    name = "px-test-" + secrets.token_hex(6)
    path = os.path.join(PAM_DIR, name)
    request.addfinalizer(lambda: os.path.exists(path) and os.unlink(path))
    with open(path, "w") as f:
        f.write("auth    required pam_exec.so expose_authtok quiet %s\n"
                "account required pam_permit.so\n" % script)
    return name, script


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


def start(proxy, tmp_path, service, head="", methods="pam"):
    """One daemon with a `proxy` and a `socks` service; returns
    (http port, socks port, log)."""
    hport, sport = free_port(), free_port()
    log = tmp_path / "px.log"
    cfg = ("log %s\n%splugin %s start %s\ninternal 127.0.0.1\n%s"
           "auth %s\nallow *\nproxy -p%d\nsocks -p%d\n"
           % (log, LOGFMT, PAM_PLUGIN, service, head, methods, hport,
              sport))
    path = tmp_path / "px.cfg"
    path.write_text(cfg)
    d = proxy(path)
    wait_until(lambda: not d.alive() or (is_listening(hport) and
                                          is_listening(sport)), 15,
               what="the daemon to listen")
    if not d.alive():
        pytest.fail("3proxy exited:\n" + d.stderr_text())
    start.daemon = d
    return hport, sport, log






def fetch(kind, port, origin, user=None, pw=None):
    """curl through the service: (exit status, HTTP code, local port)."""
    return curl_through(kind, port, origin.url("/small"), user, pw)


def test_http_proxy(proxy, tmp_path, pam_service, origin):
    """Right password -> 200 (%E 0); wrong -> 407 (%E 5); none -> 407
    (%E 4)."""
    hport, _, log = start(proxy, tmp_path, pam_service[0])

    rc, code, lport = fetch("proxy", hport, origin, "alice", "s3cret")
    assert rc == 0 and code == "200", (rc, code)
    assert record_for(log, lport) == (0, "alice")

    rc, code, lport = fetch("proxy", hport, origin, "alice", "wrong")
    assert code == "407", (rc, code)
    assert record_for(log, lport) == (5, "alice")

    rc, code, lport = fetch("proxy", hport, origin, "bob", "s3cret")
    assert code == "407", (rc, code)
    assert record_for(log, lport) == (5, "bob")

    rc, code, lport = fetch("proxy", hport, origin)
    assert code == "407", (rc, code)
    assert record_for(log, lport)[0] == 4
    assert origin.accepted == 1


def test_socks5(proxy, tmp_path, pam_service, origin):
    """SOCKS5 user/password: right -> connected, wrong -> refused (%E 5)."""
    _, sport, log = start(proxy, tmp_path, pam_service[0])

    rc, code, lport = fetch("socks", sport, origin, "alice", "s3cret")
    assert rc == 0 and code == "200", (rc, code)
    assert record_for(log, lport) == (0, "alice")

    rc, code, lport = fetch("socks", sport, origin, "alice", "nope")
    assert rc != 0, (rc, code)
    assert record_for(log, lport) == (5, "alice")
    assert origin.accepted == 1


def test_cache_in_front(proxy, tmp_path, pam_service, origin):
    """`authcache user,password 60` + `auth cache pam`: once PAM accepted
    alice, she gets in from the cache after PAM stops accepting anyone;
    a password never accepted still fails."""
    service, script = pam_service
    hport, _, log = start(proxy, tmp_path, service,
                          head="authcache user,password 60\n",
                          methods="cache pam")
    rc, code, lport = fetch("proxy", hport, origin, "alice", "s3cret")
    assert rc == 0 and code == "200", (rc, code)
    assert record_for(log, lport) == (0, "alice")

    script.write_text(REFUSE)
    rc, code, lport = fetch("proxy", hport, origin, "alice", "s3cret")
    assert rc == 0 and code == "200", (rc, code)
    assert record_for(log, lport) == (0, "alice")

    rc, code, lport = fetch("proxy", hport, origin, "alice", "other")
    assert code == "407", (rc, code)
    assert record_for(log, lport) == (5, "alice")


def test_reload_registers_again(proxy, tmp_path, pam_service, origin):
    """A reload starts without plugin auth types; the plugin line of the
    new config registers `pam` again (and may name another service)."""
    service, _ = pam_service
    hport, _, log = start(proxy, tmp_path, service)
    d = start.daemon
    cfg = tmp_path / "px.cfg"
    cfg.write_text(cfg.read_text().replace(service, service + "-gone"))
    d.send_signal(signal.SIGUSR1)
    # the missing service: PAM refuses everyone
    wait_until(lambda: fetch("proxy", hport, origin, "alice",
                             "s3cret")[1] == "407", 10,
               what="the reloaded config (missing service) to refuse")
    cfg.write_text(cfg.read_text().replace(service + "-gone", service))
    d.send_signal(signal.SIGUSR1)
    wait_until(lambda: fetch("proxy", hport, origin, "alice",
                             "s3cret")[1] == "200", 10,
               what="the reloaded config to accept alice again")
    assert d.alive()


def test_pam_unknown_without_plugin(run3proxy, tmp_path):
    """Before the plugin line, `pam` is no authentication type."""
    (tmp_path / "cfg").write_text("internal 127.0.0.1\nauth pam\n")
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert "unknown authentication type 'pam'" in r.err, r.err
