/*
 * fuzz_socks.c - SOCKS4/4a/5 parsing (socks_parse.c): method
 * negotiation, RFC 1929 user/password, requests, UDP headers and the
 * target text and address derived from a parsed request.  The first
 * byte selects the parser.
 * F-SOCKS-01
 */
#include "fuzz_util.h"
#include "socks_parse.h"

static void request_checks(const struct socks_request *r)
{
	struct net_addr a;
	char text[SOCKS_NAME_MAX + 64];

	socks_request_check(r);
	socks_target_is_any(&r->dst);
	if (socks_target_addr(&r->dst, &a) == 0)
		socks_addr_map_v6(&a);
	socks_target_text(&r->dst, "CONNECT", text, sizeof(text));
	socks_target_text(&r->dst, "BIND", text, 16);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel = fuzz_take(&data, &size);
	uint8_t *p = fuzz_dup(data, size);
	struct socks_request *r = malloc(sizeof(*r));
	struct socks_auth *au = malloc(sizeof(*au));
	struct socks_target t;
	unsigned offered;
	size_t need = 0, hdr = 0;

	if (p == NULL || r == NULL || au == NULL)
		goto out;
	switch (sel % 5) {
	case 0:
		if (socks5_parse_methods(p, size, &offered, &need) == 0)
			socks5_choose_method(offered, (sel >> 4) & 3);
		break;
	case 1:
		socks5_parse_auth(p, size, au, &need);
		break;
	case 2:
		if (socks5_parse_request(p, size, r, &need) == 0)
			request_checks(r);
		break;
	case 3:
		if (socks4_parse_request(p, size, r, &need) == 0)
			request_checks(r);
		break;
	default:
		socks5_parse_udp(p, size, &t, &hdr);
		if (hdr > size)
			abort();        /* a header longer than the datagram */
		break;
	}
out:
	free(p);
	free(r);
	free(au);
	return 0;
}
