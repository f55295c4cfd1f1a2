/*
 * acl.c - compile ACE fields into rules, keep ordered ACL lists, and
 * match a request against them (reference acl-auth.md section 4).
 *
 * Owns struct acl_rule and struct acl.  Both are built on the config
 * thread and immutable once a service has taken them: matching takes no
 * lock.  Reference counts use atomics because the last reference may go
 * away on a worker thread that ends a generation.
 *
 * Large lists do not cost a scan per request: user names are sorted and
 * binary-searched; address entries are sorted by their first address
 * with a running maximum of last addresses, so "is x inside any range"
 * is one binary search.
 */
#include "acl.h"
#include "client.h"
#include "conf.h"
#include "errcode.h"
#include "os.h"
#include "parent.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One address entry: [lo, hi] in network byte order; maxhi is the
 * largest hi of this and every earlier entry in sorted order. */
struct acl_range {
	uint8_t lo[16], hi[16], maxhi[16];
};

struct acl_nets {
	struct acl_range *v4, *v6;
	size_t n4, n6;
};

enum host_kind { HOST_EXACT, HOST_SUFFIX, HOST_PREFIX, HOST_CONTAINS };

struct host_pat {
	char *s;                 /* lower case, without the '*' */
	size_t len;
	enum host_kind kind;
};

struct port_range {
	uint16_t lo, hi;
};

struct time_range {
	long start, end;         /* seconds since local midnight, [start,end) */
};

struct acl_rule {
	int refs;                /* atomic */
	int any_user;
	char **users;            /* sorted */
	size_t nusers;
	int any_src;
	struct acl_nets src;
	int any_dst;             /* no target restriction at all */
	struct acl_nets dst;
	struct host_pat *hosts;
	size_t nhosts;
	int any_port;
	struct port_range *ports;
	size_t nports;
	unsigned ops;            /* 0 = any */
	unsigned wdays;          /* bit per weekday (0 = Sunday); 0 = any */
	struct time_range *times;
	size_t ntimes;           /* 0 = any time */
};

struct acl {
	int refs;                /* atomic */
	size_t n, cap;
	struct acl_entry *e;
	int dst_addrs;           /* some ACE has target address entries */
};

/* Operation names of acl-auth.md 4.3 (F-ACL-07). */
static const struct {
	const char *name;
	unsigned bits;
} op_names[] = {
	{ "CONNECT", OP_CONNECT }, { "BIND", OP_BIND },
	{ "UDPASSOC", OP_UDPASSOC }, { "ICMPASSOC", OP_ICMPASSOC },
	{ "HTTP_GET", OP_HTTP_GET }, { "HTTP_PUT", OP_HTTP_PUT },
	{ "HTTP_POST", OP_HTTP_POST }, { "HTTP_HEAD", OP_HTTP_HEAD },
	{ "HTTP_CONNECT", OP_HTTP_CONNECT }, { "HTTPS", OP_HTTP_CONNECT },
	{ "HTTP_OTHER", OP_HTTP_OTHER }, { "HTTP", OP_HTTP },
	{ "FTP_GET", OP_FTP_GET }, { "FTP_PUT", OP_FTP_PUT },
	{ "FTP_LIST", OP_FTP_LIST }, { "FTP_DATA", OP_FTP_DATA },
	{ "FTP", OP_FTP }, { "DNSRESOLVE", OP_DNSRESOLVE },
	{ "ADMIN", OP_ADMIN },
};

/* ---- small helpers ------------------------------------------------------ */

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static int
same_nocase(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return 0;
	return 1;
}

static int
is_star(const char *s)
{
	return s[0] == '*' && s[1] == '\0';
}

/* Next comma-separated item of *p into buf; 0 at the end.  Empty items
 * (",,") are skipped. */
static int
next_item(const char **p, char *buf, size_t len, int *toolong)
{
	const char *s = *p, *e;
	size_t n;

	while (*s == ',')
		s++;
	if (*s == '\0')
		return 0;
	e = strchr(s, ',');
	n = e ? (size_t)(e - s) : strlen(s);
	*toolong = n >= len;
	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*p = e ? e : s + strlen(s);
	return 1;
}

