/* task.c: task and job lifecycles. Every task move goes through
 * cs_task_move, checked against the table below (as dqlite's sm.h does), so
 * job counters stay exact and no illegal transition can slip in. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P      CS_TASK_PENDING
#define A      CS_TASK_ASSIGNED
#define R      CS_TASK_RUNNING
#define BIT(s) (1u << (s))

/* allowed[from] = set of states `from` may move to */
static const unsigned allowed[CS_TASK_STATE__COUNT] = {
    [CS_TASK_PENDING] = BIT(A) | BIT(CS_TASK_KILLED),
    [CS_TASK_ASSIGNED] = BIT(R) | BIT(CS_TASK_SUCCEEDED) | BIT(CS_TASK_FAILED) |
                         BIT(CS_TASK_LOST) | BIT(CS_TASK_PREEMPTED) |
                         BIT(CS_TASK_KILLED) | BIT(P),
    [CS_TASK_RUNNING] = BIT(CS_TASK_SUCCEEDED) | BIT(CS_TASK_FAILED) |
                        BIT(CS_TASK_LOST) | BIT(CS_TASK_PREEMPTED) |
                        BIT(CS_TASK_KILLED) | BIT(P),
    [CS_TASK_SUCCEEDED] = 0,
    [CS_TASK_FAILED] = BIT(P),    /* retry */
    [CS_TASK_LOST] = BIT(P),      /* retry */
    [CS_TASK_PREEMPTED] = BIT(P), /* reschedule */
    [CS_TASK_KILLED] = 0,
};

bool cs_task_transition_allowed(enum cs_task_state s, enum cs_task_state to)
{
	return (unsigned)s < CS_TASK_STATE__COUNT &&
	       (unsigned)to < CS_TASK_STATE__COUNT && (allowed[s] & BIT(to));
}

void cs_task_move(struct cs_apply *a, struct cs_task *t, enum cs_task_state to)
{
	enum cs_task_state from = t->state;
	if (!cs_task_transition_allowed(from, to)) {
		/* a bug in cellstate, never in the input: stop before the
		 * replicas diverge */
		fprintf(stderr,
		        "cellstate: illegal task move %s -> %s (%s/%u)\n",
		        cs_task_state_name(from), cs_task_state_name(to),
		        t->job->spec.name, cs_task_index(t));
		abort();
	}
	cs_save_task(a, t);
	cs_save_job(a, t->job);
	t->job->count[from]--;
	t->job->count[to]++;
	t->state = (uint8_t)to;
}

bool cs_task_is_live(const struct cs_task *t)
{
	return t->state == CS_TASK_ASSIGNED || t->state == CS_TASK_RUNNING;
}

void cs_task_detach(struct cs_apply *a, struct cs_task *t)
{
	uint32_t slot = t->machine;
	struct cs_machine *m = cs_touch_machine(a, slot);
	cs_save_task(a, t);
	cs_unlink_task(a, slot, t);
	cs_res_sub(&m->allocated, &t->job->request, a->s->nres);
}

static void requeue(struct cs_apply *a, struct cs_task *t)
{
	cs_task_move(a, t, CS_TASK_PENDING);
	t->attempt++;
}

static bool job_terminal(const struct cs_job *job)
{
	return job->state >= CS_JOB_SUCCEEDED;
}

/* One change per ended attempt: the task as it is now (pending again as
 * the next attempt, or ended), the machine it left, and how it ended. */
void cs_task_end(struct cs_apply *a, struct cs_task *t, enum cs_task_end how,
                 int32_t exit_code)
{
	struct cs_job *job = t->job;
	uint32_t left = t->machine;
	bool exhausted = false;
	cs_task_detach(a, t);
	t->exit_code = exit_code;
	t->last_end = (uint8_t)how;
	switch (how) {
	case CS_END_SUCCEEDED:
		cs_task_move(a, t, CS_TASK_SUCCEEDED);
		break;
	case CS_END_FAILED:
	case CS_END_LOST:
		cs_task_move(
		    a, t, how == CS_END_FAILED ? CS_TASK_FAILED : CS_TASK_LOST);
		t->failures++;
		exhausted = t->failures > job->spec.max_retries;
		if (!exhausted)
			requeue(a, t);
		break;
	case CS_END_PREEMPTED:
		cs_task_move(a, t, CS_TASK_PREEMPTED);
		requeue(a, t);
		break;
	case CS_END_RELEASED:
		requeue(a, t);
		break;
	case CS_END_KILLED:
	case CS_END_NONE:
	case CS_END__COUNT:
		cs_task_move(a, t, CS_TASK_KILLED);
		break;
	}
	cs_note_task(a, t, how, left);
	if (exhausted)
		cs_job_finish(a, job, CS_JOB_FAILED, CS_CAUSE_TASK_FAILED);
	cs_job_refresh(a, job);
}

