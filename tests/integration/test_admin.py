"""admin: the web administration service (services.md 14): pages, Basic
authentication, ACL denial, reload through /R, malformed requests, and
the read-only admin reached by a `parent ... admin 0.0.0.0 0` local
redirection (parent.md 6); switching counters (/CDn, /CSn), writing the
config (/U) and the running services document (/S, /SX)."""

import base64
import http.client
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from conftest import (LOOP4, MiB, connect, free_port, recv_all, recv_exact,
                      recv_stream, wait_listening, wait_record)
from socks_util import socks5_open


def admin_get(port, path, user=None, password=None, timeout=10):
    """GET path with http.client; returns (status, headers, body)."""
    c = http.client.HTTPConnection(LOOP4, port, timeout=timeout)
    try:
        headers = {}
        if user is not None:
            tok = base64.b64encode(("%s:%s" % (user, password)).encode())
            headers["Authorization"] = "Basic " + tok.decode()
        c.request("GET", path, headers=headers)
        r = c.getresponse()
        body = r.read()
        return r.status, r.headers, body
    finally:
        c.close()


def raw_request(port, data, timeout=10):
    """Send raw bytes, read the whole answer; returns (status, answer)."""
    with connect(port, timeout=timeout) as s:
        s.sendall(data)
        ans = recv_all(s, timeout=timeout)
    m = re.match(rb"HTTP/1\.0 (\d{3}) ", ans)
    return (int(m.group(1)) if m else None), ans


def admin_post(port, path, fields, ctype="application/x-www-form-urlencoded",
               timeout=10):
    """POST a form (dict, or raw bytes); returns (status, headers, body)."""
    c = http.client.HTTPConnection(LOOP4, port, timeout=timeout)
    try:
        data = fields if isinstance(fields, bytes) else \
            urllib.parse.urlencode(fields).encode()
        c.request("POST", path, body=data, headers={"Content-Type": ctype})
        r = c.getresponse()
        body = r.read()
        return r.status, r.headers, body
    finally:
        c.close()


def head_cfg(log, body):
    return "log %s\ninternal 127.0.0.1\n%s" % (log, body)


def check_length(headers, body):
    assert int(headers["Content-Length"]) == len(body)


def test_index_page_and_headers(proxy, tmp_path):
    """F-SVC-02: the index page: 200, the fixed headers, a menu, an exact
    Content-Length, and config values HTML-escaped."""
    port = free_port()
    log = tmp_path / "a.log"
    cfgdir = tmp_path / "we<ird>&dir"
    cfgdir.mkdir()
    cfg = cfgdir / "px.cfg"
    cfg.write_text(head_cfg(log, "admin -p%d\n" % port))
    proxy(cfg, wait_ports=[port])
    status, headers, body = admin_get(port, "/")
    assert status == 200
    assert headers["Connection"] == "close"
    assert headers["Cache-Control"] == "no-cache"
    assert headers["Expires"] == "Thu, 01 Dec 1994 16:00:00 GMT"
    assert headers["Content-type"] == "text/html"
    check_length(headers, body)
    assert b'href="/C"' in body and b'href="/R"' in body
    # the service table shows where the line is, escaped
    assert b"we&lt;ird&gt;&amp;dir" in body and b"we<ird>" not in body
    r = wait_record(log, lambda r: r["text"] == "")
    assert r["err"] == "00000"


def test_unknown_page_404(proxy, tmp_path):
    """F-SVC-02: an unknown page is 404 (doc/compat.md)."""
    port = free_port()
    log = tmp_path / "a.log"
    proxy(head_cfg(log, "admin -p%d\n" % port), wait_ports=[port])
    status, headers, body = admin_get(port, "/nosuch<page>")
    assert status == 404
    check_length(headers, body)
    assert b"<page>" not in body
    wait_record(log, lambda r: r["text"] == "nosuch<page>")


