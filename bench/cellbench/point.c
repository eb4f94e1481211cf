/* point.c: one point of an experiment on a fresh local cell (see
 * cellbench.h). Its life:
 *   1. start celld voters, hollow agents (1,000 machines each at most,
 *      agent K's machines labelled zone=zK), then the schedulers;
 *   2. prefill: one transaction of cellbench's own puts a `prefill` job
 *      (a class no scheduler serves) on every machine, so the schedulers'
 *      counters start clean and every point starts from the same cell;
 *   3. the window: jobs are submitted when their (scaled) arrival time
 *      comes, open loop, those due together in one transaction;
 *   4. the drain: the cell's job counts are polled until every task was
 *      placed and started, or the drain time is over;
 *   5. the schedulers' and the leader's /metrics, read at the window's
 *      start, at its end and after the drain, give the figures;
 *   6. everything is stopped by pid and its folder removed (lc_stop). */
#include "benchcell.h"
#include "cellbench.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cellcommon.h"

#define AGENT_MACHINES 1000
#define SUBMIT_BATCH   100      /* job_put ops per transaction, at most */
#define POLL_S         0.1      /* drain: job counts read this often */
#define PREFILL_CPU    250      /* 4000m / CB_PREFILL_SLICES */
#define PREFILL_MEM    1024     /* 16384 MiB / CB_PREFILL_SLICES */
#define LONG_MS        86400000 /* runs longer than any point */

/* /metrics of every scheduler (batch ones first) and of the leader. */
struct scrape {
	char *sched[LC_SCHEDS_MAX];
	char *leader;
};

struct run {
	const struct cb_point *p;
	struct lc_cell *cell;
	const char *leader;
	struct cb_job *jobs;
	size_t njobs;
	uint64_t tasks;
	double t0;                    /* real time the window started */
	double window_real;           /* the window as it really lasted */
	double placed_at, running_at; /* real seconds after t0; <0: never */
	uint64_t jobs_placed, tasks_unplaced;
	struct scrape start, end, last;
};

/* ---- the cell ---- */

/* Hollow agent processes: as asked, else one per 1,000 machines. */
static int agent_count(const struct cb_point *p)
{
	return p->agents ? p->agents
	                 : (p->machines + AGENT_MACHINES - 1) / AGENT_MACHINES;
}

static void start_agents(struct run *r)
{
	int n = agent_count(r->p);
	if (n > LC_AGENTS_MAX || n > r->p->machines)
		lc_die("too many agents: at most 8, and a machine each");
	for (int k = 0; k < n; k++) {
		char name[16], count[16], labels[32];
		int share = r->p->machines / n + (k < r->p->machines % n);
		snprintf(name, sizeof(name), "z%d", k + 1);
		snprintf(count, sizeof(count), "%d", share);
		snprintf(labels, sizeof(labels), "zone=z%d", k + 1);
		const char *const extra[] = {"--hollow", count, "--labels",
		                             labels, NULL};
		lc_agent_start(r->cell, name, extra);
	}
}

static void start_sched(struct run *r, const char *class_name, int i,
                        double t_job)
{
	const struct cb_point *p = r->p;
	char name[32], think_job[32], think_task[32], seed[32];
	snprintf(name, sizeof(name), "%s-%d", class_name, i + 1);
	snprintf(think_job, sizeof(think_job), "%.0fus",
	         floor(t_job / p->scale * 1e6 + 0.5));
	snprintf(think_task, sizeof(think_task), "%.0fus",
	         floor(p->t_task / p->scale * 1e6 + 0.5));
	snprintf(seed, sizeof(seed), "%llu",
	         (unsigned long long)(p->seed * 1000 + (uint64_t)i + 1 +
	                              (class_name[0] == 's' ? 500u : 0u)));
	const char *extra[16] = {"--think-job", think_job,  "--think-task",
	                         think_task,    "--detect", p->detect,
	                         "--seed",      seed};
	int n = 8;
	if (p->mode) {
		extra[n++] = "--mode";
		extra[n++] = p->mode;
	}
	extra[n] = NULL;
	lc_sched_start(r->cell, name, class_name, extra);
}

