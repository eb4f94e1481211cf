/* op_machine_put.c: machine_put, creating a machine or replacing its
 * description (pool, labels, capacity, agent, and its state if given). */
#include "bin_util.h"
#include "json_util.h"

#include <stdlib.h>
#include <string.h>

struct cs_op *cs_txn_machine_put(cs_txn *txn,
                                 const struct cs_machine_spec *spec)
{
	struct cs_op *op = cs_txn_add(txn, CS_OP_MACHINE_PUT);
	op->machine_spec = cs_machine_spec_copy(txn->arena, spec);
	op->machine = op->machine_spec->name;
	return op;
}

/* ---- JSON: {"op", "machine": a machine spec, "seq"?} ---- */

static const char *const machine_put_fields[] = {"op", "machine", "seq", NULL};

/* The spec is decoded onto the heap at PATH.machine, then copied into the
 * transaction by the builder, which keeps op->machine == spec->name. */
static int machine_put_json_read(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	struct cs_jseq seq;
	const json_t *j;
	struct cs_machine_spec *spec = NULL;
	if (cs_jget_object(d, o, "machine", CS_JREQ, "a machine spec object",
	                   &j) < 0 ||
	    cs_jget_seq(d, o, &seq) < 0)
		return -1;
	size_t saved = cs_jpath_key(&d->path, "machine");
	int r = cs_machine_spec_decode(j, cs_jpath_str(&d->path), &spec,
	                               d->errbuf, d->errlen);
	cs_jpath_pop(&d->path, saved);
	if (r < 0)
		return -1;
	cs_jseq_apply(cs_txn_machine_put(t, spec), &seq);
	cs_machine_spec_free(spec);
	return 0;
}

static void machine_put_json_write(json_t *o, const struct cs_op *op)
{
	cs_jset(o, "machine", cs_machine_spec_encode(op->machine_spec));
	cs_jput_seq(o, op);
}

static int machine_put_check(struct cs_jdec *d, const struct cs_op *op)
{
	if (!op->machine_spec)
		return cs_jerr_at(d, "machine", CS_MISSING);
	size_t saved = cs_jpath_key(&d->path, "machine");
	int rc = cs_jcheck_machine_spec(d, op->machine_spec);
	if (rc == 0)
		rc = cs_jcheck_same_name(d, "name", op->machine,
		                         op->machine_spec->name);
	cs_jpath_pop(&d->path, saved);
	return rc;
}

/* ---- binary: str name, str pool, labels, capacity, u8 state + 1 (0:
 * keep); the agent, added later, rides on FLAG_AGENT after the seq ---- */

#define FLAG_AGENT 4u /* spec->agent != NULL follows */

static void machine_put_bin_put(struct cu_buf *w, const struct cs_op *op)
{
	const struct cs_machine_spec *m = op->machine_spec;
	cs_bput_str(w, m->name);
	cs_bput_str(w, m->pool);
	cs_bput_labels(w, m->labels, m->nlabels);
	cs_bput_amounts(w, m->capacity, m->ncapacity);
	cu_buf_var(w, (uint64_t)(m->state + 1)); /* -1 (keep) encodes as 0 */
}

static void machine_put_bin_get(struct cs_bdec *r, struct cs_op *op)
{
	struct cs_machine_spec *m = cs_arena_alloc(r->arena, sizeof(*m));
	m->name = cs_bget_str(r);
	m->pool = cs_bget_str(r);
	m->labels = cs_bget_labels(r, &m->nlabels);
	m->capacity = cs_bget_amounts(r, &m->ncapacity);
	m->state = (int)cs_bget_u8(r) - 1;
	op->machine_spec = m;
	op->machine = m->name;
}

static uint8_t machine_put_bin_put_ext(struct cu_buf *w, const struct cs_op *op)
{
	if (!op->machine_spec || !op->machine_spec->agent)
		return 0;
	cs_bput_str(w, op->machine_spec->agent);
	return FLAG_AGENT;
}

static void machine_put_bin_get_ext(struct cs_bdec *r, struct cs_op *op,
                                    uint8_t flags)
{
	if (!(flags & FLAG_AGENT))
		return;
	op->machine_spec->agent = cs_bget_str(r);
	if (!op->machine_spec->agent)
		cs_bfail(r, "agent flag without an agent");
}

/* ---- apply ---- */

static struct cs_label *labels_dup(const struct cs_label *l, uint32_t n)
{
	struct cs_label *out = n ? cu_xcalloc(n, sizeof(*out)) : NULL;
	for (uint32_t i = 0; i < n; i++) {
		out[i].key = cu_xstrdup(l[i].key);
		out[i].value = cu_xstrdup(l[i].value);
	}
	cs_labels_sort(out, n);
	return out;
}

/* m's labels are sorted; the spec's may come in any order. */
static bool labels_equal(const struct cs_machine *m,
                         const struct cs_machine_spec *sp)
{
	if (m->nlabels != sp->nlabels)
		return false;
	for (uint32_t i = 0; i < sp->nlabels; i++) {
		uint32_t k = 0;
		while (k < m->nlabels &&
		       strcmp(m->labels[k].key, sp->labels[i].key))
			k++;
		if (k == m->nlabels ||
		    strcmp(m->labels[k].value, sp->labels[i].value))
			return false;
	}
	return true;
}

static bool same_agent(const struct cs_machine *m,
                       const struct cs_machine_spec *sp)
{
	return m->agent ? sp->agent && !strcmp(m->agent, sp->agent)
	                : !sp->agent;
}

