/* store.c: the Raft group as a store (cst_raft_open in cellstore.h): a
 * cr_node underneath, its hooks and callbacks adapted to the store's, and
 * its CR_E* codes said in the store's words. Change tracking is on for the
 * node's state and for every state a snapshot restore installs (the FSM
 * does it: cr_config.track_changes), so every result carries its changes.
 *
 * CR codes become CST codes by context: a synchronous CR_ENOTLEADER means
 * "not the writer" (CST_ENOTWRITER), but in a submit's callback it means
 * the batch was never proposed (CST_ENOTCOMMITTED); CR_ELEADERSHIPLOST
 * means the outcome is unknown (CST_EUNKNOWN), except for a barrier, which
 * has no outcome to be unsure of (CST_ENOTWRITER). */
#include <stdlib.h>

#include "cr_node.h"
#include "cst_backend.h"

/* Lifecycle:
 *   open      cr_node_init, cr_node_start -> running (a failed start:
 *             cr_node_discard, nothing left)
 *   running   cst_close -> closing: cr_node_close
 *   closing   the node answered everything and freed itself -> the store
 *             is freed, then the close callback runs */
struct raft_store {
	cst_store base;
	cr_node *node; /* owned: closed with the store */
	cst_close_cb close_cb;
	void *close_arg;
};

static struct raft_store *rs_of(cst_store *s)
{
	return cu_container_of(s, struct raft_store, base);
}

static const struct raft_store *crs_of(const cst_store *s)
{
	const char *p = (const char *)s - offsetof(struct raft_store, base);
	return (const struct raft_store *)(const void *)p;
}

/* ---- codes --------------------------------------------------------------- */

/* A synchronous return, or a membership change's or transfer's status. */
static int cst_code(int cr)
{
	switch (cr) {
	case CR_OK:
		return 0;
	case CR_EINVAL:
		return CST_EINVAL;
	case CR_ENOTLEADER:
		return CST_ENOTWRITER;
	case CR_ELEADERSHIPLOST:
		return CST_EUNKNOWN;
	case CR_ESHUTDOWN:
		return CST_ESHUTDOWN;
	case CR_EMALFORMED:
		return CST_EMALFORMED;
	case CR_EBUSY:
		return CST_EBUSY;
	case CR_ENOTFOUND:
		return CST_ENOTFOUND;
	case CR_ETOOBIG:
		return CST_ETOOBIG;
	case CR_ETRANSFER:
		return CST_ETRANSFER;
	default:
		return CST_EIO;
	}
}

/* A submit's callback: the words of a synchronous return, but a batch the
 * node never proposed was not committed; and only the statuses
 * cst_submit_cb lists (anything else is the node's failure). */
static int submit_code(int cr)
{
	int st = cr == CR_ENOTLEADER ? CST_ENOTCOMMITTED : cst_code(cr);
	bool listed = st == 0 || st == CST_ENOTCOMMITTED ||
	              st == CST_EUNKNOWN || st == CST_ESHUTDOWN ||
	              st == CST_EMALFORMED;
	return listed ? st : CST_EIO;
}

/* A barrier has no outcome to be unsure of: losing the role in any way
 * means this member is not the writer. */
static int barrier_code(int cr)
{
	if (cr == CR_ENOTLEADER || cr == CR_ELEADERSHIPLOST)
		return CST_ENOTWRITER;
	return cst_code(cr);
}

/* The node takes any role number (raft refuses an unknown one only when
 * it gets to it): refuse it first, as every store does. */
static int refuse_role(cst_store *s, uint64_t id, enum cst_member_role role)
{
	if ((unsigned)role <= CST_MEMBER_SPARE)
		return 0;
	return cst_seterr(s, CST_EINVAL, "member %llu: invalid role %d",
	                  (unsigned long long)id, (int)role);
}

/* A synchronous failure of the node: its message, the store's code. */
static int node_failed(struct raft_store *rs, int cr)
{
	const char *msg = cr_node_errmsg(rs->node);
	return cst_seterr(&rs->base, cst_code(cr), "%s",
	                  *msg ? msg : cr_strerror(cr));
}

/* ---- hooks --------------------------------------------------------------- */

static void hook_role(cr_node *node, enum cst_role old_role,
                      enum cst_role new_role, void *arg)
{
	(void)node;
	cst_hook_role(arg, old_role, new_role);
}

