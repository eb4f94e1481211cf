/* codec_bin.c: the compact binary encoding of a transaction, for Raft
 * entries and for C clients (schedulers) that batch thousands of places.
 *
 * Layout (version 1), integers as LEB128 varints, signed ones zigzagged:
 *   u8 version, u8 mode, u8 detect, str id, str origin, varint nops, ops...
 *   op: u8 kind, u8 flags (bit 0: has seq; bit 1: has member, only on
 *   sched_register; bit 2: has agent, only on machine_put), the kind's
 *   fields, [varint seq], [varint member], [str agent]
 *   str: varint (length + 1), then the bytes; 0 encodes NULL, so an empty
 *   string and an absent one stay distinct.
 * The decoder checks every length against the buffer, rejects NUL bytes in
 * strings, and ends with cs_txn_validate: a decoded transaction meets the
 * same rules as one decoded from JSON.
 *
 * Optional fields added later ride on a flag bit, so entries written before
 * them (Raft logs on disk) still decode in this one version, and every
 * accepted encoding is the one the writer would produce: a flagged member
 * is never 0, a flagged agent never absent. A transaction without the new
 * fields encodes byte for byte as before them; one with them is refused by
 * an older decoder ("unknown ... flags"), never misread. */
#include "bin_util.h"

#include <stdlib.h>
#include <string.h>

#define BIN_VERSION  1
#define FLAG_MEMBER  2u /* sched_register: spec->member != 0 follows */
#define FLAG_AGENT   4u /* machine_put: spec->agent != NULL follows */
#define JOB_DISTINCT 1u
#define JOB_GANG     2u

/* ---- writer ---- */

#define put_u8  cu_buf_u8
#define put_var cu_buf_var

static void put_machine_spec(struct cu_buf *w, const struct cs_machine_spec *m)
{
	cs_bput_str(w, m->name);
	cs_bput_str(w, m->pool);
	cs_bput_labels(w, m->labels, m->nlabels);
	cs_bput_amounts(w, m->capacity, m->ncapacity);
	put_var(w, (uint64_t)(m->state + 1)); /* -1 (keep) encodes as 0 */
}

static void put_job_spec(struct cu_buf *w, const struct cs_job_spec *j)
{
	cs_bput_str(w, j->name);
	cs_bput_str(w, j->class_name);
	put_var(w, j->priority);
	put_var(w, j->ntasks);
	cs_bput_amounts(w, j->request, j->nrequest);
	cs_bput_str(w, j->pool);
	cs_bput_labels(w, j->labels, j->nlabels);
	put_u8(w, (j->distinct ? JOB_DISTINCT : 0) | (j->gang ? JOB_GANG : 0));
	put_var(w, j->max_retries);
	cs_bput_str(w, j->command);
	cs_bput_strings(w, j->args, j->nargs);
	cs_bput_labels(w, j->env, j->nenv);
	put_var(w, j->duration_ms);
	cs_bput_strings(w, j->deps, j->ndeps);
	cs_bput_str(w, j->cron);
}

static void put_task_ref(struct cu_buf *w, const struct cs_op *op)
{
	cs_bput_str(w, op->job);
	put_var(w, op->task);
}

static uint64_t member_of(const struct cs_op *op)
{
	return op->kind == CS_OP_SCHED_REGISTER && op->sched_spec
	           ? op->sched_spec->member
	           : 0;
}

static const char *agent_of(const struct cs_op *op)
{
	return op->kind == CS_OP_MACHINE_PUT && op->machine_spec
	           ? op->machine_spec->agent
	           : NULL;
}

static void put_op(struct cu_buf *w, const struct cs_op *op)
{
	uint64_t member = member_of(op);
	const char *agent = agent_of(op);
	put_u8(w, op->kind);
	put_u8(w, (op->has_seq ? CS_BIN_SEQ : 0) | (member ? FLAG_MEMBER : 0) |
	              (agent ? FLAG_AGENT : 0));
	switch (op->kind) {
	case CS_OP_PLACE:
	case CS_OP_RELEASE:
		put_task_ref(w, op);
		cs_bput_str(w, op->machine);
		break;
	case CS_OP_PREEMPT:
		put_task_ref(w, op);
		cs_bput_str(w, op->machine);
		cs_bput_str(w, op->by_job);
		break;
	case CS_OP_TASK_STATE:
		put_task_ref(w, op);
		put_var(w, op->attempt);
		cs_bput_str(w, op->machine);
		put_u8(w, op->report);
		put_var(w, cu_zigzag(op->exit_code));
		break;
	case CS_OP_MACHINE_PUT:
		put_machine_spec(w, op->machine_spec);
		break;
	case CS_OP_MACHINE_STATE:
		cs_bput_str(w, op->machine);
		put_u8(w, op->machine_state);
		break;
	case CS_OP_MACHINE_REMOVE:
		cs_bput_str(w, op->machine);
		break;
	case CS_OP_JOB_PUT:
		put_job_spec(w, op->job_spec);
		break;
	case CS_OP_JOB_KILL:
	case CS_OP_JOB_REMOVE:
		cs_bput_str(w, op->job);
		break;
	case CS_OP_SCHED_REGISTER:
		cs_bput_str(w, op->sched_spec->name);
		cs_bput_str(w, op->sched_spec->class_name);
		cs_bput_str(w, op->sched_spec->policy);
		break;
	case CS_OP_JOB_NOTE:
		cs_bput_str(w, op->job);
		cs_bput_str(w, op->note);
		break;
	case CS_OP_SCHED_UNREGISTER:
	case CS_OP__COUNT:
		cs_bput_str(w, op->sched);
		break;
	}
	if (op->has_seq)
		put_var(w, op->seq);
	if (member)
		put_var(w, member);
	if (agent)
		cs_bput_str(w, agent);
}

