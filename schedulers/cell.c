/* cell.c: the scheduler's conversations with celld, all asynchronous on the
 * loop the replica runs on, through cellclient: joining as a standby,
 * registering with a lease and renewing it, committing transactions, and
 * leaving. Requests go first where the replica says writes go (the writer
 * hint); transactions are resent under CL_POLICY_SCHEDULER (same id: the
 * cell answers a repeat with the first verdict), after which the core counts
 * them as failed. */
#include "daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The writer's API URL as the replica knows it, so that requests skip the
 * redirect; NULL while it is unknown (an election) or the store closes. */
static const char *writer_hint(void *arg)
{
	struct sched *s = arg;
	struct cst_member w;
	if (!s->store || s->phase == PHASE_CLOSING || !cst_writer(s->store, &w))
		return NULL;
	snprintf(s->writer_url, sizeof(s->writer_url), "%s", w.api_address);
	return s->writer_url;
}

void cell_open(struct sched *s)
{
	const struct cl_config cfg = {
	    .urls = (const char *const *)s->cell_urls,
	    .nurls = s->ncell_urls,
	    .token = s->token,
	    .timeout_ms = 30000,
	    .writer_hint = writer_hint,
	    .hint_arg = s,
	    .resends = s->m_resends,
	};
	s->cell = cl_cell_new(s->loop, &cfg);
	const char *name = s->cfg.name;
	s->beat = cl_beat_new(NULL, 0, &name, 1);
}

void cell_close(struct sched *s)
{
	cl_cell_free(s->cell); /* answers what is in flight: CC_ESTATE */
	s->cell = NULL;
	cl_beat_free(s->beat);
	s->beat = NULL;
}

/* ---- posting a transaction ---- */

typedef void (*txn_done_fn)(struct sched *s, void *arg, int status,
                            const cs_result *res, const char *err);

struct post {
	struct sched *s;
	txn_done_fn done;
	void *arg;
};

static void posted(void *arg, int status, const cs_result *res, const char *err)
{
	struct post p = *(struct post *)arg;
	free(arg);
	p.done(p.s, p.arg, status, res, err);
}

/* Takes txn. done runs once, later, unless the client refuses the
 * transaction outright: that happens only once it is freed (at exit) or
 * for a transaction without an id (never here), and nobody waits then. */
static void post_txn(struct sched *s, cs_txn *txn, txn_done_fn done, void *arg)
{
	struct post *p = cu_xmalloc(sizeof(*p));
	*p = (struct post){s, done, arg};
	if (cl_post_txn(s->cell, txn, &CL_POLICY_SCHEDULER, posted, p)) {
		CC_ERROR("a transaction could not be sent: %s",
		         cl_cell_errmsg(s->cell));
		free(p);
	}
}

static cs_txn *new_txn(struct sched *s, const char *what)
{
	char id[CS_ID_MAX];
	snprintf(id, sizeof(id), "%s.%s.%llx.%llu", s->cfg.name, what,
	         (unsigned long long)s->boot_ms,
	         (unsigned long long)++s->txn_serial);
	return cs_txn_new(id, s->cfg.name, CS_INCREMENTAL, CS_FINE);
}

/* ---- the core's transactions ---- */

static void core_done(struct sched *s, void *arg, int status,
                      const cs_result *res, const char *err)
{
	uint64_t ticket = (uint64_t)(uintptr_t)arg;
	if (status == CC_ESTATE)
		return; /* exiting */
	if (status)
		CC_WARN("a placement transaction failed: %s", err);
	/* a closing store may not be read, and the core is stopped */
	if (s->phase != PHASE_CLOSING)
		sp_core_committed(s->core, ticket, status, res);
}

void cell_submit(void *arg, cs_txn *txn, uint64_t ticket)
{
	post_txn(arg, txn, core_done, (void *)(uintptr_t)ticket);
}

/* ---- joining and registering ---- */

static void register_done(struct sched *s, void *arg, int status,
                          const cs_result *res, const char *err)
{
	(void)arg;
	s->asking = false;
	if (status == CC_ESTATE)
		return; /* exiting */
	if (status)
		CC_WARN("registering: %s (trying again)", err);
	else if (!res->accepted)
		CC_WARN("registering: rejected: %s",
		        res->ops[0].detail
		            ? res->ops[0].detail
		            : cs_reason_name(res->ops[0].reason));
	/* the replica's registry says when it took effect */
}

static void send_register(struct sched *s)
{
	cs_txn *t = new_txn(s, "register");
	struct cs_sched_spec spec = {.name = s->cfg.name,
	                             .class_name = s->cfg.class_name,
	                             .policy = s->cfg.policy,
	                             .member = s->cfg.id};
	cs_txn_sched_register(t, &spec);
	s->asking = true;
	post_txn(s, t, register_done, NULL);
}

static bool am_member(struct sched *s)
{
	struct cst_member *m;
	unsigned n;
	bool found = false;
	cst_members(s->store, &m, &n);
	for (unsigned i = 0; i < n; i++)
		found = found || m[i].id == s->cfg.id;
	free(m);
	return found;
}

