/* cmd_job.c: `cellctl job submit|list|get|kill`: jobs from JSON files
 * (checked field by field before anything is sent), their state and task
 * counts, and killing them. */
#include "cellctl.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static struct {
	char *file, *state, *class_name;
	bool dry_run, purge;
	uint64_t limit;
} J;

/* ---- submit ---- */

/* One line (or JSON entry) per job of a dry run; CTL_REJECTED when the
 * cell would refuse one. */
static int dry_verdicts(const struct ctl *c, const json_t *items,
                        const json_t *verdicts)
{
	json_t *out = json_array(), *v;
	size_t i;
	int rc = CTL_OK;
	json_array_foreach (verdicts, i, v) {
		const char *name = jstr(json_array_get(items, i), "name");
		const char *reason = jstr(v, "reason"),
		           *detail = jstr(v, "detail");
		bool ok = json_is_true(json_object_get(v, "ok"));
		json_t *e = json_pack("{s:s,s:b,s:s}", "job", name, "ok", ok,
		                      "reason", reason);
		if (*detail)
			json_object_set_new(e, "detail", json_string(detail));
		json_array_append_new(out, e);
		rc = ok ? rc : CTL_REJECTED;
		if (!c->json && ok)
			printf("job %s: would be accepted\n", name);
		else if (!c->json)
			printf("job %s: would be rejected: %s%s%s\n", name,
			       reason, *detail ? ": " : "", detail);
	}
	if (c->json)
		ctl_print_json(out);
	json_decref(out);
	return rc;
}

/* --dry-run: every job_put in one transaction the cell only validates. */
static int submit_dry(struct ctl *c, const json_t *items)
{
	json_t *ops = json_array(), *spec;
	size_t i;
	struct ctl_reply r;
	json_array_foreach (items, i, spec) {
		json_array_append_new(
		    ops, json_pack("{s:s,s:O}", "op", "job_put", "job", spec));
	}
	json_t *txn = json_pack("{s:o}", "ops", ops);
	int rc =
	    ctl_request(c, "POST", "/v1/txn?dry_run=true", txn, CTL_READ, &r);
	json_decref(txn);
	if (!rc && r.status != 200)
		rc = ctl_reply_fail(c, &r, "checking the jobs", false);
	else if (!rc)
		rc = dry_verdicts(c, items, json_object_get(r.body, "ops"));
	ctl_reply_clear(&r);
	return rc;
}

static int submit_all(struct ctl *c, const json_t *items)
{
	json_t *results = json_array(), *spec, *e;
	size_t i;
	int rc = 0;
	json_array_foreach (items, i, spec) {
		char what[128];
		const char *name = jstr(spec, "name");
		e = json_pack("{s:s}", "job", name);
		snprintf(what, sizeof(what), "submitting job %.64s", name);
		int one = ctl_write(c, "POST", "/v1/jobs", spec, what, e);
		json_array_append_new(results, e);
		rc = ctl_worse(rc, one);
		if (one == CTL_ERR)
			break;
	}
	ctl_print_results(c, results, "job", "submitted");
	json_decref(results);
	return rc;
}

static int job_submit(struct ctl *c, int argc, char **argv)
{
	json_t *doc, *items;
	if (argc > 0)
		return ctl_usage(c,
		                 "unexpected argument \"%.64s\" (the jobs "
		                 "come from -f FILE)",
		                 argv[0]);
	if (!J.file)
		return ctl_usage(c, "-f FILE is required (a job spec in JSON, "
		                    "see cellctl/examples/web.json)");
	int rc = ctl_read_json(J.file, &doc);
	if (rc)
		return rc;
	rc = ctl_split_specs(J.file, doc, "job", "jobs", &items);
	json_decref(doc);
	if (rc)
		return rc;
	rc = J.dry_run ? submit_dry(c, items) : submit_all(c, items);
	json_decref(items);
	return rc;
}

/* ---- list ---- */

static int by_name(const void *a, const void *b)
{
	const json_t *x = json_object_get(*(json_t *const *)a, "spec");
	const json_t *y = json_object_get(*(json_t *const *)b, "spec");
	return strcmp(jstr(x, "name"), jstr(y, "name"));
}

static bool listed(const json_t *job)
{
	const json_t *spec = json_object_get(job, "spec");
	return (!J.state || !strcmp(J.state, jstr(job, "state"))) &&
	       (!J.class_name || !strcmp(J.class_name, jstr(spec, "class")));
}