/* Family and bytes of an address; 0 if not IPv4/IPv6. */
static int
addr_bytes(const struct net_addr *a, uint8_t out[16])
{
	int fam;

	if (a == NULL || a->len == 0)
		return 0;
	fam = net_family(a);
	if (fam == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)&a->ss)->sin_addr, 4);
		return AF_INET;
	}
	if (fam == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)&a->ss)->sin6_addr,
		       16);
		return AF_INET6;
	}
	return 0;
}

static int
parse_one_ip(const char *s, uint8_t out[16])
{
	struct net_addr a;

	if (net_parse_ip(s, &a) != 0)
		return 0;
	return addr_bytes(&a, out);
}

/* ---- address lists (F-ACL-04) ------------------------------------------- */

/* Parse "addr", "addr/len" or "first-last".  Returns the family, or 0
 * if the item is not an address form. */
static int
parse_range(const char *item, struct acl_range *r)
{
	char buf[128];
	const char *sep;
	int fam, fam2, nbytes, i;
	long bits;

	if (strlen(item) >= sizeof(buf))
		return 0;
	memset(r, 0, sizeof(*r));
	if ((sep = strchr(item, '/')) != NULL) {
		memcpy(buf, item, (size_t)(sep - item));
		buf[sep - item] = '\0';
		fam = parse_one_ip(buf, r->lo);
		nbytes = fam == AF_INET ? 4 : 16;
		if (fam == 0 || conf_parse_long(sep + 1, 0, 8 * nbytes,
						&bits) != 0)
			return 0;
		for (i = 0; i < nbytes; i++) {
			int keep = bits >= 8 * (i + 1) ? 8
				   : bits <= 8 * i ? 0 : (int)(bits - 8 * i);
			uint8_t mask = (uint8_t)(0xff00 >> keep);

			r->lo[i] &= mask;
			r->hi[i] = (uint8_t)(r->lo[i] | (uint8_t)~mask);
		}
		return fam;
	}
	if ((sep = strchr(item, '-')) != NULL) {
		memcpy(buf, item, (size_t)(sep - item));
		buf[sep - item] = '\0';
		fam = parse_one_ip(buf, r->lo);
		fam2 = parse_one_ip(sep + 1, r->hi);
		if (fam == 0 || fam != fam2 ||
		    memcmp(r->lo, r->hi, fam == AF_INET ? 4 : 16) > 0)
			return 0;
		return fam;
	}
	fam = parse_one_ip(item, r->lo);
	memcpy(r->hi, r->lo, sizeof(r->hi));
	return fam;
}

static int
push_range(struct acl_nets *nets, int fam, const struct acl_range *r)
{
	struct acl_range **v = fam == AF_INET ? &nets->v4 : &nets->v6;
	size_t *n = fam == AF_INET ? &nets->n4 : &nets->n6;
	struct acl_range *nv = realloc(*v, sizeof(**v) * (*n + 1));

	if (nv == NULL)
		return -1;
	nv[*n] = *r;
	*v = nv;
	(*n)++;
	return 0;
}

static int
cmp_lo4(const void *a, const void *b)
{
	return memcmp(((const struct acl_range *)a)->lo,
		      ((const struct acl_range *)b)->lo, 4);
}

static int
cmp_lo16(const void *a, const void *b)
{
	return memcmp(((const struct acl_range *)a)->lo,
		      ((const struct acl_range *)b)->lo, 16);
}

static void
index_ranges(struct acl_range *v, size_t n, size_t width)
{
	size_t i;

	if (n == 0)
		return;
	qsort(v, n, sizeof(*v), width == 4 ? cmp_lo4 : cmp_lo16);
	for (i = 0; i < n; i++) {
		memcpy(v[i].maxhi, v[i].hi, sizeof(v[i].maxhi));
		if (i > 0 && memcmp(v[i - 1].maxhi, v[i].maxhi, width) > 0)
			memcpy(v[i].maxhi, v[i - 1].maxhi, sizeof(v[i].maxhi));
	}
}

