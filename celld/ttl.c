/* ttl.c: the heartbeat table behind machine liveness and scheduler leases
 * (docs/ARCHITECTURE.md §3): each name's last sign of life, in the
 * writer's memory only, and the grace a new writer gives everyone (it
 * knows nobody's last heartbeat). Time is the core's clock. */
#include <stdlib.h>

#include "core.h"

/* One name's entry; the map's key points at name. */
struct ttl_seen {
	double at;
	char name[];
};

void cd_ttl_init(struct cd_ttl *t, const cd_core *c, uint64_t ttl_ms)
{
	t->core = c;
	t->ttl_ms = ttl_ms;
	cu_map_init(&t->last);
	t->grace_from = cd_now(c);
}

static void free_entries(struct cd_ttl *t)
{
	size_t cur = 0;
	struct cu_map_slot *slot;
	while ((slot = cu_map_next(&t->last, &cur)))
		free(slot->value);
	cu_map_destroy(&t->last);
}

void cd_ttl_destroy(struct cd_ttl *t)
{
	free_entries(t);
}

void cd_ttl_grace(struct cd_ttl *t)
{
	free_entries(t);
	cu_map_init(&t->last);
	t->grace_from = cd_now(t->core);
}

void cd_ttl_seen(struct cd_ttl *t, const char *name)
{
	struct ttl_seen *e = cu_map_get(&t->last, name);
	if (!e) {
		size_t n = strlen(name) + 1;
		e = cu_xmalloc(sizeof(*e) + n);
		memcpy(e->name, name, n);
		cu_map_put(&t->last, e->name, e);
	}
	e->at = cd_now(t->core);
}

void cd_ttl_forget(struct cd_ttl *t, const char *name)
{
	free(cu_map_del(&t->last, name));
}

double cd_ttl_silent(const struct cd_ttl *t, const char *name)
{
	const struct ttl_seen *e = cu_map_get(&t->last, name);
	return cd_now(t->core) - (e ? e->at : t->grace_from);
}

bool cd_ttl_expired(const struct cd_ttl *t, const char *name)
{
	return t->ttl_ms && cd_ttl_silent(t, name) > (double)t->ttl_ms / 1000.0;
}

double cd_ttl_period(const struct cd_ttl *t)
{
	return (double)t->ttl_ms / 4000.0;
}
