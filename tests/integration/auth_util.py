"""Helpers shared by the authentication tests (test_radius.py,
test_pamauth.py): curl through a proxy or socks service from a known
local port, and the access record of that client port."""

import re
import shutil
import subprocess

import pytest

from conftest import free_port, wait_until

CURL = shutil.which("curl")

# `%E %U %c`: the code, the user and the client's port of each record
LOGFMT = 'logformat "LREC %E %U %c"\n'
REC_RX = re.compile(r"^REC (\d+) (\S+) (\d+)$", re.M)


def curl_through(kind, port, url, user=None, pw=None):
    """GET url through the `proxy` (kind "proxy") or `socks` service on
    port, from a known local port.  Returns (exit status, HTTP code,
    local port)."""
    if CURL is None:
        pytest.skip("curl is not installed")
    lport = free_port()
    cmd = [CURL, "-s", "-o", "/dev/null", "-w", "%{http_code}",
           "--max-time", "15", "--local-port", str(lport), "--noproxy", ""]
    if kind == "proxy":
        cmd += ["-x", "http://127.0.0.1:%d" % port]
    else:
        cmd += ["--socks5", "127.0.0.1:%d" % port]
    if user is not None:
        cmd += ["--proxy-user", "%s:%s" % (user, pw)]
    cmd.append(url)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout.strip(), lport


def record_for(log, cport):
    """(code, user) of the record of the client port cport (LOGFMT)."""
    def find():
        text = log.read_text() if log.exists() else ""
        for m in REC_RX.finditer(text):
            if int(m.group(3)) == cport:
                return int(m.group(1)), m.group(2)
        return None
    return wait_until(find, 15, what=lambda: "a record for client port %d "
                      "in:\n%s" % (cport, log.read_text()
                                   if log.exists() else ""))
