/*
 * tls_certcheck.c - the record relay behind tlspr -c3/-c4; the rules
 * themselves are in tls_hsscan.c.  Runs on the worker thread with the
 * caller's buffer; no shared state.
 */
#include "tls_certcheck.h"
#include "client.h"
#include "errcode.h"
#include "service.h"
#include "sockio.h"
#include "tls_hello.h"
#include "tls_hsscan.h"

/* Records of one side looked at before giving up: a server flight is a
 * handful of records, a huge certificate chain a few dozen. */
#define CERTCHECK_RECORDS_MAX 64

/* Read errors of one side: timeout, EOF, other; bad header. */
struct side_err {
	int tmo, eof, err, bad;
};

static const struct side_err srv_err = {
	ERR_TLS_SRV_TIMEOUT, ERR_TLS_SRV_EOF, ERR_TLS_SRV_READ,
	ERR_TLS_SRV_BAD_LENGTH
};
static const struct side_err cli_err = {
	ERR_TLS_CLI_TIMEOUT, ERR_TLS_CLI_EOF, ERR_TLS_CLI_READ,
	ERR_TLS_NO_CLI_CERT
};

static int read_fail(int r, const struct side_err *e)
{
	if (r == SOCKIO_TIMEOUT)
		return e->tmo;
	return r == SOCKIO_EOF ? e->eof : e->err;
}

/* One whole record from s into buf; *len its payload length. */
static int read_record(os_sock_t s, uint8_t *buf, size_t *len, int tmo,
		       const struct side_err *e)
{
	int r = sockio_read_exact(s, buf, TLS_RECORD_HEADER, tmo);

	if (r <= 0)
		return read_fail(r, e);
	if (tls_record_header(buf, len) != 0)
		return e->bad;
	r = sockio_read_exact(s, buf + TLS_RECORD_HEADER, *len, tmo);
	return r <= 0 ? read_fail(r, e) : 0;
}

/* Feed one record's payload to the server rule: 0 go on, 1 decided. */
static int scan_server(struct tls_hs_scan *sc, struct tls_cert_rule *rule,
		       const uint8_t *rec, size_t len)
{
	const uint8_t *p = rec + TLS_RECORD_HEADER;
	struct tls_hs_msg m;
	int rc;

	if (rec[0] == TLS_CT_ALERT)
		return ERR_TLS_SRV_ALERT;
	/* ChangeCipherSpec before ServerHelloDone: an abbreviated
	 * (resumed) handshake, which carries no certificate */
	if (rec[0] == TLS_CT_CHANGE_CIPHER)
		return ERR_TLS_NO_SRV_CERT;
	if (rec[0] != TLS_CT_HANDSHAKE)
		return ERR_TLS_SRV_NOT_HANDSHAKE;
	while (tls_hs_next(sc, &p, &len, &m) == 1) {
		rc = tls_cert_rule_server(rule, &m);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int forward(struct client *cl, os_sock_t to, const uint8_t *rec,
		   size_t len, int tmo, int err)
{
	if (sockio_write_all(to, rec, TLS_RECORD_HEADER + len, tmo) != 0)
		return err;
	if (to == cl->cl_sock)
		cl->stats.bytes_from_server += TLS_RECORD_HEADER + len;
	else
		cl->stats.bytes_from_client += TLS_RECORD_HEADER + len;
	return 0;
}

/* -c4: the client's answer must open with a non-empty Certificate. */
static int check_client(struct client *cl, uint8_t *buf, int tmo)
{
	struct tls_hs_scan sc = {0};
	struct tls_hs_msg m;
	const uint8_t *p;
	size_t len;
	int i, rc;

	for (i = 0; i < CERTCHECK_RECORDS_MAX; i++) {
		rc = read_record(cl->cl_sock, buf, &len, tmo, &cli_err);
		if (rc != 0)
			return rc;
		if (buf[0] != TLS_CT_HANDSHAKE)
			return ERR_TLS_NO_CLI_CERT;
		p = buf + TLS_RECORD_HEADER;
		rc = tls_hs_next(&sc, &p, &len, &m) == 1
			     ? tls_cert_rule_client(&m) : -1;
		if (rc > 0)
			return rc;
		len = (size_t)(buf[3] << 8 | buf[4]);
		if (forward(cl, cl->srv_sock, buf, len, tmo, ERR_RELAY_SERVER))
			return ERR_RELAY_SERVER;
		if (rc == 0)
			return 0;
	}
	return ERR_TLS_NO_CLI_CERT;
}

int tls_cert_check(struct client *cl, int level, int version,
		   const uint8_t *rec, size_t rec_len, uint8_t *buf)
{
	int tmo = svc_timeout_ms(cl->gen, TO_STRING_SHORT);
	struct tls_cert_rule rule = {0};
	struct tls_hs_scan sc = {0};
	size_t len;
	int i, rc;

	/* TLS 1.3 encrypts the certificates: nothing to check */
	if (version >= 4)
		return ERR_TLS_13_NO_CHECK;
	rule.level = level;
	rc = scan_server(&sc, &rule, rec, rec_len - TLS_RECORD_HEADER);
	if ((rc == 0 || rc == 1) &&
	    forward(cl, cl->cl_sock, rec, rec_len - TLS_RECORD_HEADER, tmo,
		    ERR_TLS_CLIENT_SEND))
		return ERR_TLS_CLIENT_SEND;
	for (i = 0; rc == 0 && i < CERTCHECK_RECORDS_MAX; i++) {
		rc = read_record(cl->srv_sock, buf, &len, tmo, &srv_err);
		if (rc == 0)
			rc = scan_server(&sc, &rule, buf, len);
		if ((rc == 0 || rc == 1) &&
		    forward(cl, cl->cl_sock, buf, len, tmo,
			    ERR_TLS_CLIENT_SEND))
			return ERR_TLS_CLIENT_SEND;
	}
	if (rc == 0)
		return ERR_TLS_NO_SRV_CERT;
	if (rc != 1)
		return rc;
	return level >= 4 ? check_client(cl, buf, tmo) : 0;
}
