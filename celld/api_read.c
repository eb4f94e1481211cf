/* api_read.c: the read side of the API, served from the local replica (so
 * any member answers; a follower's view may lag the leader's by a few
 * milliseconds, and every answer says at which index it was taken). */
#include "celld.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_LIMIT_DEFAULT 1000
#define LIST_LIMIT_MAX     1000000

static const char *const no_params[] = {NULL};

static json_t *member_json(const struct cr_member *m, uint64_t leader)
{
	return json_pack("{s:I,s:s,s:s,s:s,s:b}", "id", (json_int_t)m->id,
	                 "role", cr_member_role_name(m->role), "raft_address",
	                 m->raft_address, "api_address", m->api_address,
	                 "leader", m->id == leader);
}

static void get_status(struct cc_request *r, void *arg)
{
	struct celld *d = arg;
	if (!celld_only_params(r, no_params))
		return;
	const cs_state *s = cr_node_state(d->node);
	struct cr_member leader;
	uint64_t lid = cr_node_leader(d->node, &leader);
	char hash[17], content[17];
	snprintf(hash, sizeof(hash), "%016llx",
	         (unsigned long long)cs_state_hash(s, 0));
	snprintf(content, sizeof(content), "%016llx",
	         (unsigned long long)cs_state_hash(s, CS_HASH_CONTENT));
	json_t *o = json_pack(
	    "{s:I,s:s,s:I,s:b,s:I,s:I,s:I,s:s,s:I,s:I}", "id",
	    (json_int_t)cr_node_id(d->node), "role",
	    cr_role_name(cr_node_role(d->node)), "term",
	    (json_int_t)cr_node_term(d->node), "trusted",
	    cr_node_trusted(d->node), "commit_index",
	    (json_int_t)cr_node_commit_index(d->node), "applied_index",
	    (json_int_t)cr_node_applied_index(d->node), "last_index",
	    (json_int_t)cr_node_last_index(d->node), "state_hash", hash,
	    "machines", (json_int_t)cs_machine_count(s), "jobs",
	    (json_int_t)cs_job_count(s));
	/* what ops changed, without the applied index and remembered ids:
	 * equal before and after a rejected write */
	json_object_set_new(o, "content_hash", json_string(content));
	json_object_set_new(o, "leader",
	                    lid ? member_json(&leader, lid) : json_null());
	cc_reply_json(r, 200, o);
}

static void get_members(struct cc_request *r, void *arg)
{
	struct celld *d = arg;
	if (!celld_only_params(r, no_params))
		return;
	struct cr_member *m;
	unsigned n;
	uint64_t leader = cr_node_leader(d->node, NULL);
	cr_node_members(d->node, &m, &n);
	json_t *a = json_array();
	for (unsigned i = 0; i < n; i++)
		json_array_append_new(a, member_json(&m[i], leader));
	free(m);
	cc_reply_json(r, 200, json_pack("{s:o}", "members", a));
}

/* ?limit=N for lists; 400 on anything but a number in range. */
static bool get_limit(struct cc_request *r, size_t *limit)
{
	uint64_t n = LIST_LIMIT_DEFAULT;
	bool ok = cc_request_query_u64(r, "limit", 1, LIST_LIMIT_MAX, &n);
	*limit = (size_t)n;
	return ok;
}

/* {"index": applied, KEY: items, "truncated": bool} */
static json_t *listing(struct celld *d, const char *key, json_t *items,
                       bool truncated)
{
	return json_pack("{s:I,s:o,s:b}", "index",
	                 (json_int_t)cr_node_applied_index(d->node), key, items,
	                 "truncated", truncated);
}

/* GET /v1/KIND[/NAME]?limit=N: checks the query; *name is "" for the list,
 * or "/NAME". */
static bool list_or_one(struct cc_request *r, const char **name, size_t *limit)
{
	static const char *const params[] = {"limit", NULL};
	*name = cc_request_subpath(r);
	return celld_only_params(r, params) && get_limit(r, limit);
}

