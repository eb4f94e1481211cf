/* api_read.c: the reads of the API, served from the local replica (so any
 * member answers; a follower's view may lag the writer's by a few
 * milliseconds, and every list says at which index it was taken): status,
 * machines, jobs, schedulers. Tasks have their own file (api_tasks.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define LIST_LIMIT_DEFAULT 1000
#define LIST_LIMIT_MAX     1000000

static const char *const no_params[] = {NULL};

static json_t *status_json(const cst_store *store)
{
	const cs_state *s = cst_state(store);
	struct cst_status st;
	cst_status(store, &st);
	char hash[17], content[17];
	snprintf(hash, sizeof(hash), "%016llx",
	         (unsigned long long)cs_state_hash(s, 0));
	snprintf(content, sizeof(content), "%016llx",
	         (unsigned long long)cs_state_hash(s, CS_HASH_CONTENT));
	json_t *o =
	    json_pack("{s:I,s:s,s:I,s:b,s:I,s:I,s:I,s:s,s:I,s:I}", "id",
	              (json_int_t)st.id, "role", cst_role_name(st.role), "term",
	              (json_int_t)st.term, "trusted", st.writer, "commit_index",
	              (json_int_t)st.commit_index, "applied_index",
	              (json_int_t)st.applied_index, "last_index",
	              (json_int_t)st.last_index, "state_hash", hash, "machines",
	              (json_int_t)cs_machine_count(s), "jobs",
	              (json_int_t)cs_job_count(s));
	/* what ops changed, without the applied index and remembered ids:
	 * equal before and after a rejected write */
	json_object_set_new(o, "content_hash", json_string(content));
	return o;
}

void cd_get_status(struct cc_request *r, void *arg)
{
	const cd_core *c = arg;
	if (!cd_only_params(r, no_params))
		return;
	json_t *o = status_json(c->store);
	struct cst_member w;
	uint64_t wid = cst_writer(c->store, &w);
	json_object_set_new(o, "leader",
	                    wid ? cd_member_json(&w, wid) : json_null());
	cc_reply_json(r, 200, o);
}

bool cd_list_limit(struct cc_request *r, size_t *limit)
{
	uint64_t n = LIST_LIMIT_DEFAULT;
	bool ok = cc_request_query_u64(r, "limit", 1, LIST_LIMIT_MAX, &n);
	*limit = (size_t)n;
	return ok;
}

json_t *cd_listing(const cd_core *c, const char *key, json_t *items,
                   bool truncated)
{
	return json_pack("{s:I,s:o,s:b}", "index",
	                 (json_int_t)cst_applied_index(c->store), key, items,
	                 "truncated", truncated);
}

/* GET /v1/KIND[/NAME]?limit=N: checks the query; *name is "" for the list,
 * or "/NAME". */
static bool list_or_one(struct cc_request *r, const char **name, size_t *limit)
{
	static const char *const params[] = {"limit", NULL};
	*name = cc_request_subpath(r);
	return cd_only_params(r, params) && cd_list_limit(r, limit);
}

static json_t *machine_list(const cs_state *s, size_t limit, bool *more)
{
	json_t *a = json_array();
	*more = false;
	for (uint32_t i = 0; i < cs_machine_slots(s); i++) {
		const struct cs_machine *m = cs_machine_at(s, i);
		if (!m)
			continue;
		if (json_array_size(a) == limit) {
			*more = true;
			break;
		}
		json_array_append_new(a, cs_machine_encode(s, m));
	}
	return a;
}

void cd_get_machines(struct cc_request *r, void *arg)
{
	const cd_core *c = arg;
	const cs_state *s = cst_state(c->store);
	const char *name;
	size_t limit;
	bool more;
	if (!list_or_one(r, &name, &limit))
		return;
	if (!*name) {
		json_t *a = machine_list(s, limit, &more);
		cc_reply_json(r, 200, cd_listing(c, "machines", a, more));
		return;
	}
	const struct cs_machine *m = cs_machine_find(s, name + 1); /* "/m1" */
	if (!m)
		cc_reply_error(r, 404, "unknown_machine",
		               "machine %.64s does not exist", name + 1);
	else
		cc_reply_json(r, 200, cs_machine_encode(s, m));
}

