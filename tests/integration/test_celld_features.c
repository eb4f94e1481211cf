/* test_celld_features.c: the celld features a client builds on, each
 * against its own real cell on loopback: the watch stream (from a follower,
 * filtered, replayed, and 410 past the window), machine liveness, the bearer
 * token, membership (a joining voter, removal), scheduler leases (expiry
 * unregisters a scheduler and removes its standby), the ids celld gives
 * its own writes (unique across restarts), writes sent to a follower, and
 * the Prometheus metrics. */
#define _GNU_SOURCE
#include "cell.h"
#include "testlib.h"
#include "tl_tmpdir.h"

#include "cellcommon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_KIDS 8

/* What a test started, for its teardown to end even when it failed. */
struct fx {
	struct lc_cell *c;
	char dir[64]; /* private folder: token files, stream captures */
	pid_t kids[MAX_KIDS];
	const char *flags[8]; /* extra celld flags (the cell borrows them) */
	char path[128];       /* storage for a flag's value */
};

static struct fx *fx_new(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/cell-features-XXXXXX");
	if (!mkdtemp(f->dir))
		fail_msg("mkdtemp: %s", strerror(errno));
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
	tl_tmpdir_remove(f->dir);
	free(f);
	*state = NULL;
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- small HTTP helpers ---- */

static long req(const char *method, const char *base, const char *path,
                const char *body, struct tl_answer *a)
{
	char url[512];
	snprintf(url, sizeof(url), "%s%s", base, path);
	/* follows redirects: a write meant for the leader still lands if
	 * leadership moved meanwhile (the 307 itself is tested on its own) */
	struct tl_request q = {
	    .method = method, .url = url, .body = body, .follow = true};
	return tl_request(&q, a);
}

/* A request that must answer `want`; returns the answer's JSON (caller
 * decrefs; NULL when not JSON). */
static json_t *must(long want, const char *method, const char *base,
                    const char *path, const char *body)
{
	struct tl_answer a;
	if (req(method, base, path, body, &a) != want)
		fail_msg("%s %s%s: expected %ld, got %ld %s%s", method, base,
		         path, want, a.status, a.body, a.error);
	json_t *j = json_incref(a.json);
	tl_answer_clear(&a);
	return j;
}

static void must_ok(long want, const char *method, const char *base,
                    const char *path, const char *body)
{
	json_decref(must(want, method, base, path, body));
}

/* Returns the log index the machine's change committed at. */
static json_int_t put_machine(const char *base, const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "/v1/machines/%s", name);
	json_t *a = must(200, "PUT", base, path,
	                 "{\"capacity\":{\"cpu\":1000,\"memory\":1000}}");
	json_int_t index = json_integer_value(json_object_get(a, "index"));
	json_decref(a);
	return index;
}

static void post_job(const char *base, const char *name, int tasks)
{
	char body[256];
	snprintf(body, sizeof(body),
	         "{\"name\":\"%s\",\"class\":\"batch\",\"tasks\":%d,"
	         "\"resources\":{\"cpu\":10,\"memory\":10},\"duration_ms\":"
	         "60000}",
	         name, tasks);
	must_ok(201, "POST", base, "/v1/jobs", body);
}

static json_int_t applied_index(const struct lc_member *m)
{
	json_t *s = tl_cell_status(m);
	if (!s)
		fail_msg("member %llu does not answer",
		         (unsigned long long)m->id);
	json_int_t i = json_integer_value(json_object_get(s, "applied_index"));
	json_decref(s);
	return i;
}

static int follower_of(struct lc_cell *c, int leader)
{
	return (leader + 1) % c->n;
}

/* ---- watch streams, read by a child process ----
 * The child streams url with cc_client_stream and appends every line to
 * `file`; it exits once a line contains `until`. A child, not a thread: a
 * failing test leaves nothing behind that points into its stack. */

struct capture {
	int fd;
	const char *until;
};

static int capture_line(const char *line, size_t len, void *arg)
{
	struct capture *cap = arg;
	if (write(cap->fd, line, len) != (ssize_t)len ||
	    write(cap->fd, "\n", 1) != 1)
		return 1;
	return strstr(line, cap->until) != NULL;
}

static pid_t watch_start(struct fx *f, const char *url, const char *file,
                         const char *until)
{
	int slot = 0;
	while (slot < MAX_KIDS && f->kids[slot])
		slot++;
	assert_true(slot < MAX_KIDS);
	pid_t pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		struct capture cap = {
		    open(file, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644),
		    until};
		cc_client *cl = cc_client_new(NULL);
		struct cc_response resp = {0};
		char err[CC_ERRMSG_SIZE];
		int rc = cc_client_stream(cl, url, capture_line, &cap, &resp,
		                          err, sizeof(err));
		if (rc || resp.status != 200)
			dprintf(cap.fd,
			        "# stream ended: rc %d, status %ld: %s\n", rc,
			        resp.status, rc ? err : resp.body);
		_exit(rc || resp.status != 200 ? 1 : 0);
	}
	f->kids[slot] = pid;
	return pid;
}

struct kid {
	struct fx *f;
	pid_t pid;
	int status;
};

static bool kid_exited(void *arg)
{
	struct kid *k = arg;
	if (waitpid(k->pid, &k->status, WNOHANG) != k->pid)
		return false;
	for (int i = 0; i < MAX_KIDS; i++)
		if (k->f->kids[i] == k->pid)
			k->f->kids[i] = 0;
	return true;
}

/* Waits for the watcher to see its last line; returns the change lines it
 * captured (progress lines left out) as a JSON array. */
static json_t *watch_finish(struct fx *f, pid_t pid, const char *file)
{
	struct kid k = {f, pid, 0};
	bool done = tl_wait_until(kid_exited, &k, 20000);
	FILE *in = fopen(file, "r");
	json_t *lines = json_array();
	char buf[4096];
	while (in && fgets(buf, sizeof(buf), in)) {
		json_error_t e;
		json_t *j = json_loads(buf, 0, &e);
		if (!j)
			fail_msg("%s: not a JSON line: %s", file, buf);
		if (strcmp(json_string_value(json_object_get(j, "kind")),
		           "progress"))
			json_array_append(lines, j);
		json_decref(j);
	}
	if (in)
		fclose(in);
	if (!done || !WIFEXITED(k.status) || WEXITSTATUS(k.status)) {
		char *text = json_dumps(lines, JSON_COMPACT);
		fail_msg("watcher of %s %s; it saw: %s", file,
		         done ? "failed" : "never saw its last line", text);
	}
	return lines;
}

