/* codec_txn.c: JSON for transactions (FORMAT.md), the body of POST /v1/txn
 * and the payload of a Raft entry. Decoding goes through the builders of
 * txn.c and ends with cs_txn_validate, so a decoded transaction is exactly
 * what a scheduler could have built, checked by the same code. */
#include "json_util.h"

#include <stdlib.h>

static const char *const txn_fields[] = {"id",     "origin", "mode",
                                         "detect", "ops",    NULL};

/* What one op may carry, besides "op" itself. */
#define TASK_FIELDS "op", "job", "task"
static const char *const place_fields[] = {TASK_FIELDS, "machine", "seq", NULL};
static const char *const preempt_fields[] = {TASK_FIELDS, "machine", "for",
                                             "seq", NULL};
static const char *const task_state_fields[] = {
    TASK_FIELDS, "attempt", "machine", "state", "exit_code", NULL};
static const char *const machine_fields[] = {"op", "machine", "seq", NULL};
static const char *const machine_state_fields[] = {"op", "machine", "state",
                                                   "seq", NULL};
static const char *const job_fields[] = {"op", "job", NULL};
static const char *const note_fields[] = {"op", "job", "note", NULL};
static const char *const sched_fields[] = {"op", "scheduler", NULL};

/* The fields of one op as read, strings borrowed from the JSON. */
struct op_in {
	const char *job, *machine, *by_job;
	uint32_t task, attempt;
	int64_t exit_code;
	int state;
	int has_seq; /* 1: "seq" was given */
	uint64_t seq;
};

/* ---- field readers ---- */

static int get_task_ref(struct cs_jdec *d, const json_t *o, struct op_in *in)
{
	if (cs_jget_str(d, o, "job", CS_JREQ, cs_name_valid, CS_EXPECT_JOB,
	                &in->job) < 0 ||
	    cs_jget_u32(d, o, "task", CS_JREQ, 0, CS_TASK_INDEX_MAX, NULL,
	                &in->task) < 0)
		return -1;
	return 0;
}

static int get_machine(struct cs_jdec *d, const json_t *o, enum cs_jneed need,
                       struct op_in *in)
{
	return cs_jget_str(d, o, "machine", need, cs_name_valid,
	                   CS_EXPECT_MACHINE, &in->machine);
}

static int get_seq(struct cs_jdec *d, const json_t *o, struct op_in *in)
{
	in->has_seq = cs_jget_u64(d, o, "seq", CS_JOPT, 0, CS_JSON_INT_MAX,
	                          NULL, &in->seq);
	return in->has_seq < 0 ? -1 : 0;
}

static int get_machine_state(struct cs_jdec *d, const json_t *o,
                             struct op_in *in)
{
	const char *names[CS_MACHINE_DOWN + 1];
	for (int i = 0; i <= CS_MACHINE_DOWN; i++)
		names[i] = cs_machine_state_name((enum cs_machine_state)i);
	return cs_jget_enum(d, o, "state", CS_JREQ, names, CS_ARRAY_LEN(names),
	                    &in->state);
}

/* The states an agent may report for an attempt. */
static const enum cs_task_state reports[] = {CS_TASK_RUNNING, CS_TASK_SUCCEEDED,
                                             CS_TASK_FAILED, CS_TASK_LOST};

static int get_report(struct cs_jdec *d, const json_t *o, struct op_in *in)
{
	const char *names[CS_ARRAY_LEN(reports)];
	for (size_t i = 0; i < CS_ARRAY_LEN(reports); i++)
		names[i] = cs_task_state_name(reports[i]);
	return cs_jget_enum(d, o, "state", CS_JREQ, names, CS_ARRAY_LEN(names),
	                    &in->state);
}

static void with_seq(struct cs_op *op, const struct op_in *in)
{
	op->has_seq = in->has_seq == 1;
	op->seq = op->has_seq ? in->seq : 0;
}

/* ---- one reader per op kind: read the fields, then call the builder ---- */

static int read_place(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	struct op_in in = {0};
	if (get_task_ref(d, o, &in) < 0 ||
	    get_machine(d, o, CS_JREQ, &in) < 0 || get_seq(d, o, &in) < 0)
		return -1;
	with_seq(cs_txn_place(t, in.job, in.task, in.machine, 0), &in);
	return 0;
}

static int read_preempt(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	struct op_in in = {0};
	if (get_task_ref(d, o, &in) < 0 ||
	    get_machine(d, o, CS_JREQ, &in) < 0 ||
	    cs_jget_str(d, o, "for", CS_JREQ, cs_name_valid, CS_EXPECT_JOB,
	                &in.by_job) < 0 ||
	    get_seq(d, o, &in) < 0)
		return -1;
	with_seq(cs_txn_preempt(t, in.job, in.task, in.machine, 0, in.by_job),
	         &in);
	return 0;
}

