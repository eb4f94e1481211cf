/* test_store_raft.c: the Raft store (cst_raft_open) on real in-process
 * members over loopback TCP, all on one libev loop: three voters bootstrap
 * and exactly one becomes the writer (on_writer); its submits get verdicts
 * and every replica's on_applied sees them with their changes; a follower
 * refuses with CST_ENOTWRITER and names the writer and its API address;
 * barriers, the member list, a fourth member added as a standby that
 * applies, a handover to a chosen voter at a new epoch; a member restarted
 * from its data dir loads its snapshot (on_restore during the open) and
 * its results still carry changes; writes lost in a handover or a close
 * are answered once each, in the store's words; open errors leave nothing
 * behind.
 * Every wait polls a condition with a generous deadline; no fixed sleeps. */
#include "testlib.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellstore.h"
#include "tl_raftnet.h"
#include "tl_store.h"

#define MEMBERS  4
#define DEADLINE 15.0 /* seconds, for anything that should take < 1 s */

/* One member and what its hooks saw. */
struct member {
	cst_store *s; /* owned; NULL: not open (the net clears it) */
	uint64_t id;
	char address[TL_RAFTNET_ADDR_MAX];
	char api_address[TL_RAFTNET_API_MAX];
	char dir[TL_RAFTNET_DIR_MAX];
	unsigned roles;
	unsigned writers;
	uint64_t epoch;        /* the last on_writer's */
	uint64_t writer_index; /* ... and its applied index */
	unsigned applied;
	unsigned without_changes; /* accepted, not duplicate, no changes */
	unsigned restores;
	uint64_t restore_index;
};

struct cell {
	struct tl_raftnet net; /* first: the net makes the cell */
	struct member m[MEMBERS];
	struct cst_raft_peer peers[3];
};

static bool verbose(void)
{
	return getenv("CELL_TEST_VERBOSE") != NULL;
}

/* ---- hooks --------------------------------------------------------------- */

static void on_role(void *arg, enum cst_role old_role, enum cst_role new_role)
{
	struct member *m = arg;
	assert_int_not_equal(old_role, new_role);
	m->roles++;
}

static void on_writer(void *arg, uint64_t epoch, uint64_t applied_index)
{
	struct member *m = arg;
	assert_true(epoch > 0);
	m->writers++;
	m->epoch = epoch;
	m->writer_index = applied_index;
}

static void on_applied(void *arg, uint64_t index, const cs_txn *txn,
                       const cs_result *res)
{
	struct member *m = arg;
	assert_true(index > 0);
	assert_int_equal(res->nops, txn->nops);
	m->applied++;
	if (res->accepted && !res->duplicate && res->nchanges == 0)
		m->without_changes++;
}

static void on_restore(void *arg, uint64_t applied_index)
{
	struct member *m = arg;
	m->restores++;
	m->restore_index = applied_index;
}

static void on_log(void *arg, enum cst_log_level level, const char *msg)
{
	struct member *m = arg;
	if (verbose() || level >= CST_LOG_ERROR)
		fprintf(stderr, "member %llu: %s\n", (unsigned long long)m->id,
		        msg);
}

/* ---- the loop ------------------------------------------------------------ */

static bool run_until(struct cell *c, tl_raftnet_cond cond, void *arg,
                      double secs)
{
	return tl_raftnet_run_until(&c->net, cond, arg, secs);
}

/* ---- members ------------------------------------------------------------- */

static void member_config(struct cell *c, unsigned i)
{
	struct member *m = &c->m[i];
	memset(m, 0, sizeof(*m));
	m->id = i + 1;
	tl_raftnet_place(&c->net, i, m->address, m->api_address, m->dir);
}

