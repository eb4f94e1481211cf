/* api_members.c: the membership routes, list, add, change role, remove,
 * through the store's membership extra (cst_members, cst_member_*): a
 * store without one answers 501 (store_errors.c). Changes go to the
 * writer and are answered when they complete (adding a voter completes
 * once it has caught up). */
#include <stdlib.h>
#include <string.h>

#include "core.h"

static const char *const no_params[] = {NULL};

json_t *cd_member_json(const struct cst_member *m, uint64_t writer)
{
	return json_pack("{s:I,s:s,s:s,s:s,s:b}", "id", (json_int_t)m->id,
	                 "role", cst_member_role_name(m->role), "raft_address",
	                 m->address, "api_address", m->api_address, "leader",
	                 m->id == writer);
}

void cd_get_members(struct cc_request *r, void *arg)
{
	cd_core *c = arg;
	struct cst_member *m;
	unsigned n;
	if (!cd_only_params(r, no_params))
		return;
	int rc = cst_members(c->store, &m, &n);
	if (rc) {
		cd_reply_store_error(c, r, CD_MEMBERSHIP, rc, NULL);
		return;
	}
	uint64_t writer = cst_writer(c->store, NULL);
	json_t *a = json_array();
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(a, cd_member_json(&m[i], writer));
	free(m);
	cc_reply_json(r, 200, json_pack("{s:o}", "members", a));
}

/* A change waiting for its completion. Owned by the store's callback,
 * which runs exactly once and frees it. */
struct change {
	cd_core *core;
	struct cc_request *req; /* NULL once the client hung up */
};

static void on_abort(struct cc_request *r, void *arg)
{
	(void)r;
	((struct change *)arg)->req = NULL;
}

static void on_done(void *arg, int status, const char *msg)
{
	struct change *ch = arg;
	if (ch->req && !status)
		cc_reply_json(ch->req, 200, json_pack("{s:b}", "ok", 1));
	else if (ch->req)
		cd_reply_store_error(ch->core, ch->req, CD_MEMBERSHIP, status,
		                     msg);
	free(ch);
}

static struct change *change_new(cd_core *c, struct cc_request *r)
{
	struct change *ch = cu_xcalloc(1, sizeof(*ch));
	*ch = (struct change){c, r};
	return ch;
}

/* After a cst_member_* call: deferred until on_done, or answered now. */
static void started(struct change *ch, int rc)
{
	if (rc == 0) {
		cc_request_defer(ch->req, on_abort, ch);
		return;
	}
	cd_reply_store_error(ch->core, ch->req, CD_MEMBERSHIP, rc,
	                     cst_errmsg(ch->core->store));
	free(ch);
}

/* The body and its "role" (voter when absent); false with 400 sent. */
static bool member_body(struct cc_request *r, json_t **body, int *role)
{
	char err[CC_ERRMSG_SIZE];
	*body = cc_request_json(r, err, sizeof(err));
	if (!*body) {
		cc_reply_error(r, 400, "bad_member", "%s", err);
		return false;
	}
	const char *rname = json_string_value(json_object_get(*body, "role"));
	*role = rname ? cst_member_role_parse(rname) : CST_MEMBER_VOTER;
	if (*role < 0) {
		cc_reply_error(r, 400, "bad_member",
		               "role: expected voter, standby or spare");
		json_decref(*body);
		return false;
	}
	return true;
}

void cd_post_member(struct cc_request *r, void *arg)
{
	cd_core *c = arg;
	json_t *body;
	int role;
	if (!cd_write_checks(c, r, no_params) || !member_body(r, &body, &role))
		return;
	json_t *id = json_object_get(body, "id");
	const char *addr =
	    json_string_value(json_object_get(body, "raft_address"));
	const char *api =
	    json_string_value(json_object_get(body, "api_address"));
	if (!json_is_integer(id) || json_integer_value(id) <= 0 || !addr) {
		json_decref(body);
		cc_reply_error(r, 400, "bad_member",
		               "expected {\"id\": N > 0, \"raft_address\": "
		               "\"IP:PORT\", \"api_address\": URL, \"role\": "
		               "voter|standby|spare}");
		return;
	}
	struct change *ch = change_new(c, r);
	int rc = cst_member_add(c->store, (uint64_t)json_integer_value(id),
	                        addr, api ? api : "",
	                        (enum cst_member_role)role, on_done, ch);
	json_decref(body);
	started(ch, rc);
}

/* /v1/members/ID; false with 404 sent for anything else. */
static bool member_id(struct cc_request *r, uint64_t *id)
{
	const char *sub = cc_request_subpath(r);
	char *end;
	unsigned long long v = *sub ? strtoull(sub + 1, &end, 10) : 0;
	if (!v || *end) {
		cc_reply_error(r, 404, "not_found", "expected /v1/members/ID");
		return false;
	}
	*id = v;
	return true;
}

void cd_delete_member(struct cc_request *r, void *arg)
{
	cd_core *c = arg;
	uint64_t id;
	if (!member_id(r, &id) || !cd_write_checks(c, r, no_params))
		return;
	struct change *ch = change_new(c, r);
	started(ch, cst_member_remove(c->store, id, on_done, ch));
}

void cd_put_member(struct cc_request *r, void *arg)
{
	cd_core *c = arg;
	uint64_t id;
	json_t *body;
	int role;
	if (!member_id(r, &id) || !cd_write_checks(c, r, no_params) ||
	    !member_body(r, &body, &role))
		return;
	json_decref(body);
	struct change *ch = change_new(c, r);
	started(ch, cst_member_assign(c->store, id, (enum cst_member_role)role,
	                              on_done, ch));
}
