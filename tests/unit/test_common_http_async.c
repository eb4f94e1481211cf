/* test_common_http_async.c: the asynchronous HTTP client and a real server
 * on loopback, both on the test's libev loop: answers and bodies, many
 * requests at once, redirects that keep method and body, every failure said
 * in words, and freeing with requests in flight (also from a callback). */
#include "testlib.h"

#include "cellcommon.h"
#include "evtest.h"
#include "tl_httpd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEADLINE 20.0
#define MANY 200

struct fx {
	struct ev_loop *loop;
	struct tl_httpd h;
	cc_aclient *c;   /* freed by teardown when a test leaves it */
	bool in_request; /* inside cc_aclient_request */
	int early;       /* callbacks run from inside cc_aclient_request */
};

/* What the callback of one request saw. */
struct answer {
	struct fx *f;
	int calls;
	int status;
	long http;
	char *body; /* taken from the response */
	char *url;
	char err[CC_ERRMSG_SIZE];
	/* set by the test: what the callback does besides recording */
	void (*then)(struct answer *a);
};

static void on_answer(void *arg, int status, struct cc_response *resp,
		      const char *errmsg)
{
	struct answer *a = arg;
	a->calls++;
	a->f->early += a->f->in_request;
	a->status = status;
	a->http = resp->status;
	free(a->body);
	a->body = resp->body; /* the callee may take it */
	resp->body = NULL;
	free(a->url);
	a->url = resp->url ? strdup(resp->url) : NULL;
	snprintf(a->err, sizeof(a->err), "%s", errmsg);
	if (a->then)
		a->then(a);
}

static void answer_free(struct answer *a)
{
	free(a->body);
	free(a->url);
	a->body = a->url = NULL;
}

static int start(struct fx *f, struct answer *a, const char *method,
		 const char *path, const char *type, const char *body)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", path[0] == '/' ? f->h.base : "",
		 path);
	a->f = f;
	f->in_request = true;
	int rc = cc_aclient_request(f->c, method, url, type, body,
				    body ? strlen(body) : 0, on_answer, a);
	f->in_request = false;
	return rc;
}

static bool answered(void *arg)
{
	return ((struct answer *)arg)->calls > 0;
}

static void call(struct fx *f, struct answer *a, const char *method,
		 const char *path, const char *type, const char *body)
{
	assert_int_equal(start(f, a, method, path, type, body), 0);
	assert_true(tl_run_until(f->loop, answered, a, DEADLINE));
	assert_int_equal(a->calls, 1);
}

/* The echo's JSON; fails the test when the request failed. */
static json_t *echoed(const struct answer *a)
{
	if (a->status)
		fail_msg("%s", a->err);
	assert_int_equal(a->http, 200);
	assert_string_equal(a->err, "");
	json_error_t e;
	json_t *j = json_loads(a->body, 0, &e);
	if (!j)
		fail_msg("%s: %s", e.text, a->body);
	return j;
}

static const char *field(json_t *j, const char *name)
{
	return json_string_value(json_object_get(j, name));
}

/* got (a message, a URL) is the formatted text, or starts with it when
 * that ends in "..." (curl's own detail follows, in words that vary by
 * version). */
static void expect_msg(const char *got, const char *fmt, ...)
    CC_PRINTF(2, 3);

