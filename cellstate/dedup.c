/* dedup.c: the verdicts of recent transaction ids, so a client that retries
 * after an unknown outcome (leader lost mid-write) gets the first verdict and
 * changes nothing. Bounded by count and by entry time, both deterministic. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

void cs_dedup_init(struct cs_dedup *d)
{
	memset(d, 0, sizeof(*d));
	cu_map_init(&d->by_id);
}

static void rec_free(struct cs_dedup_rec *r)
{
	free(r->id);
	free(r->reasons);
	free(r);
}

void cs_dedup_destroy(struct cs_dedup *d)
{
	for (uint32_t i = 0; i < d->len; i++)
		rec_free(d->ring[(d->head + i) % d->cap]);
	free(d->ring);
	cu_map_destroy(&d->by_id);
}

const struct cs_dedup_rec *cs_dedup_find(const struct cs_dedup *d,
                                         const char *id)
{
	return cu_map_get(&d->by_id, id);
}

const struct cs_dedup_rec *cs_dedup_at(const struct cs_dedup *d, uint32_t i)
{
	return i < d->len ? d->ring[(d->head + i) % d->cap] : NULL;
}

static void drop_oldest(struct cs_dedup *d)
{
	struct cs_dedup_rec *r = d->ring[d->head];
	cu_map_del(&d->by_id, r->id);
	rec_free(r);
	d->head = (d->head + 1) % d->cap;
	d->len--;
}

void cs_dedup_add(struct cs_dedup *d, struct cs_dedup_rec *rec)
{
	if (d->len == d->cap) { /* unroll the ring into a bigger array */
		uint32_t cap = d->cap ? d->cap * 2 : 64;
		struct cs_dedup_rec **ring = cu_xmalloc(cap * sizeof(*ring));
		for (uint32_t i = 0; i < d->len; i++)
			ring[i] = d->ring[(d->head + i) % d->cap];
		free(d->ring);
		d->ring = ring;
		d->cap = cap;
		d->head = 0;
	}
	d->ring[(d->head + d->len) % d->cap] = rec;
	d->len++;
	cu_map_put(&d->by_id, rec->id, rec);
}

void cs_dedup_record(struct cs_dedup *d, const struct cs_config *cfg,
                     const char *id, uint64_t index, int64_t ms,
                     const cs_result *res)
{
	struct cs_dedup_rec *r = cu_xcalloc(1, sizeof(*r));
	r->id = cu_xstrdup(id);
	r->index = index;
	r->ms = ms;
	r->committed = res->committed;
	r->nops = res->nops;
	r->reasons = cu_xmalloc(res->nops ? res->nops : 1);
	for (uint32_t i = 0; i < res->nops; i++)
		r->reasons[i] = (uint8_t)res->ops[i].reason;
	cs_dedup_add(d, r);
	cs_dedup_expire(d, cfg, ms);
}

void cs_dedup_expire(struct cs_dedup *d, const struct cs_config *cfg,
                     int64_t now_ms)
{
	while (d->len > cfg->dedup_max ||
	       (d->len && now_ms - d->ring[d->head]->ms > cfg->dedup_ttl_ms))
		drop_oldest(d);
}
