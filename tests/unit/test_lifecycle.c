/* test_lifecycle.c: what a user relies on beyond single verdicts: retries,
 * dependencies, lost machines, preemption, all-or-nothing undo, idempotent
 * ids, dry runs, the version numbers that coarse detection compares, and
 * the notes schedulers leave on jobs they cannot place. */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

static cs_state *two_machines(void)
{
	cs_state *s = cs_state_new(NULL);
	struct tl_machine m;
	tl_machine_init(&m, "m1", 4000, 8192);
	tl_put_machine(s, &m);
	tl_machine_init(&m, "m2", 4000, 8192);
	tl_put_machine(s, &m);
	return s;
}

static cs_txn *txn(enum cs_mode mode, enum cs_detect detect)
{
	return cs_txn_new(NULL, "test", mode, detect);
}

static void put_job(cs_state *s, const char *name, uint32_t n, uint64_t cpu,
                    uint32_t retries)
{
	struct tl_job j;
	tl_job_init(&j, name, n, cpu, 64);
	j.spec.max_retries = retries;
	tl_put_job(s, &j);
}

static void test_place_accounts_and_bumps_seq(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	put_job(s, "a", 2, 1500, 0);
	uint64_t seq = tl_seq(s, "m1"), seq2 = tl_seq(s, "m2");
	tl_place(s, "a", 0, "m1");
	const struct cs_machine *m = cs_machine_find(s, "m1");
	assert_true(m->seq > seq);
	assert_int_equal(m->allocated.v[CS_RES_CPU], 1500);
	assert_int_equal(m->allocated.v[CS_RES_MEMORY], 64);
	assert_int_equal(m->ntasks, 1);
	assert_int_equal(tl_task(s, "a", 0)->state, CS_TASK_ASSIGNED);
	assert_int_equal(cs_job_find(s, "a")->state, CS_JOB_RUNNING);
	assert_int_equal(tl_seq(s, "m2"), seq2); /* untouched */
	cs_state_free(s);
}

/* Coarse detection compares with the seq before the transaction, so one
 * scheduler may put several tasks on a machine in one transaction. */
static void test_coarse_many_places_one_machine(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	put_job(s, "a", 3, 1000, 0);
	uint64_t seq = tl_seq(s, "m1");
	cs_txn *t = txn(CS_INCREMENTAL, CS_COARSE);
	for (uint32_t i = 0; i < 3; i++)
		cs_txn_place(t, "a", i, "m1", seq);
	tl_assert_ok(s, t);
	assert_int_equal(cs_machine_find(s, "m1")->ntasks, 3);
	assert_true(tl_seq(s, "m1") > seq);
	cs_state_free(s);
}

/* The Omega race: two schedulers saw the same machine; the second commit
 * conflicts. Coarse rejects on any change, fine only when it no longer fits. */
static void test_two_schedulers_same_machine(void **st)
{
	(void)st;
	for (int det = 0; det < 2; det++) {
		cs_state *s = two_machines();
		put_job(s, "a", 1, 1000, 0);
		put_job(s, "b", 1, 1000, 0);
		put_job(s, "c", 1, 3000, 0);
		uint64_t seen = tl_seq(s, "m1");
		cs_txn *t1 = txn(CS_INCREMENTAL, (enum cs_detect)det);
		cs_txn_place(t1, "a", 0, "m1", seen);
		cs_txn *t2 = txn(CS_INCREMENTAL, (enum cs_detect)det);
		cs_txn_place(t2, "b", 0, "m1", seen);
		cs_txn *t3 = txn(CS_INCREMENTAL, (enum cs_detect)det);
		cs_txn_place(t3, "c", 0, "m1", seen);
		cs_result r1 = tl_apply(s, t1), r2 = tl_apply(s, t2),
		          r3 = tl_apply(s, t3);
		assert_int_equal(r1.ops[0].reason, CS_R_OK);
		if (det == CS_COARSE) {
			assert_int_equal(r2.ops[0].reason, CS_R_SEQ_CHANGED);
			assert_int_equal(r3.ops[0].reason, CS_R_SEQ_CHANGED);
		} else {
			assert_int_equal(r2.ops[0].reason, CS_R_OK);
			assert_int_equal(r3.ops[0].reason, CS_R_INSUFFICIENT);
		}
		cs_result_clear(&r1);
		cs_result_clear(&r2);
		cs_result_clear(&r3);
		cs_state_free(s);
	}
}

