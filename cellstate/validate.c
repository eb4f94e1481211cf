/* validate.c: the checks of a transaction and of specs that need no state
 * (names, ranges, required fields, the seq rules); each op's own fields are
 * checked by its row's check (op_*.c) with the same helpers (json_util.h).
 * Decoders run it on what they built, so built and decoded input meet the same
 * rules in the same words; cs_apply checks the rest against the state. */
#include "json_util.h"

#include <string.h>

/* ---- collections ---- */

static int label_check(struct cs_jdec *d, const struct cs_label *l,
                       const struct cs_label *prev,
                       const struct cs_jmap_rules *r)
{
	if (!l->key)
		return cs_jerr(d, "expected %s, got a NULL key", r->key_expect);
	size_t saved = cs_jpath_key(&d->path, l->key);
	int rc = cs_jcheck_str(d, l->key, r->key_ok, r->key_expect);
	if (rc == 0)
		rc = cs_jcheck_str(d, l->value, r->value_ok, r->value_expect);
	/* Stored labels are sorted (cs_machine): lookups and the state hash
	 * rely on it, and it rules out duplicate keys. */
	if (rc == 0 && prev && strcmp(prev->key, l->key) >= 0)
		rc = cs_jerr(d,
		             "expected keys sorted and unique, got \"%s\" "
		             "after \"%s\"",
		             l->key, prev->key);
	cs_jpath_pop(&d->path, saved);
	return rc;
}

static int labels_at(struct cs_jdec *d, const char *key,
                     const struct cs_label *l, uint32_t n,
                     const struct cs_jmap_rules *r)
{
	size_t saved = cs_jpath_key(&d->path, key);
	int rc = 0;
	if (n > r->max)
		rc = cs_jerr(d, "expected at most %u %s, got %u", r->max,
		             r->noun, n);
	for (uint32_t i = 0; i < n && rc == 0; i++)
		rc = label_check(d, &l[i], i ? &l[i - 1] : NULL, r);
	cs_jpath_pop(&d->path, saved);
	return rc;
}

static bool has_name(const char *const *names, const char *name)
{
	for (; names && *names; names++)
		if (!strcmp(*names, name))
			return true;
	return false;
}

static int amount_check(struct cs_jdec *d, const struct cs_amount *a,
                        uint32_t i, const struct cs_jamount_rules *r)
{
	if (!a[i].name)
		return cs_jerr(d, "expected %s, got a NULL name",
		               CS_EXPECT_RES_NAME);
	size_t saved = cs_jpath_key(&d->path, a[i].name);
	bool pos = r->required_min > 0 && has_name(r->required, a[i].name);
	int rc =
	    cs_jcheck_str(d, a[i].name, cs_res_name_valid, CS_EXPECT_RES_NAME);
	for (uint32_t j = 0; j < i && rc == 0; j++)
		if (!strcmp(a[j].name, a[i].name))
			rc = cs_jerr(d, "expected each resource once, got it "
			                "twice");
	if (rc == 0)
		rc = cs_jcheck_u64(d, a[i].value, pos ? r->required_min : 0,
		                   CS_RES_VALUE_MAX,
		                   pos ? CS_EXPECT_POSITIVE : NULL);
	cs_jpath_pop(&d->path, saved);
	return rc;
}

static bool has_amount(const struct cs_amount *a, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (!strcmp(a[i].name, name))
			return true;
	return false;
}

/* The same rules as the decoder's (json_util.c). */
static int amounts_at(struct cs_jdec *d, const char *key,
                      const struct cs_amount *a, uint32_t n,
                      const struct cs_jamount_rules *r)
{
	size_t saved = cs_jpath_key(&d->path, key);
	int rc = 0;
	if (n > CS_RES_MAX)
		rc = cs_jerr(d, "expected at most %d resources, got %u",
		             CS_RES_MAX, n);
	for (uint32_t i = 0; i < n && rc == 0; i++)
		rc = amount_check(d, a, i, r);
	for (const char *const *req = r->required; req && *req && rc == 0;
	     req++)
		if (!has_amount(a, n, *req))
			rc = cs_jerr_at(d, *req, CS_MISSING);
	cs_jpath_pop(&d->path, saved);
	return rc;
}

static int strings_at(struct cs_jdec *d, const char *key, char *const *s,
                      uint32_t n, const struct cs_jlist_rules *r)
{
	size_t saved = cs_jpath_key(&d->path, key);
	int rc = 0;
	if (n > r->max)
		rc = cs_jerr(d, "expected at most %u %s, got %u", r->max,
		             r->noun, n);
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		size_t at = cs_jpath_index(&d->path, i);
		rc = cs_jcheck_str(d, s[i], r->valid, r->expect);
		cs_jpath_pop(&d->path, at);
	}
	cs_jpath_pop(&d->path, saved);
	return rc;
}

