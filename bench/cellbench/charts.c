/* charts.c: see charts.h. Line charts draw one series per measured column
 * and time scale, so rows at several time scales show side by side. */
#include "charts.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellcommon.h"
#include "figures.h"
#include "numfmt.h"
#include "svg.h"

#define NONE       CB_NCOLS /* no column */
#define MAX_GROUPS 6        /* time scales per chart: one colour each */

struct yspec {
	enum cb_col y, lo, hi; /* lo, hi: error bar ends, or NONE */
	const char *name;
	bool dashed;
};

struct spec;
typedef int draw_fn(const struct cb_run *run, const struct spec *s,
                    const char *path, char *errbuf, size_t errlen);

/* One chart. Line charts use every field; bar charts the value column
 * ys[0].y and the y axis title. */
struct spec {
	const char *experiment;
	struct cb_chart chart;
	draw_fn *draw;
	enum cb_col x;
	struct svg_axis xa, ya;
	struct yspec ys[2];
	size_t ny;
	struct svg_ref ref;
	size_t nrefs;
};

static draw_fn line_chart, modes_chart, c1m_chart;

#define TJOB_X                                                                 \
	.x = CB_service_t_job_s,                                               \
	.xa = {"service t_job (s per job, cell time, log scale)", SVG_LOG10}
#define NSCHED_X                                                               \
	.x = CB_batch_scheds, .xa = {"batch schedulers (log2 scale)", SVG_LOG2}
#define OFFERED_X                                                              \
	.x = CB_offered_tasks_per_s,                                           \
	.xa = {"offered load (tasks/s, cell time, log scale)", SVG_LOG10}
#define BUSY_Y .ya = {"busyness (share of time deciding)", SVG_LINEAR}
#define CONFLICT_Y                                                             \
	.ya = {"conflict fraction (conflicts per commit)", SVG_LINEAR}

static const struct spec specs[] = {
    {"omega-tjob",
     {"omega-tjob-busyness.svg",
      "Service scheduler busyness vs its decision time"},
     line_chart,
     TJOB_X,
     BUSY_Y,
     .ys = {{CB_busy_service, NONE, NONE, "busyness", false},
            {CB_busy_service_estimate, NONE, NONE, "no-conflict estimate",
             true}},
     .ny = 2},
    {"omega-tjob",
     {"omega-tjob-conflicts.svg",
      "Service scheduler conflict fraction vs its decision time"},
     line_chart,
     TJOB_X,
     CONFLICT_Y,
     .ys = {{CB_conflict_fraction_service, NONE, NONE, "conflict fraction",
             false}},
     .ny = 1,
     .ref = {"1 conflict per commit", false, 1},
     .nrefs = 1},
    {"omega-nsched",
     {"omega-nsched-busyness.svg",
      "Batch scheduler busyness vs number of batch schedulers"},
     line_chart,
     NSCHED_X,
     BUSY_Y,
     .ys = {{CB_busy_batch_median, CB_busy_batch_min, CB_busy_batch_max,
             "median (bars: min to max)", false}},
     .ny = 1},
    {"omega-nsched",
     {"omega-nsched-conflicts.svg",
      "Conflict fraction vs number of batch schedulers"},
     line_chart,
     NSCHED_X,
     CONFLICT_Y,
     .ys = {{CB_conflict_fraction, NONE, NONE, "all schedulers", false}},
     .ny = 1},
    {"omega-modes",
     {"omega-modes-conflicts.svg",
      "Conflict fraction by conflict detection and commit mode"},
     modes_chart,
     CONFLICT_Y,
     .ys = {{.y = CB_conflict_fraction}}},
    {"omega-modes",
     {"omega-modes-busyness.svg",
      "Batch scheduler busyness (median) by detection and commit mode"},
     modes_chart,
     BUSY_Y,
     .ys = {{.y = CB_busy_batch_median}}},
    {"c1m",
     {"c1m-rate.svg", "Tasks running per second: Cell vs Nomad's C1M"},
     c1m_chart,
     .ya = {"tasks running per second (cell time)", SVG_LINEAR},
     .ys = {{.y = CB_running_tasks_per_s}},
     .ref = {"target: 1,000,000 tasks running in 60 s", false,
             CB_C1M_TASKS / CB_C1M_TARGET_S},
     .nrefs = 1},
    {"latency",
     {"latency-commit.svg", "Commit latency vs offered load"},
     line_chart,
     OFFERED_X,
     .ya = {"commit latency (ms, wall clock, log scale)", SVG_LOG10},
     .ys = {{CB_commit_p50_ms, NONE, NONE, "p50", false},
            {CB_commit_p99_ms, NONE, NONE, "p99", true}},
     .ny = 2},
    {"latency",
     {"latency-throughput.svg", "Placements vs offered load"},
     line_chart,
     OFFERED_X,
     .ya = {"placements/s (cell time, log scale)", SVG_LOG10},
     .ys = {{CB_placements_per_s, NONE, NONE, "placements/s", false}},
     .ny = 1,
     .ref = {"placements = offered", true, 0},
     .nrefs = 1},
};

/* ---- line charts ---- */

/* One series' points: the rows of one time scale, ascending x. */
struct points {
	double *x, *y, *lo, *hi; /* one allocation, owned by x */
	char name[96];
};

static double num_or_nan(const struct cb_row *r, enum cb_col c)
{
	return c == NONE ? NAN : cb_num(r, c);
}