int cs_txn_encode_bin(const cs_txn *txn, uint8_t **buf, size_t *len,
                      size_t *cap)
{
	struct cu_buf w = {(char *)*buf, *len, *cap};
	put_u8(&w, BIN_VERSION);
	put_u8(&w, txn->mode);
	put_u8(&w, txn->detect);
	cs_bput_str(&w, txn->id);
	cs_bput_str(&w, txn->origin);
	put_var(&w, txn->nops);
	for (uint32_t i = 0; i < txn->nops; i++)
		put_op(&w, &txn->ops[i]);
	*buf = (uint8_t *)w.p;
	*len = w.len;
	*cap = w.cap;
	return 0;
}

/* ---- reader ---- */

static struct cs_machine_spec *get_machine_spec(struct cs_bdec *r)
{
	struct cs_machine_spec *m = cs_arena_alloc(r->arena, sizeof(*m));
	m->name = cs_bget_str(r);
	m->pool = cs_bget_str(r);
	m->labels = cs_bget_labels(r, &m->nlabels);
	m->capacity = cs_bget_amounts(r, &m->ncapacity);
	m->state = (int)cs_bget_u8(r) - 1;
	return m;
}

static struct cs_job_spec *get_job_spec(struct cs_bdec *r)
{
	struct cs_job_spec *j = cs_arena_alloc(r->arena, sizeof(*j));
	j->name = cs_bget_str(r);
	j->class_name = cs_bget_str(r);
	j->priority = cs_bget_u32(r);
	j->ntasks = cs_bget_u32(r);
	j->request = cs_bget_amounts(r, &j->nrequest);
	j->pool = cs_bget_str(r);
	j->labels = cs_bget_labels(r, &j->nlabels);
	uint8_t flags = cs_bget_u8(r);
	if (flags & ~(JOB_DISTINCT | JOB_GANG))
		cs_bfail(r, "unknown job flags");
	j->distinct = flags & JOB_DISTINCT;
	j->gang = flags & JOB_GANG;
	j->max_retries = cs_bget_u32(r);
	j->command = cs_bget_str(r);
	j->args = cs_bget_strings(r, &j->nargs);
	j->env = cs_bget_labels(r, &j->nenv);
	j->duration_ms = cs_bget_var(r);
	j->deps = cs_bget_strings(r, &j->ndeps);
	j->cron = cs_bget_str(r);
	return j;
}

static void get_task_ref(struct cs_bdec *r, struct cs_op *op)
{
	op->job = cs_bget_str(r);
	op->task = cs_bget_u32(r);
}

static void get_sched(struct cs_bdec *r, struct cs_op *op)
{
	struct cs_sched_spec *sp = cs_arena_alloc(r->arena, sizeof(*sp));
	sp->name = cs_bget_str(r);
	sp->class_name = cs_bget_str(r);
	sp->policy = cs_bget_str(r);
	op->sched_spec = sp;
	op->sched = sp->name;
}

static void get_report(struct cs_bdec *r, struct cs_op *op)
{
	get_task_ref(r, op);
	op->attempt = cs_bget_u32(r);
	op->machine = cs_bget_str(r);
	op->report = (enum cs_task_state)cs_bget_u8(r);
	uint64_t z = cs_bget_var(r);
	int64_t v = cu_unzigzag(z);
	if (v < INT32_MIN || v > INT32_MAX)
		cs_bfail(r, "exit code outside int32");
	op->exit_code = (int32_t)v;
}

