/* store_errors.c: the one mapping of the store's error codes to HTTP
 * answers (docs/ARCHITECTURE.md §3): a status, whether to come back later
 * (Retry-After), and the error's name as a client of a transaction or of
 * the membership knows it. Not being the writer is an answer of its own:
 * 307 to the writer's API with the same path and query (clients follow
 * it), or 503 no_leader while the writer is unknown. */
#include <stdio.h>
#include <string.h>

#include "core.h"

struct http_error {
	unsigned status;
	bool retry_after;   /* the same request may work in a moment */
	const char *txn;    /* the error's name for a transaction */
	const char *member; /* ... for a membership list or change */
	const char *what; /* when the store said nothing; NULL: cst_strerror */
};

/* Indexed by CST_E* code. CST_ENOTWRITER never reaches the table. */
static const struct http_error errors[CST_ERROR__COUNT] = {
    [CST_EINVAL] = {400, false, "not_submitted", "bad_member", NULL},
    [CST_ETOOBIG] = {400, false, "not_submitted", "bad_member", NULL},
    [CST_EUNKNOWN] = {503, true, "outcome_unknown", "membership_failed",
                      "leadership changed while the transaction was in "
                      "flight; retry it with the same id"},
    [CST_ENOTCOMMITTED] = {503, true, "not_committed", "membership_failed",
                           NULL},
    [CST_ESHUTDOWN] = {503, true, "not_committed", "membership_failed", NULL},
    [CST_EIO] = {503, true, "not_committed", "membership_failed", NULL},
    [CST_EMALFORMED] = {503, false, "not_committed", "membership_failed", NULL},
    [CST_ETRANSFER] = {503, true, "not_committed", "membership_failed", NULL},
    [CST_EBUSY] = {409, false, "not_committed", "membership_busy", NULL},
    [CST_ENOTFOUND] = {404, false, "not_committed", "unknown_member", NULL},
    [CST_ENOTSUP] = {501, false, "not_supported", "no_membership",
                     "this store has no membership: it keeps no list of "
                     "members to show or change"},
};

/* The writer's API base, then the request's path and query. */
static void writer_url(struct cc_request *r, const char *api, char *buf,
                       size_t len)
{
	const char *name, *value;
	snprintf(buf, len, "%s%s", api, cc_request_path(r));
	for (size_t i = 0; (name = cc_request_query_at(r, i, &value)); i++) {
		snprintf(buf + strlen(buf), len - strlen(buf), "%s",
		         i ? "&" : "?");
		cc_url_escape(buf, len, name);
		if (value) {
			snprintf(buf + strlen(buf), len - strlen(buf), "=");
			cc_url_escape(buf, len, value);
		}
	}
}

/* 307 to the writer when another member is known to write (and has said
 * where its API is), else 503 no_leader (an election, or this member won
 * it and is catching up). */
static void reply_not_writer(cd_core *c, struct cc_request *r)
{
	struct cst_member w;
	struct cst_status st;
	uint64_t id = cst_writer(c->store, &w);
	cst_status(c->store, &st);
	if (id && id != st.id && w.api_address[0]) {
		char url[2048];
		writer_url(r, w.api_address, url, sizeof(url));
		cc_reply_header(r, "Location", url);
		cc_reply_error(
		    r, 307, "not_leader",
		    "member %llu leads; this write was redirected to %s",
		    (unsigned long long)id, w.api_address);
		return;
	}
	cc_reply_header(r, "Retry-After", "1");
	cc_reply_error(r, 503, "no_leader",
	               "the cell is electing a leader (or the new one is "
	               "catching up); retry in a moment");
}

bool cd_writer_or_redirect(cd_core *c, struct cc_request *r)
{
	if (cst_writable(c->store))
		return true;
	reply_not_writer(c, r);
	return false;
}

void cd_reply_store_error(cd_core *c, struct cc_request *r, enum cd_context ctx,
                          int code, const char *msg)
{
	if (code == CST_ENOTWRITER) {
		reply_not_writer(c, r);
		return;
	}
	static const struct http_error other = {503, false, "not_committed",
	                                        "membership_failed", NULL};
	const struct http_error *e =
	    code > 0 && code < CST_ERROR__COUNT && errors[code].status
	        ? &errors[code]
	        : &other;
	const char *what = e->what ? e->what : cst_strerror(code);
	bool said = msg && *msg;
	if (e->retry_after)
		cc_reply_header(r, "Retry-After", "1");
	if (ctx == CD_MEMBERSHIP && said)
		cc_reply_error(r, e->status, e->member, "%s: %s",
		               cst_strerror(code), msg);
	else
		cc_reply_error(r, e->status,
		               ctx == CD_MEMBERSHIP ? e->member : e->txn, "%s",
		               said ? msg : what);
}
