/* membership.c: adding, promoting and removing members, the replicated
 * member table (API addresses), and leadership transfer. A change runs as
 * steps (raft_add -> member record -> raft_assign); each step after the
 * first starts from the prepare, never from inside a raft callback. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cr_node.h"

enum change_step {
	STEP_WAIT,        /* a raft request or a record is in flight */
	STEP_ADD_META,    /* raft_add done: write the member record */
	STEP_ASSIGN,      /* record committed: raft_assign */
	STEP_REMOVE_META, /* raft_remove done: drop the member record */
	STEP_DONE,        /* report `status` and free */
};

struct cr_change {
	struct raft_change req; /* reused by each raft step */
	struct cr_node *node;
	enum change_step next;
	int role; /* RAFT_VOTER, RAFT_STANDBY or RAFT_SPARE */
	struct cr_member_meta meta;
	int status;
	char msg[CST_ERRMSG_SIZE];
	cr_done_cb cb;
	void *arg;
};

/* raft_strerror has no text for some codes (RAFT.md §2). */
static const char *raft_text(int rv)
{
	switch (rv) {
	case RAFT_NOTFOUND:
		return "not found";
	case RAFT_INVALID:
		return "invalid parameter";
	default:
		return raft_strerror(rv);
	}
}

static void change_done(struct cr_change *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the outcome; the prepare reports it (so the user's callback
 * never runs inside raft's). */
static void change_done(struct cr_change *c, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	c->status = status;
	c->next = STEP_DONE;
	cr_bridge_kick(&c->node->bridge);
}

static int change_status(struct cr_change *c, int raft_status)
{
	return c->node->closing ? CR_ESHUTDOWN
	                        : cr_error_from_raft(raft_status);
}

/* The last raft step of a change (assign), or any failed one. */
static void on_raft_step(struct raft_change *req, int status)
{
	struct cr_change *c = req->data;
	if (status != 0)
		change_done(c, change_status(c, status), "member %llu: %s",
		            (unsigned long long)c->meta.id, raft_text(status));
	else
		change_done(c, 0, "%s", "");
}

static void on_added(struct raft_change *req, int status)
{
	struct cr_change *c = req->data;
	if (status != 0) {
		on_raft_step(req, status);
		return;
	}
	c->next = STEP_ADD_META;
	cr_bridge_kick(&c->node->bridge);
}

static void on_removed(struct raft_change *req, int status)
{
	struct cr_change *c = req->data;
	if (status != 0) {
		on_raft_step(req, status);
		return;
	}
	c->next = STEP_REMOVE_META;
	cr_bridge_kick(&c->node->bridge);
}

static void on_meta(void *arg, int status, const cs_result *res)
{
	struct cr_change *c = arg;
	(void)res;
	if (status != 0) {
		change_done(c, status,
		            "member %llu: configuration changed but its "
		            "member record did not commit: %s",
		            (unsigned long long)c->meta.id,
		            cr_strerror(status));
		return;
	}
	if (c->next == STEP_WAIT && c->role != -1)
		c->next = STEP_ASSIGN;
	else
		c->next = STEP_DONE;
	cr_bridge_kick(&c->node->bridge);
}

static void start_meta(struct cr_change *c, bool put)
{
	struct cr_node *n = c->node;
	int rv = put ? cr_batch_member_put(n, &c->meta, on_meta, c)
	             : cr_batch_member_del(n, c->meta.id, on_meta, c);
	if (rv != 0)
		change_done(c, rv, "member %llu: member record: %s",
		            (unsigned long long)c->meta.id, n->errmsg);
}

static void start_assign(struct cr_change *c)
{
	struct cr_node *n = c->node;
	c->next = STEP_WAIT;
	int rv =
	    raft_assign(&n->raft, &c->req, c->meta.id, c->role, on_raft_step);
	if (rv != 0)
		change_done(c, cr_error_from_raft(rv),
		            "member %llu: assign %s: %s",
		            (unsigned long long)c->meta.id,
		            cst_member_role_name((enum cst_member_role)c->role),
		            raft_errmsg(&n->raft));
}

void cr_members_step(struct cr_node *n)
{
	struct cr_change *c = n->change;
	if (!c)
		return;
	enum change_step step = c->next;
	switch (step) {
	case STEP_WAIT:
		return;
	case STEP_ADD_META:
		/* Then assign, unless the member stays a spare. */
		c->next = STEP_WAIT;
		if (c->role == RAFT_SPARE)
			c->role = -1;
		start_meta(c, true);
		return;
	case STEP_ASSIGN:
		start_assign(c);
		return;
	case STEP_REMOVE_META:
		c->next = STEP_WAIT;
		c->role = -1;
		start_meta(c, false);
		return;
	case STEP_DONE:
		n->change = NULL;
		if (c->status)
			cr_node_log(n, CST_LOG_WARN, "%s", c->msg);
		c->cb(c->arg, c->status, c->msg);
		free(c);
		return;
	}
}

void cr_members_abort(struct cr_node *n)
{
	struct cr_change *c = n->change;
	if (!c)
		return;
	n->change = NULL;
	int status =
	    c->next == STEP_DONE && c->status ? c->status : CR_ESHUTDOWN;
	c->cb(c->arg, status,
	      c->next == STEP_DONE && c->status
	          ? c->msg
	          : "node closed during the change");
	free(c);
}

/* ---- public calls -------------------------------------------------------- */

static int check_change(struct cr_node *n)
{
	if (n->close_requested) {
		cr_node_seterr(n, "node %llu is shutting down",
		               (unsigned long long)n->id);
		return CR_ESHUTDOWN;
	}
	if (!cr_node_trusted(n)) {
		cr_node_seterr(n, "node %llu is not a trusted leader",
		               (unsigned long long)n->id);
		return CR_ENOTLEADER;
	}
	if (n->change) {
		cr_node_seterr(n, "member %llu: change in progress",
		               (unsigned long long)n->change->meta.id);
		return CR_EBUSY;
	}
	return 0;
}

static struct cr_change *new_change(struct cr_node *n, uint64_t id,
                                    cr_done_cb cb, void *arg)
{
	struct cr_change *c = cu_xcalloc(1, sizeof(*c));
	c->req.data = c;
	c->node = n;
	c->meta.id = id;
	c->cb = cb;
	c->arg = arg;
	c->next = STEP_WAIT;
	return c;
}

static int started(struct cr_node *n, struct cr_change *c, int rv,
                   const char *what)
{
	if (rv != 0) {
		cr_node_seterr(n, "member %llu: %s: %s",
		               (unsigned long long)c->meta.id, what,
		               raft_errmsg(&n->raft));
		free(c);
		return cr_error_from_raft(rv);
	}
	n->change = c;
	return 0;
}

int cr_node_add(cr_node *n, uint64_t id, const char *raft_address,
                const char *api_address, enum cst_member_role role,
                cr_done_cb cb, void *arg)
{
	int rv = check_change(n);
	if (rv != 0)
		return rv;
	if (id == 0 || (unsigned)role > CST_MEMBER_SPARE ||
	    (api_address && strlen(api_address) >= CST_API_ADDR_MAX)) {
		cr_node_seterr(n,
		               "member %llu: id must be > 0, role valid, "
		               "api_address shorter than %d",
		               (unsigned long long)id, CST_API_ADDR_MAX);
		return CR_EINVAL;
	}
	if (cr_check_raft_address("raft_address", raft_address, n->errmsg,
	                          sizeof(n->errmsg)))
		return CR_EINVAL;
	struct cr_change *c = new_change(n, id, cb, arg);
	c->role = (int)role;
	snprintf(c->meta.raft_address, sizeof(c->meta.raft_address), "%s",
	         raft_address);
	snprintf(c->meta.api_address, sizeof(c->meta.api_address), "%s",
	         api_address ? api_address : "");
	rv = raft_add(&n->raft, &c->req, id, raft_address, on_added);
	return started(n, c, rv, "add");
}

int cr_node_assign(cr_node *n, uint64_t id, enum cst_member_role role,
                   cr_done_cb cb, void *arg)
{
	int rv = check_change(n);
	if (rv != 0)
		return rv;
	struct cr_change *c = new_change(n, id, cb, arg);
	c->role = (int)role;
	rv = raft_assign(&n->raft, &c->req, id, c->role, on_raft_step);
	return started(n, c, rv, "assign");
}

int cr_node_remove(cr_node *n, uint64_t id, cr_done_cb cb, void *arg)
{
	int rv = check_change(n);
	if (rv != 0)
		return rv;
	struct cr_change *c = new_change(n, id, cb, arg);
	rv = raft_remove(&n->raft, &c->req, id, on_removed);
	return started(n, c, rv, "remove");
}

/* ---- the member table after an election ---------------------------------- */

static void on_refresh(void *arg, int status, const cs_result *res)
{
	struct cr_node *n = arg;
	(void)res;
	if (status != 0 && !n->closing)
		cr_node_log(n, CST_LOG_WARN, "member record: %s",
		            cr_strerror(status));
}

/* What this node knows a member's record should say, or false if it knows
 * nothing (members added later carry their record from cr_node_add). */
static bool wanted_meta(struct cr_node *n, const struct raft_server *s,
                        struct cr_member_meta *m)
{
	const char *api = NULL;
	if (s->id == n->id)
		api = n->api_address;
	for (unsigned i = 0; !api && i < n->npeers; i++)
		if (n->peers[i].id == s->id)
			api = n->peers[i].api_address;
	if (!api)
		return false;
	memset(m, 0, sizeof(*m));
	m->id = s->id;
	snprintf(m->raft_address, sizeof(m->raft_address), "%s", s->address);
	snprintf(m->api_address, sizeof(m->api_address), "%s", api);
	return true;
}

void cr_members_refresh(struct cr_node *n)
{
	const struct raft_configuration *conf = &n->raft.configuration;
	for (unsigned i = 0; i < conf->n; i++) {
		struct cr_member_meta want;
		if (!wanted_meta(n, &conf->servers[i], &want))
			continue;
		const struct cr_member_meta *have =
		    cr_fsm_member(&n->fsm, want.id);
		if (have &&
		    strcmp(have->raft_address, want.raft_address) == 0 &&
		    strcmp(have->api_address, want.api_address) == 0)
			continue;
		cr_batch_member_put(n, &want, on_refresh, n);
	}
}

/* ---- leadership transfer ------------------------------------------------- */

struct transfer {
	struct raft_transfer req;
	struct cr_node *node;
	uint64_t target;
	cr_done_cb cb;
	void *arg;
};

static void on_transfer(struct raft_transfer *req)
{
	struct transfer *t = req->data;
	struct cr_node *n = t->node;
	raft_id id = 0;
	const char *addr = NULL;
	char msg[CST_ERRMSG_SIZE] = "";
	raft_leader(&n->raft, &id, &addr);
	bool ok = t->target ? id == t->target : id != 0 && id != n->id;
	if (!ok)
		snprintf(msg, sizeof(msg),
		         "transfer to %llu: leader is now %llu",
		         (unsigned long long)t->target, (unsigned long long)id);
	t->cb(t->arg, ok ? 0 : CR_ETRANSFER, msg);
	free(t);
}

int cr_node_transfer(cr_node *n, uint64_t id, cr_done_cb cb, void *arg)
{
	if (n->close_requested)
		return CR_ESHUTDOWN;
	struct transfer *t = cu_xcalloc(1, sizeof(*t));
	t->req.data = t;
	t->node = n;
	t->target = id;
	t->cb = cb;
	t->arg = arg;
	int rv = raft_transfer(&n->raft, &t->req, id, on_transfer);
	if (rv != 0) {
		cr_node_seterr(n, "transfer to %llu: %s",
		               (unsigned long long)id, raft_text(rv));
		free(t);
		return cr_error_from_raft(rv);
	}
	return 0;
}
