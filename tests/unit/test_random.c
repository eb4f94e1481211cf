/* test_random.c: seeded randomized transactions against the invariants of
 * ARCHITECTURE.md §2. Every apply is followed by the full invariant check and
 * the seq monotonicity check; rejected all_or_nothing transactions must leave
 * the state as it was; at the end the log (kept as JSON text, so the codec is
 * exercised too) is replayed from scratch and from a mid-run snapshot, and
 * both must reach the same verdicts and the same state hash.
 *
 * CELL_SEED=N reruns a failure; CELL_RANDOM_TXNS=N changes the length
 * (default 100000). */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellutil.h"

#define MACHINES      1000
#define JOBS_SOFT_MAX 300

struct logrec {
	char *json;     /* the transaction as JSON text */
	char *verdicts; /* reason codes as letters, for replay comparison */
	uint64_t index;
	int64_t ms;
};

struct run {
	uint64_t rng;
	cs_state *s;
	uint64_t index;
	uint64_t last_seq[MACHINES];
	char **jobs; /* names of jobs that may exist */
	uint32_t njobs, jobs_cap, job_serial;
	struct logrec *log;
	uint32_t nlog, log_cap;
	char *snapshot; /* taken mid-run */
	uint32_t snapshot_at;
	uint64_t snapshot_hash;
	char last_id[32];
	char prev_id[32]; /* last_id before the current transaction */
	uint32_t counts[CS_REASON__COUNT];
	uint32_t accepted[CS_OP__COUNT]; /* ops accepted, by kind */
};

static uint32_t rnd(struct run *r, uint32_t n)
{
	return cu_rand_below(&r->rng, n);
}

static bool chance(struct run *r, uint32_t percent)
{
	return rnd(r, 100) < percent;
}

static void machine_name(char *buf, uint32_t i)
{
	snprintf(buf, 16, "m%04u", i);
}

/* ---- op generators ---- */

static uint64_t seen_seq(struct run *r, const struct cs_machine *m);

static void gen_machine_put(struct run *r, cs_txn *t)
{
	static const char *zones[] = {"a", "b", "c"};
	static const char *agents[] = {"http://127.0.0.1:7301",
	                               "http://127.0.0.1:7302"};
	char name[16], rack[8];
	struct tl_machine m;
	machine_name(name, rnd(r, MACHINES));
	tl_machine_init(&m, name, 1000u * (2 + rnd(r, 7)),
	                1024u * (2 + rnd(r, 15)));
	m.spec.pool = chance(r, 10) ? "gpu" : "default";
	if (chance(r, 10)) {
		m.cap[2] = (struct cs_amount){"gpu", 1 + rnd(r, 4)};
		m.spec.ncapacity = 3;
	}
	tl_machine_label(&m, "zone", zones[rnd(r, 3)]);
	snprintf(rack, sizeof(rack), "r%u", rnd(r, 10));
	tl_machine_label(&m, "rack", rack);
	if (chance(r, 5))
		m.spec.state = (int)rnd(r, 3);
	if (chance(r, 50)) /* set, replaced or cleared by the next put */
		m.spec.agent = (char *)agents[rnd(r, 2)];
	struct cs_op *op = cs_txn_machine_put(t, &m.spec);
	const struct cs_machine *cur = cs_machine_find(r->s, name);
	if (chance(r, 30))
		cs_op_expect_seq(op, cur ? seen_seq(r, cur) : 0);
}

static void add_job_name(struct run *r, const char *name)
{
	if (r->njobs == r->jobs_cap) {
		r->jobs_cap = r->jobs_cap ? r->jobs_cap * 2 : 64;
		r->jobs = realloc(r->jobs, r->jobs_cap * sizeof(*r->jobs));
	}
	r->jobs[r->njobs++] = strdup(name);
}

