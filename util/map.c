/* map.c: the hash map (see cellutil.h): open addressing with linear
 * probing and tombstones. */
#include "cellutil.h"

#include <stdlib.h>

const char cu_map_tombstone[1];
#define TOMBSTONE ((const void *)cu_map_tombstone)

static bool str_eq(const void *stored, const void *key)
{
	return !strcmp(stored, key);
}

void cu_map_init(struct cu_map *m)
{
	memset(m, 0, sizeof(*m));
}

void cu_map_destroy(struct cu_map *m)
{
	free(m->slots);
	cu_map_init(m);
}

static struct cu_map_slot *probe(const struct cu_map *m, uint64_t h,
                                 const void *key, cu_map_eq_fn eq)
{
	if (!m->cap)
		return NULL;
	uint32_t mask = m->cap - 1;
	for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
		struct cu_map_slot *e = &m->slots[i];
		if (!e->key)
			return NULL;
		if (e->key != TOMBSTONE && e->hash == h && eq(e->key, key))
			return e;
	}
}

static void insert_fresh(struct cu_map *m, const void *key, void *value,
                         uint64_t h)
{
	uint32_t mask = m->cap - 1;
	uint32_t i = (uint32_t)h & mask;
	while (m->slots[i].key && m->slots[i].key != TOMBSTONE)
		i = (i + 1) & mask;
	if (m->slots[i].key == TOMBSTONE)
		m->dead--;
	m->slots[i] = (struct cu_map_slot){key, value, h};
	m->used++;
}

static void rehash(struct cu_map *m, uint32_t cap)
{
	struct cu_map old = *m;
	m->slots = cu_xcalloc(cap, sizeof(*m->slots));
	m->cap = cap;
	m->used = m->dead = 0;
	for (uint32_t i = 0; i < old.cap; i++) {
		struct cu_map_slot *e = &old.slots[i];
		if (e->key && e->key != TOMBSTONE)
			insert_fresh(m, e->key, e->value, e->hash);
	}
	free(old.slots);
}

void *cu_map_get_by(const struct cu_map *m, uint64_t hash, const void *key,
                    cu_map_eq_fn eq)
{
	struct cu_map_slot *e = probe(m, hash, key, eq);
	return e ? e->value : NULL;
}

void cu_map_put_by(struct cu_map *m, uint64_t hash, const void *key,
                   void *value, cu_map_eq_fn eq)
{
	struct cu_map_slot *e = probe(m, hash, key, eq);
	if (e) {
		e->key = key;
		e->value = value;
		return;
	}
	/* keep the load (live entries and tombstones) under 3/4 */
	if ((uint64_t)(m->used + m->dead + 1) * 4 > (uint64_t)m->cap * 3) {
		uint32_t cap = m->cap ? m->cap : 16;
		while ((uint64_t)(m->used + 1) * 2 > cap)
			cap *= 2;
		rehash(m, cap);
	}
	insert_fresh(m, key, value, hash);
}

void *cu_map_del_by(struct cu_map *m, uint64_t hash, const void *key,
                    cu_map_eq_fn eq)
{
	struct cu_map_slot *e = probe(m, hash, key, eq);
	if (!e)
		return NULL;
	void *v = e->value;
	e->key = TOMBSTONE;
	e->value = NULL;
	m->used--;
	m->dead++;
	return v;
}

void *cu_map_get(const struct cu_map *m, const char *key)
{
	return cu_map_get_by(m, cu_hash_str(key, 0), key, str_eq);
}

void cu_map_put(struct cu_map *m, const char *key, void *value)
{
	cu_map_put_by(m, cu_hash_str(key, 0), key, value, str_eq);
}

void *cu_map_del(struct cu_map *m, const char *key)
{
	return cu_map_del_by(m, cu_hash_str(key, 0), key, str_eq);
}

struct cu_map_slot *cu_map_next(const struct cu_map *m, size_t *cursor)
{
	while (*cursor < m->cap) {
		struct cu_map_slot *e = &m->slots[(*cursor)++];
		if (e->key && e->key != TOMBSTONE)
			return e;
	}
	return NULL;
}
