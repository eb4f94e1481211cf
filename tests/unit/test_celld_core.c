/* test_celld_core.c: the celld core against the fake store, on a real
 * libev loop with a real HTTP server on a free loopback port and a fake
 * clock the test moves: the routes' decisions (redirects to the writer,
 * no writer, unknown outcomes answered again by id, bad bodies, unknown
 * names, conflicts, the token, dry runs, a store without membership), the
 * watch window (resuming inside it, 410 just below it, streams ending on a
 * restore, the filters), machine liveness and scheduler leases. Nothing
 * sleeps: the test moves the clock, ticks the core and runs the loop until
 * what it waits for holds. */
#include "testlib.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"
#include "celld.h"
#include "evtest.h"

#define DEADLINE   20.0 /* seconds of real time for anything to happen */
#define TTL_MS     4000 /* both TTLs, when a test turns them on */
#define TOKEN      "a-token-of-sixteen-or-more"
#define OTHER_API  "http://127.0.0.1:7777" /* the writer, when it is not us */
#define MAX_STREAM 4

/* One /v1/watch stream through cellcommon's asynchronous client. */
struct stream {
	json_t *lines;     /* every change line, parsed */
	unsigned progress; /* progress lines seen */
	size_t before;     /* changes before the first progress line */
	bool ended;
	int status;
	long http;
};

struct fx {
	struct ev_loop *loop;
	double now; /* the fake clock, seconds */
	cc_metrics *metrics;
	cd_core *core;
	cst_store *store;
	cc_server *srv;
	char base[64];
	cc_aclient *client; /* for the streams */
	struct stream streams[MAX_STREAM];
	int nstreams;
	bool closed;
};

struct opts {
	bool writer, membership, token;
	uint64_t machine_ttl_ms, sched_ttl_ms, window;
};

static double fake_now(void *arg)
{
	return ((struct fx *)arg)->now;
}

static int64_t fake_now_ms(void *arg)
{
	return 1700000000000 + (int64_t)(((struct fx *)arg)->now * 1000);
}

static bool writable(void *arg)
{
	return cst_writable(((struct fx *)arg)->store);
}

static struct fx *fx_open(void **state, const struct opts *o)
{
	struct fx *f = *state = cu_xcalloc(1, sizeof(*f));
	char err[CC_ERRMSG_SIZE];
	f->loop = ev_loop_new(EVFLAG_AUTO);
	f->now = 100;
	f->metrics = cc_metrics_new();
	struct cd_config cc = {.machine_ttl_ms = o->machine_ttl_ms,
	                       .sched_ttl_ms = o->sched_ttl_ms,
	                       .watch_window = o->window ? o->window : 1000,
	                       .token = o->token ? TOKEN : NULL,
	                       .metrics = f->metrics,
	                       .clock = {fake_now, f}};
	if (cd_core_new(&cc, &f->core, err, sizeof(err)))
		fail_msg("cd_core_new: %s", err);
	struct cst_hooks hooks;
	cd_core_store_hooks(f->core, &hooks);
	struct cst_fake_config fc = {.loop = f->loop,
	                             .now_ms = fake_now_ms,
	                             .clock_arg = f,
	                             .id = 1,
	                             .api_address = "http://127.0.0.1:1",
	                             .writer = o->writer,
	                             .membership = o->membership};
	assert_int_equal(cst_fake_open(&fc, &hooks, &f->store), 0);
	struct cc_server_config sc = {.address = "127.0.0.1",
	                              .metrics = f->metrics};
	if (cc_server_new(f->loop, &sc, &f->srv, err, sizeof(err)) ||
	    cd_core_serve(f->core, f->store, f->srv, err, sizeof(err)))
		fail_msg("serving: %s", err);
	snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u",
	         cc_server_port(f->srv));
	f->client = cc_aclient_new(f->loop, NULL);
	if (o->writer)
		assert_true(tl_run_until(f->loop, writable, f, DEADLINE));
	return f;
}

static void on_closed(void *arg)
{
	((struct fx *)arg)->closed = true;
}

static bool closed(void *arg)
{
	return ((struct fx *)arg)->closed;
}

/* The host's order: stop, free the server, close the store, free. */
static int teardown(void **state)
{
	struct fx *f = *state;
	if (!f)
		return 0;
	cc_aclient_free(f->client); /* ends the streams it follows */
	for (int i = 0; i < f->nstreams; i++)
		json_decref(f->streams[i].lines);
	cd_core_stop(f->core);
	cc_server_free(f->srv);
	cst_close(f->store, on_closed, f);
	assert_true(tl_run_until(f->loop, closed, f, DEADLINE));
	cd_core_free(f->core);
	cc_metrics_free(f->metrics);
	ev_loop_destroy(f->loop);
	free(f);
	return 0;
}

/* ---- HTTP: tests/lib's libcurl request on a thread (it shows headers and
 * does not follow redirects), the loop serving meanwhile ---- */

struct call {
	struct tl_thread t;
	struct tl_request q;
	struct tl_answer a;
	char url[512];
};

static void do_call(void *arg)
{
	struct call *c = arg;
	tl_request(&c->q, &c->a);
}

/* Sends method path (body may be NULL) with the token when asked; *a is
 * the caller's to clear. */
