/* beat.c: heartbeats (cellclient.h): one body naming many machines and
 * schedulers, built once; one round per beat, at most one beat of a kind in
 * flight. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cl_beat {
	char *body; /* owned: {"machines": [...], "schedulers": [...]} */
	size_t len;
	bool busy; /* a beat is in flight */
	cl_beat_cb cb;
	void *arg;
};

static json_t *names(const char *const *list, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(list[i]));
	return a;
}

struct cl_beat *cl_beat_new(const char *const *machines, size_t nmachines,
                            const char *const *schedulers, size_t nschedulers)
{
	struct cl_beat *b = cu_xcalloc(1, sizeof(*b));
	json_t *j = json_object();
	if (nmachines)
		json_object_set_new(j, "machines", names(machines, nmachines));
	if (nschedulers)
		json_object_set_new(j, "schedulers",
		                    names(schedulers, nschedulers));
	b->body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!b->body)
		abort(); /* jansson is out of memory */
	b->len = strlen(b->body);
	return b;
}

void cl_beat_free(struct cl_beat *b)
{
	if (!b)
		return;
	free(b->body);
	free(b);
}

/* A list the cell named, or an empty one. */
static const json_t *listed(const json_t *j, const char *key,
                            const json_t *none)
{
	const json_t *a = json_object_get(j, key);
	return json_is_array(a) ? a : none;
}

static void beat_answer(void *arg, int status, struct cc_response *resp,
                        const char *errmsg)
{
	struct cl_beat *b = arg;
	b->busy = false;
	if (status) {
		b->cb(b->arg, status, NULL, errmsg);
		return;
	}
	char err[CC_ERRMSG_SIZE + 64] = "";
	json_t *j = resp->status == 200
	                ? cc_response_json(resp, err, sizeof(err))
	                : NULL;
	if (!j) {
		if (!err[0])
			snprintf(err, sizeof(err), "HTTP %ld: %s", resp->status,
			         resp->body ? resp->body : "");
		b->cb(b->arg, CC_EPROTO, NULL, err);
		return;
	}
	json_t *none = json_array();
	struct cl_beat_answer a = {
	    .ttl_ms = json_integer_value(json_object_get(j, "ttl_ms")),
	    .sched_ttl_ms =
	        json_integer_value(json_object_get(j, "sched_ttl_ms")),
	    .unknown = listed(j, "unknown", none),
	    .unknown_schedulers = listed(j, "unknown_schedulers", none)};
	b->cb(b->arg, 0, &a, "");
	json_decref(none);
	json_decref(j);
}

int cl_beat_send(cl_cell *c, struct cl_beat *b, cl_beat_cb cb, void *arg)
{
	if (b->busy)
		return cu_errf(c->errmsg, sizeof(c->errmsg), CC_ESTATE,
		               "POST /v1/heartbeat: the last beat is still in "
		               "flight");
	if (!cb)
		return cu_errf(c->errmsg, sizeof(c->errmsg), CC_EINVAL,
		               "POST /v1/heartbeat: a beat needs a callback");
	b->cb = cb;
	b->arg = arg;
	int rc =
	    cl_request(c, "POST", "/v1/heartbeat", "application/json", b->body,
	               b->len, &CL_POLICY_ONCE, CL_IDEMPOTENT, beat_answer, b);
	b->busy = rc == 0;
	return rc;
}
