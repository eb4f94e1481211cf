/* cell.c: the agent's conversations with celld, all asynchronous on the
 * agent's loop. The agent walks through phases: register its machines
 * (machine_put), bring up the ones the cell marked down while it was away,
 * load the tasks assigned to or running on them, then follow the watch
 * stream from that index on; a 410 (the stream no longer keeps what it
 * needs) goes back to the load. Beside that it heartbeats every machine in
 * one request, re-registers machines the cell has forgotten, and sends the
 * core's reports in batches, one transaction each. Trouble of any kind is
 * retried through the next --cell member: an agent never gives up on its
 * cell. */
#include "agent.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BINARY_TXN    "application/x-cell-txn"
#define RETRY_SECONDS 0.5
#define WATCH_IDLE_MS 15000 /* celld sends progress every 5 s */
#define LIST_ALL      "limit=1000000"

static void run_phase(struct agent *a);

const char *cell_url(struct agent *a)
{
	if (a->leader)
		return a->leader;
	return a->cell_urls[a->next_url % a->ncell_urls];
}

/* Trouble: forget the leader we knew and ask the next member. */
static void rotate(struct agent *a)
{
	free(a->leader);
	a->leader = NULL;
	a->next_url++;
	if (a->m_http_retries)
		cc_counter_inc(a->m_http_retries);
}

/* Writes are redirected to the leader: remember where the answer came
 * from, so the next write goes there directly. */
static void learn_leader(struct agent *a, const struct cc_response *resp)
{
	const char *u = resp->url, *p = u ? strstr(u, "://") : NULL;
	const char *slash = p ? strchr(p + 3, '/') : NULL;
	if (!slash)
		return;
	free(a->leader);
	a->leader = cu_xstrndup(u, (size_t)(slash - u));
}

static void retry_later(struct agent *a)
{
	a->phase_busy = false;
	ev_timer_stop(a->loop, &a->retry);
	ev_timer_set(&a->retry, RETRY_SECONDS, 0);
	ev_timer_start(a->loop, &a->retry);
}

/* ---- things waiting on a timer to be tried again ----
 * Kept in a list so that an agent that stops frees them; what is in flight
 * instead is freed by its callback when the HTTP client closes. */
struct waiting {
	struct agent *a;
	struct waiting *next, *prev;
	ev_timer timer;
	void (*fire)(struct waiting *w);
	void (*drop)(struct waiting *w);
};

static void on_wait_over(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct waiting *w = t->data;
	(void)loop;
	(void)revents;
	if (w->prev)
		w->prev->next = w->next;
	else
		w->a->waiting = w->next;
	if (w->next)
		w->next->prev = w->prev;
	w->fire(w);
}

static void wait_then(struct agent *a, struct waiting *w)
{
	ev_timer_init(&w->timer, on_wait_over, RETRY_SECONDS, 0);
	w->timer.data = w;
	w->a = a;
	w->prev = NULL;
	w->next = a->waiting;
	if (a->waiting)
		a->waiting->prev = w;
	a->waiting = w;
	ev_timer_start(a->loop, &w->timer);
}

static void drop_waiting(struct agent *a)
{
	while (a->waiting) {
		struct waiting *w = a->waiting;
		a->waiting = w->next;
		ev_timer_stop(a->loop, &w->timer);
		w->drop(w);
	}
}

/* ---- transactions ---- */

typedef void (*txn_done_fn)(struct agent *a, void *arg, const cs_result *res);

struct post {
	struct waiting w; /* first: the resend timer */
	struct agent *a;
	uint8_t *body; /* owned: the encoded transaction */
	size_t len;
	txn_done_fn done;
	void *arg;
};

static void post_send(struct post *p);

static void post_resend(struct waiting *w)
{
	post_send((struct post *)w);
}

static void post_free(struct waiting *w)
{
	free(((struct post *)w)->body);
	free(w);
}

/* The same bytes again (same id: the cell answers a repeat with the first
 * verdict), after a pause, through another member. */
static void post_again(struct post *p, const char *why)
{
	CC_DEBUG("resending a transaction: %s", why);
	rotate(p->a);
	p->w.fire = post_resend;
	p->w.drop = post_free;
	wait_then(p->a, &p->w);
}

