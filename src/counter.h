/*
 * counter.h - traffic counters and quotas: `counter`, `countin`,
 * `countout`, `countall` and the `nocount*` exclusions (reference
 * limits.md section 4).
 *
 * A counter rule belongs to a generation; the value it counts does not.
 * Numbered rules keep their value in a slot of a counter file object
 * that lives in a process-wide registry keyed by the file's path, so a
 * reload that names the same file carries every value over, and the
 * file on disk carries them across restarts.  Unnumbered rules keep
 * theirs in the rule (reset by a reload, as in 3proxy).
 *
 * Locking: one mutex (in counter.c) guards every value, the registry
 * and the dump times.  Workers take it briefly, charging in batches of
 * COUNTER_BATCH bytes; file and report writes happen outside it, from a
 * snapshot.
 */
#ifndef PX_COUNTER_H
#define PX_COUNTER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct conf_ctx;
struct conf_gen;
struct client;

/* Bytes a connection may move before it charges its counters. */
#define COUNTER_BATCH 65536
/* At most this many counter rules apply to one request per direction. */
#define COUNTER_MAX_MATCH 16
/* Highest counter number (position in the counter file). */
#define COUNTER_MAX_NUMBER 1000000

struct counter_conf;
void counter_conf_free(struct counter_conf *cc);

/* ---- config commands (rows in conf_cmds.c) ------------------------------ */
/* counter FILE [REPORTTYPE REPORTPREFIX] */
int counter_cmd_counter(struct conf_ctx *ctx, int argc, char **argv);
/* countin|countout|countall N[/COMMENT] TYPE LIMIT_MB ACE...;
 * nocountin|nocountout|nocountall ACE... */
int counter_cmd_count(struct conf_ctx *ctx, int argc, char **argv);

/* ---- the steps of a request (limit.c, client.c) -------------------------- */
/* Select the counters of the authorized request and check its quotas.
 * Returns 0 or ERR_LIMIT (a quota is used up: nothing selected). */
int counter_authorize(struct client *cl);
/* The request was not authorized: its traffic is charged to nothing. */
void counter_forget(struct client *cl);
/* 1 if the request has counters (the relay needs the hook). */
int counter_active(const struct client *cl);
/* From the relay hook: n bytes read in relay direction dir.  Returns 0
 * or ERR_LIMIT when the traffic crosses a quota. */
int counter_relay_charge(struct client *cl, int dir, size_t n);
/* At each access record (client_log): charge the bytes of cl->stats
 * the hook has not charged yet.  Call before the stats are reset. */
void counter_account(struct client *cl);
/* client_finish: free the client's counter state. */
void counter_client_free(struct client *cl);

/* ---- plugin quotas (plugin_api.h quota_*, conn_limit) -------------------
 * A quota a plugin owns (LdapPlugin's per-user traffic): a counter of
 * bytes read from servers, with a limit in bytes and a reset period
 * letter (C H D W M Y, as count*), shared by the connections the plugin
 * attaches it to.  Reference counted: the plugin holds one reference,
 * each connection using it another.  Any thread. */
struct px_quota;
/* A new quota with value bytes since start (0 = now).  NULL for a bad
 * period or limit 0, or no memory. */
struct px_quota *counter_quota_new(char period, uint64_t limit,
				   uint64_t bytes, int64_t start);
/* Change the period and limit (running connections see it at their
 * next charge).  Returns 0 or -1. */
int counter_quota_set(struct px_quota *q, char period, uint64_t limit);
/* The value and the start of its period (reset first if a new period
 * began). */
void counter_quota_read(struct px_quota *q, uint64_t *bytes,
			int64_t *start);
void counter_quota_unref(struct px_quota *q);
/* Charge the traffic of cl's current request to q too (one plugin quota
 * per request; counter_authorize drops it at the next request).
 * Returns 0 or -1 (no memory). */
int counter_quota_attach(struct client *cl, struct px_quota *q);
/* After the filters' afterauth stage: ERR_LIMIT if the attached quota
 * is used up (the request is refused, as for a count* quota), else 0. */
int counter_quota_check(struct client *cl);

/* ---- process ---------------------------------------------------------------- */
/* Once the minute changes (or a new generation is in force): reports,
 * resets and a rewrite of every counter file. */
void counter_tick(struct conf_gen *gen, time_t now);
/* Rewrite every counter file now (exit). */
void counter_save_all(void);
/* Save, close and forget the counter files no configuration uses any
 * more (their values are then read from disk again when a configuration
 * names them).  Files otherwise stay open for the life of the process.
 * Only while no other thread can release a generation (tests, exit). */
void counter_cleanup(void);

/* ---- pure helpers (unit-tested) ----------------------------------------- */
/* Has the local calendar period `type` (C H D W M Y; anything else =
 * never) changed between prev and now?  Returns 1 or 0. */
int counter_period_changed(char type, time_t prev, time_t now);
/* Name of the report for period `type` holding time t: prefix with a
 * date suffix, or prefix expanded as a template if it contains '%'.
 * Returns 0, or -1 if it does not fit. */
int counter_report_name(char *out, size_t len, const char *prefix, char type,
			time_t t);
/* One report line: "%05d %020llu[ #comment]\n".  Returns its length. */
size_t counter_report_line(char *out, size_t len, int number,
			   uint64_t bytes, const char *comment);

/* ---- read-only listing (admin counters page, services.md 14) ------------ */
struct acl_rule;
/* A copy of one count* / nocount* rule and its value.  Pointers point
 * into the generation passed to counter_foreach. */
struct counter_info {
	size_t position;             /* 0-based, config order */
	const char *action;          /* "countin" ... "nocountall" */
	int exclusion;               /* a nocount* rule */
	int number;                  /* position in the file; 0 = none */
	const char *comment;         /* NULL = none */
	char type;                   /* reset period letter */
	uint64_t limit;              /* bytes */
	uint64_t bytes;              /* current value */
	time_t cleared, updated;     /* last reset, last charge (0 = never) */
	const struct acl_rule *rule; /* the ACE fields, for matching */
	int disabled;                /* switched off (admin /CDn) */
};
/* Return non-zero to stop the walk (counter_foreach returns it). */
typedef int (*counter_visit_fn)(void *arg, const struct counter_info *ci);
/* Call fn for every rule of gen in config order.  Values are read under
 * the counter lock, one rule at a time; fn runs without it.  The caller
 * keeps gen referenced for the walk. */
int counter_foreach(const struct conf_gen *gen, counter_visit_fn fn,
		    void *arg);
/* Admin /CDn and /CSn (services.md 14): switch the rule at 0-based
 * position pos of gen off (on = 0) or on again.  A rule that is off is
 * skipped as if it did not match: it neither counts nor limits (nor, for
 * nocount*, excludes); requests already running stop charging it.  The
 * state lives in the generation, so a reload turns every rule on again.
 * Returns 0, or -1 if gen has no rule at pos. */
int counter_set_enabled(const struct conf_gen *gen, size_t pos, int on);

#endif
