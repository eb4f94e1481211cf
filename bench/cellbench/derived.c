/* derived.c: see derived.h. Every figure names the rows it comes from, so
 * a reader can check it against the table above it. */
#include "derived.h"

#include <math.h>
#include <string.h>

#include "figures.h"
#include "numfmt.h"

#define MAXK 64 /* distinct values looked at per column */

/* The first row whose numeric fields c1 and c2 are v1 and v2. */
static const struct cb_row *row_at(const struct cb_run *run, enum cb_col c1,
                                   double v1, enum cb_col c2, double v2)
{
	for (size_t i = 0; i < run->nrows; i++)
		if (cb_same(cb_num(&run->rows[i], c1), v1) &&
		    cb_same(cb_num(&run->rows[i], c2), v2))
			return &run->rows[i];
	return NULL;
}

/* The first row whose numeric field c is v. */
static const struct cb_row *row_with(const struct cb_run *run, enum cb_col c,
                                     double v)
{
	return row_at(run, c, v, c, v);
}

static double num_at(const struct cb_row *r, enum cb_col c)
{
	return r ? cb_num(r, c) : NAN;
}

/* a / b as "2.5×", or "n/a" when either is missing or b is 0. */
static const char *ratio(double a, double b, char *buf, size_t len)
{
	if (!isfinite(a) || !isfinite(b) || b == 0) {
		snprintf(buf, len, "n/a");
		return buf;
	}
	cb_fmt(a / b, buf, len);
	strncat(buf, "×", len - strlen(buf) - 1);
	return buf;
}

/* ---- omega-tjob ---- */

/* The side-by-side table: one row per t_job, one column per time scale. */
static void tjob_agreement(FILE *f, const struct cb_run *run, const double *ts,
                           size_t nts)
{
	double tj[MAXK];
	char a[CB_NUM_MAX];
	size_t ntj = cb_groups(run, CB_service_t_job_s, tj, MAXK);
	fputs("\nConflict fraction of the service scheduler at each time "
	      "scale (they should agree):\n\n| service t_job (s) ",
	      f);
	for (size_t k = 0; k < nts; k++)
		fprintf(f, "| time scale %s ", cb_fmt(ts[k], a, sizeof(a)));
	fputs("|\n|---:", f);
	for (size_t k = 0; k < nts; k++)
		fputs("|---:", f);
	fputs("|\n", f);
	for (size_t j = 0; j < ntj; j++) {
		fprintf(f, "| %s ", cb_fmt(tj[j], a, sizeof(a)));
		for (size_t k = 0; k < nts; k++) {
			const struct cb_row *r =
			    row_at(run, CB_time_scale, ts[k],
			           CB_service_t_job_s, tj[j]);
			fprintf(f, "| %s ",
			        cb_fmt(num_at(r, CB_conflict_fraction_service),
			               a, sizeof(a)));
		}
		fputs("|\n", f);
	}
}

static void tjob(FILE *f, const struct cb_run *run)
{
	double ts[MAXK];
	char a[CB_NUM_MAX], b[CB_NUM_MAX];
	size_t nts = cb_groups(run, CB_time_scale, ts, MAXK);
	for (size_t k = 0; k < nts; k++) {
		double first = NAN;
		for (size_t i = 0; i < run->nrows; i++) {
			const struct cb_row *r = &run->rows[i];
			double t = cb_num(r, CB_service_t_job_s);
			if (cb_same(cb_num(r, CB_time_scale), ts[k]) &&
			    cb_num(r, CB_conflict_fraction_service) > 1 &&
			    !(t >= first))
				first = t;
		}
		if (nts > 1)
			fprintf(f, "- Time scale %s: the",
			        cb_fmt(ts[k], a, sizeof(a)));
		else
			fputs("- The", f);
		fputs(" service scheduler's conflict fraction ", f);
		if (isnan(first))
			fputs("never exceeds 1 (not reached).\n", f);
		else
			fprintf(f, "first exceeds 1 at t_job = %s s.\n",
			        cb_fmt(first, b, sizeof(b)));
	}
	if (nts > 1)
		tjob_agreement(f, run, ts, nts);
	else
		fputs("- One time scale only: nothing to cross-check.\n", f);
}

