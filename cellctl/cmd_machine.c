/* cmd_machine.c: `cellctl machine list|get|add|drain|undrain|remove`: the
 * machines of the cell, their capacity and allocation, and their state. */
#include "cellctl.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static struct {
	char *cpu, *memory, *disk, *pool, *label, *resource, *file, *state,
	    *agent;
	uint64_t limit;
} M;

/* ---- list ---- */

static int by_name(const void *a, const void *b)
{
	return strcmp(jstr(*(json_t *const *)a, "name"),
	              jstr(*(json_t *const *)b, "name"));
}

/* "allocated/capacity" of one resource. */
static void res_cell(struct table *t, const json_t *m, const char *res)
{
	const json_t *cap = json_object_get(m, "capacity");
	const json_t *alloc = json_object_get(m, "allocated");
	table_cellf(t, "%lld/%lld", jint(alloc, res), jint(cap, res));
}

/* Extended resources (beyond cpu, memory, disk), "gpu=1/8 ...". */
static void extended_cell(struct table *t, const json_t *m)
{
	char buf[512] = "";
	const char *k;
	json_t *v;
	const json_t *alloc = json_object_get(m, "allocated");
	json_object_foreach (json_object_get(m, "capacity"), k, v) {
		if (!strcmp(k, "cpu") || !strcmp(k, "memory") ||
		    !strcmp(k, "disk"))
			continue;
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf),
		         "%s%s=%lld/%lld", buf[0] ? "," : "", k, jint(alloc, k),
		         (long long)json_integer_value(v));
	}
	table_cell(t, buf[0] ? buf : "-");
}

static bool listed(const json_t *m)
{
	return (!M.pool || !strcmp(M.pool, jstr(m, "pool"))) &&
	       (!M.state || !strcmp(M.state, jstr(m, "state")));
}

static void machine_table(const struct ctl *c, json_t **ms, size_t n)
{
	static const char *const narrow[] = {"NAME",   "POOL",        "STATE",
	                                     "CPU(m)", "MEMORY(MiB)", "TASKS",
	                                     "SEQ",    NULL};
	static const char *const wide[] = {
	    "NAME", "POOL",      "STATE", "CPU(m)", "MEMORY(MiB)", "TASKS",
	    "SEQ",  "DISK(MiB)", "OTHER", "LABELS", "AGENT",       NULL};
	struct table *t = table_new(c->wide ? wide : narrow);
	for (size_t i = 0; i < n; i++) {
		table_row(t);
		table_cell(t, jstr(ms[i], "name"));
		table_cell(t, jstr(ms[i], "pool"));
		table_cell(t, jstr(ms[i], "state"));
		res_cell(t, ms[i], "cpu");
		res_cell(t, ms[i], "memory");
		table_cellf(t, "%lld", jint(ms[i], "tasks"));
		table_cellf(t, "%lld", jint(ms[i], "seq"));
		if (!c->wide)
			continue;
		res_cell(t, ms[i], "disk");
		extended_cell(t, ms[i]);
		char *labels =
		    ctl_join_object(json_object_get(ms[i], "labels"), ",");
		table_cell(t, labels[0] ? labels : "-");
		free(labels);
		table_cell(t,
		           *jstr(ms[i], "agent") ? jstr(ms[i], "agent") : "-");
	}
	table_print(t, stdout);
}

static int machine_list(struct ctl *c, int argc, char **argv)
{
	char path[64] = "/v1/machines";
	json_t *body, *m;
	size_t i, n = 0;
	if (argc > 0)
		return ctl_usage(c, "unexpected argument \"%.64s\"", argv[0]);
	if (M.state && cs_machine_state_parse(M.state) < 0)
		return ctl_usage(c,
		                 "--state: expected up, draining or down, "
		                 "got \"%.64s\"",
		                 M.state);
	if (M.limit)
		snprintf(path, sizeof(path), "/v1/machines?limit=%" PRIu64,
		         M.limit);
	int rc = ctl_get(c, path, &body);
	if (rc)
		return rc;
	json_t *all = json_object_get(body, "machines");
	json_t **ms = cu_xcalloc(json_array_size(all) + 1, sizeof(*ms));
	json_array_foreach (all, i, m) {
		if (listed(m))
			ms[n++] = m;
	}
	qsort(ms, n, sizeof(*ms), by_name);
	if (c->json)
		ctl_print_listing(body, "machines", ms, n);
	else
		machine_table(c, ms, n);
	if (json_is_true(json_object_get(body, "truncated")))
		ctl_note("only the first %zu machines were listed; ask for "
		         "more with --limit N",
		         json_array_size(all));
	free(ms);
	json_decref(body);
	return CTL_OK;
}