static int by_name(const void *x, const void *y)
{
	return strcmp((*(const struct cs_job *const *)x)->spec.name,
	              (*(const struct cs_job *const *)y)->spec.name);
}

static json_t *job_with_tasks(const cs_state *s, const struct cs_job *job,
                              size_t limit)
{
	json_t *o = cs_job_encode(s, job);
	json_t *tasks = json_array();
	for (uint32_t i = 0; i < job->spec.ntasks && i < limit; i++)
		json_array_append_new(tasks, cs_task_encode(s, &job->tasks[i]));
	json_object_set_new(o, "tasks", tasks);
	json_object_set_new(o, "tasks_truncated",
	                    json_boolean(job->spec.ntasks > limit));
	return o;
}

/* Jobs sorted by name, at most limit of them. */
static json_t *job_list(const cs_state *s, size_t limit, bool *more)
{
	size_t n = 0, cur = 0;
	const struct cs_job **all =
	    cu_xcalloc(cs_job_count(s) + 1, sizeof(*all));
	const struct cs_job *job;
	while ((job = cs_job_next(s, &cur)))
		all[n++] = job;
	qsort(all, n, sizeof(*all), by_name);
	json_t *a = json_array();
	for (size_t i = 0; i < n && i < limit; i++)
		json_array_append_new(a, cs_job_encode(s, all[i]));
	free(all);
	*more = n > limit;
	return a;
}

void cd_get_jobs(struct cc_request *r, void *arg)
{
	const cd_core *c = arg;
	const cs_state *s = cst_state(c->store);
	const char *name;
	size_t limit;
	bool more;
	if (!list_or_one(r, &name, &limit))
		return;
	if (!*name) {
		json_t *a = job_list(s, limit, &more);
		cc_reply_json(r, 200, cd_listing(c, "jobs", a, more));
		return;
	}
	const struct cs_job *job = cs_job_find(s, name + 1);
	if (!job)
		cc_reply_error(r, 404, "unknown_job",
		               "job %.64s does not exist", name + 1);
	else
		cc_reply_json(r, 200, job_with_tasks(s, job, limit));
}

/* A registered scheduler, with "alive" from the writer's leases (absent on
 * other members: they hear no heartbeats). */
static json_t *sched_json(const cd_core *c, const struct cs_sched *sc)
{
	json_t *o = cs_sched_encode(sc);
	int alive = cd_sched_alive(c, sc->name);
	if (alive >= 0)
		json_object_set_new(o, "alive", json_boolean(alive));
	return o;
}

/* GET /v1/schedulers[/NAME]: the registry, sorted by name; it is small
 * (one entry per scheduler process), so there is no limit. */
void cd_get_schedulers(struct cc_request *r, void *arg)
{
	const cd_core *c = arg;
	const cs_state *s = cst_state(c->store);
	const char *name = cc_request_subpath(r);
	if (!cd_only_params(r, no_params))
		return;
	if (*name) { /* "/batch-1" */
		const struct cs_sched *sc = cs_sched_find(s, name + 1);
		if (!sc)
			cc_reply_error(r, 404, "unknown_scheduler",
			               "scheduler %.64s is not registered",
			               name + 1);
		else
			cc_reply_json(r, 200, sched_json(c, sc));
		return;
	}
	json_t *a = json_array();
	for (uint32_t i = 0; i < cs_sched_count(s); i++)
		json_array_append_new(a, sched_json(c, cs_sched_at(s, i)));
	json_int_t index = (json_int_t)cst_applied_index(c->store);
	cc_reply_json(r, 200,
	              json_pack("{s:I,s:o}", "index", index, "schedulers", a));
}