/* ---- machine spec ---- */

/* -1 keeps a known machine's state (new machines are up). */
static int spec_state_check(struct cs_jdec *d, int state)
{
	if (state >= -1 && state <= CS_MACHINE_DOWN)
		return 0;
	return cs_jerr_at(d, "state", "expected %s, got %d",
	                  CS_EXPECT_MACHINE_STATE, state);
}

int cs_jcheck_machine_spec(struct cs_jdec *d, const struct cs_machine_spec *s)
{
	const struct cs_jmap_rules *lr = &cs_jlabel_rules;
	if (cs_jcheck_name_at(d, "name", s->name, CS_EXPECT_MACHINE) < 0 ||
	    cs_jcheck_opt_at(d, "pool", s->pool, cs_name_valid,
	                     CS_EXPECT_POOL) < 0 ||
	    labels_at(d, "labels", s->labels, s->nlabels, lr) < 0 ||
	    amounts_at(d, "capacity", s->capacity, s->ncapacity,
	               &cs_jcapacity_rules) < 0 ||
	    spec_state_check(d, s->state) < 0 ||
	    cs_jcheck_opt_at(d, "agent", s->agent, cs_agent_url_valid,
	                     CS_EXPECT_AGENT) < 0)
		return -1;
	return 0;
}

int cs_machine_spec_validate(const struct cs_machine_spec *spec,
                             const char *path, char *errbuf, size_t errlen)
{
	struct cs_jdec d;
	cs_jdec_init(&d, path, errbuf, errlen);
	if (!spec)
		return cs_jerr(&d, CS_MISSING);
	return cs_jcheck_machine_spec(&d, spec);
}

/* ---- job spec ---- */

static int job_identity(struct cs_jdec *d, const struct cs_job_spec *s)
{
	if (cs_jcheck_name_at(d, "name", s->name, CS_EXPECT_JOB) < 0 ||
	    cs_jcheck_name_at(d, "class", s->class_name, CS_EXPECT_CLASS) < 0 ||
	    cs_jcheck_u64_at(d, "priority", s->priority, 0, CS_PRIORITY_MAX,
	                     NULL) < 0 ||
	    cs_jcheck_u64_at(d, "tasks", s->ntasks, 1, CS_JOB_TASKS_MAX, NULL) <
	        0)
		return -1;
	return cs_jcheck_u64_at(d, "max_retries", s->max_retries, 0,
	                        CS_RETRIES_MAX, NULL);
}

static int job_constraints(struct cs_jdec *d, const struct cs_job_spec *s)
{
	size_t saved = cs_jpath_key(&d->path, "constraints");
	int rc =
	    cs_jcheck_opt_at(d, "pool", s->pool, cs_name_valid, CS_EXPECT_POOL);
	if (rc == 0)
		rc = labels_at(d, "labels", s->labels, s->nlabels,
		               &cs_jlabel_rules);
	cs_jpath_pop(&d->path, saved);
	return rc;
}

/* What an agent runs: a command, a simulated duration, or both. */
static int job_run(struct cs_jdec *d, const struct cs_job_spec *s)
{
	uint64_t ms = s->duration_ms;
	if (cs_jcheck_opt_at(d, "command", s->command, cs_jcommand_valid,
	                     CS_EXPECT_COMMAND) < 0 ||
	    strings_at(d, "args", s->args, s->nargs, &cs_jargs_rules) < 0 ||
	    labels_at(d, "env", s->env, s->nenv, &cs_jenv_rules) < 0 ||
	    cs_jcheck_u64_at(d, "duration_ms", ms, 0, CS_DURATION_MAX, NULL) <
	        0)
		return -1;
	if (!s->command && s->duration_ms == 0)
		return cs_jerr(d, "expected \"command\" or a positive "
		                  "\"duration_ms\"");
	return 0;
}

static int dep_check(struct cs_jdec *d, const struct cs_job_spec *s, uint32_t i)
{
	const char *dep = s->deps[i];
	if (cs_jcheck_str(d, dep, cs_name_valid, CS_EXPECT_JOB) < 0)
		return -1;
	if (s->name && !strcmp(dep, s->name))
		return cs_jerr(d, "expected another job's name, got the job "
		                  "itself");
	for (uint32_t j = 0; j < i; j++)
		if (!strcmp(s->deps[j], dep))
			return cs_jerr(d,
			               "expected each job once, got \"%s\" "
			               "again",
			               dep);
	return 0;
}

/* Dependencies form a DAG across jobs (cs_apply checks the other jobs);
 * here only what one spec can break. */
