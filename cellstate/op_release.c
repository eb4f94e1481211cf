/* op_release.c: release, a scheduler handing back a task it placed
 * before it ran: pending again, without using a retry. */
#include "bin_util.h"
#include "json_util.h"

struct cs_op *cs_txn_release(cs_txn *txn, const char *job, uint32_t task,
                             const char *machine)
{
	return cs_txn_task_op(txn, CS_OP_RELEASE, job, task, machine);
}

/* ---- JSON: "machine" is optional (absent: wherever the task is) ---- */

static const char *const release_fields[] = {"op",      "job", "task",
                                             "machine", "seq", NULL};

static int release_json_read(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	const char *job = NULL, *machine = NULL;
	uint32_t task = 0;
	struct cs_jseq seq;
	if (cs_jget_task_ref(d, o, &job, &task) < 0 ||
	    cs_jget_machine(d, o, CS_JOPT, &machine) < 0 ||
	    cs_jget_seq(d, o, &seq) < 0)
		return -1;
	cs_jseq_apply(cs_txn_release(t, job, task, machine), &seq);
	return 0;
}

static void release_json_write(json_t *o, const struct cs_op *op)
{
	cs_jput_task_ref(o, op);
	cs_jset_str(o, "machine", op->machine); /* NULL: left out */
	cs_jput_seq(o, op);
}

static int release_check(struct cs_jdec *d, const struct cs_op *op)
{
	if (cs_jcheck_task_ref(d, op) < 0 ||
	    cs_jcheck_opt_at(d, "machine", op->machine, cs_name_valid,
	                     CS_EXPECT_MACHINE) < 0)
		return -1;
	return 0;
}

/* ---- apply ---- */

static enum cs_reason release_apply(struct cs_apply *a, const struct cs_op *op)
{
	struct cs_job *job;
	struct cs_task *t;
	uint32_t slot;
	enum cs_reason r;
	if ((r = cs_find_task(a, op, &job, &t)) || (r = cs_check_live(a, t)))
		return r;
	if (op->machine && ((r = cs_find_machine(a, op->machine, &slot)) ||
	                    (r = cs_check_on(a, t, slot)) ||
	                    (r = cs_check_seq(a, op, cs_slot(a->s, slot)))))
		return r;
	cs_task_end(a, t, CS_END_RELEASED, t->exit_code);
	return CS_R_OK;
}

/* Binary: the task reference and the machine (NULL: wherever it is). */
const struct cs_op_desc cs_op_desc_release = {
    .name = "release",
    .seq = CS_SEQ_OPTIONAL,
    .fields = release_fields,
    .json_read = release_json_read,
    .json_write = release_json_write,
    .check = release_check,
    .bin_put = cs_bput_task_machine,
    .bin_get = cs_bget_task_machine,
    .apply = release_apply,
};
