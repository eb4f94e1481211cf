/* test_store_fake.c: the in-memory fake store and the dispatch in front of
 * it: every control (flush, set_writer, fail_next, apply, restore), the
 * callback rules (never from inside the call, exactly once, ESHUTDOWN at
 * close), writer changes with new epochs, unknown outcomes that did and did
 * not apply, the restore hook with change tracking on the restored state,
 * the membership extra answering CST_ENOTSUP or trivially, and the fake on
 * a libev loop flushing by itself. */
#include "testlib.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>

#include "cellstore.h"
#include "tl_store.h"

/* ---- what the hooks and callbacks saw ------------------------------------ */

struct rec {
	unsigned roles;
	enum cst_role role; /* the last new role */
	unsigned writers;
	uint64_t epoch, writer_index; /* the last on_writer's */
	unsigned applied;
	uint64_t applied_index;
	uint32_t changes; /* of the last applied result */
	unsigned restores;
	uint64_t restore_index;
	unsigned clock_calls;
	unsigned order; /* every callback below takes the next number */
};

static void on_role(void *arg, enum cst_role old_role, enum cst_role new_role)
{
	struct rec *r = arg;
	assert_int_not_equal(old_role, new_role);
	r->roles++;
	r->role = new_role;
}

static void on_writer(void *arg, uint64_t epoch, uint64_t applied_index)
{
	struct rec *r = arg;
	assert_true(epoch > r->epoch);
	assert_true(applied_index > r->writer_index);
	r->writers++;
	r->epoch = epoch;
	r->writer_index = applied_index;
}

static void on_applied(void *arg, uint64_t index, const cs_txn *txn,
                       const cs_result *res)
{
	struct rec *r = arg;
	assert_int_equal(res->nops, txn->nops);
	if (!res->duplicate) /* a duplicate names its first index */
		assert_int_equal(res->index, index);
	r->applied++;
	r->applied_index = index;
	r->changes = res->nchanges;
}

static void on_restore(void *arg, uint64_t applied_index)
{
	struct rec *r = arg;
	r->restores++;
	r->restore_index = applied_index;
}

static int64_t clock_ms(void *arg)
{
	struct rec *r = arg;
	r->clock_calls++;
	return 1700000000000;
}

static void on_done(void *arg, int status, const char *msg)
{
	struct tl_answer *a = arg;
	assert_non_null(msg);
	if (status == 0)
		assert_string_equal(msg, "");
	tl_answer_call(a, status);
}

static void on_closed(void *arg)
{
	tl_answer_call(arg, 0);
}

/* ---- fixtures ------------------------------------------------------------ */

struct t {
	struct rec rec;
	struct cst_hooks hooks;
	cst_store *s;
	bool closed; /* the test closed it itself */
};

static struct t *open_fake(void **state, bool writer, bool membership,
                           bool clock)
{
	struct t *t = calloc(1, sizeof(*t));
	t->hooks = (struct cst_hooks){on_role,    on_writer, on_applied,
	                              on_restore, NULL,      &t->rec};
	struct cst_fake_config cfg = {.id = 1,
	                              .api_address = "http://127.0.0.1:8001",
	                              .writer = writer,
	                              .membership = membership};
	if (clock) {
		cfg.now_ms = clock_ms;
		cfg.clock_arg = &t->rec;
	}
	assert_int_equal(cst_fake_open(&cfg, &t->hooks, &t->s), 0);
	*state = t;
	return t;
}

static int teardown(void **state)
{
	struct t *t = *state;
	if (t && !t->closed) {
		struct tl_answer closed = {.clock = &t->rec.order};
		cst_close(t->s, on_closed, &closed);
		cst_fake_flush(t->s); /* frees it */
		assert_int_equal(closed.calls, 1);
	}
	free(t);
	return 0;
}

static cs_txn *machine_txn(const char *id, const char *name)
{
	struct tl_machine m;
	tl_machine_init(&m, name, 4000, 8192);
	cs_txn *t = cs_txn_new(id, "test", CS_INCREMENTAL, CS_FINE);
	cs_txn_machine_put(t, &m.spec);
	return t;
}

