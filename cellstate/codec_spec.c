/* codec_spec.c: JSON for machine and job specs (FORMAT.md), the bodies of
 * machine_put and job_put ops and of the machine and job API calls. */
#include "json_util.h"

#include <stdlib.h>

static const char *const machine_fields[] = {
    "name", "pool", "labels", "capacity", "state", "agent", NULL};
static const char *const job_fields[] = {
    "name",        "class",       "priority",    "tasks",   "resources",
    "constraints", "gang",        "max_retries", "command", "args",
    "env",         "duration_ms", "depends_on",  "cron",    NULL};
static const char *const constraint_fields[] = {"pool", "labels",
                                                "distinct_machines", NULL};
/* ---- machine spec ---- */

static int machine_read(struct cs_jdec *d, const json_t *j,
                        struct cs_machine_spec *s)
{
	const char *states[CS_MACHINE_DOWN + 1];
	for (int i = 0; i <= CS_MACHINE_DOWN; i++)
		states[i] = cs_machine_state_name((enum cs_machine_state)i);
	const char *name, *pool = "default", *agent = NULL;
	if (cs_jv_object(d, j, "a machine spec object") < 0 ||
	    cs_jcheck_fields(d, j, machine_fields) < 0 ||
	    cs_jget_str(d, j, "name", CS_JREQ, cs_name_valid, CS_EXPECT_MACHINE,
	                &name) < 0 ||
	    cs_jget_str(d, j, "pool", CS_JOPT, cs_name_valid, CS_EXPECT_POOL,
	                &pool) < 0 ||
	    cs_jget_enum(d, j, "state", CS_JOPT, states, CS_ARRAY_LEN(states),
	                 &s->state) < 0 ||
	    cs_jget_str(d, j, "agent", CS_JOPT, cs_agent_url_valid,
	                CS_EXPECT_AGENT, &agent) < 0)
		return -1;
	s->name = cu_xstrdup(name);
	s->pool = cu_xstrdup(pool);
	s->agent = cu_xstrdup(agent); /* NULL stays NULL: none */
	if (cs_jget_labels(d, j, "labels", CS_JOPT, &cs_jlabel_rules, NULL,
	                   &s->labels, &s->nlabels) < 0 ||
	    cs_jget_amounts(d, j, "capacity", CS_JREQ, &cs_jcapacity_rules,
	                    NULL, &s->capacity, &s->ncapacity) < 0)
		return -1;
	return 0;
}

