"""Beyond the original 3proxy: the admin /metrics page (Prometheus text
exposition format 0.0.4) and /health, and `logformat json` (one JSON
object per access record).

/metrics is parsed line by line: every line is a HELP/TYPE comment or a
sample of a family announced before it; label values are unescaped.
Counts are checked against the connections the test made, and bytes
against the access records of the same connections."""

import base64
import http.client
import json
import re
import signal
import socket

from conftest import (LOOP4, connect, free_port, recv_exact, wait_record,
                      wait_until)
from http_util import Origin, raw_request
from socks_util import socks5_open
from test_admin import admin_get

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9]+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def unescape(v):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n"
                  else m.group(1), v)


def parse_metrics(text):
    """{(name, ((label, value), ...)): int}; asserts the format."""
    types, out = {}, {}
    assert text.endswith("\n")
    for line in text[:-1].split("\n"):
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ")
            assert typ in ("counter", "gauge")
            assert name not in types, "family announced twice: " + name
            types[name] = typ
            continue
        m = SAMPLE.match(line)
        assert m, "not a sample line: %r" % line
        name = m.group(1)
        assert name in types, "sample before its TYPE: " + line
        labels = []
        if m.group(3):
            rest = m.group(3)
            while rest:
                lm = LABEL.match(rest)
                assert lm, "bad labels: %r" % line
                labels.append((lm.group(1), unescape(lm.group(2))))
                rest = rest[lm.end():]
        key = (name, tuple(sorted(labels)))
        assert key not in out, "duplicate series: " + line
        out[key] = int(m.group(4))
    return out


def scrape(port, user=None, password=None):
    status, headers, body = admin_get(port, "/metrics", user, password)
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse_metrics(body.decode("utf-8"))


def scrape_quiet(port):
    """A scrape that may meet a reload: the admin listener is closed and
    bound again, so a connection in the old backlog is reset."""
    try:
        return scrape(port)
    except (OSError, http.client.HTTPException):
        return {}


def svc(m, name, service, port, **extra):
    labels = dict(service=service, listen="127.0.0.1:%d" % port, **extra)
    return m.get(("threeproxy_service_" + name,
                  tuple(sorted(labels.items()))))


def test_metrics_count_proxy_and_socks_traffic(proxy, tmp_path,
                                               echo_server):
    """/metrics: connections, results and bytes per service go up by
    exactly what the test did through `proxy` and `socks`, and the bytes
    equal the sums of the access records; the active gauge shows an
    open tunnel."""
    ap, pp, sp = free_port(), free_port(), free_port()
    log = tmp_path / "a.log"
    origin = Origin()
    try:
        proxy("log %s\nlogformat \"L%%N %%p %%E %%I %%O %%T\"\n"
              "internal 127.0.0.1\nadmin -p%d\nproxy -p%d\nsocks -p%d\n"
              % (log, ap, pp, sp), wait_ports=[ap, pp, sp])
        m0 = scrape(ap)
        assert svc(m0, "connections_total", "PROXY", pp) == 0
        assert svc(m0, "connections_total", "SOCKS", sp) == 0
        for i in range(3):
            st, _, _, _ = raw_request(pp, (
                "GET %s HTTP/1.0\r\n\r\n" % origin.url("/a%d" % i)).encode())
            assert st is not None
        s, rep = socks5_open(sp, LOOP4, echo_server.port)
        assert rep.code == 0
        s.sendall(b"x" * 1000)
        assert recv_exact(s, 1000) == b"x" * 1000
        m1 = scrape(ap)
        assert svc(m1, "connections_active", "SOCKS", sp) == 1
        assert svc(m1, "connections_total", "SOCKS", sp) == 1
        s.close()
        wait_until(lambda: svc(scrape(ap), "connections_active", "SOCKS",
                               sp) == 0, 10, what="socks tunnel closed")
        # the records of the connections, not the listener messages
        def records():
            return [ln for ln in log.read_text().splitlines()
                    if "Accepting connections" not in ln and
                    "Exiting thread" not in ln]
        wait_until(lambda: len([r for r in records()
                                if r.startswith("SOCK")]) == 1 and
                   len([r for r in records() if r.startswith("PROXY")]) == 3,
                   10, what="records")
        recs = records()
        m2 = scrape(ap)
        assert svc(m2, "connections_total", "PROXY", pp) == 3
        assert svc(m2, "connections_total", "SOCKS", sp) == 1
        assert svc(m2, "connections_active", "PROXY", pp) == 0
        fin = lambda n, p, r: svc(m2, "connections_finished_total", n, p,
                                  result=r)
        assert fin("PROXY", pp, "ok") + fin("PROXY", pp, "error") == 3
        assert fin("SOCKS", sp, "ok") + fin("SOCKS", sp, "error") == 1
        for name, port, pref in (("PROXY", pp, "PROXY"),
                                 ("SOCKS", sp, "SOCK")):
            rows = [r.split() for r in recs if r.startswith(pref)]
            errs = sum(1 for r in rows if int(r[2]) != 0)
            assert fin(name, port, "error") == errs
            assert svc(m2, "bytes_in_total", name, port) == \
                sum(int(r[3]) for r in rows)
            assert svc(m2, "bytes_out_total", name, port) == \
                sum(int(r[4]) for r in rows)
        assert svc(m2, "bytes_out_total", "SOCKS", sp) >= 1000
        assert svc(m2, "bytes_in_total", "SOCKS", sp) >= 1000
        # the admin service counts the scrapes themselves
        assert svc(m2, "connections_total", "ADMIN", ap) >= 4
        assert m2[("threeproxy_config_reloads_total",
                   (("result", "ok"),))] == 0
        assert m2[("threeproxy_start_time_seconds", ())] > 1700000000
    finally:
        origin.close()


