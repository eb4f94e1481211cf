/* sched_lease.c: scheduler leases, a leader duty (docs/ARCHITECTURE.md
 * §3), kept in the writer's memory like machine heartbeats: only an expiry
 * becomes a transaction. A scheduler silent past --sched-ttl is
 * unregistered (one transaction for every scheduler that expired in a
 * sweep), then the standby member it named (`member`) is removed from the
 * membership, one change at a time. A new writer knows nobody's last
 * heartbeat, so it gives every scheduler one full TTL of grace (ttl.c).
 *
 * The removal queue is writer memory too: if writing moves between the
 * unregistration and the removal, the standby stays in the membership (an
 * operator removes it with `cellctl members remove`); nothing in the log
 * says which standby belonged to a scheduler that is gone. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* A scheduler of the unregistration in flight, or a standby to remove. */
struct expired {
	char name[CS_NAME_MAX + 1]; /* the scheduler */
	uint64_t member;            /* the member it named; 0: none */
};

/* A standby waiting for removal, in the order they expired. */
struct standby {
	struct cu_list link;
	struct expired of;
};

struct leases {
	cd_core *core;
	struct cd_ttl ttl; /* scheduler name -> last sign of life */
	/* The unregistration in flight (NULL: none), in the order of its ops:
	 * the registry forgets the members once it applies. */
	struct expired *expiring;
	uint32_t nexpiring;
	struct cu_list standbys; /* struct standby, owned; ids unique */
	uint64_t removing; /* the member whose removal is in flight, or 0 */
};

static void *open_leases(cd_core *c)
{
	struct leases *l = cu_xcalloc(1, sizeof(*l));
	l->core = c;
	cd_ttl_init(&l->ttl, c, c->cfg.sched_ttl_ms);
	cu_list_init(&l->standbys);
	return l;
}

static void drop_standby(struct standby *sb)
{
	cu_list_remove(&sb->link);
	free(sb);
}

static void close_leases(void *self)
{
	struct leases *l = self;
	struct cu_list *it, *tmp;
	CU_LIST_FOREACH_SAFE (it, tmp, &l->standbys) {
		drop_standby(cu_container_of(it, struct standby, link));
	}
	cd_ttl_destroy(&l->ttl);
	free(l->expiring);
	free(l);
}

static void on_writer(void *self)
{
	struct leases *l = self;
	cd_ttl_grace(&l->ttl);
}

/* A registration that applied is a sign of life (a scheduler registers,
 * then heartbeats: it must not expire in between because the grace began
 * long ago); an unregistration forgets the scheduler. */
static void on_applied(void *self, uint64_t index, const cs_txn *txn,
                       const cs_result *res)
{
	struct leases *l = self;
	(void)index;
	if (res->duplicate) /* its first verdicts, and no change */
		return;
	for (uint32_t i = 0; i < txn->nops && i < res->nops; i++) {
		const struct cs_op *op = &txn->ops[i];
		if (res->ops[i].reason != CS_R_OK)
			continue;
		if (op->kind == CS_OP_SCHED_REGISTER)
			cd_ttl_seen(&l->ttl, op->sched);
		else if (op->kind == CS_OP_SCHED_UNREGISTER)
			cd_ttl_forget(&l->ttl, op->sched);
	}
}

static double period(const void *self)
{
	const struct leases *l = self;
	return cd_ttl_period(&l->ttl);
}

/* ---- removing the standbys of expired schedulers ---- */

/* The registered scheduler that names member id, or NULL. */
static const char *named_by(const cs_state *s, uint64_t id)
{
	for (uint32_t i = 0; i < cs_sched_count(s); i++)
		if (cs_sched_at(s, i)->member == id)
			return cs_sched_at(s, i)->name;
	return NULL;
}

/* The membership's role of member id: -1 when it is not in it, -2 when
 * the store has no membership. */
