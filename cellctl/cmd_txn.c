/* cmd_txn.c: `cellctl txn`: commits a transaction by hand under the rules
 * schedulers use (ARCHITECTURE.md §2): from a JSON file, or one kind of op
 * built from flags with the machine seq the user saw. Every op's verdict is
 * printed; the exit code says whether all were accepted (0) or some were
 * rejected (3). The transaction always carries an id, so a resend after an
 * unknown outcome is answered once. */
#include "cellctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct {
	char *file, *id, *origin, *mode, *detect;
	char *job, *task, *machine, *seq, *for_job;
	bool dry_run;
} X;

/* ---- building ---- */

/* "0", "0,2,5" or "0-9,12" into a malloc'd list of task indexes. */
static int parse_tasks(struct ctl *c, const char *s, uint32_t **out, size_t *n)
{
	char *copy = cu_xstrdup(s), *save = NULL, *end;
	size_t cap = 0;
	int rc = 0;
	*out = NULL;
	*n = 0;
	for (char *p = strtok_r(copy, ",", &save); p && !rc;
	     p = strtok_r(NULL, ",", &save)) {
		errno = 0;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;
		if (*end == '-' && end > p)
			hi = strtoul(end + 1, &end, 10);
		if (end == p || *end || errno || p[0] == '-' || hi < lo ||
		    hi >= CS_JOB_TASKS_MAX ||
		    *n + (hi - lo) >= CS_JOB_TASKS_MAX) {
			rc = ctl_usage(c,
			               "--task: expected a task index (0-%u), "
			               "a list 0,2,5 or a range 0-9, got "
			               "\"%.64s\"",
			               CS_JOB_TASKS_MAX - 1, s);
			break;
		}
		for (unsigned long t = lo; t <= hi; t++) {
			if (*n == cap)
				*out = cu_xrealloc(*out,
				                   (cap = cap ? cap * 2 : 8) *
				                       sizeof(**out));
			(*out)[(*n)++] = (uint32_t)t;
		}
	}
	free(copy);
	if (!rc && !*n)
		rc = ctl_usage(c, "--task: expected at least one task index");
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

static int parse_seq(struct ctl *c, uint64_t *seq, bool *given)
{
	char *end;
	*given = X.seq != NULL;
	if (!X.seq)
		return 0;
	errno = 0;
	unsigned long long v = strtoull(X.seq, &end, 10);
	if (!X.seq[0] || *end || errno || X.seq[0] == '-')
		return ctl_usage(c,
		                 "--expect-seq: expected the machine's seq as "
		                 "a whole number (cellctl machine get MACHINE "
		                 "shows it), got \"%.64s\"",
		                 X.seq);
	*seq = v;
	return 0;
}

static int parse_modes(struct ctl *c, enum cs_mode *mode,
                       enum cs_detect *detect)
{
	int m = X.mode ? cs_mode_parse(X.mode) : CS_INCREMENTAL;
	int d = X.detect ? cs_detect_parse(X.detect) : CS_FINE;
	if (m < 0)
		return ctl_usage(c,
		                 "--mode: expected incremental or "
		                 "all_or_nothing, got \"%.64s\"",
		                 X.mode);
	if (d < 0)
		return ctl_usage(c,
		                 "--detect: expected fine or coarse, got "
		                 "\"%.64s\"",
		                 X.detect);
	*mode = (enum cs_mode)m;
	*detect = (enum cs_detect)d;
	return 0;
}

/* The flags each op kind needs, checked before anything is built. */
static int check_op_flags(struct ctl *c, enum cs_op_kind kind,
                          enum cs_detect detect, bool seq_given)
{
	if (!X.job)
		return ctl_usage(c, "--job is required (the job of the task)");
	if (!X.task)
		return ctl_usage(c, "--task is required (a task index, or a "
		                    "list like 0,1,4-7)");
	if (kind != CS_OP_RELEASE && !X.machine)
		return ctl_usage(c, "--machine is required");
	if (kind == CS_OP_PREEMPT && !X.for_job)
		return ctl_usage(c, "--for is required (the job the victim "
		                    "makes room for)");
	if (kind != CS_OP_PREEMPT && X.for_job)
		return ctl_usage(c, "--for applies to txn preempt only");
	if (kind == CS_OP_PLACE && detect == CS_COARSE && !seq_given)
		return ctl_usage(c,
		                 "--detect coarse needs --expect-seq N: the "
		                 "machine's seq you decided on (cellctl "
		                 "machine get %.64s shows it)",
		                 X.machine);
	return 0;
}

static void add_op(cs_txn *t, enum cs_op_kind kind, uint32_t task,
                   bool seq_given, uint64_t seq)
{
	struct cs_op *op;
	if (kind == CS_OP_PLACE)
		op = cs_txn_place(t, X.job, task, X.machine, seq);
	else if (kind == CS_OP_PREEMPT)
		op = cs_txn_preempt(t, X.job, task, X.machine, seq, X.for_job);
	else
		op = cs_txn_release(t, X.job, task, X.machine);
	if (seq_given)
		cs_op_expect_seq(op, seq);
	else
		op->has_seq = false;
}

static int txn_from_flags(struct ctl *c, enum cs_op_kind kind, cs_txn **out)
{
	enum cs_mode mode;
	enum cs_detect detect;
	uint64_t seq = 0;
	bool seq_given;
	uint32_t *tasks;
	size_t n;
	char id[CS_ID_MAX + 1], err[CS_ERRMSG_SIZE];
	int rc = parse_modes(c, &mode, &detect);
	if (!rc)
		rc = parse_seq(c, &seq, &seq_given);
	if (!rc)
		rc = check_op_flags(c, kind, detect, seq_given);
	if (!rc)
		rc = parse_tasks(c, X.task, &tasks, &n);
	if (rc)
		return rc;
	if (!X.id)
		ctl_new_id(id, sizeof(id));
	cs_txn *t = cs_txn_new(X.id ? X.id : id,
	                       X.origin ? X.origin : "cellctl", mode, detect);
	for (size_t i = 0; i < n; i++)
		add_op(t, kind, tasks[i], seq_given, seq);
	free(tasks);
	if (cs_txn_validate(t, err, sizeof(err))) {
		cs_txn_free(t);
		return ctl_usage(c, "the transaction is invalid: %s", err);
	}
	*out = t;
	return 0;
}

/* Flags given with -f override the file's fields. */
static void override(json_t *doc, const char *key, const char *value)
{
	if (value)
		json_object_set_new(doc, key, json_string(value));
}

static int txn_from_file(struct ctl *c, cs_txn **out)
{
	json_t *doc;
	char id[CS_ID_MAX + 1], err[CS_ERRMSG_SIZE];
	const char *name = strcmp(X.file, "-") ? X.file : "(stdin)";
	enum cs_mode mode;
	enum cs_detect detect;
	int rc = parse_modes(c, &mode, &detect);
	if (!rc)
		rc = ctl_read_json(X.file, &doc);
	if (rc)
		return rc;
	if (json_is_object(doc)) {
		override(doc, "id", X.id);
		override(doc, "origin", X.origin);
		override(doc, "mode", X.mode);
		override(doc, "detect", X.detect);
		if (!json_object_get(doc, "id")) {
			ctl_new_id(id, sizeof(id));
			override(doc, "id", id);
		}
		if (!json_object_get(doc, "origin"))
			override(doc, "origin", "cellctl");
	}
	rc = cs_txn_decode(doc, out, err, sizeof(err));
	json_decref(doc);
	if (rc)
		return ctl_fail("%s: %s", name, err);
	return 0;
}

/* ---- committing and printing ---- */

/* The op as the table names it: job and machine may be specs. */
static const char *name_of(const json_t *op, const char *key)
{
	const json_t *v = json_object_get(op, key);
	return json_is_object(v) ? jstr(v, "name") : json_string_value(v);
}

static void op_row(const struct ctl *c, struct table *t, size_t i,
                   const json_t *op)
{
	const json_t *task = json_object_get(op, "task");
	table_row(t);
	table_cellf(t, "%zu", i);
	table_cell(t, jstr(op, "op"));
	table_cell(t, name_of(op, "job"));
	if (task)
		table_cellf(t, "%lld", (long long)json_integer_value(task));
	else
		table_cell(t, "-");
	table_cell(t, name_of(op, "machine"));
	if (c->wide && json_object_get(op, "seq"))
		table_cellf(t, "%lld", jint(op, "seq"));
	else if (c->wide)
		table_cell(t, "-");
	if (c->wide)
		table_cell(t, name_of(op, "for"));
	table_cell(t, json_is_true(json_object_get(op, "ok")) ? "accepted"
	                                                      : "rejected");
	table_cell(t, jstr(op, "reason"));
	table_cell(t, jstr(op, "detail"));
}

static void op_table(const struct ctl *c, const json_t *ops)
{
	static const char *const narrow[] = {"OP",     "KIND",    "JOB",
	                                     "TASK",   "MACHINE", "VERDICT",
	                                     "REASON", "DETAIL",  NULL};
	static const char *const wide[] = {
	    "OP",  "KIND",    "JOB",    "TASK",   "MACHINE", "SEQ",
	    "FOR", "VERDICT", "REASON", "DETAIL", NULL};
	struct table *t = table_new(c->wide ? wide : narrow);
	size_t i;
	json_t *op;
	json_array_foreach (ops, i, op) {
		op_row(c, t, i, op);
	}
	table_print(t, stdout);
}

static void summary(const json_t *out)
{
	long long acc = jint(out, "accepted"), rej = jint(out, "rejected");
	const char *id = jstr(out, "id");
	if (json_is_true(json_object_get(out, "dry_run")))
		printf("dry run of %s as entry %lld (nothing was committed): "
		       "%lld would be accepted, %lld rejected%s\n",
		       id, jint(out, "index"), acc, rej,
		       json_is_true(json_object_get(out, "committed"))
		           ? ""
		           : "; the transaction would be rejected whole");
	else if (json_is_true(json_object_get(out, "duplicate")))
		printf("transaction %s was already decided at index %lld (this "
		       "was a retry; nothing changed): its first verdicts:\n",
		       id, jint(out, "index"));
	else if (!json_is_true(json_object_get(out, "committed")))
		printf("transaction %s rejected whole at index %lld (%s): "
		       "%lld op(s) failed, the others were aborted\n",
		       id, jint(out, "index"), jstr(out, "mode"), rej);
	else
		printf("transaction %s committed at index %lld (%s, %s): %lld "
		       "accepted, %lld rejected\n",
		       id, jint(out, "index"), jstr(out, "mode"),
		       jstr(out, "detect"), acc, rej);
}

/* The printed form: the transaction's fields, the result's counts, and
 * each encoded op merged with its verdict. */
static json_t *merge_result(const json_t *sent, const json_t *answer, bool dry)
{
	json_t *out =
	    json_pack("{s:s,s:b,s:s,s:s,s:O,s:O,s:O,s:O,s:O,s:[]}", "id",
	              jstr(sent, "id"), "dry_run", dry, "mode",
	              jstr(sent, "mode"), "detect", jstr(sent, "detect"),
	              "index", json_object_get(answer, "index"), "committed",
	              json_object_get(answer, "committed"), "duplicate",
	              json_object_get(answer, "duplicate"), "accepted",
	              json_object_get(answer, "accepted"), "rejected",
	              json_object_get(answer, "rejected"), "ops");
	json_t *ops = json_object_get(out, "ops"), *op;
	size_t i;
	json_array_foreach (json_object_get(sent, "ops"), i, op) {
		json_t *m = json_copy(op);
		json_object_update(
		    m, json_array_get(json_object_get(answer, "ops"), i));
		json_array_append_new(ops, m);
	}
	return out;
}

/* Checks the answer is a well-formed result for this transaction. */
static int check_answer(json_t *answer, const cs_txn *t)
{
	char err[CS_ERRMSG_SIZE];
	cs_result res;
	json_t *copy = json_copy(answer);
	json_object_del(copy, "dry_run");
	int rc = cs_result_decode(copy, &res, err, sizeof(err));
	json_decref(copy);
	if (rc)
		return ctl_fail(
		    "the cell's answer is not a transaction result: "
		    "%s",
		    err);
	rc = res.nops == t->nops ? 0
	                         : ctl_fail("the cell answered %u verdicts for "
	                                    "%u ops",
	                                    res.nops, t->nops);
	cs_result_clear(&res);
	return rc;
}

static int commit(struct ctl *c, const cs_txn *t)
{
	struct ctl_reply r;
	json_t *sent = cs_txn_encode(t);
	int rc = ctl_request(c, "POST",
	                     X.dry_run ? "/v1/txn?dry_run=true" : "/v1/txn",
	                     sent, CTL_WRITE, &r);
	if (!rc && r.status != 200)
		rc = ctl_reply_fail(c, &r, "committing the transaction", false);
	if (!rc)
		rc = check_answer(r.body, t);
	if (!rc) {
		json_t *out = merge_result(sent, r.body, X.dry_run);
		bool all = json_is_true(json_object_get(out, "committed")) &&
		           jint(out, "rejected") == 0;
		if (c->json) {
			ctl_print_json(out);
		} else {
			summary(out);
			op_table(c, json_object_get(out, "ops"));
		}
		rc = all ? CTL_OK : CTL_REJECTED;
		json_decref(out);
	}
	ctl_reply_clear(&r);
	json_decref(sent);
	return rc;
}

/* Commits t (when building it succeeded) and frees it. */
static int run_built(struct ctl *c, int rc, cs_txn *t)
{
	if (!rc)
		rc = commit(c, t);
	cs_txn_free(t);
	return rc;
}

static int txn_file(struct ctl *c, int argc, char **argv)
{
	cs_txn *t = NULL;
	if (argc > 0)
		return ctl_usage(c, "unexpected argument \"%.64s\"", argv[0]);
	if (!X.file)
		return ctl_usage(c, "expected -f FILE, or a subcommand: place, "
		                    "preempt, release");
	int rc = txn_from_file(c, &t);
	return run_built(c, rc, t);
}

static int txn_kind(struct ctl *c, int argc, char **argv, enum cs_op_kind k)
{
	cs_txn *t = NULL;
	if (argc > 0)
		return ctl_usage(c, "unexpected argument \"%.64s\"", argv[0]);
	int rc = txn_from_flags(c, k, &t);
	return run_built(c, rc, t);
}

static int txn_place(struct ctl *c, int argc, char **argv)
{
	return txn_kind(c, argc, argv, CS_OP_PLACE);
}

static int txn_preempt(struct ctl *c, int argc, char **argv)
{
	return txn_kind(c, argc, argv, CS_OP_PREEMPT);
}

static int txn_release(struct ctl *c, int argc, char **argv)
{
	return txn_kind(c, argc, argv, CS_OP_RELEASE);
}

/* ---- flags ---- */

/* The flags every form of txn shares, and those of the op-building forms;
 * tables of their own per command because each parse takes one table. */
/* clang-format off */
#define TXN_FLAGS                                                              \
	{"mode", CC_FLAG_STRING, NULL,                                         \
	 "incremental (keep what validates; the default) or all_or_nothing",   \
	 &X.mode, 0, 0},                                                       \
	{"detect", CC_FLAG_STRING, NULL,                                       \
	 "fine (reject only what no longer fits; the default) or coarse "      \
	 "(reject when the machine's seq changed)", &X.detect, 0, 0},          \
	{"id", CC_FLAG_STRING, NULL,                                           \
	 "transaction id for idempotent retries (default: a fresh one)",       \
	 &X.id, 0, 0},                                                         \
	{"origin", CC_FLAG_STRING, NULL, "who commits it (default: cellctl)",  \
	 &X.origin, 0, 0},                                                     \
	{"dry-run", CC_FLAG_BOOL, NULL,                                        \
	 "validate against the current state without committing",             \
	 &X.dry_run, 0, 0}

#define OP_FLAGS(machine_help)                                                 \
	{"job", CC_FLAG_STRING, NULL, "the task's job (required)", &X.job,     \
	 0, 0},                                                                \
	{"task", CC_FLAG_STRING, NULL,                                         \
	 "task index, list or range: 3, 0,2,5 or 0-9 (one op each; required)", \
	 &X.task, 0, 0},                                                       \
	{"machine", CC_FLAG_STRING, NULL, machine_help, &X.machine, 0, 0},     \
	{"expect-seq", CC_FLAG_STRING, NULL,                                   \
	 "the machine's seq you saw (required to place with --detect coarse)", \
	 &X.seq, 0, 0}
/* clang-format on */

static const struct cc_flag file_flags[] = {
    {"file", CC_FLAG_STRING, NULL,
     "-f: the transaction as JSON (FORMAT.md); - for stdin", &X.file, 0, 0},
    TXN_FLAGS,
    {NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct cc_flag place_flags[] = {
    OP_FLAGS("the machine to place on (required)"),
    TXN_FLAGS,
    {NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct cc_flag preempt_flags[] = {
    OP_FLAGS("the machine the victim runs on (required)"),
    {"for", CC_FLAG_STRING, NULL,
     "the job the victim makes room for (required; strictly higher priority)",
     &X.for_job, 0, 0},
    TXN_FLAGS,
    {NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct cc_flag release_flags[] = {
    OP_FLAGS("the machine the task is on (default: wherever it is)"),
    TXN_FLAGS,
    {NULL, 0, NULL, NULL, NULL, 0, 0}};

#define EXIT_CODES                                                             \
	"\n\nExit codes: 0 every op accepted; 3 some op rejected (or the "     \
	"whole\ntransaction, with all_or_nothing); 1 the cell could not be "   \
	"asked or\nthe file is wrong; 2 wrong usage."

static const struct ctl_cmd txn_cmds[] = {
    {
        .summary = "commit a transaction from a JSON file",
        .usage = "cellctl txn -f FILE [flags]\n"
                 "       cellctl txn place|preempt|release [flags]",
        .about =
            "Commits a transaction written as JSON (FORMAT.md: id, origin,\n"
            "mode, detect, ops) and prints every op's verdict, reason and\n"
            "detail. A file without an id gets a fresh one, so a resend\n"
            "after an unknown outcome (the leader changed in flight) is\n"
            "answered once; --id, --mode, --detect and --origin override\n"
            "the file's." EXIT_CODES,
        .examples =
            "  $ cellctl txn -f cellctl/examples/txn.json\n"
            "  $ cellctl txn -f txn.json --dry-run   # nothing is committed\n"
            "  $ cellctl txn -f txn.json --json |\n"
            "        jq '.ops[] | select(.ok | not)'\n",
        .flags = file_flags,
        .run = txn_file,
    },
    {
        .name = "place",
        .summary = "place pending tasks on a machine",
        .usage = "cellctl txn place --job JOB --task N --machine NAME [flags]",
        .about =
            "Places pending tasks of a job on a machine. With --detect\n"
            "coarse the op carries --expect-seq, the machine's seq you\n"
            "decided on: if the machine changed since (another placement, a\n"
            "drain), the op is rejected with seq_changed, exactly as a\n"
            "scheduler's would be." EXIT_CODES,
        .examples = "  $ cellctl txn place --job web --task 0 --machine m1\n"
                    "  $ cellctl machine get m1 --json | jq .seq   # say 41\n"
                    "  $ cellctl txn place --job web --task 1 --machine m1 \\\n"
                    "        --detect coarse --expect-seq 41\n"
                    "  $ cellctl txn place --job train --task 0-7 \\\n"
                    "        --machine g1 \\\n"
                    "        --mode all_or_nothing --dry-run\n",
        .flags = place_flags,
        .run = txn_place,
    },
    {
        .name = "preempt",
        .summary = "evict a task for a higher-priority job",
        .usage = "cellctl txn preempt --job VICTIM --task N --machine NAME\n"
                 "       --for JOB [flags]",
        .about =
            "Evicts tasks of a job from a machine to make room for a job of\n"
            "strictly higher priority (the victims go back to "
            "pending)." EXIT_CODES,
        .examples = "  $ cellctl txn preempt --job backfill --task 4 \\\n"
                    "        --machine m1 --for web\n",
        .flags = preempt_flags,
        .run = txn_preempt,
    },
    {
        .name = "release",
        .summary = "take tasks off their machine, back to pending",
        .usage =
            "cellctl txn release --job JOB --task N [--machine NAME] [flags]",
        .about =
            "Takes assigned or running tasks off their machine and returns\n"
            "them to pending (no retry is used)." EXIT_CODES,
        .examples = "  $ cellctl txn release --job web --task 0\n"
                    "  $ cellctl txn release --job web --task 0-2 \\\n"
                    "        --mode all_or_nothing\n",
        .flags = release_flags,
        .run = txn_release,
    },
    {.run = NULL},
};

const struct ctl_group ctl_group_txn = {
    "txn", "commit transactions: from a file, or place, preempt, release",
    txn_cmds};