static long http(struct fx *f, struct tl_answer *a, const char *method,
                 const char *path, const char *body, bool token)
{
	struct call c = {0};
	snprintf(c.url, sizeof(c.url), "%s%s", f->base, path);
	c.q = (struct tl_request){.method = method,
	                          .url = c.url,
	                          .body = body,
	                          .token = token ? TOKEN : NULL,
	                          .timeout_ms = (int)(DEADLINE * 1000)};
	tl_thread_start(&c.t, f->loop, do_call, &c);
	bool done = tl_run_until(f->loop, tl_thread_done, &c.t, DEADLINE);
	tl_thread_join(&c.t);
	assert_true(done);
	*a = c.a;
	return a->status;
}

/* The answer's JSON (a new reference), failing unless the status is want. */
static json_t *must(struct fx *f, long want, const char *method,
                    const char *path, const char *body)
{
	struct tl_answer a;
	if (http(f, &a, method, path, body, false) != want)
		fail_msg("%s %s: expected %ld, got %ld %s%s", method, path,
		         want, a.status, a.body, a.error);
	json_t *j = json_incref(a.json);
	tl_answer_clear(&a);
	return j;
}

static void must_ok(struct fx *f, long want, const char *method,
                    const char *path, const char *body)
{
	json_decref(must(f, want, method, path, body));
}

static const char *field(const json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));
	return s ? s : "";
}

static json_int_t number(const json_t *j, const char *key)
{
	return json_integer_value(json_object_get(j, key));
}

/* A header of the answer, compared; absent is "". */
static void expect_header(const struct tl_answer *a, const char *name,
                          const char *want)
{
	char *v = tl_answer_header(a, name);
	if (strcmp(v ? v : "", want))
		fail_msg("%s: expected \"%s\", got \"%s\"", name, want,
		         v ? v : "(none)");
	free(v);
}

#define MACHINE_BODY "{\"capacity\":{\"cpu\":1000,\"memory\":1000}}"
#define JOB_BODY(name, tasks)                                                  \
	"{\"name\":\"" name "\",\"class\":\"batch\",\"tasks\":" #tasks         \
	",\"resources\":{\"cpu\":10,\"memory\":10},\"duration_ms\":1000}"

/* PUT /v1/machines/NAME; returns the index it committed at. */
static json_int_t put_machine(struct fx *f, const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "/v1/machines/%s", name);
	json_t *j = must(f, 200, "PUT", path, MACHINE_BODY);
	json_int_t index = number(j, "index");
	json_decref(j);
	return index;
}

static char *machine_state(struct fx *f, const char *name)
{
	static char st[32];
	char path[128];
	snprintf(path, sizeof(path), "/v1/machines/%s", name);
	json_t *m = must(f, 200, "GET", path, NULL);
	snprintf(st, sizeof(st), "%s", field(m, "state"));
	json_decref(m);
	return st;
}

/* What /v1/status says: the applied index and the content hash. */
static json_int_t applied(struct fx *f)
{
	json_t *s = must(f, 200, "GET", "/v1/status", NULL);
	json_int_t i = number(s, "applied_index");
	json_decref(s);
	return i;
}

static char *content_hash(struct fx *f)
{
	json_t *s = must(f, 200, "GET", "/v1/status", NULL);
	char *h = cu_xstrdup(field(s, "content_hash"));
	json_decref(s);
	return h;
}

/* ---- the clock and the loop ---- */

/* Moves the fake clock and ticks the core, as the host's timer does. */
static void advance(struct fx *f, double seconds)
{
	f->now += seconds;
	cd_core_tick(f->core);
}

static bool nothing_queued(void *arg)
{
	struct cst_stats st;
	cst_stats(((struct fx *)arg)->store, &st);
	return st.queued == 0;
}

/* Runs the loop until what the core submitted has been answered. */
static void settle(struct fx *f)
{
	assert_true(tl_run_until(f->loop, nothing_queued, f, DEADLINE));
	ev_run(f->loop, EVRUN_NOWAIT); /* completions due after the entry */
}

/* ---- streams ---- */

static int on_line(void *arg, const char *line, size_t len)
{
	struct stream *s = arg;
	json_t *j = json_loadb(line, len, 0, NULL);
	if (!j)
		fail_msg("watch: not JSON: %.*s", (int)len, line);
	if (strcmp(field(j, "kind"), "progress")) {
		json_array_append_new(s->lines, j);
		return 0;
	}
	if (!s->progress++)
		s->before = json_array_size(s->lines);
	json_decref(j);
	return 0;
}

static void on_end(void *arg, int status, struct cc_response *resp,
                   const char *errmsg)
{
	struct stream *s = arg;
	(void)errmsg;
	s->ended = true;
	s->status = status;
	s->http = resp->status;
}

static struct stream *watch(struct fx *f, const char *query)
{
	char url[512];
	assert_true(f->nstreams < MAX_STREAM);
	struct stream *s = &f->streams[f->nstreams++];
	s->lines = json_array();
	snprintf(url, sizeof(url), "%s/v1/watch?%s", f->base, query);
	assert_non_null(
	    cc_aclient_stream(f->client, url, 0, on_line, on_end, s));
	return s;
}

struct until_lines {
	struct stream *s;
	size_t n;
};