def test_counters_page_shows_traffic(proxy, tmp_path, source_server):
    """F-SVC-02, F-LIM-05: the counters page lists a configured counter
    with the value the traffic through a tcppm service added."""
    port, mport = free_port(), free_port()
    src = source_server(3 * MiB)
    log = tmp_path / "a.log"
    cnt = tmp_path / "c.cnt"
    proxy(head_cfg(log, "counter %s\ncountin \"1/web <traffic>\" N 100 *\n"
                   "tcppm %d 127.0.0.1 %d\nadmin -p%d\n"
                   % (cnt, mport, src.port, port)),
          wait_ports=[port, mport])
    with connect(mport, timeout=30) as s:
        n, _ = recv_stream(s)
    assert n == 3 * MiB
    wait_record(log, lambda r: r["port"] == str(mport)
                and r["text"] != "" and "Accepting" not in r["text"])
    status, headers, body = admin_get(port, "/C")
    assert status == 200
    check_length(headers, body)
    text = body.decode()
    assert "1/web &lt;traffic&gt;" in text
    row = re.search(r"<tr><td>countin</td><td>1/web &lt;traffic&gt;</td>"
                    r"<td><a href=\"/CD0\">YES</a></td><td>100 MB</td>"
                    r"<td>([0-9.]+)</td>", text)
    assert row, text
    assert float(row.group(1)) == 3.0


def test_basic_auth(proxy, tmp_path):
    """F-SVC-02, acl-auth.md 8: with users in the ACL, no or wrong
    credentials get 401 with the Basic realm "proxy" (code logged); the
    right password gets the page."""
    port = free_port()
    log = tmp_path / "a.log"
    proxy(head_cfg(log, "users admin:CL:s3cret\nauth strong\n"
                   "allow admin\nadmin -p%d\n" % port), wait_ports=[port])
    status, headers, body = admin_get(port, "/C")
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Basic realm="proxy"'
    check_length(headers, body)
    status, _, body = admin_get(port, "/C", "admin", "s3cret")
    assert status == 200 and b"Counters" in body
    status, headers, _ = admin_get(port, "/C", "admin", "wrong")
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Basic realm="proxy"'
    r = wait_record(log, lambda r: r["user"] == "admin"
                    and r["err"] != "00000")
    assert r["err"] == "00006"
    # urllib follows the 401 challenge with the credentials it is given
    mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    mgr.add_password(None, "http://127.0.0.1:%d/" % port, "admin", "s3cret")
    opener = urllib.request.build_opener(
        urllib.request.HTTPBasicAuthHandler(mgr))
    with opener.open("http://127.0.0.1:%d/C" % port, timeout=10) as resp:
        assert resp.status == 200


def test_acl_deny_is_401(proxy, tmp_path):
    """F-ACL-07, acl-auth.md 8: a deny for ADMIN answers 401, code 1."""
    port = free_port()
    log = tmp_path / "a.log"
    proxy(head_cfg(log, "deny * * * * ADMIN\nallow *\nadmin -p%d\n" % port),
          wait_ports=[port])
    status, headers, _ = admin_get(port, "/")
    assert status == 401
    assert headers["WWW-Authenticate"] == 'Basic realm="proxy"'
    r = wait_record(log, lambda r: r["text"] == "")
    assert r["err"] == "00001"


def test_reload_page_starts_new_listener(proxy, tmp_path):
    """F-SVC-02, cli.md 3: /R schedules the same reload as SIGUSR1: a
    listener added to the config file since start-up comes up."""
    port, port2 = free_port(), free_port()
    log = tmp_path / "a.log"
    cfg = tmp_path / "px.cfg"
    cfg.write_text(head_cfg(log, "admin -p%d\n" % port))
    proxy(cfg, wait_ports=[port])
    status, _, _ = admin_get(port, "/")
    assert status == 200
    with socket.socket() as s:
        assert s.connect_ex((LOOP4, port2)) != 0
    cfg.write_text(head_cfg(log, "admin -p%d\nadmin -p%d\n"
                            % (port, port2)))
    status, headers, body = admin_get(port, "/R")
    assert status == 200 and b"Reload scheduled" in body
    check_length(headers, body)
    wait_listening(port2, timeout=10)
    status, _, _ = admin_get(port2, "/")
    assert status == 200


def test_malformed_requests_400(proxy, tmp_path):
    """F-SVC-02, logging.md 7: not GET/POST (701), no path (702) and an
    overlong head get 400 and their code in the log."""
    port = free_port()
    log = tmp_path / "a.log"
    proxy(head_cfg(log, "admin -p%d\n" % port), wait_ports=[port])
    status, ans = raw_request(port, b"FOO /C HTTP/1.0\r\n\r\n")
    assert status == 400
    wait_record(log, lambda r: r["err"] == "00701")
    status, ans = raw_request(port, b"GET C HTTP/1.0\r\n\r\n")
    assert status == 400
    wait_record(log, lambda r: r["err"] == "00702")
    status, ans = raw_request(port, b"GET /" + b"a" * 20000
                              + b" HTTP/1.0\r\n\r\n")
    assert status == 400
    status, ans = raw_request(port, b"GET /C HTTP/1.0\r\nX: a\x00b\r\n\r\n")
    assert status == 400
    # the service still serves
    assert admin_get(port, "/")[0] == 200