/* Pool, labels and agent just allocated by this transaction: freed if it
 * is undone. Each allocation gets its own entry, so a machine created and
 * then changed in one transaction frees both generations, and each once. */
static void free_attrs_on_undo(struct cs_apply *a, struct cs_machine *m)
{
	cs_free_on_undo(a, m->pool);
	for (uint32_t i = 0; i < m->nlabels; i++) {
		cs_free_on_undo(a, m->labels[i].key);
		cs_free_on_undo(a, m->labels[i].value);
	}
	cs_free_on_undo(a, m->labels);
	cs_free_on_undo(a, m->agent);
}

/* Gives a machine the spec's pool, labels and agent, all allocated by
 * this transaction. */
static void assign_attrs(struct cs_apply *a, struct cs_machine *m,
                         const struct cs_machine_spec *sp)
{
	m->pool = cu_xstrdup(sp->pool ? sp->pool : "default");
	m->labels = labels_dup(sp->labels, sp->nlabels);
	m->nlabels = sp->nlabels;
	m->agent = cu_xstrdup(sp->agent);
	free_attrs_on_undo(a, m);
}

/* Replaces pool, labels and agent; the old ones stay alive until commit
 * (the machine's before-image in the journal points at them). */
static void set_attrs(struct cs_apply *a, struct cs_machine *m,
                      const struct cs_machine_spec *sp)
{
	cs_free_on_commit(a, m->pool);
	for (uint32_t i = 0; i < m->nlabels; i++) {
		cs_free_on_commit(a, m->labels[i].key);
		cs_free_on_commit(a, m->labels[i].value);
	}
	cs_free_on_commit(a, m->labels);
	cs_free_on_commit(a, m->agent);
	assign_attrs(a, m, sp);
}

static enum cs_reason update(struct cs_apply *a, uint32_t slot,
                             const struct cs_machine_spec *sp,
                             const cs_res *cap)
{
	struct cs_machine *m = cs_slot(a->s, slot);
	for (uint32_t i = 0; i < a->s->nres; i++)
		if (cap->v[i] < m->allocated.v[i])
			return cs_reject(a, CS_R_BELOW_ALLOCATED,
			                 "machine %s has %s %llu allocated, "
			                 "above the new capacity %llu",
			                 m->name, a->s->res_names[i],
			                 (unsigned long long)m->allocated.v[i],
			                 (unsigned long long)cap->v[i]);
	bool attrs = strcmp(m->pool, sp->pool ? sp->pool : "default") ||
	             !labels_equal(m, sp) || !same_agent(m, sp);
	bool capa = memcmp(&m->capacity, cap, sizeof(*cap)) != 0;
	if (attrs || capa)
		m = cs_touch_machine(a, slot);
	if (attrs)
		set_attrs(a, m, sp);
	m->capacity = *cap;
	if (attrs || capa)
		cs_note_machine(a, slot);
	if (sp->state >= 0 && (enum cs_machine_state)sp->state != m->state)
		cs_machine_set_state(a, slot, (enum cs_machine_state)sp->state);
	return CS_R_OK;
}

/* A machine the cell does not know yet: seq 0 to a coarse submitter. */
static enum cs_reason create(struct cs_apply *a, const struct cs_op *op,
                             const cs_res *cap)
{
	const struct cs_machine_spec *sp = op->machine_spec;
	if (a->txn->detect == CS_COARSE && op->has_seq && op->seq != 0)
		return cs_reject(a, CS_R_SEQ_CHANGED,
		                 "machine %s does not exist (seq 0), the op "
		                 "expected seq %llu",
		                 sp->name, (unsigned long long)op->seq);
	uint32_t slot = cs_add_machine(a, sp->name);
	struct cs_machine *m = cs_slot(a->s, slot);
	assign_attrs(a, m, sp);
	m->capacity = *cap;
	m->state =
	    sp->state >= 0 ? (enum cs_machine_state)sp->state : CS_MACHINE_UP;
	cs_note_machine(a, slot);
	return CS_R_OK;
}

static enum cs_reason machine_put_apply(struct cs_apply *a,
                                        const struct cs_op *op)
{
	const struct cs_machine_spec *sp = op->machine_spec;
	cs_res cap;
	uint32_t added;
	cs_save_state(a); /* resource names may be registered */
	if (!sp || !sp->name)
		return cs_reject(a, CS_R_UNKNOWN_MACHINE,
		                 "machine_put without a spec");
	if (cs_res_resolve(a->s, sp->capacity, sp->ncapacity, &cap, &added))
		return cs_reject(a, CS_R_RESOURCE_LIMIT,
		                 "machine %s names more than %d resource kinds "
		                 "in the cell",
		                 sp->name, CS_RES_MAX);
	uint32_t slot = cs_machine_slot(a->s, sp->name);
	if (slot == CS_NO_MACHINE)
		return create(a, op, &cap);
	enum cs_reason r = cs_check_seq(a, op, cs_slot(a->s, slot));
	if (!r)
		r = update(a, slot, sp, &cap);
	if (r)
		a->s->nres -= added; /* rejected: register nothing */
	return r;
}

const struct cs_op_desc cs_op_desc_machine_put = {
    .name = "machine_put",
    .seq = CS_SEQ_OPTIONAL,
    .fields = machine_put_fields,
    .json_read = machine_put_json_read,
    .json_write = machine_put_json_write,
    .check = machine_put_check,
    .bin_put = machine_put_bin_put,
    .bin_get = machine_put_bin_get,
    .bin_ext = FLAG_AGENT,
    .bin_put_ext = machine_put_bin_put_ext,
    .bin_get_ext = machine_put_bin_get_ext,
    .apply = machine_put_apply,
};
