/* test_cellbench.c: the pure parts of cellbench: the seeded workload, the
 * prefill plan, reading Prometheus text and histogram quantiles, and the
 * CSV rows. */
#include "testlib.h"

#include "cellbench.h"
#include "tl_tmpdir.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint32_t cpu[4] = {100, 200, 300, 400};
static const uint32_t mem[4] = {1, 2, 3, 4};

static struct cb_workload two_classes(void)
{
	struct cb_workload w = {.window = 10000};
	w.batch = (struct cb_class){.rate = 0.5,
	                            .tasks_mean = 40,
	                            .tasks_max = 1000,
	                            .duration_mean = 300,
	                            .cpu = cpu,
	                            .mem = mem};
	w.service = (struct cb_class){.rate = 0.05,
	                              .tasks_mean = 8,
	                              .tasks_max = 20,
	                              .duration_mean = 1e6,
	                              .cpu = cpu,
	                              .mem = mem};
	return w;
}

static void test_workload_is_reproducible(void **state)
{
	(void)state;
	uint64_t seed = tl_seed("workload");
	struct cb_workload w = two_classes();
	struct cb_job *a, *b, *c;
	size_t na = cb_workload_draw(&w, seed, &a);
	size_t nb = cb_workload_draw(&w, seed, &b);
	size_t nc = cb_workload_draw(&w, seed + 1, &c);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(*a));
	assert_false(na == nc && !memcmp(a, c, na * sizeof(*a)));
	free(a);
	free(b);
	free(c);
}

static void test_workload_follows_its_distributions(void **state)
{
	(void)state;
	uint64_t seed = tl_seed("distributions");
	struct cb_workload w = two_classes();
	struct cb_job *jobs;
	size_t n = cb_workload_draw(&w, seed, &jobs);
	double batch = 0, service = 0, btasks = 0, stasks = 0;
	for (size_t i = 0; i < n; i++) {
		const struct cb_job *j = &jobs[i];
		assert_true(j->at >= 0 && j->at < w.window);
		assert_true(!i || jobs[i - 1].at <= j->at); /* arrival order */
		assert_true(j->tasks >= 1);
		assert_true(j->duration >= 1);
		assert_true(j->cpu >= 100 && j->cpu <= 400 &&
		            j->cpu % 100 == 0);
		assert_int_equal(j->zone, 0);
		if (j->service) {
			service++;
			stasks += j->tasks;
			assert_true(j->tasks <= 20);
		} else {
			batch++;
			btasks += j->tasks;
		}
	}
	/* 5,000 batch and 500 service jobs expected: Poisson counts within
	 * 5 standard deviations, means within 10% */
	assert_true(fabs(batch - 5000) < 5 * sqrt(5000));
	assert_true(fabs(service - 500) < 5 * sqrt(500));
	assert_true(fabs(btasks / batch - 40) < 4);
	assert_true(stasks / service > 5 && stasks / service <= 8.8);
	free(jobs);
}

static void test_burst_with_zones(void **state)
{
	(void)state;
	struct cb_workload w = {.burst_jobs = 10, .burst_tasks = 7, .zones = 3};
	w.batch =
	    (struct cb_class){.duration_mean = 60, .cpu = cpu, .mem = mem};
	struct cb_job *jobs;
	size_t n = cb_workload_draw(&w, 1, &jobs);
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++) {
		assert_true(jobs[i].at == 0);
		assert_int_equal(jobs[i].tasks, 7);
		assert_true(jobs[i].duration == 60);
		assert_int_equal(jobs[i].zone, i % 3 + 1);
	}
	free(jobs);
}

static void test_prefill_plan(void **state)
{
	(void)state;
	uint32_t counts[1000];
	uint64_t total = cb_prefill_draw(1000, 0.6, tl_seed("prefill"), counts);
	uint64_t sum = 0;
	for (int i = 0; i < 1000; i++) {
		/* 0.6 x 16 = 9.6, rounded to 10, plus or minus 2 */
		assert_true(counts[i] >= 8 && counts[i] <= 12);
		sum += counts[i];
	}
	assert_int_equal(total, sum);
	assert_true(fabs((double)sum / 1000 / CB_PREFILL_SLICES - 0.625) <
	            0.02);
	assert_int_equal(cb_prefill_draw(1000, 0, 5, counts), 0);
	assert_int_equal(cb_prefill_draw(10, 1, 5, counts) <= 160, 1);
}