/* A line's field, or "" */
static const char *field(const json_t *line, const char *key)
{
	const char *v = json_string_value(json_object_get(line, key));
	return v ? v : "";
}

/* Index in lines of the first change at or after `from` with this kind,
 * job or machine ("" = any), task (-1 = any) and state; -1 when none. */
static int find(const json_t *lines, int from, const char *kind,
                const char *job, const char *machine, int task,
                const char *state)
{
	for (size_t i = (size_t)from; i < json_array_size(lines); i++) {
		const json_t *l = json_array_get(lines, i);
		if (strcmp(field(l, "kind"), kind) ||
		    (*job && strcmp(field(l, "job"), job)) ||
		    (*machine && strcmp(field(l, "machine"), machine)) ||
		    strcmp(field(l, "state"), state))
			continue;
		if (task >= 0 &&
		    json_integer_value(json_object_get(l, "task")) != task)
			continue;
		return (int)i;
	}
	return -1;
}

/* Asserts the changes appear in this order (each after the previous). */
struct want {
	const char *kind, *job, *machine;
	int task;
	const char *state;
};

static void expect_in_order(const char *stream, const json_t *lines,
                            const struct want *w, size_t n)
{
	int at = 0;
	for (size_t i = 0; i < n; i++) {
		int found = find(lines, at, w[i].kind, w[i].job, w[i].machine,
		                 w[i].task, w[i].state);
		if (found < 0) {
			char *text = json_dumps(lines, JSON_COMPACT);
			fail_msg("%s: no %s %s%s%s -> %s (in order) in %s",
			         stream, w[i].kind, w[i].job,
			         *w[i].machine ? " on " : "", w[i].machine,
			         w[i].state, text);
		}
		at = found + 1;
	}
}

/* ---- watch ---- */

static void test_watch_from_follower(void **state)
{
	struct fx *f = fx_new(state);
	struct lc_cell *c = f->c = tl_cell_start(3, NULL);
	int li = tl_cell_leader(c, 10000);
	assert_true(li >= 0);
	const char *leader = c->m[li].url;
	const struct lc_member *fol = &c->m[follower_of(c, li)];
	const struct lc_member *other =
	    &c->m[follower_of(c, follower_of(c, li))];
	json_int_t from = applied_index(fol) + 1;

	char url[256], all_file[128], ja_file[128], m2_file[128];
	snprintf(all_file, sizeof(all_file), "%s/all.ndjson", f->dir);
	snprintf(ja_file, sizeof(ja_file), "%s/ja.ndjson", f->dir);
	snprintf(m2_file, sizeof(m2_file), "%s/m2.ndjson", f->dir);
	snprintf(url, sizeof(url), "%s/v1/watch?from=%lld", fol->url,
	         (long long)from);
	pid_t all = watch_start(f, url, all_file, "\"machine\":\"mend\"");
	snprintf(url, sizeof(url), "%s/v1/watch?from=%lld&job=ja", fol->url,
	         (long long)from);
	pid_t ja = watch_start(f, url, ja_file, "\"state\":\"running\"");
	snprintf(url, sizeof(url), "%s/v1/watch?machine=m2&from=%lld", fol->url,
	         (long long)from);
	pid_t m2 = watch_start(f, url, m2_file, "\"state\":\"killed\"");

	/* writes, all through the leader */
	put_machine(leader, "m1");
	put_machine(leader, "m2");
	post_job(leader, "ja", 1);
	post_job(leader, "jb", 1);
	json_t *res = must(
	    200, "POST", leader, "/v1/txn",
	    "{\"id\":\"place-1\",\"ops\":["
	    "{\"op\":\"place\",\"job\":\"ja\",\"task\":0,\"machine\":\"m1\"},"
	    "{\"op\":\"place\",\"job\":\"jb\",\"task\":0,\"machine\":\"m2\"}]"
	    "}");
	assert_int_equal(json_integer_value(json_object_get(res, "accepted")),
	                 2);
	json_decref(res);
	must_ok(200, "DELETE", leader, "/v1/jobs/jb", NULL);
	put_machine(leader, "mend");

	json_t *got = watch_finish(f, all, all_file);
	const struct want all_want[] = {
	    {"machine", "", "m1", -1, "up"},
	    {"machine", "", "m2", -1, "up"},
	    {"job", "ja", "", -1, "pending"},
	    {"job", "jb", "", -1, "pending"},
	    {"task", "ja", "m1", 0, "assigned"},
	    {"job", "ja", "", -1, "running"},
	    {"task", "jb", "m2", 0, "assigned"},
	    {"job", "jb", "", -1, "killed"}, /* the kill, then what it ends */
	    {"task", "jb", "m2", 0, "killed"},
	    {"machine", "", "mend", -1, "up"},
	};
	expect_in_order("follower, unfiltered", got, all_want,
	                sizeof(all_want) / sizeof(all_want[0]));
	json_int_t last = 0;
	size_t i;
	json_t *l;
	json_array_foreach (got, i, l) { /* in log order, none before from */
		json_int_t idx =
		    json_integer_value(json_object_get(l, "index"));
		assert_true(idx >= from && idx >= last);
		last = idx;
	}

	json_t *jl = watch_finish(f, ja, ja_file);
	const struct want ja_want[] = {
	    {"job", "ja", "", -1, "pending"},
	    {"task", "ja", "m1", 0, "assigned"},
	    {"job", "ja", "", -1, "running"},
	};
	expect_in_order("job=ja", jl, ja_want, 3);
	json_array_foreach (jl, i, l)
		assert_string_equal(field(l, "job"), "ja");

	json_t *ml = watch_finish(f, m2, m2_file);
	const struct want m2_want[] = {
	    {"machine", "", "m2", -1, "up"},
	    {"task", "jb", "m2", 0, "assigned"},
	    {"task", "jb", "m2", 0, "killed"},
	};
	expect_in_order("machine=m2", ml, m2_want, 3);
	json_array_foreach (ml, i, l)
		assert_string_equal(field(l, "machine"), "m2");

	/* from= replays what was kept: the other follower, asked after the
	 * fact, streams exactly the same changes (the feed is deterministic) */
	char replay_file[128];
	snprintf(replay_file, sizeof(replay_file), "%s/replay.ndjson", f->dir);
	snprintf(url, sizeof(url), "%s/v1/watch?from=%lld", other->url,
	         (long long)from);
	json_t *replayed = watch_finish(
	    f, watch_start(f, url, replay_file, "\"machine\":\"mend\""),
	    replay_file);
	if (!json_equal(got, replayed)) {
		char *a = json_dumps(got, JSON_COMPACT);
		char *b = json_dumps(replayed, JSON_COMPACT);
		fail_msg("replay differs from the live stream:\n%s\n%s", a, b);
	}
	json_decref(got);
	json_decref(jl);
	json_decref(ml);
	json_decref(replayed);
}

