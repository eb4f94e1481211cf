/* jobs.h: private to the cellsched library: what the core keeps per job it
 * works on, and the lists a job moves between. */
#ifndef CELL_SCHED_JOBS_H
#define CELL_SCHED_JOBS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cellstate.h"
#include "cellutil.h"

/* Where a job is. Invariant: a job is on exactly the list its `where`
 * names (queue, parked, never, cooling), or on none when it is SJ_FLIGHT (a
 * transaction of it is in flight or not yet applied: at most one per job,
 * so a job never races itself). */
enum sj_where { SJ_QUEUED, SJ_FLIGHT, SJ_PARKED, SJ_NEVER, SJ_COOLING };

struct sjob {
	char name[CS_NAME_MAX + 1];
	enum sj_where where;
	bool attempted;  /* its first decision was made (wait time seen) */
	bool rejected;   /* its last answer rejected something */
	uint32_t rounds; /* answers in a row with rejections, none accepted */
	int64_t cool_until; /* SJ_COOLING: mono us when it may be tried again */
	struct cu_list link; /* in the list `where` names */
	struct sjob *hnext;  /* hash chain */
};

struct sj_map {
	struct sjob **buckets; /* nbuckets, a power of two; owns the jobs */
	uint32_t nbuckets, count;
};
void sj_map_init(struct sj_map *m);
void sj_map_free(struct sj_map *m);
struct sjob *sj_find(const struct sj_map *m, const char *name);
struct sjob *sj_add(struct sj_map *m, const char *name); /* not yet there */
void sj_remove(struct sj_map *m, struct sjob *job);      /* unlinked first */

struct sj_list {
	struct cu_list jobs; /* of sjob.link, borrowed from the map */
	uint32_t count;
};
void sj_list_init(struct sj_list *l);
struct sjob *sj_list_first(const struct sj_list *l);  /* NULL: empty */
void sj_list_push(struct sj_list *l, struct sjob *j); /* at the back */
void sj_list_unlink(struct sj_list *l, struct sjob *j);

#endif