static void expect_msg(const char *got, const char *fmt, ...)
{
	char expect[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(expect, sizeof(expect), fmt, ap);
	va_end(ap);
	size_t n = strlen(expect);
	bool prefix = n >= 3 && strcmp(expect + n - 3, "...") == 0;
	if (prefix ? strncmp(got, expect, n - 3) != 0
		   : strcmp(got, expect) != 0)
		fail_msg("expected \"%s\", got \"%s\"", expect, got);
}

static void new_client(struct fx *f, const struct cc_client_config *cfg)
{
	cc_aclient_free(f->c);
	f->c = cc_aclient_new(f->loop, cfg);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->loop = ev_loop_new(EVFLAG_AUTO);
	tl_httpd_start(&f->h, f->loop);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	cc_aclient_free(f->c);
	tl_httpd_stop(&f->h);
	ev_loop_destroy(f->loop);
	int early = f->early;
	free(f);
	assert_int_equal(early, 0);
	return 0;
}

/* ---- answers ---- */

static void test_get_and_post_echo(void **state)
{
	struct fx *f = *state;
	new_client(f, &(struct cc_client_config){.token = "tok-a"});

	struct answer g = {0};
	call(f, &g, "GET", "/v1/echo", NULL, NULL);
	json_t *j = echoed(&g);
	assert_string_equal(field(j, "method"), "GET");
	assert_string_equal(field(j, "token"), "tok-a");
	assert_true(json_is_null(json_object_get(j, "type")));
	expect_msg(g.url, "%s/v1/echo", f->h.base);
	json_decref(j);
	answer_free(&g);

	struct answer p = {0};
	call(f, &p, "POST", "/v1/echo", "application/json", "{\"n\":1}");
	j = echoed(&p);
	assert_string_equal(field(j, "method"), "POST");
	assert_string_equal(field(j, "body"), "{\"n\":1}");
	assert_string_equal(field(j, "type"), "application/json");
	json_decref(j);
	answer_free(&p);

	/* no content type: none is made up */
	struct answer r = {0};
	call(f, &r, "PUT", "/v1/echo", NULL, "plain text");
	j = echoed(&r);
	assert_string_equal(field(j, "body"), "plain text");
	assert_true(json_is_null(json_object_get(j, "type")));
	json_decref(j);
	answer_free(&r);
	assert_int_equal(cc_aclient_inflight(f->c), 0);
}

static void test_error_status_is_an_answer(void **state)
{
	struct fx *f = *state;
	new_client(f, NULL);
	struct answer a = {0};
	call(f, &a, "GET", "/v1/nope", NULL, NULL);
	assert_int_equal(a.status, 0);
	assert_int_equal(a.http, 404);
	assert_string_equal(a.err, "");
	assert_non_null(strstr(a.body, "not_found"));
	answer_free(&a);
}

struct many {
	struct answer a[MANY];
	char body[MANY][32];
};

static bool all_answered(void *arg)
{
	struct many *m = arg;
	for (size_t i = 0; i < MANY; i++)
		if (!m->a[i].calls)
			return false;
	return true;
}

/* MANY at once, twice (the second round on kept connections and pooled
 * handles): each callback exactly once, each with its own body. */
static void test_many_in_flight(void **state)
{
	struct fx *f = *state;
	new_client(f, NULL);
	struct many *m = calloc(2, sizeof(*m));
	assert_non_null(m);
	for (size_t round = 0; round < 2; round++) {
		struct many *r = &m[round];
		for (size_t i = 0; i < MANY; i++) {
			snprintf(r->body[i], sizeof(r->body[i]),
				 "round %zu request %zu", round, i);
			assert_int_equal(start(f, &r->a[i], "POST", "/v1/echo",
					       "text/plain", r->body[i]),
					 0);
		}
		assert_int_equal(cc_aclient_inflight(f->c), MANY);
		assert_true(tl_run_until(f->loop, all_answered, r, DEADLINE));
		assert_int_equal(cc_aclient_inflight(f->c), 0);
	}
	for (size_t round = 0; round < 2; round++) {
		for (size_t i = 0; i < MANY; i++) {
			struct answer *a = &m[round].a[i];
			assert_int_equal(a->calls, 1);
			json_t *j = echoed(a);
			assert_string_equal(field(j, "body"),
					    m[round].body[i]);
			json_decref(j);
			answer_free(a);
		}
	}
	free(m);
}

/* Each answer starts the next request from inside its callback, the way a
 * scheduler chains a retry. */
static void chain_next(struct answer *a)
{
	struct answer *next = a + 1;
	if (!next->then)
		return;
	assert_int_equal(start(a->f, next, "GET", "/v1/echo", NULL, NULL), 0);
}

static void test_callbacks_start_requests(void **state)
{
	struct fx *f = *state;
	new_client(f, NULL);
	struct answer a[11] = {{0}};
	for (size_t i = 0; i < 10; i++)
		a[i].then = chain_next; /* a[10].then NULL: the chain ends */
	call(f, &a[0], "GET", "/v1/echo", NULL, NULL);
	assert_true(tl_run_until(f->loop, answered, &a[9], DEADLINE));
	for (size_t i = 0; i < 10; i++) {
		assert_int_equal(a[i].calls, 1);
		assert_int_equal(a[i].http, 200);
		answer_free(&a[i]);
	}
	assert_int_equal(a[10].calls, 0);
}

static void test_redirects_keep_method_body_token(void **state)
{
	struct fx *f = *state;
	new_client(f, &(struct cc_client_config){.token = "tok-r"});
	/* 307, 308, 307, then a relative Location to the echo */
	struct answer a = {0};
	call(f, &a, "PUT", "/v1/redirect/3", "application/json",
	     "{\"x\":1}");
	json_t *j = echoed(&a);
	assert_string_equal(field(j, "method"), "PUT");
	assert_string_equal(field(j, "body"), "{\"x\":1}");
	assert_string_equal(field(j, "token"), "tok-r");
	assert_string_equal(field(j, "type"), "application/json");
	assert_string_equal(field(j, "hop"), "last");
	expect_msg(a.url, "%s/v1/echo?hop=last", f->h.base);
	json_decref(j);
	answer_free(&a);

	/* other redirects are answers, not followed */
	struct answer s = {0};
	call(f, &s, "POST", "/v1/see-other", NULL, "x");
	assert_int_equal(s.status, 0);
	assert_int_equal(s.http, 303);
	answer_free(&s);

	/* past max_redirects: an error naming the limit */
	new_client(f, &(struct cc_client_config){.max_redirects = 2});
	struct answer l = {0};
	call(f, &l, "POST", "/v1/loop", NULL, NULL);
	assert_int_equal(l.status, CC_EPROTO);
	expect_msg(l.err,
		   "POST %s/v1/loop: more than 2 redirects, the last to "
		   "%s/v1/loop",
		   f->h.base, f->h.base);
	assert_null(l.body);
	assert_int_equal(l.http, 0);
	answer_free(&l);
}

/* ---- failures ---- */

static void test_connection_refused(void **state)
{
	struct fx *f = *state;
	new_client(f, NULL);
	uint16_t port;
	int fd = tl_refusing_port(&port);
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/v1/status", port);
	struct answer a = {0};
	call(f, &a, "GET", url, NULL, NULL);
	close(fd);
	assert_int_equal(a.status, CC_ECONNECT);
	expect_msg(a.err,
		   "GET %s: could not connect (Failed to connect to 127.0.0.1 "
		   "port %u...",
		   url, port);
	answer_free(&a);
}

static bool aborted(void *arg)
{
	return ((struct fx *)arg)->h.aborted > 0;
}

static void test_timeout(void **state)
{
	struct fx *f = *state;
	new_client(f, &(struct cc_client_config){.timeout_ms = 200});
	struct answer a = {0};
	call(f, &a, "GET", "/v1/never", NULL, NULL);
	assert_int_equal(a.status, CC_ETIMEOUT);
	expect_msg(a.err, "GET %s/v1/never: no answer in time (...",
		   f->h.base);
	/* the server sees the client give up */
	assert_true(tl_run_until(f->loop, aborted, f, DEADLINE));
	answer_free(&a);
}

static void test_answer_too_big(void **state)
{
	struct fx *f = *state;
	new_client(f, &(struct cc_client_config){.max_body = 1000});
	struct answer a = {0};
	call(f, &a, "GET", "/v1/big", NULL, NULL);
	assert_int_equal(a.status, CC_ETOOBIG);
	expect_msg(a.err,
		   "GET %s/v1/big: the answer is larger than the limit of 1000 "
		   "bytes",
		   f->h.base);
	answer_free(&a);
}

static void test_bad_requests_never_call_back(void **state)
{
	struct fx *f = *state;
	new_client(f, NULL);
	static const char *const urls[] = {"ftp://127.0.0.1/x", "not a url",
					   "http://", ""};
	struct answer bad[7] = {{0}};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(start(f, &bad[i], "GET", urls[i], NULL, NULL),
				 CC_EINVAL);
		expect_msg(cc_aclient_errmsg(f->c),
			   "GET %s: not a valid http:// URL (%s", urls[i],
			   i ? "..." : "the scheme is ftp)");
	}
	assert_int_equal(start(f, &bad[4], "GE T", "/v1/echo", NULL, NULL),
			 CC_EINVAL);
	expect_msg(cc_aclient_errmsg(f->c),
		   "\"GE T\" %s/v1/echo: not a valid HTTP method", f->h.base);
	assert_int_equal(start(f, &bad[5], "", "/v1/echo", NULL, NULL),
			 CC_EINVAL);
	assert_int_equal(start(f, &bad[6], "POST", "/v1/echo",
			       "text/plain\r\nX-Evil: 1", "x"),
			 CC_EINVAL);
	expect_msg(cc_aclient_errmsg(f->c),
		   "POST %s/v1/echo: the content type has a line break",
		   f->h.base);
	assert_int_equal(cc_aclient_inflight(f->c), 0);

	/* a good request after them: by its answer, any callback the bad
	 * ones wrongly scheduled would have run */
	struct answer good = {0};
	call(f, &good, "GET", "/v1/echo", NULL, NULL);
	assert_int_equal(good.http, 200);
	answer_free(&good);
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(bad[i].calls, 0);
}

