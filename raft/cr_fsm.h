/* cr_fsm.h: cellraft internals shared with the raft_fixture tests: the entry
 * (batch) codec and the raft_fsm over cellstate, usable without libuv I/O.
 * Not part of the public API: celld uses cellraft.h only.
 *
 * Entry format (all integers little-endian), version 1:
 *   header, CR_ENTRY_HEADER_SIZE bytes:
 *     u32 magic "CELB"  u16 version  u16 flags (0)
 *     u32 count         u32 reserved (0)
 *     i64 now_ms        the leader's wall clock when it sealed the batch:
 *                       the time every replica passes to cs_apply
 *     u64 proposer      raft id of the node that proposed the entry
 *     u64 batch_id      unique per proposal (node nonce + sequence): routes
 *                       results back to the proposer's waiting submitters
 *   then `count` records:
 *     u8 kind  u8 0  u16 0  u32 len  payload[len]
 *   kinds: 1 = cellstate transaction (cs_txn_encode_bin),
 *          2 = member put: u64 id, u16 n + raft address, u16 n + API address
 *          3 = member delete: u64 id
 *   then zero bytes up to a multiple of 8: raft 0.15's segment loader
 *   mis-locates the entries of a batch loaded from disk when a length is
 *   not a multiple of 8 (canonical/raft#304; seen here as garbage entries
 *   after a restart). Decoders ignore bytes after the last record.
 * A record that does not decode is rejected as malformed on every replica
 * (the same bytes give the same answer everywhere) and the rest applies.
 */
#ifndef CELL_CR_FSM_H
#define CELL_CR_FSM_H

#include <raft.h>

#include "cellraft.h"

#define CR_ENTRY_MAGIC        0x424c4543u /* "CELB" read as little-endian u32 */
#define CR_ENTRY_VERSION      1u
#define CR_ENTRY_HEADER_SIZE  40u
#define CR_RECORD_HEADER_SIZE 8u
#define CR_PAD8(n)            (((n) + 7u) & ~(size_t)7u)

enum cr_record_kind {
	CR_REC_TXN = 1,
	CR_REC_MEMBER_PUT = 2,
	CR_REC_MEMBER_DEL = 3,
};

/* ---- entry builder ------------------------------------------------------
 * Builds one entry in a private malloc'd buffer; cr_entry_finish copies it
 * into a raft_malloc'd buffer for raft_apply (raft frees it once it owns
 * it). The node's group commit and the fixture tests both use this, so
 * tests replicate exactly what a real node writes. */
struct cr_entry {
	uint8_t *buf; /* owned; header space reserved at the front */
	size_t len;
	size_t cap;
	uint32_t count;
};

void cr_entry_init(struct cr_entry *e);
void cr_entry_free(struct cr_entry *e);
void cr_entry_reset(struct cr_entry *e); /* empty again, keeps the buffer */
/* Appends txn's binary encoding; CR_EINVAL if the codec refuses it. */
int cr_entry_add_txn(struct cr_entry *e, const cs_txn *txn);
void cr_entry_add_member_put(struct cr_entry *e, uint64_t id,
                             const char *raft_address, const char *api_address);
void cr_entry_add_member_del(struct cr_entry *e, uint64_t id);
/* Any record, as is (tests use it to inject malformed payloads). */
void cr_entry_add_record(struct cr_entry *e, uint8_t kind, const void *payload,
                         size_t len);
/* Writes the header and copies the entry into out->base (raft_malloc'd; the
 * caller passes it to raft_apply or raft_free's it). The builder keeps its
 * content; reset it to start another. */
void cr_entry_finish(struct cr_entry *e, int64_t now_ms, uint64_t proposer,
                     uint64_t batch_id, struct raft_buffer *out);

/* ---- the FSM ------------------------------------------------------------- */

/* Where apply() puts the outcomes of an entry the local node proposed and
 * still waits for. status[i] is 0 (results[i] holds the verdicts) or
 * CR_EMALFORMED. Filled by apply; the claimer owns results (clear them). */
struct cr_fsm_sink {
	uint32_t n;         /* records the proposer put in the entry */
	cs_result *results; /* n entries */
	int *status;        /* n entries */
	bool applied;       /* apply() filled it */
	uint64_t index;     /* entry index */
};

/* Member metadata as replicated (roles live in the Raft configuration). */
struct cr_member_meta {
	uint64_t id;
	char raft_address[CST_ADDR_MAX];
	char api_address[CST_API_ADDR_MAX];
};

struct cr_fsm_hooks {
	/* Returns the sink of an entry this node proposed and still waits
	 * for, or NULL. Must not change anything the FSM reads. */
	struct cr_fsm_sink *(*claim)(void *arg, uint64_t proposer,
	                             uint64_t batch_id);
	void (*on_applied)(void *arg, uint64_t index, const cs_txn *txn,
	                   const cs_result *res);
	void (*on_restore)(void *arg, uint64_t applied_index);
	void (*log)(void *arg, enum cst_log_level level, const char *msg);
	void *arg;
};

struct cr_fsm {
	struct raft_fsm fsm; /* fsm.data points back here */
	/* The raft instance that drives this FSM: apply() learns the index of
	 * the entry it applies as raft_last_applied(raft) + 1 (raft 0.15 sets
	 * last_applied right after each apply). Set with cr_fsm_bind. */
	struct raft *raft;
	cs_state *state; /* owned; replaced by restore */
	/* Invariant: members sorted by id, ids unique; replicated, so equal
	 * on every replica at the same applied index. */
	struct cr_member_meta *members;
	uint32_t nmembers;
	uint32_t members_cap;
	/* Largest batch time applied so far; cs_apply gets max(batch time,
	 * clock_ms) so entry time never runs backwards across leaders whose
	 * wall clocks disagree. Replicated and in snapshots. */
	int64_t clock_ms;
	struct cr_fsm_hooks hooks;
	/* cellstate's change feed, on for `state` and for every state a
	 * restore puts in its place (a local setting a snapshot does not
	 * carry), so no consumer has to turn it on again after a restore. */
	bool track_changes;
	uint64_t applied_txns; /* counters for cst_stats (local, not state) */
	uint64_t malformed;
	uint64_t snapshots;
	uint64_t restores;
};

/* cfg: the cell settings for a fresh state (NULL: defaults). */
void cr_fsm_init(struct cr_fsm *f, const struct cs_config *cfg,
                 const struct cr_fsm_hooks *hooks);
void cr_fsm_bind(struct cr_fsm *f, struct raft *raft);
/* Sets track_changes and applies it to the current state. */
void cr_fsm_track_changes(struct cr_fsm *f, bool on);
void cr_fsm_close(struct cr_fsm *f);

/* Member metadata by id, or NULL (valid until the next apply/restore). */
const struct cr_member_meta *cr_fsm_member(const struct cr_fsm *f, uint64_t id);

/* The snapshot the FSM would take now, in a raft_malloc'd buffer (tests use
 * it with raft_fixture_set_snapshot). */
void cr_fsm_encode_snapshot(const struct cr_fsm *f, struct raft_buffer *out);

/* Small helpers shared by the library's files. */
void cr_log(const struct cr_fsm_hooks *h, enum cst_log_level level,
            const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif /* CELL_CR_FSM_H */
