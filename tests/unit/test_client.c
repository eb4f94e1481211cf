/* test_client.c: cellclient's requests against fake members on loopback
 * (tl_member), all on the test's loop: the resend rule (a refused member is
 * skipped at once, a 503 pauses and rotates, an ambiguous failure is final
 * for what must not be sent twice, the unreachable cell and the budgets,
 * on_retry before each pause), where writes go (learned from a redirect,
 * located through /v1/status, the caller's hint), transaction posts (the
 * same bytes resent, verdicts decoded, refusals), JSON reads, heartbeats,
 * freeing the cell with requests in flight, and the blocking flavour. */
#include "testlib.h"

#include "cellclient.h"
#include "evtest.h"
#include "tl_member.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEADLINE 20.0
#define NMEMBERS 3

struct fx {
	struct ev_loop *loop;
	struct tl_member m[NMEMBERS];
	char refused[2][64]; /* URLs where connecting is refused */
	int refused_fd[2];
	cl_cell *cell; /* freed by teardown when a test leaves it */
	/* on_retry's calls */
	int retries;
	char retry_url[8][64];
	long retry_http[8];
	int retry_code[8];
	unsigned retry_round[8];
	const char *hint; /* what writer_hint answers */
};

static struct fx *F;

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->loop = ev_loop_new(EVFLAG_AUTO);
	for (int i = 0; i < NMEMBERS; i++)
		tl_member_start(&f->m[i], f->loop);
	for (int i = 0; i < 2; i++) {
		uint16_t port;
		f->refused_fd[i] = tl_refusing_port(&port);
		snprintf(f->refused[i], sizeof(f->refused[i]),
		         "http://127.0.0.1:%u", port);
	}
	F = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	cl_cell_free(f->cell);
	for (int i = 0; i < NMEMBERS; i++)
		tl_member_stop(&f->m[i]);
	for (int i = 0; i < 2; i++)
		close(f->refused_fd[i]);
	ev_loop_destroy(f->loop);
	free(f);
	return 0;
}

static void on_retry(void *arg, const struct cl_retry *why)
{
	struct fx *f = arg;
	int i = f->retries++;
	if (i >= 8)
		return;
	snprintf(f->retry_url[i], sizeof(f->retry_url[i]), "%s", why->url);
	f->retry_http[i] = why->resp ? why->resp->status : 0;
	f->retry_code[i] = why->code;
	f->retry_round[i] = why->round;
	assert_true(why->resp ? why->code == 0 : why->code != 0);
}

static const char *hint(void *arg)
{
	return ((struct fx *)arg)->hint;
}

/* A cell of the given URLs (NULL-terminated). */
static cl_cell *cell_of(struct fx *f, bool locate, const char *u0,
                        const char *u1, const char *u2)
{
	const char *urls[3] = {u0, u1, u2};
	unsigned n = u2 ? 3 : u1 ? 2 : 1;
	struct cl_config cfg = {.urls = urls,
	                        .nurls = n,
	                        .timeout_ms = 3000,
	                        .locate = locate,
	                        .writer_hint = hint,
	                        .hint_arg = f,
	                        .on_retry = on_retry,
	                        .retry_arg = f};
	f->cell = cl_cell_new(f->loop, &cfg);
	return f->cell;
}

/* A quick policy for tests: pauses of ms, at most rounds. */
static struct cl_policy quick(unsigned ms, unsigned rounds)
{
	return (struct cl_policy){
	    .max_rounds = rounds, .pause_ms = ms, .pause_max_ms = ms};
}

/* ---- what one request's callback saw ---- */

struct answer {
	int calls;
	int status;
	long http;
	char *body, *url;
	char err[CC_ERRMSG_SIZE];
	void (*then)(struct answer *a); /* run by the callback */
};

static void on_answer(void *arg, int status, struct cc_response *resp,
                      const char *errmsg)
{
	struct answer *a = arg;
	a->calls++;
	a->status = status;
	a->http = resp->status;
	free(a->body);
	free(a->url);
	a->body = resp->body ? strdup(resp->body) : NULL;
	a->url = resp->url ? strdup(resp->url) : NULL;
	snprintf(a->err, sizeof(a->err), "%s", errmsg);
	if (a->then)
		a->then(a);
}

static void answer_clear(struct answer *a)
{
	free(a->body);
	free(a->url);
	memset(a, 0, sizeof(*a));
}

static bool answered(void *arg)
{
	return ((struct answer *)arg)->calls > 0;
}

static void wait_for(struct fx *f, bool (*cond)(void *), void *arg)
{
	if (!tl_run_until(f->loop, cond, arg, DEADLINE))
		fail_msg("the condition did not hold within %.0f s", DEADLINE);
}

/* Sends method /v1/x and waits for the answer. */
static void request(struct fx *f, const char *method, const struct cl_policy *p,
                    unsigned flags, struct answer *a)
{
	assert_int_equal(cl_request(f->cell, method, "/v1/x", NULL, NULL, 0, p,
	                            flags, on_answer, a),
	                 0);
	assert_int_equal(a->calls, 0); /* never from inside the call */
	wait_for(f, answered, a);
	assert_int_equal(a->calls, 1);
}