static int member_role(const cst_store *store, uint64_t id)
{
	struct cst_member *m;
	unsigned n;
	int role = -1;
	if (cst_members(store, &m, &n))
		return -2;
	for (unsigned i = 0; i < n; i++)
		if (m[i].id == id)
			role = (int)m[i].role;
	free(m);
	return role;
}

/* Whether member e->member should still go. Only standbys are removed this
 * way: a voter or spare that a scheduler named is an operator's business,
 * and a standby that a registered scheduler names again (it came back)
 * stays. */
static bool still_removable(const struct leases *l, const struct expired *e)
{
	const cst_store *store = l->core->store;
	int role = member_role(store, e->member);
	const char *again = named_by(cst_state(store), e->member);
	if (role == -2) {
		CC_INFO("member %" PRIu64 " of expired scheduler %s: this "
		        "store has no membership to remove it from",
		        e->member, e->name);
		return false;
	}
	if (role < 0) {
		CC_INFO("member %" PRIu64 " of expired scheduler %s has left "
		        "the configuration already",
		        e->member, e->name);
		return false;
	}
	if (role != CST_MEMBER_STANDBY) {
		CC_WARN("member %" PRIu64 " of expired scheduler %s is a %s: "
		        "left in place (expiry removes standbys only)",
		        e->member, e->name,
		        cst_member_role_name((enum cst_member_role)role));
		return false;
	}
	if (again) {
		CC_INFO("member %" PRIu64 " of expired scheduler %s is named "
		        "by scheduler %s again: kept",
		        e->member, e->name, again);
		return false;
	}
	return true;
}

static struct standby *find_standby(const struct leases *l, uint64_t id)
{
	for (struct cu_list *it = cu_list_first(&l->standbys); it;
	     it = cu_list_next(&l->standbys, it)) {
		struct standby *sb = cu_container_of(it, struct standby, link);
		if (sb->of.member == id)
			return sb;
	}
	return NULL;
}

static void queue_standby(struct leases *l, const struct expired *e)
{
	struct standby *sb = find_standby(l, e->member);
	if (!sb) {
		sb = cu_xcalloc(1, sizeof(*sb));
		cu_list_push_back(&l->standbys, &sb->link);
	}
	sb->of = *e; /* the scheduler that named it last */
}

/* Whether a failed membership change is worth another try next sweep. */
static bool transient(int rc)
{
	return rc == CST_EBUSY || rc == CST_ENOTWRITER || rc == CST_ESHUTDOWN ||
	       rc == CST_EUNKNOWN || rc == CST_EIO;
}

static void on_removed(void *arg, int status, const char *msg)
{
	struct leases *l = arg;
	uint64_t id = l->removing;
	struct standby *sb = find_standby(l, id);
	l->removing = 0;
	if (!status)
		CC_INFO("standby member %" PRIu64 " removed", id);
	else
		CC_WARN("removing standby member %" PRIu64 ": %s%s%s", id,
		        cst_strerror(status), *msg ? ": " : "", msg);
	if (sb && (!status || !transient(status)))
		drop_standby(sb);
}

/* Starts the removal of one queued standby: the membership changes one
 * member at a time, and CST_EBUSY (another change, such as a standby
 * joining, is in progress) means: again next sweep. */
static void remove_next(struct leases *l)
{
	struct cu_list *it, *tmp;
	if (l->removing)
		return;
	CU_LIST_FOREACH_SAFE (it, tmp, &l->standbys) {
		struct standby *sb = cu_container_of(it, struct standby, link);
		const struct expired *e = &sb->of;
		if (!still_removable(l, e)) {
			drop_standby(sb);
			continue;
		}
		int rc =
		    cst_member_remove(l->core->store, e->member, on_removed, l);
		if (rc == 0) {
			CC_INFO("removing standby member %" PRIu64
			        " of expired scheduler %s",
			        e->member, e->name);
			l->removing = e->member;
		} else if (rc == CST_EBUSY) {
			CC_DEBUG("standby member %" PRIu64 " of scheduler %s: "
			         "membership busy, again next sweep",
			         e->member, e->name);
		} else {
			CC_WARN("removing standby member %" PRIu64
			        " of scheduler %s: %s",
			        e->member, e->name, cst_errmsg(l->core->store));
			if (!transient(rc))
				drop_standby(sb);
		}
		return;
	}
}

