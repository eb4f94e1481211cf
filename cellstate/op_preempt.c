/* op_preempt.c: preempt, a scheduler ending a running task to make room
 * for a job of higher priority; the victim goes back to pending. */
#include "bin_util.h"
#include "json_util.h"

struct cs_op *cs_txn_preempt(cs_txn *txn, const char *job, uint32_t task,
                             const char *machine, uint64_t seq,
                             const char *by_job)
{
	struct cs_op *op =
	    cs_txn_task_op(txn, CS_OP_PREEMPT, job, task, machine);
	cs_op_expect_seq(op, seq);
	op->by_job = cs_arena_strdup(txn->arena, by_job);
	return op;
}

/* ---- JSON ---- */

static const char *const preempt_fields[] = {"op",  "job", "task", "machine",
                                             "for", "seq", NULL};

static int preempt_json_read(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	const char *job = NULL, *machine = NULL, *by_job = NULL;
	uint32_t task = 0;
	struct cs_jseq seq;
	if (cs_jget_task_ref(d, o, &job, &task) < 0 ||
	    cs_jget_machine(d, o, CS_JREQ, &machine) < 0 ||
	    cs_jget_str(d, o, "for", CS_JREQ, cs_name_valid, CS_EXPECT_JOB,
	                &by_job) < 0 ||
	    cs_jget_seq(d, o, &seq) < 0)
		return -1;
	cs_jseq_apply(cs_txn_preempt(t, job, task, machine, 0, by_job), &seq);
	return 0;
}

static void preempt_json_write(json_t *o, const struct cs_op *op)
{
	cs_jput_task_ref(o, op);
	cs_jset_str(o, "machine", op->machine);
	cs_jset_str(o, "for", op->by_job);
	cs_jput_seq(o, op);
}

static int preempt_check(struct cs_jdec *d, const struct cs_op *op)
{
	if (cs_jcheck_task_machine(d, op) < 0 ||
	    cs_jcheck_name_at(d, "for", op->by_job, CS_EXPECT_JOB) < 0)
		return -1;
	return 0;
}

/* ---- binary: the task reference, machine, then the job it is for ---- */

static void preempt_bin_put(struct cu_buf *w, const struct cs_op *op)
{
	cs_bput_task_machine(w, op);
	cs_bput_str(w, op->by_job);
}

static void preempt_bin_get(struct cs_bdec *r, struct cs_op *op)
{
	cs_bget_task_machine(r, op);
	op->by_job = cs_bget_str(r);
}

/* ---- apply ---- */

static enum cs_reason preempt_apply(struct cs_apply *a, const struct cs_op *op)
{
	struct cs_job *job;
	struct cs_task *t;
	uint32_t slot;
	enum cs_reason r;
	if ((r = cs_find_task(a, op, &job, &t)))
		return r;
	struct cs_job *by;
	if ((r = cs_find_job(a, op->by_job, &by)) ||
	    (r = cs_check_live(a, t)) ||
	    (r = cs_find_machine(a, op->machine, &slot)) ||
	    (r = cs_check_on(a, t, slot)) ||
	    (r = cs_check_seq(a, op, cs_slot(a->s, slot))))
		return r;
	if (by->spec.priority <= job->spec.priority)
		return cs_reject(a, CS_R_PRIORITY,
		                 "job %s has priority %u, not above the %u of "
		                 "%s",
		                 by->spec.name, by->spec.priority,
		                 job->spec.priority, job->spec.name);
	cs_task_end(a, t, CS_END_PREEMPTED, t->exit_code);
	return CS_R_OK;
}

const struct cs_op_desc cs_op_desc_preempt = {
    .name = "preempt",
    .seq = CS_SEQ_OPTIONAL,
    .fields = preempt_fields,
    .json_read = preempt_json_read,
    .json_write = preempt_json_write,
    .check = preempt_check,
    .bin_put = preempt_bin_put,
    .bin_get = preempt_bin_get,
    .apply = preempt_apply,
};