static bool has_lines(void *arg)
{
	struct until_lines *u = arg;
	return json_array_size(u->s->lines) >= u->n || u->s->ended;
}

static void wait_lines(struct fx *f, struct stream *s, size_t n)
{
	struct until_lines u = {s, n};
	if (!tl_run_until(f->loop, has_lines, &u, DEADLINE) ||
	    json_array_size(s->lines) < n)
		fail_msg("watch: %zu lines, expected %zu%s",
		         json_array_size(s->lines), n,
		         s->ended ? " (the stream ended)" : "");
}

static bool stream_ended(void *arg)
{
	return ((struct stream *)arg)->ended;
}

static bool has_progress(void *arg)
{
	return ((struct stream *)arg)->progress > 0;
}

/* The changes s got before its first progress line (waiting for it). */
static json_t *until_progress(struct fx *f, struct stream *s)
{
	if (!tl_run_until(f->loop, has_progress, s, DEADLINE))
		fail_msg("watch: no progress line");
	json_t *before = json_array();
	for (size_t i = 0; i < s->before; i++)
		json_array_append(before, json_array_get(s->lines, i));
	return before;
}

/* ---- the public header's promises ---- */

static void test_tick_period(void **state)
{
	struct fx *f = fx_open(state, &(struct opts){.machine_ttl_ms = 8000,
	                                             .sched_ttl_ms = TTL_MS});
	assert_int_equal(cd_core_tick_ms(f->core), TTL_MS / 4);
	char err[CC_ERRMSG_SIZE];
	cd_core *c;
	struct cd_config none = {.watch_window = 10, .metrics = f->metrics};
	/* no TTLs: only the watch's progress lines, every 5 s */
	cc_metrics *m = none.metrics = cc_metrics_new();
	assert_int_equal(cd_core_new(&none, &c, err, sizeof(err)), 0);
	assert_int_equal(cd_core_tick_ms(c), 5000);
	cd_core_free(c);
	cc_metrics_free(m);
	none.metrics = NULL;
	assert_int_equal(cd_core_new(&none, &c, err, sizeof(err)), CC_EINVAL);
	assert_non_null(strstr(err, "metrics"));
}

/* ---- routes ---- */

/* Not the writer: a write answers 307 to the writer's API with the same
 * path and query, or 503 no_leader (Retry-After) when nobody writes; the
 * state is unchanged and reads are still served here. */
static void test_writes_go_to_the_writer(void **state)
{
	struct fx *f = fx_open(state, &(struct opts){0});
	struct tl_answer a;
	assert_int_equal(
	    http(f, &a, "PUT", "/v1/machines/m1", MACHINE_BODY, false), 503);
	assert_string_equal(field(a.json, "error"), "no_leader");
	expect_header(&a, "Retry-After", "1");
	tl_answer_clear(&a);

	cst_fake_set_writer(f->store, false, 2, OTHER_API);
	assert_int_equal(http(f, &a, "POST", "/v1/jobs?txn_id=a%20b%2Fc",
	                      JOB_BODY("j1", 1), false),
	                 307);
	expect_header(&a, "Location", OTHER_API "/v1/jobs?txn_id=a%20b%2Fc");
	assert_string_equal(field(a.json, "error"), "not_leader");
	assert_non_null(strstr(field(a.json, "detail"), OTHER_API));
	tl_answer_clear(&a);
	assert_int_equal(http(f, &a, "POST", "/v1/heartbeat",
	                      "{\"machines\":[\"m1\"]}", false),
	                 307);
	expect_header(&a, "Location", OTHER_API "/v1/heartbeat");
	tl_answer_clear(&a);

	must_ok(f, 404, "GET", "/v1/jobs/j1", NULL);
	json_t *st = must(f, 200, "GET", "/v1/status", NULL);
	assert_false(json_is_true(json_object_get(st, "trusted")));
	assert_int_equal(number(json_object_get(st, "leader"), "id"), 2);
	assert_string_equal(field(json_object_get(st, "leader"), "api_address"),
	                    OTHER_API);
	json_decref(st);
}

/* A write whose outcome is unknown answers 503 outcome_unknown; sent
 * again with the same ?txn_id= it gets the first verdict (a duplicate).
 * One that never reached the log is simply applied when sent again. */