static void test_watch_window(void **state)
{
	struct fx *f = fx_new(state);
	f->flags[0] = "--watch-window";
	f->flags[1] = "10";
	struct lc_cell *c = f->c = tl_cell_start(1, f->flags);
	const char *u = c->m[0].url;
	/* 12 changes, one per entry; the index of each comes from its
	 * answer, since the leader's own entries may sit between them */
	json_int_t first = 0, last = 0;
	char name[16];
	for (int i = 0; i < 12; i++) {
		snprintf(name, sizeof(name), "w%d", i);
		last = put_machine(u, name);
		if (i == 0)
			first = last;
	}
	char path[64];
	const char *const gone[] = {"/v1/watch?from=1", path};
	snprintf(path, sizeof(path), "/v1/watch?from=%lld", (long long)first);
	for (int i = 0; i < 2; i++) {
		struct tl_answer a;
		long st = req("GET", u, gone[i], NULL, &a);
		const char *detail =
		    json_string_value(json_object_get(a.json, "detail"));
		if (st != 410 || !detail || !strstr(detail, "reload"))
			fail_msg("GET %s: expected 410 telling the client to "
			         "reload, got %ld %s",
			         gone[i], st, a.body);
		tl_answer_clear(&a);
	}
	/* what the window still holds streams as usual */
	char url[256], file[128];
	snprintf(url, sizeof(url), "%s/v1/watch?from=%lld", u, (long long)last);
	snprintf(file, sizeof(file), "%s/tail.ndjson", f->dir);
	json_t *lines = watch_finish(
	    f, watch_start(f, url, file, "\"machine\":\"w11\""), file);
	assert_int_equal(json_array_size(lines), 1);
	json_decref(lines);
	/* the server is still fine */
	json_decref(must(200, "GET", u, "/v1/status", NULL));
}

/* A node agent serving several machines (a hollow agent) follows and
 * loads them by its URL: ?agent= on /v1/watch and /v1/tasks. */
static void put_agent_machine(const char *base, const char *name,
                              const char *agent)
{
	char path[128], body[256];
	snprintf(path, sizeof(path), "/v1/machines/%s", name);
	snprintf(body, sizeof(body),
	         "{\"capacity\":{\"cpu\":1000,\"memory\":1000}%s%s%s}",
	         agent ? ",\"agent\":\"" : "", agent ? agent : "",
	         agent ? "\"" : "");
	must_ok(200, "PUT", base, path, body);
}

static void test_watch_and_tasks_by_agent(void **state)
{
	struct fx *f = fx_new(state);
	struct lc_cell *c = f->c = tl_cell_start(1, NULL);
	const char *u = c->m[0].url;
	const char *a_url = "http://agent-a:7301",
	           *enc = "http%3A%2F%2Fagent-a%3A7301";
	json_int_t from = applied_index(&c->m[0]) + 1;
	char url[256], file[128], path[256];
	snprintf(file, sizeof(file), "%s/agent-a.ndjson", f->dir);
	snprintf(url, sizeof(url), "%s/v1/watch?from=%lld&agent=%s", u,
	         (long long)from, enc);
	pid_t w = watch_start(f, url, file, "\"machine\":\"a3\"");

	put_agent_machine(u, "a1", a_url);
	put_agent_machine(u, "b1", "http://agent-b:7301");
	put_agent_machine(u, "a2", a_url);
	put_agent_machine(u, "m0", NULL);
	post_job(u, "ja", 3);
	post_job(u, "jb", 1);
	json_t *res = must(
	    200, "POST", u, "/v1/txn",
	    "{\"id\":\"place-agent\",\"ops\":["
	    "{\"op\":\"place\",\"job\":\"ja\",\"task\":0,\"machine\":\"a1\"},"
	    "{\"op\":\"place\",\"job\":\"ja\",\"task\":1,\"machine\":\"b1\"},"
	    "{\"op\":\"place\",\"job\":\"ja\",\"task\":2,\"machine\":\"a2\"},"
	    "{\"op\":\"place\",\"job\":\"jb\",\"task\":0,\"machine\":\"m0\"}]"
	    "}");
	assert_int_equal(json_integer_value(json_object_get(res, "accepted")),
	                 4);
	json_decref(res);

	/* the tasks on agent a's machines, and only those */
	snprintf(path, sizeof(path),
	         "/v1/tasks?state=assigned,running&agent=%s", enc);
	json_t *list = must(200, "GET", u, path, NULL);
	json_t *tasks = json_object_get(list, "tasks"), *t;
	size_t i;
	int seen = 0;
	assert_int_equal(json_array_size(tasks), 2);
	json_array_foreach (tasks, i, t) {
		assert_string_equal(field(t, "job"), "ja");
		json_int_t k = json_integer_value(json_object_get(t, "index"));
		assert_true(k == 0 || k == 2);
		assert_string_equal(field(t, "machine"), k ? "a2" : "a1");
		seen |= 1 << k;
	}
	assert_int_equal(seen, 5);
	json_decref(list);
	/* the filters combine; a machine's list is its own */
	snprintf(path, sizeof(path), "/v1/tasks?agent=%s&machine=a2", enc);
	list = must(200, "GET", u, path, NULL);
	assert_int_equal(json_array_size(json_object_get(list, "tasks")), 1);
	json_decref(list);
	snprintf(path, sizeof(path), "/v1/tasks?agent=%s&machine=b1", enc);
	list = must(200, "GET", u, path, NULL);
	assert_int_equal(json_array_size(json_object_get(list, "tasks")), 0);
	json_decref(list);
	list = must(200, "GET", u, "/v1/tasks?machine=b1&job=ja", NULL);
	assert_int_equal(json_array_size(json_object_get(list, "tasks")), 1);
	json_decref(list);

	/* jb ends and is forgotten: the agent hears job_removed */
	must_ok(200, "DELETE", u, "/v1/jobs/jb", NULL);
	must_ok(200, "DELETE", u, "/v1/jobs/jb?purge=true", NULL);
	put_agent_machine(u, "a3", a_url);

	json_t *got = watch_finish(f, w, file);
	const struct want want[] = {
	    {"machine", "", "a1", -1, "up"},
	    {"machine", "", "a2", -1, "up"},
	    {"task", "ja", "a1", 0, "assigned"},
	    {"task", "ja", "a2", 2, "assigned"},
	    {"machine", "", "a3", -1, "up"},
	};
	expect_in_order("agent=a", got, want, sizeof(want) / sizeof(want[0]));
	json_t *l;
	bool removed = false;
	json_array_foreach (got, i, l) {
		const char *kind = field(l, "kind");
		if (!strcmp(kind, "job_removed")) {
			assert_string_equal(field(l, "job"), "jb");
			removed = true;
			continue;
		}
		const char *m = field(l, "machine");
		if (strcmp(m, "a1") && strcmp(m, "a2") && strcmp(m, "a3"))
			fail_msg("agent=a: a change of machine \"%s\": %s", m,
			         field(l, "kind"));
	}
	assert_true(removed);
	json_decref(got);
	/* a bad value is refused */
	must_ok(400, "GET", u, "/v1/watch?agent=", NULL);
}

