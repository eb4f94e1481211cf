/* check.c: the invariants of ARCHITECTURE.md §2 and the bookkeeping behind
 * them, checked from scratch. Tests run it after every apply; the snapshot
 * decoder runs it before accepting a state. */
#include "internal.h"

#include <string.h>

#define FAIL(...) return cu_errf(errbuf, errlen, -1, __VA_ARGS__)

static int check_machine(const cs_state *s, uint32_t slot, uint64_t *walked,
                         uint64_t live_total, char *errbuf, size_t errlen)
{
	const struct cs_machine *m = &s->machines[slot];
	cs_res sum = {{0}};
	uint32_t n = 0;
	const struct cs_task *prev = NULL;
	if (cs_machine_slot(s, m->name) != slot)
		FAIL("machine %s: name index points elsewhere", m->name);
	if (m->seq > s->seq_clock)
		FAIL("machine %s: seq %llu ahead of the clock %llu", m->name,
		     (unsigned long long)m->seq,
		     (unsigned long long)s->seq_clock);
	for (const struct cs_task *t = m->tasks; t; t = t->next_on_machine) {
		if (++n > live_total)
			FAIL("machine %s: task list loops", m->name);
		if (t->prev_on_machine != prev)
			FAIL("machine %s: broken back link", m->name);
		if (!cs_task_is_live(t) || t->machine != slot)
			FAIL("machine %s: lists task %s/%u which is %s on slot "
			     "%u",
			     m->name, t->job->spec.name, cs_task_index(t),
			     cs_task_state_name(t->state), t->machine);
		cs_res_add(&sum, &t->job->request, s->nres);
		prev = t;
	}
	if (n != m->ntasks)
		FAIL("machine %s: %u tasks listed, ntasks says %u", m->name, n,
		     m->ntasks);
	if (n && m->state == CS_MACHINE_DOWN)
		FAIL("machine %s: down but holds %u tasks", m->name, n);
	for (uint32_t i = 0; i < s->nres; i++) {
		if (sum.v[i] != m->allocated.v[i])
			FAIL("machine %s: %s allocated %llu, its tasks request "
			     "%llu",
			     m->name, s->res_names[i],
			     (unsigned long long)m->allocated.v[i],
			     (unsigned long long)sum.v[i]);
		if (m->allocated.v[i] > m->capacity.v[i])
			FAIL("machine %s: %s allocated %llu over capacity %llu",
			     m->name, s->res_names[i],
			     (unsigned long long)m->allocated.v[i],
			     (unsigned long long)m->capacity.v[i]);
	}
	*walked += n;
	return 0;
}

static int check_task(const cs_state *s, const struct cs_task *t, char *errbuf,
                      size_t errlen)
{
	const struct cs_job *job = t->job;
	uint32_t i = cs_task_index(t);
	if (t->state >= CS_TASK_STATE__COUNT || t->state == CS_TASK_PREEMPTED)
		FAIL("task %s/%u: state %u is not a stored state",
		     job->spec.name, i, t->state);
	if (cs_task_is_live(t)) {
		const struct cs_machine *m = cs_machine_at(s, t->machine);
		if (!m || m->state == CS_MACHINE_DOWN)
			FAIL("task %s/%u: %s on slot %u, which is no up or "
			     "draining machine",
			     job->spec.name, i, cs_task_state_name(t->state),
			     t->machine);
	} else if (t->machine != CS_NO_MACHINE) {
		FAIL("task %s/%u: %s but holds slot %u", job->spec.name, i,
		     cs_task_state_name(t->state), t->machine);
	}
	if (t->failures > job->spec.max_retries + 1u)
		FAIL("task %s/%u: %u failures, max_retries %u", job->spec.name,
		     i, t->failures, job->spec.max_retries);
	return 0;
}

static enum cs_job_state derived_state(const struct cs_job *job)
{
	if (job->count[CS_TASK_SUCCEEDED] == job->spec.ntasks)
		return CS_JOB_SUCCEEDED;
	if (job->count[CS_TASK_ASSIGNED] + job->count[CS_TASK_RUNNING])
		return CS_JOB_RUNNING;
	return CS_JOB_PENDING;
}

static int check_job_state(const struct cs_job *job, char *errbuf,
                           size_t errlen)
{
	const char *name = job->spec.name;
	uint32_t live =
	    job->count[CS_TASK_ASSIGNED] + job->count[CS_TASK_RUNNING];
	switch (job->state) {
	case CS_JOB_BLOCKED:
		if (!job->deps_waiting ||
		    job->count[CS_TASK_PENDING] != job->spec.ntasks)
			FAIL("job %s: blocked with %u dependencies waiting and "
			     "%u of %u tasks pending",
			     name, job->deps_waiting,
			     job->count[CS_TASK_PENDING], job->spec.ntasks);
		return 0;
	case CS_JOB_FAILED:
	case CS_JOB_KILLED:
		if (live || job->count[CS_TASK_PENDING])
			FAIL("job %s: %s with %u live and %u pending tasks",
			     name, cs_job_state_name(job->state), live,
			     job->count[CS_TASK_PENDING]);
		return 0;
	default:
		if (job->state != derived_state(job))
			FAIL("job %s: state %s, its tasks say %s", name,
			     cs_job_state_name(job->state),
			     cs_job_state_name(derived_state(job)));
		if (job->count[CS_TASK_FAILED] + job->count[CS_TASK_LOST] +
		    job->count[CS_TASK_KILLED])
			FAIL("job %s: %s with ended tasks", name,
			     cs_job_state_name(job->state));
		return 0;
	}
}

