/* test_cellctl.c: the real cellctl binary against a real local cell, as an
 * operator and a script use it: every command's happy path (tables, -o
 * wide, --json with its documented fields), the two-terminal conflict of
 * coarse placements, wrong usage (exit 2) and wrong files (exit 1, the field
 * named), an unreachable cell, the bearer token, shell completion, job
 * notes and the scheduler registry, machines' agent URLs and `task logs`
 * against a fake agent, and `watch` surviving a leader kill and reloading
 * after 410. */
#define _GNU_SOURCE
#include "cell.h"
#include "testlib.h"
#include "tl_tmpdir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define RUN_TIMEOUT_MS 60000
#define MAX_KIDS       4

/* The cell most tests share (started once), and a scratch folder. */
static struct lc_cell *shared;
static char *scratch;
static char servers[256]; /* the shared cell's URLs, comma-separated */

/* ---- running cellctl ---- */

struct run {
	int status;    /* exit code; 128 + signal when killed */
	char *out;     /* stdout, malloc'd */
	char *err;     /* stderr, malloc'd */
	char cmd[512]; /* the command line, for messages */
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t cap = 4096, n = 0, got;
	char *buf = cu_xmalloc(cap);
	while (f && (got = fread(buf + n, 1, cap - n - 1, f)) > 0)
		if ((n += got) + 1 == cap)
			buf = cu_xrealloc(buf, cap *= 2);
	buf[n] = 0;
	if (f)
		fclose(f);
	return buf;
}

/* Starts cellctl with args (NULL-terminated), stdout and stderr into
 * files named by `tag` in the scratch folder. */
