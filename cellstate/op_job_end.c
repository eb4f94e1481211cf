/* op_job_end.c: job_kill and job_remove, the end of a job's life: kill
 * ends a live job, remove forgets an ended one. One file for both: they
 * carry the same single field, "job", coded alike in every format, and
 * differ only in their builder and their apply. */
#include "bin_util.h"
#include "json_util.h"

struct cs_op *cs_txn_job_kill(cs_txn *txn, const char *job)
{
	struct cs_op *op = cs_txn_add(txn, CS_OP_JOB_KILL);
	op->job = cs_arena_strdup(txn->arena, job);
	return op;
}

struct cs_op *cs_txn_job_remove(cs_txn *txn, const char *job)
{
	struct cs_op *op = cs_txn_add(txn, CS_OP_JOB_REMOVE);
	op->job = cs_arena_strdup(txn->arena, job);
	return op;
}

/* ---- formats, shared: {"op", "job"}; binary str job ---- */

static const char *const job_end_fields[] = {"op", "job", NULL};

static int job_kill_json_read(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	const char *job;
	if (cs_jget_job(d, o, &job) < 0)
		return -1;
	cs_txn_job_kill(t, job);
	return 0;
}

static int job_remove_json_read(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	const char *job;
	if (cs_jget_job(d, o, &job) < 0)
		return -1;
	cs_txn_job_remove(t, job);
	return 0;
}

static void job_end_json_write(json_t *o, const struct cs_op *op)
{
	cs_jset_str(o, "job", op->job);
}

static int job_end_check(struct cs_jdec *d, const struct cs_op *op)
{
	return cs_jcheck_name_at(d, "job", op->job, CS_EXPECT_JOB);
}

static void job_end_bin_put(struct cu_buf *w, const struct cs_op *op)
{
	cs_bput_str(w, op->job);
}

static void job_end_bin_get(struct cs_bdec *r, struct cs_op *op)
{
	op->job = cs_bget_str(r);
}

/* ---- apply ---- */

static enum cs_reason job_kill_apply(struct cs_apply *a, const struct cs_op *op)
{
	struct cs_job *job;
	enum cs_reason r = cs_find_active_job(a, op->job, &job);
	if (r)
		return r;
	cs_job_finish(a, job, CS_JOB_KILLED, CS_CAUSE_KILLED);
	return CS_R_OK;
}

/* Only ended jobs go: they hold no resources and, by the invariant that
 * dependents lists hold blocked jobs only, no edges either. */
static enum cs_reason job_remove_apply(struct cs_apply *a,
                                       const struct cs_op *op)
{
	struct cs_job *job;
	enum cs_reason r = cs_find_job(a, op->job, &job);
	if (r)
		return r;
	if (job->state < CS_JOB_SUCCEEDED)
		return cs_reject(a, CS_R_JOB_ACTIVE,
		                 "job %s is %s; kill it before removing it",
		                 job->spec.name, cs_job_state_name(job->state));
	cs_note_removed(a, CS_CHANGE_JOB_REMOVED, job->spec.name);
	cs_drop_job(a, job);
	return CS_R_OK;
}

const struct cs_op_desc cs_op_desc_job_kill = {
    .name = "job_kill",
    .seq = CS_SEQ_NEVER,
    .fields = job_end_fields,
    .json_read = job_kill_json_read,
    .json_write = job_end_json_write,
    .check = job_end_check,
    .bin_put = job_end_bin_put,
    .bin_get = job_end_bin_get,
    .apply = job_kill_apply,
};

const struct cs_op_desc cs_op_desc_job_remove = {
    .name = "job_remove",
    .seq = CS_SEQ_NEVER,
    .fields = job_end_fields,
    .json_read = job_remove_json_read,
    .json_write = job_end_json_write,
    .check = job_end_check,
    .bin_put = job_end_bin_put,
    .bin_get = job_end_bin_get,
    .apply = job_remove_apply,
};