/* The answer came from member m. */
static void from_member(const struct answer *a, const struct tl_member *m)
{
	if (a->status)
		fail_msg("%s", a->err);
	assert_int_equal(a->http, 200);
	assert_non_null(strstr(a->body, m->h.base));
}

/* ---- the resend rule ---- */

static void test_refused_moves_on_at_once(void **state)
{
	struct fx *f = *state;
	/* pauses far longer than the test may take: none may happen */
	struct cl_policy p = quick(60000, 3);
	cell_of(f, false, f->refused[0], f->refused[1], f->m[0].h.base);
	struct answer a = {0};
	request(f, "POST", &p, 0, &a);
	from_member(&a, &f->m[0]);
	assert_int_equal(f->retries, 0);
	/* the member that answered is current now */
	assert_string_equal(cl_cell_url(f->cell), f->m[0].h.base);
	assert_true(cl_cell_answered(f->cell));
	answer_clear(&a);
}

static void test_503_pauses_and_rotates(void **state)
{
	struct fx *f = *state;
	struct cl_policy p = quick(10, 5);
	f->m[0].fail = f->m[1].fail = 1;
	cell_of(f, false, f->m[0].h.base, f->m[1].h.base, NULL);
	struct answer a = {0};
	request(f, "GET", &p, CL_IDEMPOTENT, &a);
	from_member(&a, &f->m[0]);
	assert_int_equal(f->m[0].writes, 2);
	assert_int_equal(f->m[1].writes, 1);
	/* told before each pause, with the answer that caused it */
	assert_int_equal(f->retries, 2);
	assert_string_equal(f->retry_url[0], f->m[0].h.base);
	assert_string_equal(f->retry_url[1], f->m[1].h.base);
	assert_int_equal(f->retry_http[0], 503);
	assert_int_equal(f->retry_round[0], 1);
	assert_int_equal(f->retry_round[1], 2);
	answer_clear(&a);
}

/* no_leader was refused before anything happened: even a request that
 * must not be sent twice is sent again; outcome_unknown is final for it. */
static void test_no_leader_retried_for_every_request(void **state)
{
	struct fx *f = *state;
	struct cl_policy p = quick(10, 5);
	f->m[0].fail = 2;
	cell_of(f, false, f->m[0].h.base, NULL, NULL);
	struct answer a = {0};
	request(f, "POST", &p, 0, &a);
	from_member(&a, &f->m[0]);
	assert_int_equal(f->m[0].writes, 3);
	answer_clear(&a);

	f->m[0].fail = 1;
	f->m[0].fail_error = "outcome_unknown";
	request(f, "POST", &p, 0, &a);
	assert_int_equal(a.status, 0);
	assert_int_equal(a.http, 503); /* handed over as the answer */
	assert_non_null(strstr(a.body, "outcome_unknown"));
	assert_int_equal(f->m[0].writes, 4);
	answer_clear(&a);
}

/* A request that timed out may have arrived: final unless it may be sent
 * twice, which goes on to the next member in the next round. */
static void test_ambiguous_failure(void **state)
{
	struct fx *f = *state;
	struct cl_policy p = quick(10, 2);
	const char *urls[] = {f->m[0].h.base, f->m[1].h.base};
	struct cl_config cfg = {.urls = urls,
	                        .nurls = 2,
	                        .timeout_ms = 300,
	                        .on_retry = on_retry,
	                        .retry_arg = f};
	f->cell = cl_cell_new(f->loop, &cfg);
	f->m[0].hold = f->m[1].hold = true;
	struct answer a = {0};
	request(f, "POST", &p, 0, &a);
	assert_int_equal(a.status, CC_ETIMEOUT);
	assert_int_equal(f->m[0].writes + f->m[1].writes, 1);
	/* where it went, for "the change may or may not have happened" */
	char want[128];
	snprintf(want, sizeof(want), "%s/v1/x", f->m[0].h.base);
	assert_string_equal(a.url, want);
	assert_int_equal(f->retries, 0);
	answer_clear(&a);

	request(f, "POST", &p, CL_IDEMPOTENT, &a);
	assert_int_equal(a.status, CC_ETIMEOUT); /* the last failure */
	/* m0 failed: m1 is current now, then m0 again */
	assert_int_equal(f->m[0].writes, 2);
	assert_int_equal(f->m[1].writes, 1);
	assert_int_equal(f->retries, 1);
	assert_int_equal(f->retry_code[0], CC_ETIMEOUT);
	answer_clear(&a);
}

