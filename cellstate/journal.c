/* journal.c: the undo log of one transaction. all_or_nothing transactions and
 * dry runs apply their ops for real while recording before-images; a
 * rejection (or the dry run's end) restores them newest first, so the state
 * is exactly what it was. Without a journal (incremental transactions) every
 * mutator changes the state at once and frees what it drops at once: each op
 * there validates fully before its first change, so no undo is needed. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* The scalars of cs_state an op may change. */
struct state_image {
	uint64_t seq_clock;
	uint32_t nslots, nmachines, free_head, nres;
	char res_names[CS_RES_MAX][CS_RES_NAME_MAX + 1];
};

enum entry_kind {
	E_TASK,            /* ptr: task; img.task */
	E_JOB,             /* ptr: job; img.job (dependents excluded) */
	E_MACHINE,         /* slot; img.machine */
	E_STATE,           /* img.state */
	E_SCHEDS,          /* ptr: copy of the array; n */
	E_MACHINE_CREATED, /* slot; img.machine: the slot before */
	E_MACHINE_REMOVED, /* slot; img.machine: the machine before */
	E_JOB_CREATED,     /* ptr: job */
	E_JOB_REMOVED,     /* ptr: job */
	E_DEP_ADDED,       /* ptr: dep; aux: job */
	E_DEP_REMOVED,     /* ptr: dep; aux: job; n: position */
	E_FREE_ON_COMMIT,  /* ptr */
	E_FREE_ON_UNDO,    /* ptr */
};

struct entry {
	enum entry_kind kind;
	uint32_t slot, n;
	void *ptr, *aux;
	union {
		struct cs_task task;
		struct cs_job job;
		struct cs_machine machine;
		struct state_image state;
	} img;
};

struct cs_journal {
	struct entry *e;
	uint32_t n, cap;
	bool state_saved, scheds_saved;
};

struct cs_journal *cs_journal_new(void)
{
	return cu_xcalloc(1, sizeof(struct cs_journal));
}

