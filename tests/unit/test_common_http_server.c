/* test_common_http_server.c: the HTTP server on a libev loop, spoken to over
 * loopback by the blocking client (and by raw sockets where the wire itself
 * matters) from threads, while the test's loop serves: JSON round trips,
 * query decoding, 404/405/413, deferred answers, streams, hang-ups, 200
 * requests at once, and malformed HTTP. */
#include "testlib.h"

#include "cellcommon.h"
#include "evtest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_BODY          1024
#define MAX_STREAM_BUFFER (64 * 1024)
#define DEADLINE          20.0 /* seconds; generous for sanitizer builds */
#define GATHER            200
#define MAX_LINES         16

/* ---- the server under test ---- */

struct fx {
	struct ev_loop *loop;
	cc_server *srv;
	cc_metrics *metrics;
	uint16_t port;
	char base[64]; /* "http://127.0.0.1:PORT" */

	/* deferred answers */
	ev_timer later;
	struct cc_request *waiting;
	int aborted; /* on_abort calls */

	/* streams */
	ev_timer tick;
	struct cc_stream *stream;
	int pushed;
	int gone; /* on_gone calls */
	int held; /* streams opened by /v1/hold */

	/* 200 at once */
	struct cc_request *gathered[GATHER];
	int ngathered;
};

static json_t *query_object(struct cc_request *req)
{
	json_t *q = json_object();
	const char *name, *value;
	for (size_t i = 0; (name = cc_request_query_at(req, i, &value)); i++)
		json_object_set_new(q, name,
		                    value ? json_string(value) : json_null());
	return q;
}

/* Echoes what the handler saw. */
static void h_echo(struct cc_request *req, void *arg)
{
	(void)arg;
	size_t len;
	const char *body = cc_request_body(req, &len);
	const char *token = cc_request_bearer(req);
	json_t *parsed = len ? cc_request_json(req, NULL, 0) : NULL;
	json_t *j = json_pack(
	    "{s:s, s:s, s:s, s:o, s:I, s:o, s:o, s:b}", "method",
	    cc_request_method(req), "path", cc_request_path(req), "subpath",
	    cc_request_subpath(req), "query", query_object(req), "len",
	    (json_int_t)len, "json", parsed ? parsed : json_null(), "token",
	    token ? json_string(token) : json_null(), "token_ok",
	    cc_request_has_token(req, "s3cret"));
	(void)body;
	assert_int_equal(cc_reply_json(req, 200, j), 0);
}

static void h_status(struct cc_request *req, void *arg)
{
	(void)arg;
	assert_int_equal(cc_reply_header(req, "X-Bad\r\nInjected", "x"),
	                 CC_EINVAL);
	assert_int_equal(cc_reply_header(req, "X-Ok", "a\r\nInjected: x"),
	                 CC_EINVAL);
	assert_int_equal(cc_reply_json(req, 200, json_pack("{s:b}", "ok", 1)),
	                 0);
	/* a second answer is refused and changes nothing */
	assert_int_equal(cc_reply_json(req, 500, json_object()), CC_ESTATE);
	assert_int_equal(cc_reply_error(req, 500, "x", NULL), CC_ESTATE);
}

/* Parses the body as JSON; 400 with the parser's message if it cannot. */
static void h_parse(struct cc_request *req, void *arg)
{
	(void)arg;
	char err[CC_ERRMSG_SIZE];
	json_t *j = cc_request_json(req, err, sizeof(err));
	if (!j) {
		cc_reply_error(req, 400, "bad_json", "%s", err);
		return;
	}
	cc_reply_json(req, 200, j);
}

static void h_nothing(struct cc_request *req, void *arg)
{
	(void)req;
	(void)arg;
}

static void h_metrics(struct cc_request *req, void *arg)
{
	struct fx *f = arg;
	cc_reply_metrics(req, f->metrics);
}

/* ---- deferred ---- */

static void on_abort(struct cc_request *req, void *arg)
{
	struct fx *f = arg;
	assert_ptr_equal(req, f->waiting);
	f->waiting = NULL;
	f->aborted++;
}

static void answer_later(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct fx *f = w->data;
	struct cc_request *req = f->waiting;
	f->waiting = NULL;
	assert_non_null(req);
	assert_int_equal(cc_reply_header(req, "X-Deferred", "yes"), 0);
	assert_int_equal(
	    cc_reply_json(req, 202, json_pack("{s:b}", "deferred", 1)), 0);
}

static void h_slow(struct cc_request *req, void *arg)
{
	struct fx *f = arg;
	assert_int_equal(cc_request_defer(req, on_abort, f), 0);
	assert_int_equal(cc_request_defer(req, on_abort, f), CC_ESTATE);
	assert_null(cc_stream_open(req, 200, NULL, NULL, NULL));
	f->waiting = req;
	ev_timer_set(&f->later, 0.05, 0.0);
	ev_timer_start(f->loop, &f->later);
}

