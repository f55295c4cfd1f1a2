/*
 * fuzz_upstream.c - what servers and parent proxies send back: parent
 * hop replies (parent_proto.c: HTTP CONNECT status, SOCKS4, SOCKS5
 * method, RFC 1929 and request replies) and the handshake message
 * scanner with the -c3/-c4 certificate rules of tlspr (tls_hsscan.c),
 * fed in pieces as records arrive.  The first byte selects the parser.
 * F-PAR-01 F-TLSPR-02
 */
#include "fuzz_util.h"
#include "net.h"
#include "parent.h"
#include "tls_hsscan.h"

static void parent_replies(const uint8_t *p, size_t n, uint8_t sel)
{
	struct net_addr bnd;
	size_t need = 0;
	int method, rc;

	switch (sel % 5) {
	case 0:
		parent_connect_status((const char *)p, n);
		break;
	case 1:
		parent_socks4_reply(p, n, (sel & 8) ? 3 : 8);
		break;
	case 2:
		parent_socks5_method(p, n, sel & 8, &method);
		break;
	case 3:
		parent_socks5_auth_reply(p, n);
		break;
	default:
		/* as the hop reads it: a little, then as much as it asks */
		rc = parent_socks5_reply(p, n < 5 ? n : 5, sel & 8, &need,
					 &bnd);
		if (rc == PARENT_MORE && need <= n)
			parent_socks5_reply(p, need, sel & 8, &need, &bnd);
		break;
	}
}

/* Server flight, then (-c4) the client's first message. */
static void hs_scan(const uint8_t *p, size_t n, uint8_t sel)
{
	struct tls_hs_scan s;
	struct tls_cert_rule r;
	struct tls_hs_msg m;
	size_t piece = 1 + (sel & 0x3f), left = n;

	memset(&s, 0, sizeof(s));
	memset(&r, 0, sizeof(r));
	r.level = (sel & 0x40) ? 4 : 3;
	while (left > 0) {
		const uint8_t *q = p + (n - left);
		size_t k = left < piece ? left : piece, before = k;

		while (tls_hs_next(&s, &q, &k, &m) == 1) {
			if (k > before)
				abort();        /* used more than it was given */
			if (tls_cert_rule_server(&r, &m) != 0)
				tls_cert_rule_client(&m);
		}
		left -= before;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel = fuzz_take(&data, &size);
	uint8_t *p = fuzz_dup(data, size);

	if (p == NULL)
		return 0;
	if (sel & 0x80)
		hs_scan(p, size, sel);
	else
		parent_replies(p, size, sel);
	free(p);
	return 0;
}