static void join_answer(void *arg, int status, struct cc_response *resp,
                        const char *errmsg)
{
	struct sched *s = arg;
	s->asking = false;
	if (status == CC_ESTATE)
		return;
	if (!status && resp->status == 200) {
		CC_INFO("joined the cell as standby %llu",
		        (unsigned long long)s->cfg.id);
		s->phase = PHASE_REGISTERING;
		send_register(s);
		return;
	}
	CC_WARN("joining through %s: %s (trying again)", resp->url,
	        status ? errmsg : resp->body);
}

void cell_join(struct sched *s)
{
	if (am_member(s)) { /* a restart before the leader dropped us */
		s->phase = PHASE_REGISTERING;
		send_register(s);
		return;
	}
	json_t *b =
	    json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)s->cfg.id,
	              "raft_address", s->cfg.raft_address, "api_address",
	              s->cfg.advertise, "role", "standby");
	char *body = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	/* one round: the heartbeat timer asks again */
	s->asking =
	    cl_request(s->cell, "POST", "/v1/members", "application/json", body,
	               strlen(body), &CL_POLICY_ONCE, 0, join_answer, s) == 0;
	free(body);
}

/* ---- the lease ---- */

static bool listed(const json_t *a, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach (a, i, v) {
		if (json_is_string(v) && !strcmp(json_string_value(v), name))
			return true;
	}
	return false;
}

static void beat_answer(void *arg, int status, const struct cl_beat_answer *a,
                        const char *err)
{
	struct sched *s = arg;
	s->asking = false;
	if (status == CC_ESTATE)
		return;
	if (status) {
		CC_DEBUG("heartbeat: %s", err);
		return;
	}
	if (listed(a->unknown_schedulers, s->cfg.name) &&
	    s->phase == PHASE_RUNNING) {
		/* our lease expired while we lived (a long pause): the
		 * leader unregistered us and may have dropped our standby */
		CC_WARN("the cell forgot this scheduler: joining again");
		s->phase = PHASE_JOINING;
	}
}

static void on_heartbeat(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct sched *s = t->data;
	(void)loop;
	(void)revents;
	if (s->asking)
		return;
	switch (s->phase) {
	case PHASE_JOINING:
		cell_join(s);
		break;
	case PHASE_REGISTERING:
		if (!s->registered)
			send_register(s);
		break;
	case PHASE_RUNNING:
		s->asking = cl_beat_send(s->cell, s->beat, beat_answer, s) == 0;
		break;
	default:
		break;
	}
}

void cell_heartbeat_start(struct sched *s)
{
	double every = (double)s->cfg.heartbeat_ms / 1000.0;
	ev_timer_init(&s->heartbeat, on_heartbeat, every, every);
	s->heartbeat.data = s;
	ev_timer_start(s->loop, &s->heartbeat);
}

/* ---- leaving ---- */

static void close_now(struct sched *s)
{
	if (s->phase == PHASE_CLOSING)
		return;
	ev_timer_stop(s->loop, &s->leave_deadline);
	replica_close(s, sched_closed);
}

static void left_answer(void *arg, int status, struct cc_response *resp,
                        const char *errmsg)
{
	struct sched *s = arg;
	if (status != CC_ESTATE) {
		if (status || resp->status != 200)
			CC_WARN("leaving the membership: %s",
			        status ? errmsg : resp->body);
		else
			CC_INFO("left the membership");
	}
	close_now(s);
}

static void unregister_done(struct sched *s, void *arg, int status,
                            const cs_result *res, const char *err)
{
	(void)arg;
	if (status == CC_ESTATE)
		return;
	if (status)
		CC_WARN("unregistering: %s", err);
	else
		CC_INFO("unregistered at index %llu",
		        (unsigned long long)res->index);
	char path[48];
	snprintf(path, sizeof(path), "/v1/members/%llu",
	         (unsigned long long)s->cfg.id);
	if (cl_request(s->cell, "DELETE", path, NULL, NULL, 0, &CL_POLICY_ONCE,
	               0, left_answer, s))
		close_now(s);
}

static void on_leave_deadline(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	CC_WARN("could not leave the cell in time: closing anyway (the "
	        "leader drops this scheduler when its lease expires)");
	close_now(t->data);
}

void cell_leave(struct sched *s)
{
	if (s->phase >= PHASE_LEAVING)
		return;
	bool joined = s->phase != PHASE_JOINING;
	s->phase = PHASE_LEAVING;
	sp_core_stop(s->core);
	ev_timer_stop(s->loop, &s->heartbeat);
	double limit = (double)s->cfg.leave_timeout_ms / 1000.0;
	ev_timer_init(&s->leave_deadline, on_leave_deadline, limit, 0);
	s->leave_deadline.data = s;
	ev_timer_start(s->loop, &s->leave_deadline);
	if (!joined) {
		close_now(s);
		return;
	}
	cs_txn *t = new_txn(s, "unregister");
	cs_txn_sched_unregister(t, s->cfg.name);
	post_txn(s, t, unregister_done, NULL);
}