/* ---- get ---- */

static void resources_table(const json_t *m)
{
	static const char *const h[] = {"RESOURCE", "CAPACITY", "ALLOCATED",
	                                "FREE", NULL};
	struct table *t = table_new(h);
	const json_t *alloc = json_object_get(m, "allocated");
	const char *k;
	json_t *v;
	json_object_foreach (json_object_get(m, "capacity"), k, v) {
		long long cap = (long long)json_integer_value(v);
		long long used = jint(alloc, k);
		table_row(t);
		table_cell(t, k);
		table_cellf(t, "%lld", cap);
		table_cellf(t, "%lld", used);
		table_cellf(t, "%lld", cap - used);
	}
	table_print(t, stdout);
}

static void tasks_table(const json_t *tasks)
{
	static const char *const h[] = {"JOB", "TASK", "STATE", "ATTEMPT",
	                                NULL};
	size_t i;
	json_t *k;
	if (!json_array_size(tasks)) {
		printf("no tasks on this machine\n");
		return;
	}
	struct table *t = table_new(h);
	json_array_foreach (tasks, i, k) {
		table_row(t);
		table_cell(t, jstr(k, "job"));
		table_cellf(t, "%lld", jint(k, "index"));
		table_cell(t, jstr(k, "state"));
		table_cellf(t, "%lld", jint(k, "attempt"));
	}
	table_print(t, stdout);
}

static int machine_get(struct ctl *c, int argc, char **argv)
{
	char path[256] = "/v1/machines/", tpath[256] = "/v1/tasks?machine=";
	json_t *m, *tasks = NULL;
	if (argc != 1)
		return ctl_usage(c, "expected one machine NAME");
	cc_url_escape(path, sizeof(path), argv[0]);
	int rc = ctl_get(c, path, &m);
	if (rc)
		return rc;
	if (c->json) {
		ctl_print_json(m);
		json_decref(m);
		return CTL_OK;
	}
	cc_url_escape(tpath, sizeof(tpath), argv[0]);
	rc = ctl_get(c, tpath, &tasks);
	char *labels = ctl_join_object(json_object_get(m, "labels"), ", ");
	kv_line("name:", "%s", jstr(m, "name"));
	kv_line("pool:", "%s", jstr(m, "pool"));
	kv_line("state:", "%s", jstr(m, "state"));
	kv_line("seq:", "%lld", jint(m, "seq"));
	kv_line("labels:", "%s", labels[0] ? labels : "-");
	kv_line("agent:", "%s", *jstr(m, "agent") ? jstr(m, "agent") : "-");
	kv_line("tasks:", "%lld", jint(m, "tasks"));
	free(labels);
	printf("\n");
	resources_table(m);
	if (!rc) {
		printf("\n");
		tasks_table(json_object_get(tasks, "tasks"));
	}
	json_decref(tasks);
	json_decref(m);
	return rc;
}

/* ---- add ---- */

static int parse_amount(const char *s, json_int_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || s[0] == '-' || errno || v > CS_RES_VALUE_MAX)
		return -1;
	*out = (json_int_t)v;
	return 0;
}

