/* cellstore.h: the store seam. What celld and the scheduler daemon need from
 * whatever keeps the cell's replicated log: a read-only replica of the cell
 * state, how far it has applied, whether this member may write now and where
 * writes go otherwise, submitting a transaction, a barrier, hooks for every
 * applied transaction and for a replaced state, and closing. Nothing above
 * this header knows which store is underneath. This header is the whole
 * public API of the library `cellstore` (folder store/), which holds the
 * dispatch and the in-memory fake; each backend's library implements its
 * own constructor declared at the end (the Raft group: cst_raft_open, in
 * library cellraft, folder raft/).
 *
 * Every replica applies the same log with the same cellstate code, so the
 * verdicts a writer receives are the ones every replica computes. The store
 * turns cellstate's change feed on for its state (always, for every state a
 * snapshot restore puts in its place), so every applied result carries its
 * changes.
 *
 * Threads: a store lives on the thread that runs its loop; nothing locks,
 * and every callback and hook runs on that thread, from the loop.
 *
 * Errors: functions return 0 or a CST_E* code (the store's own vocabulary;
 * celld maps them to HTTP statuses in one place). Synchronous failures
 * leave a message with context in cst_errmsg(). Rule, as libuv's: if a call
 * that takes a callback returns an error, that callback never runs; if it
 * returns 0, the callback runs exactly once, never from inside the call.
 *
 * Memory: allocation failure aborts the process, as everywhere in Cell. */
#ifndef CELL_CELLSTORE_H
#define CELL_CELLSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cellstate.h"

struct ev_loop;

#define CST_ERRMSG_SIZE   256
#define CST_ADDR_MAX      48  /* a store address: "255.255.255.255:65535" */
#define CST_API_ADDR_MAX  256 /* an API URL, advertised verbatim */
#define CST_TXN_MAX_BYTES (16u << 20) /* one encoded transaction, at most */

/* ---- error codes ---------------------------------------------------------
 * One table generates the enum and cst_strerror(). */
#define CST_ERRORS(X)                                                          \
	X(OK, "ok")                                                            \
	X(EINVAL, "invalid argument")                                          \
	X(ENOTWRITER, "this member cannot write now (cst_writer says where "   \
	              "writes go)")                                            \
	X(EUNKNOWN, "outcome unknown: the transaction may or may not commit; " \
	            "send it again with the same id")                          \
	X(ENOTCOMMITTED, "not committed: the write never reached the log")     \
	X(ESHUTDOWN, "the store is closing")                                   \
	X(EMALFORMED, "record malformed: rejected by every replica")           \
	X(ETOOBIG, "transaction too big for one entry")                        \
	X(EBUSY, "another membership change is in progress")                   \
	X(ENOTFOUND, "no such member")                                         \
	X(ETRANSFER, "the handover of writing did not complete")               \
	X(ENOTSUP, "this store has no such operation")                         \
	X(EIO, "store or I/O error")

enum cst_error {
#define CST_ERROR_ENUM(id, text) CST_##id,
	CST_ERRORS(CST_ERROR_ENUM)
#undef CST_ERROR_ENUM
	    CST_ERROR__COUNT
};

/* Static text for a code; "unknown error" when out of range. */
const char *cst_strerror(int code);

/* ---- roles and members ---------------------------------------------------
 * cst_role is this member's part in keeping the log (a Raft state for the
 * Raft store); writes are accepted only by the writer (cst_writable). A
 * member's role in the membership is cst_member_role. */
enum cst_role {
	CST_ROLE_UNAVAILABLE,
	CST_ROLE_FOLLOWER,
	CST_ROLE_CANDIDATE,
	CST_ROLE_LEADER
};
enum cst_member_role {
	CST_MEMBER_STANDBY, /* replicates and applies, never votes */
	CST_MEMBER_VOTER,
	CST_MEMBER_SPARE /* in the membership, receives nothing */
};
const char *cst_role_name(enum cst_role r);               /* "leader" */
const char *cst_member_role_name(enum cst_member_role r); /* "voter" */
int cst_member_role_parse(const char *name);              /* -1 when unknown */

/* A member as every replica knows it. api_address is "" until the record
 * carrying it has been applied locally. */
struct cst_member {
	uint64_t id; /* > 0 */
	enum cst_member_role role;
	char address[CST_ADDR_MAX];         /* the store's own, e.g. Raft's */
	char api_address[CST_API_ADDR_MAX]; /* "http://127.0.0.1:8001" */
};

