/* fake.c: the in-memory fake store: one replica and no I/O. Submitted
 * transactions wait in a queue; a flush applies them as one entry, answers
 * them, then delivers the completions due. Every callback and hook runs
 * from a flush (the test's cst_fake_flush, or the loop's ev_prepare), never
 * from inside the call that asked for it; only cst_fake_apply and
 * cst_fake_restore run their hook at once, as the event they stand for. */
#include <stdio.h>
#include <stdlib.h>

#include "fake.h"

static const struct cst_ops fake_ops;

/* A control aimed at another kind of store is a test's mistake. */
static struct fake *control_of(cst_store *s, const char *what)
{
	if (s->ops != &fake_ops) {
		fprintf(stderr, "%s: not a fake store\n", what);
		abort();
	}
	return fake_of(s);
}

/* ---- calls and lists ----------------------------------------------------- */

static struct fake_call *call_new(void *arg)
{
	struct fake_call *c = cu_xcalloc(1, sizeof(*c));
	cu_list_init(&c->link);
	c->arg = arg;
	c->msg = "";
	return c;
}

static struct fake_call *call_pop(struct cu_list *head)
{
	struct cu_list *e = cu_list_pop(head);
	return e ? cu_container_of(e, struct fake_call, link) : NULL;
}

/* Runs c's callback with its status (a transaction without verdicts) and
 * frees it. */
static void call_answer(struct fake *f, struct fake_call *c)
{
	if (c->change)
		f->changing = false;
	cs_txn_free(c->txn);
	if (c->submit_cb)
		c->submit_cb(c->arg, c->status, NULL);
	else
		c->done_cb(c->arg, c->status, c->status ? c->msg : "");
	free(c);
}

void fake_kick(struct fake *f)
{
	if (f->loop && !ev_is_active(&f->kick))
		ev_idle_start(f->loop, &f->kick);
}

struct fake_call *fake_due(struct fake *f, cst_done_cb cb, void *arg,
                           int status, const char *msg)
{
	struct fake_call *c = call_new(arg);
	c->done_cb = cb;
	c->status = status;
	c->msg = msg;
	cu_list_push_back(&f->due, &c->link);
	fake_kick(f);
	return c;
}

/* ---- the writer role ----------------------------------------------------- */

int fake_refuse_not_writer(struct fake *f, const char *what)
{
	if (f->writable)
		return 0;
	return cst_seterr(&f->base, CST_ENOTWRITER,
	                  "%s: member %llu is not the writer; writes go to "
	                  "%llu %s",
	                  what, (unsigned long long)f->id,
	                  (unsigned long long)f->writer_id,
	                  f->writer_id ? f->writer_api : "(unknown)");
}

void fake_lose_writer(struct fake *f, uint64_t other, const char *other_api)
{
	f->writable = false;
	f->electing = false;
	f->writer_id = other;
	snprintf(f->writer_api, sizeof(f->writer_api), "%s",
	         other && other_api ? other_api : "");
	if (other)
		f->epoch++; /* the other writer's */
	/* Queued transactions never reached the log. */
	for (struct fake_call *c; (c = call_pop(&f->queue));) {
		cs_txn_free(c->txn);
		c->txn = NULL;
		c->status = CST_ENOTCOMMITTED;
		cu_list_push_back(&f->due, &c->link);
	}
	struct cu_list *it, *tmp;
	CU_LIST_FOREACH_SAFE (it, tmp, &f->due) {
		struct fake_call *c =
		    cu_container_of(it, struct fake_call, link);
		if (c->barrier && c->status == 0) {
			c->status = CST_ENOTWRITER;
			c->msg = "the writer role was lost before the barrier";
		}
	}
	fake_kick(f);
}

static void set_role(struct fake *f, enum cst_role role)
{
	if (f->role == role)
		return;
	enum cst_role old = f->role;
	f->role = role;
	cst_hook_role(&f->base, old, role);
}

/* The flush's first step: the role hooks, and a new epoch's own entry. */
static void step_writer(struct fake *f)
{
	if (!f->electing) {
		if (!f->writable)
			set_role(f, CST_ROLE_FOLLOWER);
		return;
	}
	f->electing = false;
	f->writable = true;
	f->index++; /* as a Raft leader's barrier: no earlier epoch got here */
	f->epoch++;
	set_role(f, CST_ROLE_LEADER);
	cst_hook_writer(&f->base, f->epoch, f->index);
}

