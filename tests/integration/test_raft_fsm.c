/* test_raft_fsm.c: the cellraft FSM driven by raft_fixture (simulated time,
 * network and disk, RAFT.md §6): every replica reaches the same verdicts and
 * state hash; snapshots restore the same state on a lagging node; a leader
 * lost mid-batch makes no replica diverge and a retry by id answers the first
 * verdict; a partitioned minority leader's write never commits. Entries are
 * built with the node's own entry builder, so the bytes are the real ones. */
#include "testlib.h"

#include <raft.h>
#include <raft/fixture.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cr_fsm.h"

#define N_MAX     5
#define LOG_MAX   256
#define PROPS_MAX 32
#define RECS_MAX  16
#define WAIT_MS   10000 /* simulated time */

/* One replica's FSM plus what it saw applied, in order. */
struct replica {
	struct cr_fsm fsm;
	struct fx *fx;
	unsigned index;      /* fixture index; raft id is index + 1 */
	char *seen[LOG_MAX]; /* "index txn-id verdicts-json" per txn */
	unsigned nseen;
	unsigned warnings; /* log lines at warn or above */
};

/* An entry proposed through raft_apply, as the node's batch is. */
struct proposal {
	struct raft_apply req;
	struct cr_fsm_sink sink;
	cs_result results[RECS_MAX];
	int status_of[RECS_MAX];
	uint64_t batch_id;
	uint64_t proposer_id;
	bool done;  /* callback fired */
	int status; /* its status */
	bool claimed;
};

struct fx {
	struct raft_fixture f;
	struct replica r[N_MAX];
	unsigned n;
	struct proposal *props[PROPS_MAX];
	unsigned nprops;
	uint64_t next_batch_id;
};

/* ---- FSM hooks ----------------------------------------------------------- */

static struct cr_fsm_sink *claim(void *arg, uint64_t proposer, uint64_t id)
{
	struct replica *rep = arg;
	if (proposer != rep->index + 1)
		return NULL; /* only the proposer waits for results */
	for (unsigned i = 0; i < rep->fx->nprops; i++) {
		struct proposal *p = rep->fx->props[i];
		if (p->batch_id == id && p->proposer_id == proposer &&
		    !p->done && !p->claimed) {
			p->claimed = true;
			return &p->sink;
		}
	}
	return NULL;
}

static void on_applied(void *arg, uint64_t index, const cs_txn *txn,
                       const cs_result *res)
{
	struct replica *rep = arg;
	json_t *j = cs_result_encode(res);
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	assert_true(rep->nseen < LOG_MAX);
	size_t len = strlen(text) + 200;
	char *line = malloc(len);
	snprintf(line, len, "%llu %s %s", (unsigned long long)index,
	         txn->id ? txn->id : "-", text);
	free(text);
	rep->seen[rep->nseen++] = line;
}

static void on_log(void *arg, enum cst_log_level level, const char *msg)
{
	struct replica *rep = arg;
	if (level >= CST_LOG_WARN)
		rep->warnings++;
	if (getenv("CELL_TEST_VERBOSE"))
		fprintf(stderr, "replica %u: %s\n", rep->index, msg);
}

/* ---- fixture ------------------------------------------------------------- */

static struct fx *fx_new(unsigned n, unsigned snapshot_threshold)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	fx->n = n;
	fx->next_batch_id = 1000;
	assert_int_equal(raft_fixture_initialize(&fx->f), 0);
	for (unsigned i = 0; i < n; i++) {
		struct replica *rep = &fx->r[i];
		rep->fx = fx;
		rep->index = i;
		struct cr_fsm_hooks h = {claim, on_applied, NULL, on_log, rep};
		cr_fsm_init(&rep->fsm, NULL, &h);
		assert_int_equal(raft_fixture_grow(&fx->f, &rep->fsm.fsm), 0);
		struct raft *r = raft_fixture_get(&fx->f, i);
		cr_fsm_bind(&rep->fsm, r);
		raft_set_pre_vote(r, true); /* as real nodes run */
		if (snapshot_threshold) {
			raft_set_snapshot_threshold(r, snapshot_threshold);
			raft_set_snapshot_trailing(r, 1);
		}
	}
	struct raft_configuration conf;
	assert_int_equal(raft_fixture_configuration(&fx->f, n, &conf), 0);
	assert_int_equal(raft_fixture_bootstrap(&fx->f, &conf), 0);
	raft_configuration_close(&conf);
	assert_int_equal(raft_fixture_start(&fx->f), 0);
	return fx;
}

