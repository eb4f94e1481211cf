/* test_raft_tcp.c: real cellraft nodes on loopback TCP with fsync'd data
 * dirs, three (or four) in one process on one libev loop: bootstrap, elect,
 * group-commit writes, close the leader, fail over, restart from disk and
 * catch up; a standby joins and learns every member's API address through
 * the log; closing with writes queued answers each exactly once. Also prints
 * (never asserts) the 1-op transaction throughput through group commit.
 * Every wait polls a condition with a generous deadline; no fixed sleeps. */
#include "testlib.h"

#include <arpa/inet.h>
#include <ev.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cellraft.h"
#include "tl_raftnet.h"
#include "tl_store.h" /* tl_find_member */

#define NODES_MAX 4
#define DEADLINE  10.0 /* seconds, for anything that should take < 1 s */

struct slot {
	cr_node *node;         /* owned; NULL: closed (the net clears it) */
	unsigned applied_hook; /* on_applied calls */
	unsigned trusted_hook; /* on_trusted calls */
	unsigned role_hook;    /* on_role calls */
	struct cr_config cfg;
	char raft_address[TL_RAFTNET_ADDR_MAX];
	char api_address[TL_RAFTNET_API_MAX];
	char dir[TL_RAFTNET_DIR_MAX];
};

struct cell {
	struct tl_raftnet net; /* first: the net makes the cell */
	struct slot s[NODES_MAX];
	struct cst_raft_peer peers[3];
	unsigned nvoters;
};

static bool verbose(void)
{
	return getenv("CELL_TEST_VERBOSE") != NULL;
}

static void on_log(void *arg, enum cst_log_level level, const char *msg)
{
	struct slot *s = arg;
	if (verbose() || level >= CST_LOG_ERROR)
		fprintf(stderr, "node %llu: %s\n",
		        (unsigned long long)s->cfg.raft.id, msg);
}

/* ---- loop helpers -------------------------------------------------------- */

static bool run_until(struct cell *c, tl_raftnet_cond cond, void *arg,
                      double secs)
{
	return tl_raftnet_run_until(&c->net, cond, arg, secs);
}

/* ---- the cell ------------------------------------------------------------ */

static void on_applied(cr_node *node, uint64_t index, const cs_txn *txn,
                       const cs_result *res, void *arg)
{
	struct slot *s = arg;
	assert_ptr_equal(node, s->node);
	assert_int_equal(res->nops, txn->nops);
	assert_true(index > 0);
	s->applied_hook++;
}

static void on_trusted(cr_node *node, uint64_t term, void *arg)
{
	struct slot *s = arg;
	assert_true(cr_node_trusted(node));
	assert_int_equal(cr_node_term(node), term);
	s->trusted_hook++;
}

static void on_role(cr_node *node, enum cst_role old, enum cst_role now,
                    void *arg)
{
	struct slot *s = arg;
	(void)node;
	assert_int_not_equal(old, now);
	s->role_hook++;
}

static struct cr_hooks hooks_for(struct slot *s)
{
	struct cr_hooks h = {0};
	h.on_applied = on_applied;
	h.on_trusted = on_trusted;
	h.on_role = on_role;
	h.log = on_log;
	h.arg = s;
	return h;
}

static struct cr_hooks slot_hooks[NODES_MAX];

static void slot_config(struct cell *c, unsigned i, unsigned threshold)
{
	struct slot *s = &c->s[i];
	tl_raftnet_place(&c->net, i, s->raft_address, s->api_address, s->dir);
	memset(&s->cfg, 0, sizeof(s->cfg));
	s->cfg.raft.id = i + 1;
	s->cfg.raft.address = s->raft_address;
	s->cfg.raft.api_address = s->api_address;
	s->cfg.raft.data_dir = s->dir;
	s->cfg.raft.election_timeout_ms = 300;
	s->cfg.raft.heartbeat_timeout_ms = 30;
	s->cfg.raft.snapshot_threshold = threshold;
	s->cfg.raft.snapshot_trailing = threshold ? threshold / 4 : 0;
	slot_hooks[i] = hooks_for(s);
	s->cfg.hooks = &slot_hooks[i];
}

