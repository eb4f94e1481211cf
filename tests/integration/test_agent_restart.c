/* test_agent_restart.c: node agents that stop and come back, on a real
 * cell with machine liveness (--machine-ttl 2s). An agent stopped while its
 * task runs adopts the task again and reports its real exit code; a task
 * that ends while its agent is away is reported when the agent returns;
 * and after kill -9 of an agent, its machine goes down, its task runs
 * again on another machine, and the agent, once restarted, kills its old
 * copy and never runs that attempt again. */
#include "testlib.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cell.h"

#define WAIT_MS 60000
#define TTL_MS  2000

static const char *const cell_flags[] = {"--machine-ttl", "2s", NULL};
static const char *const worker_a[] = {"--labels", "zone=a,role=worker",
                                       "--cpu", "1000", NULL};
static const char *const worker_b[] = {"--labels", "zone=b,role=worker",
                                       "--cpu", "1000", NULL};

struct fx {
	struct lc_cell *c;
	char scratch[256];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->c = tl_cell_start(1, cell_flags);
	*state = f;
	snprintf(f->scratch, sizeof(f->scratch), "%s/scratch", f->c->root);
	mkdir(f->scratch, 0700);
	int s = tl_cell_sched_add(f->c, "batch-1", "batch", NULL);
	int a = tl_cell_agent_add(f->c, "a1", worker_a);
	int b = tl_cell_agent_add(f->c, "b1", worker_b);
	tl_sched_wait_running(&f->c->s[s], WAIT_MS);
	tl_agent_wait_watching(&f->c->a[a], WAIT_MS);
	tl_agent_wait_watching(&f->c->a[b], WAIT_MS);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tl_cell_stop(f->c);
	free(f);
	return 0;
}

static pid_t task_pid(struct fx *f, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.pid", f->scratch, name);
	return tl_wait_pid_file(path, WAIT_MS);
}

static void wait_gone(pid_t pid, const char *what)
{
	tl_wait_pid_gone(pid, what, WAIT_MS);
}

static void touch(struct fx *f, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", f->scratch, name);
	tl_touch(path);
}

static long long jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* A task on a1 that waits for scratch/NAME.go, then exits with `code`. */
static void submit_waiter(struct fx *f, const char *name, int code)
{
	tl_job_submit(f->c,
	              "{\"name\": \"%s\", \"class\": \"batch\", \"tasks\": 1,"
	              " \"max_retries\": 0,"
	              " \"resources\": {\"cpu\": 100, \"memory\": 32},"
	              " \"constraints\": {\"labels\": {\"zone\": \"a\"}},"
	              " \"command\": \"/bin/sh\", \"args\": [\"-c\","
	              " \"echo $$ > %s/%s.pid; while [ ! -e %s/%s.go ];"
	              " do sleep 0.05; done; exit %d\"]}",
	              name, f->scratch, name, f->scratch, name, code);
	tl_task_wait_state(f->c, name, 0, "running", "a1", WAIT_MS);
}

static void test_restart_adopts_running_task(void **state)
{
	struct fx *f = *state;
	submit_waiter(f, "adopt", 4);
	pid_t pid = task_pid(f, "adopt");
	tl_kill_wait(&f->c->a[0].pid, SIGTERM);
	assert_int_equal(kill(pid, 0),
	                 0); /* an agent's stop is not the task's */
	tl_agent_restart(f->c, 0);
	tl_agent_wait_watching(&f->c->a[0], WAIT_MS);
	touch(f, "adopt.go");
	tl_job_wait_state(f->c, "adopt", "failed", WAIT_MS);
	json_t *t = tl_task_get(f->c, "adopt", 0);
	assert_int_equal(jint(t, "exit_code"), 4); /* its real exit code */
	assert_int_equal(jint(t, "attempt"), 0);
	json_decref(t);
}

static void test_end_while_away_is_reported(void **state)
{
	struct fx *f = *state;
	submit_waiter(f, "away", 6);
	pid_t pid = task_pid(f, "away");
	tl_kill_wait(&f->c->a[0].pid, SIGTERM);
	touch(f, "away.go");
	wait_gone(pid, "the task");
	tl_agent_restart(f->c, 0);
	tl_job_wait_state(f->c, "away", "failed", WAIT_MS);
	json_t *t = tl_task_get(f->c, "away", 0);
	assert_int_equal(jint(t, "exit_code"), 6);
	json_decref(t);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int attempt_folders(const struct lc_daemon *a, const char *job)
{
	char path[512];
	int n = 0;
	for (int attempt = 0; attempt < 4; attempt++) {
		snprintf(path, sizeof(path), "%s/tasks/%s/0.%d", a->dir, job,
		         attempt);
		n += access(path, F_OK) == 0;
	}
	return n;
}

static void test_kill9_moves_tasks_and_old_copies_die(void **state)
{
	struct fx *f = *state;
	tl_job_submit(
	    f->c,
	    "{\"name\": \"mover\", \"class\": \"batch\", \"tasks\": 1,"
	    " \"resources\": {\"cpu\": 100, \"memory\": 32},"
	    " \"constraints\": {\"labels\": {\"role\": \"worker\"}},"
	    " \"command\": \"/bin/sh\", \"args\": [\"-c\","
	    " \"echo $$ > %s/mover-$CELL_MACHINE.pid; exec sleep 300\"]}",
	    f->scratch);
	tl_task_wait_state(f->c, "mover", 0, "running", NULL, WAIT_MS);
	json_t *t = tl_task_get(f->c, "mover", 0);
	bool on_a =
	    !strcmp(json_string_value(json_object_get(t, "machine")), "a1");
	json_decref(t);
	int victim = on_a ? 0 : 1;
	const char *other = on_a ? "b1" : "a1";
	char name[64];
	snprintf(name, sizeof(name), "mover-%s", f->c->a[victim].name);
	pid_t old = task_pid(f, name);

	double t0 = now_s();
	tl_kill_wait(&f->c->a[victim].pid, SIGKILL);
	tl_task_wait_state(f->c, "mover", 0, "running", other, WAIT_MS);
	double moved = now_s() - t0;
	print_message("[ INFO     ] task running on %s %.2f s after kill -9 "
	              "(machine TTL %.1f s)\n",
	              other, moved, TTL_MS / 1000.0);
	t = tl_task_get(f->c, "mover", 0);
	assert_int_equal(jint(t, "attempt"), 1);
	json_decref(t);
	assert_int_equal(kill(old, 0), 0); /* nobody told it yet */

	tl_agent_restart(f->c, victim);
	tl_agent_wait_watching(&f->c->a[victim], WAIT_MS);
	wait_gone(old, "the moved task's old copy");
	/* never run again there: only attempt 0 has a folder on the victim */
	assert_int_equal(attempt_folders(&f->c->a[victim], "mover"), 1);
	tl_task_wait_state(f->c, "mover", 0, "running", other, WAIT_MS);
	t = tl_task_get(f->c, "mover", 0);
	assert_int_equal(jint(t, "attempt"), 1);
	json_decref(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_restart_adopts_running_task,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_end_while_away_is_reported,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_kill9_moves_tasks_and_old_copies_die, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