static pid_t spawn(const char *const *args, const char *tag, char *outp,
                   char *errp, size_t len)
{
	const char *argv[64];
	int n = 0;
	argv[n++] = "cellctl";
	for (int i = 0; args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	snprintf(outp, len, "%s/%s.out", scratch, tag);
	snprintf(errp, len, "%s/%s.err", scratch, tag);
	char bin[512];
	snprintf(bin, sizeof(bin), "%s", tl_bin("cellctl"));
	pid_t pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int in = open("/dev/null", O_RDONLY);
		int out = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int err = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		execv(bin, (char *const *)argv);
		dprintf(2, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	return pid;
}

struct waited {
	pid_t pid;
	int status;
};

static bool exited(void *arg)
{
	struct waited *w = arg;
	return waitpid(w->pid, &w->status, WNOHANG) == w->pid;
}

static void finish(pid_t pid, const char *outp, const char *errp, struct run *r)
{
	struct waited w = {pid, 0};
	if (!tl_wait_until(exited, &w, RUN_TIMEOUT_MS)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		fail_msg("cellctl %s: still running after %d s", r->cmd,
		         RUN_TIMEOUT_MS / 1000);
	}
	r->status = WIFEXITED(w.status) ? WEXITSTATUS(w.status)
	                                : 128 + WTERMSIG(w.status);
	r->out = slurp(outp);
	r->err = slurp(errp);
}

static void describe(struct run *r, const char *const *args)
{
	r->cmd[0] = 0;
	for (int i = 0; args[i]; i++)
		snprintf(r->cmd + strlen(r->cmd),
		         sizeof(r->cmd) - strlen(r->cmd), "%s%s", i ? " " : "",
		         args[i]);
}

static void run_args(struct run *r, const char *const *args)
{
	char outp[256], errp[256];
	memset(r, 0, sizeof(*r));
	describe(r, args);
	pid_t pid = spawn(args, "run", outp, errp, sizeof(outp));
	finish(pid, outp, errp, r);
}

static void run_clear(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

#define CTL(r, ...) run_args((r), (const char *const[]){__VA_ARGS__, NULL})

/* The run must have exited with `code`, and its stdout or stderr must hold
 * each of the strings that follow (NULL-terminated). */
static void expect(struct run *r, int code, ...)
{
	va_list ap;
	const char *want;
	if (r->status != code)
		fail_msg("cellctl %s: exit %d, expected "
		         "%d\nstdout:\n%s\nstderr:\n%s",
		         r->cmd, r->status, code, r->out, r->err);
	/* the list ends before the test can fail: cppcheck's va_list check
	 * does not know that fail_msg never returns */
	const char *missing = NULL;
	va_start(ap, code);
	while (!missing && (want = va_arg(ap, const char *)))
		if (!strstr(r->out, want) && !strstr(r->err, want))
			missing = want;
	va_end(ap);
	if (missing)
		fail_msg("cellctl %s: no \"%s\" in its output\nstdout:\n"
		         "%s\nstderr:\n%s",
		         r->cmd, missing, r->out, r->err);
}

/* Runs, expects exit code and strings, and clears. */
#define OK(...) ok_run((const char *const[]){__VA_ARGS__, NULL})
static void ok_run(const char *const *args)
{
	struct run r;
	run_args(&r, args);
	expect(&r, 0, NULL);
	run_clear(&r);
}

/* stdout parsed as JSON (caller decrefs). */
static json_t *out_json(const struct run *r)
{
	json_error_t e;
	json_t *j = json_loads(r->out, 0, &e);
	if (!j)
		fail_msg("cellctl %s: stdout is not JSON (%s):\n%s", r->cmd,
		         e.text, r->out);
	return j;
}

/* A string field of o, or "" when absent. */
static const char *jstr_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* Fails unless every key is present in object o. */
static void has_fields(const json_t *o, const char *what,
                       const char *const *keys)
{
	for (int i = 0; keys[i]; i++)
		if (!json_object_get(o, keys[i])) {
			char *s = json_dumps(o, JSON_COMPACT);
			fail_msg("%s: no \"%s\" in %s", what, keys[i], s);
		}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A path in the scratch folder (static: one at a time per call site). */
static const char *scratch_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", scratch, name);
	return buf;
}

/* The machine's seq, as a user reads it. */
static long long machine_seq(const char *name)
{
	struct run r;
	CTL(&r, "machine", "get", name, "--json");
	expect(&r, 0, NULL);
	json_t *m = out_json(&r);
	long long seq =
	    (long long)json_integer_value(json_object_get(m, "seq"));
	json_decref(m);
	run_clear(&r);
	return seq;
}

/* ---- the shared cell ---- */

static int group_setup(void **state)
{
	(void)state;
	scratch = tl_tmpdir_make("cellctl-test");
	assert_non_null(scratch);
	shared = tl_cell_start(3, NULL);
	for (int i = 0; i < shared->n; i++)
		snprintf(servers + strlen(servers),
		         sizeof(servers) - strlen(servers), "%s%s",
		         i ? "," : "", shared->m[i].url);
	setenv("CELL_SERVER", servers, 1);
	unsetenv("CELL_TOKEN_FILE");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	tl_cell_stop(shared);
	shared = NULL;
	if (getenv("CELL_KEEP_TEST_DATA"))
		fprintf(stderr, "kept %s\n", scratch);
	else
		tl_tmpdir_remove(scratch);
	free(scratch);
	return 0;
}

/* What a test started on its own, for its teardown to end even when it
 * failed. */
struct fx {
	struct lc_cell *c;
	pid_t kids[MAX_KIDS];
	const char *flags[8];
	char path[256];
};

static struct fx *fx_new(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	*state = f;
	return f;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (!f)
		return 0;
	tl_reap(f->kids, MAX_KIDS);
	tl_cell_stop(f->c);
	free(f);
	*state = NULL;
	return 0;
}

/* ---- status and members ---- */

static void test_status(void **state)
{
	(void)state;
	struct run r;
	CTL(&r, "status");
	expect(&r, 0, "leader: member", "STATE HASH", shared->m[0].url,
	       shared->m[1].url, shared->m[2].url, NULL);
	run_clear(&r);
	CTL(&r, "status", "-o", "wide");
	expect(&r, 0, "CONTENT HASH", "RAFT ADDRESS", NULL);
	run_clear(&r);

	CTL(&r, "status", "--json");
	expect(&r, 0, NULL);
	json_t *s = out_json(&r), *m;
	static const char *const top[] = {"leader", "hashes_agree", "members",
	                                  NULL};
	static const char *const fields[] = {"id",
	                                     "role",
	                                     "raft_address",
	                                     "api_address",
	                                     "leader",
	                                     "reachable",
	                                     "raft_role",
	                                     "term",
	                                     "commit_index",
	                                     "applied_index",
	                                     "state_hash",
	                                     "content_hash",
	                                     NULL};
	has_fields(s, "status --json", top);
	size_t i, leaders = 0;
	json_array_foreach (json_object_get(s, "members"), i, m) {
		has_fields(m, "status --json member", fields);
		assert_true(json_is_true(json_object_get(m, "reachable")));
		leaders += json_is_true(json_object_get(m, "leader"));
	}
	assert_int_equal(json_array_size(json_object_get(s, "members")), 3);
	assert_int_equal(leaders, 1);
	json_decref(s);
	run_clear(&r);
}

static void test_members(void **state)
{
	(void)state;
	struct run r;
	CTL(&r, "members", "list");
	expect(&r, 0, "ID", "ROLE", shared->m[2].url, "voter", NULL);
	run_clear(&r);
	CTL(&r, "members", "list", "-o", "wide");
	expect(&r, 0, "RAFT ADDRESS", NULL);
	run_clear(&r);
	CTL(&r, "members", "list", "--json");
	expect(&r, 0, NULL);
	json_t *j = out_json(&r);
	assert_int_equal(json_array_size(json_object_get(j, "members")), 3);
	json_decref(j);
	run_clear(&r);

	/* a spare that never starts: listed, and unreachable in status */
	char raft[32], api[64];
	snprintf(raft, sizeof(raft), "127.0.0.1:%d", tl_free_port());
	snprintf(api, sizeof(api), "http://127.0.0.1:%d", tl_free_port());
	CTL(&r, "members", "add", "--id", "9", "--raft-address", raft,
	    "--api-address", api, "--role", "spare");
	expect(&r, 0, "member 9 added as a spare", NULL);
	run_clear(&r);
	CTL(&r, "status");
	expect(&r, 0, "unreachable", "connection refused", api, NULL);
	run_clear(&r);
	CTL(&r, "status", "--json");
	expect(&r, 0, "\"reachable\": false", "\"error\"", NULL);
	run_clear(&r);
	CTL(&r, "members", "remove", "9");
	expect(&r, 0, "member 9 removed", NULL);
	run_clear(&r);
	CTL(&r, "members", "list");
	expect(&r, 0, NULL);
	assert_null(strstr(r.out, api));
	run_clear(&r);
}

/* ---- machines ---- */

static void test_machines(void **state)
{
	(void)state;
	char file[256];
	struct run r;
	CTL(&r, "machine", "add", "ma1", "--cpu", "4000", "--memory", "8192",
	    "--label", "zone=eu-1", "--label", "rack=r4", "--resource",
	    "gpu=2");
	expect(&r, 0, "machine ma1 added", NULL);
	run_clear(&r);
	write_file(scratch_path(file, sizeof(file), "machines.json"),
	           "{\"machines\": [\n"
	           " {\"name\": \"ma2\", \"capacity\": {\"cpu\": 1000, "
	           "\"memory\": 1024}},\n"
	           " {\"name\": \"ma3\", \"pool\": \"batch\", \"capacity\": "
	           "{\"cpu\": 1000, \"memory\": 1024}}]}");
	OK("machine", "add", "-f", file);

	CTL(&r, "machine", "list");
	expect(&r, 0, "NAME", "CPU(m)", "ma1", "0/4000", "ma3", NULL);
	assert_null(strstr(r.out, "LABELS")); /* a wide column */
	run_clear(&r);
	CTL(&r, "machine", "list", "-o", "wide");
	expect(&r, 0, "LABELS", "rack=r4,zone=eu-1", "gpu=0/2", NULL);
	run_clear(&r);
	CTL(&r, "machine", "list", "--pool", "batch", "--json");
	expect(&r, 0, NULL);
	json_t *j = out_json(&r), *ms = json_object_get(j, "machines");
	static const char *const lf[] = {"index", "machines", "truncated",
	                                 NULL};
	static const char *const mf[] = {"name",      "pool",  "labels",
	                                 "state",     "seq",   "capacity",
	                                 "allocated", "tasks", NULL};
	has_fields(j, "machine list --json", lf);
	assert_int_equal(json_array_size(ms), 1);
	has_fields(json_array_get(ms, 0), "machine list --json machine", mf);
	json_decref(j);
	run_clear(&r);

	CTL(&r, "machine", "get", "ma1");
	expect(&r, 0, "seq:", "zone=eu-1", "RESOURCE", "gpu", NULL);
	run_clear(&r);
	OK("machine", "drain", "ma2");
	CTL(&r, "machine", "get", "ma2", "--json");
	expect(&r, 0, "\"draining\"", NULL);
	run_clear(&r);
	OK("machine", "undrain", "ma2");
	CTL(&r, "machine", "remove", "ma3", "--json");
	expect(&r, 0, "\"ok\": true", NULL);
	run_clear(&r);
	CTL(&r, "machine", "get", "ma3");
	expect(&r, 1, "machine ma3 does not exist", NULL);
	run_clear(&r);
	/* a change the cell refuses is a verdict: exit 3 */
	CTL(&r, "machine", "drain", "ghost");
	expect(&r, 3, "unknown_machine", NULL);
	run_clear(&r);
}

/* A machine's agent URL: set with --agent, shown by get, list -o wide and
 * --json, refused when malformed (naming the flag, or the file's field),
 * and cleared by a put without it. */
static void test_machine_agent(void **state)
{
	(void)state;
	const char *url = "http://127.0.0.1:7301/";
	char file[256];
	struct run r;
	OK("machine", "add", "mla", "--cpu", "1000", "--memory", "1000",
	   "--agent", url);
	CTL(&r, "machine", "get", "mla");
	expect(&r, 0, "agent:", url, NULL);
	run_clear(&r);
	CTL(&r, "machine", "get", "mla", "--json");
	expect(&r, 0, NULL);
	json_t *j = out_json(&r);
	assert_string_equal(jstr_of(j, "agent"), url);
	json_decref(j);
	run_clear(&r);
	CTL(&r, "machine", "list", "-o", "wide");
	expect(&r, 0, "AGENT", url, NULL);
	run_clear(&r);
	/* a bad URL is refused before anything is sent, naming the flag or
	 * the field of the file */
	CTL(&r, "machine", "add", "mlx", "--cpu", "1", "--memory", "1",
	    "--agent", "ftp://127.0.0.1:7301");
	expect(&r, 2,
	       "--agent: expected an agent URL: http:// or https:// then a "
	       "host, at most 127 bytes of printable ASCII without spaces, got "
	       "\"ftp://127.0.0.1:7301\"",
	       NULL);
	run_clear(&r);
	CTL(&r, "machine", "add", "mlx", "--cpu", "1", "--memory", "1",
	    "--agent", "http://a b");
	expect(&r, 2, "--agent: expected an agent URL", NULL);
	run_clear(&r);
	write_file(scratch_path(file, sizeof(file), "agent-bad.json"),
	           "{\"machines\": [{\"name\": \"mly\", \"capacity\": "
	           "{\"cpu\": 1, \"memory\": 1}, \"agent\": \"127.0.0.1\"}]}");
	CTL(&r, "machine", "add", "-f", file);
	expect(&r, 1,
	       "agent-bad.json: machines[0].agent: expected an agent URL",
	       NULL);
	run_clear(&r);
	CTL(&r, "machine", "add", "-f", file, "--agent", url);
	expect(&r, 2, "not both", NULL);
	run_clear(&r);
	CTL(&r, "machine", "get", "mlx");
	expect(&r, 1, "does not exist", NULL);
	run_clear(&r);
	/* a put without --agent clears it, like labels */
	OK("machine", "add", "mla", "--cpu", "1000", "--memory", "1000");
	CTL(&r, "machine", "get", "mla", "--json");
	expect(&r, 0, NULL);
	j = out_json(&r);
	assert_null(json_object_get(j, "agent"));
	json_decref(j);
	run_clear(&r);
	CTL(&r, "machine", "get", "mla");
	expect(&r, 0, "agent:", NULL);
	assert_null(strstr(r.out, url));
	run_clear(&r);
}

/* ---- jobs and tasks ---- */

static const char *example_web(void)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s", __FILE__);
	char *cut = strstr(path, "tests/integration/");
	assert_non_null(cut);
	snprintf(cut, sizeof(path) - (size_t)(cut - path),
	         "cellctl/examples/web.json");
	return path;
}

static void test_jobs(void **state)
{
	(void)state;
	char file[256];
	struct run r;
	CTL(&r, "job", "submit", "-f", example_web());
	expect(&r, 0, "job web submitted at index", NULL);
	run_clear(&r);
	write_file(scratch_path(file, sizeof(file), "two.json"),
	           "{\"jobs\": [{\"name\": \"ja\", \"class\": \"batch\", "
	           "\"tasks\": 2, \"resources\": {\"cpu\": 100, \"memory\": "
	           "64}, \"duration_ms\": 60000},\n"
	           "{\"name\": \"jb\", \"class\": \"batch\", \"tasks\": 1, "
	           "\"resources\": {\"cpu\": 100, \"memory\": 64}, "
	           "\"command\": \"/bin/true\"}]}");
	CTL(&r, "job", "submit", "-f", file, "--dry-run");
	expect(&r, 0, "job ja: would be accepted", NULL);
	run_clear(&r);
	CTL(&r, "job", "submit", "-f", file, "--json");
	expect(&r, 0, NULL);
	json_t *j = out_json(&r);
	static const char *const rf[] = {"job", "ok", "index", "duplicate",
	                                 NULL};
	assert_int_equal(json_array_size(j), 2);
	has_fields(json_array_get(j, 1), "job submit --json", rf);
	json_decref(j);
	run_clear(&r);
	CTL(&r, "job", "submit", "-f", file);
	expect(&r, 3, "rejected (exists)", NULL);
	run_clear(&r);

	CTL(&r, "job", "list");
	expect(&r, 0, "NAME", "PENDING", "web", "service", "ja", NULL);
	assert_null(strstr(r.out, "DEPENDS ON"));
	run_clear(&r);
	CTL(&r, "job", "list", "-o", "wide");
	expect(&r, 0, "DEPENDS ON", "SUBMITTED", NULL);
	run_clear(&r);
	CTL(&r, "job", "list", "--json", "--class", "batch");
	expect(&r, 0, NULL);
	j = out_json(&r);
	static const char *const jf[] = {"spec", "state", "submit_ms", "counts",
	                                 NULL};
	assert_int_equal(json_array_size(json_object_get(j, "jobs")), 2);
	has_fields(json_array_get(json_object_get(j, "jobs"), 0),
	           "job list --json job", jf);
	json_decref(j);
	run_clear(&r);
	CTL(&r, "job", "get", "web");
	expect(&r, 0, "class:", "service", "/usr/bin/python3 -m http.server",
	       "TASK", NULL);
	run_clear(&r);
	CTL(&r, "job", "get", "ja", "--json");
	expect(&r, 0, "\"tasks\"", "\"pending\"", NULL);
	run_clear(&r);
	CTL(&r, "job", "kill", "jb");
	expect(&r, 0, "job jb killed at index", NULL);
	run_clear(&r);
	CTL(&r, "job", "get", "jb", "--json");
	expect(&r, 0, "\"killed\"", NULL);
	run_clear(&r);
}

static void test_tasks(void **state)
{
	(void)state;
	struct run r;
	OK("machine", "add", "mt1", "--cpu", "1000", "--memory", "1000");
	OK("machine", "add", "mt2", "--cpu", "1000", "--memory", "1000");
	char file[256];
	write_file(scratch_path(file, sizeof(file), "jt.json"),
	           "{\"name\": \"jt\", \"class\": \"batch\", \"tasks\": 3, "
	           "\"resources\": {\"cpu\": 100, \"memory\": 100}, "
	           "\"duration_ms\": 60000}");
	OK("job", "submit", "-f", file);
	OK("txn", "place", "--job", "jt", "--task", "0", "--machine", "mt1");
	OK("txn", "place", "--job", "jt", "--task", "1", "--machine", "mt2");

	CTL(&r, "task", "list", "--job", "jt");
	expect(&r, 0, "JOB", "MACHINE", "assigned", "pending", NULL);
	assert_null(strstr(r.out, "LAST END"));
	run_clear(&r);
	CTL(&r, "task", "list", "--job", "jt", "-o", "wide");
	expect(&r, 0, "LAST END", "EXIT CODE", NULL);
	run_clear(&r);
	CTL(&r, "task", "list", "--machine", "mt2", "--json");
	expect(&r, 0, NULL);
	json_t *j = out_json(&r), *ts = json_object_get(j, "tasks");
	static const char *const tf[] = {"job",     "index",   "state",
	                                 "machine", "attempt", NULL};
	assert_int_equal(json_array_size(ts), 1);
	has_fields(json_array_get(ts, 0), "task list --json task", tf);
	assert_int_equal(
	    json_integer_value(json_object_get(json_array_get(ts, 0), "index")),
	    1);
	json_decref(j);
	run_clear(&r);
	CTL(&r, "task", "list", "--job", "jt", "--state", "pending", "--json");
	expect(&r, 0, NULL);
	j = out_json(&r);
	ts = json_object_get(j, "tasks");
	assert_int_equal(json_array_size(ts), 1);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(ts, 0), "state")),
	    "pending");
	json_decref(j);
	run_clear(&r);
}