static void test_unreachable_cell(void **state)
{
	struct fx *f = *state;
	struct cl_policy p = CL_POLICY_INTERACTIVE;
	cell_of(f, false, f->refused[0], f->refused[1], NULL);
	struct answer a = {0};
	request(f, "GET", &p, CL_IDEMPOTENT, &a);
	assert_int_equal(a.status, CC_ECONNECT);
	assert_non_null(strstr(a.err, "refused"));
	assert_int_equal(f->retries, 0); /* at once: nobody is there */
	assert_false(cl_cell_answered(f->cell));
	char list[160];
	snprintf(list, sizeof(list), "%s, %s", f->refused[0], f->refused[1]);
	assert_string_equal(cl_cell_urls(f->cell), list);
	answer_clear(&a);

	/* without give_up_unreachable the rounds run out */
	p = quick(10, 3);
	request(f, "GET", &p, CL_IDEMPOTENT, &a);
	assert_int_equal(a.status, CC_ECONNECT);
	assert_int_equal(f->retries, 2);
	assert_int_equal(f->retry_http[0], 0);
	assert_int_equal(f->retry_code[0], CC_ECONNECT);
	answer_clear(&a);
}

/* Once a member answered, a cell that stops answering is waited for. */
static void test_lost_cell_is_waited_for(void **state)
{
	struct fx *f = *state;
	struct cl_policy p = CL_POLICY_INTERACTIVE;
	p.pause_ms = p.pause_max_ms = 10;
	p.max_rounds = 3;
	cell_of(f, false, f->m[0].h.base, NULL, NULL);
	struct answer a = {0};
	request(f, "GET", &p, CL_IDEMPOTENT, &a);
	from_member(&a, &f->m[0]);
	answer_clear(&a);
	tl_member_stop(&f->m[0]);
	request(f, "GET", &p, CL_IDEMPOTENT, &a);
	assert_int_equal(a.status, CC_ECONNECT);
	assert_int_equal(f->retries, 2);
	answer_clear(&a);
}

static void test_budgets(void **state)
{
	struct fx *f = *state;
	struct cl_policy p = quick(10, 3);
	f->m[0].fail = 1000;
	cell_of(f, false, f->m[0].h.base, NULL, NULL);
	struct answer a = {0};
	request(f, "POST", &p, CL_IDEMPOTENT, &a);
	/* the last 503 is the outcome, and says the budget ran out */
	assert_int_equal(a.status, 0);
	assert_int_equal(a.http, 503);
	struct cc_response r = {
	    .status = a.http, .body = a.body, .len = strlen(a.body)};
	assert_true(cl_resendable(&r, CL_IDEMPOTENT));
	assert_true(cl_resendable(&r, 0)); /* no_leader */
	r.status = 404;
	assert_false(cl_resendable(&r, CL_IDEMPOTENT));
	assert_int_equal(f->m[0].writes, 3);
	assert_int_equal(f->retries, 2);
	answer_clear(&a);

	/* a deadline: no pause that would end past it */
	p = (struct cl_policy){
	    .deadline_ms = 250, .pause_ms = 100, .pause_max_ms = 100};
	f->m[0].writes = f->retries = 0;
	ev_now_update(f->loop);
	double t0 = ev_now(f->loop);
	request(f, "POST", &p, CL_IDEMPOTENT, &a);
	ev_now_update(f->loop);
	assert_int_equal(a.http, 503);
	assert_true(f->m[0].writes >= 1 && f->m[0].writes <= 3);
	assert_int_equal(f->retries, f->m[0].writes - 1);
	assert_true(ev_now(f->loop) - t0 < DEADLINE);
	answer_clear(&a);

	/* once: one round, no pause */
	f->m[0].writes = f->retries = 0;
	request(f, "POST", &CL_POLICY_ONCE, CL_IDEMPOTENT, &a);
	assert_int_equal(a.http, 503);
	assert_int_equal(f->m[0].writes, 1);
	assert_int_equal(f->retries, 0);
	answer_clear(&a);
}

/* ---- where writes go ---- */

static void test_writer_learned_from_redirect(void **state)
{
	struct fx *f = *state;
	struct cl_policy p = quick(10, 3);
	snprintf(f->m[0].redirect, sizeof(f->m[0].redirect), "%s",
	         f->m[1].h.base);
	cell_of(f, false, f->m[0].h.base, f->m[1].h.base, NULL);
	struct answer a = {0};
	request(f, "POST", &p, 0, &a);
	from_member(&a, &f->m[1]);
	assert_string_equal(cl_cell_writer(f->cell), f->m[1].h.base);
	assert_string_equal(cl_cell_url(f->cell), f->m[1].h.base);
	answer_clear(&a);
	/* the next request goes there directly */
	request(f, "POST", &p, 0, &a);
	from_member(&a, &f->m[1]);
	assert_int_equal(f->m[0].writes, 1);
	assert_int_equal(f->m[1].writes, 2);
	answer_clear(&a);
	/* a writer that fails is forgotten */
	f->m[1].fail = 1;
	f->m[0].redirect[0] = 0;
	request(f, "POST", &p, CL_IDEMPOTENT, &a);
	assert_null(cl_cell_writer(f->cell));
	from_member(&a, &f->m[0]);
	answer_clear(&a);
}

