/* request.c: what every route checks of a request: the bearer token, the
 * query parameters it knows, and, for writes, that this member writes; and
 * the id a REST write's transaction gets. */
#include <stdio.h>
#include <string.h>

#include "core.h"

bool cd_authorized(const cd_core *c, struct cc_request *r)
{
	/* the comparison takes the same time however much of a guess matches */
	if (!c->token || cc_request_has_token(r, c->token))
		return true;
	cc_reply_header(r, "WWW-Authenticate", "Bearer");
	cc_reply_error(r, 401, "unauthorized",
	               "this change needs the cell's bearer token: send "
	               "\"Authorization: Bearer TOKEN\"");
	return false;
}

/* "a, b, c" into list (len bytes). */
static void join_names(const char *const *names, char *list, size_t len)
{
	list[0] = 0;
	for (const char *const *a = names; *a; a++)
		snprintf(list + strlen(list), len - strlen(list), "%s%s",
		         a == names ? "" : ", ", *a);
}

static bool known(const char *const *allowed, const char *name)
{
	for (const char *const *a = allowed; *a; a++)
		if (!strcmp(*a, name))
			return true;
	return false;
}

bool cd_only_params(struct cc_request *r, const char *const *allowed)
{
	const char *name, *value;
	for (size_t i = 0; (name = cc_request_query_at(r, i, &value)); i++) {
		if (known(allowed, name))
			continue;
		char list[256];
		join_names(allowed, list, sizeof(list));
		cc_reply_error(r, 400, "bad_query",
		               "unknown parameter \"%.64s\" (expected one of: "
		               "%s)",
		               name, allowed[0] ? list : "none");
		return false;
	}
	return true;
}

bool cd_write_checks(cd_core *c, struct cc_request *r,
                     const char *const *params)
{
	return cd_authorized(c, r) && cd_only_params(r, params) &&
	       cd_writer_or_redirect(c, r);
}

const char *cd_txn_id(cd_core *c, struct cc_request *r, char *buf, size_t len)
{
	const char *given = cc_request_query(r, "txn_id");
	if (given && *given)
		return given;
	return cd_own_txn_id(c, "celld", buf, len);
}
