/* watch.c: the watch follower (cellclient.h): one stream of /v1/watch at a
 * time, the cursor that makes every change come out once and in order
 * across broken streams and members, and what ends a watch (410, a 4xx,
 * the caller). */
#include "internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* celld sends a progress line every 5 s: a stream silent for three of
 * them died without a word */
#define IDLE_MS 15000

struct cl_watch {
	struct cu_list link; /* in c->watches */
	cl_cell *c;
	struct cl_watch_handlers h;
	char *filter; /* owned; NULL: none */
	unsigned pause_min, pause_max, pause_ms;
	/* the cursor: the next stream starts at `from` and drops the first
	 * `skip` changes of that index; `drop` of them are still to come on
	 * this stream */
	uint64_t from, skip, drop;
	uint64_t from0, skip0; /* the cursor when this stream started */
	uint32_t member;       /* the member streamed from */
	unsigned idle;         /* streams in a row that moved nothing */
	cc_astream *stream;    /* NULL between streams */
	bool opened;           /* this stream was answered 200 */
	bool in_handler;       /* inside one (a cancel must wait) */
	bool cancelled;        /* cancelled from there */
	ev_timer resume;       /* the pause before the next stream */
};

static void stream_start(cl_watch *w);

static void watch_free(cl_watch *w)
{
	ev_timer_stop(w->c->loop, &w->resume);
	cu_list_remove(&w->link);
	free(w->filter);
	free(w);
}

/* ---- lines ---- */

static void opened(cl_watch *w)
{
	if (w->opened)
		return;
	w->opened = true;
	if (w->h.on_open)
		w->h.on_open(w->h.arg, w->c->urls[w->member]);
}

static void progress(cl_watch *w, uint64_t index)
{
	if (index + 1 > w->from) { /* every index up to it arrived */
		w->from = index + 1;
		w->skip = w->drop = 0;
	}
	if (w->h.on_progress)
		w->h.on_progress(w->h.arg, index);
}

/* A change is new unless a resumed stream repeats what was handled. */
static bool is_new(cl_watch *w, uint64_t index)
{
	if (index < w->from)
		return false;
	if (index == w->from && w->drop) {
		w->drop--;
		return false;
	}
	if (index > w->from) {
		w->from = index;
		w->skip = 1;
		w->drop = 0;
	} else {
		w->skip++;
	}
	return true;
}

static int on_line(void *arg, const char *line, size_t len)
{
	cl_watch *w = arg;
	cl_cell *c = w->c;
	char err[CS_ERRMSG_SIZE];
	struct cs_change ch;
	uint64_t index;
	bool prog;
	cli_enter(c);
	w->in_handler = true;
	opened(w);
	if (cs_change_parse(line, len, &index, &ch, &prog, err, sizeof(err))) {
		if (w->h.on_skip)
			w->h.on_skip(w->h.arg, line, len, err);
	} else if (prog) {
		progress(w, index);
	} else if (is_new(w, index)) {
		w->h.on_change(w->h.arg, index, &ch, line, len);
	}
	w->in_handler = false;
	int stop = w->cancelled || c->closing;
	cli_leave(c);
	return stop;
}

/* ---- the end of a stream ---- */

/* The "detail" of an error answer, or "". */
static void detail_of(const struct cc_response *resp, char *out, size_t len)
{
	json_t *j = cc_response_json(resp, NULL, 0);
	const char *d = json_string_value(json_object_get(j, "detail"));
	snprintf(out, len, "%s", d ? d : "");
	json_decref(j);
}

/* 410 and other 4xx end the watch; true when this one did. */
static bool refused(cl_watch *w, int status, const struct cc_response *resp)
{
	char detail[CC_ERRMSG_SIZE];
	long http = resp->status;
	if (status || http < 400 || http >= 500)
		return false;
	detail_of(resp, detail, sizeof(detail));
	struct cl_watch_handlers h = w->h;
	char url[512];
	snprintf(url, sizeof(url), "%s", w->c->urls[w->member]);
	uint64_t from = w->from;
	watch_free(w);
	if (http == 410)
		h.on_gone(h.arg, url, from, detail);
	else
		h.on_refused(h.arg, url, http, detail);
	return true;
}

static void on_resume(struct ev_loop *loop, ev_timer *t, int revents)
{
	cl_watch *w = t->data;
	cl_cell *c = w->c;
	(void)loop;
	(void)revents;
	cli_enter(c);
	stream_start(w);
	cli_leave(c);
}

/* On to the next member: at once, unless a whole round of members moved
 * the cursor nowhere. */
static void resume(cl_watch *w)
{
	cl_cell *c = w->c;
	if (w->idle == 0)
		w->pause_ms = w->pause_min;
	if (w->idle == 0 || w->idle % c->nurls) {
		stream_start(w);
		return;
	}
	if (c->resends)
		cc_counter_inc(c->resends);
	ev_timer_set(&w->resume, w->pause_ms / 1000.0, 0);
	ev_timer_start(c->loop, &w->resume);
	w->pause_ms =
	    w->pause_ms * 2 > w->pause_max ? w->pause_max : w->pause_ms * 2;
}

/* Calls a handler with a cancel from inside it held back; true when the
 * watch goes on. */
#define HANDLER(w, call)                                                       \
	((w)->in_handler = true, (call), (w)->in_handler = false,              \
	 !(w)->cancelled)