static void test_all_or_nothing_undoes_everything(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	put_job(s, "a", 3, 1000, 2);
	tl_place(s, "a", 0, "m1");
	uint64_t before = cs_state_hash(s, CS_HASH_CONTENT);
	cs_txn *t = txn(CS_ALL_OR_NOTHING, CS_FINE);
	struct tl_machine m;
	tl_machine_init(&m, "m3", 1000, 1000);
	tl_machine_label(&m, "zone", "c");
	cs_txn_machine_put(t, &m.spec);                 /* creates a machine */
	cs_txn_place(t, "a", 1, "m3", 0);               /* on the new machine */
	cs_txn_machine_state(t, "m1", CS_MACHINE_DOWN); /* loses a/0 */
	struct tl_job j;
	tl_job_init(&j, "b", 2, 10, 10);
	cs_txn_job_put(t, &j.spec); /* creates a job */
	cs_txn_machine_remove(t, "m2");
	cs_txn_place(t, "a", 2, "m2", 0); /* rejected: m2 is gone */
	cs_result r = tl_apply(s, t);
	assert_false(r.committed);
	assert_int_equal(r.accepted, 0);
	for (uint32_t i = 0; i < 5; i++)
		assert_int_equal(r.ops[i].reason, CS_R_ABORTED);
	assert_int_equal(r.ops[5].reason, CS_R_UNKNOWN_MACHINE);
	assert_int_equal(before, cs_state_hash(s, CS_HASH_CONTENT));
	assert_null(cs_machine_find(s, "m3"));
	assert_non_null(cs_machine_find(s, "m2"));
	assert_null(cs_job_find(s, "b"));
	assert_int_equal(tl_task(s, "a", 0)->state, CS_TASK_ASSIGNED);
	cs_result_clear(&r);
	/* the same ops incremental: all but the last stick */
	t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_machine_put(t, &m.spec);
	cs_txn_place(t, "a", 1, "m3", 0);
	r = tl_apply(s, t);
	assert_int_equal(r.accepted, 2);
	assert_int_equal(tl_task(s, "a", 1)->state, CS_TASK_ASSIGNED);
	cs_result_clear(&r);
	cs_state_free(s);
}

static void test_gang_all_or_nothing(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	struct tl_job j;
	tl_job_init(&j, "g", 3, 1500, 64);
	j.spec.gang = true;
	tl_put_job(s, &j);
	/* 3 x 1500 fits on two 4000 machines only as 2 + 1 */
	cs_txn *t = txn(CS_ALL_OR_NOTHING, CS_FINE);
	cs_txn_place(t, "g", 0, "m1", 0);
	cs_txn_place(t, "g", 1, "m1", 0);
	cs_txn_place(t, "g", 2, "m1", 0); /* does not fit */
	cs_result r = tl_apply(s, t);
	assert_false(r.committed);
	assert_int_equal(r.ops[2].reason, CS_R_INSUFFICIENT);
	assert_int_equal(cs_job_find(s, "g")->count[CS_TASK_PENDING], 3);
	cs_result_clear(&r);
	t = txn(CS_ALL_OR_NOTHING, CS_FINE);
	cs_txn_place(t, "g", 0, "m1", 0);
	cs_txn_place(t, "g", 1, "m1", 0);
	cs_txn_place(t, "g", 2, "m2", 0);
	tl_assert_ok(s, t);
	assert_int_equal(cs_job_find(s, "g")->count[CS_TASK_ASSIGNED], 3);
	cs_state_free(s);
}

static void test_retry_then_fail(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	put_job(s, "a", 2, 1000, 1);
	tl_place(s, "a", 0, "m1");
	tl_place(s, "a", 1, "m2");
	tl_report(s, "a", 0, CS_TASK_RUNNING, 0);
	tl_report(s, "a", 0, CS_TASK_FAILED, 3);
	const struct cs_task *t = tl_task(s, "a", 0);
	assert_int_equal(t->state, CS_TASK_PENDING); /* one retry left */
	assert_int_equal(t->attempt, 1);
	assert_int_equal(t->failures, 1);
	assert_int_equal(t->last_end, CS_END_FAILED);
	assert_int_equal(t->exit_code, 3);
	assert_int_equal(cs_machine_find(s, "m1")->allocated.v[CS_RES_CPU], 0);
	/* a late report for the old attempt is stale */
	cs_txn *x = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_task_state(x, "a", 0, 0, "m1", CS_TASK_SUCCEEDED, 0);
	cs_result r = tl_apply(s, x);
	assert_int_equal(r.ops[0].reason, CS_R_STALE_ATTEMPT);
	cs_result_clear(&r);
	tl_place(s, "a", 0, "m1");
	tl_report(s, "a", 0, CS_TASK_LOST, 0);
	const struct cs_job *job = cs_job_find(s, "a");
	assert_int_equal(job->state, CS_JOB_FAILED);
	assert_int_equal(job->cause, CS_CAUSE_TASK_FAILED);
	assert_int_equal(tl_task(s, "a", 0)->state, CS_TASK_LOST);
	assert_int_equal(tl_task(s, "a", 1)->state, CS_TASK_KILLED);
	assert_int_equal(cs_machine_find(s, "m2")->ntasks, 0);
	cs_state_free(s);
}

