/* test_celld_api.c: bad input against a live celld. What a user relies on:
 * every malformed or wrong request (bad JSON, wrong types, unknown fields,
 * bad names, oversize bodies, bad query parameters, wrong methods and paths,
 * unknown machines and jobs, rejected writes) gets its 4xx and a JSON error
 * {"error", "detail"} naming what was wrong; the server stays up; and
 * nothing already committed changes. */
#include "cell.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int teardown(void **state)
{
	tl_cell_stop(*state);
	*state = NULL;
	return 0;
}

/* A body the table cannot spell as a literal. */
enum gen {
	LITERAL,
	BIG,  /* 5000 bytes: over the cell's 4 KiB --max-body */
	DEEP, /* 2100 nested arrays: deeper than any parser should go */
};

struct bad {
	const char *what;          /* what is wrong, for failure messages */
	const char *method, *path; /* path with its query */
	const char *body;          /* NULL: no body */
	enum gen gen;
	const char *ctype; /* NULL: application/json */
	long status;
	const char *says[3]; /* the error must name these */
	const char *allow;   /* 405: a method Allow must list */
	/* Rejected by the state machine, not by the API: the verdict needs a
	 * log entry (so the applied index moves), but no machine, job or task
	 * may change. Every other case must leave the state hash as it was. */
	bool verdict;
};

#define JOB_OK                                                                 \
	"\"class\":\"batch\",\"tasks\":1,\"resources\":{\"cpu\":1,\"memory\":" \
	"1},"                                                                  \
	"\"duration_ms\":1"

/* One request per row: the table reads as one; clang-format would give
 * every field a line of its own. */
