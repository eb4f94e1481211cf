/* http_async.c: an HTTP client that never blocks: libcurl's multi socket
 * interface driven by the caller's libev loop, with the blocking client's
 * redirect policy, limits and error messages (http_internal.h); requests,
 * and streams whose lines are handed out as they come. */
#include "http_internal.h"

#include <stdlib.h>
#include <string.h>

/* Idle requests kept with their easy handles: making a handle costs more
 * than a request on loopback, and a burst is usually followed by another. */
#define POOL_MAX 64

/* One request from cc_aclient_request (or one stream from
 * cc_aclient_stream) until its callback (then pooled). While in c->live its
 * easy handle is in the multi handle, except inside req_finish() between
 * two hops of a redirect, or while a stream that ended hands out its last
 * lines. */
struct areq {
	cc_aclient *c;
	CURL *easy;               /* owned, kept in the pool; PRIVATE: this */
	struct cu_list link;      /* in c->live or c->pool */
	char *mem;                /* owned: method, url and body, one block */
	const char *method, *url; /* in mem; url is the caller's, for errors */
	const char *body;         /* in mem; NULL for none */
	size_t len;
	char *hop_url;              /* owned: where a redirect led; NULL: url */
	unsigned hops;              /* redirects followed */
	struct curl_slist *headers; /* owned */
	struct cc_sink sink;
	cc_aclient_cb cb; /* a stream's on_end */
	void *arg;
	struct cc_astream *stream; /* owned; NULL for a request */
	char curl_err[CURL_ERROR_SIZE];
};

/* What makes a request a stream: a GET whose 2xx body the sink collects
 * (deferred) and deliver() hands to on_line after curl_multi_socket_action
 * returns, never from inside curl, so that on_line may call the client.
 * Lives as long as its request is live. */
struct cc_astream {
	struct areq *r; /* its request; r->stream is this */
	cc_astream_line_fn on_line;
	unsigned idle_ms; /* 0: no idle limit */
	ev_timer idle;    /* data: this; each byte restarts it (idle_ms > 0) */
	struct cu_list ready_link; /* in c->ready: the sink holds whole lines */
};

/* The watcher of one socket curl asked about; curl keeps the pointer
 * (curl_multi_assign) and hands it back until CURL_POLL_REMOVE. */
struct asock {
	ev_io io;            /* io.data: the client */
	struct cu_list link; /* in c->socks */
};

struct cc_aclient {
	struct ev_loop *loop; /* borrowed */
	CURLM *multi;
	struct cc_http_opts o;
	ev_timer timer; /* curl's one timeout (TIMERFUNCTION) */
	/* The client owns every areq (each in live or pool) and every asock
	 * (in socks); a stream belongs to its request, ready borrows it. */
	struct cu_list live;  /* of areq: in flight, the callback yet to run */
	size_t inflight;      /* the requests in live that are not streams */
	struct cu_list ready; /* of cc_astream: lines to hand out */
	struct cc_astream *in_line; /* the one whose on_line runs, or NULL:
	                               it stays live until on_line returns */
	struct cu_list pool;        /* of areq: idle, at most POOL_MAX */
	size_t npool;
	struct cu_list socks; /* of asock: every watcher */
	/* act() frames on the stack; while > 0 a cc_aclient_free from a
	 * callback leaves the memory to the outermost frame */
	unsigned depth;
	bool closing;                /* cc_aclient_free has begun */
	char errmsg[CC_ERRMSG_SIZE]; /* the last failed cc_aclient_request */
};

static void destroy(cc_aclient *c);

/* ---- requests: taken, released, answered ----------------------------- */

static struct areq *req_of(struct cu_list *l)
{
	return l ? cu_container_of(l, struct areq, link) : NULL;
}

static struct areq *req_take(cc_aclient *c)
{
	struct areq *r = req_of(cu_list_first(&c->pool));
	if (r) {
		cu_list_remove(&r->link);
		c->npool--;
	} else {
		r = cu_xcalloc(1, sizeof(*r));
		r->c = c;
		if (!(r->easy = curl_easy_init()))
			cc_die("http async: curl_easy_init failed");
	}
	cu_list_push_front(&c->live, &r->link);
	r->sink = (struct cc_sink){.curl = r->easy, .max = c->o.max_body};
	return r;
}

static void stream_free(struct cc_astream *s)
{
	cc_aclient *c = s->r->c;
	ev_timer_stop(c->loop, &s->idle);
	if (cu_list_linked(&s->ready_link))
		cu_list_remove(&s->ready_link);
	s->r->stream = NULL;
	free(s);
}

