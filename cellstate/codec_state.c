/* codec_state.c: whole-state snapshots as JSON. The encoding is canonical
 * (machines by slot, jobs by name, tasks by index, only tasks that differ
 * from a fresh pending one), and derived bookkeeping (allocated vectors,
 * counters, dependents lists) is rebuilt on load, then every invariant is
 * checked before the state is handed out. */
#include "json_util.h"

#include <stdlib.h>
#include <string.h>

#define SNAPSHOT_FORMAT "cell-state/1"

/* ---- encoding ---- */

static bool task_is_fresh(const struct cs_task *t)
{
	return t->state == CS_TASK_PENDING && !t->attempt && !t->failures &&
	       !t->exit_code && t->last_end == CS_END_NONE;
}

static json_t *job_record(const cs_state *s, const struct cs_job *job)
{
	json_t *o = cs_job_encode(s, job);
	json_object_del(o, "counts"); /* derived */
	json_t *tasks = cs_jnew(json_array());
	for (uint32_t i = 0; i < job->spec.ntasks; i++)
		if (!task_is_fresh(&job->tasks[i]))
			json_array_append_new(
			    tasks, cs_task_fields(s, &job->tasks[i]));
	cs_jset(o, "tasks", tasks);
	return o;
}

static int by_name(const void *a, const void *b)
{
	const struct cs_job *x = *(const struct cs_job *const *)a;
	const struct cs_job *y = *(const struct cs_job *const *)b;
	return strcmp(x->spec.name, y->spec.name);
}

static json_t *jobs_json(const cs_state *s)
{
	uint32_t n = 0;
	const struct cs_job **all = cu_xcalloc(s->jobs.used, sizeof(*all));
	size_t cur = 0;
	const struct cs_job *job;
	while ((job = cs_job_next(s, &cur)))
		all[n++] = job;
	qsort(all, n, sizeof(*all), by_name);
	json_t *a = cs_jnew(json_array());
	for (uint32_t i = 0; i < n; i++)
		json_array_append_new(a, job_record(s, all[i]));
	free(all);
	return a;
}

static json_t *dedup_json(const struct cs_dedup *d)
{
	json_t *a = cs_jnew(json_array());
	for (uint32_t i = 0; i < d->len; i++) {
		const struct cs_dedup_rec *r = cs_dedup_at(d, i);
		json_t *o = cs_jnew(json_object());
		cs_jset_str(o, "id", r->id);
		cs_jset_u64(o, "index", r->index);
		cs_jset_i64(o, "ms", r->ms);
		cs_jset_bool(o, "committed", r->committed);
		json_t *reasons = cs_jnew(json_array());
		for (uint32_t k = 0; k < r->nops; k++)
			json_array_append_new(
			    reasons, cs_jstring(cs_reason_name(r->reasons[k])));
		cs_jset(o, "reasons", reasons);
		json_array_append_new(a, o);
	}
	return a;
}

json_t *cs_state_encode(const cs_state *s)
{
	json_t *o = cs_jnew(json_object());
	cs_jset_str(o, "format", SNAPSHOT_FORMAT);
	cs_jset_u64(o, "applied_index", s->applied_index);
	cs_jset_u64(o, "seq_clock", s->seq_clock);
	json_t *cfg = cs_jnew(json_object());
	cs_jset_u64(cfg, "dedup_max", s->cfg.dedup_max);
	cs_jset_i64(cfg, "dedup_ttl_ms", s->cfg.dedup_ttl_ms);
	cs_jset(o, "config", cfg);
	json_t *res = cs_jnew(json_array());
	for (uint32_t i = 0; i < s->nres; i++)
		json_array_append_new(res, cs_jstring(s->res_names[i]));
	cs_jset(o, "resources", res);
	json_t *machines = cs_jnew(json_array());
	for (uint32_t i = 0; i < s->nslots; i++)
		if (s->machines[i].in_use)
			json_array_append_new(
			    machines, cs_machine_encode(s, &s->machines[i]));
	cs_jset(o, "machines", machines);
	cs_jset(o, "jobs", jobs_json(s));
	json_t *scheds = cs_jnew(json_array());
	for (uint32_t i = 0; i < s->nscheds; i++)
		json_array_append_new(scheds, cs_sched_encode(&s->scheds[i]));
	cs_jset(o, "schedulers", scheds);
	cs_jset(o, "dedup", dedup_json(&s->dedup));
	return o;
}

