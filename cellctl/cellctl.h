/* cellctl.h: private to cellctl: the command registry, the context every
 * command gets (where the cell is, how to print), and the shared helpers of
 * client.c (talking to the cell), table.c (output) and files.c (reading
 * job, machine and transaction files). */
#ifndef CELL_CELLCTL_H
#define CELL_CELLCTL_H

#include "cellclient.h"
#include "cellcommon.h"
#include "cellstate.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes, the same for every command (README, "cellctl"). */
enum {
	CTL_OK = 0,      /* done; every op accepted */
	CTL_ERR = 1,     /* cell unreachable, server error, bad file */
	CTL_USAGE = 2,   /* unknown command or flag, bad flag value */
	CTL_REJECTED = 3 /* the cell answered with a rejection verdict */
};

/* What a user may write before or after any command (the copy after the
 * command wins). Strings are owned by args.c (the flag parser's). */
struct ctl_opts {
	char *server; /* "URL[,URL...]" */
	char *token_file;
	char *output; /* "table", "wide" or "json" */
	bool json;
	uint64_t timeout_ms; /* 0: the default */
};

/* ---- the command registry (args.c dispatches, cmd_*.c define) ---- */

struct ctl;
typedef int (*ctl_run_fn)(struct ctl *c, int argc, char **argv);

struct ctl_cmd {
	const char *name;     /* "list"; NULL: the group's own form (txn -f) */
	const char *summary;  /* one line for the group's help */
	const char *usage;    /* "cellctl machine get NAME [flags]" */
	const char *about;    /* a paragraph, lines broken by hand */
	const char *examples; /* lines, each "  $ cellctl ...  # why" */
	const struct cc_flag *flags; /* the command's own, NULL-terminated */
	const char *const *lists;    /* flags that may repeat: values are
	                                joined with commas; may be NULL */
	ctl_run_fn run;              /* argv: the positional arguments */
	bool offline; /* needs no cell (completion): no server setup */
};

struct ctl_group {
	const char *name; /* "machine" */
	const char *summary;
	const struct ctl_cmd *cmds; /* ends with an entry whose run is NULL */
};

extern const struct ctl_group ctl_group_status, ctl_group_members,
    ctl_group_machine, ctl_group_job, ctl_group_task, ctl_group_sched,
    ctl_group_txn, ctl_group_watch, ctl_group_completion;
/* Every group in the order `cellctl --help` lists them; NULL-terminated. */
extern const struct ctl_group *const ctl_groups[];
/* The flags every command takes (dest: a struct ctl_opts inside args.c). */
const struct cc_flag *ctl_common_flags(void);
/* True for a flag that takes no value (bool): argv reordering and the
 * completion script must not take the next word as its value. */
bool ctl_flag_is_bool(const struct cc_flag *f);

/* ---- the context of one run ---- */

struct ctl {
	const struct ctl_group *group;
	const struct ctl_cmd *cmd;
	char where[64]; /* "machine add": how messages name the command */
	bool json, wide;
	/* The cell (--server, CELL_SERVER or the local default), on a loop
	 * of its own that each request runs until its answer. */
	struct ev_loop *loop; /* owned */
	cl_cell *cell;        /* owned */
	bool told;            /* the request running said why it waits */
	char *token;          /* owned; NULL: none */
	unsigned timeout_ms;
};

/* args.c: runs the command line; returns the exit code. */
int ctl_main(int argc, char **argv);
/* Prints "cellctl: WHERE: message" and how to get help; returns
 * CTL_USAGE. */
int ctl_usage(const struct ctl *c, const char *fmt, ...) CC_PRINTF(2, 3);
/* Prints "cellctl: message"; returns CTL_ERR. */
int ctl_fail(const char *fmt, ...) CC_PRINTF(1, 2);
/* Prints "cellctl: message" as a note (no exit code implied). */
void ctl_note(const char *fmt, ...) CC_PRINTF(1, 2);

/* ---- client.c: talking to the cell ---- */

/* Fills c's cell and token from the options (flags, then CELL_SERVER /
 * CELL_TOKEN_FILE, then the local default). Returns 0, CTL_USAGE for a
 * malformed --server, CTL_ERR for an unreadable token. */
int ctl_connect_setup(struct ctl *c, const struct ctl_opts *o);
void ctl_disconnect(struct ctl *c);

/* One answer from the cell. */
struct ctl_reply {
	long status;                /* HTTP status */
	json_t *body;               /* the answer parsed (NULL when not JSON) */
	const char *error, *detail; /* borrowed from body for errors, or "" */
};
void ctl_reply_clear(struct ctl_reply *r);

enum ctl_req_flags {
	CTL_READ = 0,    /* from the leader once located; resent as freely
	                    as a write, since reading twice is harmless */
	CTL_WRITE = 1,   /* retried while the cell elects a leader or after
	                    an unknown outcome: the body or path carries a
	                    transaction id, so a retry is answered once */
	CTL_NO_RETRY = 2 /* a write that is not idempotent (membership) */
};

