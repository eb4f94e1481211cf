/* liveness.c: machine heartbeats, kept in the leader's memory, not in the
 * log (as Nomad does): only a state change, a machine silent past its TTL
 * going down, becomes a transaction. A new leader knows nobody's last
 * heartbeat, so it gives every machine one full TTL of grace (ttl.c).
 * Heartbeats arrive through heartbeat.c; schedulers have their own leases,
 * sched_lease.c. */
#include "celld.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct liveness {
	struct celld *d;
	struct ttl_table ttl; /* machine name -> last heartbeat */
	bool sweeping;        /* a down transaction is in flight */
};

static void sweep(void *arg);

struct liveness *liveness_new(struct celld *d, uint64_t ttl_ms)
{
	struct liveness *l = cu_xcalloc(1, sizeof(*l));
	l->d = d;
	ttl_init(&l->ttl, d->loop, ttl_ms, sweep, l);
	return l;
}

void liveness_free(struct liveness *l)
{
	if (!l)
		return;
	ttl_destroy(&l->ttl);
	free(l);
}

void liveness_trusted(struct liveness *l)
{
	ttl_trusted(&l->ttl);
}

static void on_swept(void *arg, int status, const cs_result *res)
{
	struct liveness *l = arg;
	l->sweeping = false;
	if (status)
		CC_WARN("marking silent machines down: %s",
		        cr_strerror(status));
	else
		CC_INFO("%u silent machine(s) marked down at index %llu",
		        res->accepted, (unsigned long long)res->index);
}

/* A machine registered, brought up or drained is alive now: it gets a full
 * TTL from the moment that change applied, not from the leader's grace. */
void liveness_applied(struct liveness *l, const cs_result *res)
{
	for (uint32_t i = 0; i < res->nchanges; i++) {
		const struct cs_change *c = &res->changes[i];
		if (c->kind == CS_CHANGE_MACHINE_REMOVED)
			ttl_forget(&l->ttl, c->machine);
		else if (c->kind == CS_CHANGE_MACHINE &&
		         c->state != CS_MACHINE_DOWN)
			ttl_seen(&l->ttl, c->machine);
	}
}

/* Machines up or draining whose last heartbeat (or the grace start) is
 * older than the TTL go down in one transaction. */
static void sweep(void *arg)
{
	struct liveness *l = arg;
	if (l->sweeping || l->d->stopping || !cr_node_trusted(l->d->node))
		return;
	const cs_state *s = cr_node_state(l->d->node);
	char id[96];
	cs_txn *txn = cs_txn_new(celld_own_txn_id(l->d, "ttl", id, sizeof(id)),
	                         "celld-liveness", CS_INCREMENTAL, CS_COARSE);
	for (uint32_t i = 0; i < cs_machine_slots(s); i++) {
		const struct cs_machine *m = cs_machine_at(s, i);
		if (!m || m->state == CS_MACHINE_DOWN)
			continue;
		if (!ttl_expired(&l->ttl, m->name))
			continue;
		/* coarse: a machine that changed since (re-registered) stays */
		cs_op_expect_seq(
		    cs_txn_machine_state(txn, m->name, CS_MACHINE_DOWN),
		    m->seq);
		CC_WARN("machine %s silent for %.1f s: marking it down",
		        m->name, ttl_silent(&l->ttl, m->name));
	}
	if (!txn->nops || cr_node_submit(l->d->node, txn, on_swept, l)) {
		cs_txn_free(txn);
		return;
	}
	l->sweeping = true;
}

bool liveness_beat(struct liveness *l, const char *name)
{
	if (!cs_machine_find(cr_node_state(l->d->node), name))
		return false;
	ttl_seen(&l->ttl, name);
	return true;
}

uint64_t liveness_ttl_ms(const struct liveness *l)
{
	return l->ttl.ttl_ms;
}