static const char metrics[] =
    "# HELP cellsched_txns_total Answered transactions\n"
    "# TYPE cellsched_txns_total counter\n"
    "cellsched_txns_total{outcome=\"committed\"} 40\n"
    "cellsched_txns_total{outcome=\"partial\"} 3\n"
    "cellsched_txns_total{outcome=\"rejected\"} 2\n"
    "cellsched_txns_total_extra 1000\n"
    "cellsched_busy_seconds_total 1.5\n"
    "w_bucket{le=\"1\"} 10\n"
    "w_bucket{le=\"2\"} 20\n"
    "w_bucket{le=\"4\"} 20\n"
    "w_bucket{le=\"+Inf\"} 24\n"
    "w_sum 60\n"
    "w_count 24\n";

static void test_prometheus_sums(void **state)
{
	(void)state;
	assert_true(cb_prom_sum(metrics, "cellsched_txns_total", NULL) == 45);
	assert_true(cb_prom_sum(metrics, "cellsched_txns_total",
	                        "outcome=\"partial\"") == 3);
	assert_true(cb_prom_sum(metrics, "cellsched_txns_total",
	                        "outcome=\"error\"") == 0);
	assert_true(
	    cb_prom_sum(metrics, "cellsched_busy_seconds_total", NULL) == 1.5);
	assert_true(cb_prom_sum(metrics, "cellsched_busy", NULL) == 0);
}

static void test_histogram_quantiles(void **state)
{
	(void)state;
	struct cb_hist h, d = {0};
	assert_true(cb_prom_hist(metrics, "w", &h));
	assert_int_equal(h.n, 4);
	assert_true(h.count == 24 && h.sum == 60);
	/* rank 0.5 x 24 = 12 lies in (1, 2]: 1 + (12 - 10) / 10 */
	assert_true(fabs(cb_hist_quantile(&h, 0.5) - 1.2) < 1e-9);
	/* rank 6 in the first bucket, from 0 */
	assert_true(fabs(cb_hist_quantile(&h, 0.25) - 0.6) < 1e-9);
	/* rank 23.76 in +Inf: the last finite bound */
	assert_true(cb_hist_quantile(&h, 0.99) == 4);
	/* a delta of the same histogram is empty */
	assert_true(cb_hist_add(&d, &h, 1) && cb_hist_add(&d, &h, -1));
	assert_true(isnan(cb_hist_quantile(&d, 0.5)));
	struct cb_hist other = h;
	other.le[0] = 0.5;
	assert_false(cb_hist_add(&d, &other, 1));
	assert_false(cb_prom_hist(metrics, "nothing", &h));
}

static void test_csv_round_trip(void **state)
{
	(void)state;
	char *dir = tl_tmpdir_make("cellbench");
	char path[512], err[256];
	snprintf(path, sizeof(path), "%s/x.csv", dir);
	struct cb_row r = {0};
	cb_row_set(&r, CB_experiment, "omega-tjob");
	cb_row_setd(&r, CB_conflict_fraction, 0.125);
	cb_row_setd(&r, CB_wait_mean_s, NAN); /* not measured: empty */
	cb_row_set(&r, CB_command, "cellbench run \"x\", y");
	assert_int_equal(cb_csv_append(path, &r, err, sizeof(err)), 0);
	cb_row_setd(&r, CB_conflict_fraction, 2);
	assert_int_equal(cb_csv_append(path, &r, err, sizeof(err)), 0);
	cb_row_clear(&r);
	struct cb_row *rows;
	size_t n;
	assert_int_equal(cb_csv_read(path, &rows, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].v[CB_experiment], "omega-tjob");
	assert_string_equal(rows[0].v[CB_conflict_fraction], "0.125");
	assert_string_equal(rows[1].v[CB_conflict_fraction], "2");
	assert_null(rows[0].v[CB_wait_mean_s]);
	assert_string_equal(rows[1].v[CB_command], "cellbench run \"x\", y");
	cb_rows_free(rows, n);
	/* a row with a missing field is refused with its line */
	FILE *f = fopen(path, "a");
	fputs("a,b,c\n", f);
	fclose(f);
	assert_int_equal(cb_csv_read(path, &rows, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "x.csv:4: 3 fields, expected"));
	/* a file with another header is neither read nor appended to */
	f = fopen(path, "w");
	fputs("run,experiment\n", f);
	fclose(f);
	cb_row_set(&r, CB_experiment, "c1m");
	assert_int_equal(cb_csv_append(path, &r, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "x.csv:1: column 3 is \"\", expected "
	                            "\"point\""));
	cb_row_clear(&r);
	tl_tmpdir_remove(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_workload_is_reproducible),
	    cmocka_unit_test(test_workload_follows_its_distributions),
	    cmocka_unit_test(test_burst_with_zones),
	    cmocka_unit_test(test_prefill_plan),
	    cmocka_unit_test(test_prometheus_sums),
	    cmocka_unit_test(test_histogram_quantiles),
	    cmocka_unit_test(test_csv_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