/* Deferred and never answered: only a hang-up or the server's end. */
static void h_forever(struct cc_request *req, void *arg)
{
	struct fx *f = arg;
	cc_request_defer(req, on_abort, f);
	f->waiting = req;
}

static void h_gather(struct cc_request *req, void *arg)
{
	struct fx *f = arg;
	cc_request_defer(req, NULL, NULL);
	f->gathered[f->ngathered++] = req;
	if (f->ngathered < GATHER)
		return;
	/* everyone is waiting at once: answer them all, newest first */
	for (int i = GATHER - 1; i >= 0; i--) {
		const char *who = cc_request_query(f->gathered[i], "i");
		cc_reply_json(f->gathered[i], 200,
		              json_pack("{s:s}", "i", who ? who : "?"));
	}
}

/* ---- streams ---- */

static void on_gone(struct cc_stream *s, void *arg)
{
	struct fx *f = arg;
	if (s == f->stream) {
		f->stream = NULL;
		ev_timer_stop(f->loop, &f->tick);
	}
	f->gone++;
}

static void push_line(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)revents;
	struct fx *f = w->data;
	if (!f->stream)
		return;
	json_t *j = json_pack("{s:i}", "n", ++f->pushed);
	assert_int_equal(cc_stream_write_json(f->stream, j), 0);
	json_decref(j);
	if (f->pushed == 3) {
		cc_stream_close(f->stream);
		f->stream = NULL;
		return;
	}
	ev_timer_set(w, 0.03, 0.0);
	ev_timer_start(loop, w);
}

static void h_watch(struct cc_request *req, void *arg)
{
	struct fx *f = arg;
	f->stream = cc_stream_open(req, 200, NULL, on_gone, f);
	assert_non_null(f->stream);
	assert_int_equal(cc_reply_json(req, 200, NULL), CC_ESTATE);
	f->pushed = 0;
	ev_timer_set(&f->tick, 0.03, 0.0);
	ev_timer_start(f->loop, &f->tick);
}

/* One line, then silence until the client leaves. */
static void h_hold(struct cc_request *req, void *arg)
{
	struct fx *f = arg;
	struct cc_stream *s = cc_stream_open(req, 0, NULL, on_gone, f);
	assert_non_null(s);
	assert_int_equal(cc_stream_write(s, "{\"hello\":1}\n", 12), 0);
	/* a client too slow to take more than the limit: refused, whole */
	static char big[MAX_STREAM_BUFFER];
	assert_int_equal(cc_stream_write(s, big, sizeof(big)), CC_ETOOBIG);
	assert_int_equal(cc_stream_buffered(s), 12);
	f->held++;
}

struct route_def {
	const char *method, *path;
	cc_handler_fn fn;
};

static const struct route_def routes[] = {
    {"GET", "/v1/echo/", h_echo},           {"POST", "/v1/echo/", h_echo},
    {"PUT", "/v1/echo/", h_echo},           {"DELETE", "/v1/echo/", h_echo},
    {"GET", "/v1/status", h_status},        {"GET", "/v1/nothing", h_nothing},
    {"GET", "/metrics", h_metrics},         {"GET", "/v1/slow", h_slow},
    {"GET", "/v1/forever", h_forever},      {"GET", "/v1/gather", h_gather},
    {"GET", "/v1/watch", h_watch},          {"GET", "/v1/hold", h_hold},
    {"POST", "/v1/status/reset", h_status}, {"POST", "/v1/parse", h_parse},
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->loop = ev_loop_new(EVFLAG_AUTO);
	f->metrics = cc_metrics_new();
	struct cc_server_config cfg = {.max_body = MAX_BODY,
	                               .max_stream_buffer = MAX_STREAM_BUFFER,
	                               .metrics = f->metrics};
	char err[CC_ERRMSG_SIZE];
	int rc = cc_server_new(f->loop, &cfg, &f->srv, err, sizeof(err));
	if (rc)
		fail_msg("cc_server_new: %s", err);
	f->port = cc_server_port(f->srv);
	assert_int_not_equal(f->port, 0);
	snprintf(f->base, sizeof(f->base), "http://127.0.0.1:%u", f->port);
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		assert_int_equal(cc_server_route(f->srv, routes[i].method,
		                                 routes[i].path, routes[i].fn,
		                                 f, err, sizeof(err)),
		                 0);
	ev_timer_init(&f->later, answer_later, 0.0, 0.0);
	f->later.data = f;
	ev_timer_init(&f->tick, push_line, 0.0, 0.0);
	f->tick.data = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	ev_timer_stop(f->loop, &f->later);
	ev_timer_stop(f->loop, &f->tick);
	cc_server_free(f->srv);
	cc_metrics_free(f->metrics);
	ev_loop_destroy(f->loop);
	free(f);
	return 0;
}

/* ---- clients on threads ---- */

struct job {
	struct tl_thread t;
	const char *base;
	/* a client request */
	const char *method, *path, *body, *token;
	/* or raw bytes on a socket */
	uint16_t port;
	const char *raw;
	size_t rawlen;
	bool half_close; /* raw: shut the sending side after the bytes */
	/* streaming: hang up after this many lines (0: never) */
	size_t stop_after;
	atomic_int nlines_seen;

