/* test_sched_core.c: the scheduler core and every policy against the fake
 * planner (tests/lib/fake_planner.h): placements, forced conflicts and
 * their retries, the retry budget, parking, never-fitting jobs, gangs,
 * preemption choices, load sharing between schedulers, think time. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_planner.h"

static const char *const policies[] = {"batch", "service"};

/* ---- building a cell ---- */

static void put_machine(fp *h, const char *name, uint64_t cpu, const char *zone,
                        const char *pool)
{
	struct tl_machine m;
	tl_machine_init(&m, name, cpu, cpu);
	if (zone)
		tl_machine_label(&m, "zone", zone);
	if (pool)
		m.spec.pool = (char *)pool;
	cs_txn *t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_FINE);
	cs_txn_machine_put(t, &m.spec);
	cs_result r = fp_apply(h, t);
	assert_int_equal(r.accepted, 1);
	cs_result_clear(&r);
}

static void machines(fp *h, const char *prefix, uint32_t n, uint64_t cpu)
{
	static const char *const zones[] = {"a", "b", "c"};
	char name[32];
	for (uint32_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%s%u", prefix, i);
		put_machine(h, name, cpu, zones[i % 3], NULL);
	}
}

static void put_job_spec(fp *h, struct tl_job *j)
{
	cs_txn *t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_FINE);
	cs_txn_job_put(t, &j->spec);
	cs_result r = fp_apply(h, t);
	if (r.accepted != 1)
		fail_msg("job_put %s: %s", j->spec.name,
		         cs_reason_name(r.ops[0].reason));
	cs_result_clear(&r);
}

static void put_job(fp *h, const char *name, const char *cls, uint32_t ntasks,
                    uint64_t cpu, uint32_t prio)
{
	struct tl_job j;
	tl_job_init(&j, name, ntasks, cpu, cpu);
	j.spec.class_name = (char *)cls;
	j.spec.priority = prio;
	put_job_spec(h, &j);
}

static sp_core *add_core(fp *h, const char *name, const char *policy,
                         enum cs_detect detect)
{
	struct sp_core_config cfg = {
	    .name = name,
	    .class_name = policy,
	    .params = {.policy = sp_policy_find(policy),
	               .mode = -1,
	               .detect = detect,
	               .spread_label = "zone",
	               .max_tasks = 1000},
	    .seed = 42,
	};
	assert_non_null(cfg.params.policy);
	fp_register(h, name, policy);
	return fp_add_core(h, &cfg);
}

static const struct cs_job *job(fp *h, const char *name)
{
	const struct cs_job *j = cs_job_find(h->s, name);
	if (!j)
		fail_msg("no job %s", name);
	return j;
}

static uint32_t assigned(fp *h, const char *name)
{
	return job(h, name)->count[CS_TASK_ASSIGNED];
}

static const char *machine_of(fp *h, const char *name, uint32_t task)
{
	const struct cs_task *t = tl_task(h->s, name, task);
	const struct cs_machine *m = cs_machine_at(h->s, t->machine);
	return m ? m->name : "";
}

static struct sp_stats stats(sp_core *c)
{
	struct sp_stats st;
	sp_core_stats(c, &st);
	return st;
}

static const char *note(fp *h, const char *name)
{
	const char *n = job(h, name)->note;
	return n ? n : "";
}

/* ---- placing ---- */

static void test_places_every_task_once(void **state)
{
	(void)state;
	for (size_t p = 0; p < 2; p++) {
		fp *h = fp_new();
		machines(h, "m", 100, 4000);
		sp_core *c = add_core(h, "s1", policies[p], CS_FINE);
		char name[16];
		for (int i = 0; i < 5; i++) {
			snprintf(name, sizeof(name), "j%d", i);
			put_job(h, name, policies[p], 200, 100, 0);
		}
		fp_settle(h, 10000);
		for (int i = 0; i < 5; i++) {
			snprintf(name, sizeof(name), "j%d", i);
			assert_int_equal(assigned(h, name), 200);
		}
		struct sp_stats st = stats(c);
		assert_int_equal(st.tasks_placed, 1000);
		assert_int_equal(st.txns_conflicted, 0);
		assert_int_equal(st.parked, 0);
		assert_int_equal(st.owned, 0); /* done jobs are forgotten */
		fp_free(h);
	}
}