static void submit_ok(cst_store *s, cs_txn *txn, struct tl_answer *a)
{
	int rc = cst_submit(s, txn, tl_on_answer, a);
	if (rc)
		fail_msg("submit: %s: %s", cst_strerror(rc), cst_errmsg(s));
}

/* Becomes the writer at the first flush. */
static void elect(struct t *t)
{
	unsigned before = t->rec.writers;
	cst_fake_flush(t->s);
	assert_int_equal(t->rec.writers, before + 1);
	assert_true(cst_writable(t->s));
}

/* ---- tests --------------------------------------------------------------- */

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(cst_strerror(0), "ok");
	assert_non_null(strstr(cst_strerror(CST_ENOTSUP), "no such operation"));
	assert_string_equal(cst_strerror(CST_ERROR__COUNT), "unknown error");
	assert_string_equal(cst_strerror(-1), "unknown error");
	assert_string_equal(cst_role_name(CST_ROLE_LEADER), "leader");
	assert_string_equal(cst_role_name((enum cst_role)9), "invalid");
	assert_string_equal(cst_member_role_name(CST_MEMBER_STANDBY),
	                    "standby");
	assert_int_equal(cst_member_role_parse("voter"), CST_MEMBER_VOTER);
	assert_int_equal(cst_member_role_parse("spare"), CST_MEMBER_SPARE);
	assert_int_equal(cst_member_role_parse("boss"), -1);
	assert_int_equal(cst_member_role_parse(NULL), -1);
}

/* Submits wait for the flush; one flush is one entry with the clock's time;
 * each callback runs once with the verdicts and changes. */
static void test_submit_and_flush(void **state)
{
	struct t *t = open_fake(state, true, false, true);
	struct tl_answer a[4] = {{.clock = &t->rec.order},
	                         {.clock = &t->rec.order},
	                         {.clock = &t->rec.order},
	                         {.clock = &t->rec.order}};
	/* Not the writer before the first flush. */
	assert_false(cst_writable(t->s));
	cs_txn *early = machine_txn("early", "m0");
	assert_int_equal(cst_submit(t->s, early, tl_on_answer, &a[0]),
	                 CST_ENOTWRITER);
	assert_non_null(strstr(cst_errmsg(t->s), "not the writer"));
	cs_txn_free(early); /* still ours */
	assert_int_equal(a[0].calls, 0);

	elect(t);
	assert_int_equal(t->rec.role, CST_ROLE_LEADER);
	assert_int_equal(t->rec.epoch, 1);
	assert_int_equal(t->rec.writer_index, 1); /* its own entry */
	assert_int_equal(cst_applied_index(t->s), 1);
	assert_int_equal(t->rec.clock_calls, 0);

	submit_ok(t->s, machine_txn("t1", "m1"), &a[0]);
	submit_ok(t->s, machine_txn("t2", "m2"), &a[1]);
	submit_ok(t->s, machine_txn("t1", "m1"), &a[2]); /* same id */
	for (int i = 0; i < 3; i++)
		assert_int_equal(a[i].calls, 0); /* never inside the call */
	struct cst_stats st;
	cst_stats(t->s, &st);
	assert_int_equal(st.submitted, 3);
	assert_int_equal(st.queued, 3);

	assert_int_equal(cst_fake_flush(t->s), 3);
	assert_int_equal(t->rec.clock_calls, 1); /* one entry, one time */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(a[i].calls, 1);
		assert_int_equal(a[i].status, 0);
		assert_true(a[i].had_res);
		assert_int_equal(a[i].index, 2);
		assert_int_equal(a[i].reason, CS_R_OK);
	}
	assert_true(a[0].changes > 0);
	assert_true(a[2].duplicate);
	assert_int_equal(a[2].changes, 0);
	assert_int_equal(t->rec.applied, 3);
	assert_int_equal(t->rec.applied_index, 2);
	assert_int_equal(cst_applied_index(t->s), 2);
	assert_non_null(cs_machine_find(cst_state(t->s), "m2"));
	cst_stats(t->s, &st);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.applied, 3);
	assert_int_equal(st.batches, 1);

	struct cst_status status;
	cst_status(t->s, &status);
	assert_int_equal(status.id, 1);
	assert_int_equal(status.role, CST_ROLE_LEADER);
	assert_true(status.writer);
	assert_int_equal(status.term, 1);
	assert_int_equal(status.applied_index, 2);

	/* An empty flush is no entry and calls nobody. */
	assert_int_equal(cst_fake_flush(t->s), 0);
	assert_int_equal(cst_applied_index(t->s), 2);
	assert_int_equal(a[0].calls, 1);

	/* What every store refuses, synchronously, leaving the txn ours. */
	struct tl_machine m;
	tl_machine_init(&m, "bad name!", 1, 1);
	cs_txn *bad = cs_txn_new("bad", "test", CS_INCREMENTAL, CS_FINE);
	cs_txn_machine_put(bad, &m.spec);
	assert_int_equal(cst_submit(t->s, bad, tl_on_answer, &a[3]),
	                 CST_EINVAL);
	assert_non_null(strstr(cst_errmsg(t->s), "bad"));
	cs_txn_free(bad);
	assert_int_equal(cst_submit(t->s, NULL, tl_on_answer, &a[3]),
	                 CST_EINVAL);
	cs_txn *no_cb = machine_txn("x", "x");
	assert_int_equal(cst_submit(t->s, no_cb, NULL, NULL), CST_EINVAL);
	cs_txn_free(no_cb);
	cst_fake_flush(t->s);
	assert_int_equal(a[3].calls, 0);
}

