/*
 * conf_tokenize.c - split one config line into arguments.
 *
 * The rules are 3proxy's (reference config.md section 1):
 *   - a line that is empty or starts with whitespace or '#' is a comment;
 *   - tokens are separated by space, tab, CR and LF;
 *   - '"' opens and closes a quoted section anywhere in a token; inside
 *     one, '""' is a literal quote; backslash is an ordinary character;
 *   - an unquoted '$' starts a file inclusion: the rest of the token names
 *     a file whose whole content is tokenized in place, newlines being
 *     separators; inside included text '$' is literal (no recursion), and
 *     text before the '$' is glued to the first included token.
 */
#include "conf.h"

#include <stdlib.h>
#include <string.h>

/* Token builder: tokens are stored back to back, NUL-terminated, in one
 * growing buffer; offsets are turned into pointers at the end because
 * the buffer may move while it grows. */
struct builder {
	struct conf_tokens *t;
	size_t offs[CONF_MAX_TOKENS + 1];
	int open;                 /* a token is being built */
	int overflow;             /* too many tokens */
	int nomem;
};

static int is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int store_byte(struct builder *b, char c)
{
	struct conf_tokens *t = b->t;

	if (t->storelen + 1 > t->storecap) {
		size_t ncap = t->storecap ? t->storecap * 2 : 256;
		char *n = realloc(t->store, ncap);

		if (n == NULL) {
			b->nomem = 1;
			return -1;
		}
		t->store = n;
		t->storecap = ncap;
	}
	t->store[t->storelen++] = c;
	return 0;
}

/* Make sure a token is open (a quote alone opens an empty token). */
static void token_open(struct builder *b)
{
	if (b->open)
		return;
	if (b->t->argc >= CONF_MAX_TOKENS) {
		b->overflow = 1;
		return;
	}
	b->offs[b->t->argc] = b->t->storelen;
	b->open = 1;
}

static void token_char(struct builder *b, char c)
{
	token_open(b);
	if (b->open)
		store_byte(b, c);
}

static void token_close(struct builder *b)
{
	if (!b->open)
		return;
	store_byte(b, '\0');
	b->t->argc++;
	b->open = 0;
}

/*
 * Read a file name after '$': quoted sections allowed, ends at unquoted
 * whitespace.  Returns the index after the name, or -1 if a quote is
 * left open.
 */
static long scan_name(const char *s, size_t len, size_t i, char **name)
{
	size_t cap = len - i + 1, n = 0;
	int inq = 0;
	char *out = malloc(cap);

	if (out == NULL)
		return -1;
	for (; i < len; i++) {
		char c = s[i];

		if (c == '"') {
			if (inq && i + 1 < len && s[i + 1] == '"') {
				out[n++] = '"';
				i++;
			} else {
				inq = !inq;
			}
			continue;
		}
		if (!inq && is_sep(c))
			break;
		out[n++] = c;
	}
	out[n] = '\0';
	if (inq) {
		free(out);
		return -1;
	}
	*name = out;
	return (long)i;
}

struct scan_env {
	conf_slurp_fn slurp;
	void *slurp_arg;
	const char **why;
};

static int scan_text(struct builder *b, const char *s, size_t len,
		     int allow_dollar, const struct scan_env *env);

/* Handle "$name" at s[i] (i points after '$'); returns the new index. */
static long scan_include(struct builder *b, const char *s, size_t len,
			 size_t i, const struct scan_env *env)
{
	char *name = NULL, *content;
	size_t clen = 0;
	long next = scan_name(s, len, i, &name);

	if (next < 0) {
		*env->why = "unterminated quote in file name";
		return -1;
	}
	content = env->slurp ? env->slurp(name, &clen, env->slurp_arg) : NULL;
	free(name);
	if (content == NULL) {
		/* The caller decides whether a missing file is fatal. */
		b->t->incomplete = 1;
		return next;
	}
	if (scan_text(b, content, clen, 0, env) != 0) {
		free(content);
		return -1;
	}
	free(content);
	/* The inclusion ends at the whitespace after its name. */
	token_close(b);
	return next;
}

static int scan_text(struct builder *b, const char *s, size_t len,
		     int allow_dollar, const struct scan_env *env)
{
	int inq = 0;
	size_t i;

	for (i = 0; i < len && !b->overflow && !b->nomem; i++) {
		char c = s[i];

		if (c == '\0')
			c = ' ';
		if (c == '"') {
			if (inq && i + 1 < len && s[i + 1] == '"') {
				token_char(b, '"');
				i++;
			} else {
				token_open(b);
				inq = !inq;
			}
			continue;
		}
		if (inq) {
			token_char(b, c);
			continue;
		}
		if (is_sep(c)) {
			token_close(b);
			continue;
		}
		if (c == '$' && allow_dollar) {
			long next = scan_include(b, s, len, i + 1, env);

			if (next < 0)
				return -1;
			i = (size_t)next;
			if (i < len)
				token_close(b);
			continue;
		}
		token_char(b, c);
	}
	if (inq) {
		*env->why = "unterminated quote";
		return -1;
	}
	token_close(b);
	return 0;
}

int conf_tokenize(const char *line, size_t len, struct conf_tokens *out,
		  conf_slurp_fn slurp, void *slurp_arg, const char **why)
{
	struct builder *b;
	struct scan_env env;
	const char *dummy;
	int i, rc;

	out->argc = 0;
	out->storelen = 0;
	out->incomplete = 0;
	out->argv[0] = NULL;
	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (len == 0 || is_sep(line[0]) || line[0] == '#')
		return 0;
	b = calloc(1, sizeof(*b));
	if (b == NULL) {
		*why = "out of memory";
		return -1;
	}
	b->t = out;
	env.slurp = slurp;
	env.slurp_arg = slurp_arg;
	env.why = why;
	rc = scan_text(b, line, len, 1, &env);
	if (rc == 0 && b->overflow) {
		*why = "too many arguments";
		rc = -1;
	}
	if (rc == 0 && b->nomem) {
		*why = "out of memory";
		rc = -1;
	}
	if (rc != 0) {
		out->argc = 0;
	}
	for (i = 0; i < out->argc; i++)
		out->argv[i] = out->store + b->offs[i];
	out->argv[out->argc] = NULL;
	free(b);
	return rc;
}

void conf_tokens_free(struct conf_tokens *t)
{
	free(t->store);
	t->store = NULL;
	t->storelen = t->storecap = 0;
	t->argc = 0;
	t->argv[0] = NULL;
}

char *conf_slurp_file(const char *path, size_t *len, void *arg)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	(void)arg;
	if (f == NULL)
		return NULL;
	buf = malloc(CONF_INCLUDE_MAX + 1);
	if (buf == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, CONF_INCLUDE_MAX, f);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}
