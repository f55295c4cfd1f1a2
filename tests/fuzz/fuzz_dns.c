/*
 * fuzz_dns.c - DNS messages (dns_msg.c): a client's query as dnspr
 * reads it and the local answers built from it, and a resolver's reply
 * checked against a query (names with compression pointers, counts,
 * record lengths).  The first byte selects query or reply and the type.
 * F-DNS-01
 */
#include "fuzz_util.h"
#include "dns_msg.h"

static void query(const uint8_t *msg, size_t len)
{
	struct dns_header h;
	struct dns_question q;
	uint8_t out[DNS_MAX_UDP];
	static const uint8_t ip[4] = { 192, 0, 2, 1 };

	if (dns_parse_query(msg, len, &h, &q) != DNSQ_OK)
		return;
	if (q.end > len)
		abort();                /* the question ends past the query */
	dns_build_answer(out, sizeof(out), msg, &q, 60, ip, sizeof(ip));
	dns_build_nxdomain(out, sizeof(out), msg, len);
}

static void reply(const uint8_t *msg, size_t len, uint8_t sel)
{
	static const char *const names[] = {
		"example.com", "a.b", "1.2.0.192.in-addr.arpa", "x"
	};
	static const uint16_t types[] = {
		DNS_T_A, DNS_T_AAAA, DNS_T_PTR, DNS_T_CNAME
	};
	struct dns_answer ans;
	struct dns_header h;
	char name[DNS_NAME_TEXT];
	size_t off = DNS_HDR_LEN;
	uint16_t id = len >= 2 ? (uint16_t)(msg[0] << 8 | msg[1]) : 0;

	dns_parse_reply(msg, len, id, names[sel & 3], types[(sel >> 2) & 3],
			&ans);
	if (dns_read_header(msg, len, &h) == 0)
		dns_read_name(msg, len, &off, name, sizeof(name));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel = fuzz_take(&data, &size);
	uint8_t *msg = fuzz_dup(data, size);

	if (msg == NULL)
		return 0;
	if (sel & 0x80)
		reply(msg, size, sel);
	else
		query(msg, size);
	free(msg);
	return 0;
}