static void test_locate_through_status(void **state)
{
	struct fx *f = *state;
	struct cl_policy p = quick(10, 3);
	snprintf(f->m[0].leader, sizeof(f->m[0].leader), "%s", f->m[2].h.base);
	f->m[2].trusted = true;
	cell_of(f, true, f->m[0].h.base, f->m[1].h.base, f->m[2].h.base);
	struct answer a = {0};
	request(f, "GET", &p, CL_IDEMPOTENT, &a);
	/* m0 named the leader: reads go there too */
	from_member(&a, &f->m[2]);
	assert_int_equal(f->m[0].status_calls, 1);
	assert_int_equal(f->m[0].writes, 0);
	assert_string_equal(cl_cell_writer(f->cell), f->m[2].h.base);
	answer_clear(&a);
	/* no second look while it answers */
	request(f, "GET", &p, CL_IDEMPOTENT, &a);
	assert_int_equal(f->m[0].status_calls + f->m[2].status_calls, 1);
	answer_clear(&a);
	/* the leader moved: after the failed round the cell looks again,
	 * and a member that says it is trusted is the writer */
	f->m[2].fail = 1;
	f->m[2].trusted = false;
	f->m[0].leader[0] = 0;
	f->m[0].trusted = true;
	request(f, "GET", &p, CL_IDEMPOTENT, &a);
	from_member(&a, &f->m[0]);
	assert_string_equal(cl_cell_writer(f->cell), f->m[0].h.base);
	assert_int_equal(f->retries, 1);
	answer_clear(&a);
}

/* Nobody answers /v1/status: the round ends there, and an interactive
 * caller hears at once. */
static void test_locate_finds_nobody(void **state)
{
	struct fx *f = *state;
	struct cl_policy p = CL_POLICY_INTERACTIVE;
	cell_of(f, true, f->refused[0], f->refused[1], NULL);
	struct answer a = {0};
	request(f, "POST", &p, 0, &a);
	assert_int_equal(a.status, CC_ECONNECT);
	assert_int_equal(f->retries, 0);
	answer_clear(&a);
}

/* A /v1/status that is not JSON is not a member's: the sweep goes on, and
 * when nobody answers as a member does, the round ends unreached. */
static void test_locate_skips_what_is_not_a_member(void **state)
{
	struct fx *f = *state;
	struct cl_policy p = CL_POLICY_INTERACTIVE;
	f->m[0].status_text = true;
	cell_of(f, true, f->m[0].h.base, f->m[1].h.base, NULL);
	struct answer a = {0};
	request(f, "GET", &p, CL_IDEMPOTENT, &a);
	from_member(&a, &f->m[1]); /* no writer named: the one that answered */
	assert_null(cl_cell_writer(f->cell));
	answer_clear(&a);
	cl_cell_free(f->cell);
	f->m[1].status_text = true;
	cell_of(f, true, f->m[0].h.base, f->m[1].h.base, NULL);
	request(f, "GET", &p, CL_IDEMPOTENT, &a);
	assert_int_equal(a.status, CC_EPROTO);
	assert_non_null(strstr(a.err, "without JSON"));
	assert_false(cl_cell_answered(f->cell));
	assert_int_equal(f->retries, 0);
	assert_int_equal(f->m[0].writes + f->m[1].writes, 1); /* before */
	answer_clear(&a);
}

static void test_writer_hint(void **state)
{
	struct fx *f = *state;
	struct cl_policy p = quick(10, 3);
	cell_of(f, false, f->m[0].h.base, f->m[1].h.base, NULL);
	f->hint = f->m[1].h.base;
	assert_string_equal(cl_cell_url(f->cell), f->m[1].h.base);
	struct answer a = {0};
	request(f, "POST", &p, 0, &a);
	from_member(&a, &f->m[1]);
	assert_int_equal(f->m[0].writes, 0);
	answer_clear(&a);
	/* a hint that refuses: the members, at once */
	f->hint = f->refused[0];
	request(f, "POST", &p, 0, &a);
	from_member(&a, &f->m[0]);
	assert_int_equal(f->retries, 0);
	answer_clear(&a);
}

/* cl_request_at: one attempt where it is told, nothing learned. */
static void test_request_at(void **state)
{
	struct fx *f = *state;
	cell_of(f, false, f->m[0].h.base, NULL, NULL);
	f->m[1].fail = 1;
	struct answer a = {0};
	assert_int_equal(cl_request_at(f->cell, f->m[1].h.base, "GET", "/v1/x",
	                               NULL, NULL, 0, on_answer, &a),
	                 0);
	wait_for(f, answered, &a);
	assert_int_equal(a.http, 503);
	assert_false(cl_cell_answered(f->cell));
	answer_clear(&a);
	assert_int_equal(cl_request_at(f->cell, f->refused[0], "GET", "/v1/x",
	                               NULL, NULL, 0, on_answer, &a),
	                 0);
	wait_for(f, answered, &a);
	assert_int_equal(a.status, CC_ECONNECT);
	assert_int_equal(f->retries, 0);
	answer_clear(&a);
}