/* "k=v,k=v" into obj; numeric values when `amounts`. */
static int parse_pairs(struct ctl *c, const char *flag, const char *list,
                       bool amounts, json_t *obj)
{
	char *copy = cu_xstrdup(list), *save = NULL;
	int rc = 0;
	for (char *p = strtok_r(copy, ",", &save); p && !rc;
	     p = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(p, '=');
		json_int_t v = 0;
		if (!eq || eq == p || (amounts && parse_amount(eq + 1, &v))) {
			rc = ctl_usage(c, "--%s: expected %s, got \"%.64s\"",
			               flag,
			               amounts ? "NAME=AMOUNT (a whole number)"
			                       : "KEY=VALUE",
			               p);
			break;
		}
		*eq = 0;
		json_object_set_new(
		    obj, p, amounts ? json_integer(v) : json_string(eq + 1));
	}
	free(copy);
	return rc;
}

static int capacity_flag(struct ctl *c, json_t *cap, const char *flag,
                         const char *value)
{
	json_int_t v;
	if (!value)
		return 0;
	if (parse_amount(value, &v))
		return ctl_usage(
		    c,
		    "--%s: expected a whole number up to 10^15 (%s), "
		    "got \"%.64s\"",
		    flag, strcmp(flag, "cpu") ? "MiB" : "millicores", value);
	json_object_set_new(cap, flag, json_integer(v));
	return 0;
}

/* The decoder names fields of the spec ("machine.agent: expected ...");
 * a value that came from a flag of the same name is named as the flag. */
static int spec_error(struct ctl *c, const char *err)
{
	static const char *const flags[] = {"pool", "agent", NULL};
	for (size_t i = 0; flags[i]; i++) {
		char field[32];
		size_t n = (size_t)snprintf(field, sizeof(field),
		                            "machine.%s: ", flags[i]);
		if (!strncmp(err, field, n))
			return ctl_usage(c, "--%s: %s", flags[i], err + n);
	}
	return ctl_usage(c, "%s", err);
}

/* The machine spec the flags describe, checked as the cell will. */
static int spec_from_flags(struct ctl *c, const char *name, json_t **out)
{
	json_t *cap = json_object(), *labels = json_object();
	json_t *spec = json_pack("{s:s,s:o,s:o}", "name", name, "labels",
	                         labels, "capacity", cap);
	char err[CS_ERRMSG_SIZE];
	struct cs_machine_spec *s = NULL;
	int rc = 0;
	if (!M.cpu || !M.memory)
		rc = ctl_usage(c, "--cpu and --memory are required (or give "
		                  "the machine in a file with -f FILE)");
	if (!rc && M.pool)
		json_object_set_new(spec, "pool", json_string(M.pool));
	if (!rc && M.agent)
		json_object_set_new(spec, "agent", json_string(M.agent));
	if (!rc)
		rc = capacity_flag(c, cap, "cpu", M.cpu);
	if (!rc)
		rc = capacity_flag(c, cap, "memory", M.memory);
	if (!rc)
		rc = capacity_flag(c, cap, "disk", M.disk);
	if (!rc && M.resource)
		rc = parse_pairs(c, "resource", M.resource, true, cap);
	if (!rc && M.label)
		rc = parse_pairs(c, "label", M.label, false, labels);
	if (!rc &&
	    cs_machine_spec_decode(spec, "machine", &s, err, sizeof(err)))
		rc = spec_error(c, err);
	cs_machine_spec_free(s);
	if (rc)
		json_decref(spec);
	else
		*out = spec;
	return rc;
}

/* Machines to put: from -f FILE (one, or {"machines": [...]}), or the
 * one NAME and flags describe. */
static int machines_to_put(struct ctl *c, int argc, char **argv, json_t **items)
{
	json_t *doc, *spec;
	if (M.file) {
		if (argc > 0 || M.cpu || M.memory || M.disk || M.pool ||
		    M.label || M.resource || M.agent)
			return ctl_usage(c, "give either -f FILE or NAME with "
			                    "--cpu/--memory/..., not both");
		int rc = ctl_read_json(M.file, &doc);
		if (!rc)
			rc = ctl_split_specs(M.file, doc, "machine", "machines",
			                     items);
		json_decref(doc);
		return rc;
	}
	if (argc != 1)
		return ctl_usage(c, "expected one machine NAME (or -f FILE)");
	int rc = spec_from_flags(c, argv[0], &spec);
	if (rc)
		return rc;
	*items = json_pack("[o]", spec);
	return 0;
}

