/*
 * ftp_client.c - the client side of FTP (see ftp_client.h).
 *
 * Owns nothing: the control socket belongs to the caller.  Replies are
 * read a line at a time with sockio_read_line, so bytes after a reply
 * stay in the socket for the next one.
 */
#include "ftp_client.h"
#include "sockio.h"

#include <stdio.h>
#include <string.h>

/* ---- replies ------------------------------------------------------------ */

void ftp_reply_init(struct ftp_reply *r)
{
	memset(r, 0, sizeof(*r));
}

static void ftp_reply_keep(struct ftp_reply *r, const char *line, size_t len)
{
	size_t room = sizeof(r->text) - 1 - r->textlen;

	if (r->textlen > 0 && room > 0) {
		r->text[r->textlen++] = '\n';
		room--;
	}
	if (len > room)
		len = room;
	memcpy(r->text + r->textlen, line, len);
	r->textlen += len;
	r->text[r->textlen] = '\0';
}

int ftp_code_of(const char *line, size_t len)
{
	if (len < 3 || line[0] < '1' || line[0] > '5' || line[1] < '0' ||
	    line[1] > '9' || line[2] < '0' || line[2] > '9')
		return -1;
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return -1;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

int ftp_reply_line(struct ftp_reply *r, const char *line, size_t len)
{
	int code = ftp_code_of(line, len);

	if (r->code == 0) {
		if (code < 0)
			return FTP_REPLY_BAD;
		r->code = code;
		r->multi = len > 3 && line[3] == '-';
		ftp_reply_keep(r, line, len);
		return r->multi ? FTP_REPLY_MORE : FTP_REPLY_DONE;
	}
	ftp_reply_keep(r, line, len);
	/* a multi-line reply ends with "<same code> " (RFC 959 4.2) */
	if (code == r->code && (len == 3 || line[3] == ' ')) {
		r->multi = 0;
		return FTP_REPLY_DONE;
	}
	return FTP_REPLY_MORE;
}

/* Read an unsigned decimal number of at most maxv at *i. */
static int ftp_number(const char *s, size_t len, size_t *i, unsigned maxv,
		      unsigned *out)
{
	unsigned v = 0;
	size_t start = *i;

	while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
		v = v * 10 + (unsigned)(s[*i] - '0');
		if (v > maxv)
			return -1;
		(*i)++;
	}
	if (*i == start)
		return -1;
	*out = v;
	return 0;
}

int ftp_parse_pasv(const char *text, size_t len, uint8_t ip[4],
		   uint16_t *port)
{
	unsigned v[6];
	size_t i = 4, k;

	if (len < 4 || ftp_code_of(text, len) != 227)
		return -1;
	/* the numbers start at the first digit after the code */
	while (i < len && (text[i] < '0' || text[i] > '9'))
		i++;
	for (k = 0; k < 6; k++) {
		if (ftp_number(text, len, &i, 255, &v[k]) != 0)
			return -1;
		if (k < 5) {
			if (i >= len || text[i] != ',')
				return -1;
			i++;
		}
	}
	for (k = 0; k < 4; k++)
		ip[k] = (uint8_t)v[k];
	*port = (uint16_t)(v[4] * 256 + v[5]);
	return *port ? 0 : -1;
}

