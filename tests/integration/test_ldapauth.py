"""LdapPlugin (`plugin ldapauth.ld.so start`, `auth ldap`, plugins.md 5.6,
F-PLUG-08, F-PLUG-02).

The test starts its own slapd on loopback (a temporary mdb database
filled with slapadd, no system service) holding alice and bob, both
with password s3cret; only alice has employeeType internet.  curl drives
the `proxy` service (-U) against a local HTTP origin; each case checks
what the client got and the %E code of the access record (4 no
credentials, 5 wrong, 7 not in the group).

ldaptrafgroup / ldapdircount: alice (employeeType internet) is in the
trafgroup, bob is not; downloads through `socks` from a local source
server check the quota (code 10, the relay cut near it), the count file
(also written by a reload), the bandwidth, a reload changing the limit
and an unreachable slapd (code 19 unless the group was known).

Needs slapd (Debian slapd) and ldapauth.ld.so next to the binary under
test (built only when libldap is found: libldap-dev).
"""

import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

from auth_util import CURL, LOGFMT, curl_through, record_for
from conftest import (BIN_DIR, connect, free_port,
                      wait_listening, wait_until)
from http_util import Origin
from socks_util import CMD_CONNECT, socks5_greet, socks5_request

LDAP_PLUGIN = BIN_DIR / "ldapauth.ld.so"
SLAPD = shutil.which("slapd") or "/usr/sbin/slapd"
SLAPADD = shutil.which("slapadd") or "/usr/sbin/slapadd"
SUFFIX = "dc=example,dc=com"
ADMIN_DN = "cn=admin," + SUFFIX

SLAPD_CONF = """include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {dir}/slapd.pid
database mdb
maxsize 16777216
suffix "{suffix}"
rootdn "{admin}"
rootpw admin-pw
directory {dir}/db
"""

DATA = """dn: {suffix}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,{suffix}
objectClass: organizationalUnit
ou: people

dn: uid=alice,ou=people,{suffix}
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: A
employeeType: internet
userPassword: s3cret

dn: uid=bob,ou=people,{suffix}
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: B
employeeType: office
userPassword: s3cret
"""


