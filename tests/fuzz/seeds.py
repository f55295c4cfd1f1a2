#!/usr/bin/env python3
"""Write the seed corpus of every fuzz harness into corpus/<name>/.

Seeds are valid inputs and tricky ones for each parser.  Crash
reproducers found by fuzzing are added to the corpus directories by hand
(crash-*), never by this script, which only (re)writes seed-* files.
Run it from anywhere: python3 tests/fuzz/seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def put(name, seeds):
    d = os.path.join(HERE, "corpus", name)
    os.makedirs(d, exist_ok=True)
    for i, s in enumerate(seeds):
        if isinstance(s, str):
            s = s.encode("latin-1")
        with open(os.path.join(d, "seed-%02d" % i), "wb") as f:
            f.write(s)


def sel(b, data):
    if isinstance(data, str):
        data = data.encode("latin-1")
    return bytes([b]) + data


# ---- HTTP heads (selector: bit 7 response, bit 0 HEAD / ftp ops) ----------
REQ = [
    "GET http://example.com/a%20b?x=1 HTTP/1.1\r\nHost: example.com\r\n"
    "Proxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n"
    "Connection: keep-alive, close\r\n\r\n",
    "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    "CONNECT [2001:db8::1]:443 HTTP/1.0\r\n\r\n",
    "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
    "Transfer-Encoding: chunked\r\n\r\nhello",
    "POST http://u:p@h:8080/ HTTP/1.1\r\nTransfer-Encoding: gzip, chunked"
    "\r\n\r\n",
    "GET ftp://user:pa%3Ass@ftp.example/pub/ HTTP/1.1\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: [::1]:99999\r\n X-Fold: y\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\n",
    "GET / HTTP/1.0\nHost: a\nContent-Length: 18446744073709551616\n\n",
    "GET /\x00 HTTP/1.1\r\n\r\n",
    "get http://a:0/ HTTP/2.0\r\n\r\n",
]
RESP = [
    "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    "HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n",
    "HTTP/1.0 200\r\nProxy-Connection: keep-alive\r\n\r\n",
    "HTTP/1.1 101 Switching\r\nTransfer-Encoding: chunked, gzip\r\n"
    "Content-Length: 3\r\n\r\n",
    "HTTP/1.1 99999 x\r\n\r\n",
]
put("http_head", [sel(0, r) for r in REQ] + [sel(1, REQ[0])] +
    [sel(0x80, r) for r in RESP] + [sel(0x81, RESP[0])])

# ---- chunked bodies (selector: bit 7 body copy, low bits split point) -----
CHUNKED = [
    "5\r\nhello\r\n0\r\n\r\n",
    "5;ext=1;q=\"x\"\r\nhello\r\n3 \r\nabc\r\n0\r\nTrailer: v\r\n\r\n",
    "a\nabcdefghij\n0\n\n",
    "ffffffffffffffffff\r\n",
    "0000000000000000000001\r\nx\r\n0\r\n\r\n",
    "5\r\nhelloXX",
    "0\r\nBad Trailer\r\n\r\n",
    "-1\r\n",
    "\r\n",
]
put("http_chunked", [sel(0x40, c) for c in CHUNKED] +
    [sel(0x80 | 0x20, c) for c in CHUNKED[:3]] + [sel(0x81, CHUNKED[1])])

# ---- SOCKS (selector % 5: methods, auth, v5 request, v4 request, UDP) ----
def s5(atyp, addr, port, cmd=1):
    return bytes([5, cmd, 0, atyp]) + addr + struct.pack(">H", port)


put("socks", [
    sel(0, b"\x05\x02\x00\x02"), sel(0x30, b"\x05\x01\x02"),
    sel(0, b"\x05\x00"), sel(0, b"\x05\xff" + b"\x01" * 10),
    sel(1, b"\x01\x05alice\x06secret"), sel(1, b"\x01\x00\x00"),
    sel(1, b"\x01\xff" + b"u" * 20),
    sel(2, s5(1, bytes([93, 184, 216, 34]), 80)),
    sel(2, s5(3, b"\x0bexample.com", 443)),
    sel(2, s5(4, bytes(15) + b"\x01", 22)),
    sel(2, s5(1, bytes(4), 0, cmd=2)), sel(2, s5(3, b"\x00", 1, cmd=3)),
    sel(2, s5(9, b"", 1)),
    sel(3, b"\x04\x01\x00\x50\x5d\xb8\xd8\x22alice\x00"),
    sel(3, b"\x04\x01\x01\xbb\x00\x00\x00\x01\x00example.com\x00"),
    sel(3, b"\x04\x02\x00\x00\x00\x00\x00\x00\x00"),
    sel(3, b"\x04\x01\x00\x50\x00\x00\x00\x07" + b"u" * 300),
    sel(4, b"\x00\x00\x00\x01\x7f\x00\x00\x01\x00\x35payload"),
    sel(4, b"\x00\x00\x00\x03\x05a.com\x00\x35x"),
    sel(4, b"\x00\x00\x01\x04" + bytes(16) + b"\x00\x01"),
    sel(4, b"\x00\x00\x00\x03\xff"),
])

# ---- DNS (selector: bit 7 reply; bits 0-1 name, 2-3 type) ----------------
def name(n):
    out = b""
    for label in n.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def hdr(id_, flags, qd, an, ns=0, ar=0):
    return struct.pack(">HHHHHH", id_, flags, qd, an, ns, ar)


def q(n, t):
    return name(n) + struct.pack(">HH", t, 1)


def rr(owner, t, rdata, ttl=300):
    return owner + struct.pack(">HHIH", t, 1, ttl, len(rdata)) + rdata


QA = q("example.com", 1)
put("dns", [
    sel(0, hdr(0x1234, 0x0100, 1, 0) + QA),
    sel(0, hdr(1, 0x0100, 1, 0) + q("1.2.0.192.in-addr.arpa", 12)),
    sel(0, hdr(1, 0x0100, 2, 0) + QA + QA),
    sel(0, hdr(1, 0x0100, 1, 0) + b"\x3f" + b"a" * 63 + b"\x00\x00\x01"),
    sel(0, hdr(1, 0x0100, 1, 0) + b"\xc0\x0c\x00\x01\x00\x01"),
    sel(0x80, hdr(0x1234, 0x8180, 1, 1) + QA +
        rr(b"\xc0\x0c", 1, bytes([93, 184, 216, 34]))),
    sel(0x80, hdr(0x1234, 0x8180, 1, 2) + QA +
        rr(b"\xc0\x0c", 5, name("www.example.com")) +
        rr(name("www.example.com"), 1, bytes([1, 2, 3, 4]), 0)),
    sel(0x80, hdr(7, 0x8183, 1, 0) + QA),
    sel(0x80, hdr(0x1234, 0x8180, 1, 1) + QA + rr(b"\xc0\x1d", 1, b"\x01")),
    sel(0x85, hdr(9, 0x8180, 1, 1) + q("a.b", 28) +
        rr(b"\xc0\x0c", 28, bytes(15) + b"\x01")),
    sel(0x8a, hdr(9, 0x8180, 1, 1) + q("1.2.0.192.in-addr.arpa", 12) +
        rr(b"\xc0\x0c", 12, name("host.example"))),
    sel(0x80, hdr(5, 0x8380, 1, 0) + QA),
])

# ---- TLS (selector: bit 0 server side) -----------------------------------
def ext(t, body):
    return struct.pack(">HH", t, len(body)) + body


def client_hello(host=b"example.com", alpn=b"h2", tls13=True, split=None):
    exts = b""
    if host is not None:
        sn = b"\x00" + struct.pack(">H", len(host)) + host
        exts += ext(0, struct.pack(">H", len(sn)) + sn)
    if alpn:
        al = bytes([len(alpn)]) + alpn
        exts += ext(16, struct.pack(">H", len(al)) + al)
    if tls13:
        exts += ext(43, b"\x02\x03\x04")
    body = (b"\x03\x03" + bytes(32) + b"\x00" + b"\x00\x02\x13\x01" +
            b"\x01\x00" + struct.pack(">H", len(exts)) + exts)
    hs = b"\x01" + struct.pack(">I", len(body))[1:] + body
    if split is None:
        return b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs
    a, b = hs[:split], hs[split:]
    return (b"\x16\x03\x01" + struct.pack(">H", len(a)) + a +
            b"\x16\x03\x01" + struct.pack(">H", len(b)) + b)


def server_hello(v13=True):
    exts = ext(43, b"\x03\x04") if v13 else b""
    body = (b"\x03\x03" + bytes(32) + b"\x00" + b"\x13\x01" + b"\x00" +
            struct.pack(">H", len(exts)) + exts)
    hs = b"\x02" + struct.pack(">I", len(body))[1:] + body
    return b"\x16\x03\x03" + struct.pack(">H", len(hs)) + hs


CH = client_hello()
put("tls_hello", [
    sel(0, CH), sel(0, client_hello(host=None, alpn=b"", tls13=False)),
    sel(0, client_hello(split=20)), sel(0, CH[:30]),
    sel(0, client_hello(host=b"x" * 300, alpn=b"a" * 40)),
    sel(0, b"\x16\x03\x01\x00\x00"), sel(0, b"GET / HTTP/1.1\r\n\r\n"),
    sel(1, server_hello()), sel(1, server_hello(False)),
    sel(1, b"\x15\x03\x03\x00\x02\x02\x28"),
])

# ---- PROXY protocol v1 ---------------------------------------------------
put("proxyproto", [
    "PROXY TCP4 192.0.2.1 192.0.2.2 51234 80\r\n",
    "PROXY TCP6 2001:db8::1 ::1 1 65535\r\n",
    "PROXY UNKNOWN\r\n",
    "PROXY TCP4 192.0.2.1 192.0.2.2 51234 65536\r\n",
    "PROXY TCP4 ::1 192.0.2.2 1 2\r\n",
    "PROXY TCP4 1.1.1.1 2.2.2.2 3 4 5\r\n",
    "proxy tcp4 1.1.1.1 2.2.2.2 0 0\n",
    "PROXY TCP4 " + "1" * 200 + "\r\n",
])

# ---- FTP (selector: bit 7 reply lines, else % 5 parser) ------------------
put("ftp", [
    sel(0x80, "220-Welcome\n220-more\n220 ready\n230 ok"),
    sel(0x80, "150 Opening\n226 done\n421"),
    sel(0x80, "123-a\n  text\n123x\n123 end"),
    sel(0x80, "2\n99 x\n" + "550-" + "x" * 3000),
    sel(0, "227 Entering Passive Mode (127,0,0,1,4,1)"),
    sel(0, "227 =192,168,1,2,255,255"),
    sel(0, "227 (256,0,0,1,1,1)"),
    sel(1, "229 Entering Extended Passive Mode (|||6446|)"),
    sel(1, "229 (!!!65536!)"),
    sel(2, "10,0,0,1,200,10"), sel(2, "1,2,3,4,5"),
    sel(3, "|1|10.0.0.1|5282|"), sel(3, "|2|::1|21|"), sel(3, "x1x"),
    sel(4, "drwxr-xr-x 2 user group 4096 Jan 01 12:00 dir name\n"
        "-rw-r--r-- 1 u g 12 Feb  3  2024 f.txt\n"
        "lrwxrwxrwx 1 u g 3 Mar 10 10:10 l -> t\ntotal 12"),
])

# ---- mail (selector & 3: 0/1 login, 2 base64, 3 STARTTLS lines) ---------
put("mail", [
    sel(0, "user@mail.example:110"),
    sel(0x08, "puser:ppass:user@[2001:db8::1]:143"),
    sel(0x10, "justuser"), sel(0x04, "user#host"),
    sel(0x20, "u@" + "h" * 400), sel(0, "@"), sel(0, "u@[::1"),
    sel(0, "u@host:99999"), sel(0x08, "a:b:c:d@h"),
    sel(2, "dXNlcgBwYXNz"), sel(6, "dXNlcgBwYXNzd29yZA=="), sel(2, "!!=="),
    sel(3, "a1 STARTTLS"), sel(3, "a2 CAPABILITY"), sel(3, "* OK IMAP4"),
    sel(0x43, "t" * 70 + " LOGOUT"),
    sel(7, "STLS"), sel(7, "CAPA"), sel(7, "+OK"), sel(7, "."),
    sel(11, "EHLO client"), sel(11, "STARTTLS"), sel(11, "250-STARTTLS"),
    sel(0x8b, "220 ready"), sel(11, "QUIT"),
])

# ---- RADIUS (selector: bit 0 keep the authenticator, bit 1 accounting) ---
def radius(code, ident, attrs):
    a = b"".join(bytes([t, len(v) + 2]) + v for t, v in attrs)
    return bytes([code, ident]) + struct.pack(">H", 20 + len(a)) + \
        bytes(16) + a


put("radius", [
    sel(0, radius(2, 7, [(8, bytes([10, 0, 0, 9])), (18, b"hello")])),
    sel(0, radius(3, 7, [(18, b"123 denied")])),
    sel(0, radius(11, 7, [(18, b"999999999 x"), (24, b"state")])),
    sel(0, radius(2, 7, [(168, bytes(15) + b"\x01")])),
    sel(0, radius(2, 7, [(8, b"\x01")])),
    sel(0, radius(2, 7, []) + b"\x12\x00"),
    sel(0, radius(2, 7, []) + b"\x12\x01"),
    sel(1, radius(2, 7, [(18, b"x")])),
    sel(2, radius(5, 9, [])), sel(2, radius(2, 9, [])),
])

# ---- logformat (fmt NUL text NUL user NUL host) --------------------------
def lf(b, fmt, text="GET http://example.com/ HTTP/1.1", user="alice",
       host="example.com"):
    return sel(b, "\0".join([fmt, text, user, host]))


put("logformat", [
    lf(4, "- +_L%t.%. %N.%p %E %U %C:%c %R:%r %O %I %h %T"),
    lf(4, "G%y%m%d%H%M%S.%. %z %D %n %Q:%q %e %i %p"),
    lf(4, "L%d-%o-%Y %1-3T %2-2T %5-1T %1T %12T %-T %T%"),
    lf(0x24, "- '\"+ %U %n %T", text="it's \"quoted\"", user="o'brien"),
    lf(0x14, "%C %c %R %r %e %i %Q %q"),
    lf(0, "%T%T%T%T"), lf(1, "abc%"), lf(2, "%%%%"),
    lf(4, "-\x00", text=""),
    lf(5, "%T", text="\r\n\t\x01" * 50),
])

# ---- config tokenizer (line NUL included-file content) -------------------
put("conf_tokenize", [
    'proxy -p3128 -i127.0.0.1 "a b" ""',
    'users "alice:CL:p""w" bob:CL:x',
    "allow * 10.0.0.0/8 * 80,443 CONNECT\0",
    "users $/etc/3proxy.passwd\0alice:CL:a\nbob:CL:b\n# comment\n",
    "users $missing", "# comment", " indented", "a\tb\t\tc",
    '"unterminated', "x " * 5000, "users $f\0$g",
    "a \"b\"c\"d\" e\x00",
])

# ---- whole config in --check mode ----------------------------------------
def sample():
    path = os.path.join(HERE, "..", "..", "cfg", "3proxy.cfg.sample")
    with open(path, encoding="latin-1") as f:
        lines = [l for l in f if "include" not in l and "plugin" not in l
                 and "/dev" not in l]
    return "".join(lines)


put("conf", [
    sample(),
    "nserver 127.0.0.1\nnscache 65536\ntimeouts 1 5 30 60 180 1800 15 60\n"
    "log\nlogformat \"- +_L%t.%. %N.%p %E %U %C:%c %R:%r %O %I %h %T\"\n"
    "auth strong\nusers alice:CL:secret \"bob:CR:$1$abc$xyz\"\n"
    "allow alice * * 80,443 HTTP,HTTPS\ndeny *\n"
    "parent 1000 socks5 127.0.0.1 1080 u p\n"
    "proxy -p3128 -i127.0.0.1 -e127.0.0.1 -n -a\n"
    "socks -p1080 -u2\nflush\nauth iponly\nallow *\n"
    "tcppm -i127.0.0.1 2525 127.0.0.1 25\n"
    "bandlimin 100000 * 10.0.0.0/8\ncounter /tmp/x.3cf D /tmp/%Y\n"
    "countin 1/user D 1000 alice\nconnlim 10 60 *\nend\nproxy\n",
    "proxy -p\nsocks -p99999\nallow * 1.2.3.4/99\nusers\nfoo bar\n"
    "maxconn -1\ntimeouts x\nparent 0 bad\nauth nosuch\n",
    "admin -p8080\nftppr -p2121\npop3p -p1110\nsmtpp -p2525\n"
    "imapp -p1143\ntlspr -p8443 -c1\ndnspr -p5353\nudppm 5353 8.8.8.8 53\n"
    "auto -p1111\n",
])

# ---- users (spec NUL password) -------------------------------------------
put("users", [
    "alice:CL:secret\0secret", "bob:CR:$1$saltsalt$MiO0lkKrTMbqGqG1g9pY5/\0pw",
    "carol:NT:8846F7EAEE8FB117AD06BDD830B7586C\0password",
    "dave:$3$$8846F7EAEE8FB117AD06BDD830B7586C\0password",
    "bare:pass:word\0pass:word", "empty:\0", ":CL:x\0x",
    "x:NT:zz\0a", "x:CR:ab01FAX.bQRSU\0test", "x:CR:\0", "noc",
    "nul:CL:a\0",
])

# ---- ACL fields (space separated) ----------------------------------------
put("acl", [
    "alice,bob 10.0.0.0/8,192.168.1.1-192.168.1.20 *.example.com,::1/128 "
    "80,443,1000-2000 CONNECT,HTTP 1-5 09:00:00-18:00:00",
    "* * * * * * *", "* 0.0.0.0/0 2001:db8::/32", "* * www.example.com 443",
    "* 300.1.1.1", "* 10.0.0.0/33", "* * * 70000", "* * * 5-1",
    "* * * * NOSUCH", "* * * * * 8", "* * * * * * 25:00-26:00",
    "* * *example* * * 0-6 00:00:00-23:59:59", "* fe80::1%eth0",
    "* 1.2.3.4-1.2.3.1", "* * ** *",
])

# ---- whole sessions (selector % 13: the service of fuzz_service.c) -------
PROXY, SOCKS, POP3, SMTP, IMAP, FTP, TLS, AUTO, PROXY_H, SOCKS_U2, \
    POP3_H, TLS_X, ADMIN = range(13)
put("service", [
    sel(PROXY, REQ[0]), sel(PROXY, REQ[1]), sel(PROXY, REQ[3]),
    sel(PROXY, REQ[5]), sel(PROXY, "GET http://a/ HTTP/1.1\r\n\r\n" * 3),
    sel(PROXY, "POST http://a/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
        "\r\n5\r\nhello\r\n0\r\n\r\n"),
    sel(PROXY, "GET /admin HTTP/1.1\r\nHost: 127.0.0.1:3128\r\n\r\n"),
    sel(SOCKS, b"\x05\x01\x00" + s5(1, bytes([127, 0, 0, 1]), 80)),
    sel(SOCKS, b"\x05\x01\x00" + s5(4, bytes(15) + b"\x01", 80, cmd=3)),
    sel(SOCKS, b"\x05\x01\x00" + s5(1, bytes(4), 0, cmd=2)),
    sel(SOCKS, b"\x04\x01\x00\x50\x7f\x00\x00\x01alice\x00"),
    sel(SOCKS_U2, b"\x05\x02\x00\x02\x01\x05alice\x06secret" +
        s5(1, bytes([127, 0, 0, 1]), 80)),
    sel(POP3, "USER alice@mail.example\r\nPASS secret\r\nQUIT\r\n"),
    sel(POP3, "CAPA\r\nUSER a:b:c@[::1]:110\r\nPASS x\r\n"),
    sel(POP3_H, "USER alice\r\nPASS x\r\n"),
    sel(SMTP, "EHLO me\r\nAUTH PLAIN AGFsaWNlQGgAcHc=\r\n"
        "MAIL FROM:<a@b>\r\n"),
    sel(SMTP, "HELO x\r\nAUTH LOGIN\r\nYWxpY2VAaA==\r\ncHc=\r\n"),
    sel(IMAP, "a1 CAPABILITY\r\na2 LOGIN alice@h \"pw\"\r\n"),
    sel(IMAP, "a1 LOGIN {5}\r\nalice\r\n"),
    sel(IMAP, "a1 AUTHENTICATE PLAIN\r\nAGFAaABw\r\n"),
    sel(FTP, "USER alice@ftp.example\r\nPASS x\r\nPASV\r\nLIST\r\n"),
    sel(FTP, "USER a@h:21\r\nPORT 127,0,0,1,4,1\r\nQUIT\r\n"),
    sel(TLS, CH), sel(TLS, client_hello(split=20)),
    sel(TLS_X, "a1 CAPABILITY\r\na2 STARTTLS\r\n" + CH.decode("latin-1")),
    sel(AUTO, REQ[0]), sel(AUTO, b"\x05\x01\x00" + s5(1, bytes(4), 1)),
    sel(ADMIN, "GET /S HTTP/1.1\r\nAuthorization: Basic YTpi\r\n\r\n"),
    sel(ADMIN, "POST /U HTTP/1.0\r\nContent-Length: 9\r\n\r\nconffile="),
    sel(AUTO, CH), sel(PROXY_H, "PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n" +
                      REQ[0]),
])

# ---- upstream replies (selector: bit 7 handshake scan, else % 5) ---------
def hsmsg(t, body):
    return bytes([t]) + struct.pack(">I", len(body))[1:] + body


CERT = hsmsg(11, struct.pack(">I", 6)[1:] + struct.pack(">I", 3)[1:] + b"abc")
put("upstream", [
    sel(0, "HTTP/1.0 200 Connection established"), sel(0, "HTTP/1.1 407 x"),
    sel(0, "HTTP/1."), sel(1, b"\x00\x5a\x00\x00\x00\x00\x00\x00"),
    sel(9, b"\x00\x5b\x00"), sel(2, b"\x05\x00"), sel(10, b"\x05\x02"),
    sel(2, b"\x05\xff"), sel(3, b"\x01\x00"), sel(3, b"\x01\x01"),
    sel(4, b"\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38"),
    sel(4, b"\x05\x00\x00\x03\x05a.com\x00\x50"),
    sel(4, b"\x05\x00\x00\x04" + bytes(15) + b"\x01\x00\x50"),
    sel(12, b"\x05\x00\x00\x01"), sel(4, b"\x05\x05\x00\x01" + bytes(6)),
    sel(4, b"\x05\x00\x00\x09"),
    sel(0x80, hsmsg(2, bytes(38)) + CERT + hsmsg(14, b"")),
    sel(0xc3, hsmsg(2, bytes(38)) + CERT + hsmsg(13, b"\x01\x01") +
        hsmsg(14, b"") + CERT),
    sel(0x80, hsmsg(2, b"") + hsmsg(11, b"\x00\x00\x00") + hsmsg(14, b"")),
    sel(0x81, hsmsg(11, b"\x00") + b"\xff\xff\xff\xff"),
])
