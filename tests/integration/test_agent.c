/* test_agent.c: real node agents on a real cell (one celld, a batch and a
 * service scheduler, two cellagent processes with different labels). Each
 * test submits jobs whose tasks are real processes and checks what a user
 * relies on: output readable with cellctl task logs, exit codes reported
 * and retried, killed and preempted tasks really stopped, a command that
 * does not exist refused with a note, and a drained machine letting its
 * task finish while taking no new one. */
#include "testlib.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cell.h"

#define WAIT_MS 60000

static struct lc_cell *cell;
static char scratch[256]; /* files tasks write (pids) and tests touch */

static const char *const agent_a[] = {"--labels", "zone=a,role=worker", "--cpu",
                                      "2000",     "--memory",           "4096",
                                      NULL};
static const char *const agent_b[] = {"--labels", "zone=b,role=worker", "--cpu",
                                      "2000",     "--memory",           "4096",
                                      NULL};

static int group_setup(void **state)
{
	(void)state;
	cell = tl_cell_start(1, NULL);
	snprintf(scratch, sizeof(scratch), "%s/scratch", cell->root);
	mkdir(scratch, 0700);
	tl_sched_wait_running(
	    &cell->s[tl_cell_sched_add(cell, "batch-1", "batch", NULL)],
	    WAIT_MS);
	tl_sched_wait_running(
	    &cell->s[tl_cell_sched_add(cell, "service-1", "service", NULL)],
	    WAIT_MS);
	tl_agent_wait_watching(&cell->a[tl_cell_agent_add(cell, "a1", agent_a)],
	                       WAIT_MS);
	tl_agent_wait_watching(&cell->a[tl_cell_agent_add(cell, "b1", agent_b)],
	                       WAIT_MS);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	tl_cell_stop(cell);
	return 0;
}

/* ---- helpers ---- */

/* The pid the task wrote to scratch/NAME.pid. */
static pid_t task_pid(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.pid", scratch, name);
	return tl_wait_pid_file(path, WAIT_MS);
}

static void wait_gone(pid_t pid, const char *what)
{
	tl_wait_pid_gone(pid, what, WAIT_MS);
}

static void touch(const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", scratch, name);
	tl_touch(path);
}

/* The pid a task wrote to scratch/NAME.pid, waiting for the file. */