static void test_unknown_outcome_then_resend(void **state)
{
	struct fx *f = fx_open(state, &(struct opts){.writer = true});
	struct tl_answer a;
	cst_fake_fail_next(f->store, 1, CST_EUNKNOWN, true);
	assert_int_equal(http(f, &a, "PUT", "/v1/machines/m1?txn_id=put-m1",
	                      MACHINE_BODY, false),
	                 503);
	assert_string_equal(field(a.json, "error"), "outcome_unknown");
	assert_non_null(strstr(field(a.json, "detail"), "same id"));
	expect_header(&a, "Retry-After", "1");
	tl_answer_clear(&a);
	json_t *j =
	    must(f, 200, "PUT", "/v1/machines/m1?txn_id=put-m1", MACHINE_BODY);
	assert_true(json_is_true(json_object_get(j, "duplicate")));
	json_int_t first = number(j, "index");
	json_decref(j);
	assert_true(first > 0);

	cst_fake_fail_next(f->store, 1, CST_ENOTCOMMITTED, false);
	assert_int_equal(http(f, &a, "PUT", "/v1/machines/m2?txn_id=put-m2",
	                      MACHINE_BODY, false),
	                 503);
	assert_string_equal(field(a.json, "error"), "not_committed");
	expect_header(&a, "Retry-After", "1");
	tl_answer_clear(&a);
	must_ok(f, 404, "GET", "/v1/machines/m2", NULL);
	j = must(f, 200, "PUT", "/v1/machines/m2?txn_id=put-m2", MACHINE_BODY);
	assert_true(json_is_false(json_object_get(j, "duplicate")));
	assert_true(number(j, "index") > first);
	json_decref(j);

	char *text = cc_metrics_render(f->metrics, NULL);
	assert_non_null(strstr(text, "cell_txns_total{outcome=\"unknown\"} 2"));
	assert_non_null(
	    strstr(text, "cell_txns_total{outcome=\"duplicate\"} 1"));
	free(text);
}

/* What the API turns away leaves the state as it was: a bad body (400),
 * an unknown machine or job (404), a conflict (409). */
static void test_refusals(void **state)
{
	struct fx *f = fx_open(state, &(struct opts){.writer = true});
	put_machine(f, "m1");
	must_ok(f, 201, "POST", "/v1/jobs", JOB_BODY("j1", 1));
	char *before = content_hash(f);
	json_int_t index = applied(f);
	static const struct {
		long status;
		const char *method, *path, *body, *error;
	} cases[] = {
	    {400, "PUT", "/v1/machines/m2", "{\"capacity\":", "bad_machine"},
	    {400, "PUT", "/v1/machines/m2", "{\"name\":\"m3\"}", "bad_machine"},
	    {400, "POST", "/v1/txn", "{\"ops\":7}", "bad_transaction"},
	    {400, "POST", "/v1/jobs", "{\"name\":\"j2\"}", "bad_job"},
	    {400, "POST", "/v1/jobs?txn=1", JOB_BODY("j2", 1), "bad_query"},
	    {400, "POST", "/v1/heartbeat", "{\"machines\":\"m1\"}",
	     "bad_heartbeat"},
	};
	for (size_t i = 0; i < CU_ARRAY_LEN(cases); i++) {
		struct tl_answer a;
		if (http(f, &a, cases[i].method, cases[i].path, cases[i].body,
		         false) != cases[i].status ||
		    strcmp(field(a.json, "error"), cases[i].error))
			fail_msg("%s %s %s: expected %ld %s, got %ld %s",
			         cases[i].method, cases[i].path, cases[i].body,
			         cases[i].status, cases[i].error, a.status,
			         a.body);
		tl_answer_clear(&a);
	}
	assert_int_equal(applied(f), index); /* not even an entry */

	/* verdicts: an entry each, the content as it was */
	json_t *j = must(f, 404, "POST", "/v1/machines/nosuch/drain", NULL);
	assert_string_equal(field(j, "error"), "unknown_machine");
	json_decref(j);
	j = must(f, 404, "DELETE", "/v1/jobs/nosuch", NULL);
	assert_string_equal(field(j, "error"), "unknown_job");
	json_decref(j);
	j = must(f, 409, "POST", "/v1/jobs", JOB_BODY("j1", 2));
	assert_string_equal(field(j, "error"), "exists");
	json_decref(j);
	j = must(f, 404, "GET", "/v1/machines/nosuch", NULL);
	assert_string_equal(field(j, "error"), "unknown_machine");
	json_decref(j);
	char *after = content_hash(f);
	assert_string_equal(before, after);
	free(before);
	free(after);
}

/* With a token, a mutation without it answers 401 with WWW-Authenticate
 * and changes nothing; reads need none. */
static void test_token(void **state)
{
	struct fx *f =
	    fx_open(state, &(struct opts){.writer = true, .token = true});
	json_int_t index = applied(f);
	struct tl_answer a;
	assert_int_equal(
	    http(f, &a, "PUT", "/v1/machines/m1", MACHINE_BODY, false), 401);
	assert_string_equal(field(a.json, "error"), "unauthorized");
	expect_header(&a, "WWW-Authenticate", "Bearer");
	tl_answer_clear(&a);
	assert_int_equal(applied(f), index);
	must_ok(f, 404, "GET", "/v1/machines/m1", NULL);
	assert_int_equal(
	    http(f, &a, "PUT", "/v1/machines/m1", MACHINE_BODY, true), 200);
	tl_answer_clear(&a);
	assert_string_equal(machine_state(f, "m1"), "up");
}

/* A dry run answers the verdicts from the writer's replica and leaves it
 * as it was. */
static void test_dry_run(void **state)
{
	struct fx *f = fx_open(state, &(struct opts){.writer = true});
	put_machine(f, "m1");
	json_int_t index = applied(f);
	json_t *j =
	    must(f, 200, "POST", "/v1/txn?dry_run=true",
	         "{\"id\":\"dry-1\",\"ops\":["
	         "{\"op\":\"machine_put\",\"machine\":{\"name\":\"m2\","
	         "\"capacity\":{\"cpu\":1,\"memory\":1}}},"
	         "{\"op\":\"machine_state\",\"machine\":\"nosuch\",\"state\":"
	         "\"down\"}]}");
	assert_true(json_is_true(json_object_get(j, "dry_run")));
	assert_int_equal(number(j, "accepted"), 1);
	json_decref(j);
	assert_int_equal(applied(f), index);
	must_ok(f, 404, "GET", "/v1/machines/m2", NULL);
	must_ok(f, 400, "POST", "/v1/txn?dry_run=perhaps", "{}");
}

