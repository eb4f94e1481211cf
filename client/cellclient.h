/* cellclient.h: how every Cell process talks to the cell. The scheduler
 * daemon, the node agent, cellctl and the benchmarks all go through this one
 * library: the member list and where writes go, one resend rule whose limits
 * each caller sets, the binary transaction post, JSON reads, the watch
 * follower with its resume cursor, and heartbeats. It is asynchronous, on
 * the caller's libev loop (cellcommon's cc_aclient underneath); a blocking
 * flavour for command-line tools runs a private loop around the same code.
 * This header is the whole public API of the library `cellclient` (folder
 * client/).
 *
 * The resend rule. A request goes to the writer when one is known (learned
 * from a redirect, from /v1/status when the cell is configured to locate
 * it, or from the caller's hint), else to the current member of the list.
 * Its outcome is one of:
 *   - an answer that is final: handed to the callback;
 *   - a refused connection (nothing was sent): the next member of the list
 *     is tried at once; when every member refused in this round, the
 *     round ends;
 *   - a 5xx answer or a broken or timed-out exchange: if the request may
 *     be sent twice (CL_IDEMPOTENT: a read, a transaction with an id, a
 *     REST write with ?txn_id=) the writer is forgotten, the next member
 *     becomes current and the round ends; otherwise it is final (a 5xx is
 *     handed to the callback as an answer; a broken exchange as its error:
 *     the change may or may not have happened). A 503 "no_leader" was
 *     refused before anything happened, so it is retried for every request.
 * Within a round the writer (or hint) is tried first, then every member
 * from the current one on, each at most once. A cell that locates the
 * writer does so at the start of a round that needs it; when no member
 * answers /v1/status, the round ends there.
 * Between rounds the request pauses (policy.pause_ms, doubling up to
 * pause_max_ms), and it gives up when policy.max_rounds rounds have run or
 * the deadline would pass during the next pause; then the last answer (a
 * 503) or the last transport error is the outcome. A resent request is the
 * same bytes: for transactions, the same id, which the cell's
 * de-duplication answers with the first verdict. Whatever the policy, an
 * outcome moves the cell on: a writer that failed is forgotten, and a
 * member that failed is no longer the current one.
 *
 * Threads: a cell belongs to the thread that runs its loop; every callback
 * runs there, from the loop, never from inside the call that started it.
 *
 * Errors: codes are cellcommon's CC_E* (CC_ECONNECT, CC_ETIMEOUT, CC_EIO,
 * CC_EPROTO, CC_EINVAL, CC_ESTATE once the cell is being freed); messages
 * name the method, the URL and what happened. Rule, as libuv's: a call
 * that takes a callback and returns an error never runs that callback; one
 * that returns 0 runs it exactly once.
 *
 * Memory: allocation failure aborts the process. */
#ifndef CELL_CELLCLIENT_H
#define CELL_CELLCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cellcommon.h"
#include "cellstate.h"

struct ev_loop;

/* The content type of a binary transaction (cs_txn_encode_bin) body. */
#define CL_TXN_CONTENT_TYPE "application/x-cell-txn"

/* ---- resend policies -------------------------------------------------------
 * Limits a caller sets; zero means "no limit" for max_rounds and deadline_ms.
 * The presets are the ones Cell's own processes use. */
struct cl_policy {
	unsigned max_rounds;   /* rounds before giving up; 0: never */
	unsigned deadline_ms;  /* give up rather than pause past it; 0: none */
	unsigned pause_ms;     /* first pause between rounds */
	unsigned pause_max_ms; /* pauses double up to this (>= pause_ms) */
	/* Give up at the end of a round when no member of the cell has
	 * answered anything yet and none was reached in that round: every
	 * one refused, or (a cell that locates) none answered /v1/status.
	 * Nobody is there: a command-line tool says so instead of waiting. */
	bool give_up_unreachable;
};
/* A node agent never gives up on its cell: forever, every 0.5 s. */
extern const struct cl_policy CL_POLICY_AGENT;
/* A scheduler: about ten seconds (40 rounds, 0.25 s apart), after which
 * its core treats the transaction as failed and cools the job down. */
extern const struct cl_policy CL_POLICY_SCHEDULER;
/* A person at a terminal: up to 15 s and 10 rounds, pauses from 0.1 s
 * doubling to 1 s; an unreachable cell is reported at once. */
