/* jobs.c: the scheduler's own bookkeeping per job it works on, found by
 * name (an open hash with chaining; a job's cellstate pointer is only valid
 * until the next apply, so the core always looks jobs up by name). */
#include "jobs.h"

#include <stdlib.h>
#include <string.h>

#include "cellutil.h"

static uint64_t name_hash(const char *s)
{
	return cu_fnv1a(CU_FNV_OFFSET, s);
}

void sj_map_init(struct sj_map *m)
{
	memset(m, 0, sizeof(*m));
}

void sj_map_free(struct sj_map *m)
{
	for (uint32_t b = 0; b < m->nbuckets; b++)
		for (struct sjob *j = m->buckets[b], *next; j; j = next) {
			next = j->hnext;
			free(j);
		}
	free(m->buckets);
	memset(m, 0, sizeof(*m));
}

struct sjob *sj_find(const struct sj_map *m, const char *name)
{
	if (!m->nbuckets)
		return NULL;
	for (struct sjob *j = m->buckets[name_hash(name) & (m->nbuckets - 1)];
	     j; j = j->hnext)
		if (!strcmp(j->name, name))
			return j;
	return NULL;
}

static void rehash(struct sj_map *m)
{
	uint32_t n = m->nbuckets ? 2 * m->nbuckets : 256;
	struct sjob **b = cu_xcalloc(n, sizeof(*b));
	for (uint32_t i = 0; i < m->nbuckets; i++)
		for (struct sjob *j = m->buckets[i], *next; j; j = next) {
			next = j->hnext;
			uint64_t h = name_hash(j->name) & (n - 1);
			j->hnext = b[h];
			b[h] = j;
		}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
}

struct sjob *sj_add(struct sj_map *m, const char *name)
{
	if (m->count >= m->nbuckets)
		rehash(m);
	struct sjob *j = cu_xcalloc(1, sizeof(*j));
	snprintf(j->name, sizeof(j->name), "%s", name);
	uint64_t h = name_hash(name) & (m->nbuckets - 1);
	j->hnext = m->buckets[h];
	m->buckets[h] = j;
	m->count++;
	return j;
}

void sj_remove(struct sj_map *m, struct sjob *job)
{
	struct sjob **p = &m->buckets[name_hash(job->name) & (m->nbuckets - 1)];
	while (*p != job)
		p = &(*p)->hnext;
	*p = job->hnext;
	m->count--;
	free(job);
}

/* ---- lists ---- */

void sj_list_init(struct sj_list *l)
{
	cu_list_init(&l->jobs);
	l->count = 0;
}

struct sjob *sj_list_first(const struct sj_list *l)
{
	struct cu_list *e = cu_list_first(&l->jobs);
	return e ? cu_container_of(e, struct sjob, link) : NULL;
}

void sj_list_push(struct sj_list *l, struct sjob *j)
{
	cu_list_push_back(&l->jobs, &j->link);
	l->count++;
}

void sj_list_unlink(struct sj_list *l, struct sjob *j)
{
	cu_list_remove(&j->link);
	l->count--;
}
