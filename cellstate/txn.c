/* txn.c: building transactions. Every string and spec an op points to is
 * copied into the transaction's arena, so one cs_txn_free releases it all. */
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

static struct cs_op *task_op(cs_txn *t, enum cs_op_kind kind, const char *job,
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

struct cs_op *cs_txn_place(cs_txn *txn, const char *job, uint32_t task,
                           const char *machine, uint64_t seq)
{
	struct cs_op *op = task_op(txn, CS_OP_PLACE, job, task, machine);
	cs_op_expect_seq(op, seq);
	return op;
}

struct cs_op *cs_txn_preempt(cs_txn *txn, const char *job, uint32_t task,
                             const char *machine, uint64_t seq,
                             const char *by_job)
{
	struct cs_op *op = task_op(txn, CS_OP_PREEMPT, job, task, machine);
	cs_op_expect_seq(op, seq);
	op->by_job = cs_arena_strdup(txn->arena, by_job);
	return op;
}

struct cs_op *cs_txn_release(cs_txn *txn, const char *job, uint32_t task,
                             const char *machine)
{
	return task_op(txn, CS_OP_RELEASE, job, task, machine);
}

struct cs_op *cs_txn_task_state(cs_txn *txn, const char *job, uint32_t task,
                                uint32_t attempt, const char *machine,
                                enum cs_task_state report, int32_t exit_code)
{
	struct cs_op *op = task_op(txn, CS_OP_TASK_STATE, job, task, machine);
	op->attempt = attempt;
	op->report = report;
	op->exit_code = exit_code;
	return op;
}

struct cs_op *cs_txn_machine_put(cs_txn *txn,
                                 const struct cs_machine_spec *spec)
{
	struct cs_op *op = cs_txn_add(txn, CS_OP_MACHINE_PUT);
	op->machine_spec = cs_machine_spec_copy(txn->arena, spec);
	op->machine = op->machine_spec->name;
	return op;
}

struct cs_op *cs_txn_machine_state(cs_txn *txn, const char *machine,
                                   enum cs_machine_state state)
{
	struct cs_op *op = cs_txn_add(txn, CS_OP_MACHINE_STATE);
	op->machine = cs_arena_strdup(txn->arena, machine);
	op->machine_state = state;
	return op;
}

struct cs_op *cs_txn_machine_remove(cs_txn *txn, const char *machine)
{
	struct cs_op *op = cs_txn_add(txn, CS_OP_MACHINE_REMOVE);
	op->machine = cs_arena_strdup(txn->arena, machine);
	return op;
}

struct cs_op *cs_txn_job_put(cs_txn *txn, const struct cs_job_spec *spec)
{
	struct cs_op *op = cs_txn_add(txn, CS_OP_JOB_PUT);
	op->job_spec = cs_job_spec_copy(txn->arena, spec);
	op->job = op->job_spec->name;
	return op;
}

struct cs_op *cs_txn_job_kill(cs_txn *txn, const char *job)
{
	struct cs_op *op = cs_txn_add(txn, CS_OP_JOB_KILL);
	op->job = cs_arena_strdup(txn->arena, job);
	return op;
}

struct cs_op *cs_txn_job_remove(cs_txn *txn, const char *job)
{
	struct cs_op *op = cs_txn_add(txn, CS_OP_JOB_REMOVE);
	op->job = cs_arena_strdup(txn->arena, job);
	return op;
}

struct cs_op *cs_txn_sched_register(cs_txn *txn,
                                    const struct cs_sched_spec *spec)
{
	struct cs_op *op = cs_txn_add(txn, CS_OP_SCHED_REGISTER);
	struct cs_sched_spec *c = cs_arena_alloc(txn->arena, sizeof(*c));
	c->name = cs_arena_strdup(txn->arena, spec->name);
	c->class_name = cs_arena_strdup(txn->arena, spec->class_name);
	c->policy = cs_arena_strdup(txn->arena, spec->policy);
	c->member = spec->member;
	op->sched_spec = c;
	op->sched = c->name;
	return op;
}

struct cs_op *cs_txn_sched_unregister(cs_txn *txn, const char *name)
{
	struct cs_op *op = cs_txn_add(txn, CS_OP_SCHED_UNREGISTER);
	op->sched = cs_arena_strdup(txn->arena, name);
	return op;
}

struct cs_op *cs_txn_job_note(cs_txn *txn, const char *job, const char *note)
{
	struct cs_op *op = cs_txn_add(txn, CS_OP_JOB_NOTE);
	op->job = cs_arena_strdup(txn->arena, job);
	/* one form for "no note", so encodings of a clear agree */
	op->note = note && *note ? cs_arena_strdup(txn->arena, note) : NULL;
	return op;
}