static void test_success_and_dependencies(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	put_job(s, "a", 1, 1000, 0);
	put_job(s, "b", 1, 1000, 0);
	struct tl_job j;
	tl_job_init(&j, "c", 1, 10, 10);
	j.deps[0] = "a";
	j.deps[1] = "b";
	j.spec.ndeps = 2;
	tl_put_job(s, &j);
	tl_job_init(&j, "d", 1, 10, 10);
	j.deps[0] = "c";
	j.spec.ndeps = 1;
	tl_put_job(s, &j);
	assert_int_equal(cs_job_find(s, "c")->state, CS_JOB_BLOCKED);
	tl_place(s, "a", 0, "m1");
	tl_report(s, "a", 0, CS_TASK_SUCCEEDED, 0);
	assert_int_equal(cs_job_find(s, "a")->state, CS_JOB_SUCCEEDED);
	assert_int_equal(cs_job_find(s, "c")->state, CS_JOB_BLOCKED);
	assert_int_equal(cs_job_find(s, "c")->deps_waiting, 1);
	tl_place(s, "b", 0, "m1");
	tl_report(s, "b", 0, CS_TASK_SUCCEEDED, 0);
	assert_int_equal(cs_job_find(s, "c")->state, CS_JOB_PENDING);
	/* c fails: d fails with it, transitively */
	tl_place(s, "c", 0, "m2");
	tl_report(s, "c", 0, CS_TASK_FAILED, 1);
	assert_int_equal(cs_job_find(s, "c")->state, CS_JOB_FAILED);
	assert_int_equal(cs_job_find(s, "d")->state, CS_JOB_FAILED);
	assert_int_equal(cs_job_find(s, "d")->cause,
	                 CS_CAUSE_DEPENDENCY_FAILED);
	assert_int_equal(tl_task(s, "d", 0)->state, CS_TASK_KILLED);
	/* a job that succeeded may be removed; its dependents do not mind */
	cs_txn *t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_job_remove(t, "a");
	cs_txn_job_remove(t, "d");
	tl_assert_ok(s, t);
	cs_state_free(s);
}

static void test_kill_cascades_to_blocked(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	put_job(s, "a", 2, 1000, 0);
	struct tl_job j;
	tl_job_init(&j, "b", 1, 10, 10);
	j.deps[0] = "a";
	j.spec.ndeps = 1;
	tl_put_job(s, &j);
	tl_place(s, "a", 0, "m1");
	cs_txn *t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_job_kill(t, "a");
	tl_assert_ok(s, t);
	assert_int_equal(cs_job_find(s, "a")->state, CS_JOB_KILLED);
	assert_int_equal(tl_task(s, "a", 0)->last_end, CS_END_KILLED);
	assert_int_equal(cs_job_find(s, "b")->state, CS_JOB_FAILED);
	assert_int_equal(cs_machine_find(s, "m1")->allocated.v[CS_RES_CPU], 0);
	cs_state_free(s);
}

static void test_machine_down_loses_tasks(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	put_job(s, "a", 2, 1000, 5);
	tl_place(s, "a", 0, "m1");
	tl_place(s, "a", 1, "m1");
	cs_txn *t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_machine_state(t, "m1", CS_MACHINE_DOWN);
	tl_assert_ok(s, t);
	for (uint32_t i = 0; i < 2; i++) {
		const struct cs_task *k = tl_task(s, "a", i);
		assert_int_equal(k->state, CS_TASK_PENDING);
		assert_int_equal(k->attempt, 1);
		assert_int_equal(k->last_end, CS_END_LOST);
	}
	assert_int_equal(cs_machine_find(s, "m1")->ntasks, 0);
	cs_state_free(s);
}

/* A removed and re-added machine never reuses a seq: a scheduler that saw
 * the old machine cannot commit against the new one (no ABA). */
static void test_seq_never_reused(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	put_job(s, "a", 1, 1000, 0);
	uint64_t old = tl_seq(s, "m1");
	cs_txn *t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_machine_remove(t, "m1");
	tl_assert_ok(s, t);
	struct tl_machine m;
	tl_machine_init(&m, "m1", 4000, 8192);
	tl_put_machine(s, &m);
	assert_true(tl_seq(s, "m1") > old);
	t = txn(CS_INCREMENTAL, CS_COARSE);
	cs_txn_place(t, "a", 0, "m1", old);
	cs_result r = tl_apply(s, t);
	assert_int_equal(r.ops[0].reason, CS_R_SEQ_CHANGED);
	cs_result_clear(&r);
	/* a put that changes nothing is no change: the seq stays */
	uint64_t now = tl_seq(s, "m1");
	tl_put_machine(s, &m);
	assert_int_equal(tl_seq(s, "m1"), now);
	cs_state_free(s);
}

