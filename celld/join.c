/* join.c: joining a running cell from the loop (join.h): POST /v1/members
 * through cellclient, whose resend rule asks again a second later, up to
 * JOIN_ROUNDS rounds, while the member is unreachable, the cell has no
 * writer or an exchange broke. The add is answered only once this member
 * has caught up, which needs this process's loop running: hence a long
 * timeout, and nothing that blocks. */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellclient.h"
#include "join.h"

#define JOIN_ROUNDS     60
#define JOIN_PAUSE_MS   1000
#define JOIN_TIMEOUT_MS 120000

/* Resending an add is safe: if the first one happened, the cell refuses
 * the second (the id is taken) and nothing changes. */
static const struct cl_policy join_policy = {.max_rounds = JOIN_ROUNDS,
                                             .pause_ms = JOIN_PAUSE_MS,
                                             .pause_max_ms = JOIN_PAUSE_MS};

struct join {
	struct ev_loop *loop;
	cl_cell *cell;  /* owned */
	ev_timer pause; /* before asking again when the membership was busy */
	char *body;     /* owned */
	char url[512];  /* the member joined through, for messages */
	unsigned busy;  /* answers 409 so far */
};

static void ask(struct join *j);

static void on_retry(void *arg, const struct cl_retry *why)
{
	struct join *j = arg;
	CC_WARN("join through %s: %s", j->url,
	        why->resp && why->resp->body ? why->resp->body : why->msg);
}

/* A membership busy with another change (409) is the cell's state, not
 * the request's: asked again a second later, as the resend rule would. */
static void on_answer(void *arg, int status, struct cc_response *resp,
                      const char *errmsg)
{
	struct join *j = arg;
	if (status == CC_ESTATE) /* join_free: nobody to tell */
		return;
	if (!status && (resp->status == 200 || resp->status == 201)) {
		CC_INFO("joined the cell through %s", j->url);
		return;
	}
	CC_WARN("join through %s: %s", j->url,
	        status ? errmsg : (resp->body ? resp->body : "no answer"));
	if (!status && resp->status == 409 && ++j->busy < JOIN_ROUNDS)
		ev_timer_start(j->loop, &j->pause);
}

static void on_pause(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	ask(w->data);
}

static void ask(struct join *j)
{
	if (cl_request(j->cell, "POST", "/v1/members", "application/json",
	               j->body, strlen(j->body), &join_policy, CL_IDEMPOTENT,
	               on_answer, j))
		CC_WARN("join through %s: %s", j->url, cl_cell_errmsg(j->cell));
}

struct join *join_start(struct ev_loop *loop, const char *url, uint64_t id,
                        const char *raft_address, const char *api_address,
                        const char *token)
{
	struct join *j = cu_xcalloc(1, sizeof(*j));
	const char *urls[] = {url};
	struct cl_config cc = {.urls = urls,
	                       .nurls = 1,
	                       .token = token,
	                       .timeout_ms = JOIN_TIMEOUT_MS,
	                       .on_retry = on_retry,
	                       .retry_arg = j};
	json_t *body = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)id,
	                         "raft_address", raft_address, "api_address",
	                         api_address, "role", "voter");
	j->loop = loop;
	j->cell = cl_cell_new(loop, &cc);
	j->body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	snprintf(j->url, sizeof(j->url), "%s/v1/members", url);
	ev_timer_init(&j->pause, on_pause, JOIN_PAUSE_MS / 1000.0, 0);
	j->pause.data = j;
	ask(j);
	return j;
}

void join_free(struct join *j)
{
	if (!j)
		return;
	ev_timer_stop(j->loop, &j->pause);
	cl_cell_free(j->cell);
	free(j->body);
	free(j);
}