int cs_machine_spec_decode(const json_t *j, const char *path,
                           struct cs_machine_spec **out, char *errbuf,
                           size_t errlen)
{
	struct cs_jdec d;
	cs_jdec_init(&d, path, errbuf, errlen);
	struct cs_machine_spec *s = cu_xcalloc(1, sizeof(*s));
	s->state = -1;
	if (machine_read(&d, j, s) < 0 ||
	    cs_machine_spec_validate(s, path, errbuf, errlen) < 0) {
		cs_machine_spec_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

json_t *cs_machine_spec_encode(const struct cs_machine_spec *spec)
{
	json_t *o = cs_jnew(json_object());
	cs_jset_str(o, "name", spec->name);
	cs_jset_str(o, "pool", spec->pool ? spec->pool : "default");
	cs_jset(o, "labels", cs_jlabels(spec->labels, spec->nlabels));
	cs_jset(o, "capacity", cs_jamounts(spec->capacity, spec->ncapacity));
	if (spec->state >= 0)
		cs_jset_str(
		    o, "state",
		    cs_machine_state_name((enum cs_machine_state)spec->state));
	cs_jset_str(o, "agent", spec->agent); /* only when set */
	return o;
}

/* ---- job spec ---- */

static int job_identity(struct cs_jdec *d, const json_t *j,
                        struct cs_job_spec *s)
{
	const char *name, *class_name;
	if (cs_jget_str(d, j, "name", CS_JREQ, cs_name_valid, CS_EXPECT_JOB,
	                &name) < 0 ||
	    cs_jget_str(d, j, "class", CS_JREQ, cs_name_valid, CS_EXPECT_CLASS,
	                &class_name) < 0 ||
	    cs_jget_u32(d, j, "priority", CS_JOPT, 0, CS_PRIORITY_MAX, NULL,
	                &s->priority) < 0 ||
	    cs_jget_u32(d, j, "tasks", CS_JREQ, 1, CS_JOB_TASKS_MAX, NULL,
	                &s->ntasks) < 0 ||
	    cs_jget_u32(d, j, "max_retries", CS_JOPT, 0, CS_RETRIES_MAX, NULL,
	                &s->max_retries) < 0 ||
	    cs_jget_bool(d, j, "gang", CS_JOPT, &s->gang) < 0)
		return -1;
	s->name = cu_xstrdup(name);
	s->class_name = cu_xstrdup(class_name);
	if (cs_jget_amounts(d, j, "resources", CS_JREQ, &cs_jrequest_rules,
	                    NULL, &s->request, &s->nrequest) < 0)
		return -1;
	return 0;
}

static int constraints_read(struct cs_jdec *d, const json_t *c,
                            struct cs_job_spec *s)
{
	const char *pool = NULL;
	if (cs_jcheck_fields(d, c, constraint_fields) < 0 ||
	    cs_jget_str(d, c, "pool", CS_JOPT, cs_name_valid, CS_EXPECT_POOL,
	                &pool) < 0 ||
	    cs_jget_bool(d, c, "distinct_machines", CS_JOPT, &s->distinct) < 0)
		return -1;
	s->pool = cu_xstrdup(pool);
	return cs_jget_labels(d, c, "labels", CS_JOPT, &cs_jlabel_rules, NULL,
	                      &s->labels, &s->nlabels);
}

static int job_constraints(struct cs_jdec *d, const json_t *j,
                           struct cs_job_spec *s)
{
	const json_t *c;
	int r = cs_jget_object(d, j, "constraints", CS_JOPT,
	                       "an object of constraints", &c);
	if (r <= 0)
		return r;
	size_t saved = cs_jpath_key(&d->path, "constraints");
	r = constraints_read(d, c, s);
	cs_jpath_pop(&d->path, saved);
	return r < 0 ? -1 : 0;
}

static int job_run(struct cs_jdec *d, const json_t *j, struct cs_job_spec *s)
{
	const char *command = NULL, *cron = NULL;
	if (cs_jget_str(d, j, "command", CS_JOPT, cs_jcommand_valid,
	                CS_EXPECT_COMMAND, &command) < 0 ||
	    cs_jget_u64(d, j, "duration_ms", CS_JOPT, 0, CS_DURATION_MAX, NULL,
	                &s->duration_ms) < 0 ||
	    /* cs_job_spec_validate words what a schedule must look like. */
	    cs_jget_str(d, j, "cron", CS_JOPT, NULL, "a cron schedule string",
	                &cron) < 0)
		return -1;
	s->command = cu_xstrdup(command);
	s->cron = cu_xstrdup(cron);
	if (cs_jget_strings(d, j, "args", CS_JOPT, &cs_jargs_rules, NULL,
	                    &s->args, &s->nargs) < 0 ||
	    cs_jget_labels(d, j, "env", CS_JOPT, &cs_jenv_rules, NULL, &s->env,
	                   &s->nenv) < 0 ||
	    cs_jget_strings(d, j, "depends_on", CS_JOPT, &cs_jdeps_rules, NULL,
	                    &s->deps, &s->ndeps) < 0)
		return -1;
	return 0;
}

int cs_job_spec_decode(const json_t *j, const char *path,
                       struct cs_job_spec **out, char *errbuf, size_t errlen)
{
	struct cs_jdec d;
	cs_jdec_init(&d, path, errbuf, errlen);
	struct cs_job_spec *s = cu_xcalloc(1, sizeof(*s));
	s->max_retries = CS_RETRIES_DEFAULT;
	if (cs_jv_object(&d, j, "a job spec object") < 0 ||
	    cs_jcheck_fields(&d, j, job_fields) < 0 ||
	    job_identity(&d, j, s) < 0 || job_constraints(&d, j, s) < 0 ||
	    job_run(&d, j, s) < 0 ||
	    cs_job_spec_validate(s, path, errbuf, errlen) < 0) {
		cs_job_spec_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

static json_t *constraints_encode(const struct cs_job_spec *s)
{
	json_t *c = cs_jnew(json_object());
	cs_jset_str(c, "pool", s->pool);
	cs_jset(c, "labels", cs_jlabels(s->labels, s->nlabels));
	cs_jset_bool(c, "distinct_machines", s->distinct);
	return c;
}

json_t *cs_job_spec_encode(const struct cs_job_spec *s)
{
	json_t *o = cs_jnew(json_object());
	cs_jset_str(o, "name", s->name);
	cs_jset_str(o, "class", s->class_name);
	cs_jset_u64(o, "priority", s->priority);
	cs_jset_u64(o, "tasks", s->ntasks);
	cs_jset(o, "resources", cs_jamounts(s->request, s->nrequest));
	cs_jset(o, "constraints", constraints_encode(s));
	cs_jset_bool(o, "gang", s->gang);
	cs_jset_u64(o, "max_retries", s->max_retries);
	cs_jset_str(o, "command", s->command);
	cs_jset(o, "args", cs_jstrings(s->args, s->nargs));
	cs_jset(o, "env", cs_jlabels(s->env, s->nenv));
	cs_jset_u64(o, "duration_ms", s->duration_ms);
	cs_jset(o, "depends_on", cs_jstrings(s->deps, s->ndeps));
	cs_jset_str(o, "cron", s->cron);
	return o;
}

/* ---- scheduler registrations ---- */

static const char *const sched_spec_fields[] = {"name", "class", "policy",
                                                "member", NULL};

int cs_sched_spec_read(struct cs_jdec *d, const json_t *j,
                       struct cs_sched_spec *s)
{
	/* Borrowed strings: the builder copies them into the arena. */
	const char *name, *class_name, *policy;
	uint64_t member = 0;
	if (cs_jcheck_fields(d, j, sched_spec_fields) < 0 ||
	    cs_jget_str(d, j, "name", CS_JREQ, cs_name_valid, CS_EXPECT_SCHED,
	                &name) < 0 ||
	    cs_jget_str(d, j, "class", CS_JREQ, cs_name_valid, CS_EXPECT_CLASS,
	                &class_name) < 0 ||
	    cs_jget_str(d, j, "policy", CS_JREQ, cs_name_valid,
	                CS_EXPECT_POLICY, &policy) < 0 ||
	    cs_jget_u64(d, j, "member", CS_JOPT, 0, CS_JSON_INT_MAX,
	                CS_EXPECT_MEMBER, &member) < 0)
		return -1;
	s->name = (char *)name;
	s->class_name = (char *)class_name;
	s->policy = (char *)policy;
	s->member = member;
	return 0;
}

json_t *cs_sched_spec_json(const struct cs_sched_spec *s)
{
	json_t *j = cs_jnew(json_object());
	cs_jset_str(j, "name", s->name);
	cs_jset_str(j, "class", s->class_name);
	cs_jset_str(j, "policy", s->policy);
	cs_jset_u64(j, "member", s->member);
	return j;
}