static void get_machines(struct cc_request *r, void *arg)
{
	struct celld *d = arg;
	const cs_state *s = cr_node_state(d->node);
	const char *name;
	size_t limit;
	if (!list_or_one(r, &name, &limit))
		return;
	if (*name) { /* "/m1" */
		const struct cs_machine *m = cs_machine_find(s, name + 1);
		if (!m)
			cc_reply_error(r, 404, "unknown_machine",
			               "machine %.64s does not exist",
			               name + 1);
		else
			cc_reply_json(r, 200, cs_machine_encode(s, m));
		return;
	}
	json_t *a = json_array();
	bool more = false;
	for (uint32_t i = 0; i < cs_machine_slots(s); i++) {
		const struct cs_machine *m = cs_machine_at(s, i);
		if (!m)
			continue;
		if (json_array_size(a) == limit) {
			more = true;
			break;
		}
		json_array_append_new(a, cs_machine_encode(s, m));
	}
	cc_reply_json(r, 200, listing(d, "machines", a, more));
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

static void get_jobs(struct cc_request *r, void *arg)
{
	struct celld *d = arg;
	const cs_state *s = cr_node_state(d->node);
	const char *name;
	size_t limit;
	if (!list_or_one(r, &name, &limit))
		return;
	if (*name) {
		const struct cs_job *job = cs_job_find(s, name + 1);
		if (!job)
			cc_reply_error(r, 404, "unknown_job",
			               "job %.64s does not exist", name + 1);
		else
			cc_reply_json(r, 200, job_with_tasks(s, job, limit));
		return;
	}
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
	cc_reply_json(r, 200, listing(d, "jobs", a, n > limit));
}

/* A registered scheduler, with "alive" from the leader's leases (absent on
 * other members: they hear no heartbeats). */
static json_t *sched_json(struct celld *d, const struct cs_sched *sc)
{
	json_t *o = cs_sched_encode(sc);
	int alive = sched_lease_alive(d->leases, sc->name);
	if (alive >= 0)
		json_object_set_new(o, "alive", json_boolean(alive));
	return o;
}

/* GET /v1/schedulers[/NAME]: the registry, sorted by name; it is small
 * (one entry per scheduler process), so there is no limit. */
static void get_schedulers(struct cc_request *r, void *arg)
{
	struct celld *d = arg;
	const cs_state *s = cr_node_state(d->node);
	const char *name = cc_request_subpath(r);
	if (!celld_only_params(r, no_params))
		return;
	if (*name) { /* "/batch-1" */
		const struct cs_sched *sc = cs_sched_find(s, name + 1);
		if (!sc)
			cc_reply_error(r, 404, "unknown_scheduler",
			               "scheduler %.64s is not registered",
			               name + 1);
		else
			cc_reply_json(r, 200, sched_json(d, sc));
		return;
	}
	json_t *a = json_array();
	for (uint32_t i = 0; i < cs_sched_count(s); i++)
		json_array_append_new(a, sched_json(d, cs_sched_at(s, i)));
	json_int_t index = (json_int_t)cr_node_applied_index(d->node);
	cc_reply_json(r, 200,
	              json_pack("{s:I,s:o}", "index", index, "schedulers", a));
}

struct task_filter {
	const char *job, *machine, *agent;
	unsigned states; /* bit per cs_task_state; 0: any */
};

/* Without ?machine= and ?agent= (add_placed_tasks answers those). */
static bool task_matches(const struct cs_task *t, const struct task_filter *f)
{
	return !f->states || (f->states & (1u << t->state));
}

/* Appends the job's matching tasks; false once the limit is reached. */
static bool add_tasks(const cs_state *s, const struct cs_job *job,
                      const struct task_filter *f, json_t *a, size_t limit)
{
	for (uint32_t i = 0; i < job->spec.ntasks; i++) {
		if (!task_matches(&job->tasks[i], f))
			continue;
		if (json_array_size(a) == limit)
			return false;
		json_array_append_new(a, cs_task_encode(s, &job->tasks[i]));
	}
	return true;
}

/* ?state=S[,S...]: an agent asks for "assigned,running" in one answer, so
 * that both lists come from one index. */
static bool parse_states(struct cc_request *r, const char *list,
                         unsigned *states)
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", list);
	*states = 0;
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int st = cs_task_state_parse(tok);
		if (st < 0) {
			cc_reply_error(r, 400, "bad_query",
			               "state: expected pending, assigned, "
			               "running, succeeded, failed, lost or "
			               "killed (several separated by commas); "
			               "got \"%.32s\"",
			               tok);
			return false;
		}
		*states |= 1u << st;
	}
	if (!*states || strlen(list) >= sizeof(buf)) {
		cc_reply_error(r, 400, "bad_query",
		               "state: expected one or more task states "
		               "separated by commas, got \"%.32s\"",
		               list);
		return false;
	}
	return true;
}

static bool task_filter_parse(struct cc_request *r, struct task_filter *f)
{
	const char *st = cc_request_query(r, "state");
	f->job = cc_request_query(r, "job");
	f->machine = cc_request_query(r, "machine");
	f->agent = cc_request_query(r, "agent");
	f->states = 0;
	return !st || parse_states(r, st, &f->states);
}

/* Appends the matching tasks holding resources on m; false once the limit
 * is reached. */