/* ---- freeing with requests in flight ---- */

static bool held3(void *arg)
{
	return ((struct fx *)arg)->h.held == 3;
}

/* Three requests the server takes and never answers, taken by now. */
static void hold3(struct fx *f, struct answer a[3])
{
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(start(f, &a[i], "GET", "/v1/never", NULL,
				       NULL),
				 0);
	assert_true(tl_run_until(f->loop, held3, f, DEADLINE));
}

static bool aborted3(void *arg)
{
	return ((struct fx *)arg)->h.aborted == 3;
}

static void expect_closed(struct fx *f, struct answer *a, const char *path)
{
	assert_int_equal(a->calls, 1);
	assert_int_equal(a->status, CC_ESTATE);
	assert_null(a->body);
	expect_msg(a->err, "GET %s%s: client closed before the answer came",
		   f->h.base, path);
}

static void test_free_cancels_in_flight(void **state)
{
	struct fx *f = *state;
	new_client(f, NULL);
	struct answer a[5] = {{0}};
	hold3(f, a);
	/* two more that have not even left yet */
	for (size_t i = 3; i < 5; i++)
		assert_int_equal(start(f, &a[i], "GET", "/v1/echo", NULL, NULL),
				 0);
	assert_int_equal(cc_aclient_inflight(f->c), 5);
	cc_aclient_free(f->c);
	f->c = NULL;
	for (size_t i = 0; i < 5; i++)
		expect_closed(f, &a[i], i < 3 ? "/v1/never" : "/v1/echo");
	/* the connections are gone: the server notices */
	assert_true(tl_run_until(f->loop, aborted3, f, DEADLINE));
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(a[i].calls, 1);
	cc_aclient_free(NULL);
}