static void test_bad_calls_never_call_back(void **state)
{
	struct fx *f = *state;
	cell_of(f, false, f->m[0].h.base, NULL, NULL);
	struct answer a = {0};
	assert_int_equal(cl_request(f->cell, "GET", "v1/x", NULL, NULL, 0, NULL,
	                            0, on_answer, &a),
	                 CC_EINVAL);
	assert_non_null(strstr(cl_cell_errmsg(f->cell), "starting with /"));
	assert_int_equal(cl_request(f->cell, "GET", "/v1/x", NULL, NULL, 0,
	                            NULL, 0, NULL, NULL),
	                 CC_EINVAL);
	cs_txn *t = cs_txn_new(NULL, "test", CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, "j", 0, "m", 0);
	assert_int_equal(cl_post_txn(f->cell, t, NULL, NULL, NULL), CC_EINVAL);
	assert_non_null(strstr(cl_cell_errmsg(f->cell), "no id"));
	ev_run(f->loop, EVRUN_NOWAIT);
	assert_int_equal(a.calls, 0);
}

/* ---- transactions ---- */

struct verdict {
	int calls, status;
	uint64_t index;
	uint32_t nops, accepted;
	bool duplicate, committed;
	enum cs_reason reasons[4];
	char detail[64]; /* of the last op */
	char err[CC_ERRMSG_SIZE];
};

static void on_txn(void *arg, int status, const cs_result *res, const char *err)
{
	struct verdict *v = arg;
	v->calls++;
	v->status = status;
	snprintf(v->err, sizeof(v->err), "%s", err);
	assert_true(status ? res == NULL : res != NULL);
	if (!res)
		return;
	v->index = res->index;
	v->nops = res->nops;
	v->accepted = res->accepted;
	v->duplicate = res->duplicate;
	v->committed = res->committed;
	for (uint32_t i = 0; i < res->nops && i < 4; i++)
		v->reasons[i] = res->ops[i].reason;
	const char *d = res->nops ? res->ops[res->nops - 1].detail : NULL;
	snprintf(v->detail, sizeof(v->detail), "%s", d ? d : "");
}

static bool decided(void *arg)
{
	return ((struct verdict *)arg)->calls > 0;
}

static cs_txn *two_ops(const char *id)
{
	cs_txn *t = cs_txn_new(id, "test", CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, "web", 0, "m1", 4);
	cs_txn_place(t, "web", 1, "m2", 0);
	return t;
}

static void post(struct fx *f, cs_txn *t, const struct cl_policy *p,
                 struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	assert_int_equal(cl_post_txn(f->cell, t, p, on_txn, v), 0);
	wait_for(f, decided, v);
	assert_int_equal(v->calls, 1);
}

static void test_post_txn(void **state)
{
	struct fx *f = *state;
	struct cl_policy p = quick(10, 5);
	cell_of(f, false, f->m[0].h.base, f->m[1].h.base, NULL);
	struct verdict v;
	post(f, two_ops("t-1"), &p, &v);
	assert_int_equal(v.status, 0);
	assert_int_equal(v.nops, 2);
	assert_int_equal(v.accepted, 2);
	assert_string_equal(f->m[0].types[0], CL_TXN_CONTENT_TYPE);

	/* the leader lost it in flight: resent as the same bytes, through
	 * the next member, and the repeat is answered as a duplicate */
	f->m[0].fail = 1;
	f->m[0].fail_error = "outcome_unknown";
	post(f, two_ops("t-2"), &p, &v);
	assert_int_equal(v.status, 0);
	assert_true(v.duplicate || f->m[1].nbodies == 1);
	assert_int_equal(f->m[0].nbodies, 2);
	assert_int_equal(f->m[1].nbodies, 1);
	assert_int_equal(f->m[1].lens[0], f->m[0].lens[1]);
	assert_memory_equal(f->m[1].bodies[0], f->m[0].bodies[1],
	                    f->m[0].lens[1]);

	/* refused by the cell itself: no resend */
	f->m[1].answer_status = 400;
	post(f, two_ops("t-3"), &p, &v);
	assert_int_equal(v.status, CC_EPROTO);
	assert_non_null(strstr(v.err, "HTTP 400"));
	assert_int_equal(f->m[1].nbodies, 2);

	/* the budget ran out */
	f->m[1].answer_status = 200;
	f->m[1].fail = 1000;
	post(f, two_ops("t-4"), &CL_POLICY_ONCE, &v);
	assert_int_equal(v.status, CC_EIO);
	assert_non_null(strstr(v.err, "HTTP 503"));
}

/* celld's own text is read without jansson; any other spelling of a
 * result through cs_result_decode: the verdicts are the same either way,
 * and what is not a result is refused either way. */