static int read_release(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	struct op_in in = {0};
	if (get_task_ref(d, o, &in) < 0 ||
	    get_machine(d, o, CS_JOPT, &in) < 0 || get_seq(d, o, &in) < 0)
		return -1;
	with_seq(cs_txn_release(t, in.job, in.task, in.machine), &in);
	return 0;
}

static int read_task_state(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	struct op_in in = {0};
	if (get_task_ref(d, o, &in) < 0 ||
	    cs_jget_u32(d, o, "attempt", CS_JREQ, 0, UINT32_MAX, NULL,
	                &in.attempt) < 0 ||
	    get_machine(d, o, CS_JREQ, &in) < 0 || get_report(d, o, &in) < 0 ||
	    cs_jget_i64(d, o, "exit_code", CS_JOPT, INT32_MIN, INT32_MAX, NULL,
	                &in.exit_code) < 0)
		return -1;
	cs_txn_task_state(t, in.job, in.task, in.attempt, in.machine,
	                  reports[in.state], (int32_t)in.exit_code);
	return 0;
}

/* A spec-valued field: decoded onto the heap at PATH.key, then copied into
 * the transaction by the builder, which keeps op->machine == spec->name. */
static int read_machine_put(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	struct op_in in = {0};
	const json_t *j;
	struct cs_machine_spec *spec = NULL;
	if (cs_jget_object(d, o, "machine", CS_JREQ, "a machine spec object",
	                   &j) < 0 ||
	    get_seq(d, o, &in) < 0)
		return -1;
	size_t saved = cs_jpath_key(&d->path, "machine");
	int r = cs_machine_spec_decode(j, cs_jpath_str(&d->path), &spec,
	                               d->errbuf, d->errlen);
	cs_jpath_pop(&d->path, saved);
	if (r < 0)
		return -1;
	with_seq(cs_txn_machine_put(t, spec), &in);
	cs_machine_spec_free(spec);
	return 0;
}

static int read_machine_state(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	struct op_in in = {0};
	if (get_machine(d, o, CS_JREQ, &in) < 0 ||
	    get_machine_state(d, o, &in) < 0 || get_seq(d, o, &in) < 0)
		return -1;
	with_seq(cs_txn_machine_state(t, in.machine,
	                              (enum cs_machine_state)in.state),
	         &in);
	return 0;
}

static int read_machine_remove(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	struct op_in in = {0};
	if (get_machine(d, o, CS_JREQ, &in) < 0 || get_seq(d, o, &in) < 0)
		return -1;
	with_seq(cs_txn_machine_remove(t, in.machine), &in);
	return 0;
}

static int read_job_put(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	const json_t *j;
	struct cs_job_spec *spec = NULL;
	if (cs_jget_object(d, o, "job", CS_JREQ, "a job spec object", &j) < 0)
		return -1;
	size_t saved = cs_jpath_key(&d->path, "job");
	int r = cs_job_spec_decode(j, cs_jpath_str(&d->path), &spec, d->errbuf,
	                           d->errlen);
	cs_jpath_pop(&d->path, saved);
	if (r < 0)
		return -1;
	cs_txn_job_put(t, spec);
	cs_job_spec_free(spec);
	return 0;
}

static int read_job_name(struct cs_jdec *d, const json_t *o, const char **job)
{
	return cs_jget_str(d, o, "job", CS_JREQ, cs_name_valid, CS_EXPECT_JOB,
	                   job);
}

static int read_job_kill(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	const char *job;
	if (read_job_name(d, o, &job) < 0)
		return -1;
	cs_txn_job_kill(t, job);
	return 0;
}

static int read_job_remove(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	const char *job;
	if (read_job_name(d, o, &job) < 0)
		return -1;
	cs_txn_job_remove(t, job);
	return 0;
}

static int read_sched_register(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	const json_t *j;
	struct cs_sched_spec spec;
	if (cs_jget_object(d, o, "scheduler", CS_JREQ, "a scheduler object",
	                   &j) < 0)
		return -1;
	size_t saved = cs_jpath_key(&d->path, "scheduler");
	int r = cs_sched_spec_read(d, j, &spec);
	cs_jpath_pop(&d->path, saved);
	if (r < 0)
		return -1;
	cs_txn_sched_register(t, &spec);
	return 0;
}

