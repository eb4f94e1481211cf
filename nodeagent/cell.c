/* cell.c: the agent's conversations with celld, all asynchronous on the
 * agent's loop through cellclient (the resend rule of CL_POLICY_AGENT: an
 * agent never gives up on its cell). The agent walks through phases:
 * register its machines (machine_put), bring up the ones the cell marked
 * down while it was away, load the tasks assigned to or running on them,
 * then follow the watch stream from that index on; a 410 (the stream no
 * longer keeps what it needs) goes back to the machines and the load.
 * Beside that it heartbeats every machine in one request, re-registers
 * machines the cell has forgotten, and sends the core's reports in
 * batches, one transaction each. */
#include "agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_SECONDS 0.5
#define LIST_ALL      "limit=1000000"

static void run_phase(struct agent *a);

static void retry_later(struct agent *a)
{
	a->phase_busy = false;
	ev_timer_stop(a->loop, &a->retry);
	ev_timer_set(&a->retry, RETRY_SECONDS, 0);
	ev_timer_start(a->loop, &a->retry);
}

/* ---- transactions ---- */

typedef void (*txn_done_fn)(struct agent *a, void *arg, const cs_result *res);

struct post {
	struct agent *a;
	txn_done_fn done;
	void *arg;
};

static void posted(void *arg, int status, const cs_result *res, const char *err)
{
	struct post p = *(struct post *)arg;
	free(arg);
	if (status == CC_ESTATE) /* the agent is stopping */
		return;
	if (status) {
		/* the cell refused the transaction itself: a bug here */
		CC_ERROR("the cell refused a transaction: %s", err);
		res = NULL;
	}
	p.done(p.a, p.arg, res);
}

/* Takes txn (freed here); done runs once with the verdicts, or NULL when
 * the cell refused the transaction as malformed. */
static void post_txn(struct agent *a, cs_txn *txn, txn_done_fn done, void *arg)
{
	struct post *p = cu_xmalloc(sizeof(*p));
	*p = (struct post){a, done, arg};
	if (cl_post_txn(a->cell, txn, &CL_POLICY_AGENT, posted, p)) {
		CC_ERROR("a transaction could not be sent: %s",
		         cl_cell_errmsg(a->cell));
		free(p);
		done(a, arg, NULL);
	}
}

static cs_txn *new_txn(struct agent *a, const char *what)
{
	char id[CS_ID_MAX];
	snprintf(id, sizeof(id), "agent.%s.%s.%llx.%llu", a->cfg.name, what,
	         (unsigned long long)a->boot_ms,
	         (unsigned long long)++a->serial);
	return cs_txn_new(id, a->cfg.name, CS_INCREMENTAL, CS_FINE);
}

/* ---- GET helpers ---- */

/* status: the HTTP status, 0 on trouble (try again), -1 when the agent is
 * stopping (only free what arg holds). */
typedef void (*get_done_fn)(struct agent *a, long status, json_t *body,
                            void *arg);

struct get {
	struct agent *a;
	get_done_fn done;
	void *arg;
};

static void got(void *arg, int status, long http, json_t *j, const char *err)
{
	struct get g = *(struct get *)arg;
	free(arg);
	if (status == CC_ESTATE) {
		g.done(g.a, -1, NULL, g.arg);
		return;
	}
	if (status)
		CC_WARN("reading from the cell: %s", err);
	else if (!j)
		CC_WARN("reading from the cell: HTTP %ld: %s", http, err);
	g.done(g.a, j ? http : 0, j, g.arg);
}

/* GETs path; done(status, body) with status 0 on trouble (retry). */
static void get_json(struct agent *a, const char *path, get_done_fn done,
                     void *arg)
{
	struct get *g = cu_xmalloc(sizeof(*g));
	*g = (struct get){a, done, arg};
	if (cl_get_json(a->cell, path, &CL_POLICY_AGENT, got, g)) {
		CC_WARN("%s", cl_cell_errmsg(a->cell));
		free(g);
		done(a, 0, NULL, arg);
	}
}

/* ---- phase 1: registering ---- */

/* machine_put replaces a machine's description but keeps its state, so a
 * machine an operator drained stays drained across agent restarts. */
static void put_machines(struct agent *a, const uint32_t *which, uint32_t n,
                         txn_done_fn done);

