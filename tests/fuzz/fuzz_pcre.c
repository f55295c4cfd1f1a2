/*
 * fuzz_pcre.c - PCRE filter rules (filter_pcre.c): a replacement's
 * configuration-time escapes, a rule compiled from a pattern, and the
 * match and the rewrite of a subject the network controls (the `$N` and
 * `\c` expansion, empty matches, growing and shrinking results).
 * Input: flags, pattern NUL replacement NUL subject.  Patterns that do
 * not compile are only a config error.  Without PCRE2 only the escapes
 * are fuzzed.  F-PCRE-01..04
 */
#include "fuzz_util.h"
#include "filter_pcre.h"

#ifdef HAVE_PCRE2
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#endif

/* Split s[0..n) at the next NUL: *part is its start, the rest follows. */
static const char *take(const char *s, size_t n, size_t *used)
{
	size_t len = strnlen(s, n);

	*used = len < n ? len + 1 : n;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t flags = fuzz_take(&data, &size);
	char *in = fuzz_cstr(data, size), *repl;
	const char *pat, *rep, *subj;
	size_t used, left = size;

	if (in == NULL)
		return 0;
	pat = take(in, left, &used);
	left -= used;
	rep = take(in + used, left, &used);
	subj = rep + used;
	left -= used;
	repl = pcre_unescape_replacement(rep);
#ifdef HAVE_PCRE2
	if (repl != NULL && strlen(pat) < 512) {
		uint32_t opts[4] = { 0, 0, 0, 0 };
		struct pcre_rule *r;
		char err[256], *out = NULL;
		size_t outlen = 0;

		if (flags & 1)
			opts[0] |= PCRE2_CASELESS;
		if (flags & 2)
			opts[0] |= PCRE2_MULTILINE | PCRE2_DOTALL;
		if (flags & 4)
			opts[0] |= PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
		r = pcre_rule_new(1, PCRE_ACT_DENY, pat,
				  (flags & 8) ? NULL : repl, opts, err,
				  sizeof(err));
		if (r != NULL) {
			(void)pcre_rule_matches(r, subj, left);
			if (!(flags & 8) &&
			    pcre_rule_rewrite(r, subj, left, &out, &outlen) > 0)
				free(out);
			pcre_rule_free(r);
		}
	}
#else
	(void)flags;
	(void)subj;
#endif
	free(repl);
	free(in);
	return 0;
}