static void start_slot(struct cell *c, unsigned i)
{
	char err[CST_ERRMSG_SIZE];
	struct slot *s = &c->s[i];
	if (cr_node_init(&s->node, c->net.loop, &s->cfg, err, sizeof(err)))
		fail_msg("init node %u: %s", i + 1, err);
	s->applied_hook = s->trusted_hook = s->role_hook = 0;
	if (cr_node_start(s->node, err, sizeof(err)))
		fail_msg("start node %u: %s", i + 1, err);
}

/* Three voters bootstrapped from one static list. */
static void start_cell(struct cell *c, unsigned threshold)
{
	c->nvoters = 3;
	for (unsigned i = 0; i < 3; i++) {
		slot_config(c, i, threshold);
		c->peers[i] = (struct cst_raft_peer){c->s[i].cfg.raft.id,
		                                     c->s[i].raft_address,
		                                     c->s[i].api_address};
	}
	for (unsigned i = 0; i < 3; i++) {
		c->s[i].cfg.raft.peers = c->peers;
		c->s[i].cfg.raft.npeers = 3;
		start_slot(c, i);
	}
}

/* The cell's nodes as the net sees them: teardown closes those still open
 * and removes the data, even when a test failed. */
static const struct tl_raftnet_kind cell_kind = TL_RAFTNET_KIND(
    TL_RAFTNET_NODES, struct cell, s, node, "cellraft-test", DEADLINE);

/* ---- conditions ---------------------------------------------------------- */

/* Every open node applied the leader's commit index. */
static bool caught_up(void *ctx, void *arg)
{
	const struct cell *c = ctx;
	unsigned leader = *(unsigned *)arg;
	uint64_t commit = cr_node_commit_index(c->s[leader].node);
	for (unsigned i = 0; i < NODES_MAX; i++)
		if (c->s[i].node &&
		    cr_node_applied_index(c->s[i].node) < commit)
			return false;
	return true;
}

static void assert_same_hash(struct cell *c, unsigned leader)
{
	if (!run_until(c, caught_up, &leader, DEADLINE))
		fail_msg("replicas did not catch up with %llu",
		         (unsigned long long)cr_node_commit_index(
		             c->s[leader].node));
	const cs_state *ls = cr_node_state(c->s[leader].node);
	for (unsigned i = 0; i < NODES_MAX; i++) {
		if (!c->s[i].node)
			continue;
		const cs_state *s = cr_node_state(c->s[i].node);
		tl_assert_invariants(s);
		assert_int_equal(cs_state_applied_index(s),
		                 cs_state_applied_index(ls));
		assert_int_equal(cs_state_hash(s, 0), cs_state_hash(ls, 0));
	}
}

/* ---- writes -------------------------------------------------------------- */

struct answer {
	bool done;
	int calls;
	int status;
	uint64_t index;
	bool duplicate;
	uint32_t nops;
	enum cs_reason reason[4];
};

static void on_answer(void *arg, int status, const cs_result *res)
{
	struct answer *a = arg;
	a->done = true;
	a->calls++;
	a->status = status;
	if (status == 0) {
		a->index = res->index;
		a->duplicate = res->duplicate;
		a->nops = res->nops;
		for (uint32_t k = 0; k < res->nops && k < 4; k++)
			a->reason[k] = res->ops[k].reason;
	}
}

static cs_txn *machine_txn(const char *id, const char *name, uint64_t cpu)
{
	struct tl_machine m;
	tl_machine_init(&m, name, cpu, 8192);
	cs_txn *t = cs_txn_new(id, "test", CS_INCREMENTAL, CS_FINE);
	cs_txn_machine_put(t, &m.spec);
	return t;
}

static cs_txn *job_txn(const char *id, const char *name, uint32_t n,
                       uint64_t cpu)
{
	struct tl_job j;
	tl_job_init(&j, name, n, cpu, 512);
	cs_txn *t = cs_txn_new(id, "test", CS_INCREMENTAL, CS_FINE);
	cs_txn_job_put(t, &j.spec);
	return t;
}

static cs_txn *place_txn(const char *id, const char *job, uint32_t task,
                         const char *machine)
{
	cs_txn *t = cs_txn_new(id, "sched", CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, job, task, machine, 0);
	return t;
}

static void submit(struct cell *c, unsigned i, cs_txn *t, struct answer *a)
{
	int rv = cr_node_submit(c->s[i].node, t, on_answer, a);
	if (rv != 0)
		fail_msg("submit on %u: %s: %s", i + 1, cr_strerror(rv),
		         cr_node_errmsg(c->s[i].node));
}

