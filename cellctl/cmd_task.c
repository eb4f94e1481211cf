/* cmd_task.c: `cellctl task list`: tasks across jobs, filtered by job,
 * machine and state (the filters run in the cell); `cellctl task logs`: one
 * attempt's output, read from the node agent of the machine it ran on. */
#include "cellctl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static struct {
	char *job, *machine, *state;
	uint64_t limit;
	char *attempt; /* logs: text, so that "not given" differs from 0 */
	bool err_stream;
	uint64_t tail;
} T;

static int by_job_index(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(jstr(x, "job"), jstr(y, "job"));
	if (c)
		return c;
	return (jint(x, "index") > jint(y, "index")) -
	       (jint(x, "index") < jint(y, "index"));
}

/* The query string of the filters, each value percent-encoded. */
static void task_path(char *path, size_t len)
{
	const char *names[] = {"job", "machine", "state", NULL};
	const char *values[] = {T.job, T.machine, T.state};
	char sep = '?';
	snprintf(path, len, "/v1/tasks");
	for (size_t i = 0; names[i]; i++) {
		if (!values[i])
			continue;
		snprintf(path + strlen(path), len - strlen(path), "%c%s=", sep,
		         names[i]);
		cc_url_escape(path, len, values[i]);
		sep = '&';
	}
	if (T.limit)
		snprintf(path + strlen(path), len - strlen(path),
		         "%climit=%" PRIu64, sep, T.limit);
}

static void task_table(const struct ctl *c, json_t **tasks, size_t n)
{
	static const char *const narrow[] = {"JOB",     "TASK",    "STATE",
	                                     "MACHINE", "ATTEMPT", NULL};
	static const char *const wide[] = {"JOB",       "TASK",     "STATE",
	                                   "MACHINE",   "ATTEMPT",  "FAILURES",
	                                   "EXIT CODE", "LAST END", NULL};
	struct table *t = table_new(c->wide ? wide : narrow);
	for (size_t i = 0; i < n; i++) {
		table_row(t);
		table_cell(t, jstr(tasks[i], "job"));
		table_cellf(t, "%lld", jint(tasks[i], "index"));
		table_cell(t, jstr(tasks[i], "state"));
		table_cell(t, *jstr(tasks[i], "machine")
		                  ? jstr(tasks[i], "machine")
		                  : "-");
		table_cellf(t, "%lld", jint(tasks[i], "attempt"));
		if (!c->wide)
			continue;
		table_cellf(t, "%lld", jint(tasks[i], "failures"));
		table_cellf(t, "%lld", jint(tasks[i], "exit_code"));
		table_cell(t, jstr(tasks[i], "last_end"));
	}
	table_print(t, stdout);
}

static int task_list(struct ctl *c, int argc, char **argv)
{
	char path[512];
	json_t *body, *k;
	size_t i, n = 0;
	if (argc > 0)
		return ctl_usage(c, "unexpected argument \"%.64s\"", argv[0]);
	if (T.state && cs_task_state_parse(T.state) < 0)
		return ctl_usage(c,
		                 "--state: expected pending, assigned, "
		                 "running, succeeded, failed, lost or "
		                 "killed, got \"%.64s\"",
		                 T.state);
	task_path(path, sizeof(path));
	int rc = ctl_get(c, path, &body);
	if (rc)
		return rc;
	json_t *all = json_object_get(body, "tasks");
	if (c->json) {
		ctl_print_json(body);
	} else {
		json_t **tasks =
		    cu_xcalloc(json_array_size(all) + 1, sizeof(*tasks));
		json_array_foreach (all, i, k) {
			tasks[n++] = k;
		}
		qsort(tasks, n, sizeof(*tasks), by_job_index);
		task_table(c, tasks, n);
		free(tasks);
	}
	if (json_is_true(json_object_get(body, "truncated")))
		ctl_note("only the first %zu tasks were listed; ask for more "
		         "with --limit N",
		         json_array_size(all));
	json_decref(body);
	return CTL_OK;
}

/* ---- logs ---- */

