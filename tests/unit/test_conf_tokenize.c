/*
 * test_conf_tokenize.c - the config tokenizer against config.md §1.
 *
 * Each case cites the rule of config.md §1 it checks.  Lines are passed
 * as the reader delivers them, with their '\n', unless a case is about
 * the end of the line.  `$file` contents come from a fake reader so the
 * tests touch the disk only where conf_slurp_file itself is tested.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"

/* Big (one pointer per possible token), so not on the stack. */
static struct conf_tokens tk;
/* The temp file of the current test, removed by teardown even when an
 * assertion fails half-way. */
static char tmp_path[64];

/* ---- a fake include reader ------------------------------------------ */

struct fake_file {
	const char *content; /* NULL: the file "cannot be read" */
	int calls;
	char path[256]; /* name asked for by the last call */
};

/* Hands out a malloc'd copy of the content: the tokenizer owns it. */
static char *
fake_slurp(const char *path, size_t *len, void *arg)
{
	struct fake_file *ff = arg;
	size_t n;
	char *p;

	ff->calls++;
	snprintf(ff->path, sizeof(ff->path), "%s", path);
	if (ff->content == NULL)
		return NULL;
	n = strlen(ff->content);
	p = malloc(n + 1);
	assert_non_null(p);
	memcpy(p, ff->content, n + 1);
	*len = n;
	return p;
}

/* ---- helpers ---------------------------------------------------------- */

static int
tok_len(const char *line, size_t len, struct fake_file *ff, const char **why)
{
	conf_tokens_free(&tk);
	memset(&tk, 0, sizeof(tk));
	*why = NULL;
	return conf_tokenize(line, len, &tk, fake_slurp, ff, why);
}

/* Tokenize a line that must parse. */
static void
tok_ok(const char *line, struct fake_file *ff)
{
	const char *why;

	assert_int_equal(tok_len(line, strlen(line), ff, &why), 0);
}

/* Tokenize a line that must be a parse error with a reason. */
static void
tok_err(const char *line, struct fake_file *ff)
{
	const char *why;

	assert_int_equal(tok_len(line, strlen(line), ff, &why), -1);
	assert_non_null(why);
	assert_true(why[0] != '\0');
}

/* Compare tk with a NULL-terminated list.  argv[] has room for one more
 * than CONF_MAX_TOKENS, so argv[argc] is the NULL terminator. */
static void
expect_tokens(const char *const *want)
{
	int n = 0;

	while (want[n] != NULL)
		n++;
	assert_int_equal(tk.argc, n);
	for (n = 0; n < tk.argc; n++) {
		assert_non_null(tk.argv[n]);
		assert_string_equal(tk.argv[n], want[n]);
	}
	assert_null(tk.argv[tk.argc]);
}

#define EXPECT(...) expect_tokens((const char *const[]){__VA_ARGS__, NULL})

static int
teardown(void **state)
{
	conf_tokens_free(&tk);
	memset(&tk, 0, sizeof(tk));
	if (tmp_path[0] != '\0')
		unlink(tmp_path);
	tmp_path[0] = '\0';
	return 0;
}

/* ---- §1.1 lines, comments, separators --------------------------------- */

static void
test_plain_tokens(void **state)
{
	struct fake_file ff = {0};

	tok_ok("proxy -p8080 -i127.0.0.1\n", &ff);
	EXPECT("proxy", "-p8080", "-i127.0.0.1");
	assert_int_equal(tk.incomplete, 0);
	/* the last line of a file may lack its newline */
	tok_ok("socks -p1080", &ff);
	EXPECT("socks", "-p1080");
	assert_int_equal(ff.calls, 0);
}

/* "Tokens are separated by runs of space, tab, CR or LF." */
static void
test_separators(void **state)
{
	struct fake_file ff = {0};

	tok_ok("a\tb\r\n", &ff);
	EXPECT("a", "b");
	tok_ok("a  \t \r b\t\t\tc   \r\n", &ff);
	EXPECT("a", "b", "c");
	tok_ok("a\r\rb", &ff);
	EXPECT("a", "b");
}

/* "A line is skipped entirely if it is empty or if its first character
 * is whitespace (space, tab, CR, LF) or #." */
