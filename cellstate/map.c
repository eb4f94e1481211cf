/* map.c: string -> pointer hash map, open addressing with linear probing and
 * tombstones. Keys are borrowed from the entities they name. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static const char tombstone_mark;
#define TOMBSTONE (&tombstone_mark)

void cs_map_init(struct cs_map *m)
{
	memset(m, 0, sizeof(*m));
}

void cs_map_destroy(struct cs_map *m)
{
	free(m->slots);
	cs_map_init(m);
}

static struct cs_map_entry *probe(const struct cs_map *m, const char *key,
                                  uint64_t h)
{
	uint32_t mask = m->cap - 1;
	for (uint32_t i = (uint32_t)h & mask;; i = (i + 1) & mask) {
		struct cs_map_entry *e = &m->slots[i];
		if (!e->key)
			return NULL;
		if (e->key != TOMBSTONE && e->hash == h && !strcmp(e->key, key))
			return e;
	}
}

void *cs_map_get(const struct cs_map *m, const char *key)
{
	if (!m->cap)
		return NULL;
	struct cs_map_entry *e = probe(m, key, cs_hash_str(key, 0));
	return e ? e->value : NULL;
}

static void insert_fresh(struct cs_map *m, const char *key, void *value,
                         uint64_t h)
{
	uint32_t mask = m->cap - 1;
	uint32_t i = (uint32_t)h & mask;
	while (m->slots[i].key && m->slots[i].key != TOMBSTONE)
		i = (i + 1) & mask;
	if (m->slots[i].key == TOMBSTONE)
		m->dead--;
	m->slots[i] = (struct cs_map_entry){key, value, h};
	m->used++;
}

static void rehash(struct cs_map *m, uint32_t cap)
{
	struct cs_map old = *m;
	m->slots = cs_xcalloc(cap, sizeof(*m->slots));
	m->cap = cap;
	m->used = m->dead = 0;
	for (uint32_t i = 0; i < old.cap; i++) {
		struct cs_map_entry *e = &old.slots[i];
		if (e->key && e->key != TOMBSTONE)
			insert_fresh(m, e->key, e->value, e->hash);
	}
	free(old.slots);
}

void cs_map_put(struct cs_map *m, const char *key, void *value)
{
	uint64_t h = cs_hash_str(key, 0);
	struct cs_map_entry *e = m->cap ? probe(m, key, h) : NULL;
	if (e) {
		e->key = key;
		e->value = value;
		return;
	}
	/* keep load (live + tombstones) under 3/4 */
	if ((uint64_t)(m->used + m->dead + 1) * 4 > (uint64_t)m->cap * 3) {
		uint32_t cap = m->cap ? m->cap : 16;
		while ((uint64_t)(m->used + 1) * 2 > cap)
			cap *= 2;
		rehash(m, cap);
	}
	insert_fresh(m, key, value, h);
}

void *cs_map_del(struct cs_map *m, const char *key)
{
	if (!m->cap)
		return NULL;
	struct cs_map_entry *e = probe(m, key, cs_hash_str(key, 0));
	if (!e)
		return NULL;
	void *v = e->value;
	e->key = TOMBSTONE;
	e->value = NULL;
	m->used--;
	m->dead++;
	return v;
}

struct cs_map_entry *cs_map_next(const struct cs_map *m, size_t *cursor)
{
	while (*cursor < m->cap) {
		struct cs_map_entry *e = &m->slots[(*cursor)++];
		if (e->key && e->key != TOMBSTONE)
			return e;
	}
	return NULL;
}
