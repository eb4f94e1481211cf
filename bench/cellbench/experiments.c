/* experiments.c: the experiments as lists of points (see cellbench.h) and
 * the progress line. The workloads follow the Omega paper's two classes;
 * rates and sizes were chosen so that a point fits this 2-core machine
 * (the README's cellbench section gives the reasoning for each). */
#include "benchcell.h"
#include "cellbench.h"
#include "dataset.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cellcommon.h"

static const uint32_t batch_cpu[4] = {100, 250, 250, 500};
static const uint32_t batch_mem[4] = {256, 512, 512, 1024};
static const uint32_t service_cpu[4] = {500, 1000, 1000, 2000};
static const uint32_t service_mem[4] = {1024, 2048, 2048, 4096};
static const uint32_t tiny_cpu[4] = {10, 10, 10, 10};
static const uint32_t tiny_mem[4] = {32, 32, 32, 32};

#define MAX_POINTS 64

struct plan {
	struct cb_point pts[MAX_POINTS];
	int n;
	/* latency: stop after the first point that saturates */
	bool stop_at_saturation;
	double scales[2]; /* default time scales, each point run at each */
	size_t nscales;
};

static void scales(struct plan *pl, double a, double b)
{
	pl->scales[0] = a;
	pl->scales[1] = b;
	pl->nscales = b > 0 ? 2 : 1;
}

/* The Omega-style base: 1,000 machines prefilled to 60%, one batch
 * scheduler with t_job 0.1 s and t_task 5 ms (the paper's batch figures),
 * a batch job a second of 40 tasks on average running a minute, so the
 * cell keeps changing under a slow service scheduler. */
static struct cb_point omega_base(const struct cb_options *o)
{
	struct cb_point p = {.seed = o->seed,
	                     .voters = 3,
	                     .machines = 1000,
	                     .batch_scheds = 1,
	                     .detect = "fine",
	                     .batch_t_job = 0.1,
	                     .t_task = 0.005,
	                     .prefill = 0.6,
	                     .drain_min_real = 2};
	p.load.batch = (struct cb_class){.rate = 1,
	                                 .tasks_mean = 40,
	                                 .tasks_max = 1000,
	                                 .duration_mean = 60,
	                                 .cpu = batch_cpu,
	                                 .mem = batch_mem};
	p.load.service = (struct cb_class){.rate = 1.0 / 30,
	                                   .tasks_mean = 8,
	                                   .tasks_max = 100,
	                                   .duration_mean = 1e6,
	                                   .cpu = service_cpu,
	                                   .mem = service_mem};
	p.load.window = 600;
	p.drain = 150;
	if (o->smoke) {
		p.voters = 1;
		p.machines = 100;
		p.load.window = 300;
		p.drain = 30;
		p.drain_min_real = 0.5;
		p.load.batch.rate = 0.05;
		p.load.service.rate = 1.0 / 60;
	}
	return p;
}

static void add(struct plan *pl, const struct cb_point *p)
{
	if (pl->n < MAX_POINTS)
		pl->pts[pl->n++] = *p;
}

/* Fig. 12: the service scheduler's t_job swept, batch held fixed. */
static void omega_tjob(struct plan *pl, const struct cb_options *o)
{
	static const double full[] = {0.1, 0.3, 1, 3, 10, 30, 100};
	static const double smoke[] = {0.1, 10};
	struct cb_point p = omega_base(o);
	p.service_scheds = 1;
	/* two scales: the conflict fraction must not depend on it */
	scales(pl, o->smoke ? 200 : 20, o->smoke ? 0 : 40);
	const double *t = o->smoke ? smoke : full;
	size_t n = o->smoke ? 2 : 7;
	for (size_t i = 0; i < n; i++) {
		p.service_t_job = t[i];
		add(pl, &p);
	}
}

/* Batch load that keeps one scheduler about busy all the time:
 * lambda x (t_job + 40 x t_task) = 3.3 x 0.3 s ~ 1. Shorter tasks keep
 * the cell from filling up at that rate. */