/* Opens member i; voters get the bootstrap list, a joiner none. */
static void open_member(struct cell *c, unsigned i, bool voter,
                        unsigned threshold)
{
	struct member *m = &c->m[i];
	struct cst_hooks hooks = {on_role,    on_writer, on_applied,
	                          on_restore, on_log,    m};
	struct cst_raft_config cfg = {
	    .id = m->id,
	    .address = m->address,
	    .api_address = m->api_address,
	    .data_dir = m->dir,
	    .peers = voter ? c->peers : NULL,
	    .npeers = voter ? 3 : 0,
	    .election_timeout_ms = 300,
	    .heartbeat_timeout_ms = 30,
	    .snapshot_threshold = threshold,
	    .snapshot_trailing = threshold ? threshold / 4 : 0,
	};
	char err[CST_ERRMSG_SIZE];
	if (cst_raft_open(c->net.loop, &cfg, &hooks, &m->s, err, sizeof(err)))
		fail_msg("open member %u: %s", i + 1, err);
}

static void open_cell(struct cell *c, unsigned threshold)
{
	for (unsigned i = 0; i < 3; i++) {
		member_config(c, i);
		c->peers[i] = (struct cst_raft_peer){
		    c->m[i].id, c->m[i].address, c->m[i].api_address};
	}
	for (unsigned i = 0; i < 3; i++)
		open_member(c, i, true, threshold);
}

/* The cell's members as the net sees them: teardown closes those still open
 * and removes the data, even when a test failed. */
static const struct tl_raftnet_kind cell_kind = TL_RAFTNET_KIND(
    TL_RAFTNET_STORES, struct cell, m, s, "cellstore-test", DEADLINE);

/* ---- conditions ---------------------------------------------------------- */

/* Every open member applied what the writer knows committed. */
static bool caught_up(void *ctx, void *arg)
{
	const struct cell *c = ctx;
	struct cst_status w;
	cst_status(c->m[*(unsigned *)arg].s, &w);
	for (unsigned i = 0; i < MEMBERS; i++)
		if (c->m[i].s && cst_applied_index(c->m[i].s) < w.commit_index)
			return false;
	return true;
}

static void assert_same_state(struct cell *c, unsigned writer)
{
	if (!run_until(c, caught_up, &writer, DEADLINE))
		fail_msg("replicas did not catch up");
	uint64_t hash = cs_state_hash(cst_state(c->m[writer].s), 0);
	for (unsigned i = 0; i < MEMBERS; i++) {
		if (!c->m[i].s)
			continue;
		tl_assert_invariants(cst_state(c->m[i].s));
		assert_int_equal(cs_state_hash(cst_state(c->m[i].s), 0), hash);
		assert_int_equal(c->m[i].without_changes, 0);
	}
}

/* ---- writes -------------------------------------------------------------- */

static void on_done(void *arg, int status, const char *msg)
{
	tl_answer_call(arg, status);
	if (status && verbose())
		fprintf(stderr, "done: %s: %s\n", cst_strerror(status), msg);
}

struct answers {
	struct tl_answer *a;
	unsigned n;
};

static bool all_answered(void *ctx, void *arg)
{
	(void)ctx;
	const struct answers *as = arg;
	for (unsigned i = 0; i < as->n; i++)
		if (!as->a[i].calls)
			return false;
	return true;
}

static void wait_answers(struct cell *c, struct tl_answer *a, unsigned n)
{
	struct answers as = {a, n};
	if (!run_until(c, all_answered, &as, DEADLINE))
		fail_msg("%u calls not answered in time", n);
}

static cs_txn *machine_txn(const char *id, const char *name)
{
	struct tl_machine m;
	tl_machine_init(&m, name, 4000, 8192);
	cs_txn *t = cs_txn_new(id, "test", CS_INCREMENTAL, CS_FINE);
	cs_txn_machine_put(t, &m.spec);
	return t;
}

static void submit(struct cell *c, unsigned i, cs_txn *t, struct tl_answer *a)
{
	int rc = cst_submit(c->m[i].s, t, tl_on_answer, a);
	if (rc)
		fail_msg("submit on %u: %s: %s", i + 1, cst_strerror(rc),
		         cst_errmsg(c->m[i].s));
}

/* One machine "<prefix>" through the writer, one entry; accepted. */
static void put_machine(struct cell *c, unsigned writer, const char *name)
{
	struct tl_answer a = {0};
	submit(c, writer, machine_txn(name, name), &a);
	wait_answers(c, &a, 1);
	assert_int_equal(a.status, 0);
	assert_int_equal(a.reason, CS_R_OK);
}

