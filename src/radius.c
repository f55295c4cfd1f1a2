/*
 * radius.c - RADIUS authentication: Access-Request building, reply
 * verification, the `radius` command and the `auth radius` step
 * (acl-auth.md section 5, F-AUTH-14; RFC 2865).
 *
 * Owns struct radius_conf (one per generation, immutable once built).
 * It does not own the client: radius_auth() reads the request's fields
 * and may set cl->ext_addr and cl->acct_sid, nothing else.  The
 * packet helpers shared with accounting (radius_acct.c) are the
 * radius_put_info(), radius_md5() and radius_exchange() below.
 *
 * Locking: none.  The configuration is read-only after the config run;
 * each call uses its own socket and heap buffers.
 */
#include "radius.h"
#include "client.h"
#include "conf.h"
#include "errcode.h"
#include "log.h"
#include "os.h"
#include "pwhash.h"
#include "service.h"
#include "sockio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_MD5
#include <md5.h>
#endif

#define REQ_CAP 1024          /* every attribute at its cap fits */
#define MSG_CODE_MAX 999999L  /* larger Reply-Message numbers: code 4 */

/* ---- MD5 (libmd) ---------------------------------------------------------- */

int
radius_available(void)
{
#ifdef HAVE_MD5
	return 1;
#else
	return 0;
#endif
}

/* MD5 over up to three pieces; 0, or -1 without MD5. */
static int
md5_3(uint8_t out[16], const void *a, size_t na, const void *b, size_t nb,
      const void *c, size_t nc)
{
#ifdef HAVE_MD5
	MD5_CTX ctx;

	MD5Init(&ctx);
	MD5Update(&ctx, a, na);
	MD5Update(&ctx, b, nb);
	MD5Update(&ctx, c, nc);
	MD5Final(out, &ctx);
	pwhash_wipe(&ctx, sizeof(ctx));
	return 0;
#else
	(void)a; (void)na; (void)b; (void)nb; (void)c; (void)nc;
	memset(out, 0, 16);
	return -1;
#endif
}

int
radius_md5(uint8_t out[16], const void *a, size_t na, const void *b,
	   size_t nb)
{
	return md5_3(out, a, na, b, nb, "", 0);
}

/* ---- the Access-Request (RFC 2865 section 4.1) ---------------------------- */

int
radius_hide_password(const uint8_t *pw, size_t n, const char *secret,
		     const uint8_t reqauth[RADIUS_AUTH_LEN], uint8_t *out,
		     size_t *outlen)
{
	size_t len = n == 0 ? 16 : (n + 15) / 16 * 16, i, j;
	const uint8_t *prev = reqauth;
	uint8_t b[16];

	if (n > RADIUS_FIELD_MAX)
		return -1;
	memset(out, 0, len);
	memcpy(out, pw, n);
	/* c(1) = p(1) xor MD5(S + RA); c(i) = p(i) xor MD5(S + c(i-1)) */
	for (i = 0; i < len; i += 16) {
		if (md5_3(b, secret, strlen(secret), prev, 16, "", 0) != 0)
			return -1;
		for (j = 0; j < 16; j++)
			out[i + j] ^= b[j];
		prev = out + i;
	}
	pwhash_wipe(b, sizeof(b));
	*outlen = len;
	return 0;
}

struct pkt {
	uint8_t *p;
	size_t cap, len;
	int bad;      /* something did not fit: the packet is unusable */
};

static void
put_attr(struct pkt *k, uint8_t type, const void *v, size_t n)
{
	if (k->bad || n > 253 || k->len + 2 + n > k->cap) {
		k->bad = 1;
		return;
	}
	k->p[k->len] = type;
	k->p[k->len + 1] = (uint8_t)(n + 2);
	memcpy(k->p + k->len + 2, v, n);
	k->len += 2 + n;
}

static void
put_u32(struct pkt *k, uint8_t type, uint32_t v)
{
	uint8_t b[4];

	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
	put_attr(k, type, b, 4);
}