/* Out of c->live and its memory back; the easy handle is not in the multi
 * handle any more. */
static void req_release(struct areq *r)
{
	cc_aclient *c = r->c;
	cu_list_remove(&r->link);
	if (r->stream)
		stream_free(r->stream);
	else
		c->inflight--;
	free(r->mem);
	free(r->hop_url);
	curl_slist_free_all(r->headers);
	cu_buf_free(&r->sink.body);
	cu_buf_free(&r->sink.line);
	r->mem = r->hop_url = NULL;
	r->headers = NULL;
	r->hops = 0;
	if (c->npool < POOL_MAX) {
		cu_list_push_front(&c->pool, &r->link);
		c->npool++;
		return;
	}
	curl_easy_cleanup(r->easy);
	free(r);
}

static const char *req_hop_url(const struct areq *r)
{
	return r->hop_url ? r->hop_url : r->url;
}

/* Runs the callback once, with r already released, so that it sees the
 * client as it is without r and may start requests or free the client. */
static void req_answer(struct areq *r, int status, struct cc_response *resp,
                       const char *errmsg)
{
	cc_aclient_cb cb = r->cb;
	void *arg = r->arg;
	req_release(r);
	cb(arg, status, resp, errmsg);
	cc_response_clear(resp);
}

/* The client is closing: r's callback runs now with CC_ESTATE. */
static void req_closed(struct areq *r)
{
	char err[CC_ERRMSG_SIZE];
	struct cc_response resp = {0};
	cu_errf(err, sizeof(err), CC_ESTATE,
	        "%s %s: client closed before the %s", r->method, r->url,
	        r->stream ? "stream ended" : "answer came");
	req_answer(r, CC_ESTATE, &resp, err);
}

static void stream_hop(struct cc_astream *s);

/* Hands the easy handle, set up for the current hop, to the multi handle.
 * curl only fails here on misuse or exhausted memory. */
static void req_start_hop(struct areq *r)
{
	cc_aclient *c = r->c;
	cc_curl_prepare(r->easy, &c->o, r->method, req_hop_url(r), r->body,
	                r->len, r->headers, &r->sink, r->curl_err);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	if (r->stream)
		stream_hop(r->stream);
	CURLMcode mc = curl_multi_add_handle(c->multi, r->easy);
	if (mc != CURLM_OK)
		cc_die("http async: curl_multi_add_handle: %s",
		       curl_multi_strerror(mc));
}

/* A transfer ended (its handle already out of the multi handle): the
 * next hop of a redirect, or the answer. */
static void req_finish(struct areq *r, CURLcode result)
{
	char err[CC_ERRMSG_SIZE] = "";
	struct cc_response resp = {0};
	char *next;
	int rc;
	if (result != CURLE_OK) {
		rc = cc_curl_error(r->easy, result, r->curl_err, &r->sink,
		                   r->method, req_hop_url(r), err, sizeof(err));
	} else {
		rc = cc_curl_next_hop(r->easy, &r->c->o, &r->hops, r->method,
		                      r->url, &next, err, sizeof(err));
		if (rc == 1) {
			free(r->hop_url);
			r->hop_url = next;
			req_start_hop(r);
			return;
		}
		/* a stream's last lines before its end; whether on_line
		 * asks to stop then or not, the stream is over */
		if (rc == 0 && r->stream && !cc_sink_lines(&r->sink, true) &&
		    r->c->closing) {
			req_closed(r);
			return;
		}
		if (rc == 0)
			cc_curl_response(r->easy, &r->sink, req_hop_url(r),
			                 &resp);
	}
	req_answer(r, rc, &resp, err);
}

/* ---- streams: lines handed out, idle limit ---------------------------- */

/* The sink's line function: on_line, with the client told which stream is
 * inside it. Stops the stream when the client closed meanwhile. */
static int stream_line(const char *line, size_t len, void *arg)
{
	struct cc_astream *s = arg;
	cc_aclient *c = s->r->c;
	c->in_line = s;
	int stop = s->on_line(s->r->arg, line, len);
	c->in_line = NULL;
	return stop || c->closing;
}

/* A stream that cc_sink_lines stopped (on_line asked, or the client
 * closed) ends, its handle out of the multi handle. */
static void stream_stopped(struct cc_astream *s)
{
	struct areq *r = s->r;
	struct cc_response resp = {0};
	curl_multi_remove_handle(r->c->multi, r->easy);
	if (r->c->closing) {
		req_closed(r);
		return;
	}
	cc_curl_response(r->easy, &r->sink, req_hop_url(r), &resp);
	req_answer(r, 0, &resp, "");
}