static struct cb_point saturating_batch(const struct cb_options *o)
{
	struct cb_point p = omega_base(o);
	p.load.batch.rate = o->smoke ? 0.5 : 3.3;
	p.load.batch.duration_mean = 30;
	p.load.service.rate = 0;
	p.load.window = o->smoke ? 60 : 300;
	p.drain = o->smoke ? 10 : 60;
	return p;
}

static void omega_nsched(struct plan *pl, const struct cb_options *o)
{
	static const int full[] = {1, 2, 4, 8, 16, 32};
	static const int smoke[] = {1, 4};
	struct cb_point p = saturating_batch(o);
	scales(pl, o->smoke ? 50 : 20, 0);
	const int *k = o->smoke ? smoke : full;
	size_t n = o->smoke ? 2 : 6;
	for (size_t i = 0; i < n; i++) {
		p.batch_scheds = k[i];
		add(pl, &p);
	}
}

static void omega_modes(struct plan *pl, const struct cb_options *o)
{
	static const char *const detect[] = {"fine", "coarse"};
	static const char *const mode[] = {"incremental", "all_or_nothing"};
	struct cb_point p = saturating_batch(o);
	p.batch_scheds = 4;
	scales(pl, o->smoke ? 50 : 20, 0);
	for (int m = 0; m < 2; m++)
		for (int d = 0; d < 2; d++) {
			p.detect = detect[d];
			p.mode = mode[m];
			add(pl, &p);
		}
}

/* Nomad's C1M: 1,000 jobs of 1,000 tasks on 5,000 machines, each job
 * constrained to one of five zones, four batch schedulers, no think time. */
static void c1m(struct plan *pl, const struct cb_options *o)
{
	struct cb_point p = {.seed = o->seed,
	                     .voters = 3,
	                     .machines = 5000,
	                     .batch_scheds = 4,
	                     .detect = "fine",
	                     .drain = 600,
	                     .drain_min_real = 0};
	p.load.batch = (struct cb_class){
	    .duration_mean = 3600, .cpu = tiny_cpu, .mem = tiny_mem};
	p.load.burst_jobs = 1000;
	p.load.burst_tasks = 1000;
	p.load.zones = 5;
	p.agents = 5; /* zone zK is agent K's machines */
	if (o->smoke) {
		p.voters = 1;
		p.machines = 100;
		p.batch_scheds = 2;
		p.load.burst_jobs = 10;
		p.load.burst_tasks = 100;
		p.drain = 30;
	}
	scales(pl, 1, 0);
	add(pl, &p);
}

/* Offered load doubling until the cell saturates: batch jobs of 100 tiny
 * one-second tasks on 1,000 empty machines, two batch schedulers, no
 * think time, in real time. */
static void latency(struct plan *pl, const struct cb_options *o)
{
	static const double full[] = {1000,  2000,  5000,   10000, 20000,
	                              40000, 80000, 160000, 320000};
	static const double smoke[] = {1000, 2000};
	struct cb_point p = {.seed = o->seed,
	                     .voters = 3,
	                     .machines = 1000,
	                     .batch_scheds = 2,
	                     .detect = "fine",
	                     .drain = 5,
	                     .drain_min_real = 1};
	p.load.batch = (struct cb_class){.tasks_mean = 100,
	                                 .tasks_max = 1000,
	                                 .duration_mean = 1,
	                                 .cpu = tiny_cpu,
	                                 .mem = tiny_mem};
	p.load.window = 5;
	if (o->smoke) {
		p.voters = 1;
		p.machines = 100;
		p.load.window = 1;
	}
	scales(pl, 1, 0);
	const double *rate = o->smoke ? smoke : full;
	size_t n = o->smoke ? 2 : sizeof(full) / sizeof(full[0]);
	for (size_t i = 0; i < n; i++) {
		p.load.batch.rate = rate[i] / p.load.batch.tasks_mean;
		add(pl, &p);
	}
	pl->stop_at_saturation = true;
}

typedef void (*plan_fn)(struct plan *, const struct cb_options *);