char *cs_state_dump(const cs_state *s)
{
	json_t *j = cs_state_encode(s);
	char *text = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!text)
		abort(); /* exhaustion, see cellstate.h */
	return text;
}

/* ---- decoding ----
 * Each step checks its part at its path; cs_state_check at the end catches
 * what only the whole can tell (capacity, edges, counters). */

struct load {
	struct cs_jdec d;
	cs_state *s;
};

static int load_resources(struct load *l, const json_t *root)
{
	static const char *const fixed[CS_RES_FIXED] = {"cpu", "memory",
	                                                "disk"};
	const json_t *arr;
	if (cs_jget_array(&l->d, root, "resources", CS_JREQ, CS_RES_FIXED,
	                  CS_RES_MAX, "an array of 3..8 resource names",
	                  &arr) < 0)
		return -1;
	size_t at = cs_jpath_key(&l->d.path, "resources");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const char *name;
		size_t s2 = cs_jpath_index(&l->d.path, i);
		if (cs_jv_str(&l->d, json_array_get(arr, i), cs_res_name_valid,
		              CS_EXPECT_RES_NAME, &name) < 0)
			return -1;
		if (i < CS_RES_FIXED) {
			if (strcmp(name, fixed[i]))
				return cs_jerr(&l->d, "expected \"%s\"",
				               fixed[i]);
		} else if (cs_resource_index(l->s, name) >= 0) {
			return cs_jerr(&l->d, "expected a resource not named "
			                      "before");
		}
		strcpy(l->s->res_names[l->s->nres++], name);
		cs_jpath_pop(&l->d.path, s2);
	}
	cs_jpath_pop(&l->d.path, at);
	return 0;
}

/* Amounts by name into a vector; every name must be a known resource. */
static int load_res(struct load *l, const json_t *obj, const char *key,
                    cs_res *out)
{
	struct cs_amount *a;
	uint32_t n;
	static const struct cs_jamount_rules any = {NULL, 0};
	memset(out, 0, sizeof(*out));
	int r = cs_jget_amounts(&l->d, obj, key, CS_JREQ, &any, NULL, &a, &n);
	if (r < 0)
		return -1;
	for (uint32_t i = 0; i < n && r >= 0; i++) {
		int k = cs_resource_index(l->s, a[i].name);
		if (k < 0)
			r = cs_jerr_at(&l->d, key,
			               "%s: expected a name listed "
			               "in resources",
			               a[i].name);
		else
			out->v[k] = a[i].value;
	}
	for (uint32_t i = 0; i < n; i++)
		free(a[i].name);
	free(a);
	return r < 0 ? -1 : 0;
}

/* "agent" is optional: snapshots written before it existed load as
 * machines without one. */
static const char *const machine_fields[] = {
    "name", "pool",     "labels",    "agent", "state",
    "seq",  "capacity", "allocated", "tasks", NULL};

static int load_machine(struct load *l, const json_t *o)
{
	const char *name, *pool, *agent = NULL;
	int state;
	uint64_t seq;
	if (cs_jv_object(&l->d, o, "a machine object") < 0 ||
	    cs_jcheck_fields(&l->d, o, machine_fields) < 0 ||
	    cs_jget_str(&l->d, o, "name", CS_JREQ, cs_name_valid,
	                CS_EXPECT_MACHINE, &name) < 0 ||
	    cs_jget_str(&l->d, o, "pool", CS_JREQ, cs_name_valid,
	                CS_EXPECT_POOL, &pool) < 0 ||
	    cs_jget_enum(&l->d, o, "state", CS_JREQ,
	                 (const char *const[]){"up", "draining", "down"}, 3,
	                 &state) < 0 ||
	    cs_jget_u64(&l->d, o, "seq", CS_JREQ, 0, CS_JSON_INT_MAX, NULL,
	                &seq) < 0 ||
	    cs_jget_str(&l->d, o, "agent", CS_JOPT, cs_agent_url_valid,
	                CS_EXPECT_AGENT, &agent) < 0)
		return -1;
	if (cs_machine_slot(l->s, name) != CS_NO_MACHINE)
		return cs_jerr_at(&l->d, "name",
		                  "expected a name not used "
		                  "before, got \"%s\" again",
		                  name);
	cs_res cap;
	if (load_res(l, o, "capacity", &cap) < 0)
		return -1;
	struct cs_label *labels = NULL;
	uint32_t nlabels = 0;
	if (cs_jget_labels(&l->d, o, "labels", CS_JOPT, &cs_jlabel_rules, NULL,
	                   &labels, &nlabels) < 0)
		return -1;
	uint32_t slot = cs_machine_slot_alloc(l->s, name);
	struct cs_machine *m = cs_slot(l->s, slot);
	m->pool = cu_xstrdup(pool);
	m->labels = labels;
	m->nlabels = nlabels;
	m->agent = cu_xstrdup(agent);
	m->state = (enum cs_machine_state)state;
	m->seq = seq;
	m->capacity = cap;
	return 0;
}