static void
index_nets(struct acl_nets *nets)
{
	index_ranges(nets->v4, nets->n4, 4);
	index_ranges(nets->v6, nets->n6, 16);
}

/* Is x within any range?  Ranges are sorted by lo: among those with
 * lo <= x, the largest hi decides. */
static int
in_ranges(const struct acl_range *v, size_t n, const uint8_t *x,
	  size_t width)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(v[mid].lo, x, width) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* lo = number of entries with v.lo <= x */
	return lo > 0 && memcmp(v[lo - 1].maxhi, x, width) >= 0;
}

static int
nets_match(const struct acl_nets *nets, const struct net_addr *a)
{
	uint8_t b[16];
	int fam = addr_bytes(a, b);

	if (fam == AF_INET)
		return in_ranges(nets->v4, nets->n4, b, 4);
	if (fam == AF_INET6)
		return in_ranges(nets->v6, nets->n6, b, 16);
	return 0;
}

static void
nets_free(struct acl_nets *nets)
{
	free(nets->v4);
	free(nets->v6);
}

/* ---- field compilers ----------------------------------------------------- */

struct diag {
	char *err, *warn;
	size_t errlen, warnlen;
};

static int
fail(struct diag *d, const char *what, const char *item)
{
	snprintf(d->err, d->errlen, "%s: '%s'", what, item);
	return -1;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
compile_users(struct acl_rule *r, const char *f, struct diag *d)
{
	const char *p = f, *e;
	size_t n = 1, i = 0;

	for (e = f; *e; e++)
		n += *e == ',';
	r->users = calloc(n, sizeof(*r->users));
	if (r->users == NULL)
		return fail(d, "out of memory", "users");
	while (*p != '\0') {
		size_t len;

		while (*p == ',')
			p++;
		if (*p == '\0')
			break;
		e = strchr(p, ',');
		len = e ? (size_t)(e - p) : strlen(p);
		if (len == 1 && *p == '*')
			r->any_user = 1;
		r->users[i] = malloc(len + 1);
		if (r->users[i] == NULL)
			return fail(d, "out of memory", "users");
		memcpy(r->users[i], p, len);
		r->users[i++][len] = '\0';
		r->nusers = i;
		p += len;
	}
	qsort(r->users, r->nusers, sizeof(*r->users), cmp_str);
	return 0;
}

static int
compile_sources(struct acl_rule *r, const char *f, struct diag *d)
{
	char item[128];
	int toolong, fam;
	struct acl_range rg;

	while (next_item(&f, item, sizeof(item), &toolong)) {
		if (is_star(item)) {
			r->any_src = 1;
			continue;
		}
		fam = toolong ? 0 : parse_range(item, &rg);
		if (fam == 0)
			return fail(d, "Invalid IP, IP range or CIDR", item);
		if (push_range(&r->src, fam, &rg) != 0)
			return fail(d, "out of memory", item);
	}
	index_nets(&r->src);
	return 0;
}

/* An item made only of address characters that still did not parse is
 * most likely a typo; 3proxy takes it as a host name, and so do we, but
 * we say so. */
static int
looks_numeric(const char *s)
{
	for (; *s; s++)
		if (!strchr("0123456789./-", *s))
			return 0;
	return 1;
}

static int
push_host(struct acl_rule *r, const char *item, struct diag *d)
{
	struct host_pat *nh, *h;
	size_t len = strlen(item), i;
	const char *s = item;

	nh = realloc(r->hosts, sizeof(*nh) * (r->nhosts + 1));
	if (nh == NULL)
		return fail(d, "out of memory", item);
	r->hosts = nh;
	h = &nh[r->nhosts];
	h->kind = HOST_EXACT;
	if (len >= 2 && item[0] == '*' && item[len - 1] == '*') {
		h->kind = HOST_CONTAINS;
		s++;
		len -= 2;
	} else if (item[0] == '*') {
		h->kind = HOST_SUFFIX;
		s++;
		len--;
	} else if (len > 0 && item[len - 1] == '*') {
		h->kind = HOST_PREFIX;
		len--;
	}
	h->s = malloc(len + 1);
	if (h->s == NULL)
		return fail(d, "out of memory", item);
	for (i = 0; i < len; i++)
		h->s[i] = lower(s[i]);
	h->s[len] = '\0';
	h->len = len;
	r->nhosts++;
	return 0;
}

static int
compile_targets(struct acl_rule *r, const char *f, struct diag *d)
{
	char item[300];
	int toolong, fam;
	struct acl_range rg;

	while (next_item(&f, item, sizeof(item), &toolong)) {
		if (toolong)
			return fail(d, "target too long", item);
		if (is_star(item)) {
			r->any_dst = 1;
			continue;
		}
		fam = parse_range(item, &rg);
		if (fam != 0) {
			if (push_range(&r->dst, fam, &rg) != 0)
				return fail(d, "out of memory", item);
			continue;
		}
		if (looks_numeric(item) && d->warn[0] == '\0')
			snprintf(d->warn, d->warnlen, "target '%s' is not a "
				 "valid address: matched as a host name", item);
		if (push_host(r, item, d) != 0)
			return -1;
	}
	index_nets(&r->dst);
	return 0;
}

static int
compile_ports(struct acl_rule *r, const char *f, struct diag *d)
{
	char item[64], *dash;
	int toolong;
	long lo, hi;
	struct port_range *np;

	while (next_item(&f, item, sizeof(item), &toolong)) {
		if (is_star(item)) {
			r->any_port = 1;
			continue;
		}
		dash = strchr(item, '-');
		if (dash != NULL)
			*dash = '\0';
		if (toolong || conf_parse_long(item, 0, 65535, &lo) != 0 ||
		    conf_parse_long(dash ? dash + 1 : item, 0, 65535, &hi) != 0
		    || hi < lo) {
			if (dash != NULL)
				*dash = '-';
			return fail(d, "Invalid port or port range", item);
		}
		np = realloc(r->ports, sizeof(*np) * (r->nports + 1));
		if (np == NULL)
			return fail(d, "out of memory", item);
		r->ports = np;
		np[r->nports].lo = (uint16_t)lo;
		np[r->nports++].hi = (uint16_t)hi;
	}
	return 0;
}

static int
compile_ops(struct acl_rule *r, const char *f, struct diag *d)
{
	char item[64];
	int toolong;
	size_t i;

	while (next_item(&f, item, sizeof(item), &toolong)) {
		if (is_star(item)) {
			r->ops = 0;
			return 0;
		}
		for (i = 0; i < sizeof(op_names) / sizeof(op_names[0]); i++) {
			if (strlen(op_names[i].name) == strlen(item) &&
			    same_nocase(op_names[i].name, item, strlen(item)))
				break;
		}
		if (toolong || i == sizeof(op_names) / sizeof(op_names[0]))
			return fail(d, "Unknown operation", item);
		r->ops |= op_names[i].bits;
	}
	return 0;
}

/* Weekdays (F-ACL-08): digits and single-digit ranges a-b with b > a;
 * other characters are ignored; every digit counts modulo 7, so 0 and 7
 * are Sunday (and 8 Monday, as in 3proxy). */
static void
compile_wdays(struct acl_rule *r, const char *f)
{
	const char *p;

	for (p = f; *p; p++) {
		int a, b;

		if (*p < '0' || *p > '9')
			continue;
		a = *p - '0';
		if (p[1] == '-' && p[2] >= '0' && p[2] <= '9' &&
		    p[2] - '0' > a) {
			for (b = a; b <= p[2] - '0'; b++)
				r->wdays |= 1u << (b % 7);
			p += 2;
			continue;
		}
		r->wdays |= 1u << (a % 7);
	}
}

static int
two_digits(const char *s, long max, long *out)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	*out = (s[0] - '0') * 10 + (s[1] - '0');
	return *out <= max ? 0 : -1;
}