static void registered(struct agent *a, void *arg, const cs_result *res)
{
	(void)arg;
	uint32_t bad = 0;
	for (uint32_t i = 0; res && i < res->nops; i++)
		if (res->ops[i].reason != CS_R_OK && bad++ < 3)
			CC_ERROR("registering a machine: %s: %s",
			         cs_reason_name(res->ops[i].reason),
			         res->ops[i].detail ? res->ops[i].detail : "");
	if (!res || bad) {
		retry_later(a); /* and again, until the cell takes them */
		return;
	}
	if (--a->phase_pending)
		return; /* other batches are on the way */
	CC_INFO("%u machine(s) registered", a->nmachines);
	a->phase = PHASE_MACHINES;
	a->phase_busy = false;
	run_phase(a);
}

#define PUT_BATCH 1000

static void put_machines(struct agent *a, const uint32_t *which, uint32_t n,
                         txn_done_fn done)
{
	for (uint32_t i = 0; i < n; i += PUT_BATCH) {
		cs_txn *t = new_txn(a, "register");
		for (uint32_t k = i; k < n && k < i + PUT_BATCH; k++)
			cs_txn_machine_put(t,
			                   a->machines[which ? which[k] : k]);
		a->phase_pending += done == registered;
		post_txn(a, t, done, NULL);
	}
}

static void register_all(struct agent *a)
{
	a->phase_pending = 0;
	put_machines(a, NULL, a->nmachines, registered);
}

/* ---- phase 2: machines the cell marked down come back up ---- */

/* A machine brought up or registered again: the log says it took. */
static void machines_changed(struct agent *a, void *arg, const cs_result *res)
{
	(void)a;
	(void)arg;
	if (res && res->accepted)
		CC_INFO("%u machine change(s) taken", res->accepted);
}

static void machine_up(struct agent *a, const char *name)
{
	cs_txn *t = new_txn(a, "up");
	cs_txn_machine_state(t, name, CS_MACHINE_UP);
	post_txn(a, t, machines_changed, NULL);
}

static void up_if_down(struct agent *a, const json_t *m)
{
	const char *name = json_string_value(json_object_get(m, "name"));
	const char *state = json_string_value(json_object_get(m, "state"));
	if (name && state && !strcmp(state, "down") &&
	    ag_core_machine_id(a->core, name) != AG_NO_MACHINE) {
		CC_WARN("machine %s was marked down while this agent was away: "
		        "bringing it up",
		        name);
		machine_up(a, name);
	}
}

static void machines_read(struct agent *a, long status, json_t *body, void *arg)
{
	(void)arg;
	if (status != 200) {
		if (status >= 0)
			retry_later(a);
		return;
	}
	json_t *list = json_object_get(body, "machines"), *m;
	size_t i;
	if (list)
		json_array_foreach (list, i, m)
			up_if_down(a, m);
	else
		up_if_down(a, body);
	a->phase = PHASE_LOAD;
	a->phase_busy = false;
	run_phase(a);
}

static void read_machines(struct agent *a)
{
	char path[256];
	if (a->nmachines == 1)
		snprintf(path, sizeof(path), "/v1/machines/%s",
		         a->machines[0]->name);
	else
		snprintf(path, sizeof(path), "/v1/machines?" LIST_ALL);
	get_json(a, path, machines_read, NULL);
}

/* ---- phase 3: the tasks on our machines ---- */

/* "machine=NAME" for one machine, "agent=URL" (percent-encoded) for
 * several: the cell then sends what concerns our machines only, not every
 * change of the cell (each machine names this agent's URL). */
static void our_machines_query(const struct agent *a, char *out, size_t len)
{
	if (a->nmachines == 1) {
		snprintf(out, len, "machine=%s", a->machines[0]->name);
		return;
	}
	snprintf(out, len, "agent=");
	cc_url_escape(out, len, a->advertise);
}

/* One task of a listing (its place in the job under "index"). */
static void task_listed(struct agent *a, uint64_t index, const json_t *t)
{
	const char *job = json_string_value(json_object_get(t, "job"));
	const char *machine = json_string_value(json_object_get(t, "machine"));
	const char *state = json_string_value(json_object_get(t, "state"));
	json_t *idx = json_object_get(t, "index");
	int st = state ? cs_task_state_parse(state) : -1;
	if (!job || st < 0 || !json_is_integer(idx))
		return;
	ag_core_cell_task(
	    a->core, index, job, (uint32_t)json_integer_value(idx),
	    (uint32_t)json_integer_value(json_object_get(t, "attempt")),
	    machine ? machine : "", (enum cs_task_state)st);
}

