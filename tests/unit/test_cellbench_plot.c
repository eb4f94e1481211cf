/* test_cellbench_plot.c: `cellbench plot` on CSVs written the way
 * `cellbench run` writes them: the charts a reader looks at (one line per
 * series, one marker per measured point, only the latest run), the report's
 * command, published figures and derived ratios (expected values computed
 * here from the inputs), "not run yet", a malformed CSV that changes
 * nothing, and byte-identical output on a second run. */
#include "testlib.h"

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plot.h"
#include "results.h"
#include "tl_tmpdir.h"

#define OLD_RUN "2026-01-01T09:00:00Z"
#define NEW_RUN "2026-02-01T09:00:00Z"

static char *tmp;        /* the test's folder */
static char dir[512];    /* tmp/results: CSVs and charts */
static char report[512]; /* tmp/RESULTS.md */

static int setup(void **state)
{
	(void)state;
	tmp = tl_tmpdir_make("cell-plot");
	assert_non_null(tmp);
	snprintf(dir, sizeof(dir), "%s/results", tmp);
	snprintf(report, sizeof(report), "%s/RESULTS.md", tmp);
	assert_int_equal(mkdir(dir, 0755), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(tl_tmpdir_remove(tmp), 0);
	free(tmp);
	return 0;
}

/* ---- writing CSVs ---- */

/* A field: a number, or text when s is set. */
struct kv {
	enum cb_col c;
	double d;
	const char *s;
};

static const char *csv_path(const char *experiment)
{
	static char path[600];
	snprintf(path, sizeof(path), "%s/%s.csv", dir, experiment);
	return path;
}

static void append(const char *run, const char *experiment, int point,
                   const struct kv *kv, size_t n)
{
	struct cb_row r = {0};
	char err[256], cmd[128];
	snprintf(cmd, sizeof(cmd), "cellbench run %s%s", experiment,
	         strcmp(run, OLD_RUN) ? "" : " --stale-run");
	cb_row_set(&r, CB_run, run);
	cb_row_set(&r, CB_experiment, experiment);
	cb_row_setf(&r, CB_point, "%d", point);
	cb_row_set(&r, CB_command, cmd);
	for (size_t i = 0; i < n; i++) {
		if (kv[i].s)
			cb_row_set(&r, kv[i].c, kv[i].s);
		else
			cb_row_setd(&r, kv[i].c, kv[i].d);
	}
	assert_int_equal(
	    cb_csv_append(csv_path(experiment), &r, err, sizeof(err)), 0);
	cb_row_clear(&r);
}

#define N(col, v)    ((struct kv){col, v, NULL})
#define S(col, text) ((struct kv){col, 0, text})
#define APPEND(run, exp, point, ...)                                           \
	append(run, exp, point, (const struct kv[]){__VA_ARGS__},              \
	       sizeof((const struct kv[]){__VA_ARGS__}) / sizeof(struct kv))

/* The inputs, kept so the expectations are computed from them. */
static const double tjobs[] = {0.1, 1, 10, 100};
static const double scales[] = {10, 100};
static double tjob_cf(size_t s, size_t j)
{
	return 0.05 * pow(5, (double)j) * (1 + 0.1 * (double)s);
}
static const double nsched_n[] = {1, 2, 4, 8, 16, 32};
static const double nsched_busy[] = {0.9, 0.5, 0.27, 0.15, 0.08, 0.05};
static const double modes_cf[2][2] = {{0.1, 0.2}, {0.25, 0.45}};
static const double modes_busy[2][2] = {{0, 0.2}, {0.3, 0.35}};
static const char *const detects[] = {"fine", "coarse"};
static const char *const modes[] = {"incremental", "all_or_nothing"};
#define C1M_RUNNING_S 52.5
#define C1M_RATE      19047.6
static const double offered[] = {100, 1000, 10000};
static const double placed[] = {99, 990, 4000};

/* omega-tjob: 2 time scales x 4 t_jobs; the estimate left empty at one
 * point, which must not be drawn. An older run follows the new one in the
 * file: file order must not decide which run is latest. */
static void write_tjob(void)
{
	int p = 0;
	for (size_t s = 0; s < 2; s++)
		for (size_t j = 0; j < 4; j++, p++) {
			double est = s == 1 && j == 0 ? NAN : tjobs[j] / 100;
			APPEND(NEW_RUN, "omega-tjob", p,
			       N(CB_time_scale, scales[s]),
			       N(CB_service_t_job_s, tjobs[j]),
			       N(CB_conflict_fraction_service, tjob_cf(s, j)),
			       N(CB_busy_service, tjobs[j] / 90),
			       N(CB_busy_service_estimate, est));
		}
	APPEND(OLD_RUN, "omega-tjob", 0, N(CB_time_scale, 10),
	       N(CB_service_t_job_s, 1000), N(CB_conflict_fraction_service, 7),
	       N(CB_busy_service, 0.5));
}

static void write_others(void)
{
	APPEND(OLD_RUN, "omega-nsched", 0, N(CB_batch_scheds, 64),
	       N(CB_busy_batch_median, 0.01));
	for (int i = 0; i < 6; i++)
		APPEND(NEW_RUN, "omega-nsched", i,
		       N(CB_batch_scheds, nsched_n[i]),
		       N(CB_busy_batch_median, nsched_busy[i]),
		       N(CB_busy_batch_min, nsched_busy[i] * 0.9),
		       N(CB_busy_batch_max, nsched_busy[i] * 1.1),
		       N(CB_conflict_fraction, 0.02 * nsched_n[i]));
	APPEND(OLD_RUN, "omega-modes", 0, S(CB_detect, "fine"),
	       S(CB_mode, "incremental"), N(CB_conflict_fraction, 9));
	for (int d = 0, p = 0; d < 2; d++)
		for (int m = 0; m < 2; m++, p++)
			APPEND(NEW_RUN, "omega-modes", p,
			       S(CB_detect, detects[d]), S(CB_mode, modes[m]),
			       N(CB_conflict_fraction, modes_cf[d][m]),
			       N(CB_busy_batch_median, modes_busy[d][m]));
	APPEND(OLD_RUN, "c1m", 0, N(CB_running_tasks_per_s, 10));
	APPEND(NEW_RUN, "c1m", 0, N(CB_tasks_submitted, 1000000),
	       N(CB_all_placed_s, 41.25), N(CB_all_running_s, C1M_RUNNING_S),
	       N(CB_running_tasks_per_s, C1M_RATE));
	for (int i = 0; i < 3; i++)
		APPEND(NEW_RUN, "latency", i,
		       N(CB_offered_tasks_per_s, offered[i]),
		       N(CB_placements_per_s, placed[i]),
		       N(CB_commit_p50_ms, 1.5 * (i + 1)),
		       N(CB_commit_p99_ms, 7.5 * (i + 1)));
	APPEND(NEW_RUN, "mystery", 0, N(CB_seed, 7), N(CB_wall_s, 3.25));
}

/* ---- running and reading ---- */

/* cb_plot_main with stdout and stderr caught in tmp/out and tmp/err. */
static int plot(const char *const *args)
{
	char *argv[16];
	int argc = 0;
	while (args[argc]) {
		argv[argc] = (char *)args[argc];
		argc++;
	}
	char out[600], err[600];
	snprintf(out, sizeof(out), "%s/out", tmp);
	snprintf(err, sizeof(err), "%s/err", tmp);
	fflush(stdout);
	fflush(stderr);
	int saved_out = dup(1), saved_err = dup(2);
	int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int fe = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(saved_out >= 0 && saved_err >= 0 && fo >= 0 && fe >= 0);
	dup2(fo, 1);
	dup2(fe, 2);
	int rc = cb_plot_main(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(fo), close(fe), close(saved_out), close(saved_err);
	return rc;
}

static int plot_dir(void)
{
	return plot((const char *const[]){"plot", "--dir", dir, "--results",
	                                  report, NULL});
}

/* The whole file (caller frees), or NULL if there is none. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = 0;
	fclose(f);
	return s;
}

static char *in_tmp(const char *name)
{
	static char path[600];
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	return slurp(path);
}

static char *chart(const char *file)
{
	static char path[600];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return slurp(path);
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;
	for (const char *p = s; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

static void assert_contains(const char *s, const char *what)
{
	if (!strstr(s, what))
		fail_msg("expected to find \"%s\" in:\n%s", what, s);
}

/* The counts of class="..." elements a chart must hold. */
static void assert_chart(const char *file, size_t series, size_t markers,
                         size_t bars, size_t refs)
{
	char *svg = chart(file);
	if (!svg)
		fail_msg("%s was not written", file);
	assert_int_equal(count(svg, "class=\"series\""), series);
	assert_int_equal(count(svg, "class=\"marker\""), markers);
	assert_int_equal(count(svg, "class=\"bar\""), bars);
	assert_int_equal(count(svg, "class=\"ref\""), refs);
	assert_true(strstr(svg, "<svg ") && strstr(svg, "</svg>\n"));
	free(svg);
}

/* "2.5×" as the report writes a ratio: 3 significant digits. */
static const char *ratio(double a, double b)
{
	static char s[64];
	snprintf(s, sizeof(s), "**%.3g×**", a / b);
	return s;
}

/* ---- tests ---- */

static void test_charts(void **state)
{
	(void)state;
	write_tjob();
	write_others();
	assert_int_equal(plot_dir(), 0);
	/* 2 time scales x (busyness, estimate); one estimate empty */
	assert_chart("omega-tjob-busyness.svg", 4, 15, 0, 0);
	assert_chart("omega-tjob-conflicts.svg", 2, 8, 0, 1);
	assert_chart("omega-nsched-busyness.svg", 1, 6, 0, 0);
	assert_chart("omega-nsched-conflicts.svg", 1, 6, 0, 0);
	char *svg = chart("omega-nsched-busyness.svg");
	assert_int_equal(count(svg, "class=\"errorbar\""), 6);
	assert_contains(svg, "batch schedulers (log2 scale)");
	free(svg);
	assert_chart("omega-modes-conflicts.svg", 0, 0, 4, 0);
	assert_chart("omega-modes-busyness.svg", 0, 0, 4, 0);
	assert_chart("c1m-rate.svg", 0, 0, 2, 1);
	assert_chart("latency-commit.svg", 2, 6, 0, 0);
	assert_chart("latency-throughput.svg", 1, 3, 0, 1);
	/* an experiment plot does not know: a table, no chart */
	char *out = in_tmp("out");
	assert_contains(out, "## mystery");
	assert_contains(out, "| point | seed | wall_s |");
	assert_contains(out, "| 1,000,000 |"); /* c1m's task count */
	assert_null(strstr(out, "--stale-run"));
	free(out);
	assert_null(chart("mystery-rate.svg"));
}

static void test_report(void **state)
{
	(void)state;
	write_tjob();
	write_others();
	assert_int_equal(plot_dir(), 0);
	char *md = in_tmp("RESULTS.md");
	assert_non_null(md);
	assert_contains(md, "do not edit it by hand");
	assert_contains(md, "- CPU: ");
	assert_contains(md, "```sh\ncellbench run omega-nsched\n```");
	assert_contains(md, "Latest run: `" NEW_RUN "`");
	assert_null(strstr(md, OLD_RUN));
	assert_null(strstr(md, "--stale-run"));
	assert_int_equal(count(md, "**Published (not measured here):**"), 5);
	assert_contains(md, "3,750 tasks/s");
	/* links relative to RESULTS.md, which sits beside results/ */
	assert_contains(md, "](results/omega-tjob-conflicts.svg)");
	assert_contains(md, "](results/c1m-rate.svg)");

	/* omega-tjob: the first t_job whose conflict fraction exceeds 1 */
	char want[256];
	for (size_t s = 0; s < 2; s++) {
		size_t j = 0;
		while (j < 4 && !(tjob_cf(s, j) > 1))
			j++;
		if (j < 4)
			snprintf(
			    want, sizeof(want),
			    "Time scale %g: the service "
			    "scheduler's conflict fraction first exceeds 1 "
			    "at t_job = %g s.",
			    scales[s], tjobs[j]);
		else
			snprintf(
			    want, sizeof(want),
			    "Time scale %g: the service "
			    "scheduler's conflict fraction never exceeds 1 "
			    "(not reached).",
			    scales[s]);
		assert_contains(md, want);
	}
	/* side by side: one column per time scale */
	snprintf(want, sizeof(want), "| %g | %.3g | %.3g |", tjobs[1],
	         tjob_cf(0, 1), tjob_cf(1, 1));
	assert_contains(
	    md, "| service t_job (s) | time scale 10 | time scale 100 |");
	assert_contains(md, want);
	/* omega-nsched: no row at 3; 2 and 4 tie and the smaller is used */
	assert_contains(md, ratio(nsched_busy[0], nsched_busy[1]));
	assert_contains(md, "at 1 scheduler(s) divided by that at 2");
	/* omega-modes: coarse/fine at incremental, all_or_nothing/incremental
	 * at fine; the busyness at fine+incremental is 0, so "n/a" */
	assert_contains(md, ratio(modes_cf[1][0], modes_cf[0][0]));
	assert_contains(md, ratio(modes_cf[0][1], modes_cf[0][0]));
	assert_int_equal(count(md, "**n/a**"), 2);
	/* c1m: the ratio to Nomad's 3,750 tasks/s and the 60 s target */
	assert_contains(md, ratio(C1M_RATE, 3750));
	assert_contains(md, C1M_RUNNING_S <= 60
	                        ? "(16,700 tasks/s): **met**"
	                        : "(16,700 tasks/s): **not met**");
	/* latency: 99 of 100 and 990 of 1,000 keep up, 4,000 of 10,000 not */
	assert_contains(md,
	                "Saturation point (highest load sustained within "
	                "10%): **1,000 tasks/s** offered (placements 990/s)");
	/* an experiment plot does not know */
	assert_contains(md, "## mystery");
	free(md);
}

static void test_not_run_yet(void **state)
{
	(void)state;
	write_others();
	/* only the omega-modes CSV, named on the command line */
	assert_int_equal(
	    plot((const char *const[]){"plot", "--dir", dir, "--results",
	                               report, csv_path("omega-modes"), NULL}),
	    0);
	char *md = in_tmp("RESULTS.md");
	assert_non_null(md);
	assert_int_equal(count(md, "not run yet"), 4);
	/* what the runs will be compared with, run or not */
	assert_int_equal(count(md, "**Published (not measured here):**"), 5);
	assert_contains(md, "```sh\ncellbench run omega-tjob\n```");
	assert_contains(md, "```sh\ncellbench run latency\n```");
	assert_contains(md, "```sh\ncellbench run omega-modes\n```");
	assert_null(strstr(md, "## mystery"));
	free(md);
	assert_null(chart("omega-tjob-busyness.svg"));
}

static void test_malformed(void **state)
{
	(void)state;
	write_tjob();
	write_others();
	assert_int_equal(plot_dir(), 0);
	char *before = in_tmp("RESULTS.md");
	char *svg_before = chart("c1m-rate.svg");
	assert_non_null(before);
	/* header, one good row, then a row cut short on line 3 */
	char good[4096] = "", bad[600];
	snprintf(bad, sizeof(bad), "%s/broken.csv", dir);
	for (int i = 0; i < CB_NCOLS; i++)
		strcat(strcat(good, i ? "," : ""), cb_col_names[i]);
	FILE *f = fopen(bad, "w");
	assert_non_null(f);
	fprintf(f, "%s\n" NEW_RUN ",c1m,0", good);
	for (int i = 3; i < CB_NCOLS; i++)
		fputc(',', f);
	fprintf(f, "\n" NEW_RUN ",c1m,1,42\n");
	fclose(f);
	/* the c1m rate would change if the file were half read */
	assert_int_equal(plot_dir(), 1);
	char *err = in_tmp("err");
	char want[700];
	snprintf(want, sizeof(want), "%s:3: 4 fields, expected %d", bad,
	         CB_NCOLS);
	assert_contains(err, want);
	free(err);
	char *after = in_tmp("RESULTS.md");
	char *svg_after = chart("c1m-rate.svg");
	assert_string_equal(after, before);
	assert_string_equal(svg_after, svg_before);
	char tmpfile[700];
	snprintf(tmpfile, sizeof(tmpfile), "%s.tmp", report);
	assert_int_equal(access(tmpfile, F_OK), -1);
	free(before), free(after), free(svg_before), free(svg_after);
}

static void test_deterministic(void **state)
{
	(void)state;
	static const char *const files[] = {"omega-tjob-busyness.svg",
	                                    "omega-tjob-conflicts.svg",
	                                    "omega-nsched-busyness.svg",
	                                    "omega-modes-conflicts.svg",
	                                    "c1m-rate.svg",
	                                    "latency-commit.svg",
	                                    "latency-throughput.svg"};
	write_tjob();
	write_others();
	assert_int_equal(plot_dir(), 0);
	char *first[8], *md = in_tmp("RESULTS.md");
	for (size_t i = 0; i < 7; i++)
		first[i] = chart(files[i]);
	assert_int_equal(plot_dir(), 0);
	char *md2 = in_tmp("RESULTS.md");
	assert_string_equal(md2, md);
	free(md), free(md2);
	for (size_t i = 0; i < 7; i++) {
		char *again = chart(files[i]);
		assert_non_null(first[i]);
		assert_string_equal(again, first[i]);
		free(again), free(first[i]);
	}
}

static void test_usage(void **state)
{
	(void)state;
	assert_int_equal(plot((const char *const[]){"plot", "--colour", NULL}),
	                 2);
	char *err = in_tmp("err");
	assert_contains(err, "unknown flag \"--colour\"");
	free(err);
	/* flags after a CSV would be read as files */
	assert_int_equal(
	    plot((const char *const[]){"plot", "a.csv", "--dir", dir, NULL}),
	    2);
	err = in_tmp("err");
	assert_contains(err, "--dir: flags go before the CSV files");
	free(err);
	assert_int_equal(plot((const char *const[]){"plot", "--help", NULL}),
	                 0);
	char *out = in_tmp("out");
	assert_contains(out, "cellbench plot [--dir DIR] [--results FILE]");
	free(out);
	/* a folder that is not there is a failure, not a usage error */
	char missing[600];
	snprintf(missing, sizeof(missing), "%s/nowhere", tmp);
	assert_int_equal(
	    plot((const char *const[]){"plot", "--dir", missing, NULL}), 1);
	err = in_tmp("err");
	assert_contains(err, "nowhere: No such file or directory");
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_charts),    T(test_report),        T(test_not_run_yet),
	    T(test_malformed), T(test_deterministic), T(test_usage),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