/* "HH:MM:SS" -> seconds; 24:00:00 only as an end. */
static int
parse_hms(const char *s, int end, long *out)
{
	long h, m, sec;

	if (two_digits(s, 24, &h) != 0 || s[2] != ':' ||
	    two_digits(s + 3, 59, &m) != 0 || s[5] != ':' ||
	    two_digits(s + 6, 59, &sec) != 0)
		return -1;
	if (h == 24 && (!end || m != 0 || sec != 0))
		return -1;
	*out = h * 3600 + m * 60 + sec;
	return 0;
}

/* Times: HH:MM:SS-HH:MM:SS items.  As in 3proxy, parsing stops at the
 * first malformed item or reversed interval; we warn about it. */
static int
compile_times(struct acl_rule *r, const char *f, struct diag *d)
{
	char item[64];
	int toolong;
	long s, e;
	struct time_range *nt;

	if (is_star(f))
		return 0;
	while (next_item(&f, item, sizeof(item), &toolong)) {
		if (toolong || strlen(item) != 17 || item[8] != '-' ||
		    parse_hms(item, 0, &s) != 0 ||
		    parse_hms(item + 9, 1, &e) != 0 || e < s) {
			snprintf(d->warn, d->warnlen, "time period '%s' is not "
				 "HH:MM:SS-HH:MM:SS: it and later periods are "
				 "ignored", item);
			break;
		}
		nt = realloc(r->times, sizeof(*nt) * (r->ntimes + 1));
		if (nt == NULL)
			return fail(d, "out of memory", item);
		r->times = nt;
		nt[r->ntimes].start = s;
		nt[r->ntimes++].end = e;
	}
	return 0;
}

