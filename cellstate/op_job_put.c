/* op_job_put.c: job_put, submitting a job: its spec, its tasks (all
 * pending) and its dependency edges (blocked until they succeed). */
#include "bin_util.h"
#include "json_util.h"

struct cs_op *cs_txn_job_put(cs_txn *txn, const struct cs_job_spec *spec)
{
	struct cs_op *op = cs_txn_add(txn, CS_OP_JOB_PUT);
	op->job_spec = cs_job_spec_copy(txn->arena, spec);
	op->job = op->job_spec->name;
	return op;
}

/* ---- JSON: {"op", "job": a job spec} ---- */

static const char *const job_put_fields[] = {"op", "job", NULL};

/* As machine_put: decoded onto the heap at PATH.job, copied by the
 * builder (op->job == spec->name). */
static int job_put_json_read(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	const json_t *j;
	struct cs_job_spec *spec = NULL;
	if (cs_jget_object(d, o, "job", CS_JREQ, "a job spec object", &j) < 0)
		return -1;
	size_t saved = cs_jpath_key(&d->path, "job");
	int r = cs_job_spec_decode(j, cs_jpath_str(&d->path), &spec, d->errbuf,
	                           d->errlen);
	cs_jpath_pop(&d->path, saved);
	if (r < 0)
		return -1;
	cs_txn_job_put(t, spec);
	cs_job_spec_free(spec);
	return 0;
}

static void job_put_json_write(json_t *o, const struct cs_op *op)
{
	cs_jset(o, "job", cs_job_spec_encode(op->job_spec));
}

static int job_put_check(struct cs_jdec *d, const struct cs_op *op)
{
	if (!op->job_spec)
		return cs_jerr_at(d, "job", CS_MISSING);
	size_t saved = cs_jpath_key(&d->path, "job");
	int rc = cs_jcheck_job_spec(d, op->job_spec);
	if (rc == 0)
		rc =
		    cs_jcheck_same_name(d, "name", op->job, op->job_spec->name);
	cs_jpath_pop(&d->path, saved);
	return rc;
}

/* ---- binary: the spec's fields in declaration order; distinct and gang
 * share one u8 of JOB_* bits ---- */

#define JOB_DISTINCT 1u
#define JOB_GANG     2u

static void job_put_bin_put(struct cu_buf *w, const struct cs_op *op)
{
	const struct cs_job_spec *j = op->job_spec;
	cs_bput_str(w, j->name);
	cs_bput_str(w, j->class_name);
	cu_buf_var(w, j->priority);
	cu_buf_var(w, j->ntasks);
	cs_bput_amounts(w, j->request, j->nrequest);
	cs_bput_str(w, j->pool);
	cs_bput_labels(w, j->labels, j->nlabels);
	cu_buf_u8(w,
	          (j->distinct ? JOB_DISTINCT : 0) | (j->gang ? JOB_GANG : 0));
	cu_buf_var(w, j->max_retries);
	cs_bput_str(w, j->command);
	cs_bput_strings(w, j->args, j->nargs);
	cs_bput_labels(w, j->env, j->nenv);
	cu_buf_var(w, j->duration_ms);
	cs_bput_strings(w, j->deps, j->ndeps);
	cs_bput_str(w, j->cron);
}

static void job_put_bin_get(struct cs_bdec *r, struct cs_op *op)
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
	op->job_spec = j;
	op->job = j->name;
}

/* ---- apply ---- */

static enum cs_reason check_deps(struct cs_apply *a,
                                 const struct cs_job_spec *sp)
{
	for (uint32_t i = 0; i < sp->ndeps; i++) {
		const struct cs_job *dep = cu_map_get(&a->s->jobs, sp->deps[i]);
		if (!dep)
			return cs_reject(a, CS_R_UNKNOWN_JOB,
			                 "dependency %s of job %s does not "
			                 "exist",
			                 sp->deps[i], sp->name);
		if (dep->state == CS_JOB_FAILED || dep->state == CS_JOB_KILLED)
			return cs_reject(a, CS_R_DEPENDENCY_FAILED,
			                 "dependency %s of job %s has %s",
			                 sp->deps[i], sp->name,
			                 cs_job_state_name(dep->state));
	}
	return CS_R_OK;
}

/* Blocks the new job on each dependency that has not succeeded yet. */
static void wait_for_deps(struct cs_apply *a, struct cs_job *job)
{
	const struct cs_job_spec *sp = &job->spec;
	for (uint32_t i = 0; i < sp->ndeps; i++) {
		struct cs_job *dep = cu_map_get(&a->s->jobs, sp->deps[i]);
		if (dep->state == CS_JOB_SUCCEEDED)
			continue;
		cs_add_dependent(a, dep, job);
		job->deps_waiting++;
	}
	if (job->deps_waiting)
		job->state = CS_JOB_BLOCKED;
}

static enum cs_reason job_put_apply(struct cs_apply *a, const struct cs_op *op)
{
	const struct cs_job_spec *sp = op->job_spec;
	enum cs_reason r;
	cs_res req;
	if (!sp || !sp->name || !sp->ntasks)
		return cs_reject(a, CS_R_UNKNOWN_JOB, "job_put without a spec");
	if (cu_map_get(&a->s->jobs, sp->name))
		return cs_reject(a, CS_R_EXISTS, "job %s already exists",
		                 sp->name);
	if ((r = check_deps(a, sp)))
		return r;
	cs_save_state(a);
	if (cs_res_resolve(a->s, sp->request, sp->nrequest, &req, NULL))
		return cs_reject(a, CS_R_RESOURCE_LIMIT,
		                 "job %s names more than %d resource kinds in "
		                 "the cell",
		                 sp->name, CS_RES_MAX);
	struct cs_job *job = cs_job_create(sp, &req, a->now_ms);
	cs_add_job(a, job);
	wait_for_deps(a, job);
	cs_note_job(a, job);
	return CS_R_OK;
}

const struct cs_op_desc cs_op_desc_job_put = {
    .name = "job_put",
    .seq = CS_SEQ_NEVER,
    .fields = job_put_fields,
    .json_read = job_put_json_read,
    .json_write = job_put_json_write,
    .check = job_put_check,
    .bin_put = job_put_bin_put,
    .bin_get = job_put_bin_get,
    .apply = job_put_apply,
};
