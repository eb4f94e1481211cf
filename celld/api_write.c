/* api_write.c: the write side of the API. Every write becomes one
 * transaction committed through the leader (followers redirect); the REST
 * forms (PUT a machine, POST a job, ...) are one-op transactions whose
 * verdict becomes the HTTP status. */
#include "celld.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BINARY_TXN "application/x-cell-txn"

/* Auth, then leadership: what every write checks first. */
static bool writable(struct celld *d, struct cc_request *r,
                     const char *const *params)
{
	return celld_authorized(d, r) && celld_only_params(r, params) &&
	       celld_leader_or_redirect(d, r);
}

static cs_txn *one_op_txn(struct celld *d, struct cc_request *r)
{
	char id[96];
	return cs_txn_new(celld_txn_id(d, r, id, sizeof(id)), "api",
	                  CS_INCREMENTAL, CS_FINE);
}

/* ---- POST /v1/txn ---- */

static bool is_binary(struct cc_request *r)
{
	const char *ct = cc_request_header(r, "Content-Type");
	return ct && !strncmp(ct, BINARY_TXN, strlen(BINARY_TXN));
}

static cs_txn *txn_from_body(struct cc_request *r, char *err, size_t len)
{
	size_t n;
	const char *body = cc_request_body(r, &n);
	cs_txn *t = NULL;
	if (is_binary(r))
		cs_txn_decode_bin((const uint8_t *)body, n, &t, err, len);
	else
		cs_txn_parse(body, n, &t, err, len);
	return t;
}

static bool dry_run_flag(struct cc_request *r, bool *dry)
{
	const char *v = cc_request_query(r, "dry_run");
	*dry = false;
	if (!v)
		return true;
	if (cc_parse_bool(v, dry) == 0)
		return true;
	cc_reply_error(r, 400, "bad_query",
	               "dry_run: expected true or false, got \"%.32s\"", v);
	return false;
}

static void post_txn(struct cc_request *r, void *arg)
{
	struct celld *d = arg;
	static const char *const params[] = {"dry_run", NULL};
	char err[CS_ERRMSG_SIZE];
	bool dry;
	if (!writable(d, r, params) || !dry_run_flag(r, &dry))
		return;
	cs_txn *t = txn_from_body(r, err, sizeof(err));
	if (!t) {
		cc_reply_error(r, 400, "bad_transaction", "%s", err);
		return;
	}
	if (dry) { /* the leader's replica is the freshest view there is */
		cs_result res;
		cs_dry_run((cs_state *)cr_node_state(d->node), t, &res);
		cs_txn_free(t);
		json_t *o = cs_result_encode(&res);
		json_object_set_new(o, "dry_run", json_true());
		cs_result_clear(&res);
		cc_reply_json(r, 200, o);
		return;
	}
	celld_submit(d, r, t, CELLD_RAW, 200);
}

/* ---- machines ---- */

static const char *const id_param[] = {"txn_id", NULL};

/* "/NAME" or "/NAME/ACTION" from the subpath; false (400/404 sent) when it
 * is neither. */
static bool split_subpath(struct cc_request *r, char *name, size_t len,
                          const char **action)
{
	const char *sub = cc_request_subpath(r);
	const char *slash = *sub ? strchr(sub + 1, '/') : NULL;
	size_t n =
	    slash ? (size_t)(slash - sub - 1) : strlen(sub) - (*sub != 0);
	if (!*sub || n == 0 || n >= len) {
		cc_reply_error(r, 404, "not_found", "expected %s/NAME",
		               cc_request_path(r));
		return false;
	}
	memcpy(name, sub + 1, n);
	name[n] = 0;
	*action = slash ? slash + 1 : "";
	return true;
}

static void put_machine(struct cc_request *r, void *arg)
{
	struct celld *d = arg;
	char name[CS_NAME_MAX + 2], err[CS_ERRMSG_SIZE];
	const char *action;
	if (!split_subpath(r, name, sizeof(name), &action) ||
	    !writable(d, r, id_param))
		return;
	if (*action) {
		cc_reply_error(r, 404, "not_found",
		               "PUT takes /v1/machines/NAME");
		return;
	}
	json_t *body = cc_request_json(r, err, sizeof(err));
	if (body && json_is_object(body) && !json_object_get(body, "name"))
		json_object_set_new(body, "name", json_string(name));
	struct cs_machine_spec *spec = NULL;
	if (!body ||
	    cs_machine_spec_decode(body, "machine", &spec, err, sizeof(err))) {
		json_decref(body);
		cc_reply_error(r, 400, "bad_machine", "%s", err);
		return;
	}
	json_decref(body);
	if (strcmp(spec->name, name)) {
		cc_reply_error(
		    r, 400, "bad_machine",
		    "machine.name: \"%s\" differs from the path's \"%s\"",
		    spec->name, name);
		cs_machine_spec_free(spec);
		return;
	}
	cs_txn *t = one_op_txn(d, r);
	cs_txn_machine_put(t, spec);
	cs_machine_spec_free(spec);
	celld_submit(d, r, t, CELLD_ONE, 200);
}

