/* json_util.h: path-tracking JSON decode helpers and the shared wording of
 * the format rules (FORMAT.md), private to cellstate. Decoders and
 * validate.c both write errors through here, so a rule reads the same
 * whichever of them finds it broken. */
#ifndef CELL_CELLSTATE_JSON_UTIL_H
#define CELL_CELLSTATE_JSON_UTIL_H

#include "internal.h"

#include <jansson.h>

/* ---- limits of the formats that cellstate.h does not name ---- */
#define CS_TXN_OPS_MAX     1000000u
#define CS_TASK_INDEX_MAX  (CS_JOB_TASKS_MAX - 1)
#define CS_STRING_MAX      4096u /* command, each argument, each env value */
#define CS_ARGS_MAX        1024u
#define CS_ENV_MAX         256u
#define CS_DEPS_MAX        64u
#define CS_DURATION_MAX    1000000000000ull /* 10^12 ms: about 31 years */
#define CS_RETRIES_DEFAULT 3u
#define CS_JSON_INT_MAX    9223372036854775807ull /* JSON integers are int64 */

/* ---- what each kind of value should look like ---- */
#define CS_NAME_RULE                                                           \
	"1-63 characters [a-z0-9._-] starting with a letter or digit"
#define CS_ID_RULE        "1-128 characters [A-Za-z0-9._:@/-]"
#define CS_EXPECT_MACHINE "a machine name: " CS_NAME_RULE
#define CS_EXPECT_JOB     "a job name: " CS_NAME_RULE
#define CS_EXPECT_POOL    "a pool name: " CS_NAME_RULE
#define CS_EXPECT_CLASS   "a class name: " CS_NAME_RULE
#define CS_EXPECT_SCHED   "a scheduler name: " CS_NAME_RULE
#define CS_EXPECT_POLICY  "a policy name: " CS_NAME_RULE
#define CS_EXPECT_MEMBER                                                       \
	"a Raft member id: an integer 0..9223372036854775807 (0: none)"
#define CS_EXPECT_ID     "a transaction id: " CS_ID_RULE
#define CS_EXPECT_ORIGIN "an origin: " CS_ID_RULE
#define CS_EXPECT_LABEL_KEY                                                    \
	"a label key: 1-63 characters [a-z0-9._/-] starting with a letter or " \
	"digit"
#define CS_EXPECT_LABEL_VALUE "a label value: 0-63 characters [A-Za-z0-9._-]"
#define CS_EXPECT_RES_NAME                                                     \
	"a resource name: 1-31 characters [a-z0-9._/-] starting with a letter"
#define CS_EXPECT_ENV_NAME                                                     \
	"a variable name: 1-128 characters [A-Za-z0-9_] not starting with a "  \
	"digit"
#define CS_EXPECT_COMMAND "a string of 1..4096 bytes"
#define CS_EXPECT_STRING  "a string of at most 4096 bytes"
#define CS_EXPECT_NOTE                                                         \
	"a note: at most 512 bytes of UTF-8 text without control characters"
#define CS_EXPECT_AGENT                                                        \
	"an agent URL: http:// or https:// then a host, at most 127 bytes of " \
	"printable ASCII without spaces"
#define CS_EXPECT_POSITIVE      "a positive integer up to 1000000000000000"
#define CS_EXPECT_OPS           "an array of 1..1000000 ops"
#define CS_EXPECT_MACHINE_STATE "one of: up, draining, down"
#define CS_MISSING              "missing: required"

/* ---- paths: "ops[2].job.resources.cpu" ----
 * A fixed buffer: a push returns the length to pop back to. A path that
 * would overflow is cut and ends with "...". The empty path prints as
 * "(root)". Keys are copied with bytes outside printable ASCII, '"' and '\'
 * replaced by '?' and long keys clipped, so a message built from hostile
 * input stays short, printable and valid UTF-8. */
#define CS_JPATH_SIZE 160

struct cs_jpath {
	char buf[CS_JPATH_SIZE];
	size_t len;
};

void cs_jpath_init(struct cs_jpath *p, const char *prefix); /* NULL: root */
size_t cs_jpath_key(struct cs_jpath *p, const char *key);   /* ".key" */
size_t cs_jpath_index(struct cs_jpath *p, size_t i);        /* "[i]" */
void cs_jpath_pop(struct cs_jpath *p, size_t saved);
/* The path as text, borrowed from p (valid until p changes). */
const char *cs_jpath_str(const struct cs_jpath *p);

/* One decode or validation: where it is, and where its error goes (errbuf
 * is borrowed; NULL or 0 bytes is allowed and drops the message). */
