/*
 * fuzz_tls_hello.c - TLS ClientHello and SNI (tls_hello.c) as tlspr
 * reads it, the record header check, the %T text, and the check of the
 * server's first record.  The first byte selects client or server side.
 * F-TLSPR-01
 */
#include "fuzz_util.h"
#include "tls_hello.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel = fuzz_take(&data, &size);
	uint8_t *p = fuzz_dup(data, size);
	struct tls_hello h;
	char text[TLS_HOST_MAX + TLS_ALPN_MAX + 64];
	size_t rlen;
	int version;

	if (p == NULL)
		return 0;
	if (sel & 1) {
		tls_server_hello_check(p, size, &version);
	} else if (tls_hello_parse(p, size, &h) == 0) {
		if (h.len > size || h.split > h.len ||
		    h.host_len != strlen(h.host))
			abort();        /* offsets must stay in the input */
		tls_hello_text(&h, text, sizeof(text));
		tls_hello_text(&h, text, 8);
	}
	if (size >= TLS_RECORD_HEADER)
		tls_record_header(p, &rlen);
	free(p);
	return 0;
}