struct answers {
	struct answer *a;
	unsigned n;
};

static bool all_answered(void *ctx, void *arg)
{
	(void)ctx;
	struct answers *as = arg;
	for (unsigned i = 0; i < as->n; i++)
		if (!as->a[i].done)
			return false;
	return true;
}

static void wait_answers(struct cell *c, struct answer *a, unsigned n)
{
	struct answers as = {a, n};
	if (!run_until(c, all_answered, &as, DEADLINE))
		fail_msg("%u submits not answered in time", n);
}

/* n machines "<prefix>-<k>" through the leader; all accepted. */
static void put_machines(struct cell *c, unsigned leader, const char *prefix,
                         unsigned n)
{
	struct answer *a = calloc(n, sizeof(*a));
	char id[64], name[64];
	for (unsigned k = 0; k < n; k++) {
		snprintf(id, sizeof(id), "txn-%s-%u", prefix, k);
		snprintf(name, sizeof(name), "%s-%u", prefix, k);
		submit(c, leader, machine_txn(id, name, 1000), &a[k]);
	}
	wait_answers(c, a, n);
	for (unsigned k = 0; k < n; k++) {
		assert_int_equal(a[k].calls, 1);
		assert_int_equal(a[k].status, 0);
		assert_int_equal(a[k].reason[0], CS_R_OK);
	}
	free(a);
}

/* ---- tests --------------------------------------------------------------- */

static void check_first_writes(struct cell *c, unsigned leader)
{
	struct answer a[6] = {0};
	submit(c, leader, machine_txn("w-m1", "m1", 4000), &a[0]);
	submit(c, leader, job_txn("w-j1", "j1", 3, 1500), &a[1]);
	submit(c, leader, place_txn("w-p0", "j1", 0, "m1"), &a[2]);
	submit(c, leader, place_txn("w-p1", "j1", 1, "m1"), &a[3]);
	submit(c, leader, place_txn("w-p2", "j1", 2, "m1"), &a[4]);
	submit(c, leader, place_txn("w-p0", "j1", 0, "m1"), &a[5]);
	wait_answers(c, a, 6);
	for (unsigned k = 0; k < 6; k++) {
		assert_int_equal(a[k].calls, 1);
		assert_int_equal(a[k].status, 0);
		assert_int_equal(a[k].index, a[0].index); /* one entry */
	}
	assert_int_equal(a[2].reason[0], CS_R_OK);
	assert_int_equal(a[3].reason[0], CS_R_OK);
	assert_int_equal(a[4].reason[0], CS_R_INSUFFICIENT);
	assert_true(a[5].duplicate);
}

static void check_follower_refuses(struct cell *c, unsigned leader)
{
	unsigned f = (leader + 1) % 3;
	cs_txn *t = machine_txn("refused", "mz", 1000);
	struct answer a = {0};
	assert_int_equal(cr_node_submit(c->s[f].node, t, on_answer, &a),
	                 CR_ENOTLEADER);
	cs_txn_free(t); /* still ours: submit failed */
	assert_non_null(
	    strstr(cr_node_errmsg(c->s[f].node), c->s[leader].api_address));
	struct cst_member m;
	assert_int_equal(cr_node_leader(c->s[f].node, &m), leader + 1);
	assert_string_equal(m.api_address, c->s[leader].api_address);
	assert_string_equal(m.address, c->s[leader].raft_address);
}