static int
compile_field(struct acl_rule *r, int i, const char *f, struct diag *d)
{
	switch (i) {
	case 0:
		return is_star(f) ? (r->any_user = 1, 0)
				  : compile_users(r, f, d);
	case 1:
		return is_star(f) ? (r->any_src = 1, 0)
				  : compile_sources(r, f, d);
	case 2:
		return is_star(f) ? (r->any_dst = 1, 0)
				  : compile_targets(r, f, d);
	case 3:
		return is_star(f) ? (r->any_port = 1, 0)
				  : compile_ports(r, f, d);
	case 4:
		return compile_ops(r, f, d);
	case 5:
		compile_wdays(r, f);
		return 0;
	case 6:
		return compile_times(r, f, d);
	}
	return 0;
}

struct acl_rule *
acl_rule_compile(int nfields, char *const *fields, char *err, size_t errlen,
		 char *warn, size_t warnlen)
{
	struct acl_rule *r = calloc(1, sizeof(*r));
	struct diag d = { err, warn, errlen, warnlen };
	int i;

	err[0] = '\0';
	warn[0] = '\0';
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->refs = 1;
	/* A missing field is "any". */
	r->any_user = r->any_src = r->any_dst = r->any_port = 1;
	for (i = 0; i < nfields && i < 7; i++) {
		/* A given field restricts, unless it says '*'. */
		if (i == 0)
			r->any_user = 0;
		else if (i == 1)
			r->any_src = 0;
		else if (i == 2)
			r->any_dst = 0;
		else if (i == 3)
			r->any_port = 0;
		if (compile_field(r, i, fields[i], &d) != 0) {
			acl_rule_unref(r);
			return NULL;
		}
	}
	/* A list that held only '*' items (or nothing) restricts nothing. */
	if (r->nusers == 0)
		r->any_user = 1;
	if (r->src.n4 + r->src.n6 == 0)
		r->any_src = 1;
	if (r->dst.n4 + r->dst.n6 + r->nhosts == 0)
		r->any_dst = 1;
	if (r->nports == 0)
		r->any_port = 1;
	return r;
}

void
acl_rule_unref(struct acl_rule *r)
{
	size_t i;

	if (r == NULL || os_atomic_dec(&r->refs) != 0)
		return;
	for (i = 0; i < r->nusers; i++)
		free(r->users[i]);
	free(r->users);
	nets_free(&r->src);
	nets_free(&r->dst);
	for (i = 0; i < r->nhosts; i++)
		free(r->hosts[i].s);
	free(r->hosts);
	free(r->ports);
	free(r->times);
	free(r);
}

