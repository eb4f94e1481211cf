/* cr_node.h: cellraft internals of a node: the libuv-in-libev bridge, the
 * TCP transport wrapper, group commit and the node itself. Private to raft/. */
#ifndef CELL_CR_NODE_H
#define CELL_CR_NODE_H

#include <ev.h>
#include <raft.h>
#include <raft/uv.h>
#include <uv.h>

#include "cellutil.h"
#include "cr_fsm.h"

/* The store's roles are raft's numbers: a role passes between the two as
 * it is (raft_state(), raft_server.role, raft_assign). */
_Static_assert((int)CST_ROLE_UNAVAILABLE == (int)RAFT_UNAVAILABLE &&
                   (int)CST_ROLE_FOLLOWER == (int)RAFT_FOLLOWER &&
                   (int)CST_ROLE_CANDIDATE == (int)RAFT_CANDIDATE &&
                   (int)CST_ROLE_LEADER == (int)RAFT_LEADER,
               "cst_role is not raft's state");
_Static_assert(CST_MEMBER_STANDBY == RAFT_STANDBY &&
                   CST_MEMBER_VOTER == RAFT_VOTER &&
                   CST_MEMBER_SPARE == RAFT_SPARE,
               "cst_member_role is not raft's role");

/* ---- bridge (uvbridge.c) ---------------------------------------------------
 * Runs a private libuv loop inside a libev loop on one thread (RAFT.md §4).
 * Every libev iteration, the ev_prepare calls `pre` (group-commit flush, role
 * polling, close steps), then runs libuv until it has nothing due now, then
 * arms the one-shot ev_timer from uv_backend_timeout(). Once `closing` is set
 * and libuv has no live handle left, it stops its watchers and calls
 * `drained` as its very last action (which may free the bridge). */
struct cr_bridge {
	struct ev_loop *ev;
	uv_loop_t uv;
	ev_io io;       /* readable backend fd: libuv has events */
	ev_timer timer; /* libuv's next timer is due */
	ev_prepare prepare;
	ev_idle kick; /* keeps libev from blocking until the next prepare */
	void (*pre)(void *arg);
	void (*drained)(void *arg);
	void *arg;
	bool closing;
	bool started;
};

int cr_bridge_init(struct cr_bridge *b, struct ev_loop *ev, char *errbuf,
                   size_t errlen);
void cr_bridge_start(struct cr_bridge *b);
/* Makes sure the prepare (and so `pre`) runs before libev blocks again. */
void cr_bridge_kick(struct cr_bridge *b);
void cr_bridge_stop(struct cr_bridge *b);
/* Closes the libuv loop; only outside uv_run. Runs the loop until every
 * handle is closed if needed. */
void cr_bridge_close(struct cr_bridge *b);

/* ---- transport (transport.c) -----------------------------------------------
 * raft_uv_tcp with TCP_NODELAY on every connection: raft never sets it, and
 * Nagle plus delayed ACKs cost up to 40 ms per round trip (RAFT.md §7). */
struct cr_transport {
	struct raft_uv_transport iface; /* what raft_uv_init gets */
	struct raft_uv_transport tcp;   /* the real raft_uv_tcp */
	raft_uv_accept_cb accept_cb;
	raft_uv_transport_close_cb close_cb;
};
int cr_transport_init(struct cr_transport *t, uv_loop_t *loop);
void cr_transport_close(struct cr_transport *t); /* after raft closed */

/* ---- group commit (batch.c) ---------------------------------------------- */

struct cr_waiter {
	cr_submit_cb cb;
	void *arg;
};

/* One proposed entry. Lives from raft_apply until its callback. */
struct cr_batch {
	struct raft_apply req; /* req.data = this */
	struct cr_node *node;
	uint64_t batch_id;
	struct cr_waiter *waiters; /* sink.n entries, in record order */
	struct cr_fsm_sink sink;
	struct raft_buffer buf; /* the entry, until raft_apply owns it */
	int status;             /* failed before proposal: the status */
	struct cu_list link;    /* in node->sealed, then node->in_flight */
};

/* A batch being filled. */
struct cr_queue {
	struct cr_entry entry;
	struct cr_waiter *waiters;
	uint32_t n;
	uint32_t cap;
};

/* ---- the node (node.c) --------------------------------------------------- */

struct cr_change;  /* membership.c */
struct cr_barrier; /* batch.c */

struct cr_node {
	struct cr_bridge bridge;
	struct cr_transport transport;
	struct raft_io io;
	struct raft raft;
	struct cr_fsm fsm;
	struct cr_hooks hooks;
	uint64_t id;
	char raft_address[CST_ADDR_MAX];
	char api_address[CST_API_ADDR_MAX];
	char *data_dir;
	struct cr_member_meta *peers; /* the static bootstrap list (owned) */
	unsigned npeers;
	unsigned batch_max_txns;
	size_t batch_max_bytes;
	char errmsg[CST_ERRMSG_SIZE];

	/* Role tracking (polled: raft 0.15 has no state callback). */
	enum cst_role role;
	/* Term in which this node last became leader and issued its barrier;
	 * trusted once that barrier applied while still leader of it.
	 * Invariant: trusted implies barrier_term == leader term. */
	uint64_t barrier_term;
	bool barrier_pending;
	bool trusted;

	/* Group commit. Invariant: every accepted submit sits in exactly one
	 * of queue, sealed or inflight until its callback runs. */
	struct cr_queue queue;
	struct cu_list sealed;    /* of cr_batch (owned): for the flush */
	struct cu_list in_flight; /* of cr_batch (raft has them): applying */
	struct cu_list barriers;  /* of cr_barrier (owned): not yet issued */
	uint64_t next_batch_id;
	uint64_t submitted;
	uint64_t batches;
	uint64_t inflight;

	struct cr_change *change; /* the membership change in progress */

	/* Closing: close_requested -> raft_close -> raft closed -> libuv
	 * drained -> close_cb, then free. */
	bool started;
	bool close_requested;
	bool closing;
	bool raft_closed;
	cr_close_cb close_cb;
	void *close_arg;
};

/* batch.c */
void cr_batch_flush(struct cr_node *n);
void cr_batch_fail_queued(struct cr_node *n, int status);
struct cr_fsm_sink *cr_batch_claim(void *arg, uint64_t proposer,
                                   uint64_t batch_id);
/* Queues a member record (the leader's metadata writes); cb as submit's. */
int cr_batch_member_put(struct cr_node *n, const struct cr_member_meta *m,
                        cr_submit_cb cb, void *arg);
int cr_batch_member_del(struct cr_node *n, uint64_t id, cr_submit_cb cb,
                        void *arg);

/* node.c */
void cr_node_log(struct cr_node *n, enum cst_log_level level, const char *fmt,
                 ...) __attribute__((format(printf, 3, 4)));
void cr_node_seterr(struct cr_node *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int cr_error_from_raft(int rv);
/* Frees a node whose cr_node_start failed, at once: its libev watchers
 * stop and raft closes on the node's private libuv loop, so nothing is
 * left for the caller's loop to finish (cellstore's open promises that). */
void cr_node_discard(struct cr_node *n);
int64_t cr_wall_ms(void);

int cr_check_raft_address(const char *field, const char *addr, char *errbuf,
                          size_t errlen);

/* membership.c */
/* After winning: queues member records the table lacks or has wrong. */
void cr_members_refresh(struct cr_node *n);
/* From the prepare: advances the membership change in progress. */
void cr_members_step(struct cr_node *n);
/* After raft closed: reports a change that could not finish. */
void cr_members_abort(struct cr_node *n);

#endif /* CELL_CR_NODE_H */
