/* cellraft.h: a Cell replica node (ARCHITECTURE.md §3): canonical/raft with its
 * libuv I/O driven from the process's libev loop, a raft_fsm over cellstate,
 * group commit, membership with advertised API addresses, snapshots. This
 * header is the whole public API of the library. The node is the Raft
 * backend of the store (cellstore.h), and speaks its vocabulary: roles,
 * members, counters, log levels and sizes are the store's.
 *
 * Threads: a node lives on the thread that runs its libev loop. Nothing here
 * locks, and every callback runs on that thread, from inside the loop.
 *
 * Errors: functions return 0 or a CR_E* code: Raft's own outcomes, which the
 * store says in its words once (raft/store.c). Synchronous failures leave a
 * message with context in errbuf (for init/start) or in cr_node_errmsg().
 * Rule (as libuv's): if a call that takes a callback returns an error, that
 * callback never runs; if it returns 0, the callback runs exactly once.
 *
 * Memory: allocation failure aborts the process, as in cellstate (a replica
 * that half-applies a batch would diverge; there is nothing safer to do).
 */
#ifndef CELL_CELLRAFT_H
#define CELL_CELLRAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cellstate.h"
#include "cellstore.h"

struct ev_loop;

/* ---- error codes ---------------------------------------------------------
 * One table generates the enum and cr_strerror(). */
#define CR_ERRORS(X)                                                           \
	X(OK, "ok")                                                            \
	X(EINVAL, "invalid argument")                                          \
	X(ENOTLEADER, "not the leader (or leader not yet trusted)")            \
	X(ELEADERSHIPLOST, "leadership lost: outcome unknown, retry with the " \
	                   "same transaction id")                              \
	X(ESHUTDOWN, "node shutting down")                                     \
	X(EMALFORMED, "record malformed: rejected by every replica")           \
	X(EBUSY, "another membership change is in progress")                   \
	X(ENOTFOUND, "no such member")                                         \
	X(ETOOBIG, "transaction too big for one entry")                        \
	X(ETRANSFER, "leadership transfer did not complete")                   \
	X(EIO, "raft or I/O error")

enum cr_error {
#define CR_ERROR_ENUM(id, text) CR_##id,
	CR_ERRORS(CR_ERROR_ENUM)
#undef CR_ERROR_ENUM
	    CR_ERROR__COUNT
};

/* Static text for a code; "unknown error" when out of range. */
const char *cr_strerror(int code);

/* ---- roles and members ---------------------------------------------------
 * The store's: enum cst_role is the Raft state of the local server
 * (raft_state(), same numbers), enum cst_member_role a member's role in the
 * configuration (RAFT_STANDBY, RAFT_VOTER, RAFT_SPARE, same numbers), and a
 * struct cst_member's address its Raft address. A member's API address
 * travels through the replicated state (a member record written by the
 * leader), so it is known everywhere; it is "" until that record has been
 * applied locally. */

/* ---- configuration -------------------------------------------------------
 * The Raft store's configuration (struct cst_raft_config: identity,
 * addresses, the static bootstrap list of struct cst_raft_peer, timings,
 * batching, a new state's settings) plus what only a node's own users set.
 * Zero means "the default" for every number, so `struct cr_config c = {0}`
 * plus id, addresses and data_dir is a working configuration. Strings and
 * arrays are borrowed during cr_node_init only (it copies what it keeps). */

struct cr_hooks; /* below */

#define CR_ELECTION_TIMEOUT_DEFAULT  1000u /* ms; raft randomises 1x..2x */
#define CR_HEARTBEAT_TIMEOUT_DEFAULT 100u  /* ms; also raft's tick */
/* RAFT.md §7: each snapshot stalls the leader 30-50 ms, so take them rarely;
 * the trailing entries let a briefly lagging follower catch up from the log
 * instead of a whole snapshot. */
#define CR_SNAPSHOT_THRESHOLD_DEFAULT 16384u
#define CR_SNAPSHOT_TRAILING_DEFAULT  8192u
#define CR_SEGMENT_SIZE_DEFAULT       (64u << 20) /* p99 6.9 ms vs 27 ms at 1 MiB */
#define CR_BATCH_MAX_TXNS_DEFAULT     1024u
#define CR_BATCH_MAX_BYTES_DEFAULT    (1u << 20)