/* ---- transactions ---- */

static void submit_job(const char *name, int tasks, int priority)
{
	char file[256], body[512], fname[64];
	snprintf(fname, sizeof(fname), "%s.json", name);
	snprintf(body, sizeof(body),
	         "{\"name\": \"%s\", \"class\": \"batch\", \"tasks\": %d, "
	         "\"priority\": %d, \"resources\": {\"cpu\": 400, \"memory\": "
	         "100}, \"duration_ms\": 60000}",
	         name, tasks, priority);
	write_file(scratch_path(file, sizeof(file), fname), body);
	OK("job", "submit", "-f", file);
}

static void test_txn_file(void **state)
{
	(void)state;
	char file[256];
	struct run r;
	OK("machine", "add", "mx", "--cpu", "1000", "--memory", "1000");
	submit_job("jx", 3, 0);
	write_file(scratch_path(file, sizeof(file), "txn.json"),
	           "{\"origin\": \"test\", \"ops\": [\n"
	           " {\"op\": \"place\", \"job\": \"jx\", \"task\": 0, "
	           "\"machine\": \"mx\"},\n"
	           " {\"op\": \"place\", \"job\": \"jx\", \"task\": 1, "
	           "\"machine\": \"nowhere\"}]}");
	/* a dry run changes nothing */
	CTL(&r, "txn", "-f", file, "--dry-run");
	expect(&r, 3, "dry run", "unknown_machine", NULL);
	run_clear(&r);
	CTL(&r, "task", "list", "--job", "jx", "--state", "pending", "--json");
	json_t *j = out_json(&r);
	assert_int_equal(json_array_size(json_object_get(j, "tasks")), 3);
	json_decref(j);
	run_clear(&r);
	/* committed: one accepted, one rejected: exit 3, both verdicts */
	CTL(&r, "txn", "-f", file);
	expect(&r, 3, "committed at index", "accepted", "rejected",
	       "unknown_machine", NULL);
	run_clear(&r);
	CTL(&r, "task", "list", "--job", "jx", "--machine", "mx", "--json");
	j = out_json(&r);
	assert_int_equal(json_array_size(json_object_get(j, "tasks")), 1);
	json_decref(j);
	run_clear(&r);
	/* all or nothing from the command line overrides the file's mode */
	write_file(file, "{\"ops\": [{\"op\": \"place\", \"job\": \"jx\", "
	                 "\"task\": 1, \"machine\": \"mx\"}, {\"op\": "
	                 "\"place\", \"job\": \"jx\", \"task\": 2, "
	                 "\"machine\": \"nowhere\"}]}");
	CTL(&r, "txn", "-f", file, "--mode", "all_or_nothing");
	expect(&r, 3, "rejected whole", "aborted", NULL);
	run_clear(&r);
}

