/*
 * tls_hsscan.c - handshake message scanner and the -c3/-c4 rules
 * (services.md 9.2).  Pure; see tls_hsscan.h.
 */
#include "tls_hsscan.h"
#include "errcode.h"

#include <string.h>

static size_t uint24(const uint8_t *p)
{
	return (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
}

int tls_hs_next(struct tls_hs_scan *s, const uint8_t **p, size_t *n,
		struct tls_hs_msg *out)
{
	size_t take;

	for (;;) {
		if (s->hdr_n == 4 && s->head_n == s->head_want &&
		    !s->emitted) {
			out->type = s->hdr[0];
			out->len = uint24(s->hdr + 1);
			out->list_len = s->head_want == 3 ? uint24(s->head) : 0;
			s->emitted = 1;
			s->skip = out->len - s->head_want;
			return 1;
		}
		if (s->emitted && s->skip == 0) {
			memset(s, 0, sizeof(*s));
			continue;
		}
		if (*n == 0)
			return 0;
		if (s->hdr_n < 4) {
			s->hdr[s->hdr_n++] = **p;
			if (s->hdr_n == 4)
				s->head_want = uint24(s->hdr + 1) < 3
						       ? uint24(s->hdr + 1) : 3;
			take = 1;
		} else if (s->head_n < s->head_want) {
			s->head[s->head_n++] = **p;
			take = 1;
		} else {
			take = s->skip < *n ? s->skip : *n;
			s->skip -= take;
		}
		*p += take;
		*n -= take;
	}
}

int tls_cert_rule_server(struct tls_cert_rule *r, const struct tls_hs_msg *m)
{
	switch (m->type) {
	case TLS_HS_CERTIFICATE:
		/* an empty list is no certificate */
		if (m->len >= 3 && m->list_len > 0)
			r->seen_cert = 1;
		return 0;
	case TLS_HS_CERT_REQUEST:
		r->seen_request = 1;
		return 0;
	case TLS_HS_SERVER_DONE:
		if (!r->seen_cert)
			return ERR_TLS_NO_SRV_CERT;
		if (r->level >= 4 && !r->seen_request)
			return ERR_TLS_NO_CERT_REQUEST;
		return 1;
	default:
		return 0;
	}
}

int tls_cert_rule_client(const struct tls_hs_msg *m)
{
	if (m->type == TLS_HS_CERTIFICATE && m->len >= 3 && m->list_len > 0)
		return 0;
	return ERR_TLS_NO_CLI_CERT;
}