/* A whole number s up to max into *out; -1 when it is not one. */
static int parse_whole(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || s[0] == '-' || s[0] == '+' || errno || v > max)
		return -1;
	*out = v;
	return 0;
}

/* What task logs needs to know about the task and where to ask. */
struct logs_target {
	const char *job;
	uint64_t index;
	uint64_t attempt;
	const char *machine; /* borrowed: from argv or the cell's answer */
};

/* Task JOB/INDEX as the cell has it (from the job's task list, which holds
 * tasks 0..INDEX with limit INDEX + 1); *task is borrowed from *job. */
static int fetch_task(struct ctl *c, struct logs_target *t, json_t **job,
                      const json_t **task)
{
	char path[256] = "/v1/jobs/";
	cc_url_escape(path, sizeof(path), t->job);
	snprintf(path + strlen(path), sizeof(path) - strlen(path),
	         "?limit=%" PRIu64, t->index + 1);
	int rc = ctl_get(c, path, job);
	if (rc)
		return rc;
	long long ntasks = jint(json_object_get(*job, "spec"), "tasks");
	const json_t *k =
	    json_array_get(json_object_get(*job, "tasks"), t->index);
	if ((long long)t->index >= ntasks)
		return ctl_fail("job %s has %lld task%s (0..%lld); there is no "
		                "task %" PRIu64,
		                t->job, ntasks, ntasks == 1 ? "" : "s",
		                ntasks - 1, t->index);
	if (!k || jint(k, "index") != (long long)t->index)
		return ctl_fail("the cell did not list task %s/%" PRIu64,
		                t->job, t->index);
	*task = k;
	return 0;
}

/* The attempt and machine to read (t->machine borrowed from task or the
 * flags; NULL when nobody knows it): the flags, else the task's current
 * attempt on the machine it is on, or for a pending task the attempt before
 * (its current one has not run). The cell keeps a task's machine only while
 * the task holds resources there; for an ended task the agents are asked. */
static int pick_attempt(struct logs_target *t, const json_t *task)
{
	const char *state = jstr(task, "state"), *on = jstr(task, "machine");
	long long current = jint(task, "attempt");
	bool pending = !strcmp(state, "pending");
	if (pending && current == 0 && !strcmp(jstr(task, "last_end"), "none"))
		return ctl_fail("task %s/%" PRIu64 " is pending and has not "
		                "run yet: there is no output to read",
		                t->job, t->index);
	if (!T.attempt)
		t->attempt = (uint64_t)(pending ? current - 1 : current);
	t->machine = T.machine ? T.machine : (*on ? on : NULL);
	return 0;
}

/* The machine's agent URL (malloc'd, without a trailing /). */
static int agent_of(struct ctl *c, const char *machine, char **agent)
{
	char path[256] = "/v1/machines/";
	json_t *m;
	cc_url_escape(path, sizeof(path), machine);
	int rc = ctl_get(c, path, &m);
	if (rc)
		return rc;
	const char *url = jstr(m, "agent");
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	if (n)
		*agent = cu_xstrndup(url, n);
	json_decref(m);
	if (!n)
		return ctl_fail("machine %s has no agent URL; its agent does "
		                "not serve logs",
		                machine);
	return 0;
}

/* An answer other than 200: the agent's {"error", "detail"} in words. */
static int agent_refused(const char *agent, const struct cc_response *r)
{
	json_t *j = r->len ? json_loadb(r->body, r->len, 0, NULL) : NULL;
	const char *d = json_string_value(json_object_get(j, "detail"));
	const char *e = json_string_value(json_object_get(j, "error"));
	if (d && *d)
		ctl_fail("agent %s: %s", agent, d);
	else if (e && *e)
		ctl_fail("agent %s: %s (HTTP %ld)", agent, e, r->status);
	else
		ctl_fail("agent %s: answered HTTP %ld without an error "
		         "message; is it a Cell node agent?",
		         agent, r->status);
	json_decref(j);
	return CTL_ERR;
}

#define CTL_NOT_HERE     1000 /* a probed agent does not have the attempt */
#define PROBE_AGENTS_MAX 64