/* Forgets names of jobs that were removed (or never accepted). */
static void prune_job_names(struct run *r)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < r->njobs; i++) {
		if (cs_job_find(r->s, r->jobs[i]))
			r->jobs[k++] = r->jobs[i];
		else
			free(r->jobs[i]);
	}
	r->njobs = k;
}

static const char *any_job(struct run *r)
{
	return r->njobs ? r->jobs[rnd(r, r->njobs)] : "nojob";
}

static void gen_job_put(struct run *r, cs_txn *t)
{
	char name[16];
	snprintf(name, sizeof(name), "j%06u", r->job_serial++);
	struct tl_job j;
	tl_job_init(&j, name, 1 + rnd(r, 12), 100u * (1 + rnd(r, 20)),
	            64u * (1 + rnd(r, 32)));
	j.spec.priority = rnd(r, 1001);
	j.spec.max_retries = rnd(r, 3);
	j.spec.class_name = chance(r, 70) ? "batch" : "service";
	if (chance(r, 10))
		j.spec.pool = chance(r, 50) ? "gpu" : "default";
	if (chance(r, 5)) {
		j.req[2] = (struct cs_amount){"gpu", 1};
		j.spec.nrequest = 3;
	}
	if (chance(r, 15)) {
		j.labels[0] =
		    (struct cs_label){"zone", chance(r, 50) ? "a" : "b"};
		j.spec.nlabels = 1;
	}
	j.spec.distinct = chance(r, 15);
	j.spec.gang = chance(r, 10);
	for (uint32_t d = 0; d < 2 && chance(r, 20) && r->njobs; d++) {
		const char *dep = any_job(r);
		if (!j.spec.ndeps || strcmp(j.deps[0], dep))
			j.deps[j.spec.ndeps++] = (char *)dep;
	}
	cs_txn_job_put(t, &j.spec);
	add_job_name(r, name);
}

static uint32_t pick_slot(struct run *r)
{
	uint32_t n = cs_machine_slots(r->s);
	for (int tries = 0; n && tries < 8; tries++) {
		uint32_t slot = rnd(r, n);
		if (cs_machine_at(r->s, slot))
			return slot;
	}
	return CS_NO_MACHINE;
}

static uint64_t seen_seq(struct run *r, const struct cs_machine *m)
{ /* usually fresh, sometimes what a lagging replica saw */
	return chance(r, 80) || m->seq < 3 ? m->seq : m->seq - rnd(r, 3);
}

static void gen_places(struct run *r, cs_txn *t)
{
	const struct cs_job *job = cs_job_find(r->s, any_job(r));
	if (!job)
		return;
	uint32_t want = job->spec.gang ? job->spec.ntasks : 1 + rnd(r, 4);
	uint32_t start = rnd(r, job->spec.ntasks);
	for (uint32_t k = 0; k < job->spec.ntasks && want; k++) {
		uint32_t i = (start + k) % job->spec.ntasks;
		if (job->tasks[i].state != CS_TASK_PENDING && chance(r, 95))
			continue;
		uint32_t slot = pick_slot(r);
		const struct cs_machine *m = cs_machine_at(r->s, slot);
		if (!m)
			continue;
		cs_txn_place(t, job->spec.name, i, m->name, seen_seq(r, m));
		want--;
	}
}

/* A random assigned or running task, via a random machine. */
static const struct cs_task *pick_live(struct run *r)
{
	for (int tries = 0; tries < 16; tries++) {
		const struct cs_machine *m = cs_machine_at(r->s, pick_slot(r));
		if (!m || !m->ntasks)
			continue;
		const struct cs_task *t = m->tasks;
		for (uint32_t k = rnd(r, m->ntasks); k--;)
			t = t->next_on_machine;
		return t;
	}
	return NULL;
}