/* What /v1/status shows of this member. */
struct cst_status {
	uint64_t id; /* this member's id in the membership */
	enum cst_role role;
	bool writer;            /* may write now: cst_writable */
	uint64_t term;          /* the store's epoch of leadership; 0: none */
	uint64_t commit_index;  /* known committed */
	uint64_t applied_index; /* applied to the local state */
	uint64_t last_index;    /* appended locally */
};

struct cst_stats {
	uint64_t submitted; /* transactions accepted by cst_submit */
	uint64_t queued;    /* ... waiting for the next entry, now */
	uint64_t batches;   /* entries proposed by this member */
	uint64_t inflight;  /* ... whose callback has not run yet, now */
	uint64_t applied;   /* transactions applied on this replica */
	uint64_t malformed; /* records rejected as malformed, this replica */
	uint64_t snapshots; /* snapshots taken by this replica */
	uint64_t restores;  /* states replaced by a snapshot */
};

/* ---- hooks ---------------------------------------------------------------
 * Optional (NULL: not called), all on the loop thread, copied at open. They
 * must not block nor run the loop; they may call any cst_* function, except
 * that cst_close takes effect only after the hook returns. Hooks may run
 * during the backend's open (replaying the local log), before the open
 * call has returned the store: they must not assume it exists yet. */
enum cst_log_level { CST_LOG_DEBUG, CST_LOG_INFO, CST_LOG_WARN, CST_LOG_ERROR };

struct cst_hooks {
	/* This member's role changed. */
	void (*on_role)(void *arg, enum cst_role old_role,
	                enum cst_role new_role);
	/* This member became the writer for `epoch` (the Raft leader of that
	 * term, once every entry of earlier terms has applied locally): its
	 * state includes every committed entry, it accepts writes and runs
	 * the leader duties. `applied_index` is the index at that moment,
	 * which no earlier leadership has reached (a unique prefix for ids
	 * of transactions the writer makes itself). */
	void (*on_writer)(void *arg, uint64_t epoch, uint64_t applied_index);
	/* One transaction applied on this replica, in log order; several may
	 * share an index (one entry holds a batch). txn and res (with its
	 * changes) are borrowed for the call. After a restart it runs again
	 * for the entries replayed past the local snapshot. */
	void (*on_applied)(void *arg, uint64_t index, const cs_txn *txn,
	                   const cs_result *res);
	/* The local state was replaced by a snapshot (the local one at open,
	 * or one sent by the writer when this replica fell behind):
	 * incremental consumers (watch streams, a scheduler's queues) must
	 * reload. */
	void (*on_restore)(void *arg, uint64_t applied_index);
	/* A log line without newline; NULL: lines go to stderr. */
	void (*log)(void *arg, enum cst_log_level level, const char *msg);
	void *arg;
};

/* ---- the store -----------------------------------------------------------*/
typedef struct cst_store cst_store;

/* The local replica, read-only. The pointer (and every entity pointer
 * from it) is valid until control returns to the loop: the next apply or
 * restore may change or replace the state. */
const cs_state *cst_state(const cst_store *s);
uint64_t cst_applied_index(const cst_store *s);
void cst_status(const cst_store *s, struct cst_status *out);
void cst_stats(const cst_store *s, struct cst_stats *out);
/* Whether this member may write now. */
bool cst_writable(const cst_store *s);
/* Where writes go: returns the writer's id and fills *out (id, role,
 * addresses; out may be NULL), or 0 while unknown (an election). Right
 * after a writer dies this may still name it for a moment. */
uint64_t cst_writer(const cst_store *s, struct cst_member *out);
/* Last synchronous error message ("" if none). */
const char *cst_errmsg(const cst_store *s);

/* cb(arg, status, res): exactly once per accepted transaction.
 *  - 0: committed and applied on this replica; res (borrowed during the
 *    call) holds the verdicts (res->index: the entry's index).
 *  - CST_EUNKNOWN: the writer lost its role while the transaction was in
 *    flight: it may or may not commit. Send it again with the SAME id; the
 *    state's de-duplication answers the first verdict if it did.
 *  - CST_ENOTCOMMITTED: it never reached the log (the role was lost
 *    before it was proposed): sending it again is safe.
 *  - CST_EMALFORMED: every replica rejected the record as undecodable.
 *  - CST_ESHUTDOWN: the store closed (outcome unknown if it was in flight).
 *  - CST_EIO: the store failed the entry (the log says why).
 * res is NULL whenever status != 0. */