/* What a callback submits waits for the next flush; a flush from inside a
 * callback does nothing. */
struct chain {
	cst_store *s;
	struct tl_answer first, second;
	unsigned nested_flush;
};

static void on_first(void *arg, int status, const cs_result *res)
{
	struct chain *c = arg;
	tl_on_answer(&c->first, status, res);
	c->nested_flush = cst_fake_flush(c->s);
	submit_ok(c->s, machine_txn("second", "m-second"), &c->second);
}

static void test_callbacks_from_the_flush(void **state)
{
	struct t *t = open_fake(state, true, false, false);
	elect(t);
	struct chain c = {.s = t->s};
	c.first.clock = c.second.clock = &t->rec.order;
	assert_int_equal(
	    cst_submit(t->s, machine_txn("first", "m-first"), on_first, &c), 0);
	assert_int_equal(cst_fake_flush(t->s), 1);
	assert_int_equal(c.first.calls, 1);
	assert_int_equal(c.nested_flush, 0);
	assert_int_equal(c.second.calls, 0);
	assert_int_equal(cst_fake_flush(t->s), 1);
	assert_int_equal(c.second.calls, 1);
	assert_int_equal(c.second.status, 0);
	assert_int_equal(c.second.index, c.first.index + 1);
	assert_non_null(cs_machine_find(cst_state(t->s), "m-second"));
}

/* Losing the role: ENOTCOMMITTED for what was queued, ENOTWRITER for a
 * barrier, and cst_writer names the new writer; regaining it: a new epoch
 * at an index no earlier epoch reached. */