/* Machine names as a hollow agent makes them: NAME-00000 ... */
static void machine_name(const struct cb_point *p, uint32_t i, char *out,
                         size_t len)
{
	int n = agent_count(p);
	uint32_t k = 0, base = 0;
	for (;; k++) {
		uint32_t share = (uint32_t)(p->machines / n) +
		                 (k < (uint32_t)(p->machines % n));
		if (i < base + share)
			break;
		base += share;
	}
	snprintf(out, len, "z%u-%05u", k + 1, i - base);
}

static void prefill(struct run *r)
{
	const struct cb_point *p = r->p;
	uint32_t *counts = cu_xcalloc((size_t)p->machines, sizeof(*counts));
	uint64_t total =
	    cb_prefill_draw((uint32_t)p->machines, p->prefill, p->seed, counts);
	if (total) {
		json_t *ops = json_array();
		json_array_append_new(
		    ops,
		    json_pack("{s:s,s:{s:s,s:s,s:I,s:{s:i,s:i},s:I}}", "op",
		              "job_put", "job", "name", "prefill", "class",
		              "prefill", "tasks", (json_int_t)total,
		              "resources", "cpu", PREFILL_CPU, "memory",
		              PREFILL_MEM, "duration_ms", (json_int_t)LONG_MS));
		uint64_t task = 0;
		char name[32];
		for (uint32_t m = 0; m < (uint32_t)p->machines; m++) {
			machine_name(p, m, name, sizeof(name));
			for (uint32_t k = 0; k < counts[m]; k++)
				json_array_append_new(
				    ops, json_pack("{s:s,s:s,s:I,s:s}", "op",
				                   "place", "job", "prefill",
				                   "task", (json_int_t)task++,
				                   "machine", name));
		}
		lc_post_txn(r->cell, ops, "prefill");
	}
	free(counts);
}

/* ---- metrics ---- */

static char *get_metrics(const char *base)
{
	char url[128], *body = NULL;
	snprintf(url, sizeof(url), "%s/metrics", base);
	if (lc_http("GET", url, NULL, &body) != 200)
		lc_die("a daemon stopped answering /metrics");
	return body;
}

static void scrape(struct run *r, struct scrape *s)
{
	for (int i = 0; i < r->cell->nsched; i++)
		s->sched[i] = get_metrics(r->cell->s[i].url);
	s->leader = get_metrics(r->leader);
}

static void scrape_free(const struct run *r, struct scrape *s)
{
	for (int i = 0; i < r->cell->nsched; i++)
		free(s->sched[i]);
	free(s->leader);
}

static double delta(const char *a, const char *b, const char *name,
                    const char *label)
{
	return cb_prom_sum(b, name, label) - cb_prom_sum(a, name, label);
}

static void hist_delta(struct cb_hist *sum, const char *a, const char *b,
                       const char *name)
{
	struct cb_hist ha, hb;
	if (!cb_prom_hist(a, name, &ha) || !cb_prom_hist(b, name, &hb))
		lc_die("a histogram is missing from /metrics");
	if (!cb_hist_add(sum, &hb, 1) || !cb_hist_add(sum, &ha, -1))
		lc_die("histograms with different buckets");
}

/* ---- the workload ---- */

static json_t *job_op(const struct cb_job *j, size_t i, double scale)
{
	char name[32];
	snprintf(name, sizeof(name), "%c-%06zu", j->service ? 's' : 'b', i);
	double ms = j->duration / scale * 1e3;
	json_t *spec =
	    json_pack("{s:s,s:s,s:i,s:{s:i,s:i},s:I}", "name", name, "class",
	              j->service ? "service" : "batch", "tasks", (int)j->tasks,
	              "resources", "cpu", (int)j->cpu, "memory", (int)j->mem,
	              "duration_ms", (json_int_t)(ms < 1 ? 1 : ms));
	if (j->zone) {
		char zone[16];
		snprintf(zone, sizeof(zone), "z%u", j->zone);
		json_object_set_new(
		    spec, "constraints",
		    json_pack("{s:{s:s}}", "labels", "zone", zone));
	}
	return json_pack("{s:s,s:o}", "op", "job_put", "job", spec);
}

