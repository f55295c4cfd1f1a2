/*
 * filter_pcre.c - built-in PCRE2 filtering (plugins.md 4, F-PCRE-01..03).
 *
 * Each `pcre` / `pcre_rewrite` line compiles into one rule and one filter
 * record appended to the generation's filter list (filter.h), so rules
 * run in definition order and services see the rules defined before
 * their line.  Rules are immutable once the line has run (`pcre_extend`
 * only adds to the rule of the line before); workers share them without
 * locks.  Each match allocates its own match data.
 */
#include "filter_pcre.h"
#include "acl.h"
#include "client.h"
#include "conf.h"
#include "filter.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_PCRE2
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif

/* ---- pure parsers -------------------------------------------------------- */

unsigned pcre_parse_types(const char *s)
{
	static const struct { const char *name; enum filter_hook h; } t[] = {
		{ "request", FH_REQUEST }, { "cliheader", FH_HEADER_CLI },
		{ "srvheader", FH_HEADER_SRV }, { "clidata", FH_DATA_CLI },
		{ "srvdata", FH_DATA_SRV }
	};
	unsigned m = 0;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strstr(s, t[i].name) != NULL)
			m |= FILTER_HOOK_BIT(t[i].h);
	return m;
}

int pcre_parse_action(const char *s)
{
	static const struct { const char *name; int act; } t[] = {
		{ "allow", PCRE_ACT_ALLOW }, { "deny", PCRE_ACT_DENY },
		{ "remove", PCRE_ACT_DENY }, { "dunno", PCRE_ACT_DUNNO }
	};
	size_t i, n = strlen(s);

	if (n == 0)
		return -1;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strncmp(s, t[i].name, n) == 0)
			return t[i].act;
	return -1;
}

char *pcre_unescape_replacement(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (; *s; s++) {
		if (*s != '\\' || s[1] == '\0') {
			*o++ = *s;
			continue;
		}
		if (s[1] == '0')
			break;
		if (s[1] == 'r' || s[1] == 'n' || s[1] == '\\') {
			*o++ = s[1] == 'r' ? '\r' : s[1] == 'n' ? '\n' : '\\';
			s++;
			continue;
		}
		*o++ = *s;      /* \c: for match time */
	}
	*o = '\0';
	return out;
}

#ifdef HAVE_PCRE2

/* ---- option names ---------------------------------------------------------- */

enum { OPT_COMPILE, OPT_MATCH, OPT_NEWLINE, OPT_BSR };

struct pcre_optname {
	const char *name;
	int slot;
	uint32_t value;
};