/* ---- omega-nsched ---- */

/* The scheduler count present nearest to want; a tie goes to the smaller,
 * which understates rather than flatters the headroom. */
static double nearest(const double *n, size_t len, double want)
{
	double best = NAN;
	for (size_t i = 0; i < len; i++)
		if (isfinite(n[i]) &&
		    (isnan(best) || fabs(n[i] - want) < fabs(best - want)))
			best = n[i];
	return best;
}

static void nsched(FILE *f, const struct cb_run *run)
{
	double n[MAXK];
	char a[4][CB_NUM_MAX], r[CB_NUM_MAX];
	size_t len = cb_groups(run, CB_batch_scheds, n, MAXK);
	double one = nearest(n, len, 1), three = nearest(n, len, 3);
	if (isnan(one)) {
		fputs("- No row gives batch_scheds: nothing to derive.\n", f);
		return;
	}
	double b1 =
	    num_at(row_with(run, CB_batch_scheds, one), CB_busy_batch_median);
	double b3 =
	    num_at(row_with(run, CB_batch_scheds, three), CB_busy_batch_median);
	fprintf(f,
	        "- Headroom: busyness (median) at %s scheduler(s) divided "
	        "by that at %s%s: **%s** (%s / %s).\n",
	        cb_fmt(one, a[0], CB_NUM_MAX), cb_fmt(three, a[1], CB_NUM_MAX),
	        one != 1 || three != 3 ? ", the counts nearest to 1 and 3 in "
	                                 "this run"
	                               : "",
	        ratio(b1, b3, r, sizeof(r)), cb_fmt(b1, a[2], CB_NUM_MAX),
	        cb_fmt(b3, a[3], CB_NUM_MAX));
	double top = n[len - 1];
	fprintf(f,
	        "- Conflict fraction at %s schedulers (the largest count): "
	        "**%s**.\n",
	        cb_fmt(top, a[0], CB_NUM_MAX),
	        cb_fmt(num_at(row_with(run, CB_batch_scheds, top),
	                      CB_conflict_fraction),
	               a[1], CB_NUM_MAX));
}

/* ---- omega-modes ---- */

static void modes_ratio(FILE *f, const struct cb_run *run, enum cb_col c,
                        const char *what, const char *d1, const char *m1,
                        const char *d2, const char *m2, const char *label)
{
	char a[3][CB_NUM_MAX];
	double x = num_at(cb_find_row(run, CB_detect, d1, CB_mode, m1), c);
	double y = num_at(cb_find_row(run, CB_detect, d2, CB_mode, m2), c);
	fprintf(f, "- %s, %s: **%s** (%s vs %s).\n", what, label,
	        ratio(x, y, a[0], CB_NUM_MAX), cb_fmt(x, a[1], CB_NUM_MAX),
	        cb_fmt(y, a[2], CB_NUM_MAX));
}

static void modes(FILE *f, const struct cb_run *run)
{
	static const struct {
		enum cb_col c;
		const char *what;
	} cols[] = {{CB_conflict_fraction, "Conflict fraction"},
	            {CB_busy_batch_median, "Busyness (batch, median)"}};
	for (size_t k = 0; k < 2; k++) {
		modes_ratio(f, run, cols[k].c, cols[k].what, "coarse",
		            "incremental", "fine", "incremental",
		            "coarse / fine detection (incremental commits)");
		modes_ratio(f, run, cols[k].c, cols[k].what, "fine",
		            "all_or_nothing", "fine", "incremental",
		            "all-or-nothing / incremental (fine detection)");
	}
}

/* ---- c1m ---- */