static const char *const same_verdicts[] = {
    "{\"index\":7,\"committed\":true,\"duplicate\":false,\"accepted\":1,"
    "\"rejected\":1,\"ops\":[{\"ok\":true,\"reason\":\"ok\"},{\"ok\":false,"
    "\"reason\":\"seq_changed\"}]}",
    "{\"index\": 7, \"committed\": true, \"duplicate\": false, "
    "\"accepted\": 1, \"rejected\": 1, \"ops\": [{\"ok\": true, "
    "\"reason\": \"ok\"}, {\"ok\": false, \"reason\": \"seq_changed\"}]}",
    "{\"ops\":[{\"reason\":\"ok\",\"ok\":true},{\"ok\":false,\"reason\":"
    "\"seq_changed\",\"detail\":\"m\\\"1\"}],\"rejected\":1,\"accepted\":1,"
    "\"duplicate\":false,\"committed\":true,\"index\":7}"};
static const char *const bad_verdicts[] = {
    "{\"index\":7,\"committed\":true,\"duplicate\":false,\"accepted\":2,"
    "\"rejected\":0,\"ops\":[{\"ok\":true,\"reason\":\"ok\"},{\"ok\":false,"
    "\"reason\":\"seq_changed\"}]}",
    "{\"index\":07,\"committed\":true,\"duplicate\":false,\"accepted\":0,"
    "\"rejected\":0,\"ops\":[]}",
    "{\"index\":7,\"committed\":true,\"duplicate\":false,\"accepted\":1,"
    "\"rejected\":0,\"ops\":[{\"ok\":true,\"reason\":\"seq_changed\"}]}",
    "{\"index\":7,\"committed\":true,\"duplicate\":false,\"accepted\":0,"
    "\"rejected\":0,\"ops\":[]} x",
    "{\"index\":7,\"committed\":true,\"duplicate\":false,\"accepted\":0,"
    "\"rejected\":0,\"ops\":[],\"colour\":1}"};

static void test_verdicts_read_both_ways(void **state)
{
	struct fx *f = *state;
	struct verdict v;
	cell_of(f, false, f->m[0].h.base, NULL, NULL);
	for (size_t i = 0; i < 3; i++) {
		f->m[0].txn_answer = same_verdicts[i];
		post(f, two_ops("r-1"), NULL, &v);
		if (v.status)
			fail_msg("%s: %s", same_verdicts[i], v.err);
		assert_int_equal(v.index, 7);
		assert_true(v.committed);
		assert_false(v.duplicate);
		assert_int_equal(v.nops, 2);
		assert_int_equal(v.accepted, 1);
		assert_int_equal(v.reasons[0], CS_R_OK);
		assert_int_equal(v.reasons[1], CS_R_SEQ_CHANGED);
		assert_string_equal(v.detail, i == 2 ? "m\"1" : "");
	}
	for (size_t i = 0; i < 5; i++) {
		f->m[0].txn_answer = bad_verdicts[i];
		post(f, two_ops("r-2"), NULL, &v);
		if (v.status != CC_EPROTO)
			fail_msg("accepted: %s", bad_verdicts[i]);
		assert_non_null(strstr(v.err, "HTTP 200"));
	}
	/* no ops, as celld writes it */
	f->m[0].txn_answer = "{\"index\":0,\"committed\":false,\"duplicate\":"
	                     "true,\"accepted\":0,\"rejected\":0,\"ops\":[]}";
	post(f, two_ops("r-3"), NULL, &v);
	assert_int_equal(v.status, 0);
	assert_true(v.duplicate);
	assert_int_equal(v.nops, 0);
}

static void test_post_txn_body(void **state)
{
	struct fx *f = *state;
	cell_of(f, false, f->m[0].h.base, NULL, NULL);
	const char *json = "{\"id\": \"j-1\", \"ops\": [{\"op\": \"place\", "
	                   "\"job\": \"web\", \"task\": 0, \"machine\": "
	                   "\"m1\"}]}";
	struct verdict v = {0};
	assert_int_equal(cl_post_txn_body(f->cell, "application/json", json,
	                                  strlen(json), NULL, on_txn, &v),
	                 0);
	wait_for(f, decided, &v);
	assert_int_equal(v.status, 0);
	assert_int_equal(v.accepted, 1);
	assert_string_equal(f->m[0].types[0], "application/json");
}

/* ---- reads ---- */

struct read {
	int calls, status;
	long http;
	bool json;
	char member[64], err[CC_ERRMSG_SIZE];
};

static void on_json(void *arg, int status, long http, json_t *j,
                    const char *err)
{
	struct read *r = arg;
	r->calls++;
	r->status = status;
	r->http = http;
	r->json = j != NULL;
	snprintf(r->member, sizeof(r->member), "%s",
	         j ? json_string_value(json_object_get(j, "member")) : "");
	snprintf(r->err, sizeof(r->err), "%s", err);
}

static bool read_done(void *arg)
{
	return ((struct read *)arg)->calls > 0;
}