def refuses(port):
    """True if a connection to 127.0.0.1:port is refused."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


class Slapd:
    """A slapd on loopback: uri, stop()."""

    def __init__(self, proc, port):
        self.proc = proc
        self.port = port
        self.uri = "ldap://127.0.0.1:%d" % port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def slapd_server(tmp_path):
    """A slapd that lives for this test only (or until stop())."""
    if not os.path.exists(SLAPD) or not os.path.exists("/usr/lib/ldap"):
        pytest.skip("slapd is not installed (Debian package slapd)")
    if not LDAP_PLUGIN.is_file():
        pytest.skip("ldapauth.ld.so was not built (no libldap: install "
                    "libldap-dev): %s" % LDAP_PLUGIN)
    if CURL is None:
        pytest.skip("curl is not installed")
    d = tmp_path / "slapd"
    (d / "db").mkdir(parents=True)
    conf = d / "slapd.conf"
    conf.write_text(SLAPD_CONF.format(dir=d, suffix=SUFFIX, admin=ADMIN_DN))
    ldif = d / "data.ldif"
    ldif.write_text(DATA.format(suffix=SUFFIX))
    subprocess.run([SLAPADD, "-q", "-f", str(conf), "-l", str(ldif)],
                   check=True, capture_output=True, timeout=60)
    port = free_port()
    log = open(d / "slapd.log", "w")
    p = subprocess.Popen([SLAPD, "-d", "0", "-f", str(conf), "-h",
                          "ldap://127.0.0.1:%d/" % port],
                         stdout=log, stderr=subprocess.STDOUT)
    server = Slapd(p, port)
    try:
        wait_listening(port, timeout=20)
        yield server
    finally:
        server.stop()
        log.close()


@pytest.fixture
def slapd(slapd_server):
    """The URI of a slapd that lives for this test only."""
    return slapd_server.uri


@pytest.fixture
def origin():
    o = Origin()
    yield o
    o.close()


def ldap_cfg(uri, log, port, extra=""):
    return ("plugin %s start\n" % LDAP_PLUGIN
            + "ldapconnect %s %s admin-pw\n" % (uri, ADMIN_DN)
            + "ldapsbase %s\n" % SUFFIX
            + "ldapuserenv ou=people,%s\n" % SUFFIX
            + extra
            + "log %s\n" % log + LOGFMT
            + "internal 127.0.0.1\n"
            "auth ldap\n"
            "allow *\n"
            "proxy -p%d\n" % port)


def fetch(port, origin, log, user=None, pw=None):
    """(curl exit, HTTP code, (code, user) of the record)."""
    rc, code, lport = curl_through("proxy", port, origin.url("/small"), user, pw)
    return rc, code, record_for(log, lport)


def test_ldap_bind_accepts_and_refuses(proxy, slapd, origin, tmp_path):
    port, log = free_port(), tmp_path / "px.log"
    proxy(ldap_cfg(slapd, log, port), wait_ports=[port])
    _, code, rec = fetch(port, origin, log, "alice", "s3cret")
    assert (code, rec) == ("200", (0, "alice"))
    _, code, rec = fetch(port, origin, log, "alice", "wrong")
    assert (code, rec) == ("407", (5, "alice"))
    _, code, rec = fetch(port, origin, log, "nobody", "s3cret")
    assert (code, rec) == ("407", (5, "nobody"))
    _, code, rec = fetch(port, origin, log)
    assert code == "407" and rec[0] == 4
    # an empty password would be an anonymous bind: refused
    _, code, rec = fetch(port, origin, log, "alice", "")
    assert code == "407" and rec[0] == 4
    # a user name cannot reach another entry through the DN
    _, code, rec = fetch(port, origin, log, "alice,ou=people", "s3cret")
    assert code == "407" and rec[0] == 5


def test_ldap_group_access(proxy, slapd, origin, tmp_path):
    port, log = free_port(), tmp_path / "px.log"
    proxy(ldap_cfg(slapd, log, port, "ldapattr uid employeeType\n"
                   "ldapaccess internet\n"), wait_ports=[port])
    _, code, rec = fetch(port, origin, log, "alice", "s3cret")
    assert (code, rec) == ("200", (0, "alice"))
    _, code, rec = fetch(port, origin, log, "bob", "s3cret")
    assert (code, rec) == ("407", (7, "bob"))
    # a filter wildcard in the user name is a literal
    _, code, rec = fetch(port, origin, log, "*", "s3cret")
    assert code == "407" and rec[0] == 5


def test_ldap_lowercase_names(proxy, slapd, origin, tmp_path):
    port, log = free_port(), tmp_path / "px.log"
    proxy(ldap_cfg(slapd, log, port, "ldapattr uid employeeType 1\n"
                   "ldapaccess internet\n"), wait_ports=[port])
    _, code, rec = fetch(port, origin, log, "ALICE", "s3cret")
    assert code == "200" and rec[0] == 0


def test_ldap_server_down_refuses(proxy, slapd, origin, tmp_path):
    port, log = free_port(), tmp_path / "px.log"
    dead = "ldap://127.0.0.1:%d" % free_port()
    proxy(ldap_cfg(dead, log, port), wait_ports=[port])
    _, code, rec = fetch(port, origin, log, "alice", "s3cret")
    assert (code, rec) == ("407", (5, "alice"))


def test_ldap_commands_need_the_plugin_line(run3proxy, slapd, tmp_path):
    (tmp_path / "cfg").write_text("ldapsbase %s\n" % SUFFIX)
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    (tmp_path / "cfg").write_text("plugin %s start\nldapattr uid bad)attr\n"
                                  % LDAP_PLUGIN)
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert "cfg:2: ldapattr: bad attribute name" in r.err, r.err


# ---- ldaptrafgroup, ldapdircount -------------------------------------------

MB = 1048576


def quota_cfg(uri, log, port, groups, extra=""):
    """socks with `auth cache ldap`: after the first request of a user
    the check is not called, so the quota must hold without it."""
    return ("plugin %s start\n" % LDAP_PLUGIN
            + "ldapconnect %s %s admin-pw\n" % (uri, ADMIN_DN)
            + "ldapsbase %s\n" % SUFFIX
            + "ldapuserenv ou=people,%s\n" % SUFFIX
            + "ldapattr uid employeeType\n"
            + extra + groups
            + "log %s\n" % log + LOGFMT
            + "internal 127.0.0.1\n"
            "authcache user,password 300\n"
            "auth cache ldap\n"
            "allow *\n"
            "socks -p%d\n" % port)


def strong_cfg(uri, log, port, groups, users=("alice", "bob")):
    """quota_cfg with `auth strong` (password s3cret): the plugin's check
    never runs, the stage searches the group itself."""
    return quota_cfg(uri, log, port, groups).replace(
        "auth cache ldap\n",
        "users %s\nauth strong\n"
        % " ".join(u + ":CL:s3cret" for u in users))


def reload_to(d, cfg, text, port):
    """Rewrite cfg, send SIGUSR1 and wait until the new run listens on
    port (one the replaced run did not use)."""
    cfg.write_text(text)
    d.send_signal(signal.SIGUSR1)
    d.wait_listening(port, timeout=20)


def socks_download(port, target, user, log, timeout=60.0):
    """(bytes received, %E of the record, seconds) of one SOCKS5 CONNECT
    to target (a source server) as user (password s3cret)."""
    t0 = time.monotonic()
    s = connect(port)
    try:
        lport = s.getsockname()[1]
        socks5_greet(s, (2,), user, "s3cret")
        rep = socks5_request(s, CMD_CONNECT, "127.0.0.1", target)
        got = 0
        if rep is not None and rep.code == 0:
            s.settimeout(timeout)
            while True:
                b = s.recv(65536)
                if not b:
                    break
                got += len(b)
    except OSError:
        got = -1
    finally:
        s.close()
    took = time.monotonic() - t0
    return got, record_for(log, lport)[0], took


def test_trafgroup_quota_refuses_cuts_and_persists(proxy, slapd,
                                                   source_server, tmp_path):
    port, log = free_port(), tmp_path / "px.log"
    counts = tmp_path / "counts"
    counts.mkdir()
    src = source_server(2 * MB)
    cfg = quota_cfg(slapd, log, port, "ldaptrafgroup internet MONTHLY 1 0\n",
                    "ldapdircount %s/\n" % counts)
    d = proxy(cfg, wait_ports=[port])
    # a non-member is not limited
    got, code, _ = socks_download(port, src.port, "bob", log)
    assert (got, code) == (2 * MB, 0)
    # the member's 2 MB transfer is cut near the 1 MB quota, code 10
    got, code, _ = socks_download(port, src.port, "alice", log)
    assert code == 10
    assert MB - 256 * 1024 <= got <= MB + 256 * 1024, got
    # the quota is used up: the next request is refused (authcache
    # answers for alice now, not the plugin's check)
    got, code, _ = socks_download(port, src.port, "alice", log)
    assert code == 10 and got <= 0
    got, code, _ = socks_download(port, src.port, "bob", log)
    assert (got, code) == (2 * MB, 0)
    # SIGTERM writes the count: "BYTES START"
    assert d.stop() == 0
    lc = counts / "alice.lc"
    assert lc.is_file(), list(counts.iterdir())
    used, start = (int(x) for x in lc.read_text().split())
    assert MB <= used <= MB + 512 * 1024, used
    assert abs(start - time.time()) < 3600 * 24 * 32
    assert not (counts / "bob.lc").exists()
    # after a restart the count is read back: still used up
    proxy(cfg, wait_ports=[port])
    got, code, _ = socks_download(port, src.port, "alice", log)
    assert code == 10 and got <= 0
    got, code, _ = socks_download(port, src.port, "bob", log)
    assert (got, code) == (2 * MB, 0)


def test_trafgroup_counts_in_memory_without_dircount(proxy, slapd,
                                                     source_server,
                                                     tmp_path):
    port, log = free_port(), tmp_path / "px.log"
    src = source_server(600 * 1024)
    proxy(quota_cfg(slapd, log, port,
                    "ldaptrafgroup office DAILY 5 0\n"
                    "ldaptrafgroup internet DAILY 1 0\n"),
          wait_ports=[port])
    # two transfers that each fit; together they cross the quota
    got, code, _ = socks_download(port, src.port, "alice", log)
    assert (got, code) == (600 * 1024, 0)
    got, code, _ = socks_download(port, src.port, "alice", log)
    assert code == 10 and got < 600 * 1024
    got, code, _ = socks_download(port, src.port, "alice", log)
    assert code == 10 and got <= 0
    # bob is in the first group (5 MB): two transfers are fine
    for _ in range(2):
        got, code, _ = socks_download(port, src.port, "bob", log)
        assert (got, code) == (600 * 1024, 0)
    assert not list(tmp_path.glob("*.lc"))


def test_trafgroup_bandwidth(proxy, slapd, source_server, tmp_path):
    port, log = free_port(), tmp_path / "px.log"
    size, bps = 48 * 1024, 96000
    src = source_server(size)
    proxy(quota_cfg(slapd, log, port,
                    "ldaptrafgroup internet WEEKLY 100 %d\n" % bps),
          wait_ports=[port])
    got, code, took = socks_download(port, src.port, "alice", log)
    assert (got, code) == (size, 0)
    # a lower bound only (size * 8 / bps = 4 s), with a generous margin
    assert took >= 0.6 * size * 8 / bps, took
    got, code, _ = socks_download(port, src.port, "bob", log)
    assert (got, code) == (size, 0)


def test_trafgroup_applies_to_other_auth_methods(proxy, slapd,
                                                 source_server, tmp_path):
    """The user authenticated by `auth strong`: the plugin's check never
    ran, so the filter searches the trafgroup itself."""
    port, log = free_port(), tmp_path / "px.log"
    src = source_server(2 * MB)
    proxy(strong_cfg(slapd, log, port, "ldaptrafgroup internet DAILY 1 0\n"),
          wait_ports=[port])
    got, code, _ = socks_download(port, src.port, "alice", log)
    assert code == 10 and got < 2 * MB
    got, code, _ = socks_download(port, src.port, "bob", log)
    assert (got, code) == (2 * MB, 0)


def test_trafgroup_reload_writes_counts(proxy, slapd, source_server,
                                       tmp_path):
    """A reload writes the counts of the run it replaces at once: the
    minute timer (run when the wall-clock minute changes) has not run
    since the transfer when the file appears, and the daemon serves on."""
    log, counts, cfg = tmp_path / "px.log", tmp_path / "counts", \
        tmp_path / "px.cfg"
    counts.mkdir()
    port, port2 = free_port(), free_port()
    src = source_server(600 * 1024)
    groups = "ldaptrafgroup internet MONTHLY 1 0\n"
    extra = "ldapdircount %s/\n" % counts
    cfg.write_text(quota_cfg(slapd, log, port, groups, extra))
    # start early in a minute: at least 20 s before the timer runs again
    if time.time() % 60 > 37:
        time.sleep(60.5 - time.time() % 60)
    next_minute = (time.time() // 60 + 1) * 60
    d = proxy(cfg, wait_ports=[port])
    # the timer also runs on the first main-loop tick (about 1 s)
    time.sleep(3)
    got, code, _ = socks_download(port, src.port, "alice", log)
    assert (got, code) == (600 * 1024, 0)
    lc = counts / "alice.lc"
    assert not lc.exists()
    reload_to(d, cfg, quota_cfg(slapd, log, port2, groups, extra), port2)
    wait_until(lc.exists, max(next_minute - time.time() - 0.5, 0.1),
               what="%s before the minute timer" % lc)
    assert time.time() < next_minute
    used, start = (int(x) for x in lc.read_text().split())
    assert 600 * 1024 <= used <= 600 * 1024 + 64 * 1024, used
    assert abs(start - time.time()) < 3600 * 24 * 32
    assert not (counts / "bob.lc").exists()
    assert d.alive()
    # the count is kept: another 600 KB cross the 1 MB quota
    got, code, _ = socks_download(port2, src.port, "alice", log)
    assert code == 10 and got < 600 * 1024
    got, code, _ = socks_download(port2, src.port, "bob", log)
    assert (got, code) == (600 * 1024, 0)


def test_trafgroup_ldap_unreachable_refuses(proxy, slapd, source_server,
                                            tmp_path):
    """The group search fails and the group was never known: code 19,
    for members and non-members alike (it cannot be told which)."""
    port, log = free_port(), tmp_path / "px.log"
    src = source_server(64 * 1024)
    dead = "ldap://127.0.0.1:%d" % free_port()
    proxy(strong_cfg(dead, log, port, "ldaptrafgroup internet DAILY 1 0\n"),
          wait_ports=[port])
    for user in ("alice", "bob", "alice"):
        got, code, _ = socks_download(port, src.port, user, log)
        assert (code, got <= 0) == (19, True), (user, got, code)


def test_trafgroup_known_group_outlives_ldap_outage(proxy, slapd_server,
                                                    source_server, tmp_path):
    """slapd stops after alice's and bob's groups were found: they keep
    theirs (alice limited, bob not); carol, never searched, gets 19."""
    port, log = free_port(), tmp_path / "px.log"
    src = source_server(600 * 1024)
    proxy(strong_cfg(slapd_server.uri, log, port,
                     "ldaptrafgroup internet DAILY 1 0\n",
                     users=("alice", "bob", "carol")), wait_ports=[port])
    for user in ("alice", "bob"):
        got, code, _ = socks_download(port, src.port, user, log)
        assert (got, code) == (600 * 1024, 0), user
    slapd_server.stop()
    # stop() waited for slapd's exit; its port may keep TIME_WAIT
    # sockets for a minute, so check that nothing accepts there
    wait_until(lambda: refuses(slapd_server.port), 10,
               what="slapd's port to refuse connections")
    got, code, _ = socks_download(port, src.port, "carol", log)
    assert code == 19 and got <= 0
    got, code, _ = socks_download(port, src.port, "alice", log)
    assert code == 10 and got < 600 * 1024
    got, code, _ = socks_download(port, src.port, "alice", log)
    assert code == 10 and got <= 0
    got, code, _ = socks_download(port, src.port, "bob", log)
    assert (got, code) == (600 * 1024, 0)


def test_trafgroup_reload_applies_new_limit_to_count(proxy, slapd,
                                                     source_server,
                                                     tmp_path):
    """A reload keeps alice's count and applies the new limit to it."""
    log, cfg = tmp_path / "px.log", tmp_path / "px.cfg"
    ports = [free_port() for _ in range(3)]
    src = source_server(600 * 1024)

    def limit(mb, port):
        return quota_cfg(slapd, log, port,
                         "ldaptrafgroup internet DAILY %d 0\n" % mb)
    cfg.write_text(limit(1, ports[0]))
    d = proxy(cfg, wait_ports=[ports[0]])
    got, code, _ = socks_download(ports[0], src.port, "alice", log)
    assert (got, code) == (600 * 1024, 0)
    # 2 MB: 1.2 and 1.8 MB counted are past the old limit, not the new
    reload_to(d, cfg, limit(2, ports[1]), ports[1])
    for _ in range(2):
        got, code, _ = socks_download(ports[1], src.port, "alice", log)
        assert (got, code) == (600 * 1024, 0)
    # the count was kept: the next transfer crosses 2 MB
    got, code, _ = socks_download(ports[1], src.port, "alice", log)
    assert code == 10 and got < 600 * 1024
    # back to 1 MB: used up at once; bob is not limited
    reload_to(d, cfg, limit(1, ports[2]), ports[2])
    got, code, _ = socks_download(ports[2], src.port, "alice", log)
    assert code == 10 and got <= 0
    got, code, _ = socks_download(ports[2], src.port, "bob", log)
    assert (got, code) == (600 * 1024, 0)