static void gen_report(struct run *r, cs_txn *t)
{
	const struct cs_task *k = pick_live(r);
	if (!k)
		return;
	static const enum cs_task_state reports[] = {
	    CS_TASK_RUNNING,   CS_TASK_RUNNING,   CS_TASK_SUCCEEDED,
	    CS_TASK_SUCCEEDED, CS_TASK_SUCCEEDED, CS_TASK_FAILED,
	    CS_TASK_LOST};
	uint32_t attempt = k->attempt - (chance(r, 5) && k->attempt ? 1 : 0);
	cs_txn_task_state(t, k->job->spec.name, cs_task_index(k), attempt,
	                  cs_machine_at(r->s, k->machine)->name,
	                  reports[rnd(r, 7)], (int32_t)rnd(r, 3));
}

static void gen_preempt(struct run *r, cs_txn *t)
{
	const struct cs_task *k = pick_live(r);
	if (!k)
		return;
	const struct cs_machine *m = cs_machine_at(r->s, k->machine);
	cs_txn_preempt(t, k->job->spec.name, cs_task_index(k), m->name,
	               seen_seq(r, m), any_job(r));
	gen_places(r, t); /* the room it makes, as a scheduler would */
}

static void gen_release(struct run *r, cs_txn *t)
{
	const struct cs_task *k = pick_live(r);
	if (k)
		cs_txn_release(t, k->job->spec.name, cs_task_index(k),
		               chance(r, 50)
		                   ? cs_machine_at(r->s, k->machine)->name
		                   : NULL);
}

static void gen_machine_state(struct run *r, cs_txn *t)
{
	const struct cs_machine *m = cs_machine_at(r->s, pick_slot(r));
	if (!m)
		return;
	enum cs_machine_state st = chance(r, 60)   ? CS_MACHINE_UP
	                           : chance(r, 50) ? CS_MACHINE_DRAINING
	                                           : CS_MACHINE_DOWN;
	struct cs_op *op = cs_txn_machine_state(t, m->name, st);
	if (chance(r, 30))
		cs_op_expect_seq(op, seen_seq(r, m));
}

static void gen_machine_remove(struct run *r, cs_txn *t)
{
	char name[16];
	machine_name(name, rnd(r, MACHINES));
	cs_txn_machine_remove(t, name);
}

static void gen_job_end(struct run *r, cs_txn *t)
{
	if (chance(r, 40)) {
		cs_txn_job_kill(t, any_job(r));
		return;
	}
	/* remove an ended job, and forget its name */
	for (int tries = 0; tries < 8 && r->njobs; tries++) {
		uint32_t i = rnd(r, r->njobs);
		const struct cs_job *job = cs_job_find(r->s, r->jobs[i]);
		if (job && job->state < CS_JOB_SUCCEEDED)
			continue;
		cs_txn_job_remove(t, r->jobs[i]);
		return;
	}
}

static void gen_sched(struct run *r, cs_txn *t)
{
	char name[16];
	snprintf(name, sizeof(name), "sched-%u", rnd(r, 6));
	if (chance(r, 60)) {
		/* one draw per statement: a seed replays in any compiler */
		char *class_name = chance(r, 50) ? "batch" : "service";
		uint64_t member = chance(r, 50) ? 100 + rnd(r, 3) : 0;
		struct cs_sched_spec sp = {name, class_name, "batch", member};
		cs_txn_sched_register(t, &sp);
	} else {
		cs_txn_sched_unregister(t, name);
	}
}

/* A scheduler's note on a job, now and then a clear; places clear them. */
static void gen_note(struct run *r, cs_txn *t)
{
	static const char *const notes[] = {
	    "", "no machine has cpu 8000 free", "pool gpu is full",
	    "waiting for 3 machines with zone=b"};
	cs_txn_job_note(t, any_job(r), notes[rnd(r, 4)]);
}

/* The op mix, one row per generator: each takes `share` of the draws
 * (`crowded` while there are more than JOBS_SOFT_MAX jobs: fewer
 * submissions, more ends), out of the column's total. Every op kind needs
 * a generator here: the run fails when a kind was never accepted. */