/* Strings are cut to RADIUS_FIELD_MAX; NULL is left out. */
static void
put_str(struct pkt *k, uint8_t type, const char *s)
{
	size_t n;

	if (s == NULL)
		return;
	n = strlen(s);
	put_attr(k, type, s, n > RADIUS_FIELD_MAX ? RADIUS_FIELD_MAX : n);
}

/* An IPv4 address as attribute t4 (4 bytes), an IPv6 one as t6 (16
 * bytes: RFC 3162, RFC 6911).  Other families (Unix sockets) and unset
 * addresses are left out. */
static void
put_addr(struct pkt *k, uint8_t t4, uint8_t t6, const struct net_addr *a)
{
	if (a == NULL || a->len == 0)
		return;
	if (net_family(a) == AF_INET)
		put_attr(k, t4, &((const struct sockaddr_in *)&a->ss)->sin_addr,
			 4);
	else if (net_family(a) == AF_INET6)
		put_attr(k, t6,
			 &((const struct sockaddr_in6 *)&a->ss)->sin6_addr, 16);
}

static void
put_password(struct pkt *k, const char *pw, const char *secret,
	     const uint8_t reqauth[RADIUS_AUTH_LEN])
{
	uint8_t hidden[RADIUS_FIELD_MAX];
	size_t n = strlen(pw), hn;

	if (n > RADIUS_FIELD_MAX)
		n = RADIUS_FIELD_MAX;
	if (radius_hide_password((const uint8_t *)pw, n, secret, reqauth,
				 hidden, &hn) != 0)
		k->bad = 1;
	else
		put_attr(k, RA_USER_PASSWORD, hidden, hn);
	pwhash_wipe(hidden, sizeof(hidden));
}

/* acl-auth.md 5: everything but the password, in 3proxy's order. */
static void
put_info(struct pkt *k, const struct radius_req_info *in)
{
	put_u32(k, RA_SERVICE_TYPE, RADIUS_SERVICE_AUTHENTICATE_ONLY);
	put_str(k, RA_ACCT_SESSION_ID, in->session_id);
	put_u32(k, RA_NAS_PORT_TYPE, RADIUS_PORT_TYPE_VIRTUAL);
	put_u32(k, RA_NAS_PORT, in->nas_port);
	put_addr(k, RA_NAS_IP_ADDRESS, RA_NAS_IPV6_ADDRESS, in->nas);
	put_str(k, RA_NAS_IDENTIFIER, in->nas_id);
	put_addr(k, RA_FRAMED_IP_ADDRESS, RA_FRAMED_IPV6_ADDRESS, in->peer);
	put_str(k, RA_CALLED_STATION_ID, in->called);
	/* acl-auth.md 5: operation bits << 8, whatever the man page says */
	put_u32(k, RA_LOGIN_SERVICE, in->login_service);
	put_u32(k, RA_LOGIN_TCP_PORT, in->login_port);
	put_addr(k, RA_LOGIN_IP_HOST, RA_LOGIN_IPV6_HOST, in->target);
	put_str(k, RA_USER_NAME, in->user);
}

int
radius_put_info(uint8_t *out, size_t cap, size_t *len,
		const struct radius_req_info *in)
{
	struct pkt k = { out, cap, *len, 0 };

	put_info(&k, in);
	if (k.bad)
		return -1;
	*len = k.len;
	return 0;
}

int
radius_put_u32(uint8_t *out, size_t cap, size_t *len, uint8_t type,
	       uint32_t v)
{
	struct pkt k = { out, cap, *len, 0 };

	put_u32(&k, type, v);
	if (k.bad)
		return -1;
	*len = k.len;
	return 0;
}

