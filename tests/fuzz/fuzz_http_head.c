/*
 * fuzz_http_head.c - HTTP/1.x heads (http_parse.c): head scanning,
 * request and response heads, framing, request targets, Host
 * authorities, field lists, Basic credentials and percent-decoding.
 * The first byte selects request or response and HEAD/CONNECT.
 * F-HTTP-01
 */
#include "fuzz_util.h"
#include "http_parse.h"

static void target_checks(const struct http_head *h, int is_connect)
{
	struct http_target t;
	int i;

	if (http_parse_target(h->target.p, h->target.n, is_connect, &t) ==
	    HTTP_OK && t.path.n > 0) {
		char *out = malloc(t.path.n + 1);

		if (out != NULL) {
			http_url_decode(t.path.p, t.path.n, 1, out,
					t.path.n + 1);
			free(out);
		}
	}
	i = http_find_field(h, "Host", 0);
	if (i >= 0)
		http_parse_authority(h->fields[i].value.p,
				     h->fields[i].value.n, 80, &t);
}

static void credential_checks(const struct http_head *h)
{
	char out[512];
	const char *user, *pass;
	int i;

	for (i = http_find_field(h, "Proxy-Authorization", 0); i >= 0;
	     i = http_find_field(h, "Proxy-Authorization", i + 1))
		http_basic_decode(h->fields[i].value, out, sizeof(out), &user,
				  &pass);
}

static void request(const char *buf, size_t n, uint8_t sel)
{
	struct http_head *h = malloc(sizeof(*h));
	struct http_framing f;
	size_t pos = 0, headlen = 0;

	if (h == NULL)
		return;
	if (http_head_scan(buf, n, &pos, &headlen) == HTTP_OK &&
	    http_parse_request_head(buf, headlen, h) == HTTP_OK) {
		int is_connect = http_str_ieq(h->method, "CONNECT");

		http_method_op(h->method, sel & 1);
		http_request_framing(h, &f);
		target_checks(h, is_connect);
		credential_checks(h);
		http_fields_list(h, "Connection", "close");
		http_count_fields(h, "Content-Length");
	}
	free(h);
}

static void response(const char *buf, size_t n, uint8_t sel)
{
	struct http_head *h = malloc(sizeof(*h));
	struct http_framing f;
	size_t pos = 0, headlen = 0;

	if (h == NULL)
		return;
	if (http_head_scan(buf, n, &pos, &headlen) == HTTP_OK &&
	    http_parse_response_head(buf, headlen, h) == HTTP_OK) {
		http_response_framing(h, sel & 1, &f);
		http_fields_list(h, "Proxy-Connection", "keep-alive");
	}
	free(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel = fuzz_take(&data, &size);
	char *buf = (char *)fuzz_dup(data, size);

	if (buf == NULL)
		return 0;
	if (sel & 0x80)
		response(buf, size, sel);
	else
		request(buf, size, sel);
	free(buf);
	return 0;
}