static void test_writer_changes(void **state)
{
	struct t *t = open_fake(state, true, false, false);
	elect(t);
	uint64_t first_epoch = t->rec.epoch;
	uint64_t first_index = t->rec.writer_index;
	struct cst_member w;
	assert_int_equal(cst_writer(t->s, &w), 1);
	assert_string_equal(w.api_address, "http://127.0.0.1:8001");

	struct tl_answer q[2] = {{.clock = &t->rec.order},
	                         {.clock = &t->rec.order}};
	struct tl_answer b = {.clock = &t->rec.order};
	submit_ok(t->s, machine_txn("q1", "q1"), &q[0]);
	submit_ok(t->s, machine_txn("q2", "q2"), &q[1]);
	assert_int_equal(cst_barrier(t->s, on_done, &b), 0);
	cst_fake_set_writer(t->s, false, 2, "http://127.0.0.1:8002");
	assert_false(cst_writable(t->s));
	assert_int_equal(q[0].calls + q[1].calls + b.calls, 0);
	assert_int_equal(cst_writer(t->s, &w), 2);
	assert_int_equal(w.id, 2);
	assert_string_equal(w.api_address, "http://127.0.0.1:8002");
	cs_txn *refused = machine_txn("r", "r");
	assert_int_equal(cst_submit(t->s, refused, tl_on_answer, &q[0]),
	                 CST_ENOTWRITER);
	assert_non_null(strstr(cst_errmsg(t->s), "http://127.0.0.1:8002"));
	cs_txn_free(refused);
	assert_int_equal(cst_barrier(t->s, on_done, &b), CST_ENOTWRITER);

	unsigned roles = t->rec.roles;
	assert_int_equal(cst_fake_flush(t->s), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(q[i].calls, 1);
		assert_int_equal(q[i].status, CST_ENOTCOMMITTED);
		assert_false(q[i].had_res);
	}
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.status, CST_ENOTWRITER);
	assert_int_equal(t->rec.roles, roles + 1);
	assert_int_equal(t->rec.role, CST_ROLE_FOLLOWER);
	assert_null(cs_machine_find(cst_state(t->s), "q1"));

	/* An election: nobody writes. */
	cst_fake_set_writer(t->s, false, 0, NULL);
	assert_int_equal(cst_writer(t->s, &w), 0);
	assert_int_equal(w.id, 0);

	cst_fake_set_writer(t->s, true, 0, NULL);
	assert_false(cst_writable(t->s)); /* until on_writer */
	elect(t);
	assert_true(t->rec.epoch > first_epoch);
	assert_true(t->rec.writer_index > first_index);
	assert_int_equal(t->rec.role, CST_ROLE_LEADER);
	struct cst_status st;
	cst_status(t->s, &st);
	assert_int_equal(st.term, t->rec.epoch);
	assert_int_equal(st.applied_index, t->rec.writer_index);

	/* A re-election while writing: still writable, a new epoch. */
	uint64_t epoch = t->rec.epoch;
	cst_fake_set_writer(t->s, true, 0, NULL);
	assert_true(cst_writable(t->s));
	elect(t);
	assert_true(t->rec.epoch > epoch);
}

/* fail_next: an unknown outcome that did commit (a resend is a duplicate)
 * and one that did not (a resend applies). */
static void test_unknown_outcomes(void **state)
{
	struct t *t = open_fake(state, true, false, false);
	elect(t);
	struct tl_answer a = {.clock = &t->rec.order},
	                 again = {.clock = &t->rec.order};

	cst_fake_fail_next(t->s, 1, CST_EUNKNOWN, true);
	submit_ok(t->s, machine_txn("u1", "u1"), &a);
	unsigned applied = t->rec.applied;
	assert_int_equal(cst_fake_flush(t->s), 1);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, CST_EUNKNOWN);
	assert_false(a.had_res);
	assert_int_equal(t->rec.applied, applied + 1);
	assert_non_null(cs_machine_find(cst_state(t->s), "u1"));
	submit_ok(t->s, machine_txn("u1", "u1"), &again);
	cst_fake_flush(t->s);
	assert_int_equal(again.status, 0);
	assert_true(again.duplicate);

	memset(&a, 0, sizeof(a));
	memset(&again, 0, sizeof(again));
	a.clock = again.clock = &t->rec.order;
	cst_fake_fail_next(t->s, 1, CST_EUNKNOWN, false);
	submit_ok(t->s, machine_txn("u2", "u2"), &a);
	applied = t->rec.applied;
	uint64_t index = cst_applied_index(t->s);
	assert_int_equal(cst_fake_flush(t->s), 0);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, CST_EUNKNOWN);
	assert_int_equal(t->rec.applied, applied);
	assert_int_equal(cst_applied_index(t->s), index); /* no entry */
	assert_null(cs_machine_find(cst_state(t->s), "u2"));
	submit_ok(t->s, machine_txn("u2", "u2"), &again);
	cst_fake_flush(t->s);
	assert_int_equal(again.status, 0);
	assert_false(again.duplicate);
	assert_non_null(cs_machine_find(cst_state(t->s), "u2"));

	/* n of them, then verdicts again. */
	struct tl_answer e[3] = {{.clock = &t->rec.order},
	                         {.clock = &t->rec.order},
	                         {.clock = &t->rec.order}};
	cst_fake_fail_next(t->s, 2, CST_EIO, false);
	submit_ok(t->s, machine_txn("e1", "e1"), &e[0]);
	submit_ok(t->s, machine_txn("e2", "e2"), &e[1]);
	submit_ok(t->s, machine_txn("e3", "e3"), &e[2]);
	assert_int_equal(cst_fake_flush(t->s), 1);
	assert_int_equal(e[0].status, CST_EIO);
	assert_int_equal(e[1].status, CST_EIO);
	assert_int_equal(e[2].status, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(e[i].calls, 1);
}