static void c1m(FILE *f, const struct cb_run *run)
{
	char a[3][CB_NUM_MAX];
	const struct cb_row *r = run->nrows ? &run->rows[0] : NULL;
	double placed = num_at(r, CB_all_placed_s);
	double running = num_at(r, CB_all_running_s);
	double rate = num_at(r, CB_running_tasks_per_s);
	fprintf(f,
	        "- Every task placed after **%s s**, every task running "
	        "after **%s s**: **%s tasks running per second**.\n",
	        cb_fmt(placed, a[0], CB_NUM_MAX),
	        cb_fmt(running, a[1], CB_NUM_MAX),
	        cb_fmt(rate, a[2], CB_NUM_MAX));
	fprintf(f, "- Ratio to Nomad's published %s tasks/s: **%s**.\n",
	        cb_fmt(CB_NOMAD_C1M_TASKS_PER_S, a[0], CB_NUM_MAX),
	        ratio(rate, CB_NOMAD_C1M_TASKS_PER_S, a[1], CB_NUM_MAX));
	fprintf(f,
	        "- Issue 7's target, every task running within %s s (%s "
	        "tasks/s): **%s**.\n",
	        cb_fmt(CB_C1M_TARGET_S, a[0], CB_NUM_MAX),
	        cb_fmt(CB_C1M_TASKS / CB_C1M_TARGET_S, a[1], CB_NUM_MAX),
	        isnan(running)               ? "not measured"
	        : running <= CB_C1M_TARGET_S ? "met"
	                                     : "not met");
}

/* ---- latency ---- */

static void latency_point(FILE *f, const char *lead, const struct cb_row *r)
{
	char a[4][CB_NUM_MAX];
	fprintf(f,
	        "- %s **%s tasks/s** offered (placements %s/s): commit "
	        "latency p50 **%s ms**, p99 **%s ms**.\n",
	        lead,
	        cb_fmt(cb_num(r, CB_offered_tasks_per_s), a[0], CB_NUM_MAX),
	        cb_fmt(cb_num(r, CB_placements_per_s), a[1], CB_NUM_MAX),
	        cb_fmt(cb_num(r, CB_commit_p50_ms), a[2], CB_NUM_MAX),
	        cb_fmt(cb_num(r, CB_commit_p99_ms), a[3], CB_NUM_MAX));
}

/* Saturation: walking up the offered load, the last point whose
 * placements stay within 10% of it before the first that falls behind. */
static void latency(FILE *f, const struct cb_run *run)
{
	double load[MAXK];
	size_t n = cb_groups(run, CB_offered_tasks_per_s, load, MAXK);
	const struct cb_row *last_ok = NULL, *first_bad = NULL;
	for (size_t k = 0; k < n && !first_bad; k++) {
		const struct cb_row *r =
		    row_with(run, CB_offered_tasks_per_s, load[k]);
		if (isnan(load[k]))
			continue;
		if (!cb_row_saturated(r))
			last_ok = r;
		else
			first_bad = r;
	}
	if (!last_ok && !first_bad)
		fputs(
		    "- No row gives offered_tasks_per_s: nothing to derive.\n",
		    f);
	else if (!last_ok)
		latency_point(f, "Saturated already at the lowest load tried,",
		              first_bad);
	else
		latency_point(f,
		              first_bad ? "Saturation point (highest load "
		                          "sustained within 10%):"
		                        : "Not saturated: sustained within "
		                          "10% up to the highest load tried,",
		              last_ok);
	if (last_ok && first_bad)
		latency_point(f, "The next load falls behind:", first_bad);
}

void cb_derived_write(FILE *f, const struct cb_run *run)
{
	static const struct {
		const char *experiment;
		void (*write)(FILE *, const struct cb_run *);
	} by_name[] = {{"omega-tjob", tjob},
	               {"omega-nsched", nsched},
	               {"omega-modes", modes},
	               {"c1m", c1m},
	               {"latency", latency}};
	for (size_t i = 0; i < sizeof(by_name) / sizeof(by_name[0]); i++)
		if (!strcmp(by_name[i].experiment, run->experiment))
			by_name[i].write(f, run);
}