int ftp_parse_epsv(const char *text, size_t len, uint16_t *port)
{
	const char *open;
	unsigned v;
	size_t i;
	char d;

	if (ftp_code_of(text, len) != 229)
		return -1;
	open = memchr(text, '(', len);
	if (open == NULL)
		return -1;
	i = (size_t)(open - text) + 1;
	/* (<d><d><d>port<d>) with the same delimiter four times */
	if (i + 4 > len)
		return -1;
	d = text[i];
	if (d < 33 || d > 126 || text[i + 1] != d || text[i + 2] != d)
		return -1;
	i += 3;
	if (ftp_number(text, len, &i, 65535, &v) != 0 || v == 0)
		return -1;
	if (i + 1 >= len || text[i] != d || text[i + 1] != ')')
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int ftp_parse_port(const char *arg, size_t len, uint8_t ip[4],
		   uint16_t *port)
{
	unsigned v[6];
	size_t i = 0, k;

	while (i < len && arg[i] == ' ')
		i++;
	for (k = 0; k < 6; k++) {
		if (ftp_number(arg, len, &i, 255, &v[k]) != 0)
			return -1;
		if (k < 5) {
			if (i >= len || arg[i] != ',')
				return -1;
			i++;
		}
	}
	while (i < len && arg[i] == ' ')
		i++;
	if (i != len)
		return -1;
	for (k = 0; k < 4; k++)
		ip[k] = (uint8_t)v[k];
	*port = (uint16_t)(v[4] * 256 + v[5]);
	return *port ? 0 : -1;
}

int ftp_parse_eprt(const char *arg, size_t len, int *af, uint16_t *port)
{
	unsigned fam, v;
	size_t i = 0;
	char d;

	if (len < 1)
		return -1;
	d = arg[i++];
	if (d < 33 || d > 126 || (d >= '0' && d <= '9'))
		return -1;
	if (ftp_number(arg, len, &i, 2, &fam) != 0 || fam == 0)
		return -1;
	if (i >= len || arg[i++] != d)
		return -1;
	/* the address: hex digits, dots and colons only */
	while (i < len && arg[i] != d) {
		if (strchr("0123456789abcdefABCDEF.:", arg[i]) == NULL)
			return -1;
		i++;
	}
	if (i >= len || arg[i - 1] == d)
		return -1;
	i++;
	if (ftp_number(arg, len, &i, 65535, &v) != 0 || v == 0)
		return -1;
	if (i + 1 != len || arg[i] != d)
		return -1;
	*af = (int)fam;
	*port = (uint16_t)v;
	return 0;
}

/* Split off the next blank-separated column at *i. */
static int ftp_column(const char *s, size_t len, size_t *i, const char **p,
		      size_t *n)
{
	while (*i < len && (s[*i] == ' ' || s[*i] == '\t'))
		(*i)++;
	if (*i >= len)
		return -1;
	*p = s + *i;
	while (*i < len && s[*i] != ' ' && s[*i] != '\t')
		(*i)++;
	*n = (size_t)(s + *i - *p);
	return 0;
}

int ftp_parse_list_line(const char *line, size_t len,
			struct ftp_list_entry *e)
{
	const char *col[8], *arrow;
	size_t n[8], i = 0, k;

	memset(e, 0, sizeof(*e));
	for (k = 0; k < 8; k++)
		if (ftp_column(line, len, &i, &col[k], &n[k]) != 0)
			return -1;
	if (n[0] != 10 || strchr("-dl", col[0][0]) == NULL)
		return -1;
	while (i < len && line[i] == ' ')
		i++;
	if (i >= len)
		return -1;
	e->type = col[0][0];
	e->size = col[4];
	e->sizelen = n[4];
	e->date = col[5];
	e->datelen = (size_t)(col[7] + n[7] - col[5]);
	e->name = line + i;
	e->namelen = len - i;
	if (e->type == 'l') {
		for (arrow = e->name; arrow + 4 <= line + len; arrow++)
			if (memcmp(arrow, " -> ", 4) == 0) {
				e->namelen = (size_t)(arrow - e->name);
				break;
			}
	}
	return e->namelen ? 0 : -1;
}

/* ---- control connection ------------------------------------------------ */

void ftp_conn_init(struct ftp_conn *fc, os_sock_t s, int timeout_ms)
{
	memset(fc, 0, sizeof(*fc));
	fc->s = s;
	fc->timeout_ms = timeout_ms;
}

int ftp_read_reply(struct ftp_conn *fc)
{
	return ftp_read_reply_fn(fc, NULL, NULL);
}

int ftp_read_reply_fn(struct ftp_conn *fc, ftp_line_fn fn, void *arg)
{
	ftp_reply_init(&fc->reply);
	for (;;) {
		size_t n = 0;
		int rc = sockio_read_line(fc->s, fc->line, sizeof(fc->line),
					  &n, fc->timeout_ms);

		/* an over-long line is kept cut; the rest comes next */
		if (rc <= 0 && rc != SOCKIO_TOOLONG)
			return -1;
		while (n > 0 && (fc->line[n - 1] == '\n' ||
				 fc->line[n - 1] == '\r'))
			n--;
		rc = ftp_reply_line(&fc->reply, fc->line, n);
		if (rc != FTP_REPLY_BAD && fn != NULL &&
		    fn(arg, fc->line, n) != 0)
			return -2;
		if (rc == FTP_REPLY_DONE)
			return 0;
		if (rc == FTP_REPLY_BAD)
			return -1;
	}
}

int ftp_command(struct ftp_conn *fc, const char *cmd, const char *arg)
{
	char buf[FTP_MAX_LINE];
	int n;

	if (arg && strpbrk(arg, "\r\n") != NULL)
		return -2;
	n = snprintf(buf, sizeof(buf), "%s%s%s\r\n", cmd, arg ? " " : "",
		     arg ? arg : "");
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -2;
	if (sockio_write_all(fc->s, buf, (size_t)n, fc->timeout_ms) != 0)
		return -1;
	return ftp_read_reply(fc);
}

static int ftp_class(const struct ftp_conn *fc)
{
	return fc->reply.code / 100;
}

int ftp_login(struct ftp_conn *fc, const char *user, const char *pass)
{
	int rc = ftp_greeting(fc);

	return rc != 0 ? rc : ftp_user_pass(fc, user, pass);
}

int ftp_greeting(struct ftp_conn *fc)
{
	if (ftp_read_reply(fc) != 0)
		return FTP_E_IO_GREETING;
	return ftp_class(fc) == 2 ? 0 : FTP_E_GREETING;
}

int ftp_user_pass(struct ftp_conn *fc, const char *user, const char *pass)
{
	if (ftp_command(fc, "USER", user) != 0)
		return FTP_E_IO_USER;
	if (ftp_class(fc) == 2)
		return 0;
	if (ftp_class(fc) != 3)
		return FTP_E_LOGIN;
	if (ftp_command(fc, "PASS", pass) != 0)
		return FTP_E_IO_PASS;
	return ftp_class(fc) == 2 ? 0 : FTP_E_PASS;
}

int ftp_cwd(struct ftp_conn *fc, const char *path)
{
	if (ftp_command(fc, "CWD", path) != 0)
		return FTP_E_CWD_IO;
	return ftp_class(fc) == 2 ? 0 : FTP_E_CWD;
}

int ftp_type(struct ftp_conn *fc, char type)
{
	char arg[2] = { type, '\0' };

	if (ftp_command(fc, "TYPE", arg) != 0)
		return FTP_E_TYPE_IO;
	return ftp_class(fc) == 2 ? 0 : FTP_E_TYPE;
}

static int ftp_try_epsv(struct ftp_conn *fc, uint16_t *port)
{
	if (ftp_command(fc, "EPSV", NULL) != 0)
		return -1;
	return ftp_parse_epsv(fc->reply.text, strcspn(fc->reply.text, "\n"),
			      port) == 0 ? 0 : 1;
}

static int ftp_try_pasv(struct ftp_conn *fc, uint16_t *port)
{
	uint8_t ip[4];

	if (ftp_command(fc, "PASV", NULL) != 0)
		return -1;
	return ftp_parse_pasv(fc->reply.text, strcspn(fc->reply.text, "\n"),
			      ip, port) == 0 ? 0 : 1;
}

int ftp_passive(struct ftp_conn *fc, const struct net_addr *peer,
		struct net_addr *data)
{
	int v6 = net_family(peer) == AF_INET6;
	uint16_t port = 0;
	int rc = v6 ? ftp_try_epsv(fc, &port) : ftp_try_pasv(fc, &port);

	if (rc > 0)
		rc = v6 ? ftp_try_pasv(fc, &port) : ftp_try_epsv(fc, &port);
	if (rc < 0)
		return FTP_E_PASV_IO;
	if (rc > 0)
		return FTP_E_PASV;
	*data = *peer;
	net_set_port(data, port);
	return 0;
}

int ftp_transfer_start(struct ftp_conn *fc, const char *cmd, const char *arg)
{
	int rc = ftp_command(fc, cmd, arg);

	if (rc == -2)
		return FTP_E_URL;
	if (rc != 0)
		return FTP_E_XFER_IO;
	return ftp_class(fc) == 1 ? 0 : FTP_E_DATA;
}

int ftp_transfer_end(struct ftp_conn *fc)
{
	if (ftp_read_reply(fc) != 0)
		return FTP_E_XFER_END;
	return ftp_class(fc) == 2 ? 0 : FTP_E_XFER_FAIL;
}

int64_t ftp_size(struct ftp_conn *fc, const char *path)
{
	int64_t v = 0;
	const char *p;

	if (ftp_command(fc, "SIZE", path) != 0 || fc->reply.code != 213)
		return -1;
	p = fc->reply.text + 3;
	while (*p == ' ')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9' && v < ((int64_t)1 << 56))
		v = v * 10 + (*p++ - '0');
	return *p == '\0' || *p == ' ' ? v : -1;
}

void ftp_quit(struct ftp_conn *fc)
{
	static const char quit[] = "QUIT\r\n";

	sockio_write_all(fc->s, quit, sizeof(quit) - 1, 1000);
}
