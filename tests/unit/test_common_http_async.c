/* test_common_http_async.c: the asynchronous HTTP client and a real server
 * on loopback, both on the test's libev loop: answers and bodies, many
 * requests at once, redirects that keep method and body, every failure said
 * in words, and freeing with requests in flight (also from a callback);
 * line streams against the server's chunked streams: lines in order however
 * the chunks cut them, hanging up, idle limits, cancel and free. */
#include "testlib.h"

#include "cellcommon.h"
#include "evtest.h"
#include "tl_httpd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEADLINE  20.0
#define MANY      200
#define MAX_LINES 32

struct fx {
	struct ev_loop *loop;
	struct tl_httpd h;
	cc_aclient *c;   /* freed by teardown when a test leaves it */
	bool in_request; /* inside cc_aclient_request or cc_aclient_stream */
	int early;       /* callbacks run from inside those */
	/* the server's side of GET /v1/watch */
	struct cc_stream *out; /* the last opened, until closed or gone */
	int opened, gone;
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
static void expect_msg(const char *got, const char *fmt, ...) CC_PRINTF(2, 3);

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

/* ---- the server's streams ---- */

static void out_gone(struct cc_stream *st, void *arg)
{
	struct fx *f = arg;
	if (f->out == st)
		f->out = NULL;
	f->gone++;
}

/* GET /v1/watch: a stream the test feeds with put() and ends with
 * put_close(). */
static void h_watch(struct cc_request *req, void *arg)
{
	struct fx *f = arg;
	f->out = cc_stream_open(req, 0, NULL, out_gone, f);
	f->opened++;
}

/* GET /v1/gone: what celld answers a watch from a compacted index. */
static void h_gone(struct cc_request *req, void *arg)
{
	(void)arg;
	cc_reply_error(req, 410, "gone", "index %d is compacted", 3);
}

static void put(struct fx *f, const char *text)
{
	assert_non_null(f->out);
	assert_int_equal(cc_stream_write(f->out, text, strlen(text)), 0);
}

static void put_close(struct fx *f)
{
	assert_non_null(f->out);
	cc_stream_close(f->out);
	f->out = NULL;
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
	char err[CC_ERRMSG_SIZE];
	if (cc_server_route(f->h.srv, "GET", "/v1/watch", h_watch, f, err,
	                    sizeof(err)) ||
	    cc_server_route(f->h.srv, "GET", "/v1/gone", h_gone, f, err,
	                    sizeof(err)))
		fail_msg("%s", err);
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
			assert_string_equal(field(j, "body"), m[round].body[i]);
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
	call(f, &a, "PUT", "/v1/redirect/3", "application/json", "{\"x\":1}");
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
	expect_msg(a.err, "GET %s/v1/never: no answer in time (...", f->h.base);
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
		assert_int_equal(
		    start(f, &a[i], "GET", "/v1/never", NULL, NULL), 0);
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

/* ---- line streams ---- */

/* What one stream's callbacks saw. */
struct watch {
	struct fx *f;
	cc_astream *s; /* NULL once over or cancelled */
	char *lines[MAX_LINES];
	size_t lens[MAX_LINES];
	size_t nlines;  /* lines seen (only the first MAX_LINES kept) */
	size_t stop_at; /* on_line returns nonzero at this line; 0: never */
	size_t want;    /* for has_lines */
	bool inside;    /* on_line runs */
	/* set by the test: what on_line does besides recording */
	void (*then)(struct watch *w);
	struct answer asked; /* a request then may start */
	int ends;
	int status;
	long http;
	char *body, *url;
	char err[CC_ERRMSG_SIZE];
};

static int on_line(void *arg, const char *line, size_t len)
{
	struct watch *w = arg;
	w->f->early += w->f->in_request;
	assert_int_equal(w->ends, 0);
	assert_int_equal(strlen(line), len); /* NUL-terminated there */
	if (w->nlines < MAX_LINES) {
		w->lens[w->nlines] = len;
		w->lines[w->nlines] = strndup(line, len);
	}
	w->nlines++;
	w->inside = true;
	if (w->then)
		w->then(w);
	w->inside = false;
	return w->stop_at && w->nlines >= w->stop_at;
}

static void on_end(void *arg, int status, struct cc_response *resp,
                   const char *errmsg)
{
	struct watch *w = arg;
	w->f->early += w->f->in_request;
	assert_false(w->inside);
	w->ends++;
	w->s = NULL;
	w->status = status;
	w->http = resp->status;
	w->body = resp->body; /* taken, as a request's callback may */
	resp->body = NULL;
	w->url = resp->url ? strdup(resp->url) : NULL;
	snprintf(w->err, sizeof(w->err), "%s", errmsg);
}

static void watch_free(struct watch *w)
{
	for (size_t i = 0; i < w->nlines && i < MAX_LINES; i++)
		free(w->lines[i]);
	free(w->body);
	free(w->url);
	answer_free(&w->asked);
}

static cc_astream *watch_start(struct fx *f, struct watch *w, const char *path,
                               unsigned idle_ms)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", path[0] == '/' ? f->h.base : "",
	         path);
	w->f = f;
	f->in_request = true;
	w->s = cc_aclient_stream(f->c, url, idle_ms, on_line, on_end, w);
	f->in_request = false;
	return w->s;
}

