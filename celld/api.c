/* api.c: the API's shared machinery: the route table, the token check, the
 * redirect of writes to the leader, and submitting a transaction for a
 * request and answering once it commits. */
#include "celld.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int celld_api_routes(struct celld *d, char *errbuf, size_t errlen)
{
	int rc = 0;
	celld_routes_read(d, errbuf, errlen, &rc);
	celld_routes_write(d, errbuf, errlen, &rc);
	return rc;
}

bool celld_authorized(struct celld *d, struct cc_request *r)
{
	/* the comparison takes the same time however much of a guess matches */
	if (!d->token || cc_request_has_token(r, d->token))
		return true;
	cc_reply_header(r, "WWW-Authenticate", "Bearer");
	cc_reply_error(r, 401, "unauthorized",
	               "this change needs the cell's bearer token: send "
	               "\"Authorization: Bearer TOKEN\"");
	return false;
}

bool celld_only_params(struct cc_request *r, const char *const *allowed)
{
	const char *name, *value;
	for (size_t i = 0; (name = cc_request_query_at(r, i, &value)); i++) {
		bool ok = false;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = !strcmp(*a, name);
		if (!ok) {
			char list[256] = "";
			for (const char *const *a = allowed; *a; a++)
				snprintf(list + strlen(list),
				         sizeof(list) - strlen(list), "%s%s",
				         a == allowed ? "" : ", ", *a);
			cc_reply_error(r, 400, "bad_query",
			               "unknown parameter \"%.64s\" (expected "
			               "one of: %s)",
			               name, allowed[0] ? list : "none");
			return false;
		}
	}
	return true;
}

/* Appends s percent-encoded for a URL query. */
static void put_escaped(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);
	for (; *s && n + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c))
			buf[n++] = (char)c;
		else
			n += (size_t)snprintf(buf + n, len - n, "%%%02X", c);
	}
	buf[n] = 0;
}

static void leader_url(struct cc_request *r, const char *api, char *buf,
                       size_t len)
{
	const char *name, *value;
	snprintf(buf, len, "%s", api);
	snprintf(buf + strlen(buf), len - strlen(buf), "%s",
	         cc_request_path(r));
	for (size_t i = 0; (name = cc_request_query_at(r, i, &value)); i++) {
		snprintf(buf + strlen(buf), len - strlen(buf), "%s",
		         i ? "&" : "?");
		put_escaped(buf, len, name);
		if (value) {
			snprintf(buf + strlen(buf), len - strlen(buf), "=");
			put_escaped(buf, len, value);
		}
	}
}

bool celld_leader_or_redirect(struct celld *d, struct cc_request *r)
{
	if (cr_node_trusted(d->node))
		return true;
	struct cr_member leader;
	uint64_t id = cr_node_leader(d->node, &leader);
	if (id && id != cr_node_id(d->node) && leader.api_address[0]) {
		char url[2048];
		leader_url(r, leader.api_address, url, sizeof(url));
		cc_reply_header(r, "Location", url);
		cc_reply_error(
		    r, 307, "not_leader",
		    "member %llu leads; this write was redirected to %s",
		    (unsigned long long)id, leader.api_address);
		return false;
	}
	cc_reply_header(r, "Retry-After", "1");
	cc_reply_error(r, 503, "no_leader",
	               "the cell is electing a leader (or the new one is "
	               "catching up); retry in a moment");
	return false;
}

const char *celld_own_txn_id(struct celld *d, const char *what, char *buf,
                             size_t len)
{
	snprintf(buf, len, "%s-%llu-%llu-%llu", what,
	         (unsigned long long)cr_node_id(d->node),
	         (unsigned long long)d->led_from,
	         (unsigned long long)++d->serial);
	return buf;
}

const char *celld_txn_id(struct celld *d, struct cc_request *r, char *buf,
                         size_t len)
{
	const char *given = cc_request_query(r, "txn_id");
	if (given && *given)
		return given;
	return celld_own_txn_id(d, "celld", buf, len);
}

/* ---- submitting and answering ---- */

struct pending {
	struct celld *d;
	struct cc_request *req; /* NULL once the client hung up */
	enum celld_answer shape;
	unsigned ok_status;
	ev_tstamp t0;
};

static void on_abort(struct cc_request *r, void *arg)
{
	struct pending *p = arg;
	(void)r;
	p->req = NULL; /* the commit still comes; nobody to tell */
}

/* HTTP status for a rejected single op. */
static unsigned status_of(enum cs_reason r)
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

static void answer(struct pending *p, const cs_result *res)
{
	if (p->shape == CELLD_RAW) {
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
	cc_reply_error(p->req, status_of(v->reason), cs_reason_name(v->reason),
	               "%s", v->detail ? v->detail : cs_reason_name(v->reason));
}

static void count(struct celld *d, int status, const cs_result *res)
{
	const char *outcome = status           ? "unknown"
	                      : res->duplicate ? "duplicate"
	                      : res->committed ? "committed"
	                                       : "rejected";
	cc_counter_inc(cc_counter_vec_get1(d->txns, outcome));
}

static void on_commit(void *arg, int status, const cs_result *res)
{
	struct pending *p = arg;
	struct celld *d = p->d;
	count(d, status, res);
	if (!status)
		cc_histogram_observe(d->commit_seconds, ev_time() - p->t0);
	if (p->req && !status) {
		answer(p, res);
	} else if (p->req && status == CR_ELEADERSHIPLOST) {
		cc_reply_header(p->req, "Retry-After", "1");
		cc_reply_error(p->req, 503, "outcome_unknown",
		               "leadership changed while the transaction was "
		               "in flight; retry it with the same id");
	} else if (p->req) {
		cc_reply_header(p->req, "Retry-After", "1");
		cc_reply_error(p->req, 503, "not_committed", "%s",
		               cr_strerror(status));
	}
	free(p);
}

void celld_submit(struct celld *d, struct cc_request *r, cs_txn *txn,
                  enum celld_answer shape, unsigned ok_status)
{
	struct pending *p = cu_xcalloc(1, sizeof(*p));
	*p = (struct pending){d, r, shape, ok_status, ev_time()};
	int rc = cr_node_submit(d->node, txn, on_commit, p);
	if (rc) {
		free(p);
		cs_txn_free(txn);
		if (rc == CR_ENOTLEADER) {
			celld_leader_or_redirect(d, r);
			return;
		}
		cc_reply_error(
		    r, rc == CR_EINVAL || rc == CR_ETOOBIG ? 400 : 503,
		    "not_submitted", "%s",
		    cr_node_errmsg(d->node)[0] ? cr_node_errmsg(d->node)
		                               : cr_strerror(rc));
		return;
	}
	cc_request_defer(r, on_abort, p);
}