static void job_row(const struct ctl *c, struct table *t, const json_t *job)
{
	const json_t *spec = json_object_get(job, "spec");
	const json_t *n = json_object_get(job, "counts");
	char when[32];
	table_row(t);
	table_cell(t, jstr(spec, "name"));
	table_cell(t, jstr(spec, "class"));
	table_cellf(t, "%lld", jint(spec, "priority"));
	table_cell(t, jstr(job, "state"));
	table_cellf(t, "%lld", jint(spec, "tasks"));
	table_cellf(t, "%lld", jint(n, "pending"));
	table_cellf(t, "%lld", jint(n, "assigned"));
	table_cellf(t, "%lld", jint(n, "running"));
	table_cellf(t, "%lld", jint(n, "succeeded"));
	if (!c->wide)
		return;
	table_cellf(t, "%lld", jint(n, "failed") + jint(n, "lost"));
	table_cellf(t, "%lld", jint(n, "killed"));
	table_cell(t,
	           json_is_true(json_object_get(spec, "gang")) ? "yes" : "no");
	char deps[256] = "";
	size_t i;
	json_t *d;
	json_array_foreach (json_object_get(spec, "depends_on"), i, d) {
		snprintf(deps + strlen(deps), sizeof(deps) - strlen(deps),
		         "%s%s", i ? "," : "", json_string_value(d));
	}
	table_cell(t, deps[0] ? deps : "-");
	ctl_time(when, sizeof(when), jint(job, "submit_ms"));
	table_cell(t, when);
	table_cell(t, *jstr(job, "cause") ? jstr(job, "cause") : "-");
}

static void job_table(const struct ctl *c, json_t **jobs, size_t n)
{
	static const char *const narrow[] = {
	    "NAME",    "CLASS",    "PRIORITY", "STATE",     "TASKS",
	    "PENDING", "ASSIGNED", "RUNNING",  "SUCCEEDED", NULL};
	static const char *const wide[] = {
	    "NAME",       "CLASS",     "PRIORITY", "STATE",
	    "TASKS",      "PENDING",   "ASSIGNED", "RUNNING",
	    "SUCCEEDED",  "FAILED",    "KILLED",   "GANG",
	    "DEPENDS ON", "SUBMITTED", "CAUSE",    NULL};
	struct table *t = table_new(c->wide ? wide : narrow);
	for (size_t i = 0; i < n; i++)
		job_row(c, t, jobs[i]);
	table_print(t, stdout);
}

static int job_list(struct ctl *c, int argc, char **argv)
{
	char path[64] = "/v1/jobs";
	json_t *body, *j;
	size_t i, n = 0;
	if (argc > 0)
		return ctl_usage(c, "unexpected argument \"%.64s\"", argv[0]);
	if (J.state && cs_job_state_parse(J.state) < 0)
		return ctl_usage(c,
		                 "--state: expected blocked, pending, "
		                 "running, succeeded, failed or killed, got "
		                 "\"%.64s\"",
		                 J.state);
	if (J.limit)
		snprintf(path, sizeof(path), "/v1/jobs?limit=%" PRIu64,
		         J.limit);
	int rc = ctl_get(c, path, &body);
	if (rc)
		return rc;
	json_t *all = json_object_get(body, "jobs");
	json_t **jobs = cu_xcalloc(json_array_size(all) + 1, sizeof(*jobs));
	json_array_foreach (all, i, j) {
		if (listed(j))
			jobs[n++] = j;
	}
	qsort(jobs, n, sizeof(*jobs), by_name);
	if (c->json)
		ctl_print_listing(body, "jobs", jobs, n);
	else
		job_table(c, jobs, n);
	if (json_is_true(json_object_get(body, "truncated")))
		ctl_note("only the first %zu jobs were listed; ask for more "
		         "with --limit N",
		         json_array_size(all));
	free(jobs);
	json_decref(body);
	return CTL_OK;
}

/* ---- get ---- */

/* The command with its arguments and environment, as the agent runs it. */
static void command_line(const json_t *spec)
{
	char line[2048];
	size_t i;
	json_t *a;
	snprintf(line, sizeof(line), "%s", jstr(spec, "command"));
	json_array_foreach (json_object_get(spec, "args"), i, a) {
		snprintf(line + strlen(line), sizeof(line) - strlen(line),
		         " %s", json_string_value(a));
	}
	kv_line("command:", "%s", line);
	char *env = ctl_join_object(json_object_get(spec, "env"), " ");
	if (*env)
		kv_line("environment:", "%s", env);
	free(env);
}

