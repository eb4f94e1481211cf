/* res.c: resource vectors and the one fit function (ARCHITECTURE.md §4:
 * schedulers and the commit check share it, so they can never disagree about a
 * fit). */
#include "internal.h"

#include <string.h>

enum cs_reason cs_res_resolve(cs_state *s, const struct cs_amount *a,
                              uint32_t n, cs_res *out, uint32_t *registered)
{
	uint32_t added = 0;
	memset(out, 0, sizeof(*out));
	for (uint32_t i = 0; i < n; i++) {
		int k = cs_resource_index(s, a[i].name);
		if (k < 0) {
			if (s->nres >= CS_RES_MAX)
				goto full;
			k = (int)s->nres++;
			strncpy(s->res_names[k], a[i].name, CS_RES_NAME_MAX);
			s->res_names[k][CS_RES_NAME_MAX] = 0;
			added++;
		}
		out->v[k] = a[i].value;
	}
	if (registered)
		*registered = added;
	return CS_R_OK;
full:
	s->nres -= added; /* names of this spec only; nothing else saw them */
	if (registered)
		*registered = 0;
	return CS_R_RESOURCE_LIMIT;
}

void cs_res_add(cs_res *a, const cs_res *b, uint32_t nres)
{
	for (uint32_t i = 0; i < nres; i++)
		a->v[i] += b->v[i];
}

void cs_res_sub(cs_res *a, const cs_res *b, uint32_t nres)
{
	for (uint32_t i = 0; i < nres; i++)
		a->v[i] -= b->v[i];
}

static bool has_label(const struct cs_machine *m, const struct cs_label *l)
{
	for (uint32_t i = 0; i < m->nlabels; i++)
		if (!strcmp(m->labels[i].key, l->key))
			return !strcmp(m->labels[i].value, l->value);
	return false;
}

static bool holds_task_of(const struct cs_machine *m, const struct cs_job *job)
{
	for (const struct cs_task *t = m->tasks; t; t = t->next_on_machine)
		if (t->job == job)
			return true;
	return false;
}

static bool room_for(const struct cs_machine *m, const cs_res *req,
                     uint32_t nres)
{
	for (uint32_t i = 0; i < nres; i++)
		if (req->v[i] > m->capacity.v[i] - m->allocated.v[i])
			return false;
	return true;
}

bool cs_fit_constraints(const struct cs_machine *m, const struct cs_job *job)
{
	const struct cs_job_spec *sp = &job->spec;
	if (sp->pool && strcmp(sp->pool, m->pool))
		return false;
	for (uint32_t i = 0; i < sp->nlabels; i++)
		if (!has_label(m, &sp->labels[i]))
			return false;
	return true;
}

enum cs_reason cs_fit(const cs_state *s, const struct cs_machine *m,
                      const struct cs_job *job)
{
	if (m->state == CS_MACHINE_DOWN)
		return CS_R_MACHINE_DOWN;
	if (m->state == CS_MACHINE_DRAINING)
		return CS_R_MACHINE_DRAINING;
	if (!cs_fit_constraints(m, job))
		return CS_R_CONSTRAINT;
	if (job->spec.distinct && holds_task_of(m, job))
		return CS_R_CONSTRAINT;
	return room_for(m, &job->request, s->nres) ? CS_R_OK
	                                           : CS_R_INSUFFICIENT;
}