/* GETs the attempt's output from the agent and copies it to stdout as it
 * is; with probe, an agent that does not have it (or does not answer) is
 * CTL_NOT_HERE, silently. The cell's bearer token is not sent: it is the cell's
 * secret, and the agent URL comes from the cell state. */
static int read_logs(struct ctl *c, const struct logs_target *t,
                     const char *agent, bool probe)
{
	char url[1024], err[CC_ERRMSG_SIZE];
	snprintf(url, sizeof(url), "%s/v1/logs/", agent);
	cc_url_escape(url, sizeof(url), t->job);
	snprintf(url + strlen(url), sizeof(url) - strlen(url),
	         "/%" PRIu64 "?attempt=%" PRIu64 "&stream=%s", t->index,
	         t->attempt, T.err_stream ? "stderr" : "stdout");
	if (T.tail)
		snprintf(url + strlen(url), sizeof(url) - strlen(url),
		         "&tail=%" PRIu64, T.tail);
	struct cc_client_config cfg = {.timeout_ms = c->timeout_ms};
	cc_client *http = cc_client_new(&cfg);
	struct cc_response resp = {0};
	int rc = cc_client_request(http, "GET", url, NULL, 0, &resp, err,
	                           sizeof(err));
	cc_client_free(http);
	if (rc == CC_ETOOBIG) {
		rc = ctl_fail("agent %s: the output is larger than cellctl "
		              "takes at once; read its end with --tail BYTES",
		              agent);
	} else if (rc) {
		char why[128];
		ctl_transport_reason(rc, err, why, sizeof(why));
		rc = probe ? CTL_NOT_HERE
		           : ctl_fail("agent %s: %s; is the node agent of "
		                      "machine %s running?",
		                      agent, why, t->machine);
	} else if (probe && resp.status == 404) {
		rc = CTL_NOT_HERE;
	} else if (resp.status != 200) {
		rc = agent_refused(agent, &resp);
	} else if (fwrite(resp.body, 1, resp.len, stdout) != resp.len ||
	           fflush(stdout)) {
		rc = ctl_fail("writing the output: %s", strerror(errno));
	}
	cc_response_clear(&resp);
	return rc;
}

/* No machine is known: ask each distinct agent the cell lists (at most
 * PROBE_AGENTS_MAX; a hollow agent serves many machines under one URL)
 * until one has the attempt. */
static int probe_agents(struct ctl *c, const struct logs_target *t)
{
	json_t *list = NULL, *m, *seen = json_object();
	size_t i;
	int rc = ctl_get(c, "/v1/machines?limit=1000000", &list);
	json_t *machines = rc ? NULL : json_object_get(list, "machines");
	json_array_foreach (machines, i, m) {
		const char *agent = jstr(m, "agent");
		if (!*agent || json_object_get(seen, agent))
			continue;
		json_object_set_new(seen, agent, json_true());
		if (json_object_size(seen) > PROBE_AGENTS_MAX) {
			rc =
			    ctl_fail("the cell no longer records which machine "
			             "ran task %s/%" PRIu64 " and it has more "
			             "than %d agents to ask; pass --machine M",
			             t->job, t->index, PROBE_AGENTS_MAX);
			break;
		}
		rc = read_logs(c, t, agent, true);
		if (rc != CTL_NOT_HERE)
			break;
	}
	if (rc == CTL_NOT_HERE || (!rc && !json_object_size(seen)))
		rc = ctl_fail(
		    "no agent has attempt %" PRIu64 " of task "
		    "%s/%" PRIu64 " (asked %zu); the machine it ran on "
		    "may be gone, or its agent down",
		    t->attempt, t->job, t->index, json_object_size(seen));
	json_decref(seen);
	json_decref(list);
	return rc;
}