def test_config_page_escaped_without_save(proxy, tmp_path):
    """F-SVC-02, F-CFG-08: /F shows the config escaped; without
    `writable` it has no save button."""
    port = free_port()
    log = tmp_path / "a.log"
    proxy(head_cfg(log, "# <b>&\nadmin -p%d\n" % port), wait_ports=[port])
    status, headers, body = admin_get(port, "/F")
    assert status == 200
    check_length(headers, body)
    assert b"# &lt;b&gt;&amp;" in body and b"<b>" not in body
    assert b'type="submit"' not in body


def counter_value(port, pos):
    """(active word, MB value) of the counter at pos on /C."""
    status, _, body = admin_get(port, "/C")
    assert status == 200
    m = re.search(r'<td><a href="/C[DS]%d">(YES|NO)</a></td><td>[^<]*</td>'
                  r"<td>([0-9.]+)</td>" % pos, body.decode())
    assert m, body
    return m.group(1), float(m.group(2))


def test_counter_switch_off_and_on(proxy, tmp_path, source_server):
    """F-SVC-02, F-LIM-06: /CD0 switches counter 0 off: it limits nothing
    (a download larger than its quota passes whole) but keeps counting
    (limits.md 4.2, 4.3); /CS0 switches it on again: its quota is used up,
    so the next connection is refused with 10.  Bad numbers are 400 /
    404."""
    port, mport = free_port(), free_port()
    src = source_server(3 * MiB)
    log = tmp_path / "a.log"
    proxy(head_cfg(log, "countin 0/sw N 1 *\n"
                   "tcppm %d 127.0.0.1 %d\nadmin -p%d\n"
                   % (mport, src.port, port)), wait_ports=[port, mport])
    status, headers, body = admin_get(port, "/CD0")
    assert status == 200
    check_length(headers, body)
    assert b'<a href="/CS0">NO</a>' in body
    with connect(mport, timeout=30) as s:
        n, _ = recv_stream(s)
    assert n == 3 * MiB
    wait_record(log, lambda r: r["port"] == str(mport)
                and r["err"] == "00000" and "Accepting" not in r["text"])
    active, value = counter_value(port, 0)
    assert active == "NO" and value >= 2.9, (active, value)
    status, _, body = admin_get(port, "/CS0")
    assert status == 200 and b'<a href="/CD0">YES</a>' in body
    with connect(mport, timeout=30) as s:
        got = len(recv_all(s, timeout=10, limit=64 * MiB))
    assert got <= MiB + 65536, got
    wait_record(log, lambda r: r["err"] == "00010")
    active, value = counter_value(port, 0)
    assert active == "YES" and value >= 1.0
    for page, want in (("/CD1", 404), ("/CS99999", 404), ("/CDx", 400),
                       ("/CD", 400), ("/CS-1", 400)):
        status, headers, body = admin_get(port, page)
        assert status == want, page
        check_length(headers, body)


def test_writable_needs_a_writable_file(run3proxy, tmp_path):
    """F-CFG-08, config.md: `writable` reopens the config file for writing
    at once; a file that cannot be (here: `config` names a path in a
    missing directory) fails the configuration with 3proxy's message;
    --check only warns, since the file may exist where the config runs."""
    port = free_port()
    (tmp_path / "cfg").write_text(
        "config %s\nwritable\nadmin -p%d\n"
        % (tmp_path / "no-such-dir" / "x.cfg", port))
    r = run3proxy(["cfg"])
    assert r.rc == 1, r
    assert re.search(r"^cfg:2: Unable to reopen config for writing: "
                     r".*no-such-dir/x\.cfg$", r.err, re.M), r.err
    r = run3proxy(["--check", "cfg"])
    assert r.rc == 0, r
    assert "cfg:2: warning: cannot reopen config for writing" in r.err, r


def test_upload_needs_writable(proxy, tmp_path):
    """F-CFG-08: without `writable` /U is refused (403) and the file is
    left as it was."""
    port = free_port()
    log = tmp_path / "a.log"
    cfg = tmp_path / "px.cfg"
    text = head_cfg(log, "admin -p%d\n" % port)
    cfg.write_text(text)
    proxy(cfg, wait_ports=[port])
    status, headers, body = admin_post(port, "/U", {"conffile": "x\n"})
    assert status == 403
    check_length(headers, body)
    assert b"writable" in body
    assert cfg.read_text() == text


