/* request.c: the resend engine, the one copy of the resend rule
 * (cellclient.h) in Cell: where each attempt goes, which outcome is final,
 * rounds over the members, pauses and budgets. Every request of the
 * library, transaction posts, reads and heartbeats, is one of these. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cl_policy CL_POLICY_AGENT = {.pause_ms = 500, .pause_max_ms = 500};
const struct cl_policy CL_POLICY_SCHEDULER = {
    .max_rounds = 40, .pause_ms = 250, .pause_max_ms = 250};
const struct cl_policy CL_POLICY_INTERACTIVE = {.max_rounds = 10,
                                                .deadline_ms = 15000,
                                                .pause_ms = 100,
                                                .pause_max_ms = 1000,
                                                .give_up_unreachable = true};
const struct cl_policy CL_POLICY_ONCE = {.max_rounds = 1};

enum req_phase {
	R_WAITING, /* for a pause, a locate, or to answer from the loop */
	R_SENDING, /* an exchange is with the HTTP client */
	R_BUSY     /* its outcome is being handled (which finishes it if the
	              cell is freed meanwhile, from on_retry) */
};

struct cl_req {
	struct cu_list link; /* in c->reqs */
	struct cu_list wait; /* in c->locate_wait while waiting for it */
	cl_cell *c;
	char *mem; /* owned: method, path, content type, body, one block */
	const char *method, *path, *ctype;
	const void *body;
	size_t len;
	struct cl_policy pol;
	unsigned flags;
	char *at; /* owned: cl_request_at's base, else NULL */
	cl_answer_cb cb;
	void *arg;
	enum req_phase phase;
	bool launching;  /* inside the call that started it */
	int late;        /* an outcome found then, told from the loop */
	ev_timer timer;  /* the pause, or answering from the loop */
	double deadline; /* ev_now() by which to be done; 0: none */
	unsigned round, pause_ms;
	/* this round: what was tried, and whether anything but refusals */
	char *tried_writer, *tried_hint; /* owned copies, or NULL */
	uint32_t start, members_tried;
	bool reached;
	char base[512]; /* the attempt in flight, or the last one */
	/* the last outcome, the one given when the budget runs out */
	int code;
	char msg[CC_ERRMSG_SIZE];
	struct cc_response last; /* owned; last.status 0: none */
};

static void attempt(struct cl_req *r);
static void round_start(struct cl_req *r);

bool cl_resendable(const struct cc_response *resp, unsigned flags)
{
	if (resp->status < 500)
		return false;
	if (flags & CL_IDEMPOTENT)
		return true;
	/* refused before anything happened */
	json_t *j =
	    resp->status == 503 ? cc_response_json(resp, NULL, 0) : NULL;
	const char *e = json_string_value(json_object_get(j, "error"));
	bool no_leader = e && !strcmp(e, "no_leader");
	json_decref(j);
	return no_leader;
}

/* ---- the end of a request ---- */

static void req_free(struct cl_req *r)
{
	ev_timer_stop(r->c->loop, &r->timer);
	cu_list_remove(&r->link);
	if (cu_list_linked(&r->wait))
		cu_list_remove(&r->wait);
	cc_response_clear(&r->last);
	free(r->tried_writer);
	free(r->tried_hint);
	free(r->at);
	free(r->mem);
	free(r);
}

/* Runs the callback once with resp (borrowed) or the error; r is gone
 * when it runs. */
static void finish(struct cl_req *r, int status, struct cc_response *resp,
                   const char *msg)
{
	if (r->launching) { /* only failures are found so early */
		r->late = status;
		snprintf(r->msg, sizeof(r->msg), "%s", msg);
		r->phase = R_WAITING;
		ev_timer_stop(r->c->loop, &r->timer);
		ev_timer_set(&r->timer, 0, 0);
		ev_timer_start(r->c->loop, &r->timer);
		return;
	}
	cl_answer_cb cb = r->cb;
	void *arg = r->arg;
	struct cc_response none = {0};
	char url[sizeof(r->base) + 1024];
	if (!resp) {
		snprintf(url, sizeof(url), "%s%s", r->base, r->path);
		none.url = url;
		resp = &none;
	}
	char *copy = status ? cu_xstrdup(msg) : NULL;
	req_free(r);
	cb(arg, status, resp, status ? copy : "");
	free(copy);
}

