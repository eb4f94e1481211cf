/* arena.c: bump allocator that backs one transaction's strings and specs, so
 * a decoded transaction is freed in one call whatever its shape. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_MIN 4096

struct chunk {
	struct chunk *next;
	size_t used, size;
	max_align_t data[]; /* aligned payload */
};

struct cs_arena {
	struct chunk *head;
};

struct cs_arena *cs_arena_new(void)
{
	return cu_xcalloc(1, sizeof(struct cs_arena));
}

void cs_arena_free(struct cs_arena *a)
{
	if (!a)
		return;
	struct chunk *c = a->head;
	while (c) {
		struct chunk *next = c->next;
		free(c);
		c = next;
	}
	free(a);
}

void *cs_arena_alloc(struct cs_arena *a, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	struct chunk *c = a->head;
	if (!c || c->size - c->used < n) {
		size_t size = n > CHUNK_MIN ? n : CHUNK_MIN;
		c = cu_xmalloc(sizeof(*c) + size);
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	return memset(p, 0, n);
}

char *cs_arena_strdup(struct cs_arena *a, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	return memcpy(cs_arena_alloc(a, n), s, n);
}