/* clang-format off */
static const struct bad cases[] = {
    /* ---- malformed JSON bodies ---- */
    {"truncated JSON", "POST", "/v1/jobs", "{\"name\":\"j2\",", LITERAL, NULL,
     400, {"bad_job", "invalid JSON"}, NULL, false},
    {"name of the wrong type", "POST", "/v1/jobs",
     "{\"name\":5," JOB_OK "}", LITERAL, NULL, 400,
     {"job.name", "got an integer"}, NULL, false},
    {"unknown field", "POST", "/v1/jobs",
     "{\"name\":\"j2\",\"colour\":\"red\"," JOB_OK "}", LITERAL, NULL, 400,
     {"job.colour", "unknown field"}, NULL, false},
    {"deep nesting", "POST", "/v1/jobs", NULL, DEEP, NULL, 400,
     {"invalid JSON", "depth"}, NULL, false},
    {"invalid UTF-8", "POST", "/v1/jobs",
     "{\"name\":\"j\xff"
     "\"," JOB_OK "}",
     LITERAL, NULL, 400, {"invalid JSON", "0xff"}, NULL, false},
    {"empty body", "POST", "/v1/jobs", NULL, LITERAL, NULL, 400,
     {"bad_job", "empty body"}, NULL, false},
    {"an array where a job spec goes", "POST", "/v1/jobs", "[1,2]", LITERAL,
     NULL, 400, {"job", "got an array"}, NULL, false},
    {"a real number where an integer goes", "POST", "/v1/jobs",
     "{\"name\":\"j2\",\"class\":\"batch\",\"tasks\":1.0,\"resources\":{"
     "\"cpu\":1,\"memory\":1},\"duration_ms\":1}",
     LITERAL, NULL, 400, {"job.tasks", "integer"}, NULL, false},
    {"duplicate key", "POST", "/v1/jobs",
     "{\"name\":\"j2\",\"name\":\"j3\"," JOB_OK "}", LITERAL, NULL, 400,
     {"duplicate", "name"}, NULL, false},
    {"NUL in a string", "POST", "/v1/jobs",
     "{\"name\":\"j2\",\"command\":\"a\\u0000b\"," JOB_OK "}", LITERAL, NULL,
     400, {"invalid JSON", "\\u0000"}, NULL, false},
    {"text after the document", "POST", "/v1/jobs",
     "{\"name\":\"j2\"," JOB_OK "} x", LITERAL, NULL, 400,
     {"invalid JSON", "column"}, NULL, false},
    {"null for a required field", "POST", "/v1/jobs",
     "{\"name\":\"j2\",\"class\":null,\"tasks\":1,\"resources\":{\"cpu\":1,"
     "\"memory\":1},\"duration_ms\":1}",
     LITERAL, NULL, 400, {"job.class", "null"}, NULL, false},
    {"job with nothing to run", "POST", "/v1/jobs",
     "{\"name\":\"j2\",\"class\":\"batch\",\"tasks\":1,\"resources\":{"
     "\"cpu\":1,\"memory\":1}}",
     LITERAL, NULL, 400, {"command", "duration_ms"}, NULL, false},

    /* ---- transactions ---- */
    {"unknown op", "POST", "/v1/txn",
     "{\"id\":\"t1\",\"ops\":[{\"op\":\"frobnicate\",\"job\":\"j1\"}]}",
     LITERAL, NULL, 400, {"bad_transaction", "ops[0].op", "frobnicate"}, NULL,
     false},
    {"bad job name in an op", "POST", "/v1/txn",
     "{\"id\":\"t1\",\"ops\":[{\"op\":\"job_kill\",\"job\":\"J!\"}]}", LITERAL,
     NULL, 400, {"ops[0].job", "J!"}, NULL, false},
    {"machine name too long", "POST", "/v1/txn",
     "{\"id\":\"t1\",\"ops\":[{\"op\":\"place\",\"job\":\"j1\",\"task\":0,"
     "\"machine\":\"m123456789012345678901234567890123456789012345678901234567"
     "890123\"}]}",
     LITERAL, NULL, 400, {"ops[0].machine", "1-63 characters"}, NULL, false},
    {"task index out of range", "POST", "/v1/txn",
     "{\"id\":\"t1\",\"ops\":[{\"op\":\"place\",\"job\":\"j1\",\"task\":1000000,"
     "\"machine\":\"m1\"}]}",
     LITERAL, NULL, 400, {"ops[0].task"}, NULL, false},
    {"coarse place without seq", "POST", "/v1/txn",
     "{\"id\":\"t1\",\"detect\":\"coarse\",\"ops\":[{\"op\":\"place\",\"job\":"
     "\"j1\",\"task\":1,\"machine\":\"m1\"}]}",
     LITERAL, NULL, 400, {"ops[0].seq", "coarse"}, NULL, false},
    {"no ops", "POST", "/v1/txn", "{\"id\":\"t1\",\"ops\":[]}", LITERAL, NULL,
     400, {"ops", "empty array"}, NULL, false},
    {"bad transaction id", "POST", "/v1/txn",
     "{\"id\":\"bad id!\",\"ops\":[{\"op\":\"job_kill\",\"job\":\"j1\"}]}",
     LITERAL, NULL, 400, {"id", "bad id!"}, NULL, false},
    {"garbage as a binary transaction", "POST", "/v1/txn", "garbage", LITERAL,
     "Content-Type: application/x-cell-txn", 400,
     {"bad_transaction", "binary txn"}, NULL, false},
    {"bad dry_run", "POST", "/v1/txn?dry_run=maybe",
     "{\"id\":\"t1\",\"ops\":[{\"op\":\"job_kill\",\"job\":\"j1\"}]}", LITERAL,
     NULL, 400, {"dry_run", "maybe"}, NULL, false},

    /* ---- oversize bodies (the cell runs with --max-body 4KiB) ---- */
    {"job body over the limit", "POST", "/v1/jobs", NULL, BIG, NULL, 413,
     {"4096 bytes"}, NULL, false},
    {"machine body over the limit", "PUT", "/v1/machines/m9", NULL, BIG, NULL,
     413, {"4096 bytes"}, NULL, false},
    {"transaction over the limit", "POST", "/v1/txn", NULL, BIG, NULL, 413,
     {"4096 bytes"}, NULL, false},

    /* ---- query parameters ---- */
    {"unknown parameter on a list", "GET", "/v1/jobs?colour=red", NULL,
     LITERAL, NULL, 400, {"colour", "limit"}, NULL, false},
    {"unknown parameter on status", "GET", "/v1/status?verbose=1", NULL,
     LITERAL, NULL, 400, {"verbose"}, NULL, false},
    {"unknown parameter on a write", "POST", "/v1/jobs?force=1",
     "{\"name\":\"j2\"," JOB_OK "}", LITERAL, NULL, 400, {"force", "txn_id"},
     NULL, false},
    {"limit zero", "GET", "/v1/jobs?limit=0", NULL, LITERAL, NULL, 400,
     {"limit", "1..1000000"}, NULL, false},
    {"limit not a number", "GET", "/v1/machines?limit=abc", NULL, LITERAL,
     NULL, 400, {"limit", "abc"}, NULL, false},
    {"negative limit", "GET", "/v1/tasks?limit=-5", NULL, LITERAL, NULL, 400,
     {"limit", "-5"}, NULL, false},
    {"watch from a word", "GET", "/v1/watch?from=abc", NULL, LITERAL, NULL,
     400, {"from", "abc"}, NULL, false},
    {"watch from a negative index", "GET", "/v1/watch?from=-1", NULL, LITERAL,
     NULL, 400, {"from", "-1"}, NULL, false},
    {"watch from past 2^64", "GET", "/v1/watch?from=99999999999999999999999",
     NULL, LITERAL, NULL, 400, {"from", "log index"}, NULL, false},
    {"watch an empty job name", "GET", "/v1/watch?job=", NULL, LITERAL, NULL,
     400, {"job", "name"}, NULL, false},
    {"watch with an unknown parameter", "GET", "/v1/watch?since=3", NULL,
     LITERAL, NULL, 400, {"since", "from"}, NULL, false},
    {"unknown task state", "GET", "/v1/tasks?state=sleeping", NULL, LITERAL,
     NULL, 400, {"state", "sleeping", "pending"}, NULL, false},
    {"bad purge", "DELETE", "/v1/jobs/j1?purge=maybe", NULL, LITERAL, NULL,
     400, {"purge", "maybe"}, NULL, false},

    /* ---- methods and paths ---- */
    {"PATCH a collection", "PATCH", "/v1/jobs", "{}", LITERAL, NULL, 405,
     {"PATCH", "/v1/jobs"}, "POST", false},
    {"DELETE the status", "DELETE", "/v1/status", NULL, LITERAL, NULL, 405,
     {"DELETE", "/v1/status"}, "GET", false},
    {"POST the metrics", "POST", "/metrics", "{}", LITERAL, NULL, 405,
     {"POST", "/metrics"}, "GET", false},
    {"PUT a transaction", "PUT", "/v1/txn", "{}", LITERAL, NULL, 405,
     {"PUT", "/v1/txn"}, "POST", false},
    {"GET the heartbeat", "GET", "/v1/heartbeat", NULL, LITERAL, NULL, 405,
     {"GET", "/v1/heartbeat"}, "POST", false},
    {"unknown path", "GET", "/v1/nothing", NULL, LITERAL, NULL, 404,
     {"/v1/nothing"}, NULL, false},
    {"unknown API version", "GET", "/v2/status", NULL, LITERAL, NULL, 404,
     {"/v2/status"}, NULL, false},
    {"unknown machine action", "POST", "/v1/machines/m1/explode", NULL,
     LITERAL, NULL, 404, {"drain"}, NULL, false},
    {"PUT a machine without a name", "PUT", "/v1/machines", "{}", LITERAL,
     NULL, 404, {"/v1/machines/NAME"}, NULL, false},
    {"submit a job under a name", "POST", "/v1/jobs/j1", "{}", LITERAL, NULL,
     404, {"/v1/jobs"}, NULL, false},

    /* ---- unknown entities, machine bodies ---- */
    {"unknown machine", "GET", "/v1/machines/nosuch", NULL, LITERAL, NULL, 404,
     {"unknown_machine", "nosuch"}, NULL, false},
    {"unknown job", "GET", "/v1/jobs/nosuch", NULL, LITERAL, NULL, 404,
     {"unknown_job", "nosuch"}, NULL, false},
    {"machine body names another machine", "PUT", "/v1/machines/m5",
     "{\"name\":\"m6\",\"capacity\":{\"cpu\":1,\"memory\":1}}", LITERAL, NULL,
     400, {"machine.name", "m6", "m5"}, NULL, false},
    {"machine name with capitals", "PUT", "/v1/machines/M7",
     "{\"capacity\":{\"cpu\":1,\"memory\":1}}", LITERAL, NULL, 400,
     {"machine.name", "M7"}, NULL, false},
    {"capacity of the wrong type", "PUT", "/v1/machines/m7",
     "{\"capacity\":{\"cpu\":\"lots\",\"memory\":1}}", LITERAL, NULL, 400,
     {"machine.capacity.cpu", "got a string"}, NULL, false},
    {"capacity without memory", "PUT", "/v1/machines/m7",
     "{\"capacity\":{\"cpu\":1}}", LITERAL, NULL, 400,
     {"machine.capacity.memory", "required"}, NULL, false},

    /* ---- writes the state machine rejects ---- */
    {"kill an unknown job", "DELETE", "/v1/jobs/nosuch", NULL, LITERAL, NULL,
     404, {"unknown_job", "nosuch"}, NULL, true},
    {"kill a job that already ended", "DELETE", "/v1/jobs/jdone", NULL,
     LITERAL, NULL, 409, {"job_finished", "jdone"}, NULL, true},
    {"submit a job twice", "POST", "/v1/jobs", "{\"name\":\"j1\"," JOB_OK "}",
     LITERAL, NULL, 409, {"exists", "j1"}, NULL, true},
    {"drain an unknown machine", "POST", "/v1/machines/nosuch/drain", NULL,
     LITERAL, NULL, 404, {"unknown_machine", "nosuch"}, NULL, true},
    {"remove an unknown machine", "DELETE", "/v1/machines/nosuch", NULL,
     LITERAL, NULL, 404, {"unknown_machine", "nosuch"}, NULL, true},

    /* ---- members ---- */
    {"member id of the wrong type", "POST", "/v1/members", "{\"id\":\"x\"}",
     LITERAL, NULL, 400, {"bad_member", "\"id\": N > 0"}, NULL, false},
    {"member without a raft address", "POST", "/v1/members", "{\"id\":5}",
     LITERAL, NULL, 400, {"bad_member", "raft_address"}, NULL, false},
    {"member with an unknown role", "POST", "/v1/members",
     "{\"id\":5,\"raft_address\":\"127.0.0.1:1\",\"role\":\"boss\"}", LITERAL,
     NULL, 400, {"role", "voter"}, NULL, false},
    {"member raft address not an IP", "POST", "/v1/members",
     "{\"id\":5,\"raft_address\":\"localhost:1\"}", LITERAL, NULL, 400,
     {"raft_address"}, NULL, false},
    {"truncated member body", "POST", "/v1/members", "{\"id\":", LITERAL,
     NULL, 400, {"bad_member", "invalid JSON"}, NULL, false},
    {"assign an unknown role", "PUT", "/v1/members/1", "{\"role\":\"boss\"}",
     LITERAL, NULL, 400, {"role", "standby"}, NULL, false},
    {"assign an unknown member", "PUT", "/v1/members/7",
     "{\"role\":\"voter\"}", LITERAL, NULL, 404, {"member 7"}, NULL, false},
    {"remove an unknown member", "DELETE", "/v1/members/9", NULL, LITERAL,
     NULL, 404, {"member 9"}, NULL, false},
    {"member id not a number", "DELETE", "/v1/members/abc", NULL, LITERAL,
     NULL, 404, {"/v1/members/ID"}, NULL, false},

    /* ---- heartbeats ---- */
    {"heartbeat machines not a list", "POST", "/v1/heartbeat",
     "{\"machines\":\"m1\"}", LITERAL, NULL, 400,
     {"bad_heartbeat", "\"machines\": [NAME"}, NULL, false},
    {"heartbeat name not a string", "POST", "/v1/heartbeat",
     "{\"machines\":[\"m1\",7]}", LITERAL, NULL, 400,
     {"bad_heartbeat", "machines[1]"}, NULL, false},
    {"heartbeat with an extra field", "POST", "/v1/heartbeat",
     "{\"machines\":[\"m1\"],\"ttl\":5}", LITERAL, NULL, 400,
     {"bad_heartbeat", "machines"}, NULL, false},
    {"heartbeat without machines", "POST", "/v1/heartbeat", "{}", LITERAL,
     NULL, 400, {"bad_heartbeat", "machines"}, NULL, false},
    {"heartbeat truncated", "POST", "/v1/heartbeat", "[", LITERAL, NULL, 400,
     {"bad_heartbeat", "invalid JSON"}, NULL, false},
    {"heartbeat schedulers not a list", "POST", "/v1/heartbeat",
     "{\"schedulers\":\"s1\"}", LITERAL, NULL, 400,
     {"bad_heartbeat",
      "schedulers: expected an array of scheduler names, got a string",
      "\"schedulers\": [NAME"},
     NULL, false},
    {"heartbeat scheduler name not a string", "POST", "/v1/heartbeat",
     "{\"machines\":[\"m1\"],\"schedulers\":[\"s1\",null]}", LITERAL, NULL,
     400,
     {"bad_heartbeat",
      "schedulers[1]: expected a scheduler name (a string), got null"},
     NULL, false},
    {"heartbeat with an unknown list", "POST", "/v1/heartbeat",
     "{\"schedulers\":[],\"agents\":[]}", LITERAL, NULL, 400,
     {"bad_heartbeat", "agents: unknown field",
      "expected machines, schedulers"},
     NULL, false},
    {"heartbeat not an object", "POST", "/v1/heartbeat", "[\"m1\"]", LITERAL,
     NULL, 400, {"bad_heartbeat", "(root): expected an object, got an array"},
     NULL, false},
    {"heartbeat with neither list", "POST", "/v1/heartbeat", "{}", LITERAL,
     NULL, 400,
     {"bad_heartbeat", "expected \"machines\", \"schedulers\" or both"}, NULL,
     false},

    /* ---- schedulers and job notes ---- */
    {"unknown scheduler", "GET", "/v1/schedulers/ghost", NULL, LITERAL, NULL,
     404, {"unknown_scheduler", "scheduler ghost is not registered"}, NULL,
     false},
    {"schedulers with a limit", "GET", "/v1/schedulers?limit=5", NULL,
     LITERAL, NULL, 400, {"bad_query", "limit"}, NULL, false},
    {"POST the schedulers", "POST", "/v1/schedulers", "{}", LITERAL, NULL,
     405, {"POST", "/v1/schedulers"}, "GET", false},
    {"scheduler member negative", "POST", "/v1/txn",
     "{\"id\":\"t1\",\"ops\":[{\"op\":\"sched_register\",\"scheduler\":{"
     "\"name\":\"s1\",\"class\":\"batch\",\"policy\":\"batch\","
     "\"member\":-1}}]}",
     LITERAL, NULL, 400,
     {"bad_transaction", "ops[0].scheduler.member", "got -1"}, NULL, false},
    {"job note with a control character", "POST", "/v1/txn",
     "{\"id\":\"t1\",\"ops\":[{\"op\":\"job_note\",\"job\":\"j1\","
     "\"note\":\"a\\u001b[2Jb\"}]}",
     LITERAL, NULL, 400,
     {"bad_transaction", "ops[0].note", "without control characters"}, NULL,
     false},
    {"job note of the wrong type", "POST", "/v1/txn",
     "{\"id\":\"t1\",\"ops\":[{\"op\":\"job_note\",\"job\":\"j1\","
     "\"note\":[]}]}",
     LITERAL, NULL, 400, {"bad_transaction", "ops[0].note", "got an array"},
     NULL, false},
};
/* clang-format on */