static void test_preempt_makes_room_in_one_txn(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	struct tl_job j;
	tl_job_init(&j, "low", 1, 4000, 64);
	j.spec.priority = 10;
	tl_put_job(s, &j);
	tl_job_init(&j, "high", 1, 4000, 64);
	j.spec.priority = 200;
	tl_put_job(s, &j);
	tl_place(s, "low", 0, "m1");
	uint64_t seen = tl_seq(s, "m1");
	cs_txn *t = txn(CS_ALL_OR_NOTHING, CS_COARSE);
	cs_txn_preempt(t, "low", 0, "m1", seen, "high");
	cs_txn_place(t, "high", 0, "m1", seen);
	tl_assert_ok(s, t);
	const struct cs_task *v = tl_task(s, "low", 0);
	assert_int_equal(v->state, CS_TASK_PENDING);
	assert_int_equal(v->last_end, CS_END_PREEMPTED);
	assert_int_equal(v->attempt, 1);
	assert_int_equal(v->failures, 0); /* preemption uses no retry */
	assert_int_equal(tl_task(s, "high", 0)->state, CS_TASK_ASSIGNED);
	cs_state_free(s);
}

static void test_release_returns_task(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	put_job(s, "a", 1, 1000, 0);
	tl_place(s, "a", 0, "m1");
	cs_txn *t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_release(t, "a", 0, NULL);
	tl_assert_ok(s, t);
	const struct cs_task *k = tl_task(s, "a", 0);
	assert_int_equal(k->state, CS_TASK_PENDING);
	assert_int_equal(k->last_end, CS_END_RELEASED);
	assert_int_equal(k->attempt, 1);
	assert_int_equal(cs_job_find(s, "a")->state, CS_JOB_PENDING);
	cs_state_free(s);
}

static void test_duplicate_id_returns_first_verdict(void **st)
{
	(void)st;
	struct cs_config cfg = {.dedup_max = 100, .dedup_ttl_ms = 5000};
	cs_state *s = cs_state_new(&cfg);
	struct tl_machine m;
	tl_machine_init(&m, "m1", 1000, 1000);
	tl_put_machine(s, &m);
	put_job(s, "a", 2, 600, 0);
	cs_txn *t = cs_txn_new("s1-1", "s1", CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, "a", 0, "m1", 0);
	cs_txn_place(t, "a", 1, "m1", 0);
	cs_result first = tl_apply(s, t);
	uint64_t h = cs_state_hash(s, CS_HASH_CONTENT);
	t = cs_txn_new("s1-1", "s1", CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, "a", 0, "m1", 0);
	cs_txn_place(t, "a", 1, "m1", 0);
	cs_result again = tl_apply(s, t);
	assert_true(again.duplicate);
	assert_int_equal(again.index, first.index);
	assert_int_equal(again.nops, 2);
	assert_int_equal(again.ops[0].reason, CS_R_OK);
	assert_int_equal(again.ops[1].reason, CS_R_INSUFFICIENT);
	assert_int_equal(again.accepted, first.accepted);
	assert_int_equal(h, cs_state_hash(s, CS_HASH_CONTENT));
	cs_result_clear(&first);
	cs_result_clear(&again);
	/* past the ttl (entry time), the id is forgotten */
	for (int i = 0; i < 6; i++)
		tl_assert_ok(s,
		             cs_txn_new(NULL, "s1", CS_INCREMENTAL, CS_FINE));
	t = cs_txn_new("s1-1", "s1", CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, "a", 0, "m1", 0);
	cs_result late = tl_apply(s, t);
	assert_false(late.duplicate);
	assert_int_equal(late.ops[0].reason, CS_R_TASK_NOT_PENDING);
	cs_result_clear(&late);
	cs_state_free(s);
}

static void test_dry_run_changes_nothing(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	put_job(s, "a", 2, 3000, 0);
	uint64_t h = cs_state_hash(s, 0);
	cs_txn *t = cs_txn_new("dry-1", "me", CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, "a", 0, "m1", 0);
	cs_txn_place(t, "a", 1, "m1", 0);
	cs_result r;
	cs_dry_run(s, t, &r);
	assert_true(r.committed);
	assert_int_equal(r.ops[0].reason, CS_R_OK);
	assert_int_equal(r.ops[1].reason, CS_R_INSUFFICIENT);
	assert_int_equal(h, cs_state_hash(s, 0)); /* not even the id */
	tl_assert_invariants(s);
	cs_result_clear(&r);
	cs_result real = tl_apply(s, t); /* the id was not remembered */
	assert_false(real.duplicate);
	assert_int_equal(real.accepted, 1);
	cs_result_clear(&real);
	cs_state_free(s);
}

static void test_fit_is_what_apply_checks(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	struct tl_job j;
	tl_job_init(&j, "d", 2, 100, 64);
	j.spec.distinct = true;
	tl_put_job(s, &j);
	const struct cs_job *job = cs_job_find(s, "d");
	assert_int_equal(cs_fit(s, cs_machine_find(s, "m1"), job), CS_R_OK);
	tl_place(s, "d", 0, "m1");
	assert_int_equal(cs_fit(s, cs_machine_find(s, "m1"), job),
	                 CS_R_CONSTRAINT);
	cs_txn *t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, "d", 1, "m1", 0);
	cs_result r = tl_apply(s, t);
	assert_int_equal(r.ops[0].reason, CS_R_CONSTRAINT);
	cs_result_clear(&r);
	cs_state_free(s);
}