static int machine_add(struct ctl *c, int argc, char **argv)
{
	json_t *items, *spec, *results = json_array();
	size_t i;
	int rc = machines_to_put(c, argc, argv, &items);
	if (rc)
		return json_decref(results), rc;
	json_array_foreach (items, i, spec) {
		char path[256] = "/v1/machines/", what[128];
		const char *name = jstr(spec, "name");
		json_t *e = json_pack("{s:s}", "machine", name);
		cc_url_escape(path, sizeof(path), name);
		snprintf(what, sizeof(what), "adding machine %.64s", name);
		int one = ctl_write(c, "PUT", path, spec, what, e);
		json_array_append_new(results, e);
		rc = ctl_worse(rc, one);
		if (one == CTL_ERR)
			break;
	}
	ctl_print_results(c, results, "machine", "added (or updated)");
	json_decref(results);
	json_decref(items);
	return rc;
}

/* ---- drain, undrain, remove: one REST write per NAME ---- */

static int for_each_name(struct ctl *c, int argc, char **argv,
                         const char *method, const char *action,
                         const char *verb, const char *done)
{
	json_t *results = json_array();
	int rc = 0;
	if (argc < 1)
		return json_decref(results),
		       ctl_usage(c, "expected one or more machine NAMEs");
	for (int i = 0; i < argc; i++) {
		char path[256] = "/v1/machines/", what[128];
		json_t *e = json_pack("{s:s}", "machine", argv[i]);
		cc_url_escape(path, sizeof(path), argv[i]);
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s",
		         action);
		snprintf(what, sizeof(what), "%s machine %.64s", verb, argv[i]);
		int one = ctl_write(c, method, path, NULL, what, e);
		json_array_append_new(results, e);
		rc = ctl_worse(rc, one);
		if (one == CTL_ERR)
			break;
	}
	ctl_print_results(c, results, "machine", done);
	json_decref(results);
	return rc;
}

static int machine_drain(struct ctl *c, int argc, char **argv)
{
	return for_each_name(c, argc, argv, "POST", "/drain", "draining",
	                     "is draining (no new placements; its tasks keep "
	                     "running)");
}

static int machine_undrain(struct ctl *c, int argc, char **argv)
{
	return for_each_name(c, argc, argv, "POST", "/undrain", "undraining",
	                     "is up");
}

static int machine_remove(struct ctl *c, int argc, char **argv)
{
	return for_each_name(c, argc, argv, "DELETE", "", "removing",
	                     "removed");
}