static const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static long long jint(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

struct job_note {
	const char *job;
};

/* The job's scheduler tried and said why it could not place it. */
static bool has_note(void *arg)
{
	json_t *j = tl_job_get(cell, ((struct job_note *)arg)->job);
	bool ok = jstr(j, "note")[0] != 0;
	json_decref(j);
	return ok;
}

/* Runs cellctl with args; its stdout in out (malloc'd); returns the exit
 * status. */
static int cellctl(char **out, const char *const *args)
{
	char path[512], servers[TL_CELL_MAX * 64] = "";
	snprintf(path, sizeof(path), "%s/cellctl.out", scratch);
	for (int m = 0; m < cell->n; m++)
		snprintf(servers + strlen(servers),
		         sizeof(servers) - strlen(servers), "%s%s",
		         m ? "," : "", cell->m[m].url);
	const char *argv[32] = {tl_bin("cellctl"), "--server", servers};
	size_t n = 3;
	for (; *args && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (!freopen(path, "w", stdout))
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	*out = calloc(1, 1 << 16);
	size_t got = fread(*out, 1, (1 << 16) - 1, f);
	(*out)[got] = 0;
	fclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- tests ---- */

static void test_output_is_readable(void **state)
{
	(void)state;
	tl_job_submit(
	    cell, "{\"name\": \"hello\", \"class\": \"batch\", \"tasks\": 1,"
	          " \"resources\": {\"cpu\": 100, \"memory\": 32},"
	          " \"command\": \"/bin/sh\", \"args\": [\"-c\","
	          " \"echo hello from $CELL_JOB/$CELL_TASK attempt "
	          "$CELL_ATTEMPT on $CELL_MACHINE in $(basename $(dirname "
	          "$PWD)); echo $GREETING >&2\"],"
	          " \"env\": {\"GREETING\": \"hi there\"}}");
	tl_job_wait_state(cell, "hello", "succeeded", WAIT_MS);
	/* ended: the cell no longer says where it ran; cellctl finds out */
	char *out = NULL;
	const char *const logs[] = {"task", "logs", "hello", "0", NULL};
	assert_int_equal(cellctl(&out, logs), 0);
	if (strcmp(out, "hello from hello/0 attempt 0 on a1 in 0.0\n") &&
	    strcmp(out, "hello from hello/0 attempt 0 on b1 in 0.0\n"))
		fail_msg("unexpected output: \"%s\"", out);
	free(out);
	const char *const err[] = {"task", "logs",     "hello",
	                           "0",    "--stderr", NULL};
	assert_int_equal(cellctl(&out, err), 0);
	assert_string_equal(out, "hi there\n");
	free(out);
}

static void test_failure_is_retried_to_its_limit(void **state)
{
	(void)state;
	tl_job_submit(
	    cell, "{\"name\": \"three\", \"class\": \"batch\", \"tasks\": 1,"
	          " \"resources\": {\"cpu\": 100, \"memory\": 32},"
	          " \"max_retries\": 2, \"command\": \"/bin/sh\","
	          " \"args\": [\"-c\", \"exit 3\"]}");
	tl_job_wait_state(cell, "three", "failed", WAIT_MS);
	json_t *t = tl_task_get(cell, "three", 0);
	assert_string_equal(jstr(t, "state"), "failed");
	assert_int_equal(jint(t, "exit_code"), 3);
	assert_int_equal(jint(t, "failures"), 3); /* the first try + 2 */
	assert_int_equal(jint(t, "attempt"), 2);
	json_decref(t);
}

static void test_killed_job_stops_its_process(void **state)
{
	(void)state;
	tl_job_submit(
	    cell,
	    "{\"name\": \"sleeper\", \"class\": \"batch\", \"tasks\": 1,"
	    " \"resources\": {\"cpu\": 100, \"memory\": 32},"
	    " \"command\": \"/bin/sh\", \"args\": [\"-c\","
	    " \"echo $$ > %s/sleeper.pid; exec sleep 300\"]}",
	    scratch);
	pid_t pid = task_pid("sleeper");
	tl_task_wait_state(cell, "sleeper", 0, "running", NULL, WAIT_MS);
	char url[160];
	snprintf(url, sizeof(url), "%s/v1/jobs/sleeper",
	         cell->m[tl_cell_leader(cell, WAIT_MS)].url);
	assert_int_equal(tl_http("DELETE", url, NULL, NULL), 200);
	wait_gone(pid, "the killed job's task");
	json_t *t = tl_task_get(cell, "sleeper", 0);
	assert_string_equal(jstr(t, "state"), "killed");
	json_decref(t);
}

static void test_preempted_task_is_stopped(void **state)
{
	(void)state;
	/* two low-priority tasks fill both machines (2000 cpu each) */
	tl_job_submit(cell,
	              "{\"name\": \"low\", \"class\": \"batch\", \"tasks\": 2,"
	              " \"priority\": 100,"
	              " \"resources\": {\"cpu\": 2000, \"memory\": 32},"
	              " \"command\": \"/bin/sh\", \"args\": [\"-c\","
	              " \"echo $$ > %s/low-$CELL_TASK.pid; exec sleep 300\"]}",
	              scratch);
	pid_t low[2] = {task_pid("low-0"), task_pid("low-1")};
	tl_job_submit(
	    cell,
	    "{\"name\": \"high\", \"class\": \"service\", \"tasks\": 1,"
	    " \"priority\": 500,"
	    " \"resources\": {\"cpu\": 2000, \"memory\": 32},"
	    " \"command\": \"/bin/sh\", \"args\": [\"-c\","
	    " \"echo $$ > %s/high.pid; exec sleep 300\"]}",
	    scratch);
	tl_task_wait_state(cell, "high", 0, "running", NULL, WAIT_MS);
	pid_t high = task_pid("high");
	/* exactly one low task gave way, and its process is gone */
	json_t *t0 = tl_task_get(cell, "low", 0),
	       *t1 = tl_task_get(cell, "low", 1);
	bool first = !strcmp(jstr(t0, "state"), "pending");
	assert_true(first != !strcmp(jstr(t1, "state"), "pending"));
	assert_string_equal(jstr(first ? t1 : t0, "state"), "running");
	assert_string_equal(jstr(first ? t0 : t1, "last_end"), "preempted");
	wait_gone(low[first ? 0 : 1], "the preempted task");
	assert_int_equal(kill(low[first ? 1 : 0], 0), 0);
	json_decref(t0);
	json_decref(t1);
	char url[160];
	const char *leader = cell->m[tl_cell_leader(cell, WAIT_MS)].url;
	snprintf(url, sizeof(url), "%s/v1/jobs/high", leader);
	assert_int_equal(tl_http("DELETE", url, NULL, NULL), 200);
	snprintf(url, sizeof(url), "%s/v1/jobs/low", leader);
	assert_int_equal(tl_http("DELETE", url, NULL, NULL), 200);
	wait_gone(high, "the killed high task");
	wait_gone(low[first ? 1 : 0], "the killed low task");
}

static void test_missing_command_is_refused(void **state)
{
	(void)state;
	tl_job_submit(
	    cell, "{\"name\": \"nocmd\", \"class\": \"batch\", \"tasks\": 1,"
	          " \"resources\": {\"cpu\": 100, \"memory\": 32},"
	          " \"max_retries\": 1, \"command\": \"no-such-command-x\"}");
	tl_job_wait_state(cell, "nocmd", "failed", WAIT_MS);
	json_t *j = tl_job_get(cell, "nocmd");
	const char *note = jstr(j, "note");
	if (!strstr(note, "no-such-command-x") || !strstr(note, "not found"))
		fail_msg("the job's note does not say why: \"%s\"", note);
	json_t *t = json_array_get(json_object_get(j, "tasks"), 0);
	assert_int_equal(jint(t, "exit_code"), 127);
	json_decref(j);
}

static void test_drained_machine_lets_its_task_finish(void **state)
{
	(void)state;
	tl_job_submit(
	    cell,
	    "{\"name\": \"finish\", \"class\": \"batch\", \"tasks\": 1,"
	    " \"resources\": {\"cpu\": 100, \"memory\": 32},"
	    " \"constraints\": {\"labels\": {\"zone\": \"a\"}},"
	    " \"command\": \"/bin/sh\", \"args\": [\"-c\","
	    " \"echo $$ > %s/finish.pid; while [ ! -e %s/finish.go ];"
	    " do sleep 0.05; done\"]}",
	    scratch, scratch);
	pid_t pid = task_pid("finish");
	tl_task_wait_state(cell, "finish", 0, "running", "a1", WAIT_MS);
	char url[160];
	const char *leader = cell->m[tl_cell_leader(cell, WAIT_MS)].url;
	snprintf(url, sizeof(url), "%s/v1/machines/a1/drain", leader);
	assert_int_equal(tl_http("POST", url, NULL, NULL), 200);
	tl_job_submit(
	    cell, "{\"name\": \"later\", \"class\": \"batch\", \"tasks\": 1,"
	          " \"resources\": {\"cpu\": 100, \"memory\": 32},"
	          " \"constraints\": {\"labels\": {\"zone\": \"a\"}},"
	          " \"command\": \"/bin/true\"}");
	struct job_note n = {"later"};
	if (!tl_wait_until(has_note, &n, WAIT_MS))
		fail_msg("the scheduler never said why \"later\" waits");
	touch("finish.go");
	tl_job_wait_state(cell, "finish", "succeeded", WAIT_MS);
	wait_gone(pid, "the finished task");
	/* the drained machine took nothing new */
	json_t *t = tl_task_get(cell, "later", 0);
	assert_string_equal(jstr(t, "state"), "pending");
	json_decref(t);
	snprintf(url, sizeof(url), "%s/v1/machines/a1/undrain", leader);
	assert_int_equal(tl_http("POST", url, NULL, NULL), 200);
	tl_job_wait_state(cell, "later", "succeeded", WAIT_MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_output_is_readable),
	    cmocka_unit_test(test_failure_is_retried_to_its_limit),
	    cmocka_unit_test(test_killed_job_stops_its_process),
	    cmocka_unit_test(test_preempted_task_is_stopped),
	    cmocka_unit_test(test_missing_command_is_refused),
	    cmocka_unit_test(test_drained_machine_lets_its_task_finish),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
