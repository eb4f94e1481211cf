/* internal.h: private to cellstate; never included outside cellstate/. */
#ifndef CELL_CELLSTATE_INTERNAL_H
#define CELL_CELLSTATE_INTERNAL_H

#include "cellstate.h"
#include "cellutil.h"

#include <stdarg.h>

#define CS_UNUSED(x)    ((void)(x))
#define CS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#if defined(__GNUC__)
#define CS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define CS_LIKELY(x)    __builtin_expect(!!(x), 1)
#define CS_UNLIKELY(x)  __builtin_expect(!!(x), 0)
#else
#define CS_PRINTF(f, a)
#define CS_LIKELY(x)   (x)
#define CS_UNLIKELY(x) (x)
#endif

/* ---- arena (arena.c): bump allocator backing a transaction's strings ---- */
struct cs_arena;
struct cs_arena *cs_arena_new(void);
void cs_arena_free(struct cs_arena *a);
void *cs_arena_alloc(struct cs_arena *a, size_t n); /* zeroed, 8-aligned */
char *cs_arena_strdup(struct cs_arena *a, const char *s); /* NULL stays NULL */

/* Appends a zeroed op of this kind to txn (txn.c). */
struct cs_op *cs_txn_add(cs_txn *t, enum cs_op_kind kind);
/* Appends an op naming a task and a machine (NULL allowed), both copied:
 * the start of the place, preempt, release and task_state builders. */
struct cs_op *cs_txn_task_op(cs_txn *t, enum cs_op_kind kind, const char *job,
                             uint32_t task, const char *machine);

/* Deep copies of specs, either into an arena (a != NULL) or onto the heap
 * (a == NULL, freed with cs_*_spec_free). */
struct cs_machine_spec *cs_machine_spec_copy(struct cs_arena *a,
                                             const struct cs_machine_spec *s);
struct cs_job_spec *cs_job_spec_copy(struct cs_arena *a,
                                     const struct cs_job_spec *s);
/* Sorts labels by key: the state keeps them sorted, so replicas fed by
 * builders and by decoders store the same thing. */
void cs_labels_sort(struct cs_label *l, uint32_t n);
/* Frees the heap members of a spec copied with a == NULL, not the struct. */
void cs_job_spec_release(struct cs_job_spec *s);

/* ---- dedup (dedup.c): verdicts of recent transaction ids ---- */
struct cs_dedup_rec {
	char *id;
	uint64_t index;
	int64_t ms;
	bool committed;
	uint32_t nops;
	uint8_t *reasons; /* nops entries */
};
struct cs_dedup {
	struct cu_map by_id;        /* id -> struct cs_dedup_rec* */
	struct cs_dedup_rec **ring; /* FIFO, oldest at head */
	uint32_t head, len, cap;
};
void cs_dedup_init(struct cs_dedup *d);
void cs_dedup_destroy(struct cs_dedup *d);
const struct cs_dedup_rec *cs_dedup_find(const struct cs_dedup *d,
                                         const char *id);
/* Records a verdict (copying id and reasons), then expires. */
void cs_dedup_record(struct cs_dedup *d, const struct cs_config *cfg,
                     const char *id, uint64_t index, int64_t ms,
                     const cs_result *res);
void cs_dedup_add(struct cs_dedup *d, struct cs_dedup_rec *rec); /* takes rec */
/* Forgets records older than the ttl at now_ms, or beyond the limit. */
void cs_dedup_expire(struct cs_dedup *d, const struct cs_config *cfg,
                     int64_t now_ms);
/* Oldest first; i < d->len. */
const struct cs_dedup_rec *cs_dedup_at(const struct cs_dedup *d, uint32_t i);

/* ---- the state ---- */
struct cs_state {
	struct cs_config cfg;
	uint64_t applied_index;
	uint64_t seq_clock; /* last machine version handed out */
	uint64_t
	    txn_serial; /* transactions applied by this process (not state) */
	/* Machine slots. Invariant: nmachines == slots with in_use; free slots
	 * are chained through next_free from free_head (CS_NO_MACHINE ends). */
	struct cs_machine *machines;
	uint32_t nslots;
	uint32_t slots_cap;
	uint32_t nmachines;
	uint32_t free_head;
	struct cu_map machine_by_name; /* name -> slot + 1 (as a pointer) */
	struct cu_map jobs;            /* name -> struct cs_job* (owned) */
	struct cs_sched *scheds;       /* sorted by name */
	uint32_t nscheds;
	uint32_t scheds_cap;
	char res_names[CS_RES_MAX][CS_RES_NAME_MAX + 1];
	uint32_t nres; /* >= CS_RES_FIXED */
	struct cs_dedup dedup;
	bool track_changes; /* local setting, not state */
};

