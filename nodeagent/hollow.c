/* hollow.c: the executor of a hollow agent (as Kubernetes' hollow nodes):
 * a task "runs" for its job's duration_ms on a timer and then succeeds; no
 * process starts. Everything else (registration, heartbeats, the watch,
 * reports) is the real protocol, batched across all the machines of the
 * process. It remembers every attempt it started, so it never starts one
 * twice either; that memory dies with the process (a restarted hollow
 * agent reports what the cell thinks it runs as lost). */
#include "agent.h"

#include <stdlib.h>
#include <string.h>

/* A task, or one attempt of it: the key of both maps. */
struct key {
	char *job;               /* owned by the entry that embeds the key */
	uint32_t index, attempt; /* attempt is 0 in h->started's keys */
};

struct run {
	struct key key; /* in h->runs */
	ev_timer timer;
	struct hollow *h;
	bool stopped;
};

struct started {        /* the highest attempt started, per task */
	struct key key; /* in h->started */
	uint32_t attempt;
};

struct hollow {
	struct agent *a;
	/* runs: key -> struct run (owned); started: key -> struct started
	 * (owned) */
	struct cu_map runs, started;
};

static uint64_t hash_key(const struct key *k)
{
	uint64_t h = cu_fnv1a(CU_FNV_OFFSET, k->job);
	h = cu_fnv1a_u64(h, k->index);
	return cu_fnv1a_u64(h, k->attempt);
}

static bool key_is(const void *stored, const void *key)
{
	const struct key *a = stored, *b = key;
	return a->index == b->index && a->attempt == b->attempt &&
	       !strcmp(a->job, b->job);
}

static struct run *run_find(const struct hollow *h, const char *job,
                            uint32_t index, uint32_t attempt)
{
	/* the cast only lets a borrowed name into a probe nobody frees */
	struct key k = {(char *)job, index, attempt};
	return cu_map_get_by(&h->runs, hash_key(&k), &k, key_is);
}

static struct started *started_find(const struct hollow *h, const char *job,
                                    uint32_t index)
{
	struct key k = {(char *)job, index, 0};
	return cu_map_get_by(&h->started, hash_key(&k), &k, key_is);
}

static void run_free(struct hollow *h, struct run *r)
{
	ev_timer_stop(h->a->loop, &r->timer);
	cu_map_del_by(&h->runs, hash_key(&r->key), &r->key, key_is);
	free(r->key.job);
	free(r);
}

static void on_done(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct run *r = t->data;
	struct hollow *h = r->h;
	(void)loop;
	(void)revents;
	struct ag_outcome o = {.how = r->stopped ? AG_SIGNALED : AG_EXITED,
	                       .code = r->stopped ? 15 : 0,
	                       .stopped = r->stopped};
	char *job = cu_xstrdup(r->key.job);
	uint32_t index = r->key.index, attempt = r->key.attempt;
	run_free(h, r);
	ag_core_ended(h->a->core, job, index, attempt, &o);
	free(job);
}

static bool last_attempt(void *arg, const char *job, uint32_t index,
                         uint32_t *attempt)
{
	struct started *s = started_find(arg, job, index);
	if (s)
		*attempt = s->attempt;
	return s != NULL;
}

static void remember(struct hollow *h, const char *job, uint32_t index,
                     uint32_t attempt)
{
	struct started *s = started_find(h, job, index);
	if (!s) {
		s = cu_xcalloc(1, sizeof(*s));
		s->key = (struct key){cu_xstrdup(job), index, 0};
		cu_map_put_by(&h->started, hash_key(&s->key), &s->key, s,
		              key_is);
	}
	s->attempt = attempt;
}

static int start(void *arg, const struct ag_run *run, char *errbuf,
                 size_t errlen)
{
	struct hollow *h = arg;
	uint32_t last;
	if (last_attempt(h, run->job, run->index, &last) &&
	    last >= run->attempt) {
		snprintf(errbuf, errlen,
		         "attempt %u of task %s/%u was already started here",
		         run->attempt, run->job, run->index);
		return CC_ESTATE;
	}
	remember(h, run->job, run->index, run->attempt);
	struct run *r = cu_xcalloc(1, sizeof(*r));
	r->h = h;
	r->key = (struct key){cu_xstrdup(run->job), run->index, run->attempt};
	cu_map_put_by(&h->runs, hash_key(&r->key), &r->key, r, key_is);
	ev_timer_init(&r->timer, on_done, (double)run->spec->duration_ms / 1000,
	              0);
	r->timer.data = r;
	ev_timer_start(h->a->loop, &r->timer);
	return 0;
}

/* The end comes on the next turn of the loop, never from inside this. */
static void stop(void *arg, const char *job, uint32_t index, uint32_t attempt)
{
	struct hollow *h = arg;
	struct run *r = run_find(h, job, index, attempt);
	if (!r || r->stopped)
		return;
	r->stopped = true;
	ev_timer_stop(h->a->loop, &r->timer);
	ev_timer_set(&r->timer, 0, 0);
	ev_timer_start(h->a->loop, &r->timer);
}

static void forget_job(void *arg, const char *job)
{
	struct hollow *h = arg;
	size_t it = 0;
	for (struct cu_map_slot *e; (e = cu_map_next(&h->started, &it));) {
		struct started *s = e->value;
		if (strcmp(s->key.job, job))
			continue;
		/* deleting the entry just returned: iteration goes on */
		cu_map_del_by(&h->started, e->hash, &s->key, key_is);
		free(s->key.job);
		free(s);
	}
}

struct hollow *hollow_new(struct agent *a)
{
	struct hollow *h = cu_xcalloc(1, sizeof(*h));
	h->a = a;
	return h;
}

void hollow_exec(struct hollow *h, struct ag_exec *out)
{
	*out = (struct ag_exec){h, start, stop, last_attempt, forget_job};
}

size_t hollow_running(const struct hollow *h)
{
	return h->runs.used;
}

void hollow_free(struct hollow *h)
{
	if (!h)
		return;
	size_t it = 0;
	for (struct cu_map_slot *e; (e = cu_map_next(&h->runs, &it));)
		run_free(h, e->value);
	it = 0;
	for (struct cu_map_slot *e; (e = cu_map_next(&h->started, &it));) {
		struct started *s = e->value;
		free(s->key.job);
		free(s);
	}
	cu_map_destroy(&h->runs);
	cu_map_destroy(&h->started);
	free(h);
}