static void test_get_json(void **state)
{
	struct fx *f = *state;
	struct cl_policy p = quick(10, 3);
	f->m[0].fail = 1;
	cell_of(f, false, f->m[0].h.base, f->m[1].h.base, NULL);
	struct read r = {0};
	assert_int_equal(cl_get_json(f->cell, "/v1/x", &p, on_json, &r), 0);
	wait_for(f, read_done, &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(r.http, 200);
	assert_string_equal(r.member, f->m[1].h.base);
	/* an answer that is not JSON */
	memset(&r, 0, sizeof(r));
	assert_int_equal(cl_get_json(f->cell, "/v1/big", &p, on_json, &r), 0);
	wait_for(f, read_done, &r);
	assert_int_equal(r.status, 0);
	assert_false(r.json);
	assert_non_null(strstr(r.err, "invalid JSON"));
}

/* ---- heartbeats ---- */

struct beat {
	int calls, status, unknown;
	int64_t ttl;
	char first[64], err[CC_ERRMSG_SIZE];
};

static void on_beat(void *arg, int status, const struct cl_beat_answer *a,
                    const char *err)
{
	struct beat *b = arg;
	b->calls++;
	b->status = status;
	snprintf(b->err, sizeof(b->err), "%s", err);
	if (a) {
		b->ttl = a->ttl_ms;
		b->unknown = (int)json_array_size(a->unknown);
		assert_true(json_is_array(a->unknown_schedulers));
		snprintf(b->first, sizeof(b->first), "%s",
		         b->unknown
		             ? json_string_value(json_array_get(a->unknown, 0))
		             : "");
	}
}

static bool beat_done(void *arg)
{
	return ((struct beat *)arg)->calls > 0;
}

static void test_heartbeats(void **state)
{
	struct fx *f = *state;
	const char *machines[] = {"m1", "m2"}, *scheds[] = {"s1"};
	struct cl_beat *b = cl_beat_new(machines, 2, scheds, 1);
	cell_of(f, false, f->m[0].h.base, NULL, NULL);
	f->m[0].beat_answer = "{\"ttl_ms\": 3000, \"unknown\": [\"m2\"]}";
	f->m[0].hold = true;
	struct beat a = {0}, again = {0};
	assert_int_equal(cl_beat_send(f->cell, b, on_beat, &a), 0);
	/* one in flight at most */
	assert_int_equal(cl_beat_send(f->cell, b, on_beat, &again), CC_ESTATE);
	assert_true(tl_run_until(f->loop, beat_done, &a, 0.2) == false);
	f->m[0].hold = false;
	tl_member_release(&f->m[0]); /* answered {"member"}: no TTL */
	wait_for(f, beat_done, &a);
	assert_int_equal(a.status, 0);
	assert_int_equal(a.ttl, 0);
	assert_string_equal(f->m[0].bodies[0],
	                    "{\"machines\":[\"m1\",\"m2\"],\"schedulers\":["
	                    "\"s1\"]}");
	memset(&a, 0, sizeof(a));
	assert_int_equal(cl_beat_send(f->cell, b, on_beat, &a), 0);
	wait_for(f, beat_done, &a);
	assert_int_equal(a.ttl, 3000);
	assert_int_equal(a.unknown, 1);
	assert_string_equal(a.first, "m2");
	/* a refusal */
	f->m[0].answer_status = 401;
	memset(&a, 0, sizeof(a));
	assert_int_equal(cl_beat_send(f->cell, b, on_beat, &a), 0);
	wait_for(f, beat_done, &a);
	assert_int_equal(a.status, CC_EPROTO);
	assert_non_null(strstr(a.err, "HTTP 401"));
	assert_int_equal(again.calls, 0);
	cl_beat_free(b);
}

/* ---- freeing with requests in flight ---- */

static void free_cell(struct answer *a)
{
	(void)a;
	cl_cell_free(F->cell);
	F->cell = NULL;
}

static void test_free_with_requests_in_flight(void **state)
{
	struct fx *f = *state;
	struct cl_policy slow = quick(60000, 0);
	f->m[0].hold = true; /* in flight */
	f->m[1].fail = 1000; /* pausing between rounds */
	cell_of(f, false, f->m[0].h.base, NULL, NULL);
	struct answer held = {0}, paused = {0}, later = {0};
	assert_int_equal(cl_request(f->cell, "POST", "/v1/x", NULL, NULL, 0,
	                            &slow, 0, on_answer, &held),
	                 0);
	assert_int_equal(cl_request_at(f->cell, f->m[0].h.base, "GET", "/v1/x",
	                               NULL, NULL, 0, on_answer, &later),
	                 0);
	struct cl_config cfg = {.urls = (const char *[]){f->m[1].h.base},
	                        .nurls = 1};
	cl_cell *other = cl_cell_new(f->loop, &cfg);
	assert_int_equal(cl_request(other, "GET", "/v1/x", NULL, NULL, 0, &slow,
	                            CL_IDEMPOTENT, on_answer, &paused),
	                 0);
	assert_true(tl_run_until(f->loop, answered, &held, 0.3) == false);
	assert_int_equal(f->m[1].writes, 1);
	cl_cell_free(f->cell); /* every callback once, now */
	f->cell = NULL;
	cl_cell_free(other);
	assert_int_equal(held.calls, 1);
	assert_int_equal(held.status, CC_ESTATE);
	assert_int_equal(later.calls, 1);
	assert_int_equal(later.status, CC_ESTATE);
	assert_int_equal(paused.calls, 1);
	assert_int_equal(paused.status, CC_ESTATE);
	ev_run(f->loop, EVRUN_NOWAIT);
	assert_int_equal(held.calls + later.calls + paused.calls, 3);
	answer_clear(&held);
	answer_clear(&later);
	answer_clear(&paused);
}

/* From inside a callback: the others still get theirs, once. */
static void test_free_from_a_callback(void **state)
{
	struct fx *f = *state;
	struct cl_policy slow = quick(60000, 0);
	f->m[1].hold = true;
	cell_of(f, false, f->m[0].h.base, NULL, NULL);
	struct answer first = {.then = free_cell}, held = {0};
	assert_int_equal(cl_request_at(f->cell, f->m[1].h.base, "GET", "/v1/x",
	                               NULL, NULL, 0, on_answer, &held),
	                 0);
	assert_int_equal(cl_request(f->cell, "GET", "/v1/x", NULL, NULL, 0,
	                            &slow, 0, on_answer, &first),
	                 0);
	wait_for(f, answered, &first);
	assert_null(f->cell);
	assert_int_equal(held.calls, 1);
	assert_int_equal(held.status, CC_ESTATE);
	/* a call on a closing cell from its own callback is refused */
	answer_clear(&first);
	answer_clear(&held);
}

static void free_on_retry(void *arg, const struct cl_retry *why)
{
	struct fx *f = arg;
	(void)why;
	f->retries++;
	cl_cell_free(f->cell);
	f->cell = NULL;
}

/* From on_retry, while the request that pauses is being handled. */
static void test_free_from_on_retry(void **state)
{
	struct fx *f = *state;
	struct cl_policy p = quick(10, 5);
	f->m[0].fail = 5;
	const char *urls[] = {f->m[0].h.base};
	struct cl_config cfg = {.urls = urls,
	                        .nurls = 1,
	                        .on_retry = free_on_retry,
	                        .retry_arg = f};
	f->cell = cl_cell_new(f->loop, &cfg);
	struct answer a = {0}, b = {0};
	assert_int_equal(cl_request(f->cell, "POST", "/v1/x", NULL, NULL, 0, &p,
	                            CL_IDEMPOTENT, on_answer, &a),
	                 0);
	assert_int_equal(cl_request(f->cell, "POST", "/v1/x", NULL, NULL, 0, &p,
	                            CL_IDEMPOTENT, on_answer, &b),
	                 0);
	wait_for(f, answered, &a);
	wait_for(f, answered, &b);
	assert_int_equal(a.calls + b.calls, 2);
	assert_int_equal(a.status, CC_ESTATE);
	assert_int_equal(b.status, CC_ESTATE);
	assert_int_equal(f->retries, 1);
	answer_clear(&a);
	answer_clear(&b);
}

/* ---- the blocking flavour ---- */

static void test_sync_requests(void **state)
{
	struct fx *f = *state;
	struct cl_policy p = quick(10, 3);
	f->m[0].fail = 1;
	cell_of(f, false, f->m[0].h.base, f->m[1].h.base, NULL);
	struct cc_response out;
	char err[CC_ERRMSG_SIZE];
	assert_int_equal(cl_sync_request(f->cell, "POST", "/v1/x", NULL, NULL,
	                                 0, &p, 0, &out, err, sizeof(err)),
	                 0);
	assert_int_equal(out.status, 200);
	assert_non_null(strstr(out.body, f->m[1].h.base));
	cc_response_clear(&out);
	assert_int_equal(cl_sync_request_at(f->cell, f->m[0].h.base, "POST",
	                                    "/v1/echo", "text/plain", "hi", 2,
	                                    &out, err, sizeof(err)),
	                 0);
	assert_non_null(strstr(out.body, "\"hi\""));
	cc_response_clear(&out);
	assert_int_equal(cl_sync_request_at(f->cell, f->refused[0], "GET",
	                                    "/v1/x", NULL, NULL, 0, &out, err,
	                                    sizeof(err)),
	                 CC_ECONNECT);
	assert_non_null(strstr(err, "refused"));
	assert_non_null(strstr(out.url, "/v1/x"));
	cc_response_clear(&out);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_refused_moves_on_at_once),
	    T(test_503_pauses_and_rotates),
	    T(test_no_leader_retried_for_every_request),
	    T(test_ambiguous_failure),
	    T(test_unreachable_cell),
	    T(test_lost_cell_is_waited_for),
	    T(test_budgets),
	    T(test_writer_learned_from_redirect),
	    T(test_locate_through_status),
	    T(test_locate_finds_nobody),
	    T(test_locate_skips_what_is_not_a_member),
	    T(test_writer_hint),
	    T(test_request_at),
	    T(test_bad_calls_never_call_back),
	    T(test_post_txn),
	    T(test_verdicts_read_both_ways),
	    T(test_post_txn_body),
	    T(test_get_json),
	    T(test_heartbeats),
	    T(test_free_with_requests_in_flight),
	    T(test_free_from_a_callback),
	    T(test_free_from_on_retry),
	    T(test_sync_requests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