static int job_deps(struct cs_jdec *d, const struct cs_job_spec *s)
{
	size_t saved = cs_jpath_key(&d->path, "depends_on");
	int rc = 0;
	if (s->ndeps > CS_DEPS_MAX)
		rc = cs_jerr(d, "expected at most %u jobs, got %u", CS_DEPS_MAX,
		             s->ndeps);
	for (uint32_t i = 0; i < s->ndeps && rc == 0; i++) {
		size_t at = cs_jpath_index(&d->path, i);
		rc = dep_check(d, s, i);
		cs_jpath_pop(&d->path, at);
	}
	cs_jpath_pop(&d->path, saved);
	return rc;
}

static int job_cron(struct cs_jdec *d, const struct cs_job_spec *s)
{
	const char *bad = s->cron ? cs_cron_check(s->cron) : NULL;
	return bad ? cs_jerr_at(d, "cron", "%s", bad) : 0;
}

int cs_jcheck_job_spec(struct cs_jdec *d, const struct cs_job_spec *s)
{
	if (job_identity(d, s) < 0 ||
	    amounts_at(d, "resources", s->request, s->nrequest,
	               &cs_jrequest_rules) < 0 ||
	    job_constraints(d, s) < 0 || job_run(d, s) < 0 ||
	    job_deps(d, s) < 0 || job_cron(d, s) < 0)
		return -1;
	return 0;
}

int cs_job_spec_validate(const struct cs_job_spec *spec, const char *path,
                         char *errbuf, size_t errlen)
{
	struct cs_jdec d;
	cs_jdec_init(&d, path, errbuf, errlen);
	if (!spec)
		return cs_jerr(&d, CS_MISSING);
	return cs_jcheck_job_spec(&d, spec);
}

/* ---- ops ---- */

int cs_jcheck_same_name(struct cs_jdec *d, const char *key, const char *op_name,
                        const char *spec_name)
{
	if (op_name && spec_name && !strcmp(op_name, spec_name))
		return 0;
	return cs_jerr_at(d, key,
	                  "expected the op's own name to match the "
	                  "spec's name");
}

static int seq_check(struct cs_jdec *d, const cs_txn *t, const struct cs_op *op,
                     const struct cs_op_desc *desc)
{
	if (!op->has_seq) {
		if (t->detect == CS_COARSE && desc->seq == CS_SEQ_COARSE)
			return cs_jerr_at(
			    d, "seq", CS_MISSING " when detect is \"coarse\"");
		return 0;
	}
	if (desc->seq == CS_SEQ_NEVER)
		return cs_jerr_at(d, "seq", "expected no seq on a \"%s\" op",
		                  desc->name);
	/* JSON carries int64 integers: a bigger seq could not be encoded. */
	return cs_jcheck_u64_at(d, "seq", op->seq, 0, CS_JSON_INT_MAX, NULL);
}

static int op_check(struct cs_jdec *d, const cs_txn *t, const struct cs_op *op)
{
	const struct cs_op_desc *desc = cs_op_desc(op->kind);
	if (!desc)
		return cs_jerr_at(d, "op", "expected a known op kind, got %d",
		                  (int)op->kind);
	if (desc->check(d, op) < 0 || seq_check(d, t, op, desc) < 0)
		return -1;
	return 0;
}

static int txn_header(struct cs_jdec *d, const cs_txn *t)
{
	if (cs_jcheck_opt_at(d, "id", t->id, cs_id_valid, CS_EXPECT_ID) < 0 ||
	    cs_jcheck_opt_at(d, "origin", t->origin, cs_id_valid,
	                     CS_EXPECT_ORIGIN) < 0)
		return -1;
	if ((unsigned)t->mode > CS_ALL_OR_NOTHING)
		return cs_jerr_at(d, "mode",
		                  "expected one of: incremental, "
		                  "all_or_nothing, got %d",
		                  (int)t->mode);
	if ((unsigned)t->detect > CS_COARSE)
		return cs_jerr_at(d, "detect",
		                  "expected one of: fine, coarse, got %d",
		                  (int)t->detect);
	if (t->nops == 0)
		return cs_jerr_at(d, "ops", "expected %s, got an empty array",
		                  CS_EXPECT_OPS);
	if (t->nops > CS_TXN_OPS_MAX)
		return cs_jerr_at(d, "ops", "expected %s, got %u entries",
		                  CS_EXPECT_OPS, t->nops);
	return 0;
}

int cs_txn_validate(const cs_txn *txn, char *errbuf, size_t errlen)
{
	struct cs_jdec d;
	cs_jdec_init(&d, NULL, errbuf, errlen);
	if (!txn)
		return cs_jerr(&d, CS_MISSING);
	if (txn_header(&d, txn) < 0)
		return -1;
	for (uint32_t i = 0; i < txn->nops; i++) {
		size_t saved = cs_jpath_key(&d.path, "ops");
		cs_jpath_index(&d.path, i);
		int rc = op_check(&d, txn, &txn->ops[i]);
		cs_jpath_pop(&d.path, saved);
		if (rc < 0)
			return -1;
	}
	return 0;
}
