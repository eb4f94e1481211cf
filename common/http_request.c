/* http_request.c: one request's life: its body, lookups, answers, deferral
 * and the hang-up watch of a waiting connection. */
#include "http_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Past max_body the server keeps reading (and dropping) the body, so the
 * client, still sending, gets a clean 413 instead of a reset; beyond this
 * much more it hangs up instead. */
#define DISCARD_MAX (16u << 20)

/* ---- birth and death ------------------------------------------------- */

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind,
                                     const char *key, const char *value)
{
	CC_UNUSED(kind);
	struct cc_request *r = cls;
	r->query = cu_xrealloc(r->query, (r->nquery + 1) * sizeof(*r->query));
	r->query[r->nquery++] =
	    (struct query_param){cu_xstrdup(key), cu_xstrdup(value)};
	return MHD_YES;
}

struct cc_request *cc_request_new(cc_server *s, struct MHD_Connection *conn,
                                  const char *url, const char *method)
{
	struct cc_request *r = cu_xcalloc(1, sizeof(*r));
	r->srv = s;
	r->conn = conn;
	r->phase = PH_BODY;
	r->started = ev_time();
	r->method = cu_xstrdup(method);
	r->path = cu_xstrdup(url);
	r->subpath = "";
	cu_list_push_front(&s->live, &r->link);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query,
	                          r);
	return r;
}

void cc_request_free(struct cc_request *r)
{
	cc_server *s = r->srv;
	ev_io_stop(s->loop, &r->hangup);
	cu_list_remove(&r->link);
	for (size_t i = 0; i < r->nquery; i++) {
		free(r->query[i].name);
		free(r->query[i].value);
	}
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	if (r->response)
		MHD_destroy_response(r->response);
	cc_stream_release(&r->stream);
	cu_buf_free(&r->body);
	free(r->query);
	free(r->headers);
	free(r->allow);
	free(r->method);
	free(r->path);
	free(r);
}

/* ---- waiting connections --------------------------------------------
 * MHD does not watch a suspended connection, so it would not notice the
 * client leaving until the answer is written. A read watch on the socket
 * does: a waiting HTTP client sends nothing, so readable means it closed
 * (or, rarely, pipelined another request: then the watch steps aside). */

static void tell_owner(struct cc_request *r, enum req_phase was)
{
	if (was == PH_DEFERRED && r->on_abort)
		r->on_abort(r, r->abort_arg);
	else if (was == PH_STREAM && r->stream.on_gone)
		r->stream.on_gone(&r->stream, r->stream.arg);
}

void cc_request_gone(struct cc_request *r)
{
	enum req_phase was = r->phase;
	r->phase = PH_GONE;
	tell_owner(r, was);
	cc_request_resume(r); /* MHD then closes the connection */
}

void cc_request_ended(struct cc_request *r)
{
	if (r->phase == PH_DEFERRED || r->phase == PH_STREAM) {
		enum req_phase was = r->phase;
		r->phase = PH_GONE;
		tell_owner(r, was);
	}
}

static void on_hangup(struct ev_loop *loop, ev_io *w, int revents)
{
	CC_UNUSED(revents);
	struct cc_request *r = w->data;
	char c;
	ssize_t n = recv(w->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n > 0) {
		ev_io_stop(loop, w);
		return;
	}
	CC_DEBUG("http: client left %s %s while it waited", r->method, r->path);
	cc_request_gone(r);
}

void cc_request_suspend(struct cc_request *r)
{
	if (r->suspended)
		return;
	MHD_suspend_connection(r->conn);
	r->suspended = true;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return;
	ev_io_init(&r->hangup, on_hangup, ci->connect_fd, EV_READ);
	r->hangup.data = r;
	ev_io_start(r->srv->loop, &r->hangup);
}

void cc_request_resume(struct cc_request *r)
{
	if (!r->suspended)
		return;
	/* stopped before MHD may close the socket, so libev never watches a
	 * closed (or reused) descriptor */
	ev_io_stop(r->srv->loop, &r->hangup);
	r->suspended = false;
	MHD_resume_connection(r->conn);
	cc_server_kick(r->srv);
}