extern const struct cl_policy CL_POLICY_INTERACTIVE;
/* One round without a pause: a refused connection still moves on to the
 * next member (nothing was sent); any other outcome is final. */
extern const struct cl_policy CL_POLICY_ONCE;

/* Request flags. */
#define CL_IDEMPOTENT 1u /* may be sent twice (see the resend rule) */

/* ---- the cell
 * --------------------------------------------------------------*/
typedef struct cl_cell cl_cell;

/* Why a request is about to pause before another round: for a caller that
 * tells a person (once) what it is waiting for. resp is the retryable
 * answer (NULL after a transport error, then code and msg say what). */
struct cl_retry {
	const char *url;                /* the base URL last tried */
	const struct cc_response *resp; /* the 5xx answer, or NULL */
	int code;                       /* the transport error, or 0 */
	const char *msg;                /* its message, or "" */
	unsigned round;                 /* the round that just ended, 1.. */
};

struct cl_config {
	/* The members' API base URLs ("http://127.0.0.1:7111", no trailing
	 * slash), copied; at least one. */
	const char *const *urls;
	unsigned nurls;
	const char *token;           /* bearer token, copied; NULL: none */
	unsigned timeout_ms;         /* one exchange; 0: 10000 */
	unsigned connect_timeout_ms; /* 0: 3000 */
	/* Find the writer through GET /v1/status (the member that says it is
	 * trusted, or the leader it names) before the first request and again
	 * after a writer was lost, so that reads too go to the writer
	 * (read-your-writes for a person at a terminal). */
	bool locate;
	/* Where writes go as the caller's own replica knows it (a scheduler's
	 * store), or NULL when it does not know; consulted before each
	 * attempt that has no writer learned otherwise. May be NULL. */
	const char *(*writer_hint)(void *arg);
	void *hint_arg;
	/* Before each pause between rounds, for any request; may be NULL. */
	void (*on_retry)(void *arg, const struct cl_retry *why);
	void *retry_arg;
	/* Counted once for each round that ends in a pause; may be NULL. */
	struct cc_counter *resends;
};

/* A cell on `loop` (borrowed; must outlive the cell). Never NULL. */
cl_cell *cl_cell_new(struct ev_loop *loop, const struct cl_config *cfg);
/* Cancels everything in flight: each pending request's callback runs
 * once, now, with CC_ESTATE; watches end without a handler; then frees.
 * NULL is fine. Safe from inside one of its own callbacks and handlers
 * (the memory goes when that returns). */
void cl_cell_free(cl_cell *c);
/* Adds a member URL to the rotation (cellctl adds the members the cell
 * lists); a URL already there is ignored. */
void cl_cell_add_url(cl_cell *c, const char *url);
/* The base URL the next request would go to (writer, hint or member). */
const char *cl_cell_url(cl_cell *c);
/* The writer's base URL as learned, or NULL. */
const char *cl_cell_writer(const cl_cell *c);
/* Whether any member ever answered (any HTTP status; the answers to
 * cl_request_at do not count). */
bool cl_cell_answered(const cl_cell *c);
/* The members in the order given (the configuration's, then those added),
 * for messages: "URL, URL, ..." (borrowed, valid until the next call). */
const char *cl_cell_urls(cl_cell *c);

/* ---- requests ------------------------------------------------------------
 * status 0: an answer arrived and *resp holds it (any HTTP status; the
 * callee may take resp->body); otherwise a CC_E* code and errmsg, and of
 * resp only url is set: where the last attempt went (base and path, for a
 * message such as "the change may or may not have happened"). resp is
 * never NULL, borrowed for the call. */
typedef void (*cl_answer_cb)(void *arg, int status, struct cc_response *resp,
                             const char *errmsg);
/* Whether the resend rule sends a request with `flags` again after this
 * answer (a 5xx it may resend, or a 503 "no_leader"): such an answer in a
 * callback means the policy's budget ran out. */
bool cl_resendable(const struct cc_response *resp, unsigned flags);

/* Sends method to path ("/v1/jobs?limit=1", starting with "/") on the cell
 * with `body` (len bytes, copied; NULL for none) of content_type (NULL:
 * none), under the resend rule with `policy` (copied) and `flags`. */
