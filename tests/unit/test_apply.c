/* test_apply.c: every op and every reason code, in both detection modes
 * (fine, coarse) and both commit modes (incremental, all_or_nothing). */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the fixture ------------------------------------------------------
 * machines: m1, m2 (4000 cpu, 8192 MiB, zone a/b), m3 draining, m4 down
 * jobs:     web  (4 x 1000 cpu, prio 100)  web/0 assigned on m1
 *           batch (2 x 500 cpu, prio 10)   batch/0 running on m1
 *           hi (prio 500), zoned (needs zone=b), big (100000 cpu),
 *           gang (3 tasks, gang), after (depends on web: blocked),
 *           dead (killed)
 * notes:    hi has one ("no room in zone b")
 */
static cs_state *fixture(void)
{
	cs_state *s = cs_state_new(NULL);
	struct tl_machine m;
	const char *names[] = {"m1", "m2", "m3", "m4"};
	const char *zones[] = {"a", "b", "a", "b"};
	for (int i = 0; i < 4; i++) {
		tl_machine_init(&m, names[i], 4000, 8192);
		tl_machine_label(&m, "zone", zones[i]);
		m.spec.state = i == 2   ? CS_MACHINE_DRAINING
		               : i == 3 ? CS_MACHINE_DOWN
		                        : -1;
		tl_put_machine(s, &m);
	}
	struct tl_job j;
	tl_job_init(&j, "web", 4, 1000, 1024);
	j.spec.priority = 100;
	tl_put_job(s, &j);
	tl_job_init(&j, "batch", 2, 500, 512);
	j.spec.priority = 10;
	tl_put_job(s, &j);
	tl_job_init(&j, "hi", 1, 100, 100);
	j.spec.priority = 500;
	tl_put_job(s, &j);
	tl_job_init(&j, "zoned", 1, 100, 100);
	j.labels[0] = (struct cs_label){"zone", "b"};
	j.spec.nlabels = 1;
	tl_put_job(s, &j);
	tl_job_init(&j, "big", 1, 100000, 100);
	tl_put_job(s, &j);
	tl_job_init(&j, "gang", 3, 100, 100);
	j.spec.gang = true;
	tl_put_job(s, &j);
	tl_job_init(&j, "after", 1, 100, 100);
	j.deps[0] = "web";
	j.spec.ndeps = 1;
	tl_put_job(s, &j);
	tl_job_init(&j, "dead", 1, 100, 100);
	tl_put_job(s, &j);
	cs_txn *t = cs_txn_new(NULL, "test", CS_INCREMENTAL, CS_FINE);
	cs_txn_job_kill(t, "dead");
	cs_txn_job_note(t, "hi", "no room in zone b");
	tl_assert_ok(s, t);
	tl_place(s, "web", 0, "m1");
	tl_place(s, "batch", 0, "m1");
	tl_report(s, "batch", 0, CS_TASK_RUNNING, 0);
	return s;
}

/* ---- the reason matrix ------------------------------------------------- */

struct rcase {
	const char *name;
	void (*build)(cs_txn *t, const cs_state *s);
	enum cs_reason fine, coarse;
};

#define SEQ(m) tl_seq(s, m)

static struct cs_op *cur_seq(struct cs_op *op, const cs_state *s, const char *m)
{
	cs_op_expect_seq(op, SEQ(m));
	return op;
}