static void
test_comment_lines(void **state)
{
	static const char *const lines[] = {
	    "# a comment\n",   "#proxy -p8080\n",  "#\n",
	    " proxy -p8080\n", "\tproxy -p8080\n", "\rproxy\n",
	    "\nproxy\n",       "   \"quoted\"\n",
	};
	struct fake_file ff = {0};
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		tok_ok(lines[i], &ff);
		assert_int_equal(tk.argc, 0);
	}
}

/* Skipped entirely: even an open quote or a $file on it is ignored. */
static void
test_comment_line_not_parsed(void **state)
{
	struct fake_file ff = {"x y", 0, ""};

	tok_ok("# allow \"unterminated\n", &ff);
	assert_int_equal(tk.argc, 0);
	tok_ok(" users $passwd\n", &ff);
	assert_int_equal(tk.argc, 0);
	tok_ok("#users $passwd\n", &ff);
	assert_int_equal(tk.argc, 0);
	assert_int_equal(ff.calls, 0);
}

static void
test_blank_lines(void **state)
{
	struct fake_file ff = {0};
	const char *why;

	assert_int_equal(tok_len("", 0, &ff, &why), 0);
	assert_int_equal(tk.argc, 0);
	tok_ok("\n", &ff);
	assert_int_equal(tk.argc, 0);
	tok_ok("\r\n", &ff);
	assert_int_equal(tk.argc, 0);
}

/* "there are no inline comments: proxy -p8080 # web passes # and web as
 * arguments" */
static void
test_no_inline_comment(void **state)
{
	struct fake_file ff = {0};

	tok_ok("proxy -p8080 # web\n", &ff);
	EXPECT("proxy", "-p8080", "#", "web");
	tok_ok("a#b\n", &ff);
	EXPECT("a#b");
}

/* The tokenizer reads exactly `len` bytes: the buffer below has no NUL
 * (ASan reports any read past it), and a shorter len cuts the line. */
static void
test_length_respected(void **state)
{
	struct fake_file ff = {0};
	const char *why;
	char *buf = malloc(5);

	assert_non_null(buf);
	memcpy(buf, "ab cd", 5);
	assert_int_equal(tok_len(buf, 5, &ff, &why), 0);
	EXPECT("ab", "cd");
	assert_int_equal(tok_len(buf, 4, &ff, &why), 0);
	EXPECT("ab", "c");
	free(buf);
	assert_int_equal(tok_len("a b c\n", 3, &ff, &why), 0);
	EXPECT("a", "b");
}

/* ---- §1.2 quoting ------------------------------------------------------ */

static void
test_quoted_whitespace(void **state)
{
	struct fake_file ff = {0};

	tok_ok("\"a b\"\n", &ff);
	EXPECT("a b");
	tok_ok("x \"a \t b\" y\n", &ff);
	EXPECT("x", "a \t b", "y");
	/* a quote may start in the middle of a token */
	tok_ok("log \"C:\\Program Files\\3proxy\\log\" D\n", &ff);
	EXPECT("log", "C:\\Program Files\\3proxy\\log", "D");
	tok_ok("a\"b c\"d\n", &ff);
	EXPECT("ab cd");
	tok_ok("\"x\"y\"z\"\n", &ff);
	EXPECT("xyz");
}

/* "Inside a quoted section "" produces one literal "" */
static void
test_doubled_quote(void **state)
{
	struct fake_file ff = {0};

	tok_ok("\"HELLO \"\"WORLD\"\"\"\n", &ff);
	EXPECT("HELLO \"WORLD\"");
	tok_ok("\"a\"\"b\"\n", &ff);
	EXPECT("a\"b");
	/* outside a quoted section the first " opens and the second
	 * closes, adding nothing */
	tok_ok("a\"\"b\n", &ff);
	EXPECT("ab");
}

/* "\"\" as a whole token yields an (empty) argument." */
static void
test_empty_token(void **state)
{
	struct fake_file ff = {0};

	tok_ok("x \"\" y\n", &ff);
	EXPECT("x", "", "y");
	tok_ok("\"\"\n", &ff);
	EXPECT("");
	tok_ok("a \"\"", &ff);
	EXPECT("a", "");
}