static const char *const task_fields[] = {"index",    "state",    "machine",
                                          "attempt",  "failures", "exit_code",
                                          "last_end", NULL};

/* Stored task states: everything but preempted, which never rests. */
static int load_task_state(struct load *l, const json_t *o, int *st)
{
	static const char *const names[] = {"pending",   "assigned", "running",
	                                    "succeeded", "failed",   "lost",
	                                    "-",         "killed"};
	return cs_jget_enum(&l->d, o, "state", CS_JREQ, names,
	                    CS_ARRAY_LEN(names), st);
}

static int task_place(struct load *l, const json_t *o, struct cs_task *t)
{
	const char *mname = NULL;
	int r = cs_jget_str(&l->d, o, "machine", CS_JOPT, cs_name_valid,
	                    CS_EXPECT_MACHINE, &mname);
	if (r < 0)
		return -1;
	if (!cs_task_is_live(t)) {
		if (mname)
			return cs_jerr_at(&l->d, "machine",
			                  "expected no machine for a %s task",
			                  cs_task_state_name(t->state));
		return 0;
	}
	uint32_t slot = mname ? cs_machine_slot(l->s, mname) : CS_NO_MACHINE;
	if (slot == CS_NO_MACHINE)
		return cs_jerr_at(&l->d, "machine",
		                  "expected a machine listed in machines");
	struct cs_machine *m = cs_slot(l->s, slot);
	cs_machine_link(m, t);
	t->machine = slot;
	cs_res_add(&m->allocated, &t->job->request, l->s->nres);
	return 0;
}

static int load_task(struct load *l, const json_t *o, struct cs_job *job)
{
	uint32_t i, attempt, failures;
	int64_t exit_code;
	int st, end;
	if (cs_jv_object(&l->d, o, "a task object") < 0 ||
	    cs_jcheck_fields(&l->d, o, task_fields) < 0 ||
	    cs_jget_u32(&l->d, o, "index", CS_JREQ, 0, job->spec.ntasks - 1,
	                NULL, &i) < 0 ||
	    load_task_state(l, o, &st) < 0 ||
	    cs_jget_u32(&l->d, o, "attempt", CS_JREQ, 0, UINT32_MAX, NULL,
	                &attempt) < 0 ||
	    cs_jget_u32(&l->d, o, "failures", CS_JREQ, 0, CS_RETRIES_MAX + 1,
	                NULL, &failures) < 0 ||
	    cs_jget_i64(&l->d, o, "exit_code", CS_JREQ, INT32_MIN, INT32_MAX,
	                NULL, &exit_code) < 0 ||
	    cs_jget_enum(&l->d, o, "last_end", CS_JREQ,
	                 (const char *const[]){"none", "succeeded", "failed",
	                                       "lost", "preempted", "killed",
	                                       "released"},
	                 CS_END__COUNT, &end) < 0)
		return -1;
	struct cs_task *t = &job->tasks[i];
	if (!task_is_fresh(t) || t->machine != CS_NO_MACHINE)
		return cs_jerr_at(&l->d, "index",
		                  "expected each task once, got "
		                  "%u again",
		                  i);
	t->state = (uint8_t)st;
	t->attempt = attempt;
	t->failures = (uint16_t)failures;
	t->exit_code = (int32_t)exit_code;
	t->last_end = (uint8_t)end;
	job->count[CS_TASK_PENDING]--;
	job->count[st]++;
	return task_place(l, o, t);
}