static inline struct cs_machine *cs_slot(cs_state *s, uint32_t slot)
{
	return &s->machines[slot];
}

/* Resolves a spec's named amounts to a vector, registering extended resource
 * names not seen before (in order, so replicas agree). Returns CS_R_OK or
 * CS_R_RESOURCE_LIMIT when the names would overflow CS_RES_MAX; `registered`
 * (may be NULL) gets how many names were added. */
enum cs_reason cs_res_resolve(cs_state *s, const struct cs_amount *a,
                              uint32_t n, cs_res *out, uint32_t *registered);
void cs_res_add(cs_res *a, const cs_res *b, uint32_t nres);
void cs_res_sub(cs_res *a, const cs_res *b, uint32_t nres);

/* Machine slot management used by apply and by the snapshot decoder. */
uint32_t cs_machine_slot_alloc(cs_state *s, const char *name);
void cs_machine_slot_release(cs_state *s, uint32_t slot);
/* Job creation/destruction used by apply and by the snapshot decoder. The
 * job takes a heap copy of spec. */
struct cs_job *cs_job_create(const struct cs_job_spec *spec, const cs_res *req,
                             int64_t now_ms);
void cs_job_destroy(struct cs_job *job);
void cs_job_add_dependent(struct cs_job *dep, struct cs_job *job);
/* Removes job from dep's dependents; returns its position or -1. */
int cs_job_remove_dependent(struct cs_job *dep, const struct cs_job *job);
/* Links an assigned/running task into a machine's list (no accounting). */
void cs_machine_link(struct cs_machine *m, struct cs_task *t);
void cs_machine_unlink(struct cs_machine *m, struct cs_task *t);
/* Scheduler registry position of name, or where it would go (*found). */
uint32_t cs_sched_search(const cs_state *s, const char *name, bool *found);

/* ---- apply (apply.c, lookup.c, journal.c, op_*.c) ----
 * An op either rejects without changing anything, or changes the state and
 * accepts. Ops change the state only through the mutators below, which
 * record before-images in the journal when one is active (all_or_nothing
 * transactions and dry runs), so the whole transaction can be undone. */
struct cs_journal;
struct cs_apply {
	cs_state *s;
	const cs_txn *txn;
	int64_t now_ms;
	struct cs_journal *journal; /* NULL: changes are final at once */
	char *detail; /* set by cs_reject, moved into the verdict */
	/* the change feed of this transaction, when tracking (changes.c) */
	struct cs_change *changes;
	uint32_t nchanges, changes_cap;
};

/* Change feed (changes.c); no-ops unless the state tracks changes. A task
 * change names the machine it is on, or `slot` (the one it just left) when
 * it is on none. */
void cs_note_task(struct cs_apply *a, const struct cs_task *t,
                  enum cs_task_end end, uint32_t slot);
void cs_note_job(struct cs_apply *a, const struct cs_job *job);
void cs_note_machine(struct cs_apply *a, uint32_t slot);
void cs_note_removed(struct cs_apply *a, enum cs_change_kind kind,
                     const char *name);

enum cs_reason cs_reject(struct cs_apply *a, enum cs_reason r, const char *fmt,
                         ...) CS_PRINTF(3, 4);

/* Pre-checks (lookup.c): CS_R_OK, or a rejection with a detail. */
/* unknown_job */
enum cs_reason cs_find_job(struct cs_apply *a, const char *name,
                           struct cs_job **job);
/* unknown_job, or job_finished for a job that has ended */
enum cs_reason cs_find_active_job(struct cs_apply *a, const char *name,
                                  struct cs_job **job);
/* unknown_machine */
enum cs_reason cs_find_machine(struct cs_apply *a, const char *name,
                               uint32_t *slot);
/* op->machine (unknown_machine), then cs_check_seq against it */
enum cs_reason cs_find_op_machine(struct cs_apply *a, const struct cs_op *op,
                                  uint32_t *slot);
/* op->job's task op->task: unknown_job or unknown_task */
enum cs_reason cs_find_task(struct cs_apply *a, const struct cs_op *op,
                            struct cs_job **job, struct cs_task **t);
/* task_not_active unless assigned or running */
enum cs_reason cs_check_live(struct cs_apply *a, const struct cs_task *t);
/* wrong_machine unless the (live) task is on slot */
enum cs_reason cs_check_on(struct cs_apply *a, const struct cs_task *t,
                           uint32_t slot);

/* Mutators. Each records what it is about to change, then changes it. */
/* Before any change to a machine: saves its image once per transaction and
 * bumps its seq once per transaction. Returns the machine. */