static int read_sched_unregister(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	const char *name;
	if (cs_jget_str(d, o, "scheduler", CS_JREQ, cs_name_valid,
	                CS_EXPECT_SCHED, &name) < 0)
		return -1;
	cs_txn_sched_unregister(t, name);
	return 0;
}

/* "note" is required: "" clears, so a forgotten field never does. */
static int read_job_note(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	const char *job, *note;
	if (read_job_name(d, o, &job) < 0 ||
	    cs_jget_str(d, o, "note", CS_JREQ, cs_jnote_valid, CS_EXPECT_NOTE,
	                &note) < 0)
		return -1;
	cs_txn_job_note(t, job, note);
	return 0;
}

struct op_format {
	const char *const *fields;
	int (*read)(struct cs_jdec *d, const json_t *o, cs_txn *t);
};

static const struct op_format formats[CS_OP__COUNT] = {
    [CS_OP_PLACE] = {place_fields, read_place},
    [CS_OP_PREEMPT] = {preempt_fields, read_preempt},
    [CS_OP_RELEASE] = {place_fields, read_release},
    [CS_OP_TASK_STATE] = {task_state_fields, read_task_state},
    [CS_OP_MACHINE_PUT] = {machine_fields, read_machine_put},
    [CS_OP_MACHINE_STATE] = {machine_state_fields, read_machine_state},
    [CS_OP_MACHINE_REMOVE] = {machine_fields, read_machine_remove},
    [CS_OP_JOB_PUT] = {job_fields, read_job_put},
    [CS_OP_JOB_KILL] = {job_fields, read_job_kill},
    [CS_OP_JOB_REMOVE] = {job_fields, read_job_remove},
    [CS_OP_SCHED_REGISTER] = {sched_fields, read_sched_register},
    [CS_OP_SCHED_UNREGISTER] = {sched_fields, read_sched_unregister},
    [CS_OP_JOB_NOTE] = {note_fields, read_job_note},
};

/* "op" first: it decides which fields are known. */
static int op_read(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	const char *names[CS_OP__COUNT];
	int kind;
	for (int i = 0; i < CS_OP__COUNT; i++)
		names[i] = cs_op_name((enum cs_op_kind)i);
	if (cs_jv_object(d, o, "an op object") < 0 ||
	    cs_jget_enum(d, o, "op", CS_JREQ, names, CS_OP__COUNT, &kind) < 0 ||
	    cs_jcheck_fields(d, o, formats[kind].fields) < 0)
		return -1;
	return formats[kind].read(d, o, t);
}

static int ops_read(struct cs_jdec *d, const json_t *ops, cs_txn *t)
{
	/* No reserve up front: the builders double as needed, so a huge array
	 * of junk fails at its first entry without a huge allocation. */
	uint32_t n = (uint32_t)json_array_size(ops);
	size_t saved = cs_jpath_key(&d->path, "ops");
	int r = 0;
	for (uint32_t i = 0; i < n && r == 0; i++) {
		size_t at = cs_jpath_index(&d->path, i);
		r = op_read(d, json_array_get(ops, i), t);
		cs_jpath_pop(&d->path, at);
	}
	cs_jpath_pop(&d->path, saved);
	return r;
}

static int txn_read(struct cs_jdec *d, const json_t *j, cs_txn **out)
{
	const char *modes[] = {cs_mode_name(CS_INCREMENTAL),
	                       cs_mode_name(CS_ALL_OR_NOTHING)};
	const char *detects[] = {cs_detect_name(CS_FINE),
	                         cs_detect_name(CS_COARSE)};
	const char *id = NULL, *origin = NULL;
	int mode = CS_INCREMENTAL, detect = CS_FINE;
	const json_t *ops;
	if (cs_jv_object(d, j, "a transaction object") < 0 ||
	    cs_jcheck_fields(d, j, txn_fields) < 0 ||
	    cs_jget_str(d, j, "id", CS_JOPT, cs_id_valid, CS_EXPECT_ID, &id) <
	        0 ||
	    cs_jget_str(d, j, "origin", CS_JOPT, cs_id_valid, CS_EXPECT_ORIGIN,
	                &origin) < 0 ||
	    cs_jget_enum(d, j, "mode", CS_JOPT, modes, 2, &mode) < 0 ||
	    cs_jget_enum(d, j, "detect", CS_JOPT, detects, 2, &detect) < 0 ||
	    cs_jget_array(d, j, "ops", CS_JREQ, 1, CS_TXN_OPS_MAX,
	                  CS_EXPECT_OPS, &ops) < 0)
		return -1;
	*out =
	    cs_txn_new(id, origin, (enum cs_mode)mode, (enum cs_detect)detect);
	return ops_read(d, ops, *out);
}