static void test_txn_flags(void **state)
{
	(void)state;
	struct run r;
	OK("machine", "add", "my", "--cpu", "1000", "--memory", "1000");
	submit_job("low", 2, 0);
	submit_job("high", 1, 500);
	CTL(&r, "txn", "place", "--job", "low", "--task", "0-1", "--machine",
	    "my", "--json");
	expect(&r, 0, NULL);
	json_t *j = out_json(&r), *op;
	static const char *const tf[] = {
	    "id",        "dry_run",  "mode",     "detect", "index", "committed",
	    "duplicate", "accepted", "rejected", "ops",    NULL};
	static const char *const of[] = {"op", "job",    "task", "machine",
	                                 "ok", "reason", NULL};
	has_fields(j, "txn place --json", tf);
	size_t i;
	json_array_foreach (json_object_get(j, "ops"), i, op) {
		has_fields(op, "txn place --json op", of);
	}
	assert_int_equal(json_integer_value(json_object_get(j, "accepted")), 2);
	json_decref(j);
	run_clear(&r);

	/* the machine is full (2 x 400 of 1000): high needs a preemption */
	CTL(&r, "txn", "place", "--job", "high", "--task", "0", "--machine",
	    "my", "--dry-run");
	expect(&r, 3, "insufficient", NULL);
	run_clear(&r);
	CTL(&r, "txn", "preempt", "--job", "low", "--task", "1", "--machine",
	    "my", "--for", "high", "-o", "wide");
	expect(&r, 0, "preempt", "accepted", "SEQ", "FOR", "high", NULL);
	run_clear(&r);
	OK("txn", "place", "--job", "high", "--task", "0", "--machine", "my");
	CTL(&r, "txn", "release", "--job", "low", "--task", "0");
	expect(&r, 0, "release", "accepted", NULL);
	run_clear(&r);

	/* a retry with the same id is answered once: nothing happens twice */
	const char *const again[] = {"txn",    "place",      "--job",     "low",
	                             "--task", "0",          "--machine", "my",
	                             "--id",   "retry-me-1", "--json",    NULL};
	run_args(&r, again);
	expect(&r, 0, "\"duplicate\": false", NULL);
	run_clear(&r);
	run_args(&r, again);
	expect(&r, 0, "\"duplicate\": true", NULL);
	run_clear(&r);
}

/* Two operators, one machine, the same seq, coarse detection: exactly one
 * placement commits; the other is told the machine changed. */
static void test_two_terminal_conflict(void **state)
{
	(void)state;
	OK("machine", "add", "mc", "--cpu", "4000", "--memory", "4000");
	submit_job("jc", 2, 0);
	char seq[32], outp[2][256], errp[2][256];
	snprintf(seq, sizeof(seq), "%lld", machine_seq("mc"));
	pid_t pid[2];
	struct run r[2];
	for (int i = 0; i < 2; i++) {
		char tag[16], task[4];
		snprintf(tag, sizeof(tag), "term%d", i);
		snprintf(task, sizeof(task), "%d", i);
		const char *const args[] = {
		    "txn",          "place",     "--job", "jc",       "--task",
		    task,           "--machine", "mc",    "--detect", "coarse",
		    "--expect-seq", seq,         NULL};
		memset(&r[i], 0, sizeof(r[i]));
		describe(&r[i], args);
		pid[i] = spawn(args, tag, outp[i], errp[i], sizeof(outp[i]));
	}
	for (int i = 0; i < 2; i++)
		finish(pid[i], outp[i], errp[i], &r[i]);
	int winner = r[0].status == 0 ? 0 : 1;
	expect(&r[winner], 0, "accepted", NULL);
	expect(&r[1 - winner], 3, "seq_changed", NULL);
	for (int i = 0; i < 2; i++)
		run_clear(&r[i]);
}

/* ---- wrong usage and wrong files ---- */

static void usage(int code, const char *want, const char *const *args)
{
	struct run r;
	run_args(&r, args);
	expect(&r, code, want, NULL);
	run_clear(&r);
}

#define USAGE(want, ...)                                                       \
	usage(2, want, (const char *const[]){__VA_ARGS__, NULL})
#define BADFILE(want, ...)                                                     \
	usage(1, want, (const char *const[]){__VA_ARGS__, NULL})