/* The budget ran out: the last answer or the last failure. */
static void give_up(struct cl_req *r)
{
	if (r->last.status) {
		struct cc_response last = r->last;
		memset(&r->last, 0, sizeof(r->last));
		finish(r, 0, &last, "");
		cc_response_clear(&last);
		return;
	}
	finish(r, r->code, NULL, r->msg);
}

void cli_requests_close(cl_cell *c)
{
	struct cu_list *it, *tmp;
	CU_LIST_FOREACH_SAFE (it, tmp, &c->reqs) {
		struct cl_req *r = cu_container_of(it, struct cl_req, link);
		if (r->phase == R_WAITING)
			finish(r, CC_ESTATE, NULL, "the cell client was freed");
	}
}

/* ---- rounds and pauses ---- */

static void on_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct cl_req *r = t->data;
	cl_cell *c = r->c;
	(void)loop;
	(void)revents;
	cli_enter(c);
	r->phase = R_BUSY;
	if (r->late)
		finish(r, r->late, NULL, r->msg);
	else
		round_start(r);
	cli_leave(c);
}

static bool out_of_budget(const struct cl_req *r)
{
	const cl_cell *c = r->c;
	if (r->at)
		return true;
	if (r->pol.give_up_unreachable && !c->answered && !r->reached)
		return true;
	if (r->pol.max_rounds && r->round >= r->pol.max_rounds)
		return true;
	return r->deadline &&
	       ev_now(c->loop) + r->pause_ms / 1000.0 > r->deadline;
}

static void tell_retry(struct cl_req *r)
{
	cl_cell *c = r->c;
	struct cl_retry why = {.url = r->base,
	                       .resp = r->last.status ? &r->last : NULL,
	                       .code = r->last.status ? 0 : r->code,
	                       .msg = r->last.status ? "" : r->msg,
	                       .round = r->round};
	if (c->resends)
		cc_counter_inc(c->resends);
	if (c->on_retry)
		c->on_retry(c->retry_arg, &why);
}

/* The round is over without a final outcome: pause, or give up. */
static void round_end(struct cl_req *r)
{
	cl_cell *c = r->c;
	if (c->locate)
		c->need_locate = true; /* the writer moved: look again */
	if (out_of_budget(r)) {
		give_up(r);
		return;
	}
	tell_retry(r);
	if (c->closing) { /* on_retry freed the cell */
		finish(r, CC_ESTATE, NULL, "the cell client was freed");
		return;
	}
	r->phase = R_WAITING;
	ev_timer_set(&r->timer, r->pause_ms / 1000.0, 0);
	ev_timer_start(c->loop, &r->timer);
	r->pause_ms = r->pause_ms * 2 > r->pol.pause_max_ms
	                  ? r->pol.pause_max_ms
	                  : r->pause_ms * 2;
}

static void round_start(struct cl_req *r)
{
	cl_cell *c = r->c;
	r->round++;
	free(r->tried_writer);
	free(r->tried_hint);
	r->tried_writer = r->tried_hint = NULL;
	r->start = c->cur;
	r->members_tried = 0;
	r->reached = false;
	if (c->need_locate && !r->at) {
		r->phase = R_WAITING;
		cu_list_push_back(&c->locate_wait, &r->wait);
		cli_locate(c);
		return;
	}
	attempt(r);
}