static const struct {
	const char *name;
	plan_fn fn;
	const char *what;
} table[] = {
    {"omega-tjob", omega_tjob,
     "service scheduler t_job 0.1..100 s, batch fixed: busyness and "
     "conflicts (Omega Fig. 12)"},
    {"omega-nsched", omega_nsched,
     "1..32 batch schedulers sharing a saturating batch load"},
    {"omega-modes", omega_modes,
     "fine vs coarse detection, incremental vs all-or-nothing"},
    {"c1m", c1m, "1,000,000 tasks in 1,000 jobs on 5,000 hollow machines"},
    {"latency", latency,
     "commit latency at doubling offered load until saturation"},
};

const char *const cb_experiments[] = {
    "omega-tjob", "omega-nsched", "omega-modes", "c1m", "latency", NULL};

const char *cb_experiments_help(void)
{
	static char buf[1024];
	buf[0] = 0;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		         "  %-13s %s\n", table[i].name, table[i].what);
	return buf;
}

/* ---- running ---- */

static void iso_now(char *out, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void progress(const char *name, int done, int total, double elapsed)
{
	double left = done ? elapsed / done * (total - done) : NAN;
	char eta[32] = "?";
	if (isfinite(left))
		snprintf(eta, sizeof(eta), "%.0f s", left);
	fprintf(stderr,
	        "cellbench %s: %d/%d points done, %.0f s elapsed, "
	        "about %s left\n",
	        name, done, total, elapsed, eta);
}

static int make_dir(const char *dir)
{
	char path[512];
	snprintf(path, sizeof(path), "%s", dir);
	for (char *p = path + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(path, 0755);
			*p = '/';
		}
	if (mkdir(path, 0755) && errno != EEXIST) {
		fprintf(stderr, "cellbench: --out %s: %s\n", dir,
		        strerror(errno));
		return -1;
	}
	return 0;
}

static int run_plan(const char *name, struct plan *pl,
                    const struct cb_options *o, const char *csv)
{
	char run[32], err[CC_ERRMSG_SIZE];
	iso_now(run, sizeof(run));
	int total = pl->n * (int)o->nscales, done = 0;
	double t0 = lc_now();
	progress(name, 0, total, 0);
	for (int i = 0; i < pl->n; i++)
		for (size_t s = 0; s < o->nscales; s++) {
			struct cb_point p = pl->pts[i];
			struct cb_row row = {0};
			p.experiment = name;
			p.index = i;
			p.scale = o->scales[s];
			p.command = o->command;
			p.raft_heartbeat = o->raft_heartbeat;
			p.run = run;
			cb_point_run(&p, &row);
			int rc = cb_csv_append(csv, &row, err, sizeof(err));
			bool stop =
			    pl->stop_at_saturation && cb_row_saturated(&row);
			cb_row_clear(&row);
			if (rc) {
				fprintf(stderr, "cellbench: %s\n", err);
				return 1;
			}
			progress(name, ++done, total, lc_now() - t0);
			if (stop && s + 1 == o->nscales) {
				fprintf(stderr,
				        "cellbench %s: saturated at "
				        "point %d; stopping\n",
				        name, i);
				return 0;
			}
		}
	return 0;
}

static void apply_options(struct plan *pl, const struct cb_options *o)
{
	for (int i = 0; i < pl->n; i++) {
		struct cb_point *p = &pl->pts[i];
		if (o->voters)
			p->voters = o->voters;
		if (o->machines)
			p->machines = o->machines;
		if (o->window > 0 && p->load.window > 0)
			p->load.window = o->window;
	}
}

int cb_experiment_run(const char *name, const struct cb_options *o)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (strcmp(table[i].name, name))
			continue;
		static struct plan pl;
		memset(&pl, 0, sizeof(pl));
		table[i].fn(&pl, o);
		apply_options(&pl, o);
		struct cb_options use = *o;
		if (!use.nscales) {
			use.scales = pl.scales;
			use.nscales = pl.nscales;
		}
		char csv[600];
		if (make_dir(o->out_dir))
			return 1;
		snprintf(csv, sizeof(csv), "%s/%s.csv", o->out_dir, name);
		bench_init(o->bin_dir);
		return run_plan(name, &pl, &use, csv);
	}
	fprintf(stderr,
	        "cellbench: unknown experiment \"%s\"; expected one of:\n%s",
	        name, cb_experiments_help());
	return 1;
}