/* ---- matching (acl-auth.md 4.2) ---------------------------------------- */

static int
host_match(const struct host_pat *h, const char *host, size_t n)
{
	size_t i;

	switch (h->kind) {
	case HOST_EXACT:
		return n == h->len && same_nocase(host, h->s, n);
	case HOST_SUFFIX:
		/* strictly longer: "*example.com" is not "example.com" */
		return n > h->len && same_nocase(host + n - h->len, h->s,
						 h->len);
	case HOST_PREFIX:
		return n >= h->len && same_nocase(host, h->s, h->len);
	case HOST_CONTAINS:
		for (i = 0; i + h->len <= n; i++)
			if (same_nocase(host + i, h->s, h->len))
				return 1;
		return 0;
	}
	return 0;
}

static int
addr_is_zero(const struct net_addr *a)
{
	uint8_t b[16];
	int fam = addr_bytes(a, b), i, n;

	if (fam == 0)
		return 1;
	n = fam == AF_INET ? 4 : 16;
	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static int
target_match(const struct acl_rule *r, const struct request *req)
{
	int bind = (req->command & OP_BIND) != 0, checked = 0;
	size_t i, n;

	if (r->any_dst)
		return 1;
	if (r->dst.n4 + r->dst.n6 > 0 && (!addr_is_zero(&req->addr) || bind)) {
		checked = 1;
		if (nets_match(&r->dst, &req->addr))
			return 1;
	}
	if (r->nhosts > 0 && (req->host != NULL || !addr_is_zero(&req->addr))) {
		char text[64];
		const char *host = req->host;

		/* A request given as a literal address has that text as its
		 * "host name" (acl-auth.md 4.2). */
		if (host == NULL)
			host = net_addr_str(&req->addr, text, sizeof(text));
		checked = 1;
		/* Trailing dots do not count while the name is longer than
		 * 5 characters (3proxy strips them the same way). */
		n = strlen(host);
		while (n > 5 && host[n - 1] == '.')
			n--;
		for (i = 0; i < r->nhosts; i++)
			if (host_match(&r->hosts[i], host, n))
				return 1;
	}
	/* F-ACL-05 [quirk]: when neither kind of entry could be tested
	 * (no address known yet, no host name) the field matches. */
	return !checked;
}

static int
port_match(const struct acl_rule *r, const struct request *req)
{
	size_t i;

	if (r->any_port || (req->port == 0 && !(req->command & OP_BIND)))
		return 1;
	for (i = 0; i < r->nports; i++)
		if (req->port >= r->ports[i].lo && req->port <= r->ports[i].hi)
			return 1;
	return 0;
}

static int
time_match(const struct acl_rule *r, time_t now)
{
	struct tm tm;
	long sec;
	size_t i;

	if (r->wdays == 0 && r->ntimes == 0)
		return 1;
	if (os_localtime(now, &tm) != 0)
		return 0;
	if (r->wdays != 0 && !(r->wdays & (1u << tm.tm_wday)))
		return 0;
	if (r->ntimes == 0)
		return 1;
	sec = tm.tm_hour * 3600L + tm.tm_min * 60L + tm.tm_sec;
	for (i = 0; i < r->ntimes; i++)
		if (sec >= r->times[i].start && sec < r->times[i].end)
			return 1;
	return 0;
}

static int
user_match(const struct acl_rule *r, const char *user)
{
	const char *key = user ? user : "-";

	if (r->any_user)
		return 1;
	return bsearch(&key, r->users, r->nusers, sizeof(*r->users),
		       cmp_str) != NULL;
}

int
acl_rule_match(const struct acl_rule *r, const struct request *req,
	       const char *user, const struct net_addr *src, time_t now)
{
	if (!r->any_src && !nets_match(&r->src, src))
		return 0;
	if (!target_match(r, req) || !port_match(r, req))
		return 0;
	if (!time_match(r, now) || !user_match(r, user))
		return 0;
	/* every operation bit of the request must be allowed */
	if (r->ops != 0 && (req->command & ~r->ops) != 0)
		return 0;
	return 1;
}

/* Only the sources field: filters attach a rule to a connection when
 * it is accepted, before anything else about the request is known. */
int
acl_rule_match_source(const struct acl_rule *r, const struct net_addr *src)
{
	return r->any_src || nets_match(&r->src, src);
}

/* acl-auth.md 6: before a UDP association's first datagram the
 * destination is unknown.  An allow ACE that matches on its other fields
 * is accepted even if it restricts destinations (each datagram is checked
 * later); a deny ACE that restricts destinations is skipped. */
static int
preauth_match(const struct acl_entry *e, const struct request *req,
	      const char *user, const struct net_addr *src, time_t now)
{
	const struct acl_rule *r = e->rule;
	int has_dst = !r->any_dst || r->nports > 0;

	if (has_dst && e->action == ACL_DENY)
		return 0;
	if (!r->any_src && !nets_match(&r->src, src))
		return 0;
	if (!time_match(r, now) || !user_match(r, user))
		return 0;
	if (r->ops != 0 && (req->command & ~r->ops) != 0)
		return 0;
	return 1;
}

int
acl_wants_target_addr(const struct acl *a)
{
	return a != NULL && a->dst_addrs;
}

int
acl_match(const struct acl *a, const struct request *req, const char *user,
	  const struct net_addr *src, time_t now, struct acl_state *st)
{
	int weight = st ? st->weight : 0;
	size_t i;

	if (st != NULL)
		st->entry = NULL;
	if (a == NULL || a->n == 0)
		return 0;     /* F-ACL-02: an empty ACL allows everything */
	for (i = 0; i < a->n; i++) {
		const struct acl_entry *e = &a->e[i];

		if (e->weight != 0 && e->weight < weight)
			continue;
		/* An ACE that chains to parents is not for BIND. */
		if (e->parents != NULL && (req->command & OP_BIND))
			continue;
		if (st != NULL && st->skip_local &&
		    parent_list_is_local(e->parents))
			continue;
		if (req->preauth) {
			if (!preauth_match(e, req, user, src, now))
				continue;
		} else if (!acl_rule_match(e->rule, req, user, src, now)) {
			continue;
		}
		if (st != NULL) {
			st->entry = e;
			st->weight = e->weight;
		}
		return e->action == ACL_DENY ? ERR_ACL_DENY : 0;
	}
	return ERR_ACL_NOMATCH;   /* F-ACL-02: implicit final deny */
}

/* ---- lists -------------------------------------------------------------- */

struct acl *
acl_ref(struct acl *a)
{
	if (a != NULL)
		os_atomic_inc(&a->refs);
	return a;
}

void
acl_unref(struct acl *a)
{
	size_t i;

	if (a == NULL || os_atomic_dec(&a->refs) != 0)
		return;
	for (i = 0; i < a->n; i++) {
		acl_rule_unref(a->e[i].rule);
		parent_list_unref(a->e[i].parents);
	}
	free(a->e);
	free(a);
}

size_t
acl_count(const struct acl *a)
{
	return a ? a->n : 0;
}

const struct acl_entry *
acl_entry_at(const struct acl *a, size_t i)
{
	return a && i < a->n ? &a->e[i] : NULL;
}

/* Make *ap a list only the cursor holds, copying a shared one. */
static struct acl *
list_unshare(struct acl **ap)
{
	struct acl *old = *ap, *a;
	size_t i;

	if (old != NULL && os_atomic_load(&old->refs) == 1)
		return old;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->refs = 1;
	if (old != NULL && old->n > 0) {
		a->e = malloc(sizeof(*a->e) * old->n);
		if (a->e == NULL) {
			free(a);
			return NULL;
		}
		memcpy(a->e, old->e, sizeof(*a->e) * old->n);
		a->n = a->cap = old->n;
		a->dst_addrs = old->dst_addrs;
		for (i = 0; i < a->n; i++) {
			os_atomic_inc(&a->e[i].rule->refs);
			parent_list_ref(a->e[i].parents);
		}
	}
	acl_unref(old);
	*ap = a;
	return a;
}

int
acl_append(struct acl **ap, enum acl_action action, struct acl_rule *rule,
	   int weight)
{
	struct acl *a = list_unshare(ap);
	struct acl_entry *ne;

	if (a == NULL) {
		acl_rule_unref(rule);
		return -1;
	}
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 8;

		ne = realloc(a->e, sizeof(*ne) * cap);
		if (ne == NULL) {
			acl_rule_unref(rule);
			return -1;
		}
		a->e = ne;
		a->cap = cap;
	}
	if (rule->dst.n4 + rule->dst.n6 > 0 && !rule->any_dst)
		a->dst_addrs = 1;
	ne = &a->e[a->n++];
	memset(ne, 0, sizeof(*ne));
	ne->rule = rule;
	ne->action = action;
	ne->weight = weight;
	return 0;
}