static void post_machine(struct cc_request *r, void *arg)
{
	struct celld *d = arg;
	static const struct {
		const char *action;
		enum cs_machine_state state;
	} actions[] = {{"drain", CS_MACHINE_DRAINING},
	               {"undrain", CS_MACHINE_UP},
	               {"up", CS_MACHINE_UP},
	               {"down", CS_MACHINE_DOWN}};
	char name[CS_NAME_MAX + 2];
	const char *action;
	if (!split_subpath(r, name, sizeof(name), &action) ||
	    !writable(d, r, id_param))
		return;
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		if (strcmp(action, actions[i].action))
			continue;
		cs_txn *t = one_op_txn(d, r);
		cs_txn_machine_state(t, name, actions[i].state);
		celld_submit(d, r, t, CELLD_ONE, 200);
		return;
	}
	cc_reply_error(
	    r, 404, "not_found",
	    "expected /v1/machines/NAME/drain, /undrain, /up or /down");
}

static void delete_machine(struct cc_request *r, void *arg)
{
	struct celld *d = arg;
	char name[CS_NAME_MAX + 2];
	const char *action;
	if (!split_subpath(r, name, sizeof(name), &action) ||
	    !writable(d, r, id_param))
		return;
	cs_txn *t = one_op_txn(d, r);
	cs_txn_machine_remove(t, name);
	celld_submit(d, r, t, CELLD_ONE, 200);
}

/* ---- jobs ---- */

static void post_job(struct cc_request *r, void *arg)
{
	struct celld *d = arg;
	char err[CS_ERRMSG_SIZE];
	if (*cc_request_subpath(r)) {
		cc_reply_error(r, 404, "not_found", "submit jobs to /v1/jobs");
		return;
	}
	if (!writable(d, r, id_param))
		return;
	json_t *body = cc_request_json(r, err, sizeof(err));
	struct cs_job_spec *spec = NULL;
	if (!body || cs_job_spec_decode(body, "job", &spec, err, sizeof(err))) {
		json_decref(body);
		cc_reply_error(r, 400, "bad_job", "%s", err);
		return;
	}
	json_decref(body);
	cs_txn *t = one_op_txn(d, r);
	cs_txn_job_put(t, spec);
	cs_job_spec_free(spec);
	celld_submit(d, r, t, CELLD_ONE, 201);
}

static void delete_job(struct cc_request *r, void *arg)
{
	struct celld *d = arg;
	static const char *const params[] = {"txn_id", "purge", NULL};
	char name[CS_NAME_MAX + 2];
	const char *action;
	bool purge = false;
	if (!split_subpath(r, name, sizeof(name), &action) ||
	    !writable(d, r, params))
		return;
	const char *p = cc_request_query(r, "purge");
	if (p && cc_parse_bool(p, &purge)) {
		cc_reply_error(r, 400, "bad_query",
		               "purge: expected true or false, got \"%.32s\"",
		               p);
		return;
	}
	cs_txn *t = one_op_txn(d, r);
	if (purge) /* forget an ended job */
		cs_txn_job_remove(t, name);
	else
		cs_txn_job_kill(t, name);
	celld_submit(d, r, t, CELLD_ONE, 200);
}

/* ---- members ---- */

struct member_op {
	struct celld *d;
	struct cc_request *req;
};

static void member_abort(struct cc_request *r, void *arg)
{
	(void)r;
	((struct member_op *)arg)->req = NULL;
}

/* A short error code for a membership failure (the detail says more). */
static const char *member_error(int rc)
{
	switch (rc) {
	case CR_ENOTFOUND:
		return "unknown_member";
	case CR_EBUSY:
		return "membership_busy";
	case CR_EINVAL:
		return "bad_member";
	case CR_ENOTLEADER:
		return "not_leader";
	default:
		return "membership_failed";
	}
}

static void member_done(void *arg, int status, const char *msg)
{
	struct member_op *op = arg;
	if (op->req && !status)
		cc_reply_json(op->req, 200, json_pack("{s:b}", "ok", 1));
	else if (op->req)
		cc_reply_error(op->req, status == CR_EBUSY ? 409 : 503,
		               member_error(status), "%s: %s",
		               cr_strerror(status), msg);
	free(op);
}