static void fx_free(struct fx *fx)
{
	raft_fixture_close(&fx->f);
	for (unsigned i = 0; i < fx->n; i++) {
		for (unsigned k = 0; k < fx->r[i].nseen; k++)
			free(fx->r[i].seen[k]);
		cr_fsm_close(&fx->r[i].fsm);
	}
	for (unsigned i = 0; i < fx->nprops; i++) {
		for (unsigned k = 0; k < RECS_MAX; k++)
			cs_result_clear(&fx->props[i]->results[k]);
		free(fx->props[i]);
	}
	free(fx);
}

static struct raft *server(struct fx *fx, unsigned i)
{
	return raft_fixture_get(&fx->f, i);
}

static const cs_state *state_of(struct fx *fx, unsigned i)
{
	return fx->r[i].fsm.state;
}

static void on_proposal(struct raft_apply *req, int status, void *result)
{
	struct proposal *p = req->data;
	p->done = true;
	p->status = status;
	if (status == 0)
		assert_ptr_equal(result, &p->sink);
}

/* Proposes the entry built in e on server i, exactly as a node does. */
static struct proposal *propose(struct fx *fx, unsigned i, struct cr_entry *e,
                                int64_t now_ms)
{
	assert_true(fx->nprops < PROPS_MAX);
	assert_true(e->count <= RECS_MAX);
	struct proposal *p = calloc(1, sizeof(*p));
	fx->props[fx->nprops++] = p;
	p->req.data = p;
	p->batch_id = fx->next_batch_id++;
	p->proposer_id = i + 1;
	p->sink.n = e->count;
	p->sink.results = p->results;
	p->sink.status = p->status_of;
	struct raft_buffer buf;
	cr_entry_finish(e, now_ms, i + 1, p->batch_id, &buf);
	cr_entry_reset(e);
	int rv = raft_apply(server(fx, i), &p->req, &buf, 1, on_proposal);
	if (rv != 0) {
		raft_free(buf.base);
		fail_msg("raft_apply on %u: %s", i, raft_strerror(rv));
	}
	return p;
}

static void dump(struct fx *fx)
{
	for (unsigned i = 0; i < fx->n; i++) {
		struct raft *r = server(fx, i);
		fprintf(stderr,
		        "server %u: alive %d state %d term %llu last %llu "
		        "commit %llu applied %llu\n",
		        i, raft_fixture_alive(&fx->f, i), raft_state(r),
		        r->current_term, raft_last_index(r), r->commit_index,
		        raft_last_applied(r));
	}
}

static void wait_applied(struct fx *fx, unsigned i, raft_index index)
{
	if (!raft_fixture_step_until_applied(&fx->f, i, index, WAIT_MS)) {
		dump(fx);
		fail_msg("server %u did not apply %llu", i,
		         (unsigned long long)index);
	}
}

/* The fixture caches the leader it saw at the last step: step until it
 * notices the old one is gone, then until a new one is stable. */
static unsigned wait_new_leader(struct fx *fx)
{
	assert_true(raft_fixture_step_until_has_no_leader(&fx->f, WAIT_MS));
	assert_true(raft_fixture_step_until_has_leader(&fx->f, WAIT_MS));
	return raft_fixture_leader_index(&fx->f);
}

/* Steps until every live server applied the leader's last entry. */
static void wait_all_caught_up(struct fx *fx, unsigned leader)
{
	raft_index last = raft_last_index(server(fx, leader));
	for (unsigned i = 0; i < fx->n; i++)
		if (raft_fixture_alive(&fx->f, i))
			wait_applied(fx, i, last);
}

static void assert_same_state(struct fx *fx)
{
	uint64_t h0 = cs_state_hash(state_of(fx, 0), 0);
	for (unsigned i = 0; i < fx->n; i++) {
		tl_assert_invariants(state_of(fx, i));
		assert_int_equal(cs_state_hash(state_of(fx, i), 0), h0);
		assert_int_equal(fx->r[i].fsm.nmembers, fx->r[0].fsm.nmembers);
		assert_int_equal(fx->r[i].fsm.clock_ms, fx->r[0].fsm.clock_ms);
	}
}

static void elect(struct fx *fx, unsigned i)
{
	raft_fixture_elect(&fx->f, i);
	assert_int_equal(raft_state(server(fx, i)), RAFT_LEADER);
}

static void cut(struct fx *fx, unsigned i, unsigned j)
{ /* both ways, and saturated: what leader detection treats as cut */
	raft_fixture_saturate(&fx->f, i, j);
	raft_fixture_saturate(&fx->f, j, i);
}