def test_metrics_counter_values(proxy, tmp_path, echo_server):
    """/metrics lists each count* rule's value and limit, with its
    comment as an escaped label."""
    ap, sp = free_port(), free_port()
    cf = tmp_path / "traf.counters"
    proxy("internal 127.0.0.1\ncounter %s\n"
          "countall \"1/we\"\"i\\rd\" D 100 * * * *\n"
          "admin -p%d\nsocks -p%d\n" % (cf, ap, sp), wait_ports=[ap, sp])
    s, rep = socks5_open(sp, LOOP4, echo_server.port)
    s.sendall(b"y" * 500)
    assert recv_exact(s, 500) == b"y" * 500
    s.close()

    def value():
        m = scrape(ap)
        for (name, labels), v in m.items():
            if name == "threeproxy_counter_bytes":
                return dict(labels), v, m
        return None, None, m
    wait_until(lambda: (value()[1] or 0) >= 500, 10, what="counter")
    labels, v, m = value()
    assert labels["number"] == "1" and labels["rule"] == "countall"
    assert labels["position"] == "0"
    assert labels["comment"] == 'we"i\\rd'
    lim = [v for (n, _), v in m.items() if n == "threeproxy_counter_limit_bytes"]
    assert lim == [100 * 1024 * 1024]


def test_health_page(proxy, tmp_path):
    """/health answers 200 "ok\\n" as text/plain; a query string is
    ignored."""
    ap = free_port()
    proxy("internal 127.0.0.1\nadmin -p%d\n" % ap, wait_ports=[ap])
    for path in ("/health", "/health?probe=1"):
        status, headers, body = admin_get(ap, path)
        assert status == 200
        assert body == b"ok\n"
        assert headers["Content-Type"] == "text/plain"
    assert admin_get(ap, "/healthz")[0] == 404


def test_metrics_need_admin_authentication(proxy, tmp_path):
    """/metrics and /health go through the admin service's auth and ACL
    like every other page."""
    ap = free_port()
    proxy("internal 127.0.0.1\nusers boss:CL:s3cret\nauth strong\n"
          "allow boss\nadmin -p%d\n" % ap, wait_ports=[ap])
    for path in ("/metrics", "/health"):
        status, headers, _ = admin_get(ap, path)
        assert status == 401
        assert "Basic" in headers["WWW-Authenticate"]
        assert admin_get(ap, path, "boss", "wrong")[0] == 401
        assert admin_get(ap, path, "boss", "s3cret")[0] == 200
    m = scrape(ap, "boss", "s3cret")
    assert svc(m, "connections_total", "ADMIN", ap) >= 7