/* Bootstrap, write, lose the leader, keep writing, restart it from disk. */
static void test_failover_and_restart(void **state)
{
	struct cell *c = *state;
	start_cell(c, 64); /* snapshots every 64 entries: restarts load one */
	unsigned leader = tl_raftnet_wait_writer(&c->net);
	check_first_writes(c, leader);
	check_follower_refuses(c, leader);
	put_machines(c, leader, "a", 300);
	assert_same_hash(c, leader);

	tl_raftnet_close_and_wait(&c->net, leader);
	unsigned old = leader;
	leader = tl_raftnet_wait_writer(&c->net);
	assert_int_not_equal(leader, old);
	for (unsigned k = 0; k < 100; k++) { /* > threshold entries */
		char name[16];
		snprintf(name, sizeof(name), "b%u", k);
		put_machines(c, leader, name, 1);
	}
	assert_same_hash(c, leader);

	start_slot(c, old); /* same config, same data dir */
	assert_same_hash(c, leader);
	assert_non_null(
	    cs_machine_find(cr_node_state(c->s[old].node), "b99-0"));

	/* Once it has a snapshot of its own, a restart loads it from disk and
	 * replays only the log after it. */
	struct cst_stats st;
	for (unsigned k = 0; k < 200; k++) {
		cr_node_stats(c->s[old].node, &st);
		if (st.snapshots > 0)
			break;
		char name[16];
		snprintf(name, sizeof(name), "c%u", k);
		put_machines(c, leader, name, 1);
		assert_true(run_until(c, caught_up, &leader, DEADLINE));
	}
	assert_true(st.snapshots > 0);
	put_machines(c, leader, "d", 5);
	assert_same_hash(c, leader);
	tl_raftnet_close_and_wait(&c->net, old);
	put_machines(c, leader, "e", 5); /* written while it is down */
	start_slot(c, old);
	cr_node_stats(c->s[old].node, &st);
	assert_int_equal(st.restores, 1);
	assert_same_hash(c, leader);
	assert_non_null(cs_machine_find(cr_node_state(c->s[old].node), "e-4"));
	assert_int_equal(st.malformed, 0);
}

static void on_done(void *arg, int status, const char *msg)
{
	struct answer *a = arg;
	a->done = true;
	a->calls++;
	a->status = status;
	if (status && verbose())
		fprintf(stderr, "change: %s\n", msg);
}

static bool node_caught_up(void *ctx, void *arg)
{
	const struct cell *c = ctx;
	unsigned *pair = arg;
	return cr_node_applied_index(c->s[pair[0]].node) >=
	       cr_node_commit_index(c->s[pair[1]].node);
}

/* A standby joins a running cell, applies the log, and knows every member's
 * API address from the replicated table (it was configured with none). */
static void test_standby_joins(void **state)
{
	struct cell *c = *state;
	start_cell(c, 0);
	unsigned leader = tl_raftnet_wait_writer(&c->net);
	put_machines(c, leader, "s", 20);

	/* hand leadership to a chosen voter first */
	unsigned target = (leader + 1) % 3;
	struct answer moved = {0};
	assert_int_equal(
	    cr_node_transfer(c->s[leader].node, target + 1, on_done, &moved),
	    0);
	wait_answers(c, &moved, 1);
	assert_int_equal(moved.status, 0);
	leader = tl_raftnet_wait_writer(&c->net);
	assert_int_equal(leader, target);
	slot_config(c, 3, 0); /* npeers = 0: join */
	start_slot(c, 3);
	struct answer add = {0};
	assert_int_equal(cr_node_add(c->s[leader].node, 4, c->s[3].raft_address,
	                             c->s[3].api_address, CST_MEMBER_STANDBY,
	                             on_done, &add),
	                 0);
	wait_answers(c, &add, 1);
	assert_int_equal(add.status, 0);
	put_machines(c, leader, "t", 20);
	unsigned pair[2] = {3, leader};
	assert_true(run_until(c, node_caught_up, pair, DEADLINE));
	assert_same_hash(c, leader);

	struct cst_member *m;
	unsigned n;
	cr_node_members(c->s[3].node, &m, &n);
	assert_int_equal(n, 4);
	for (unsigned i = 0; i < 4; i++) {
		const struct cst_member *x = tl_find_member(m, n, i + 1);
		assert_non_null(x);
		assert_int_equal(x->role,
		                 i < 3 ? CST_MEMBER_VOTER : CST_MEMBER_STANDBY);
		assert_string_equal(x->api_address, c->s[i].api_address);
		assert_string_equal(x->address, c->s[i].raft_address);
	}
	free(m);
	struct cst_member l;
	assert_int_equal(cr_node_leader(c->s[3].node, &l), leader + 1);
	assert_string_equal(l.api_address, c->s[leader].api_address);
	assert_int_equal(cr_node_role(c->s[3].node), CST_ROLE_FOLLOWER);

	struct answer rm = {0};
	assert_int_equal(cr_node_remove(c->s[leader].node, 4, on_done, &rm), 0);
	wait_answers(c, &rm, 1);
	assert_int_equal(rm.status, 0);
	cr_node_members(c->s[leader].node, &m, &n);
	assert_int_equal(n, 3);
	free(m);
}

