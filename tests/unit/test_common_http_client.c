/* test_common_http_client.c: the blocking HTTP client against a real server
 * on loopback (served by the test's libev loop while the client runs on a
 * thread): methods, bodies and tokens, 307/308 redirects that keep them,
 * streaming lines, and every failure said in words. */
#include "testlib.h"

#include "cellcommon.h"
#include "evtest.h"
#include "tl_httpd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEADLINE  20.0
#define MAX_LINES 8

struct fx {
	struct ev_loop *loop;
	struct tl_httpd h;
	struct cc_stream *stream; /* /v1/forever-stream */
};

/* ---- the server side: tl_httpd's routes and these ---- */

static void h_lines(struct cc_request *req, void *arg)
{
	(void)arg;
	struct cc_stream *s = cc_stream_open(req, 0, "text/plain", NULL, NULL);
	const char *parts[] = {"alpha\n", "beta\r\n", "\n", "gam", "ma"};
	for (size_t i = 0; i < 5; i++)
		cc_stream_write(s, parts[i], strlen(parts[i]));
	cc_stream_close(s);
}

static void h_long_line(struct cc_request *req, void *arg)
{
	(void)arg;
	struct cc_stream *s = cc_stream_open(req, 0, NULL, NULL, NULL);
	const char *text = "ok\n0123456789abcdef\nafter\n";
	cc_stream_write(s, text, strlen(text));
	cc_stream_close(s);
}

static void h_conflict(struct cc_request *req, void *arg)
{
	(void)arg;
	cc_reply_error(req, 409, "conflict", "machine %s changed", "m1");
}

static void on_gone(struct cc_stream *s, void *arg)
{
	(void)s;
	((struct fx *)arg)->stream = NULL;
}

static void h_forever_stream(struct cc_request *req, void *arg)
{
	struct fx *f = arg;
	f->stream = cc_stream_open(req, 0, NULL, on_gone, f);
	cc_stream_write(f->stream, "first\n", 6);
}