static struct entry *push(struct cs_journal *j, enum entry_kind kind)
{
	cu_grow((void **)&j->e, &j->cap, j->n + 1, sizeof(*j->e));
	struct entry *e = &j->e[j->n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	return e;
}

/* ---- recording ---- */

void cs_save_state(struct cs_apply *a)
{
	struct cs_journal *j = a->journal;
	if (!j || j->state_saved)
		return;
	j->state_saved = true;
	const cs_state *s = a->s;
	struct state_image *im = &push(j, E_STATE)->img.state;
	im->seq_clock = s->seq_clock;
	im->nslots = s->nslots;
	im->nmachines = s->nmachines;
	im->free_head = s->free_head;
	im->nres = s->nres;
	memcpy(im->res_names, s->res_names, sizeof(im->res_names));
}

void cs_save_scheds(struct cs_apply *a)
{
	struct cs_journal *j = a->journal;
	if (!j || j->scheds_saved)
		return;
	j->scheds_saved = true;
	struct entry *e = push(j, E_SCHEDS);
	e->n = a->s->nscheds;
	e->ptr = cu_xmalloc(e->n * sizeof(struct cs_sched));
	if (e->n)
		memcpy(e->ptr, a->s->scheds, e->n * sizeof(struct cs_sched));
}

void cs_save_task(struct cs_apply *a, struct cs_task *t)
{
	if (!a->journal)
		return;
	struct entry *e = push(a->journal, E_TASK);
	e->ptr = t;
	e->img.task = *t;
}

void cs_save_job(struct cs_apply *a, struct cs_job *job)
{
	if (!a->journal || job->txn_serial == a->s->txn_serial)
		return;
	job->txn_serial = a->s->txn_serial;
	struct entry *e = push(a->journal, E_JOB);
	e->ptr = job;
	e->img.job = *job;
}

void cs_set_job_note(struct cs_apply *a, struct cs_job *job, const char *note)
{
	if (note && !*note)
		note = NULL;
	if (note ? job->note && !strcmp(job->note, note) : !job->note)
		return;      /* the same words again: nothing to record */
	cs_save_job(a, job); /* its image keeps the old pointer for undo */
	cs_free_on_commit(a, job->note);
	job->note = cu_xstrdup(note);
	cs_free_on_undo(a, job->note);
}

struct cs_machine *cs_touch_machine(struct cs_apply *a, uint32_t slot)
{
	cs_state *s = a->s;
	struct cs_machine *m = &s->machines[slot];
	if (m->txn_serial == s->txn_serial)
		return m;
	cs_save_state(a);
	if (a->journal) {
		struct entry *e = push(a->journal, E_MACHINE);
		e->slot = slot;
		e->img.machine = *m;
	}
	m->txn_serial = s->txn_serial;
	m->seq_before = m->seq;
	m->seq = ++s->seq_clock;
	return m;
}

uint64_t cs_seq_seen(const struct cs_apply *a, const struct cs_machine *m)
{
	return m->txn_serial == a->s->txn_serial ? m->seq_before : m->seq;
}

void cs_link_task(struct cs_apply *a, uint32_t slot, struct cs_task *t)
{
	struct cs_machine *m = &a->s->machines[slot];
	if (m->tasks)
		cs_save_task(a, m->tasks);
	cs_machine_link(m, t);
	t->machine = slot;
}

void cs_unlink_task(struct cs_apply *a, uint32_t slot, struct cs_task *t)
{
	if (t->prev_on_machine)
		cs_save_task(a, t->prev_on_machine);
	if (t->next_on_machine)
		cs_save_task(a, t->next_on_machine);
	cs_machine_unlink(&a->s->machines[slot], t);
	t->machine = CS_NO_MACHINE;
}

uint32_t cs_add_machine(struct cs_apply *a, const char *name)
{
	cs_state *s = a->s;
	cs_save_state(a);
	uint32_t slot =
	    s->free_head != CS_NO_MACHINE ? s->free_head : s->nslots;
	if (a->journal) {
		struct entry *e = push(a->journal, E_MACHINE_CREATED);
		e->slot = slot;
		if (slot < s->nslots)
			e->img.machine = s->machines[slot];
	}
	uint32_t got = cs_machine_slot_alloc(s, name);
	/* touched by this txn from birth: seq_before 0 (it did not exist) */
	struct cs_machine *m = &s->machines[got];
	m->txn_serial = s->txn_serial;
	m->seq = ++s->seq_clock;
	return got;
}

void cs_drop_machine(struct cs_apply *a, uint32_t slot)
{
	cs_state *s = a->s;
	if (!a->journal) {
		cs_machine_slot_release(s, slot);
		return;
	}
	cs_save_state(a);
	struct cs_machine *m = &s->machines[slot];
	struct entry *e = push(a->journal, E_MACHINE_REMOVED);
	e->slot = slot;
	e->img.machine = *m;
	/* members stay alive for undo; freed on commit */
	cs_free_on_commit(a, m->pool);
	for (uint32_t i = 0; i < m->nlabels; i++) {
		cs_free_on_commit(a, m->labels[i].key);
		cs_free_on_commit(a, m->labels[i].value);
	}
	cs_free_on_commit(a, m->labels);
	cs_free_on_commit(a, m->agent);
	m->pool = NULL;
	m->labels = NULL;
	m->nlabels = 0;
	m->agent = NULL;
	cs_machine_slot_release(s, slot);
}

void cs_add_job(struct cs_apply *a, struct cs_job *job)
{
	cu_map_put(&a->s->jobs, job->spec.name, job);
	if (a->journal)
		push(a->journal, E_JOB_CREATED)->ptr = job;
}

void cs_drop_job(struct cs_apply *a, struct cs_job *job)
{
	cu_map_del(&a->s->jobs, job->spec.name);
	if (a->journal)
		push(a->journal, E_JOB_REMOVED)->ptr = job;
	else
		cs_job_destroy(job);
}

void cs_add_dependent(struct cs_apply *a, struct cs_job *dep,
                      struct cs_job *job)
{
	cs_job_add_dependent(dep, job);
	if (a->journal) {
		struct entry *e = push(a->journal, E_DEP_ADDED);
		e->ptr = dep;
		e->aux = job;
	}
}

void cs_drop_dependent(struct cs_apply *a, struct cs_job *dep,
                       struct cs_job *job)
{
	int pos = cs_job_remove_dependent(dep, job);
	if (pos < 0 || !a->journal)
		return;
	struct entry *e = push(a->journal, E_DEP_REMOVED);
	e->ptr = dep;
	e->aux = job;
	e->n = (uint32_t)pos;
}

void cs_free_on_commit(struct cs_apply *a, void *p)
{
	if (!p)
		return;
	if (a->journal)
		push(a->journal, E_FREE_ON_COMMIT)->ptr = p;
	else
		free(p);
}

void cs_free_on_undo(struct cs_apply *a, void *p)
{
	if (p && a->journal)
		push(a->journal, E_FREE_ON_UNDO)->ptr = p;
}

/* ---- commit and undo ---- */

static void journal_free(struct cs_journal *j)
{
	free(j->e);
	free(j);
}

void cs_journal_commit(struct cs_journal *j, cs_state *s)
{
	CS_UNUSED(s);
	for (uint32_t i = 0; i < j->n; i++) {
		struct entry *e = &j->e[i];
		if (e->kind == E_FREE_ON_COMMIT)
			free(e->ptr);
		else if (e->kind == E_JOB_REMOVED)
			cs_job_destroy(e->ptr);
		else if (e->kind == E_SCHEDS)
			free(e->ptr);
	}
	journal_free(j);
}

static void restore_job(struct cs_job *job, const struct cs_job *img)
{
	/* dependents are undone by their own entries: keep the live array */
	struct cs_job **deps = job->dependents;
	uint32_t n = job->ndependents, cap = job->dependents_cap;
	*job = *img;
	job->dependents = deps;
	job->ndependents = n;
	job->dependents_cap = cap;
}

static void insert_dependent(struct cs_job *dep, struct cs_job *job,
                             uint32_t pos)
{
	cs_job_add_dependent(dep, job); /* grows; then shift into place */
	memmove(&dep->dependents[pos + 1], &dep->dependents[pos],
	        (dep->ndependents - 1 - pos) * sizeof(*dep->dependents));
	dep->dependents[pos] = job;
}

static void undo_entry(struct entry *e, cs_state *s)
{
	struct cs_machine *m =
	    e->slot < s->nslots ? &s->machines[e->slot] : NULL;
	switch (e->kind) {
	case E_TASK:
		*(struct cs_task *)e->ptr = e->img.task;
		break;
	case E_JOB:
		restore_job(e->ptr, &e->img.job);
		break;
	case E_MACHINE:
		*m = e->img.machine;
		break;
	case E_STATE:
		s->seq_clock = e->img.state.seq_clock;
		s->nslots = e->img.state.nslots;
		s->nmachines = e->img.state.nmachines;
		s->free_head = e->img.state.free_head;
		s->nres = e->img.state.nres;
		memcpy(s->res_names, e->img.state.res_names,
		       sizeof(s->res_names));
		break;
	case E_SCHEDS:
		cu_grow((void **)&s->scheds, &s->scheds_cap, e->n,
		        sizeof(*s->scheds));
		if (e->n)
			memcpy(s->scheds, e->ptr, e->n * sizeof(*s->scheds));
		s->nscheds = e->n;
		free(e->ptr);
		break;
	case E_MACHINE_CREATED:
		/* the members it got went with their own E_FREE_ON_UNDO
		 * entries (a later put in the same transaction may have
		 * replaced them, so m's pointers may be stale): put the slot
		 * back as it was */
		cu_map_del(&s->machine_by_name, m->name);
		*m = e->img.machine; /* zeroes for an appended slot */
		break;
	case E_MACHINE_REMOVED:
		*m = e->img.machine;
		cu_map_put(&s->machine_by_name, m->name,
		           (void *)(uintptr_t)(e->slot + 1));
		break;
	case E_JOB_CREATED:
		cu_map_del(&s->jobs, ((struct cs_job *)e->ptr)->spec.name);
		cs_job_destroy(e->ptr);
		break;
	case E_JOB_REMOVED: {
		struct cs_job *job = e->ptr;
		cu_map_put(&s->jobs, job->spec.name, job);
		break;
	}
	case E_DEP_ADDED: /* by identity: a sort may have moved it */
		cs_job_remove_dependent(e->ptr, e->aux);
		break;
	case E_DEP_REMOVED:
		insert_dependent(e->ptr, e->aux, e->n);
		break;
	case E_FREE_ON_COMMIT:
		break;
	case E_FREE_ON_UNDO:
		free(e->ptr);
		break;
	}
}

void cs_journal_undo(struct cs_journal *j, cs_state *s)
{
	for (uint32_t i = j->n; i-- > 0;)
		undo_entry(&j->e[i], s);
	journal_free(j);
}