/* A store without membership says so: 501, for the list and a change. */
static void test_no_membership(void **state)
{
	struct fx *f = fx_open(state, &(struct opts){.writer = true});
	struct tl_answer a;
	assert_int_equal(http(f, &a, "GET", "/v1/members", NULL, false), 501);
	assert_string_equal(field(a.json, "error"), "no_membership");
	assert_non_null(strstr(field(a.json, "detail"), "no membership"));
	tl_answer_clear(&a);
	json_t *j = must(f, 501, "POST", "/v1/members",
	                 "{\"id\":5,\"raft_address\":\"127.0.0.1:5\"}");
	assert_string_equal(field(j, "error"), "no_membership");
	json_decref(j);
	must_ok(f, 501, "DELETE", "/v1/members/5", NULL);
}

/* With the fake's trivial membership, changes are answered when they
 * complete; an unknown member is 404. */
static void test_membership(void **state)
{
	struct fx *f =
	    fx_open(state, &(struct opts){.writer = true, .membership = true});
	must_ok(f, 200, "POST", "/v1/members",
	        "{\"id\":5,\"raft_address\":\"127.0.0.1:5\","
	        "\"api_address\":\"http://127.0.0.1:5\",\"role\":\"standby\"}");
	json_t *j = must(f, 200, "GET", "/v1/members", NULL);
	json_t *ms = json_object_get(j, "members");
	assert_int_equal(json_array_size(ms), 2);
	assert_string_equal(field(json_array_get(ms, 1), "role"), "standby");
	assert_true(
	    json_is_true(json_object_get(json_array_get(ms, 0), "leader")));
	json_decref(j);
	must_ok(f, 200, "PUT", "/v1/members/5", "{\"role\":\"spare\"}");
	j = must(f, 404, "DELETE", "/v1/members/9", NULL);
	assert_string_equal(field(j, "error"), "unknown_member");
	assert_non_null(strstr(field(j, "detail"), "member 9"));
	json_decref(j);
	must_ok(f, 200, "DELETE", "/v1/members/5", NULL);
}

/* ---- the watch window ---- */

/* A kill is one entry with several changes; a client resuming at that
 * index gets exactly those, in order, then what follows; the filters keep
 * what they keep of the same feed. */
static void test_watch_resume(void **state)
{
	struct fx *f = fx_open(state, &(struct opts){.writer = true});
	json_int_t first = put_machine(f, "m1");
	must_ok(f, 200, "PUT", "/v1/machines/m2",
	        "{\"capacity\":{\"cpu\":1000,\"memory\":1000},"
	        "\"agent\":\"http://agent-2:7301\"}");
	must_ok(f, 201, "POST", "/v1/jobs", JOB_BODY("j1", 2));
	must_ok(f, 201, "POST", "/v1/jobs", JOB_BODY("j2", 1));
	must_ok(
	    f, 200, "POST", "/v1/txn",
	    "{\"id\":\"place\",\"ops\":["
	    "{\"op\":\"place\",\"job\":\"j1\",\"task\":0,\"machine\":\"m1\"},"
	    "{\"op\":\"place\",\"job\":\"j1\",\"task\":1,\"machine\":\"m2\"},"
	    "{\"op\":\"place\",\"job\":\"j2\",\"task\":0,\"machine\":\"m2\"}"
	    "]}");
	json_t *k = must(f, 200, "DELETE", "/v1/jobs/j1", NULL);
	json_int_t kill = number(k, "index");
	json_decref(k);

	char q[128];
	snprintf(q, sizeof(q), "from=%lld", (long long)kill);
	struct stream *at_kill = watch(f, q);
	wait_lines(f, at_kill, 3);
	static const struct {
		const char *kind, *machine, *state;
	} killed[] = {{"job", "", "killed"},
	              {"task", "m1", "killed"},
	              {"task", "m2", "killed"}};
	for (size_t i = 0; i < 3; i++) {
		json_t *l = json_array_get(at_kill->lines, i);
		assert_int_equal(number(l, "index"), kill);
		assert_string_equal(field(l, "kind"), killed[i].kind);
		assert_string_equal(field(l, "job"), "j1");
		assert_string_equal(field(l, "machine"), killed[i].machine);
		assert_string_equal(field(l, "state"), killed[i].state);
	}
	json_int_t next = put_machine(f, "m3"); /* live, after the replay */
	wait_lines(f, at_kill, 4);
	json_t *l = json_array_get(at_kill->lines, 3);
	assert_int_equal(number(l, "index"), next);
	assert_string_equal(field(l, "machine"), "m3");

	/* the filters, over a replay of everything: each keeps exactly what
	 * it should of the unfiltered feed */
	snprintf(q, sizeof(q), "from=%lld", (long long)first);
	struct stream *all = watch(f, q);
	snprintf(q, sizeof(q), "from=%lld&job=j1", (long long)first);
	struct stream *job = watch(f, q);
	snprintf(q, sizeof(q),
	         "from=%lld&agent=http%%3A%%2F%%2Fagent-2%%3A7301",
	         (long long)first);
	struct stream *agent = watch(f, q);
	wait_lines(f, all, 1); /* a replay shows the stream is subscribed */
	wait_lines(f, job, 1);
	wait_lines(f, agent, 1);
	advance(f, 5.0); /* a progress line closes each replay */
	json_t *got_all = until_progress(f, all);
	json_t *got_job = until_progress(f, job);
	json_t *got_agent = until_progress(f, agent);
	json_t *want_job = json_array(), *want_agent = json_array(), *e;
	size_t i;
	json_array_foreach (got_all, i, e) {
		if (!strcmp(field(e, "job"), "j1"))
			json_array_append(want_job, e);
		if (!strcmp(field(e, "machine"), "m2") ||
		    !strcmp(field(e, "kind"), "job_removed"))
			json_array_append(want_agent, e);
	}
	assert_true(json_array_size(want_agent) >= 4);
	assert_true(json_equal(got_job, want_job));
	assert_true(json_equal(got_agent, want_agent));
	json_decref(got_all);
	json_decref(got_job);
	json_decref(got_agent);
	json_decref(want_job);
	json_decref(want_agent);
}

