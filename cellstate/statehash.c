/* statehash.c: a 64-bit hash of the logical state. Per-entity hashes are
 * summed, so slot numbers, map layouts and list orders (which differ between
 * a replica that replayed the log and one restored from a snapshot) never
 * enter it; ordered things (scheduler list, id FIFO) are hashed in order. */
#include "internal.h"

#include <stdlib.h>

static inline uint64_t add_u64(uint64_t h, uint64_t v)
{
	return cu_mix64(h + v * 0x9e3779b97f4a7c15ull + 0x632be59bd9b4e019ull);
}

static inline uint64_t add_str(uint64_t h, const char *s)
{
	return add_u64(h, cu_hash_str(s, 0x51));
}

static uint64_t add_labels(uint64_t h, const struct cs_label *l, uint32_t n)
{
	h = add_u64(h, n);
	for (uint32_t i = 0; i < n; i++)
		h = add_str(add_str(h, l[i].key), l[i].value);
	return h;
}

static uint64_t add_res(uint64_t h, const cs_res *r, uint32_t nres)
{
	for (uint32_t i = 0; i < nres; i++)
		h = add_u64(h, r->v[i]);
	return h;
}

static uint64_t hash_machine(const cs_state *s, const struct cs_machine *m)
{
	uint64_t h = add_str(0x6d, m->name);
	h = add_str(h, m->pool);
	h = add_labels(h, m->labels, m->nlabels);
	/* only when set: a machine without an agent hashes as it did before
	 * the field existed, so replicas of either build agree on such state */
	if (m->agent)
		h = add_str(add_u64(h, 0x61), m->agent);
	h = add_u64(h, m->state);
	h = add_u64(h, m->seq);
	h = add_res(h, &m->capacity, s->nres);
	return add_res(h, &m->allocated, s->nres);
}

static uint64_t hash_spec(const struct cs_job_spec *sp, const cs_res *req,
                          uint32_t nres)
{
	uint64_t h = add_str(0x6a, sp->name);
	h = add_str(h, sp->class_name);
	h = add_u64(add_u64(h, sp->priority), sp->ntasks);
	h = add_res(h, req, nres);
	h = add_str(h, sp->pool);
	h = add_labels(h, sp->labels, sp->nlabels);
	h = add_u64(h, (uint64_t)sp->distinct << 1 | sp->gang);
	h = add_u64(h, sp->max_retries);
	h = add_str(h, sp->command);
	h = add_u64(h, sp->nargs);
	for (uint32_t i = 0; i < sp->nargs; i++)
		h = add_str(h, sp->args[i]);
	h = add_labels(h, sp->env, sp->nenv);
	h = add_u64(h, sp->duration_ms);
	h = add_u64(h, sp->ndeps);
	for (uint32_t i = 0; i < sp->ndeps; i++)
		h = add_str(h, sp->deps[i]);
	return add_str(h, sp->cron);
}

static uint64_t hash_job(const cs_state *s, const struct cs_job *job,
                         const uint64_t *machine_hash)
{
	uint64_t h = hash_spec(&job->spec, &job->request, s->nres);
	h = add_u64(h, job->state);
	h = add_u64(h, job->cause);
	h = add_u64(h, (uint64_t)job->submit_ms);
	h = add_u64(h, (uint64_t)job->end_ms);
	h = add_u64(h, job->deps_waiting);
	h = add_str(h, job->note); /* NULL hashes apart from any text */
	uint64_t tasks = 0;
	for (uint32_t i = 0; i < job->spec.ntasks; i++) {
		const struct cs_task *t = &job->tasks[i];
		uint64_t th = add_u64(h, i);
		th = add_u64(th, (uint64_t)t->state |
		                     (uint64_t)t->last_end << 8 |
		                     (uint64_t)t->failures << 16);
		th = add_u64(th, (uint64_t)t->attempt << 32 |
		                     (uint32_t)t->exit_code);
		if (t->machine != CS_NO_MACHINE)
			th = add_u64(th, machine_hash[t->machine]);
		tasks += th;
	}
	return add_u64(h, tasks);
}

static uint64_t hash_dedup(const struct cs_dedup *d)
{
	uint64_t h = add_u64(0x64, d->len);
	for (uint32_t i = 0; i < d->len; i++) {
		const struct cs_dedup_rec *r = cs_dedup_at(d, i);
		h = add_str(h, r->id);
		h = add_u64(add_u64(h, r->index), (uint64_t)r->ms);
		h = add_u64(add_u64(h, r->committed), r->nops);
		h = add_u64(h, cu_hash_bytes(r->reasons, r->nops, 0));
	}
	return h;
}

uint64_t cs_state_hash(const cs_state *s, unsigned flags)
{
	uint64_t h =
	    add_u64(0x63656c6c, flags & CS_HASH_CONTENT ? 0 : s->applied_index);
	h = add_u64(h, s->seq_clock);
	h = add_u64(add_u64(h, s->cfg.dedup_max),
	            (uint64_t)s->cfg.dedup_ttl_ms);
	for (uint32_t i = 0; i < s->nres; i++)
		h = add_str(h, s->res_names[i]);
	uint64_t *mh = cu_xcalloc(s->nslots, sizeof(*mh));
	uint64_t machines = 0;
	for (uint32_t i = 0; i < s->nslots; i++) {
		if (!s->machines[i].in_use)
			continue;
		mh[i] = cu_hash_str(s->machines[i].name, 0x4d);
		machines += hash_machine(s, &s->machines[i]);
	}
	h = add_u64(h, machines);
	uint64_t jobs = 0;
	size_t cur = 0;
	const struct cs_job *job;
	while ((job = cs_job_next(s, &cur)))
		jobs += hash_job(s, job, mh);
	free(mh);
	h = add_u64(h, jobs);
	for (uint32_t i = 0; i < s->nscheds; i++) {
		h = add_str(h, s->scheds[i].name);
		h = add_str(h, s->scheds[i].class_name);
		h = add_str(h, s->scheds[i].policy);
		h = add_u64(h, s->scheds[i].member);
	}
	if (!(flags & CS_HASH_CONTENT))
		h = add_u64(h, hash_dedup(&s->dedup));
	return h;
}