static size_t collect(const struct cb_run *run, const struct spec *s,
                      const struct yspec *ys, double key, struct points *p)
{
	size_t cap = run->nrows + 1, n = 0;
	p->x = cu_xmalloc(4 * cap * sizeof(double));
	p->y = p->x + cap, p->lo = p->y + cap, p->hi = p->lo + cap;
	for (size_t i = 0; i < run->nrows; i++) {
		const struct cb_row *r = &run->rows[i];
		if (!cb_same(cb_num(r, CB_time_scale), key))
			continue;
		double x = cb_num(r, s->x);
		size_t j = n++;
		/* insertion by x keeps the line going left to right */
		for (; j > 0 && p->x[j - 1] > x; j--) {
			p->x[j] = p->x[j - 1], p->y[j] = p->y[j - 1];
			p->lo[j] = p->lo[j - 1], p->hi[j] = p->hi[j - 1];
		}
		p->x[j] = x, p->y[j] = cb_num(r, ys->y);
		p->lo[j] = num_or_nan(r, ys->lo),
		p->hi[j] = num_or_nan(r, ys->hi);
	}
	return n;
}

static int line_chart(const struct cb_run *run, const struct spec *s,
                      const char *path, char *errbuf, size_t errlen)
{
	double keys[MAX_GROUPS];
	size_t ng = cb_groups(run, CB_time_scale, keys, MAX_GROUPS), ns = 0;
	struct points pts[MAX_GROUPS * 2];
	struct svg_series ser[MAX_GROUPS * 2];
	for (size_t g = 0; g < ng; g++)
		for (size_t k = 0; k < s->ny; k++, ns++) {
			const struct yspec *ys = &s->ys[k];
			struct points *p = &pts[ns];
			char ts[CB_NUM_MAX];
			size_t n = collect(run, s, ys, keys[g], p);
			snprintf(p->name, sizeof(p->name), "%s%s%s", ys->name,
			         ng > 1 ? ", time scale " : "",
			         ng > 1 ? cb_fmt(keys[g], ts, sizeof(ts)) : "");
			ser[ns] =
			    (struct svg_series){p->name,
			                        p->x,
			                        p->y,
			                        ys->lo == NONE ? NULL : p->lo,
			                        ys->hi == NONE ? NULL : p->hi,
			                        n,
			                        ys->dashed};
		}
	struct svg_chart c = {.title = s->chart.title,
	                      .x = s->xa,
	                      .y = s->ya,
	                      .series = ser,
	                      .nseries = ns,
	                      .refs = &s->ref,
	                      .nrefs = s->nrefs};
	int rc = svg_line_chart(path, &c, errbuf, errlen);
	for (size_t i = 0; i < ns; i++)
		free(pts[i].x);
	return rc;
}

/* ---- bar charts ---- */

/* omega-modes: one group per detection, one bar per commit mode. */
static int modes_chart(const struct cb_run *run, const struct spec *s,
                       const char *path, char *errbuf, size_t errlen)
{
	static const char *const detect[] = {"fine", "coarse"};
	static const char *const mode[] = {"incremental", "all_or_nothing"};
	static const char *const groups[] = {"fine-grained detection",
	                                     "coarse-grained detection"};
	double v[4];
	for (size_t g = 0; g < 2; g++)
		for (size_t m = 0; m < 2; m++) {
			const struct cb_row *r = cb_find_row(
			    run, CB_detect, detect[g], CB_mode, mode[m]);
			v[g * 2 + m] = r ? cb_num(r, s->ys[0].y) : NAN;
		}
	struct svg_bars b = {.title = s->chart.title,
	                     .ytitle = s->ya.title,
	                     .groups = groups,
	                     .ngroups = 2,
	                     .names = mode,
	                     .nseries = 2,
	                     .v = v};
	return svg_bar_chart(path, &b, errbuf, errlen);
}

/* c1m: our rate next to Nomad's published one, with the target. */
static int c1m_chart(const struct cb_run *run, const struct spec *s,
                     const char *path, char *errbuf, size_t errlen)
{
	static const char *const groups[] = {"Cell (measured)",
	                                     "Nomad C1M (published)"};
	double v[2] = {NAN, CB_NOMAD_C1M_TASKS_PER_S};
	for (size_t i = 0; i < run->nrows && isnan(v[0]); i++)
		v[0] = cb_num(&run->rows[i], s->ys[0].y);
	if (isnan(v[0]))
		return SVG_EMPTY; /* Nomad's bar alone measures nothing */
	struct svg_bars b = {.title = s->chart.title,
	                     .ytitle = s->ya.title,
	                     .groups = groups,
	                     .ngroups = 2,
	                     .names = &s->chart.title,
	                     .nseries = 1,
	                     .v = v,
	                     .refs = &s->ref,
	                     .nrefs = s->nrefs};
	return svg_bar_chart(path, &b, errbuf, errlen);
}

int cb_charts_write(const struct cb_run *run, const char *dir,
                    struct cb_chart *out, size_t *n, char *errbuf,
                    size_t errlen)
{
	*n = 0;
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		const struct spec *s = &specs[i];
		if (strcmp(s->experiment, run->experiment))
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, s->chart.file);
		int rc = s->draw(run, s, path, errbuf, errlen);
		if (rc < 0)
			return -1;
		if (rc == 0 && *n < CB_MAX_CHARTS)
			out[(*n)++] = s->chart;
	}
	return 0;
}