/* Writes queued or in flight when the leader closes: each gets exactly one
 * callback, CR_ESHUTDOWN (unknown outcome) or its verdict. */
static void test_close_answers_everyone(void **state)
{
	struct cell *c = *state;
	start_cell(c, 0);
	unsigned leader = tl_raftnet_wait_writer(&c->net);
	enum { N = 500 };
	struct answer *a = calloc(N, sizeof(*a));
	char id[32];
	for (unsigned k = 0; k < N; k++) {
		snprintf(id, sizeof(id), "c-%u", k);
		submit(c, leader, machine_txn(id, id, 1000), &a[k]);
		if (k == N / 2)
			ev_run(c->net.loop, EVRUN_NOWAIT); /* half proposed */
	}
	struct answer b = {0};
	assert_int_equal(cr_node_barrier(c->s[leader].node, on_done, &b), 0);
	tl_raftnet_close_and_wait(&c->net, leader);
	for (unsigned k = 0; k < N; k++) {
		assert_int_equal(a[k].calls, 1);
		assert_true(a[k].status == 0 || a[k].status == CR_ESHUTDOWN);
	}
	assert_int_equal(b.calls, 1);
	free(a);
	/* the survivors still form a cell */
	leader = tl_raftnet_wait_writer(&c->net);
	put_machines(c, leader, "after", 3);
}

/* ---- throughput (reported, not asserted) --------------------------------- */

struct load_rec {
	struct load *l;
	double t0;
};

struct load {
	struct cell *c;
	unsigned leader;
	unsigned total;
	unsigned sent;
	unsigned done;
	unsigned failed;
	struct load_rec *rec;
	double *latency; /* seconds, per answered txn */
};

static void load_submit(struct load *l);

static void on_load(void *arg, int status, const cs_result *res)
{
	(void)res;
	struct load_rec *r = arg;
	struct load *l = r->l;
	if (status != 0)
		l->failed++;
	l->latency[l->done++] = ev_time() - r->t0;
	load_submit(l);
}

static void load_submit(struct load *l)
{
	if (l->sent == l->total)
		return;
	char id[32];
	snprintf(id, sizeof(id), "load-%u", l->sent);
	cs_txn *t = cs_txn_new(id, "load", CS_INCREMENTAL, CS_FINE);
	cs_txn_machine_state(t, "m1", CS_MACHINE_UP);
	struct load_rec *r = &l->rec[l->sent++];
	r->l = l;
	r->t0 = ev_time();
	if (cr_node_submit(l->c->s[l->leader].node, t, on_load, r) != 0) {
		cs_txn_free(t);
		l->failed++;
		l->latency[l->done++] = 0;
	}
}