static const struct gen {
	void (*fn)(struct run *r, cs_txn *t);
	uint32_t share, crowded;
} gens[] = {
    {gen_places, 35, 35},       {gen_report, 25, 25},
    {gen_job_put, 10, 2},       {gen_job_end, 8, 16},
    {gen_preempt, 4, 4},        {gen_release, 3, 3},
    {gen_machine_state, 5, 5},  {gen_machine_put, 4, 4},
    {gen_machine_remove, 2, 2}, {gen_sched, 2, 2},
    {gen_note, 2, 2},
};
#define NGENS (sizeof(gens) / sizeof(gens[0]))

static uint32_t share_of(const struct gen *g, bool crowded)
{
	return crowded ? g->crowded : g->share;
}

static void gen_op(struct run *r, cs_txn *t)
{
	bool many = cs_job_count(r->s) > JOBS_SOFT_MAX;
	uint32_t total = 0;
	for (size_t i = 0; i < NGENS; i++)
		total += share_of(&gens[i], many);
	uint32_t x = rnd(r, total);
	for (size_t i = 0; i < NGENS; i++) {
		if (x < share_of(&gens[i], many)) {
			gens[i].fn(r, t);
			return;
		}
		x -= share_of(&gens[i], many);
	}
}

static cs_txn *gen_txn(struct run *r)
{
	char id[32] = {0};
	bool with_id = chance(r, 50);
	strcpy(r->prev_id, r->last_id);
	if (with_id && r->last_id[0] && chance(r, 3))
		strcpy(id, r->last_id); /* a client retrying */
	else if (with_id)
		snprintf(id, sizeof(id), "c-%llu",
		         (unsigned long long)r->index);
	cs_txn *t =
	    cs_txn_new(with_id ? id : NULL, "fuzz",
	               chance(r, 30) ? CS_ALL_OR_NOTHING : CS_INCREMENTAL,
	               chance(r, 50) ? CS_COARSE : CS_FINE);
	uint32_t nops = 1 + rnd(r, 4);
	for (uint32_t i = 0; i < nops; i++)
		gen_op(r, t);
	if (with_id)
		strcpy(r->last_id, id);
	return t;
}

/* ---- checking ---- */

static void fail_run(struct run *r, const char *what)
{
	fail_msg("after entry %llu: %s", (unsigned long long)r->index, what);
}

/* Per machine name (m0042 -> 42), across removals and re-additions. */
static void check_seqs(struct run *r)
{
	for (uint32_t slot = 0; slot < cs_machine_slots(r->s); slot++) {
		const struct cs_machine *m = cs_machine_at(r->s, slot);
		if (!m)
			continue;
		uint32_t i = (uint32_t)atoi(m->name + 1);
		if (m->seq < r->last_seq[i])
			fail_run(r, "a machine's seq decreased");
		r->last_seq[i] = m->seq;
	}
}

/* Verdicts as letters, then a digest of the change feed: a replay must
 * reproduce both. */
static char *verdict_letters(const cs_result *res)
{
	char *v = malloc(res->nops + 20);
	v[0] = res->committed ? 'C' : 'R';
	for (uint32_t i = 0; i < res->nops; i++)
		v[i + 1] = (char)('a' + res->ops[i].reason);
	uint64_t h = res->nchanges;
	for (uint32_t i = 0; i < res->nchanges; i++) {
		json_t *j = cs_change_encode(&res->changes[i], 0);
		char *text = json_dumps(j, JSON_COMPACT);
		/* the watch's text form is the same line, byte for byte */
		char line[CS_CHANGE_TEXT_MAX];
		assert_int_equal(
		    cs_change_format(&res->changes[i], 0, line, sizeof(line)),
		    strlen(text));
		assert_string_equal(line, text);
		h = cu_fnv1a(h, text);
		free(text);
		json_decref(j);
	}
	snprintf(v + res->nops + 1, 19, "/%016llx", (unsigned long long)h);
	return v;
}

