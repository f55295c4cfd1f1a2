/*
 * radius_acct.c - RADIUS accounting, `log radius` (logging.md 1.4,
 * F-LOG-08; RFC 2866).
 *
 * radius_build_acct() is pure (unit tested); radius_acct() gathers a
 * client's counters and sends the request with radius.c's exchange.  A
 * Start follows a successful `auth radius` (radius.c), a Stop replaces
 * the text record of each log event (client.c).
 *
 * Locking: none; each call has its own buffers and socket.
 */
#include "radius.h"
#include "client.h"
#include "conf.h"
#include "log.h"
#include "os.h"
#include "service.h"

#include <stdlib.h>
#include <string.h>

#define ACCT_CAP 1024   /* every attribute at its cap fits */

/* Octets as a 32-bit count plus Gigawords (RFC 2869 5.1, 5.2). */
static int put_octets(uint8_t *out, size_t cap, size_t *len, uint8_t t,
		      uint8_t tg, uint64_t v)
{
	if (radius_put_u32(out, cap, len, t, (uint32_t)v) != 0)
		return -1;
	if (v > 0xffffffffu)
		return radius_put_u32(out, cap, len, tg, (uint32_t)(v >> 32));
	return 0;
}

static uint32_t cap32(uint64_t v)
{
	return v > 0xffffffffu ? 0xffffffffu : (uint32_t)v;
}

static int put_counters(const struct radius_acct_info *a, uint8_t *out,
			size_t cap, size_t *len)
{
	if (put_octets(out, cap, len, RA_ACCT_INPUT_OCTETS,
		       RA_ACCT_INPUT_GIGAWORDS, a->in_octets) != 0 ||
	    put_octets(out, cap, len, RA_ACCT_OUTPUT_OCTETS,
		       RA_ACCT_OUTPUT_GIGAWORDS, a->out_octets) != 0 ||
	    radius_put_u32(out, cap, len, RA_ACCT_INPUT_PACKETS,
			   cap32(a->in_packets)) != 0 ||
	    radius_put_u32(out, cap, len, RA_ACCT_OUTPUT_PACKETS,
			   cap32(a->out_packets)) != 0)
		return -1;
	return radius_put_u32(out, cap, len, RA_ACCT_SESSION_TIME,
			      a->session_time);
}

int radius_build_acct(const struct radius_acct_info *a, const char *secret,
		      uint8_t id, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = RADIUS_HDR_LEN;

	if (!radius_available() || cap < RADIUS_HDR_LEN)
		return -1;
	memset(out, 0, RADIUS_HDR_LEN);
	out[0] = RADIUS_ACCOUNTING_REQUEST;
	out[1] = id;
	if (radius_put_u32(out, cap, &n, RA_ACCT_STATUS_TYPE,
			   (uint32_t)a->status) != 0 ||
	    radius_put_info(out, cap, &n, a->req) != 0 ||
	    (a->status == RADIUS_ACCT_STOP &&
	     put_counters(a, out, cap, &n) != 0) ||
	    n > RADIUS_PACKET_MAX)
		return -1;
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	/* RFC 2866 3: the authenticator field is zero while hashing */
	if (radius_md5(out + 4, out, n, secret, strlen(secret)) != 0)
		return -1;
	*len = n;
	return 0;
}

void radius_acct(struct client *cl, int status)
{
	const struct radius_conf *rc = cl->gen ? cl->gen->radius : NULL;
	struct radius_req_info in;
	struct radius_acct_info a;
	struct radius_reply r;
	uint8_t *req, id;
	size_t len;

	if (rc == NULL || rc->nservers == 0)
		return;
	req = malloc(ACCT_CAP);
	if (req == NULL || os_random_bytes(&id, 1) != 0) {
		free(req);
		return;
	}
	radius_client_info(cl, &in);
	memset(&a, 0, sizeof(a));
	a.req = &in;
	a.status = status;
	a.in_octets = cl->stats.bytes_from_server;
	a.out_octets = cl->stats.bytes_from_client;
	a.in_packets = cl->stats.reads_from_server;
	a.out_packets = cl->stats.reads_from_client;
	a.session_time = (uint32_t)((os_monotonic_ms() - cl->start_ms) / 1000);
	if (radius_build_acct(&a, rc->secret, id, req, ACCT_CAP, &len) != 0 ||
	    radius_exchange(rc, req, len,
			    svc_timeout_ms(cl->gen, TO_BYTE_LONG), &r) != 0)
		log_diag("radius: accounting %s for %s not acknowledged",
			 status == RADIUS_ACCT_START ? "start" : "stop",
			 in.session_id);
	free(req);
}