/* A rival takes the whole first machine of the first transaction just
 * before it applies: those places are rejected and only they are tried
 * again, on the replica that shows the rival's tasks. */
struct grab {
	uint32_t calls;
	uint32_t grab;    /* machines to fill, from the first txn */
	uint32_t nops[8]; /* place ops of each core txn seen */
	enum cs_mode mode[8];
	uint32_t filler_next;
	bool every; /* grab before every txn, not only the first */
};

static uint32_t places_in(const cs_txn *t)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < t->nops; i++)
		n += t->ops[i].kind == CS_OP_PLACE;
	return n;
}

static void fill_machine(fp *h, struct grab *g, const char *machine)
{
	const struct cs_machine *m = cs_machine_find(h->s, machine);
	uint64_t room = m->capacity.v[CS_RES_CPU] - m->allocated.v[CS_RES_CPU];
	if (!room)
		return;
	char name[32];
	snprintf(name, sizeof(name), "filler%u", g->filler_next++);
	struct tl_job j;
	tl_job_init(&j, name, 1, room, 0);
	j.spec.class_name = "other";
	j.spec.nrequest = 1; /* cpu only */
	put_job_spec(h, &j);
	tl_place(h->s, name, 0, machine);
}

static void grab_rival(fp *h, int core, const cs_txn *txn, void *arg)
{
	(void)core;
	struct grab *g = arg;
	if (g->calls < 8) {
		g->nops[g->calls] = places_in(txn);
		g->mode[g->calls] = txn->mode;
	}
	if (g->calls++ && !g->every)
		return;
	uint32_t filled = 0;
	for (uint32_t i = 0; i < txn->nops && filled < g->grab; i++)
		if (txn->ops[i].kind == CS_OP_PLACE) {
			fill_machine(h, g, txn->ops[i].machine);
			filled++;
		}
}

static void test_conflicts_retry_only_rejected(void **state)
{
	(void)state;
	for (size_t p = 0; p < 2; p++) {
		fp *h = fp_new();
		machines(h, "m", 50, 1000);
		sp_core *c = add_core(h, "s1", policies[p], CS_FINE);
		put_job(h, "j", policies[p], 20, 100, 0);
		struct grab g = {.grab = 1};
		h->rival = grab_rival;
		h->rival_arg = &g;
		fp_settle(h, 10000);
		assert_int_equal(assigned(h, "j"), 20);
		struct sp_stats st = stats(c);
		/* the first transaction lost every place whose machine the
		 * rival filled; the retry carried exactly those */
		assert_int_equal(g.nops[0], 20);
		assert_true(st.places_rejected >= 1 && st.places_rejected < 20);
		assert_int_equal(g.nops[1], st.places_rejected);
		assert_int_equal(st.tasks_placed, 20);
		assert_int_equal(st.retries, 1);
		assert_int_equal(st.txns_conflicted, 1);
		fp_free(h);
	}
}

/* Coarse detection: a rival touching every machine of every transaction
 * (a tiny task) makes each attempt fail on seq_changed. After the budget
 * the job cools down: no transaction until capacity changes or a second
 * passes. */
static void seq_rival(fp *h, int core, const cs_txn *txn, void *arg)
{
	(void)core;
	uint32_t *next = arg;
	for (uint32_t i = 0; i < txn->nops; i++) {
		if (txn->ops[i].kind != CS_OP_PLACE)
			continue;
		char name[32];
		snprintf(name, sizeof(name), "tiny%u", (*next)++);
		struct tl_job j;
		tl_job_init(&j, name, 1, 1, 1);
		j.spec.class_name = "other";
		put_job_spec(h, &j);
		tl_place(h->s, name, 0, txn->ops[i].machine);
	}
}