int
radius_build_request(const struct radius_req_info *in, const char *secret,
		     uint8_t id, const uint8_t reqauth[RADIUS_AUTH_LEN],
		     uint8_t *out, size_t cap, size_t *len)
{
	struct pkt k = { out, cap, RADIUS_HDR_LEN, 0 };

	if (in->user == NULL || in->password == NULL || !radius_available() ||
	    cap < RADIUS_HDR_LEN)
		return -1;
	out[0] = RADIUS_ACCESS_REQUEST;
	out[1] = id;
	memcpy(out + 4, reqauth, RADIUS_AUTH_LEN);
	put_info(&k, in);
	put_password(&k, in->password, secret, reqauth);
	if (k.bad || k.len > RADIUS_PACKET_MAX)
		return -1;
	out[2] = (uint8_t)(k.len >> 8);
	out[3] = (uint8_t)k.len;
	*len = k.len;
	return 0;
}

/* ---- the answer ------------------------------------------------------------ */

/* The number a Reply-Message starts with, or -1 (RFC 2865 5.18: text,
 * not NUL-terminated). */
static long
leading_number(const uint8_t *v, size_t n)
{
	long num = 0;
	size_t i;

	for (i = 0; i < n && v[i] >= '0' && v[i] <= '9'; i++) {
		num = num * 10 + (v[i] - '0');
		if (num > MSG_CODE_MAX)
			return -1;
	}
	return i == 0 || num == 0 ? -1 : num;
}

static void
set_addr(struct net_addr *a, int fam, const uint8_t *v)
{
	memset(a, 0, sizeof(*a));
	if (fam == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&a->ss;

		s->sin_family = AF_INET;
		memcpy(&s->sin_addr, v, 4);
		a->len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a->ss;

		s->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, v, 16);
		a->len = sizeof(*s);
	}
}

/* One attribute of an answer (type t, value v of n bytes).  Returns -1
 * when an address attribute has the wrong size. */
static int
take_attr(struct radius_reply *r, uint8_t t, const uint8_t *v, size_t n)
{
	static const uint8_t any4[2][4] = { { 255, 255, 255, 255 },
					    { 255, 255, 255, 254 } };

	switch (t) {
	case RA_FRAMED_IP_ADDRESS:
		if (n != 4)
			return -1;
		/* RFC 2865 5.8: "user may choose" / "NAS should select" */
		if (memcmp(v, any4[0], 4) != 0 && memcmp(v, any4[1], 4) != 0)
			set_addr(&r->framed, AF_INET, v);
		return 0;
	case RA_FRAMED_IPV6_ADDRESS:
		if (n != 16)
			return -1;
		set_addr(&r->framed, AF_INET6, v);
		return 0;
	case RA_REPLY_MESSAGE:
		if (r->msg_code < 0)
			r->msg_code = leading_number(v, n);
		return 0;
	default:
		return 0;
	}
}

/* Walk the attributes (bytes 20..len), each checked against the bounds
 * before it is read. */
static int
walk_attrs(const uint8_t *p, size_t len, struct radius_reply *r)
{
	size_t pos = RADIUS_HDR_LEN, alen;

	while (pos < len) {
		if (len - pos < 2)
			return -1;
		alen = p[pos + 1];
		if (alen < 2 || alen > len - pos)
			return -1;
		if (take_attr(r, p[pos], p + pos + 2, alen - 2) != 0)
			return -1;
		pos += alen;
	}
	return 0;
}

static int
parse_answer(const uint8_t *p, size_t n, uint8_t id,
	     const uint8_t reqauth[RADIUS_AUTH_LEN], const char *secret,
	     int acct, struct radius_reply *out);

int
radius_parse_reply(const uint8_t *p, size_t n, uint8_t id,
		   const uint8_t reqauth[RADIUS_AUTH_LEN], const char *secret,
		   struct radius_reply *out)
{
	return parse_answer(p, n, id, reqauth, secret, 0, out);
}

int
radius_parse_acct_reply(const uint8_t *p, size_t n, uint8_t id,
			const uint8_t reqauth[RADIUS_AUTH_LEN],
			const char *secret)
{
	struct radius_reply r;

	return parse_answer(p, n, id, reqauth, secret, 1, &r);
}