/* ---- answering ------------------------------------------------------- */

static void count(struct cc_request *r, unsigned status)
{
	cc_server *s = r->srv;
	if (s->requests) {
		char code[16];
		snprintf(code, sizeof(code), "%u", status);
		cc_counter_inc(cc_counter_vec_get1(s->requests, code));
	}
	if (cc_log_enabled(CC_LOG_DEBUG))
		CC_DEBUG("http: %s %s %u %.1fms", r->method, r->path, status,
		         (ev_time() - r->started) * 1000.0);
}

enum MHD_Result cc_request_queue(struct cc_request *r, unsigned status,
                                 struct MHD_Response *resp)
{
	for (size_t i = 0; i < r->nheaders; i++)
		MHD_add_response_header(resp, r->headers[i].name,
		                        r->headers[i].value);
	enum MHD_Result rc = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp); /* MHD holds its own reference */
	if (rc != MHD_YES)
		CC_WARN("http: %s %s: libmicrohttpd refused the %u answer",
		        r->method, r->path, status);
	else
		count(r, status);
	return rc;
}

static enum MHD_Result queue_answer(struct cc_request *r)
{
	struct MHD_Response *resp = r->response;
	r->response = NULL;
	if (r->phase == PH_ANSWERED)
		r->phase = PH_QUEUED;
	return cc_request_queue(r, r->status, resp);
}

static bool can_answer(const struct cc_request *r)
{
	return r->phase == PH_HANDLER || r->phase == PH_DEFERRED;
}

static void check_status(unsigned status)
{
	if (status < 100 || status > 599)
		cc_die("http: %u is not an HTTP status", status);
}

/* Takes resp as the answer; a deferred request's connection wakes up and
 * MHD calls cc_request_ready, which queues it. */
static int answer(struct cc_request *r, unsigned status,
                  struct MHD_Response *resp)
{
	if (!resp)
		cc_die("http: out of memory making a response");
	r->response = resp;
	r->status = status;
	r->phase = PH_ANSWERED;
	cc_request_resume(r);
	return 0;
}

static bool header_ok(const char *s, bool name)
{
	if (name && !*s)
		return false;
	for (; *s; s++)
		if (*s == '\r' || *s == '\n' ||
		    (name && (*s == ':' || *s <= ' ')))
			return false;
	return true;
}

int cc_reply_header(struct cc_request *r, const char *name, const char *value)
{
	if (!can_answer(r))
		return CC_ESTATE;
	if (!header_ok(name, true) || !header_ok(value, false))
		return CC_EINVAL;
	r->headers =
	    cu_xrealloc(r->headers, (r->nheaders + 1) * sizeof(*r->headers));
	r->headers[r->nheaders++] =
	    (struct reply_header){cu_xstrdup(name), cu_xstrdup(value)};
	return 0;
}

int cc_reply_text(struct cc_request *r, unsigned status,
                  const char *content_type, const char *body, size_t len)
{
	check_status(status);
	if (!can_answer(r))
		return CC_ESTATE;
	struct MHD_Response *resp = MHD_create_response_from_buffer(
	    len, len ? (void *)body : (void *)"",
	    len ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
	if (resp && content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		                        content_type);
	return answer(r, status, resp);
}

int cc_reply_metrics(struct cc_request *r, const cc_metrics *m)
{
	size_t len;
	char *text = cc_metrics_render(m, &len);
	int rc = cc_reply_text(r, 200, CC_METRICS_CONTENT_TYPE, text, len);
	free(text);
	return rc;
}

int cc_reply_json(struct cc_request *r, unsigned status, json_t *body)
{
	check_status(status);
	if (!can_answer(r)) {
		json_decref(body);
		return CC_ESTATE;
	}
	struct MHD_Response *resp;
	if (body) {
		/* a final newline: friendlier for curl at a terminal */
		char *text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
		json_decref(body);
		if (!text)
			cc_die("http: cannot encode a JSON answer");
		size_t len = strlen(text);
		text = cu_xrealloc(text, len + 2);
		memcpy(text + len, "\n", 2);
		resp = MHD_create_response_from_buffer_with_free_callback(
		    len + 1, text, free);
	} else {
		resp = MHD_create_response_from_buffer(0, NULL,
		                                       MHD_RESPMEM_PERSISTENT);
	}
	if (resp)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		                        "application/json");
	return answer(r, status, resp);
}