static void test_retry_budget_parks(void **state)
{
	(void)state;
	for (size_t p = 0; p < 2; p++) {
		fp *h = fp_new();
		machines(h, "m", 5, 1000);
		sp_core *c = add_core(h, "s1", policies[p], CS_COARSE);
		put_job(h, "j", policies[p], 2, 100, 0);
		uint32_t next = 0;
		h->rival = seq_rival;
		h->rival_arg = &next;
		for (int round = 0; !stats(c).parked; round++) {
			if (round == 10000)
				fail_msg("the job never stopped retrying");
			fp_settle(h, 1);
		}
		unsigned budget = sp_policy_find(policies[p])->retry_budget;
		struct sp_stats st = stats(c);
		assert_int_equal(assigned(h, "j"), 0);
		assert_int_equal(st.parked, 1);
		assert_int_equal(st.txns, budget + 1);
		assert_int_equal(st.txns_progress, 0);
		/* parked means quiet: it cools down a whole second (of the
		 * fake clock) before it is tried again, never in a loop */
		int64_t wait = sp_core_run(c);
		assert_true(wait >= 900000);
		assert_int_equal(h->nq, 0);
		h->now_us += wait - 1;
		assert_true(sp_core_run(c) > 0);
		assert_int_equal(h->nq, 0);
		/* a task ends: capacity changed, the job is tried again */
		h->rival = NULL;
		tl_report(h->s, "tiny0", 0, CS_TASK_SUCCEEDED, 0);
		cs_txn *t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_FINE);
		cs_txn_release(t, "tiny1", 0, NULL);
		cs_result r = fp_apply(h, t);
		cs_result_clear(&r);
		fp_settle(h, 10000);
		assert_int_equal(assigned(h, "j"), 2);
		fp_free(h);
	}
}

/* ---- parking and notes ---- */

static void test_parks_until_capacity(void **state)
{
	(void)state;
	for (size_t p = 0; p < 2; p++) {
		fp *h = fp_new();
		machines(h, "m", 2, 1000);
		sp_core *c = add_core(h, "s1", policies[p], CS_FINE);
		put_job(h, "big", policies[p], 2, 1000, 0);
		fp_settle(h, 1000);
		put_job(h, "late", policies[p], 1, 1000, 0);
		fp_settle(h, 1000);
		assert_int_equal(assigned(h, "late"), 0);
		assert_string_equal(note(h, "late"),
		                    "waiting for capacity: its "
		                    "pending tasks fit on no machine now");
		uint64_t decisions = stats(c).decisions, sub = h->submitted;
		fp_settle(h, 1000);
		assert_int_equal(stats(c).decisions, decisions);
		assert_int_equal(h->submitted, sub);
		/* a task of big succeeds: its machine is free */
		cs_txn *t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_FINE);
		cs_txn_task_state(t, "big", 1, 0, machine_of(h, "big", 1),
		                  CS_TASK_SUCCEEDED, 0);
		cs_result r = fp_apply(h, t);
		assert_int_equal(r.accepted, 1);
		cs_result_clear(&r);
		fp_settle(h, 1000);
		assert_int_equal(assigned(h, "late"), 1);
		assert_string_equal(note(h, "late"), ""); /* placed: cleared */
		fp_free(h);
	}
}

static void test_never_fits_is_noted_not_retried(void **state)
{
	(void)state;
	for (size_t p = 0; p < 2; p++) {
		fp *h = fp_new();
		machines(h, "m", 3, 4000);
		sp_core *c = add_core(h, "s1", policies[p], CS_FINE);
		put_job(h, "huge", policies[p], 1, 64000, 0);
		struct tl_job gpu;
		tl_job_init(&gpu, "gpu", 1, 10, 10);
		gpu.spec.class_name = (char *)policies[p];
		gpu.spec.pool = "gpu";
		put_job_spec(h, &gpu);
		put_job(h, "small", policies[p], 2, 100, 0);
		fp_settle(h, 1000);
		assert_string_equal(
		    note(h, "huge"),
		    "unplaceable: each task needs cpu=64000 memory=64000; no "
		    "machine matching its constraints is that big (largest: "
		    "cpu=4000 memory=4000)");
		assert_string_equal(
		    note(h, "gpu"),
		    "unplaceable: no machine matches the job's "
		    "constraints (pool gpu, 0 required label(s))");
		assert_int_equal(stats(c).parked, 2);
		/* a task ending changes nothing for them */
		uint64_t decisions = stats(c).decisions;
		tl_report(h->s, "small", 0, CS_TASK_SUCCEEDED, 0);
		cs_txn *t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_FINE);
		cs_txn_release(t, "small", 1, NULL);
		cs_result r = fp_apply(h, t);
		cs_result_clear(&r);
		fp_settle(h, 1000);
		assert_int_equal(stats(c).decisions, decisions + 1); /* small */
		/* a big enough machine arrives: huge is placed */
		put_machine(h, "giant", 100000, NULL, NULL);
		fp_settle(h, 1000);
		assert_int_equal(assigned(h, "huge"), 1);
		assert_string_equal(note(h, "huge"), "");
		assert_int_equal(assigned(h, "gpu"), 0);
		fp_free(h);
	}
}

