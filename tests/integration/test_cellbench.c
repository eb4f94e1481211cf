/* test_cellbench.c: every experiment of `cellbench run` at its --smoke size
 * on real processes: the CSV has the columns, one row per point, values
 * in range, counts that add up, and nothing is left behind (no process,
 * no data folder). */
#include "testlib.h"

#include "cell.h"
#include "cellbench.h"
#include "tl_tmpdir.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *out_dir;

static int setup(void **state)
{
	(void)state;
	out_dir = tl_tmpdir_make("cellbench-smoke");
	return out_dir ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	tl_tmpdir_remove(out_dir);
	free(out_dir);
	return 0;
}

/* Runs cellbench with args; returns its pid (already reaped) and exit
 * status. */
static int run_cellbench(const char *const *args, pid_t *pid_out)
{
	const char *bin = tl_bin("cellbench");
	const char *argv[32] = {bin};
	int n = 1;
	for (; args[n - 1]; n++)
		argv[n] = args[n - 1];
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid == 0) {
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	*pid_out = pid;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Nothing of cellbench's run pid is left: no folder /tmp/bench-cell-PID-*,
 * no process with it on its command line. */
static void assert_nothing_left(pid_t pid)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "bench-cell-%d-", (int)pid);
	DIR *d = opendir("/tmp");
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix)))
			fail_msg("left behind: /tmp/%s", e->d_name);
	closedir(d);
	d = opendir("/proc");
	while (d && (e = readdir(d))) {
		char path[300], cmd[4096];
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		FILE *f = fopen(path, "r");
		size_t len = f ? fread(cmd, 1, sizeof(cmd) - 1, f) : 0;
		if (f)
			fclose(f);
		for (size_t i = 0; i < len; i++)
			cmd[i] = cmd[i] ? cmd[i] : ' ';
		cmd[len] = 0;
		if (strstr(cmd, prefix))
			fail_msg("process %s left behind: %s", e->d_name, cmd);
	}
	closedir(d);
}

static double num(const struct cb_row *r, enum cb_col c)
{
	const char *v = r->v[c];
	if (!v)
		fail_msg("column %s is empty", cb_col_names[c]);
	char *end;
	double x = strtod(v, &end);
	if (*end || !isfinite(x))
		fail_msg("column %s: \"%s\" is not a number", cb_col_names[c],
		         v);
	return x;
}

static void assert_in(const struct cb_row *r, enum cb_col c, double lo,
                      double hi)
{
	double x = num(r, c);
	if (x < lo || x > hi)
		fail_msg("column %s = %g, expected %g..%g", cb_col_names[c], x,
		         lo, hi);
}

/* What holds for any point of any experiment. */
static void assert_sane(const struct cb_row *r, const char *experiment)
{
	assert_string_equal(r->v[CB_experiment], experiment);
	assert_non_null(r->v[CB_run]);
	assert_non_null(strstr(r->v[CB_command], "cellbench run"));
	assert_in(r, CB_time_scale, 1, 1e6);
	double jobs = num(r, CB_jobs_submitted),
	       tasks = num(r, CB_tasks_submitted);
	assert_true(jobs > 0 && tasks >= jobs);
	assert_true(num(r, CB_jobs_placed) + num(r, CB_jobs_never_placed) ==
	            jobs);
	assert_true(num(r, CB_tasks_placed) + num(r, CB_tasks_never_placed) ==
	            tasks);
	/* a job counts as placed only when every one of its tasks is */
	assert_true(num(r, CB_tasks_never_placed) >=
	            num(r, CB_jobs_never_placed));
	assert_true(num(r, CB_txns_conflicted) <= num(r, CB_txns));
	assert_in(r, CB_conflict_fraction, 0, num(r, CB_txns));
	assert_in(r, CB_task_conflict_fraction, 0, 1);
	/* busyness is a share of the window; thinking past its end may add a
	 * little */
	assert_in(r, CB_busy_batch_min, 0, 1.5);
	assert_in(r, CB_busy_batch_median, num(r, CB_busy_batch_min),
	          num(r, CB_busy_batch_max));
	assert_in(r, CB_commit_p50_ms, 0, num(r, CB_commit_p99_ms));
	assert_in(r, CB_wait_mean_s, 0, 1e6);
	assert_in(r, CB_placements_per_s, 0, 1e7);
	assert_in(r, CB_wall_s, 0, 600);
}