static void post_answer(void *arg, int status, struct cc_response *resp,
                        const char *errmsg)
{
	struct post *p = arg;
	if (status == CC_ESTATE) { /* the client closed: we are exiting */
		post_free(&p->w);
		return;
	}
	if (status || resp->status >= 500) {
		post_again(p, status ? errmsg : resp->body);
		return;
	}
	char err[CS_ERRMSG_SIZE] = "";
	json_t *j = resp->status == 200
	                ? cc_response_json(resp, err, sizeof(err))
	                : NULL;
	cs_result res;
	if (!j || cs_result_decode(j, &res, err, sizeof(err))) {
		/* the cell refused the transaction itself: a bug here */
		CC_ERROR("the cell refused a transaction: HTTP %ld: %s",
		         resp->status, err[0] ? err : resp->body);
		json_decref(j);
		p->done(p->a, p->arg, NULL);
	} else {
		learn_leader(p->a, resp);
		json_decref(j);
		p->done(p->a, p->arg, &res);
		cs_result_clear(&res);
	}
	post_free(&p->w);
}

static void post_send(struct post *p)
{
	char url[512];
	snprintf(url, sizeof(url), "%s/v1/txn", cell_url(p->a));
	if (cc_aclient_request(p->a->http, "POST", url, BINARY_TXN, p->body,
	                       p->len, post_answer, p))
		post_again(p, cc_aclient_errmsg(p->a->http));
}

/* Takes txn (freed here); done runs once with the verdicts, or NULL when
 * the cell refused the transaction as malformed. */