static bool add_machine_tasks(const struct cs_machine *m,
                              const struct task_filter *f, json_t *a,
                              size_t limit, const cs_state *s)
{
	if (f->agent && (!m->agent || strcmp(m->agent, f->agent)))
		return true;
	for (const struct cs_task *t = m->tasks; t; t = t->next_on_machine) {
		if ((f->states && !(f->states & (1u << t->state))) ||
		    (f->job && strcmp(t->job->spec.name, f->job)))
			continue;
		if (json_array_size(a) == limit)
			return false;
		json_array_append_new(a, cs_task_encode(s, t));
	}
	return true;
}

/* ?machine= or ?agent=: only tasks holding resources (assigned, running)
 * are on a machine, and each machine lists its own, so the answer costs
 * what it holds, not a walk over every task of the cell (a hollow agent of
 * 1,000 machines reloads this way). Grouped by machine. */
static bool add_placed_tasks(const cs_state *s, const struct task_filter *f,
                             json_t *a, size_t limit)
{
	if (f->machine) {
		const struct cs_machine *m = cs_machine_find(s, f->machine);
		return !m || add_machine_tasks(m, f, a, limit, s);
	}
	for (uint32_t i = 0; i < cs_machine_slots(s); i++) {
		const struct cs_machine *m = cs_machine_at(s, i);
		if (m && !add_machine_tasks(m, f, a, limit, s))
			return false;
	}
	return true;
}

static void get_tasks(struct cc_request *r, void *arg)
{
	struct celld *d = arg;
	static const char *const params[] = {"job",   "machine", "agent",
	                                     "state", "limit",   NULL};
	const cs_state *s = cr_node_state(d->node);
	struct task_filter f;
	size_t limit;
	if (!celld_only_params(r, params) || !get_limit(r, &limit) ||
	    !task_filter_parse(r, &f))
		return;
	json_t *a = json_array();
	bool more = false;
	if (f.machine || f.agent) {
		more = !add_placed_tasks(s, &f, a, limit);
	} else if (f.job) {
		const struct cs_job *job = cs_job_find(s, f.job);
		more = job && !add_tasks(s, job, &f, a, limit);
	} else {
		size_t cur = 0;
		const struct cs_job *job;
		while (!more && (job = cs_job_next(s, &cur)))
			more = !add_tasks(s, job, &f, a, limit);
	}
	cc_reply_json(r, 200, listing(d, "tasks", a, more));
}

static void get_metrics(struct cc_request *r, void *arg)
{
	struct celld *d = arg;
	cc_reply_metrics(r, d->metrics);
}

static void get_watch(struct cc_request *r, void *arg)
{
	watch_handle(arg, r);
}

static double gauge_commit(void *arg)
{
	return (double)cr_node_commit_index(((struct celld *)arg)->node);
}

static double gauge_applied(void *arg)
{
	return (double)cr_node_applied_index(((struct celld *)arg)->node);
}

static double gauge_term(void *arg)
{
	return (double)cr_node_term(((struct celld *)arg)->node);
}

static double gauge_role(void *arg)
{
	return (double)cr_node_role(((struct celld *)arg)->node);
}

static double gauge_leader(void *arg)
{
	return cr_node_trusted(((struct celld *)arg)->node) ? 1 : 0;
}

void celld_gauges(struct celld *d)
{
	cc_gauge_fn_new(d->metrics, "cell_commit_index",
	                "highest log index known committed", gauge_commit, d);
	cc_gauge_fn_new(d->metrics, "cell_applied_index",
	                "highest log index applied on this replica",
	                gauge_applied, d);
	cc_gauge_fn_new(d->metrics, "cell_raft_term", "current Raft term",
	                gauge_term, d);
	cc_gauge_fn_new(d->metrics, "cell_raft_role",
	                "Raft role: 0 unavailable, 1 follower, 2 candidate, 3 "
	                "leader",
	                gauge_role, d);
	cc_gauge_fn_new(d->metrics, "cell_raft_leader",
	                "1 when this member is the trusted leader",
	                gauge_leader, d);
}

void celld_routes_read(struct celld *d, char *errbuf, size_t errlen, int *rc)
{
	static const struct {
		const char *path;
		cc_handler_fn fn;
	} routes[] = {
	    {"/v1/status", get_status},
	    {"/v1/members", get_members},
	    {"/v1/machines/", get_machines},
	    {"/v1/jobs/", get_jobs},
	    {"/v1/tasks", get_tasks},
	    {"/metrics", get_metrics},
	    {"/v1/watch", get_watch},
	    {"/v1/schedulers/", get_schedulers},
	};
	for (size_t i = 0; !*rc && i < sizeof(routes) / sizeof(routes[0]); i++)
		*rc = cc_server_route(d->server, "GET", routes[i].path,
		                      routes[i].fn, d, errbuf, errlen);
}