static struct cb_row *smoke(const char *experiment, size_t *nrows)
{
	char csv[512], err[512];
	const char *const args[] = {"run", experiment, "--smoke", "--seed",
	                            "7",   "--out",    out_dir,   NULL};
	pid_t pid;
	assert_int_equal(run_cellbench(args, &pid), 0);
	assert_nothing_left(pid);
	snprintf(csv, sizeof(csv), "%s/%s.csv", out_dir, experiment);
	struct cb_row *rows;
	if (cb_csv_read(csv, &rows, nrows, err, sizeof(err)))
		fail_msg("%s", err);
	for (size_t i = 0; i < *nrows; i++) {
		assert_sane(&rows[i], experiment);
		assert_in(&rows[i], CB_point, (double)i, (double)i);
	}
	return rows;
}

static void test_omega_tjob(void **state)
{
	(void)state;
	size_t n;
	struct cb_row *rows = smoke("omega-tjob", &n);
	assert_int_equal(n, 2);
	/* t_job swept upward; the service scheduler measured at each */
	assert_true(num(&rows[1], CB_service_t_job_s) >
	            num(&rows[0], CB_service_t_job_s));
	for (size_t i = 0; i < n; i++) {
		assert_in(&rows[i], CB_busy_service, 0, 1.5);
		assert_in(&rows[i], CB_busy_service_estimate, 0, 1e3);
		assert_in(&rows[i], CB_conflict_fraction_service, 0, 1e3);
	}
	/* more thinking per job: a busier service scheduler */
	assert_true(num(&rows[1], CB_busy_service) >
	            num(&rows[0], CB_busy_service));
	cb_rows_free(rows, n);
}

static void test_omega_nsched(void **state)
{
	(void)state;
	size_t n;
	struct cb_row *rows = smoke("omega-nsched", &n);
	assert_int_equal(n, 2);
	assert_in(&rows[0], CB_batch_scheds, 1, 1);
	assert_true(num(&rows[1], CB_batch_scheds) > 1);
	/* a lone scheduler has nobody to conflict with */
	assert_in(&rows[0], CB_conflict_fraction, 0, 0);
	cb_rows_free(rows, n);
}

static void test_omega_modes(void **state)
{
	(void)state;
	size_t n;
	struct cb_row *rows = smoke("omega-modes", &n);
	assert_int_equal(n, 4);
	int seen = 0;
	for (size_t i = 0; i < n; i++)
		seen |=
		    (!strcmp(rows[i].v[CB_detect], "coarse") ? 1 : 0) |
		    (!strcmp(rows[i].v[CB_mode], "all_or_nothing") ? 2 : 0) |
		    (!strcmp(rows[i].v[CB_detect], "fine") ? 4 : 0) |
		    (!strcmp(rows[i].v[CB_mode], "incremental") ? 8 : 0);
	assert_int_equal(seen, 15);
	cb_rows_free(rows, n);
}

static void test_c1m(void **state)
{
	(void)state;
	size_t n;
	struct cb_row *rows = smoke("c1m", &n);
	assert_int_equal(n, 1);
	const struct cb_row *r = &rows[0];
	/* every task of the burst is placed and then runs */
	assert_true(num(r, CB_tasks_placed) == num(r, CB_tasks_submitted));
	double placed = num(r, CB_all_placed_s),
	       running = num(r, CB_all_running_s);
	assert_true(placed > 0 && running >= placed);
	assert_true(fabs(num(r, CB_running_tasks_per_s) -
	                 num(r, CB_tasks_submitted) / running) <
	            1e-3 * num(r, CB_running_tasks_per_s));
	cb_rows_free(rows, n);
}

static void test_latency(void **state)
{
	(void)state;
	size_t n;
	struct cb_row *rows = smoke("latency", &n);
	for (size_t i = 0; i < n; i++)
		assert_in(&rows[i], CB_offered_tasks_per_s, 1, 1e7);
	/* it stops after the first point that saturates (placements under
	 * 90% of the offered load, or a job never placed), not before */
	const struct cb_row *first = &rows[0];
	bool saturated = num(first, CB_placements_per_s) <
	                     0.9 * num(first, CB_offered_tasks_per_s) ||
	                 num(first, CB_jobs_never_placed) > 0;
	assert_int_equal(n, saturated ? 1 : 2);
	cb_rows_free(rows, n);
}

static void test_bad_usage(void **state)
{
	(void)state;
	pid_t pid;
	const char *const unknown[] = {"run", "omega-nothing", "--out", out_dir,
	                               NULL};
	assert_int_equal(run_cellbench(unknown, &pid), 1);
	const char *const scale[] = {"run", "c1m", "--time-scale", "0,x", NULL};
	assert_int_equal(run_cellbench(scale, &pid), 2);
	const char *const none[] = {"frobnicate", NULL};
	assert_int_equal(run_cellbench(none, &pid), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_usage),
	    cmocka_unit_test(test_omega_tjob),
	    cmocka_unit_test(test_omega_nsched),
	    cmocka_unit_test(test_omega_modes),
	    cmocka_unit_test(test_c1m),
	    cmocka_unit_test(test_latency),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