struct cs_jdec {
	struct cs_jpath path;
	char *errbuf;
	size_t errlen;
};

void cs_jdec_init(struct cs_jdec *d, const char *prefix, char *errbuf,
                  size_t errlen);
/* Writes "PATH: message" and returns -1. */
int cs_jerr(struct cs_jdec *d, const char *fmt, ...) CS_PRINTF(2, 3);
/* The same with ".key" appended to the path for this message only. */
int cs_jerr_at(struct cs_jdec *d, const char *key, const char *fmt, ...)
    CS_PRINTF(3, 4);
/* Copies s into buf (size n >= 8) as cs_jpath_key would, for quoting user
 * values in messages; returns buf. */
char *cs_jclip(char *buf, size_t n, const char *s);
/* True when s[0..n) is well-formed UTF-8 (what JSON strings must be). */
bool cs_jutf8_valid(const char *s, size_t n);

/* ---- checks of C values, with messages at the current path ----
 * Each returns 0, or -1 with the error written. */
/* s NULL: "missing: required"; valid(s) false (valid NULL: never):
 * "expected EXPECT, got \"s\"". */
int cs_jcheck_str(struct cs_jdec *d, const char *s, bool (*valid)(const char *),
                  const char *expect);
/* v outside [lo, hi]: "expected EXPECT, got v"; expect NULL means
 * "an integer LO..HI". */
int cs_jcheck_u64(struct cs_jdec *d, uint64_t v, uint64_t lo, uint64_t hi,
                  const char *expect);
int cs_jcheck_i64(struct cs_jdec *d, int64_t v, int64_t lo, int64_t hi,
                  const char *expect);

/* ---- checks of a field at PATH.key (validate.c, and inline here) ----
 * For the spec validators, cs_txn_validate and each op's check
 * (cs_op_desc.check), so a rule reads the same wherever it is broken. */
/* Inline: cs_txn_validate runs them for every field of every op. */
/* cs_jcheck_str with ".key" on the path. */
static inline int cs_jcheck_str_at(struct cs_jdec *d, const char *key,
                                   const char *s, bool (*valid)(const char *),
                                   const char *expect)
{
	size_t saved = cs_jpath_key(&d->path, key);
	int r = cs_jcheck_str(d, s, valid, expect);
	cs_jpath_pop(&d->path, saved);
	return r;
}

static inline int cs_jcheck_name_at(struct cs_jdec *d, const char *key,
                                    const char *s, const char *expect)
{
	return cs_jcheck_str_at(d, key, s, cs_name_valid, expect);
}

/* An optional field: NULL means absent, which passes. */
static inline int cs_jcheck_opt_at(struct cs_jdec *d, const char *key,
                                   const char *s, bool (*valid)(const char *),
                                   const char *expect)
{
	return s ? cs_jcheck_str_at(d, key, s, valid, expect) : 0;
}

static inline int cs_jcheck_u64_at(struct cs_jdec *d, const char *key,
                                   uint64_t v, uint64_t lo, uint64_t hi,
                                   const char *expect)
{
	size_t saved = cs_jpath_key(&d->path, key);
	int r = cs_jcheck_u64(d, v, lo, hi, expect);
	cs_jpath_pop(&d->path, saved);
	return r;
}
/* A whole spec at the current path (an op's "machine" or "job"). */
int cs_jcheck_machine_spec(struct cs_jdec *d, const struct cs_machine_spec *s);
int cs_jcheck_job_spec(struct cs_jdec *d, const struct cs_job_spec *s);
/* The builders' invariant for an op carrying a spec, at PATH.key: the op's
 * own name field is the spec's name (op->machine == machine_spec->name). */
int cs_jcheck_same_name(struct cs_jdec *d, const char *key, const char *op_name,
                        const char *spec_name);

/* Validators for free-form strings (UTF-8, no NUL, length in bytes). */
bool cs_jcommand_valid(const char *s); /* 1..CS_STRING_MAX */
bool cs_jstring_valid(const char *s);  /* 0..CS_STRING_MAX */
/* 0..CS_NOTE_MAX bytes, no C0 or C1 control characters (a note is one line
 * that cellctl prints to a terminal). */
bool cs_jnote_valid(const char *s);

/* ---- getters ----
 * A value-level getter (cs_jv_*) checks the value v at the current path. A
 * keyed getter (cs_jget_*) looks up key in the object obj, pushes ".key" for
 * its messages and pops it again. Keyed getters return 1 when the key was
 * there and *out was set, 0 when it is absent and optional (*out untouched),
 * -1 on an error (missing and required, wrong type or out of range; *out
 * untouched). JSON null is a wrong type, never "absent". Strings handed out
 * are borrowed from the JSON value: copy them before it is freed. */