/* acct: only an Accounting-Response (RFC 2866 4.2) is an answer. */
static int
parse_answer(const uint8_t *p, size_t n, uint8_t id,
	     const uint8_t reqauth[RADIUS_AUTH_LEN], const char *secret,
	     int acct, struct radius_reply *out)
{
	struct radius_reply r;
	uint8_t want[16];
	size_t len, i;
	unsigned diff = 0;

	if (n < RADIUS_HDR_LEN || p[1] != id)
		return -1;
	len = (size_t)p[2] << 8 | p[3];
	/* RFC 2865 3: shorter than Length = discard; longer = padding */
	if (len < RADIUS_HDR_LEN || len > n || len > RADIUS_PACKET_MAX)
		return -1;
	if (acct ? p[0] != RADIUS_ACCOUNTING_RESPONSE :
	    p[0] != RADIUS_ACCESS_ACCEPT && p[0] != RADIUS_ACCESS_REJECT &&
	    p[0] != RADIUS_ACCESS_CHALLENGE)
		return -1;
	memset(&r, 0, sizeof(r));
	r.code = p[0];
	r.msg_code = -1;
	if (walk_attrs(p, len, &r) != 0)
		return -1;
	/* Response Authenticator = MD5(Code+ID+Length+RequestAuth+
	 * Attributes+Secret) */
	{
#ifdef HAVE_MD5
		MD5_CTX ctx;

		MD5Init(&ctx);
		MD5Update(&ctx, p, 4);
		MD5Update(&ctx, reqauth, RADIUS_AUTH_LEN);
		MD5Update(&ctx, p + RADIUS_HDR_LEN, len - RADIUS_HDR_LEN);
		MD5Update(&ctx, (const uint8_t *)secret, strlen(secret));
		MD5Final(want, &ctx);
#else
		(void)secret;
		(void)reqauth;
		return -1;
#endif
	}
	for (i = 0; i < 16; i++)
		diff |= (unsigned)(want[i] ^ p[4 + i]);
	if (diff != 0)
		return -1;
	*out = r;
	return 0;
}

int
radius_reply_result(const struct radius_reply *r)
{
	if (r->code == RADIUS_ACCESS_ACCEPT)
		return 0;
	return r->msg_code > 0 ? (int)r->msg_code : ERR_AUTH_NOUSER;
}

/* ---- asking the servers ----------------------------------------------------- */

/* One exchange with one server: send the request, then wait until the
 * deadline for a datagram that verifies; anything else (garbage, other
 * ids, forged authenticators) is ignored.  Returns 0 with *r set, or -1
 * (no valid answer: timeout, ICMP unreachable, socket trouble). */
static int
ask_server(const struct radius_server *srv, const uint8_t *req, size_t len,
	   const char *secret, int timeout_ms, uint8_t *buf,
	   struct radius_reply *r)
{
	struct net_addr to = srv->addr;
	int acct = req[0] == RADIUS_ACCOUNTING_REQUEST;
	uint64_t deadline = os_monotonic_ms() + (uint64_t)timeout_ms;
	os_pollfd_t pfd;
	os_sock_t s;
	long n;
	int rc = -1;

	/* logging.md 1.4: accounting port = auth port + 1 */
	if (acct)
		net_set_port(&to, (uint16_t)(net_get_port(&to) + 1));
	s = socket(net_family(&to), SOCK_DGRAM, 0);
	if (s == OS_BADSOCK)
		return -1;
	/* connected, so only the server's datagrams reach us */
	if ((srv->local.len != 0 &&
	     bind(s, (const struct sockaddr *)&srv->local.ss,
		  srv->local.len) != 0) ||
	    connect(s, (const struct sockaddr *)&to.ss, to.len) != 0 ||
	    os_sock_nonblock(s, 1) != 0 ||
	    sockio_send_once(s, req, len) != (long)len)
		goto out;
	for (;;) {
		uint64_t now = os_monotonic_ms();

		if (now >= deadline)
			break;
		pfd.fd = s;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (os_poll(&pfd, 1, (int)(deadline - now)) <= 0)
			continue;   /* EINTR or timeout: the clock decides */
		n = sockio_recv_once(s, buf, RADIUS_PACKET_MAX, 0);
		if (n < 0) {
			int e = os_sock_errno();

			if (os_errno_is_wouldblock(e) || os_errno_is_intr(e))
				continue;
			break;      /* port unreachable: next server */
		}
		if (parse_answer(buf, (size_t)n, req[1], req + 4, secret, acct,
				 r) == 0) {
			rc = 0;
			break;
		}
	}
out:
	os_sock_close(s);
	return rc;
}