struct cs_machine *cs_touch_machine(struct cs_apply *a, uint32_t slot);
void cs_save_task(struct cs_apply *a, struct cs_task *t);
void cs_save_job(struct cs_apply *a, struct cs_job *job); /* once per txn */
/* Replaces a job's note with a copy of note (NULL or "" clears it); the old
 * one is freed on commit, the new one on undo. */
void cs_set_job_note(struct cs_apply *a, struct cs_job *job, const char *note);
void cs_save_state(struct cs_apply *a);  /* scalars; once per txn */
void cs_save_scheds(struct cs_apply *a); /* once per txn */
/* Links t (already saved) into / out of a machine's list (machine already
 * touched), saving the neighbours whose links change. */
void cs_link_task(struct cs_apply *a, uint32_t slot, struct cs_task *t);
void cs_unlink_task(struct cs_apply *a, uint32_t slot, struct cs_task *t);
/* Creation and removal, with ownership: a created entity is destroyed on
 * undo (a machine's slot only: the caller registers the members it
 * allocates with cs_free_on_undo); a removed one is destroyed on commit (at
 * once without a journal). */
uint32_t cs_add_machine(struct cs_apply *a, const char *name);
void cs_drop_machine(struct cs_apply *a, uint32_t slot); /* no tasks left */
void cs_add_job(struct cs_apply *a, struct cs_job *job);
void cs_drop_job(struct cs_apply *a, struct cs_job *job);
void cs_add_dependent(struct cs_apply *a, struct cs_job *dep,
                      struct cs_job *job);
void cs_drop_dependent(struct cs_apply *a, struct cs_job *dep,
                       struct cs_job *job);
/* p (heap) is garbage once the txn commits; kept until then for undo. */
void cs_free_on_commit(struct cs_apply *a, void *p);
/* p (heap) was allocated by this txn; freed if the txn is undone. */
void cs_free_on_undo(struct cs_apply *a, void *p);

struct cs_journal *cs_journal_new(void);
void cs_journal_commit(struct cs_journal *j, cs_state *s); /* frees j */
void cs_journal_undo(struct cs_journal *j, cs_state *s);   /* frees j */

/* Coarse detection (lookup.c): rejects (seq_changed) an op carrying a seq
 * that differs from the machine's seq before this transaction; CS_R_OK in
 * fine mode. */
enum cs_reason cs_check_seq(struct cs_apply *a, const struct cs_op *op,
                            const struct cs_machine *m);
/* The coarse-detection view: the machine's seq before this transaction. */
uint64_t cs_seq_seen(const struct cs_apply *a, const struct cs_machine *m);

/* Task moves (task.c): every state change of a task goes through here,
 * checked against the lifecycle table, keeping job counters exact. */
void cs_task_move(struct cs_apply *a, struct cs_task *t, enum cs_task_state to);
/* Assigned or running: holding resources on a machine. */
bool cs_task_is_live(const struct cs_task *t);
/* Takes an assigned/running task off its machine, freeing its resources. */
void cs_task_detach(struct cs_apply *a, struct cs_task *t);
/* Ends an assigned/running task's attempt: detach, then retry (failed, lost,
 * preempted, released go back to pending) or finish it. */
void cs_task_end(struct cs_apply *a, struct cs_task *t, enum cs_task_end how,
                 int32_t exit_code);
/* Recomputes a job's state from its counters after task moves, and runs the
 * consequences (dependents unblocked or failed). */
void cs_job_refresh(struct cs_apply *a, struct cs_job *job);
/* Fails or kills a job: its live tasks are killed, dependents fail. */
void cs_job_finish(struct cs_apply *a, struct cs_job *job,
                   enum cs_job_state state, enum cs_job_cause cause);

/* Machine state changes (machine.c). Ends every task on the machine
 * (lost), in an order that does not depend on the machine's list. */
void cs_machine_lose_tasks(struct cs_apply *a, uint32_t slot);
/* Touches the machine, sets st, notes it; a machine going down loses its
 * tasks. */
void cs_machine_set_state(struct cs_apply *a, uint32_t slot,
                          enum cs_machine_state st);

/* ---- op descriptors (ops.c, op_*.c) ----
 * Everything that differs between op kinds, in one row per kind: each row
 * is defined in its op's file (op_place.c, ...) next to the op's builder,
 * and ops.c lists them. The generic machinery frames a transaction and
 * calls through the row for each op: validate.c (check, seq), codec_txn.c
 * (fields, json_read, json_write), codec_bin.c (bin_*), apply.c (apply).
 * Journal, state hash, snapshots and the change feed work on the state,
 * not on ops: nothing op-specific lives there. Every member is required
 * unless it says otherwise. ADDING_AN_OP.md walks through a new row. */