/* Submits every job whose time has come, SUBMIT_BATCH per transaction;
 * sleeps until the next one is due. Returns when all are in and the
 * window is over. */
static void drive(struct run *r)
{
	const struct cb_point *p = r->p;
	size_t next = 0;
	double window = p->load.window / p->scale;
	r->t0 = lc_now();
	for (;;) {
		double now = lc_now() - r->t0;
		if (next < r->njobs && r->jobs[next].at / p->scale <= now) {
			json_t *ops = json_array();
			while (next < r->njobs &&
			       r->jobs[next].at / p->scale <= now &&
			       json_array_size(ops) < SUBMIT_BATCH) {
				json_array_append_new(
				    ops,
				    job_op(&r->jobs[next], next, p->scale));
				next++;
			}
			lc_post_txn(r->cell, ops, "submitting jobs");
			continue;
		}
		if (next == r->njobs && now >= window)
			break;
		double due =
		    next < r->njobs ? r->jobs[next].at / p->scale : window;
		double nap = fmin(due - now, 0.02);
		if (nap > 0)
			usleep((useconds_t)(nap * 1e6));
	}
	r->window_real = lc_now() - r->t0;
}

/* One look at the cell: jobs fully placed, tasks still pending, tasks
 * still pending or assigned (not yet started by their agent). */
static void count_jobs(struct run *r, uint64_t *waiting)
{
	char url[160], *body = NULL;
	snprintf(url, sizeof(url), "%s/v1/jobs?limit=1000000", r->leader);
	if (lc_http("GET", url, NULL, &body) != 200)
		lc_die("the leader stopped answering /v1/jobs");
	json_t *all = json_loads(body, 0, NULL), *job;
	free(body);
	json_t *jobs = json_object_get(all, "jobs");
	size_t i;
	r->jobs_placed = r->tasks_unplaced = *waiting = 0;
	json_array_foreach (jobs, i, job) {
		const char *name = json_string_value(
		    json_object_get(json_object_get(job, "spec"), "name"));
		if (!name || !strcmp(name, "prefill"))
			continue;
		json_t *counts = json_object_get(job, "counts");
		json_int_t pending =
		    json_integer_value(json_object_get(counts, "pending"));
		json_int_t assigned =
		    json_integer_value(json_object_get(counts, "assigned"));
		r->jobs_placed += pending == 0;
		r->tasks_unplaced += (uint64_t)pending;
		*waiting += (uint64_t)(pending + assigned);
	}
	json_decref(all);
}

static void drain(struct run *r)
{
	const struct cb_point *p = r->p;
	double until = lc_now() + fmax(p->drain / p->scale, p->drain_min_real);
	uint64_t waiting;
	r->placed_at = r->running_at = -1;
	for (;;) {
		count_jobs(r, &waiting);
		double now = lc_now() - r->t0;
		if (r->placed_at < 0 && r->tasks_unplaced == 0)
			r->placed_at = now;
		if (waiting == 0) {
			r->running_at = now;
			return;
		}
		if (lc_now() >= until)
			return;
		usleep((useconds_t)(POLL_S * 1e6));
	}
}

/* ---- the row ---- */