static void idle_restart(struct cc_astream *s)
{
	if (s->idle_ms)
		ev_timer_again(s->r->c->loop, &s->idle);
}

/* curl's write callback for streams: any byte counts against the idle
 * limit; whole lines make the stream ready for deliver(). */
static size_t stream_on_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct cc_astream *s = arg;
	struct areq *r = s->r;
	idle_restart(s);
	size_t n = cc_curl_on_write(data, size, nmemb, &r->sink);
	if (r->sink.complete && !cu_list_linked(&s->ready_link))
		cu_list_push_back(&r->c->ready, &s->ready_link);
	return n;
}

static size_t stream_on_header(char *data, size_t size, size_t nitems,
                               void *arg)
{
	CC_UNUSED(data);
	idle_restart(arg);
	return size * nitems;
}

/* After cc_curl_prepare: the stream's own callbacks, and a fresh idle
 * limit for the hop. */
static void stream_hop(struct cc_astream *s)
{
	CURL *h = s->r->easy;
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, stream_on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, stream_on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, s);
	idle_restart(s);
}

/* Hands out the lines that came during one curl_multi_socket_action,
 * stream by stream in the order they came. */
static void deliver(cc_aclient *c)
{
	struct cu_list *l;
	while (!c->closing && (l = cu_list_first(&c->ready))) {
		struct cc_astream *s =
		    cu_container_of(l, struct cc_astream, ready_link);
		cu_list_remove(l);
		if (!cc_sink_lines(&s->r->sink, false))
			stream_stopped(s);
	}
}

static void on_idle(struct ev_loop *loop, ev_timer *w, int revents)
{
	CC_UNUSED(loop);
	CC_UNUSED(revents);
	struct cc_astream *s = w->data;
	struct areq *r = s->r;
	cc_aclient *c = r->c;
	char err[CC_ERRMSG_SIZE];
	struct cc_response resp = {0};
	c->depth++;
	curl_multi_remove_handle(c->multi, r->easy);
	cu_errf(err, sizeof(err), CC_ETIMEOUT, "%s %s: nothing came for %u ms",
	        r->method, req_hop_url(r), s->idle_ms);
	req_answer(r, CC_ETIMEOUT, &resp, err);
	if (--c->depth == 0 && c->closing)
		destroy(c);
}

/* ---- the libev bridge -------------------------------------------------
 * curl tells which sockets to watch for what (on_socket) and when to call
 * it for timeouts (on_timer_set); the watchers call act(), which runs
 * curl_multi_socket_action and then hands out what ended. Nothing here
 * calls curl_multi_socket_action from inside a curl callback: a timeout of
 * 0 becomes a timer for the next loop iteration. */

/* Collects finished transfers. Stops when the client is closing: then
 * every request has been answered already. */
static void drain(cc_aclient *c)
{
	CURLMsg *m;
	int left;
	while (!c->closing && (m = curl_multi_info_read(c->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct areq *r = NULL;
		CURLcode result = m->data.result;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &r);
		/* m is curl's and goes with the handle */
		curl_multi_remove_handle(c->multi, r->easy);
		req_finish(r, result);
	}
}

static void act(cc_aclient *c, curl_socket_t fd, int flags)
{
	int running;
	c->depth++;
	CURLMcode mc = curl_multi_socket_action(c->multi, fd, flags, &running);
	if (mc != CURLM_OK)
		CC_WARN("http async: curl_multi_socket_action: %s",
		        curl_multi_strerror(mc));
	deliver(c);
	drain(c);
	if (--c->depth == 0 && c->closing)
		destroy(c);
}

static void on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	CC_UNUSED(loop);
	int flags = (revents & EV_READ ? CURL_CSELECT_IN : 0) |
	            (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);
	act(w->data, w->fd, flags);
}

static void on_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
	CC_UNUSED(loop);
	CC_UNUSED(revents);
	act(w->data, CURL_SOCKET_TIMEOUT, 0);
}

static int on_timer_set(CURLM *multi, long timeout_ms, void *arg)
{
	CC_UNUSED(multi);
	cc_aclient *c = arg;
	ev_timer_stop(c->loop, &c->timer);
	if (timeout_ms >= 0) {
		ev_timer_set(&c->timer, (double)timeout_ms / 1000.0, 0.0);
		ev_timer_start(c->loop, &c->timer);
	}
	return 0;
}

