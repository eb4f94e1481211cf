/* test_sched_cluster.c: schedulers on a real cell (three celld on loopback,
 * cellsched processes as Raft standbys). Several schedulers place 20,000
 * tasks at once on 2,000 machines, one of them crashes in the middle, and
 * at the end every task is placed exactly once, no machine is over
 * capacity, the conflicts that happened were resolved, and every replica
 * (voters and schedulers) holds the same state. Also: a clean shutdown
 * leaves the cell, and a job that can never fit says so. */
#include "testlib.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cell.h"

#define MACHINES      2000
#define MACHINE_CPU   1200
#define BATCH_JOBS    180
#define BATCH_TASKS   100 /* 18,000 tasks of cpu 100 */
#define SERVICE_JOBS  40
#define SERVICE_TASKS 50 /* 2,000 tasks of cpu 200: 92% of all cpu */
#define TOTAL_TASKS   (BATCH_JOBS * BATCH_TASKS + SERVICE_JOBS * SERVICE_TASKS)

static const char *const cell_flags[] = {"--sched-ttl", "2s", NULL};

static int teardown(void **state)
{
	tl_cell_stop(*state);
	return 0;
}

static const char *leader_url(struct lc_cell *c)
{
	int i = tl_cell_leader(c, 30000);
	if (i < 0)
		fail_msg("no leader");
	return c->m[i].url;
}

static json_t *post_txn(struct lc_cell *c, json_t *ops)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/v1/txn", leader_url(c));
	json_t *body = json_pack("{s:o}", "ops", ops), *out = NULL;
	long st = tl_http("POST", url, body, &out);
	json_decref(body);
	if (st != 200)
		fail_msg("POST /v1/txn: %ld", st);
	return out;
}

static void add_machines(struct lc_cell *c)
{
	static const char *const zones[] = {"a", "b", "c"};
	json_t *ops = json_array();
	char name[16];
	for (int i = 0; i < MACHINES; i++) {
		snprintf(name, sizeof(name), "m%04d", i);
		json_array_append_new(
		    ops, json_pack("{s:s,s:{s:s,s:{s:s},s:{s:i,s:i}}}", "op",
		                   "machine_put", "machine", "name", name,
		                   "labels", "zone", zones[i % 3], "capacity",
		                   "cpu", MACHINE_CPU, "memory", MACHINE_CPU));
	}
	json_t *res = post_txn(c, ops);
	assert_int_equal(json_integer_value(json_object_get(res, "accepted")),
	                 MACHINES);
	json_decref(res);
}

static json_t *job_op(const char *name, const char *cls, int tasks, int cpu)
{
	return json_pack("{s:s,s:{s:s,s:s,s:i,s:{s:i,s:i},s:i}}", "op",
	                 "job_put", "job", "name", name, "class", cls, "tasks",
	                 tasks, "resources", "cpu", cpu, "memory", cpu,
	                 "duration_ms", 60000);
}

static void submit_jobs(struct lc_cell *c)
{
	json_t *ops = json_array();
	char name[16];
	for (int i = 0; i < BATCH_JOBS; i++) {
		snprintf(name, sizeof(name), "b%03d", i);
		json_array_append_new(ops,
		                      job_op(name, "batch", BATCH_TASKS, 100));
		if (i < SERVICE_JOBS) { /* interleaved: both kinds at once */
			snprintf(name, sizeof(name), "s%03d", i);
			json_array_append_new(
			    ops, job_op(name, "service", SERVICE_TASKS, 200));
		}
	}
	json_t *res = post_txn(c, ops);
	assert_int_equal(json_integer_value(json_object_get(res, "accepted")),
	                 BATCH_JOBS + SERVICE_JOBS);
	json_decref(res);
}

/* Tasks assigned in the whole cell, from the leader's job list. */
static long assigned_tasks(struct lc_cell *c)
{
	char url[128];
	snprintf(url, sizeof(url), "%s/v1/jobs?limit=10000", leader_url(c));
	json_t *out = NULL;
	if (tl_http("GET", url, NULL, &out) != 200) {
		json_decref(out);
		return -1;
	}
	long n = 0;
	size_t i;
	json_t *j;
	json_array_foreach (json_object_get(out, "jobs"), i, j) {
		n += (long)json_integer_value(
		    json_object_get(json_object_get(j, "counts"), "assigned"));
	}
	json_decref(out);
	return n;
}

