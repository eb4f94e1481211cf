/* fake_planner.c: see fake_planner.h. */
#include "fake_planner.h"

#include "testlib.h" /* cmocka */

#include <stdlib.h>
#include <string.h>

#include "cellcommon.h"

static const cs_state *io_state(void *arg)
{
	return ((struct fp_io_arg *)arg)->h->s;
}

static int64_t io_mono(void *arg)
{
	return ((struct fp_io_arg *)arg)->h->now_us;
}

static int64_t io_wall(void *arg)
{
	return ((struct fp_io_arg *)arg)->h->now_us / 1000;
}

static void io_submit(void *arg, cs_txn *txn, uint64_t ticket)
{
	struct fp_io_arg *a = arg;
	fp *h = a->h;
	if (h->nq == h->qcap) {
		h->qcap = h->qcap ? 2 * h->qcap : 64;
		h->q = cu_xrealloc(h->q, h->qcap * sizeof(*h->q));
	}
	h->q[h->nq++] = (struct fp_submission){a->core, txn, ticket};
	h->submitted++;
}

fp *fp_new(void)
{
	fp *h = cu_xcalloc(1, sizeof(*h));
	h->s = cs_state_new(NULL);
	cs_state_track_changes(h->s, true);
	h->now_us = 1000000;
	return h;
}

void fp_free(fp *h)
{
	if (!h)
		return;
	for (int i = 0; i < h->ncores; i++)
		sp_core_free(h->cores[i]);
	for (uint32_t i = 0; i < h->nq; i++)
		cs_txn_free(h->q[i].txn);
	free(h->q);
	cs_state_free(h->s);
	free(h);
}

sp_core *fp_add_core(fp *h, const struct sp_core_config *cfg)
{
	if (h->ncores == FP_CORES_MAX)
		fail_msg("the fake planner runs at most %d cores",
		         FP_CORES_MAX);
	int i = h->ncores++;
	h->io_args[i] = (struct fp_io_arg){h, i};
	struct sp_io io = {io_state, io_mono, io_wall, io_submit,
	                   &h->io_args[i]};
	h->cores[i] = sp_core_new(cfg, &io);
	return h->cores[i];
}

static void applied(fp *h, const cs_txn *txn, const cs_result *res)
{
	for (int i = 0; i < h->ncores; i++)
		sp_core_applied(h->cores[i], res->index, txn, res);
}

cs_result fp_apply(fp *h, cs_txn *txn)
{
	cs_result res;
	uint64_t index = cs_state_applied_index(h->s) + 1;
	cs_apply(h->s, txn, index, h->now_us / 1000, &res);
	char err[CS_ERRMSG_SIZE];
	if (cs_state_check(h->s, err, sizeof(err)))
		fail_msg("invariant broken after entry %llu: %s",
		         (unsigned long long)index, err);
	applied(h, txn, &res);
	cs_txn_free(txn);
	return res;
}

void fp_register(fp *h, const char *name, const char *class_name)
{
	cs_txn *t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_FINE);
	struct cs_sched_spec sp = {.name = (char *)name,
	                           .class_name = (char *)class_name,
	                           .policy = (char *)class_name};
	cs_txn_sched_register(t, &sp);
	cs_result r = fp_apply(h, t);
	assert_int_equal(r.accepted, 1);
	cs_result_clear(&r);
}

/* Answers the oldest submission: rival first, then apply, then answer. */
static void answer_one(fp *h)
{
	struct fp_submission sub = h->q[0];
	memmove(h->q, h->q + 1, --h->nq * sizeof(*h->q));
	sp_core *core = h->cores[sub.core];
	if (h->fail_next) {
		h->fail_next--;
		cs_txn_free(sub.txn);
		sp_core_committed(core, sub.ticket, CC_EIO, NULL);
		return;
	}
	if (h->rival)
		h->rival(h, sub.core, sub.txn, h->rival_arg);
	cs_result res = fp_apply(h, sub.txn);
	sp_core_committed(core, sub.ticket, 0, &res);
	cs_result_clear(&res);
}

uint32_t fp_settle(fp *h, uint32_t max_rounds)
{
	uint32_t round = 0;
	for (; round < max_rounds; round++) {
		int64_t wait = -1;
		for (int i = 0; i < h->ncores; i++) {
			int64_t w = sp_core_run(h->cores[i]);
			if (w >= 0 && (wait < 0 || w < wait))
				wait = w;
		}
		if (h->nq) {
			answer_one(h);
			continue;
		}
		if (wait < 0)
			break;
		h->now_us += wait ? wait : 1; /* everyone waits for time */
	}
	return round;
}