static void heal(struct fx *fx, unsigned i, unsigned j)
{
	raft_fixture_desaturate(&fx->f, i, j);
	raft_fixture_desaturate(&fx->f, j, i);
}

/* ---- transactions -------------------------------------------------------- */

static void add_machine(struct cr_entry *e, const char *id, const char *name,
                        uint64_t cpu)
{
	struct tl_machine m;
	tl_machine_init(&m, name, cpu, 8192);
	cs_txn *t = cs_txn_new(id, "test", CS_INCREMENTAL, CS_FINE);
	cs_txn_machine_put(t, &m.spec);
	assert_int_equal(cr_entry_add_txn(e, t), 0);
	cs_txn_free(t);
}

static void add_job(struct cr_entry *e, const char *id, const char *name,
                    uint32_t ntasks, uint64_t cpu)
{
	struct tl_job j;
	tl_job_init(&j, name, ntasks, cpu, 512);
	cs_txn *t = cs_txn_new(id, "test", CS_INCREMENTAL, CS_FINE);
	cs_txn_job_put(t, &j.spec);
	assert_int_equal(cr_entry_add_txn(e, t), 0);
	cs_txn_free(t);
}

static void add_place(struct cr_entry *e, const char *id, const char *job,
                      uint32_t task, const char *machine)
{
	cs_txn *t = cs_txn_new(id, "sched", CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, job, task, machine, 0);
	assert_int_equal(cr_entry_add_txn(e, t), 0);
	cs_txn_free(t);
}

static void setup_cell(struct fx *fx, unsigned leader, int64_t now)
{
	struct cr_entry e;
	cr_entry_init(&e);
	add_machine(&e, "setup-m1", "m1", 4000);
	add_machine(&e, "setup-m2", "m2", 4000);
	add_job(&e, "setup-j1", "j1", 4, 1500);
	struct proposal *p = propose(fx, leader, &e, now);
	cr_entry_free(&e);
	wait_all_caught_up(fx, leader);
	assert_true(p->done);
	assert_int_equal(p->status, 0);
}

/* ---- tests --------------------------------------------------------------- */

/* One entry of many records, a malformed one in the middle: the rest applies,
 * every replica answers the same verdicts, the proposer gets them. */
static void test_batch_same_verdicts(void **st)
{
	(void)st;
	struct fx *fx = fx_new(3, 0);
	elect(fx, 0);
	struct cr_entry e;
	cr_entry_init(&e);
	add_machine(&e, "t-m1", "m1", 4000);
	add_job(&e, "t-j1", "j1", 3, 1500);
	add_place(&e, "t-p0", "j1", 0, "m1");
	static const uint8_t junk[] = {0xff, 0x01, 0x02, 0x03};
	cr_entry_add_record(&e, CR_REC_TXN, junk, sizeof(junk)); /* record 3 */
	add_place(&e, "t-p1", "j1", 1, "m1");
	add_place(&e, "t-p2", "j1", 2, "m1"); /* 3 x 1500 > 4000 */
	cr_entry_add_member_put(&e, 7, "10.0.0.7:9007", "http://10.0.0.7:8007");
	add_place(&e, "t-p1", "j1", 1, "m1"); /* same id again: duplicate */
	struct proposal *p = propose(fx, 0, &e, 5000);
	cr_entry_free(&e);
	wait_all_caught_up(fx, 0);

	assert_true(p->done);
	assert_int_equal(p->status, 0);
	assert_true(p->sink.applied);
	assert_int_equal(p->sink.index, p->req.index);
	for (unsigned k = 0; k < 8; k++)
		assert_int_equal(p->status_of[k], k == 3 ? CR_EMALFORMED : 0);
	assert_int_equal(p->results[2].ops[0].reason, CS_R_OK);
	assert_int_equal(p->results[4].ops[0].reason, CS_R_OK);
	assert_int_equal(p->results[5].ops[0].reason, CS_R_INSUFFICIENT);
	assert_true(p->results[7].duplicate);
	assert_int_equal(p->results[7].ops[0].reason, CS_R_OK);
	assert_int_equal(p->results[2].index, p->req.index);

	assert_same_state(fx);
	for (unsigned i = 0; i < 3; i++) {
		struct replica *rep = &fx->r[i];
		assert_int_equal(rep->nseen, fx->r[0].nseen);
		assert_int_equal(rep->nseen, 6); /* every txn, not the junk */
		for (unsigned k = 0; k < rep->nseen; k++)
			assert_string_equal(rep->seen[k], fx->r[0].seen[k]);
		assert_int_equal(rep->fsm.malformed, 1);
		assert_int_equal(rep->warnings, 1);
		const struct cr_member_meta *m = cr_fsm_member(&rep->fsm, 7);
		assert_non_null(m);
		assert_string_equal(m->api_address, "http://10.0.0.7:8007");
		/* every replica applied with the leader's batch time */
		assert_int_equal(cs_job_find(state_of(fx, i), "j1")->submit_ms,
		                 5000);
	}
	fx_free(fx);
}