static void place_ok(cs_txn *t, const cs_state *s)
{
	cs_txn_place(t, "web", 1, "m1", SEQ("m1"));
}
static void place_stale(cs_txn *t, const cs_state *s)
{
	cs_txn_place(t, "web", 1, "m1", SEQ("m1") - 1);
}
static void place_nojob(cs_txn *t, const cs_state *s)
{
	cs_txn_place(t, "nojob", 0, "m1", SEQ("m1"));
}
static void place_notask(cs_txn *t, const cs_state *s)
{
	cs_txn_place(t, "web", 99, "m1", SEQ("m1"));
}
static void place_nomachine(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_place(t, "web", 1, "m9", 1);
}
static void place_twice(cs_txn *t, const cs_state *s)
{
	cs_txn_place(t, "web", 0, "m2", SEQ("m2"));
}
static void place_down(cs_txn *t, const cs_state *s)
{
	cs_txn_place(t, "web", 1, "m4", SEQ("m4"));
}
static void place_draining(cs_txn *t, const cs_state *s)
{
	cs_txn_place(t, "web", 1, "m3", SEQ("m3"));
}
static void place_constraint(cs_txn *t, const cs_state *s)
{
	cs_txn_place(t, "zoned", 0, "m1", SEQ("m1"));
}
static void place_big(cs_txn *t, const cs_state *s)
{
	cs_txn_place(t, "big", 0, "m2", SEQ("m2"));
}
static void place_blocked(cs_txn *t, const cs_state *s)
{
	cs_txn_place(t, "after", 0, "m2", SEQ("m2"));
}
static void place_finished(cs_txn *t, const cs_state *s)
{
	cs_txn_place(t, "dead", 0, "m2", SEQ("m2"));
}
static void place_gang_part(cs_txn *t, const cs_state *s)
{
	cs_txn_place(t, "gang", 0, "m2", SEQ("m2"));
}
static void preempt_ok(cs_txn *t, const cs_state *s)
{
	cs_txn_preempt(t, "batch", 0, "m1", SEQ("m1"), "hi");
}
static void preempt_stale(cs_txn *t, const cs_state *s)
{
	cs_txn_preempt(t, "batch", 0, "m1", SEQ("m1") + 7, "hi");
}
static void preempt_prio(cs_txn *t, const cs_state *s)
{
	cs_txn_preempt(t, "web", 0, "m1", SEQ("m1"), "batch");
}
static void preempt_equal(cs_txn *t, const cs_state *s)
{
	cs_txn_preempt(t, "web", 0, "m1", SEQ("m1"), "web");
}
static void preempt_wrong(cs_txn *t, const cs_state *s)
{
	cs_txn_preempt(t, "batch", 0, "m2", SEQ("m2"), "hi");
}
static void preempt_pending(cs_txn *t, const cs_state *s)
{
	cs_txn_preempt(t, "web", 1, "m1", SEQ("m1"), "hi");
}
static void preempt_noby(cs_txn *t, const cs_state *s)
{
	cs_txn_preempt(t, "batch", 0, "m1", SEQ("m1"), "nojob");
}
static void release_ok(cs_txn *t, const cs_state *s)
{
	cur_seq(cs_txn_release(t, "web", 0, "m1"), s, "m1");
}
static void release_stale(cs_txn *t, const cs_state *s)
{
	cs_op_expect_seq(cs_txn_release(t, "web", 0, "m1"), SEQ("m1") - 1);
}
static void release_anywhere(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_release(t, "web", 0, NULL);
}
static void release_pending(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_release(t, "web", 1, NULL);
}
static void release_wrong(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_release(t, "web", 0, "m2");
}
static void report_running(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_task_state(t, "web", 0, 0, "m1", CS_TASK_RUNNING, 0);
}
static void report_stale(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_task_state(t, "web", 0, 1, "m1", CS_TASK_SUCCEEDED, 0);
}
static void report_wrong(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_task_state(t, "web", 0, 0, "m2", CS_TASK_SUCCEEDED, 0);
}
static void report_pending(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_task_state(t, "web", 1, 0, "m1", CS_TASK_RUNNING, 0);
}
static void report_nomachine(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_task_state(t, "web", 0, 0, "m9", CS_TASK_RUNNING, 0);
}
static void mput_new(cs_txn *t, const cs_state *s)
{
	(void)s;
	struct tl_machine m;
	tl_machine_init(&m, "m9", 1000, 1000);
	cs_txn_machine_put(t, &m.spec);
}
static void mput_below(cs_txn *t, const cs_state *s)
{
	(void)s;
	struct tl_machine m;
	tl_machine_init(&m, "m1", 1000, 8192); /* 1500 cpu allocated */
	cs_txn_machine_put(t, &m.spec);
}
static void mput_stale(cs_txn *t, const cs_state *s)
{
	struct tl_machine m;
	tl_machine_init(&m, "m2", 8000, 8192);
	cs_op_expect_seq(cs_txn_machine_put(t, &m.spec), SEQ("m2") - 1);
}
static void mput_toomany(cs_txn *t, const cs_state *s)
{
	(void)s;
	static const char *ext[] = {"gpu", "fpga", "tpu", "ssd", "nic", "x1"};
	struct tl_machine m;
	tl_machine_init(&m, "m9", 1000, 1000);
	for (int i = 0; i < 6; i++)
		m.cap[2 + i] = (struct cs_amount){(char *)ext[i], 1};
	m.spec.ncapacity = 8;
	cs_txn_machine_put(t, &m.spec);
}
static void mstate_down(cs_txn *t, const cs_state *s)
{
	cur_seq(cs_txn_machine_state(t, "m1", CS_MACHINE_DOWN), s, "m1");
}
static void mstate_stale(cs_txn *t, const cs_state *s)
{
	cs_op_expect_seq(cs_txn_machine_state(t, "m2", CS_MACHINE_DRAINING),
	                 SEQ("m2") + 1);
}
static void mstate_nomachine(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_machine_state(t, "m9", CS_MACHINE_DOWN);
}
static void mremove_ok(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_machine_remove(t, "m1");
}
static void mremove_nomachine(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_machine_remove(t, "m9");
}
static void jput_ok(cs_txn *t, const cs_state *s)
{
	(void)s;
	struct tl_job j;
	tl_job_init(&j, "new", 2, 10, 10);
	cs_txn_job_put(t, &j.spec);
}
static void jput_exists(cs_txn *t, const cs_state *s)
{
	(void)s;
	struct tl_job j;
	tl_job_init(&j, "web", 2, 10, 10);
	cs_txn_job_put(t, &j.spec);
}
static void jput_nodep(cs_txn *t, const cs_state *s)
{
	(void)s;
	struct tl_job j;
	tl_job_init(&j, "new", 2, 10, 10);
	j.deps[0] = "nojob";
	j.spec.ndeps = 1;
	cs_txn_job_put(t, &j.spec);
}
static void jput_depfailed(cs_txn *t, const cs_state *s)
{
	(void)s;
	struct tl_job j;
	tl_job_init(&j, "new", 2, 10, 10);
	j.deps[0] = "dead";
	j.spec.ndeps = 1;
	cs_txn_job_put(t, &j.spec);
}
static void jput_toomany(cs_txn *t, const cs_state *s)
{
	(void)s;
	static const char *ext[] = {"gpu", "fpga", "tpu", "ssd", "nic", "x1"};
	struct tl_job j;
	tl_job_init(&j, "new", 2, 10, 10);
	for (int i = 0; i < 6; i++)
		j.req[2 + i] = (struct cs_amount){(char *)ext[i], 1};
	j.spec.nrequest = 8;
	cs_txn_job_put(t, &j.spec);
}
static void jkill_ok(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_job_kill(t, "web");
}
static void jkill_finished(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_job_kill(t, "dead");
}
static void jkill_nojob(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_job_kill(t, "nojob");
}
static void jremove_ok(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_job_remove(t, "dead");
}
static void jremove_active(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_job_remove(t, "web");
}
static void sreg_ok(cs_txn *t, const cs_state *s)
{
	(void)s;
	struct cs_sched_spec sp = {"batch-1", "batch", "batch", 0};
	cs_txn_sched_register(t, &sp);
}
static void sunreg_unknown(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_sched_unregister(t, "nosched");
}
static void note_ok(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_job_note(t, "web", "no machine has cpu 1000 free (largest 0)");
}
static void note_blocked(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_job_note(t, "after", "waits for web");
}
static void note_clear(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_job_note(t, "hi", "");
}
static void note_nojob(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_job_note(t, "nojob", "why");
}
static void note_ended(cs_txn *t, const cs_state *s)
{
	(void)s;
	cs_txn_job_note(t, "dead", "why");
}