/* Another writer's entry, then a snapshot: on_restore, and the restored
 * state tracks changes. */
static void test_apply_and_restore(void **state)
{
	struct t *t = open_fake(state, false, false, false);
	assert_false(cst_writable(t->s));
	cs_result res = cst_fake_apply(t->s, machine_txn("o1", "o1"));
	assert_int_equal(res.index, 1);
	assert_int_equal(res.ops[0].reason, CS_R_OK);
	assert_true(res.nchanges > 0);
	cs_result_clear(&res);
	assert_int_equal(t->rec.applied, 1);
	assert_int_equal(cst_applied_index(t->s), 1);

	cs_state *snap = cs_state_new(NULL);
	for (int i = 0; i < 5; i++) {
		char name[16];
		snprintf(name, sizeof(name), "s%d", i);
		tl_assert_ok(snap, machine_txn(name, name));
	}
	const cs_state *before = cst_state(t->s);
	cst_fake_restore(t->s, snap);
	assert_int_equal(t->rec.restores, 1);
	assert_int_equal(t->rec.restore_index, 5);
	assert_ptr_not_equal(cst_state(t->s), before);
	assert_ptr_equal(cst_state(t->s), snap);
	assert_int_equal(cst_applied_index(t->s), 5);
	assert_null(cs_machine_find(cst_state(t->s), "o1"));
	struct cst_stats st;
	cst_stats(t->s, &st);
	assert_int_equal(st.restores, 1);

	res = cst_fake_apply(t->s, machine_txn("o2", "o2"));
	assert_int_equal(res.index, 6);
	assert_true(res.nchanges > 0); /* tracking on the restored state */
	cs_result_clear(&res);
	assert_int_equal(t->rec.changes, 1);

	/* And through a submit after regaining the role. */
	cst_fake_set_writer(t->s, true, 0, NULL);
	elect(t);
	struct tl_answer a = {.clock = &t->rec.order};
	submit_ok(t->s, machine_txn("o3", "o3"), &a);
	cst_fake_flush(t->s);
	assert_int_equal(a.status, 0);
	assert_true(a.changes > 0);
}

/* A barrier completes at the next flush, after the entry of what was
 * queued before it. */
struct barrier_check {
	struct tl_answer a;
	cst_store *s;
	bool saw_machine;
};

static void on_barrier_check(void *arg, int status, const char *msg)
{
	struct barrier_check *b = arg;
	on_done(&b->a, status, msg);
	b->saw_machine = cs_machine_find(cst_state(b->s), "before") != NULL;
}

static void test_barrier(void **state)
{
	struct t *t = open_fake(state, false, false, false);
	struct barrier_check b = {.a = {.clock = &t->rec.order}, .s = t->s};
	assert_int_equal(cst_barrier(t->s, on_barrier_check, &b),
	                 CST_ENOTWRITER);
	assert_int_equal(cst_barrier(t->s, NULL, NULL), CST_EINVAL);
	cst_fake_set_writer(t->s, true, 0, NULL);
	elect(t);
	struct tl_answer a = {.clock = &t->rec.order};
	submit_ok(t->s, machine_txn("before", "before"), &a);
	assert_int_equal(cst_barrier(t->s, on_barrier_check, &b), 0);
	assert_int_equal(b.a.calls, 0);
	cst_fake_flush(t->s);
	assert_int_equal(b.a.calls, 1);
	assert_int_equal(b.a.status, 0);
	assert_true(b.saw_machine);
	assert_true(b.a.order > a.order);
}

