/* sched_lease.c: scheduler leases (DESIGN §3), kept in the leader's memory
 * like machine heartbeats: only an expiry becomes a transaction. A scheduler
 * silent past --sched-ttl is unregistered (one transaction for every
 * scheduler that expired in a sweep), then the Raft standby it named
 * (`member`) is removed from the configuration, one membership change at a
 * time. A new leader knows nobody's last heartbeat, so it gives every
 * scheduler one full TTL of grace (ttl.c).
 *
 * The removal queue is leader memory too: if leadership moves between the
 * unregistration and the removal, the standby stays in the configuration
 * (an operator removes it with `cellctl members remove`); nothing in the
 * log says which standby belonged to a scheduler that is gone. */
#include "celld.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sched_lease {
	struct celld *d;
	struct ttl_table ttl; /* scheduler name -> last sign of life */
	/* The unregistration in flight, or NULL: [[name, member], ...] in the
	 * order of its ops (the registry forgets the members once it
	 * applies). */
	json_t *expiring;
	/* Standbys to remove: "ID" -> the expired scheduler that named it. */
	json_t *standbys;
	uint64_t removing; /* the member whose removal is in flight, or 0 */
};

static void sweep(void *arg);

struct sched_lease *sched_lease_new(struct celld *d, uint64_t ttl_ms)
{
	struct sched_lease *l = cu_xcalloc(1, sizeof(*l));
	l->d = d;
	ttl_init(&l->ttl, d->loop, ttl_ms, sweep, l);
	l->standbys = json_object();
	return l;
}

void sched_lease_free(struct sched_lease *l)
{
	if (!l)
		return;
	ttl_destroy(&l->ttl);
	json_decref(l->expiring);
	json_decref(l->standbys);
	free(l);
}

uint64_t sched_lease_ttl_ms(const struct sched_lease *l)
{
	return l->ttl.ttl_ms;
}

void sched_lease_trusted(struct sched_lease *l)
{
	ttl_trusted(&l->ttl);
}

int sched_lease_alive(const struct sched_lease *l, const char *name)
{
	if (!cr_node_trusted(l->d->node))
		return -1; /* only the leader hears heartbeats */
	return !ttl_expired(&l->ttl, name);
}

bool sched_lease_beat(struct sched_lease *l, const char *name)
{
	if (!cs_sched_find(cr_node_state(l->d->node), name))
		return false;
	ttl_seen(&l->ttl, name);
	return true;
}

/* A registration that applied is a sign of life (a scheduler registers,
 * then heartbeats: it must not expire in between because the grace began
 * long ago); an unregistration forgets the scheduler. */
