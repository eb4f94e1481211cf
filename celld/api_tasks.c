/* api_tasks.c: GET /v1/tasks?job=&machine=&agent=&state=&limit=, from the
 * local replica. A machine or agent filter walks only what those machines
 * hold, so a node agent's reload costs what it runs, not the whole cell. */
#include <stdio.h>
#include <string.h>

#include "core.h"

struct task_filter {
	const char *job, *machine, *agent; /* NULL: any */
	unsigned states;                   /* bit per cs_task_state; 0: any */
};

static bool state_matches(const struct cs_task *t, const struct task_filter *f)
{
	return !f->states || (f->states & (1u << t->state));
}

/* Appends the job's matching tasks; false once the limit is reached. */
static bool add_tasks(const cs_state *s, const struct cs_job *job,
                      const struct task_filter *f, json_t *a, size_t limit)
{
	for (uint32_t i = 0; i < job->spec.ntasks; i++) {
		if (!state_matches(&job->tasks[i], f))
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
		if (!state_matches(t, f) ||
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

/* Every matching task into a; false when the limit cut the list short. */
static bool add_matching(const cs_state *s, const struct task_filter *f,
                         json_t *a, size_t limit)
{
	if (f->machine || f->agent)
		return add_placed_tasks(s, f, a, limit);
	if (f->job) {
		const struct cs_job *job = cs_job_find(s, f->job);
		return !job || add_tasks(s, job, f, a, limit);
	}
	size_t cur = 0;
	const struct cs_job *job;
	while ((job = cs_job_next(s, &cur)))
		if (!add_tasks(s, job, f, a, limit))
			return false;
	return true;
}

void cd_get_tasks(struct cc_request *r, void *arg)
{
	const cd_core *c = arg;
	static const char *const params[] = {"job",   "machine", "agent",
	                                     "state", "limit",   NULL};
	struct task_filter f;
	size_t limit;
	if (!cd_only_params(r, params) || !cd_list_limit(r, &limit) ||
	    !task_filter_parse(r, &f))
		return;
	json_t *a = json_array();
	bool complete = add_matching(cst_state(c->store), &f, a, limit);
	cc_reply_json(r, 200, cd_listing(c, "tasks", a, !complete));
}