/* The dry run answers as the next entry would, and changes nothing. */
static void test_dry_run(void **state)
{
	struct t *t = open_fake(state, true, false, false);
	elect(t);
	uint64_t hash = cs_state_hash(cst_state(t->s), 0);
	cs_txn *txn = machine_txn("dry", "dry");
	cs_result res;
	cst_dry_run(t->s, txn, &res);
	assert_int_equal(res.ops[0].reason, CS_R_OK);
	assert_int_equal(res.index,
	                 cs_state_applied_index(cst_state(t->s)) + 1);
	cs_result_clear(&res);
	cs_txn_free(txn);
	assert_int_equal(cs_state_hash(cst_state(t->s), 0), hash);
	assert_null(cs_machine_find(cst_state(t->s), "dry"));
}

static void test_membership_notsup(void **state)
{
	struct t *t = open_fake(state, true, false, false);
	elect(t);
	struct tl_answer a = {.clock = &t->rec.order};
	struct cst_member dummy;
	struct cst_member *m = &dummy; /* overwritten */
	unsigned n = 7;
	assert_int_equal(cst_members(t->s, &m, &n), CST_ENOTSUP);
	assert_null(m);
	assert_int_equal(n, 0);
	assert_int_equal(cst_member_add(t->s, 2, "b", "http://b",
	                                CST_MEMBER_STANDBY, on_done, &a),
	                 CST_ENOTSUP);
	assert_int_equal(
	    cst_member_assign(t->s, 1, CST_MEMBER_VOTER, on_done, &a),
	    CST_ENOTSUP);
	assert_int_equal(cst_member_remove(t->s, 1, on_done, &a), CST_ENOTSUP);
	assert_int_equal(cst_transfer(t->s, 0, on_done, &a), CST_ENOTSUP);
	cst_fake_flush(t->s);
	assert_int_equal(a.calls, 0);
}

static void expect_members(cst_store *s, unsigned want)
{
	struct cst_member *m;
	unsigned n;
	assert_int_equal(cst_members(s, &m, &n), 0);
	assert_int_equal(n, want);
	const struct cst_member *self = tl_find_member(m, n, 1);
	assert_non_null(self);
	assert_int_equal(self->role, CST_MEMBER_VOTER);
	assert_string_equal(self->api_address, "http://127.0.0.1:8001");
	free(m);
}

static void test_membership_trivial(void **state)
{
	struct t *t = open_fake(state, true, true, false);
	struct tl_answer a = {.clock = &t->rec.order},
	                 b = {.clock = &t->rec.order};
	expect_members(t->s, 1);
	assert_int_equal(cst_member_add(t->s, 2, "fake:2", "http://b",
	                                CST_MEMBER_STANDBY, on_done, &a),
	                 CST_ENOTWRITER);
	elect(t);
	assert_int_equal(cst_member_add(t->s, 2, "fake:2", "http://b",
	                                CST_MEMBER_STANDBY, on_done, &a),
	                 0);
	expect_members(t->s, 2); /* at once */
	assert_int_equal(
	    cst_member_assign(t->s, 2, CST_MEMBER_VOTER, on_done, &b),
	    CST_EBUSY);
	assert_int_equal(a.calls, 0);
	cst_fake_flush(t->s);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, 0);

	assert_int_equal(cst_member_add(t->s, 2, "fake:2", "http://b",
	                                CST_MEMBER_STANDBY, on_done, &b),
	                 CST_EINVAL);
	assert_int_equal(
	    cst_member_assign(t->s, 9, CST_MEMBER_VOTER, on_done, &b),
	    CST_ENOTFOUND);
	assert_int_equal(cst_member_remove(t->s, 1, on_done, &b), CST_EINVAL);
	assert_int_equal(cst_transfer(t->s, 2, on_done, &b), CST_ENOTFOUND);
	assert_int_equal(
	    cst_member_assign(t->s, 2, CST_MEMBER_VOTER, on_done, &b), 0);
	cst_fake_flush(t->s);
	assert_int_equal(b.calls, 1);
	struct cst_member *m;
	unsigned n;
	cst_members(t->s, &m, &n);
	assert_int_equal(tl_find_member(m, n, 2)->role, CST_MEMBER_VOTER);
	assert_string_equal(tl_find_member(m, n, 2)->address, "fake:2");
	free(m);

	/* A transfer moves writing at once; cb at the flush. */
	struct tl_answer moved = {.clock = &t->rec.order};
	assert_int_equal(cst_transfer(t->s, 0, on_done, &moved), 0);
	assert_false(cst_writable(t->s));
	struct cst_member w;
	assert_int_equal(cst_writer(t->s, &w), 2);
	assert_string_equal(w.api_address, "http://b");
	assert_string_equal(w.address, "fake:2");
	assert_int_equal(moved.calls, 0);
	cst_fake_flush(t->s);
	assert_int_equal(moved.calls, 1);
	assert_int_equal(moved.status, 0);
	assert_int_equal(t->rec.role, CST_ROLE_FOLLOWER);
	struct tl_answer c = {.clock = &t->rec.order};
	assert_int_equal(cst_member_remove(t->s, 2, on_done, &c),
	                 CST_ENOTWRITER);

	cst_fake_set_writer(t->s, true, 0, NULL);
	elect(t);
	assert_int_equal(cst_member_remove(t->s, 2, on_done, &c), 0);
	expect_members(t->s, 1);
	cst_fake_flush(t->s);
	assert_int_equal(c.calls, 1);
	assert_int_equal(cst_member_remove(t->s, 2, on_done, &c),
	                 CST_ENOTFOUND);
}