/* ---- gangs ---- */

static void test_gang_all_or_nothing(void **state)
{
	(void)state;
	for (size_t p = 0; p < 2; p++) {
		fp *h = fp_new();
		machines(h, "m", 9, 1000);
		sp_core *c = add_core(h, "s1", policies[p], CS_FINE);
		struct tl_job gang;
		tl_job_init(&gang, "gang", 10, 600, 600);
		gang.spec.class_name = (char *)policies[p];
		gang.spec.gang = true;
		put_job_spec(h, &gang);
		fp_settle(h, 1000);
		/* 9 machines hold 9 of the 10: nothing is placed */
		assert_int_equal(assigned(h, "gang"), 0);
		assert_int_equal(h->submitted, 1); /* the note only */
		assert_string_equal(note(h, "gang"),
		                    "waiting for capacity: the gang's pending "
		                    "tasks do not all fit at once");
		/* two more machines; the rival fills one machine of the first
		 * gang transaction: all of it is rejected, then it all fits */
		machines(h, "n", 2, 1000);
		struct grab g = {.grab = 1};
		h->rival = grab_rival;
		h->rival_arg = &g;
		fp_settle(h, 1000);
		assert_int_equal(assigned(h, "gang"), 10);
		assert_int_equal(g.nops[0], 10);
		assert_int_equal(g.mode[0], CS_ALL_OR_NOTHING);
		assert_int_equal(g.nops[1], 10);
		struct sp_stats st = stats(c);
		assert_int_equal(st.places_rejected, 10);
		assert_int_equal(st.tasks_placed, 10);
		fp_free(h);
	}
}

/* ---- preemption ---- */

static void test_preempts_cheapest_victims(void **state)
{
	(void)state;
	for (size_t p = 0; p < 2; p++) {
		fp *h = fp_new();
		put_machine(h, "m0", 1000, NULL, NULL);
		put_machine(h, "m1", 1000, NULL, NULL);
		put_machine(h, "m2", 1000, NULL, NULL);
		put_job(h, "p10", "other", 1, 1000, 10);
		tl_place(h->s, "p10", 0, "m0");
		put_job(h, "p5pair", "other", 2, 500, 5);
		tl_place(h->s, "p5pair", 0, "m1");
		tl_place(h->s, "p5pair", 1, "m1");
		put_job(h, "p5", "other", 1, 1000, 5);
		tl_place(h->s, "p5", 0, "m2");
		sp_core *c = add_core(h, "s1", policies[p], CS_FINE);
		/* equal priority never preempts */
		put_job(h, "eq", policies[p], 1, 1000, 5);
		fp_settle(h, 1000);
		assert_int_equal(assigned(h, "eq"), 0);
		assert_int_equal(stats(c).parked, 1);
		/* priority 100: one victim of priority 5 (m2) is cheapest */
		put_job(h, "high", policies[p], 1, 1000, 100);
		fp_settle(h, 1000);
		assert_int_equal(assigned(h, "high"), 1);
		assert_string_equal(machine_of(h, "high", 0), "m2");
		assert_int_equal(tl_task(h->s, "p5", 0)->state,
		                 CS_TASK_PENDING);
		assert_int_equal(tl_task(h->s, "p5", 0)->last_end,
		                 CS_END_PREEMPTED);
		assert_int_equal(assigned(h, "p5pair"), 2);
		assert_int_equal(assigned(h, "p10"), 1);
		fp_free(h);
	}
}

/* ---- the service policy's stages ---- */

