/* op_place.c: place, a scheduler's claim of a pending task for a machine:
 * the op every transaction of a scheduler is made of, so its apply and its
 * binary decode are the hot paths. */
#include "bin_util.h"
#include "json_util.h"

#include <string.h>

struct cs_op *cs_txn_place(cs_txn *txn, const char *job, uint32_t task,
                           const char *machine, uint64_t seq)
{
	struct cs_op *op = cs_txn_task_op(txn, CS_OP_PLACE, job, task, machine);
	cs_op_expect_seq(op, seq);
	return op;
}

/* ---- JSON ---- */

static const char *const place_fields[] = {"op",      "job", "task",
                                           "machine", "seq", NULL};

static int place_json_read(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	const char *job = NULL, *machine = NULL;
	uint32_t task = 0;
	struct cs_jseq seq;
	if (cs_jget_task_ref(d, o, &job, &task) < 0 ||
	    cs_jget_machine(d, o, CS_JREQ, &machine) < 0 ||
	    cs_jget_seq(d, o, &seq) < 0)
		return -1;
	cs_jseq_apply(cs_txn_place(t, job, task, machine, 0), &seq);
	return 0;
}

static void place_json_write(json_t *o, const struct cs_op *op)
{
	cs_jput_task_ref(o, op);
	cs_jset_str(o, "machine", op->machine);
	cs_jput_seq(o, op);
}

/* ---- apply ---- */

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

static enum cs_reason place_apply(struct cs_apply *a, const struct cs_op *op)
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

/* Binary: the task reference, then the machine. */
const struct cs_op_desc cs_op_desc_place = {
    .name = "place",
    .seq = CS_SEQ_COARSE,
    .fields = place_fields,
    .json_read = place_json_read,
    .json_write = place_json_write,
    .check = cs_jcheck_task_machine,
    .bin_put = cs_bput_task_machine,
    .bin_get = cs_bget_task_machine,
    .apply = place_apply,
};
