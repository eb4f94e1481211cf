/* batch.c: group commit. Transactions submitted during one libev iteration
 * become ONE Raft entry (one fsync, one round trip for all of them); several
 * entries stay in flight; results come back through the FSM's sink. */
#include <stdlib.h>
#include <string.h>

#include "cr_node.h"

/* A barrier waiting for the flush (so it follows the writes queued before
 * it), then for raft. */
struct cr_barrier {
	struct raft_barrier req;
	struct cr_node *node;
	cr_done_cb cb;
	void *arg;
	struct cu_list link; /* in node->barriers until issued */
};

/* ---- sealing ------------------------------------------------------------- */

static void batch_free(struct cr_batch *b)
{
	for (uint32_t i = 0; i < b->sink.n; i++)
		cs_result_clear(&b->sink.results[i]);
	free(b->sink.results);
	free(b->sink.status);
	free(b->waiters);
	free(b);
}

/* Closes the queue into a batch: its time is now (the leader's clock when
 * batching, which every replica then applies with). */
static void seal(struct cr_node *n)
{
	struct cr_queue *q = &n->queue;
	if (q->n == 0)
		return;
	struct cr_batch *b = cu_xcalloc(1, sizeof(*b));
	b->node = n;
	b->req.data = b;
	b->batch_id = n->next_batch_id++;
	b->waiters = q->waiters;
	b->sink.n = q->n;
	b->sink.results = cu_xcalloc(q->n, sizeof(*b->sink.results));
	b->sink.status = cu_xcalloc(q->n, sizeof(*b->sink.status));
	cr_entry_finish(&q->entry, cr_wall_ms(), n->id, b->batch_id, &b->buf);
	cr_entry_reset(&q->entry);
	q->waiters = NULL;
	q->n = q->cap = 0;
	cu_list_push_back(&n->sealed, &b->link);
}

static void add_waiter(struct cr_queue *q, cr_submit_cb cb, void *arg)
{
	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 64;
		q->waiters =
		    cu_xrealloc(q->waiters, q->cap * sizeof(*q->waiters));
	}
	q->waiters[q->n++] = (struct cr_waiter){cb, arg};
}

static void after_add(struct cr_node *n, cr_submit_cb cb, void *arg)
{
	struct cr_queue *q = &n->queue;
	add_waiter(q, cb, arg);
	if (q->n >= n->batch_max_txns || q->entry.len >= n->batch_max_bytes)
		seal(n);
	cr_bridge_kick(&n->bridge);
}

static int check_writable(struct cr_node *n)
{
	if (n->close_requested) {
		cr_node_seterr(n, "node %llu is shutting down",
		               (unsigned long long)n->id);
		return CR_ESHUTDOWN;
	}
	if (!cr_node_trusted(n)) {
		struct cst_member leader;
		uint64_t id = cr_node_leader(n, &leader);
		cr_node_seterr(n,
		               "node %llu is not a trusted leader; leader: "
		               "%llu %s",
		               (unsigned long long)n->id,
		               (unsigned long long)id,
		               id ? leader.api_address : "unknown");
		return CR_ENOTLEADER;
	}
	return 0;
}

int cr_node_submit(cr_node *n, cs_txn *txn, cr_submit_cb cb, void *arg)
{
	char err[CS_ERRMSG_SIZE];
	int rv = check_writable(n);
	if (rv != 0)
		return rv;
	if (cs_txn_validate(txn, err, sizeof(err)) != 0) {
		cr_node_seterr(n, "transaction %s: %s",
		               txn->id ? txn->id : "(no id)", err);
		return CR_EINVAL;
	}
	rv = cr_entry_add_txn(&n->queue.entry, txn);
	if (rv != 0) {
		cr_node_seterr(
		    n, "transaction %s: %s", txn->id ? txn->id : "(no id)",
		    rv == CR_ETOOBIG ? "encodes to more than CR_TXN_MAX_BYTES"
		                     : "the binary codec refused it");
		return rv;
	}
	cs_txn_free(txn); /* encoded: ownership ends here */
	n->submitted++;
	after_add(n, cb, arg);
	return 0;
}

int cr_batch_member_put(struct cr_node *n, const struct cr_member_meta *m,
                        cr_submit_cb cb, void *arg)
{
	int rv = check_writable(n);
	if (rv != 0)
		return rv;
	cr_entry_add_member_put(&n->queue.entry, m->id, m->raft_address,
	                        m->api_address);
	after_add(n, cb, arg);
	return 0;
}

int cr_batch_member_del(struct cr_node *n, uint64_t id, cr_submit_cb cb,
                        void *arg)
{
	int rv = check_writable(n);
	if (rv != 0)
		return rv;
	cr_entry_add_member_del(&n->queue.entry, id);
	after_add(n, cb, arg);
	return 0;
}

/* ---- completion ---------------------------------------------------------- */

/* Every waiter of b gets status (nothing committed or outcome unknown). */
static void fail_batch(struct cr_batch *b, int status)
{
	for (uint32_t i = 0; i < b->sink.n; i++)
		b->waiters[i].cb(b->waiters[i].arg, status, NULL);
	batch_free(b);
}

