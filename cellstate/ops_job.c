/* ops_job.c: job ops: submit (with its dependency edges), kill, remove, and
 * the note a scheduler leaves on a job it could not place. */
#include "internal.h"

#include <string.h>

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

enum cs_reason cs_op_job_put(struct cs_apply *a, const struct cs_op *op)
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
	for (uint32_t i = 0; i < sp->ndeps; i++) {
		struct cs_job *dep = cu_map_get(&a->s->jobs, sp->deps[i]);
		if (dep->state == CS_JOB_SUCCEEDED)
			continue;
		cs_add_dependent(a, dep, job);
		job->deps_waiting++;
	}
	if (job->deps_waiting)
		job->state = CS_JOB_BLOCKED;
	cs_note_job(a, job);
	return CS_R_OK;
}

enum cs_reason cs_op_job_kill(struct cs_apply *a, const struct cs_op *op)
{
	struct cs_job *job;
	enum cs_reason r = cs_find_active_job(a, op->job, &job);
	if (r)
		return r;
	cs_job_finish(a, job, CS_JOB_KILLED, CS_CAUSE_KILLED);
	return CS_R_OK;
}

/* Only ended jobs go: they hold no resources and, by the invariant that
 * dependents lists hold blocked jobs only, no edges either. */
enum cs_reason cs_op_job_remove(struct cs_apply *a, const struct cs_op *op)
{
	struct cs_job *job;
	enum cs_reason r = cs_find_job(a, op->job, &job);
	if (r)
		return r;
	if (job->state < CS_JOB_SUCCEEDED)
		return cs_reject(a, CS_R_JOB_ACTIVE,
		                 "job %s is %s; kill it before removing it",
		                 job->spec.name, cs_job_state_name(job->state));
	cs_note_removed(a, CS_CHANGE_JOB_REMOVED, job->spec.name);
	cs_drop_job(a, job);
	return CS_R_OK;
}

/* A note explains why a job waits; an ended job waits for nothing, and its
 * last note (why it never ran) stays as it was. */
enum cs_reason cs_op_job_note(struct cs_apply *a, const struct cs_op *op)
{
	struct cs_job *job;
	enum cs_reason r = cs_find_active_job(a, op->job, &job);
	if (r)
		return r;
	cs_set_job_note(a, job, op->note);
	return CS_R_OK;
}
