"""admin: the web administration service (services.md 14): pages, Basic
authentication, ACL denial, reload through /R, malformed requests, and
the read-only admin reached by a `parent ... admin 0.0.0.0 0` local
redirection (parent.md 6)."""

import base64
import http.client
import re
import socket
import urllib.error
import urllib.request

from conftest import (LOOP4, MiB, connect, free_port, recv_all, recv_stream,
                      wait_listening, wait_record)
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
                    r"<td>YES</td><td>100 MB</td><td>([0-9.]+)</td>", text)
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


def test_state_pages_refused_or_not_implemented(proxy, tmp_path):
    """F-SVC-02, F-LIM-10, F-CFG-08: pages this build does not implement
    say so (501); /F shows the config escaped."""
    port = free_port()
    log = tmp_path / "a.log"
    proxy(head_cfg(log, "# <b>&\nadmin -p%d\n" % port), wait_ports=[port])
    for page in ("/S", "/U", "/CD0", "/CS0"):
        assert admin_get(port, page)[0] == 501, page
    status, headers, body = admin_get(port, "/F")
    assert status == 200
    check_length(headers, body)
    assert b"# &lt;b&gt;&amp;" in body and b"<b>" not in body


def test_readonly_option(proxy, tmp_path):
    """F-SVC-03: admin -s serves the counters page; state-changing pages
    are refused (403) and no reload happens."""
    port = free_port()
    log = tmp_path / "a.log"
    proxy(head_cfg(log, "admin -s -p%d\n" % port), wait_ports=[port])
    assert admin_get(port, "/C")[0] == 200
    for page in ("/R", "/F", "/U", "/CD0"):
        assert admin_get(port, page)[0] == 403, page


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