int cl_request(cl_cell *c, const char *method, const char *path,
               const char *content_type, const void *body, size_t len,
               const struct cl_policy *policy, unsigned flags, cl_answer_cb cb,
               void *arg);
/* One attempt at base (a member's URL, which need not be in the list):
 * no resend, no writer learned. */
int cl_request_at(cl_cell *c, const char *base, const char *method,
                  const char *path, const char *content_type, const void *body,
                  size_t len, cl_answer_cb cb, void *arg);

/* GETs path (idempotent) and parses a JSON answer: status 0 with the HTTP
 * status in http and the body in j (borrowed for the call; NULL when the
 * answer was not JSON, err then says so), or a CC_E* code with err. */
typedef void (*cl_json_cb)(void *arg, int status, long http, json_t *j,
                           const char *err);
int cl_get_json(cl_cell *c, const char *path, const struct cl_policy *policy,
                cl_json_cb cb, void *arg);

/* Posts txn (taken: encoded now, then freed) to /v1/txn in the binary
 * encoding, idempotent by its id. status 0: res (borrowed for the call)
 * holds the verdicts; CC_EPROTO: the cell refused the transaction itself
 * (4xx: malformed, unauthorised) or answered something that is not a
 * result, err says what; other CC_E* codes as for requests (the budget ran
 * out: CC_EIO with the last 503's detail, or the last transport error).
 * Requires an id on txn (CC_EINVAL otherwise: without one a resend could
 * apply twice). */
typedef void (*cl_txn_cb)(void *arg, int status, const cs_result *res,
                          const char *err);
int cl_post_txn(cl_cell *c, cs_txn *txn, const struct cl_policy *policy,
                cl_txn_cb cb, void *arg);
/* The same for a transaction already encoded (copied): CL_TXN_CONTENT_TYPE
 * bytes or application/json text, whose id the caller vouches for. For a
 * caller that encodes ahead of time (a benchmark) or holds JSON. */
int cl_post_txn_body(cl_cell *c, const char *content_type, const void *body,
                     size_t len, const struct cl_policy *policy, cl_txn_cb cb,
                     void *arg);

/* ---- heartbeats ----------------------------------------------------------
 * One request carries the names of many machines (an agent's, hollow ones
 * included) and schedulers: POST /v1/heartbeat {"machines": [...],
 * "schedulers": [...]}. The body is built once. At most one beat of a
 * struct is in flight: a beat sent while the previous one is unanswered is
 * skipped (cl_beat_send returns CC_ESTATE). */
struct cl_beat;
/* names are copied; either list may be empty, not both. */
struct cl_beat *cl_beat_new(const char *const *machines, size_t nmachines,
                            const char *const *schedulers, size_t nschedulers);
void cl_beat_free(struct cl_beat *b); /* not while one is in flight */
struct cl_beat_answer {
	int64_t ttl_ms;       /* the machine TTL to beat within; 0: none */
	int64_t sched_ttl_ms; /* the scheduler TTL; 0: none */
	/* Names the cell does not know (register them again); borrowed for
	 * the call, arrays of strings, never NULL. */
	const json_t *unknown, *unknown_schedulers;
};
/* status 0 with *a, or a CC_E* code / CC_EPROTO (non-200) with err. One
 * round of CL_POLICY_ONCE (a lost beat is replaced by the next). */
typedef void (*cl_beat_cb)(void *arg, int status,
                           const struct cl_beat_answer *a, const char *err);
int cl_beat_send(cl_cell *c, struct cl_beat *b, cl_beat_cb cb, void *arg);

/* ---- the watch follower ---------------------------------------------------
 * Follows GET /v1/watch?from=INDEX[&FILTER] and hands out every change
 * exactly once and in order, across broken streams and members. The cursor
 * is (index, skip): one index can carry many changes and a stream can break
 * between them, so a resumed stream starts at the index of the last change
 * handled and skips as many of that index's changes as were handled (every
 * member sends them in the same order). A progress line moves the cursor
 * past its index. A broken stream resumes by itself at once through the
 * next member, unless on_break returns false; when a whole round of members
 * in a row moved the cursor nowhere, it pauses first (policy.pause_ms
 * doubling to pause_max_ms; rounds and deadline do not apply: a watch never
 * gives up by itself). It starts at the member cl_cell_url names when that
 * is a member, else at the current one. */