/* Runs a membership call; answers once it completes. */
static void member_call(struct celld *d, struct cc_request *r, int rc,
                        struct member_op *op)
{
	if (rc == 0) {
		cc_request_defer(r, member_abort, op);
		return;
	}
	free(op);
	cc_reply_error(r,
	               rc == CR_ENOTFOUND ? 404
	               : rc == CR_EBUSY   ? 409
	                                  : 400,
	               member_error(rc), "%s: %s", cr_strerror(rc),
	               cr_node_errmsg(d->node));
}

static bool member_body(struct cc_request *r, json_t **body, int *role)
{
	char err[CC_ERRMSG_SIZE];
	*body = cc_request_json(r, err, sizeof(err));
	if (!*body) {
		cc_reply_error(r, 400, "bad_member", "%s", err);
		return false;
	}
	const char *rname = json_string_value(json_object_get(*body, "role"));
	*role = rname ? cr_member_role_parse(rname) : CR_MEMBER_VOTER;
	if (*role < 0) {
		cc_reply_error(r, 400, "bad_member",
		               "role: expected voter, standby or spare");
		json_decref(*body);
		return false;
	}
	return true;
}

static void post_member(struct cc_request *r, void *arg)
{
	struct celld *d = arg;
	json_t *body;
	int role;
	if (!writable(d, r, (const char *const[]){NULL}) ||
	    !member_body(r, &body, &role))
		return;
	json_t *id = json_object_get(body, "id");
	const char *raft =
	    json_string_value(json_object_get(body, "raft_address"));
	const char *api =
	    json_string_value(json_object_get(body, "api_address"));
	if (!json_is_integer(id) || json_integer_value(id) <= 0 || !raft) {
		json_decref(body);
		cc_reply_error(r, 400, "bad_member",
		               "expected {\"id\": N > 0, \"raft_address\": "
		               "\"IP:PORT\", \"api_address\": URL, \"role\": "
		               "voter|standby|spare}");
		return;
	}
	struct member_op *op = cu_xcalloc(1, sizeof(*op));
	*op = (struct member_op){d, r};
	int rc = cr_node_add(d->node, (uint64_t)json_integer_value(id), raft,
	                     api ? api : "", (enum cr_member_role)role,
	                     member_done, op);
	json_decref(body);
	member_call(d, r, rc, op);
}

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

static void delete_member(struct cc_request *r, void *arg)
{
	struct celld *d = arg;
	uint64_t id;
	if (!member_id(r, &id) || !writable(d, r, (const char *const[]){NULL}))
		return;
	struct member_op *op = cu_xcalloc(1, sizeof(*op));
	*op = (struct member_op){d, r};
	member_call(d, r, cr_node_remove(d->node, id, member_done, op), op);
}

static void put_member(struct cc_request *r, void *arg)
{
	struct celld *d = arg;
	uint64_t id;
	json_t *body;
	int role;
	if (!member_id(r, &id) ||
	    !writable(d, r, (const char *const[]){NULL}) ||
	    !member_body(r, &body, &role))
		return;
	json_decref(body);
	struct member_op *op = cu_xcalloc(1, sizeof(*op));
	*op = (struct member_op){d, r};
	member_call(d, r,
	            cr_node_assign(d->node, id, (enum cr_member_role)role,
	                           member_done, op),
	            op);
}

static void post_heartbeat(struct cc_request *r, void *arg)
{
	struct celld *d = arg;
	if (writable(d, r, (const char *const[]){NULL}))
		heartbeat_handle(d, r);
}

void celld_routes_write(struct celld *d, char *errbuf, size_t errlen, int *rc)
{
	static const struct {
		const char *method, *path;
		cc_handler_fn fn;
	} routes[] = {
	    {"POST", "/v1/txn", post_txn},
	    {"PUT", "/v1/machines/", put_machine},
	    {"POST", "/v1/machines/", post_machine},
	    {"DELETE", "/v1/machines/", delete_machine},
	    {"POST", "/v1/jobs/", post_job},
	    {"DELETE", "/v1/jobs/", delete_job},
	    {"POST", "/v1/members", post_member},
	    {"PUT", "/v1/members/", put_member},
	    {"DELETE", "/v1/members/", delete_member},
	    {"POST", "/v1/heartbeat", post_heartbeat},
	};
	for (size_t i = 0; !*rc && i < sizeof(routes) / sizeof(routes[0]); i++)
		*rc =
		    cc_server_route(d->server, routes[i].method, routes[i].path,
		                    routes[i].fn, d, errbuf, errlen);
}
