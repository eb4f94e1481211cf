/* op_machine_remove.c: machine_remove, taking a machine out of the cell;
 * its tasks are lost (pending again while retries remain). */
#include "bin_util.h"
#include "json_util.h"

struct cs_op *cs_txn_machine_remove(cs_txn *txn, const char *machine)
{
	struct cs_op *op = cs_txn_add(txn, CS_OP_MACHINE_REMOVE);
	op->machine = cs_arena_strdup(txn->arena, machine);
	return op;
}

/* ---- JSON ---- */

static const char *const machine_remove_fields[] = {"op", "machine", "seq",
                                                    NULL};

static int machine_remove_json_read(struct cs_jdec *d, const json_t *o,
                                    cs_txn *t)
{
	const char *machine = NULL;
	struct cs_jseq seq;
	if (cs_jget_machine(d, o, CS_JREQ, &machine) < 0 ||
	    cs_jget_seq(d, o, &seq) < 0)
		return -1;
	cs_jseq_apply(cs_txn_machine_remove(t, machine), &seq);
	return 0;
}

static void machine_remove_json_write(json_t *o, const struct cs_op *op)
{
	cs_jset_str(o, "machine", op->machine);
	cs_jput_seq(o, op);
}

static int machine_remove_check(struct cs_jdec *d, const struct cs_op *op)
{
	return cs_jcheck_name_at(d, "machine", op->machine, CS_EXPECT_MACHINE);
}

/* ---- binary: str machine ---- */

static void machine_remove_bin_put(struct cu_buf *w, const struct cs_op *op)
{
	cs_bput_str(w, op->machine);
}

static void machine_remove_bin_get(struct cs_bdec *r, struct cs_op *op)
{
	op->machine = cs_bget_str(r);
}

/* ---- apply ---- */

static enum cs_reason machine_remove_apply(struct cs_apply *a,
                                           const struct cs_op *op)
{
	uint32_t slot;
	enum cs_reason r = cs_find_op_machine(a, op, &slot);
	if (r)
		return r;
	cs_machine_lose_tasks(a, slot);
	cs_note_removed(a, CS_CHANGE_MACHINE_REMOVED, op->machine);
	cs_drop_machine(a, slot);
	return CS_R_OK;
}

const struct cs_op_desc cs_op_desc_machine_remove = {
    .name = "machine_remove",
    .seq = CS_SEQ_OPTIONAL,
    .fields = machine_remove_fields,
    .json_read = machine_remove_json_read,
    .json_write = machine_remove_json_write,
    .check = machine_remove_check,
    .bin_put = machine_remove_bin_put,
    .bin_get = machine_remove_bin_get,
    .apply = machine_remove_apply,
};