static void test_wrong_usage(void **state)
{
	(void)state;
	USAGE("unknown command \"frobnicate\"", "frobnicate");
	USAGE("unknown flag \"--colour\"", "machine", "list", "--colour");
	USAGE("unknown subcommand \"plcae\"", "txn", "plcae");
	USAGE("--job is required", "txn", "place", "--task", "0", "--machine",
	      "m1");
	USAGE(
	    "--mode: expected incremental or all_or_nothing, got \"sometimes\"",
	    "txn", "place", "--job", "j", "--task", "0", "--machine", "m1",
	    "--mode", "sometimes");
	USAGE("--expect-seq: expected the machine's seq as a whole number",
	      "txn", "place", "--job", "j", "--task", "0", "--machine", "m1",
	      "--detect", "coarse", "--expect-seq", "twelve");
	USAGE("--detect coarse needs --expect-seq", "txn", "place", "--job",
	      "j", "--task", "0", "--machine", "m1", "--detect", "coarse");
	USAGE("--task: expected a task index", "txn", "release", "--job", "j",
	      "--task", "x");
	USAGE("--output: expected table, wide or json", "job", "list", "-o",
	      "yaml");
	USAGE("--cpu and --memory are required", "machine", "add", "m9");
	USAGE("-f FILE is required", "job", "submit");
	/* help is not an error, and shows examples */
	usage(0, "Examples:",
	      (const char *const[]){"txn", "place", "--help", NULL});
	usage(0, "Commands:", (const char *const[]){"--help", NULL});
}

static void test_bad_files(void **state)
{
	(void)state;
	char f1[256], f2[256], f3[256], f4[256], f5[256];
	write_file(scratch_path(f1, sizeof(f1), "syntax.json"),
	           "{\"name\": \"a\",\n \"class\": \"batch\",,}");
	write_file(
	    scratch_path(f2, sizeof(f2), "type.json"),
	    "{\"name\": \"a\", \"class\": \"batch\", \"tasks\": \"two\", "
	    "\"resources\": {\"cpu\": 1, \"memory\": 1}, "
	    "\"duration_ms\": 1}");
	write_file(scratch_path(f3, sizeof(f3), "unknown.json"),
	           "{\"name\": \"a\", \"class\": \"batch\", \"tasks\": 1, "
	           "\"resources\": {\"cpu\": 1, \"memory\": 1}, "
	           "\"duration_ms\": 1, \"colour\": \"red\"}");
	write_file(scratch_path(f4, sizeof(f4), "second.json"),
	           "{\"jobs\": [{\"name\": \"okay\", \"class\": \"batch\", "
	           "\"tasks\": 1, \"resources\": {\"cpu\": 1, \"memory\": 1}, "
	           "\"duration_ms\": 1}, {\"name\": \"bad\", \"class\": "
	           "\"batch\", \"tasks\": 1, \"resources\": {\"cpu\": 0, "
	           "\"memory\": 1}, \"duration_ms\": 1}]}");
	write_file(scratch_path(f5, sizeof(f5), "txn-bad.json"),
	           "{\"ops\": [{\"op\": \"place\", \"job\": \"j\", \"task\": "
	           "0, \"machine\": \"m\", \"sq\": 3}]}");
	BADFILE("syntax.json: line 2, column", "job", "submit", "-f", f1);
	BADFILE("type.json: job.tasks: expected an integer", "job", "submit",
	        "-f", f2);
	BADFILE("unknown.json: job.colour: unknown field", "job", "submit",
	        "-f", f3);
	BADFILE("second.json: jobs[1].resources.cpu: expected a positive "
	        "integer",
	        "job", "submit", "-f", f4);
	BADFILE("cannot read /nonexistent/job.json: No such file", "job",
	        "submit", "-f", "/nonexistent/job.json");
	BADFILE("txn-bad.json: ops[0].sq: unknown field", "txn", "-f", f5);
	BADFILE("syntax.json: line 2, column", "txn", "-f", f1);
	/* nothing of a file with one bad job was submitted */
	struct run r;
	CTL(&r, "job", "get", "okay");
	expect(&r, 1, "does not exist", NULL);
	run_clear(&r);
}

/* ---- finding the cell ---- */

static void test_unreachable(void **state)
{
	(void)state;
	char dead[64], list[512];
	struct run r;
	snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", tl_free_port());
	CTL(&r, "status", "--server", dead);
	expect(&r, 1, "cannot reach the cell at", dead, "connection refused",
	       "./scripts/run.sh", "--server/CELL_SERVER", NULL);
	assert_null(strstr(r.err, "curl"));
	run_clear(&r);
	/* a member that is down is skipped */
	snprintf(list, sizeof(list), "%s,%s", dead, shared->m[1].url);
	CTL(&r, "--server", list, "job", "list");
	expect(&r, 0, "NAME", NULL);
	run_clear(&r);
}

#define TOKEN "cellctl-test-token-0123456789abcdef"

static void test_token(void **state)
{
	struct fx *f = fx_new(state);
	char tok[256];
	write_file(scratch_path(f->path, sizeof(f->path), "token"), TOKEN "\n");
	f->flags[0] = "--token-file";
	f->flags[1] = f->path;
	f->c = tl_cell_start(1, f->flags);
	const char *u = f->c->m[0].url;
	struct run r;
	CTL(&r, "--server", u, "machine", "add", "mk", "--cpu", "1", "--memory",
	    "1");
	expect(&r, 1, "bearer token", "--token-file", NULL);
	run_clear(&r);
	write_file(scratch_path(tok, sizeof(tok), "wrong"), "not-it\n");
	CTL(&r, "--server", u, "--token-file", tok, "machine", "add", "mk",
	    "--cpu", "1", "--memory", "1");
	expect(&r, 1, "not accepted", NULL);
	run_clear(&r);
	OK("machine", "add", "mk", "--cpu", "1", "--memory", "1", "--server", u,
	   "--token-file", f->path);
	setenv("CELL_TOKEN_FILE", f->path, 1);
	CTL(&r, "--server", u, "machine", "drain", "mk");
	unsetenv("CELL_TOKEN_FILE");
	expect(&r, 0, "draining", NULL);
	run_clear(&r);
}

/* ---- an unknown outcome, resent with the same id ----
 * A fake member (a child process) that answers the first transaction with
 * 503 outcome_unknown, as a leader that lost leadership in flight does, and
 * the resend with the first verdict (a duplicate). It logs every body. */

static size_t read_request(int fd, char *buf, size_t cap)
{
	size_t n = 0, want = 0;
	char *end = NULL;
	while (n + 1 < cap) {
		ssize_t got = read(fd, buf + n, cap - n - 1);
		if (got <= 0)
			break;
		n += (size_t)got;
		buf[n] = 0;
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			const char *cl = strcasestr(buf, "Content-Length:");
			want =
			    (size_t)(end + 4 - buf) +
			    (cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0);
		}
		if (end && n >= want)
			break;
	}
	buf[n] = 0;
	return n;
}

static void reply(int fd, int status, const char *body)
{
	dprintf(fd,
	        "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
	        "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
	        status, strlen(body), body);
}

static void fake_member(int lfd, const char *log)
{
	static char req[65536];
	int posts = 0;
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		read_request(fd, req, sizeof(req));
		const char *body = strstr(req, "\r\n\r\n");
		if (!strncmp(req, "GET /v1/status", 14)) {
			reply(fd, 200, "{\"id\":1,\"trusted\":true}");
		} else if (!strncmp(req, "POST /v1/txn", 12) && body) {
			int out =
			    open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
			dprintf(out, "%s\n", body + 4);
			close(out);
			bool first = posts++ == 0;
			reply(fd, first ? 503 : 200,
			      first ? "{\"error\":\"outcome_unknown\","
			              "\"detail\":\"leadership changed\"}"
			            : "{\"index\":7,\"committed\":true,"
			              "\"duplicate\":true,\"accepted\":1,"
			              "\"rejected\":0,\"ops\":[{\"ok\":true,"
			              "\"reason\":\"ok\"}]}");
		} else {
			reply(fd, 404, "{\"error\":\"not_found\"}");
		}
		close(fd);
	}
}