/* ---- tests --------------------------------------------------------------- */

/* Exactly one writer, and on_writer ran there only. */
static unsigned check_one_writer(struct cell *c)
{
	unsigned w = tl_raftnet_wait_writer(&c->net);
	unsigned writers = 0;
	for (unsigned i = 0; i < 3; i++) {
		writers += cst_writable(c->m[i].s);
		struct cst_status st;
		cst_status(c->m[i].s, &st);
		assert_int_equal(st.id, i + 1);
		assert_int_equal(st.writer, i == w);
		assert_int_equal(c->m[i].writers, i == w ? 1 : 0);
		assert_true(c->m[i].roles > 0);
		if (i == w) {
			assert_int_equal(st.role, CST_ROLE_LEADER);
			assert_int_equal(st.term, c->m[i].epoch);
			assert_true(c->m[i].writer_index > 0);
		}
	}
	assert_int_equal(writers, 1);
	return w;
}

static void check_submits(struct cell *c, unsigned w)
{
	struct tl_answer a[3] = {{0}, {0}, {0}};
	submit(c, w, machine_txn("w-1", "m1"), &a[0]);
	submit(c, w, machine_txn("w-2", "m2"), &a[1]);
	submit(c, w, machine_txn("w-1", "m1"), &a[2]);
	for (unsigned k = 0; k < 3; k++)
		assert_int_equal(a[k].calls, 0); /* never inside the call */
	wait_answers(c, a, 3);
	for (unsigned k = 0; k < 3; k++) {
		assert_int_equal(a[k].calls, 1);
		assert_int_equal(a[k].status, 0);
		assert_true(a[k].had_res);
		assert_int_equal(a[k].index, a[0].index); /* one entry */
		assert_int_equal(a[k].reason, CS_R_OK);
	}
	assert_true(a[0].changes > 0);
	assert_true(a[2].duplicate);
	assert_same_state(c, w);
	for (unsigned i = 0; i < 3; i++) {
		assert_true(c->m[i].applied >= 3);
		assert_non_null(cs_machine_find(cst_state(c->m[i].s), "m2"));
	}
	struct cst_stats st;
	cst_stats(c->m[w].s, &st);
	assert_true(st.submitted >= 3);
	assert_true(st.batches >= 1);
	assert_int_equal(st.malformed, 0);
}

static void check_follower(struct cell *c, unsigned w)
{
	unsigned f = (w + 1) % 3;
	struct tl_answer a = {0};
	cs_txn *t = machine_txn("refused", "mz");
	assert_int_equal(cst_submit(c->m[f].s, t, tl_on_answer, &a),
	                 CST_ENOTWRITER);
	cs_txn_free(t); /* still ours */
	assert_non_null(strstr(cst_errmsg(c->m[f].s), c->m[w].api_address));
	struct cst_member m;
	assert_int_equal(cst_writer(c->m[f].s, &m), w + 1);
	assert_int_equal(m.id, w + 1);
	assert_string_equal(m.api_address, c->m[w].api_address);
	assert_string_equal(m.address, c->m[w].address);
	assert_int_equal(m.role, CST_MEMBER_VOTER);
	assert_int_equal(cst_barrier(c->m[f].s, on_done, &a), CST_ENOTWRITER);
	ev_run(c->net.loop, EVRUN_NOWAIT);
	assert_int_equal(a.calls, 0);
}

static void check_barrier_and_dry_run(struct cell *c, unsigned w)
{
	struct tl_answer b = {0};
	assert_int_equal(cst_barrier(c->m[w].s, on_done, &b), 0);
	assert_int_equal(b.calls, 0);
	wait_answers(c, &b, 1);
	assert_int_equal(b.status, 0);
	struct cst_status st;
	cst_status(c->m[w].s, &st);
	assert_int_equal(st.applied_index, st.commit_index);

	const cs_state *s = cst_state(c->m[w].s);
	uint64_t hash = cs_state_hash(s, 0);
	cs_txn *t = machine_txn("dry", "dry");
	cs_result res;
	cst_dry_run(c->m[w].s, t, &res);
	assert_int_equal(res.ops[0].reason, CS_R_OK);
	cs_result_clear(&res);
	cs_txn_free(t);
	assert_int_equal(cs_state_hash(cst_state(c->m[w].s), 0), hash);
	assert_null(cs_machine_find(cst_state(c->m[w].s), "dry"));
}