typedef void (*cst_submit_cb)(void *arg, int status, const cs_result *res);

/* Queues txn for the next entry (the writer groups what arrives in one turn
 * of the loop into one entry). Returns 0 and takes ownership of txn.
 * Errors, with the caller keeping txn and cb never run: CST_ENOTWRITER,
 * CST_ESHUTDOWN, CST_EINVAL (cs_txn_validate refused it), CST_ETOOBIG. */
int cst_submit(cst_store *s, cs_txn *txn, cst_submit_cb cb, void *arg);

/* The verdicts txn would get as the next entry on the local replica, which
 * is left as it was (celld's dry run, on the writer: the freshest view
 * there is). cs_dry_run needs the state writable for its undo journal, so
 * the store, which owns the state, runs it. *out: the caller clears it. */
void cst_dry_run(cst_store *s, const cs_txn *txn, cs_result *out);

/* Completion of barriers, membership changes and handovers: status 0 or a
 * CST_E* code; msg (borrowed during the call) says what happened, "" on 0. */
typedef void (*cst_done_cb)(void *arg, int status, const char *msg);

/* Once cb(arg, 0, "") runs, the local state includes every entry committed
 * before this call (a linearizable read follows). Writer only
 * (CST_ENOTWRITER). */
int cst_barrier(cst_store *s, cst_done_cb cb, void *arg);

/* Closes the store: queued and in-flight transactions get CST_ESHUTDOWN,
 * a membership change in progress too; then the backend stops and frees,
 * and cb(arg) runs last, from the loop. Only the first call counts; after
 * it, the store may be used only inside the callbacks and hooks it still
 * makes (submits fail with CST_ESHUTDOWN). cb may be NULL. */
typedef void (*cst_close_cb)(void *arg);
void cst_close(cst_store *s, cst_close_cb cb, void *arg);

/* ---- membership: an extra some stores have -------------------------------
 * Each returns CST_ENOTSUP (and cb never runs) on a store without one.
 * Changes are writer-only (CST_ENOTWRITER) and one at a time (CST_EBUSY). */

/* The members of the current membership, with roles and API addresses.
 * *out is malloc'd (the caller frees it; NULL when *n is 0). */
int cst_members(const cst_store *s, struct cst_member **out, unsigned *n);
/* Adds a member at `address` advertising api_address, in `role` (a voter
 * is promoted once it has caught up, so cb may take a while). The new
 * member must have been opened without a bootstrap list. */
int cst_member_add(cst_store *s, uint64_t id, const char *address,
                   const char *api_address, enum cst_member_role role,
                   cst_done_cb cb, void *arg);
int cst_member_assign(cst_store *s, uint64_t id, enum cst_member_role role,
                      cst_done_cb cb, void *arg);
int cst_member_remove(cst_store *s, uint64_t id, cst_done_cb cb, void *arg);
/* Hands writing to member id (0: the store picks one). cb gets 0 when the
 * target (or, for 0, another member) writes, CST_ETRANSFER otherwise. */
int cst_transfer(cst_store *s, uint64_t id, cst_done_cb cb, void *arg);

/* ==== backends ============================================================
 *
 * ---- the embedded Raft group (library cellraft, folder raft/) ------------
 * canonical/raft with its libuv I/O driven from the caller's libev loop.
 * Zero means "the default" for every number. Strings and arrays are
 * borrowed during the call only. */
struct cst_raft_peer {
	uint64_t id;
	const char *address;     /* Raft address, IPv4 "A.B.C.D:port" */
	const char *api_address; /* NULL or "" when it has none */
};

struct cst_raft_config {
	uint64_t id;             /* > 0, unique in the cell */
	const char *address;     /* Raft address, IPv4 literal "A.B.C.D:port" */
	const char *api_address; /* what this member advertises; may be NULL */
	const char *data_dir;    /* created (one level) when missing */
	/* The static bootstrap list: every initial voter gets the same one,
	 * including itself. npeers == 0: this member waits to be added by a
	 * running cell (a joining voter, a scheduler's standby). A member
	 * that already has state ignores it, so one configuration serves
	 * every restart. */
	const struct cst_raft_peer *peers;
	unsigned npeers;
	unsigned election_timeout_ms;  /* 0: 1000 (raft randomises 1-2x) */
	unsigned heartbeat_timeout_ms; /* 0: 100 */
	unsigned snapshot_threshold;   /* 0: 16384 entries */
	unsigned snapshot_trailing;    /* 0: 8192 entries */
	size_t segment_size;           /* 0: 64 MiB */
	bool no_pre_vote;              /* pre-vote is on unless set */
	unsigned batch_max_txns;       /* 0: 1024 per entry */
	size_t batch_max_bytes;        /* 0: 1 MiB per entry */
	/* Cell-wide settings of a brand-new state; a snapshot carries its
	 * own. All zero: the defaults. */
	struct cs_config state;
};