	int rc;
	char err[CC_ERRMSG_SIZE];
	struct cc_response resp;
	char *lines[MAX_LINES];
	size_t nlines;
	char out[16384];
	size_t outlen;
};

static void job_free(struct job *j)
{
	cc_response_clear(&j->resp);
	for (size_t i = 0; i < j->nlines; i++)
		free(j->lines[i]);
}

static void do_request(void *arg)
{
	struct job *j = arg;
	struct cc_client_config cfg = {.token = j->token};
	cc_client *c = cc_client_new(&cfg);
	char url[512];
	snprintf(url, sizeof(url), "%s%s", j->base, j->path);
	j->rc = cc_client_request(c, j->method, url, j->body,
	                          j->body ? strlen(j->body) : 0, &j->resp,
	                          j->err, sizeof(j->err));
	cc_client_free(c);
}

static int on_line(const char *line, size_t len, void *arg)
{
	struct job *j = arg; /* on the client's thread: no cmocka asserts */
	if (strlen(line) != len)
		return 1;
	if (j->nlines < MAX_LINES)
		j->lines[j->nlines++] = strdup(line);
	atomic_fetch_add(&j->nlines_seen, 1);
	tl_thread_poke(&j->t);
	return j->stop_after && j->nlines >= j->stop_after;
}

static bool first_line_seen(void *arg)
{
	return atomic_load(&((struct job *)arg)->nlines_seen) > 0;
}

static void do_stream(void *arg)
{
	struct job *j = arg;
	cc_client *c = cc_client_new(NULL);
	char url[512];
	snprintf(url, sizeof(url), "%s%s", j->base, j->path);
	j->rc = cc_client_stream(c, url, on_line, j, &j->resp, j->err,
	                         sizeof(j->err));
	cc_client_free(c); /* closes the connection: the client has left */
}

/* A blocking socket to the server (reads time out after 10 s); -1 on
 * failure. Safe on any thread. */
