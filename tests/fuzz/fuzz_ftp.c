/*
 * fuzz_ftp.c - FTP parsing (ftp_client.c) shared by ftppr and ftp:// in
 * proxy: server reply lines assembled into replies (multi-line forms),
 * PASV/EPSV replies, the client's PORT/EPRT arguments and LIST lines.
 * The input is split into lines; the first byte selects the parser.
 * F-FTP-01
 */
#include "fuzz_util.h"
#include "ftp_client.h"

static void one_line(const char *line, size_t len, uint8_t sel)
{
	struct ftp_list_entry e;
	uint8_t ip[4];
	uint16_t port;
	int af;

	switch (sel % 5) {
	case 0:
		ftp_parse_pasv(line, len, ip, &port);
		break;
	case 1:
		ftp_parse_epsv(line, len, &port);
		break;
	case 2:
		ftp_parse_port(line, len, ip, &port);
		break;
	case 3:
		ftp_parse_eprt(line, len, &af, &port);
		break;
	default:
		if (ftp_parse_list_line(line, len, &e) == 0 &&
		    (e.name < line || e.name + e.namelen > line + len))
			abort();        /* the name must lie in the line */
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel = fuzz_take(&data, &size);
	char *buf = (char *)fuzz_dup(data, size);
	struct ftp_reply *r = malloc(sizeof(*r));
	size_t off = 0;

	if (buf == NULL || r == NULL)
		goto out;
	ftp_reply_init(r);
	while (off < size) {
		const char *nl = memchr(buf + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (buf + off)) : size - off;
		/* each line in its own exact-size block */
		char *line = (char *)fuzz_dup((const uint8_t *)buf + off, len);

		if (line == NULL)
			break;
		if (sel & 0x80) {
			int rc = ftp_reply_line(r, line, len);

			if (r->textlen >= sizeof(r->text))
				abort();
			if (rc != FTP_REPLY_MORE)
				ftp_reply_init(r);
		} else {
			one_line(line, len, sel);
		}
		free(line);
		off += len + 1;
	}
out:
	free(buf);
	free(r);
	return 0;
}