/* ---- the cell under test ---- */

static const char *const cell_flags[] = {
    "--max-body", "4KiB", "--machine-ttl",
    "0", /* no liveness sweeps: nothing commits by itself */
    NULL};

static long call(const char *method, const char *url, const char *body,
                 const char *header, struct tl_answer *a)
{
	const char *headers[] = {header, NULL};
	struct tl_request q = {.method = method,
	                       .url = url,
	                       .body = body,
	                       .headers = header ? headers : NULL};
	return tl_request(&q, a);
}

static void must(long want, const char *method, const char *base,
                 const char *path, const char *body)
{
	char url[256];
	struct tl_answer a;
	snprintf(url, sizeof(url), "%s%s", base, path);
	if (call(method, url, body, NULL, &a) != want)
		fail_msg("%s %s: expected %ld, got %ld %s%s", method, path,
		         want, a.status, a.body, a.error);
	tl_answer_clear(&a);
}

/* The state hash of /v1/status (which covers the applied index and the
 * remembered transaction ids too); fails the test when the server does not
 * answer 200: it must stay healthy whatever it was sent. */
static char *status_hash(const struct lc_member *m, const char *after)
{
	json_t *s = tl_cell_status(m);
	if (!s)
		fail_msg("GET /v1/status failed after: %s", after);
	char *h = strdup(json_string_value(json_object_get(s, "state_hash")));
	json_decref(s);
	return h;
}

