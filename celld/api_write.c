/* api_write.c: the writes of the API on machines, jobs and raw
 * transactions. Every write becomes one transaction committed through the
 * writer (other members redirect); the REST forms (PUT a machine, POST a
 * job, ...) are one-op transactions whose verdict becomes the HTTP status. */
#include <stdio.h>
#include <string.h>

#include "core.h"

#define BINARY_TXN "application/x-cell-txn"

static const char *const id_param[] = {"txn_id", NULL};

static cs_txn *one_op_txn(cd_core *c, struct cc_request *r)
{
	char id[96];
	return cs_txn_new(cd_txn_id(c, r, id, sizeof(id)), "api",
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
	if (!v || cc_parse_bool(v, dry) == 0)
		return true;
	cc_reply_error(r, 400, "bad_query",
	               "dry_run: expected true or false, got \"%.32s\"", v);
	return false;
}

/* The verdicts t would get, from the writer's replica (the freshest view
 * there is), which stays as it was. */
static void dry_run(cd_core *c, struct cc_request *r, cs_txn *t)
{
	cs_result res;
	cst_dry_run(c->store, t, &res);
	cs_txn_free(t);
	json_t *o = cs_result_encode(&res);
	json_object_set_new(o, "dry_run", json_true());
	cs_result_clear(&res);
	cc_reply_json(r, 200, o);
}

void cd_post_txn(struct cc_request *r, void *arg)
{
	cd_core *c = arg;
	static const char *const params[] = {"dry_run", NULL};
	char err[CS_ERRMSG_SIZE];
	bool dry;
	if (!cd_write_checks(c, r, params) || !dry_run_flag(r, &dry))
		return;
	cs_txn *t = txn_from_body(r, err, sizeof(err));
	if (!t)
		cc_reply_error(r, 400, "bad_transaction", "%s", err);
	else if (dry)
		dry_run(c, r, t);
	else
		cd_submit(c, r, t, CD_RAW, 200);
}

/* ---- machines ---- */

/* "/NAME" or "/NAME/ACTION" from the subpath; false (404 sent) when it is
 * neither. */
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

/* The body as a machine spec named `name` (the path's; the body may omit
 * it); NULL with 400 sent otherwise. */
static struct cs_machine_spec *machine_body(struct cc_request *r,
                                            const char *name)
{
	char err[CS_ERRMSG_SIZE];
	json_t *body = cc_request_json(r, err, sizeof(err));
	if (body && json_is_object(body) && !json_object_get(body, "name"))
		json_object_set_new(body, "name", json_string(name));
	struct cs_machine_spec *spec = NULL;
	int rc = body ? cs_machine_spec_decode(body, "machine", &spec, err,
	                                       sizeof(err))
	              : -1;
	json_decref(body);
	if (rc) {
		cc_reply_error(r, 400, "bad_machine", "%s", err);
		return NULL;
	}
	if (strcmp(spec->name, name)) {
		cc_reply_error(
		    r, 400, "bad_machine",
		    "machine.name: \"%s\" differs from the path's \"%s\"",
		    spec->name, name);
		cs_machine_spec_free(spec);
		return NULL;
	}
	return spec;
}

void cd_put_machine(struct cc_request *r, void *arg)
{
	cd_core *c = arg;
	char name[CS_NAME_MAX + 2];
	const char *action;
	if (!split_subpath(r, name, sizeof(name), &action) ||
	    !cd_write_checks(c, r, id_param))
		return;
	if (*action) {
		cc_reply_error(r, 404, "not_found",
		               "PUT takes /v1/machines/NAME");
		return;
	}
	struct cs_machine_spec *spec = machine_body(r, name);
	if (!spec)
		return;
	cs_txn *t = one_op_txn(c, r);
	cs_txn_machine_put(t, spec);
	cs_machine_spec_free(spec);
	cd_submit(c, r, t, CD_ONE, 200);
}

void cd_post_machine(struct cc_request *r, void *arg)
{
	cd_core *c = arg;
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
	    !cd_write_checks(c, r, id_param))
		return;
	for (size_t i = 0; i < CU_ARRAY_LEN(actions); i++) {
		if (strcmp(action, actions[i].action))
			continue;
		cs_txn *t = one_op_txn(c, r);
		cs_txn_machine_state(t, name, actions[i].state);
		cd_submit(c, r, t, CD_ONE, 200);
		return;
	}
	cc_reply_error(
	    r, 404, "not_found",
	    "expected /v1/machines/NAME/drain, /undrain, /up or /down");
}

void cd_delete_machine(struct cc_request *r, void *arg)
{
	cd_core *c = arg;
	char name[CS_NAME_MAX + 2];
	const char *action;
	if (!split_subpath(r, name, sizeof(name), &action) ||
	    !cd_write_checks(c, r, id_param))
		return;
	cs_txn *t = one_op_txn(c, r);
	cs_txn_machine_remove(t, name);
	cd_submit(c, r, t, CD_ONE, 200);
}

/* ---- jobs ---- */

void cd_post_job(struct cc_request *r, void *arg)
{
	cd_core *c = arg;
	char err[CS_ERRMSG_SIZE];
	if (*cc_request_subpath(r)) {
		cc_reply_error(r, 404, "not_found", "submit jobs to /v1/jobs");
		return;
	}
	if (!cd_write_checks(c, r, id_param))
		return;
	json_t *body = cc_request_json(r, err, sizeof(err));
	struct cs_job_spec *spec = NULL;
	if (!body || cs_job_spec_decode(body, "job", &spec, err, sizeof(err))) {
		json_decref(body);
		cc_reply_error(r, 400, "bad_job", "%s", err);
		return;
	}
	json_decref(body);
	cs_txn *t = one_op_txn(c, r);
	cs_txn_job_put(t, spec);
	cs_job_spec_free(spec);
	cd_submit(c, r, t, CD_ONE, 201);
}

void cd_delete_job(struct cc_request *r, void *arg)
{
	cd_core *c = arg;
	static const char *const params[] = {"txn_id", "purge", NULL};
	char name[CS_NAME_MAX + 2];
	const char *action;
	bool purge = false;
	if (!split_subpath(r, name, sizeof(name), &action) ||
	    !cd_write_checks(c, r, params))
		return;
	const char *p = cc_request_query(r, "purge");
	if (p && cc_parse_bool(p, &purge)) {
		cc_reply_error(r, 400, "bad_query",
		               "purge: expected true or false, got \"%.32s\"",
		               p);
		return;
	}
	cs_txn *t = one_op_txn(c, r);
	if (purge) /* forget an ended job */
		cs_txn_job_remove(t, name);
	else
		cs_txn_job_kill(t, name);
	cd_submit(c, r, t, CD_ONE, 200);
}