struct acl_entry *
acl_last_mutable(struct acl **ap)
{
	struct acl *a;

	if (*ap == NULL || (*ap)->n == 0)
		return NULL;
	a = list_unshare(ap);
	return a ? &a->e[a->n - 1] : NULL;
}

/* ---- config commands ---------------------------------------------------- */

/* allow|deny USERS SOURCES TARGETS PORTS OPERATIONS WEEKDAYS TIMES [WEIGHT]
 * (F-ACL-01) */
int
acl_cmd_allow(struct conf_ctx *ctx, int argc, char **argv)
{
	enum acl_action act = strcmp(argv[0], "deny") == 0 ? ACL_DENY
							    : ACL_ALLOW;
	char err[512], warn[512];
	struct acl_rule *r;
	long weight = 0;

	r = acl_rule_compile(argc - 1, argv + 1, err, sizeof(err), warn,
			     sizeof(warn));
	if (r == NULL) {
		conf_error(ctx, "%s: %s", argv[0], err);
		return 1;
	}
	if (warn[0] != '\0')
		conf_warning(ctx, "%s: %s", argv[0], warn);
	if (argc > 8 && conf_parse_long(argv[8], 0, 1000000000, &weight) != 0) {
		/* 3proxy reads it with atoi() */
		conf_warning(ctx, "%s: weight '%s' is not a number: 0 used",
			     argv[0], argv[8]);
		weight = 0;
	}
	if (argc > 9)
		conf_warning(ctx, "%s: %d extra argument(s) ignored", argv[0],
			     argc - 9);
	if (acl_append(&ctx->cur.acl, act, r, (int)weight) != 0) {
		conf_error(ctx, "%s: out of memory", argv[0]);
		return 21;
	}
	return 0;
}

