/* plan.c: one decision: the pending tasks of one job, through the policy's
 * stages, into one transaction carrying the machine versions it saw. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sp_decision_clear(struct sp_decision *d)
{
	cs_txn_free(d->txn);
	free(d->claims);
	memset(d, 0, sizeof(*d));
}

/* Records the claim of the next place op (cap: places at most). */
static void add_claim(struct sp_decision *d, uint32_t slot, const cs_res *r,
                      uint32_t cap)
{
	if (!d->claims)
		d->claims = cu_xmalloc(cap * sizeof(*d->claims));
	d->claims[d->places].slot = slot;
	d->claims[d->places].res = *r;
}

static enum cs_mode mode_of(const struct sp_params *prm,
                            const struct cs_job *job)
{
	if (job->spec.gang) /* cellstate checks the gang as a whole */
		return CS_ALL_OR_NOTHING;
	return prm->mode >= 0 ? (enum cs_mode)prm->mode : prm->policy->mode;
}

void sp_decide(sp_planner *p, const cs_state *s, const struct cs_job *job,
               const sp_claims *claims, const struct sp_params *params,
               uint64_t *rng, const char *txn_id, const char *origin,
               struct sp_decision *out)
{
	memset(out, 0, sizeof(*out));
	uint32_t pending = job->count[CS_TASK_PENDING];
	if (!pending || job->state == CS_JOB_BLOCKED)
		return;
	uint32_t limit = pending;
	if (!job->spec.gang && params->max_tasks && limit > params->max_tasks)
		limit = params->max_tasks;
	struct sp_ctx x = {.p = p,
	                   .s = s,
	                   .job = job,
	                   .claims = claims,
	                   .prm = params,
	                   .rng = rng,
	                   .nres = cs_resource_count(s),
	                   .slots = cs_machine_slots(s)};
	sp_planner_begin(p, x.slots);
	sp_candidates(&x);
	if (params->policy->spread && params->spread_label)
		sp_domains_count(&x);
	cs_txn *txn =
	    cs_txn_new(txn_id, origin, mode_of(params, job), params->detect);
	for (uint32_t i = 0; i < job->spec.ntasks && out->places < limit; i++) {
		if (job->tasks[i].state != CS_TASK_PENDING)
			continue;
		uint32_t slot = sp_select(&x);
		if (slot == SP_NO_SLOT)
			slot = sp_preempt(&x, txn);
		if (slot == SP_NO_SLOT) {
			/* the next tasks ask for the same: no machine either */
			out->unplaced = limit - out->places;
			break;
		}
		const struct cs_machine *m = cs_machine_at(s, slot);
		cs_txn_place(txn, job->spec.name, i, m->name, m->seq);
		add_claim(out, slot, &job->request, limit);
		sp_took(&x, m, slot);
		out->places++;
	}
	if (!out->places || (job->spec.gang && out->unplaced)) {
		cs_txn_free(txn);
		free(out->claims);
		out->claims = NULL;
		out->places = 0;
		return;
	}
	out->txn = txn;
}

/* "cpu=64000 memory=100" for the dimensions the job asks for. */
static void format_res(const cs_state *s, const cs_res *r, const cs_res *mask,
                       char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = 0;
	for (uint32_t i = 0; i < cs_resource_count(s) && at < len; i++) {
		if (!mask->v[i])
			continue;
		int n = snprintf(buf + at, len - at, "%s%s=%llu", at ? " " : "",
		                 cs_resource_name(s, i),
		                 (unsigned long long)r->v[i]);
		at += n > 0 ? (size_t)n : 0;
	}
}

bool sp_never_fits(const cs_state *s, const struct cs_job *job, char *why,
                   size_t len)
{
	uint32_t matching = 0, big = 0, nres = cs_resource_count(s);
	cs_res largest = {{0}};
	for (uint32_t slot = 0; slot < cs_machine_slots(s); slot++) {
		const struct cs_machine *m = cs_machine_at(s, slot);
		if (!m || !cs_fit_constraints(m, job))
			continue;
		matching++;
		bool fits = true;
		for (uint32_t i = 0; i < nres; i++) {
			if (m->capacity.v[i] > largest.v[i])
				largest.v[i] = m->capacity.v[i];
			fits = fits && job->request.v[i] <= m->capacity.v[i];
		}
		big += fits;
	}
	const struct cs_job_spec *sp = &job->spec;
	if (!matching) {
		snprintf(
		    why, len,
		    "unplaceable: no machine matches the job's constraints "
		    "(pool %s, %u required label(s))",
		    sp->pool ? sp->pool : "any", sp->nlabels);
		return true;
	}
	if (!big) {
		char need[160], has[160];
		format_res(s, &job->request, &job->request, need, sizeof(need));
		format_res(s, &largest, &job->request, has, sizeof(has));
		snprintf(why, len,
		         "unplaceable: each task needs %s; no machine matching "
		         "its constraints is that big (largest: %s)",
		         need, has);
		return true;
	}
	if (sp->distinct && sp->ntasks > big) {
		snprintf(
		    why, len,
		    "unplaceable: %u distinct tasks need as many machines; "
		    "only %u match and are big enough",
		    sp->ntasks, big);
		return true;
	}
	return false;
}