struct progress {
	struct lc_cell *c;
	long want;
};

static bool placed_at_least(void *arg)
{
	struct progress *p = arg;
	return assigned_tasks(p->c) >= p->want;
}

static json_int_t work(const json_t *status, const char *field)
{
	return json_integer_value(
	    json_object_get(json_object_get(status, "work"), field));
}

/* Every running replica, voter or scheduler, at the same index with the
 * same state hash. */
static bool replicas_agree(void *arg)
{
	struct lc_cell *c = arg;
	json_t *ref = tl_cell_status(&c->m[0]);
	bool same = ref != NULL;
	for (int i = 1; same && i < c->n; i++) {
		json_t *st = tl_cell_status(&c->m[i]);
		same = st &&
		       json_equal(json_object_get(st, "applied_index"),
		                  json_object_get(ref, "applied_index")) &&
		       json_equal(json_object_get(st, "state_hash"),
		                  json_object_get(ref, "state_hash"));
		json_decref(st);
	}
	for (int i = 0; same && i < c->nsched; i++) {
		if (!c->s[i].pid)
			continue;
		json_t *st = tl_sched_status(&c->s[i]);
		same = st &&
		       json_equal(json_object_get(st, "applied_index"),
		                  json_object_get(ref, "applied_index")) &&
		       json_equal(json_object_get(st, "state_hash"),
		                  json_object_get(ref, "state_hash"));
		json_decref(st);
	}
	json_decref(ref);
	return same;
}

/* From the leader: every task assigned on its first attempt (placed once,
 * never taken back), and every machine within its capacity. */
static void check_final_state(struct lc_cell *c)
{
	char url[128];
	json_t *out = NULL;
	snprintf(url, sizeof(url), "%s/v1/tasks?limit=1000000", leader_url(c));
	assert_int_equal(tl_http("GET", url, NULL, &out), 200);
	json_t *tasks = json_object_get(out, "tasks");
	assert_int_equal(json_array_size(tasks), TOTAL_TASKS);
	size_t i;
	json_t *t;
	json_array_foreach (tasks, i, t) {
		const char *st = json_string_value(json_object_get(t, "state"));
		if (strcmp(st, "assigned") ||
		    json_integer_value(json_object_get(t, "attempt")) != 0)
			fail_msg(
			    "task %s/%lld is %s at attempt %lld",
			    json_string_value(json_object_get(t, "job")),
			    json_integer_value(json_object_get(t, "index")), st,
			    json_integer_value(json_object_get(t, "attempt")));
	}
	json_decref(out);
	snprintf(url, sizeof(url), "%s/v1/machines?limit=100000",
	         leader_url(c));
	assert_int_equal(tl_http("GET", url, NULL, &out), 200);
	json_t *m;
	json_array_foreach (json_object_get(out, "machines"), i, m) {
		json_t *cap = json_object_get(m, "capacity");
		json_t *alloc = json_object_get(m, "allocated");
		if (json_integer_value(json_object_get(alloc, "cpu")) >
		    json_integer_value(json_object_get(cap, "cpu")))
			fail_msg("machine %s over capacity",
			         json_string_value(json_object_get(m, "name")));
	}
	json_decref(out);
}

static bool registry_lacks(struct lc_cell *c, const char *name)
{
	char url[160];
	snprintf(url, sizeof(url), "%s/v1/schedulers/%s", leader_url(c), name);
	return tl_http("GET", url, NULL, NULL) == 404;
}

struct gone {
	struct lc_cell *c;
	const char *name;
};

static bool sched_gone(void *arg)
{
	struct gone *g = arg;
	return registry_lacks(g->c, g->name);
}