static bool has_lines(void *arg)
{
	struct watch *w = arg;
	return w->nlines >= w->want;
}

static void wait_lines(struct watch *w, size_t n)
{
	w->want = n;
	assert_true(tl_run_until(w->f->loop, has_lines, w, DEADLINE));
	assert_int_equal(w->nlines, n);
}

static bool ended(void *arg)
{
	return ((struct watch *)arg)->ends > 0;
}

static void wait_end(struct watch *w)
{
	assert_true(tl_run_until(w->f->loop, ended, w, DEADLINE));
	assert_int_equal(w->ends, 1);
}

static bool opened(void *arg)
{
	return ((struct fx *)arg)->out != NULL;
}

/* Starts a stream of GET /v1/watch and waits for the server to open it. */
static void watch_open(struct fx *f, struct watch *w, unsigned idle_ms)
{
	assert_non_null(watch_start(f, w, "/v1/watch", idle_ms));
	assert_true(tl_run_until(f->loop, opened, f, DEADLINE));
}

static bool server_saw_gone(void *arg)
{
	return ((struct fx *)arg)->gone > 0;
}

static void expect_lines(const struct watch *w, const char *const *lines,
                         size_t n)
{
	assert_int_equal(w->nlines, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(w->lines[i], lines[i]);
}

/* Lines come whole and in order however the chunks cut them: a line over
 * two writes (with a round trip between), several in one write, CRLF,
 * empty lines, and a last line without its newline when the server ends
 * the answer. */
static void test_stream_lines(void **state)
{
	struct fx *f = *state;
	new_client(f, &(struct cc_client_config){.token = "tok-w"});
	struct watch w = {0};
	watch_open(f, &w, 0);
	/* a stream is not a request in flight */
	assert_int_equal(cc_aclient_inflight(f->c), 0);
	put(f, "alpha\nbe");
	wait_lines(&w, 1);
	put(f, "ta\r\n\ngamma\r\ndel");
	wait_lines(&w, 4);
	put(f, "ta\n");
	wait_lines(&w, 5);
	put(f, "{\"kind\":\"progress\"}\n1\n2\n3\r\nlast");
	put_close(f);
	wait_end(&w);
	static const char *const expect[] = {
	    "alpha", "beta", "",  "gamma", "delta", "{\"kind\":\"progress\"}",
	    "1",     "2",    "3", "last"};
	expect_lines(&w, expect, 10);
	assert_int_equal(w.status, 0);
	assert_int_equal(w.http, 200);
	assert_string_equal(w.body, "");
	assert_string_equal(w.err, "");
	expect_msg(w.url, "%s/v1/watch", f->h.base);
	assert_int_equal(f->gone, 0); /* closed by the server, not gone */
	watch_free(&w);
}

/* on_line asks to stop at the second line of three that came together:
 * the third is not handed out, on_end says 0 and the server sees the
 * client leave. */
static void test_stream_stop_from_on_line(void **state)
{
	struct fx *f = *state;
	new_client(f, NULL);
	struct watch w = {.stop_at = 2};
	watch_open(f, &w, 0);
	put(f, "one\ntwo\nthree\n");
	wait_end(&w);
	static const char *const expect[] = {"one", "two"};
	expect_lines(&w, expect, 2);
	assert_int_equal(w.status, 0);
	assert_int_equal(w.http, 200);
	assert_string_equal(w.err, "");
	assert_true(tl_run_until(f->loop, server_saw_gone, f, DEADLINE));
	assert_int_equal(w.nlines, 2);
	watch_free(&w);
}

/* A refusal (celld's 410 for a compacted index) is an answer: its body in
 * resp, not lines. */
static void test_stream_error_status_is_an_answer(void **state)
{
	struct fx *f = *state;
	new_client(f, NULL);
	struct watch w = {0};
	assert_non_null(watch_start(f, &w, "/v1/gone", 0));
	wait_end(&w);
	assert_int_equal(w.nlines, 0);
	assert_int_equal(w.status, 0);
	assert_int_equal(w.http, 410);
	assert_string_equal(w.err, "");
	json_error_t e;
	json_t *j = json_loads(w.body, 0, &e);
	assert_non_null(j);
	assert_string_equal(field(j, "error"), "gone");
	assert_string_equal(field(j, "detail"), "index 3 is compacted");
	json_decref(j);
	watch_free(&w);
}

/* 307, 308, then a one-line answer without a newline: that line, and the
 * URL it came from. */
static void test_stream_follows_redirects(void **state)
{
	struct fx *f = *state;
	new_client(f, &(struct cc_client_config){.token = "tok-r"});
	struct watch w = {0};
	assert_non_null(watch_start(f, &w, "/v1/redirect/1", 0));
	wait_end(&w);
	assert_int_equal(w.status, 0);
	assert_int_equal(w.http, 200);
	expect_msg(w.url, "%s/v1/echo?hop=last", f->h.base);
	assert_int_equal(w.nlines, 1);
	json_error_t e;
	json_t *j = json_loads(w.lines[0], 0, &e);
	assert_non_null(j);
	assert_string_equal(field(j, "method"), "GET");
	assert_string_equal(field(j, "token"), "tok-r");
	json_decref(j);
	watch_free(&w);
}

/* The server goes away mid-stream: no final chunk, so the half line is
 * not a line, and the stream failed. */
static void test_stream_broken(void **state)
{
	struct fx *f = *state;
	new_client(f, NULL);
	struct watch w = {0};
	watch_open(f, &w, 0);
	put(f, "first\nhalf a li");
	wait_lines(&w, 1);
	tl_httpd_stop(&f->h);
	wait_end(&w);
	static const char *const expect[] = {"first"};
	expect_lines(&w, expect, 1);
	assert_int_equal(w.status, CC_EIO);
	expect_msg(w.err, "GET %s/v1/watch: the connection broke off (...",
	           f->h.base);
	watch_free(&w);
}

/* Periodic writes that stop: every line keeps the stream alive however
 * long it lasts (no overall timeout, timeout_ms notwithstanding), then
 * idle_ms of silence ends it. */
struct ticker {
	ev_timer t; /* first member: the watcher is the ticker */
	struct fx *f;
	int left;
};

static void tick(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)revents;
	struct ticker *k = (struct ticker *)t;
	if (k->f->out)
		cc_stream_write(k->f->out, "tick\n", 5);
	if (--k->left == 0)
		ev_timer_stop(loop, t);
}

