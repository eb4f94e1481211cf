/* state.c: the cell-state container: machine slots, the job table, the
 * scheduler registry and resource names, with their read-only accessors. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const fixed_res[CS_RES_FIXED] = {"cpu", "memory", "disk"};

cs_state *cs_state_new(const struct cs_config *cfg)
{
	cs_state *s = cu_xcalloc(1, sizeof(*s));
	s->cfg.dedup_max = CS_DEDUP_MAX_DEFAULT;
	s->cfg.dedup_ttl_ms = CS_DEDUP_TTL_DEFAULT;
	if (cfg)
		s->cfg = *cfg;
	s->free_head = CS_NO_MACHINE;
	for (uint32_t i = 0; i < CS_RES_FIXED; i++)
		strcpy(s->res_names[i], fixed_res[i]);
	s->nres = CS_RES_FIXED;
	cu_map_init(&s->machine_by_name);
	cu_map_init(&s->jobs);
	cs_dedup_init(&s->dedup);
	return s;
}

static void machine_free_members(struct cs_machine *m)
{
	free(m->pool);
	for (uint32_t i = 0; i < m->nlabels; i++) {
		free(m->labels[i].key);
		free(m->labels[i].value);
	}
	free(m->labels);
	free(m->agent);
}

void cs_state_free(cs_state *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->nslots; i++)
		if (s->machines[i].in_use)
			machine_free_members(&s->machines[i]);
	free(s->machines);
	size_t cur = 0;
	struct cu_map_slot *e;
	while ((e = cu_map_next(&s->jobs, &cur)))
		cs_job_destroy(e->value);
	cu_map_destroy(&s->jobs);
	cu_map_destroy(&s->machine_by_name);
	cs_dedup_destroy(&s->dedup);
	free(s->scheds);
	free(s);
}

const struct cs_config *cs_state_config(const cs_state *s)
{
	return &s->cfg;
}

uint64_t cs_state_applied_index(const cs_state *s)
{
	return s->applied_index;
}

/* ---- machine slots ---- */

/* The name index borrows each key from its machine's slot: after the slot
 * array moved, point the keys at the new slots. */
static void rekey_machines(cs_state *s)
{
	size_t cur = 0;
	struct cu_map_slot *e;
	while ((e = cu_map_next(&s->machine_by_name, &cur)))
		e->key = s->machines[(uintptr_t)e->value - 1].name;
}

uint32_t cs_machine_slot_alloc(cs_state *s, const char *name)
{
	uint32_t slot = s->free_head;
	if (slot != CS_NO_MACHINE) {
		s->free_head = s->machines[slot].next_free;
	} else {
		struct cs_machine *old = s->machines;
		cu_grow((void **)&s->machines, &s->slots_cap, s->nslots + 1,
		        sizeof(*s->machines));
		if (s->machines != old)
			rekey_machines(s);
		slot = s->nslots++;
	}
	struct cs_machine *m = &s->machines[slot];
	memset(m, 0, sizeof(*m));
	strncpy(m->name, name, CS_NAME_MAX);
	m->in_use = true;
	m->next_free = CS_NO_MACHINE;
	s->nmachines++;
	cu_map_put(&s->machine_by_name, m->name, (void *)(uintptr_t)(slot + 1));
	return slot;
}

/* Frees the slot's members; the caller has already moved its tasks away. */
void cs_machine_slot_release(cs_state *s, uint32_t slot)
{
	struct cs_machine *m = &s->machines[slot];
	cu_map_del(&s->machine_by_name, m->name);
	machine_free_members(m);
	memset(m, 0, sizeof(*m));
	m->next_free = s->free_head;
	s->free_head = slot;
	s->nmachines--;
}

uint32_t cs_machine_slots(const cs_state *s)
{
	return s->nslots;
}

uint32_t cs_machine_count(const cs_state *s)
{
	return s->nmachines;
}

const struct cs_machine *cs_machine_at(const cs_state *s, uint32_t slot)
{
	if (slot >= s->nslots || !s->machines[slot].in_use)
		return NULL;
	return &s->machines[slot];
}

uint32_t cs_machine_slot(const cs_state *s, const char *name)
{
	uintptr_t v = (uintptr_t)cu_map_get(&s->machine_by_name, name);
	return v ? (uint32_t)(v - 1) : CS_NO_MACHINE;
}

const struct cs_machine *cs_machine_find(const cs_state *s, const char *name)
{
	uint32_t slot = cs_machine_slot(s, name);
	return slot == CS_NO_MACHINE ? NULL : &s->machines[slot];
}

