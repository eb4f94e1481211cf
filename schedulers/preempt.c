/* preempt.c: preemption, the selection stage of last resort. A task that
 * fits nowhere may evict tasks of strictly lower priority (cellstate
 * enforces "strictly"); of all machines where that makes room, the one with
 * the cheapest victims wins: the lowest highest-victim priority, then the
 * fewest victims, then the lowest priority sum. Preempt ops go before the
 * place in the same transaction, so both commit or the place is rejected. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

struct cost {
	uint32_t max_prio, count;
	uint64_t sum_prio;
};

static bool cheaper(const struct cost *a, const struct cost *b)
{
	if (a->max_prio != b->max_prio)
		return a->max_prio < b->max_prio;
	if (a->count != b->count)
		return a->count < b->count;
	return a->sum_prio < b->sum_prio;
}

static bool chosen(const sp_planner *p, const struct cs_task *t)
{
	for (uint32_t i = 0; i < p->nvictims; i++)
		if (p->victims[i] == t)
			return true;
	return false;
}

static uint64_t size_of(const struct cs_task *t, uint32_t nres)
{
	uint64_t s = 0;
	for (uint32_t i = 0; i < nres; i++)
		s += t->job->request.v[i];
	return s;
}

/* Lowest priority first; among equals the largest, so fewer go. */
static int victim_order(const void *a, const void *b)
{
	const struct cs_task *x = *(const struct cs_task *const *)a;
	const struct cs_task *y = *(const struct cs_task *const *)b;
	uint32_t px = x->job->spec.priority, py = y->job->spec.priority;
	if (px != py)
		return px < py ? -1 : 1;
	uint64_t sx = size_of(x, CS_RES_MAX), sy = size_of(y, CS_RES_MAX);
	if (sx != sy)
		return sx > sy ? -1 : 1;
	/* deterministic for a given state: by job name, then index */
	int c = strcmp(x->job->spec.name, y->job->spec.name);
	if (c)
		return c;
	return cs_task_index(x) < cs_task_index(y) ? -1 : 1;
}

/* The victims on m that make room, in p->scratch[0..*n); false when even
 * all lower-priority tasks there are not enough. */
static bool victims_on(struct sp_ctx *x, const struct cs_machine *m,
                       uint32_t slot, uint32_t *n, struct cost *cost)
{
	sp_planner *p = x->p;
	uint32_t prio = x->job->spec.priority, k = 0;
	if (p->scratch_cap < m->ntasks) {
		p->scratch =
		    cu_xrealloc(p->scratch, m->ntasks * sizeof(*p->scratch));
		p->scratch_cap = m->ntasks;
	}
	for (const struct cs_task *t = m->tasks; t; t = t->next_on_machine)
		if (t->job->spec.priority < prio && !chosen(p, t))
			p->scratch[k++] = t;
	if (!k)
		return false;
	qsort(p->scratch, k, sizeof(*p->scratch), victim_order);
	cs_res room;
	sp_room(x, m, slot, &room);
	*cost = (struct cost){0, 0, 0};
	for (uint32_t i = 0; i < k; i++) {
		const struct cs_task *t = p->scratch[i];
		for (uint32_t d = 0; d < x->nres; d++)
			room.v[d] += t->job->request.v[d];
		cost->count++;
		cost->sum_prio += t->job->spec.priority;
		if (t->job->spec.priority > cost->max_prio)
			cost->max_prio = t->job->spec.priority;
		if (sp_res_fits(&x->job->request, &room, x->nres)) {
			*n = i + 1;
			return true;
		}
	}
	return false;
}

static uint32_t cheapest_machine(struct sp_ctx *x)
{
	uint32_t best = SP_NO_SLOT, n;
	struct cost best_cost = {0, 0, 0}, c;
	for (uint32_t slot = 0; slot < x->slots; slot++) {
		const struct cs_machine *m = cs_machine_at(x->s, slot);
		if (!m || !m->ntasks)
			continue;
		enum cs_reason r = sp_feasible(x, m, slot);
		if (r != CS_R_OK && r != CS_R_INSUFFICIENT)
			continue;
		if (victims_on(x, m, slot, &n, &c) &&
		    (best == SP_NO_SLOT || cheaper(&c, &best_cost))) {
			best = slot;
			best_cost = c;
		}
	}
	return best;
}

uint32_t sp_preempt(struct sp_ctx *x, cs_txn *txn)
{
	if (!x->prm->policy->preempt || !x->job->spec.priority)
		return SP_NO_SLOT;
	uint32_t slot = cheapest_machine(x);
	if (slot == SP_NO_SLOT)
		return SP_NO_SLOT;
	const struct cs_machine *m = cs_machine_at(x->s, slot);
	uint32_t n = 0;
	struct cost c;
	victims_on(x, m, slot, &n, &c);
	sp_planner *p = x->p;
	if (p->victims_cap < p->nvictims + n) {
		p->victims_cap = 2 * (p->nvictims + n);
		p->victims = cu_xrealloc(p->victims,
		                         p->victims_cap * sizeof(*p->victims));
	}
	sp_planner_touch(p, slot);
	for (uint32_t i = 0; i < n; i++) {
		const struct cs_task *t = p->scratch[i];
		cs_txn_preempt(txn, t->job->spec.name, cs_task_index(t),
		               m->name, m->seq, x->job->spec.name);
		for (uint32_t d = 0; d < x->nres; d++)
			p->freed[slot].v[d] += t->job->request.v[d];
		p->victims[p->nvictims++] = t;
	}
	return slot;
}