static void test_stream_idle_timeout(void **state)
{
	struct fx *f = *state;
	new_client(f, &(struct cc_client_config){.timeout_ms = 300});
	struct watch w = {0};
	watch_open(f, &w, 400);
	struct ticker k = {.f = f, .left = 8};
	ev_timer_init(&k.t, tick, 0.1, 0.1);
	ev_timer_start(f->loop, &k.t);
	double t0 = ev_time();
	wait_end(&w);
	ev_timer_stop(f->loop, &k.t);
	assert_int_equal(w.nlines, 8);      /* 800 ms of ticks, none lost */
	assert_true(ev_time() - t0 >= 1.0); /* and 400 ms of silence */
	assert_int_equal(w.status, CC_ETIMEOUT);
	expect_msg(w.err, "GET %s/v1/watch: nothing came for 400 ms",
	           f->h.base);
	assert_null(w.body);
	assert_int_equal(w.http, 0);
	assert_true(tl_run_until(f->loop, server_saw_gone, f, DEADLINE));
	watch_free(&w);
}

/* A line of exactly the limit passes; one byte more ends the stream. */
static void test_stream_line_too_long(void **state)
{
	struct fx *f = *state;
	new_client(f, NULL);
	struct watch w = {0};
	watch_open(f, &w, 0);
	size_t n = CC_ASTREAM_MAX_LINE;
	char *big = malloc(n + 3);
	assert_non_null(big);
	memset(big, 'x', n + 1);
	big[n] = '\n';
	assert_int_equal(cc_stream_write(f->out, big, n + 1), 0);
	big[n] = 'y';
	memcpy(big + n + 1, "\n", 2);
	assert_int_equal(cc_stream_write(f->out, big, n + 2), 0);
	put(f, "never\n");
	free(big);
	wait_end(&w);
	assert_int_equal(w.nlines, 1);
	assert_int_equal(w.lens[0], n);
	assert_int_equal(w.status, CC_ETOOBIG);
	expect_msg(w.err,
	           "GET %s/v1/watch: a line of the answer is longer than the "
	           "limit of %zu bytes",
	           f->h.base, n);
	watch_free(&w);
}