/* "A line that ends inside an open quote is a Parse error." */
static void
test_unterminated_quote(void **state)
{
	struct fake_file ff = {0};

	tok_err("proxy \"abc\n", &ff);
	tok_err("proxy \"abc", &ff);
	tok_err("a\"b c\n", &ff);
	tok_err("\"\n", &ff);
	/* the final "" is a literal quote, so the string stays open */
	tok_err("\"HELLO \"\"WORLD\"\"\n", &ff);
}

/* "Backslash is not an escape character: in "\"" the "" is read as a
 * literal quote and the string is never closed (parse error)." */
static void
test_backslash_not_escape(void **state)
{
	struct fake_file ff = {0};

	tok_err("\"\\\"\"\n", &ff);
	tok_ok("a\\ b\n", &ff);
	EXPECT("a\\", "b");
	tok_ok("\"a\\\"\n", &ff);
	EXPECT("a\\");
}

/* "$ inside quotes is an ordinary character" */
static void
test_dollar_quoted_literal(void **state)
{
	struct fake_file ff = {"SHOULD NOT BE READ", 0, ""};

	tok_ok("users \"bob:CR:$1$salt$hash\"\n", &ff);
	EXPECT("users", "bob:CR:$1$salt$hash");
	tok_ok("a\"$x\" \"$\"\n", &ff);
	EXPECT("a$x", "$");
	assert_int_equal(ff.calls, 0);
}

/* ---- §1.3 $file inclusion ------------------------------------------- */

/* "In the included text CR, LF, tab and space are all token separators,
 * so a multi-line file contributes many arguments to the one command" */
static void
test_include_basic(void **state)
{
	struct fake_file ff = {"10.0.0.0/8\n192.168.0.0/16\r\n"
	                       "\t172.16.0.0/12  \n",
	                       0, ""};

	tok_ok("allow * * $nets\n", &ff);
	EXPECT("allow", "*", "*", "10.0.0.0/8", "192.168.0.0/16",
	       "172.16.0.0/12");
	assert_int_equal(ff.calls, 1);
	assert_string_equal(ff.path, "nets");
	assert_int_equal(tk.incomplete, 0);
}

/* "The inclusion is terminated by the whitespace/newline following the
 * name": later tokens of the line follow the file's tokens. */
static void
test_include_then_more(void **state)
{
	struct fake_file ff = {"x y", 0, ""};

	tok_ok("cmd $/etc/3proxy/f tail end\n", &ff);
	EXPECT("cmd", "x", "y", "tail", "end");
	assert_string_equal(ff.path, "/etc/3proxy/f");
	tok_ok("cmd $f\t$f\n", &ff);
	EXPECT("cmd", "x", "y", "x", "y");
	assert_int_equal(ff.calls, 3);
}

/* "If text precedes the $ in the same token, it is prepended to the
 * first token of the file (abc$f with file content x y gives abcx y)." */
static void
test_include_prefix(void **state)
{
	struct fake_file ff = {"x y", 0, ""};

	tok_ok("cmd abc$f\n", &ff);
	EXPECT("cmd", "abcx", "y");
	assert_string_equal(ff.path, "f");
	/* the prefix may itself come from a quoted section */
	tok_ok("cmd \"a b\"$f\n", &ff);
	EXPECT("cmd", "a bx", "y");
}

/* "Quotes work inside included text" */
static void
test_include_quotes(void **state)
{
	struct fake_file ff = {"\"a b\" c\"d e\"\n\"\"\n\"HI \"\"X\"\"\"", 0,
	                       ""};

	tok_ok("cmd $f\n", &ff);
	EXPECT("cmd", "a b", "cd e", "", "HI \"X\"");
}

/* "$ inside included text is literal (no recursion)" */
static void
test_include_no_recursion(void **state)
{
	struct fake_file ff = {"$x y$z\n$", 0, ""};

	tok_ok("cmd $f\n", &ff);
	EXPECT("cmd", "$x", "y$z", "$");
	assert_int_equal(ff.calls, 1);
	assert_string_equal(ff.path, "f");
}

