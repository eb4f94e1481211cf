/* liveness.c: the machine TTL, a leader duty (docs/ARCHITECTURE.md §3).
 * Heartbeats are kept in the writer's memory, not in the log (as Nomad
 * does): only a state change, a machine silent past its TTL going down,
 * becomes a transaction, coarse so that a machine that changed meanwhile
 * is left alone. A new writer knows nobody's last heartbeat, so it gives
 * every machine one full TTL of grace (ttl.c). */
#include <stdlib.h>

#include "core.h"

struct liveness {
	cd_core *core;
	struct cd_ttl ttl; /* machine name -> last heartbeat */
	bool sweeping;     /* a down transaction is in flight */
};

static void *open_liveness(cd_core *c)
{
	struct liveness *l = cu_xcalloc(1, sizeof(*l));
	l->core = c;
	cd_ttl_init(&l->ttl, c, c->cfg.machine_ttl_ms);
	return l;
}

static void close_liveness(void *self)
{
	struct liveness *l = self;
	cd_ttl_destroy(&l->ttl);
	free(l);
}

static void on_writer(void *self)
{
	struct liveness *l = self;
	cd_ttl_grace(&l->ttl);
}

/* A machine registered, brought up or drained is alive now: it gets a full
 * TTL from the moment that change applied, not from the writer's grace. */
static void on_applied(void *self, uint64_t index, const cs_txn *txn,
                       const cs_result *res)
{
	struct liveness *l = self;
	(void)index;
	(void)txn;
	for (uint32_t i = 0; i < res->nchanges; i++) {
		const struct cs_change *c = &res->changes[i];
		if (c->kind == CS_CHANGE_MACHINE_REMOVED)
			cd_ttl_forget(&l->ttl, c->machine);
		else if (c->kind == CS_CHANGE_MACHINE &&
		         c->state != CS_MACHINE_DOWN)
			cd_ttl_seen(&l->ttl, c->machine);
	}
}

static double period(const void *self)
{
	const struct liveness *l = self;
	return cd_ttl_period(&l->ttl);
}

static void on_swept(void *arg, int status, const cs_result *res)
{
	struct liveness *l = arg;
	l->sweeping = false;
	if (status)
		CC_WARN("marking silent machines down: %s",
		        cst_strerror(status));
	else
		CC_INFO("%u silent machine(s) marked down at index %llu",
		        res->accepted, (unsigned long long)res->index);
}

/* The machines up or draining whose last heartbeat (or the grace start) is
 * older than the TTL, down in one transaction. */
static cs_txn *down_txn(struct liveness *l)
{
	const cs_state *s = cst_state(l->core->store);
	char id[96];
	cs_txn *txn = cs_txn_new(cd_own_txn_id(l->core, "ttl", id, sizeof(id)),
	                         "celld-liveness", CS_INCREMENTAL, CS_COARSE);
	for (uint32_t i = 0; i < cs_machine_slots(s); i++) {
		const struct cs_machine *m = cs_machine_at(s, i);
		if (!m || m->state == CS_MACHINE_DOWN ||
		    !cd_ttl_expired(&l->ttl, m->name))
			continue;
		/* coarse: a machine that changed since (re-registered) stays */
		cs_op_expect_seq(
		    cs_txn_machine_state(txn, m->name, CS_MACHINE_DOWN),
		    m->seq);
		CC_WARN("machine %s silent for %.1f s: marking it down",
		        m->name, cd_ttl_silent(&l->ttl, m->name));
	}
	return txn;
}

static void sweep(void *self)
{
	struct liveness *l = self;
	if (l->sweeping)
		return;
	cs_txn *txn = down_txn(l);
	if (!txn->nops || cst_submit(l->core->store, txn, on_swept, l)) {
		cs_txn_free(txn);
		return;
	}
	l->sweeping = true;
}

const struct cd_duty cd_duty_liveness = {
    .name = "machine liveness",
    .open = open_liveness,
    .close = close_liveness,
    .on_writer = on_writer,
    .on_applied = on_applied,
    .period = period,
    .sweep = sweep,
};

bool cd_machine_beat(cd_core *c, const char *name)
{
	struct liveness *l = cd_duty_self(c, &cd_duty_liveness);
	if (!cs_machine_find(cst_state(c->store), name))
		return false;
	cd_ttl_seen(&l->ttl, name);
	return true;
}