static void log_txn(struct run *r, const cs_txn *t, const cs_result *res,
                    int64_t ms)
{
	if (r->nlog == r->log_cap) {
		r->log_cap = r->log_cap ? r->log_cap * 2 : 1024;
		r->log = realloc(r->log, r->log_cap * sizeof(*r->log));
	}
	json_t *j = cs_txn_encode(t);
	struct logrec *l = &r->log[r->nlog++];
	l->json = json_dumps(j, JSON_COMPACT);
	l->verdicts = verdict_letters(res);
	l->index = r->index;
	l->ms = ms;
	json_decref(j);
}

static void step(struct run *r)
{
	cs_txn *t = gen_txn(r);
	if (!t->nops) {
		cs_txn_free(t);
		return;
	}
	/* only these may be rejected whole or replayed: hash them */
	bool whole = t->mode == CS_ALL_OR_NOTHING ||
	             (t->id && !strcmp(t->id, r->prev_id));
	uint64_t before = whole ? cs_state_hash(r->s, CS_HASH_CONTENT) : 0;
	cs_result res;
	r->index++;
	int64_t ms = (int64_t)r->index * 10;
	cs_apply(r->s, t, r->index, ms, &res);
	char err[CS_ERRMSG_SIZE];
	if (cs_state_check(r->s, err, sizeof(err)))
		fail_run(r, err);
	check_seqs(r);
	if (!whole && (!res.committed || res.duplicate))
		fail_run(r,
		         "only all_or_nothing or retried ids may do nothing");
	if ((!res.committed || res.duplicate) &&
	    before != cs_state_hash(r->s, CS_HASH_CONTENT))
		fail_run(
		    r, "a rejected or duplicate transaction changed the state");
	for (uint32_t i = 0; i < res.nops; i++) {
		r->counts[res.ops[i].reason]++;
		if (!res.duplicate && res.ops[i].reason == CS_R_OK)
			r->accepted[t->ops[i].kind]++;
	}
	log_txn(r, t, &res, ms);
	cs_result_clear(&res);
	cs_txn_free(t);
}

static void setup_cell(struct run *r)
{
	cs_txn *t = cs_txn_new("setup", "fuzz", CS_INCREMENTAL, CS_FINE);
	for (uint32_t i = 0; i < MACHINES; i++) {
		char name[16];
		struct tl_machine m;
		machine_name(name, i);
		tl_machine_init(&m, name, 8000, 16384);
		tl_machine_label(&m, "zone",
		                 i % 3 == 0   ? "a"
		                 : i % 3 == 1 ? "b"
		                              : "c");
		cs_txn_machine_put(t, &m.spec);
	}
	r->index++;
	cs_result res;
	cs_apply(r->s, t, r->index, 0, &res);
	assert_int_equal(res.accepted, MACHINES);
	log_txn(r, t, &res, 0);
	cs_result_clear(&res);
	cs_txn_free(t);
}

/* Replays log[from..] onto s, checking each verdict against the original. */
static void replay(struct run *r, cs_state *s, uint32_t from, const char *what)
{
	char err[CS_ERRMSG_SIZE];
	for (uint32_t i = from; i < r->nlog; i++) {
		cs_txn *t;
		if (cs_txn_parse(r->log[i].json, strlen(r->log[i].json), &t,
		                 err, sizeof(err)))
			fail_msg("%s: entry %llu does not decode: %s (%s)",
			         what, (unsigned long long)r->log[i].index, err,
			         r->log[i].json);
		cs_result res;
		cs_apply(s, t, r->log[i].index, r->log[i].ms, &res);
		char *v = verdict_letters(&res);
		if (strcmp(v, r->log[i].verdicts))
			fail_msg("%s: entry %llu got verdicts %s, first run %s",
			         what, (unsigned long long)r->log[i].index, v,
			         r->log[i].verdicts);
		free(v);
		cs_result_clear(&res);
		cs_txn_free(t);
	}
}