static int connect_to(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct timeval tv = {.tv_sec = 10};
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends raw bytes and reads until the server closes the connection. */
static void do_raw(void *arg)
{
	struct job *j = arg;
	int fd = connect_to(j->port);
	if (fd < 0) {
		j->rc = -1;
		return;
	}
	if (j->rawlen &&
	    send(fd, j->raw, j->rawlen, MSG_NOSIGNAL) != (ssize_t)j->rawlen)
		j->rc = -1;
	if (j->half_close)
		shutdown(fd, SHUT_WR);
	ssize_t n;
	while (j->outlen + 1 < sizeof(j->out) &&
	       (n = recv(fd, j->out + j->outlen, sizeof(j->out) - 1 - j->outlen,
	                 0)) > 0)
		j->outlen += (size_t)n;
	j->out[j->outlen] = '\0';
	close(fd);
}

/* Runs job on a thread while the loop serves, until it is done. */
static void run(struct fx *f, struct job *j, void (*fn)(void *))
{
	j->base = f->base;
	j->port = f->port;
	tl_thread_start(&j->t, f->loop, fn, j);
	bool done = tl_run_until(f->loop, tl_thread_done, &j->t, DEADLINE);
	tl_thread_join(&j->t);
	assert_true(done);
}

static void request(struct fx *f, struct job *j, const char *method,
                    const char *path, const char *body)
{
	j->method = method;
	j->path = path;
	j->body = body;
	run(f, j, do_request);
	if (j->rc)
		fail_msg("%s %s: %s", method, path, j->err);
}

static void raw(struct fx *f, struct job *j, const char *bytes, size_t len)
{
	j->raw = bytes;
	j->rawlen = len;
	run(f, j, do_raw);
	assert_int_equal(j->rc, 0);
}

static json_t *body_json(const struct job *j)
{
	char err[CC_ERRMSG_SIZE];
	json_t *b = cc_response_json(&j->resp, err, sizeof(err));
	if (!b)
		fail_msg("%s (body: %s)", err, j->resp.body);
	return b;
}

static void assert_error(const struct job *j, long status, const char *error)
{
	assert_int_equal(j->resp.status, status);
	assert_string_equal(j->resp.content_type, "application/json");
	json_t *b = body_json(j);
	assert_string_equal(json_string_value(json_object_get(b, "error")),
	                    error);
	assert_true(json_is_string(json_object_get(b, "detail")));
	json_decref(b);
}

/* ---- tests ---- */

static void test_get_json(void **state)
{
	struct fx *f = *state;
	struct job j = {0};
	request(f, &j, "GET", "/v1/status", NULL);
	assert_int_equal(j.resp.status, 200);
	assert_string_equal(j.resp.content_type, "application/json");
	assert_string_equal(j.resp.body, "{\"ok\":true}\n");
	job_free(&j);
}

static void test_post_json_round_trip(void **state)
{
	struct fx *f = *state;
	struct job j = {.token = "s3cret"};
	const char *doc =
	    "{\"name\":\"train\",\"tasks\":[1,2,3],\"x\":\"\xc3\xa9\"}";
	request(f, &j, "POST", "/v1/echo/jobs/train", doc);
	assert_int_equal(j.resp.status, 200);
	json_t *b = body_json(&j);
	assert_string_equal(json_string_value(json_object_get(b, "method")),
	                    "POST");
	assert_string_equal(json_string_value(json_object_get(b, "path")),
	                    "/v1/echo/jobs/train");
	assert_string_equal(json_string_value(json_object_get(b, "subpath")),
	                    "/jobs/train");
	assert_string_equal(json_string_value(json_object_get(b, "token")),
	                    "s3cret");
	assert_true(json_is_true(json_object_get(b, "token_ok")));
	assert_int_equal(json_integer_value(json_object_get(b, "len")),
	                 strlen(doc));
	json_t *expect = json_loads(doc, 0, NULL);
	assert_true(json_equal(json_object_get(b, "json"), expect));
	json_decref(expect);
	json_decref(b);
	job_free(&j);

	/* a wrong, longer, shorter or missing token is not the token */
	const char *tokens[] = {"s3creT", "s3cret2", "s3cre", NULL};
	for (size_t i = 0; i < 4; i++) {
		struct job t = {.token = tokens[i]};
		request(f, &t, "GET", "/v1/echo", NULL);
		json_t *e = body_json(&t);
		assert_true(json_is_false(json_object_get(e, "token_ok")));
		json_decref(e);
		job_free(&t);
	}

	/* PUT and DELETE keep their method and body too */
	const char *methods[] = {"PUT", "DELETE"};
	for (size_t i = 0; i < 2; i++) {
		struct job k = {0};
		request(f, &k, methods[i], "/v1/echo", "{\"a\":1}");
		json_t *e = body_json(&k);
		assert_string_equal(
		    json_string_value(json_object_get(e, "method")),
		    methods[i]);
		assert_string_equal(
		    json_string_value(json_object_get(e, "subpath")), "");
		assert_int_equal(json_integer_value(json_object_get(
		                     json_object_get(e, "json"), "a")),
		                 1);
		json_decref(e);
		job_free(&k);
	}
}

static void test_query_decoding(void **state)
{
	struct fx *f = *state;
	struct job j = {0};
	request(f, &j, "GET",
	        "/v1/echo?job=a%20b&machine=%2Fm%2F1&plus=c+d&utf=%C3%A9"
	        "&empty=&flag&pct=100%25",
	        NULL);
	assert_int_equal(j.resp.status, 200);
	json_t *b = body_json(&j);
	json_t *q = json_object_get(b, "query");
	assert_string_equal(json_string_value(json_object_get(q, "job")),
	                    "a b");
	assert_string_equal(json_string_value(json_object_get(q, "machine")),
	                    "/m/1");
	assert_string_equal(json_string_value(json_object_get(q, "plus")),
	                    "c d");
	assert_string_equal(json_string_value(json_object_get(q, "utf")),
	                    "\xc3\xa9");
	assert_string_equal(json_string_value(json_object_get(q, "empty")), "");
	assert_true(json_is_null(json_object_get(q, "flag")));
	assert_string_equal(json_string_value(json_object_get(q, "pct")),
	                    "100%");
	assert_int_equal(json_object_size(q), 7);
	/* the path is decoded too, and the query is not part of it */
	assert_string_equal(json_string_value(json_object_get(b, "path")),
	                    "/v1/echo");
	json_decref(b);
	job_free(&j);

	struct job k = {0};
	request(f, &k, "GET", "/v1/echo/a%2Db", NULL);
	b = body_json(&k);
	assert_string_equal(json_string_value(json_object_get(b, "subpath")),
	                    "/a-b");
	json_decref(b);
	job_free(&k);
}

static void test_not_found(void **state)
{
	struct fx *f = *state;
	const char *paths[] = {"/", "/v2/status", "/v1/statusx",
	                       "/v1/status/more", "/v1/ech"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct job j = {0};
		request(f, &j, "GET", paths[i], NULL);
		assert_error(&j, 404, "not_found");
		job_free(&j);
	}
}

static void test_method_not_allowed(void **state)
{
	struct fx *f = *state;
	struct job j = {0};
	request(f, &j, "DELETE", "/v1/status", NULL);
	assert_error(&j, 405, "method_not_allowed");
	json_t *b = body_json(&j);
	assert_string_equal(json_string_value(json_object_get(b, "detail")),
	                    "DELETE is not allowed on /v1/status; allowed: "
	                    "GET, HEAD");
	json_decref(b);
	job_free(&j);

	/* the Allow header, on the wire */
	struct job r = {0};
	const char *req = "PATCH /v1/echo/x HTTP/1.1\r\nHost: t\r\n"
	                  "Connection: close\r\n\r\n";
	raw(f, &r, req, strlen(req));
	assert_true(strncmp(r.out, "HTTP/1.1 405", 12) == 0);
	assert_non_null(strstr(r.out, "\r\nAllow: GET, HEAD, POST, PUT, "
	                              "DELETE\r\n"));
	job_free(&r);
}

static void test_head_answers_like_get(void **state)
{
	struct fx *f = *state;
	struct job r = {0};
	const char *req =
	    "HEAD /v1/status HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	raw(f, &r, req, strlen(req));
	assert_true(strncmp(r.out, "HTTP/1.1 200", 12) == 0);
	assert_non_null(strstr(r.out, "Content-Length: 12\r\n"));
	assert_true(r.outlen >= 4 &&
	            strcmp(r.out + r.outlen - 4, "\r\n\r\n") == 0);
	job_free(&r);
}

static void test_body_too_large(void **state)
{
	struct fx *f = *state;
	char big[MAX_BODY + 2];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct job j = {0};
	request(f, &j, "POST", "/v1/echo/", big);
	assert_error(&j, 413, "body_too_large");
	job_free(&j);

	/* exactly at the limit is fine */
	big[MAX_BODY] = '\0';
	struct job ok = {0};
	request(f, &ok, "POST", "/v1/echo/", big);
	assert_int_equal(ok.resp.status, 200);
	job_free(&ok);

	/* chunked, with no Content-Length to go by */
	char chunked[4096];
	int n = snprintf(chunked, sizeof(chunked),
	                 "POST /v1/echo/ HTTP/1.1\r\nHost: t\r\n"
	                 "Transfer-Encoding: chunked\r\nConnection: close"
	                 "\r\n\r\n%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n",
	                 600, big + MAX_BODY - 600, 600, big + MAX_BODY - 600);
	struct job c = {0};
	raw(f, &c, chunked, (size_t)n);
	assert_true(strncmp(c.out, "HTTP/1.1 413", 12) == 0);
	assert_non_null(strstr(c.out, "\"error\":\"body_too_large\""));
	job_free(&c);

	/* a client that waits for 100 Continue gets 413 instead, and never
	 * has to send the body */
	const char *expect = "POST /v1/echo/ HTTP/1.1\r\nHost: t\r\n"
	                     "Content-Length: 100000000\r\n"
	                     "Expect: 100-continue\r\n\r\n";
	struct job e = {0};
	raw(f, &e, expect, strlen(expect));
	assert_true(strncmp(e.out, "HTTP/1.1 413", 12) == 0);
	assert_null(strstr(e.out, "100 Continue"));
	job_free(&e);
}

static void test_json_body_errors(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *body, *detail;
	} cases[] = {
	    {"{\"a\":", "body: invalid JSON at line 1, column 5: unexpected "
	                "token near end of file"},
	    {"{\"a\":1,\"a\":2}", "body: invalid JSON at line 1, column 10: "
	                          "duplicate object key near '\"a\"'"},
	    {NULL, "body: expected a JSON document, got an empty body"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct job j = {0};
		request(f, &j, "POST", "/v1/parse", cases[i].body);
		assert_error(&j, 400, "bad_json");
		json_t *b = body_json(&j);
		const char *detail =
		    json_string_value(json_object_get(b, "detail"));
		if (strcmp(detail, cases[i].detail) != 0)
			fail_msg("case %zu: %s", i, detail);
		json_decref(b);
		job_free(&j);
	}
}

static void test_no_answer_is_500(void **state)
{
	struct fx *f = *state;
	struct job j = {0};
	request(f, &j, "GET", "/v1/nothing", NULL);
	assert_error(&j, 500, "internal");
	job_free(&j);
}

static void test_deferred_answer(void **state)
{
	struct fx *f = *state;
	struct job j = {0};
	request(f, &j, "GET", "/v1/slow", NULL);
	assert_int_equal(j.resp.status, 202);
	assert_string_equal(j.resp.body, "{\"deferred\":true}\n");
	assert_null(f->waiting);
	assert_int_equal(f->aborted, 0);
	job_free(&j);

	/* the connection is reusable afterwards: two in a row on one client */
	struct job k = {0};
	request(f, &k, "GET", "/v1/slow", NULL);
	assert_int_equal(k.resp.status, 202);
	job_free(&k);
}

static bool aborted(void *arg)
{
	return ((struct fx *)arg)->aborted > 0;
}

static bool waiting(void *arg)
{
	return ((struct fx *)arg)->waiting != NULL;
}

static void test_deferred_client_leaves(void **state)
{
	struct fx *f = *state;
	const char *req = "GET /v1/forever HTTP/1.1\r\nHost: t\r\n\r\n";
	/* the kernel takes the bytes; the loop then runs the handler, which
	 * defers; the client leaves, which the server must notice while the
	 * request waits */
	int fd = connect_to(f->port);
	assert_true(fd >= 0);
	assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL),
	                 (ssize_t)strlen(req));
	assert_true(tl_run_until(f->loop, waiting, f, DEADLINE));
	close(fd);
	assert_true(tl_run_until(f->loop, aborted, f, DEADLINE));
	assert_int_equal(f->aborted, 1);
	assert_null(f->waiting);
	struct job j = {0}; /* and the server goes on */
	request(f, &j, "GET", "/v1/status", NULL);
	assert_int_equal(j.resp.status, 200);
	job_free(&j);
}