static void test_resend_same_id(void **state)
{
	struct fx *f = fx_new(state);
	char log[256], url[64];
	scratch_path(log, sizeof(log), "fake.log");
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(sa);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, len), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", ntohs(sa.sin_port));
	f->kids[0] = fork();
	if (f->kids[0] == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fake_member(lfd, log);
	}
	close(lfd);
	struct run r;
	CTL(&r, "--server", url, "txn", "place", "--job", "j", "--task", "0",
	    "--machine", "m");
	expect(&r, 0, "resending it with the same id", "already decided", NULL);
	run_clear(&r);
	/* two bodies, one id */
	char *text = slurp(log), *save = NULL, *ids[2] = {NULL, NULL};
	int n = 0;
	for (char *l = strtok_r(text, "\n", &save); l && n < 2;
	     l = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(l, 0, NULL);
		const char *id = json_string_value(json_object_get(j, "id"));
		ids[n++] = strdup(id ? id : "");
		json_decref(j);
	}
	if (n != 2 || !*ids[0] || strcmp(ids[0], ids[1]))
		fail_msg("expected two sends of one id, got: %s", text);
	free(ids[0]);
	free(ids[1]);
	free(text);
}

/* ---- agent URLs and task logs ----
 * A fake node agent (a child process) serves one attempt's output: stdout
 * as bytes no text tool keeps (NUL, CR LF, 0xff), stderr for a tail, and
 * the agents' JSON error for any other attempt. It logs each request's
 * head, so the test sees the URL contract and which headers went. */

#define FAKE_OUT     "out\0put\r\nline 2\xff\n"
#define FAKE_OUT_LEN (sizeof(FAKE_OUT) - 1)

static void reply_bytes(int fd, const char *body, size_t len)
{
	dprintf(fd,
	        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	        "Content-Length: %zu\r\nConnection: close\r\n\r\n",
	        len);
	if (write(fd, body, len) != (ssize_t)len)
		_exit(1);
}

static void fake_agent(int lfd, const char *log)
{
	static char req[65536];
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		read_request(fd, req, sizeof(req));
		int out = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dprintf(out, "%s", req);
		close(out);
		if (!strncmp(req, "GET /v1/logs/jl/1?attempt=0&stream=stdout ",
		             42))
			reply_bytes(fd, FAKE_OUT, FAKE_OUT_LEN);
		else if (!strncmp(req,
		                  "GET /v1/logs/jl/1?attempt=0&stream=stderr"
		                  "&tail=4 ",
		                  49))
			reply_bytes(fd, "err!", 4);
		else
			reply(fd, 404,
			      "{\"error\":\"not_found\",\"detail\":\"no "
			      "attempt 7 "
			      "of jl/1 on this agent\"}");
		close(fd);
	}
}

/* Starts the fake agent as f->kids[0]; its URL into url. */
static void start_fake_agent(struct fx *f, const char *log, char *url,
                             size_t len)
{
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof(sa);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sl), 0);
	assert_int_equal(listen(lfd, 16), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(url, len, "http://127.0.0.1:%u", ntohs(sa.sin_port));
	f->kids[0] = fork();
	if (f->kids[0] == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fake_agent(lfd, log);
	}
	close(lfd);
}

/* The last run's stdout, bytes and all (run.out keeps a C string). */
static size_t run_stdout(char *buf, size_t cap)
{
	char path[256];
	FILE *in = fopen(scratch_path(path, sizeof(path), "run.out"), "rb");
	assert_non_null(in);
	size_t n = fread(buf, 1, cap, in);
	fclose(in);
	return n;
}

/* task logs: what can go wrong before any agent is asked (no such job or
 * task, a task on no machine, a machine without an agent URL, an agent
 * that is not there, wrong usage), then a (fake) agent's answers. */
static void test_task_logs(void **state)
{
	struct fx *f = fx_new(state);
	char url[64], slash[80], file[256], dead[64];
	struct run r;
	start_fake_agent(f, scratch_path(f->path, sizeof(f->path), "agent.log"),
	                 url, sizeof(url));
	snprintf(slash, sizeof(slash), "%s/", url); /* a trailing / is fine */
	OK("machine", "add", "mlagent", "--cpu", "1000", "--memory", "1000",
	   "--agent", slash);
	snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", tl_free_port());
	OK("machine", "add", "mlnone", "--cpu", "1000", "--memory", "1000");
	OK("machine", "add", "mldead", "--cpu", "1000", "--memory", "1000",
	   "--agent", dead);
	write_file(scratch_path(file, sizeof(file), "jl.json"),
	           "{\"name\": \"jl\", \"class\": \"batch\", \"tasks\": 3, "
	           "\"resources\": {\"cpu\": 100, \"memory\": 100}, "
	           "\"duration_ms\": 60000}");
	OK("job", "submit", "-f", file);
	CTL(&r, "task", "logs", "jghost", "0");
	expect(&r, 1, "job jghost does not exist", NULL);
	run_clear(&r);
	CTL(&r, "task", "logs", "jl", "3");
	expect(&r, 1, "job jl has 3 tasks (0..2); there is no task 3", NULL);
	run_clear(&r);
	CTL(&r, "task", "logs", "jl", "0");
	expect(&r, 1, "task jl/0 is pending and has not run yet", NULL);
	run_clear(&r);
	OK("txn", "place", "--job", "jl", "--task", "0", "--machine", "mlnone");
	CTL(&r, "task", "logs", "jl", "0");
	expect(&r, 1,
	       "machine mlnone has no agent URL; its agent does not serve "
	       "logs",
	       NULL);
	run_clear(&r);
	OK("txn", "release", "--job", "jl", "--task", "0");
	CTL(&r, "task", "logs", "jl", "0");
	/* pending again: the attempt before, asked of every agent */
	expect(&r, 1, "no agent has attempt 0 of task jl/0", NULL);
	run_clear(&r);
	CTL(&r, "task", "logs", "jl", "0", "--attempt", "0", "--machine",
	    "mghost");
	expect(&r, 1, "machine mghost does not exist", NULL);
	run_clear(&r);
	OK("txn", "place", "--job", "jl", "--task", "2", "--machine", "mldead");
	CTL(&r, "task", "logs", "jl", "2");
	expect(&r, 1, "agent", dead, "connection refused",
	       "is the node agent of machine mldead running?", NULL);
	run_clear(&r);
	/* an ended task: the cell forgot its machine; the agents are asked,
	 * or --machine names it */
	write_file(scratch_path(file, sizeof(file), "jl-done.json"),
	           "{\"ops\": [{\"op\": \"task_state\", \"job\": \"jl\", "
	           "\"task\": 2, \"attempt\": 0, \"machine\": \"mldead\", "
	           "\"state\": \"succeeded\"}]}");
	OK("txn", "-f", file);
	CTL(&r, "task", "logs", "jl", "2");
	expect(&r, 1, "no agent has attempt 0 of task jl/2", NULL);
	run_clear(&r);
	CTL(&r, "task", "logs", "jl", "2", "--machine", "mldead");
	expect(&r, 1, "connection refused", "machine mldead", NULL);
	run_clear(&r);
	USAGE("--json/-o json: task logs writes the task's output as it is",
	      "task", "logs", "jl", "0", "--json");
	USAGE("INDEX: expected a task index 0..999999, got \"x\"", "task",
	      "logs", "jl", "x");
	USAGE("--attempt: expected an attempt number", "task", "logs", "jl",
	      "0", "--attempt", "-1");
	USAGE("expected JOB and INDEX", "task", "logs", "jl");

	/* and from the (fake) agent: the bytes as they are, the agent's
	 * error in its words, and never the cell's token */
	char tok[256], out[256];
	write_file(scratch_path(tok, sizeof(tok), "logs-token"), "s3cret\n");
	OK("txn", "place", "--job", "jl", "--task", "1", "--machine",
	   "mlagent");
	CTL(&r, "task", "logs", "jl", "1", "--token-file", tok);
	expect(&r, 0, NULL);
	assert_int_equal(run_stdout(out, sizeof(out)), FAKE_OUT_LEN);
	assert_memory_equal(out, FAKE_OUT, FAKE_OUT_LEN);
	run_clear(&r);
	CTL(&r, "task", "logs", "jl", "1", "--stderr", "--tail", "4");
	expect(&r, 0, NULL);
	assert_string_equal(r.out, "err!");
	run_clear(&r);
	CTL(&r, "task", "logs", "jl", "1", "--attempt", "7");
	expect(&r, 1, NULL);
	char want[160];
	snprintf(want, sizeof(want),
	         "cellctl: agent %s: no attempt 7 of jl/1 on this agent\n",
	         url);
	assert_string_equal(r.err, want);
	assert_string_equal(r.out, "");
	run_clear(&r);
	char *log = slurp(f->path);
	assert_non_null(strstr(log, "GET /v1/logs/jl/1?attempt=0&stream=stdout "
	                            "HTTP/1.1\r\n"));
	assert_non_null(strstr(log, "GET /v1/logs/jl/1?attempt=7&stream=stdout "
	                            "HTTP/1.1\r\n"));
	assert_null(strcasestr(log, "Authorization"));
	assert_null(strstr(log, "s3cret"));
	free(log);
}