static void test_scheduler_registry_sorted(void **st)
{
	(void)st;
	cs_state *s = cs_state_new(NULL);
	cs_txn *t = txn(CS_INCREMENTAL, CS_FINE);
	struct cs_sched_spec a = {"svc-1", "service", "service", 0},
	                     b = {"batch-2", "batch", "batch", 0},
	                     c = {"batch-1", "batch", "batch", 0};
	cs_txn_sched_register(t, &a);
	cs_txn_sched_register(t, &b);
	cs_txn_sched_register(t, &c);
	tl_assert_ok(s, t);
	assert_int_equal(cs_sched_count(s), 3);
	assert_string_equal(cs_sched_at(s, 0)->name, "batch-1");
	assert_string_equal(cs_sched_at(s, 2)->name, "svc-1");
	assert_ptr_equal(cs_sched_find(s, "batch-2"), cs_sched_at(s, 1));
	assert_null(cs_sched_find(s, "batch-3"));
	assert_null(cs_sched_find(s, NULL));
	json_t *j = cs_sched_encode(cs_sched_find(s, "svc-1"));
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"class\":\"service\",\"member\":0,"
	                          "\"name\":\"svc-1\",\"policy\":\"service\"}");
	free(text);
	json_decref(j);
	t = txn(CS_ALL_OR_NOTHING, CS_FINE);
	cs_txn_sched_unregister(t, "batch-2");
	cs_txn_sched_unregister(t, "nobody");
	cs_result r = tl_apply(s, t);
	assert_false(r.committed);
	assert_int_equal(cs_sched_count(s), 3); /* undone */
	cs_result_clear(&r);
	cs_state_free(s);
}

/* Registering a known name again updates its class, policy and standby
 * member (a restarted scheduler may come back with a new replica); the
 * same values again change nothing. */
static void test_scheduler_reregister_updates(void **st)
{
	(void)st;
	cs_state *s = cs_state_new(NULL);
	struct cs_sched_spec sp = {"batch-1", "batch", "batch", 101};
	cs_txn *t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_sched_register(t, &sp);
	tl_assert_ok(s, t);
	assert_int_equal(cs_sched_at(s, 0)->member, 101);
	uint64_t h = cs_state_hash(s, CS_HASH_CONTENT);
	t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_sched_register(t, &sp);
	tl_assert_ok(s, t);
	assert_int_equal(cs_state_hash(s, CS_HASH_CONTENT), h);
	sp.member = 102;
	sp.policy = "gang";
	t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_sched_register(t, &sp);
	tl_assert_ok(s, t);
	assert_int_equal(cs_sched_count(s), 1);
	assert_int_equal(cs_sched_at(s, 0)->member, 102);
	assert_string_equal(cs_sched_at(s, 0)->policy, "gang");
	assert_int_not_equal(cs_state_hash(s, CS_HASH_CONTENT), h);
	cs_state_free(s);
}

static void note(cs_state *s, const char *job, const char *text)
{
	cs_txn *t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_job_note(t, job, text);
	tl_assert_ok(s, t);
}

/* "Why is this job pending" goes stale the moment a task of the job is
 * placed: apply clears the note then, on every replica alike. A note says
 * nothing to the change feed (it is no lifecycle move). */
static void test_place_clears_note(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	cs_state_track_changes(s, true);
	put_job(s, "a", 2, 1000, 0);
	put_job(s, "b", 1, 1000, 0);
	note(s, "a", "no machine has cpu 64000 (largest 4000)");
	note(s, "b", "waiting for capacity");
	assert_string_equal(cs_job_find(s, "a")->note,
	                    "no machine has cpu 64000 (largest 4000)");
	cs_txn *t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_job_note(t, "a", "still no room");
	cs_result r = tl_apply(s, t);
	assert_int_equal(r.nchanges, 0);
	cs_result_clear(&r);
	tl_place(s, "a", 0, "m1");
	assert_null(cs_job_find(s, "a")->note);
	assert_string_equal(cs_job_find(s, "b")->note, "waiting for capacity");
	/* a rejected place leaves it alone */
	note(s, "a", "task 1: no room");
	t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, "a", 1, "m9", 0);
	r = tl_apply(s, t);
	assert_int_equal(r.ops[0].reason, CS_R_UNKNOWN_MACHINE);
	cs_result_clear(&r);
	assert_string_equal(cs_job_find(s, "a")->note, "task 1: no room");
	cs_state_free(s);
}

/* An aborted all_or_nothing transaction, and a dry run, give the note back
 * exactly as it was; an ended job keeps its last note (why it never ran). */