struct cr_config {
	/* Its numbers' zeros are the CR_*_DEFAULT above. The peers must
	 * include this node; a node that already has state ignores them. */
	struct cst_raft_config raft;
	/* cellstate's change feed (cs_state_track_changes) for the node's
	 * state and every state a snapshot restore installs; off: no
	 * result carries changes. */
	bool track_changes;
	const struct cr_hooks *hooks; /* NULL: none; copied by init */
};

/* ---- hooks ---------------------------------------------------------------
 * Optional callbacks, all on the loop thread. Hooks must not block and must
 * not run the loop recursively; they may call any cr_node_* function except
 * that cr_node_close only takes effect after the hook returns. */
typedef struct cr_node cr_node;

struct cr_hooks {
	/* Raft state changed (polled on every loop iteration: raft 0.15 has
	 * no state callback). */
	void (*on_role)(cr_node *node, enum cst_role old_role,
	                enum cst_role new_role, void *arg);
	/* This node is leader of `term` and the barrier it issued after
	 * winning has been applied: its state now includes every committed
	 * entry, it accepts writes and may serve reads it trusts. */
	void (*on_trusted)(cr_node *node, uint64_t term, void *arg);
	/* One transaction applied on this replica (every replica, leader or
	 * not), in log order; several share an index (one batch per entry).
	 * txn and res are borrowed for the call. After a restart it runs
	 * again for the entries replayed past the local snapshot. Not called
	 * for records that failed to decode (see cst_stats.malformed). */
	void (*on_applied)(cr_node *node, uint64_t index, const cs_txn *txn,
	                   const cs_result *res, void *arg);
	/* The local state was replaced by a snapshot (the local one during
	 * cr_node_start, or the leader's when too far behind): incremental
	 * consumers (watch streams) must reload. */
	void (*on_restore)(cr_node *node, uint64_t applied_index, void *arg);
	/* A log line (without newline). NULL: lines go to stderr as
	 * "cellraft[<id>] <level>: <msg>". */
	void (*log)(void *arg, enum cst_log_level level, const char *msg);
	void *arg;
};

/* ---- lifecycle -----------------------------------------------------------
 * The node runs its own libuv loop inside `loop` (ARCHITECTURE.md §3): an ev_io
 * on the libuv backend fd, a one-shot ev_timer from uv_backend_timeout(), and
 * an ev_prepare that flushes group commits and polls the Raft state. Several
 * nodes may share one libev loop. SIGPIPE is set to ignored.
 *
 * cr_node_init: checks the configuration, creates the data dir, opens the
 * Raft log (raft_init), bootstraps the static voter list if given. On 0,
 * *out is a new node the caller must eventually cr_node_close. On error,
 * *out is NULL and errbuf names what was wrong. */
int cr_node_init(cr_node **out, struct ev_loop *loop,
                 const struct cr_config *config, char *errbuf, size_t errlen);
/* Loads the snapshot and log, re-applies committed entries, and starts
 * talking to peers. On error the node must still be closed. */
int cr_node_start(cr_node *node, char *errbuf, size_t errlen);

/* Closes the node: queued transactions get CR_ESHUTDOWN; proposed ones get
 * CR_ESHUTDOWN too (their outcome is unknown: retry by id elsewhere); a
 * membership change in progress gets CR_ESHUTDOWN; then raft_close, the
 * libuv I/O closes and drains, the node's memory is released, and last
 * cb(arg) runs from the loop. After this call, use the node only inside
 * the callbacks and hooks it still makes (they may read it; submits fail
 * with CR_ESHUTDOWN). May be called from any callback or hook; only the
 * first call counts; it takes effect when control returns to the loop.
 * cb may be NULL. */
typedef void (*cr_close_cb)(void *arg);
void cr_node_close(cr_node *node, cr_close_cb cb, void *arg);

/* ---- writes --------------------------------------------------------------
 * Group commit: accepted transactions are queued and, at the end of the
 * current loop iteration (or sooner when batch_max_txns or batch_max_bytes
 * is reached, in which case the batch is sealed and a new one begins), sent
 * as ONE Raft entry holding all of them. Several entries are in flight at
 * once; entries commit in submission order.
 *
 * cb(arg, status, res): exactly once per accepted transaction.
 *  - 0: committed and applied; res (borrowed during the call) holds the
 *    verdicts, res->index the entry's index.
 *  - CR_EMALFORMED: the record failed to decode on apply; every replica
 *    rejected it the same way and applied the rest of the batch.
 *  - CR_ENOTLEADER: leadership changed before the batch was proposed: it
 *    was not committed.
 *  - CR_ELEADERSHIPLOST: leadership changed while it was in flight: it may
 *    or may not commit. Clients retry with the SAME transaction id; the
 *    state's de-duplication then answers the first verdict if it did.
 *  - CR_ESHUTDOWN: the node closed (outcome unknown if it was proposed).
 *  - CR_EIO: raft failed the entry (message in the log).
 * res is NULL whenever status != 0. */