static void sock_drop(cc_aclient *c, struct asock *k)
{
	ev_io_stop(c->loop, &k->io);
	cu_list_remove(&k->link);
	free(k);
}

/* curl calls this before it closes a socket (CURL_POLL_REMOVE), so a
 * watcher never outlives its descriptor. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *arg,
                     void *sockp)
{
	CC_UNUSED(easy);
	cc_aclient *c = arg;
	struct asock *k = sockp;
	if (what == CURL_POLL_REMOVE) {
		if (k)
			sock_drop(c, k);
		return 0;
	}
	if (k) {
		ev_io_stop(c->loop, &k->io);
	} else {
		k = cu_xcalloc(1, sizeof(*k));
		cu_list_push_front(&c->socks, &k->link);
		curl_multi_assign(c->multi, fd, k);
	}
	int events = (what & CURL_POLL_IN ? EV_READ : 0) |
	             (what & CURL_POLL_OUT ? EV_WRITE : 0);
	ev_io_init(&k->io, on_io, fd, events);
	k->io.data = c;
	ev_io_start(c->loop, &k->io);
	return 0;
}

/* ---- the client ------------------------------------------------------ */

cc_aclient *cc_aclient_new(struct ev_loop *loop,
                           const struct cc_client_config *cfg)
{
	cc_aclient *c = cu_xcalloc(1, sizeof(*c));
	c->loop = loop;
	cc_http_opts_init(&c->o, cfg); /* initialises libcurl, first */
	if (!(c->multi = curl_multi_init()))
		cc_die("http async: curl_multi_init failed");
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	ev_timer_init(&c->timer, on_timeout, 0.0, 0.0);
	c->timer.data = c;
	cu_list_init(&c->live);
	cu_list_init(&c->ready);
	cu_list_init(&c->pool);
	cu_list_init(&c->socks);
	return c;
}

/* Every request has been answered and no act() is on the stack. */
static void destroy(cc_aclient *c)
{
	ev_timer_stop(c->loop, &c->timer);
	/* curl_multi_cleanup closes the kept connections; rather than rely
	 * on it to report each one first, the watchers go now and curl is
	 * told to call nothing more */
	for (struct cu_list *l; (l = cu_list_first(&c->socks));)
		sock_drop(c, cu_container_of(l, struct asock, link));
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, NULL);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, NULL);
	curl_multi_cleanup(c->multi);
	for (struct areq *r; (r = req_of(cu_list_first(&c->pool)));) {
		cu_list_remove(&r->link);
		curl_easy_cleanup(r->easy);
		free(r);
	}
	cc_http_opts_free(&c->o);
	free(c);
}

void cc_aclient_free(cc_aclient *c)
{
	if (!c || c->closing)
		return;
	c->closing = true;
	/* a stream whose on_line called this is answered once on_line
	 * returns (stream_line, stream_stopped) */
	struct areq *r, *busy = c->in_line ? c->in_line->r : NULL;
	if (busy)
		cu_list_remove(&busy->link);
	while ((r = req_of(cu_list_first(&c->live)))) {
		curl_multi_remove_handle(c->multi, r->easy);
		req_closed(r);
	}
	if (busy)
		cu_list_push_front(&c->live, &busy->link);
	if (c->depth == 0)
		destroy(c);
}

size_t cc_aclient_inflight(const cc_aclient *c)
{
	return c->inflight;
}

const char *cc_aclient_errmsg(const cc_aclient *c)
{
	return c->errmsg;
}

/* ---- starting a request ---------------------------------------------- */

/* An HTTP token (RFC 9110 §5.6.2): what a method may be made of. */
static bool is_token(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || strchr(extra, *s)))
			return false;
	return true;
}

/* Why url is not an http(s) URL with a host, or NULL when it is. curl
 * would say the same, but only later, in the callback. */
static const char *url_problem(const char *url, char *why, size_t n)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	if (!u)
		cc_die("http async: out of memory");
	CURLUcode uc = curl_url_set(u, CURLUPART_URL, url, 0);
	if (!uc)
		uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0);
	if (!uc)
		uc = curl_url_get(u, CURLUPART_HOST, &host, 0);
	if (uc)
		snprintf(why, n, "%s", curl_url_strerror(uc));
	else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		snprintf(why, n, "the scheme is %s", scheme);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return uc || *why ? why : NULL;
}