void sched_lease_applied(struct sched_lease *l, const cs_txn *txn,
                         const cs_result *res)
{
	if (res->duplicate) /* its first verdicts, and no change */
		return;
	for (uint32_t i = 0; i < txn->nops && i < res->nops; i++) {
		const struct cs_op *op = &txn->ops[i];
		if (res->ops[i].reason != CS_R_OK)
			continue;
		if (op->kind == CS_OP_SCHED_REGISTER)
			ttl_seen(&l->ttl, op->sched);
		else if (op->kind == CS_OP_SCHED_UNREGISTER)
			ttl_forget(&l->ttl, op->sched);
	}
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

/* The configuration's role of member id, or -1 when it is not in it. */
static int member_role(const cr_node *node, uint64_t id)
{
	struct cr_member *m;
	unsigned n;
	int role = -1;
	cr_node_members(node, &m, &n);
	for (unsigned i = 0; i < n; i++)
		if (m[i].id == id)
			role = (int)m[i].role;
	free(m);
	return role;
}

/* Whether member id should still go. Only standbys are removed this way:
 * a voter or spare that a scheduler named is an operator's business, and
 * a standby that a registered scheduler names again (it came back) stays. */
static bool still_removable(struct sched_lease *l, uint64_t id,
                            const char *name)
{
	int role = member_role(l->d->node, id);
	const char *again = named_by(cr_node_state(l->d->node), id);
	if (role < 0) {
		CC_INFO("member %" PRIu64 " of expired scheduler %s has left "
		        "the configuration already",
		        id, name);
		return false;
	}
	if (role != CR_MEMBER_STANDBY) {
		CC_WARN("member %" PRIu64 " of expired scheduler %s is a %s: "
		        "left in place (expiry removes standbys only)",
		        id, name,
		        cr_member_role_name((enum cr_member_role)role));
		return false;
	}
	if (again) {
		CC_INFO("member %" PRIu64 " of expired scheduler %s is named "
		        "by scheduler %s again: kept",
		        id, name, again);
		return false;
	}
	return true;
}

static void forget_standby(struct sched_lease *l, uint64_t id)
{
	char key[24];
	snprintf(key, sizeof(key), "%" PRIu64, id);
	json_object_del(l->standbys, key);
}

/* Whether a failed membership change is worth another try next sweep. */
static bool transient(int rc)
{
	return rc == CR_EBUSY || rc == CR_ENOTLEADER || rc == CR_ESHUTDOWN ||
	       rc == CR_ELEADERSHIPLOST || rc == CR_EIO;
}

static void on_removed(void *arg, int status, const char *msg)
{
	struct sched_lease *l = arg;
	uint64_t id = l->removing;
	l->removing = 0;
	if (!status)
		CC_INFO("standby member %" PRIu64 " removed", id);
	else
		CC_WARN("removing standby member %" PRIu64 ": %s%s%s", id,
		        cr_strerror(status), *msg ? ": " : "", msg);
	if (!status || !transient(status))
		forget_standby(l, id);
}

/* Starts the removal of one queued standby: Raft changes its
 * configuration one member at a time, and CR_EBUSY (another change, such
 * as a standby joining, is in progress) means: again next sweep. */
static void remove_next(struct sched_lease *l)
{
	const char *key;
	json_t *v;
	void *tmp;
	if (l->removing)
		return;
	json_object_foreach_safe (l->standbys, tmp, key, v) {
		uint64_t id = strtoull(key, NULL, 10);
		const char *name = json_string_value(v);
		if (!still_removable(l, id, name)) {
			json_object_del(l->standbys, key);
			continue;
		}
		int rc = cr_node_remove(l->d->node, id, on_removed, l);
		if (rc == 0) {
			CC_INFO("removing standby member %" PRIu64
			        " of expired scheduler %s",
			        id, name);
			l->removing = id;
		} else if (rc == CR_EBUSY) {
			CC_DEBUG("standby member %" PRIu64 " of scheduler %s: "
			         "membership busy, again next sweep",
			         id, name);
		} else {
			CC_WARN("removing standby member %" PRIu64
			        " of scheduler %s: %s",
			        id, name, cr_node_errmsg(l->d->node));
			if (!transient(rc))
				json_object_del(l->standbys, key);
		}
		return;
	}
}

/* ---- unregistering silent schedulers ---- */

static void on_unregistered(void *arg, int status, const cs_result *res)
{
	struct sched_lease *l = arg;
	json_t *expiring = l->expiring;
	l->expiring = NULL;
	if (status) {
		CC_WARN("unregistering silent schedulers: %s",
		        cr_strerror(status));
		json_decref(expiring);
		return;
	}
	CC_INFO("%u silent scheduler(s) unregistered at index %" PRIu64,
	        res->accepted, res->index);
	for (uint32_t i = 0; i < res->nops; i++) {
		json_t *e = json_array_get(expiring, i);
		json_int_t member = json_integer_value(json_array_get(e, 1));
		char key[24];
		if (res->ops[i].reason != CS_R_OK || member <= 0)
			continue;
		snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT, member);
		json_object_set(l->standbys, key, json_array_get(e, 0));
	}
	json_decref(expiring);
	remove_next(l);
}

/* The registered schedulers silent longer than the TTL (counting from the
 * grace start when they have not been heard from): [[name, member], ...]. */
static json_t *silent_schedulers(struct sched_lease *l)
{
	const cs_state *s = cr_node_state(l->d->node);
	json_t *silent = json_array();
	for (uint32_t i = 0; i < cs_sched_count(s); i++) {
		const struct cs_sched *sc = cs_sched_at(s, i);
		if (!ttl_expired(&l->ttl, sc->name))
			continue;
		json_array_append_new(
		    silent,
		    json_pack("[s,I]", sc->name, (json_int_t)sc->member));
		CC_WARN("scheduler %s silent for %.1f s: unregistering it",
		        sc->name, ttl_silent(&l->ttl, sc->name));
	}
	return silent;
}

/* One transaction unregisters every silent scheduler. */
static void unregister_silent(struct sched_lease *l)
{
	json_t *silent = silent_schedulers(l), *e;
	size_t i;
	if (!json_array_size(silent)) {
		json_decref(silent);
		return;
	}
	char id[96];
	cs_txn *txn =
	    cs_txn_new(celld_own_txn_id(l->d, "sched-ttl", id, sizeof(id)),
	               "celld", CS_INCREMENTAL, CS_FINE);
	json_array_foreach (silent, i, e) {
		cs_txn_sched_unregister(
		    txn, json_string_value(json_array_get(e, 0)));
	}
	if (cr_node_submit(l->d->node, txn, on_unregistered, l)) {
		CC_WARN("unregistering silent schedulers: %s",
		        cr_node_errmsg(l->d->node));
		cs_txn_free(txn);
		json_decref(silent);
		return;
	}
	l->expiring = silent;
}

static void sweep(void *arg)
{
	struct sched_lease *l = arg;
	if (l->d->stopping || !cr_node_trusted(l->d->node))
		return;
	remove_next(l);
	if (!l->expiring)
		unregister_silent(l);
}