/* ---- unregistering silent schedulers ---- */

static void on_unregistered(void *arg, int status, const cs_result *res)
{
	struct leases *l = arg;
	struct expired *expiring = l->expiring;
	uint32_t n = l->nexpiring;
	l->expiring = NULL;
	l->nexpiring = 0;
	if (status) {
		CC_WARN("unregistering silent schedulers: %s",
		        cst_strerror(status));
		free(expiring);
		return;
	}
	CC_INFO("%u silent scheduler(s) unregistered at index %" PRIu64,
	        res->accepted, res->index);
	for (uint32_t i = 0; i < res->nops && i < n; i++)
		if (res->ops[i].reason == CS_R_OK && expiring[i].member)
			queue_standby(l, &expiring[i]);
	free(expiring);
	remove_next(l);
}

/* The registered schedulers silent longer than the TTL (counting from the
 * grace start when they have not been heard from), into l->expiring (NULL
 * when there are none). */
static void find_silent(struct leases *l)
{
	const cs_state *s = cst_state(l->core->store);
	l->nexpiring = 0;
	l->expiring = cu_xcalloc(cs_sched_count(s), sizeof(*l->expiring));
	for (uint32_t i = 0; i < cs_sched_count(s); i++) {
		const struct cs_sched *sc = cs_sched_at(s, i);
		if (!cd_ttl_expired(&l->ttl, sc->name))
			continue;
		struct expired *e = &l->expiring[l->nexpiring++];
		snprintf(e->name, sizeof(e->name), "%s", sc->name);
		e->member = sc->member;
		CC_WARN("scheduler %s silent for %.1f s: unregistering it",
		        sc->name, cd_ttl_silent(&l->ttl, sc->name));
	}
	if (!l->nexpiring) {
		free(l->expiring);
		l->expiring = NULL;
	}
}

/* One transaction unregisters every silent scheduler. */
static void unregister_silent(struct leases *l)
{
	find_silent(l);
	if (!l->expiring)
		return;
	char id[96];
	cs_txn *txn =
	    cs_txn_new(cd_own_txn_id(l->core, "sched-ttl", id, sizeof(id)),
	               "celld", CS_INCREMENTAL, CS_FINE);
	for (uint32_t i = 0; i < l->nexpiring; i++)
		cs_txn_sched_unregister(txn, l->expiring[i].name);
	if (cst_submit(l->core->store, txn, on_unregistered, l)) {
		CC_WARN("unregistering silent schedulers: %s",
		        cst_errmsg(l->core->store));
		cs_txn_free(txn);
		free(l->expiring);
		l->expiring = NULL;
		l->nexpiring = 0;
	}
}

static void sweep(void *self)
{
	struct leases *l = self;
	remove_next(l);
	if (!l->expiring)
		unregister_silent(l);
}

const struct cd_duty cd_duty_leases = {
    .name = "scheduler leases",
    .open = open_leases,
    .close = close_leases,
    .on_writer = on_writer,
    .on_applied = on_applied,
    .period = period,
    .sweep = sweep,
};

bool cd_sched_beat(cd_core *c, const char *name)
{
	struct leases *l = cd_duty_self(c, &cd_duty_leases);
	if (!cs_sched_find(cst_state(c->store), name))
		return false;
	cd_ttl_seen(&l->ttl, name);
	return true;
}

int cd_sched_alive(const cd_core *c, const char *name)
{
	const struct leases *l = cd_duty_self(c, &cd_duty_leases);
	if (!cst_writable(c->store))
		return -1; /* only the writer hears heartbeats */
	return !cd_ttl_expired(&l->ttl, name);
}