/* ---- liveness ---- */

static const char *machine_state(const char *base, const char *name)
{
	static char st[32];
	char path[128];
	snprintf(path, sizeof(path), "/v1/machines/%s", name);
	json_t *m = must(200, "GET", base, path, NULL);
	snprintf(st, sizeof(st), "%s", field(m, "state"));
	json_decref(m);
	return st;
}

static void heartbeat_m1(const char *base)
{
	json_t *a = must(200, "POST", base, "/v1/heartbeat",
	                 "{\"machines\":[\"m1\",\"ghost\"]}");
	json_t *unknown = json_object_get(a, "unknown");
	if (json_array_size(unknown) != 1 ||
	    strcmp(json_string_value(json_array_get(unknown, 0)), "ghost"))
		fail_msg("heartbeat: \"unknown\" should list ghost only");
	assert_int_equal(json_integer_value(json_object_get(a, "ttl_ms")),
	                 1000);
	json_decref(a);
}

static void test_liveness(void **state)
{
	struct fx *f = fx_new(state);
	f->flags[0] = "--machine-ttl";
	f->flags[1] = "1s";
	double t0 = now_s(); /* before the leader's grace began */
	struct lc_cell *c = f->c = tl_cell_start(1, f->flags);
	const char *u = c->m[0].url;
	put_machine(u, "m1");
	put_machine(u, "m2");
	double m2_down = 0, m3_put = 0, m3_down = 0;
	/* heartbeats for m1 every 200 ms (the cadence under test, not a
	 * wait): m2, silent, goes down after its TTL; so does m3, registered
	 * long after the grace ended, a full TTL after it was registered; m1
	 * never goes down */
	while (now_s() - t0 < 30 && !(m3_down && now_s() - m2_down > 1.5)) {
		heartbeat_m1(u);
		if (strcmp(machine_state(u, "m1"), "up"))
			fail_msg("m1 heartbeats yet is %s",
			         machine_state(u, "m1"));
		if (!m2_down && !strcmp(machine_state(u, "m2"), "down")) {
			m2_down = now_s();
			m3_put = now_s();
			put_machine(u, "m3");
		}
		if (m3_put && !m3_down &&
		    !strcmp(machine_state(u, "m3"), "down"))
			m3_down = now_s();
		usleep(200000);
	}
	if (!m2_down || !m3_down)
		fail_msg("silent machines stayed up for 30 s: m2 %s, m3 %s",
		         machine_state(u, "m2"), machine_state(u, "m3"));
	fprintf(stderr,
	        "m2 down %.2f s after the cell started, m3 %.2f s "
	        "after it was registered\n",
	        m2_down - t0, m3_down - m3_put);
	assert_true(m2_down - t0 >= 1.0);     /* not before its TTL */
	assert_true(m3_down - m3_put >= 1.0); /* a full TTL of its own */
	assert_string_equal(machine_state(u, "m1"), "up");
}

/* ---- token ---- */

#define TOKEN "0123456789abcdef0123456789ABCDEF"

struct exited {
	pid_t pid;
	int status;
};

static bool child_exited(void *arg)
{
	struct exited *e = arg;
	return waitpid(e->pid, &e->status, WNOHANG) == e->pid;
}