/* Cancelled: nothing more runs, on_end neither, and the server sees the
 * client leave. */
static void test_stream_cancel(void **state)
{
	struct fx *f = *state;
	new_client(f, NULL);
	struct watch w = {0};
	watch_open(f, &w, 100);
	put(f, "a\n");
	wait_lines(&w, 1);
	put(f, "b\n"); /* may be on its way */
	cc_astream_cancel(w.s);
	cc_astream_cancel(NULL);
	assert_true(tl_run_until(f->loop, server_saw_gone, f, DEADLINE));
	/* a stream with the same idle limit, started later, that never gets
	 * an answer: by its end the cancelled one's limit would have run
	 * out too */
	struct watch later = {0};
	assert_non_null(watch_start(f, &later, "/v1/never", 100));
	wait_end(&later);
	assert_int_equal(later.status, CC_ETIMEOUT);
	assert_int_equal(w.nlines, 1);
	assert_int_equal(w.ends, 0);
	watch_free(&w);
	watch_free(&later);
}

/* on_line may use the client: here it starts a request, which a callback
 * inside libcurl could not. */
static void ask(struct watch *w)
{
	assert_int_equal(start(w->f, &w->asked, "GET", "/v1/echo", NULL, NULL),
	                 0);
	w->then = NULL;
}

static void test_stream_on_line_starts_a_request(void **state)
{
	struct fx *f = *state;
	new_client(f, NULL);
	struct watch w = {.then = ask};
	watch_open(f, &w, 0);
	put(f, "go\n");
	assert_true(tl_run_until(f->loop, answered, &w.asked, DEADLINE));
	assert_int_equal(w.asked.http, 200);
	assert_int_equal(w.nlines, 1);
	put(f, "still here\n");
	wait_lines(&w, 2);
	put_close(f);
	wait_end(&w);
	assert_int_equal(w.status, 0);
	watch_free(&w);
}

static void test_stream_connection_refused(void **state)
{
	struct fx *f = *state;
	new_client(f, NULL);
	uint16_t port;
	int fd = tl_refusing_port(&port);
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/v1/watch", port);
	struct watch w = {0};
	assert_non_null(watch_start(f, &w, url, 0));
	wait_end(&w);
	close(fd);
	assert_int_equal(w.status, CC_ECONNECT);
	expect_msg(w.err,
	           "GET %s: could not connect (Failed to connect to 127.0.0.1 "
	           "port %u...",
	           url, port);
	assert_int_equal(w.nlines, 0);
	watch_free(&w);
}