/* A node that missed entries the leader has compacted catches up from a
 * snapshot (InstallSnapshot + restore) to the same state and member table. */
static void test_snapshot_restore(void **st)
{
	(void)st;
	struct fx *fx = fx_new(3, 3);
	elect(fx, 0);
	raft_fixture_kill(&fx->f, 2);
	struct cr_entry e;
	cr_entry_init(&e);
	char id[32], name[32];
	for (unsigned k = 0; k < 12; k++) {
		snprintf(id, sizeof(id), "snap-%u", k);
		snprintf(name, sizeof(name), "m%u", k);
		add_machine(&e, id, name, 1000 + k);
		cr_entry_add_member_put(&e, 100 + k, "10.0.0.1:9000",
		                        "http://api");
		propose(fx, 0, &e, 1000 * (int64_t)(k + 1));
		wait_applied(fx, 0, raft_last_index(server(fx, 0)));
	}
	cr_entry_free(&e);
	wait_applied(fx, 1, raft_last_index(server(fx, 0)));
	assert_true(fx->r[0].fsm.snapshots > 0);
	assert_int_equal(fx->r[2].fsm.restores, 0);

	raft_fixture_revive(&fx->f, 2);
	wait_all_caught_up(fx, 0);
	assert_true(fx->r[2].fsm.restores > 0); /* not replayed from log */
	assert_same_state(fx);
	assert_int_equal(fx->r[2].fsm.nmembers, 12);
	assert_non_null(cs_machine_find(state_of(fx, 2), "m11"));

	/* and the restored replica keeps applying identically */
	setup_cell(fx, 0, 20000);
	assert_same_state(fx);
	fx_free(fx);
}

static bool has_entry(struct raft_fixture *f, void *arg)
{
	raft_index *want = arg;
	return raft_last_index(raft_fixture_get(f, 1)) >= want[0] &&
	       raft_last_index(raft_fixture_get(f, 2)) >= want[0];
}

/* The leader is deposed with a batch replicated but not known committed:
 * its submitter hears LEADERSHIPLOST; the retry by id on the new leader
 * answers the first verdict and changes nothing more. */
static void test_deposed_mid_batch(void **st)
{
	(void)st;
	struct fx *fx = fx_new(3, 0);
	elect(fx, 0);
	setup_cell(fx, 0, 1000);
	struct cr_entry e;
	cr_entry_init(&e);
	add_job(&e, "T1", "ja", 1, 100);
	add_place(&e, "T2", "j1", 0, "m1");
	struct proposal *p = propose(fx, 0, &e, 2000);
	raft_index want = p->req.index;
	assert_true(raft_fixture_step_until(&fx->f, has_entry, &want, WAIT_MS));
	raft_fixture_depose(&fx->f);
	assert_true(p->done);
	assert_int_equal(p->status, RAFT_LEADERSHIPLOST);

	elect(fx, 1);
	add_job(&e, "T1", "ja", 1, 100); /* the client's retry, same id */
	add_place(&e, "T2", "j1", 0, "m1");
	struct proposal *q = propose(fx, 1, &e, 3000);
	cr_entry_free(&e);
	wait_all_caught_up(fx, 1);
	assert_true(q->done);
	assert_int_equal(q->status, 0);
	for (unsigned k = 0; k < 2; k++) {
		assert_true(q->results[k].duplicate);
		assert_int_equal(q->results[k].ops[0].reason, CS_R_OK);
		assert_int_equal(q->results[k].index, want); /* first verdict */
	}
	assert_same_state(fx);
	const struct cs_job *j1 = cs_job_find(state_of(fx, 2), "j1");
	assert_int_equal(j1->count[CS_TASK_ASSIGNED], 1);
	fx_free(fx);
}

/* The leader dies with a batch only it has: the batch is lost (its
 * submitter hears LEADERSHIPLOST once the old leader is back), the retry
 * applies fresh, and the old leader drops its entry and catches up. */