static void free_client(struct answer *a)
{
	struct fx *f = a->f;
	struct answer late = {0};
	cc_aclient_free(f->c);
	/* still usable until this callback returns, but closed */
	assert_int_equal(cc_aclient_inflight(f->c), 0);
	assert_int_equal(start(f, &late, "GET", "/v1/echo", NULL, NULL),
			 CC_ESTATE);
	cc_aclient_free(f->c); /* a second free does nothing */
	f->c = NULL;
}

static void test_free_from_a_callback(void **state)
{
	struct fx *f = *state;
	new_client(f, NULL);
	struct answer held[3] = {{0}};
	hold3(f, held);
	struct answer a = {.then = free_client};
	call(f, &a, "GET", "/v1/echo", NULL, NULL);
	assert_int_equal(a.http, 200);
	assert_null(f->c);
	for (size_t i = 0; i < 3; i++)
		expect_closed(f, &held[i], "/v1/never");
	assert_true(tl_run_until(f->loop, aborted3, f, DEADLINE));
	answer_free(&a);
}

int main(void)
{
	int level = cc_log_level_parse(getenv("CELL_TEST_LOG"));
	cc_log_set_level(level >= 0 ? (enum cc_log_level)level : CC_LOG_WARN);
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_get_and_post_echo),
	    T(test_error_status_is_an_answer),
	    T(test_many_in_flight),
	    T(test_callbacks_start_requests),
	    T(test_redirects_keep_method_body_token),
	    T(test_connection_refused),
	    T(test_timeout),
	    T(test_answer_too_big),
	    T(test_bad_requests_never_call_back),
	    T(test_free_cancels_in_flight),
	    T(test_free_from_a_callback),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