enum cs_jneed { CS_JOPT, CS_JREQ };

/* Value-level getters return 0 (with *out set, where there is one) or -1.
 * The value must be an object: "expected WHAT, got an array". */
int cs_jv_object(struct cs_jdec *d, const json_t *v, const char *what);
int cs_jv_str(struct cs_jdec *d, const json_t *v, bool (*valid)(const char *),
              const char *expect, const char **out);
int cs_jv_u64(struct cs_jdec *d, const json_t *v, uint64_t lo, uint64_t hi,
              const char *expect, uint64_t *out);
int cs_jv_i64(struct cs_jdec *d, const json_t *v, int64_t lo, int64_t hi,
              const char *expect, int64_t *out);

/* Object-valued field; *out borrowed from obj. */
int cs_jget_object(struct cs_jdec *d, const json_t *obj, const char *key,
                   enum cs_jneed need, const char *what, const json_t **out);
/* Array-valued field with lo..hi entries; expect describes it in messages
 * ("an array of 1..1000000 ops"). *out borrowed from obj. */
int cs_jget_array(struct cs_jdec *d, const json_t *obj, const char *key,
                  enum cs_jneed need, size_t lo, size_t hi, const char *expect,
                  const json_t **out);
int cs_jget_str(struct cs_jdec *d, const json_t *obj, const char *key,
                enum cs_jneed need, bool (*valid)(const char *),
                const char *expect, const char **out);
int cs_jget_u64(struct cs_jdec *d, const json_t *obj, const char *key,
                enum cs_jneed need, uint64_t lo, uint64_t hi,
                const char *expect, uint64_t *out);
int cs_jget_u32(struct cs_jdec *d, const json_t *obj, const char *key,
                enum cs_jneed need, uint32_t lo, uint32_t hi,
                const char *expect, uint32_t *out);
int cs_jget_i64(struct cs_jdec *d, const json_t *obj, const char *key,
                enum cs_jneed need, int64_t lo, int64_t hi, const char *expect,
                int64_t *out);
int cs_jget_bool(struct cs_jdec *d, const json_t *obj, const char *key,
                 enum cs_jneed need, bool *out);
/* A string among names[0..n); *out gets its index. The message lists them
 * all: "expected one of: up, draining, down, got \"sideways\"". */
int cs_jget_enum(struct cs_jdec *d, const json_t *obj, const char *key,
                 enum cs_jneed need, const char *const *names, size_t n,
                 int *out);

/* Rejects any key of obj not in allowed (NULL-terminated):
 * "ops[0].sq: unknown field (expected one of: op, job, task, ...)". */
int cs_jcheck_fields(struct cs_jdec *d, const json_t *obj,
                     const char *const *allowed);

/* ---- collections, keyed getters as above ----
 * On success (1) *out and *n are set: the array and every string in it are
 * new copies, from arena a, or from the heap when a is NULL (each string and
 * the array malloc'd separately; the caller frees them one by one, as
 * spec.c's _free functions do). An empty collection gives *out NULL, *n 0.
 * On error nothing is allocated and *out, *n are untouched. */

/* Object of strings to labels sorted by key ("labels", "env"). */
struct cs_jmap_rules {
	uint32_t max;     /* entries at most */
	const char *noun; /* "labels": "expected at most 32 labels, got 40" */
	bool (*key_ok)(const char *);
	const char *key_expect;
	bool (*value_ok)(const char *);
	const char *value_expect;
};
extern const struct cs_jmap_rules cs_jlabel_rules, cs_jenv_rules;
int cs_jget_labels(struct cs_jdec *d, const json_t *obj, const char *key,
                   enum cs_jneed need, const struct cs_jmap_rules *rules,
                   struct cs_arena *a, struct cs_label **out, uint32_t *n);

/* Object of resource name to amount, in canonical order: cpu, memory, disk,
 * then the others by name. A JSON object has no order (and a client or a
 * JSON_SORT_KEYS dump may reorder it), yet the order a spec names extended
 * resources in decides their indexes (cellstate.h): so it must not depend on
 * the text. Names in required must be present and at least required_min;
 * all values are at most CS_RES_VALUE_MAX; at most CS_RES_MAX entries. */