/* "it may be quoted: $"c:\Program Files\3proxy\nets"" */
static void
test_include_quoted_name(void **state)
{
	struct fake_file ff = {"10.0.0.0/8", 0, ""};

	tok_ok("allow * $\"c:\\Program Files\\3proxy\\nets\" *\n", &ff);
	EXPECT("allow", "*", "10.0.0.0/8", "*");
	assert_string_equal(ff.path, "c:\\Program Files\\3proxy\\nets");
	tok_ok("users $\"name with space\"\n", &ff);
	assert_string_equal(ff.path, "name with space");
}

/* Only separators in the file: it adds no token. */
static void
test_include_blank_content(void **state)
{
	struct fake_file ff = {"\r\n\t \n", 0, ""};

	tok_ok("cmd $f x\n", &ff);
	EXPECT("cmd", "x");
	assert_int_equal(ff.calls, 1);
}

/* "An unreadable file -> Failed to open <name> + Parse error line <n>."
 * Those messages are the engine's: the tokenizer only reports that the
 * line is incomplete (returns 0 with incomplete = 1), and the engine
 * decides whether that is an error. */
static void
test_include_unreadable(void **state)
{
	struct fake_file ff = {NULL, 0, ""};

	tok_ok("allow * * $missing\n", &ff);
	assert_int_equal(ff.calls, 1);
	assert_string_equal(ff.path, "missing");
	assert_int_equal(tk.incomplete, 1);
}

/* The original refuses "a $file at the very end of the last line of a
 * file without a trailing newline" (a parse error).  That is an accident
 * of its reader, and a config whose editor dropped the final newline
 * must not break; doc/compat.md lists the difference. */
static void
test_include_at_end_without_newline(void **state)
{
	struct fake_file ff = {"x y", 0, ""};
	static const char *const want[] = {"allow", "*", "*", "x", "y", NULL};

	tok_ok("allow * * $nets", &ff);
	expect_tokens(want);
}

/* ---- token limit ---------------------------------------------------- */

/* A line of n one-letter tokens, plus an optional tail; caller frees. */
static char *
many_tokens(int n, const char *tail)
{
	size_t len = (size_t)n * 2 + strlen(tail) + 2;
	char *s = malloc(len);
	int i;

	assert_non_null(s);
	for (i = 0; i < n; i++) {
		s[2 * i] = 'a';
		s[2 * i + 1] = ' ';
	}
	snprintf(s + 2 * n, len - 2 * (size_t)n, "%s\n", tail);
	return s;
}

/* "At most 4095 tokens per command." */
static void
test_token_limit(void **state)
{
	struct fake_file ff = {0};
	char *s;

	s = many_tokens(CONF_MAX_TOKENS, "");
	tok_ok(s, &ff);
	assert_int_equal(tk.argc, CONF_MAX_TOKENS);
	assert_string_equal(tk.argv[CONF_MAX_TOKENS - 1], "a");
	assert_null(tk.argv[CONF_MAX_TOKENS]);
	free(s);
	s = many_tokens(CONF_MAX_TOKENS + 1, "");
	tok_err(s, &ff);
	free(s);
	s = many_tokens(CONF_MAX_TOKENS + 1000, "");
	tok_err(s, &ff);
	free(s);
}

/* Tokens from a $file count against the same limit. */
static void
test_token_limit_include(void **state)
{
	struct fake_file ff = {NULL, 0, ""};
	char *content = many_tokens(CONF_MAX_TOKENS - 1, "");

	ff.content = content;
	tok_ok("cmd $f\n", &ff);
	assert_int_equal(tk.argc, CONF_MAX_TOKENS);
	tok_err("cmd x $f\n", &ff);
	free(content);
}

/* ---- conf_slurp_file ------------------------------------------------ */