int cs_txn_decode(const json_t *j, cs_txn **out, char *errbuf, size_t errlen)
{
	struct cs_jdec d;
	cs_txn *txn = NULL;
	cs_jdec_init(&d, NULL, errbuf, errlen);
	if (!j)
		return cs_jerr(&d,
		               "expected a transaction object, got nothing");
	if (txn_read(&d, j, &txn) < 0 ||
	    cs_txn_validate(txn, errbuf, errlen) < 0) {
		cs_txn_free(txn);
		return -1;
	}
	*out = txn;
	return 0;
}

int cs_txn_parse(const char *buf, size_t len, cs_txn **out, char *errbuf,
                 size_t errlen)
{
	json_t *j;
	if (cs_jparse(buf, len, "a transaction object", &j, errbuf, errlen) < 0)
		return -1;
	int r = cs_txn_decode(j, out, errbuf, errlen);
	json_decref(j);
	return r;
}

/* ---- encoding: fields in the order FORMAT.md lists them ---- */

static void put_task_ref(json_t *o, const struct cs_op *op)
{
	cs_jset_str(o, "job", op->job);
	cs_jset_u64(o, "task", op->task);
}

static void put_seq(json_t *o, const struct cs_op *op)
{
	if (op->has_seq)
		cs_jset_u64(o, "seq", op->seq);
}

static void put_task_op(json_t *o, const struct cs_op *op)
{
	put_task_ref(o, op);
	if (op->kind == CS_OP_TASK_STATE) {
		cs_jset_u64(o, "attempt", op->attempt);
		cs_jset_str(o, "machine", op->machine);
		cs_jset_str(o, "state", cs_task_state_name(op->report));
		cs_jset_i64(o, "exit_code", op->exit_code);
		return;
	}
	cs_jset_str(o, "machine", op->machine);
	if (op->kind == CS_OP_PREEMPT)
		cs_jset_str(o, "for", op->by_job);
	put_seq(o, op);
}

static void put_machine_op(json_t *o, const struct cs_op *op)
{
	if (op->kind == CS_OP_MACHINE_PUT) {
		cs_jset(o, "machine", cs_machine_spec_encode(op->machine_spec));
	} else {
		cs_jset_str(o, "machine", op->machine);
		if (op->kind == CS_OP_MACHINE_STATE)
			cs_jset_str(o, "state",
			            cs_machine_state_name(op->machine_state));
	}
	put_seq(o, op);
}

static json_t *op_encode(const struct cs_op *op)
{
	json_t *o = cs_jnew(json_object());
	cs_jset_str(o, "op", cs_op_name(op->kind));
	switch (op->kind) {
	case CS_OP_PLACE:
	case CS_OP_PREEMPT:
	case CS_OP_RELEASE:
	case CS_OP_TASK_STATE:
		put_task_op(o, op);
		break;
	case CS_OP_MACHINE_PUT:
	case CS_OP_MACHINE_STATE:
	case CS_OP_MACHINE_REMOVE:
		put_machine_op(o, op);
		break;
	case CS_OP_JOB_PUT:
		cs_jset(o, "job", cs_job_spec_encode(op->job_spec));
		break;
	case CS_OP_JOB_KILL:
	case CS_OP_JOB_REMOVE:
		cs_jset_str(o, "job", op->job);
		break;
	case CS_OP_SCHED_REGISTER:
		cs_jset(o, "scheduler", cs_sched_spec_json(op->sched_spec));
		break;
	case CS_OP_SCHED_UNREGISTER:
		cs_jset_str(o, "scheduler", op->sched);
		break;
	case CS_OP_JOB_NOTE:
		cs_jset_str(o, "job", op->job);
		cs_jset_str(o, "note", op->note ? op->note : "");
		break;
	case CS_OP__COUNT:
		break;
	}
	return o;
}

json_t *cs_txn_encode(const cs_txn *txn)
{
	json_t *o = cs_jnew(json_object());
	json_t *ops = cs_jnew(json_array());
	cs_jset_str(o, "id", txn->id);
	cs_jset_str(o, "origin", txn->origin);
	cs_jset_str(o, "mode", cs_mode_name(txn->mode));
	cs_jset_str(o, "detect", cs_detect_name(txn->detect));
	for (uint32_t i = 0; i < txn->nops; i++)
		cs_jappend(ops, op_encode(&txn->ops[i]));
	cs_jset(o, "ops", ops);
	return o;
}