void cs_machine_link(struct cs_machine *m, struct cs_task *t)
{
	t->prev_on_machine = NULL;
	t->next_on_machine = m->tasks;
	if (m->tasks)
		m->tasks->prev_on_machine = t;
	m->tasks = t;
	m->ntasks++;
}

void cs_machine_unlink(struct cs_machine *m, struct cs_task *t)
{
	if (t->prev_on_machine)
		t->prev_on_machine->next_on_machine = t->next_on_machine;
	else
		m->tasks = t->next_on_machine;
	if (t->next_on_machine)
		t->next_on_machine->prev_on_machine = t->prev_on_machine;
	t->next_on_machine = t->prev_on_machine = NULL;
	m->ntasks--;
}

/* ---- jobs ---- */

struct cs_job *cs_job_create(const struct cs_job_spec *spec, const cs_res *req,
                             int64_t now_ms)
{
	struct cs_job *job = cu_xcalloc(1, sizeof(*job));
	struct cs_job_spec *copy = cs_job_spec_copy(NULL, spec);
	job->spec = *copy;
	free(copy);
	cs_labels_sort(job->spec.labels, job->spec.nlabels);
	cs_labels_sort(job->spec.env, job->spec.nenv);
	job->request = *req;
	job->submit_ms = now_ms;
	job->tasks = cu_xcalloc(spec->ntasks, sizeof(*job->tasks));
	for (uint32_t i = 0; i < spec->ntasks; i++) {
		job->tasks[i].job = job;
		job->tasks[i].machine = CS_NO_MACHINE;
	}
	job->count[CS_TASK_PENDING] = spec->ntasks;
	job->state = CS_JOB_PENDING;
	return job;
}

void cs_job_destroy(struct cs_job *job)
{
	if (!job)
		return;
	cs_job_spec_release(&job->spec);
	free(job->note);
	free(job->tasks);
	free(job->dependents);
	free(job);
}

void cs_job_add_dependent(struct cs_job *dep, struct cs_job *job)
{
	cu_grow((void **)&dep->dependents, &dep->dependents_cap,
	        dep->ndependents + 1, sizeof(*dep->dependents));
	dep->dependents[dep->ndependents++] = job;
}

int cs_job_remove_dependent(struct cs_job *dep, const struct cs_job *job)
{
	for (uint32_t i = 0; i < dep->ndependents; i++) {
		if (dep->dependents[i] != job)
			continue;
		memmove(&dep->dependents[i], &dep->dependents[i + 1],
		        (dep->ndependents - i - 1) * sizeof(*dep->dependents));
		dep->ndependents--;
		return (int)i;
	}
	return -1;
}

const struct cs_job *cs_job_find(const cs_state *s, const char *name)
{
	return cu_map_get(&s->jobs, name);
}

uint32_t cs_job_count(const cs_state *s)
{
	return s->jobs.used;
}

const struct cs_job *cs_job_next(const cs_state *s, size_t *cursor)
{
	struct cu_map_slot *e = cu_map_next(&s->jobs, cursor);
	return e ? e->value : NULL;
}

uint32_t cs_task_index(const struct cs_task *t)
{
	return (uint32_t)(t - t->job->tasks);
}

/* ---- schedulers ---- */

uint32_t cs_sched_search(const cs_state *s, const char *name, bool *found)
{
	uint32_t lo = 0, hi = s->nscheds;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int c = strcmp(s->scheds[mid].name, name);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

uint32_t cs_sched_count(const cs_state *s)
{
	return s->nscheds;
}

const struct cs_sched *cs_sched_at(const cs_state *s, uint32_t i)
{
	return i < s->nscheds ? &s->scheds[i] : NULL;
}

const struct cs_sched *cs_sched_find(const cs_state *s, const char *name)
{
	bool found = false;
	uint32_t at = name ? cs_sched_search(s, name, &found) : 0;
	return found ? &s->scheds[at] : NULL;
}

/* ---- resource names ---- */

uint32_t cs_resource_count(const cs_state *s)
{
	return s->nres;
}

const char *cs_resource_name(const cs_state *s, uint32_t i)
{
	return i < s->nres ? s->res_names[i] : NULL;
}

int cs_resource_index(const cs_state *s, const char *name)
{
	for (uint32_t i = 0; i < s->nres; i++)
		if (!strcmp(s->res_names[i], name))
			return (int)i;
	return -1;
}