static void test_stream_three_lines(void **state)
{
	struct fx *f = *state;
	struct job j = {.path = "/v1/watch"};
	run(f, &j, do_stream);
	if (j.rc)
		fail_msg("stream: %s", j.err);
	assert_int_equal(j.resp.status, 200);
	assert_string_equal(j.resp.content_type, "application/x-ndjson");
	assert_int_equal(j.nlines, 3);
	assert_string_equal(j.lines[0], "{\"n\":1}");
	assert_string_equal(j.lines[1], "{\"n\":2}");
	assert_string_equal(j.lines[2], "{\"n\":3}");
	assert_int_equal(f->gone, 0);
	job_free(&j);

	/* on the wire: chunked, one chunk per line, and a final empty chunk */
	const char *req =
	    "GET /v1/watch HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
	struct job r = {0};
	raw(f, &r, req, strlen(req));
	assert_true(strncmp(r.out, "HTTP/1.1 200", 12) == 0);
	assert_non_null(strstr(r.out, "\r\nTransfer-Encoding: chunked\r\n"));
	const char *body = strstr(r.out, "\r\n\r\n");
	assert_non_null(body);
	assert_string_equal(body + 4, "8\r\n{\"n\":1}\n\r\n8\r\n{\"n\":2}\n\r\n"
	                              "8\r\n{\"n\":3}\n\r\n0\r\n\r\n");
	job_free(&r);
}