static void test_stream_bad_starts(void **state)
{
	struct fx *f = *state;
	new_client(f, NULL);
	struct watch w = {0};
	assert_null(watch_start(f, &w, "ftp://127.0.0.1/x", 0));
	expect_msg(cc_aclient_errmsg(f->c),
	           "GET ftp://127.0.0.1/x: not a valid http:// URL (the scheme "
	           "is ftp)");
	assert_null(
	    cc_aclient_stream(f->c, "http://127.0.0.1/", 0, NULL, on_end, &w));
	expect_msg(cc_aclient_errmsg(f->c),
	           "GET http://127.0.0.1/: a stream needs a line callback");
	/* a request after them: the bad ones scheduled nothing */
	struct answer a = {0};
	call(f, &a, "GET", "/v1/echo", NULL, NULL);
	answer_free(&a);
	assert_int_equal(w.ends, 0);
}

/* Freed with a stream and a request in flight: both callbacks, now. */
static void test_free_ends_streams(void **state)
{
	struct fx *f = *state;
	new_client(f, NULL);
	struct watch w = {0};
	watch_open(f, &w, 0);
	put(f, "x\n");
	wait_lines(&w, 1);
	struct answer held[3] = {{0}};
	hold3(f, held);
	cc_aclient_free(f->c);
	f->c = NULL;
	assert_int_equal(w.ends, 1);
	assert_int_equal(w.status, CC_ESTATE);
	expect_msg(w.err,
	           "GET %s/v1/watch: client closed before the stream "
	           "ended",
	           f->h.base);
	for (size_t i = 0; i < 3; i++)
		expect_closed(f, &held[i], "/v1/never");
	assert_true(tl_run_until(f->loop, server_saw_gone, f, DEADLINE));
	watch_free(&w);
}

/* Freed from on_line: no more lines (though more came in the same read),
 * and on_end runs once on_line has returned. */
static void free_in_line(struct watch *w)
{
	struct fx *f = w->f;
	cc_aclient_free(f->c);
	assert_null(cc_aclient_stream(f->c, "http://127.0.0.1/", 0, on_line,
	                              on_end, w));
	expect_msg(cc_aclient_errmsg(f->c), "GET http://127.0.0.1/: client "
	                                    "closed");
	f->c = NULL;
	assert_int_equal(w->ends, 0);
}

static void test_free_from_on_line(void **state)
{
	struct fx *f = *state;
	new_client(f, NULL);
	struct watch other = {0}, w = {.then = free_in_line};
	watch_open(f, &other, 0);
	struct cc_stream *other_out = f->out;
	f->out = NULL;
	watch_open(f, &w, 0);
	assert_int_equal(cc_stream_write(other_out, "o\n", 2), 0);
	wait_lines(&other, 1);
	put(f, "a\nb\nc\n");
	wait_end(&w);
	static const char *const expect[] = {"a"};
	expect_lines(&w, expect, 1);
	assert_int_equal(w.status, CC_ESTATE);
	expect_msg(w.err,
	           "GET %s/v1/watch: client closed before the stream "
	           "ended",
	           f->h.base);
	assert_int_equal(other.ends, 1);
	assert_int_equal(other.status, CC_ESTATE);
	assert_null(f->c);
	watch_free(&w);
	watch_free(&other);
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
	    T(test_stream_lines),
	    T(test_stream_stop_from_on_line),
	    T(test_stream_error_status_is_an_answer),
	    T(test_stream_follows_redirects),
	    T(test_stream_broken),
	    T(test_stream_idle_timeout),
	    T(test_stream_line_too_long),
	    T(test_stream_cancel),
	    T(test_stream_on_line_starts_a_request),
	    T(test_stream_connection_refused),
	    T(test_stream_bad_starts),
	    T(test_free_ends_streams),
	    T(test_free_from_on_line),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