/* What the cell holds, as the API shows it (without the index the answer
 * was taken at): every machine, job and task. */
static json_t *content(const struct lc_member *m)
{
	static const char *const paths[] = {"/v1/machines", "/v1/jobs",
	                                    "/v1/tasks", "/v1/jobs/j1",
	                                    "/v1/jobs/jdone"};
	json_t *all = json_object();
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char url[256];
		json_t *j;
		snprintf(url, sizeof(url), "%s%s", m->url, paths[i]);
		assert_int_equal(tl_http("GET", url, NULL, &j), 200);
		json_object_del(j, "index");
		json_object_set_new(all, paths[i], j);
	}
	return all;
}

static char *make_body(const struct bad *b)
{
	if (b->gen == LITERAL)
		return b->body ? strdup(b->body) : NULL;
	size_t n = b->gen == BIG ? 5000 : 2100;
	char *s = malloc(n + 1);
	memset(s, b->gen == BIG ? ' ' : '[', n);
	if (b->gen == BIG) /* valid JSON, only too big */
		memcpy(s, "{\"name\":\"j2\"}", 13);
	s[n] = 0;
	return s;
}

/* Sends one bad request; checks its status, error body and Allow. */
static void send_bad(const struct lc_member *m, const struct bad *b)
{
	char url[512];
	struct tl_answer a;
	char *body = make_body(b);
	snprintf(url, sizeof(url), "%s%s", m->url, b->path);
	call(b->method, url, body, b->ctype, &a);
	free(body);
	if (a.status != b->status)
		fail_msg("%s (%s %s): expected %ld, got %ld: %s%s", b->what,
		         b->method, b->path, b->status, a.status, a.body,
		         a.error);
	const char *err = json_string_value(json_object_get(a.json, "error"));
	const char *detail =
	    json_string_value(json_object_get(a.json, "detail"));
	if (!json_is_object(a.json) || !err || !*err)
		fail_msg("%s: the answer is not a JSON error: %s", b->what,
		         a.body);
	char said[2048];
	snprintf(said, sizeof(said), "%s: %s", err, detail ? detail : "");
	for (int i = 0; i < 3 && b->says[i]; i++)
		if (!strstr(said, b->says[i]))
			fail_msg(
			    "%s: the error should name \"%s\", it says: %s",
			    b->what, b->says[i], said);
	if (b->allow) {
		char *allow = tl_answer_header(&a, "Allow");
		if (!allow || !strstr(allow, b->allow))
			fail_msg("%s: Allow should list %s, got %s", b->what,
			         b->allow, allow ? allow : "(none)");
		free(allow);
	}
	tl_answer_clear(&a);
}