typedef struct cl_watch cl_watch;

/* Why a stream is over and where the watch goes on. */
struct cl_watch_break {
	const char *url;  /* the member whose stream ended */
	const char *next; /* the member it resumes on */
	int code;         /* the transport error (CC_EIO: broken off, ...) */
	long http;        /* else the answer's status: 200 when the member
	                     ended the stream, a 5xx otherwise */
	const char *msg;  /* the error's message, or the answer's body */
	/* Streams in a row, this one included, after which the cursor had
	 * not moved; of how many members. */
	unsigned idle, members;
};

struct cl_watch_handlers {
	/* One change; line (len bytes, NUL-terminated) is its text as the
	 * member sent it. */
	void (*on_change)(void *arg, uint64_t index, const struct cs_change *c,
	                  const char *line, size_t len);
	/* The member at url no longer keeps changes from the cursor (410):
	 * the watch is over; the caller reloads what it keeps and starts a
	 * new watch from the state's index + 1. */
	void (*on_gone)(void *arg, const char *url, uint64_t from,
	                const char *detail);
	/* The member at url refused what no other member will undo (a 4xx
	 * other than 410): the watch is over. detail: the answer's "detail",
	 * or "". */
	void (*on_refused)(void *arg, const char *url, long http,
	                   const char *detail);
	/* Optional: the stream ended or broke; return false to stop (the
	 * watch is over), true to resume. NULL: always resume. */
	bool (*on_break)(void *arg, const struct cl_watch_break *b);
	/* Optional: a progress line (every index up to it has arrived). */
	void (*on_progress)(void *arg, uint64_t index);
	/* Optional: a member answered the stream with 200 (at its first line,
	 * or at its end when it sent none). */
	void (*on_open)(void *arg, const char *url);
	/* Optional: a line that is neither a change nor progress, skipped;
	 * why says what is wrong with it. */
	void (*on_skip)(void *arg, const char *line, size_t len,
	                const char *why);
	void *arg;
};

/* Starts following from index `from` (the first index wanted) with filter
 * (the query after "from=N", e.g. "agent=http%3A%2F%2F..." already escaped,
 * or NULL). Returns the watch (owned by the cell until it is over or
 * cancelled) or NULL with cl_cell_errmsg saying why. */
cl_watch *cl_watch_start(cl_cell *c, uint64_t from, const char *filter,
                         const struct cl_policy *policy,
                         const struct cl_watch_handlers *h);
/* Stops now: no handler runs any more. Not from inside the watch's own
 * on_change (return there and cancel from elsewhere). NULL is fine. */
void cl_watch_cancel(cl_watch *w);
/* The cursor: the next stream starts at index `from`, skipping `skip`
 * changes of it. */
void cl_watch_cursor(const cl_watch *w, uint64_t *from, uint64_t *skip);
/* Why the last call that returned an error or NULL failed ("" if none). */
const char *cl_cell_errmsg(const cl_cell *c);

/* ---- the blocking flavour --------------------------------------------------
 * For a command-line tool: a cell on a loop nobody else runs. Each call
 * starts the asynchronous request and runs that loop until its answer; the
 * resend rule and its pauses are the same code. */

/* cl_request, waited for. Returns 0 with *out (cleared first; the caller
 * clears it) holding any HTTP answer, or a CC_E* code with errbuf (and
 * out->url, as for cl_answer_cb). Not from inside a callback of the loop. */
int cl_sync_request(cl_cell *c, const char *method, const char *path,
                    const char *content_type, const void *body, size_t len,
                    const struct cl_policy *policy, unsigned flags,
                    struct cc_response *out, char *errbuf, size_t errlen);
/* cl_request_at, waited for. */
int cl_sync_request_at(cl_cell *c, const char *base, const char *method,
                       const char *path, const char *content_type,
                       const void *body, size_t len, struct cc_response *out,
                       char *errbuf, size_t errlen);
/* Runs the cell's loop until every watch it follows is over (or the
 * process is interrupted). */
void cl_sync_follow(cl_cell *c);

#endif /* CELL_CELLCLIENT_H */