static void test_note_undo_and_end(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	put_job(s, "a", 1, 1000, 0);
	note(s, "a", "first");
	uint64_t h = cs_state_hash(s, CS_HASH_CONTENT);
	cs_txn *t = txn(CS_ALL_OR_NOTHING, CS_FINE);
	cs_txn_job_note(t, "a", "second");
	cs_txn_job_note(t, "a", "third");
	cs_txn_place(t, "a", 0, "m1", 0);
	cs_txn_place(t, "ghost", 0, "m1", 0);
	cs_result r = tl_apply(s, t);
	assert_false(r.committed);
	cs_result_clear(&r);
	assert_string_equal(cs_job_find(s, "a")->note, "first");
	assert_int_equal(cs_state_hash(s, CS_HASH_CONTENT), h);
	t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_job_note(t, "a", "");
	cs_dry_run(s, t, &r);
	assert_int_equal(r.ops[0].reason, CS_R_OK);
	cs_result_clear(&r);
	cs_txn_free(t);
	assert_string_equal(cs_job_find(s, "a")->note, "first");
	t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_job_kill(t, "a");
	tl_assert_ok(s, t);
	assert_string_equal(cs_job_find(s, "a")->note, "first");
	t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_job_note(t, "a", "later");
	r = tl_apply(s, t);
	assert_int_equal(r.ops[0].reason, CS_R_JOB_FINISHED);
	cs_result_clear(&r);
	assert_string_equal(cs_job_find(s, "a")->note, "first");
	cs_state_free(s);
}

/* A machine created and then described again in one all_or_nothing
 * transaction: undo frees both generations of its pool and labels, each
 * once, and a commit keeps the second. */
static void test_machine_created_then_changed(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	uint64_t h = cs_state_hash(s, CS_HASH_CONTENT);
	struct tl_machine first, second;
	tl_machine_init(&first, "m3", 1000, 1000);
	tl_machine_label(&first, "zone", "a");
	tl_machine_init(&second, "m3", 2000, 1000);
	second.spec.pool = "gpu";
	tl_machine_label(&second, "zone", "b");
	for (int commit = 0; commit < 2; commit++) {
		cs_txn *t = txn(CS_ALL_OR_NOTHING, CS_FINE);
		cs_txn_machine_put(t, &first.spec);
		cs_txn_machine_put(t, &second.spec);
		if (!commit)
			cs_txn_place(t, "ghost", 0, "m3", 0);
		cs_result r = tl_apply(s, t);
		assert_int_equal(r.committed, commit);
		cs_result_clear(&r);
	}
	assert_int_not_equal(cs_state_hash(s, CS_HASH_CONTENT), h);
	const struct cs_machine *m = cs_machine_find(s, "m3");
	assert_string_equal(m->pool, "gpu");
	assert_int_equal(m->nlabels, 1);
	assert_string_equal(m->labels[0].value, "b");
	assert_int_equal(m->capacity.v[CS_RES_CPU], 2000);
	cs_state_free(s);
}

#define AGENT_A "http://127.0.0.1:7301"
#define AGENT_B "https://agent-7.example:7301/cell"

static void put_agent(cs_state *s, const char *machine, const char *agent)
{
	struct tl_machine m;
	tl_machine_init(&m, machine, 4000, 8192);
	m.spec.agent = (char *)agent;
	tl_put_machine(s, &m);
}

static void agent_is(const cs_state *s, const char *machine, const char *want)
{
	const char *got = cs_machine_find(s, machine)->agent;
	if (want)
		assert_string_equal(got, want);
	else
		assert_null(got);
}

/* A machine's agent URL is part of its description: a put sets, replaces
 * or (left out) clears it, bumping the machine's seq only when it changes;
 * an aborted all_or_nothing transaction or a dry run gives every old URL
 * back, even for a machine the transaction created and then changed. */
