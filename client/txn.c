/* txn.c: posting a transaction (cellclient.h): encoded once, sent under the
 * resend rule as the same bytes (its id makes a resend answered with the
 * first verdict), the answer decoded into verdicts. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

struct post {
	cl_txn_cb cb;
	void *arg;
};

/* An answer that is not a result: what the cell said, for a message. */
static void refused(struct post *p, int code, const struct cc_response *resp,
                    const char *why)
{
	char err[CC_ERRMSG_SIZE + 64];
	snprintf(err, sizeof(err), "HTTP %ld: %s", resp->status,
	         why[0] ? why : (resp->body ? resp->body : ""));
	p->cb(p->arg, code, NULL, err);
}

static void post_answer(void *arg, int status, struct cc_response *resp,
                        const char *errmsg)
{
	struct post p = *(struct post *)arg;
	free(arg);
	if (status) {
		p.cb(p.arg, status, NULL, errmsg);
		return;
	}
	if (resp->status >= 500) { /* resent until the budget ran out */
		refused(&p, CC_EIO, resp, "");
		return;
	}
	char err[CS_ERRMSG_SIZE] = "";
	cs_result res;
	if (resp->status != 200 ||
	    cli_result_read(resp, &res, err, sizeof(err))) {
		refused(&p, CC_EPROTO, resp, err);
		return;
	}
	p.cb(p.arg, 0, &res, "");
	cs_result_clear(&res);
}

int cl_post_txn_body(cl_cell *c, const char *content_type, const void *body,
                     size_t len, const struct cl_policy *policy, cl_txn_cb cb,
                     void *arg)
{
	if (!cb)
		return cu_errf(c->errmsg, sizeof(c->errmsg), CC_EINVAL,
		               "POST /v1/txn: a transaction needs a callback");
	struct post *p = cu_xmalloc(sizeof(*p));
	*p = (struct post){cb, arg};
	int rc = cl_request(c, "POST", "/v1/txn", content_type, body, len,
	                    policy, CL_IDEMPOTENT, post_answer, p);
	if (rc)
		free(p);
	return rc;
}

int cl_post_txn(cl_cell *c, cs_txn *txn, const struct cl_policy *policy,
                cl_txn_cb cb, void *arg)
{
	if (!txn || !txn->id || !txn->id[0]) {
		cs_txn_free(txn);
		return cu_errf(c->errmsg, sizeof(c->errmsg), CC_EINVAL,
		               "POST /v1/txn: the transaction has no id, so a "
		               "resend could apply it twice");
	}
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = cs_txn_encode_bin(txn, &buf, &len, &cap);
	cs_txn_free(txn);
	if (rc) {
		free(buf);
		return cu_errf(c->errmsg, sizeof(c->errmsg), CC_EINVAL,
		               "POST /v1/txn: the transaction cannot be "
		               "encoded");
	}
	rc =
	    cl_post_txn_body(c, CL_TXN_CONTENT_TYPE, buf, len, policy, cb, arg);
	free(buf);
	return rc;
}
