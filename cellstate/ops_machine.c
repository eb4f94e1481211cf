/* ops_machine.c: machine ops: put (create or update), state changes and
 * removal. A machine that goes down or away loses its tasks, which go back
 * to pending while retries remain. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

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
	m->pool = cu_xstrdup(sp->pool ? sp->pool : "default");
	m->labels = labels_dup(sp->labels, sp->nlabels);
	m->nlabels = sp->nlabels;
	m->agent = cu_xstrdup(sp->agent);
	free_attrs_on_undo(a, m);
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

enum cs_reason cs_op_machine_put(struct cs_apply *a, const struct cs_op *op)
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
	if (slot != CS_NO_MACHINE) {
		enum cs_reason r = cs_check_seq(a, op, cs_slot(a->s, slot));
		if (!r)
			r = update(a, slot, sp, &cap);
		if (r)
			a->s->nres -= added; /* rejected: register nothing */
		return r;
	}
	if (a->txn->detect == CS_COARSE && op->has_seq && op->seq != 0)
		return cs_reject(a, CS_R_SEQ_CHANGED,
		                 "machine %s does not exist (seq 0), the op "
		                 "expected seq %llu",
		                 sp->name, (unsigned long long)op->seq);
	slot = cs_add_machine(a, sp->name);
	struct cs_machine *m = cs_slot(a->s, slot);
	m->pool = cu_xstrdup(sp->pool ? sp->pool : "default");
	m->labels = labels_dup(sp->labels, sp->nlabels);
	m->nlabels = sp->nlabels;
	m->agent = cu_xstrdup(sp->agent);
	free_attrs_on_undo(a, m);
	m->capacity = cap;
	m->state =
	    sp->state >= 0 ? (enum cs_machine_state)sp->state : CS_MACHINE_UP;
	cs_note_machine(a, slot);
	return CS_R_OK;
}

enum cs_reason cs_op_machine_state(struct cs_apply *a, const struct cs_op *op)
{
	uint32_t slot;
	enum cs_reason r = cs_find_op_machine(a, op, &slot);
	if (r)
		return r;
	if (cs_slot(a->s, slot)->state != op->machine_state)
		cs_machine_set_state(a, slot, op->machine_state);
	return CS_R_OK;
}

enum cs_reason cs_op_machine_remove(struct cs_apply *a, const struct cs_op *op)
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
