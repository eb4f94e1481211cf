/* http.c: talking to the daemons of local cells (see localcell.h) through
 * cellclient's blocking flavour, on an event loop of the library's own:
 * single requests to any URL, and transactions posted under the resend
 * rule. */
#define _GNU_SOURCE
#include "internal.h"

#include "cellclient.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ev_loop *loop;
/* lc_http's: one attempt at whatever base it is given (cl_request_at does
 * not consult the cell's members, so the first base seen serves as one). */
static cl_cell *any;
static uint64_t serial; /* of transaction ids */

static struct ev_loop *own_loop(void)
{
	if (!loop && !(loop = ev_loop_new(EVFLAG_AUTO)))
		lci_trouble(NULL, "cannot make an event loop");
	return loop;
}

static cl_cell *client_for(const char *base)
{
	if (!any) {
		const struct lc_profile *p = lci_profile();
		struct cl_config cfg = {.urls = &base,
		                        .nurls = 1,
		                        .timeout_ms = p->timeout_ms,
		                        .connect_timeout_ms =
		                            p->connect_timeout_ms};
		any = cl_cell_new(own_loop(), &cfg);
	}
	return any;
}

/* One attempt at url with an optional JSON text body; the status (0: no
 * answer came) with the answer in *resp (the caller clears it). */
static long request(const char *method, const char *url, const char *body,
                    struct cc_response *resp)
{
	char base[128], err[CC_ERRMSG_SIZE];
	const char *p = strstr(url, "://");
	const char *path = p ? strchr(p + 3, '/') : NULL;
	if (!path || (size_t)(path - url) >= sizeof(base))
		lci_trouble(NULL, "%s %s: not a URL with a path", method, url);
	snprintf(base, sizeof(base), "%.*s", (int)(path - url), url);
	int rc =
	    cl_sync_request_at(client_for(base), base, method, path,
	                       body ? "application/json" : NULL, body,
	                       body ? strlen(body) : 0, resp, err, sizeof(err));
	return rc ? 0 : resp->status;
}

long lc_http(const char *method, const char *url, const char *body, char **out)
{
	struct cc_response resp = {0};
	long status = request(method, url, body, &resp);
	if (out)
		*out = cu_xstrdup(status && resp.body ? resp.body : "");
	cc_response_clear(&resp);
	return status;
}

long lc_http_json(const char *method, const char *url, const json_t *body,
                  json_t **out)
{
	char *text =
	    body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	struct cc_response resp = {0};
	long status = body && !text ? 0 : request(method, url, text, &resp);
	free(text);
	if (out)
		*out = status && resp.body
		           ? json_loadb(resp.body, resp.len, 0, NULL)
		           : NULL;
	cc_response_clear(&resp);
	return status;
}

json_t *lc_status(const char *base)
{
	char url[160];
	json_t *j = NULL;
	snprintf(url, sizeof(url), "%s/v1/status", base);
	if (lc_http_json("GET", url, NULL, &j) == 200)
		return j;
	json_decref(j);
	return NULL;
}

/* ---- transactions ---- */

/* Where writes go: the leader lc_find_leader found last. */
static const char *leader_hint(void *arg)
{
	const struct lc_cell *c = arg;
	return c->leader >= 0 ? c->m[c->leader].url : NULL;
}

/* c's conversation: its members in rotation, the leader as the hint. */
static cl_cell *talk(struct lc_cell *c)
{
	if (!c->talk) {
		const char *urls[LC_MEMBERS_MAX];
		for (int i = 0; i < c->n; i++)
			urls[i] = c->m[i].url;
		struct cl_config cfg = {.urls = urls,
		                        .nurls = (unsigned)c->n,
		                        .timeout_ms = lci_profile()->timeout_ms,
		                        .writer_hint = leader_hint,
		                        .hint_arg = c};
		c->talk = cl_cell_new(own_loop(), &cfg);
	}
	return c->talk;
}

struct verdict {
	bool done;
	char why[512]; /* what went wrong, or "" */
};

static void decided(void *arg, int status, const cs_result *res,
                    const char *err)
{
	struct verdict *v = arg;
	v->done = true;
	if (status) {
		snprintf(v->why, sizeof(v->why), "%.300s", err);
	} else if (!res->committed || res->accepted != res->nops) {
		uint32_t i = 0;
		while (i + 1 < res->nops && res->ops[i].reason == CS_R_OK)
			i++;
		snprintf(v->why, sizeof(v->why),
		         "%u of %u ops rejected (op %u: %s: %.200s)",
		         res->nops - res->accepted, res->nops, i,
		         cs_reason_name(res->ops[i].reason),
		         res->ops[i].detail ? res->ops[i].detail : "");
	}
}

void lc_post_txn(struct lc_cell *c, json_t *ops, const char *what)
{
	const char *origin = lci_profile()->origin;
	char id[64];
	snprintf(id, sizeof(id), "%s-%d-%llu", origin, (int)getpid(),
	         (unsigned long long)++serial);
	json_t *txn =
	    json_pack("{s:s,s:s,s:o}", "id", id, "origin", origin, "ops", ops);
	char *body = json_dumps(txn, JSON_COMPACT);
	json_decref(txn);
	struct verdict v = {0};
	/* the id makes a resend (a leader lost in flight) answered once */
	int rc =
	    cl_post_txn_body(talk(c), "application/json", body, strlen(body),
	                     &CL_POLICY_SCHEDULER, decided, &v);
	free(body);
	if (rc)
		lci_trouble(c, "%s: the transaction could not be sent: %s",
		            what, cl_cell_errmsg(c->talk));
	while (!v.done)
		ev_run(loop, EVRUN_ONCE);
	if (v.why[0])
		lci_trouble(c, "%s: the transaction was not accepted whole: %s",
		            what, v.why);
}

void lci_talk_free(struct lc_cell *c)
{
	cl_cell_free(c->talk);
	c->talk = NULL;
}

void lci_http_end(void)
{
	cl_cell_free(any);
	any = NULL;
	if (loop)
		ev_loop_destroy(loop);
	loop = NULL;
}
