/* claims.c: resources asked for by transactions in flight, per machine
 * slot (see cellsched.h). Dense arrays: slots are small dense integers. */
#include "cellsched.h"

#include <stdlib.h>
#include <string.h>

struct sp_claims {
	cs_res *res;     /* cap entries */
	uint32_t *count; /* cap entries: claims on the slot */
	uint32_t cap;
};

static const cs_res no_claim;

sp_claims *sp_claims_new(void)
{
	sp_claims *c = cu_xcalloc(1, sizeof(*c));
	return c;
}

void sp_claims_free(sp_claims *c)
{
	if (!c)
		return;
	free(c->res);
	free(c->count);
	free(c);
}

static void grow(sp_claims *c, uint32_t slot)
{
	if (slot < c->cap)
		return;
	uint32_t cap = c->cap ? c->cap : 1024;
	while (cap <= slot)
		cap *= 2;
	c->res = cu_xrealloc(c->res, cap * sizeof(*c->res));
	c->count = cu_xrealloc(c->count, cap * sizeof(*c->count));
	memset(c->res + c->cap, 0, (cap - c->cap) * sizeof(*c->res));
	memset(c->count + c->cap, 0, (cap - c->cap) * sizeof(*c->count));
	c->cap = cap;
}

void sp_claims_add(sp_claims *c, uint32_t slot, const cs_res *r)
{
	grow(c, slot);
	for (int i = 0; i < CS_RES_MAX; i++)
		c->res[slot].v[i] += r->v[i];
	c->count[slot]++;
}

void sp_claims_drop(sp_claims *c, uint32_t slot, const cs_res *r)
{
	if (slot >= c->cap)
		return;
	for (int i = 0; i < CS_RES_MAX; i++)
		c->res[slot].v[i] -=
		    r->v[i] < c->res[slot].v[i] ? r->v[i] : c->res[slot].v[i];
	if (c->count[slot])
		c->count[slot]--;
}

void sp_claims_reset(sp_claims *c)
{
	if (c->cap) {
		memset(c->res, 0, c->cap * sizeof(*c->res));
		memset(c->count, 0, c->cap * sizeof(*c->count));
	}
}

const cs_res *sp_claims_at(const sp_claims *c, uint32_t slot)
{
	return slot < c->cap ? &c->res[slot] : &no_claim;
}

uint32_t sp_claims_count(const sp_claims *c, uint32_t slot)
{
	return slot < c->cap ? c->count[slot] : 0;
}
