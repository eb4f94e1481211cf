/* submit.c: a request's transaction through the store, answered once the
 * store has answered: the verdicts, the single op's verdict as a status,
 * or a store error in HTTP terms (store_errors.c). */
#include <stdlib.h>

#include "core.h"

/* A request waiting for its transaction's answer. Owned by the store's
 * callback, which runs exactly once and frees it. */
struct pending {
	cd_core *core;
	struct cc_request *req; /* NULL once the client hung up */
	enum cd_answer shape;
	unsigned ok_status;
	double t0; /* arrival, for the commit latency */
};

static void on_abort(struct cc_request *r, void *arg)
{
	struct pending *p = arg;
	(void)r;
	p->req = NULL; /* the answer still comes; nobody to tell */
}

/* HTTP status of a rejected single op. */
static unsigned rejected_status(enum cs_reason r)
{
	switch (r) {
	case CS_R_UNKNOWN_MACHINE:
	case CS_R_UNKNOWN_JOB:
	case CS_R_UNKNOWN_TASK:
	case CS_R_UNKNOWN_SCHEDULER:
		return 404;
	default:
		return 409;
	}
}

static void answer(const struct pending *p, const cs_result *res)
{
	if (p->shape == CD_RAW) {
		cc_reply_json(p->req, 200, cs_result_encode(res));
		return;
	}
	const struct cs_verdict *v = &res->ops[0];
	if (v->reason == CS_R_OK) {
		cc_reply_json(p->req, p->ok_status,
		              json_pack("{s:I,s:b}", "index",
		                        (json_int_t)res->index, "duplicate",
		                        res->duplicate));
		return;
	}
	cc_reply_error(p->req, rejected_status(v->reason),
	               cs_reason_name(v->reason), "%s",
	               v->detail ? v->detail : cs_reason_name(v->reason));
}

static void on_answer(void *arg, int status, const cs_result *res)
{
	struct pending *p = arg;
	cd_core *c = p->core;
	cd_count_txn(c, status, res);
	if (!status)
		cc_histogram_observe(c->commit_seconds, cd_now(c) - p->t0);
	if (p->req && !status)
		answer(p, res);
	else if (p->req)
		cd_reply_store_error(c, p->req, CD_TXN, status, NULL);
	free(p);
}

void cd_submit(cd_core *c, struct cc_request *r, cs_txn *txn,
               enum cd_answer shape, unsigned ok_status)
{
	struct pending *p = cu_xcalloc(1, sizeof(*p));
	*p = (struct pending){c, r, shape, ok_status, cd_now(c)};
	int rc = cst_submit(c->store, txn, on_answer, p);
	if (rc) {
		free(p);
		cs_txn_free(txn);
		cd_reply_store_error(c, r, CD_TXN, rc, cst_errmsg(c->store));
		return;
	}
	cc_request_defer(r, on_abort, p);
}