static void test_machine_agent_put_and_undo(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	agent_is(s, "m1", NULL);
	put_agent(s, "m1", AGENT_A);
	agent_is(s, "m1", AGENT_A);
	uint64_t seq = tl_seq(s, "m1");
	put_agent(s, "m1", AGENT_A); /* the same again: nothing changes */
	assert_int_equal(tl_seq(s, "m1"), seq);
	uint64_t h = cs_state_hash(s, CS_HASH_CONTENT);
	uint64_t seq2 = tl_seq(s, "m2");

	struct tl_machine m1, m2, m3, m3b;
	tl_machine_init(&m1, "m1", 4000, 8192);
	m1.spec.agent = AGENT_B; /* replaced */
	tl_machine_init(&m2, "m2", 4000, 8192);
	m2.spec.agent = AGENT_A; /* set where there was none */
	tl_machine_init(&m3, "m3", 1000, 1000);
	m3.spec.agent = AGENT_A; /* created with one ... */
	tl_machine_init(&m3b, "m3", 1000, 1000);
	m3b.spec.agent = AGENT_B; /* ... then changed in the same txn */
	cs_txn *t = txn(CS_ALL_OR_NOTHING, CS_FINE);
	cs_txn_machine_put(t, &m1.spec);
	cs_txn_machine_put(t, &m2.spec);
	cs_txn_machine_put(t, &m3.spec);
	cs_txn_machine_put(t, &m3b.spec);
	cs_txn_place(t, "ghost", 0, "m1", 0); /* rejected: aborts them all */
	cs_result r = tl_apply(s, t);
	assert_false(r.committed);
	assert_int_equal(r.ops[0].reason, CS_R_ABORTED);
	assert_int_equal(r.ops[4].reason, CS_R_UNKNOWN_JOB);
	cs_result_clear(&r);
	agent_is(s, "m1", AGENT_A);
	agent_is(s, "m2", NULL);
	assert_null(cs_machine_find(s, "m3"));
	assert_int_equal(tl_seq(s, "m1"), seq);
	assert_int_equal(tl_seq(s, "m2"), seq2);
	assert_int_equal(cs_state_hash(s, CS_HASH_CONTENT), h);

	/* a dry run of the same puts changes nothing either */
	t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_machine_put(t, &m1.spec);
	cs_txn_machine_put(t, &m3.spec);
	cs_txn_machine_put(t, &m3b.spec);
	cs_dry_run(s, t, &r);
	assert_int_equal(r.accepted, 3);
	cs_result_clear(&r);
	cs_txn_free(t);
	agent_is(s, "m1", AGENT_A);
	assert_null(cs_machine_find(s, "m3"));
	assert_int_equal(cs_state_hash(s, CS_HASH_CONTENT), h);

	/* committed: replaced, then cleared by a put that leaves it out */
	t = txn(CS_ALL_OR_NOTHING, CS_FINE);
	cs_txn_machine_put(t, &m1.spec);
	cs_txn_machine_put(t, &m3.spec);
	cs_txn_machine_put(t, &m3b.spec);
	tl_assert_ok(s, t);
	agent_is(s, "m1", AGENT_B);
	agent_is(s, "m3", AGENT_B);
	assert_true(tl_seq(s, "m1") > seq);
	assert_int_not_equal(cs_state_hash(s, CS_HASH_CONTENT), h);
	put_agent(s, "m1", NULL);
	agent_is(s, "m1", NULL);
	cs_state_free(s);
}

static const struct cs_change *change(const cs_result *r, uint32_t i)
{
	assert_true(i < r->nchanges);
	return &r->changes[i];
}

/* The feed lists consequences no op names: an agent learns from it alone
 * what to start and what to kill. */