/* Closing: nothing from inside cst_close; the next flush answers each
 * waiting call once with ESHUTDOWN, then the close callback runs last. */
struct closing {
	struct tl_answer a;
	cst_store *s;
	int resubmit; /* what a submit from inside the answer got */
};

static void on_shutdown(void *arg, int status, const cs_result *res)
{
	struct closing *c = arg;
	tl_on_answer(&c->a, status, res);
	cs_txn *txn = machine_txn("late", "late");
	c->resubmit = cst_submit(c->s, txn, tl_on_answer, &c->a);
	if (c->resubmit)
		cs_txn_free(txn);
}

static void test_close(void **state)
{
	struct t *t = open_fake(state, true, true, false);
	elect(t);
	struct closing q = {.a = {.clock = &t->rec.order}, .s = t->s};
	struct tl_answer b = {.clock = &t->rec.order},
	                 m = {.clock = &t->rec.order};
	struct tl_answer closed = {.clock = &t->rec.order},
	                 again = {.clock = &t->rec.order};
	assert_int_equal(
	    cst_submit(t->s, machine_txn("c1", "c1"), on_shutdown, &q), 0);
	assert_int_equal(cst_barrier(t->s, on_done, &b), 0);
	assert_int_equal(cst_member_add(t->s, 3, "fake:3", NULL,
	                                CST_MEMBER_SPARE, on_done, &m),
	                 0);
	cst_close(t->s, on_closed, &closed);
	cst_close(t->s, on_closed, &again); /* only the first counts */
	t->closed = true;
	assert_int_equal(q.a.calls + b.calls + m.calls + closed.calls, 0);
	assert_false(cst_writable(t->s));
	cs_txn *txn = machine_txn("c2", "c2");
	assert_int_equal(cst_submit(t->s, txn, tl_on_answer, &b),
	                 CST_ESHUTDOWN);
	cs_txn_free(txn);
	assert_int_equal(cst_barrier(t->s, on_done, &b), CST_ESHUTDOWN);
	assert_int_equal(cst_fake_flush(t->s), 0); /* frees the store */
	assert_int_equal(q.a.calls, 1);
	assert_int_equal(q.a.status, CST_ESHUTDOWN);
	assert_int_equal(q.resubmit, CST_ESHUTDOWN);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.status, CST_ESHUTDOWN);
	assert_int_equal(m.calls, 1);
	assert_int_equal(m.status, CST_ESHUTDOWN);
	assert_int_equal(closed.calls, 1);
	assert_int_equal(again.calls, 0);
	assert_true(closed.order > q.a.order && closed.order > b.order &&
	            closed.order > m.order);
}

/* ---- on a loop -----------------------------------------------------------
 * ev_run(loop, 0) until a callback breaks it; the safety timer breaks it
 * too (and says so) if a submit was left waiting for an event that never
 * comes, instead of being flushed before the loop blocks. */

struct looped {
	struct t *t;
	struct ev_loop *loop;
	struct tl_answer first, second, third, closed;
	ev_timer later; /* submits from a watcher's callback */
	bool timed_out;
};