static void test_service_spreads_packs_constrains(void **state)
{
	(void)state;
	fp *h = fp_new();
	machines(h, "m", 6, 4000); /* zones a, b, c, a, b, c */
	struct tl_machine ssd;
	tl_machine_init(&ssd, "ssd0", 4000, 4000);
	tl_machine_label(&ssd, "disk", "ssd");
	cs_txn *t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_FINE);
	cs_txn_machine_put(t, &ssd.spec);
	cs_result r = fp_apply(h, t);
	cs_result_clear(&r);
	put_job(h, "filler", "other", 1, 3000, 0);
	tl_place(h->s, "filler", 0, "m4");
	add_core(h, "svc", "service", CS_FINE);
	/* best fit: the fullest machine that still fits */
	put_job(h, "one", "service", 1, 500, 0);
	fp_settle(h, 1000);
	assert_string_equal(machine_of(h, "one", 0), "m4");
	/* spread: three tasks, three zones */
	put_job(h, "three", "service", 3, 100, 0);
	fp_settle(h, 1000);
	const char *zone[3];
	for (uint32_t i = 0; i < 3; i++) {
		const struct cs_machine *m =
		    cs_machine_find(h->s, machine_of(h, "three", i));
		zone[i] = m->nlabels ? m->labels[0].value : NULL;
		assert_non_null(zone[i]);
	}
	assert_string_not_equal(zone[0], zone[1]);
	assert_string_not_equal(zone[1], zone[2]);
	assert_string_not_equal(zone[0], zone[2]);
	/* labels and distinct machines: one machine has the label, so one
	 * of two distinct tasks can never be placed */
	struct tl_job j;
	tl_job_init(&j, "fast", 2, 100, 100);
	j.spec.class_name = "service";
	j.labels[0] = (struct cs_label){"disk", "ssd"};
	j.spec.labels = j.labels;
	j.spec.nlabels = 1;
	j.spec.distinct = true;
	put_job_spec(h, &j);
	fp_settle(h, 1000);
	assert_int_equal(assigned(h, "fast"), 1);
	assert_string_equal(machine_of(h, "fast", 0), "ssd0");
	assert_string_equal(note(h, "fast"),
	                    "unplaceable: 2 distinct tasks need as many "
	                    "machines; only 1 match and are big enough");
	fp_free(h);
}

/* batch draws its candidates from the machines that match the job's pool
 * and labels: a job that may use 4 machines in 200 lands on those 4, its
 * tasks spread over them by the two choices (most room), and one whose
 * machines are full preempts or waits, never spilling elsewhere. */
static void test_batch_candidates_match_constraints(void **state)
{
	(void)state;
	fp *h = fp_new();
	char name[32];
	for (uint32_t i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "m%u", i);
		put_machine(h, name, 4000, i % 50 == 7 ? "z" : "y",
		            i == 57 ? "gpu" : NULL);
	}
	add_core(h, "b", "batch", CS_FINE);
	struct tl_job j;
	tl_job_init(&j, "zoned", 40, 100, 100);
	j.spec.class_name = "batch";
	j.labels[0] = (struct cs_label){"zone", "z"};
	j.spec.labels = j.labels;
	j.spec.nlabels = 1;
	put_job_spec(h, &j);
	fp_settle(h, 1000);
	assert_int_equal(assigned(h, "zoned"), 40);
	uint32_t per[4] = {0};
	for (uint32_t i = 0; i < 40; i++) {
		const struct cs_machine *m =
		    cs_machine_find(h->s, machine_of(h, "zoned", i));
		assert_string_equal(m->labels[0].value, "z");
		per[(atoi(m->name + 1) - 7) / 50]++;
	}
	for (uint32_t k = 0; k < 4; k++) /* most room: an even spread */
		assert_true(per[k] >= 8 && per[k] <= 12);
	/* pool and labels together: only m57 */
	tl_job_init(&j, "gpu-z", 3, 100, 100);
	j.spec.class_name = "batch";
	j.spec.pool = "gpu";
	j.labels[0] = (struct cs_label){"zone", "z"};
	j.spec.labels = j.labels;
	j.spec.nlabels = 1;
	put_job_spec(h, &j);
	fp_settle(h, 1000);
	assert_int_equal(assigned(h, "gpu-z"), 3);
	for (uint32_t i = 0; i < 3; i++)
		assert_string_equal(machine_of(h, "gpu-z", i), "m57");
	/* room for one task of 2,500 on each of the 4 (at most 1,500 of
	 * 4,000 taken): 4 placed, the rest waits, none spills elsewhere */
	tl_job_init(&j, "big", 10, 2500, 100);
	j.spec.class_name = "batch";
	j.labels[0] = (struct cs_label){"zone", "z"};
	j.spec.labels = j.labels;
	j.spec.nlabels = 1;
	put_job_spec(h, &j);
	fp_settle(h, 1000);
	assert_int_equal(assigned(h, "big"), 4);
	for (uint32_t i = 0; i < 10; i++) {
		const char *m = machine_of(h, "big", i);
		if (*m)
			assert_string_equal(
			    cs_machine_find(h->s, m)->labels[0].value, "z");
	}
	fp_free(h);
}