static double ratio(double a, double b)
{
	return b > 0 ? a / b : (a > 0 ? INFINITY : 0);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void busyness(struct run *r, struct cb_row *row)
{
	const struct cb_point *p = r->p;
	double busy[LC_SCHEDS_MAX];
	int nb = p->batch_scheds;
	for (int i = 0; i < r->cell->nsched; i++)
		busy[i] = delta(r->start.sched[i], r->end.sched[i],
		                "cellsched_busy_seconds_total", NULL) /
		          r->window_real;
	if (nb) {
		qsort(busy, (size_t)nb, sizeof(double), by_value);
		double med = nb % 2 ? busy[nb / 2]
		                    : (busy[nb / 2 - 1] + busy[nb / 2]) / 2;
		cb_row_setd(row, CB_busy_batch_median, med);
		cb_row_setd(row, CB_busy_batch_min, busy[0]);
		cb_row_setd(row, CB_busy_batch_max, busy[nb - 1]);
	}
	if (p->service_scheds) {
		double sum = 0, est = 0;
		for (int i = nb; i < r->cell->nsched; i++)
			sum += busy[i];
		cb_row_setd(row, CB_busy_service, sum / p->service_scheds);
		for (size_t i = 0; i < r->njobs; i++)
			if (r->jobs[i].service)
				est += p->service_t_job +
				       r->jobs[i].tasks * p->t_task;
		cb_row_setd(row, CB_busy_service_estimate,
		            est / p->load.window / p->service_scheds);
	}
}

/* Conflicted and successful transactions of schedulers [from, to). */
static void txn_counts(struct run *r, int from, int to, double *txns,
                       double *conflicted, double *progress)
{
	*txns = *conflicted = *progress = 0;
	for (int i = from; i < to; i++) {
		const char *a = r->start.sched[i], *b = r->last.sched[i];
		const char *n = "cellsched_txns_total";
		double committed = delta(a, b, n, "outcome=\"committed\"");
		double partial = delta(a, b, n, "outcome=\"partial\"");
		double rejected = delta(a, b, n, "outcome=\"rejected\"");
		*txns += committed + partial + rejected +
		         delta(a, b, n, "outcome=\"error\"");
		*conflicted += partial + rejected;
		*progress += committed + partial;
	}
}

static void conflicts(struct run *r, struct cb_row *row)
{
	int nb = r->p->batch_scheds, all = r->cell->nsched;
	double txns, conflicted, progress, tried = 0, rejected = 0;
	txn_counts(r, 0, all, &txns, &conflicted, &progress);
	cb_row_setf(row, CB_txns, "%.0f", txns);
	cb_row_setf(row, CB_txns_conflicted, "%.0f", conflicted);
	cb_row_setd(row, CB_conflict_fraction, ratio(conflicted, progress));
	if (nb) {
		txn_counts(r, 0, nb, &txns, &conflicted, &progress);
		cb_row_setd(row, CB_conflict_fraction_batch,
		            ratio(conflicted, progress));
	}
	if (all > nb) {
		txn_counts(r, nb, all, &txns, &conflicted, &progress);
		cb_row_setd(row, CB_conflict_fraction_service,
		            ratio(conflicted, progress));
	}
	for (int i = 0; i < all; i++) {
		tried += delta(r->start.sched[i], r->last.sched[i],
		               "cellsched_places_tried_total", NULL);
		rejected += delta(r->start.sched[i], r->last.sched[i],
		                  "cellsched_places_rejected_total", NULL);
	}
	cb_row_setd(row, CB_task_conflict_fraction, ratio(rejected, tried));
}

static void latencies(struct run *r, struct cb_row *row)
{
	double scale = r->p->scale;
	struct cb_hist wait = {0}, commit = {0};
	for (int i = 0; i < r->cell->nsched; i++)
		hist_delta(&wait, r->start.sched[i], r->last.sched[i],
		           "cellsched_job_wait_seconds");
	if (wait.count > 0) {
		cb_row_setd(row, CB_wait_mean_s, wait.sum / wait.count * scale);
		cb_row_setd(row, CB_wait_p90_s,
		            cb_hist_quantile(&wait, 0.9) * scale);
	}
	hist_delta(&commit, r->start.leader, r->last.leader,
	           "cell_commit_latency_seconds");
	cb_row_setd(row, CB_commit_p50_ms,
	            cb_hist_quantile(&commit, 0.5) * 1e3);
	cb_row_setd(row, CB_commit_p99_ms,
	            cb_hist_quantile(&commit, 0.99) * 1e3);
}

static void counts(struct run *r, struct cb_row *row)
{
	const struct cb_point *p = r->p;
	double placed = 0, window_placed = 0;
	for (int i = 0; i < r->cell->nsched; i++) {
		placed += delta(r->start.sched[i], r->last.sched[i],
		                "cellsched_tasks_placed_total", NULL);
		window_placed += delta(r->start.sched[i], r->end.sched[i],
		                       "cellsched_tasks_placed_total", NULL);
	}
	cb_row_setf(row, CB_jobs_submitted, "%zu", r->njobs);
	cb_row_setf(row, CB_tasks_submitted, "%llu",
	            (unsigned long long)r->tasks);
	cb_row_setf(row, CB_jobs_placed, "%llu",
	            (unsigned long long)r->jobs_placed);
	cb_row_setf(row, CB_jobs_never_placed, "%llu",
	            (unsigned long long)(r->njobs - r->jobs_placed));
	cb_row_setf(row, CB_tasks_placed, "%llu",
	            (unsigned long long)(r->tasks - r->tasks_unplaced));
	cb_row_setf(row, CB_tasks_never_placed, "%llu",
	            (unsigned long long)r->tasks_unplaced);
	if (p->load.window > 0) {
		cb_row_setd(row, CB_offered_tasks_per_s,
		            (double)r->tasks / p->load.window);
		cb_row_setd(row, CB_placements_per_s,
		            window_placed / r->window_real / p->scale);
	} else if (r->placed_at > 0) {
		cb_row_setd(row, CB_placements_per_s,
		            placed / r->placed_at / p->scale);
	}
	if (p->load.burst_jobs && r->placed_at >= 0)
		cb_row_setd(row, CB_all_placed_s, r->placed_at * p->scale);
	if (p->load.burst_jobs && r->running_at >= 0) {
		cb_row_setd(row, CB_all_running_s, r->running_at * p->scale);
		cb_row_setd(row, CB_running_tasks_per_s,
		            (double)r->tasks / (r->running_at * p->scale));
	}
}

static void settings(const struct cb_point *p, struct cb_row *row)
{
	cb_row_set(row, CB_run, p->run);
	cb_row_set(row, CB_experiment, p->experiment);
	cb_row_setf(row, CB_point, "%d", p->index);
	cb_row_setf(row, CB_seed, "%llu", (unsigned long long)p->seed);
	cb_row_setd(row, CB_time_scale, p->scale);
	cb_row_setf(row, CB_voters, "%d", p->voters);
	cb_row_setf(row, CB_machines, "%d", p->machines);
	cb_row_setf(row, CB_batch_scheds, "%d", p->batch_scheds);
	cb_row_setf(row, CB_service_scheds, "%d", p->service_scheds);
	cb_row_set(row, CB_detect, p->detect);
	cb_row_set(row, CB_mode, p->mode ? p->mode : "policy");
	cb_row_setd(row, CB_batch_t_job_s, p->batch_t_job);
	if (p->service_scheds)
		cb_row_setd(row, CB_service_t_job_s, p->service_t_job);
	cb_row_setd(row, CB_t_task_s, p->t_task);
	cb_row_setd(row, CB_batch_jobs_per_s, p->load.batch.rate);
	cb_row_setd(row, CB_service_jobs_per_s, p->load.service.rate);
	cb_row_setd(row, CB_window_s, p->load.window);
	cb_row_set(row, CB_command, p->command);
}

void cb_point_run(const struct cb_point *p, struct cb_row *row)
{
	double started = lc_now();
	struct run r = {.p = p};
	cb_row_clear(row);
	r.njobs = cb_workload_draw(&p->load, p->seed, &r.jobs);
	for (size_t i = 0; i < r.njobs; i++)
		r.tasks += r.jobs[i].tasks;
	/* a replica learns of a commit from the leader's next message, so
	 * the heartbeat bounds how stale a scheduler's view is when idle */
	const char *const celld[] = {"--heartbeat-timeout", p->raft_heartbeat,
	                             NULL};
	r.cell = lc_start(p->voters, celld);
	r.leader = lc_leader(r.cell);
	start_agents(&r);
	for (int i = 0; i < p->batch_scheds; i++)
		start_sched(&r, "batch", i, p->batch_t_job);
	for (int i = 0; i < p->service_scheds; i++)
		start_sched(&r, "service", i, p->service_t_job);
	prefill(&r);
	scrape(&r, &r.start);
	drive(&r);
	scrape(&r, &r.end);
	drain(&r);
	scrape(&r, &r.last);
	settings(p, row);
	counts(&r, row);
	busyness(&r, row);
	conflicts(&r, row);
	latencies(&r, row);
	scrape_free(&r, &r.start);
	scrape_free(&r, &r.end);
	scrape_free(&r, &r.last);
	lc_stop(r.cell);
	free(r.jobs);
	cb_row_setd(row, CB_wall_s, lc_now() - started);
}