#define C(n, v) { n, OPT_COMPILE, v }
#define M(n, v) { n, OPT_MATCH, v }
static const struct pcre_optname pcre_optnames[] = {
	C("PCRE2_ALLOW_EMPTY_CLASS", PCRE2_ALLOW_EMPTY_CLASS),
	C("PCRE2_ALT_BSUX", PCRE2_ALT_BSUX),
	C("PCRE2_AUTO_CALLOUT", PCRE2_AUTO_CALLOUT),
	C("PCRE2_CASELESS", PCRE2_CASELESS),
	C("PCRE2_DOLLAR_ENDONLY", PCRE2_DOLLAR_ENDONLY),
	C("PCRE2_DOTALL", PCRE2_DOTALL),
	C("PCRE2_DUPNAMES", PCRE2_DUPNAMES),
	C("PCRE2_EXTENDED", PCRE2_EXTENDED),
	C("PCRE2_FIRSTLINE", PCRE2_FIRSTLINE),
	C("PCRE2_MATCH_UNSET_BACKREF", PCRE2_MATCH_UNSET_BACKREF),
	C("PCRE2_MULTILINE", PCRE2_MULTILINE),
	C("PCRE2_NEVER_UCP", PCRE2_NEVER_UCP),
	C("PCRE2_NEVER_UTF", PCRE2_NEVER_UTF),
	C("PCRE2_NO_AUTO_CAPTURE", PCRE2_NO_AUTO_CAPTURE),
	C("PCRE2_NO_AUTO_POSSESS", PCRE2_NO_AUTO_POSSESS),
	C("PCRE2_NO_DOTSTAR_ANCHOR", PCRE2_NO_DOTSTAR_ANCHOR),
	C("PCRE2_NO_START_OPTIMIZE", PCRE2_NO_START_OPTIMIZE),
	C("PCRE2_UCP", PCRE2_UCP),
	C("PCRE2_UNGREEDY", PCRE2_UNGREEDY),
	C("PCRE2_UTF", PCRE2_UTF),
#ifdef PCRE2_NEVER_BACKSLASH_C
	C("PCRE2_NEVER_BACKSLASH_C", PCRE2_NEVER_BACKSLASH_C),
#endif
#ifdef PCRE2_ALT_CIRCUMFLEX
	C("PCRE2_ALT_CIRCUMFLEX", PCRE2_ALT_CIRCUMFLEX),
#endif
#ifdef PCRE2_ALT_VERBNAMES
	C("PCRE2_ALT_VERBNAMES", PCRE2_ALT_VERBNAMES),
#endif
#ifdef PCRE2_USE_OFFSET_LIMIT
	C("PCRE2_USE_OFFSET_LIMIT", PCRE2_USE_OFFSET_LIMIT),
#endif
#ifdef PCRE2_EXTENDED_MORE
	C("PCRE2_EXTENDED_MORE", PCRE2_EXTENDED_MORE),
	C("PCRE_EXTRA", PCRE2_EXTENDED_MORE),
#endif
#ifdef PCRE2_LITERAL
	C("PCRE2_LITERAL", PCRE2_LITERAL),
#endif
#ifdef PCRE2_MATCH_INVALID_UTF
	C("PCRE2_MATCH_INVALID_UTF", PCRE2_MATCH_INVALID_UTF),
	C("PCRE_NO_UTF8_CHECK", PCRE2_MATCH_INVALID_UTF),
#endif
	/* the names of the original PCRE library */
	C("PCRE_CASELESS", PCRE2_CASELESS),
	C("PCRE_MULTILINE", PCRE2_MULTILINE),
	C("PCRE_DOTALL", PCRE2_DOTALL),
	C("PCRE_EXTENDED", PCRE2_EXTENDED),
	C("PCRE_ANCHORED", PCRE2_ANCHORED),
	C("PCRE_DOLLAR_ENDONLY", PCRE2_DOLLAR_ENDONLY),
	M("PCRE_NOTBOL", PCRE2_NOTBOL),
	M("PCRE_NOTEOL", PCRE2_NOTEOL),
	C("PCRE_UNGREEDY", PCRE2_UNGREEDY),
	M("PCRE_NOTEMPTY", PCRE2_NOTEMPTY),
	C("PCRE_UTF8", PCRE2_UTF),
	C("PCRE_NO_AUTO_CAPTURE", PCRE2_NO_AUTO_CAPTURE),
	C("PCRE_AUTO_CALLOUT", PCRE2_AUTO_CALLOUT),
	M("PCRE_PARTIAL", PCRE2_PARTIAL_SOFT),
	/* pcre2_dfa_match() only: accepted, nothing to apply */
	M("PCRE_DFA_SHORTEST", 0),
	M("PCRE_DFA_RESTART", 0),
	C("PCRE_FIRSTLINE", PCRE2_FIRSTLINE),
	C("PCRE_DUPNAMES", PCRE2_DUPNAMES),
	{ "PCRE_NEWLINE_CR", OPT_NEWLINE, PCRE2_NEWLINE_CR },
	{ "PCRE_NEWLINE_LF", OPT_NEWLINE, PCRE2_NEWLINE_LF },
	{ "PCRE_NEWLINE_CRLF", OPT_NEWLINE, PCRE2_NEWLINE_CRLF },
	{ "PCRE_NEWLINE_ANY", OPT_NEWLINE, PCRE2_NEWLINE_ANY },
	{ "PCRE_NEWLINE_ANYCRLF", OPT_NEWLINE, PCRE2_NEWLINE_ANYCRLF },
	{ "PCRE_BSR_ANYCRLF", OPT_BSR, PCRE2_BSR_ANYCRLF },
	{ "PCRE_BSR_UNICODE", OPT_BSR, PCRE2_BSR_UNICODE },
};
#undef C
#undef M

int pcre_option_lookup(const char *name, uint32_t *value)
{
	size_t i;

	for (i = 0; i < sizeof(pcre_optnames) / sizeof(pcre_optnames[0]); i++)
		if (strcmp(pcre_optnames[i].name, name) == 0) {
			*value = pcre_optnames[i].value;
			return pcre_optnames[i].slot;
		}
	return -1;
}

/* ---- rules ----------------------------------------------------------------- */