static void constraints_line(const json_t *cons)
{
	char *labels = ctl_join_object(json_object_get(cons, "labels"), ", ");
	kv_line("constraints:", "pool %s; labels %s; distinct machines %s",
	        *jstr(cons, "pool") ? jstr(cons, "pool") : "any",
	        labels[0] ? labels : "none",
	        json_is_true(json_object_get(cons, "distinct_machines"))
	            ? "yes"
	            : "no");
	free(labels);
}

static void job_details(const json_t *job)
{
	const json_t *spec = json_object_get(job, "spec");
	char when[32];
	char *res = ctl_join_object(json_object_get(spec, "resources"), ", ");
	char *counts = ctl_join_object(json_object_get(job, "counts"), ", ");
	kv_line("name:", "%s", jstr(spec, "name"));
	kv_line("class:", "%s", jstr(spec, "class"));
	kv_line("priority:", "%lld", jint(spec, "priority"));
	const char *cause = jstr(job, "cause");
	bool say = *cause && strcmp(cause, jstr(job, "state"));
	kv_line("state:", "%s%s%s%s", jstr(job, "state"), say ? " (" : "",
	        say ? cause : "", say ? ")" : "");
	if (*jstr(job, "note")) /* its scheduler's word on why it waits */
		kv_line("note:", "%s", jstr(job, "note"));
	kv_line("tasks:", "%lld (%s)", jint(spec, "tasks"), counts);
	kv_line("resources:", "%s per task", res);
	constraints_line(json_object_get(spec, "constraints"));
	kv_line("gang:", "%s",
	        json_is_true(json_object_get(spec, "gang")) ? "yes" : "no");
	kv_line("max retries:", "%lld", jint(spec, "max_retries"));
	if (*jstr(spec, "command"))
		command_line(spec);
	if (jint(spec, "duration_ms"))
		kv_line("duration:", "%lld ms (simulated)",
		        jint(spec, "duration_ms"));
	if (*jstr(spec, "cron"))
		kv_line("cron:", "%s", jstr(spec, "cron"));
	ctl_time(when, sizeof(when), jint(job, "submit_ms"));
	kv_line("submitted:", "%s", when);
	if (jint(job, "end_ms")) {
		ctl_time(when, sizeof(when), jint(job, "end_ms"));
		kv_line("ended:", "%s", when);
	}
	free(res);
	free(counts);
}

static void job_tasks(const struct ctl *c, const json_t *job)
{
	static const char *const narrow[] = {"TASK", "STATE", "MACHINE",
	                                     "ATTEMPT", NULL};
	static const char *const wide[] = {"TASK",     "STATE",    "MACHINE",
	                                   "ATTEMPT",  "FAILURES", "EXIT CODE",
	                                   "LAST END", NULL};
	struct table *t = table_new(c->wide ? wide : narrow);
	size_t i;
	json_t *k;
	json_array_foreach (json_object_get(job, "tasks"), i, k) {
		table_row(t);
		table_cellf(t, "%lld", jint(k, "index"));
		table_cell(t, jstr(k, "state"));
		table_cell(t, *jstr(k, "machine") ? jstr(k, "machine") : "-");
		table_cellf(t, "%lld", jint(k, "attempt"));
		if (!c->wide)
			continue;
		table_cellf(t, "%lld", jint(k, "failures"));
		table_cellf(t, "%lld", jint(k, "exit_code"));
		table_cell(t, jstr(k, "last_end"));
	}
	table_print(t, stdout);
}

static int job_get(struct ctl *c, int argc, char **argv)
{
	char path[256] = "/v1/jobs/";
	json_t *job;
	if (argc != 1)
		return ctl_usage(c, "expected one job NAME");
	cc_url_escape(path, sizeof(path), argv[0]);
	if (J.limit)
		snprintf(path + strlen(path), sizeof(path) - strlen(path),
		         "?limit=%" PRIu64, J.limit);
	int rc = ctl_get(c, path, &job);
	if (rc)
		return rc;
	if (c->json) {
		ctl_print_json(job);
	} else {
		job_details(job);
		printf("\n");
		job_tasks(c, job);
		if (json_is_true(json_object_get(job, "tasks_truncated")))
			ctl_note(
			    "only the first %zu tasks are shown; ask for "
			    "more with --limit N",
			    json_array_size(json_object_get(job, "tasks")));
	}
	json_decref(job);
	return CTL_OK;
}

/* ---- kill ---- */

