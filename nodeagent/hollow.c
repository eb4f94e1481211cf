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

#include "hmap.h"

struct run {
	struct hnode node; /* in h->runs, by (job, index, attempt) */
	ev_timer timer;
	struct hollow *h;
	char *job; /* owned */
	uint32_t index, attempt;
	bool stopped;
};

struct started {           /* the highest attempt started, per task */
	struct hnode node; /* in h->started, by (job, index) */
	char *job;         /* owned */
	uint32_t index, attempt;
};

struct hollow {
	struct agent *a;
	struct hmap runs, started;
};

struct key {
	const char *job;
	uint32_t index, attempt;
};

static uint64_t hash_key(const char *job, uint32_t index, uint32_t attempt)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const char *p = job; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	h = (h ^ index) * 0x100000001b3ull;
	return (h ^ attempt) * 0x100000001b3ull;
}

static bool run_is(const struct hnode *n, const void *key)
{
	const struct run *r = (const struct run *)n;
	const struct key *k = key;
	return r->index == k->index && r->attempt == k->attempt &&
	       !strcmp(r->job, k->job);
}

static bool started_is(const struct hnode *n, const void *key)
{
	const struct started *s = (const struct started *)n;
	const struct key *k = key;
	return s->index == k->index && !strcmp(s->job, k->job);
}

static struct run *run_find(const struct hollow *h, const char *job,
                            uint32_t index, uint32_t attempt)
{
	struct key k = {job, index, attempt};
	return (struct run *)hmap_find(&h->runs, hash_key(job, index, attempt),
	                               run_is, &k);
}

static struct started *started_find(const struct hollow *h, const char *job,
                                    uint32_t index)
{
	struct key k = {job, index, 0};
	return (struct started *)hmap_find(&h->started, hash_key(job, index, 0),
	                                   started_is, &k);
}

static void run_free(struct hollow *h, struct run *r)
{
	ev_timer_stop(h->a->loop, &r->timer);
	hmap_del(&h->runs, &r->node);
	free(r->job);
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
	char *job = cu_xstrdup(r->job);
	uint32_t index = r->index, attempt = r->attempt;
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
		s->job = cu_xstrdup(job);
		s->index = index;
		s->node.hash = hash_key(job, index, 0);
		hmap_add(&h->started, &s->node);
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
	r->job = cu_xstrdup(run->job);
	r->index = run->index;
	r->attempt = run->attempt;
	r->node.hash = hash_key(run->job, run->index, run->attempt);
	hmap_add(&h->runs, &r->node);
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
	for (size_t b = 0; b < h->started.nb; b++)
		for (struct hnode *n = h->started.b[b], *next; n; n = next) {
			struct started *s = (struct started *)n;
			next = n->next;
			if (strcmp(s->job, job))
				continue;
			hmap_del(&h->started, n);
			free(s->job);
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
	return h->runs.n;
}

void hollow_free(struct hollow *h)
{
	if (!h)
		return;
	for (size_t b = 0; b < h->runs.nb; b++)
		while (h->runs.b[b])
			run_free(h, (struct run *)h->runs.b[b]);
	for (size_t b = 0; b < h->started.nb; b++)
		for (struct hnode *n = h->started.b[b], *next; n; n = next) {
			next = n->next;
			free(((struct started *)n)->job);
			free(n);
		}
	hmap_destroy(&h->runs);
	hmap_destroy(&h->started);
	free(h);
}