static void test_killed_mid_batch(void **st)
{
	(void)st;
	struct fx *fx = fx_new(3, 0);
	elect(fx, 0);
	setup_cell(fx, 0, 1000);
	cut(fx, 0, 1);
	cut(fx, 0, 2);
	struct cr_entry e;
	cr_entry_init(&e);
	add_machine(&e, "T3", "mx", 2000);
	struct proposal *p = propose(fx, 0, &e, 2000);
	raft_fixture_step_until_elapsed(&fx->f, 50); /* written locally only */
	/* Killing saturates its links (a dead server still receives what an
	 * open link delivers); reviving desaturates them again. */
	raft_fixture_kill(&fx->f, 0);
	unsigned leader = wait_new_leader(fx);
	assert_int_not_equal(leader, 0);
	assert_null(cs_machine_find(state_of(fx, leader), "mx"));

	add_machine(&e, "T3", "mx", 2000); /* the retry */
	struct proposal *q = propose(fx, leader, &e, 3000);
	cr_entry_free(&e);
	wait_applied(fx, 1, q->req.index);
	wait_applied(fx, 2, q->req.index);
	assert_int_equal(q->status, 0);
	assert_false(q->results[0].duplicate); /* the first never committed */
	assert_int_equal(q->results[0].ops[0].reason, CS_R_OK);

	raft_fixture_revive(&fx->f, 0);
	assert_true(raft_fixture_step_until_state_is(&fx->f, 0, RAFT_FOLLOWER,
	                                             WAIT_MS));
	assert_true(p->done);
	assert_int_equal(p->status, RAFT_LEADERSHIPLOST);
	wait_all_caught_up(fx, leader);
	assert_same_state(fx);
	assert_int_equal(fx->r[0].nseen, fx->r[leader].nseen);
	fx_free(fx);
}

/* A leader cut off from the majority accepts a write into its log; it never
 * commits, the majority elects a leader and moves on, and after healing the
 * old leader discards it: everyone agrees. */
static void test_partitioned_minority(void **st)
{
	(void)st;
	struct fx *fx = fx_new(3, 0);
	elect(fx, 0);
	setup_cell(fx, 0, 1000);
	cut(fx, 0, 1);
	cut(fx, 0, 2);
	struct cr_entry e;
	cr_entry_init(&e);
	add_machine(&e, "W", "mw", 1000);
	struct proposal *w = propose(fx, 0, &e, 2000);
	raft_index w_index = w->req.index;
	unsigned leader = wait_new_leader(fx);
	assert_int_not_equal(leader, 0);
	add_machine(&e, "X", "mx", 1000);
	struct proposal *x = propose(fx, leader, &e, 3000);
	cr_entry_free(&e);
	wait_applied(fx, 1, x->req.index);
	wait_applied(fx, 2, x->req.index);
	assert_true(raft_last_applied(server(fx, 0)) < w_index);
	assert_null(cs_machine_find(state_of(fx, 0), "mw"));
	assert_int_not_equal(raft_state(server(fx, 0)), RAFT_LEADER);

	heal(fx, 0, 1);
	heal(fx, 0, 2);
	wait_all_caught_up(fx, leader);
	assert_true(w->done);
	assert_int_equal(w->status, RAFT_LEADERSHIPLOST);
	for (unsigned i = 0; i < 3; i++) {
		assert_null(cs_machine_find(state_of(fx, i), "mw"));
		assert_non_null(cs_machine_find(state_of(fx, i), "mx"));
	}
	assert_same_state(fx);
	fx_free(fx);
}

/* Entry bytes that are not a batch at all: ignored (logged), never an
 * error from apply, so raft keeps applying what follows. */
static void test_garbage_entry_does_not_stall(void **st)
{
	(void)st;
	struct fx *fx = fx_new(3, 0);
	elect(fx, 0);
	struct raft_apply req;
	struct raft_buffer buf = {raft_malloc(5), 5};
	memcpy(buf.base, "hello", 5);
	req.data = NULL;
	assert_int_equal(raft_apply(server(fx, 0), &req, &buf, 1, NULL), 0);
	setup_cell(fx, 0, 1000);
	assert_same_state(fx);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(fx->r[i].fsm.malformed, 1);
		assert_non_null(cs_job_find(state_of(fx, i), "j1"));
	}
	fx_free(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batch_same_verdicts),
	    cmocka_unit_test(test_snapshot_restore),
	    cmocka_unit_test(test_deposed_mid_batch),
	    cmocka_unit_test(test_killed_mid_batch),
	    cmocka_unit_test(test_partitioned_minority),
	    cmocka_unit_test(test_garbage_entry_does_not_stall),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