/* The window keeps the last N changes: the first index just below it
 * answers 410 (reload), the first one in it replays the rest. */
static void test_watch_window(void **state)
{
	struct fx *f =
	    fx_open(state, &(struct opts){.writer = true, .window = 4});
	json_int_t at[6];
	for (int i = 0; i < 6; i++) {
		char name[8];
		snprintf(name, sizeof(name), "m%d", i);
		at[i] = put_machine(f, name);
	}
	char path[64];
	snprintf(path, sizeof(path), "/v1/watch?from=%lld",
	         (long long)at[2] - 1);
	json_t *j = must(f, 410, "GET", path, NULL);
	assert_string_equal(field(j, "error"), "gone");
	assert_non_null(strstr(field(j, "detail"), "reload"));
	json_decref(j);
	snprintf(path, sizeof(path), "from=%lld", (long long)at[2]);
	struct stream *s = watch(f, path);
	wait_lines(f, s, 1);
	advance(f, 5.0);
	json_t *got = until_progress(f, s);
	assert_int_equal(json_array_size(got), 4);
	for (size_t i = 0; i < 4; i++) {
		char name[8];
		snprintf(name, sizeof(name), "m%zu", i + 2);
		assert_string_equal(field(json_array_get(got, i), "machine"),
		                    name);
	}
	json_decref(got);
}

/* A restored state ends every stream; the window restarts after it. */
static void test_watch_restore(void **state)
{
	struct fx *f = fx_open(state, &(struct opts){.writer = true});
	json_int_t m1 = put_machine(f, "m1");
	char q[64];
	snprintf(q, sizeof(q), "from=%lld", (long long)m1);
	struct stream *s = watch(f, q);
	wait_lines(f, s, 1); /* subscribed: m2 comes live */
	put_machine(f, "m2");
	wait_lines(f, s, 2);
	cs_state *snap = cs_state_new(NULL);
	cs_txn *t = cs_txn_new("snap", "test", CS_INCREMENTAL, CS_FINE);
	struct tl_machine m;
	tl_machine_init(&m, "s1", 1000, 1000);
	cs_txn_machine_put(t, &m.spec);
	cs_result res;
	cs_apply(snap, t, 50, 1700000000000, &res);
	cs_result_clear(&res);
	cs_txn_free(t);
	cst_fake_restore(f->store, snap);
	assert_true(tl_run_until(f->loop, stream_ended, s, DEADLINE));
	assert_int_equal(s->status, 0);
	assert_int_equal(s->http, 200);
	assert_int_equal(applied(f), 50);
	char path[64];
	snprintf(path, sizeof(path), "/v1/watch?from=%lld", (long long)m1);
	must_ok(f, 410, "GET", path, NULL);
	struct stream *after = watch(f, "from=51");
	json_int_t m3 = put_machine(f, "m3");
	wait_lines(f, after, 1);
	assert_int_equal(number(json_array_get(after->lines, 0), "index"), m3);
	must_ok(f, 404, "GET", "/v1/machines/m1", NULL);
}

/* ---- machine liveness ---- */

static void heartbeat(struct fx *f, const char *body)
{
	json_t *j = must(f, 200, "POST", "/v1/heartbeat", body);
	assert_int_equal(number(j, "ttl_ms"), TTL_MS);
	json_decref(j);
}

/* A machine that heartbeats stays up; silent ones go down past the TTL,
 * together in one transaction; one that changed after the sweep looked is
 * left alone (the transaction is coarse). */