static int load_tasks(struct load *l, const json_t *o, struct cs_job *job)
{
	const json_t *arr;
	if (cs_jget_array(&l->d, o, "tasks", CS_JREQ, 0, job->spec.ntasks,
	                  "an array of at most one entry per task", &arr) < 0)
		return -1;
	size_t at = cs_jpath_key(&l->d.path, "tasks");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		size_t s2 = cs_jpath_index(&l->d.path, i);
		if (load_task(l, json_array_get(arr, i), job) < 0)
			return -1;
		cs_jpath_pop(&l->d.path, s2);
	}
	cs_jpath_pop(&l->d.path, at);
	return 0;
}

static const char *const job_fields[] = {"spec",      "state",  "cause",
                                         "submit_ms", "end_ms", "waiting_on",
                                         "note",      "tasks",  NULL};

static int job_scalars(struct load *l, const json_t *o, struct cs_job *job)
{
	int st, cause = CS_CAUSE_NONE;
	int64_t submit, end = 0;
	const char *note = NULL;
	static const char *const states[] = {"blocked",   "pending", "running",
	                                     "succeeded", "failed",  "killed"};
	static const char *const causes[] = {"none", "task_failed",
	                                     "dependency_failed", "killed"};
	if (cs_jget_enum(&l->d, o, "state", CS_JREQ, states, 6, &st) < 0 ||
	    cs_jget_enum(&l->d, o, "cause", CS_JOPT, causes, 4, &cause) < 0 ||
	    cs_jget_i64(&l->d, o, "submit_ms", CS_JREQ, 0, INT64_MAX, NULL,
	                &submit) < 0 ||
	    cs_jget_i64(&l->d, o, "end_ms", CS_JOPT, 0, INT64_MAX, NULL, &end) <
	        0 ||
	    cs_jget_str(&l->d, o, "note", CS_JOPT, cs_jnote_valid,
	                CS_EXPECT_NOTE, &note) < 0)
		return -1;
	job->note = note && *note ? cu_xstrdup(note) : NULL; /* never "" */
	job->state = (enum cs_job_state)st;
	job->cause = (enum cs_job_cause)cause;
	job->submit_ms = submit;
	job->end_ms = end;
	return 0;
}

static int load_job(struct load *l, const json_t *o)
{
	struct cs_job_spec *spec = NULL;
	const json_t *js;
	if (cs_jv_object(&l->d, o, "a job object") < 0 ||
	    cs_jcheck_fields(&l->d, o, job_fields) < 0 ||
	    cs_jget_object(&l->d, o, "spec", CS_JREQ, "a job spec", &js) < 0)
		return -1;
	size_t at = cs_jpath_key(&l->d.path, "spec");
	int r = cs_job_spec_decode(js, cs_jpath_str(&l->d.path), &spec,
	                           l->d.errbuf, l->d.errlen);
	cs_jpath_pop(&l->d.path, at);
	if (r < 0)
		return -1;
	cs_res req = {{0}};
	for (uint32_t i = 0; i < spec->nrequest && r >= 0; i++) {
		int k = cs_resource_index(l->s, spec->request[i].name);
		if (k < 0)
			r = cs_jerr_at(
			    &l->d, "spec.resources",
			    "%s: expected a name listed in resources",
			    spec->request[i].name);
		else
			req.v[k] = spec->request[i].value;
	}
	if (r >= 0 && cs_job_find(l->s, spec->name))
		r = cs_jerr_at(&l->d, "spec.name",
		               "expected a job name not "
		               "used before");
	struct cs_job *job = r < 0 ? NULL : cs_job_create(spec, &req, 0);
	cs_job_spec_free(spec);
	if (!job)
		return -1;
	if (job_scalars(l, o, job) < 0 || load_tasks(l, o, job) < 0) {
		/* the whole state is dropped on error: links into machines
		 * need no undoing, only the job its own freeing */
		cs_job_destroy(job);
		return -1;
	}
	cu_map_put(&l->s->jobs, job->spec.name, job);
	return 0;
}

