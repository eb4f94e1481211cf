/* op_sched_unregister.c: sched_unregister, taking a scheduler out of the
 * registry (an operator, or the leader when its lease expires). */
#include "bin_util.h"
#include "json_util.h"

struct cs_op *cs_txn_sched_unregister(cs_txn *txn, const char *name)
{
	struct cs_op *op = cs_txn_add(txn, CS_OP_SCHED_UNREGISTER);
	op->sched = cs_arena_strdup(txn->arena, name);
	return op;
}

/* ---- JSON: {"op", "scheduler": a name} ---- */

static const char *const sched_unregister_fields[] = {"op", "scheduler", NULL};

static int sched_unregister_json_read(struct cs_jdec *d, const json_t *o,
                                      cs_txn *t)
{
	const char *name;
	if (cs_jget_str(d, o, "scheduler", CS_JREQ, cs_name_valid,
	                CS_EXPECT_SCHED, &name) < 0)
		return -1;
	cs_txn_sched_unregister(t, name);
	return 0;
}

static void sched_unregister_json_write(json_t *o, const struct cs_op *op)
{
	cs_jset_str(o, "scheduler", op->sched);
}

static int sched_unregister_check(struct cs_jdec *d, const struct cs_op *op)
{
	return cs_jcheck_name_at(d, "scheduler", op->sched, CS_EXPECT_SCHED);
}

/* ---- binary: str name ---- */

static void sched_unregister_bin_put(struct cu_buf *w, const struct cs_op *op)
{
	cs_bput_str(w, op->sched);
}

static void sched_unregister_bin_get(struct cs_bdec *r, struct cs_op *op)
{
	op->sched = cs_bget_str(r);
}

/* ---- apply ---- */

static enum cs_reason sched_unregister_apply(struct cs_apply *a,
                                             const struct cs_op *op)
{
	cs_state *s = a->s;
	bool found;
	uint32_t at = op->sched ? cs_sched_search(s, op->sched, &found) : 0;
	if (!op->sched || !found)
		return cs_reject(a, CS_R_UNKNOWN_SCHEDULER,
		                 "scheduler %s is not registered",
		                 op->sched ? op->sched : "(none)");
	cs_save_scheds(a);
	memmove(&s->scheds[at], &s->scheds[at + 1],
	        (s->nscheds - at - 1) * sizeof(*s->scheds));
	s->nscheds--;
	return CS_R_OK;
}

const struct cs_op_desc cs_op_desc_sched_unregister = {
    .name = "sched_unregister",
    .seq = CS_SEQ_NEVER,
    .fields = sched_unregister_fields,
    .json_read = sched_unregister_json_read,
    .json_write = sched_unregister_json_write,
    .check = sched_unregister_check,
    .bin_put = sched_unregister_bin_put,
    .bin_get = sched_unregister_bin_get,
    .apply = sched_unregister_apply,
};