/* Sends method path (with body, borrowed, may be NULL) to the cell under
 * CL_POLICY_INTERACTIVE and stores the answer in *r (caller clears it).
 * Returns 0 when an answer arrived (whatever its status), else the exit
 * code after printing why: no member could be reached, or a 5xx outlasted
 * the retries. */
int ctl_request(struct ctl *c, const char *method, const char *path,
                const json_t *body, unsigned flags, struct ctl_reply *r);
/* One exchange with one member (base URL), no retries: 0 and the answer
 * in *r (cleared first: zero it before the first call), or a CC_E* code
 * with err saying why (see ctl_transport_reason) and *r left as it was. */
int ctl_exchange(struct ctl *c, const char *method, const char *base,
                 const char *path, const json_t *body, struct ctl_reply *r,
                 char *err, size_t errlen);
/* A transport failure in words: "connection refused", ... */
void ctl_transport_reason(int code, const char *msg, char *out, size_t len);
/* GET path that must answer 200: returns 0 and the body (caller decrefs),
 * else prints what went wrong and returns the exit code. */
int ctl_get(struct ctl *c, const char *path, json_t **out);
/* Prints what an error answer means and what to do; returns the exit code:
 * CTL_REJECTED when the cell answered with a verdict (exists, unknown_*,
 * ...) and `verdicts` is true, else CTL_ERR. `what` names the request
 * ("submitting job web"). */
int ctl_reply_fail(const struct ctl *c, const struct ctl_reply *r,
                   const char *what, bool verdicts);
/* One REST write (PUT a machine, POST a job, ...) with a fresh ?txn_id=
 * so that retries are answered once. Fills entry (borrowed) with "ok",
 * "index" and "duplicate", or "ok": false, "error" and "detail". Returns
 * CTL_OK, CTL_REJECTED (a verdict; printed) or CTL_ERR (printed). */
int ctl_write(struct ctl *c, const char *method, const char *path,
              const json_t *body, const char *what, json_t *entry);
/* The exit code of several outcomes: error > rejected > ok. */
int ctl_worse(int a, int b);
/* A fresh transaction id (idempotent retries): "cellctl-<time>-<pid>-<rnd>". */
void ctl_new_id(char *buf, size_t len);

/* ---- table.c: output ---- */

struct table;
/* A table with these column headers (NULL-terminated). */
struct table *table_new(const char *const *headers);
/* Starts a row; cells follow with table_cell / table_cellf. */
void table_row(struct table *t);
void table_cell(struct table *t, const char *s); /* NULL prints "-" */
void table_cellf(struct table *t, const char *fmt, ...) CC_PRINTF(2, 3);
/* Prints the header and rows aligned on two-space gaps, then frees t. */
void table_print(struct table *t, FILE *out);
/* "key:  value" lines, keys padded to one width. */
void kv_line(const char *key, const char *fmt, ...) CC_PRINTF(2, 3);
/* Pretty JSON on stdout (2-space indent, keys in the order built). */
void ctl_print_json(const json_t *j);
/* Field helpers that tolerate absent fields: "" / 0. */
const char *jstr(const json_t *o, const char *key);
long long jint(const json_t *o, const char *key);
/* The outcome of REST writes (entries filled by ctl_write, each naming
 * the object under `key`): the JSON array with --json, else one line per
 * accepted change, "machine m1 <done> at index N". */
void ctl_print_results(const struct ctl *c, const json_t *results,
                       const char *key, const char *done);
/* A list answer ({"index", KEY: [...], "truncated"?}) with only `items`
 * (borrowed, n of them) under KEY, as JSON: what list --json prints.
 * "truncated" is copied when the answer has it (/v1/schedulers has none). */
void ctl_print_listing(const json_t *body, const char *key, json_t **items,
                       size_t n);
/* "k=v,k=v" from a JSON object of strings (labels, env); malloc'd. */
char *ctl_join_object(const json_t *o, const char *sep);
/* Wall-clock ms as "2024-05-01T12:34:56Z" into buf. */
void ctl_time(char *buf, size_t len, long long ms);

/* ---- files.c: reading what a user wrote ---- */

/* Reads path ("-": stdin) and parses it as JSON; on failure prints
 * "FILE: line L, column C: ..." or why the file cannot be read and
 * returns CTL_ERR. */
int ctl_read_json(const char *path, json_t **out);
/* Splits a document holding one spec, or {"jobs": [...]}, into its specs,
 * checking each with the cellstate decoder: `one` is "job" or "machine",
 * `many` "jobs" or "machines". On the first wrong field prints "FILE:
 * jobs[1].resources.cpu: ..." and returns CTL_ERR; else 0 and *items, a
 * new array of the spec objects as written. */
int ctl_split_specs(const char *path, const json_t *doc, const char *one,
                    const char *many, json_t **items);

#endif /* CELL_CELLCTL_H */