static void get_fields(struct cs_bdec *r, struct cs_op *op)
{
	switch (op->kind) {
	case CS_OP_PLACE:
	case CS_OP_RELEASE:
		get_task_ref(r, op);
		op->machine = cs_bget_str(r);
		break;
	case CS_OP_PREEMPT:
		get_task_ref(r, op);
		op->machine = cs_bget_str(r);
		op->by_job = cs_bget_str(r);
		break;
	case CS_OP_TASK_STATE:
		get_report(r, op);
		break;
	case CS_OP_MACHINE_PUT:
		op->machine_spec = get_machine_spec(r);
		op->machine = op->machine_spec->name;
		break;
	case CS_OP_MACHINE_STATE:
		op->machine = cs_bget_str(r);
		op->machine_state = (enum cs_machine_state)cs_bget_u8(r);
		break;
	case CS_OP_MACHINE_REMOVE:
		op->machine = cs_bget_str(r);
		break;
	case CS_OP_JOB_PUT:
		op->job_spec = get_job_spec(r);
		op->job = op->job_spec->name;
		break;
	case CS_OP_JOB_KILL:
	case CS_OP_JOB_REMOVE:
		op->job = cs_bget_str(r);
		break;
	case CS_OP_SCHED_REGISTER:
		get_sched(r, op);
		break;
	case CS_OP_JOB_NOTE:
		op->job = cs_bget_str(r);
		op->note = cs_bget_str(r);
		break;
	case CS_OP_SCHED_UNREGISTER:
	case CS_OP__COUNT:
		op->sched = cs_bget_str(r);
		break;
	}
}

static bool flags_valid(uint8_t kind, uint8_t flags)
{
	uint8_t known = CS_BIN_SEQ;
	if (kind == CS_OP_SCHED_REGISTER)
		known |= FLAG_MEMBER;
	if (kind == CS_OP_MACHINE_PUT)
		known |= FLAG_AGENT;
	return !(flags & ~known);
}

static void get_member(struct cs_bdec *r, struct cs_op *op)
{
	op->sched_spec->member = cs_bget_var(r);
	if (!op->sched_spec->member)
		cs_bfail(r, "member flag with member 0");
}

static void get_agent(struct cs_bdec *r, struct cs_op *op)
{
	op->machine_spec->agent = cs_bget_str(r);
	if (!op->machine_spec->agent)
		cs_bfail(r, "agent flag without an agent");
}

static int get_ops(struct cs_bdec *r, cs_txn *t, char *errbuf, size_t errlen)
{
	uint32_t n = cs_bget_count(r, 2);
	for (uint32_t i = 0; i < n && !r->in.err; i++) {
		uint8_t kind = cs_bget_u8(r), flags = cs_bget_u8(r);
		if (kind >= CS_OP__COUNT || !flags_valid(kind, flags))
			return cu_errf(
			    errbuf, errlen, -1,
			    "binary txn: ops[%u]: unknown op kind %u "
			    "or flags %#x",
			    i, kind, flags);
		struct cs_op *op = cs_txn_add(t, (enum cs_op_kind)kind);
		get_fields(r, op);
		if (flags & CS_BIN_SEQ)
			cs_op_expect_seq(op, cs_bget_var(r));
		if (flags & FLAG_MEMBER)
			get_member(r, op);
		if (flags & FLAG_AGENT)
			get_agent(r, op);
		if (r->in.err)
			return cu_errf(errbuf, errlen, -1,
			               "binary txn: ops[%u]: %s", i, r->in.err);
	}
	return r->in.err
	           ? cu_errf(errbuf, errlen, -1, "binary txn: %s", r->in.err)
	           : 0;
}

int cs_txn_decode_bin(const uint8_t *buf, size_t len, cs_txn **out,
                      char *errbuf, size_t errlen)
{
	if (!buf || len < 4)
		return cu_errf(errbuf, errlen, -1,
		               "binary txn: %zu bytes, too short", len);
	if (buf[0] != BIN_VERSION)
		return cu_errf(errbuf, errlen, -1,
		               "binary txn: version %u, expected %u", buf[0],
		               BIN_VERSION);
	if (buf[1] > CS_ALL_OR_NOTHING || buf[2] > CS_COARSE)
		return cu_errf(errbuf, errlen, -1,
		               "binary txn: mode %u / detect %u out of range",
		               buf[1], buf[2]);
	cs_txn *t = cs_txn_new(NULL, NULL, (enum cs_mode)buf[1],
	                       (enum cs_detect)buf[2]);
	struct cs_bdec r = {cu_reader_of(buf + 3, len - 3), t->arena};
	t->id = cs_bget_str(&r);
	t->origin = cs_bget_str(&r);
	if (get_ops(&r, t, errbuf, errlen) < 0)
		goto fail;
	if (cu_reader_left(&r.in)) {
		cu_errf(errbuf, errlen, -1,
		        "binary txn: %zu bytes after the last op",
		        cu_reader_left(&r.in));
		goto fail;
	}
	if (cs_txn_validate(t, errbuf, errlen) < 0)
		goto fail;
	*out = t;
	return 0;
fail:
	cs_txn_free(t);
	return -1;
}