/* The post-election barrier has applied: the applied index now is past
 * every earlier leadership's (that barrier is an entry of this term). */
static void hook_trusted(cr_node *node, uint64_t term, void *arg)
{
	cst_hook_writer(arg, term, cr_node_applied_index(node));
}

static void hook_applied(cr_node *node, uint64_t index, const cs_txn *txn,
                         const cs_result *res, void *arg)
{
	(void)node;
	cst_hook_applied(arg, index, txn, res);
}

static void hook_restore(cr_node *node, uint64_t applied_index, void *arg)
{
	(void)node;
	cst_hook_restore(arg, applied_index);
}

static void hook_log(void *arg, enum cst_log_level level, const char *msg)
{
	const cst_store *s = arg;
	s->hooks.log(s->hooks.arg, level, msg);
}

/* The node's hooks, all reaching the store's; without a log hook the
 * node's own stderr lines (which name the member) stay. */
static struct cr_hooks node_hooks(cst_store *s)
{
	struct cr_hooks h = {hook_role,
	                     hook_trusted,
	                     hook_applied,
	                     hook_restore,
	                     s->hooks.log ? hook_log : NULL,
	                     s};
	return h;
}

/* ---- reads --------------------------------------------------------------- */

static const cs_state *rs_state(const cst_store *s)
{
	return cr_node_state(crs_of(s)->node);
}

static uint64_t rs_applied_index(const cst_store *s)
{
	return cr_node_applied_index(crs_of(s)->node);
}

static void rs_status(const cst_store *s, struct cst_status *out)
{
	const cr_node *n = crs_of(s)->node;
	out->id = cr_node_id(n);
	out->role = cr_node_role(n);
	out->writer = cr_node_trusted(n);
	out->term = cr_node_term(n);
	out->commit_index = cr_node_commit_index(n);
	out->applied_index = cr_node_applied_index(n);
	out->last_index = cr_node_last_index(n);
}

static void rs_stats(const cst_store *s, struct cst_stats *out)
{
	cr_node_stats(crs_of(s)->node, out);
}

static bool rs_writable(const cst_store *s)
{
	return cr_node_trusted(crs_of(s)->node);
}

static uint64_t rs_writer(const cst_store *s, struct cst_member *out)
{
	return cr_node_leader(crs_of(s)->node, out);
}

/* The node's own state, which cs_dry_run journals and undoes. */
static void rs_dry_run(cst_store *s, const cs_txn *txn, cs_result *out)
{
	cs_dry_run(rs_of(s)->node->fsm.state, txn, out);
}

/* ---- calls with a callback ----------------------------------------------- */

/* The caller's callback, between the node's and its answer, with the words
 * the node's status is said in for this kind of call. */
struct waiter {
	union {
		cst_submit_cb submit;
		cst_done_cb done;
	} cb;
	int (*code)(int cr);
	void *arg;
};

static struct waiter *waiter_new(struct waiter w)
{
	struct waiter *p = cu_xmalloc(sizeof(*p));
	*p = w;
	return p;
}

/* The waiter, freed before its callback runs (which may close the store). */
static struct waiter waiter_take(void *arg)
{
	struct waiter w = *(struct waiter *)arg;
	free(arg);
	return w;
}

static void on_submitted(void *arg, int status, const cs_result *res)
{
	struct waiter w = waiter_take(arg);
	w.cb.submit(w.arg, w.code(status), status ? NULL : res);
}

static void on_done(void *arg, int status, const char *msg)
{
	struct waiter w = waiter_take(arg);
	w.cb.done(w.arg, w.code(status), msg);
}

/* The end of every call that takes a callback: on an error the node never
 * calls back, so the waiter goes. */
static int started(struct raft_store *rs, struct waiter *w, int rc)
{
	if (rc == 0)
		return 0;
	free(w);
	return node_failed(rs, rc);
}

static int rs_submit(cst_store *s, cs_txn *txn, cst_submit_cb cb, void *arg)
{
	struct raft_store *rs = rs_of(s);
	struct waiter *w =
	    waiter_new((struct waiter){{.submit = cb}, submit_code, arg});
	return started(rs, w, cr_node_submit(rs->node, txn, on_submitted, w));
}

static int rs_barrier(cst_store *s, cst_done_cb cb, void *arg)
{
	struct raft_store *rs = rs_of(s);
	struct waiter *w =
	    waiter_new((struct waiter){{.done = cb}, barrier_code, arg});
	return started(rs, w, cr_node_barrier(rs->node, on_done, w));
}