/* ---- entries ------------------------------------------------------------- */

static int64_t entry_time(const struct fake *f, uint64_t index)
{
	return f->now_ms ? f->now_ms(f->clock_arg) : (int64_t)index * 1000;
}

static void apply_one(struct fake *f, const cs_txn *txn, uint64_t index,
                      int64_t now, cs_result *res)
{
	f->applying = true;
	cs_apply(f->state, txn, index, now, res);
	f->stats.applied++;
	cst_hook_applied(&f->base, index, txn, res);
	f->applying = false;
}

/* The calls of `entry` that reach the log (their own verdicts, or an
 * unknown outcome that did commit). */
static uint32_t count_applied(const struct cu_list *entry)
{
	uint32_t n = 0;
	for (const struct cu_list *e = cu_list_first(entry); e;
	     e = cu_list_next(entry, e)) {
		const struct fake_call *c =
		    cu_container_of(e, const struct fake_call, link);
		n += c->status == 0 || c->apply;
	}
	return n;
}

/* Applies `entry` as the next index, then answers each of its calls in
 * order; returns how many were applied. */
static unsigned apply_entry(struct fake *f, struct cu_list *entry)
{
	uint32_t n = count_applied(entry);
	cs_result *res = n ? cu_xcalloc(n, sizeof(*res)) : NULL;
	uint64_t index = f->index + 1;
	if (n) {
		f->index = index;
		f->stats.batches++;
	}
	int64_t now = n ? entry_time(f, index) : 0;
	uint32_t k = 0;
	for (struct cu_list *e = cu_list_first(entry); e;
	     e = cu_list_next(entry, e)) {
		struct fake_call *c =
		    cu_container_of(e, struct fake_call, link);
		if (c->status == 0 || c->apply)
			apply_one(f, c->txn, index, now, &res[k++]);
		cs_txn_free(c->txn);
		c->txn = NULL;
	}
	k = 0;
	for (struct fake_call *c; (c = call_pop(entry));) {
		bool applied = c->status == 0 || c->apply;
		cs_result *r = applied ? &res[k++] : NULL;
		c->submit_cb(c->arg, c->status, c->status ? NULL : r);
		if (r)
			cs_result_clear(r);
		free(c);
	}
	free(res);
	return n;
}

static void deliver_due(struct fake *f)
{
	struct cu_list due;
	cu_list_take(&f->due, &due);
	for (struct fake_call *c; (c = call_pop(&due));)
		call_answer(f, c);
}

/* ---- close --------------------------------------------------------------- */

static void fake_free(struct fake *f)
{
	if (f->loop) {
		ev_prepare_stop(f->loop, &f->prepare);
		ev_idle_stop(f->loop, &f->kick);
	}
	cs_state_free(f->state);
	free(f->members);
	free(f);
}

/* Answers everything still waiting with CST_ESHUTDOWN (callbacks may add
 * more: the dispatch refuses new writes, but a control may not), frees,
 * and runs the close callback last. */
static void finish_close(struct fake *f)
{
	for (;;) {
		struct fake_call *c = call_pop(&f->queue);
		if (!c)
			c = call_pop(&f->due);
		if (!c)
			break;
		c->status = CST_ESHUTDOWN;
		c->msg = "the store closed";
		call_answer(f, c);
	}
	cst_close_cb cb = f->close_cb;
	void *arg = f->close_arg;
	fake_free(f);
	if (cb)
		cb(arg);
}

static void fake_close(cst_store *s, cst_close_cb cb, void *arg)
{
	struct fake *f = fake_of(s);
	f->close_cb = cb;
	f->close_arg = arg;
	fake_kick(f);
}

/* ---- flush --------------------------------------------------------------- */

unsigned cst_fake_flush(cst_store *s)
{
	struct fake *f = control_of(s, "cst_fake_flush");
	unsigned n = 0;
	if (f->flushing)
		return 0;
	f->flushing = true;
	if (!f->base.closing) {
		struct cu_list entry;
		step_writer(f);
		cu_list_take(&f->queue, &entry);
		n = apply_entry(f, &entry);
		deliver_due(f);
	}
	f->flushing = false;
	if (f->base.closing)
		finish_close(f); /* frees f */
	else if (f->loop && cu_list_empty(&f->queue) && cu_list_empty(&f->due))
		ev_idle_stop(f->loop, &f->kick);
	return n;
}