/* A JSON string even from bytes that are not UTF-8 (a detail may quote a
 * client's garbage): such bytes become '?'. */
static json_t *lenient_string(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	char *copy = cu_xstrdup(s);
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

int cc_reply_error(struct cc_request *r, unsigned status, const char *error,
                   const char *detail_fmt, ...)
{
	json_t *body = json_object();
	json_object_set_new(body, "error", lenient_string(error));
	if (detail_fmt) {
		char detail[1024];
		va_list ap;
		va_start(ap, detail_fmt);
		vsnprintf(detail, sizeof(detail), detail_fmt, ap);
		va_end(ap);
		json_object_set_new(body, "detail", lenient_string(detail));
	}
	return cc_reply_json(r, status, body);
}

int cc_request_defer(struct cc_request *r, cc_abort_fn on_abort, void *arg)
{
	if (r->phase != PH_HANDLER)
		return CC_ESTATE;
	r->phase = PH_DEFERRED;
	r->on_abort = on_abort;
	r->abort_arg = arg;
	return 0;
}

bool cc_request_query_u64(struct cc_request *r, const char *name, uint64_t lo,
                          uint64_t hi, uint64_t *out)
{
	const char *v = cc_request_query(r, name);
	if (!v)
		return true;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (!*v || *end || *v == '-' || errno || n < lo || n > hi) {
		cc_reply_error(r, 400, "bad_query",
		               "%s: expected an integer %llu..%llu, got "
		               "\"%.32s\"",
		               name, (unsigned long long)lo,
		               (unsigned long long)hi, v);
		return false;
	}
	*out = n;
	return true;
}

/* ---- the stages of MHD's access callback ----------------------------- */

static bool header_u64(const struct cc_request *r, const char *name,
                       uint64_t *v)
{
	const char *s = cc_request_header(r, name);
	char *end;
	if (!s || !*s)
		return false;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*v = n;
	return true;
}

static bool expects_continue(const struct cc_request *r)
{
	const char *e = cc_request_header(r, "Expect");
	return e && strcasecmp(e, "100-continue") == 0;
}

/* The answers the server gives by itself. The handler's phase is taken
 * for the moment so the usual reply path applies. */
static void answer_early(struct cc_request *r)
{
	r->phase = PH_HANDLER;
	if (r->early == 404) {
		cc_reply_error(r, 404, "not_found", "no such path: %s",
		               r->path);
	} else if (r->early == 405) {
		cc_reply_header(r, "Allow", r->allow);
		cc_reply_error(r, 405, "method_not_allowed",
		               "%s is not allowed on %s; allowed: %s",
		               r->method, r->path, r->allow);
	} else {
		cc_reply_error(r, 413, "body_too_large",
		               "the request body is larger than the limit of "
		               "%zu bytes",
		               r->srv->max_body);
	}
}

enum MHD_Result cc_request_begin(struct cc_request *r)
{
	cc_server *s = r->srv;
	struct cu_buf allow = {0};
	const struct route *route =
	    cc_route_find(s, r->method, r->path, &r->subpath, &allow);
	if (route) {
		r->fn = route->fn;
		r->fn_arg = route->arg;
	} else {
		r->early = allow.len ? 405 : 404;
	}
	r->allow = cu_buf_steal(&allow);
	uint64_t declared = 0;
	bool sized = header_u64(r, "Content-Length", &declared);
	if (sized && declared > s->max_body && !r->early)
		r->early = 413;
	/* Answer before the body when the client waits for "100 Continue"
	 * (it will not send the body at all) or the body is too big to read
	 * and drop; MHD then closes the connection after the answer. */
	bool huge = sized && declared > s->max_body + DISCARD_MAX;
	if (r->early && (expects_continue(r) || huge)) {
		answer_early(r);
		return queue_answer(r);
	}
	return MHD_YES;
}

enum MHD_Result cc_request_upload(struct cc_request *r, const char *data,
                                  size_t len)
{
	cc_server *s = r->srv;
	if (!r->early && r->body.len + len > s->max_body) {
		r->early = 413;
		cu_buf_free(&r->body);
	}
	if (r->early) {
		r->discarded += len;
		if (r->discarded > DISCARD_MAX) {
			CC_DEBUG("http: %s %s: dropped after %llu body bytes",
			         r->method, r->path,
			         (unsigned long long)r->discarded);
			return MHD_NO;
		}
		return MHD_YES;
	}
	cu_buf_add(&r->body, data, len);
	return MHD_YES;
}

static enum MHD_Result after_handler(struct cc_request *r)
{
	switch (r->phase) {
	case PH_HANDLER:
		CC_ERROR("http: the handler of %s %s gave no answer", r->method,
		         r->path);
		cc_reply_error(r, 500, "internal",
		               "the handler gave no answer");
		return queue_answer(r);
	case PH_ANSWERED:
	case PH_STREAM:
	case PH_CLOSED:
		return queue_answer(r);
	case PH_DEFERRED:
		cc_request_suspend(r);
		return MHD_YES;
	default:
		return MHD_NO;
	}
}

enum MHD_Result cc_request_ready(struct cc_request *r)
{
	switch (r->phase) {
	case PH_BODY:
		if (r->early) {
			answer_early(r);
		} else {
			r->phase = PH_HANDLER;
			r->fn(r, r->fn_arg);
		}
		return after_handler(r);
	case PH_ANSWERED: /* a deferred answer arrived */
		return queue_answer(r);
	case PH_DEFERRED: /* woken without an answer: keep waiting */
		cc_request_suspend(r);
		return MHD_YES;
	case PH_GONE:
		return MHD_NO;
	default:
		return MHD_YES;
	}
}

/* ---- what a handler reads -------------------------------------------- */

const char *cc_request_method(const struct cc_request *r)
{
	return r->method;
}

const char *cc_request_path(const struct cc_request *r)
{
	return r->path;
}

const char *cc_request_subpath(const struct cc_request *r)
{
	return r->subpath;
}

const char *cc_request_query(const struct cc_request *r, const char *name)
{
	for (size_t i = 0; i < r->nquery; i++)
		if (strcmp(r->query[i].name, name) == 0)
			return r->query[i].value ? r->query[i].value : "";
	return NULL;
}

const char *cc_request_query_at(const struct cc_request *r, size_t i,
                                const char **value)
{
	if (i >= r->nquery)
		return NULL;
	if (value)
		*value = r->query[i].value;
	return r->query[i].name;
}

const char *cc_request_header(const struct cc_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *cc_request_bearer(const struct cc_request *r)
{
	const char *v = cc_request_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!v || strncasecmp(v, "Bearer ", 7) != 0)
		return NULL;
	v += 7;
	while (*v == ' ')
		v++;
	return *v ? v : NULL;
}

bool cc_request_has_token(const struct cc_request *r, const char *token)
{
	const char *got = cc_request_bearer(r);
	if (!got || !token || !*token)
		return false;
	/* every byte of the expected token is looked at, whatever matches */
	size_t have = strlen(got), want = strlen(token);
	unsigned char diff = have != want;
	for (size_t i = 0; i < want; i++)
		diff |= (unsigned char)(token[i] ^ (i < have ? got[i] : 0));
	return diff == 0;
}

const char *cc_request_body(const struct cc_request *r, size_t *len)
{
	if (len)
		*len = r->body.len;
	return r->body.p ? r->body.p : "";
}

json_t *cc_request_json(const struct cc_request *r, char *errbuf, size_t errlen)
{
	if (r->body.len == 0) {
		cu_errf(errbuf, errlen, CC_EINVAL,
		        "body: expected a JSON document, got an empty body");
		return NULL;
	}
	json_error_t e;
	json_t *j =
	    json_loadb(r->body.p, r->body.len, JSON_REJECT_DUPLICATES, &e);
	if (!j)
		cu_errf(errbuf, errlen, CC_EINVAL,
		        "body: invalid JSON at line %d, column %d: %s", e.line,
		        e.column, e.text);
	return j;
}