/* Member i lists `want` members, each with the role expected and the API
 * address it was configured with (learnt through the log). */
static bool lists_members(struct cell *c, unsigned i, unsigned want)
{
	struct cst_member *m;
	unsigned n;
	assert_int_equal(cst_members(c->m[i].s, &m, &n), 0);
	bool ok = n == want;
	for (unsigned k = 0; ok && k < want; k++) {
		const struct cst_member *x = tl_find_member(m, n, k + 1);
		ok = x &&
		     x->role ==
		         (k < 3 ? CST_MEMBER_VOTER : CST_MEMBER_STANDBY) &&
		     strcmp(x->api_address, c->m[k].api_address) == 0 &&
		     strcmp(x->address, c->m[k].address) == 0;
	}
	free(m);
	return ok;
}

struct lists {
	unsigned want;
};

static bool all_list(void *ctx, void *arg)
{
	struct cell *c = ctx;
	unsigned want = ((struct lists *)arg)->want;
	for (unsigned i = 0; i < want; i++)
		if (c->m[i].s && !lists_members(c, i, want))
			return false;
	return true;
}

static void check_standby_joins(struct cell *c, unsigned w)
{
	struct lists three = {3};
	assert_true(run_until(c, all_list, &three, DEADLINE));
	member_config(c, 3);
	open_member(c, 3, false, 0);
	struct tl_answer add = {0};
	assert_int_equal(cst_member_add(c->m[w].s, 4, c->m[3].address,
	                                c->m[3].api_address, CST_MEMBER_STANDBY,
	                                on_done, &add),
	                 0);
	struct tl_answer busy = {0};
	assert_int_equal(cst_member_remove(c->m[w].s, 4, on_done, &busy),
	                 CST_EBUSY);
	wait_answers(c, &add, 1);
	assert_int_equal(add.status, 0);
	assert_int_equal(busy.calls, 0);
	put_machine(c, w, "after-join");
	assert_same_state(c, w);
	assert_true(c->m[3].applied > 0);
	assert_non_null(cs_machine_find(cst_state(c->m[3].s), "after-join"));
	struct lists four = {4};
	assert_true(run_until(c, all_list, &four, DEADLINE));
	struct cst_status st;
	cst_status(c->m[3].s, &st);
	assert_false(st.writer);
	assert_int_equal(st.role, CST_ROLE_FOLLOWER);
	assert_int_equal(c->m[3].writers, 0);
	struct cst_member m;
	assert_int_equal(cst_writer(c->m[3].s, &m), w + 1);
	assert_string_equal(m.api_address, c->m[w].api_address);
}

/* A handover to a chosen voter: a new epoch, at an index past the old. */
static unsigned check_transfer(struct cell *c, unsigned w)
{
	unsigned to = (w + 1) % 3;
	uint64_t epoch = c->m[w].epoch, index = c->m[w].writer_index;
	struct tl_answer moved = {0};
	assert_int_equal(cst_transfer(c->m[w].s, to + 1, on_done, &moved), 0);
	wait_answers(c, &moved, 1);
	assert_int_equal(moved.status, 0);
	unsigned now = tl_raftnet_wait_writer(&c->net);
	assert_int_equal(now, to);
	assert_int_equal(c->m[to].writers, 1);
	assert_true(c->m[to].epoch > epoch);
	assert_true(c->m[to].writer_index > index);
	put_machine(c, to, "after-transfer");
	assert_same_state(c, to);
	return to;
}

static void test_cell(void **state)
{
	struct cell *c = *state;
	open_cell(c, 0);
	unsigned w = check_one_writer(c);
	check_submits(c, w);
	check_follower(c, w);
	check_barrier_and_dry_run(c, w);
	check_standby_joins(c, w);
	w = check_transfer(c, w);
	for (unsigned i = 0; i < MEMBERS; i++)
		tl_raftnet_close_and_wait(&c->net, i);
}

