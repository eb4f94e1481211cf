/* store.c: the dispatch: every public cst_* call goes to the backend's
 * table, after the checks every backend would make alike (arguments, a
 * closing store, a membership the backend does not have). Also the helpers
 * backends report through: messages, log lines, hooks. */
#include <stdio.h>

#include "cst_backend.h"

void cst_store_init(cst_store *s, const struct cst_ops *ops,
                    const struct cst_member_ops *members,
                    const struct cst_hooks *hooks)
{
	memset(s, 0, sizeof(*s));
	s->ops = ops;
	s->members = members;
	if (hooks)
		s->hooks = *hooks;
}

int cst_seterr(cst_store *s, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	return code;
}

void cst_hook_role(const cst_store *s, enum cst_role old_role,
                   enum cst_role new_role)
{
	if (s->hooks.on_role)
		s->hooks.on_role(s->hooks.arg, old_role, new_role);
}

void cst_hook_writer(const cst_store *s, uint64_t epoch, uint64_t applied_index)
{
	if (s->hooks.on_writer)
		s->hooks.on_writer(s->hooks.arg, epoch, applied_index);
}

void cst_hook_applied(const cst_store *s, uint64_t index, const cs_txn *txn,
                      const cs_result *res)
{
	if (s->hooks.on_applied)
		s->hooks.on_applied(s->hooks.arg, index, txn, res);
}

void cst_hook_restore(const cst_store *s, uint64_t applied_index)
{
	if (s->hooks.on_restore)
		s->hooks.on_restore(s->hooks.arg, applied_index);
}

/* ---- reads --------------------------------------------------------------- */

const cs_state *cst_state(const cst_store *s)
{
	return s->ops->state(s);
}

uint64_t cst_applied_index(const cst_store *s)
{
	return s->ops->applied_index(s);
}

void cst_status(const cst_store *s, struct cst_status *out)
{
	memset(out, 0, sizeof(*out));
	s->ops->status(s, out);
}

void cst_stats(const cst_store *s, struct cst_stats *out)
{
	memset(out, 0, sizeof(*out));
	s->ops->stats(s, out);
}

bool cst_writable(const cst_store *s)
{
	return !s->closing && s->ops->writable(s);
}

uint64_t cst_writer(const cst_store *s, struct cst_member *out)
{
	if (out)
		memset(out, 0, sizeof(*out));
	return s->ops->writer(s, out);
}

const char *cst_errmsg(const cst_store *s)
{
	return s->errmsg;
}

void cst_dry_run(cst_store *s, const cs_txn *txn, cs_result *out)
{
	s->ops->dry_run(s, txn, out);
}

/* ---- writes -------------------------------------------------------------- */

static int refuse_closing(cst_store *s)
{
	return s->closing ? cst_seterr(s, CST_ESHUTDOWN, "the store is closing")
	                  : 0;
}

int cst_submit(cst_store *s, cs_txn *txn, cst_submit_cb cb, void *arg)
{
	if (!txn || !cb)
		return cst_seterr(s, CST_EINVAL,
		                  "submit: a transaction and a callback are "
		                  "required");
	int rc = refuse_closing(s);
	return rc ? rc : s->ops->submit(s, txn, cb, arg);
}

int cst_barrier(cst_store *s, cst_done_cb cb, void *arg)
{
	if (!cb)
		return cst_seterr(s, CST_EINVAL,
		                  "barrier: a callback is "
		                  "required");
	int rc = refuse_closing(s);
	return rc ? rc : s->ops->barrier(s, cb, arg);
}

void cst_close(cst_store *s, cst_close_cb cb, void *arg)
{
	if (s->closing)
		return;
	s->closing = true;
	s->ops->close(s, cb, arg);
}

/* ---- membership ---------------------------------------------------------- */

int cst_members(const cst_store *s, struct cst_member **out, unsigned *n)
{
	*out = NULL;
	*n = 0;
	if (!s->members)
		return CST_ENOTSUP;
	return s->members->list(s, out, n);
}

/* The checks every membership change shares; 0: go ahead. */
static int change_check(cst_store *s, const char *what, bool has_cb)
{
	if (!s->members)
		return cst_seterr(s, CST_ENOTSUP,
		                  "%s: this store has no "
		                  "membership",
		                  what);
	if (!has_cb)
		return cst_seterr(s, CST_EINVAL, "%s: a callback is required",
		                  what);
	return refuse_closing(s);
}

int cst_member_add(cst_store *s, uint64_t id, const char *address,
                   const char *api_address, enum cst_member_role role,
                   cst_done_cb cb, void *arg)
{
	int rc = change_check(s, "member add", cb != NULL);
	return rc ? rc
	          : s->members->add(s, id, address, api_address, role, cb, arg);
}

int cst_member_assign(cst_store *s, uint64_t id, enum cst_member_role role,
                      cst_done_cb cb, void *arg)
{
	int rc = change_check(s, "member assign", cb != NULL);
	return rc ? rc : s->members->assign(s, id, role, cb, arg);
}

int cst_member_remove(cst_store *s, uint64_t id, cst_done_cb cb, void *arg)
{
	int rc = change_check(s, "member remove", cb != NULL);
	return rc ? rc : s->members->remove(s, id, cb, arg);
}

int cst_transfer(cst_store *s, uint64_t id, cst_done_cb cb, void *arg)
{
	int rc = change_check(s, "transfer", cb != NULL);
	return rc ? rc : s->members->transfer(s, id, cb, arg);
}