def test_upload_writes_config_and_reload_applies(proxy, tmp_path):
    """F-CFG-08: with `writable`, /F has a save button and a form posted
    to /U replaces the file (URL-decoded, byte for byte) without a
    reload; /R then starts the service the new text adds."""
    port, port2 = free_port(), free_port()
    log = tmp_path / "a.log"
    cfg = tmp_path / "px.cfg"
    cfg.write_text(head_cfg(log, "writable\nadmin -p%d\n" % port))
    cfg.chmod(0o640)
    proxy(cfg, wait_ports=[port])
    status, _, body = admin_get(port, "/F")
    assert status == 200 and b'type="submit"' in body
    new = head_cfg(log, "writable\n# a+b=c&d%%20 <x>\nadmin -p%d\n"
                   "admin -p%d\n" % (port, port2))
    status, headers, body = admin_post(port, "/U", {"conffile": new})
    assert status == 200, body
    check_length(headers, body)
    assert cfg.read_text() == new
    assert cfg.stat().st_mode & 0o777 == 0o640
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".new")]
    with socket.socket() as s:
        assert s.connect_ex((LOOP4, port2)) != 0
    assert admin_get(port, "/R")[0] == 200
    wait_listening(port2, timeout=10)
    assert admin_get(port2, "/")[0] == 200
    # a form without the field, a bad escape, no length: refused
    assert admin_post(port, "/U", {"other": "1"})[0] == 400
    assert admin_post(port, "/U", b"conffile=%zz")[0] == 400
    status, _ = raw_request(port, b"POST /U HTTP/1.0\r\n\r\n")
    assert status == 411
    status, _ = raw_request(port, b"POST /U HTTP/1.0\r\n"
                            b"Content-Length: 2000000\r\n\r\n")
    assert status == 413
    assert cfg.read_text() == new


def test_services_document(proxy, tmp_path, echo_server):
    """F-SVC-02: /S is XML (text/xml, stylesheet /SX) listing the
    running services and their connected clients, with the client's
    address and target; /SX is the CSS."""
    port, mport = free_port(), free_port()
    log = tmp_path / "a.log"
    proxy(head_cfg(log, "tcppm %d 127.0.0.1 %d\nadmin -p%d\n"
                   % (mport, echo_server.port, port)),
          wait_ports=[port, mport])
    with connect(mport) as s:
        s.sendall(b"ping")
        assert recv_exact(s, 4) == b"ping"
        status, headers, body = admin_get(port, "/S")
        me = "%s:%d" % s.getsockname()[:2]
    assert status == 200
    assert headers["Content-type"] == "text/xml"
    check_length(headers, body)
    assert b'<?xml-stylesheet href="/SX" type="text/css"?>' in body
    root = ET.fromstring(body)
    assert root.tag == "services"
    svcs = {x.findtext("name"): x for x in root.findall("service")}
    tp = svcs["TCPPM"]
    assert tp.findtext("command") == "tcppm"
    assert tp.findtext("listen") == "127.0.0.1:%d" % mport
    clients = tp.findall("clients/client")
    assert tp.findtext("nclients") == str(len(clients))
    mine = [c for c in clients if c.findtext("peer") == me]
    assert len(mine) == 1, body
    assert mine[0].findtext("target") == "127.0.0.1:%d" % echo_server.port
    # the admin request itself is a client of the admin service
    assert svcs["ADMIN"].findtext("nclients") == "1"
    # closed clients leave the list
    wait_record(log, lambda r: r["port"] == str(mport)
                and "Accepting" not in r["text"])
    root = ET.fromstring(admin_get(port, "/S")[2])
    tp = [x for x in root.findall("service") if x.findtext("name") ==
          "TCPPM"][0]
    assert tp.findall("clients/client") == []
    status, headers, body = admin_get(port, "/SX")
    assert status == 200
    assert headers["Content-type"] == "text/css"
    check_length(headers, body)
    assert b"services" in body


def test_services_document_user_escaped(proxy, tmp_path, echo_server):
    """F-SVC-02: a SOCKS client's user name is listed, XML-escaped."""
    port, sport = free_port(), free_port()
    log = tmp_path / "a.log"
    proxy(head_cfg(log, "users \"a<&>b:CL:pw\"\nauth strong\n"
                   "allow a<&>b\n"
                   "socks -p%d\nadmin -p%d\n" % (sport, port)),
          wait_ports=[port, sport])
    s, rep = socks5_open(sport, LOOP4, echo_server.port, methods=(2,),
                         user="a<&>b", password="pw")
    with s:
        assert rep.code == 0
        s.sendall(b"ping")
        assert recv_exact(s, 4) == b"ping"
        body = admin_get(port, "/S", "a<&>b", "pw")[2]
    assert b"a&lt;&amp;&gt;b" in body
    root = ET.fromstring(body)
    users = [c.findtext("user") for c in root.iter("client")]
    assert "a<&>b" in users, body


