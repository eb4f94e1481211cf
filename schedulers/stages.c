/* stages.c: the stages every policy assembles: feasibility, ranking and
 * selection, plus the planner scratch they share. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* Fit scores lie in [-1, 1]; each task of the job already in a failure
 * domain costs more than that, so domains fill evenly and fit only breaks
 * ties between equally used ones. */
#define SPREAD_WEIGHT 2.0

sp_planner *sp_planner_new(void)
{
	sp_planner *p = cu_xcalloc(1, sizeof(*p));
	return p;
}

void sp_planner_free(sp_planner *p)
{
	if (!p)
		return;
	free(p->seen);
	free(p->add);
	free(p->freed);
	free(p->job_here);
	free(p->victims);
	free(p->scratch);
	free(p->domains);
	free(p->eligible);
	free(p);
}

static void *grow_array(void *a, size_t elem, uint32_t old, uint32_t cap)
{
	char *n = cu_xrealloc(a, elem * cap);
	memset(n + elem * old, 0, elem * (cap - old));
	return n;
}

void sp_planner_begin(sp_planner *p, uint32_t slots)
{
	if (slots > p->cap) {
		p->seen = grow_array(p->seen, sizeof(*p->seen), p->cap, slots);
		p->add = grow_array(p->add, sizeof(*p->add), p->cap, slots);
		p->freed =
		    grow_array(p->freed, sizeof(*p->freed), p->cap, slots);
		p->job_here = grow_array(p->job_here, sizeof(*p->job_here),
		                         p->cap, slots);
		p->cap = slots;
	}
	if (++p->stamp == 0) { /* wrapped: every stale stamp could match */
		memset(p->seen, 0, p->cap * sizeof(*p->seen));
		p->stamp = 1;
	}
	p->nvictims = 0;
	p->ndomains = 0;
}

/* A job constrained to a pool or labels may match a small part of the cell
 * (one zone in five): drawing random machines from the whole cell would
 * mostly find machines it can never use, and the first-fit fallback would
 * walk past them one by one. The decision draws from the matching machines
 * instead, found once (Nomad's feasible node set, per evaluation). */
void sp_candidates(struct sp_ctx *x)
{
	const struct cs_job_spec *sp = &x->job->spec;
	x->eligible = NULL;
	x->n = x->slots;
	if (!sp->pool && !sp->nlabels)
		return;
	sp_planner *p = x->p;
	if (p->eligible_cap < x->slots) {
		free(p->eligible);
		p->eligible =
		    cu_xmalloc((size_t)x->slots * sizeof(*p->eligible));
		p->eligible_cap = x->slots;
	}
	uint32_t n = 0;
	for (uint32_t slot = 0; slot < x->slots; slot++) {
		const struct cs_machine *m = cs_machine_at(x->s, slot);
		if (m && cs_fit_constraints(m, x->job))
			p->eligible[n++] = slot;
	}
	x->eligible = p->eligible;
	x->n = n;
}

static uint32_t candidate(const struct sp_ctx *x, uint32_t k)
{
	return x->eligible ? x->eligible[k] : k;
}

void sp_planner_touch(sp_planner *p, uint32_t slot)
{
	if (p->seen[slot] == p->stamp)
		return;
	p->seen[slot] = p->stamp;
	memset(&p->add[slot], 0, sizeof(p->add[slot]));
	memset(&p->freed[slot], 0, sizeof(p->freed[slot]));
	p->job_here[slot] = false;
}

static bool touched(const sp_planner *p, uint32_t slot)
{
	return p->seen[slot] == p->stamp;
}

void sp_room(const struct sp_ctx *x, const struct cs_machine *m, uint32_t slot,
             cs_res *out)
{
	const cs_res *claim = sp_claims_at(x->claims, slot);
	bool local = touched(x->p, slot);
	for (uint32_t i = 0; i < x->nres; i++) {
		uint64_t used = m->allocated.v[i] + claim->v[i];
		uint64_t cap = m->capacity.v[i];
		if (local) {
			used += x->p->add[slot].v[i];
			used -= x->p->freed[slot].v[i] < used
			            ? x->p->freed[slot].v[i]
			            : used;
		}
		out->v[i] = used < cap ? cap - used : 0;
	}
}

bool sp_res_fits(const cs_res *need, const cs_res *room, uint32_t nres)
{
	for (uint32_t i = 0; i < nres; i++)
		if (need->v[i] > room->v[i])
			return false;
	return true;
}

enum cs_reason sp_feasible(const struct sp_ctx *x, const struct cs_machine *m,
                           uint32_t slot)
{
	enum cs_reason r = cs_fit(x->s, m, x->job);
	if (r != CS_R_OK && r != CS_R_INSUFFICIENT)
		return r;
	/* coarse detection rejects a place on a machine whose seq moved: a
	 * machine our own transaction in flight is about to change is a
	 * certain conflict */
	if (x->prm->detect == CS_COARSE && sp_claims_count(x->claims, slot))
		return CS_R_SEQ_CHANGED;
	if (x->job->spec.distinct && touched(x->p, slot) &&
	    x->p->job_here[slot])
		return CS_R_CONSTRAINT;
	return r;
}