static void tasks_read(struct agent *a, long status, json_t *body, void *arg)
{
	(void)arg;
	json_t *tasks = json_object_get(body, "tasks"), *t;
	json_t *index = json_object_get(body, "index");
	if (status != 200 || !json_is_array(tasks) || !json_is_integer(index)) {
		if (status >= 0)
			retry_later(a);
		return;
	}
	uint64_t at = (uint64_t)json_integer_value(index);
	size_t i;
	ag_core_load_begin(a->core);
	json_array_foreach (tasks, i, t)
		task_listed(a, at, t);
	ag_core_load_end(a->core);
	CC_INFO("loaded %zu task(s) on our machines at index %llu",
	        json_array_size(tasks), (unsigned long long)at);
	a->watch_from = at + 1;
	a->phase = PHASE_WATCH;
	a->phase_busy = false;
	run_phase(a);
}

static void load_tasks(struct agent *a)
{
	char path[1024], ours[800];
	our_machines_query(a, ours, sizeof(ours));
	snprintf(path, sizeof(path),
	         "/v1/tasks?state=assigned,running&%s&" LIST_ALL, ours);
	get_json(a, path, tasks_read, NULL);
}

/* ---- phase 4: the watch stream ----
 * cellclient's follower hands out every change once and in order, across
 * broken streams and members; a 410 ends it, and the machines and tasks
 * are read again. */

/* Where the watch is (for /v1/status, and to resume after a refusal). */
uint64_t cell_watch_from(const struct agent *a)
{
	uint64_t from = a->watch_from, skip;
	if (a->watch)
		cl_watch_cursor(a->watch, &from, &skip);
	return from;
}

static void on_change(void *arg, uint64_t index, const struct cs_change *c,
                      const char *line, size_t len)
{
	struct agent *a = arg;
	(void)line;
	(void)len;
	a->watch_from = cell_watch_from(a);
	if (a->m_changes)
		cc_counter_inc(a->m_changes);
	if (c->kind == CS_CHANGE_TASK) {
		ag_core_cell_task(a->core, index, c->job, c->task, c->attempt,
		                  c->machine, (enum cs_task_state)c->state);
	} else if (c->kind == CS_CHANGE_JOB_REMOVED) {
		ag_core_job_removed(a->core, c->job);
	} else if (c->kind == CS_CHANGE_MACHINE &&
	           c->state == CS_MACHINE_DOWN &&
	           ag_core_machine_id(a->core, c->machine) != AG_NO_MACHINE) {
		CC_WARN(
		    "the cell marked machine %s down (silent past its TTL); "
		    "this agent is alive: bringing it up",
		    c->machine);
		machine_up(a, c->machine);
	}
}

static void on_skip(void *arg, const char *line, size_t len, const char *why)
{
	(void)arg;
	(void)len;
	(void)why;
	CC_WARN("watch: a line that is not a change: %.120s", line);
}

static void on_gone(void *arg, const char *url, uint64_t from,
                    const char *detail)
{
	struct agent *a = arg;
	(void)url;
	(void)detail;
	a->watch = NULL; /* over */
	a->watch_from = from;
	CC_WARN("watch: the cell no longer keeps changes from index %llu: "
	        "reloading the machines and tasks",
	        (unsigned long long)from);
	if (a->m_reloads)
		cc_counter_inc(a->m_reloads);
	/* the changes missed may have marked our machines down: the
	 * machines phase brings them up, then the tasks load */
	a->phase = PHASE_MACHINES;
	retry_later(a);
}

static bool on_break(void *arg, const struct cl_watch_break *b)
{
	struct agent *a = arg;
	const char *why = b->code          ? b->msg
	                  : b->http == 200 ? "the member closed it"
	                                   : b->msg;
	CC_INFO("watch through %s ended: %s; resuming from index %llu", b->url,
	        why, (unsigned long long)cell_watch_from(a));
	return true;
}

/* A refusal (a 4xx but 410): said, and the watch tried again later. */
static void on_refused(void *arg, const char *url, long http,
                       const char *detail)
{
	struct agent *a = arg;
	a->watch = NULL; /* over */
	CC_INFO("watch through %s ended: HTTP %ld: %s; resuming from index "
	        "%llu",
	        url, http, detail, (unsigned long long)a->watch_from);
	retry_later(a);
}

/* The cursor, kept for a watch that has to start again. */
static void on_progress(void *arg, uint64_t index)
{
	struct agent *a = arg;
	(void)index;
	a->watch_from = cell_watch_from(a);
}