typedef void (*cr_submit_cb)(void *arg, int status, const cs_result *res);

/* Queues txn. Returns 0 and takes ownership of txn (it is freed once
 * encoded). Errors (the caller keeps txn, cb never runs): CR_ENOTLEADER when
 * this node is not a trusted leader (cr_node_leader says where to go),
 * CR_ESHUTDOWN, CR_EINVAL when cs_txn_validate rejects txn, CR_ETOOBIG;
 * cr_node_errmsg says more. */
int cr_node_submit(cr_node *node, cs_txn *txn, cr_submit_cb cb, void *arg);

/* Completion of barriers, membership changes and transfers: status 0 or a
 * CR_E* code; msg (borrowed during the call) says what happened, "" on 0. */
typedef void (*cr_done_cb)(void *arg, int status, const char *msg);

/* Linearizable reads: once cb(arg, 0, "") runs, the local state includes
 * every entry committed before this call. Leader only (CR_ENOTLEADER). */
int cr_node_barrier(cr_node *node, cr_done_cb cb, void *arg);

/* ---- reads ---------------------------------------------------------------
 * The local replica: possibly stale on a follower or standby; on a trusted
 * leader, follow cr_node_barrier for a linearizable read. The pointer (and
 * every entity pointer from it) is valid until control returns to the loop:
 * the next apply or snapshot restore may change or replace the state. */
const cs_state *cr_node_state(const cr_node *node);

uint64_t cr_node_id(const cr_node *node);
enum cst_role cr_node_role(const cr_node *node);
/* Leader whose post-election barrier has applied, in its current term. */
bool cr_node_trusted(const cr_node *node);
uint64_t cr_node_term(const cr_node *node);
uint64_t cr_node_commit_index(const cr_node *node);  /* known committed */
uint64_t cr_node_applied_index(const cr_node *node); /* applied locally */
uint64_t cr_node_last_index(const cr_node *node);    /* appended locally */

/* The leader as this node knows it: returns its id and fills *out (when not
 * NULL: id, role, raft and API address) or returns 0 when unknown (during an
 * election). Right after the leader dies this still names it until the local
 * election timer fires (RAFT.md §2). */
uint64_t cr_node_leader(const cr_node *node, struct cst_member *out);

/* The members of the current configuration (possibly not yet committed),
 * with roles and API addresses. *out is malloc'd and the caller frees it;
 * it is NULL when *n is 0. */
void cr_node_members(const cr_node *node, struct cst_member **out, unsigned *n);

/* Last synchronous error message of this node ("" if none). */
const char *cr_node_errmsg(const cr_node *node);

void cr_node_stats(const cr_node *node, struct cst_stats *out);

/* ---- membership (leader only; one change at a time: CR_EBUSY) ------------
 * cr_node_add: raft_add, then a member record carrying the API address is
 * committed, then raft_assign to `role` (VOTER promotion waits for the new
 * server to catch up). The new node must run with npeers == 0. */
int cr_node_add(cr_node *node, uint64_t id, const char *raft_address,
                const char *api_address, enum cst_member_role role,
                cr_done_cb cb, void *arg);
/* Changes a member's role (e.g. promote a standby to voter). */
int cr_node_assign(cr_node *node, uint64_t id, enum cst_member_role role,
                   cr_done_cb cb, void *arg);
/* raft_remove, then its member record is dropped. */
int cr_node_remove(cr_node *node, uint64_t id, cr_done_cb cb, void *arg);
/* Hands leadership to voter `id` (0: raft picks one). cb gets 0 when the
 * target (or, for 0, another server) leads, CR_ETRANSFER otherwise. */
int cr_node_transfer(cr_node *node, uint64_t id, cr_done_cb cb, void *arg);

#endif /* CELL_CELLRAFT_H */