static const struct cc_flag list_flags[] = {
    {"pool", CC_FLAG_STRING, NULL, "only machines in this pool", &M.pool, 0, 0},
    {"state", CC_FLAG_STRING, NULL,
     "only machines in this state: up, draining or down", &M.state, 0, 0},
    {"limit", CC_FLAG_UINT, NULL,
     "ask for at most N machines (0: the cell's default, 1000)", &M.limit, 0,
     1000000},
    {NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct cc_flag add_flags[] = {
    {"file", CC_FLAG_STRING, NULL,
     "-f: machine spec(s) as JSON (FORMAT.md): one object or {\"machines\": "
     "[...]}; - for stdin",
     &M.file, 0, 0},
    {"cpu", CC_FLAG_STRING, NULL, "CPU capacity in millicores (required)",
     &M.cpu, 0, 0},
    {"memory", CC_FLAG_STRING, NULL, "memory capacity in MiB (required)",
     &M.memory, 0, 0},
    {"disk", CC_FLAG_STRING, NULL, "disk capacity in MiB", &M.disk, 0, 0},
    {"pool", CC_FLAG_STRING, NULL, "pool (default \"default\")", &M.pool, 0, 0},
    {"label", CC_FLAG_STRING, NULL, "KEY=VALUE label; repeat it or use commas",
     &M.label, 0, 0},
    {"resource", CC_FLAG_STRING, NULL,
     "NAME=AMOUNT extended resource (gpu=8); repeat it or use commas",
     &M.resource, 0, 0},
    {"agent", CC_FLAG_STRING, NULL,
     "base URL of the machine's node agent (http://HOST:PORT), where "
     "cellctl task logs reads task output",
     &M.agent, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0}};

static const char *const add_lists[] = {"label", "resource", NULL};
static const struct cc_flag no_flags[] = {{NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct ctl_cmd machine_cmds[] = {
    {
        .name = "list",
        .summary = "list machines with their allocation",
        .usage = "cellctl machine list [flags]",
        .about =
            "Lists the cell's machines sorted by name: pool, state,\n"
            "allocated and capacity of cpu (millicores) and memory (MiB),\n"
            "tasks holding resources, and seq (the machine's version, for\n"
            "txn --expect-seq). -o wide adds disk, other resources, labels\n"
            "and the agent URL.",
        .examples =
            "  $ cellctl machine list\n"
            "  $ cellctl machine list --state draining -o wide\n"
            "  $ cellctl machine list --json | jq -r '.machines[].name'\n",
        .flags = list_flags,
        .run = machine_list,
    },
    {
        .name = "get",
        .summary = "show one machine and its tasks",
        .usage = "cellctl machine get NAME [flags]",
        .about = "Shows a machine: pool, state, seq, labels, its agent's URL,\n"
                 "every resource's capacity, allocation and free amount, and\n"
                 "the tasks placed on it.",
        .examples = "  $ cellctl machine get m1\n"
                    "  $ cellctl machine get m1 --json | jq .seq\n",
        .flags = no_flags,
        .run = machine_get,
    },
    {
        .name = "add",
        .summary = "add a machine, or replace its description",
        .usage =
            "cellctl machine add NAME --cpu MILLICORES --memory MiB [flags]\n"
            "       cellctl machine add -f FILE [flags]",
        .about =
            "Adds a machine (or replaces the description of an existing\n"
            "one; the cell refuses a capacity below what is allocated).\n"
            "Describe it with flags, or give machine specs in a JSON file\n"
            "(FORMAT.md). The whole description is replaced: labels or an\n"
            "--agent left out are cleared.",
        .examples =
            "  $ cellctl machine add m1 --cpu 4000 --memory 8192\n"
            "  $ cellctl machine add g1 --cpu 64000 --memory 262144 \\\n"
            "        --pool gpu --label zone=eu-1 --label rack=r4 \\\n"
            "        --resource gpu=8\n"
            "  $ cellctl machine add m2 --cpu 4000 --memory 8192 \\\n"
            "        --agent http://10.0.0.2:7301\n"
            "  $ cellctl machine add -f machines.json\n",
        .flags = add_flags,
        .lists = add_lists,
        .run = machine_add,
    },
    {
        .name = "drain",
        .summary = "stop new placements on machines",
        .usage = "cellctl machine drain NAME... [flags]",
        .about = "Marks machines draining: nothing new is placed there; tasks\n"
                 "already on them keep running. Undo with cellctl machine\n"
                 "undrain.",
        .examples = "  $ cellctl machine drain m1 m2\n",
        .flags = no_flags,
        .run = machine_drain,
    },
    {
        .name = "undrain",
        .summary = "let machines take placements again",
        .usage = "cellctl machine undrain NAME... [flags]",
        .about = "Marks draining (or down) machines up again.",
        .examples = "  $ cellctl machine undrain m1\n",
        .flags = no_flags,
        .run = machine_undrain,
    },
    {
        .name = "remove",
        .summary = "decommission machines",
        .usage = "cellctl machine remove NAME... [flags]",
        .about =
            "Removes machines from the cell; tasks still on them are lost\n"
            "(and retried elsewhere if their job has retries left).",
        .examples = "  $ cellctl machine remove m1\n",
        .flags = no_flags,
        .run = machine_remove,
    },
    {.run = NULL},
};

const struct ctl_group ctl_group_machine = {
    "machine", "list, show, add, drain and remove machines", machine_cmds};