/* The source address an Access-Accept chose (Framed-IP), kept out of
 * line in the client; left unset when there is no memory for it. */
static void
set_ext_addr(struct client *cl, const struct net_addr *a)
{
	if (cl->ext_addr == NULL)
		cl->ext_addr = malloc(sizeof(*cl->ext_addr));
	if (cl->ext_addr != NULL)
		*cl->ext_addr = *a;
}

/* Acct-Session-Id: "<start sec>.<start msec>.<thread id>" (acl-auth 5);
 * the wall-clock start is derived from the monotonic start time.  Kept
 * in the client so the accounting Start and Stop carry the same one. */
static const char *
session_id(struct client *cl)
{
	enum { SID_MAX = 48 };
	struct timespec ts;
	uint64_t wall, age;

	if (cl->acct_sid != NULL)
		return cl->acct_sid;
	cl->acct_sid = malloc(SID_MAX);
	if (cl->acct_sid == NULL)
		return "0.000.0";
	os_realtime(&ts);
	wall = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	age = os_monotonic_ms() - cl->start_ms;
	if (age < wall)
		wall -= age;
	snprintf(cl->acct_sid, SID_MAX, "%llu.%03u.%lu",
		 (unsigned long long)(wall / 1000), (unsigned)(wall % 1000),
		 os_thread_id());
	return cl->acct_sid;
}

void
radius_client_info(struct client *cl, struct radius_req_info *in)
{
	const struct svc_conf *sc = cl->conf;
	const char *sid = session_id(cl);

	memset(in, 0, sizeof(*in));
	in->user = cl->cred.user;
	in->password = cl->cred.password;
	in->session_id = sid;
	in->nas_port = sc ? net_get_port(&sc->listen) : 0;
	in->nas = &cl->cl_local;
	in->nas_id = cl->logname ? cl->logname
		     : sc && sc->proto ? sc->proto->logname : NULL;
	in->peer = &cl->cl_peer;
	in->called = cl->req.host;
	in->login_service = (uint32_t)cl->req.command << 8;
	in->login_port = cl->req.port;
	in->target = &cl->req.addr;
}

int
radius_exchange(const struct radius_conf *rc, const uint8_t *req,
		size_t len, int timeout_ms, struct radius_reply *r)
{
	uint8_t *buf = malloc(RADIUS_PACKET_MAX);
	int i, rcode = -1;

	if (buf == NULL)
		return -1;
	for (i = 0; i < rc->nservers && rcode != 0; i++)
		rcode = ask_server(&rc->srv[i], req, len, rc->secret,
				   timeout_ms, buf, r);
	free(buf);
	return rcode;
}

int
radius_auth(struct client *cl)
{
	const struct radius_conf *rc = cl->gen ? cl->gen->radius : NULL;
	struct radius_req_info in;
	struct radius_reply r;
	uint8_t *req = NULL, rnd[1 + RADIUS_AUTH_LEN];
	size_t len;
	int result = ERR_AUTH_NOUSER;

	if (cl->cred.user == NULL || cl->cred.password == NULL ||
	    rc == NULL || rc->nservers == 0)
		return ERR_AUTH_NOUSER;
	req = malloc(REQ_CAP);
	if (req == NULL)
		goto out;
	/* RFC 2865 3: the Request Authenticator must be unpredictable */
	if (os_random_bytes(rnd, sizeof(rnd)) != 0) {
		log_diag("radius: no random source: request not sent");
		goto out;
	}
	radius_client_info(cl, &in);
	if (radius_build_request(&in, rc->secret, rnd[0], rnd + 1, req,
				 REQ_CAP, &len) != 0)
		goto out;
	if (radius_exchange(rc, req, len, svc_timeout_ms(cl->gen, TO_BYTE_LONG),
			    &r) == 0) {
		result = radius_reply_result(&r);
		if (result == 0 && r.framed.len != 0)
			set_ext_addr(cl, &r.framed);   /* F-AUTH-14 */
	}
	/* logging.md 1.4: with `log radius`, a success starts accounting */
	if (result == 0 && cl->conf && log_sink_is_radius(cl->conf->log))
		radius_acct(cl, RADIUS_ACCT_START);
out:
	if (req != NULL)
		pwhash_wipe(req, REQ_CAP);
	free(req);
	return result;
}