/* The edges: each blocked job lists what it still waits for. */
static int load_edges(struct load *l, const json_t *arr)
{
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *o = json_array_get(arr, i);
		struct cs_job *job = cu_map_get(
		    &l->s->jobs, json_string_value(json_object_get(
		                     json_object_get(o, "spec"), "name")));
		char **names = NULL;
		uint32_t n = 0;
		static const struct cs_jlist_rules rules = {
		    CS_DEPS_MAX, "dependencies", cs_name_valid, CS_EXPECT_JOB};
		size_t at = cs_jpath_index(&l->d.path, i);
		int r = cs_jget_strings(&l->d, o, "waiting_on", CS_JOPT, &rules,
		                        NULL, &names, &n);
		for (uint32_t k = 0; k < n; k++) {
			struct cs_job *dep =
			    r < 0 ? NULL : cu_map_get(&l->s->jobs, names[k]);
			if (!dep && r >= 0)
				r = cs_jerr_at(&l->d, "waiting_on",
				               "expected jobs listed in jobs, "
				               "got \"%s\"",
				               names[k]);
			if (dep) {
				cs_job_add_dependent(dep, job);
				job->deps_waiting++;
			}
			free(names[k]);
		}
		free(names);
		if (r < 0)
			return -1;
		cs_jpath_pop(&l->d.path, at);
	}
	return 0;
}

static int load_list(struct load *l, const json_t *root, const char *key,
                     int (*one)(struct load *, const json_t *))
{
	const json_t *arr;
	if (cs_jget_array(&l->d, root, key, CS_JREQ, 0, SIZE_MAX, "an array",
	                  &arr) < 0)
		return -1;
	size_t at = cs_jpath_key(&l->d.path, key);
	for (size_t i = 0; i < json_array_size(arr); i++) {
		size_t s2 = cs_jpath_index(&l->d.path, i);
		if (one(l, json_array_get(arr, i)) < 0)
			return -1;
		cs_jpath_pop(&l->d.path, s2);
	}
	cs_jpath_pop(&l->d.path, at);
	return 0;
}

/* "member" is optional: snapshots from before schedulers named their
 * standby load with none. */
static int load_sched(struct load *l, const json_t *o)
{
	struct cs_sched_spec sp;
	if (cs_jv_object(&l->d, o, "a scheduler object") < 0 ||
	    cs_sched_spec_read(&l->d, o, &sp) < 0)
		return -1;
	bool found;
	uint32_t at = cs_sched_search(l->s, sp.name, &found);
	if (found || at != l->s->nscheds)
		return cs_jerr_at(&l->d, "name",
		                  "expected schedulers sorted by name, each "
		                  "once");
	cu_grow((void **)&l->s->scheds, &l->s->scheds_cap, at + 1,
	        sizeof(*l->s->scheds));
	struct cs_sched *d = &l->s->scheds[l->s->nscheds++];
	memset(d, 0, sizeof(*d));
	strcpy(d->name, sp.name);
	strcpy(d->class_name, sp.class_name);
	strcpy(d->policy, sp.policy);
	d->member = sp.member;
	return 0;
}

static const char *const dedup_fields[] = {"id",        "index",   "ms",
                                           "committed", "reasons", NULL};

static int dedup_reasons(struct load *l, const json_t *o,
                         struct cs_dedup_rec *r)
{
	const json_t *arr;
	if (cs_jget_array(&l->d, o, "reasons", CS_JREQ, 0, 1000000,
	                  "an array of reason names", &arr) < 0)
		return -1;
	r->nops = (uint32_t)json_array_size(arr);
	r->reasons = cu_xmalloc(r->nops ? r->nops : 1);
	for (uint32_t i = 0; i < r->nops; i++) {
		int k =
		    cs_reason_parse(json_string_value(json_array_get(arr, i)));
		if (k < 0)
			return cs_jerr_at(&l->d, "reasons",
			                  "[%u]: expected a reason name", i);
		r->reasons[i] = (uint8_t)k;
	}
	return 0;
}

static int load_dedup_rec(struct load *l, const json_t *o)
{
	const char *id;
	struct cs_dedup_rec *r = cu_xcalloc(1, sizeof(*r));
	uint64_t index;
	int rc = -1;
	if (cs_jv_object(&l->d, o, "a transaction record") < 0 ||
	    cs_jcheck_fields(&l->d, o, dedup_fields) < 0 ||
	    cs_jget_str(&l->d, o, "id", CS_JREQ, cs_id_valid, CS_EXPECT_ID,
	                &id) < 0 ||
	    cs_jget_u64(&l->d, o, "index", CS_JREQ, 0, CS_JSON_INT_MAX, NULL,
	                &index) < 0 ||
	    cs_jget_i64(&l->d, o, "ms", CS_JREQ, INT64_MIN, INT64_MAX, NULL,
	                &r->ms) < 0 ||
	    cs_jget_bool(&l->d, o, "committed", CS_JREQ, &r->committed) < 0 ||
	    dedup_reasons(l, o, r) < 0)
		goto out;
	if (cs_dedup_find(&l->s->dedup, id)) {
		cs_jerr_at(&l->d, "id", "expected each id once");
		goto out;
	}
	r->id = cu_xstrdup(id);
	r->index = index;
	cs_dedup_add(&l->s->dedup, r);
	return 0;
out:
	free(r->reasons);
	free(r);
	return rc;
}