/* ---- completion ---- */

static void test_completion(void **state)
{
	(void)state;
	struct run r;
	CTL(&r, "completion", "bash");
	expect(&r, 0, "complete -F _cellctl cellctl", "status", "members",
	       "machine", "job", "task", "sched", "txn", "watch",
	       "--expect-seq", "all_or_nothing", NULL);
	run_clear(&r);
	/* bash itself completes with it */
	char script[1024];
	snprintf(
	    script, sizeof(script),
	    "source <(%s completion bash) && "
	    "COMP_WORDS=(cellctl machine ''); COMP_CWORD=2; _cellctl; "
	    "echo \"[${COMPREPLY[*]}]\"; "
	    "COMP_WORDS=(cellctl txn place --de); COMP_CWORD=3; _cellctl; "
	    "echo \"[${COMPREPLY[*]}]\"; "
	    "COMP_WORDS=(cellctl sched ''); COMP_CWORD=2; _cellctl; "
	    "echo \"[${COMPREPLY[*]}]\"; "
	    "COMP_WORDS=(cellctl sched list --cl); COMP_CWORD=3; _cellctl; "
	    "echo \"[${COMPREPLY[*]}]\"",
	    tl_bin("cellctl"));
	const char *const bash[] = {"bash", "-c", script, NULL};
	char outp[256];
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(scratch_path(outp, sizeof(outp), "bash.out"),
		              O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		execvp("bash", (char *const *)bash);
		_exit(127);
	}
	struct waited w = {pid, 0};
	assert_true(tl_wait_until(exited, &w, RUN_TIMEOUT_MS));
	char *out = slurp(scratch_path(outp, sizeof(outp), "bash.out"));
	if (!strstr(out, "[list get add drain undrain remove]") ||
	    !strstr(out, "[--detect]") || !strstr(out, "[list get]") ||
	    !strstr(out, "[--class]"))
		fail_msg("bash completion gave:\n%s", out);
	free(out);
}

/* ---- job notes and schedulers ---- */

/* A note set through a raw job_note op shows in `job get`; the schedulers a
 * raw sched_register put in the registry show in `sched list|get`. (The
 * shared cell runs without leases: they stay registered.) */
static void test_notes_and_schedulers(void **state)
{
	(void)state;
	char file[256];
	struct run r;
	write_file(scratch_path(file, sizeof(file), "note.json"),
	           "{\"ops\": [\n"
	           " {\"op\": \"job_put\", \"job\": {\"name\": \"huge\", "
	           "\"class\": \"ml\", \"tasks\": 1, \"resources\": {\"cpu\": "
	           "64000, \"memory\": 64}, \"duration_ms\": 1000}},\n"
	           " {\"op\": \"job_note\", \"job\": \"huge\", \"note\": "
	           "\"no machine has cpu 64000 (largest 16000)\"},\n"
	           " {\"op\": \"sched_register\", \"scheduler\": {\"name\": "
	           "\"batch-7\", \"class\": \"batch\", \"policy\": \"batch\", "
	           "\"member\": 42}},\n"
	           " {\"op\": \"sched_register\", \"scheduler\": {\"name\": "
	           "\"svc-2\", \"class\": \"service\", \"policy\": "
	           "\"service\"}}]}");
	CTL(&r, "txn", "-f", file);
	expect(&r, 0, "4 accepted", "job_note", "sched_register", NULL);
	run_clear(&r);
	CTL(&r, "job", "get", "huge");
	expect(&r, 0, "note:", "no machine has cpu 64000 (largest 16000)",
	       NULL);
	run_clear(&r);
	CTL(&r, "job", "get", "huge", "--json");
	expect(&r, 0, NULL);
	json_t *j = out_json(&r);
	assert_string_equal(jstr_of(j, "note"),
	                    "no machine has cpu 64000 (largest 16000)");
	json_decref(j);
	run_clear(&r);

	/* "" clears it; a note on a job nobody submitted is a verdict */
	write_file(file, "{\"ops\": [{\"op\": \"job_note\", \"job\": "
	                 "\"huge\", \"note\": \"\"}, {\"op\": \"job_note\", "
	                 "\"job\": \"ghost\", \"note\": \"why\"}]}");
	CTL(&r, "txn", "-f", file);
	expect(&r, 3, "unknown_job", "job ghost does not exist", NULL);
	run_clear(&r);
	CTL(&r, "job", "get", "huge");
	expect(&r, 0, "state:", NULL);
	assert_null(strstr(r.out, "note:"));
	run_clear(&r);

	CTL(&r, "sched", "list");
	expect(&r, 0, "NAME", "POLICY", "MEMBER", "ALIVE", "batch-7", "42",
	       "svc-2", NULL);
	run_clear(&r);
	CTL(&r, "sched", "list", "--class", "service", "--json");
	expect(&r, 0, NULL);
	j = out_json(&r);
	static const char *const lf[] = {"index", "schedulers", NULL};
	static const char *const sf[] = {"name",   "class", "policy",
	                                 "member", "alive", NULL};
	has_fields(j, "sched list --json", lf);
	json_t *scheds = json_object_get(j, "schedulers");
	assert_int_equal(json_array_size(scheds), 1);
	has_fields(json_array_get(scheds, 0), "sched list --json scheduler",
	           sf);
	assert_string_equal(jstr_of(json_array_get(scheds, 0), "name"),
	                    "svc-2");
	json_decref(j);
	run_clear(&r);
	CTL(&r, "sched", "get", "batch-7");
	expect(&r, 0, "class:", "batch", "member:", "42 (its Raft standby",
	       "alive:", "yes", NULL);
	run_clear(&r);
	CTL(&r, "sched", "get", "ghost");
	expect(&r, 1, "scheduler ghost is not registered", NULL);
	run_clear(&r);
	CTL(&r, "sched", "get");
	expect(&r, 2, "expected one scheduler NAME", NULL);
	run_clear(&r);
}

