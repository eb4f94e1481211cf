/* cmd_task.c: `cellctl task list`: tasks across jobs, filtered by job,
 * machine and state (the filters run in the cell). */
#include "cellctl.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static struct {
	char *job, *machine, *state;
	uint64_t limit;
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
		ctl_path_add(path, len, values[i]);
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
		    calloc(json_array_size(all) + 1, sizeof(*tasks));
		json_array_foreach(all, i, k) {
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
    {.run = NULL},
};

const struct ctl_group ctl_group_task = {"task", "list tasks with filters",
                                         task_cmds};