struct cs_jamount_rules {
	const char *const *required; /* NULL-terminated */
	uint64_t required_min;       /* 0 or 1 */
};
/* capacity: cpu and memory required, >= 0; resources (a job's request per
 * task): cpu and memory required, > 0. */
extern const struct cs_jamount_rules cs_jcapacity_rules, cs_jrequest_rules;
int cs_jget_amounts(struct cs_jdec *d, const json_t *obj, const char *key,
                    enum cs_jneed need, const struct cs_jamount_rules *rules,
                    struct cs_arena *a, struct cs_amount **out, uint32_t *n);

/* Array of at most max strings each passing valid; noun names the entries
 * in the count message ("arguments"). */
struct cs_jlist_rules {
	uint32_t max;
	const char *noun;
	bool (*valid)(const char *);
	const char *expect;
};
/* A job's args and depends_on. */
extern const struct cs_jlist_rules cs_jargs_rules, cs_jdeps_rules;
int cs_jget_strings(struct cs_jdec *d, const json_t *obj, const char *key,
                    enum cs_jneed need, const struct cs_jlist_rules *rules,
                    struct cs_arena *a, char ***out, uint32_t *n);

/* ---- parsing ----
 * Parses JSON text (duplicate keys rejected, nothing after the value).
 * Returns 0 with *out a new reference the caller json_decref()s, or -1 with
 * "line L, column C: <jansson's text>" (or "(root): expected WHAT, got empty
 * input") in errbuf and *out untouched. */
int cs_jparse(const char *buf, size_t len, const char *what, json_t **out,
              char *errbuf, size_t errlen);

/* ---- encoding ----
 * Encoders build from validated structs; these never return NULL (jansson
 * running out of memory aborts, as cellstate.h promises). A string that is
 * not UTF-8 (which validation rejects) is written with bad bytes as '?'
 * rather than dropped. Integers above CS_JSON_INT_MAX are written as
 * CS_JSON_INT_MAX (validation keeps every encoded number below it). */
json_t *cs_jnew(json_t *v); /* aborts when v is NULL; returns v */
/* The json_t * returned below are new references; s, l, a are copied. */
json_t *cs_jstring(const char *s);
void cs_jset(json_t *obj, const char *key, json_t *v);         /* steals v */
void cs_jappend(json_t *arr, json_t *v);                       /* steals v */
void cs_jset_str(json_t *obj, const char *key, const char *s); /* NULL: skip */
void cs_jset_u64(json_t *obj, const char *key, uint64_t v);
void cs_jset_i64(json_t *obj, const char *key, int64_t v);
void cs_jset_bool(json_t *obj, const char *key, bool v);
json_t *cs_jlabels(const struct cs_label *l, uint32_t n);
json_t *cs_jamounts(const struct cs_amount *a, uint32_t n);
json_t *cs_jstrings(char *const *s, uint32_t n);

/* ---- fields several ops carry (op_fields.c) ----
 * Readers work as the keyed getters, returning 0 or -1 (strings borrowed
 * from o); writers set keys in FORMAT.md order; checks validate a built op
 * at PATH.key. */
/* "job" and "task", both required. */
int cs_jget_task_ref(struct cs_jdec *d, const json_t *o, const char **job,
                     uint32_t *task);
int cs_jget_machine(struct cs_jdec *d, const json_t *o, enum cs_jneed need,
                    const char **machine); /* *machine untouched if absent */
int cs_jget_job(struct cs_jdec *d, const json_t *o, const char **job);
/* The optional "seq", as read: has is false when it was absent. */
struct cs_jseq {
	bool has;
	uint64_t v;
};
int cs_jget_seq(struct cs_jdec *d, const json_t *o, struct cs_jseq *seq);
/* Sets (or clears) the op's seq as read: after the builder, which may have
 * set one. */
void cs_jseq_apply(struct cs_op *op, const struct cs_jseq *seq);
void cs_jput_task_ref(json_t *o, const struct cs_op *op);
void cs_jput_seq(json_t *o, const struct cs_op *op); /* only with has_seq */
int cs_jcheck_task_ref(struct cs_jdec *d, const struct cs_op *op);
/* The task reference, then a required "machine". */
int cs_jcheck_task_machine(struct cs_jdec *d, const struct cs_op *op);

/* A scheduler registration {"name", "class", "policy", "member"?}: read
 * with strings borrowed from j (codec_spec.c), and written. */
int cs_sched_spec_read(struct cs_jdec *d, const json_t *j,
                       struct cs_sched_spec *s);
json_t *cs_sched_spec_json(const struct cs_sched_spec *s);

#endif /* CELL_CELLSTATE_JSON_UTIL_H */