static int check_job(const cs_state *s, const struct cs_job *job,
                     uint64_t *live, char *errbuf, size_t errlen)
{
	uint32_t count[CS_TASK_STATE__COUNT] = {0};
	for (uint32_t i = 0; i < job->spec.ntasks; i++) {
		if (job->tasks[i].job != job)
			FAIL("job %s: task %u has a wrong owner",
			     job->spec.name, i);
		if (check_task(s, &job->tasks[i], errbuf, errlen))
			return -1;
		count[job->tasks[i].state]++;
	}
	if (memcmp(count, job->count, sizeof(count)))
		FAIL("job %s: task counters differ from its tasks",
		     job->spec.name);
	for (uint32_t i = 0; i < job->ndependents; i++)
		if (job->dependents[i]->state != CS_JOB_BLOCKED)
			FAIL("job %s: lists dependent %s which is %s",
			     job->spec.name, job->dependents[i]->spec.name,
			     cs_job_state_name(job->dependents[i]->state));
	if (job->note && (!*job->note || strlen(job->note) > CS_NOTE_MAX))
		FAIL("job %s: a note of %zu bytes (1..%u)", job->spec.name,
		     strlen(job->note), CS_NOTE_MAX);
	*live += count[CS_TASK_ASSIGNED] + count[CS_TASK_RUNNING];
	return check_job_state(job, errbuf, errlen);
}

/* deps_waiting of every blocked job == the dependents lists holding it. */
static int check_edges(const cs_state *s, char *errbuf, size_t errlen)
{
	struct cu_map held;
	cu_map_init(&held);
	size_t cur = 0;
	const struct cs_job *job;
	while ((job = cs_job_next(s, &cur)))
		for (uint32_t i = 0; i < job->ndependents; i++) {
			const char *k = job->dependents[i]->spec.name;
			uintptr_t n = (uintptr_t)cu_map_get(&held, k);
			cu_map_put(&held, k, (void *)(n + 1));
		}
	int rc = 0;
	cur = 0;
	while (!rc && (job = cs_job_next(s, &cur))) {
		uintptr_t n = (uintptr_t)cu_map_get(&held, job->spec.name);
		uint32_t want =
		    job->state == CS_JOB_BLOCKED ? job->deps_waiting : 0;
		if (n != want || job->deps_waiting != want)
			rc = cu_errf(errbuf, errlen, -1,
			             "job %s: waits for %u dependencies, %u "
			             "list it",
			             job->spec.name, want, (unsigned)n);
	}
	cu_map_destroy(&held);
	return rc;
}

static int check_registry(const cs_state *s, char *errbuf, size_t errlen)
{
	for (uint32_t i = 1; i < s->nscheds; i++)
		if (strcmp(s->scheds[i - 1].name, s->scheds[i].name) >= 0)
			FAIL("schedulers: %s listed before %s",
			     s->scheds[i - 1].name, s->scheds[i].name);
	if (s->nres < CS_RES_FIXED || s->nres > CS_RES_MAX)
		FAIL("resources: %u kinds", s->nres);
	for (uint32_t i = 0; i < s->nres; i++)
		for (uint32_t j = 0; j < i; j++)
			if (!strcmp(s->res_names[i], s->res_names[j]))
				FAIL("resources: %s named twice",
				     s->res_names[i]);
	return 0;
}

int cs_state_check(const cs_state *s, char *errbuf, size_t errlen)
{
	uint64_t live = 0, walked = 0;
	size_t cur = 0;
	const struct cs_job *job;
	while ((job = cs_job_next(s, &cur)))
		if (check_job(s, job, &live, errbuf, errlen))
			return -1;
	uint32_t in_use = 0;
	for (uint32_t i = 0; i < s->nslots; i++) {
		if (!s->machines[i].in_use)
			continue;
		in_use++;
		if (check_machine(s, i, &walked, live, errbuf, errlen))
			return -1;
	}
	if (in_use != s->nmachines || s->machine_by_name.used != in_use)
		FAIL("machines: %u slots in use, count %u, index %u", in_use,
		     s->nmachines, s->machine_by_name.used);
	if (walked != live)
		FAIL("tasks: %llu assigned or running, machines list %llu",
		     (unsigned long long)live, (unsigned long long)walked);
	if (check_registry(s, errbuf, errlen))
		return -1;
	return check_edges(s, errbuf, errlen);
}
