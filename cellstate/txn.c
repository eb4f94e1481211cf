/* txn.c: building transactions; each op's builder is in its file (op_*.c).
 * Every string and spec an op points to is copied into the transaction's
 * arena, so one cs_txn_free releases it all. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

cs_txn *cs_txn_new(const char *id, const char *origin, enum cs_mode mode,
                   enum cs_detect detect)
{
	cs_txn *t = cu_xcalloc(1, sizeof(*t));
	t->arena = cs_arena_new();
	t->id = cs_arena_strdup(t->arena, id);
	t->origin = cs_arena_strdup(t->arena, origin);
	t->mode = mode;
	t->detect = detect;
	return t;
}

void cs_txn_free(cs_txn *txn)
{
	if (!txn)
		return;
	free(txn->ops);
	cs_arena_free(txn->arena);
	free(txn);
}

struct cs_op *cs_txn_add(cs_txn *t, enum cs_op_kind kind)
{
	cu_grow((void **)&t->ops, &t->capacity, t->nops + 1, sizeof(*t->ops));
	struct cs_op *op = &t->ops[t->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	return op;
}

struct cs_op *cs_txn_task_op(cs_txn *t, enum cs_op_kind kind, const char *job,
                             uint32_t task, const char *machine)
{
	struct cs_op *op = cs_txn_add(t, kind);
	op->job = cs_arena_strdup(t->arena, job);
	op->task = task;
	op->machine = cs_arena_strdup(t->arena, machine);
	return op;
}

void cs_op_expect_seq(struct cs_op *op, uint64_t seq)
{
	op->has_seq = true;
	op->seq = seq;
}
