/* test_agent_hollow.c: one hollow cellagent process carries 5,000
 * simulated machines on a real cell (one celld with machine liveness, two
 * batch schedulers): every machine registers and stays up on batched
 * heartbeats, and 50,000 simulated tasks run to completion, each attempt
 * started exactly once. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"

#define MACHINES 5000
#define JOBS     100
#define TASKS    500 /* per job: 50,000 in all */
#define WAIT_MS  300000

static const char *const cell_flags[] = {"--machine-ttl", "10s", NULL};

static int teardown(void **state)
{
	tl_cell_stop(*state);
	return 0;
}

static long long jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

struct count {
	struct lc_cell *c;
	const char *path, *key;
	long long want;
};

/* The machine or job listing's length, filtered by the query in path. */
static bool listed(void *arg)
{
	struct count *w = arg;
	char url[256];
	json_t *out = NULL;
	snprintf(url, sizeof(url), "%s%s",
	         w->c->m[tl_cell_leader(w->c, 30000)].url, w->path);
	tl_http("GET", url, NULL, &out);
	json_t *list = json_object_get(out, w->key);
	long long n = 0;
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v) {
		const char *st = json_string_value(json_object_get(v, "state"));
		n += st && (!strcmp(st, "up") || !strcmp(st, "succeeded"));
	}
	json_decref(out);
	return n == w->want;
}

static void test_hollow_machines_run_simulated_tasks(void **state)
{
	struct lc_cell *c = tl_cell_start(1, cell_flags);
	*state = c;
	const char *const hollow[] = {"--hollow", "5000", NULL};
	int a = tl_cell_agent_add(c, "h", hollow);
	tl_sched_wait_running(
	    &c->s[tl_cell_sched_add(c, "batch-1", "batch", NULL)], WAIT_MS);
	tl_sched_wait_running(
	    &c->s[tl_cell_sched_add(c, "batch-2", "batch", NULL)], WAIT_MS);
	tl_agent_wait_watching(&c->a[a], WAIT_MS);
	struct count up = {c, "/v1/machines?limit=10000", "machines", MACHINES};
	if (!tl_wait_until(listed, &up, WAIT_MS))
		fail_msg("not all %d hollow machines are up", MACHINES);

	for (int j = 0; j < JOBS; j++)
		tl_job_submit(c,
		              "{\"name\": \"sim-%03d\", \"class\": \"batch\","
		              " \"tasks\": %d, \"resources\": {\"cpu\": 100,"
		              " \"memory\": 64}, \"duration_ms\": %d}",
		              j, TASKS, 50 + j % 5 * 50);
	struct count done = {c, "/v1/jobs?limit=1000", "jobs", JOBS};
	if (!tl_wait_until(listed, &done, WAIT_MS))
		fail_msg("not all %d jobs succeeded", JOBS);

	/* every task succeeded at its first attempt, started once */
	for (int j = 0; j < JOBS; j += 33) {
		char name[16];
		snprintf(name, sizeof(name), "sim-%03d", j);
		json_t *job = tl_job_get(c, name);
		json_t *counts = json_object_get(job, "counts");
		assert_int_equal(jint(counts, "succeeded"), TASKS);
		json_decref(job);
	}
	json_t *st = tl_agent_status(&c->a[a]);
	json_t *tasks = json_object_get(st, "tasks");
	assert_int_equal(jint(st, "machines"), MACHINES);
	assert_int_equal(jint(tasks, "started"), JOBS * TASKS);
	assert_int_equal(jint(tasks, "refused"), 0);
	assert_int_equal(jint(tasks, "running"), 0);
	json_decref(st);
	/* and the batched heartbeats still keep every machine up */
	assert_true(listed(&up));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_hollow_machines_run_simulated_tasks,
	                              teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