static void on_prepare(EV_P_ ev_prepare *w, int revents)
{
	(void)loop;
	(void)revents;
	struct fake *f = w->data;
	cst_fake_flush(&f->base);
}

static void on_kick(EV_P_ ev_idle *w, int revents)
{
	(void)revents;
	ev_idle_stop(loop, w); /* its job (no blocking poll) is done */
}

/* ---- reads --------------------------------------------------------------- */

static const cs_state *fake_state(const cst_store *s)
{
	return cfake_of(s)->state;
}

static uint64_t fake_applied_index(const cst_store *s)
{
	return cfake_of(s)->index;
}

static void fake_status(const cst_store *s, struct cst_status *out)
{
	const struct fake *f = cfake_of(s);
	out->id = f->id;
	out->role = f->role;
	out->writer = f->writable;
	out->term = f->epoch;
	out->commit_index = out->applied_index = out->last_index = f->index;
}

static uint64_t list_len(const struct cu_list *head)
{
	uint64_t n = 0;
	for (const struct cu_list *e = cu_list_first(head); e;
	     e = cu_list_next(head, e))
		n++;
	return n;
}

static void fake_stats(const cst_store *s, struct cst_stats *out)
{
	const struct fake *f = cfake_of(s);
	*out = f->stats;
	out->queued = list_len(&f->queue);
}

static bool fake_writable(const cst_store *s)
{
	return cfake_of(s)->writable;
}

static uint64_t fake_writer(const cst_store *s, struct cst_member *out)
{
	const struct fake *f = cfake_of(s);
	if (!f->writer_id || !out)
		return f->writer_id;
	const struct cst_member *m = fake_member(f, f->writer_id);
	if (m) {
		*out = *m;
		return f->writer_id;
	}
	out->id = f->writer_id;
	out->role = CST_MEMBER_VOTER;
	snprintf(out->api_address, sizeof(out->api_address), "%s",
	         f->writer_api);
	return f->writer_id;
}

static void fake_dry_run(cst_store *s, const cs_txn *txn, cs_result *out)
{
	cs_dry_run(fake_of(s)->state, txn, out);
}

/* ---- writes -------------------------------------------------------------- */

/* What every real store refuses: invalid, undecodable or too big. */
static int check_txn(struct fake *f, const cs_txn *txn)
{
	char err[CS_ERRMSG_SIZE];
	const char *id = txn->id ? txn->id : "(no id)";
	if (cs_txn_validate(txn, err, sizeof(err)) != 0)
		return cst_seterr(&f->base, CST_EINVAL, "transaction %s: %s",
		                  id, err);
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	int rc = cs_txn_encode_bin(txn, &buf, &len, &cap);
	free(buf);
	if (rc != 0)
		return cst_seterr(&f->base, CST_EINVAL,
		                  "transaction %s: the binary codec refused it",
		                  id);
	if (len > CST_TXN_MAX_BYTES)
		return cst_seterr(
		    &f->base, CST_ETOOBIG,
		    "transaction %s: %zu bytes encoded, more than "
		    "CST_TXN_MAX_BYTES",
		    id, len);
	return 0;
}

static int fake_submit(cst_store *s, cs_txn *txn, cst_submit_cb cb, void *arg)
{
	struct fake *f = fake_of(s);
	int rc = fake_refuse_not_writer(f, "submit");
	if (rc == 0)
		rc = check_txn(f, txn);
	if (rc != 0)
		return rc;
	struct fake_call *c = call_new(arg);
	c->txn = txn;
	c->submit_cb = cb;
	if (f->fail_n) {
		f->fail_n--;
		c->status = f->fail_status;
		c->apply = f->fail_apply;
	}
	if (c->status && !c->apply) { /* dropped: never in an entry */
		cs_txn_free(c->txn);
		c->txn = NULL;
		cu_list_push_back(&f->due, &c->link);
	} else {
		cu_list_push_back(&f->queue, &c->link);
	}
	f->stats.submitted++;
	fake_kick(f);
	return 0;
}

static int fake_barrier(cst_store *s, cst_done_cb cb, void *arg)
{
	struct fake *f = fake_of(s);
	int rc = fake_refuse_not_writer(f, "barrier");
	if (rc == 0)
		fake_due(f, cb, arg, 0, "")->barrier = true;
	return rc;
}

