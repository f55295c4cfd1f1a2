"""LdapPlugin (`plugin ldapauth.ld.so start`, `auth ldap`, plugins.md 5.6,
F-PLUG-08, F-PLUG-02).

The test starts its own slapd on loopback (a temporary mdb database
filled with slapadd, no system service) holding alice and bob, both
with password s3cret; only alice has employeeType internet.  curl drives
the `proxy` service (-U) against a local HTTP origin; each case checks
what the client got and the %E code of the access record (4 no
credentials, 5 wrong, 7 not in the group).

Needs slapd (Debian slapd) and ldapauth.ld.so next to the binary under
test (built only when libldap is found: libldap-dev).
"""

import os
import shutil
import subprocess

import pytest

from auth_util import CURL, LOGFMT, curl_through, record_for
from conftest import BIN_DIR, free_port, wait_listening
from http_util import Origin

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


@pytest.fixture
def slapd(tmp_path):
    """The URI of a slapd that lives for this test only."""
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
    try:
        wait_listening(port, timeout=20)
        yield "ldap://127.0.0.1:%d" % port
    finally:
        p.terminate()
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(10)
        log.close()


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


def test_ldap_quotas_are_refused_at_start(run3proxy, slapd, tmp_path):
    (tmp_path / "cfg").write_text(
        "plugin %s start\nldaptrafgroup internet MONTHLY 1000 0\n"
        % LDAP_PLUGIN)
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert "'ldaptrafgroup' is not supported by this build yet" in r.err
    r = run3proxy(["--check", "cfg"])
    assert r.rc == 0, r
