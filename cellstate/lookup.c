/* lookup.c: what ops check before their first change: the entities an op
 * names, the seq its submitter saw, where its task is. Each rejects with a
 * reason and a detail (cs_reject) and changes nothing. */
#include "internal.h"

enum cs_reason cs_find_job(struct cs_apply *a, const char *name,
                           struct cs_job **job)
{
	*job = name ? cu_map_get(&a->s->jobs, name) : NULL;
	if (*job)
		return CS_R_OK;
	return cs_reject(a, CS_R_UNKNOWN_JOB, "job %s does not exist",
	                 name ? name : "(none)");
}

enum cs_reason cs_find_active_job(struct cs_apply *a, const char *name,
                                  struct cs_job **job)
{
	enum cs_reason r = cs_find_job(a, name, job);
	if (r || (*job)->state < CS_JOB_SUCCEEDED)
		return r;
	return cs_reject(a, CS_R_JOB_FINISHED, "job %s has already ended (%s)",
	                 (*job)->spec.name, cs_job_state_name((*job)->state));
}

enum cs_reason cs_find_machine(struct cs_apply *a, const char *name,
                               uint32_t *slot)
{
	*slot = name ? cs_machine_slot(a->s, name) : CS_NO_MACHINE;
	if (*slot != CS_NO_MACHINE)
		return CS_R_OK;
	return cs_reject(a, CS_R_UNKNOWN_MACHINE, "machine %s does not exist",
	                 name ? name : "(none)");
}

enum cs_reason cs_check_seq(struct cs_apply *a, const struct cs_op *op,
                            const struct cs_machine *m)
{
	if (a->txn->detect != CS_COARSE || !op->has_seq)
		return CS_R_OK;
	uint64_t seen = cs_seq_seen(a, m);
	if (seen == op->seq)
		return CS_R_OK;
	return cs_reject(a, CS_R_SEQ_CHANGED,
	                 "machine %s is at seq %llu, the op expected %llu",
	                 m->name, (unsigned long long)seen,
	                 (unsigned long long)op->seq);
}

enum cs_reason cs_find_op_machine(struct cs_apply *a, const struct cs_op *op,
                                  uint32_t *slot)
{
	enum cs_reason r = cs_find_machine(a, op->machine, slot);
	return r ? r : cs_check_seq(a, op, cs_slot(a->s, *slot));
}

enum cs_reason cs_find_task(struct cs_apply *a, const struct cs_op *op,
                            struct cs_job **job, struct cs_task **t)
{
	enum cs_reason r = cs_find_job(a, op->job, job);
	if (r)
		return r;
	if (op->task >= (*job)->spec.ntasks)
		return cs_reject(a, CS_R_UNKNOWN_TASK,
		                 "job %s has tasks 0..%u, not %u", op->job,
		                 (*job)->spec.ntasks - 1, op->task);
	*t = &(*job)->tasks[op->task];
	return CS_R_OK;
}

enum cs_reason cs_check_live(struct cs_apply *a, const struct cs_task *t)
{
	if (cs_task_is_live(t))
		return CS_R_OK;
	return cs_reject(a, CS_R_TASK_NOT_ACTIVE,
	                 "task %s/%u is %s, not assigned or running",
	                 t->job->spec.name, cs_task_index(t),
	                 cs_task_state_name(t->state));
}

enum cs_reason cs_check_on(struct cs_apply *a, const struct cs_task *t,
                           uint32_t slot)
{
	if (t->machine == slot)
		return CS_R_OK;
	return cs_reject(a, CS_R_WRONG_MACHINE, "task %s/%u is on %s, not %s",
	                 t->job->spec.name, cs_task_index(t),
	                 cs_slot(a->s, t->machine)->name,
	                 cs_slot(a->s, slot)->name);
}