def test_metrics_refused_on_read_only_admin(proxy, tmp_path):
    """`admin -s` shows only the requester's counters, so /metrics (every
    service and counter) is refused there; /health still answers."""
    ap = free_port()
    proxy("internal 127.0.0.1\nadmin -s -p%d\n" % ap, wait_ports=[ap])
    assert admin_get(ap, "/metrics")[0] == 403
    status, _, body = admin_get(ap, "/health")
    assert (status, body) == (200, b"ok\n")


def test_metrics_across_reload(proxy, tmp_path, echo_server):
    """A reload keeps the numbers of a service line with the same name
    and address; a line that is gone is no longer listed; reloads are
    counted by result."""
    ap, sp, sp2 = free_port(), free_port(), free_port()
    cfg = tmp_path / "px.cfg"
    base = "internal 127.0.0.1\nadmin -p%d\n" % ap
    cfg.write_text(base + "socks -p%d\n" % sp)
    d = proxy(cfg, wait_ports=[ap, sp])

    def tunnel(port):
        s, rep = socks5_open(port, LOOP4, echo_server.port)
        assert rep.code == 0
        s.sendall(b"z")
        assert recv_exact(s, 1) == b"z"
        s.close()
    tunnel(sp)
    tunnel(sp)
    wait_until(lambda: svc(scrape_quiet(ap), "connections_active", "SOCKS",
                           sp) == 0, 10, what="tunnels closed")
    cfg.write_text(base + "socks -p%d\nsocks -p%d\n" % (sp, sp2))
    d.send_signal(signal.SIGUSR1)
    d.wait_listening(sp2)
    wait_until(lambda: scrape_quiet(ap).get(("threeproxy_config_reloads_total",
                                       (("result", "ok"),))) == 1, 10,
               what="reload counted")
    tunnel(sp)
    tunnel(sp2)
    wait_until(lambda: svc(scrape_quiet(ap), "connections_active", "SOCKS",
                           sp) == 0, 10, what="tunnel closed")
    m = scrape(ap)
    assert svc(m, "connections_total", "SOCKS", sp) == 3
    assert svc(m, "connections_total", "SOCKS", sp2) == 1
    # a broken config: the old one stays, the failure is counted
    cfg.write_text(base + "socks -p%d\nnosuchcommand\n" % sp)
    d.send_signal(signal.SIGUSR1)
    wait_until(lambda: scrape_quiet(ap).get(("threeproxy_config_reloads_total",
                                       (("result", "error"),))) == 1, 10,
               what="failed reload counted")
    cfg.write_text(base + "socks -p%d\n" % sp)
    d.send_signal(signal.SIGUSR1)
    wait_until(lambda: scrape_quiet(ap).get(("threeproxy_config_reloads_total",
                                             (("result", "ok"),))) == 2,
               10, what="second reload counted")
    wait_until(lambda: svc(scrape_quiet(ap), "connections_total", "SOCKS",
                           sp) == 3, 10, what="socks listed")
    m = scrape(ap)
    assert svc(m, "connections_total", "SOCKS", sp) == 3
    assert svc(m, "connections_total", "SOCKS", sp2) is None


def json_records(path):
    if not path.exists():
        return []
    lines = path.read_bytes().split(b"\n")
    # each complete line is one object; the text is valid UTF-8
    return [json.loads(ln.decode("utf-8")) for ln in lines[:-1]]


