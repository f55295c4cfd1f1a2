/*
 * fuzz_acl.c - ACE field parsing (acl.c): users, sources, targets
 * (addresses, ranges, CIDR, host name patterns), ports, operations,
 * weekdays and times, as `allow`/`deny` and the other rule lists give
 * them; a compiled rule is matched against a few requests.  Input: the
 * fields separated by spaces (at most seven).
 * F-ACL-01
 */
#include "fuzz_util.h"
#include "acl.h"
#include "client.h"

#define NFIELDS 7

static void match(const struct acl_rule *r)
{
	struct request req;
	struct net_addr src;
	char host[] = "www.example.com";

	memset(&req, 0, sizeof(req));
	net_parse_ip("10.1.2.3", &src);
	req.host = host;
	req.port = 443;
	req.command = ~0u;
	acl_rule_match(r, &req, "alice", &src, 1795458702);
	net_parse_ip("2001:db8::1", &req.addr);
	req.host = NULL;
	acl_rule_match(r, &req, NULL, &src, 0);
	req.preauth = 1;
	acl_rule_match(r, &req, "", &src, 1795458702);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_cstr(data, size), *argv[NFIELDS], *p;
	char err[256], warn[256];
	struct acl_rule *r;
	int n = 0;

	if (buf == NULL)
		return 0;
	for (p = buf; *p != '\0' && n < NFIELDS;) {
		argv[n++] = p;
		p += strcspn(p, " ");
		if (*p == ' ')
			*p++ = '\0';
	}
	err[0] = warn[0] = '\0';
	r = acl_rule_compile(n, argv, err, sizeof(err), warn, sizeof(warn));
	if (r != NULL) {
		match(r);
		acl_rule_unref(r);
	} else if (err[0] == '\0') {
		abort();                /* a refused rule always says why */
	}
	free(buf);
	return 0;
}
