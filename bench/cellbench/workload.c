/* workload.c: the synthetic workload (see cellbench.h). Pure: the same
 * parameters and seed give the same jobs, bit for bit, on any machine
 * (only IEEE arithmetic and log(), which glibc rounds correctly). */
#include "cellbench.h"

#include <math.h>
#include <stdlib.h>

#include "cellcommon.h"
#include "cellutil.h"

static double exponential(uint64_t *s, double mean)
{
	return -mean * log(cu_rand_unit(s));
}

static uint32_t task_count(uint64_t *s, const struct cb_class *c)
{
	/* 1 + exponential(mean - 1), rounded, so the mean is tasks_mean */
	double extra =
	    c->tasks_mean > 1 ? exponential(s, c->tasks_mean - 1) : 0;
	double n = 1 + floor(extra + 0.5);
	return n > c->tasks_max ? c->tasks_max : (uint32_t)n;
}

static void request(uint64_t *s, const struct cb_class *c, struct cb_job *j)
{
	j->cpu = c->cpu[cu_rand(s) % 4];
	j->mem = c->mem[cu_rand(s) % 4];
}

struct jobs {
	struct cb_job *v;
	size_t n, cap;
};

static struct cb_job *add(struct jobs *js)
{
	if (js->n == js->cap)
		js->v =
		    cu_xrealloc(js->v, (js->cap = js->cap ? js->cap * 2 : 64) *
		                           sizeof(*js->v));
	struct cb_job *j = &js->v[js->n++];
	*j = (struct cb_job){0};
	return j;
}

/* One class's Poisson arrivals over the window. */
static void arrivals(struct jobs *js, uint64_t *s, const struct cb_class *c,
                     double window, bool service)
{
	if (c->rate <= 0)
		return;
	for (double t = exponential(s, 1 / c->rate); t < window;
	     t += exponential(s, 1 / c->rate)) {
		struct cb_job *j = add(js);
		j->at = t;
		j->service = service;
		j->tasks = task_count(s, c);
		request(s, c, j);
		j->duration = fmax(1.0, exponential(s, c->duration_mean));
	}
}

static int by_arrival(const void *a, const void *b)
{
	const struct cb_job *x = a, *y = b;
	return (x->at > y->at) - (x->at < y->at);
}

size_t cb_workload_draw(const struct cb_workload *w, uint64_t seed,
                        struct cb_job **jobs)
{
	struct jobs js = {0};
	uint64_t s = seed ? seed : 0x9E3779B97F4A7C15ull;
	for (uint32_t i = 0; i < w->burst_jobs; i++) {
		struct cb_job *j = add(&js);
		j->tasks = w->burst_tasks;
		request(&s, &w->batch, j);
		j->duration = w->batch.duration_mean;
	}
	/* each class draws from its own stream, so changing one class's rate
	 * leaves the other's jobs as they were */
	uint64_t sb = s ^ 0xB5297A4D3F84D5B5ull, ss = s ^ 0x68E31DA4A1D1E6F7ull;
	arrivals(&js, &sb, &w->batch, w->window, false);
	arrivals(&js, &ss, &w->service, w->window, true);
	/* the burst comes first, in draw order; arrival times are drawn from
	 * a continuous distribution, so they do not tie */
	qsort(js.v + w->burst_jobs, js.n - w->burst_jobs, sizeof(*js.v),
	      by_arrival);
	for (size_t i = 0; w->zones && i < js.n; i++)
		js.v[i].zone = (uint32_t)(i % w->zones) + 1;
	*jobs = js.v;
	return js.n;
}

uint64_t cb_prefill_draw(uint32_t machines, double share, uint64_t seed,
                         uint32_t *counts)
{
	uint64_t s = (seed ? seed : 1) ^ 0xD1B54A32D192ED03ull, total = 0;
	for (uint32_t i = 0; i < machines; i++) {
		double k = floor(share * CB_PREFILL_SLICES + 0.5) +
		           (double)(cu_rand(&s) % 5) - 2;
		if (share <= 0)
			k = 0;
		counts[i] = (uint32_t)fmin(fmax(k, 0), CB_PREFILL_SLICES);
		total += counts[i];
	}
	return total;
}