void cli_located(cl_cell *c, bool answered, int code, const char *msg,
                 const char *last_base)
{
	struct cu_list *it, *tmp;
	CU_LIST_FOREACH_SAFE (it, tmp, &c->locate_wait) {
		struct cl_req *r = cu_container_of(it, struct cl_req, wait);
		cu_list_remove(&r->wait);
		r->phase = R_BUSY;
		if (answered) {
			r->start = c->cur; /* the member that answered */
			attempt(r);
			continue;
		}
		/* nobody answered /v1/status: the request would fare no
		 * better, and the round ends here without reaching anyone */
		r->reached = false;
		r->code = code;
		snprintf(r->msg, sizeof(r->msg), "%s", msg);
		snprintf(r->base, sizeof(r->base), "%s", last_base);
		cc_response_clear(&r->last);
		round_end(r);
	}
}

/* ---- where an attempt goes ---- */

static bool same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* The writer, the hint, then the members from the current one, each at
 * most once a round; NULL when the round has tried them all. */
static const char *next_base(struct cl_req *r)
{
	cl_cell *c = r->c;
	if (r->at)
		return r->members_tried++ ? NULL : r->at;
	if (!r->tried_writer && c->writer) {
		r->tried_writer = cu_xstrdup(c->writer);
		return r->tried_writer;
	}
	const char *h = cli_hint(c);
	if (!r->tried_hint && h && !same(h, r->tried_writer)) {
		r->tried_hint = cu_xstrdup(h);
		return r->tried_hint;
	}
	while (r->members_tried < c->nurls) {
		const char *m =
		    c->urls[(r->start + r->members_tried++) % c->nurls];
		if (!same(m, r->tried_writer) && !same(m, r->tried_hint))
			return m;
	}
	return NULL;
}

/* ---- outcomes ---- */

static void keep_failure(struct cl_req *r, int code, const char *msg)
{
	r->code = code;
	snprintf(r->msg, sizeof(r->msg), "%s", msg);
	cc_response_clear(&r->last);
}

static void on_answer(struct cl_req *r, struct cc_response *resp)
{
	cl_cell *c = r->c;
	if (!r->at)
		c->answered = true;
	r->reached = true;
	if (!r->at && cl_resendable(resp, r->flags)) {
		cc_response_clear(&r->last);
		r->last = *resp; /* taken */
		memset(resp, 0, sizeof(*resp));
		cli_moved_on(c, r->base);
		round_end(r);
		return;
	}
	if (!r->at)
		cli_learn(c, r->base, resp->url);
	finish(r, 0, resp, "");
}

/* A transport failure. Refused: nothing was sent, the next member at
 * once. Ambiguous (timed out, broken off): the request may have arrived,
 * so only one that may be sent twice goes on, in the next round. */
static void on_failure(struct cl_req *r, int status, const char *msg)
{
	bool refused = status == CC_ECONNECT;
	bool ambiguous =
	    status == CC_ETIMEOUT || status == CC_EIO || status == CC_EPROTO;
	if (!r->at && (refused || ambiguous))
		cli_moved_on(r->c, r->base);
	if (r->at || status == CC_ESTATE ||
	    (!refused && !(ambiguous && (r->flags & CL_IDEMPOTENT)))) {
		finish(r, status, NULL, msg);
		return;
	}
	keep_failure(r, status, msg);
	if (refused) {
		attempt(r);
		return;
	}
	r->reached = true;
	round_end(r);
}

static void on_http(void *arg, int status, struct cc_response *resp,
                    const char *errmsg)
{
	struct cl_req *r = arg;
	cl_cell *c = r->c;
	c->pending--;
	cli_enter(c);
	r->phase = R_BUSY;
	if (status == 0)
		on_answer(r, resp);
	else
		on_failure(r, status, errmsg);
	cli_leave(c);
}

static void attempt(struct cl_req *r)
{
	cl_cell *c = r->c;
	const char *base = next_base(r);
	if (!base) { /* every member refused this round */
		round_end(r);
		return;
	}
	snprintf(r->base, sizeof(r->base), "%s", base);
	struct cu_buf url = {0};
	cu_buf_addf(&url, "%s%s", r->base, r->path);
	int rc = cc_aclient_request(c->http, r->method, url.p, r->ctype,
	                            r->body, r->len, on_http, r);
	cu_buf_free(&url);
	if (rc == 0) {
		r->phase = R_SENDING;
		c->pending++;
		return;
	}
	/* a member URL curl will not take: final, as its refusals are */
	finish(r, rc, NULL, cc_aclient_errmsg(c->http));
}