/* flush: later services start from an empty ACL (F-ACL-03); services
 * already configured keep theirs. */
int
acl_cmd_flush(struct conf_ctx *ctx, int argc, char **argv)
{
	acl_unref(ctx->cur.acl);
	ctx->cur.acl = NULL;
	return 0;
}

static struct acl_entry *
last_entry(struct conf_ctx *ctx)
{
	struct acl_entry *e = acl_last_mutable(&ctx->cur.acl);

	if (e == NULL)
		conf_error(ctx, "chaining error: last ACL entry was not "
			   "\"allow\" or \"deny\"");
	return e;
}

/* nolog: requests matched by the last ACE are not logged (F-ACL-09). */
int
acl_cmd_nolog(struct conf_ctx *ctx, int argc, char **argv)
{
	struct acl_entry *e = last_entry(ctx);

	if (e == NULL)
		return 1;
	e->nolog = 1;
	return 0;
}

/* weight N: the last ACE's weight (F-ACL-10). */
int
acl_cmd_weight(struct conf_ctx *ctx, int argc, char **argv)
{
	struct acl_entry *e;
	long w;

	if (conf_parse_long(argv[1], 0, 1000000000, &w) != 0) {
		conf_error(ctx, "weight: invalid value '%s'", argv[1]);
		return 1;
	}
	e = last_entry(ctx);
	if (e == NULL)
		return 1;
	e->weight = (int)w;
	return 0;
}