#define PCRE_MATCH_LIMIT 1000000
#define PCRE_DEPTH_LIMIT 10000

struct pcre_rule {
	unsigned hooks;
	int action;
	pcre2_code *re;              /* NULL: no pattern */
	pcre2_match_context *mctx;   /* the step and depth limits */
	uint32_t match_opts;
	char *repl;                  /* pcre_rewrite, else NULL */
	struct acl_rule **aces;      /* none = any request */
	size_t naces;
};

struct pcre_rule *pcre_rule_new(unsigned hooks, int action,
				const char *regex, const char *repl,
				const uint32_t opts[4], char *err,
				size_t errlen)
{
	struct pcre_rule *r = calloc(1, sizeof(*r));
	pcre2_compile_context *cc = NULL;
	PCRE2_SIZE off;
	int ec;

	if (r == NULL)
		goto nomem;
	r->hooks = hooks;
	r->action = action;
	r->match_opts = opts[OPT_MATCH];
	if (repl != NULL && (r->repl = strdup(repl)) == NULL)
		goto nomem;
	if (regex == NULL || regex[0] == '\0' || strcmp(regex, "*") == 0)
		return r;
	cc = pcre2_compile_context_create(NULL);
	if (cc == NULL)
		goto nomem;
	if (opts[OPT_NEWLINE] != 0)
		pcre2_set_newline(cc, opts[OPT_NEWLINE]);
	if (opts[OPT_BSR] != 0)
		pcre2_set_bsr(cc, opts[OPT_BSR]);
	r->re = pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED,
			      opts[OPT_COMPILE], &ec, &off, cc);
	pcre2_compile_context_free(cc);
	if (r->re == NULL) {
		PCRE2_UCHAR msg[256];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errlen, "pcre: bad regex at offset %lu: %s",
			 (unsigned long)off, (const char *)msg);
		pcre_rule_free(r);
		return NULL;
	}
	r->mctx = pcre2_match_context_create(NULL);
	if (r->mctx == NULL)
		goto nomem;
	pcre2_set_match_limit(r->mctx, PCRE_MATCH_LIMIT);
	pcre2_set_depth_limit(r->mctx, PCRE_DEPTH_LIMIT);
	return r;
nomem:
	snprintf(err, errlen, "pcre: out of memory");
	pcre_rule_free(r);
	return NULL;
}

void pcre_rule_free(struct pcre_rule *r)
{
	size_t i;

	if (r == NULL)
		return;
	pcre2_code_free(r->re);
	pcre2_match_context_free(r->mctx);
	free(r->repl);
	for (i = 0; i < r->naces; i++)
		acl_rule_unref(r->aces[i]);
	free(r->aces);
	free(r);
}

int pcre_rule_matches(const struct pcre_rule *r, const char *in, size_t n)
{
	pcre2_match_data *md;
	int rc;

	if (r->re == NULL)
		return 1;
	md = pcre2_match_data_create_from_pattern(r->re, NULL);
	if (md == NULL)
		return 0;
	rc = pcre2_match(r->re, (PCRE2_SPTR)in, n, 0, r->match_opts, md,
			 r->mctx);
	pcre2_match_data_free(md);
	return rc >= 0;
}

/* A growable output buffer. */
struct pcre_out {
	char *p;
	size_t len, cap;
	int fail;
};