/* Write `n` bytes to a new temp file named in tmp_path. */
static void
make_temp(const char *data, size_t n)
{
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "/tmp/px_tok_XXXXXX");
	fd = mkstemp(tmp_path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static void
test_slurp_file(void **state)
{
	static const char data[] = "10.0.0.0/8\n192.168.0.0/16 \"a b\"\n";
	char line[128];
	const char *why;
	size_t len = 0;
	char *got;

	make_temp(data, sizeof(data) - 1);
	got = conf_slurp_file(tmp_path, &len, NULL);
	assert_non_null(got);
	assert_int_equal(len, sizeof(data) - 1);
	assert_memory_equal(got, data, len);
	free(got);

	snprintf(line, sizeof(line), "allow * $%s *\n", tmp_path);
	conf_tokens_free(&tk);
	memset(&tk, 0, sizeof(tk));
	assert_int_equal(
	    conf_tokenize(line, strlen(line), &tk, conf_slurp_file, NULL, &why),
	    0);
	EXPECT("allow", "*", "10.0.0.0/8", "192.168.0.0/16", "a b", "*");
	assert_int_equal(tk.incomplete, 0);
}

static void
test_slurp_file_missing(void **state)
{
	const char *line = "allow * $/nonexistent/px_tok_missing\n";
	const char *why;
	size_t len = 0;

	assert_null(conf_slurp_file("/nonexistent/px_tok_missing", &len, NULL));
	conf_tokens_free(&tk);
	memset(&tk, 0, sizeof(tk));
	assert_int_equal(
	    conf_tokenize(line, strlen(line), &tk, conf_slurp_file, NULL, &why),
	    0);
	assert_int_equal(tk.incomplete, 1);
}

/* "The file is read with a single read of at most 65534 bytes (longer
 * files are truncated)" */
static void
test_slurp_file_truncates(void **state)
{
	size_t big = CONF_INCLUDE_MAX + 5000, len = 0, i;
	char *data = malloc(big);
	char *got;

	assert_non_null(data);
	for (i = 0; i < big; i++)
		data[i] = (i % 10 == 9) ? '\n' : (char)('0' + i % 10);
	make_temp(data, big);
	free(data);
	data = NULL;
	got = conf_slurp_file(tmp_path, &len, NULL);
	assert_non_null(got);
	assert_int_equal(len, 65534);
	assert_int_equal(len, CONF_INCLUDE_MAX);
	for (i = 0; i < len; i++)
		assert_int_equal(got[i], (i % 10 == 9) ? '\n' : '0' + i % 10);
	free(got);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_plain_tokens, teardown),
	    cmocka_unit_test_teardown(test_separators, teardown),
	    cmocka_unit_test_teardown(test_comment_lines, teardown),
	    cmocka_unit_test_teardown(test_comment_line_not_parsed, teardown),
	    cmocka_unit_test_teardown(test_blank_lines, teardown),
	    cmocka_unit_test_teardown(test_no_inline_comment, teardown),
	    cmocka_unit_test_teardown(test_length_respected, teardown),
	    cmocka_unit_test_teardown(test_quoted_whitespace, teardown),
	    cmocka_unit_test_teardown(test_doubled_quote, teardown),
	    cmocka_unit_test_teardown(test_empty_token, teardown),
	    cmocka_unit_test_teardown(test_unterminated_quote, teardown),
	    cmocka_unit_test_teardown(test_backslash_not_escape, teardown),
	    cmocka_unit_test_teardown(test_dollar_quoted_literal, teardown),
	    cmocka_unit_test_teardown(test_include_basic, teardown),
	    cmocka_unit_test_teardown(test_include_then_more, teardown),
	    cmocka_unit_test_teardown(test_include_prefix, teardown),
	    cmocka_unit_test_teardown(test_include_quotes, teardown),
	    cmocka_unit_test_teardown(test_include_no_recursion, teardown),
	    cmocka_unit_test_teardown(test_include_quoted_name, teardown),
	    cmocka_unit_test_teardown(test_include_blank_content, teardown),
	    cmocka_unit_test_teardown(test_include_unreadable, teardown),
	    cmocka_unit_test_teardown(test_include_at_end_without_newline,
	                              teardown),
	    cmocka_unit_test_teardown(test_token_limit, teardown),
	    cmocka_unit_test_teardown(test_token_limit_include, teardown),
	    cmocka_unit_test_teardown(test_slurp_file, teardown),
	    cmocka_unit_test_teardown(test_slurp_file_missing, teardown),
	    cmocka_unit_test_teardown(test_slurp_file_truncates, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