static int setup(void **state)
{
	static const struct {
		const char *path;
		cc_handler_fn fn;
	} routes[] = {
	    {"/v1/lines", h_lines},
	    {"/v1/long-line", h_long_line},
	    {"/v1/conflict", h_conflict},
	    {"/v1/forever-stream", h_forever_stream},
	};
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->loop = ev_loop_new(EVFLAG_AUTO);
	tl_httpd_start(&f->h, f->loop);
	char err[CC_ERRMSG_SIZE];
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		assert_int_equal(cc_server_route(f->h.srv, "GET",
		                                 routes[i].path, routes[i].fn,
		                                 f, err, sizeof(err)),
		                 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tl_httpd_stop(&f->h);
	ev_loop_destroy(f->loop);
	free(f);
	return 0;
}

/* ---- the client side, on a thread ---- */

struct call {
	struct tl_thread t;
	struct cc_client_config cfg;
	const char *method;
	char url[256];
	const char *body;
	json_t *json; /* sent with cc_client_json when set */
	bool stream;
	size_t stop_after;

	int rc;
	char err[CC_ERRMSG_SIZE];
	struct cc_response resp;
	char *lines[MAX_LINES];
	size_t nlines;
	atomic_int seen;
};

static int on_line(const char *line, size_t len, void *arg)
{
	struct call *c = arg; /* the client's thread: no cmocka asserts */
	if (c->nlines < MAX_LINES)
		c->lines[c->nlines++] = strndup(line, len);
	atomic_fetch_add(&c->seen, 1);
	tl_thread_poke(&c->t);
	return c->stop_after && c->nlines >= c->stop_after;
}

static void do_call(void *arg)
{
	struct call *c = arg;
	cc_client *cl = cc_client_new(&c->cfg);
	if (c->stream)
		c->rc = cc_client_stream(cl, c->url, on_line, c, &c->resp,
		                         c->err, sizeof(c->err));
	else if (c->json)
		c->rc = cc_client_json(cl, c->method, c->url, c->json, &c->resp,
		                       c->err, sizeof(c->err));
	else
		c->rc = cc_client_request(cl, c->method, c->url, c->body,
		                          c->body ? strlen(c->body) : 0,
		                          &c->resp, c->err, sizeof(c->err));
	cc_client_free(cl);
}

static void start(struct fx *f, struct call *c, const char *method,
                  const char *path)
{
	c->method = method;
	if (strncmp(path, "http", 4) == 0 || !*path || path[0] != '/')
		snprintf(c->url, sizeof(c->url), "%s", path);
	else
		snprintf(c->url, sizeof(c->url), "%s%s", f->h.base, path);
	tl_thread_start(&c->t, f->loop, do_call, c);
}

static void finish(struct fx *f, struct call *c)
{
	bool done = tl_run_until(f->loop, tl_thread_done, &c->t, DEADLINE);
	tl_thread_join(&c->t);
	assert_true(done);
}

static void call(struct fx *f, struct call *c, const char *method,
                 const char *path)
{
	start(f, c, method, path);
	finish(f, c);
}

static void call_free(struct call *c)
{
	cc_response_clear(&c->resp);
	json_decref(c->json);
	for (size_t i = 0; i < c->nlines; i++)
		free(c->lines[i]);
}

static json_t *answer(const struct call *c)
{
	char err[CC_ERRMSG_SIZE];
	if (c->rc)
		fail_msg("%s", c->err);
	json_t *j = cc_response_json(&c->resp, err, sizeof(err));
	if (!j)
		fail_msg("%s", err);
	return j;
}

static const char *field(json_t *j, const char *name)
{
	return json_string_value(json_object_get(j, name));
}

/* ---- tests ---- */

static void test_methods_bodies_token(void **state)
{
	struct fx *f = *state;
	const char *methods[] = {"GET", "POST", "PUT", "DELETE"};
	for (size_t i = 0; i < 4; i++) {
		struct call c = {.cfg = {.token = "tok-1"}};
		c.json = i ? json_pack("{s:i}", "n", (int)i) : NULL;
		call(f, &c, methods[i], "/v1/echo");
		json_t *a = answer(&c);
		assert_int_equal(c.resp.status, 200);
		assert_string_equal(field(a, "method"), methods[i]);
		assert_string_equal(field(a, "token"), "tok-1");
		if (i) {
			char expect[32];
			snprintf(expect, sizeof(expect), "{\"n\":%zu}", i);
			assert_string_equal(field(a, "body"), expect);
			assert_string_equal(field(a, "type"),
			                    "application/json");
		}
		char url[128];
		snprintf(url, sizeof(url), "%s/v1/echo", f->h.base);
		assert_string_equal(c.resp.url, url);
		json_decref(a);
		call_free(&c);
	}

	/* a raw body goes out as given, without a made-up Content-Type */
	struct call r = {.body = "plain text"};
	call(f, &r, "POST", "/v1/echo");
	json_t *a = answer(&r);
	assert_string_equal(field(a, "body"), "plain text");
	assert_true(json_is_null(json_object_get(a, "token")));
	assert_true(json_is_null(json_object_get(a, "type")));
	json_decref(a);
	call_free(&r);
}

static void test_redirects_keep_method_body_token(void **state)
{
	struct fx *f = *state;
	/* 3 hops: 307, 308, 307, then a relative Location to the echo */
	struct call c = {.cfg = {.token = "tok-2"}, .body = "{\"x\":1}"};
	call(f, &c, "PUT", "/v1/redirect/3");
	json_t *a = answer(&c);
	assert_int_equal(c.resp.status, 200);
	assert_string_equal(field(a, "method"), "PUT");
	assert_string_equal(field(a, "body"), "{\"x\":1}");
	assert_string_equal(field(a, "token"), "tok-2");
	assert_string_equal(field(a, "hop"), "last");
	char url[128];
	snprintf(url, sizeof(url), "%s/v1/echo?hop=last", f->h.base);
	assert_string_equal(c.resp.url, url);
	json_decref(a);
	call_free(&c);

	/* past max_redirects: an error naming the limit */
	struct call l = {.cfg = {.max_redirects = 2}};
	call(f, &l, "POST", "/v1/loop");
	assert_int_equal(l.rc, CC_EPROTO);
	char expect[256];
	snprintf(expect, sizeof(expect),
	         "POST %s/v1/loop: more than 2 redirects, the last to "
	         "%s/v1/loop",
	         f->h.base, f->h.base);
	assert_string_equal(l.err, expect);
	call_free(&l);

	/* other redirects are answers, not followed */
	struct call s = {0};
	call(f, &s, "POST", "/v1/see-other");
	assert_int_equal(s.rc, 0);
	assert_int_equal(s.resp.status, 303);
	call_free(&s);
}

static void test_error_statuses_are_answers(void **state)
{
	struct fx *f = *state;
	struct call c = {0};
	call(f, &c, "GET", "/v1/nope");
	assert_int_equal(c.rc, 0);
	assert_int_equal(c.resp.status, 404);
	json_t *a = answer(&c);
	assert_string_equal(field(a, "error"), "not_found");
	json_decref(a);
	call_free(&c);
}

static void test_connection_refused(void **state)
{
	struct fx *f = *state;
	uint16_t port;
	int fd = tl_refusing_port(&port);
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/v1/status", port);
	struct call c = {0};
	call(f, &c, "GET", url);
	close(fd);
	assert_int_equal(c.rc, CC_ECONNECT);
	char expect[256];
	snprintf(expect, sizeof(expect),
	         "GET %s: could not connect (Failed "
	         "to connect to 127.0.0.1 port %u",
	         url, port);
	if (strncmp(c.err, expect, strlen(expect)) != 0)
		fail_msg("got: %s", c.err);
	call_free(&c);
}

static void test_bad_urls(void **state)
{
	struct fx *f = *state;
	static const char *const urls[] = {"ftp://127.0.0.1/x", "not a url",
	                                   "http://"};
	for (size_t i = 0; i < 3; i++) {
		struct call c = {0};
		call(f, &c, "GET", urls[i]);
		assert_int_equal(c.rc, CC_EINVAL);
		char expect[128];
		snprintf(expect, sizeof(expect),
		         "GET %s: not a valid http:// URL (", urls[i]);
		if (strncmp(c.err, expect, strlen(expect)) != 0)
			fail_msg("got: %s", c.err);
		call_free(&c);
	}
}

static bool aborted(void *arg)
{
	return ((struct fx *)arg)->h.aborted > 0;
}

static void test_timeout(void **state)
{
	struct fx *f = *state;
	struct call c = {.cfg = {.timeout_ms = 200}};
	call(f, &c, "GET", "/v1/never");
	assert_int_equal(c.rc, CC_ETIMEOUT);
	char expect[128];
	snprintf(expect, sizeof(expect), "GET %s/v1/never: no answer in time (",
	         f->h.base);
	if (strncmp(c.err, expect, strlen(expect)) != 0)
		fail_msg("got: %s", c.err);
	/* the server sees the client give up */
	assert_true(tl_run_until(f->loop, aborted, f, DEADLINE));
	call_free(&c);
}

static void test_answer_too_big(void **state)
{
	struct fx *f = *state;
	struct call c = {.cfg = {.max_body = 1000}};
	call(f, &c, "GET", "/v1/big");
	assert_int_equal(c.rc, CC_ETOOBIG);
	char expect[128];
	snprintf(expect, sizeof(expect),
	         "GET %s/v1/big: the answer is larger than the limit of 1000 "
	         "bytes",
	         f->h.base);
	assert_string_equal(c.err, expect);
	call_free(&c);
}

static void test_stream_lines(void **state)
{
	struct fx *f = *state;
	struct call c = {.stream = true};
	call(f, &c, "GET", "/v1/lines");
	assert_int_equal(c.rc, 0);
	assert_int_equal(c.resp.status, 200);
	assert_int_equal(c.nlines, 4);
	assert_string_equal(c.lines[0], "alpha");
	assert_string_equal(c.lines[1], "beta");
	assert_string_equal(c.lines[2], "");
	assert_string_equal(c.lines[3], "gamma"); /* no final newline */
	call_free(&c);

	/* a refusal is collected as a body, not as lines */
	struct call e = {.stream = true};
	call(f, &e, "GET", "/v1/conflict");
	assert_int_equal(e.rc, 0);
	assert_int_equal(e.resp.status, 409);
	assert_int_equal(e.nlines, 0);
	json_t *a = answer(&e);
	assert_string_equal(field(a, "detail"), "machine m1 changed");
	json_decref(a);
	call_free(&e);
}

/* A stream's lines are bounded by max_body each, not in total; the lines
 * before one too long are handed out. */
static void test_stream_line_too_long(void **state)
{
	struct fx *f = *state;
	struct call c = {.stream = true, .cfg = {.max_body = 10}};
	call(f, &c, "GET", "/v1/long-line");
	assert_int_equal(c.rc, CC_ETOOBIG);
	char expect[160];
	snprintf(expect, sizeof(expect),
	         "GET %s/v1/long-line: a line of the answer is longer than the "
	         "limit of 10 bytes",
	         f->h.base);
	assert_string_equal(c.err, expect);
	assert_int_equal(c.nlines, 1);
	assert_string_equal(c.lines[0], "ok");
	call_free(&c);
}

static bool first_line(void *arg)
{
	return atomic_load(&((struct call *)arg)->seen) > 0;
}

static void test_stream_broken(void **state)
{
	struct fx *f = *state;
	struct call c = {.stream = true};
	start(f, &c, "GET", "/v1/forever-stream");
	assert_true(tl_run_until(f->loop, first_line, &c, DEADLINE));
	/* the server goes away mid-stream: no final chunk */
	tl_httpd_stop(&f->h);
	finish(f, &c);
	assert_int_equal(c.rc, CC_EIO);
	char expect[128];
	snprintf(expect, sizeof(expect),
	         "GET %s/v1/forever-stream: the connection broke off (",
	         f->h.base);
	if (strncmp(c.err, expect, strlen(expect)) != 0)
		fail_msg("got: %s", c.err);
	assert_int_equal(c.nlines, 1);
	assert_string_equal(c.lines[0], "first");
	call_free(&c);
}

static void test_response_json_errors(void **state)
{
	(void)state;
	char err[CC_ERRMSG_SIZE];
	struct cc_response r = {.body = "{nope", .len = 5, .url = "http://x/y"};
	assert_null(cc_response_json(&r, err, sizeof(err)));
	assert_string_equal(err, "answer from http://x/y: invalid JSON at line "
	                         "1, column 5: string or '}' expected near "
	                         "'nope'");
}

int main(void)
{
	int level = cc_log_level_parse(getenv("CELL_TEST_LOG"));
	cc_log_set_level(level >= 0 ? (enum cc_log_level)level : CC_LOG_WARN);
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_methods_bodies_token),
	    T(test_redirects_keep_method_body_token),
	    T(test_error_statuses_are_answers),
	    T(test_connection_refused),
	    T(test_bad_urls),
	    T(test_timeout),
	    T(test_answer_too_big),
	    T(test_stream_lines),
	    T(test_stream_line_too_long),
	    T(test_stream_broken),
	    T(test_response_json_errors),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