static void test_bad_requests(void **state)
{
	struct lc_cell *c = *state = tl_cell_start(1, cell_flags);
	const struct lc_member *m = &c->m[0];
	const size_t n = sizeof(cases) / sizeof(cases[0]);
	assert_true(n >= 30);

	/* something committed to protect: a machine, a running job, an
	 * ended one */
	must(200, "PUT", m->url, "/v1/machines/m1",
	     "{\"capacity\":{\"cpu\":1000,\"memory\":1000}}");
	must(201, "POST", m->url, "/v1/jobs",
	     "{\"name\":\"j1\",\"class\":\"batch\",\"tasks\":2,\"resources\":{"
	     "\"cpu\":10,\"memory\":10},\"duration_ms\":1000}");
	must(201, "POST", m->url, "/v1/jobs",
	     "{\"name\":\"jdone\"," JOB_OK "}");
	must(200, "DELETE", m->url, "/v1/jobs/jdone", NULL);
	must(200, "POST", m->url, "/v1/txn",
	     "{\"id\":\"place-1\",\"ops\":[{\"op\":\"place\",\"job\":\"j1\","
	     "\"task\":0,\"machine\":\"m1\"}]}");

	/* first every case the API itself must turn away: after each, the
	 * server answers and the state hash (which covers the applied index
	 * and the remembered transaction ids too) has not moved */
	char *first = status_hash(m, "setup");
	json_t *before = content(m);
	size_t verdicts = 0;
	for (size_t i = 0; i < n; i++) {
		const struct bad *b = &cases[i];
		if (b->verdict) {
			verdicts++;
			continue;
		}
		send_bad(m, b);
		char *now = status_hash(m, b->what);
		if (strcmp(now, first))
			fail_msg("%s: the state hash moved from %s to %s",
			         b->what, first, now);
		free(now);
	}
	/* then the writes the state machine rejects: each verdict is an
	 * entry in the log, but no machine, job or task changes */
	for (size_t i = 0; i < n; i++) {
		const struct bad *b = &cases[i];
		if (!b->verdict)
			continue;
		send_bad(m, b);
		free(status_hash(m, b->what));
		json_t *after = content(m);
		if (!json_equal(before, after)) {
			char *x = json_dumps(before, JSON_COMPACT);
			char *y = json_dumps(after, JSON_COMPACT);
			fail_msg("%s changed the cell:\n%s\n%s", b->what, x, y);
		}
		json_decref(after);
	}
	fprintf(stderr,
	        "%zu bad requests answered with their 4xx (%zu of "
	        "them by a verdict), the cell unchanged\n",
	        n, verdicts);
	json_decref(before);
	free(first);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_bad_requests, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
