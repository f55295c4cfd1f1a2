/*
 * fuzz_mail.c - mail proxy parsing (mailproxy.c, starttls.c): the
 * "[proxyuser:proxypass:]user@host[:port]" login with and without a
 * default host, host[:port] and IPv6 forms, AUTH base64, and the -X
 * STARTTLS client command and server line recognizers of IMAP, POP3 and
 * SMTP.  The first byte selects the parser, the protocol and options.
 * F-MAIL-01
 */
#include "fuzz_util.h"
#include "mailproxy.h"
#include "starttls.h"

static void login(const char *s, size_t n, uint8_t sel)
{
	struct mail_login *lg = malloc(sizeof(*lg));
	char host[MAIL_FIELD_MAX];
	uint16_t port;

	if (lg == NULL)
		return;
	mail_login_parse(s, n, (sel & 4) ? '#' : '@', sel & 8, 110,
			 (sel & 16) ? "mail.example:25" : NULL, lg);
	mail_host_parse(s, n, 143, host, (sel & 32) ? 8 : sizeof(host), &port);
	free(lg);
}

static void b64(const char *s, size_t n, uint8_t sel)
{
	size_t outmax = (sel & 4) ? 4 : n + 1;
	char *out = malloc(outmax);

	if (out == NULL)
		return;
	if (mail_b64_decode(s, n, out, outmax) > (int)outmax - 1)
		abort();                /* more than the room it was given */
	free(out);
}

static void starttls(const char *line, uint8_t sel)
{
	int proto = STARTTLS_IMAP + (sel >> 2) % 3;
	char out[512];

	starttls_client_cmd(proto, line, out, (sel & 64) ? 16 : sizeof(out));
	starttls_srv_greeting_ok(proto, line);
	starttls_srv_capa(proto, line);
	starttls_srv_last(proto, line, sel & 128);
	starttls_srv_go(proto, line);
	mail_prefix(line, "AUTH");
	mail_contains(line, "STARTTLS");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel = fuzz_take(&data, &size);
	char *s = fuzz_cstr(data, size);

	if (s == NULL)
		return 0;
	switch (sel & 3) {
	case 0:
	case 1:
		login(s, size, sel);
		break;
	case 2:
		b64(s, size, sel);
		break;
	default:
		starttls(s, sel);
		break;
	}
	free(s);
	return 0;
}
