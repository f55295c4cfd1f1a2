/*
 * fuzz_conf_tokenize.c - the config line tokenizer (conf_tokenize.c):
 * quoting, escapes, comments and $file inclusion.  Input: the line,
 * then after the first NUL the content the included file has (read
 * through a fake reader, so nothing touches the disk).
 * F-CFG-01
 */
#include "fuzz_util.h"
#include "conf.h"

struct fake_file {
	const char *content;
	size_t len;
};

static char *fake_slurp(const char *path, size_t *len, void *arg)
{
	const struct fake_file *ff = arg;
	char *p;

	(void)path;
	if (ff->content == NULL)
		return NULL;
	p = malloc(ff->len + 1);
	if (p == NULL)
		return NULL;
	memcpy(p, ff->content, ff->len);
	p[ff->len] = '\0';
	*len = ff->len;
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t linelen = nul != NULL ? (size_t)(nul - data) : size;
	char *line = (char *)fuzz_dup(data, linelen);
	struct fake_file ff = { NULL, 0 };
	struct conf_tokens tk;
	const char *why = NULL;
	int i;

	if (line == NULL)
		return 0;
	if (nul != NULL) {
		ff.content = (const char *)nul + 1;
		ff.len = size - linelen - 1;
	}
	memset(&tk, 0, sizeof(tk));
	if (conf_tokenize(line, linelen, &tk, fake_slurp, &ff, &why) == 0) {
		if (tk.argc < 0 || tk.argc > CONF_MAX_TOKENS)
			abort();
		for (i = 0; i < tk.argc; i++)
			fuzz_use(tk.argv[i], strlen(tk.argv[i]));
		if (tk.argv[tk.argc] != NULL)
			abort();        /* argv is NULL-terminated */
	} else if (why == NULL) {
		abort();                /* an error always says why */
	}
	conf_tokens_free(&tk);
	free(line);
	return 0;
}