def test_readonly_option(proxy, tmp_path):
    """F-SVC-03: admin -s serves the counters page; state-changing pages
    are refused (403) and no reload happens."""
    port = free_port()
    log = tmp_path / "a.log"
    proxy(head_cfg(log, "admin -s -p%d\n" % port), wait_ports=[port])
    status, _, body = admin_get(port, "/C")
    assert status == 200 and b"/CD" not in body
    for page in ("/R", "/F", "/U", "/CD0", "/CS0", "/S", "/SX"):
        assert admin_get(port, page)[0] == 403, page
    assert admin_post(port, "/U", {"conffile": "x"})[0] == 403


def test_local_redirection_to_readonly_admin(proxy, tmp_path):
    """F-PAR-06, F-SVC-03: `parent 1000 admin 0.0.0.0 0` from socks hands
    the stream to the read-only admin: counters are served, /R is
    refused, and the request is authorized again (second allow)."""
    port, fake = free_port(), free_port()
    log = tmp_path / "a.log"
    proxy(head_cfg(log, "countin 0/seen N 10 *\n"
                   "allow * * * %d CONNECT\nparent 1000 admin 0.0.0.0 0\n"
                   "allow * * * * ADMIN\nsocks -p%d\n" % (fake, port)),
          wait_ports=[port])
    for page, want in ((b"/C", 200), (b"/R", 403), (b"/F", 403)):
        s, rep = socks5_open(port, LOOP4, fake)
        with s:
            assert rep.code == 0
            s.sendall(b"GET " + page + b" HTTP/1.0\r\n\r\n")
            ans = recv_all(s)
        assert ans.startswith(b"HTTP/1.0 %d " % want), ans[:200]
        if want == 200:
            assert b"0/seen" in ans
    r = wait_record(log, lambda r: r["text"] == "R")
    assert r["hops"] == "1"


def test_local_redirection_from_http_connect(proxy, tmp_path):
    """F-PAR-06, F-SVC-03: an HTTP CONNECT redirected to admin gets the
    read-only counters page inside the tunnel; /R is refused."""
    port, fake = free_port(), free_port()
    log = tmp_path / "a.log"
    proxy(head_cfg(log, "allow * * * %d HTTP_CONNECT\n"
                   "parent 1000 admin 0.0.0.0 0\n"
                   "allow * * * * ADMIN\nproxy -p%d\n" % (fake, port)),
          wait_ports=[port])
    for page, want in ((b"/C", 200), (b"/R", 403)):
        with connect(port) as s:
            s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\n"
                      b"Host: 127.0.0.1:%d\r\n\r\n" % (fake, fake))
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(1)
                assert chunk, head
                head += chunk
            assert head.startswith(b"HTTP/1.0 200"), head
            s.sendall(b"GET " + page + b" HTTP/1.0\r\n\r\n")
            ans = recv_all(s)
        assert ans.startswith(b"HTTP/1.0 %d " % want), ans[:300]


def test_redirected_connect_keeps_bytes_sent_with_the_head(proxy, tmp_path):
    """F-PAR-06: a client that sends its first request in the same write
    as the CONNECT head (no wait for the 200) still has it read by the
    parser the tunnel is redirected to."""
    port, fake = free_port(), free_port()
    log = tmp_path / "a.log"
    proxy(head_cfg(log, "allow * * * %d HTTP_CONNECT\n"
                   "parent 1000 admin 0.0.0.0 0\n"
                   "allow * * * * ADMIN\nproxy -p%d\n" % (fake, port)),
          wait_ports=[port])
    with connect(port) as s:
        s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\n"
                  b"Host: 127.0.0.1:%d\r\n\r\nGET /C HTTP/1.0\r\n\r\n"
                  % (fake, fake))
        ans = recv_all(s)
    assert ans.startswith(b"HTTP/1.0 200"), ans[:300]
    tunnel = ans.split(b"\r\n\r\n", 1)[1]
    assert tunnel.startswith(b"HTTP/1.0 200 "), ans[:300]