#define OK CS_R_OK
static const struct rcase cases[] = {
    {"place", place_ok, OK, OK},
    {"place stale seq", place_stale, OK, CS_R_SEQ_CHANGED},
    {"place unknown job", place_nojob, CS_R_UNKNOWN_JOB, CS_R_UNKNOWN_JOB},
    {"place unknown task", place_notask, CS_R_UNKNOWN_TASK, CS_R_UNKNOWN_TASK},
    {"place unknown machine", place_nomachine, CS_R_UNKNOWN_MACHINE,
     CS_R_UNKNOWN_MACHINE},
    {"place assigned task", place_twice, CS_R_TASK_NOT_PENDING,
     CS_R_TASK_NOT_PENDING},
    {"place on down", place_down, CS_R_MACHINE_DOWN, CS_R_MACHINE_DOWN},
    {"place on draining", place_draining, CS_R_MACHINE_DRAINING,
     CS_R_MACHINE_DRAINING},
    {"place against labels", place_constraint, CS_R_CONSTRAINT,
     CS_R_CONSTRAINT},
    {"place too big", place_big, CS_R_INSUFFICIENT, CS_R_INSUFFICIENT},
    {"place blocked job", place_blocked, CS_R_JOB_BLOCKED, CS_R_JOB_BLOCKED},
    {"place killed job", place_finished, CS_R_JOB_FINISHED, CS_R_JOB_FINISHED},
    {"place part of a gang", place_gang_part, CS_R_GANG_PARTIAL,
     CS_R_GANG_PARTIAL},
    {"preempt lower", preempt_ok, OK, OK},
    {"preempt stale seq", preempt_stale, OK, CS_R_SEQ_CHANGED},
    {"preempt higher", preempt_prio, CS_R_PRIORITY, CS_R_PRIORITY},
    {"preempt equal", preempt_equal, CS_R_PRIORITY, CS_R_PRIORITY},
    {"preempt wrong machine", preempt_wrong, CS_R_WRONG_MACHINE,
     CS_R_WRONG_MACHINE},
    {"preempt pending", preempt_pending, CS_R_TASK_NOT_ACTIVE,
     CS_R_TASK_NOT_ACTIVE},
    {"preempt for unknown", preempt_noby, CS_R_UNKNOWN_JOB, CS_R_UNKNOWN_JOB},
    {"release", release_ok, OK, OK},
    {"release stale seq", release_stale, OK, CS_R_SEQ_CHANGED},
    {"release anywhere", release_anywhere, OK, OK},
    {"release pending", release_pending, CS_R_TASK_NOT_ACTIVE,
     CS_R_TASK_NOT_ACTIVE},
    {"release wrong machine", release_wrong, CS_R_WRONG_MACHINE,
     CS_R_WRONG_MACHINE},
    {"report running", report_running, OK, OK},
    {"report old attempt", report_stale, CS_R_STALE_ATTEMPT,
     CS_R_STALE_ATTEMPT},
    {"report wrong machine", report_wrong, CS_R_WRONG_MACHINE,
     CS_R_WRONG_MACHINE},
    {"report pending", report_pending, CS_R_TASK_NOT_ACTIVE,
     CS_R_TASK_NOT_ACTIVE},
    {"report unknown machine", report_nomachine, CS_R_UNKNOWN_MACHINE,
     CS_R_UNKNOWN_MACHINE},
    {"machine_put new", mput_new, OK, OK},
    {"machine_put below allocated", mput_below, CS_R_BELOW_ALLOCATED,
     CS_R_BELOW_ALLOCATED},
    {"machine_put stale seq", mput_stale, OK, CS_R_SEQ_CHANGED},
    {"machine_put 9 resource kinds", mput_toomany, CS_R_RESOURCE_LIMIT,
     CS_R_RESOURCE_LIMIT},
    {"machine_state down", mstate_down, OK, OK},
    {"machine_state stale seq", mstate_stale, OK, CS_R_SEQ_CHANGED},
    {"machine_state unknown", mstate_nomachine, CS_R_UNKNOWN_MACHINE,
     CS_R_UNKNOWN_MACHINE},
    {"machine_remove", mremove_ok, OK, OK},
    {"machine_remove unknown", mremove_nomachine, CS_R_UNKNOWN_MACHINE,
     CS_R_UNKNOWN_MACHINE},
    {"job_put", jput_ok, OK, OK},
    {"job_put existing", jput_exists, CS_R_EXISTS, CS_R_EXISTS},
    {"job_put unknown dependency", jput_nodep, CS_R_UNKNOWN_JOB,
     CS_R_UNKNOWN_JOB},
    {"job_put failed dependency", jput_depfailed, CS_R_DEPENDENCY_FAILED,
     CS_R_DEPENDENCY_FAILED},
    {"job_put 9 resource kinds", jput_toomany, CS_R_RESOURCE_LIMIT,
     CS_R_RESOURCE_LIMIT},
    {"job_kill", jkill_ok, OK, OK},
    {"job_kill ended", jkill_finished, CS_R_JOB_FINISHED, CS_R_JOB_FINISHED},
    {"job_kill unknown", jkill_nojob, CS_R_UNKNOWN_JOB, CS_R_UNKNOWN_JOB},
    {"job_remove ended", jremove_ok, OK, OK},
    {"job_remove running", jremove_active, CS_R_JOB_ACTIVE, CS_R_JOB_ACTIVE},
    {"sched_register", sreg_ok, OK, OK},
    {"sched_unregister unknown", sunreg_unknown, CS_R_UNKNOWN_SCHEDULER,
     CS_R_UNKNOWN_SCHEDULER},
    {"job_note", note_ok, OK, OK},
    {"job_note blocked job", note_blocked, OK, OK},
    {"job_note clear", note_clear, OK, OK},
    {"job_note unknown job", note_nojob, CS_R_UNKNOWN_JOB, CS_R_UNKNOWN_JOB},
    {"job_note ended job", note_ended, CS_R_JOB_FINISHED, CS_R_JOB_FINISHED},
};