static bool has_snapshot(void *ctx, void *arg)
{
	const struct cell *c = ctx;
	struct cst_stats st;
	cst_stats(c->m[*(unsigned *)arg].s, &st);
	return st.snapshots > 0;
}

/* A member restarted from its data dir loads its snapshot during the open
 * (on_restore), replays and catches up, and its results carry changes. */
static void test_restart_restores(void **state)
{
	struct cell *c = *state;
	open_cell(c, 16); /* snapshots every 16 entries */
	unsigned w = tl_raftnet_wait_writer(&c->net);
	unsigned f = (w + 1) % 3;
	char name[32];
	for (unsigned k = 0; k < 200 && !has_snapshot(c, &f); k++) {
		snprintf(name, sizeof(name), "a%u", k);
		put_machine(c, w, name);
		assert_true(run_until(c, caught_up, &w, DEADLINE));
	}
	assert_true(has_snapshot(c, &f));
	put_machine(c, w, "before-restart");
	assert_same_state(c, w);
	tl_raftnet_close_and_wait(&c->net, f);
	put_machine(c, w, "while-down");

	uint64_t id = c->m[f].id;
	c->m[f].restores = c->m[f].applied = 0;
	open_member(c, f, true, 16);
	assert_int_equal(c->m[f].id, id);
	assert_int_equal(c->m[f].restores, 1); /* during the open */
	assert_true(c->m[f].restore_index > 0);
	struct cst_stats st;
	cst_stats(c->m[f].s, &st);
	assert_int_equal(st.restores, 1);
	assert_same_state(c, w);
	assert_non_null(cs_machine_find(cst_state(c->m[f].s), "while-down"));

	unsigned applied = c->m[f].applied;
	put_machine(c, w, "after-restart");
	assert_same_state(c, w); /* none without changes, f included */
	assert_true(c->m[f].applied > applied);
	assert_int_equal(c->m[f].without_changes, 0);
}

/* Writes the writer loses: queued when a handover begins, never proposed
 * (CST_ENOTCOMMITTED, in no replica); in flight, committed (0) or unknown
 * (CST_EUNKNOWN), and a resend with the same id settles which. */
static void test_handover_answers(void **state)
{
	struct cell *c = *state;
	open_cell(c, 0);
	unsigned w = tl_raftnet_wait_writer(&c->net);
	put_machine(c, w, "warm");
	enum { N = 20 };
	struct tl_answer a[N], b[N];
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	char id[32];
	for (unsigned k = 0; k < N; k++) {
		snprintf(id, sizeof(id), "inflight-%u", k);
		submit(c, w, machine_txn(id, id), &a[k]);
	}
	ev_run(c->net.loop, EVRUN_NOWAIT); /* proposed */
	for (unsigned k = 0; k < N; k++) {
		snprintf(id, sizeof(id), "queued-%u", k);
		submit(c, w, machine_txn(id, id), &b[k]);
	}
	unsigned to = (w + 1) % 3;
	struct tl_answer moved = {0};
	assert_int_equal(cst_transfer(c->m[w].s, to + 1, on_done, &moved), 0);
	wait_answers(c, b, N);
	wait_answers(c, a, N);
	wait_answers(c, &moved, 1);
	for (unsigned k = 0; k < N; k++) {
		assert_int_equal(b[k].calls, 1);
		assert_int_equal(b[k].status, CST_ENOTCOMMITTED);
		assert_false(b[k].had_res);
		assert_int_equal(a[k].calls, 1);
		assert_true(a[k].status == 0 || a[k].status == CST_EUNKNOWN);
	}
	unsigned unknown = 0;
	for (unsigned k = 0; k < N; k++)
		unknown += a[k].status == CST_EUNKNOWN;
	if (verbose())
		fprintf(stderr, "in flight at the handover: %u unknown of %u\n",
		        unknown, (unsigned)N);
	unsigned nw = tl_raftnet_wait_writer(&c->net);
	for (unsigned k = 0; k < N; k++) {
		snprintf(id, sizeof(id), "queued-%u", k);
		assert_null(cs_machine_find(cst_state(c->m[nw].s), id));
	}
	struct tl_answer again[N];
	memset(again, 0, sizeof(again));
	for (unsigned k = 0; k < N; k++) {
		snprintf(id, sizeof(id), "inflight-%u", k);
		submit(c, nw, machine_txn(id, id), &again[k]);
	}
	wait_answers(c, again, N);
	for (unsigned k = 0; k < N; k++) {
		assert_int_equal(again[k].status, 0);
		if (a[k].status == 0) /* it committed: the first verdict */
			assert_true(again[k].duplicate);
		snprintf(id, sizeof(id), "inflight-%u", k);
		assert_non_null(cs_machine_find(cst_state(c->m[nw].s), id));
	}
	assert_same_state(c, nw);
}