/* ---- membership ---------------------------------------------------------- */

static int rs_members(const cst_store *s, struct cst_member **out, unsigned *n)
{
	cr_node_members(crs_of(s)->node, out, n);
	return 0;
}

/* A membership change's or transfer's status: a synchronous return's
 * words. */
static struct waiter *change_waiter(cst_done_cb cb, void *arg)
{
	return waiter_new((struct waiter){{.done = cb}, cst_code, arg});
}

static int rs_member_add(cst_store *s, uint64_t id, const char *address,
                         const char *api_address, enum cst_member_role role,
                         cst_done_cb cb, void *arg)
{
	struct raft_store *rs = rs_of(s);
	int rc = refuse_role(s, id, role);
	if (rc != 0)
		return rc;
	struct waiter *w = change_waiter(cb, arg);
	return started(
	    rs, w,
	    cr_node_add(rs->node, id, address, api_address, role, on_done, w));
}

static int rs_member_assign(cst_store *s, uint64_t id,
                            enum cst_member_role role, cst_done_cb cb,
                            void *arg)
{
	struct raft_store *rs = rs_of(s);
	int rc = refuse_role(s, id, role);
	if (rc != 0)
		return rc;
	struct waiter *w = change_waiter(cb, arg);
	return started(rs, w, cr_node_assign(rs->node, id, role, on_done, w));
}

static int rs_member_remove(cst_store *s, uint64_t id, cst_done_cb cb,
                            void *arg)
{
	struct raft_store *rs = rs_of(s);
	struct waiter *w = change_waiter(cb, arg);
	return started(rs, w, cr_node_remove(rs->node, id, on_done, w));
}

static int rs_transfer(cst_store *s, uint64_t id, cst_done_cb cb, void *arg)
{
	struct raft_store *rs = rs_of(s);
	struct waiter *w = change_waiter(cb, arg);
	return started(rs, w, cr_node_transfer(rs->node, id, on_done, w));
}

/* ---- close --------------------------------------------------------------- */

/* The node is gone (everything it held answered): the store goes, then the
 * caller hears of it. */
static void on_node_closed(void *arg)
{
	struct raft_store *rs = arg;
	cst_close_cb cb = rs->close_cb;
	void *cb_arg = rs->close_arg;
	free(rs);
	if (cb)
		cb(cb_arg);
}

static void rs_close(cst_store *s, cst_close_cb cb, void *arg)
{
	struct raft_store *rs = rs_of(s);
	rs->close_cb = cb;
	rs->close_arg = arg;
	cr_node_close(rs->node, on_node_closed, rs);
}

/* ---- open ---------------------------------------------------------------- */

static const struct cst_ops raft_ops = {
    .state = rs_state,
    .applied_index = rs_applied_index,
    .status = rs_status,
    .stats = rs_stats,
    .writable = rs_writable,
    .writer = rs_writer,
    .submit = rs_submit,
    .dry_run = rs_dry_run,
    .barrier = rs_barrier,
    .close = rs_close,
};

static const struct cst_member_ops raft_member_ops = {
    .list = rs_members,
    .add = rs_member_add,
    .assign = rs_member_assign,
    .remove = rs_member_remove,
    .transfer = rs_transfer,
};

int cst_raft_open(struct ev_loop *loop, const struct cst_raft_config *cfg,
                  const struct cst_hooks *hooks, cst_store **out, char *errbuf,
                  size_t errlen)
{
	*out = NULL;
	if (!loop || !cfg)
		return cu_errf(errbuf, errlen, CST_EINVAL,
		               "cst_raft_open: a loop and a configuration are "
		               "required");
	struct raft_store *rs = cu_xcalloc(1, sizeof(*rs));
	cst_store_init(&rs->base, &raft_ops, &raft_member_ops, hooks);
	struct cr_hooks nh = node_hooks(&rs->base);
	/* The store's configuration, the store's hooks, the change feed on. */
	struct cr_config nc = {
	    .raft = *cfg, .track_changes = true, .hooks = &nh};
	int rc = cr_node_init(&rs->node, loop, &nc, errbuf, errlen);
	if (rc == 0 && (rc = cr_node_start(rs->node, errbuf, errlen)) != 0)
		cr_node_discard(rs->node);
	if (rc != 0) {
		free(rs);
		return cst_code(rc);
	}
	*out = &rs->base;
	return 0;
}