struct cs_jdec;
struct cs_bdec;

/* Whether an op may carry the machine version its submitter saw. */
enum cs_seq_rule {
	CS_SEQ_NEVER,    /* a seq is an error ("expected no seq ...") */
	CS_SEQ_OPTIONAL, /* checked under coarse detection when given */
	CS_SEQ_COARSE,   /* as optional, but required under coarse (place) */
};

struct cs_op_desc {
	/* "place": JSON "op" and cs_op_name; unique, and never renamed (logs
	 * and clients spell it) */
	const char *name;
	enum cs_seq_rule seq;
	/* JSON (FORMAT.md). The keys an op object may have, "op" included,
	 * NULL-terminated, in the order the unknown-field message lists
	 * them. */
	const char *const *fields;
	/* Reads o (its keys already checked against fields) and appends the
	 * op through its builder; the order of the reads decides which error
	 * an op with two bad fields reports. 0, or -1 with d's error. */
	int (*json_read)(struct cs_jdec *d, const json_t *o, cs_txn *t);
	/* Sets the op's keys on o, which holds "op" already, in FORMAT.md
	 * order; op is as a builder or a decoder made it. */
	void (*json_write)(json_t *o, const struct cs_op *op);
	/* Validation of everything but the seq, with messages at d's path
	 * (ops[i]) plus the field's key. 0, or -1 with d's error. */
	int (*check)(struct cs_jdec *d, const struct cs_op *op);
	/* Binary: codec_bin.c writes u8 kind, u8 flags, then bin_put's
	 * fields, the seq when flag CS_BIN_SEQ is set, then the extras. */
	void (*bin_put)(struct cu_buf *w, const struct cs_op *op);
	/* Reads what bin_put wrote into op (kind set, all else zero); errors
	 * stick in r (bin_util.h), checked by the framing. */
	void (*bin_get)(struct cs_bdec *r, struct cs_op *op);
	/* Optional fields added after version 1 (0 and NULL when none): the
	 * flag bits above CS_BIN_SEQ this kind may set. An entry with any
	 * other bit is refused. */
	uint8_t bin_ext;
	/* Writes the extras op has, after the seq, and returns their bits:
	 * an op without them encodes byte for byte as before they existed. */
	uint8_t (*bin_put_ext)(struct cu_buf *w, const struct cs_op *op);
	/* Called when flags has a bit of bin_ext: reads those extras, in the
	 * order bin_put_ext wrote them, and refuses (cs_bfail) a flagged
	 * value bin_put_ext would not have written, so every accepted
	 * encoding is the writer's. */
	void (*bin_get_ext)(struct cs_bdec *r, struct cs_op *op, uint8_t flags);
	/* Applies one op: CS_R_OK after changing the state through the
	 * mutators, or a rejection (cs_reject) before the first change.
	 * Deterministic in (state, txn, op). */
	enum cs_reason (*apply)(struct cs_apply *a, const struct cs_op *op);
};

/* Indexed by kind (ops.c); never NULL below CS_OP__COUNT. */
extern const struct cs_op_desc *const cs_op_table[CS_OP__COUNT];

/* The row of kind k, or NULL when k is no kind (a damaged or hand-built
 * op). Inline: apply and the binary decoder look it up once per op. */
static inline const struct cs_op_desc *cs_op_desc(enum cs_op_kind k)
{
	return (unsigned)k < CS_OP__COUNT ? cs_op_table[k] : NULL;
}

/* ---- state views (codec_entity.c) ---- */
/* A task's own fields without its job's name: what a snapshot stores. */
json_t *cs_task_fields(const cs_state *s, const struct cs_task *t);

/* ---- validation helpers (names.c) ---- */
bool cs_name_valid(const char *s);        /* [a-z0-9][a-z0-9._-]{0,62} */
bool cs_id_valid(const char *s);          /* [A-Za-z0-9._:@/-]{1,128} */
bool cs_label_key_valid(const char *s);   /* [a-z0-9][a-z0-9._/-]{0,62} */
bool cs_label_value_valid(const char *s); /* [A-Za-z0-9._-]{0,63} */
bool cs_res_name_valid(const char *s);    /* [a-z][a-z0-9._/-]{0,30} */
bool cs_env_name_valid(const char *s);    /* [A-Za-z_][A-Za-z0-9_]{0,127} */
/* "http://" or "https://", then at least one more byte; at most
 * CS_AGENT_MAX bytes in all, each printable ASCII other than the space. */
bool cs_agent_url_valid(const char *s);
/* NULL when valid, else what a cron field list should look like. */
const char *cs_cron_check(const char *spec);

#endif /* CELL_CELLSTATE_INTERNAL_H */
