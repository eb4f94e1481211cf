/* cell.c: the scheduler's conversations with celld, all asynchronous on the
 * loop the replica runs on: joining as a standby, registering with a lease
 * and renewing it, committing transactions, and leaving. A transaction is
 * re-sent unchanged (same id: the cell answers a repeat with the first
 * verdict) while the cell is between leaders. */
#include "daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BINARY_TXN "application/x-cell-txn"
/* seconds between attempts while the cell has no leader, and how many:
 * about ten seconds of them */
#define RESEND_DELAY 0.25
#define RESEND_MAX   40

const char *cell_url(struct sched *s)
{
	struct cr_member leader;
	if (s->node && cr_node_leader(s->node, &leader) &&
	    leader.api_address[0]) {
		static char url[CR_API_ADDR_MAX];
		snprintf(url, sizeof(url), "%s", leader.api_address);
		return url;
	}
	return s->cell_urls[s->next_url % s->ncell_urls];
}

/* ---- posting a transaction, with resends ---- */

typedef void (*txn_done_fn)(struct sched *s, void *arg, int status,
                            const cs_result *res, const char *err);

struct post {
	struct sched *s;
	uint8_t *body; /* owned: the encoded transaction */
	size_t len;
	unsigned attempts;
	txn_done_fn done;
	void *arg;
	ev_timer resend;
	struct post *next, *prev; /* s->posts: everything not yet answered */
};

static void post_send(struct post *p);

static void post_unlink(struct post *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		p->s->posts = p->next;
	if (p->next)
		p->next->prev = p->prev;
}

static void post_end(struct post *p, int status, const cs_result *res,
                     const char *err)
{
	post_unlink(p);
	p->done(p->s, p->arg, status, res, err);
	free(p->body);
	free(p);
}

void cell_forget_posts(struct sched *s)
{
	while (s->posts) {
		struct post *p = s->posts;
		ev_timer_stop(s->loop, &p->resend);
		post_unlink(p);
		free(p->body);
		free(p);
	}
}

static void on_resend(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)revents;
	post_send(t->data);
}

/* The cell could not say (no leader, a member down): try again soon,
 * through another member, until the budget is spent. */
static void post_retry(struct post *p, const char *why)
{
	if (++p->attempts >= RESEND_MAX) {
		post_end(p, CC_EIO, NULL, why);
		return;
	}
	CC_DEBUG("resending a transaction: %s", why);
	if (p->s->m_http_retries)
		cc_counter_inc(p->s->m_http_retries);
	p->s->next_url++;
	ev_timer_init(&p->resend, on_resend, RESEND_DELAY, 0);
	p->resend.data = p;
	ev_timer_start(p->s->loop, &p->resend);
}

static void post_answer(void *arg, int status, struct cc_response *resp,
                        const char *errmsg)
{
	struct post *p = arg;
	if (status == CC_ESTATE) { /* the client closed: we are exiting */
		post_end(p, status, NULL, errmsg);
		return;
	}
	if (status) {
		post_retry(p, errmsg);
		return;
	}
	if (resp->status >= 500) {
		post_retry(p, resp->body);
		return;
	}
	char err[CS_ERRMSG_SIZE] = "";
	json_t *j = resp->status == 200
	                ? cc_response_json(resp, err, sizeof(err))
	                : NULL;
	cs_result res;
	if (!j || cs_result_decode(j, &res, err, sizeof(err))) {
		char why[CS_ERRMSG_SIZE + 64];
		snprintf(why, sizeof(why), "HTTP %ld: %s", resp->status,
		         err[0] ? err : resp->body);
		json_decref(j);
		post_end(p, CC_EPROTO, NULL, why);
		return;
	}
	json_decref(j);
	post_end(p, 0, &res, "");
	cs_result_clear(&res);
}

static void post_send(struct post *p)
{
	char url[CR_API_ADDR_MAX + 16];
	snprintf(url, sizeof(url), "%s/v1/txn", cell_url(p->s));
	int rc = cc_aclient_request(p->s->http, "POST", url, BINARY_TXN,
	                            p->body, p->len, post_answer, p);
	if (rc)
		post_end(p, rc, NULL, "the transaction could not be sent");
}

/* Takes txn (freed here). */
static void post_txn(struct sched *s, cs_txn *txn, txn_done_fn done, void *arg)
{
	struct post *p = cu_xcalloc(1, sizeof(*p));
	size_t cap = 0;
	*p = (struct post){.s = s, .done = done, .arg = arg, .next = s->posts};
	if (s->posts)
		s->posts->prev = p;
	s->posts = p;
	cs_txn_encode_bin(txn, &p->body, &p->len, &cap);
	cs_txn_free(txn);
	post_send(p);
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
	if (status && status != CC_ESTATE)
		CC_WARN("a placement transaction failed: %s", err);
	if (s->core && status != CC_ESTATE)
		sp_core_committed(s->core, ticket, status, res);
}