static void follow(struct agent *a)
{
	char ours[800];
	struct cl_watch_handlers h = {.on_change = on_change,
	                              .on_gone = on_gone,
	                              .on_refused = on_refused,
	                              .on_break = on_break,
	                              .on_progress = on_progress,
	                              .on_skip = on_skip,
	                              .arg = a};
	our_machines_query(a, ours, sizeof(ours));
	a->watch =
	    cl_watch_start(a->cell, a->watch_from, ours, &CL_POLICY_AGENT, &h);
	if (!a->watch) {
		CC_WARN("watch: %s", cl_cell_errmsg(a->cell));
		retry_later(a);
	}
}

/* ---- the phases ---- */

static void run_phase(struct agent *a)
{
	if (a->phase_busy || a->watch)
		return;
	a->phase_busy = a->phase != PHASE_WATCH;
	switch (a->phase) {
	case PHASE_REGISTER:
		register_all(a);
		break;
	case PHASE_MACHINES:
		read_machines(a);
		break;
	case PHASE_LOAD:
		load_tasks(a);
		break;
	case PHASE_WATCH:
		follow(a);
		break;
	}
}

static void on_retry(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	run_phase(t->data);
}

/* ---- heartbeats ---- */

/* The machines the cell does not know: removed by an operator, or a cell
 * rebuilt from scratch; a living agent registers them again, as a kubelet
 * does. */
static void register_unknown(struct agent *a, const json_t *unknown)
{
	uint32_t *which =
	    cu_xcalloc(json_array_size(unknown) + 1, sizeof(*which));
	uint32_t n = 0;
	size_t i;
	json_t *v;
	json_array_foreach (unknown, i, v) {
		/* the core numbers machines as a->machines does */
		const char *name = json_string_value(v);
		uint32_t k =
		    name ? ag_core_machine_id(a->core, name) : AG_NO_MACHINE;
		if (k != AG_NO_MACHINE)
			which[n++] = k;
	}
	if (n && a->phase == PHASE_WATCH) {
		CC_WARN("the cell does not know %u of our machine(s) (e.g. "
		        "%s): registering them again",
		        n, a->machines[which[0]]->name);
		put_machines(a, which, n, machines_changed);
	}
	free(which);
}

static void beat_answer(void *arg, int status, const struct cl_beat_answer *b,
                        const char *err)
{
	struct agent *a = arg;
	if (status == CC_ESTATE)
		return;
	if (status) {
		CC_DEBUG("heartbeat: %s", err);
		return;
	}
	register_unknown(a, b->unknown);
	double every = (double)a->cfg.heartbeat_ms / 1000;
	if (b->ttl_ms > 0 && every > (double)b->ttl_ms / 3000)
		every = (double)b->ttl_ms / 3000; /* three tries within a TTL */
	a->heartbeat.repeat = every;
}

static void on_heartbeat(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct agent *a = t->data;
	(void)loop;
	(void)revents;
	if (a->phase == PHASE_REGISTER)
		return;
	if (!a->beat) { /* our machines never change */
		const char **names = cu_xcalloc(a->nmachines, sizeof(*names));
		for (uint32_t i = 0; i < a->nmachines; i++)
			names[i] = a->machines[i]->name;
		a->beat = cl_beat_new(names, a->nmachines, NULL, 0);
		free(names);
	}
	/* CC_ESTATE: the last beat is still in flight, and this one skipped */
	cl_beat_send(a->cell, a->beat, beat_answer, a);
}

/* ---- reports ---- */

static void reported(struct agent *a, void *arg, const cs_result *res)
{
	(void)arg;
	a->posts--;
	if (!res)
		return;
	for (uint32_t i = 0; i < res->nops; i++) {
		if (res->ops[i].reason == CS_R_OK)
			continue;
		/* stale_attempt and the like: the cell moved on meanwhile */
		if (a->m_rejected)
			cc_counter_inc(a->m_rejected);
		CC_DEBUG("a report was not taken: %s: %s",
		         cs_reason_name(res->ops[i].reason),
		         res->ops[i].detail ? res->ops[i].detail : "");
	}
}

static void send_reports(struct agent *a, struct ag_report *list)
{
	cs_txn *t = new_txn(a, "report");
	for (struct ag_report *r = list, *next; r; r = next) {
		next = r->next;
		if (r->note) /* before the report, while the job is live */
			cs_txn_job_note(t, r->job, r->note);
		cs_txn_task_state(t, r->job, r->index, r->attempt, r->machine,
		                  r->state, r->exit_code);
		if (r->note)
			CC_WARN("job %s: %s", r->job, r->note);
		if (a->m_reports)
			cc_counter_inc(a->m_reports);
		ag_report_free(r);
	}
	a->posts++;
	post_txn(a, t, reported, NULL);
}