static void pcre_out_add(struct pcre_out *o, const char *s, size_t n)
{
	char *np;
	size_t cap;

	if (o->fail || n == 0)
		return;
	if (o->len + n > o->cap) {
		cap = o->cap ? o->cap : 256;
		while (cap < o->len + n)
			cap *= 2;
		np = realloc(o->p, cap);
		if (np == NULL) {
			o->fail = 1;
			return;
		}
		o->p = np;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

/* The replacement for one match: $N is group N (nothing when it did not
 * take part), \c is c. */
static void pcre_expand(struct pcre_out *o, const char *repl, const char *in,
			const PCRE2_SIZE *ov, uint32_t ngroups)
{
	const char *s = repl;

	while (*s) {
		if (*s == '\\' && s[1] != '\0') {
			pcre_out_add(o, s + 1, 1);
			s += 2;
		} else if (*s == '$' && s[1] >= '0' && s[1] <= '9') {
			char *end;
			unsigned long g = strtoul(s + 1, &end, 10);

			s = end;

			if (g < ngroups && ov[2 * g] != PCRE2_UNSET &&
			    ov[2 * g + 1] >= ov[2 * g])
				pcre_out_add(o, in + ov[2 * g],
					     ov[2 * g + 1] - ov[2 * g]);
		} else {
			pcre_out_add(o, s, 1);
			s++;
		}
	}
}

int pcre_rule_rewrite(const struct pcre_rule *r, const char *in, size_t n,
		      char **out, size_t *outlen)
{
	struct pcre_out o = { NULL, 0, 0, 0 };
	pcre2_match_data *md;
	PCRE2_SIZE pos = 0, copied = 0, *ov;
	int count = 0, rc;

	if (r->re == NULL || r->repl == NULL)
		return 0;
	md = pcre2_match_data_create_from_pattern(r->re, NULL);
	if (md == NULL)
		return -1;
	ov = pcre2_get_ovector_pointer(md);
	while (pos <= n) {
		rc = pcre2_match(r->re, (PCRE2_SPTR)in, n, pos, r->match_opts,
				 md, r->mctx);
		if (rc < 0)
			break;          /* no more matches, or a limit */
		if (ov[1] < ov[0])
			break;          /* \K tricks: give up */
		pcre_out_add(&o, in + copied, ov[0] - copied);
		pcre_expand(&o, r->repl, in, ov, (uint32_t)rc);
		copied = ov[1];
		count++;
		/* an empty match moves one byte on, so the loop ends */
		pos = ov[1] > ov[0] ? ov[1] : ov[1] + 1;
	}
	pcre2_match_data_free(md);
	if (count == 0) {
		free(o.p);
		return 0;
	}
	if (copied < n)
		pcre_out_add(&o, in + copied, n - copied);
	if (o.fail || (o.p == NULL && (o.p = malloc(1)) == NULL)) {
		free(o.p);
		return -1;
	}
	*out = o.p;
	*outlen = o.len;
	return count;
}

/* ---- the filter ------------------------------------------------------------ */

static int pcre_ace_match(const struct pcre_rule *r, const struct client *cl)
{
	time_t now;
	size_t i;

	if (r->naces == 0)
		return 1;
	now = time(NULL);
	for (i = 0; i < r->naces; i++)
		if (acl_rule_match(r->aces[i], &cl->req, cl->cred.user,
				   &cl->cl_peer, now))
			return 1;
	return 0;
}

/* plugins.md 4.2: attached when the sources of some ACE match. */
static int pcre_f_client(void *svc, struct client *cl, void **conn)
{
	const struct pcre_rule *r = svc;
	size_t i;

	*conn = NULL;
	if (r->naces == 0)
		return FILTER_CONTINUE;
	for (i = 0; i < r->naces; i++)
		if (acl_rule_match_source(r->aces[i], &cl->cl_peer))
			return FILTER_CONTINUE;
	return FILTER_PASS;
}

static int pcre_result(const struct pcre_rule *r)
{
	return r->action == PCRE_ACT_ALLOW ? FILTER_PASS :
	       r->action == PCRE_ACT_DENY ? FILTER_REJECT : FILTER_CONTINUE;
}

static int pcre_f_buffer(void *svc, void *conn, struct client *cl,
			 enum filter_hook h, struct filter_buf *b)
{
	const struct pcre_rule *r = svc;
	char *out;
	size_t outlen;
	int n;

	(void)conn;
	(void)h;
	if (!pcre_ace_match(r, cl))
		return FILTER_CONTINUE;
	if (r->re == NULL)
		return pcre_result(r);
	if (r->repl == NULL)
		return pcre_rule_matches(r, b->data, b->len) ? pcre_result(r)
							     : FILTER_CONTINUE;
	n = pcre_rule_rewrite(r, b->data, b->len, &out, &outlen);
	if (n <= 0)
		return FILTER_CONTINUE;
	filter_buf_set(b, out, outlen);
	return pcre_result(r);
}

static void pcre_f_destroy(void *data)
{
	pcre_rule_free(data);
}

static const struct filter_ops pcre_filter_ops = {
	.name = "pcre",
	.client = pcre_f_client,
	.buffer = pcre_f_buffer,
	.destroy = pcre_f_destroy,
};

/* ---- commands ------------------------------------------------------------- */

int pcre_built_in(void)
{
	return 1;
}

static int pcre_add_ace(struct conf_ctx *ctx, struct pcre_rule *r, int n,
			char **fields)
{
	char err[256], warn[256];
	struct acl_rule *a, **v;

	err[0] = warn[0] = '\0';
	a = acl_rule_compile(n, fields, err, sizeof(err), warn, sizeof(warn));
	if (a == NULL) {
		conf_error(ctx, "%s", err[0] ? err : "pcre: bad ACE");
		return 1;
	}
	if (warn[0])
		conf_warning(ctx, "%s", warn);
	v = realloc(r->aces, sizeof(*v) * (r->naces + 1));
	if (v == NULL) {
		acl_rule_unref(a);
		conf_error(ctx, "out of memory");
		return 1;
	}
	r->aces = v;
	v[r->naces++] = a;
	return 0;
}

int pcre_cmd_rule(struct conf_ctx *ctx, int argc, char **argv)
{
	int rewrite = strcmp(argv[0], "pcre_rewrite") == 0;
	int first_ace = rewrite ? 5 : 4;
	unsigned hooks = pcre_parse_types(argv[1]);
	int action = pcre_parse_action(argv[2]);
	char err[512], *repl = NULL;
	struct pcre_rule *r;

	if (action < 0) {
		conf_error(ctx, "%s: unknown action '%s' (allow, deny, remove "
			   "or dunno)", argv[0], argv[2]);
		return 1;
	}
	if (hooks == 0)
		conf_warning(ctx, "%s: no known type in '%s' (request, "
			     "cliheader, srvheader, clidata, srvdata): the "
			     "rule is never used", argv[0], argv[1]);
	if (rewrite && (repl = pcre_unescape_replacement(argv[4])) == NULL) {
		conf_error(ctx, "out of memory");
		return 21;
	}
	r = pcre_rule_new(hooks, action, argv[3], repl, ctx->cur.pcre_opts,
			  err, sizeof(err));
	free(repl);
	if (r == NULL) {
		conf_error(ctx, "%s", err);
		return 3;
	}
	if (argc > first_ace &&
	    pcre_add_ace(ctx, r, argc - first_ace, argv + first_ace) != 0) {
		pcre_rule_free(r);
		return 2;
	}
	if (filter_list_add(&ctx->gen->filters, &pcre_filter_ops, r, hooks,
			    0) != 0) {
		pcre_rule_free(r);
		conf_error(ctx, "out of memory");
		return 21;
	}
	ctx->cur.pcre_last = r;
	return 0;
}

/* The extension is an alternative ACE: the rule applies when any of its
 * ACEs matches (doc/compat.md: 3proxy only ever looked at the first). */
int pcre_cmd_extend(struct conf_ctx *ctx, int argc, char **argv)
{
	if (ctx->cur.pcre_last == NULL) {
		conf_error(ctx, "pcre_extend: no pcre rule before it");
		return 1;
	}
	return pcre_add_ace(ctx, ctx->cur.pcre_last, argc - 1, argv + 1) ? 2
									 : 0;
}

int pcre_cmd_options(struct conf_ctx *ctx, int argc, char **argv)
{
	uint32_t o[4] = { 0, 0, 0, 0 }, v;
	int i, slot;

	for (i = 1; i < argc; i++) {
		slot = pcre_option_lookup(argv[i], &v);
		if (slot < 0)
			continue;       /* unknown names are ignored */
		if (slot == OPT_COMPILE || slot == OPT_MATCH)
			o[slot] |= v;
		else
			o[slot] = v;
	}
	memcpy(ctx->cur.pcre_opts, o, sizeof(o));
	return 0;
}

#else /* !HAVE_PCRE2 */

int pcre_built_in(void)
{
	return 0;
}

int pcre_option_lookup(const char *name, uint32_t *value)
{
	(void)name;
	(void)value;
	return -1;
}

/* --check accepts the lines (the config may be meant for a build with
 * PCRE2); a real start refuses them rather than run without the rules. */
static int pcre_refuse(struct conf_ctx *ctx, const char *cmd)
{
	if (ctx->mode == CONF_CHECK)
		return 0;
	conf_error(ctx, "'%s' needs PCRE2, which this build does not have "
		   "(rebuild with libpcre2-8)", cmd);
	return 1;
}

int pcre_cmd_rule(struct conf_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	return pcre_refuse(ctx, argv[0]);
}

int pcre_cmd_extend(struct conf_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	return pcre_refuse(ctx, argv[0]);
}

int pcre_cmd_options(struct conf_ctx *ctx, int argc, char **argv)
{
	(void)argc;
	return pcre_refuse(ctx, argv[0]);
}

#endif /* HAVE_PCRE2 */
