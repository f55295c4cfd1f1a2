/*
 * filter_pcre.h - built-in PCRE2 filtering (reference plugins.md 4):
 * the pcre, pcre_rewrite, pcre_extend and pcre_options commands and the
 * filter each rule becomes.  Builds without PCRE2 (no HAVE_PCRE2) keep
 * the commands, which --check accepts and a real start refuses.
 */
#ifndef PX_FILTER_PCRE_H
#define PX_FILTER_PCRE_H

#include <stddef.h>
#include <stdint.h>

struct conf_ctx;

enum pcre_action { PCRE_ACT_ALLOW, PCRE_ACT_DENY, PCRE_ACT_DUNNO };

/* 1 when the daemon has PCRE2 built in. */
int pcre_built_in(void);

/* Config rows (conf_cmds.c). */
int pcre_cmd_rule(struct conf_ctx *ctx, int argc, char **argv); /* +rewrite */
int pcre_cmd_extend(struct conf_ctx *ctx, int argc, char **argv);
int pcre_cmd_options(struct conf_ctx *ctx, int argc, char **argv);

/* ---- pure parts (unit-tested) ----------------------------------------- */

/* `types`: the FILTER_HOOK_BIT()s named anywhere in s (substring match,
 * as 3proxy); 0 when none. */
unsigned pcre_parse_types(const char *s);
/* `action` by prefix: allow, deny, remove (= deny), dunno; -1 if none. */
int pcre_parse_action(const char *s);
/* Configuration-time escapes of a replacement: \r \n \\ translated, \0
 * ends the string, other escapes kept for match time.  malloc'd. */
char *pcre_unescape_replacement(const char *s);
/* `pcre_options` name -> slot (0 compile, 1 match, 2 newline, 3 bsr) and
 * value.  Returns -1 for names this library does not know. */
int pcre_option_lookup(const char *name, uint32_t *value);

/* A compiled rule without its ACEs (those are matched by the filter). */
struct pcre_rule;
/* regex NULL, "" or "*": no pattern.  repl NULL: a `pcre` rule; else
 * the already unescaped replacement.  opts as in conf_cursor.  Returns
 * NULL with a message in err (compile error or no memory). */
struct pcre_rule *pcre_rule_new(unsigned hooks, int action,
				const char *regex, const char *repl,
				const uint32_t opts[4], char *err,
				size_t errlen);
void pcre_rule_free(struct pcre_rule *r);
/* Replace every match in in[0..n) (left to right) with the expanded
 * replacement.  Returns the number of replacements (0: *out untouched),
 * or -1 (no memory).  *out is malloc'd, *outlen its length. */
int pcre_rule_rewrite(const struct pcre_rule *r, const char *in, size_t n,
		      char **out, size_t *outlen);
/* 1 when the pattern matches in[0..n), 0 when not (or on a match
 * error such as the step limit). */
int pcre_rule_matches(const struct pcre_rule *r, const char *in, size_t n);

#endif
