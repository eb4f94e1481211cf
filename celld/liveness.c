/* liveness.c: machine heartbeats, kept in the leader's memory, not in the
 * log (as Nomad does): only a state change, a machine silent past its TTL
 * going down, becomes a transaction. A new leader knows nobody's last
 * heartbeat, so it gives every machine one full TTL of grace. */
#include "celld.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEARTBEAT_MAX_MACHINES 100000

struct liveness {
	struct celld *d;
	uint64_t ttl_ms;
	json_t *last;         /* machine name -> last heartbeat (ev_now, s) */
	ev_tstamp grace_from; /* when this member became the trusted leader */
	bool sweeping;        /* a down transaction is in flight */
	ev_timer timer;
};

static void on_sweep(struct ev_loop *loop, ev_timer *t, int revents);

struct liveness *liveness_new(struct celld *d, uint64_t ttl_ms)
{
	struct liveness *l = calloc(1, sizeof(*l));
	l->d = d;
	l->ttl_ms = ttl_ms;
	l->last = json_object();
	if (ttl_ms) {
		double every = (double)ttl_ms / 4000.0;
		ev_timer_init(&l->timer, on_sweep, every, every);
		l->timer.data = l;
		ev_timer_start(d->loop, &l->timer);
	}
	return l;
}

void liveness_free(struct liveness *l)
{
	if (!l)
		return;
	if (l->ttl_ms)
		ev_timer_stop(l->d->loop, &l->timer);
	json_decref(l->last);
	free(l);
}

void liveness_trusted(struct liveness *l)
{
	json_object_clear(l->last);
	l->grace_from = ev_now(l->d->loop);
}

static void on_swept(void *arg, int status, const cs_result *res)
{
	struct liveness *l = arg;
	l->sweeping = false;
	if (status)
		CC_WARN("marking silent machines down: %s", cr_strerror(status));
	else
		CC_INFO("%u silent machine(s) marked down at index %llu",
			res->accepted, (unsigned long long)res->index);
}

/* A machine registered, brought up or drained is alive now: it gets a full
 * TTL from the moment that change applied, not from the leader's grace. */
void liveness_applied(struct liveness *l, const cs_result *res)
{
	ev_tstamp now = ev_now(l->d->loop);
	for (uint32_t i = 0; i < res->nchanges; i++) {
		const struct cs_change *c = &res->changes[i];
		if (c->kind == CS_CHANGE_MACHINE_REMOVED)
			json_object_del(l->last, c->machine);
		else if (c->kind == CS_CHANGE_MACHINE &&
			 c->state != CS_MACHINE_DOWN)
			json_object_set_new(l->last, c->machine, json_real(now));
	}
}

/* Machines up or draining whose last heartbeat (or the grace start) is
 * older than the TTL go down in one transaction. */
static void on_sweep(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct liveness *l = t->data;
	(void)revents;
	if (l->sweeping || l->d->stopping || !cr_node_trusted(l->d->node))
		return;
	ev_tstamp now = ev_now(loop), ttl = (double)l->ttl_ms / 1000.0;
	const cs_state *s = cr_node_state(l->d->node);
	char id[64];
	snprintf(id, sizeof(id), "ttl-%llu-%llu",
		 (unsigned long long)cr_node_id(l->d->node),
		 (unsigned long long)++l->d->serial);
	cs_txn *txn = cs_txn_new(id, "celld-liveness", CS_INCREMENTAL, CS_COARSE);
	for (uint32_t i = 0; i < cs_machine_slots(s); i++) {
		const struct cs_machine *m = cs_machine_at(s, i);
		if (!m || m->state == CS_MACHINE_DOWN)
			continue;
		json_t *seen = json_object_get(l->last, m->name);
		ev_tstamp last = seen ? json_real_value(seen) : l->grace_from;
		if (now - last <= ttl)
			continue;
		/* coarse: a machine that changed since (re-registered) stays */
		cs_op_expect_seq(cs_txn_machine_state(txn, m->name,
						      CS_MACHINE_DOWN),
				 m->seq);
		CC_WARN("machine %s silent for %.1f s: marking it down", m->name,
			now - last);
	}
	if (!txn->nops || cr_node_submit(l->d->node, txn, on_swept, l)) {
		cs_txn_free(txn);
		return;
	}
	l->sweeping = true;
}

/* POST /v1/heartbeat {"machines": ["m1", ...]} */
void liveness_handle(struct celld *d, struct cc_request *r)
{
	struct liveness *l = d->live;
	char err[CC_ERRMSG_SIZE];
	json_t *body = cc_request_json(r, err, sizeof(err));
	json_t *names = body ? json_object_get(body, "machines") : NULL;
	if (!json_is_array(names) || json_object_size(body) != 1 ||
	    json_array_size(names) > HEARTBEAT_MAX_MACHINES) {
		if (body)
			cc_reply_error(r, 400, "bad_heartbeat",
				       "expected {\"machines\": [NAME, ...]} "
				       "with at most %d names",
				       HEARTBEAT_MAX_MACHINES);
		else
			cc_reply_error(r, 400, "bad_heartbeat", "%s", err);
		json_decref(body);
		return;
	}
	size_t i;
	json_t *v;
	/* A name that is not a string is a malformed heartbeat, not an
	 * unknown machine: say which element, and take none of it. */
	json_array_foreach(names, i, v) {
		if (!json_is_string(v)) {
			cc_reply_error(r, 400, "bad_heartbeat",
				       "machines[%zu]: expected a machine name "
				       "(a string)",
				       i);
			json_decref(body);
			return;
		}
	}
	const cs_state *s = cr_node_state(d->node);
	ev_tstamp now = ev_now(d->loop);
	json_t *unknown = json_array();
	json_array_foreach(names, i, v) {
		const char *name = json_string_value(v);
		if (!cs_machine_find(s, name))
			json_array_append(unknown, v);
		else
			json_object_set_new(l->last, name, json_real(now));
	}
	json_decref(body);
	cc_reply_json(r, 200,
		      json_pack("{s:I,s:o}", "ttl_ms", (json_int_t)l->ttl_ms,
				"unknown", unknown));
}