static bool stream_gone(void *arg)
{
	return ((struct fx *)arg)->gone > 0;
}

static void test_stream_client_leaves(void **state)
{
	struct fx *f = *state;
	struct job j = {.path = "/v1/hold", .stop_after = 1};
	run(f, &j, do_stream);
	assert_int_equal(j.rc, 0);
	assert_int_equal(j.nlines, 1);
	assert_string_equal(j.lines[0], "{\"hello\":1}");
	/* the stream sits idle (suspended); the client is gone */
	assert_true(tl_run_until(f->loop, stream_gone, f, DEADLINE));
	assert_int_equal(f->gone, 1);
	assert_int_equal(f->held, 1);
	job_free(&j);
}

static void test_stream_client_leaves_mid_flow(void **state)
{
	struct fx *f = *state;
	/* hang up after the first of three lines, while more are coming */
	struct job j = {.path = "/v1/watch", .stop_after = 1};
	run(f, &j, do_stream);
	assert_int_equal(j.rc, 0);
	assert_int_equal(j.nlines, 1);
	assert_true(tl_run_until(f->loop, stream_gone, f, DEADLINE));
	assert_int_equal(f->gone, 1);
	assert_null(f->stream);
	job_free(&j);
}

static bool time_up(void *arg)
{
	return *(bool *)arg;
}

static void set_flag(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	*(bool *)w->data = true;
}

static bool stream_held(void *arg)
{
	return ((struct fx *)arg)->held == 1;
}

/* With a stream and a deferred request both waiting, the loop sleeps: a
 * handful of iterations in 300 ms, not a spin. */
static void test_idle_means_asleep(void **state)
{
	struct fx *f = *state;
	struct job s = {.path = "/v1/hold"};
	s.base = f->base;
	tl_thread_start(&s.t, f->loop, do_stream, &s);
	assert_true(tl_run_until(f->loop, stream_held, f, DEADLINE));
	int fd = connect_to(f->port);
	const char *req = "GET /v1/forever HTTP/1.1\r\nHost: t\r\n\r\n";
	assert_int_equal(send(fd, req, strlen(req), MSG_NOSIGNAL),
	                 (ssize_t)strlen(req));
	assert_true(tl_run_until(f->loop, waiting, f, DEADLINE));
	/* let the stream's first line go out and the dust settle */
	assert_true(tl_run_until(f->loop, first_line_seen, &s, DEADLINE));

	bool up = false;
	ev_timer t;
	ev_timer_init(&t, set_flag, 0.3, 0.0);
	t.data = &up;
	ev_timer_start(f->loop, &t);
	unsigned before = ev_iteration(f->loop);
	assert_true(tl_run_until(f->loop, time_up, &up, DEADLINE));
	unsigned spins = ev_iteration(f->loop) - before;
	if (spins > 10)
		fail_msg("%u loop iterations while idle", spins);

	close(fd);
	cc_server_free(f->srv); /* ends the stream: the client returns */
	f->srv = NULL;
	assert_true(tl_run_until(f->loop, tl_thread_done, &s.t, DEADLINE));
	tl_thread_join(&s.t);
	job_free(&s);
}