static const char *const root_fields[] = {
    "format",   "applied_index", "seq_clock",  "config", "resources",
    "machines", "jobs",          "schedulers", "dedup",  NULL};

static int load_config(struct cs_jdec *d, const json_t *root,
                       struct cs_config *cfg)
{
	static const char *const fields[] = {"dedup_max", "dedup_ttl_ms", NULL};
	const json_t *o;
	if (cs_jget_object(d, root, "config", CS_JREQ, "a config object", &o) <
	    0)
		return -1;
	size_t at = cs_jpath_key(&d->path, "config");
	int r = cs_jcheck_fields(d, o, fields) < 0 ||
	                cs_jget_u32(d, o, "dedup_max", CS_JREQ, 0, UINT32_MAX,
	                            NULL, &cfg->dedup_max) < 0 ||
	                cs_jget_i64(d, o, "dedup_ttl_ms", CS_JREQ, 0, INT64_MAX,
	                            NULL, &cfg->dedup_ttl_ms) < 0
	            ? -1
	            : 0;
	cs_jpath_pop(&d->path, at);
	return r;
}

static int load_all(struct load *l, const json_t *root)
{
	uint64_t applied, clock;
	if (cs_jget_u64(&l->d, root, "applied_index", CS_JREQ, 0,
	                CS_JSON_INT_MAX, NULL, &applied) < 0 ||
	    cs_jget_u64(&l->d, root, "seq_clock", CS_JREQ, 0, CS_JSON_INT_MAX,
	                NULL, &clock) < 0 ||
	    load_resources(l, root) < 0 ||
	    load_list(l, root, "machines", load_machine) < 0 ||
	    load_list(l, root, "jobs", load_job) < 0 ||
	    load_list(l, root, "schedulers", load_sched) < 0 ||
	    load_list(l, root, "dedup", load_dedup_rec) < 0)
		return -1;
	size_t at = cs_jpath_key(&l->d.path, "jobs");
	int r = load_edges(l, json_object_get(root, "jobs"));
	cs_jpath_pop(&l->d.path, at);
	l->s->applied_index = applied;
	l->s->seq_clock = clock;
	return r;
}

int cs_state_decode(const json_t *j, cs_state **out, char *errbuf,
                    size_t errlen)
{
	struct load l = {.s = NULL};
	struct cs_config cfg;
	const char *format;
	cs_jdec_init(&l.d, NULL, errbuf, errlen);
	if (cs_jv_object(&l.d, j, "a state snapshot object") < 0 ||
	    cs_jcheck_fields(&l.d, j, root_fields) < 0 ||
	    cs_jget_str(&l.d, j, "format", CS_JREQ, NULL, NULL, &format) < 0)
		return -1;
	if (strcmp(format, SNAPSHOT_FORMAT))
		return cs_jerr_at(&l.d, "format", "expected \"%s\"",
		                  SNAPSHOT_FORMAT);
	if (load_config(&l.d, j, &cfg) < 0)
		return -1;
	l.s = cs_state_new(&cfg);
	l.s->nres = 0; /* load_resources names them all */
	char why[CS_ERRMSG_SIZE];
	if (load_all(&l, j) < 0) {
		cs_state_free(l.s);
		return -1;
	}
	if (cs_state_check(l.s, why, sizeof(why))) {
		cs_state_free(l.s);
		return cu_errf(errbuf, errlen, -1,
		               "(root): inconsistent snapshot: %s", why);
	}
	*out = l.s;
	return 0;
}

int cs_state_load(const char *buf, size_t len, cs_state **out, char *errbuf,
                  size_t errlen)
{
	json_t *j;
	if (cs_jparse(buf, len, "a state snapshot object", &j, errbuf, errlen))
		return -1;
	int r = cs_state_decode(j, out, errbuf, errlen);
	json_decref(j);
	return r;
}