static void test_liveness(void **state)
{
	struct fx *f = fx_open(
	    state, &(struct opts){.writer = true, .machine_ttl_ms = TTL_MS});
	char q[64];
	json_int_t first = put_machine(f, "m1");
	put_machine(f, "m2");
	put_machine(f, "m3");
	snprintf(q, sizeof(q), "from=%lld&machine=m2", (long long)first);
	struct stream *s = watch(f, q);
	snprintf(q, sizeof(q), "from=%lld&machine=m3", (long long)first);
	struct stream *s3 = watch(f, q);
	wait_lines(f, s, 1); /* each replays its machine's registration */
	wait_lines(f, s3, 1);
	json_t *j = must(f, 200, "POST", "/v1/heartbeat",
	                 "{\"machines\":[\"m1\",\"ghost\"]}");
	assert_string_equal(
	    json_string_value(json_array_get(json_object_get(j, "unknown"), 0)),
	    "ghost");
	json_decref(j);
	for (int i = 0; i < 3; i++) { /* 3 s: nobody's TTL is over */
		advance(f, 1.0);
		heartbeat(f, "{\"machines\":[\"m1\"]}");
		settle(f);
	}
	assert_string_equal(machine_state(f, "m2"), "up");
	for (int i = 0; i < 2; i++) { /* 5 s: m2 and m3 are past it */
		advance(f, 1.0);
		heartbeat(f, "{\"machines\":[\"m1\"]}");
		settle(f);
	}
	assert_string_equal(machine_state(f, "m1"), "up");
	assert_string_equal(machine_state(f, "m2"), "down");
	assert_string_equal(machine_state(f, "m3"), "down");
	wait_lines(f, s, 2); /* one transaction took both down */
	wait_lines(f, s3, 2);
	assert_string_equal(field(json_array_get(s->lines, 1), "state"),
	                    "down");
	assert_int_equal(number(json_array_get(s->lines, 1), "index"),
	                 number(json_array_get(s3->lines, 1), "index"));

	/* m1 falls silent; the sweep submits, then m1 changes before the
	 * entry: the down op expected the seq it saw, and is rejected */
	advance(f, TTL_MS / 1000.0 + 1.0);
	struct cst_stats st;
	cst_stats(f->store, &st);
	assert_int_equal(st.queued, 1);
	cs_txn *t = cs_txn_new("re-m1", "test", CS_INCREMENTAL, CS_FINE);
	struct tl_machine m;
	tl_machine_init(&m, "m1", 2000, 2000);
	cs_txn_machine_put(t, &m.spec);
	cs_result res = cst_fake_apply(f->store, t);
	assert_int_equal(res.ops[0].reason, CS_R_OK);
	cs_result_clear(&res);
	settle(f);
	assert_string_equal(machine_state(f, "m1"), "up");
}

/* A new writer knows nobody's last heartbeat: it gives every machine a
 * full TTL from when it became the writer. */
static void test_liveness_new_writer(void **state)
{
	struct fx *f = fx_open(
	    state, &(struct opts){.writer = true, .machine_ttl_ms = TTL_MS});
	put_machine(f, "m1");
	cst_fake_set_writer(f->store, false, 2, OTHER_API);
	for (int i = 0; i < 10; i++) /* silent, but nobody here sweeps */
		advance(f, 1.0);
	settle(f);
	assert_string_equal(machine_state(f, "m1"), "up");
	cst_fake_set_writer(f->store, true, 0, NULL);
	assert_true(tl_run_until(f->loop, writable, f, DEADLINE));
	for (int i = 0; i < 3; i++) {
		advance(f, 1.0);
		settle(f);
	}
	assert_string_equal(machine_state(f, "m1"), "up");
	for (int i = 0; i < 2; i++) {
		advance(f, 1.0);
		settle(f);
	}
	assert_string_equal(machine_state(f, "m1"), "down");
}

/* ---- scheduler leases ---- */

static void on_member_done(void *arg, int status, const char *msg)
{
	int *done = arg;
	(void)msg;
	assert_int_equal(status, 0);
	(*done)++;
}

static bool is_one(void *arg)
{
	return *(int *)arg == 1;
}

/* Adds member id as a standby, as a scheduler's daemon does. */
static void add_standby(struct fx *f, uint64_t id, int *done)
{
	*done = 0;
	assert_int_equal(cst_member_add(f->store, id, "127.0.0.1:9", "",
	                                CST_MEMBER_STANDBY, on_member_done,
	                                done),
	                 0);
}

/* The member's role in /v1/members, "" when it is not there. */
static char *member_role(struct fx *f, json_int_t id)
{
	static char role[16];
	json_t *j = must(f, 200, "GET", "/v1/members", NULL), *m;
	size_t i;
	role[0] = 0;
	json_array_foreach (json_object_get(j, "members"), i, m)
		if (number(m, "id") == id)
			snprintf(role, sizeof(role), "%s", field(m, "role"));
	json_decref(j);
	return role;
}

static void register_sched(struct fx *f, const char *name, int member)
{
	char body[512];
	snprintf(body, sizeof(body),
	         "{\"id\":\"reg-%s-%d\",\"ops\":[{\"op\":\"sched_register\","
	         "\"scheduler\":{\"name\":\"%s\",\"class\":\"batch\","
	         "\"policy\":\"batch\",\"member\":%d}}]}",
	         name, (int)f->now, name, member);
	json_t *j = must(f, 200, "POST", "/v1/txn", body);
	assert_int_equal(number(j, "accepted"), 1);
	json_decref(j);
}