static void on_loop_second(void *arg, int status, const cs_result *res)
{
	struct looped *l = arg;
	tl_on_answer(&l->second, status, res);
	ev_break(l->loop, EVBREAK_ALL);
}

static void on_loop_first(void *arg, int status, const cs_result *res)
{
	struct looped *l = arg;
	tl_on_answer(&l->first, status, res);
	/* from inside the prepare's flush: flushed without another event */
	assert_int_equal(cst_submit(l->t->s, machine_txn("loop-2", "loop-2"),
	                            on_loop_second, l),
	                 0);
}

static void on_loop_third(void *arg, int status, const cs_result *res)
{
	struct looped *l = arg;
	tl_on_answer(&l->third, status, res);
	ev_break(l->loop, EVBREAK_ALL);
}

static void on_later(EV_P_ ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct looped *l = w->data;
	assert_int_equal(cst_submit(l->t->s, machine_txn("loop-3", "loop-3"),
	                            on_loop_third, l),
	                 0);
}

static void on_loop_closed(void *arg)
{
	struct looped *l = arg;
	on_closed(&l->closed);
	ev_break(l->loop, EVBREAK_ALL);
}

static void on_safety(EV_P_ ev_timer *w, int revents)
{
	(void)revents;
	((struct looped *)w->data)->timed_out = true;
	ev_break(loop, EVBREAK_ALL);
}

static void test_loop(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	*state = t;
	t->closed = true; /* closed here, on the loop */
	struct looped l = {.t = t, .loop = ev_loop_new(EVFLAG_AUTO)};
	l.first.clock = l.second.clock = l.third.clock = l.closed.clock =
	    &t->rec.order;
	t->hooks = (struct cst_hooks){on_role,    on_writer, on_applied,
	                              on_restore, NULL,      &t->rec};
	struct cst_fake_config cfg = {.loop = l.loop, .writer = true};
	assert_int_equal(cst_fake_open(&cfg, &t->hooks, &t->s), 0);
	ev_timer safety;
	ev_timer_init(&safety, on_safety, 5.0, 0.);
	safety.data = &l;
	ev_timer_start(l.loop, &safety);

	ev_run(l.loop, EVRUN_NOWAIT); /* the first flush: on_writer */
	assert_int_equal(t->rec.writers, 1);
	assert_true(cst_writable(t->s));

	/* From outside the loop, then from inside its flush. */
	assert_int_equal(cst_submit(t->s, machine_txn("loop-1", "loop-1"),
	                            on_loop_first, &l),
	                 0);
	ev_run(l.loop, 0);
	assert_false(l.timed_out);
	assert_int_equal(l.first.calls, 1);
	assert_int_equal(l.first.status, 0);
	assert_int_equal(l.second.calls, 1);
	assert_int_equal(l.second.status, 0);
	assert_int_equal(l.second.index, l.first.index + 1);

	/* From another watcher's callback. */
	ev_timer_init(&l.later, on_later, 0.01, 0.);
	l.later.data = &l;
	ev_timer_start(l.loop, &l.later);
	ev_run(l.loop, 0);
	assert_false(l.timed_out);
	assert_int_equal(l.third.calls, 1);
	assert_int_equal(l.third.status, 0);
	assert_true(l.third.index > l.second.index);

	cst_close(t->s, on_loop_closed, &l);
	ev_run(l.loop, 0);
	assert_false(l.timed_out);
	assert_int_equal(l.closed.calls, 1);
	ev_timer_stop(l.loop, &safety);
	ev_loop_destroy(l.loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test_teardown(test_submit_and_flush, teardown),
	    cmocka_unit_test_teardown(test_callbacks_from_the_flush, teardown),
	    cmocka_unit_test_teardown(test_writer_changes, teardown),
	    cmocka_unit_test_teardown(test_unknown_outcomes, teardown),
	    cmocka_unit_test_teardown(test_apply_and_restore, teardown),
	    cmocka_unit_test_teardown(test_barrier, teardown),
	    cmocka_unit_test_teardown(test_dry_run, teardown),
	    cmocka_unit_test_teardown(test_membership_notsup, teardown),
	    cmocka_unit_test_teardown(test_membership_trivial, teardown),
	    cmocka_unit_test_teardown(test_close, teardown),
	    cmocka_unit_test_teardown(test_loop, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