@pytest.mark.parametrize("lines,line,msg", [
    ("ldapattr uid employeeType\nldaptrafgroup internet YEARLY 1 0\n", 5,
     "ldaptrafgroup: bad period 'YEARLY' (MONTHLY, WEEKLY or DAILY)"),
    ("ldapattr uid employeeType\nldaptrafgroup internet DAILY 0 0\n", 5,
     "ldaptrafgroup: bad limit '0'"),
    ("ldapattr uid employeeType\nldaptrafgroup internet DAILY 1MB 0\n", 5,
     "ldaptrafgroup: bad limit '1MB'"),
    ("ldapattr uid employeeType\nldaptrafgroup internet DAILY 1 100\n", 5,
     "ldaptrafgroup: bad rate '100' (bits per second: 0 or at least 300)"),
    ("ldapattr uid employeeType\nldaptrafgroup internet DAILY 1 x\n", 5,
     "ldaptrafgroup: bad rate 'x'"),
    ("ldaptrafgroup internet DAILY 1 0\nldapattr uid employeeType\n", 4,
     "ldaptrafgroup: ldapattr with a group attribute must come before it"),
    ("ldapdircount /nonexistent/dir/\n", 4,
     "ldapdircount: not a directory"),
])
def test_trafgroup_config_errors(run3proxy, slapd, tmp_path, lines, line,
                                 msg):
    (tmp_path / "cfg").write_text(
        "plugin %s start\nldapconnect %s\nldapsbase %s\n%s"
        % (LDAP_PLUGIN, slapd, SUFFIX, lines))
    r = run3proxy(["cfg"])
    assert r.rc != 0, r
    assert "cfg:%d: %s" % (line, msg) in r.err, r.err


def test_trafgroup_needs_connect_and_base(run3proxy, slapd, tmp_path):
    (tmp_path / "cfg").write_text(
        "plugin %s start\nldapattr uid employeeType\n"
        "ldaptrafgroup internet MONTHLY 1000 0\n" % LDAP_PLUGIN)
    for args in (["cfg"], ["--check", "cfg"]):
        r = run3proxy(args)
        assert r.rc != 0, r
        assert ("cfg:3: ldaptrafgroup: ldapconnect and ldapsbase must come "
                "before it") in r.err, r.err