def test_json_log_records(proxy, tmp_path, echo_server):
    """`logformat json`: one JSON object per record, with the documented
    fields, for an HTTP request, a SOCKS tunnel with a user, and a
    request line carrying quotes, a backslash, control bytes and invalid
    UTF-8."""
    pp, sp = free_port(), free_port()
    log = tmp_path / "j.log"
    origin = Origin()
    try:
        proxy("log %s\nlogformat json\ninternal 127.0.0.1\n"
              "users \"we\"\"ird:CL:pw\"\nauth strong\nallow *\n"
              "proxy -p%d -a\nsocks -p%d\n" % (log, pp, sp),
              wait_ports=[pp, sp])
        url = origin.url("/small")
        tok = base64.b64encode(b'we"ird:pw').decode()
        st, _, _, _ = raw_request(pp, ("GET %s HTTP/1.0\r\nProxy-"
                                       "Authorization: Basic %s\r\n\r\n"
                                       % (url, tok)).encode())
        assert st == 200
        s, rep = socks5_open(sp, LOOP4, echo_server.port, methods=(2,),
                             user='we"ird', password="pw")
        assert rep.code == 0
        s.sendall(b"q" * 300)
        assert recv_exact(s, 300) == b"q" * 300
        s.close()
        hostile = (b'GET http://127.0.0.1:%d/a"b\\c\x01\x1b[2J\xff\xc3('
                   b' HTTP/1.0\r\n\r\n' % origin.port)
        with connect(pp) as c:
            c.sendall(hostile)
            c.settimeout(10)
            try:
                while c.recv(65536):
                    pass
            except (socket.timeout, ConnectionResetError):
                pass
        def all_three():
            rs = json_records(log)
            return (any(r["service"] == "SOCK5" for r in rs) and
                    any('a"b' in (r["request"] or "") for r in rs) and
                    any((r["request"] or "").startswith("GET %s" % url)
                        for r in rs))
        # records are written as connections end, in any order
        wait_until(all_three, 10, what="the HTTP, SOCKS and hostile "
                   "records")
        recs = json_records(log)
        for r in recs:
            assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$",
                            r["time"])
            for k in ("service", "port", "code", "client_ip",
                      "client_port", "server_ip", "server_port",
                      "target_host", "target_port", "bytes_in",
                      "bytes_out", "duration_ms", "user", "request"):
                assert k in r
        http_rec = [r for r in recs if r["service"] == "PROXY" and
                    r["request"].startswith("GET %s" % url)]
        assert http_rec and http_rec[0]["code"] == 0
        assert http_rec[0]["user"] == 'we"ird'
        assert http_rec[0]["client_ip"] == "127.0.0.1"
        assert http_rec[0]["server_port"] == origin.port
        assert http_rec[0]["bytes_in"] > 0
        socks_rec = [r for r in recs if r["service"] == "SOCK5"]
        assert socks_rec[0]["user"] == 'we"ird'
        assert socks_rec[0]["bytes_out"] == 300
        assert socks_rec[0]["bytes_in"] == 300
        assert socks_rec[0]["target_port"] == echo_server.port
        bad = [r for r in recs if 'a"b' in r["request"]]
        assert len(bad) == 1, recs
        # the HTTP parser itself turns control bytes into '?'
        assert re.search('a"b\\\\c..\\[2J\ufffd\ufffd\\(',
                         bad[0]["request"]), bad[0]["request"]
        # a SOCKS5 user name reaches the record as sent
        bad_user = b'ev"il\\\x01\n\x7f\xff\xe2\x82\xac'
        s = connect(sp)
        try:
            s.sendall(b"\x05\x01\x02")
            assert recv_exact(s, 2) == b"\x05\x02"
            s.sendall(b"\x01" + bytes([len(bad_user)]) + bad_user +
                      b"\x02pw")
            s.settimeout(10)
            s.recv(512)
        finally:
            s.close()
        wait_until(lambda: any(r["user"] and r["user"].startswith("ev")
                               for r in json_records(log)), 10,
                   what="the SOCKS record of the bad user")
        urec = [r for r in json_records(log)
                if r["user"] and r["user"].startswith("ev")]
        assert len(urec) == 1
        assert urec[0]["user"] == 'ev"il\\\x01\n\x7f\ufffd\u20ac'
        assert urec[0]["code"] != 0
        raw = log.read_bytes()
        assert b'"user":"ev\\"il\\\\\\u0001\\u000a\\u007f\\ufffd' \
            b'\xe2\x82\xac"' in raw
        assert b"\xff" not in raw
    finally:
        origin.close()