/* Opens the Raft log in cfg->data_dir (bootstrapping the peer list if
 * given), loads the snapshot and replays the log (hooks run), and starts
 * talking to peers. On 0, *out is a store the caller must cst_close. On
 * error *out is NULL, nothing is left running on the loop, and errbuf
 * names what was wrong. */
int cst_raft_open(struct ev_loop *loop, const struct cst_raft_config *cfg,
                  const struct cst_hooks *hooks, cst_store **out, char *errbuf,
                  size_t errlen);

/* ---- the fake: an in-memory log for tests and simulation (this library) --
 * One replica, no I/O: submitted transactions are applied in order, one
 * entry per flush, with the time the clock function gives. Everything a
 * test needs to force the cases the interface promises: who writes, where
 * writes go, an outcome that is unknown, a state replaced by a snapshot.
 * With a loop, flushes happen by themselves before the loop blocks (an
 * ev_prepare); without one, the test calls cst_fake_flush. */
struct cst_fake_config {
	struct ev_loop *loop;         /* NULL: flush by hand */
	int64_t (*now_ms)(void *arg); /* entry time; NULL: index * 1000 */
	void *clock_arg;
	uint64_t id;             /* this member's id; 0: 1 */
	const char *api_address; /* what this member advertises */
	struct cs_config state;  /* settings of the new state */
	bool writer;             /* starts as the writer (on_writer runs at
	                            the first flush) */
	/* A trivial, in-memory membership: this member as a voter (never
	 * removed nor reassigned), changes that take effect at once with
	 * their callback (0) at the next flush, a transfer that moves the
	 * writer role at once. false: the membership calls answer
	 * CST_ENOTSUP. */
	bool membership;
};
int cst_fake_open(const struct cst_fake_config *cfg,
                  const struct cst_hooks *hooks, cst_store **out);
/* Runs the role hooks due, applies everything queued as one entry and
 * answers its submitters, then delivers completions due (barriers,
 * membership changes, answers decided without an entry); returns the
 * number of transactions applied. What the callbacks submit waits for the
 * next flush; a flush from inside one does nothing. After cst_close, the
 * flush answers what is left with CST_ESHUTDOWN, frees the store and runs
 * the close callback. */
unsigned cst_fake_flush(cst_store *s);
/* Who writes: this member (writer true: at the next flush the role turns
 * leader, the member takes one entry of its own, as a Raft leader's
 * barrier does, so that no earlier epoch reached its applied index, and
 * on_writer runs with a new epoch; cst_writable from then on), or another
 * member, described by id and api_address (id 0: nobody, an election).
 * Losing the role takes effect at once: everything queued is answered
 * CST_ENOTCOMMITTED and barriers not yet delivered CST_ENOTWRITER, at the
 * next flush (which also runs on_role). */
void cst_fake_set_writer(cst_store *s, bool writer, uint64_t other_id,
                         const char *other_api_address);
/* The next n transactions submitted are answered with `status` instead of
 * their verdicts (CST_EUNKNOWN, CST_ENOTCOMMITTED, CST_EIO, ...); with
 * apply true they are applied first anyway (an unknown outcome that did
 * commit), else dropped. */
void cst_fake_fail_next(cst_store *s, unsigned n, int status, bool apply);
/* Applies txn (taken; it must pass cs_txn_validate) as the next entry
 * right now, as if another writer had committed it; on_applied runs.
 * Returns its verdicts (caller clears). Not from inside on_applied. */
cs_result cst_fake_apply(cst_store *s, cs_txn *txn);
/* Replaces the state with `state` (taken; its index becomes the applied
 * index; change tracking is turned on for it) and runs on_restore, as a
 * snapshot install does. Not from inside on_applied. */
void cst_fake_restore(cst_store *s, cs_state *state);

#endif /* CELL_CELLSTORE_H */