static bool registered(struct fx *f, const char *name)
{
	char path[128];
	struct tl_answer a;
	snprintf(path, sizeof(path), "/v1/schedulers/%s", name);
	long st = http(f, &a, "GET", path, NULL, false);
	tl_answer_clear(&a);
	return st == 200;
}

/* A silent scheduler is unregistered and the standby it named removed; a
 * voter it named stays. */
static void test_lease_expiry(void **state)
{
	struct fx *f = fx_open(state, &(struct opts){.writer = true,
	                                             .membership = true,
	                                             .sched_ttl_ms = TTL_MS});
	int done;
	add_standby(f, 7, &done);
	assert_true(tl_run_until(f->loop, is_one, &done, DEADLINE));
	register_sched(f, "batch-1", 7);
	register_sched(f, "svc-1", 1); /* this member, a voter */
	json_t *j = must(f, 200, "GET", "/v1/schedulers/batch-1", NULL);
	assert_true(json_is_true(json_object_get(j, "alive")));
	json_decref(j);
	for (int i = 0; i < 4; i++) {
		advance(f, 1.0);
		settle(f);
	}
	assert_true(registered(f, "batch-1"));
	advance(f, 1.0); /* 5 s: both past the TTL */
	settle(f);
	settle(f); /* the removal the unregistration started */
	assert_false(registered(f, "batch-1"));
	assert_false(registered(f, "svc-1"));
	assert_string_equal(member_role(f, 7), "");
	advance(f, 1.0); /* the next sweep looks at svc-1's member */
	settle(f);
	assert_string_equal(member_role(f, 1), "voter");
}

/* A registration that applies is a sign of life, as a heartbeat is. */
static void test_lease_registration_is_life(void **state)
{
	struct fx *f = fx_open(
	    state, &(struct opts){.writer = true, .sched_ttl_ms = TTL_MS});
	for (int i = 0; i < 3; i++)
		advance(f, 1.0);
	register_sched(f, "s1", 0); /* 3 s into the grace */
	for (int i = 0; i < 3; i++) {
		advance(f, 1.0);
		settle(f);
	}
	assert_true(registered(f, "s1")); /* the grace is over, s1 is not */
	json_t *j = must(f, 200, "POST", "/v1/heartbeat",
	                 "{\"schedulers\":[\"s1\",\"ghost\"]}");
	assert_int_equal(number(j, "sched_ttl_ms"), TTL_MS);
	json_t *unknown = json_object_get(j, "unknown_schedulers");
	assert_int_equal(json_array_size(unknown), 1);
	assert_string_equal(json_string_value(json_array_get(unknown, 0)),
	                    "ghost");
	json_decref(j);
	for (int i = 0; i < 5; i++) {
		advance(f, 1.0);
		settle(f);
	}
	assert_false(registered(f, "s1"));
}

/* A scheduler that registers again, naming its standby, before the
 * removal could start (the membership was busy) keeps it. */
static void test_lease_comeback_keeps_standby(void **state)
{
	struct fx *f = fx_open(state, &(struct opts){.writer = true,
	                                             .membership = true,
	                                             .sched_ttl_ms = TTL_MS});
	int done;
	add_standby(f, 7, &done);
	assert_true(tl_run_until(f->loop, is_one, &done, DEADLINE));
	register_sched(f, "s1", 7);
	for (int i = 0; i < 4; i++) {
		advance(f, 1.0);
		settle(f);
	}
	advance(f, 1.0);          /* the unregistration is queued ... */
	add_standby(f, 8, &done); /* ... and the membership busy */
	settle(f);
	assert_true(tl_run_until(f->loop, is_one, &done, DEADLINE));
	assert_false(registered(f, "s1"));
	assert_string_equal(member_role(f, 7), "standby");
	register_sched(f, "s1", 7); /* it came back */
	for (int i = 0; i < 8; i++) {
		advance(f, 1.0);
		must_ok(f, 200, "POST", "/v1/heartbeat",
		        "{\"schedulers\":[\"s1\"]}");
		settle(f);
	}
	assert_true(registered(f, "s1"));
	assert_string_equal(member_role(f, 7), "standby");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_tick_period, teardown),
	    cmocka_unit_test_teardown(test_writes_go_to_the_writer, teardown),
	    cmocka_unit_test_teardown(test_unknown_outcome_then_resend,
	                              teardown),
	    cmocka_unit_test_teardown(test_refusals, teardown),
	    cmocka_unit_test_teardown(test_token, teardown),
	    cmocka_unit_test_teardown(test_dry_run, teardown),
	    cmocka_unit_test_teardown(test_no_membership, teardown),
	    cmocka_unit_test_teardown(test_membership, teardown),
	    cmocka_unit_test_teardown(test_watch_resume, teardown),
	    cmocka_unit_test_teardown(test_watch_window, teardown),
	    cmocka_unit_test_teardown(test_watch_restore, teardown),
	    cmocka_unit_test_teardown(test_liveness, teardown),
	    cmocka_unit_test_teardown(test_liveness_new_writer, teardown),
	    cmocka_unit_test_teardown(test_lease_expiry, teardown),
	    cmocka_unit_test_teardown(test_lease_registration_is_life,
	                              teardown),
	    cmocka_unit_test_teardown(test_lease_comeback_keeps_standby,
	                              teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