static void test_token(void **state)
{
	struct fx *f = fx_new(state);
	snprintf(f->path, sizeof(f->path), "%s/token", f->dir);
	FILE *tf = fopen(f->path, "w");
	assert_non_null(tf);
	fputs(TOKEN "\n", tf);
	fclose(tf);
	f->flags[0] = "--token-file";
	f->flags[1] = f->path;
	struct lc_cell *c = f->c = tl_cell_start(1, f->flags);
	const char *u = c->m[0].url;
	const char *job = "{\"name\":\"tj\",\"class\":\"batch\",\"tasks\":1,"
	                  "\"resources\":{\"cpu\":1,\"memory\":1},"
	                  "\"duration_ms\":1}";
	char url[256];
	snprintf(url, sizeof(url), "%s/v1/jobs", u);

	/* without the token, and with a wrong one: 401, nothing written */
	const char *tokens[] = {NULL, "not-the-token-not-the-token-0000"};
	for (int i = 0; i < 2; i++) {
		struct tl_answer a;
		struct tl_request q = {.method = "POST",
		                       .url = url,
		                       .body = job,
		                       .token = tokens[i]};
		tl_request(&q, &a);
		char *www = tl_answer_header(&a, "WWW-Authenticate");
		const char *detail =
		    json_string_value(json_object_get(a.json, "detail"));
		if (a.status != 401 || !www || !strstr(www, "Bearer") ||
		    !detail || !strstr(detail, "Authorization: Bearer"))
			fail_msg("POST /v1/jobs %s the token: expected 401 "
			         "asking for it, got %ld %s",
			         i ? "with a wrong" : "without", a.status,
			         a.body);
		free(www);
		tl_answer_clear(&a);
	}
	must_ok(404, "GET", u, "/v1/jobs/tj", NULL); /* reads need no token */

	/* a client configured with the token gets through */
	struct cc_client_config cfg = {.token = TOKEN};
	cc_client *cl = cc_client_new(&cfg);
	struct cc_response resp = {0};
	char err[CC_ERRMSG_SIZE];
	assert_int_equal(cc_client_request(cl, "POST", url, job, strlen(job),
	                                   &resp, err, sizeof(err)),
	                 0);
	if (resp.status != 201)
		fail_msg("POST /v1/jobs with the token: %ld %s", resp.status,
		         resp.body);
	cc_response_clear(&resp);
	cc_client_free(cl);
	must_ok(200, "GET", u, "/v1/jobs/tj", NULL);
	must_ok(200, "GET", u, "/v1/status", NULL);

	/* beyond loopback without a token file: celld refuses to start */
	char raft[32], listen[32], data[128], errfile[128];
	snprintf(raft, sizeof(raft), "127.0.0.1:%d", tl_free_port());
	snprintf(listen, sizeof(listen), "0.0.0.0:%d", tl_free_port());
	snprintf(data, sizeof(data), "%s/open", f->dir);
	snprintf(errfile, sizeof(errfile), "%s/open.stderr", f->dir);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 2);
		execl(tl_bin("celld"), "celld", "--id", "1", "--raft-address",
		      raft, "--listen", listen, "--data-dir", data,
		      (char *)NULL);
		_exit(127);
	}
	f->kids[0] = pid;
	struct exited e = {pid, 0};
	if (!tl_wait_until(child_exited, &e, 10000))
		fail_msg("celld --listen %s without --token-file kept running",
		         listen);
	f->kids[0] = 0;
	char msg[1024] = "";
	FILE *ef = fopen(errfile, "r");
	if (ef) {
		size_t n = fread(msg, 1, sizeof(msg) - 1, ef);
		msg[n] = 0;
		fclose(ef);
	}
	if (!WIFEXITED(e.status) || WEXITSTATUS(e.status) != 2 ||
	    !strstr(msg, "--token-file"))
		fail_msg("celld --listen %s without a token: expected exit "
		         "status 2 and a message naming --token-file, got "
		         "status %d: %s",
		         listen,
		         WIFEXITED(e.status) ? WEXITSTATUS(e.status) : -1, msg);
}

/* ---- members ---- */

/* Every running member lists n voters with their API addresses and
 * exactly one leader, the same one everywhere. */
struct agree {
	struct lc_cell *c;
	size_t n;
	uint64_t leader;
	char why[512];
};

static bool members_agree(void *arg)
{
	struct agree *g = arg;
	g->leader = 0;
	for (int k = 0; k < g->c->n; k++) {
		if (!g->c->m[k].pid)
			continue;
		struct tl_answer a;
		req("GET", g->c->m[k].url, "/v1/members", NULL, &a);
		json_t *ms = json_object_get(a.json, "members"), *e;
		size_t i, voters = 0, leaders = 0;
		uint64_t leader = 0;
		json_array_foreach (ms, i, e) {
			json_int_t id =
			    json_integer_value(json_object_get(e, "id"));
			bool known = id >= 1 && id <= g->c->n &&
			             !strcmp(field(e, "api_address"),
			                     g->c->m[id - 1].url);
			voters += known && !strcmp(field(e, "role"), "voter");
			if (json_is_true(json_object_get(e, "leader"))) {
				leaders++;
				leader = (uint64_t)id;
			}
		}
		bool ok = a.status == 200 && json_array_size(ms) == g->n &&
		          voters == g->n && leaders == 1 &&
		          (!g->leader || leader == g->leader);
		if (!ok)
			snprintf(g->why, sizeof(g->why), "member %d lists %s",
			         k + 1, a.body);
		tl_answer_clear(&a);
		if (!ok)
			return false;
		g->leader = leader;
	}
	return true;
}

/* Every running member applied the same index with the same hash. */
static bool converged(void *arg)
{
	struct lc_cell *c = arg;
	char hash[32] = "";
	json_int_t index = -1;
	for (int i = 0; i < c->n; i++) {
		json_t *s = tl_cell_status(&c->m[i]);
		if (!s)
			return false;
		const char *h = field(s, "state_hash");
		json_int_t idx =
		    json_integer_value(json_object_get(s, "applied_index"));
		bool same = index < 0 || (!strcmp(h, hash) && idx == index);
		snprintf(hash, sizeof(hash), "%s", h);
		index = idx;
		json_decref(s);
		if (!same)
			return false;
	}
	return true;
}

/* DELETE /v1/members/ID until it is not refused as busy (a membership
 * change, e.g. the join's promotion, may still be finishing). */
struct removal {
	const char *leader;
	const char *path;
	long status;
	char body[512];
};

static bool removed(void *arg)
{
	struct removal *r = arg;
	struct tl_answer a;
	r->status = req("DELETE", r->leader, r->path, NULL, &a);
	snprintf(r->body, sizeof(r->body), "%s", a.body);
	tl_answer_clear(&a);
	return r->status != 409;
}