/* The FSM asks, while applying an entry, whether it is one of ours still
 * waiting; entries apply in proposal order, so it is almost always the
 * first in-flight batch. */
struct cr_fsm_sink *cr_batch_claim(void *arg, uint64_t proposer,
                                   uint64_t batch_id)
{
	struct cr_node *n = arg;
	if (proposer != n->id)
		return NULL;
	for (struct cu_list *l = cu_list_first(&n->in_flight); l;
	     l = cu_list_next(&n->in_flight, l)) {
		struct cr_batch *b = cu_container_of(l, struct cr_batch, link);
		if (b->batch_id == batch_id && !b->sink.applied)
			return &b->sink;
	}
	return NULL;
}

static void on_batch_applied(struct raft_apply *req, int status, void *result)
{
	struct cr_batch *b = req->data;
	struct cr_node *n = b->node;
	cu_list_remove(&b->link);
	n->inflight--;
	if (status != 0) {
		fail_batch(b, n->closing ? CR_ESHUTDOWN
		                         : cr_error_from_raft(status));
		return;
	}
	if (result != &b->sink || !b->sink.applied) {
		cr_node_log(n, CST_LOG_ERROR,
		            "entry %llu: results of batch %llx lost",
		            (unsigned long long)req->index,
		            (unsigned long long)b->batch_id);
		fail_batch(b, CR_EIO);
		return;
	}
	for (uint32_t i = 0; i < b->sink.n; i++) {
		int st = b->sink.status[i];
		b->waiters[i].cb(b->waiters[i].arg, st,
		                 st == 0 ? &b->sink.results[i] : NULL);
	}
	batch_free(b);
}

static void propose(struct cr_node *n, struct cr_batch *b)
{
	/* In flight before raft_apply: the FSM must find it if raft applies
	 * synchronously. */
	cu_list_push_back(&n->in_flight, &b->link);
	n->inflight++;
	int rv = raft_apply(&n->raft, &b->req, &b->buf, 1, on_batch_applied);
	if (rv == 0) {
		n->batches++;
		return;
	}
	cu_list_remove(&b->link);
	n->inflight--;
	raft_free(b->buf.base); /* still ours: raft_apply failed */
	if (rv != RAFT_NOTLEADER)
		cr_node_log(n, CST_LOG_WARN, "raft_apply of %u records: %s",
		            b->sink.n, raft_errmsg(&n->raft));
	fail_batch(b, cr_error_from_raft(rv));
}

static void on_barrier(struct raft_barrier *req, int status)
{
	struct cr_barrier *b = req->data;
	struct cr_node *n = b->node;
	int st = status == 0  ? 0
	         : n->closing ? CR_ESHUTDOWN
	                      : cr_error_from_raft(status);
	b->cb(b->arg, st, st ? cr_strerror(st) : "");
	free(b);
}

static void issue_barriers(struct cr_node *n)
{
	struct cu_list todo;
	cu_list_take(&n->barriers, &todo);
	for (struct cu_list *e; (e = cu_list_pop(&todo));) {
		struct cr_barrier *b =
		    cu_container_of(e, struct cr_barrier, link);
		int rv = raft_barrier(&n->raft, &b->req, on_barrier);
		if (rv != 0) {
			int st = cr_error_from_raft(rv);
			b->cb(b->arg, st, cr_strerror(st));
			free(b);
		}
	}
}

/* From the prepare: propose everything queued, in order, then barriers. */
void cr_batch_flush(struct cr_node *n)
{
	seal(n);
	struct cu_list todo;
	cu_list_take(&n->sealed, &todo);
	for (struct cu_list *e; (e = cu_list_pop(&todo));)
		propose(n, cu_container_of(e, struct cr_batch, link));
	if (!cu_list_empty(&n->barriers))
		issue_barriers(n);
}

void cr_batch_fail_queued(struct cr_node *n, int status)
{
	seal(n);
	struct cu_list todo;
	cu_list_take(&n->sealed, &todo);
	for (struct cu_list *e; (e = cu_list_pop(&todo));) {
		struct cr_batch *b = cu_container_of(e, struct cr_batch, link);
		raft_free(b->buf.base);
		fail_batch(b, status);
	}
	cu_list_take(&n->barriers, &todo);
	for (struct cu_list *e; (e = cu_list_pop(&todo));) {
		struct cr_barrier *w =
		    cu_container_of(e, struct cr_barrier, link);
		w->cb(w->arg, status, cr_strerror(status));
		free(w);
	}
}

int cr_node_barrier(cr_node *n, cr_done_cb cb, void *arg)
{
	if (n->close_requested) {
		cr_node_seterr(n, "node %llu is shutting down",
		               (unsigned long long)n->id);
		return CR_ESHUTDOWN;
	}
	if (raft_state(&n->raft) != RAFT_LEADER) {
		cr_node_seterr(n, "node %llu is not the leader",
		               (unsigned long long)n->id);
		return CR_ENOTLEADER;
	}
	struct cr_barrier *b = cu_xcalloc(1, sizeof(*b));
	b->req.data = b;
	b->node = n;
	b->cb = cb;
	b->arg = arg;
	cu_list_push_back(&n->barriers, &b->link);
	cr_bridge_kick(&n->bridge);
	return 0;
}
