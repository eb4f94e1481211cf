/* test_common_metrics.c: the Prometheus text exposition of every metric
 * kind. The expected texts are written from the format's description
 * (HELP/TYPE lines, escaping, cumulative buckets with le="+Inf", _sum and
 * _count), not copied from the output. */
#include "testlib.h"

#include "cellcommon.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void assert_renders(const cc_metrics *m, const char *expect)
{
	size_t len;
	char *text = cc_metrics_render(m, &len);
	assert_int_equal(len, strlen(text));
	if (strcmp(text, expect) != 0)
		fail_msg("rendered:\n%s\nexpected:\n%s", text, expect);
	free(text);
}

static void test_counter(void **state)
{
	(void)state;
	cc_metrics *m = cc_metrics_new();
	struct cc_counter *c =
	    cc_counter_new(m, "cell_txn_total", "Transactions committed.");
	assert_renders(m, "# HELP cell_txn_total Transactions committed.\n"
	                  "# TYPE cell_txn_total counter\n"
	                  "cell_txn_total 0\n");
	cc_counter_inc(c);
	cc_counter_add(c, 9007199254740993ull); /* 2^53 + 1: exact */
	assert_int_equal(cc_counter_value(c), 9007199254740994ull);
	assert_renders(m, "# HELP cell_txn_total Transactions committed.\n"
	                  "# TYPE cell_txn_total counter\n"
	                  "cell_txn_total 9007199254740994\n");
	cc_metrics_free(m);
}

static void test_gauge(void **state)
{
	(void)state;
	cc_metrics *m = cc_metrics_new();
	struct cc_gauge *g = cc_gauge_new(m, "cell_raft_term", "Current term.");
	struct cc_gauge *f = cc_gauge_new(m, "cell_load", "Load.");
	cc_gauge_set(g, 7);
	cc_gauge_add(g, 1);
	cc_gauge_set(f, -0.25);
	assert_true(cc_gauge_value(g) == 8.0);
	assert_renders(m, "# HELP cell_raft_term Current term.\n"
	                  "# TYPE cell_raft_term gauge\n"
	                  "cell_raft_term 8\n"
	                  "# HELP cell_load Load.\n"
	                  "# TYPE cell_load gauge\n"
	                  "cell_load -0.25\n");
	/* the special values as the format spells them; shortest round trip
	 * for the rest */
	static const struct {
		double v;
		const char *text;
	} values[] = {
	    {NAN, "NaN"},        {INFINITY, "+Inf"},
	    {-INFINITY, "-Inf"}, {0.1, "0.1"},
	    {1e21, "1e+21"},     {1234567, "1234567"},
	    {1.5e-7, "1.5e-07"}, {0.30000000000000004, "0.30000000000000004"}};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		cc_gauge_set(f, values[i].v);
		char *text = cc_metrics_render(m, NULL);
		char line[64];
		snprintf(line, sizeof(line), "\ncell_load %s\n",
		         values[i].text);
		if (!strstr(text, line))
			fail_msg("%s not in:\n%s", line, text);
		free(text);
	}
	cc_metrics_free(m);
}

static double applied_index(void *arg)
{
	return (double)*(uint64_t *)arg;
}

static void test_gauge_fn(void **state)
{
	(void)state;
	uint64_t applied = 41;
	cc_metrics *m = cc_metrics_new();
	cc_gauge_fn_new(m, "cell_applied_index", "Last applied index.",
	                applied_index, &applied);
	applied++;
	assert_renders(m, "# HELP cell_applied_index Last applied index.\n"
	                  "# TYPE cell_applied_index gauge\n"
	                  "cell_applied_index 42\n");
	cc_metrics_free(m);
}

static void test_labelled_counter(void **state)
{
	(void)state;
	cc_metrics *m = cc_metrics_new();
	struct cc_counter_vec *ops =
	    cc_counter_vec_new(m, "cell_ops_total",
	                       "Ops by verdict and reason.", "verdict, reason");
	assert_renders(m, "# HELP cell_ops_total Ops by verdict and reason.\n"
	                  "# TYPE cell_ops_total counter\n");
	const char *ok[] = {"accepted", "ok"};
	const char *seq[] = {"rejected", "seq_changed"};
	struct cc_counter *a = cc_counter_vec_get(ops, ok);
	cc_counter_add(cc_counter_vec_get(ops, seq), 2);
	cc_counter_inc(a);
	/* the same values give the same counter */
	assert_ptr_equal(cc_counter_vec_get(ops, ok), a);
	cc_counter_inc(cc_counter_vec_get(ops, ok));

	/* label values escape \, " and newline */
	struct cc_counter_vec *http =
	    cc_counter_vec_new(m, "http_total", "Requests.", "path");
	cc_counter_inc(cc_counter_vec_get1(http, "/a\"b\\c\nd"));
	assert_renders(
	    m, "# HELP cell_ops_total Ops by verdict and reason.\n"
	       "# TYPE cell_ops_total counter\n"
	       "cell_ops_total{verdict=\"accepted\",reason=\"ok\"} 2\n"
	       "cell_ops_total{verdict=\"rejected\",reason=\"seq_changed\"} 2\n"
	       "# HELP http_total Requests.\n"
	       "# TYPE http_total counter\n"
	       "http_total{path=\"/a\\\"b\\\\c\\nd\"} 1\n");
	cc_metrics_free(m);
}