static void test_members(void **state)
{
	struct fx *f = fx_new(state);
	struct lc_cell *c = f->c = tl_cell_start(3, NULL);
	struct agree g = {.c = c, .n = 3};
	if (!tl_wait_until(members_agree, &g, 10000))
		fail_msg("members never agreed on 3 voters and one leader: %s",
		         g.why);
	const char *leader = c->m[g.leader - 1].url;

	/* a fourth celld joins through the leader and becomes a voter that
	 * knows everyone's API address from the replicated member table */
	tl_cell_member_add(c, leader);
	g.n = 4;
	if (!tl_wait_until(members_agree, &g, 30000))
		fail_msg("member 4 never became a voter: %s (logs in %s)",
		         g.why, c->root);
	post_job(leader, "after-join", 1);
	if (!tl_wait_until(converged, c, 30000))
		fail_msg("member 4 never caught up (logs in %s)", c->root);
	json_t *s = tl_cell_status(&c->m[3]);
	assert_non_null(s);
	assert_int_equal(json_integer_value(json_object_get(s, "jobs")), 1);
	json_decref(s);

	/* and leaves again */
	struct removal r = {leader, "/v1/members/4", 0, ""};
	if (!tl_wait_until(removed, &r, 20000) || r.status != 200)
		fail_msg("DELETE /v1/members/4: %ld %s", r.status, r.body);
	json_t *list = must(200, "GET", leader, "/v1/members", NULL);
	size_t i;
	json_t *e;
	assert_int_equal(json_array_size(json_object_get(list, "members")), 3);
	json_array_foreach (json_object_get(list, "members"), i, e)
		assert_int_not_equal(
		    json_integer_value(json_object_get(e, "id")), 4);
	json_decref(list);
	post_job(leader, "after-leave",
	         1); /* the cell of three still commits */
}

/* ---- scheduler leases ---- */

/* GET /v1/schedulers on base: the entry named name (caller decrefs), or
 * NULL when it is not registered there. */
static json_t *scheduler(const char *base, const char *name)
{
	json_t *list = must(200, "GET", base, "/v1/schedulers", NULL), *e;
	json_t *found = NULL;
	size_t i;
	json_array_foreach (json_object_get(list, "schedulers"), i, e) {
		if (!strcmp(field(e, "name"), name))
			found = json_incref(e);
	}
	json_decref(list);
	return found;
}

/* The role member id has in base's /v1/members, or "" when not listed. */
static const char *member_role(const char *base, json_int_t id)
{
	static char role[16];
	json_t *list = must(200, "GET", base, "/v1/members", NULL), *e;
	size_t i;
	role[0] = 0;
	json_array_foreach (json_object_get(list, "members"), i, e) {
		if (json_integer_value(json_object_get(e, "id")) == id)
			snprintf(role, sizeof(role), "%s", field(e, "role"));
	}
	json_decref(list);
	return role;
}

struct sched_probe {
	const char *base, *name;
	json_int_t member;
};

static bool sched_listed(void *arg)
{
	struct sched_probe *p = arg;
	json_t *s = scheduler(p->base, p->name);
	json_decref(s);
	return s != NULL;
}

static bool sched_gone(void *arg)
{
	return !sched_listed(arg);
}

static bool member_gone(void *arg)
{
	struct sched_probe *p = arg;
	return !*member_role(p->base, p->member);
}

static bool log_has(const char *path, const char *text)
{
	FILE *in = fopen(path, "r");
	char line[1024];
	bool found = false;
	while (in && !found && fgets(line, sizeof(line), in))
		found = strstr(line, text) != NULL;
	if (in)
		fclose(in);
	return found;
}

/* batch-1 heartbeats (ghost, never registered, is answered as unknown). */
static void beat_batch1(const char *base)
{
	json_t *a = must(200, "POST", base, "/v1/heartbeat",
	                 "{\"schedulers\":[\"batch-1\",\"ghost\"]}");
	json_t *unknown = json_object_get(a, "unknown_schedulers");
	if (json_array_size(unknown) != 1 ||
	    strcmp(json_string_value(json_array_get(unknown, 0)), "ghost"))
		fail_msg("heartbeat: \"unknown_schedulers\" should list ghost "
		         "only");
	assert_int_equal(json_integer_value(json_object_get(a, "sched_ttl_ms")),
	                 1000);
	assert_int_equal(json_array_size(json_object_get(a, "unknown")), 0);
	json_decref(a);
}

/* Registers batch-1 (standby member 7) and svc-1 (which names voter 2, as a
 * misconfigured scheduler might). */
static double register_two(const char *leader)
{
	double t = now_s();
	json_t *r = must(
	    200, "POST", leader, "/v1/txn",
	    "{\"id\":\"reg-1\",\"origin\":\"test\",\"ops\":["
	    "{\"op\":\"sched_register\",\"scheduler\":{\"name\":\"batch-1\","
	    "\"class\":\"batch\",\"policy\":\"batch\",\"member\":7}},"
	    "{\"op\":\"sched_register\",\"scheduler\":{\"name\":\"svc-1\","
	    "\"class\":\"service\",\"policy\":\"service\",\"member\":2}}]}");
	assert_int_equal(json_integer_value(json_object_get(r, "accepted")), 2);
	json_decref(r);
	return t;
}

/* What GET /v1/schedulers[/NAME] shows: the registry, "alive" from the
 * leader only. */
static void check_listing(struct lc_cell *c, int leader)
{
	const char *u = c->m[leader].url;
	json_t *one = must(200, "GET", u, "/v1/schedulers/batch-1", NULL);
	assert_string_equal(field(one, "class"), "batch");
	assert_string_equal(field(one, "policy"), "batch");
	assert_int_equal(json_integer_value(json_object_get(one, "member")), 7);
	assert_true(json_is_true(json_object_get(one, "alive")));
	json_decref(one);
	json_t *ghost = must(404, "GET", u, "/v1/schedulers/ghost", NULL);
	assert_string_equal(field(ghost, "error"), "unknown_scheduler");
	json_decref(ghost);
	const char *fu = c->m[follower_of(c, leader)].url;
	struct sched_probe p = {fu, "svc-1", 0};
	if (!tl_wait_until(sched_listed, &p, 10000))
		fail_msg("the follower never listed svc-1");
	json_t *fs = scheduler(fu, "svc-1");
	assert_null(json_object_get(fs, "alive")); /* it hears no heartbeats */
	json_decref(fs);
}

