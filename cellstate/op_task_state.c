/* op_task_state.c: task_state, a node agent's report on one attempt of a
 * task: running, or how it ended. */
#include "bin_util.h"
#include "json_util.h"

struct cs_op *cs_txn_task_state(cs_txn *txn, const char *job, uint32_t task,
                                uint32_t attempt, const char *machine,
                                enum cs_task_state report, int32_t exit_code)
{
	struct cs_op *op =
	    cs_txn_task_op(txn, CS_OP_TASK_STATE, job, task, machine);
	op->attempt = attempt;
	op->report = report;
	op->exit_code = exit_code;
	return op;
}

/* ---- JSON ---- */

static const char *const task_state_fields[] = {
    "op", "job", "task", "attempt", "machine", "state", "exit_code", NULL};

/* The states an agent may report for an attempt. */
static const enum cs_task_state reports[] = {CS_TASK_RUNNING, CS_TASK_SUCCEEDED,
                                             CS_TASK_FAILED, CS_TASK_LOST};

static int get_report(struct cs_jdec *d, const json_t *o, int *report)
{
	const char *names[CS_ARRAY_LEN(reports)];
	for (size_t i = 0; i < CS_ARRAY_LEN(reports); i++)
		names[i] = cs_task_state_name(reports[i]);
	return cs_jget_enum(d, o, "state", CS_JREQ, names, CS_ARRAY_LEN(names),
	                    report);
}

static int task_state_json_read(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	const char *job = NULL, *machine = NULL;
	uint32_t task = 0, attempt = 0;
	int report = 0;
	int64_t exit_code = 0;
	if (cs_jget_task_ref(d, o, &job, &task) < 0 ||
	    cs_jget_u32(d, o, "attempt", CS_JREQ, 0, UINT32_MAX, NULL,
	                &attempt) < 0 ||
	    cs_jget_machine(d, o, CS_JREQ, &machine) < 0 ||
	    get_report(d, o, &report) < 0 ||
	    cs_jget_i64(d, o, "exit_code", CS_JOPT, INT32_MIN, INT32_MAX, NULL,
	                &exit_code) < 0)
		return -1;
	cs_txn_task_state(t, job, task, attempt, machine, reports[report],
	                  (int32_t)exit_code);
	return 0;
}

static void task_state_json_write(json_t *o, const struct cs_op *op)
{
	cs_jput_task_ref(o, op);
	cs_jset_u64(o, "attempt", op->attempt);
	cs_jset_str(o, "machine", op->machine);
	cs_jset_str(o, "state", cs_task_state_name(op->report));
	cs_jset_i64(o, "exit_code", op->exit_code);
}

static int task_state_check(struct cs_jdec *d, const struct cs_op *op)
{
	if (cs_jcheck_task_machine(d, op) < 0)
		return -1;
	switch (op->report) {
	case CS_TASK_RUNNING:
	case CS_TASK_SUCCEEDED:
	case CS_TASK_FAILED:
	case CS_TASK_LOST:
		return 0;
	default:
		return cs_jerr_at(d, "state",
		                  "expected one of: running, "
		                  "succeeded, failed, lost, got \"%s\"",
		                  cs_task_state_name(op->report));
	}
}

/* ---- binary: task reference, varint attempt, str machine, u8 report,
 * zigzag varint exit code ---- */

static void task_state_bin_put(struct cu_buf *w, const struct cs_op *op)
{
	cs_bput_task_ref(w, op);
	cu_buf_var(w, op->attempt);
	cs_bput_str(w, op->machine);
	cu_buf_u8(w, op->report);
	cu_buf_var(w, cu_zigzag(op->exit_code));
}

static void task_state_bin_get(struct cs_bdec *r, struct cs_op *op)
{
	cs_bget_task_ref(r, op);
	op->attempt = cs_bget_u32(r);
	op->machine = cs_bget_str(r);
	op->report = (enum cs_task_state)cs_bget_u8(r);
	uint64_t z = cs_bget_var(r);
	int64_t v = cu_unzigzag(z);
	if (v < INT32_MIN || v > INT32_MAX)
		cs_bfail(r, "exit code outside int32");
	op->exit_code = (int32_t)v;
}

/* ---- apply ---- */

static enum cs_task_end end_of(enum cs_task_state report)
{
	switch (report) {
	case CS_TASK_SUCCEEDED:
		return CS_END_SUCCEEDED;
	case CS_TASK_FAILED:
		return CS_END_FAILED;
	default:
		return CS_END_LOST;
	}
}

static enum cs_reason task_state_apply(struct cs_apply *a,
                                       const struct cs_op *op)
{
	struct cs_job *job;
	struct cs_task *t;
	uint32_t slot;
	enum cs_reason r;
	if ((r = cs_find_task(a, op, &job, &t)) ||
	    (r = cs_find_machine(a, op->machine, &slot)))
		return r;
	if (op->attempt != t->attempt)
		return cs_reject(a, CS_R_STALE_ATTEMPT,
		                 "task %s/%u is at attempt %u, the report is "
		                 "for attempt %u",
		                 job->spec.name, op->task, t->attempt,
		                 op->attempt);
	if ((r = cs_check_live(a, t)) || (r = cs_check_on(a, t, slot)))
		return r;
	switch (op->report) {
	case CS_TASK_RUNNING:
		if (t->state == CS_TASK_ASSIGNED) { /* repeats are no-ops */
			cs_task_move(a, t, CS_TASK_RUNNING);
			cs_note_task(a, t, CS_END_NONE, CS_NO_MACHINE);
		}
		return CS_R_OK;
	case CS_TASK_SUCCEEDED:
	case CS_TASK_FAILED:
	case CS_TASK_LOST:
		cs_task_end(a, t, end_of(op->report), op->exit_code);
		return CS_R_OK;
	default:
		return cs_reject(a, CS_R_TASK_NOT_ACTIVE,
		                 "a report can say running, succeeded, failed "
		                 "or lost, not %s",
		                 cs_task_state_name(op->report));
	}
}

const struct cs_op_desc cs_op_desc_task_state = {
    .name = "task_state",
    .seq = CS_SEQ_NEVER,
    .fields = task_state_fields,
    .json_read = task_state_json_read,
    .json_write = task_state_json_write,
    .check = task_state_check,
    .bin_put = task_state_bin_put,
    .bin_get = task_state_bin_get,
    .apply = task_state_apply,
};