/* Closing the writer with writes queued and in flight and a barrier
 * waiting: each answered once (0 or CST_ESHUTDOWN), the close callback
 * after them; the others elect a writer of a later epoch. */
static void test_close_answers(void **state)
{
	struct cell *c = *state;
	open_cell(c, 0);
	unsigned w = tl_raftnet_wait_writer(&c->net);
	uint64_t epoch = c->m[w].epoch;
	enum { N = 200 };
	struct tl_answer *a = calloc(N, sizeof(*a));
	char id[32];
	for (unsigned k = 0; k < N; k++) {
		snprintf(id, sizeof(id), "c-%u", k);
		submit(c, w, machine_txn(id, id), &a[k]);
		if (k == N / 2)
			ev_run(c->net.loop, EVRUN_NOWAIT); /* half proposed */
	}
	struct tl_answer b = {0};
	assert_int_equal(cst_barrier(c->m[w].s, on_done, &b), 0);
	tl_raftnet_close_and_wait(&c->net, w);
	for (unsigned k = 0; k < N; k++) {
		assert_int_equal(a[k].calls, 1);
		assert_true(a[k].status == 0 || a[k].status == CST_ESHUTDOWN);
	}
	assert_int_equal(b.calls, 1);
	free(a);
	unsigned nw = tl_raftnet_wait_writer(&c->net);
	assert_true(c->m[nw].epoch > epoch);
	put_machine(c, nw, "after");
}

/* Open refuses a bad configuration, and a start that fails (the address
 * is taken) leaves nothing running: teardown's leak check sees it. */
static void test_open_errors(void **state)
{
	struct cell *c = *state;
	char err[CST_ERRMSG_SIZE];
	cst_store *s = NULL;
	struct cst_raft_config cfg = {
	    .id = 1, .address = "localhost:9", .data_dir = c->net.dir};
	assert_int_equal(
	    cst_raft_open(c->net.loop, &cfg, NULL, &s, err, sizeof(err)),
	    CST_EINVAL);
	assert_null(s);
	assert_non_null(strstr(err, "IPv4"));
	assert_int_equal(
	    cst_raft_open(c->net.loop, NULL, NULL, &s, err, sizeof(err)),
	    CST_EINVAL);

	open_cell(c, 0);
	member_config(c, 3);
	snprintf(c->m[3].address, sizeof(c->m[3].address), "%s",
	         c->m[0].address);
	struct cst_hooks hooks = {.log = on_log, .arg = &c->m[3]};
	cfg = (struct cst_raft_config){
	    .id = 4, .address = c->m[3].address, .data_dir = c->m[3].dir};
	assert_int_equal(
	    cst_raft_open(c->net.loop, &cfg, &hooks, &s, err, sizeof(err)),
	    CST_EIO);
	assert_null(s);
	assert_non_null(strstr(err, "raft start"));
	/* the cell goes on */
	unsigned w = tl_raftnet_wait_writer(&c->net);
	put_machine(c, w, "still");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TL_RAFTNET_TEST(test_cell, cell_kind),
	    TL_RAFTNET_TEST(test_restart_restores, cell_kind),
	    TL_RAFTNET_TEST(test_handover_answers, cell_kind),
	    TL_RAFTNET_TEST(test_close_answers, cell_kind),
	    TL_RAFTNET_TEST(test_open_errors, cell_kind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