/* The stream ended or broke: tell, then the next member. */
static void broke(cl_watch *w, int status, const struct cc_response *resp,
                  const char *errmsg)
{
	cl_cell *c = w->c;
	bool ok = status == 0 && resp->status >= 200 && resp->status < 300;
	if (ok && !HANDLER(w, opened(w))) {
		watch_free(w);
		return;
	}
	bool moved = w->from != w->from0 || w->skip != w->skip0;
	w->idle = moved ? 0 : w->idle + 1;
	uint32_t was = w->member;
	w->member = (w->member + 1) % c->nurls;
	struct cl_watch_break b = {
	    .url = c->urls[was],
	    .next = c->urls[w->member],
	    .code = status,
	    .http = status ? 0 : resp->status,
	    .msg = status ? errmsg : (resp->body ? resp->body : ""),
	    .idle = w->idle,
	    .members = c->nurls};
	bool go_on = true;
	if (w->h.on_break && !HANDLER(w, go_on = w->h.on_break(w->h.arg, &b)))
		go_on = false;
	if (go_on && !c->closing)
		resume(w);
	else
		watch_free(w);
}

static void on_end(void *arg, int status, struct cc_response *resp,
                   const char *errmsg)
{
	cl_watch *w = arg;
	cl_cell *c = w->c;
	c->pending--;
	cli_enter(c);
	w->stream = NULL;
	if (status == CC_ESTATE || w->cancelled)
		watch_free(w); /* the cell is closing, or the caller asked */
	else if (!refused(w, status, resp))
		broke(w, status, resp, errmsg);
	cli_leave(c);
}

/* ---- streams ---- */

static void stream_start(cl_watch *w)
{
	cl_cell *c = w->c;
	struct cu_buf url = {0};
	cu_buf_addf(&url, "%s/v1/watch?from=%" PRIu64, c->urls[w->member],
	            w->from);
	if (w->filter)
		cu_buf_addf(&url, "&%s", w->filter);
	w->drop = w->skip;
	w->from0 = w->from;
	w->skip0 = w->skip;
	w->opened = false;
	w->stream =
	    cc_aclient_stream(c->http, url.p, IDLE_MS, on_line, on_end, w);
	cu_buf_free(&url);
	if (w->stream) {
		c->pending++;
		return;
	}
	/* a member URL curl will not take: as a stream that broke */
	struct cc_response none = {0};
	c->pending++;
	on_end(w, CC_EINVAL, &none, cc_aclient_errmsg(c->http));
}

/* Where the watch starts: where requests go, when that is a member. */
static uint32_t first_member(cl_cell *c)
{
	int i = cli_member(c, cl_cell_url(c));
	return i >= 0 ? (uint32_t)i : c->cur;
}

cl_watch *cl_watch_start(cl_cell *c, uint64_t from, const char *filter,
                         const struct cl_policy *policy,
                         const struct cl_watch_handlers *h)
{
	if (c->closing) {
		cu_errf(c->errmsg, sizeof(c->errmsg), CC_ESTATE,
		        "GET /v1/watch: the cell client was freed");
		return NULL;
	}
	if (!h || !h->on_change || !h->on_gone || !h->on_refused) {
		cu_errf(c->errmsg, sizeof(c->errmsg), CC_EINVAL,
		        "GET /v1/watch: a watch needs on_change, on_gone and "
		        "on_refused");
		return NULL;
	}
	cl_watch *w = cu_xcalloc(1, sizeof(*w));
	const struct cl_policy *p = policy ? policy : &CL_POLICY_AGENT;
	w->c = c;
	w->h = *h;
	w->filter = filter && *filter ? cu_xstrdup(filter) : NULL;
	w->pause_min = w->pause_ms = p->pause_ms;
	w->pause_max =
	    p->pause_max_ms > p->pause_ms ? p->pause_max_ms : p->pause_ms;
	w->from = from;
	w->member = first_member(c);
	ev_timer_init(&w->resume, on_resume, 0, 0);
	w->resume.data = w;
	cu_list_push_back(&c->watches, &w->link);
	/* the first stream from the loop, as every later one: no handler
	 * runs inside this call */
	ev_timer_start(c->loop, &w->resume);
	return w;
}

void cl_watch_cancel(cl_watch *w)
{
	if (!w)
		return;
	if (w->in_handler) { /* freed once the handler returns */
		w->cancelled = true;
		return;
	}
	if (w->stream) {
		cc_astream_cancel(w->stream);
		w->c->pending--;
	}
	cl_cell *c = w->c;
	watch_free(w);
	/* a cancel may be what lets a closing cell go */
	cli_enter(c);
	cli_leave(c);
}

void cl_watch_cursor(const cl_watch *w, uint64_t *from, uint64_t *skip)
{
	*from = w->from;
	*skip = w->skip;
}

void cli_watches_close(cl_cell *c)
{
	struct cu_list *it, *tmp;
	CU_LIST_FOREACH_SAFE (it, tmp, &c->watches) {
		cl_watch *w = cu_container_of(it, cl_watch, link);
		if (w->in_handler) /* freed when its handler returns */
			w->cancelled = true;
		else if (!w->stream)
			watch_free(w); /* else it ends with the HTTP client */
	}
}