static void test_change_feed(void **st)
{
	(void)st;
	cs_state *s = two_machines();
	cs_state_track_changes(s, true);
	put_job(s, "a", 2, 1000, 1);
	cs_txn *t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, "a", 0, "m1", 0);
	cs_txn_place(t, "a", 1, "m1", 0);
	cs_result r = tl_apply(s, t);
	/* in order: a/0 placed, the job running, a/1 placed */
	assert_int_equal(r.nchanges, 3);
	assert_int_equal(change(&r, 0)->kind, CS_CHANGE_TASK);
	assert_int_equal(change(&r, 0)->state, CS_TASK_ASSIGNED);
	assert_string_equal(change(&r, 0)->machine, "m1");
	assert_int_equal(change(&r, 1)->kind, CS_CHANGE_JOB);
	assert_int_equal(change(&r, 1)->state, CS_JOB_RUNNING);
	assert_int_equal(change(&r, 2)->task, 1);
	cs_result_clear(&r);

	t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_machine_state(t, "m1", CS_MACHINE_DOWN);
	r = tl_apply(s, t);
	assert_int_equal(change(&r, 0)->kind, CS_CHANGE_MACHINE);
	assert_int_equal(change(&r, 0)->state, CS_MACHINE_DOWN);
	for (uint32_t i = 1; i <= 2; i++) {
		const struct cs_change *c = change(&r, i);
		assert_int_equal(c->kind, CS_CHANGE_TASK);
		assert_int_equal(c->state, CS_TASK_PENDING); /* retried */
		assert_int_equal(c->end, CS_END_LOST);
		assert_int_equal(c->attempt, 1);
		assert_string_equal(c->machine, "m1"); /* the one it left */
	}
	cs_result_clear(&r);

	/* aborted and dry-run transactions tell nothing */
	t = txn(CS_ALL_OR_NOTHING, CS_FINE);
	cs_txn_place(t, "a", 0, "m2", 0);
	cs_txn_place(t, "a", 1, "m1", 0); /* m1 is down */
	r = tl_apply(s, t);
	assert_false(r.committed);
	assert_int_equal(r.nchanges, 0);
	cs_result_clear(&r);
	t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, "a", 0, "m2", 0);
	cs_dry_run(s, t, &r);
	assert_int_equal(r.nchanges, 0);
	cs_result_clear(&r);
	cs_txn_free(t);

	/* a task out of retries fails the job: its sibling is killed where
	 * it runs, and the job's end and removal are listed */
	tl_place(s, "a", 0, "m2");
	tl_place(s, "a", 1, "m2");
	t = txn(CS_INCREMENTAL, CS_FINE);
	cs_txn_task_state(t, "a", 0, 1, "m2", CS_TASK_FAILED, 2);
	cs_txn_job_remove(t, "a");
	r = tl_apply(s, t);
	assert_int_equal(change(&r, 0)->state, CS_TASK_FAILED);
	assert_int_equal(change(&r, 0)->exit_code, 2);
	assert_int_equal(change(&r, 1)->kind, CS_CHANGE_JOB);
	assert_int_equal(change(&r, 1)->state, CS_JOB_FAILED);
	assert_int_equal(change(&r, 2)->state, CS_TASK_KILLED);
	assert_int_equal(change(&r, 2)->task, 1);
	assert_string_equal(change(&r, 2)->machine, "m2");
	assert_int_equal(change(&r, r.nchanges - 1)->kind,
	                 CS_CHANGE_JOB_REMOVED);
	json_t *line = cs_change_encode(change(&r, 2), 77);
	char *text = json_dumps(line, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"attempt\":1,\"end\":\"killed\","
	                          "\"exit_code\":0,\"index\":77,\"job\":\"a\","
	                          "\"kind\":\"task\",\"machine\":\"m2\","
	                          "\"state\":\"killed\",\"task\":1}");
	free(text);
	json_decref(line);
	/* the watch formats lines as text: the same bytes jansson writes */
	for (uint32_t i = 0; i < r.nchanges; i++) {
		char buf[CS_CHANGE_TEXT_MAX], small[24];
		line = cs_change_encode(change(&r, i), 1ull << 40);
		text = json_dumps(line, JSON_COMPACT);
		size_t n = cs_change_format(change(&r, i), 1ull << 40, buf,
		                            sizeof(buf));
		assert_int_equal(n, strlen(text));
		assert_string_equal(buf, text);
		/* too small: cut short, NUL-terminated, the full length told */
		assert_int_equal(cs_change_format(change(&r, i), 1ull << 40,
		                                  small, sizeof(small)),
		                 n);
		assert_true(strlen(small) < sizeof(small));
		assert_memory_equal(small, text, strlen(small));
		free(text);
		json_decref(line);
	}
	struct cs_change odd = {.kind = CS_CHANGE_MACHINE,
	                        .state = CS_MACHINE_DOWN};
	strcpy(odd.machine, "q\"b\\s\n\x01");
	line = cs_change_encode(&odd, 3);
	text = json_dumps(line, JSON_COMPACT);
	char buf[CS_CHANGE_TEXT_MAX];
	cs_change_format(&odd, 3, buf, sizeof(buf));
	assert_string_equal(buf, text);
	free(text);
	json_decref(line);
	cs_result_clear(&r);
	cs_state_free(s);
}

static void test_task_lifecycle_table(void **st)
{
	(void)st;
	assert_true(
	    cs_task_transition_allowed(CS_TASK_PENDING, CS_TASK_ASSIGNED));
	assert_false(
	    cs_task_transition_allowed(CS_TASK_PENDING, CS_TASK_RUNNING));
	assert_false(
	    cs_task_transition_allowed(CS_TASK_SUCCEEDED, CS_TASK_PENDING));
	assert_false(
	    cs_task_transition_allowed(CS_TASK_KILLED, CS_TASK_PENDING));
	assert_true(cs_task_transition_allowed(CS_TASK_LOST, CS_TASK_PENDING));
	assert_false(cs_task_transition_allowed(CS_TASK_PENDING,
	                                        (enum cs_task_state)42));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_place_accounts_and_bumps_seq),
	    cmocka_unit_test(test_coarse_many_places_one_machine),
	    cmocka_unit_test(test_two_schedulers_same_machine),
	    cmocka_unit_test(test_all_or_nothing_undoes_everything),
	    cmocka_unit_test(test_gang_all_or_nothing),
	    cmocka_unit_test(test_retry_then_fail),
	    cmocka_unit_test(test_success_and_dependencies),
	    cmocka_unit_test(test_kill_cascades_to_blocked),
	    cmocka_unit_test(test_machine_down_loses_tasks),
	    cmocka_unit_test(test_seq_never_reused),
	    cmocka_unit_test(test_preempt_makes_room_in_one_txn),
	    cmocka_unit_test(test_release_returns_task),
	    cmocka_unit_test(test_duplicate_id_returns_first_verdict),
	    cmocka_unit_test(test_dry_run_changes_nothing),
	    cmocka_unit_test(test_fit_is_what_apply_checks),
	    cmocka_unit_test(test_scheduler_registry_sorted),
	    cmocka_unit_test(test_scheduler_reregister_updates),
	    cmocka_unit_test(test_place_clears_note),
	    cmocka_unit_test(test_note_undo_and_end),
	    cmocka_unit_test(test_machine_created_then_changed),
	    cmocka_unit_test(test_machine_agent_put_and_undo),
	    cmocka_unit_test(test_change_feed),
	    cmocka_unit_test(test_task_lifecycle_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
