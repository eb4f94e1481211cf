/* sync.c: the blocking flavour (cellclient.h): the asynchronous calls, and
 * the cell's loop run until their answer, so that a command-line tool gets
 * the same resend rule and pauses. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

struct wait {
	bool done;
	int status;
	struct cc_response *out;
	char *errbuf;
	size_t errlen;
};

static void sync_answer(void *arg, int status, struct cc_response *resp,
                        const char *errmsg)
{
	struct wait *w = arg;
	w->done = true;
	w->status = status;
	if (status) {
		cu_errf(w->errbuf, w->errlen, status, "%s", errmsg);
		w->out->url = cu_xstrdup(resp->url);
		return;
	}
	*w->out = *resp; /* taken */
	memset(resp, 0, sizeof(*resp));
}

static int run_until_done(cl_cell *c, struct wait *w, int rc)
{
	if (rc) {
		cu_errf(w->errbuf, w->errlen, rc, "%s", cl_cell_errmsg(c));
		return rc;
	}
	while (!w->done)
		ev_run(c->loop, EVRUN_ONCE);
	return w->status;
}

int cl_sync_request(cl_cell *c, const char *method, const char *path,
                    const char *content_type, const void *body, size_t len,
                    const struct cl_policy *policy, unsigned flags,
                    struct cc_response *out, char *errbuf, size_t errlen)
{
	struct wait w = {.out = out, .errbuf = errbuf, .errlen = errlen};
	memset(out, 0, sizeof(*out));
	int rc = cl_request(c, method, path, content_type, body, len, policy,
	                    flags, sync_answer, &w);
	return run_until_done(c, &w, rc);
}

int cl_sync_request_at(cl_cell *c, const char *base, const char *method,
                       const char *path, const char *content_type,
                       const void *body, size_t len, struct cc_response *out,
                       char *errbuf, size_t errlen)
{
	struct wait w = {.out = out, .errbuf = errbuf, .errlen = errlen};
	memset(out, 0, sizeof(*out));
	int rc = cl_request_at(c, base, method, path, content_type, body, len,
	                       sync_answer, &w);
	return run_until_done(c, &w, rc);
}

void cl_sync_follow(cl_cell *c)
{
	while (!cu_list_empty(&c->watches))
		ev_run(c->loop, EVRUN_ONCE);
}