static int check_request(cc_aclient *c, const char *method, const char *url,
                         const char *content_type, cc_aclient_cb cb)
{
	char why[128] = "";
	if (!method || !url || !cb)
		return cu_errf(c->errmsg, sizeof(c->errmsg), CC_EINVAL,
		               "%s %s: a request needs a method, a URL and a "
		               "callback",
		               method ? method : "(no method)",
		               url ? url : "(no URL)");
	if (!is_token(method))
		return cu_errf(c->errmsg, sizeof(c->errmsg), CC_EINVAL,
		               "\"%s\" %s: not a valid HTTP method", method,
		               url);
	if (url_problem(url, why, sizeof(why)))
		return cu_errf(c->errmsg, sizeof(c->errmsg), CC_EINVAL,
		               "%s %s: not a valid http:// URL (%s)", method,
		               url, why);
	if (content_type && strpbrk(content_type, "\r\n"))
		return cu_errf(c->errmsg, sizeof(c->errmsg), CC_EINVAL,
		               "%s %s: the content type has a line break",
		               method, url);
	if (c->closing)
		return cu_errf(c->errmsg, sizeof(c->errmsg), CC_ESTATE,
		               "%s %s: client closed", method, url);
	return 0;
}

/* Method, URL and body in one allocation: fewer mallocs a request. */
static void req_copy(struct areq *r, const char *method, const char *url,
                     const void *body, size_t len)
{
	size_t m = strlen(method) + 1, u = strlen(url) + 1;
	r->mem = cu_xmalloc(m + u + (body ? len + 1 : 0));
	memcpy(r->mem, method, m);
	memcpy(r->mem + m, url, u);
	r->method = r->mem;
	r->url = r->mem + m;
	r->body = NULL;
	r->len = body ? len : 0;
	if (body) {
		memcpy(r->mem + m + u, body, len);
		r->mem[m + u + len] = '\0';
		r->body = r->mem + m + u;
	}
}

static struct curl_slist *make_headers(const cc_aclient *c,
                                       const char *content_type)
{
	if (!content_type)
		return cc_curl_headers(&c->o, NULL);
	struct cu_buf line = {0};
	cu_buf_addf(&line, "Content-Type: %s", content_type);
	struct curl_slist *h = cc_curl_headers(&c->o, line.p);
	cu_buf_free(&line);
	return h;
}

int cc_aclient_request(cc_aclient *c, const char *method, const char *url,
                       const char *content_type, const void *body, size_t len,
                       cc_aclient_cb cb, void *arg)
{
	int rc = check_request(c, method, url, content_type, cb);
	if (rc)
		return rc;
	struct areq *r = req_take(c);
	req_copy(r, method, url, body, len);
	r->headers = make_headers(c, content_type);
	r->cb = cb;
	r->arg = arg;
	c->inflight++;
	/* curl only schedules a timeout here: the transfer starts, and the
	 * callback runs, from the loop */
	req_start_hop(r);
	return 0;
}

/* ---- starting a stream ----------------------------------------------- */

cc_astream *cc_aclient_stream(cc_aclient *c, const char *url, unsigned idle_ms,
                              cc_astream_line_fn on_line,
                              cc_astream_end_fn on_end, void *arg)
{
	if (check_request(c, "GET", url, NULL, on_end))
		return NULL;
	if (!on_line) {
		cu_errf(c->errmsg, sizeof(c->errmsg), CC_EINVAL,
		        "GET %s: a stream needs a line callback", url);
		return NULL;
	}
	struct areq *r = req_take(c);
	req_copy(r, "GET", url, NULL, 0);
	r->headers = make_headers(c, NULL);
	r->cb = on_end;
	r->arg = arg;
	struct cc_astream *s = cu_xcalloc(1, sizeof(*s));
	s->r = r;
	cu_list_init(&s->ready_link);
	s->on_line = on_line;
	s->idle_ms = idle_ms;
	ev_timer_init(&s->idle, on_idle, 0.0, (double)idle_ms / 1000.0);
	s->idle.data = s;
	r->stream = s;
	r->sink.fn = stream_line;
	r->sink.arg = s;
	r->sink.deferred = true;
	r->sink.max_line = CC_ASTREAM_MAX_LINE;
	req_start_hop(r);
	return s;
}

void cc_astream_cancel(cc_astream *s)
{
	if (!s)
		return;
	struct areq *r = s->r;
	if (r->c->in_line == s)
		cc_die(
		    "http async: cc_astream_cancel(GET %s) from the stream's "
		    "own on_line; return nonzero instead",
		    r->url);
	curl_multi_remove_handle(r->c->multi, r->easy);
	req_release(r);
}