static void test_histogram(void **state)
{
	(void)state;
	cc_metrics *m = cc_metrics_new();
	const double bounds[] = {0.25, 1, 4};
	struct cc_histogram *h = cc_histogram_new(m, "cell_commit_seconds",
	                                          "Commit latency.", bounds, 3);
	assert_renders(m, "# HELP cell_commit_seconds Commit latency.\n"
	                  "# TYPE cell_commit_seconds histogram\n"
	                  "cell_commit_seconds_bucket{le=\"0.25\"} 0\n"
	                  "cell_commit_seconds_bucket{le=\"1\"} 0\n"
	                  "cell_commit_seconds_bucket{le=\"4\"} 0\n"
	                  "cell_commit_seconds_bucket{le=\"+Inf\"} 0\n"
	                  "cell_commit_seconds_sum 0\n"
	                  "cell_commit_seconds_count 0\n");
	/* a bucket's bound is inclusive (le: less or equal) */
	const double seen[] = {0.25, 0.5, 2, 8, 0.125};
	for (size_t i = 0; i < 5; i++)
		cc_histogram_observe(h, seen[i]);
	assert_renders(m, "# HELP cell_commit_seconds Commit latency.\n"
	                  "# TYPE cell_commit_seconds histogram\n"
	                  "cell_commit_seconds_bucket{le=\"0.25\"} 2\n"
	                  "cell_commit_seconds_bucket{le=\"1\"} 3\n"
	                  "cell_commit_seconds_bucket{le=\"4\"} 4\n"
	                  "cell_commit_seconds_bucket{le=\"+Inf\"} 5\n"
	                  "cell_commit_seconds_sum 10.875\n"
	                  "cell_commit_seconds_count 5\n");
	cc_metrics_free(m);
}

static void test_log_bounds(void **state)
{
	(void)state;
	double b[64];
	/* 10 per decade, 2 significant digits, up to and including hi */
	const double want[] = {0.001, 0.0013, 0.0016, 0.002,  0.0025, 0.0032,
	                       0.004, 0.005,  0.0063, 0.0079, 0.01};
	size_t n = cc_log_bounds(0.001, 0.01, 10, b, 32);
	assert_int_equal(n, 11);
	for (size_t i = 0; i < n; i++)
		assert_true(fabs(b[i] - want[i]) < 1e-12);
	/* never more than max; strictly increasing even when rounding meets */
	assert_int_equal(cc_log_bounds(1e-4, 1e4, 10, b, 5), 5);
	n = cc_log_bounds(1, 100, 30, b, 64);
	for (size_t i = 1; i < n; i++)
		assert_true(b[i] > b[i - 1]);
	assert_true(b[n - 1] >= 100);
}

static void test_help_escaping_and_order(void **state)
{
	(void)state;
	cc_metrics *m = cc_metrics_new();
	/* HELP escapes backslash and newline, not quotes */
	cc_counter_new(m, "b_total", "line one\nback\\slash \"quoted\"");
	cc_gauge_new(m, "a:ratio", "");
	assert_renders(m, "# HELP b_total line one\\nback\\\\slash "
	                  "\"quoted\"\n"
	                  "# TYPE b_total counter\n"
	                  "b_total 0\n"
	                  "# HELP a:ratio \n"
	                  "# TYPE a:ratio gauge\n"
	                  "a:ratio 0\n");
	cc_metrics_free(m);
}

/* Runs fn in a child and expects it to abort saying `message`. */
static void assert_dies(void (*fn)(void), const char *message)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 2);
		fn();
		_exit(0);
	}
	close(fds[1]);
	char buf[512];
	size_t n = 0;
	ssize_t k;
	while ((k = read(fds[0], buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)k;
	buf[n] = '\0';
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	if (!strstr(buf, message))
		fail_msg("wanted \"%s\" in \"%s\"", message, buf);
}

static void bad_name(void)
{
	cc_counter_new(cc_metrics_new(), "2fast", "h");
}

static void dup_name(void)
{
	cc_metrics *m = cc_metrics_new();
	cc_histogram_new(m, "lat", "h", NULL, 0);
	cc_counter_new(m, "lat_count", "h");
}

static void bad_label(void)
{
	cc_counter_vec_new(cc_metrics_new(), "x_total", "h", "ok,__reserved");
}

static void bad_bounds(void)
{
	const double b[] = {1, 1};
	cc_histogram_new(cc_metrics_new(), "h", "h", b, 2);
}

static void test_programming_errors_abort(void **state)
{
	(void)state;
	assert_dies(
	    bad_name,
	    "cellcommon: metrics: \"2fast\" is not a valid metric name");
	assert_dies(dup_name,
	            "cellcommon: metrics: \"lat_count\" is registered twice");
	assert_dies(bad_label, "cellcommon: metrics: x_total: \"__reserved\" "
	                       "is not a valid label name");
	assert_dies(bad_bounds, "cellcommon: metrics: h: bucket bounds must be "
	                        "finite and increasing");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_counter),
	    cmocka_unit_test(test_gauge),
	    cmocka_unit_test(test_gauge_fn),
	    cmocka_unit_test(test_labelled_counter),
	    cmocka_unit_test(test_histogram),
	    cmocka_unit_test(test_log_bounds),
	    cmocka_unit_test(test_help_escaping_and_order),
	    cmocka_unit_test(test_programming_errors_abort),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
