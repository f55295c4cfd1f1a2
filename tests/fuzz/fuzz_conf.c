/*
 * fuzz_conf.c - the whole config engine in --check mode (conf.c and
 * every command handler it dispatches to: services and their options,
 * ACLs, users, parents, limits, counters, logging, TLS settings...).
 * Check mode reports every error and touches nothing; inputs naming
 * `plugin` (which loads a library even in --check), `include` or device
 * and proc files are skipped, so a fuzzer cannot make the harness load
 * code or block on a read.
 * F-CFG-01
 */
#include "fuzz_util.h"
#include "conf.h"

static int unsafe(const char *s)
{
	return strstr(s, "plugin") != NULL || strstr(s, "include") != NULL ||
	       strstr(s, "/dev") != NULL || strstr(s, "/proc") != NULL ||
	       strstr(s, "/sys") != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *diag;
	char *text = fuzz_cstr(data, size);
	struct conf_gen *g;
	int nerr = 0;

	if (text == NULL)
		return 0;
	if (diag == NULL)
		diag = fopen("/dev/null", "w");
	/* strstr stops at a NUL: look at every NUL-separated piece */
	{
		size_t off = 0;

		while (off <= size) {
			if (unsafe(text + off)) {
				free(text);
				return 0;
			}
			off += strlen(text + off) + 1;
		}
	}
	g = conf_load_mem(text, size, "fuzz.cfg", CONF_CHECK, diag, &nerr);
	if (g != NULL)
		conf_gen_unref(g);
	free(text);
	return 0;
}