bool sp_fits(const struct sp_ctx *x, uint32_t slot)
{
	const struct cs_machine *m = cs_machine_at(x->s, slot);
	if (!m)
		return false;
	enum cs_reason r = sp_feasible(x, m, slot);
	if (r != CS_R_OK && r != CS_R_INSUFFICIENT)
		return false;
	cs_res room;
	sp_room(x, m, slot, &room);
	return sp_res_fits(&x->job->request, &room, x->nres);
}

const char *sp_domain_of(const struct cs_machine *m, const char *label)
{
	for (uint32_t i = 0; label && i < m->nlabels; i++)
		if (!strcmp(m->labels[i].key, label))
			return m->labels[i].value;
	return NULL;
}

static struct sp_domain *domain_find(sp_planner *p, const char *value,
                                     bool create)
{
	for (uint32_t i = 0; i < p->ndomains; i++)
		if (!strcmp(p->domains[i].value, value))
			return &p->domains[i];
	if (!create)
		return NULL;
	if (p->ndomains == p->domains_cap) {
		uint32_t cap = p->domains_cap ? 2 * p->domains_cap : 16;
		p->domains = grow_array(p->domains, sizeof(*p->domains),
		                        p->domains_cap, cap);
		p->domains_cap = cap;
	}
	p->domains[p->ndomains] = (struct sp_domain){value, 0};
	return &p->domains[p->ndomains++];
}

/* The job's tasks already on machines, per failure domain. */
void sp_domains_count(struct sp_ctx *x)
{
	const struct cs_job *j = x->job;
	for (uint32_t i = 0; i < j->spec.ntasks; i++) {
		const struct cs_task *t = &j->tasks[i];
		if (t->machine == CS_NO_MACHINE)
			continue;
		const struct cs_machine *m = cs_machine_at(x->s, t->machine);
		const char *d =
		    m ? sp_domain_of(m, x->prm->spread_label) : NULL;
		if (d)
			domain_find(x->p, d, true)->tasks++;
	}
}

double sp_score(const struct sp_ctx *x, const struct cs_machine *m,
                uint32_t slot)
{
	cs_res room;
	sp_room(x, m, slot, &room);
	double worst = 0, sum = 0;
	uint32_t dims = 0;
	for (uint32_t i = 0; i < x->nres; i++) {
		if (!m->capacity.v[i] || !x->job->request.v[i])
			continue;
		double after =
		    1.0 - (double)(room.v[i] - x->job->request.v[i]) /
		              (double)m->capacity.v[i];
		worst = after > worst ? after : worst;
		sum += after;
		dims++;
	}
	double score = x->prm->policy->rank == SP_RANK_BEST_FIT
	                   ? (dims ? sum / dims : 0)
	                   : -worst;
	if (x->prm->policy->spread && x->prm->spread_label) {
		const char *d = sp_domain_of(m, x->prm->spread_label);
		struct sp_domain *dom = d ? domain_find(x->p, d, false) : NULL;
		if (dom)
			score -= SPREAD_WEIGHT * dom->tasks;
	}
	return score;
}

/* The ranking stage's running best: slot if it fits and outranks *best. */
static void rank(struct sp_ctx *x, uint32_t slot, uint32_t *best,
                 double *best_score)
{
	if (!sp_fits(x, slot))
		return;
	double sc = sp_score(x, cs_machine_at(x->s, slot), slot);
	if (*best == SP_NO_SLOT || sc > *best_score) {
		*best = slot;
		*best_score = sc;
	}
}

/* Every candidate, ranked (service). */
static uint32_t select_scored(struct sp_ctx *x)
{
	uint32_t best = SP_NO_SLOT;
	double best_score = 0;
	for (uint32_t k = 0; k < x->n; k++)
		rank(x, candidate(x, k), &best, &best_score);
	return best;
}

/* Power of d choices, then first fit from a random machine (batch), among
 * the candidates. */
static uint32_t select_sampled(struct sp_ctx *x)
{
	uint32_t best = SP_NO_SLOT;
	double best_score = 0;
	for (unsigned k = 0; k < x->prm->policy->choices; k++)
		rank(x, candidate(x, (uint32_t)(cu_rand(x->rng) % x->n)), &best,
		     &best_score);
	if (best != SP_NO_SLOT)
		return best;
	uint32_t start = (uint32_t)(cu_rand(x->rng) % x->n);
	for (uint32_t k = 0; k < x->n; k++) {
		uint32_t slot = candidate(x, (start + k) % x->n);
		if (sp_fits(x, slot))
			return slot;
	}
	return SP_NO_SLOT;
}

uint32_t sp_select(struct sp_ctx *x)
{
	if (!x->n)
		return SP_NO_SLOT;
	return x->prm->policy->choices ? select_sampled(x) : select_scored(x);
}

void sp_took(struct sp_ctx *x, const struct cs_machine *m, uint32_t slot)
{
	sp_planner_touch(x->p, slot);
	for (uint32_t i = 0; i < x->nres; i++)
		x->p->add[slot].v[i] += x->job->request.v[i];
	x->p->job_here[slot] = true;
	const char *d = sp_domain_of(m, x->prm->spread_label);
	if (d && x->prm->policy->spread)
		domain_find(x->p, d, true)->tasks++;
}