static void test_two_hundred_at_once(void **state)
{
	struct fx *f = *state;
	struct job *jobs = calloc(GATHER, sizeof(*jobs));
	char(*paths)[32] = calloc(GATHER, 32);
	assert_non_null(jobs);
	for (int i = 0; i < GATHER; i++) {
		snprintf(paths[i], 32, "/v1/gather?i=%d", i);
		jobs[i].method = "GET";
		jobs[i].path = paths[i];
		jobs[i].base = f->base;
		tl_thread_start(&jobs[i].t, f->loop, do_request, &jobs[i]);
	}
	for (int i = 0; i < GATHER; i++) {
		assert_true(tl_run_until(f->loop, tl_thread_done, &jobs[i].t,
		                         DEADLINE * 3));
		tl_thread_join(&jobs[i].t);
		if (jobs[i].rc)
			fail_msg("request %d: %s", i, jobs[i].err);
		assert_int_equal(jobs[i].resp.status, 200);
		char expect[32];
		snprintf(expect, sizeof(expect), "{\"i\":\"%d\"}\n", i);
		assert_string_equal(jobs[i].resp.body, expect);
		job_free(&jobs[i]);
	}
	assert_int_equal(f->ngathered, GATHER);
	free(paths);
	free(jobs);
}

/* Each gets its 4xx or 5xx from libmicrohttpd (strict mode), the
 * connection closes, and the server goes on. */
static void test_malformed_http(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *bytes, *status;
	} cases[] = {
	    {"GET /v1/status HTTP/1.1 extra\r\nHost: t\r\n\r\n",
	     "HTTP/1.1 400"},
	    {"GET /v1/status HTTP/1.1\r\nNo colon here\r\n\r\n",
	     "HTTP/1.1 400"},
	    {"GET /v1/status HTTP/1.1\r\n\r\n", "HTTP/1.1 400"}, /* no Host */
	    {"POST /v1/echo/ HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n"
	     "\r\n",
	     "HTTP/1.1 400"},
	    {"POST /v1/echo/ HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
	     "chunked\r\n\r\nzz\r\n",
	     "HTTP/1.1 400"},
	    {"GET /v1/status HTTP/1.1\r\nHost: t\r\n Folded: x\r\n\r\n",
	     "HTTP/1.1 400"},
	    {"GET /v1/status HTTP/9.9\r\nHost: t\r\n\r\n", "HTTP/1.1 505"},
	    /* no target at all: libmicrohttpd hangs up without a word */
	    {"GARBAGE\r\n\r\n", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct job r = {0};
		raw(f, &r, cases[i].bytes, strlen(cases[i].bytes));
		size_t n = strlen(cases[i].status);
		if (strncmp(r.out, cases[i].status, n) != 0 || (!n && r.outlen))
			fail_msg("case %zu: got \"%.40s\"", i, r.out);
		job_free(&r);
	}
	struct job j = {0};
	request(f, &j, "GET", "/v1/status", NULL);
	assert_int_equal(j.resp.status, 200);
	job_free(&j);
}

/* Random bytes, some after a valid request line: whatever the answer, the
 * server survives and still serves. */
static void test_garbage_never_crashes(void **state)
{
	struct fx *f = *state;
	uint64_t seed = tl_seed("test_garbage_never_crashes");
	static const char *const prefixes[] = {
	    "", "GET /v1/status HTTP/1.1\r\n", "POST /v1/echo/ HTTP/1.1\r\n",
	    "GET /v1/watch HTTP/1.1\r\nHost: t\r\n"};
	for (int round = 0; round < 40; round++) {
		char buf[600];
		const char *pre = prefixes[cu_rand_below(&seed, 4)];
		size_t n = strlen(pre);
		memcpy(buf, pre, n);
		size_t extra = cu_rand_below(&seed, 400);
		for (size_t i = 0; i < extra; i++) {
			uint32_t c = cu_rand_below(&seed, 300);
			/* mostly HTTP-ish bytes, some anything */
			buf[n++] = c < 256 ? (char)c : "\r\n: %\t/?="[c % 9];
		}
		buf[n++] = '\r';
		buf[n++] = '\n';
		buf[n++] = '\r';
		buf[n++] = '\n';
		/* the client then stops sending, so an incomplete request
		 * ends instead of waiting for the idle timeout */
		struct job r = {.half_close = true};
		raw(f, &r, buf, n);
		job_free(&r);
	}
	struct job j = {0};
	request(f, &j, "GET", "/v1/status", NULL);
	assert_int_equal(j.resp.status, 200);
	job_free(&j);
}

static void test_requests_counted(void **state)
{
	struct fx *f = *state;
	struct job a = {0}, b = {0}, c = {0}, m = {0};
	request(f, &a, "GET", "/v1/status", NULL);
	request(f, &b, "GET", "/v1/status", NULL);
	request(f, &c, "GET", "/nope", NULL);
	request(f, &m, "GET", "/metrics", NULL);
	assert_string_equal(m.resp.content_type,
	                    "text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(m.resp.body,
	                    "# HELP cell_http_requests_total HTTP requests "
	                    "answered, by status code\n"
	                    "# TYPE cell_http_requests_total counter\n"
	                    "cell_http_requests_total{code=\"200\"} 2\n"
	                    "cell_http_requests_total{code=\"404\"} 1\n");
	job_free(&a);
	job_free(&b);
	job_free(&c);
	job_free(&m);
}

