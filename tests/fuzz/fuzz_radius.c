/*
 * fuzz_radius.c - RADIUS answers (radius.c): Access-Accept/Reject/
 * Challenge and Accounting-Response verification and attribute
 * decoding.  Most inputs would fail the Response Authenticator check
 * before any attribute is read, so unless the first byte says
 * otherwise the harness writes a correct authenticator (computed the
 * way a server would) into the packet first.
 * F-AUTH-14
 */
#include "fuzz_util.h"
#include "radius.h"

static const char secret[] = "fuzzsecret";
static const uint8_t reqauth[RADIUS_AUTH_LEN] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16
};

/* Response Authenticator = MD5(Code+ID+Length+RequestAuth+Attributes+
 * Secret) (RFC 2865 3), over the packet as its Length field gives it. */
static void sign(uint8_t *p, size_t n)
{
	size_t len = n >= 4 ? (size_t)(p[2] << 8 | p[3]) : 0;
	uint8_t *tmp;

	if (n < 20 || len < 20 || len > n)
		return;
	tmp = malloc(len);
	if (tmp == NULL)
		return;
	memcpy(tmp, p, len);
	memcpy(tmp + 4, reqauth, RADIUS_AUTH_LEN);
	radius_md5(p + 4, tmp, len, secret, strlen(secret));
	free(tmp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel = fuzz_take(&data, &size);
	uint8_t *p = fuzz_dup(data, size);
	struct radius_reply r;
	uint8_t id = size >= 2 ? data[1] : 0;

	if (p == NULL)
		return 0;
	if (!(sel & 1))
		sign(p, size);
	if (sel & 2) {
		radius_parse_acct_reply(p, size, id, reqauth, secret);
	} else if (radius_parse_reply(p, size, id, reqauth, secret, &r) == 0) {
		radius_reply_result(&r);
	}
	free(p);
	return 0;
}