static void test_many_schedulers(void **state)
{
	struct lc_cell *c = *state = tl_cell_start(3, cell_flags);
	/* 40 ms of Omega decision time per batch job: a few seconds of work
	 * each, so batch-2 still owns unplaced jobs when it crashes */
	static const char *const slow[] = {"--think-job", "40ms", NULL};
	static const char *const coarse[] = {"--detect", "coarse",
	                                     "--think-job", "40ms", NULL};
	tl_cell_sched_add(c, "batch-1", "batch", slow);
	int b2 = tl_cell_sched_add(c, "batch-2", "batch", slow);
	tl_cell_sched_add(c, "service-1", "service", NULL);
	tl_cell_sched_add(c, "batch-coarse", "batch", coarse);
	for (int i = 0; i < c->nsched; i++)
		tl_sched_wait_running(&c->s[i], 60000);
	add_machines(c);
	submit_jobs(c);

	/* a third of the way in, batch-2 crashes: its lease runs out and
	 * its jobs move to the other batch schedulers */
	struct progress p = {c, TOTAL_TASKS / 3};
	if (!tl_wait_until(placed_at_least, &p, 120000))
		fail_msg("fewer than %ld tasks placed after 120 s", p.want);
	json_t *before = tl_sched_status(&c->s[b2]);
	tl_kill_wait(&c->s[b2].pid, SIGKILL);
	if (work(before, "owned") == 0)
		fail_msg("batch-2 had no work left when it crashed: the test "
		         "proves nothing");
	struct gone g = {c, "batch-2"};
	if (!tl_wait_until(sched_gone, &g, 30000))
		fail_msg("batch-2 still registered 30 s after its crash");
	p.want = TOTAL_TASKS;
	if (!tl_wait_until(placed_at_least, &p, 180000))
		fail_msg("only %ld of %d tasks placed", assigned_tasks(c),
		         TOTAL_TASKS);
	if (!tl_wait_until(replicas_agree, c, 30000))
		fail_msg("replicas disagree after the work is done");
	check_final_state(c);

	json_int_t conflicted = 0, placed = work(before, "tasks_placed");
	json_decref(before);
	for (int i = 0; i < c->nsched; i++) {
		if (i == b2)
			continue;
		json_t *st = tl_sched_status(&c->s[i]);
		conflicted += work(st, "txns_conflicted");
		placed += work(st, "tasks_placed");
		assert_int_equal(work(st, "parked"), 0);
		assert_int_equal(work(st, "owned"), 0);
		json_decref(st);
	}
	/* schedulers raced for the same machines, and lost some races */
	assert_true(conflicted > 0);
	/* what batch-2 placed after its last status counts in neither sum */
	assert_true(placed <= TOTAL_TASKS);
}

/* SIGTERM: the scheduler unregisters and leaves the membership itself. */
static bool member_listed(struct lc_cell *c, const char *raft_port)
{
	char url[128];
	json_t *out = NULL;
	snprintf(url, sizeof(url), "%s/v1/members", leader_url(c));
	if (tl_http("GET", url, NULL, &out) != 200)
		fail_msg("GET /v1/members failed");
	char *text = json_dumps(out, JSON_COMPACT);
	bool found = strstr(text, raft_port) != NULL;
	free(text);
	json_decref(out);
	return found;
}

/* The job's note says why it waits. */
static bool huge_noted(void *arg)
{
	char url[128];
	json_t *j = NULL;
	snprintf(url, sizeof(url), "%s/v1/jobs/huge", leader_url(arg));
	tl_http("GET", url, NULL, &j);
	const char *n = json_string_value(json_object_get(j, "note"));
	bool noted = n && strstr(n, "unplaceable") && strstr(n, "cpu=64000");
	json_decref(j);
	return noted;
}

static void test_clean_leave_and_unplaceable(void **state)
{
	struct lc_cell *c = *state = tl_cell_start(3, cell_flags);
	int s = tl_cell_sched_add(c, "lonely", "batch", NULL);
	tl_sched_wait_running(&c->s[s], 60000);
	char port[16];
	snprintf(port, sizeof(port), ":%d\"", c->s[s].raft_port);
	assert_true(member_listed(c, port));

	json_t *ops = json_array();
	json_array_append_new(ops, json_pack("{s:s,s:{s:s,s:{s:i,s:i}}}", "op",
	                                     "machine_put", "machine", "name",
	                                     "small", "capacity", "cpu", 1000,
	                                     "memory", 1000));
	json_array_append_new(ops, job_op("huge", "batch", 2, 64000));
	json_array_append_new(ops, job_op("fits", "batch", 2, 100));
	json_decref(post_txn(c, ops));
	struct progress p = {c, 2};
	if (!tl_wait_until(placed_at_least, &p, 60000))
		fail_msg("the job that fits was not placed");
	if (!tl_wait_until(huge_noted, c, 30000))
		fail_msg("job huge has no note saying it can never fit");

	int st = tl_kill_wait(&c->s[s].pid, SIGTERM);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(registry_lacks(c, "lonely"));
	assert_false(member_listed(c, port));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_clean_leave_and_unplaceable,
	                              teardown),
	    cmocka_unit_test_teardown(test_many_schedulers, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