static int job_kill(struct ctl *c, int argc, char **argv)
{
	json_t *results = json_array(), *e;
	int rc = 0;
	if (argc < 1)
		return json_decref(results),
		       ctl_usage(c, "expected one or more job NAMEs");
	for (int k = 0; k < argc; k++) {
		char path[256] = "/v1/jobs/", what[128];
		cc_url_escape(path, sizeof(path), argv[k]);
		if (J.purge)
			snprintf(path + strlen(path),
			         sizeof(path) - strlen(path), "?purge=true");
		snprintf(what, sizeof(what), "%s job %.64s",
		         J.purge ? "purging" : "killing", argv[k]);
		e = json_pack("{s:s}", "job", argv[k]);
		int one = ctl_write(c, "DELETE", path, NULL, what, e);
		json_array_append_new(results, e);
		rc = ctl_worse(rc, one);
		if (one == CTL_ERR)
			break;
	}
	ctl_print_results(c, results, "job", J.purge ? "forgotten" : "killed");
	json_decref(results);
	return rc;
}

static const struct cc_flag submit_flags[] = {
    {"file", CC_FLAG_STRING, NULL,
     "-f: job spec(s) as JSON: one object or {\"jobs\": [...]}; - for stdin "
     "(required)",
     &J.file, 0, 0},
    {"dry-run", CC_FLAG_BOOL, NULL,
     "check the jobs against the cell without submitting them", &J.dry_run, 0,
     0},
    {NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct cc_flag list_flags[] = {
    {"state", CC_FLAG_STRING, NULL,
     "only jobs in this state (pending, running, ...)", &J.state, 0, 0},
    {"class", CC_FLAG_STRING, NULL, "only jobs of this scheduler class",
     &J.class_name, 0, 0},
    {"limit", CC_FLAG_UINT, NULL,
     "ask for at most N jobs (0: the cell's default, 1000)", &J.limit, 0,
     1000000},
    {NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct cc_flag get_flags[] = {
    {"limit", CC_FLAG_UINT, NULL,
     "show at most N tasks (0: the cell's default, 1000)", &J.limit, 0,
     1000000},
    {NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct cc_flag kill_flags[] = {
    {"purge", CC_FLAG_BOOL, NULL, "forget an ended job instead of killing it",
     &J.purge, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct ctl_cmd job_cmds[] = {
    {
        .name = "submit",
        .summary = "submit jobs from a JSON file",
        .usage = "cellctl job submit -f FILE [flags]",
        .about =
            "Submits the job (or the {\"jobs\": [...]} list) in FILE. Every\n"
            "job is checked first, so a wrong field stops the whole file,\n"
            "named by its path (jobs[1].resources.cpu: ...); then the jobs\n"
            "are submitted one by one, each with its own transaction id so\n"
            "a retry is answered once. Exit 3 when the cell rejects one\n"
            "(exists, ...).",
        .examples = "  $ cellctl job submit -f cellctl/examples/web.json\n"
                    "  $ cellctl job submit -f jobs.json --dry-run\n"
                    "  $ generate-jobs | cellctl job submit -f -\n",
        .flags = submit_flags,
        .run = job_submit,
    },
    {
        .name = "list",
        .summary = "list jobs and their task counts",
        .usage = "cellctl job list [flags]",
        .about =
            "Lists jobs sorted by name: class, priority, state and how many\n"
            "tasks are pending, assigned, running and succeeded.",
        .examples = "  $ cellctl job list\n"
                    "  $ cellctl job list --state running -o wide\n"
                    "  $ cellctl job list --json | jq -r '.jobs[].spec.name'\n",
        .flags = list_flags,
        .run = job_list,
    },
    {
        .name = "get",
        .summary = "show one job and its tasks",
        .usage = "cellctl job get NAME [flags]",
        .about =
            "Shows a job's spec, state, task counts and every task's state\n"
            "and machine; while a scheduler could not place it, its note\n"
            "says why (note: no machine has cpu 64000 ...).",
        .examples =
            "  $ cellctl job get web\n"
            "  $ cellctl job get web -o wide      # failures, exit codes\n",
        .flags = get_flags,
        .run = job_get,
    },
    {
        .name = "kill",
        .summary = "kill jobs",
        .usage = "cellctl job kill NAME... [flags]",
        .about =
            "Kills jobs: their tasks are killed and their resources freed;\n"
            "jobs that depend on them fail. --purge forgets an ended job\n"
            "instead.",
        .examples = "  $ cellctl job kill web\n"
                    "  $ cellctl job kill web --purge      # after it ended\n",
        .flags = kill_flags,
        .run = job_kill,
    },
    {.run = NULL},
};

const struct ctl_group ctl_group_job = {
    "job", "submit, list, show and kill jobs", job_cmds};