static void test_sched_leases(void **state)
{
	struct fx *f = fx_new(state);
	f->flags[0] = "--sched-ttl";
	f->flags[1] = "1s";
	struct lc_cell *c = f->c = tl_cell_start(3, f->flags);
	struct agree g = {.c = c, .n = 3};
	if (!tl_wait_until(members_agree, &g, 10000))
		fail_msg("members never agreed on 3 voters and one leader: %s",
		         g.why);
	int li = (int)g.leader - 1;
	const char *leader = c->m[li].url;
	/* batch-1's standby: nobody runs it (adding a standby does not wait
	 * for it to catch up, unlike a voter) */
	char body[256];
	snprintf(body, sizeof(body),
	         "{\"id\":7,\"raft_address\":\"127.0.0.1:%d\","
	         "\"role\":\"standby\"}",
	         tl_free_port());
	must_ok(200, "POST", leader, "/v1/members", body);
	assert_string_equal(member_role(leader, 7), "standby");
	double registered = register_two(leader);
	check_listing(c, li);

	/* heartbeats for batch-1 every 200 ms (the cadence under test, not a
	 * wait) for three TTLs: it stays; svc-1, silent, is unregistered */
	double t0 = now_s(), svc_gone = 0, last_beat = 0;
	while (now_s() - t0 < 3.0) {
		last_beat = now_s();
		beat_batch1(leader);
		json_t *b = scheduler(leader, "batch-1");
		if (!b || json_is_false(json_object_get(b, "alive")))
			fail_msg("batch-1 heartbeats yet is %s",
			         b ? "not alive" : "unregistered");
		json_decref(b);
		struct sched_probe p = {leader, "svc-1", 0};
		if (!svc_gone && !sched_listed(&p))
			svc_gone = now_s();
		usleep(200000);
	}
	if (!svc_gone)
		fail_msg("svc-1 stayed registered 3 s without a heartbeat");
	assert_true(svc_gone - registered >= 1.0); /* not before its TTL */
	/* svc-1 named voter 2: expiry never removes a voter */
	assert_string_equal(member_role(leader, 2), "voter");

	/* batch-1 falls silent: it is unregistered, then its standby goes */
	struct sched_probe p = {leader, "batch-1", 7};
	if (!tl_wait_until(sched_gone, &p, 30000))
		fail_msg("batch-1 stayed registered 30 s after its last "
		         "heartbeat (logs in %s)",
		         c->root);
	double gone = now_s();
	if (!tl_wait_until(member_gone, &p, 30000))
		fail_msg(
		    "standby member 7 of expired batch-1 was never removed "
		    "(logs in %s)",
		    c->root);
	fprintf(stderr,
	        "svc-1 unregistered %.2f s after registering, batch-1 "
	        "%.2f s after its last heartbeat\n",
	        svc_gone - registered, gone - last_beat);
	/* not before its TTL; the leader stamps a heartbeat with its loop's
	 * time, which may be a hair older than the request */
	assert_true(gone - last_beat >= 0.95);
	assert_string_equal(member_role(leader, 2), "voter");
	assert_true(log_has(c->m[li].log, "scheduler batch-1 silent for"));
	assert_true(log_has(c->m[li].log, "standby member 7 removed"));
	assert_true(log_has(c->m[li].log, "member 2 of expired scheduler svc-1 "
	                                  "is a voter: left in place"));
}

/* ---- ids of celld's own transactions ---- */

/* celld gives REST writes ids of its own; after a restart they must not
 * repeat ones the state still remembers, or the new write would be
 * answered as a duplicate of the old and change nothing. A lone voter is
 * the sharp case: it leads the same term again. */
static void test_rest_write_after_restart(void **state)
{
	struct fx *f = fx_new(state);
	struct lc_cell *c = f->c = tl_cell_start(1, NULL);
	put_machine(c->m[0].url, "m1");
	tl_cell_member_kill(c, 0, SIGTERM);
	tl_cell_member_start(c, 0);
	if (tl_cell_leader(c, 30000) != 0)
		fail_msg("the restarted member never led again (logs in %s)",
		         c->root);
	json_t *a = must(200, "PUT", c->m[0].url, "/v1/machines/m2",
	                 "{\"capacity\":{\"cpu\":1000,\"memory\":1000}}");
	assert_true(json_is_false(json_object_get(a, "duplicate")));
	json_decref(a);
	must_ok(200, "GET", c->m[0].url, "/v1/machines/m2", NULL);
	must_ok(200, "GET", c->m[0].url, "/v1/machines/m1", NULL);
}

/* ---- writes through a follower ---- */

struct follower_probe {
	const struct lc_member *m;
};

/* The member knows a leader other than itself, with its API address. */
static bool knows_leader(void *arg)
{
	struct follower_probe *p = arg;
	json_t *s = tl_cell_status(p->m);
	json_t *l = json_object_get(s, "leader");
	bool ok = json_integer_value(json_object_get(l, "id")) > 0 &&
	          (uint64_t)json_integer_value(json_object_get(l, "id")) !=
	              p->m->id &&
	          strncmp(field(l, "api_address"), "http://", 7) == 0;
	json_decref(s);
	return ok;
}

static bool job_visible(void *arg)
{
	struct tl_answer a;
	long st = req("GET", arg, "/v1/jobs/raw", NULL, &a);
	tl_answer_clear(&a);
	return st == 200;
}