static int task_logs(struct ctl *c, int argc, char **argv)
{
	struct logs_target t = {0};
	json_t *job = NULL;
	const json_t *task = NULL;
	char *agent = NULL;
	if (c->json)
		return ctl_usage(c, "--json/-o json: task logs writes the "
		                    "task's output as it is; leave it out");
	if (argc != 2)
		return ctl_usage(c, "expected JOB and INDEX");
	t.job = argv[0];
	if (parse_whole(argv[1], CS_JOB_TASKS_MAX - 1, &t.index))
		return ctl_usage(c,
		                 "INDEX: expected a task index 0..%u, got "
		                 "\"%.64s\"",
		                 CS_JOB_TASKS_MAX - 1, argv[1]);
	if (T.attempt && parse_whole(T.attempt, UINT32_MAX, &t.attempt))
		return ctl_usage(c,
		                 "--attempt: expected an attempt number (a "
		                 "whole number; cellctl task list shows the "
		                 "current one), got \"%.64s\"",
		                 T.attempt);
	int rc = fetch_task(c, &t, &job, &task);
	if (!rc)
		rc = pick_attempt(&t, task);
	if (!rc && !t.machine)
		rc = probe_agents(c, &t);
	else if (!rc && !(rc = agent_of(c, t.machine, &agent)))
		rc = read_logs(c, &t, agent, false);
	free(agent);
	json_decref(job);
	return rc;
}

static const struct cc_flag list_flags[] = {
    {"job", CC_FLAG_STRING, NULL, "only tasks of this job", &T.job, 0, 0},
    {"machine", CC_FLAG_STRING, NULL, "only tasks on this machine", &T.machine,
     0, 0},
    {"state", CC_FLAG_STRING, NULL,
     "only tasks in this state: pending, assigned, running, succeeded, failed, "
     "lost or killed",
     &T.state, 0, 0},
    {"limit", CC_FLAG_UINT, NULL,
     "ask for at most N tasks (0: the cell's default, 1000)", &T.limit, 0,
     1000000},
    {NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct cc_flag logs_flags[] = {
    {"attempt", CC_FLAG_STRING, NULL,
     "the attempt to read; without it, the task's current one", &T.attempt, 0,
     0},
    {"machine", CC_FLAG_STRING, NULL,
     "ask this machine's agent; without it, the machine the task is on",
     &T.machine, 0, 0},
    {"stderr", CC_FLAG_BOOL, NULL, "read standard error instead of output",
     &T.err_stream, 0, 0},
    {"tail", CC_FLAG_SIZE, NULL,
     "only the last BYTES bytes (4096, 64KiB, 1MiB; 0: all of it)", &T.tail, 0,
     0},
    {NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct ctl_cmd task_cmds[] = {
    {
        .name = "list",
        .summary = "list tasks, filtered by job, machine or state",
        .usage = "cellctl task list [--job JOB] [--machine NAME]\n"
                 "       [--state STATE] [flags]",
        .about = "Lists tasks sorted by job and index: state, machine and\n"
                 "attempt (the attempt grows each time a task goes back to\n"
                 "pending). Filters combine; the cell applies them.",
        .examples = "  $ cellctl task list --job web\n"
                    "  $ cellctl task list --machine m1 --state running\n"
                    "  $ cellctl task list --state pending -o wide\n",
        .flags = list_flags,
        .run = task_list,
    },
    {
        .name = "logs",
        .summary = "print one attempt's output, from its node agent",
        .usage = "cellctl task logs JOB INDEX [--attempt N] [--machine M]\n"
                 "       [--stderr] [--tail BYTES] [flags]",
        .about =
            "Prints the standard output (or, with --stderr, error) of\n"
            "one attempt of task JOB/INDEX as it is, bytes and all. The\n"
            "cell says which machine the task is on and which attempt it\n"
            "is at (a pending task: the attempt before); that machine's\n"
            "agent URL (machine add --agent) says where to ask. The cell\n"
            "keeps a task's machine only while it runs there: for an ended\n"
            "task, the agents are asked in turn (--machine M asks one).\n"
            "Output only: --json is refused.",
        .examples = "  $ cellctl task logs web 0\n"
                    "  $ cellctl task logs web 0 --stderr --tail 4KiB\n"
                    "  $ cellctl task logs web 0 --attempt 1 --machine m2 > "
                    "web-0.1.out\n",
        .flags = logs_flags,
        .run = task_logs,
    },
    {.run = NULL},
};

const struct ctl_group ctl_group_task = {
    "task", "list tasks with filters, print a task's output", task_cmds};