/* ---- the controls -------------------------------------------------------- */

void cst_fake_set_writer(cst_store *s, bool writer, uint64_t other_id,
                         const char *other_api_address)
{
	struct fake *f = control_of(s, "cst_fake_set_writer");
	if (!writer) {
		fake_lose_writer(f, other_id, other_api_address);
		return;
	}
	f->writer_id = f->id;
	snprintf(f->writer_api, sizeof(f->writer_api), "%s", f->api_address);
	f->electing = true;
	fake_kick(f);
}

void cst_fake_fail_next(cst_store *s, unsigned n, int status, bool apply)
{
	struct fake *f = control_of(s, "cst_fake_fail_next");
	f->fail_n = status ? n : 0;
	f->fail_status = status;
	f->fail_apply = apply;
}

/* Mid-entry, another entry (or a new state) would break the log's order. */
static void refuse_mid_apply(const struct fake *f, const char *what)
{
	if (!f->applying)
		return;
	fprintf(stderr,
	        "%s: called from on_applied, in the middle of an "
	        "entry\n",
	        what);
	abort();
}

cs_result cst_fake_apply(cst_store *s, cs_txn *txn)
{
	struct fake *f = control_of(s, "cst_fake_apply");
	char err[CS_ERRMSG_SIZE];
	refuse_mid_apply(f, "cst_fake_apply");
	if (cs_txn_validate(txn, err, sizeof(err)) != 0) {
		fprintf(stderr, "cst_fake_apply: %s\n", err);
		abort();
	}
	cs_result res;
	f->index++;
	apply_one(f, txn, f->index, entry_time(f, f->index), &res);
	cs_txn_free(txn);
	return res;
}

void cst_fake_restore(cst_store *s, cs_state *state)
{
	struct fake *f = control_of(s, "cst_fake_restore");
	refuse_mid_apply(f, "cst_fake_restore");
	cs_state_free(f->state);
	f->state = state;
	cs_state_track_changes(state, true);
	f->index = cs_state_applied_index(state);
	f->stats.restores++;
	cst_hook_restore(&f->base, f->index);
}

/* ---- open ---------------------------------------------------------------- */

static const struct cst_ops fake_ops = {
    .state = fake_state,
    .applied_index = fake_applied_index,
    .status = fake_status,
    .stats = fake_stats,
    .writable = fake_writable,
    .writer = fake_writer,
    .submit = fake_submit,
    .dry_run = fake_dry_run,
    .barrier = fake_barrier,
    .close = fake_close,
};

static void start_loop(struct fake *f)
{
	ev_prepare_init(&f->prepare, on_prepare);
	ev_idle_init(&f->kick, on_kick);
	f->prepare.data = f->kick.data = f;
	ev_prepare_start(f->loop, &f->prepare);
	fake_kick(f);
}

int cst_fake_open(const struct cst_fake_config *cfg,
                  const struct cst_hooks *hooks, cst_store **out)
{
	*out = NULL;
	if (!cfg ||
	    (cfg->api_address && strlen(cfg->api_address) >= CST_API_ADDR_MAX))
		return CST_EINVAL;
	struct fake *f = cu_xcalloc(1, sizeof(*f));
	cst_store_init(&f->base, &fake_ops,
	               cfg->membership ? &fake_member_ops : NULL, hooks);
	f->loop = cfg->loop;
	f->now_ms = cfg->now_ms;
	f->clock_arg = cfg->clock_arg;
	f->id = cfg->id ? cfg->id : 1;
	snprintf(f->api_address, sizeof(f->api_address), "%s",
	         cfg->api_address ? cfg->api_address : "");
	bool defaults =
	    cfg->state.dedup_max == 0 && cfg->state.dedup_ttl_ms == 0;
	f->state = cs_state_new(defaults ? NULL : &cfg->state);
	cs_state_track_changes(f->state, true);
	f->role = CST_ROLE_FOLLOWER;
	cu_list_init(&f->queue);
	cu_list_init(&f->due);
	if (cfg->membership)
		fake_members_init(f);
	if (f->loop)
		start_loop(f);
	*out = &f->base;
	if (cfg->writer)
		cst_fake_set_writer(*out, true, 0, NULL);
	return 0;
}