static void take_snapshot(struct run *r)
{
	r->snapshot = cs_state_dump(r->s);
	r->snapshot_at = r->nlog;
	r->snapshot_hash = cs_state_hash(r->s, 0);
}

static void check_replays(struct run *r)
{
	uint64_t want = cs_state_hash(r->s, 0);
	char err[CS_ERRMSG_SIZE];
	cs_state *fresh = cs_state_new(cs_state_config(r->s));
	cs_state_track_changes(fresh, true);
	replay(r, fresh, 0, "replay from scratch");
	assert_int_equal(cs_state_hash(fresh, 0), want);
	cs_state_free(fresh);

	cs_state *restored;
	if (cs_state_load(r->snapshot, strlen(r->snapshot), &restored, err,
	                  sizeof(err)))
		fail_msg("snapshot does not load: %s", err);
	assert_int_equal(cs_state_hash(restored, 0), r->snapshot_hash);
	char *again = cs_state_dump(restored);
	assert_string_equal(again, r->snapshot); /* canonical */
	free(again);
	cs_state_track_changes(restored, true);
	replay(r, restored, r->snapshot_at, "replay from snapshot");
	assert_int_equal(cs_state_hash(restored, 0), want);
	cs_state_free(restored);
}

static void free_run(struct run *r)
{
	for (uint32_t i = 0; i < r->nlog; i++) {
		free(r->log[i].json);
		free(r->log[i].verdicts);
	}
	free(r->log);
	for (uint32_t i = 0; i < r->njobs; i++)
		free(r->jobs[i]);
	free(r->jobs);
	free(r->snapshot);
	cs_state_free(r->s);
}

static void test_random_transactions(void **state)
{
	(void)state;
	struct run r;
	memset(&r, 0, sizeof(r));
	r.rng = tl_seed("test_random_transactions");
	const char *n_env = getenv("CELL_RANDOM_TXNS");
	uint32_t n = n_env ? (uint32_t)strtoul(n_env, NULL, 10) : 100000;
	struct cs_config cfg = {.dedup_max = 5000, .dedup_ttl_ms = 20000};
	r.s = cs_state_new(&cfg);
	cs_state_track_changes(r.s, true);
	setup_cell(&r);
	uint32_t snap_at = n / 3 + (uint32_t)cu_rand_below(&r.rng, n / 3 + 1);
	for (uint32_t i = 0; i < n; i++) {
		if (i == snap_at)
			take_snapshot(&r);
		if (i % 500 == 0)
			prune_job_names(&r);
		step(&r);
	}
	check_replays(&r);
	/* the run must have exercised the interesting paths, not only trivia */
	assert_true(r.counts[CS_R_OK] > n / 4);
	assert_true(r.counts[CS_R_SEQ_CHANGED] > 0);
	assert_true(r.counts[CS_R_INSUFFICIENT] + r.counts[CS_R_CONSTRAINT] >
	            0);
	assert_true(r.counts[CS_R_ABORTED] > 0);
	assert_true(r.counts[CS_R_STALE_ATTEMPT] > 0);
	for (int k = 0; k < CS_OP__COUNT; k++)
		if (!r.accepted[k])
			fail_msg("no %s op was accepted: does gens[] generate "
			         "it?",
			         cs_op_name((enum cs_op_kind)k));
	fprintf(stderr,
	        "%u transactions, %u jobs now, %u ops accepted, %u "
	        "seq_changed, %u insufficient, %u aborted\n",
	        n, cs_job_count(r.s), r.counts[CS_R_OK],
	        r.counts[CS_R_SEQ_CHANGED], r.counts[CS_R_INSUFFICIENT],
	        r.counts[CS_R_ABORTED]);
	free_run(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_transactions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