static bool held_twice(void *arg)
{
	struct fx *f = arg;
	return f->held == 1 && f->waiting;
}

/* Freeing the server with a request waiting and a stream open tells both
 * owners, and leaks nothing (the sanitizer build checks). */
static void test_free_with_pending(void **state)
{
	struct fx *f = *state;
	int a = connect_to(f->port), b = connect_to(f->port);
	assert_true(a >= 0 && b >= 0);
	const char *r1 = "GET /v1/forever HTTP/1.1\r\nHost: t\r\n\r\n";
	const char *r2 = "GET /v1/hold HTTP/1.1\r\nHost: t\r\n\r\n";
	send(a, r1, strlen(r1), MSG_NOSIGNAL);
	send(b, r2, strlen(r2), MSG_NOSIGNAL);
	assert_true(tl_run_until(f->loop, held_twice, f, DEADLINE));
	cc_server_free(f->srv);
	f->srv = NULL;
	assert_int_equal(f->aborted, 1);
	assert_int_equal(f->gone, 1);
	/* both connections are closed by the server */
	char buf[4096];
	ssize_t n;
	while ((n = recv(a, buf, sizeof(buf), 0)) > 0)
		;
	assert_int_equal(n, 0);
	while ((n = recv(b, buf, sizeof(buf), 0)) > 0)
		;
	assert_int_equal(n, 0);
	close(a);
	close(b);
}

static void test_start_errors(void **state)
{
	struct fx *f = *state;
	char err[CC_ERRMSG_SIZE];
	cc_server *s = NULL;
	struct cc_server_config bad = {.address = "localhost"};
	assert_int_equal(cc_server_new(f->loop, &bad, &s, err, sizeof(err)),
	                 CC_EINVAL);
	assert_string_equal(err, "listen address \"localhost\": expected an IP "
	                         "address such as 127.0.0.1 or ::1");
	struct cc_server_config taken = {.port = f->port};
	assert_int_equal(cc_server_new(f->loop, &taken, &s, err, sizeof(err)),
	                 CC_EIO);
	char expect[128];
	snprintf(expect, sizeof(expect),
	         "listen on 127.0.0.1:%u: Address already in use", f->port);
	assert_string_equal(err, expect);
	assert_null(s);

	/* IPv6 loopback works too (skipped where the host has none) */
	struct cc_server_config v6 = {.address = "::1"};
	if (cc_server_new(f->loop, &v6, &s, err, sizeof(err)) == 0) {
		assert_int_not_equal(cc_server_port(s), 0);
		cc_server_free(s);
	}
}

static void test_route_errors(void **state)
{
	struct fx *f = *state;
	char err[CC_ERRMSG_SIZE];
	assert_int_equal(cc_server_route(f->srv, "GET", "/v1/status", h_status,
	                                 f, err, sizeof(err)),
	                 CC_EINVAL);
	assert_string_equal(err, "route GET /v1/status: registered twice");
	assert_int_equal(
	    cc_server_route(f->srv, "get", "/x", h_status, f, err, sizeof(err)),
	    CC_EINVAL);
	assert_int_equal(
	    cc_server_route(f->srv, "GET", "x", h_status, f, err, sizeof(err)),
	    CC_EINVAL);
	assert_string_equal(err, "route GET x: expected a method such as GET "
	                         "and a path such as /v1/status or /v1/jobs/");
	assert_int_equal(cc_server_route(f->srv, "GET", "/a?b", h_status, f,
	                                 err, sizeof(err)),
	                 CC_EINVAL);
	/* an exact route beats the prefix it sits under */
	assert_int_equal(cc_server_route(f->srv, "GET", "/v1/echo/exact",
	                                 h_status, f, err, sizeof(err)),
	                 0);
	struct job j = {0};
	request(f, &j, "GET", "/v1/echo/exact", NULL);
	assert_string_equal(j.resp.body, "{\"ok\":true}\n");
	job_free(&j);
}

int main(void)
{
	/* quiet unless asked: CELL_TEST_LOG=debug shows every request */
	int level = cc_log_level_parse(getenv("CELL_TEST_LOG"));
	cc_log_set_level(level >= 0 ? (enum cc_log_level)level : CC_LOG_WARN);
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_get_json),
	    T(test_post_json_round_trip),
	    T(test_query_decoding),
	    T(test_not_found),
	    T(test_method_not_allowed),
	    T(test_head_answers_like_get),
	    T(test_body_too_large),
	    T(test_json_body_errors),
	    T(test_no_answer_is_500),
	    T(test_deferred_answer),
	    T(test_deferred_client_leaves),
	    T(test_stream_three_lines),
	    T(test_stream_client_leaves),
	    T(test_stream_client_leaves_mid_flow),
	    T(test_idle_means_asleep),
	    T(test_two_hundred_at_once),
	    T(test_malformed_http),
	    T(test_garbage_never_crashes),
	    T(test_requests_counted),
	    T(test_free_with_pending),
	    T(test_start_errors),
	    T(test_route_errors),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