static int by_name_desc(const void *x, const void *y)
{
	const struct cs_job *a = *(const struct cs_job *const *)x;
	const struct cs_job *b = *(const struct cs_job *const *)y;
	return strcmp(b->spec.name, a->spec.name);
}

/* Dependents lists are in insertion order live and in load order after a
 * restore; they are consumed from the end, so sort them by name descending
 * first and every replica handles them alike (and tells watchers alike). */
static void sort_dependents(struct cs_job *job)
{
	if (job->ndependents > 1)
		qsort(job->dependents, job->ndependents,
		      sizeof(*job->dependents), by_name_desc);
}

/* A dependency of every job in dep->dependents succeeded. */
static void unblock_dependents(struct cs_apply *a, struct cs_job *dep)
{
	sort_dependents(dep);
	while (dep->ndependents) {
		struct cs_job *k = dep->dependents[dep->ndependents - 1];
		cs_drop_dependent(a, dep, k);
		cs_save_job(a, k);
		if (--k->deps_waiting == 0) {
			k->state = CS_JOB_PENDING;
			cs_note_job(a, k);
			cs_job_refresh(a, k);
		}
	}
}

void cs_job_refresh(struct cs_apply *a, struct cs_job *job)
{
	if (job_terminal(job) || job->state == CS_JOB_BLOCKED)
		return;
	enum cs_job_state st = CS_JOB_PENDING;
	if (job->count[CS_TASK_SUCCEEDED] == job->spec.ntasks)
		st = CS_JOB_SUCCEEDED;
	else if (job->count[CS_TASK_ASSIGNED] + job->count[CS_TASK_RUNNING])
		st = CS_JOB_RUNNING;
	if (st == job->state)
		return;
	cs_save_job(a, job);
	job->state = st;
	cs_note_job(a, job);
	if (st == CS_JOB_SUCCEEDED) {
		job->end_ms = a->now_ms;
		unblock_dependents(a, job);
	}
}

static void kill_tasks(struct cs_apply *a, struct cs_job *job)
{
	for (uint32_t i = 0; i < job->spec.ntasks; i++) {
		struct cs_task *t = &job->tasks[i];
		uint32_t left = t->machine;
		if (cs_task_is_live(t)) {
			cs_task_detach(a, t);
			t->last_end = CS_END_KILLED;
			cs_task_move(a, t, CS_TASK_KILLED);
			cs_note_task(a, t, CS_END_KILLED, left);
		} else if (t->state == CS_TASK_PENDING) {
			cs_task_move(a, t, CS_TASK_KILLED);
			cs_note_task(a, t, CS_END_NONE, left);
		}
	}
}

/* Leaves the dependents lists of the jobs it was still waiting for. */
static void stop_waiting(struct cs_apply *a, struct cs_job *job)
{
	for (uint32_t i = 0; job->deps_waiting && i < job->spec.ndeps; i++) {
		struct cs_job *dep = cu_map_get(&a->s->jobs, job->spec.deps[i]);
		if (dep)
			cs_drop_dependent(a, dep, job);
	}
}

void cs_job_finish(struct cs_apply *a, struct cs_job *job,
                   enum cs_job_state state, enum cs_job_cause cause)
{
	/* iterative over the dependency DAG: chains may be long */
	struct cs_job **todo = NULL;
	uint32_t n = 0, cap = 0;
	cu_grow((void **)&todo, &cap, 1, sizeof(*todo));
	todo[n++] = job;
	while (n) {
		struct cs_job *j = todo[--n];
		cs_save_job(a, j);
		stop_waiting(a, j);
		j->deps_waiting = 0;
		j->state = state;
		j->cause = cause;
		j->end_ms = a->now_ms;
		cs_note_job(a, j);
		kill_tasks(a, j);
		sort_dependents(j);
		while (j->ndependents) {
			struct cs_job *k = j->dependents[j->ndependents - 1];
			cs_drop_dependent(a, j, k);
			cu_grow((void **)&todo, &cap, n + 1, sizeof(*todo));
			todo[n++] = k;
		}
		state = CS_JOB_FAILED;
		cause = CS_CAUSE_DEPENDENCY_FAILED;
	}
	free(todo);
}
