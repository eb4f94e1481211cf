/* op_fields.c: fields several ops carry (a task reference, a machine, a
 * job, the seq), in each format, so each reads and checks alike in every
 * op that has it. */
#include "bin_util.h"
#include "json_util.h"

/* ---- JSON ---- */

int cs_jget_task_ref(struct cs_jdec *d, const json_t *o, const char **job,
                     uint32_t *task)
{
	if (cs_jget_str(d, o, "job", CS_JREQ, cs_name_valid, CS_EXPECT_JOB,
	                job) < 0 ||
	    cs_jget_u32(d, o, "task", CS_JREQ, 0, CS_TASK_INDEX_MAX, NULL,
	                task) < 0)
		return -1;
	return 0;
}

int cs_jget_machine(struct cs_jdec *d, const json_t *o, enum cs_jneed need,
                    const char **machine)
{
	int r = cs_jget_str(d, o, "machine", need, cs_name_valid,
	                    CS_EXPECT_MACHINE, machine);
	return r < 0 ? -1 : 0;
}

int cs_jget_job(struct cs_jdec *d, const json_t *o, const char **job)
{
	int r = cs_jget_str(d, o, "job", CS_JREQ, cs_name_valid, CS_EXPECT_JOB,
	                    job);
	return r < 0 ? -1 : 0;
}

int cs_jget_seq(struct cs_jdec *d, const json_t *o, struct cs_jseq *seq)
{
	seq->v = 0;
	int r = cs_jget_u64(d, o, "seq", CS_JOPT, 0, CS_JSON_INT_MAX, NULL,
	                    &seq->v);
	seq->has = r == 1;
	return r < 0 ? -1 : 0;
}

void cs_jseq_apply(struct cs_op *op, const struct cs_jseq *seq)
{
	op->has_seq = seq->has;
	op->seq = seq->has ? seq->v : 0;
}

void cs_jput_task_ref(json_t *o, const struct cs_op *op)
{
	cs_jset_str(o, "job", op->job);
	cs_jset_u64(o, "task", op->task);
}

void cs_jput_seq(json_t *o, const struct cs_op *op)
{
	if (op->has_seq)
		cs_jset_u64(o, "seq", op->seq);
}

int cs_jcheck_task_ref(struct cs_jdec *d, const struct cs_op *op)
{
	if (cs_jcheck_name_at(d, "job", op->job, CS_EXPECT_JOB) < 0 ||
	    cs_jcheck_u64_at(d, "task", op->task, 0, CS_TASK_INDEX_MAX, NULL) <
	        0)
		return -1;
	return 0;
}

int cs_jcheck_task_machine(struct cs_jdec *d, const struct cs_op *op)
{
	if (cs_jcheck_task_ref(d, op) < 0 ||
	    cs_jcheck_name_at(d, "machine", op->machine, CS_EXPECT_MACHINE) < 0)
		return -1;
	return 0;
}

/* ---- binary ---- */

void cs_bput_task_ref(struct cu_buf *w, const struct cs_op *op)
{
	cs_bput_str(w, op->job);
	cu_buf_var(w, op->task);
}

void cs_bget_task_ref(struct cs_bdec *r, struct cs_op *op)
{
	op->job = cs_bget_str(r);
	op->task = cs_bget_u32(r);
}

void cs_bput_task_machine(struct cu_buf *w, const struct cs_op *op)
{
	cs_bput_task_ref(w, op);
	cs_bput_str(w, op->machine);
}

void cs_bget_task_machine(struct cs_bdec *r, struct cs_op *op)
{
	cs_bget_task_ref(r, op);
	op->machine = cs_bget_str(r);
}