static void post_txn(struct agent *a, cs_txn *txn, txn_done_fn done, void *arg)
{
	struct post *p = cu_xcalloc(1, sizeof(*p));
	size_t cap = 0;
	*p = (struct post){.a = a, .done = done, .arg = arg};
	cs_txn_encode_bin(txn, &p->body, &p->len, &cap);
	cs_txn_free(txn);
	post_send(p);
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

static void get_answer(void *arg, int status, struct cc_response *resp,
                       const char *errmsg)
{
	struct get *g = arg;
	struct agent *a = g->a;
	if (status == CC_ESTATE) {
		g->done(a, -1, NULL, g->arg);
		free(g);
		return;
	}
	if (status || resp->status >= 500) {
		CC_DEBUG("reading from the cell: %s",
		         status ? errmsg : resp->body);
		rotate(a);
		g->done(a, 0, NULL, g->arg);
		free(g);
		return;
	}
	char err[CC_ERRMSG_SIZE];
	json_t *j = cc_response_json(resp, err, sizeof(err));
	if (!j)
		CC_WARN("reading from the cell: HTTP %ld: %s", resp->status,
		        err);
	g->done(a, j ? resp->status : 0, j, g->arg);
	json_decref(j);
	free(g);
}

/* GETs base+path; done(status, body) with status 0 on trouble (retry). */
static void get_json(struct agent *a, const char *path, get_done_fn done,
                     void *arg)
{
	char url[1024];
	snprintf(url, sizeof(url), "%s%s", cell_url(a), path);
	struct get *g = cu_xcalloc(1, sizeof(*g));
	*g = (struct get){a, done, arg};
	if (cc_aclient_request(a->http, "GET", url, NULL, NULL, 0, get_answer,
	                       g)) {
		CC_WARN("%s", cc_aclient_errmsg(a->http));
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

/* "&machine=NAME" for one machine, "&agent=URL" (percent-encoded) for
 * several: the cell then sends what concerns our machines only, not every
 * change of the cell (each machine names this agent's URL). */
static void our_machines_query(const struct agent *a, char *out, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	if (a->nmachines == 1) {
		snprintf(out, len, "&machine=%s", a->machines[0]->name);
		return;
	}
	size_t at = (size_t)snprintf(out, len, "&agent=");
	for (const char *c = a->advertise; *c && at + 4 < len; c++) {
		unsigned char ch = (unsigned char)*c;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch)) {
			out[at++] = (char)ch;
		} else {
			out[at++] = '%';
			out[at++] = hex[ch >> 4];
			out[at++] = hex[ch & 15];
		}
	}
	out[at] = 0;
}

/* One task, from a listing (its place in the job under "index") or a
 * change line (under "task"). */
static void task_news(struct agent *a, uint64_t index, const json_t *t,
                      const char *index_key)
{
	const char *job = json_string_value(json_object_get(t, "job"));
	const char *machine = json_string_value(json_object_get(t, "machine"));
	const char *state = json_string_value(json_object_get(t, "state"));
	json_t *idx = json_object_get(t, index_key);
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
		task_news(a, at, t, "index");
	ag_core_load_end(a->core);
	CC_INFO("loaded %zu task(s) on our machines at index %llu",
	        json_array_size(tasks), (unsigned long long)at);
	a->watch_from = at + 1;
	a->watch_skip = 0;
	a->phase = PHASE_WATCH;
	a->phase_busy = false;
	run_phase(a);
}

static void load_tasks(struct agent *a)
{
	char path[1024], ours[800];
	our_machines_query(a, ours, sizeof(ours));
	snprintf(path, sizeof(path),
	         "/v1/tasks?state=assigned,running%s&" LIST_ALL, ours);
	get_json(a, path, tasks_read, NULL);
}

/* ---- phase 4: the watch stream ---- */

static void watch_change(struct agent *a, uint64_t index, const json_t *c)
{
	const char *kind = json_string_value(json_object_get(c, "kind"));
	const char *name = json_string_value(json_object_get(c, "machine"));
	const char *state = json_string_value(json_object_get(c, "state"));
	if (a->m_changes)
		cc_counter_inc(a->m_changes);
	if (!strcmp(kind, "task")) {
		task_news(a, index, c, "task");
	} else if (!strcmp(kind, "job_removed")) {
		const char *job = json_string_value(json_object_get(c, "job"));
		if (job)
			ag_core_job_removed(a->core, job);
	} else if (!strcmp(kind, "machine") && name && state &&
	           !strcmp(state, "down") &&
	           ag_core_machine_id(a->core, name) != AG_NO_MACHINE) {
		CC_WARN(
		    "the cell marked machine %s down (silent past its TTL); "
		    "this agent is alive: bringing it up",
		    name);
		machine_up(a, name);
	}
}

/* Every line moves the resume point: a resumed stream starts at the index
 * of the last change handled and skips the changes of that index already
 * handled (one index can carry many changes, and a connection can break
 * between them; every member sends them in the same order). */
static int on_watch_line(void *arg, const char *line, size_t len)
{
	struct agent *a = arg;
	json_error_t jerr;
	json_t *c = json_loadb(line, len, 0, &jerr);
	const char *kind = json_string_value(json_object_get(c, "kind"));
	json_t *idx = json_object_get(c, "index");
	if (!kind || !json_is_integer(idx)) {
		CC_WARN("watch: a line that is not a change: %.120s", line);
		json_decref(c);
		return 0;
	}
	uint64_t index = (uint64_t)json_integer_value(idx);
	if (!strcmp(kind, "progress")) { /* everything up to index arrived */
		if (index + 1 > a->watch_from) {
			a->watch_from = index + 1;
			a->watch_skip = a->watch_skip_left = 0;
		}
	} else if (index > a->watch_from) {
		a->watch_from = index;
		a->watch_skip = 1;
		a->watch_skip_left = 0;
		watch_change(a, index, c);
	} else if (index == a->watch_from) {
		/* the resumed stream repeats what we handled at this index */
		if (a->watch_skip_left)
			a->watch_skip_left--;
		else {
			a->watch_skip++;
			watch_change(a, index, c);
		}
	}
	json_decref(c);
	return 0;
}

static void on_watch_end(void *arg, int status, struct cc_response *resp,
                         const char *errmsg)
{
	struct agent *a = arg;
	a->watch = NULL;
	if (status == CC_ESTATE)
		return;
	if (!status && resp->status == 410) {
		CC_WARN("watch: the cell no longer keeps changes from index "
		        "%llu: reloading the machines and tasks",
		        (unsigned long long)a->watch_from);
		if (a->m_reloads)
			cc_counter_inc(a->m_reloads);
		/* the changes missed may have marked our machines down: the
		 * machines phase brings them up, then the tasks load */
		a->phase = PHASE_MACHINES;
		retry_later(a);
		return;
	}
	CC_INFO("watch through %s ended: %s; resuming from index %llu",
	        cell_url(a),
	        status ? errmsg
	               : (resp->status == 200 ? "the member closed it"
	                                      : (resp->body ? resp->body : "")),
	        (unsigned long long)a->watch_from);
	rotate(a);
	retry_later(a);
}

static void follow(struct agent *a)
{
	char url[2048], ours[800];
	our_machines_query(a, ours, sizeof(ours));
	snprintf(url, sizeof(url), "%s/v1/watch?from=%llu%s", cell_url(a),
	         (unsigned long long)a->watch_from, ours);
	a->watch_skip_left = a->watch_skip;
	a->watch = cc_aclient_stream(a->http, url, WATCH_IDLE_MS, on_watch_line,
	                             on_watch_end, a);
	if (!a->watch) {
		CC_WARN("watch: %s", cc_aclient_errmsg(a->http));
		rotate(a);
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

static void heartbeat_answer(void *arg, int status, struct cc_response *resp,
                             const char *errmsg)
{
	struct agent *a = arg;
	a->heartbeat_busy = false;
	if (status == CC_ESTATE)
		return;
	if (status || resp->status != 200) {
		CC_DEBUG("heartbeat: %s", status ? errmsg : resp->body);
		rotate(a);
		return;
	}
	learn_leader(a, resp);
	json_t *j = cc_response_json(resp, NULL, 0);
	json_t *unknown = json_object_get(j, "unknown"), *v;
	uint32_t *which =
	    cu_xcalloc(json_array_size(unknown) + 1, sizeof(*which));
	uint32_t n = 0;
	size_t i;
	json_array_foreach (unknown, i, v) {
		/* the core numbers machines as a->machines does */
		const char *name = json_string_value(v);
		uint32_t k =
		    name ? ag_core_machine_id(a->core, name) : AG_NO_MACHINE;
		if (k != AG_NO_MACHINE)
			which[n++] = k;
	}
	/* removed by an operator, or a cell rebuilt from scratch: a living
	 * agent registers its machine again, as a kubelet does */
	if (n && a->phase == PHASE_WATCH) {
		CC_WARN("the cell does not know %u of our machine(s) (e.g. "
		        "%s): registering them again",
		        n, a->machines[which[0]]->name);
		put_machines(a, which, n, machines_changed);
	}
	free(which);
	json_int_t ttl = json_integer_value(json_object_get(j, "ttl_ms"));
	double every = (double)a->cfg.heartbeat_ms / 1000;
	if (ttl > 0 && every > (double)ttl / 3000)
		every = (double)ttl / 3000; /* three tries within a TTL */
	a->heartbeat.repeat = every;
	json_decref(j);
}

static void on_heartbeat(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct agent *a = t->data;
	(void)loop;
	(void)revents;
	if (a->heartbeat_busy || a->phase == PHASE_REGISTER)
		return;
	if (!a->heartbeat_body) { /* our machines never change */
		json_t *names = json_array();
		for (uint32_t i = 0; i < a->nmachines; i++)
			json_array_append_new(
			    names, json_string(a->machines[i]->name));
		json_t *b = json_pack("{s:o}", "machines", names);
		a->heartbeat_body = json_dumps(b, JSON_COMPACT);
		json_decref(b);
	}
	char url[512];
	snprintf(url, sizeof(url), "%s/v1/heartbeat", cell_url(a));
	a->heartbeat_busy =
	    cc_aclient_request(a->http, "POST", url, "application/json",
	                       a->heartbeat_body, strlen(a->heartbeat_body),
	                       heartbeat_answer, a) == 0;
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

struct fetch {
	struct waiting w; /* first: the retry timer */
	struct agent *a;
	char *job;
};

static void fetch_send(struct fetch *f);

static void fetch_again(struct waiting *w)
{
	fetch_send((struct fetch *)w);
}

static void fetch_free(struct waiting *w)
{
	free(((struct fetch *)w)->job);
	free(w);
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
		fetch_free(&f->w);
		return;
	}
	f->w.fire = fetch_again;
	f->w.drop = fetch_free;
	wait_then(a, &f->w);
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
	fetch_send(f);
}

/* ---- start and stop ---- */

void cell_start(struct agent *a)
{
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
	cc_astream_cancel(a->watch);
	a->watch = NULL;
	drop_waiting(a);
	free(a->heartbeat_body);
	a->heartbeat_body = NULL;
}
