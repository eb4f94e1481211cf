/* op_sched_register.c: sched_register, adding a scheduler to the
 * registry or updating its class, policy and standby member. Schedulers of one
 * class split the pending jobs by hashing over the registry, so every scheduler
 * must read the same list from its replica: that is why it lives in the log,
 * while leases (liveness) live in the leader's memory (ARCHITECTURE.md §3). */
#include "bin_util.h"
#include "json_util.h"

#include <string.h>

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

/* ---- JSON: {"op", "scheduler": {"name", "class", "policy", "member"?}}
 * (the spec's codec, shared with snapshots, is in codec_spec.c) ---- */

static const char *const sched_register_fields[] = {"op", "scheduler", NULL};

static int sched_register_json_read(struct cs_jdec *d, const json_t *o,
                                    cs_txn *t)
{
	const json_t *j;
	struct cs_sched_spec spec;
	if (cs_jget_object(d, o, "scheduler", CS_JREQ, "a scheduler object",
	                   &j) < 0)
		return -1;
	size_t saved = cs_jpath_key(&d->path, "scheduler");
	int r = cs_sched_spec_read(d, j, &spec);
	cs_jpath_pop(&d->path, saved);
	if (r < 0)
		return -1;
	cs_txn_sched_register(t, &spec);
	return 0;
}

static void sched_register_json_write(json_t *o, const struct cs_op *op)
{
	cs_jset(o, "scheduler", cs_sched_spec_json(op->sched_spec));
}

static int sched_spec_check(struct cs_jdec *d, const struct cs_sched_spec *s)
{
	if (cs_jcheck_name_at(d, "name", s->name, CS_EXPECT_SCHED) < 0 ||
	    cs_jcheck_name_at(d, "class", s->class_name, CS_EXPECT_CLASS) < 0 ||
	    cs_jcheck_name_at(d, "policy", s->policy, CS_EXPECT_POLICY) < 0 ||
	    /* JSON carries int64 integers: a bigger id could not be encoded */
	    cs_jcheck_u64_at(d, "member", s->member, 0, CS_JSON_INT_MAX,
	                     CS_EXPECT_MEMBER) < 0)
		return -1;
	return 0;
}

static int sched_register_check(struct cs_jdec *d, const struct cs_op *op)
{
	if (!op->sched_spec)
		return cs_jerr_at(d, "scheduler", CS_MISSING);
	size_t saved = cs_jpath_key(&d->path, "scheduler");
	int rc = sched_spec_check(d, op->sched_spec);
	if (rc == 0)
		rc = cs_jcheck_same_name(d, "name", op->sched,
		                         op->sched_spec->name);
	cs_jpath_pop(&d->path, saved);
	return rc;
}

/* ---- binary: str name, str class, str policy; the member, added later,
 * rides on FLAG_MEMBER after the seq ---- */

#define FLAG_MEMBER 2u /* spec->member != 0 follows */

static void sched_register_bin_put(struct cu_buf *w, const struct cs_op *op)
{
	cs_bput_str(w, op->sched_spec->name);
	cs_bput_str(w, op->sched_spec->class_name);
	cs_bput_str(w, op->sched_spec->policy);
}

static void sched_register_bin_get(struct cs_bdec *r, struct cs_op *op)
{
	struct cs_sched_spec *sp = cs_arena_alloc(r->arena, sizeof(*sp));
	sp->name = cs_bget_str(r);
	sp->class_name = cs_bget_str(r);
	sp->policy = cs_bget_str(r);
	op->sched_spec = sp;
	op->sched = sp->name;
}

static uint8_t sched_register_bin_put_ext(struct cu_buf *w,
                                          const struct cs_op *op)
{
	if (!op->sched_spec || !op->sched_spec->member)
		return 0;
	cu_buf_var(w, op->sched_spec->member);
	return FLAG_MEMBER;
}

/* A flagged member is never 0: the writer leaves 0 out. */
static void sched_register_bin_get_ext(struct cs_bdec *r, struct cs_op *op,
                                       uint8_t flags)
{
	if (!(flags & FLAG_MEMBER))
		return;
	op->sched_spec->member = cs_bget_var(r);
	if (!op->sched_spec->member)
		cs_bfail(r, "member flag with member 0");
}

/* ---- apply ---- */

static void fill(struct cs_sched *d, const struct cs_sched_spec *sp)
{
	memset(d, 0, sizeof(*d));
	strncpy(d->name, sp->name, CS_NAME_MAX);
	strncpy(d->class_name, sp->class_name ? sp->class_name : "",
	        CS_NAME_MAX);
	strncpy(d->policy, sp->policy ? sp->policy : "", CS_NAME_MAX);
	d->member = sp->member;
}

static enum cs_reason sched_register_apply(struct cs_apply *a,
                                           const struct cs_op *op)
{
	const struct cs_sched_spec *sp = op->sched_spec;
	cs_state *s = a->s;
	bool found;
	if (!sp || !sp->name)
		return cs_reject(a, CS_R_UNKNOWN_SCHEDULER,
		                 "sched_register without a spec");
	uint32_t at = cs_sched_search(s, sp->name, &found);
	struct cs_sched want;
	fill(&want, sp);
	/* Re-registering updates class, policy and member (a restarted
	 * scheduler may come back with a new standby); as the same, it is a
	 * no-op. */
	if (found && !memcmp(&s->scheds[at], &want, sizeof(want)))
		return CS_R_OK;
	cs_save_scheds(a);
	if (!found) {
		cu_grow((void **)&s->scheds, &s->scheds_cap, s->nscheds + 1,
		        sizeof(*s->scheds));
		memmove(&s->scheds[at + 1], &s->scheds[at],
		        (s->nscheds - at) * sizeof(*s->scheds));
		s->nscheds++;
	}
	s->scheds[at] = want;
	return CS_R_OK;
}

const struct cs_op_desc cs_op_desc_sched_register = {
    .name = "sched_register",
    .seq = CS_SEQ_NEVER,
    .fields = sched_register_fields,
    .json_read = sched_register_json_read,
    .json_write = sched_register_json_write,
    .check = sched_register_check,
    .bin_put = sched_register_bin_put,
    .bin_get = sched_register_bin_get,
    .bin_ext = FLAG_MEMBER,
    .bin_put_ext = sched_register_bin_put_ext,
    .bin_get_ext = sched_register_bin_get_ext,
    .apply = sched_register_apply,
};