static bool load_done(void *ctx, void *arg)
{
	(void)ctx;
	struct load *l = arg;
	return l->done == l->total;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void run_load(struct cell *c, unsigned leader, unsigned window,
                     unsigned total)
{
	struct load l = {c, leader, total, 0, 0, 0, NULL, NULL};
	l.rec = calloc(total, sizeof(*l.rec));
	l.latency = calloc(total, sizeof(*l.latency));
	struct cst_stats before, after;
	cr_node_stats(c->s[leader].node, &before);
	double t0 = ev_time();
	for (unsigned k = 0; k < window; k++)
		load_submit(&l);
	assert_true(run_until(c, load_done, &l, 60.0));
	double secs = ev_time() - t0;
	cr_node_stats(c->s[leader].node, &after);
	uint64_t batches = after.batches - before.batches;
	qsort(l.latency, total, sizeof(double), cmp_double);
	printf("cellraft 1-op txns, 3 nodes in 1 process, loopback, fsync: "
	       "%4u in flight: %7.0f txns/s, %.1f txns/entry, latency p50 "
	       "%.2f ms p99 %.2f ms\n",
	       window, total / secs,
	       batches ? (double)total / (double)batches : 0.0,
	       l.latency[total / 2] * 1e3, l.latency[total * 99 / 100] * 1e3);
	assert_int_equal(l.failed, 0);
	free(l.rec);
	free(l.latency);
}

static void test_throughput(void **state)
{
	struct cell *c = *state;
	start_cell(c, 0);
	unsigned leader = tl_raftnet_wait_writer(&c->net);
	struct answer a = {0};
	submit(c, leader, machine_txn("m1", "m1", 1000), &a);
	wait_answers(c, &a, 1);
	run_load(c, leader, 1, 2000);
	run_load(c, leader, 64, 20000);
	run_load(c, leader, 1024, 50000);
	assert_same_hash(c, leader);
	for (unsigned i = 0; i < 3; i++) { /* every replica saw every txn */
		assert_int_equal(c->s[i].applied_hook,
		                 c->s[leader].applied_hook);
		assert_true(c->s[i].role_hook >= 1);
	}
	assert_int_equal(c->s[leader].trusted_hook, 1);
}

static void expect_init_error(struct cell *c, const struct cr_config *cfg,
                              int code, const char *needle)
{
	char err[CST_ERRMSG_SIZE] = "";
	cr_node *n = (cr_node *)1;
	assert_int_equal(cr_node_init(&n, c->net.loop, cfg, err, sizeof(err)),
	                 code);
	assert_null(n);
	if (!strstr(err, needle))
		fail_msg("expected '%s' in: %s", needle, err);
}

/* Bad configurations are refused with the field named, and nothing leaks;
 * a node that cannot listen fails to start and still closes cleanly, as
 * does one closed before it started. */
static void test_config_errors(void **state)
{
	struct cell *c = *state;
	slot_config(c, 0, 0);
	struct cr_config cfg = c->s[0].cfg;
	cfg.raft.address = "localhost:9001";
	expect_init_error(c, &cfg, CR_EINVAL, "raft_address");
	cfg = c->s[0].cfg;
	cfg.raft.id = 0;
	expect_init_error(c, &cfg, CR_EINVAL, "id");
	cfg = c->s[0].cfg;
	cfg.raft.heartbeat_timeout_ms = cfg.raft.election_timeout_ms;
	expect_init_error(c, &cfg, CR_EINVAL, "heartbeat_timeout_ms");
	struct cst_raft_peer peers[2] = {{2, "127.0.0.1:1", NULL},
	                                 {3, "127.0.0.1:2", NULL}};
	cfg = c->s[0].cfg;
	cfg.raft.peers = peers;
	cfg.raft.npeers = 2;
	expect_init_error(c, &cfg, CR_EINVAL, "not in the bootstrap list");
	peers[0] = (struct cst_raft_peer){1, c->s[0].raft_address, NULL};
	peers[1].id = 1; /* a second member with id 1 */
	expect_init_error(c, &cfg, CR_EINVAL, "already used");
	char file[600];
	snprintf(file, sizeof(file), "%s/plain-file", c->net.dir);
	FILE *fp = fopen(file, "w");
	assert_non_null(fp);
	fclose(fp);
	cfg = c->s[0].cfg;
	cfg.raft.data_dir = file;
	expect_init_error(c, &cfg, CR_EIO, "not a directory");

	/* close before start */
	start_cell(c, 0);
	unsigned leader = tl_raftnet_wait_writer(&c->net);
	(void)leader;
	struct slot *s = &c->s[3];
	slot_config(c, 3, 0);
	char err[CST_ERRMSG_SIZE];
	assert_int_equal(
	    cr_node_init(&s->node, c->net.loop, &s->cfg, err, sizeof(err)), 0);
	tl_raftnet_close_and_wait(&c->net, 3);

	/* a port somebody else listens on: start fails, close still works */
	s->cfg.raft.address = c->s[0].raft_address;
	snprintf(s->dir, sizeof(s->dir), "%s/node-busy", c->net.dir);
	assert_int_equal(
	    cr_node_init(&s->node, c->net.loop, &s->cfg, err, sizeof(err)), 0);
	int rv = cr_node_start(s->node, err, sizeof(err));
	assert_int_equal(rv, CR_EIO);
	assert_non_null(strstr(err, "raft start"));
	if (verbose())
		fprintf(stderr, "%s\n", err);
	tl_raftnet_close_and_wait(&c->net, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TL_RAFTNET_TEST(test_failover_and_restart, cell_kind),
	    TL_RAFTNET_TEST(test_standby_joins, cell_kind),
	    TL_RAFTNET_TEST(test_close_answers_everyone, cell_kind),
	    TL_RAFTNET_TEST(test_config_errors, cell_kind),
	    TL_RAFTNET_TEST(test_throughput, cell_kind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