static void run_case(const struct rcase *c, enum cs_mode mode,
                     enum cs_detect detect)
{
	cs_state *s = fixture();
	uint64_t before = cs_state_hash(s, CS_HASH_CONTENT);
	cs_txn *t = cs_txn_new(NULL, "test", mode, detect);
	c->build(t, s);
	cs_result r = tl_apply(s, t);
	enum cs_reason want = detect == CS_COARSE ? c->coarse : c->fine;
	if (r.ops[0].reason != want)
		fail_msg("%s (%s, %s): got %s (%s), want %s", c->name,
		         cs_mode_name(mode), cs_detect_name(detect),
		         cs_reason_name(r.ops[0].reason),
		         r.ops[0].detail ? r.ops[0].detail : "-",
		         cs_reason_name(want));
	if (want == CS_R_OK) {
		assert_true(r.committed);
		assert_int_equal(r.accepted, 1);
		assert_int_not_equal(before, cs_state_hash(s, CS_HASH_CONTENT));
	} else {
		/* a rejection names what was wrong and changes nothing */
		assert_non_null(r.ops[0].detail);
		assert_int_equal(r.accepted, 0);
		assert_int_equal(r.committed, mode == CS_INCREMENTAL);
		assert_int_equal(before, cs_state_hash(s, CS_HASH_CONTENT));
	}
	cs_result_clear(&r);
	cs_state_free(s);
}