/* ---- the `radius` command (config.md 4.5) ----------------------------------- */

void
radius_conf_free(struct radius_conf *rc)
{
	if (rc == NULL)
		return;
	pwhash_wipe(rc, sizeof(*rc));
	free(rc);
}

/* A literal address or a name (resolved now, as 3proxy does). */
static int
parse_host(const char *s, struct net_addr *a)
{
	if (net_parse_ip(s, a) == 0)
		return 0;
	return net_is_hostname(s) && net_resolve(s, NET_PREF_46, a) == 0 ? 0
									 : -1;
}

/* SERVER[:PORT][/LOCALADDR]; an IPv6 server with a port is written
 * [addr]:port, a bare IPv6 literal takes the default port. */
static int
parse_server(struct conf_ctx *ctx, char *spec, struct radius_server *out)
{
	char *local = strchr(spec, '/'), *host = spec, *port = NULL, *e;
	long p = RADIUS_DEFAULT_PORT;

	memset(out, 0, sizeof(*out));
	if (local != NULL)
		*local++ = '\0';
	if (*host == '[' && (e = strchr(host, ']')) != NULL) {
		*e = '\0';
		host++;
		if (e[1] == ':')
			port = e + 2;
		else if (e[1] != '\0')
			return -1;
	} else if ((e = strchr(host, ':')) != NULL && !strchr(e + 1, ':')) {
		*e = '\0';
		port = e + 1;
	}
	if (port != NULL && conf_parse_long(port, 1, 65535, &p) != 0)
		return -1;
	if (parse_host(host, &out->addr) != 0)
		return -1;
	net_set_port(&out->addr, (uint16_t)p);
	if (local != NULL) {
		if (parse_host(local, &out->local) != 0 ||
		    net_family(&out->local) != net_family(&out->addr)) {
			conf_error(ctx, "radius: local address '%s' is not "
				   "usable for that server", local);
			return -2;
		}
		net_set_port(&out->local, 0);
	}
	return 0;
}

/* radius SECRET SERVER... : replaces the generation's list. */
int
radius_cmd(struct conf_ctx *ctx, int argc, char **argv)
{
	struct radius_conf *rc;
	char spec[512];
	int i, err;

	if (!radius_available()) {
		conf_error(ctx, "radius: this build has no MD5 library "
			   "(libmd): RADIUS is not available");
		return 1;
	}
	if (argc - 2 > RADIUS_MAX_SERVERS)
		conf_warning(ctx, "radius: only the first %d servers are used",
			     RADIUS_MAX_SERVERS);
	rc = calloc(1, sizeof(*rc));
	if (rc == NULL) {
		conf_error(ctx, "out of memory");
		return 21;
	}
	snprintf(rc->secret, sizeof(rc->secret), "%s", argv[1]);
	for (i = 2; i < argc && rc->nservers < RADIUS_MAX_SERVERS; i++) {
		if (snprintf(spec, sizeof(spec), "%s", argv[i]) >=
		    (int)sizeof(spec))
			err = -1;
		else
			err = parse_server(ctx, spec, &rc->srv[rc->nservers]);
		if (err != 0) {
			if (err == -1)
				conf_error(ctx, "radius: invalid server '%s'",
					   argv[i]);
			radius_conf_free(rc);
			return 1;
		}
		rc->nservers++;
	}
	radius_conf_free(ctx->gen->radius);
	ctx->gen->radius = rc;
	return 0;
}
