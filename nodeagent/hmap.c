/* hmap.c: see hmap.h. The table doubles when it holds more entries than
 * buckets, so chains stay short at any size (5,000 hollow machines carry
 * hundreds of thousands of tasks). */
#include "hmap.h"

#include <stdlib.h>

#include "cellcommon.h"

static size_t bucket(const struct hmap *m, uint64_t hash)
{
	return (size_t)(hash ^ (hash >> 29)) & (m->nb - 1);
}

struct hnode *hmap_find(const struct hmap *m, uint64_t hash, hmap_eq_fn eq,
                        const void *key)
{
	if (!m->nb)
		return NULL;
	for (struct hnode *n = m->b[bucket(m, hash)]; n; n = n->next)
		if (n->hash == hash && eq(n, key))
			return n;
	return NULL;
}

static void grow(struct hmap *m)
{
	struct hmap bigger = {cu_xcalloc(m->nb ? 2 * m->nb : 16, sizeof(*m->b)),
	                      m->nb ? 2 * m->nb : 16, m->n};
	for (size_t i = 0; i < m->nb; i++)
		for (struct hnode *n = m->b[i], *next; n; n = next) {
			next = n->next;
			size_t k = bucket(&bigger, n->hash);
			n->next = bigger.b[k];
			bigger.b[k] = n;
		}
	free(m->b);
	*m = bigger;
}

void hmap_add(struct hmap *m, struct hnode *n)
{
	if (m->n >= m->nb)
		grow(m);
	size_t k = bucket(m, n->hash);
	n->next = m->b[k];
	m->b[k] = n;
	m->n++;
}

void hmap_del(struct hmap *m, struct hnode *n)
{
	for (struct hnode **p = &m->b[bucket(m, n->hash)]; *p; p = &(*p)->next)
		if (*p == n) {
			*p = n->next;
			m->n--;
			return;
		}
}

void hmap_destroy(struct hmap *m)
{
	free(m->b);
	m->b = NULL;
	m->nb = m->n = 0;
}
