/* get.c: JSON reads (cellclient.h): a GET under the resend rule, its answer
 * parsed. */
#include "internal.h"

#include <stdlib.h>

struct get {
	cl_json_cb cb;
	void *arg;
};

static void get_answer(void *arg, int status, struct cc_response *resp,
                       const char *errmsg)
{
	struct get g = *(struct get *)arg;
	free(arg);
	if (status) {
		g.cb(g.arg, status, 0, NULL, errmsg);
		return;
	}
	char err[CC_ERRMSG_SIZE] = "";
	json_t *j = cc_response_json(resp, err, sizeof(err));
	g.cb(g.arg, 0, resp->status, j, err);
	json_decref(j);
}

int cl_get_json(cl_cell *c, const char *path, const struct cl_policy *policy,
                cl_json_cb cb, void *arg)
{
	if (!cb)
		return cu_errf(c->errmsg, sizeof(c->errmsg), CC_EINVAL,
		               "GET %s: a read needs a callback",
		               path ? path : "(no path)");
	struct get *g = cu_xmalloc(sizeof(*g));
	*g = (struct get){cb, arg};
	int rc = cl_request(c, "GET", path, NULL, NULL, 0, policy,
	                    CL_IDEMPOTENT, get_answer, g);
	if (rc)
		free(g);
	return rc;
}
