/* hmap.h: an intrusive chained hash table for the agent core. Entries
 * embed a struct hnode as their first member and carry their own hash;
 * lookups compare with a function the caller gives. The table owns only
 * its bucket array. */
#ifndef CELL_AGENT_HMAP_H
#define CELL_AGENT_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hnode {
	struct hnode *next;
	uint64_t hash; /* set by the caller before hmap_add */
};

struct hmap {
	struct hnode *
	    *b; /* nb buckets, a power of two (0 before the first add) */
	size_t nb, n;
};

typedef bool (*hmap_eq_fn)(const struct hnode *n, const void *key);

struct hnode *hmap_find(const struct hmap *m, uint64_t hash, hmap_eq_fn eq,
                        const void *key);
void hmap_add(struct hmap *m, struct hnode *n); /* n must not be in m */
void hmap_del(struct hmap *m, struct hnode *n); /* n must be in m */
void hmap_destroy(struct hmap *m); /* frees the buckets, not the entries */

#endif
