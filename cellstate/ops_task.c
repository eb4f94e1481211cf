/* ops_task.c: the placement ops (place, preempt, release) and agents' task
 * reports. Each validates fully before its first change (see journal.c). */
#include "internal.h"

#include <string.h>

static enum cs_reason explain_fit(struct cs_apply *a, enum cs_reason r,
                                  const struct cs_machine *m,
                                  const struct cs_job *job)
{
	switch (r) {
	case CS_R_MACHINE_DOWN:
		return cs_reject(a, r, "machine %s is down", m->name);
	case CS_R_MACHINE_DRAINING:
		return cs_reject(a, r, "machine %s is draining", m->name);
	case CS_R_CONSTRAINT:
		return cs_reject(a, r,
		                 "machine %s (pool %s) does not meet the "
		                 "constraints of job %s",
		                 m->name, m->pool, job->spec.name);
	case CS_R_INSUFFICIENT:
		for (uint32_t i = 0; i < a->s->nres; i++) {
			uint64_t free_ = m->capacity.v[i] - m->allocated.v[i];
			if (job->request.v[i] > free_)
				return cs_reject(
				    a, r,
				    "machine %s has %s %llu free, "
				    "a task of %s needs %llu",
				    m->name, a->s->res_names[i],
				    (unsigned long long)free_, job->spec.name,
				    (unsigned long long)job->request.v[i]);
		}
		return r;
	default:
		return r;
	}
}

static uint32_t places_of(const cs_txn *txn, const char *job)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < txn->nops; i++)
		n += txn->ops[i].kind == CS_OP_PLACE && txn->ops[i].job &&
		     !strcmp(txn->ops[i].job, job);
	return n;
}

/* A gang job's pending tasks are placed all in one all_or_nothing
 * transaction, or not at all. */
static enum cs_reason check_gang(struct cs_apply *a, struct cs_job *job)
{
	if (a->txn->mode != CS_ALL_OR_NOTHING)
		return cs_reject(a, CS_R_GANG_PARTIAL,
		                 "gang job %s must be placed by an "
		                 "all_or_nothing transaction",
		                 job->spec.name);
	if (job->gang_serial != a->s->txn_serial) {
		job->gang_serial = a->s->txn_serial;
		job->gang_expected = job->count[CS_TASK_PENDING];
		job->gang_places = places_of(a->txn, job->spec.name);
	}
	if (job->gang_places == job->gang_expected)
		return CS_R_OK;
	return cs_reject(a, CS_R_GANG_PARTIAL,
	                 "gang job %s has %u pending tasks, the transaction "
	                 "places %u",
	                 job->spec.name, job->gang_expected, job->gang_places);
}

static enum cs_reason check_placeable(struct cs_apply *a, struct cs_job *job,
                                      const struct cs_task *t)
{
	if (job->state == CS_JOB_BLOCKED)
		return cs_reject(a, CS_R_JOB_BLOCKED,
		                 "job %s waits for %u dependencies",
		                 job->spec.name, job->deps_waiting);
	if (job->state >= CS_JOB_SUCCEEDED)
		return cs_reject(a, CS_R_JOB_FINISHED, "job %s has %s",
		                 job->spec.name, cs_job_state_name(job->state));
	if (t->state != CS_TASK_PENDING)
		return cs_reject(a, CS_R_TASK_NOT_PENDING, "task %s/%u is %s",
		                 job->spec.name, cs_task_index(t),
		                 cs_task_state_name(t->state));
	return CS_R_OK;
}

enum cs_reason cs_op_place(struct cs_apply *a, const struct cs_op *op)
{
	struct cs_job *job;
	struct cs_task *t;
	uint32_t slot;
	enum cs_reason r;
	if ((r = cs_find_task(a, op, &job, &t)) ||
	    (r = check_placeable(a, job, t)) ||
	    (r = cs_find_machine(a, op->machine, &slot)))
		return r;
	struct cs_machine *m = cs_slot(a->s, slot);
	if (m->state != CS_MACHINE_UP)
		return explain_fit(a, cs_fit(a->s, m, job), m, job);
	if ((r = cs_check_seq(a, op, m)))
		return r;
	if ((r = cs_fit(a->s, m, job)))
		return explain_fit(a, r, m, job);
	if (job->spec.gang && (r = check_gang(a, job)))
		return r;
	m = cs_touch_machine(a, slot);
	cs_save_task(a, t);
	cs_link_task(a, slot, t);
	cs_res_add(&m->allocated, &job->request, a->s->nres);
	cs_task_move(a, t, CS_TASK_ASSIGNED);
	cs_note_task(a, t, CS_END_NONE, CS_NO_MACHINE);
	/* why it was pending is stale now; the scheduler notes again if
	 * other tasks of the job still cannot be placed */
	cs_set_job_note(a, job, NULL);
	cs_job_refresh(a, job);
	return CS_R_OK;
}

enum cs_reason cs_op_preempt(struct cs_apply *a, const struct cs_op *op)
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

enum cs_reason cs_op_release(struct cs_apply *a, const struct cs_op *op)
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

enum cs_reason cs_op_task_state(struct cs_apply *a, const struct cs_op *op)
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