static void test_reason_matrix(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (int mode = 0; mode < 2; mode++)
			for (int det = 0; det < 2; det++)
				run_case(&cases[i], (enum cs_mode)mode,
				         (enum cs_detect)det);
}

/* Every reason code is exercised: by the matrix, or (aborted) below. */
static void test_matrix_covers_every_reason(void **state)
{
	(void)state;
	for (int r = 0; r < CS_REASON__COUNT; r++) {
		bool seen = r == CS_R_ABORTED;
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			seen |= cases[i].fine == (enum cs_reason)r ||
			        cases[i].coarse == (enum cs_reason)r;
		if (!seen)
			fail_msg("no case expects %s",
			         cs_reason_name((enum cs_reason)r));
	}
}

/* A note's limit is checked before apply, by cs_txn_validate, which every
 * way into the log runs (the decoders, cr_node_submit): the longest note
 * applies, one byte more never gets that far. */
static void test_note_limit(void **state)
{
	(void)state;
	char note[CS_NOTE_MAX + 2], err[CS_ERRMSG_SIZE];
	memset(note, 'x', sizeof(note) - 1);
	note[CS_NOTE_MAX] = 0;
	cs_state *s = fixture();
	cs_txn *t = cs_txn_new(NULL, "test", CS_INCREMENTAL, CS_FINE);
	cs_txn_job_note(t, "web", note);
	assert_int_equal(cs_txn_validate(t, err, sizeof(err)), 0);
	tl_assert_ok(s, t);
	assert_string_equal(cs_job_find(s, "web")->note, note);
	note[CS_NOTE_MAX] = 'x';
	note[CS_NOTE_MAX + 1] = 0;
	t = cs_txn_new(NULL, "test", CS_INCREMENTAL, CS_FINE);
	cs_txn_job_note(t, "web", note);
	assert_int_equal(cs_txn_validate(t, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ops[0].note: expected a note: at most 512 "
	                            "bytes"));
	assert_non_null(strstr(err, "got a string of 513 bytes"));
	cs_txn_free(t);
	cs_state_free(s);
}

static void test_reason_names_round_trip(void **state)
{
	(void)state;
	for (int r = 0; r < CS_REASON__COUNT; r++)
		assert_int_equal(
		    cs_reason_parse(cs_reason_name((enum cs_reason)r)), r);
	assert_int_equal(cs_reason_parse("nonsense"), -1);
	assert_string_equal(cs_reason_name((enum cs_reason)999), "invalid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reason_matrix),
	    cmocka_unit_test(test_matrix_covers_every_reason),
	    cmocka_unit_test(test_note_limit),
	    cmocka_unit_test(test_reason_names_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
