/* cellbench.h: the benchmark harness (ARCHITECTURE.md §6), the whole API of the
 * cellbench library:
 *
 *   - workload.c  the synthetic workload: seeded job arrivals, sizes,
 *                 durations and requests (pure: no clock, no I/O);
 *   - prom.c      reading the daemons' /metrics (Prometheus text):
 *                 sums of samples, histograms and their quantiles;
 *   - point.c     one point: a fresh local cell, prefill, the workload,
 *                 the metrics, tear-down, one CSV row;
 *   - experiments.c  the experiments as lists of points, the progress line;
 *   - results.c   the CSV rows (results.h); plot.c and friends: charts and
 *                 bench/RESULTS.md (plot.h).
 *
 * Time: the workload is written in cell time (seconds); a point divides
 * every duration by its time scale before anything real happens, and
 * multiplies what it measures back. Memory: allocation failure aborts. */
#ifndef CELL_BENCH_CELLBENCH_H
#define CELL_BENCH_CELLBENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "results.h"

/* ---- workload -------------------------------------------------------------
 * Two job classes, as in the Omega paper: many batch jobs of many short
 * tasks, fewer service jobs of few long tasks. Arrivals of each class are a
 * Poisson process; sizes and durations are exponential (a job has at least
 * one task and runs at least one second); requests are drawn from a small
 * menu per class. Everything comes from one seed (xorshift64*). */
struct cb_class {
	double rate;          /* jobs per cell second; 0: none of the class */
	double tasks_mean;    /* mean tasks per job (>= 1) */
	uint32_t tasks_max;   /* cap on a job's tasks */
	double duration_mean; /* mean task runtime, cell seconds */
	const uint32_t *cpu;  /* menu of cpu requests (millicores), 4 entries */
	const uint32_t *mem;  /* menu of memory requests (MiB), 4 entries */
};

struct cb_workload {
	struct cb_class batch, service;
	double window; /* arrivals happen in [0, window) cell seconds */
	/* A burst instead of arrivals (c1m): burst_jobs batch jobs of
	 * burst_tasks tasks each, all at time 0, with batch's requests and
	 * duration_mean as a fixed runtime. */
	uint32_t burst_jobs, burst_tasks;
	uint32_t zones; /* >0: job i is constrained to zone (i % zones) + 1 */
};

struct cb_job {
	double at; /* arrival, cell seconds from the window's start */
	bool service;
	uint32_t tasks;
	uint32_t cpu, mem; /* per task: millicores, MiB */
	double duration;   /* per task, cell seconds */
	uint32_t zone;     /* 0: no constraint; else labels zone=zK */
};

/* The jobs of w drawn from seed, in arrival order. *jobs is malloc'd.
 * The same w and seed give the same jobs on every machine. */
size_t cb_workload_draw(const struct cb_workload *w, uint64_t seed,
                        struct cb_job **jobs);

/* Prefill: how many tasks of 1/CB_PREFILL_SLICES of a machine (cpu and
 * memory) each of `machines` machines gets so that on average `share` of
 * it is taken: share x slices, plus or minus up to 2 at random, within
 * 0..slices. counts has machines entries. Returns the total. */
#define CB_PREFILL_SLICES 16
uint64_t cb_prefill_draw(uint32_t machines, double share, uint64_t seed,
                         uint32_t *counts);

/* ---- Prometheus text ------------------------------------------------------*/
/* The sum of the samples named `name` (exactly: "x" does not match
 * "x_total") whose label set contains `label` (such as outcome="partial";
 * NULL: any). 0 when there are none. */
double cb_prom_sum(const char *text, const char *name, const char *label);

#define CB_HIST_MAX 128
/* A histogram as cumulative bucket counts; le[n-1] is +Inf. */
struct cb_hist {
	size_t n;
	double le[CB_HIST_MAX];
	double cum[CB_HIST_MAX];
	double sum, count;
};
/* Reads histogram `name` (its _bucket, _sum and _count samples); false when
 * the text has none. */
bool cb_prom_hist(const char *text, const char *name, struct cb_hist *h);
/* a += sign * b, bucket by bucket; the bounds must be the same (false and
 * nothing changed otherwise; an empty a takes b's bounds). */
bool cb_hist_add(struct cb_hist *a, const struct cb_hist *b, int sign);
/* The q-quantile (0..1) interpolated linearly inside its bucket, as
 * Prometheus' histogram_quantile does; NaN when the histogram is empty.
 * A quantile in the +Inf bucket answers the last finite bound. */
double cb_hist_quantile(const struct cb_hist *h, double q);

/* ---- points ---------------------------------------------------------------*/
struct cb_point {
	const char *experiment;
	int index;
	uint64_t seed;
	double scale; /* time scale: cell seconds per real second */
	int voters, machines;
	int agents; /* hollow agent processes, machine i going to
	               agent i / (machines / agents) with labels
	               zone=z(agent+1); 0: one per 1,000 machines */
	int batch_scheds, service_scheds;
	const char *detect; /* "fine" or "coarse" */
	const char *mode;   /* "incremental", "all_or_nothing" or NULL:
	                       the policy's */
	double batch_t_job, service_t_job, t_task; /* cell seconds */
	double prefill;        /* cpu and memory share of every machine taken
	                          before the window (Omega: about 0.6) */
	double drain;          /* after the window, cell seconds at most to
	                          wait for the backlog to be placed */
	double drain_min_real; /* ... and at least this many real seconds */
	struct cb_workload load;
	const char *raft_heartbeat; /* celld's --heartbeat-timeout */
	const char *command;        /* the command line, for the CSV */
	const char *run;            /* the run's start time, for the CSV */
};

/* Runs p on a fresh local cell and fills row (cleared first). Ends the
 * program with a message when the cell cannot be started. */
void cb_point_run(const struct cb_point *p, struct cb_row *row);

/* ---- experiments ----------------------------------------------------------*/
struct cb_options {
	uint64_t seed;
	const double *scales; /* time scales to run every point at */
	size_t nscales;       /* 0: the experiment's default */
	int voters;           /* 0: the experiment's default */
	int machines;         /* 0: the experiment's default */
	double window;        /* cell seconds; 0: the experiment's default */
	bool smoke;           /* tiny sizes: seconds per point, for tests */
	const char *out_dir;  /* where EXPERIMENT.csv is appended */
	const char *command;  /* the command line */
	const char *bin_dir;  /* celld and friends; NULL: beside cellbench */
	const char *raft_heartbeat; /* celld's --heartbeat-timeout, "10ms" */
};

/* Names of the experiments, NULL-terminated. */
extern const char *const cb_experiments[];
/* One line per experiment: "name  what it measures". Static storage. */
const char *cb_experiments_help(void);
/* Runs every point of experiment `name`, appending rows to
 * out_dir/name.csv and showing progress on stderr. 0, or 1 with a message
 * on stderr (unknown experiment, unwritable CSV). */
int cb_experiment_run(const char *name, const struct cb_options *o);

#endif
