/*
 * conf_test.h - running a configuration from memory in the unit tests.
 * Include after <cmocka.h> (and its prerequisites) and "conf.h".
 */
#ifndef PX_CONF_TEST_H
#define PX_CONF_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Run text as the config file "t.cfg"; diagnostics go to *msgs (the
 * caller frees it), the error count to *nerr. */
static inline struct conf_gen *
conf_test_load(const char *text, enum conf_mode mode, int *nerr, char **msgs)
{
	size_t len = 0;
	FILE *diag = open_memstream(msgs, &len);
	struct conf_gen *g;

	assert_non_null(diag);
	g = conf_load_mem(text, strlen(text), "t.cfg", mode, diag, nerr);
	fclose(diag);
	return g;
}

/* Run text as in conf_test_load, diagnostics dropped: NULL on errors. */
static inline struct conf_gen *conf_test_run(const char *text)
{
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g = conf_test_load(text, CONF_RUN, &nerr, &msgs);

	free(msgs);
	return g;
}

/* text must fail to start, with message among the diagnostics. */
static inline void conf_test_expect_error(const char *text,
					  const char *message)
{
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g = conf_test_load(text, CONF_RUN, &nerr, &msgs);

	if (g != NULL) {
		conf_gen_unref(g);
		fail_msg("'%s' was accepted", text);
	}
	if (strstr(msgs, message) == NULL)
		fail_msg("expected '%s' in '%s'", message, msgs);
	free(msgs);
}

/* --check of text finds exactly one error, with message. */
static inline void conf_test_check_fails(const char *text,
					 const char *message)
{
	char *msgs = NULL;
	int nerr = 0;
	struct conf_gen *g = conf_test_load(text, CONF_CHECK, &nerr, &msgs);

	assert_null(g);
	assert_int_equal(nerr, 1);
	if (strstr(msgs, message) == NULL)
		fail_msg("expected '%s' in '%s'", message, msgs);
	free(msgs);
}

#endif
