/* op_machine_state.c: machine_state, an operator (or the agent watchdog)
 * marking a machine up, draining or down; down loses its tasks. */
#include "bin_util.h"
#include "json_util.h"

struct cs_op *cs_txn_machine_state(cs_txn *txn, const char *machine,
                                   enum cs_machine_state state)
{
	struct cs_op *op = cs_txn_add(txn, CS_OP_MACHINE_STATE);
	op->machine = cs_arena_strdup(txn->arena, machine);
	op->machine_state = state;
	return op;
}

/* ---- JSON ---- */

static const char *const machine_state_fields[] = {"op", "machine", "state",
                                                   "seq", NULL};

static int get_state(struct cs_jdec *d, const json_t *o, int *state)
{
	const char *names[CS_MACHINE_DOWN + 1];
	for (int i = 0; i <= CS_MACHINE_DOWN; i++)
		names[i] = cs_machine_state_name((enum cs_machine_state)i);
	return cs_jget_enum(d, o, "state", CS_JREQ, names, CS_ARRAY_LEN(names),
	                    state);
}

static int machine_state_json_read(struct cs_jdec *d, const json_t *o,
                                   cs_txn *t)
{
	const char *machine = NULL;
	int state = 0;
	struct cs_jseq seq;
	if (cs_jget_machine(d, o, CS_JREQ, &machine) < 0 ||
	    get_state(d, o, &state) < 0 || cs_jget_seq(d, o, &seq) < 0)
		return -1;
	cs_jseq_apply(
	    cs_txn_machine_state(t, machine, (enum cs_machine_state)state),
	    &seq);
	return 0;
}

static void machine_state_json_write(json_t *o, const struct cs_op *op)
{
	cs_jset_str(o, "machine", op->machine);
	cs_jset_str(o, "state", cs_machine_state_name(op->machine_state));
	cs_jput_seq(o, op);
}

static int machine_state_check(struct cs_jdec *d, const struct cs_op *op)
{
	if (cs_jcheck_name_at(d, "machine", op->machine, CS_EXPECT_MACHINE) < 0)
		return -1;
	if ((unsigned)op->machine_state > CS_MACHINE_DOWN)
		return cs_jerr_at(d, "state", "expected %s, got %d",
		                  CS_EXPECT_MACHINE_STATE,
		                  (int)op->machine_state);
	return 0;
}

/* ---- binary: str machine, u8 state ---- */

static void machine_state_bin_put(struct cu_buf *w, const struct cs_op *op)
{
	cs_bput_str(w, op->machine);
	cu_buf_u8(w, op->machine_state);
}

static void machine_state_bin_get(struct cs_bdec *r, struct cs_op *op)
{
	op->machine = cs_bget_str(r);
	op->machine_state = (enum cs_machine_state)cs_bget_u8(r);
}

/* ---- apply ---- */

static enum cs_reason machine_state_apply(struct cs_apply *a,
                                          const struct cs_op *op)
{
	uint32_t slot;
	enum cs_reason r = cs_find_op_machine(a, op, &slot);
	if (r)
		return r;
	if (cs_slot(a->s, slot)->state != op->machine_state)
		cs_machine_set_state(a, slot, op->machine_state);
	return CS_R_OK;
}

const struct cs_op_desc cs_op_desc_machine_state = {
    .name = "machine_state",
    .seq = CS_SEQ_OPTIONAL,
    .fields = machine_state_fields,
    .json_read = machine_state_json_read,
    .json_write = machine_state_json_write,
    .check = machine_state_check,
    .bin_put = machine_state_bin_put,
    .bin_get = machine_state_bin_get,
    .apply = machine_state_apply,
};