/* ---- starting ---- */

static struct cl_req *req_new(cl_cell *c, const char *method, const char *path,
                              const char *content_type, const void *body,
                              size_t len)
{
	size_t m = strlen(method) + 1, p = strlen(path) + 1;
	size_t t = content_type ? strlen(content_type) + 1 : 0;
	struct cl_req *r = cu_xcalloc(1, sizeof(*r));
	r->c = c;
	r->mem = cu_xmalloc(m + p + t + (body ? len : 0));
	memcpy(r->mem, method, m);
	memcpy(r->mem + m, path, p);
	r->method = r->mem;
	r->path = r->mem + m;
	if (content_type) {
		memcpy(r->mem + m + p, content_type, t);
		r->ctype = r->mem + m + p;
	}
	if (body) {
		memcpy(r->mem + m + p + t, body, len);
		r->body = r->mem + m + p + t;
		r->len = len;
	}
	cu_list_init(&r->wait);
	ev_timer_init(&r->timer, on_timer, 0, 0);
	r->timer.data = r;
	cu_list_push_back(&c->reqs, &r->link);
	return r;
}

static int check(cl_cell *c, const char *method, const char *path,
                 cl_answer_cb cb)
{
	if (c->closing)
		return cu_errf(c->errmsg, sizeof(c->errmsg), CC_ESTATE,
		               "%s %s: the cell client was freed",
		               method ? method : "?", path ? path : "?");
	if (!method || !path || path[0] != '/' || !cb)
		return cu_errf(c->errmsg, sizeof(c->errmsg), CC_EINVAL,
		               "%s %s: a request needs a method, a path "
		               "starting with / and a callback",
		               method ? method : "(no method)",
		               path ? path : "(no path)");
	return 0;
}

/* The first attempt starts now: its failure to start is told from the
 * loop, as every outcome is. */
static void launch(struct cl_req *r)
{
	cl_cell *c = r->c;
	r->pause_ms = r->pol.pause_ms;
	if (r->pol.deadline_ms) {
		ev_now_update(c->loop); /* a blocking caller's may be old */
		r->deadline = ev_now(c->loop) + r->pol.deadline_ms / 1000.0;
	}
	cli_enter(c); /* what the start wakes may free the cell */
	r->launching = true;
	round_start(r);
	r->launching = false;
	cli_leave(c);
}

int cl_request(cl_cell *c, const char *method, const char *path,
               const char *content_type, const void *body, size_t len,
               const struct cl_policy *policy, unsigned flags, cl_answer_cb cb,
               void *arg)
{
	int rc = check(c, method, path, cb);
	if (rc)
		return rc;
	struct cl_req *r = req_new(c, method, path, content_type, body, len);
	r->pol = policy ? *policy : CL_POLICY_ONCE;
	if (r->pol.pause_max_ms < r->pol.pause_ms)
		r->pol.pause_max_ms = r->pol.pause_ms;
	r->flags = flags;
	r->cb = cb;
	r->arg = arg;
	launch(r);
	return 0;
}

int cl_request_at(cl_cell *c, const char *base, const char *method,
                  const char *path, const char *content_type, const void *body,
                  size_t len, cl_answer_cb cb, void *arg)
{
	int rc = check(c, method, path, cb);
	if (rc)
		return rc;
	if (!base || !*base)
		return cu_errf(c->errmsg, sizeof(c->errmsg), CC_EINVAL,
		               "%s %s: no base URL to send it to", method,
		               path);
	struct cl_req *r = req_new(c, method, path, content_type, body, len);
	r->pol = CL_POLICY_ONCE;
	r->at = cu_xstrdup(base);
	r->cb = cb;
	r->arg = arg;
	launch(r);
	return 0;
}