static void test_follower_write(void **state)
{
	struct fx *f = fx_new(state);
	struct lc_cell *c = f->c = tl_cell_start(3, NULL);
	int li = tl_cell_leader(c, 10000);
	assert_true(li >= 0);
	const char *leader = c->m[li].url;
	const char *fol = c->m[follower_of(c, li)].url;
	char url[256];
	struct follower_probe p = {&c->m[follower_of(c, li)]};
	if (!tl_wait_until(knows_leader, &p, 10000))
		fail_msg("the follower never learnt who leads");

	/* a client that follows redirects (cc_client, via tl_http) */
	json_t *spec =
	    json_pack("{s:s,s:s,s:i,s:{s:i,s:i},s:i}", "name", "via-follower",
	              "class", "batch", "tasks", 1, "resources", "cpu", 1,
	              "memory", 1, "duration_ms", 1);
	snprintf(url, sizeof(url), "%s/v1/jobs", fol);
	assert_int_equal(tl_http("POST", url, spec, NULL), 201);
	json_decref(spec);
	must_ok(200, "GET", leader, "/v1/jobs/via-follower", NULL);

	/* one that does not: the follower names the leader and writes nothing
	 * (compared with the leader the follower itself reports, in case
	 * leadership moved since the start) */
	json_t *fs = tl_cell_status(&c->m[follower_of(c, li)]);
	assert_non_null(fs);
	char now_leader[128];
	snprintf(now_leader, sizeof(now_leader), "%s",
	         field(json_object_get(fs, "leader"), "api_address"));
	json_decref(fs);
	leader = now_leader;
	const char *body = "{\"name\":\"raw\",\"class\":\"batch\",\"tasks\":1,"
	                   "\"resources\":{\"cpu\":1,\"memory\":1},"
	                   "\"duration_ms\":1}";
	snprintf(url, sizeof(url), "%s/v1/jobs?txn_id=raw-1", fol);
	struct tl_request q = {.method = "POST", .url = url, .body = body};
	struct tl_answer a;
	tl_request(&q, &a);
	char *loc = tl_answer_header(&a, "Location");
	char want[256];
	snprintf(want, sizeof(want), "%s/v1/jobs?txn_id=raw-1", leader);
	if (a.status != 307 || !loc || strcmp(loc, want))
		fail_msg("POST to a follower: expected 307 to %s, got %ld "
		         "Location %s: %s",
		         want, a.status, loc ? loc : "(none)", a.body);
	assert_non_null(strstr(field(a.json, "detail"), leader));
	tl_answer_clear(&a);
	must_ok(404, "GET", leader, "/v1/jobs/raw", NULL);

	/* following the Location by hand commits it */
	struct tl_request q2 = {.method = "POST", .url = loc, .body = body};
	if (tl_request(&q2, &a) != 201)
		fail_msg("POST %s: %ld %s", loc, a.status, a.body);
	tl_answer_clear(&a);
	free(loc);
	if (!tl_wait_until(job_visible, (void *)fol, 10000))
		fail_msg("the follower never showed job raw");
}

/* ---- metrics ---- */

/* The value of the sample `name` (with its labels, exactly as rendered),
 * or -1 when absent. Checks every sample line is Prometheus text. */
static double sample(const char *text, const char *name)
{
	double v = -1;
	size_t n = strlen(name);
	for (const char *line = text; *line;) {
		const char *end = strchr(line, '\n');
		if (!end)
			fail_msg("metrics: the last line has no newline");
		if (*line != '#') {
			const char *sp =
			    memchr(line, ' ', (size_t)(end - line));
			char *num_end;
			if (!sp)
				fail_msg("metrics: not a sample: %.*s",
				         (int)(end - line), line);
			double x = strtod(sp + 1, &num_end);
			if (num_end != end)
				fail_msg("metrics: bad value: %.*s",
				         (int)(end - line), line);
			if ((size_t)(sp - line) == n && !strncmp(line, name, n))
				v = x;
		}
		line = end + 1;
	}
	return v;
}

static void test_metrics(void **state)
{
	struct fx *f = fx_new(state);
	struct lc_cell *c = f->c = tl_cell_start(1, NULL);
	const char *u = c->m[0].url;
	put_machine(u, "m1");
	post_job(u, "mj", 2);
	json_t *r =
	    must(200, "POST", u, "/v1/txn",
	         "{\"id\":\"p\",\"ops\":[{\"op\":\"place\",\"job\":\"mj\","
	         "\"task\":0,\"machine\":\"m1\"},{\"op\":\"job_kill\","
	         "\"job\":\"nosuch\"}]}");
	json_int_t index = json_integer_value(json_object_get(r, "index"));
	json_decref(r);

	struct tl_answer a;
	assert_int_equal(req("GET", u, "/metrics", NULL, &a), 200);
	char *ct = tl_answer_header(&a, "Content-Type");
	assert_non_null(ct);
	assert_non_null(strstr(ct, "text/plain"));
	free(ct);
	const char *t = a.body;
	assert_non_null(
	    strstr(t, "# TYPE cell_commit_latency_seconds histogram\n"));
	assert_non_null(strstr(t, "# TYPE cell_ops_total counter\n"));
	assert_true(sample(t, "cell_commit_index") >= (double)index);
	assert_true(sample(t, "cell_raft_term") >= 1);
	assert_true(sample(t, "cell_ops_total{verdict=\"ok\"}") >= 3);
	assert_true(sample(t, "cell_ops_total{verdict=\"unknown_job\"}") >= 1);
	double inf =
	    sample(t, "cell_commit_latency_seconds_bucket{le=\"+Inf\"}");
	assert_true(inf >= 3);
	assert_true(sample(t, "cell_commit_latency_seconds_count") == inf);
	assert_true(
	    sample(t, "cell_commit_latency_seconds_bucket{le=\"0.0005\"}") >=
	    0);
	assert_true(sample(t, "cell_http_requests_total{code=\"200\"}") >= 1);
	assert_true(sample(t, "cell_http_requests_total{code=\"201\"}") >= 1);
	tl_answer_clear(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_watch_from_follower, teardown),
	    cmocka_unit_test_teardown(test_watch_window, teardown),
	    cmocka_unit_test_teardown(test_watch_and_tasks_by_agent, teardown),
	    cmocka_unit_test_teardown(test_liveness, teardown),
	    cmocka_unit_test_teardown(test_token, teardown),
	    cmocka_unit_test_teardown(test_members, teardown),
	    cmocka_unit_test_teardown(test_sched_leases, teardown),
	    cmocka_unit_test_teardown(test_rest_write_after_restart, teardown),
	    cmocka_unit_test_teardown(test_follower_write, teardown),
	    cmocka_unit_test_teardown(test_metrics, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