/* Before the loop blocks: what the core produced in this turn goes out in
 * as few transactions as the batch size allows. */
static void on_flush(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct agent *a = w->data;
	(void)loop;
	(void)revents;
	struct ag_report *list;
	while (a->posts < a->cfg.max_inflight &&
	       (list = ag_core_take_reports(a->core, a->cfg.report_batch)))
		send_reports(a, list);
}

/* ---- job specs ---- */

/* One job's spec being read; between tries it waits in a->fetches. */
struct fetch {
	struct cu_list link;
	ev_timer timer;
	struct agent *a;
	char *job; /* owned */
};

static void fetch_send(struct fetch *f);

static void fetch_free(struct fetch *f)
{
	free(f->job);
	free(f);
}

static void fetch_again(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct fetch *f = t->data;
	(void)loop;
	(void)revents;
	cu_list_remove(&f->link);
	fetch_send(f);
}

static void job_read(struct agent *a, long status, json_t *body, void *arg)
{
	struct fetch *f = arg;
	struct cs_job_spec *spec = NULL;
	char err[CS_ERRMSG_SIZE];
	if (status == 200 &&
	    cs_job_spec_decode(json_object_get(body, "spec"), "spec", &spec,
	                       err, sizeof(err))) {
		CC_ERROR("job %s: the cell's spec does not decode: %s", f->job,
		         err);
		status = 0;
	}
	if (status == 200 || status == 404)
		ag_core_job_spec(a->core, f->job, spec);
	if (status == 200 || status == 404 || status < 0) {
		fetch_free(f);
		return;
	}
	ev_timer_init(&f->timer, fetch_again, RETRY_SECONDS, 0);
	f->timer.data = f;
	cu_list_push_back(&a->fetches, &f->link);
	ev_timer_start(a->loop, &f->timer);
}

static void fetch_send(struct fetch *f)
{
	char path[256];
	snprintf(path, sizeof(path), "/v1/jobs/%s?limit=1", f->job);
	get_json(f->a, path, job_read, f);
}

void cell_fetch_job(void *arg, const char *job)
{
	struct fetch *f = cu_xcalloc(1, sizeof(*f));
	f->a = arg;
	f->job = cu_xstrdup(job);
	cu_list_init(&f->link);
	fetch_send(f);
}

/* ---- start and stop ---- */

static void drop_fetches(struct agent *a)
{
	struct cu_list *it, *tmp;
	if (!a->fetches.next) /* the agent stopped before it started */
		return;
	CU_LIST_FOREACH_SAFE (it, tmp, &a->fetches) {
		struct fetch *f = cu_container_of(it, struct fetch, link);
		ev_timer_stop(a->loop, &f->timer);
		cu_list_remove(&f->link);
		fetch_free(f);
	}
}

static void open_cell(struct agent *a)
{
	struct cl_config cfg = {.urls = (const char *const *)a->cell_urls,
	                        .nurls = a->ncell_urls,
	                        .token = a->token,
	                        .timeout_ms = 30000,
	                        .resends = a->m_http_retries};
	a->cell = cl_cell_new(a->loop, &cfg);
	cu_list_init(&a->fetches);
}

void cell_start(struct agent *a)
{
	open_cell(a);
	ev_timer_init(&a->retry, on_retry, RETRY_SECONDS, 0);
	a->retry.data = a;
	ev_timer_init(&a->heartbeat, on_heartbeat, 0,
	              (double)a->cfg.heartbeat_ms / 1000);
	a->heartbeat.data = a;
	ev_timer_again(a->loop, &a->heartbeat);
	ev_prepare_init(&a->flush, on_flush);
	a->flush.data = a;
	ev_prepare_start(a->loop, &a->flush);
	a->phase = PHASE_REGISTER;
	run_phase(a);
}

void cell_stop(struct agent *a)
{
	ev_timer_stop(a->loop, &a->retry);
	ev_timer_stop(a->loop, &a->heartbeat);
	ev_prepare_stop(a->loop, &a->flush);
	/* what is in flight is answered now (CC_ESTATE); the watch ends */
	cl_cell_free(a->cell);
	a->cell = NULL;
	a->watch = NULL;
	cl_beat_free(a->beat);
	a->beat = NULL;
	drop_fetches(a);
}
