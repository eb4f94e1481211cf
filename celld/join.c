/* join.c: joining a running cell from the loop (join.h): POST /v1/members
 * through the asynchronous client, once a second until it is answered
 * 200/201, at most JOIN_ATTEMPTS times. The add is answered only once this
 * member has caught up, which needs this process's loop running: hence a
 * long timeout, and nothing that blocks. */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellcommon.h"
#include "join.h"

#define JOIN_ATTEMPTS   60
#define JOIN_PAUSE_S    1.0
#define JOIN_TIMEOUT_MS 120000

struct join {
	struct ev_loop *loop;
	cc_aclient *client; /* owned */
	ev_timer pause;     /* between attempts */
	char *url, *body;   /* owned */
	int attempts;
};

static void attempt(struct join *j);

static void on_answer(void *arg, int status, struct cc_response *resp,
                      const char *errmsg)
{
	struct join *j = arg;
	if (!status && (resp->status == 200 || resp->status == 201)) {
		CC_INFO("joined the cell through %s", j->url);
		return;
	}
	if (status == CC_ESTATE) /* join_free: nobody to tell */
		return;
	CC_WARN("join through %s: %s", j->url,
	        status ? errmsg : (resp->body ? resp->body : "no answer"));
	if (j->attempts < JOIN_ATTEMPTS)
		ev_timer_start(j->loop, &j->pause);
}

static void on_pause(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	attempt(w->data);
}

static void attempt(struct join *j)
{
	j->attempts++;
	if (cc_aclient_request(j->client, "POST", j->url, "application/json",
	                       j->body, strlen(j->body), on_answer, j))
		CC_WARN("join through %s: %s", j->url,
		        cc_aclient_errmsg(j->client));
}

struct join *join_start(struct ev_loop *loop, const char *url, uint64_t id,
                        const char *raft_address, const char *api_address,
                        const char *token)
{
	struct join *j = cu_xcalloc(1, sizeof(*j));
	struct cc_client_config cc = {.token = token,
	                              .timeout_ms = JOIN_TIMEOUT_MS};
	json_t *body = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)id,
	                         "raft_address", raft_address, "api_address",
	                         api_address, "role", "voter");
	j->loop = loop;
	j->client = cc_aclient_new(loop, &cc);
	j->body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	size_t n = strlen(url) + 16;
	j->url = cu_xmalloc(n);
	snprintf(j->url, n, "%s/v1/members", url);
	ev_timer_init(&j->pause, on_pause, JOIN_PAUSE_S, 0);
	j->pause.data = j;
	attempt(j);
	return j;
}

void join_free(struct join *j)
{
	if (!j)
		return;
	ev_timer_stop(j->loop, &j->pause);
	cc_aclient_free(j->client);
	free(j->url);
	free(j->body);
	free(j);
}