/* ---- watch ---- */

/* A cellctl watch child writing to `file`; teardown kills it. */
static pid_t watch_start(struct fx *f, const char *const *args, const char *tag,
                         char *outp, size_t len)
{
	char errp[256];
	int slot = 0;
	while (slot < MAX_KIDS && f->kids[slot])
		slot++;
	assert_true(slot < MAX_KIDS);
	f->kids[slot] = spawn(args, tag, outp, errp, len);
	return f->kids[slot];
}

struct lines {
	const char *file;
	const char *const *want; /* substrings, NULL-terminated */
};

static bool file_has_all(void *arg)
{
	struct lines *l = arg;
	char *text = slurp(l->file);
	bool all = true;
	for (int i = 0; l->want[i] && all; i++)
		all = strstr(text, l->want[i]) != NULL;
	free(text);
	return all;
}

static void wait_lines(const char *file, const char *const *want)
{
	struct lines l = {file, want};
	if (!tl_wait_until(file_has_all, &l, 30000)) {
		char *text = slurp(file);
		fail_msg("%s never showed all it should; it has:\n%s", file,
		         text);
	}
}

/* Every change line once, indexes never going backwards. */
static void check_stream(const char *file)
{
	char *text = slurp(file), *save = NULL;
	json_t *seen = json_object();
	long long last = 0;
	for (char *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		json_t *j = json_loads(l, 0, NULL);
		if (!j)
			fail_msg("%s: not a JSON line: %s", file, l);
		long long idx =
		    (long long)json_integer_value(json_object_get(j, "index"));
		if (!strcmp(json_string_value(json_object_get(j, "kind")),
		            "reload")) {
			json_decref(j);
			continue;
		}
		if (idx < last)
			fail_msg("%s: index %lld after %lld: %s", file, idx,
			         last, l);
		if (json_object_get(seen, l))
			fail_msg("%s: printed twice: %s", file, l);
		json_object_set_new(seen, l, json_true());
		last = idx;
		json_decref(j);
	}
	json_decref(seen);
	free(text);
}

static void test_watch_leader_kill(void **state)
{
	struct fx *f = fx_new(state);
	f->c = tl_cell_start(3, NULL);
	int li = tl_cell_leader(f->c, 10000);
	assert_true(li >= 0);
	char list[256], out[256];
	/* the leader first: the watch streams from the member we kill */
	snprintf(list, sizeof(list), "%s,%s,%s", f->c->m[li].url,
	         f->c->m[(li + 1) % 3].url, f->c->m[(li + 2) % 3].url);
	const char *const watch[] = {"watch", "--server", list, "--json", NULL};
	watch_start(f, watch, "watch", out, sizeof(out));
	OK("--server", list, "machine", "add", "wb1", "--cpu", "1000",
	   "--memory", "1000");
	char file[256];
	write_file(scratch_path(file, sizeof(file), "wj2.json"),
	           "{\"name\": \"wj\", \"class\": \"batch\", \"tasks\": 2, "
	           "\"resources\": {\"cpu\": 100, \"memory\": 100}, "
	           "\"duration_ms\": 60000}");
	OK("--server", list, "job", "submit", "-f", file);
	OK("--server", list, "txn", "place", "--job", "wj", "--task", "0",
	   "--machine", "wb1");
	const char *const before[] = {"\"machine\":\"wb1\"",
	                              "\"job\":\"wj\",\"state\":\"pending\"",
	                              "\"state\":\"assigned\"", NULL};
	wait_lines(out, before);

	tl_cell_member_kill(f->c, li, SIGKILL);
	/* changes through the new leader (cellctl finds it) */
	OK("--server", list, "machine", "add", "wa1", "--cpu", "1000",
	   "--memory", "1000");
	OK("--server", list, "txn", "place", "--job", "wj", "--task", "1",
	   "--machine", "wa1");
	OK("--server", list, "job", "kill", "wj");
	const char *const after[] = {"\"machine\":\"wa1\"",
	                             "\"task\":1,\"attempt\":0,\"machine\":"
	                             "\"wa1\",\"state\":\"assigned\"",
	                             "\"job\":\"wj\",\"state\":\"killed\"",
	                             "\"task\":1,\"attempt\":0,\"machine\":"
	                             "\"wa1\",\"state\":\"killed\"",
	                             NULL};
	wait_lines(out, after);
	check_stream(out);
}

static void test_watch_reload(void **state)
{
	struct fx *f = fx_new(state);
	f->flags[0] = "--watch-window";
	f->flags[1] = "10";
	f->c = tl_cell_start(1, f->flags);
	const char *u = f->c->m[0].url;
	for (int i = 0; i < 12; i++) { /* more changes than the window */
		char path[128];
		snprintf(path, sizeof(path), "%s/v1/machines/old%d", u, i);
		json_t *body = json_pack("{s:{s:i,s:i}}", "capacity", "cpu", 1,
		                         "memory", 1);
		assert_int_equal(tl_http("PUT", path, body, NULL), 200);
		json_decref(body);
	}
	char out[256], text[256];
	const char *const json[] = {"watch", "--server", u,   "--from",
	                            "1",     "--json",   NULL};
	const char *const table[] = {"watch",  "--server", u,
	                             "--from", "1",        NULL};
	watch_start(f, json, "reload", out, sizeof(out));
	watch_start(f, table, "reload-text", text, sizeof(text));
	const char *const reloaded[] = {"\"kind\":\"reload\",\"requested\":1",
	                                NULL};
	wait_lines(out, reloaded);
	OK("--server", u, "machine", "add", "fresh", "--cpu", "1", "--memory",
	   "1");
	const char *const fresh[] = {"\"machine\":\"fresh\"", NULL};
	wait_lines(out, fresh);
	const char *const fresh_text[] = {"reload:", "machine  fresh", NULL};
	wait_lines(text, fresh_text);
	check_stream(out);
	char *all = slurp(out);
	assert_null(strstr(all, "\"old0\"")); /* gone: not replayed */
	free(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_members),
	    cmocka_unit_test(test_machines),
	    cmocka_unit_test(test_machine_agent),
	    cmocka_unit_test(test_jobs),
	    cmocka_unit_test(test_tasks),
	    cmocka_unit_test(test_txn_file),
	    cmocka_unit_test(test_txn_flags),
	    cmocka_unit_test(test_two_terminal_conflict),
	    cmocka_unit_test(test_wrong_usage),
	    cmocka_unit_test(test_bad_files),
	    cmocka_unit_test(test_unreachable),
	    cmocka_unit_test_teardown(test_resend_same_id, teardown),
	    cmocka_unit_test_teardown(test_task_logs, teardown),
	    cmocka_unit_test(test_completion),
	    cmocka_unit_test(test_notes_and_schedulers),
	    cmocka_unit_test_teardown(test_token, teardown),
	    cmocka_unit_test_teardown(test_watch_leader_kill, teardown),
	    cmocka_unit_test_teardown(test_watch_reload, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