/* ---- several schedulers ---- */

static void test_schedulers_share_jobs(void **state)
{
	(void)state;
	fp *h = fp_new();
	machines(h, "m", 50, 4000);
	sp_core *a = add_core(h, "b1", "batch", CS_FINE);
	sp_core *b = add_core(h, "b2", "batch", CS_FINE);
	char name[16];
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "j%d", i);
		put_job(h, name, "batch", 5, 100, 0);
	}
	fp_settle(h, 10000);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "j%d", i);
		assert_int_equal(assigned(h, name), 5);
	}
	uint64_t da = stats(a).decisions, db = stats(b).decisions;
	assert_true(da > 5 && db > 5); /* both took a share */
	assert_int_equal(da + db, 40);
	assert_int_equal(stats(a).txns_conflicted + stats(b).txns_conflicted,
	                 0);
	/* b2 leaves: every new job is b1's */
	cs_txn *t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_FINE);
	cs_txn_sched_unregister(t, "b2");
	cs_result r = fp_apply(h, t);
	cs_result_clear(&r);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "k%d", i);
		put_job(h, name, "batch", 5, 100, 0);
	}
	fp_settle(h, 10000);
	assert_int_equal(stats(a).decisions, da + 20);
	assert_int_equal(stats(b).decisions, db);
	fp_free(h);
}

/* ---- time ---- */

static void test_think_time(void **state)
{
	(void)state;
	fp *h = fp_new();
	machines(h, "m", 10, 4000);
	struct sp_core_config cfg = {
	    .name = "slow",
	    .class_name = "batch",
	    .params = {.policy = sp_policy_find("batch"), .mode = -1},
	    .think_job_us = 1000000,
	    .think_task_us = 10000,
	    .seed = 7,
	};
	fp_register(h, "slow", "batch");
	sp_core *c = fp_add_core(h, &cfg);
	put_job(h, "j", "batch", 10, 100, 0);
	int64_t wait = sp_core_run(c);
	assert_int_equal(wait, 1100000);
	assert_int_equal(h->submitted, 0); /* nothing goes out while thinking */
	int64_t t0 = h->now_us;
	fp_settle(h, 1000);
	assert_int_equal(assigned(h, "j"), 10);
	assert_true(h->now_us - t0 >= 1100000);
	assert_true(stats(c).busy_seconds >= 1.1);
	fp_free(h);
}

static void test_submit_error_backs_off(void **state)
{
	(void)state;
	fp *h = fp_new();
	machines(h, "m", 10, 4000);
	sp_core *c = add_core(h, "s1", "batch", CS_FINE);
	put_job(h, "j", "batch", 10, 100, 0);
	h->fail_next = 1;
	int64_t t0 = h->now_us;
	fp_settle(h, 1000);
	assert_int_equal(assigned(h, "j"), 10);
	assert_int_equal(h->submitted, 2);
	assert_true(h->now_us - t0 >= 500000); /* waited, did not spin */
	assert_int_equal(stats(c).tasks_placed, 10);
	fp_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_places_every_task_once),
	    cmocka_unit_test(test_conflicts_retry_only_rejected),
	    cmocka_unit_test(test_retry_budget_parks),
	    cmocka_unit_test(test_parks_until_capacity),
	    cmocka_unit_test(test_never_fits_is_noted_not_retried),
	    cmocka_unit_test(test_gang_all_or_nothing),
	    cmocka_unit_test(test_preempts_cheapest_victims),
	    cmocka_unit_test(test_service_spreads_packs_constrains),
	    cmocka_unit_test(test_batch_candidates_match_constraints),
	    cmocka_unit_test(test_schedulers_share_jobs),
	    cmocka_unit_test(test_think_time),
	    cmocka_unit_test(test_submit_error_backs_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