void cell_submit(void *arg, cs_txn *txn, uint64_t ticket)
{
	post_txn(arg, txn, core_done, (void *)(uintptr_t)ticket);
}

/* ---- joining and registering ---- */

static bool in_flight; /* a join, register or heartbeat request */

static void register_done(struct sched *s, void *arg, int status,
                          const cs_result *res, const char *err)
{
	(void)arg;
	in_flight = false;
	if (status)
		CC_WARN("registering: %s (trying again)", err);
	else if (!res->accepted)
		CC_WARN("registering: rejected: %s",
		        res->ops[0].detail
		            ? res->ops[0].detail
		            : cs_reason_name(res->ops[0].reason));
	(void)s; /* the replica's registry says when it took effect */
}

static void send_register(struct sched *s)
{
	cs_txn *t = new_txn(s, "register");
	struct cs_sched_spec spec = {.name = s->cfg.name,
	                             .class_name = s->cfg.class_name,
	                             .policy = s->cfg.policy,
	                             .member = s->cfg.id};
	cs_txn_sched_register(t, &spec);
	in_flight = true;
	post_txn(s, t, register_done, NULL);
}

static bool am_member(struct sched *s)
{
	struct cr_member *m;
	unsigned n;
	bool found = false;
	cr_node_members(s->node, &m, &n);
	for (unsigned i = 0; i < n; i++)
		found = found || m[i].id == s->cfg.id;
	free(m);
	return found;
}

static void join_answer(void *arg, int status, struct cc_response *resp,
                        const char *errmsg)
{
	struct sched *s = arg;
	in_flight = false;
	if (status == CC_ESTATE)
		return;
	if (!status && resp->status == 200) {
		CC_INFO("joined the cell as standby %llu",
		        (unsigned long long)s->cfg.id);
		s->phase = PHASE_REGISTERING;
		send_register(s);
		return;
	}
	CC_WARN("joining through %s: %s (trying again)", cell_url(s),
	        status ? errmsg : resp->body);
	s->next_url++;
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
	char url[CR_API_ADDR_MAX + 16];
	snprintf(url, sizeof(url), "%s/v1/members", cell_url(s));
	in_flight = cc_aclient_request(s->http, "POST", url, "application/json",
	                               body, strlen(body), join_answer, s) == 0;
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

static void heartbeat_answer(void *arg, int status, struct cc_response *resp,
                             const char *errmsg)
{
	struct sched *s = arg;
	in_flight = false;
	if (status == CC_ESTATE)
		return;
	if (status || resp->status != 200) {
		CC_DEBUG("heartbeat: %s", status ? errmsg : resp->body);
		s->next_url++;
		return;
	}
	json_t *j = cc_response_json(resp, NULL, 0);
	if (listed(json_object_get(j, "unknown_schedulers"), s->cfg.name) &&
	    s->phase == PHASE_RUNNING) {
		/* our lease expired while we lived (a long pause): the
		 * leader unregistered us and may have dropped our standby */
		CC_WARN("the cell forgot this scheduler: joining again");
		s->phase = PHASE_JOINING;
	}
	json_decref(j);
}

static void send_heartbeat(struct sched *s)
{
	json_t *b = json_pack("{s:[s]}", "schedulers", s->cfg.name);
	char *body = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	char url[CR_API_ADDR_MAX + 16];
	snprintf(url, sizeof(url), "%s/v1/heartbeat", cell_url(s));
	in_flight =
	    cc_aclient_request(s->http, "POST", url, "application/json", body,
	                       strlen(body), heartbeat_answer, s) == 0;
	free(body);
}

static void on_heartbeat(struct ev_loop *loop, ev_timer *t, int revents)
{
	struct sched *s = t->data;
	(void)loop;
	(void)revents;
	if (in_flight)
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
		send_heartbeat(s);
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
	s->phase = PHASE_CLOSING;
	ev_timer_stop(s->loop, &s->leave_deadline);
	cr_node_close(s->node, sched_closed, s);
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
	char url[CR_API_ADDR_MAX + 48];
	snprintf(url, sizeof(url), "%s/v1/members/%llu", cell_url(s),
	         (unsigned long long)s->cfg.id);
	if (cc_aclient_request(s->http, "DELETE", url, NULL, NULL, 0,
	                       left_answer, s))
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
