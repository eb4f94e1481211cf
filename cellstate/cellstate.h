/* cellstate.h: the pure cell-state model of Cell (ARCHITECTURE.md §2):
 * machines, jobs, tasks, optimistic placement transactions, their JSON codecs
 * and the state hash. This header is the whole public API of the library.
 *
 * Determinism: cellstate never reads a clock, draws a random number or
 * touches a file descriptor. Time comes in with each transaction (the Raft
 * entry's timestamp), so every replica that applies the same transactions in
 * the same order reaches the same state, the same verdicts and the same hash.
 *
 * Memory: allocation failure aborts the process. A half-applied transaction
 * would make replicas diverge, so there is nothing safer to do.
 *
 * Threads: a cs_state is owned by one thread; nothing here locks.
 */
#ifndef CELL_CELLSTATE_H
#define CELL_CELLSTATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CS_NAME_MAX     63  /* machine, job, pool, scheduler names */
#define CS_ID_MAX       128 /* transaction ids and origins */
#define CS_ERRMSG_SIZE  256 /* every errbuf parameter should be this big */
#define CS_RES_MAX      8   /* cpu, memory, disk + up to 5 extended */
#define CS_RES_NAME_MAX 31
#define CS_RES_VALUE_MAX                                                       \
	1000000000000000ull /* 10^15: beyond any real machine */
#define CS_LABELS_MAX    32
#define CS_JOB_TASKS_MAX 1000000u
#define CS_PRIORITY_MAX  1000u
#define CS_RETRIES_MAX   1000u
#define CS_NOTE_MAX      512u /* bytes of a job note */
#define CS_AGENT_MAX     127u /* bytes of a machine's agent URL */
#define CS_NO_MACHINE    UINT32_MAX

/* Fixed resource dimensions; extended ones (gpu, ...) get the next indexes
 * in the order the log first names them, so every replica agrees. */
enum { CS_RES_CPU, CS_RES_MEMORY, CS_RES_DISK, CS_RES_FIXED };

typedef struct cs_res {
	uint64_t v[CS_RES_MAX];
} cs_res;

/* ---- reason codes ------------------------------------------------------
 * One table generates the enum and cs_reason_name(). A rejected op is an
 * answer, not an error: its verdict carries one of these. */
#define CS_REASONS(X)                                                          \
	X(OK, "ok")                                                            \
	X(SEQ_CHANGED, "seq_changed")                                          \
	X(INSUFFICIENT, "insufficient")                                        \
	X(TASK_NOT_PENDING, "task_not_pending")                                \
	X(TASK_NOT_ACTIVE, "task_not_active")                                  \
	X(MACHINE_DOWN, "machine_down")                                        \
	X(MACHINE_DRAINING, "machine_draining")                                \
	X(CONSTRAINT, "constraint")                                            \
	X(PRIORITY, "priority")                                                \
	X(UNKNOWN_MACHINE, "unknown_machine")                                  \
	X(UNKNOWN_JOB, "unknown_job")                                          \
	X(UNKNOWN_TASK, "unknown_task")                                        \
	X(UNKNOWN_SCHEDULER, "unknown_scheduler")                              \
	X(EXISTS, "exists")                                                    \
	X(JOB_BLOCKED, "job_blocked")                                          \
	X(JOB_FINISHED, "job_finished")                                        \
	X(JOB_ACTIVE, "job_active")                                            \
	X(DEPENDENCY_FAILED, "dependency_failed")                              \
	X(STALE_ATTEMPT, "stale_attempt")                                      \
	X(WRONG_MACHINE, "wrong_machine")                                      \
	X(BELOW_ALLOCATED, "below_allocated")                                  \
	X(GANG_PARTIAL, "gang_partial")                                        \
	X(RESOURCE_LIMIT, "resource_limit")                                    \
	X(ABORTED, "aborted")

enum cs_reason {
#define CS_REASON_ENUM(id, name) CS_R_##id,
	CS_REASONS(CS_REASON_ENUM)
#undef CS_REASON_ENUM
	    CS_REASON__COUNT
};

/* Static string for a reason ("seq_changed"); "invalid" if out of range. */
const char *cs_reason_name(enum cs_reason r);
/* Parses a reason name; returns -1 when unknown. */
int cs_reason_parse(const char *name);

/* ---- lifecycles --------------------------------------------------------- */

enum cs_machine_state { CS_MACHINE_UP, CS_MACHINE_DRAINING, CS_MACHINE_DOWN };

/* Task lifecycle (the full table is in task.c, checked on every move):
 *   pending  -> assigned              place
 *   assigned -> running               agent report
 *   assigned|running -> succeeded | failed | lost | preempted | killed
 *   assigned|running -> pending       release (returned unrun, no retry used)
 *   failed|lost -> pending            retry, inside the same apply
 *   preempted -> pending              reschedule, inside the same apply
 *   pending  -> killed                job killed or failed
 * Stored states are therefore pending, assigned, running and the terminal
 * succeeded, failed, lost (retries exhausted) and killed. */
enum cs_task_state {
	CS_TASK_PENDING,
	CS_TASK_ASSIGNED,
	CS_TASK_RUNNING,
	CS_TASK_SUCCEEDED,
	CS_TASK_FAILED,
	CS_TASK_LOST,
	CS_TASK_PREEMPTED,
	CS_TASK_KILLED,
	CS_TASK_STATE__COUNT
};

/* How a task's previous attempt ended, kept so a user can see why it is
 * pending again. */
enum cs_task_end {
	CS_END_NONE,
	CS_END_SUCCEEDED,
	CS_END_FAILED,
	CS_END_LOST,
	CS_END_PREEMPTED,
	CS_END_KILLED,
	CS_END_RELEASED,
	CS_END__COUNT
};

/* Job lifecycle: blocked (a dependency has not succeeded) -> pending (no
 * task placed) <-> running (some task assigned or running) -> succeeded
 * (every task succeeded) | failed (a task exhausted its retries, or a
 * dependency failed) | killed. Failed and killed jobs kill their remaining
 * tasks, and fail the jobs blocked on them. */
enum cs_job_state {
	CS_JOB_BLOCKED,
	CS_JOB_PENDING,
	CS_JOB_RUNNING,
	CS_JOB_SUCCEEDED,
	CS_JOB_FAILED,
	CS_JOB_KILLED,
	CS_JOB_STATE__COUNT
};

/* Why a job ended (succeeded, failed or killed). */
enum cs_job_cause {
	CS_CAUSE_NONE,
	CS_CAUSE_TASK_FAILED,
	CS_CAUSE_DEPENDENCY_FAILED,
	CS_CAUSE_KILLED
};

enum cs_mode { CS_INCREMENTAL, CS_ALL_OR_NOTHING };
enum cs_detect { CS_FINE, CS_COARSE };

const char *cs_machine_state_name(enum cs_machine_state s);
const char *cs_task_state_name(enum cs_task_state s);
const char *cs_task_end_name(enum cs_task_end e);
const char *cs_job_state_name(enum cs_job_state s);
const char *cs_job_cause_name(enum cs_job_cause c);
const char *cs_mode_name(enum cs_mode m);
const char *cs_detect_name(enum cs_detect d);
/* Each parser returns the value, or -1 when the name is unknown. */
int cs_machine_state_parse(const char *name);
int cs_task_state_parse(const char *name);
int cs_task_end_parse(const char *name);
int cs_job_state_parse(const char *name);
int cs_job_cause_parse(const char *name);
int cs_mode_parse(const char *name);
int cs_detect_parse(const char *name);

/* True when a task in state s may move to state to (the lifecycle table). */
bool cs_task_transition_allowed(enum cs_task_state s, enum cs_task_state to);

/* ---- specs: what a client submits --------------------------------------
 * Specs name resources by string; cs_apply resolves them to vector indexes.
 * Every string and array inside a spec is owned by whatever owns the spec
 * (a cs_txn for a decoded or built transaction, the state for a stored job). */

struct cs_label {
	char *key;
	char *value;
};

struct cs_amount {
	char *name; /* "cpu", "memory", "disk" or an extended resource */
	uint64_t value;
};

struct cs_machine_spec {
	char *name;
	char *pool; /* never NULL; "default" when not given */
	struct cs_label *labels;
	uint32_t nlabels;
	struct cs_amount *capacity;
	uint32_t ncapacity;
	int state; /* a cs_machine_state, or -1: keep (new machines are up) */
	/* Base URL of the machine's node agent ("http://10.0.0.7:7301"), where
	 * it serves task output; NULL: none. At most CS_AGENT_MAX bytes,
	 * "http://" or "https://" then printable ASCII without spaces. Many
	 * machines may share one (a hollow agent serving several). A put
	 * replaces it like the labels: a spec without it clears it. */
	char *agent;
};

struct cs_job_spec {
	char *name;
	char *class_name;          /* which scheduler class owns the job */
	uint32_t priority;         /* 0..CS_PRIORITY_MAX */
	uint32_t ntasks;           /* 1..CS_JOB_TASKS_MAX */
	struct cs_amount *request; /* per task */
	uint32_t nrequest;
	/* constraints */
	char *pool;              /* NULL: any pool */
	struct cs_label *labels; /* required machine labels */
	uint32_t nlabels;
	bool distinct; /* no two tasks of the job on one machine */
	bool
	    gang; /* all pending tasks are placed in one transaction, or none */
	uint32_t
	    max_retries; /* failures tolerated per task before the job fails */
	/* what an agent runs: a command, or a simulated duration, or both */
	char *command; /* NULL when only simulated */
	char **args;
	uint32_t nargs;
	struct cs_label *env;
	uint32_t nenv;
	uint64_t
	    duration_ms; /* simulated run time for hollow agents; 0 = none */
	char **deps;     /* jobs that must succeed first */
	uint32_t ndeps;
	char *cron; /* 5-field cron schedule, or NULL */
};

struct cs_sched_spec {
	char *name;
	char *class_name;
	char *policy;
	uint64_t
	    member; /* Raft id of the scheduler's standby replica; 0: none */
};

/* ---- transactions ------------------------------------------------------ */

/* A kind's value is its byte in the binary codec (Raft logs on disk): new
 * kinds are appended before CS_OP__COUNT, never inserted or renumbered
 * (cellstate/ADDING_AN_OP.md). */
enum cs_op_kind {
	CS_OP_PLACE,
	CS_OP_PREEMPT,
	CS_OP_RELEASE,
	CS_OP_TASK_STATE,
	CS_OP_MACHINE_PUT,
	CS_OP_MACHINE_STATE,
	CS_OP_MACHINE_REMOVE,
	CS_OP_JOB_PUT,
	CS_OP_JOB_KILL,
	CS_OP_JOB_REMOVE,
	CS_OP_SCHED_REGISTER,
	CS_OP_SCHED_UNREGISTER,
	CS_OP_JOB_NOTE,
	CS_OP__COUNT
};
const char *cs_op_name(enum cs_op_kind k);
int cs_op_parse(const char *name);

/* One op. Which fields matter depends on kind (see the builders below).
 * `seq` is the machine version the submitter saw; with detect=coarse an op
 * that carries it is rejected (seq_changed) when the machine's version before
 * this transaction differs. Place ops in coarse transactions must carry it. */
struct cs_op {
	enum cs_op_kind kind;
	bool has_seq;
	uint64_t seq;
	char *job;     /* place, preempt, release, task_state, job_kill/remove,
	                  job_note */
	uint32_t task; /* task index within job */
	char *machine; /* place, preempt, task_state, machine_state/remove;
	                  optional for release (NULL: wherever it is) */
	char *by_job;  /* preempt: the job the victim makes room for */
	/* task_state: the agent's report for one attempt */
	enum cs_task_state report; /* running, succeeded, failed or lost */
	uint32_t attempt;
	int32_t exit_code;
	enum cs_machine_state machine_state;  /* machine_state */
	struct cs_machine_spec *machine_spec; /* machine_put */
	struct cs_job_spec *job_spec;         /* job_put */
	struct cs_sched_spec *sched_spec;     /* sched_register */
	char *sched;                          /* sched_unregister */
	char *note; /* job_note: why the job is pending; NULL or "" clears */
};

/* A transaction: the payload of one log entry. Owns every string and spec
 * its ops point to. */
typedef struct cs_txn {
	char *id;     /* idempotency key, or NULL (no de-duplication) */
	char *origin; /* scheduler or client name, or NULL */
	enum cs_mode mode;
	enum cs_detect detect;
	struct cs_op *ops;
	uint32_t nops;
	uint32_t capacity;
	struct cs_arena *arena; /* private: backs every string and spec */
} cs_txn;

/* Builders. cs_txn_new copies id and origin (either may be NULL); every
 * builder copies the strings and specs it is given, so callers keep
 * ownership of their arguments. Builders do not validate: cs_txn_validate
 * (run by the decoder) checks names and ranges, cs_apply checks the rest. */
cs_txn *cs_txn_new(const char *id, const char *origin, enum cs_mode mode,
                   enum cs_detect detect);
void cs_txn_free(cs_txn *txn); /* NULL is fine */
struct cs_op *cs_txn_place(cs_txn *txn, const char *job, uint32_t task,
                           const char *machine, uint64_t seq);
struct cs_op *cs_txn_preempt(cs_txn *txn, const char *job, uint32_t task,
                             const char *machine, uint64_t seq,
                             const char *by_job);
/* machine may be NULL: release the task wherever it is. */
struct cs_op *cs_txn_release(cs_txn *txn, const char *job, uint32_t task,
                             const char *machine);
struct cs_op *cs_txn_task_state(cs_txn *txn, const char *job, uint32_t task,
                                uint32_t attempt, const char *machine,
                                enum cs_task_state report, int32_t exit_code);
struct cs_op *cs_txn_machine_put(cs_txn *txn,
                                 const struct cs_machine_spec *spec);
struct cs_op *cs_txn_machine_state(cs_txn *txn, const char *machine,
                                   enum cs_machine_state state);
struct cs_op *cs_txn_machine_remove(cs_txn *txn, const char *machine);
struct cs_op *cs_txn_job_put(cs_txn *txn, const struct cs_job_spec *spec);
struct cs_op *cs_txn_job_kill(cs_txn *txn, const char *job);
struct cs_op *cs_txn_job_remove(cs_txn *txn, const char *job);
struct cs_op *cs_txn_sched_register(cs_txn *txn,
                                    const struct cs_sched_spec *spec);
struct cs_op *cs_txn_sched_unregister(cs_txn *txn, const char *name);
/* A scheduler's word on why `job` is still pending ("no machine has cpu
 * 64000"), at most CS_NOTE_MAX bytes of UTF-8 without control characters;
 * NULL or "" clears it. Accepted for blocked, pending and running jobs
 * (unknown_job, job_finished otherwise); an accepted place of the job
 * clears it, since a placement makes it stale. */
struct cs_op *cs_txn_job_note(cs_txn *txn, const char *job, const char *note);
/* Sets the expected machine version on an op (for coarse detection). */
void cs_op_expect_seq(struct cs_op *op, uint64_t seq);

/* Checks everything that does not need the state: names, ranges, required
 * fields, coarse places carrying a seq. Returns 0, or -1 with errbuf naming
 * the offending field ("ops[2].machine: expected ..."). */
int cs_txn_validate(const cs_txn *txn, char *errbuf, size_t errlen);
int cs_machine_spec_validate(const struct cs_machine_spec *spec,
                             const char *path, char *errbuf, size_t errlen);
int cs_job_spec_validate(const struct cs_job_spec *spec, const char *path,
                         char *errbuf, size_t errlen);

/* ---- verdicts ----------------------------------------------------------- */

struct cs_verdict {
	enum cs_reason reason; /* CS_R_OK when accepted */
	char *detail;          /* owned; NULL or a human-readable explanation */
};

/* ---- change feed ---------------------------------------------------------
 * With tracking on (cs_state_track_changes), each result lists what its
 * transaction changed, in order, including consequences no op names (tasks
 * lost with a machine, killed with a failed job). celld streams them to
 * watchers; an agent learns from them what to start and what to kill.
 * Aborted transactions and dry runs list nothing. */
enum cs_change_kind {
	CS_CHANGE_TASK,
	CS_CHANGE_JOB,
	CS_CHANGE_MACHINE,
	CS_CHANGE_JOB_REMOVED,
	CS_CHANGE_MACHINE_REMOVED
};
const char *cs_change_kind_name(enum cs_change_kind k);
int cs_change_kind_parse(const char *name);

struct cs_change {
	uint8_t kind;      /* enum cs_change_kind */
	uint8_t state;     /* the state after: task, job or machine state */
	uint8_t end;       /* task: how the attempt `attempt` ended, or NONE */
	uint32_t task;     /* task: index */
	uint32_t attempt;  /* task: the attempt this change is about */
	int32_t exit_code; /* task: when it ended */
	char job[CS_NAME_MAX + 1];     /* task and job changes */
	char machine[CS_NAME_MAX + 1]; /* task: the machine it is on or left;
	                                  "" when none; machine changes */
};

/* The answer to one transaction. `committed` is false only when an
 * all_or_nothing transaction was rejected whole; an incremental one commits
 * whatever validated. A duplicate (id seen before) carries the first verdict's
 * reasons, no details, and changed nothing. */
typedef struct cs_result {
	uint64_t index; /* log index that decided it (the first one, for
	                   duplicates) */
	bool duplicate;
	bool committed;
	uint32_t nops;
	uint32_t accepted;
	struct cs_verdict *ops;    /* owned, nops entries */
	struct cs_change *changes; /* owned; only with tracking on */
	uint32_t nchanges;
} cs_result;

void cs_result_clear(cs_result *res); /* frees what it owns; zeroes it */

/* ---- the state ----------------------------------------------------------
 * Entities are exposed read-only: change them only through cs_apply. A
 * pointer stays valid until the next cs_apply (machines may move then). */

struct cs_task {
	struct cs_job *job;              /* owning job (borrowed) */
	struct cs_task *next_on_machine; /* list of tasks holding resources */
	struct cs_task *prev_on_machine; /* on `machine`, in placement order */
	uint32_t machine;  /* machine slot while assigned/running, else
	                      CS_NO_MACHINE */
	uint32_t attempt;  /* 0 for the first run; +1 each time it goes back to
	                      pending */
	int32_t exit_code; /* of the last ended attempt */
	uint16_t failures; /* failed or lost attempts so far */
	uint8_t state;     /* enum cs_task_state */
	uint8_t last_end;  /* enum cs_task_end of the previous attempt */
};

struct cs_job {
	struct cs_job_spec spec; /* state-owned copy of what was submitted */
	cs_res request;          /* spec.request resolved to a vector */
	enum cs_job_state state;
	enum cs_job_cause cause;
	int64_t submit_ms;
	int64_t end_ms; /* 0 while not ended */
	/* owned; why the job is pending as its scheduler last reported, or
	 * NULL; never "". Cleared by every accepted place of the job, kept
	 * when the job ends (why it never ran). */
	char *note;
	uint32_t deps_waiting; /* dependencies that have not succeeded yet */
	/* Invariant: count[s] is the number of tasks in state s; they sum to
	 * spec.ntasks. */
	uint32_t count[CS_TASK_STATE__COUNT];
	struct cs_task *tasks; /* spec.ntasks entries, owned */
	struct cs_job *
	    *dependents; /* jobs listing this one in deps (borrowed) */
	uint32_t ndependents;
	uint32_t dependents_cap;
	uint64_t txn_serial;    /* private: last transaction that saved it */
	uint64_t gang_serial;   /* private: gang check of that transaction */
	uint32_t gang_expected; /* private */
	uint32_t gang_places;   /* private */
};

struct cs_machine {
	char name[CS_NAME_MAX + 1];
	char *pool;              /* owned */
	struct cs_label *labels; /* owned, sorted by key */
	uint32_t nlabels;
	char *agent; /* owned; the agent's base URL, or NULL */
	enum cs_machine_state state;
	bool in_use; /* false: a free slot */
	/* Version of this machine: set from a cell-wide counter on every
	 * transaction that changes the machine (placement, release, end of a
	 * task, state, capacity, pool, labels, agent), so it never decreases,
	 * and a removed then re-added machine never reuses an old value. */
	uint64_t seq;
	cs_res capacity;
	/* Invariant: allocated == sum of the requests of `tasks`, and
	 * allocated <= capacity in every dimension. */
	cs_res allocated;
	struct cs_task *tasks; /* assigned and running tasks here (borrowed) */
	uint32_t ntasks;
	uint32_t next_free;  /* private: free-slot list */
	uint64_t txn_serial; /* private: last transaction that touched it */
	uint64_t seq_before; /* private: seq before that transaction */
};

struct cs_sched {
	char name[CS_NAME_MAX + 1];
	char class_name[CS_NAME_MAX + 1];
	char policy[CS_NAME_MAX + 1];
	/* Raft id of the scheduler's standby replica; 0: none. The leader
	 * removes that member when the scheduler's lease expires. */
	uint64_t member;
};

/* Cell-wide settings; every replica must use the same, so they travel in
 * snapshots. */
struct cs_config {
	uint32_t dedup_max;   /* transaction ids remembered, at most */
	int64_t dedup_ttl_ms; /* and for at most this long (entry time) */
};
#define CS_DEDUP_MAX_DEFAULT 262144u
#define CS_DEDUP_TTL_DEFAULT 600000 /* 10 minutes */

typedef struct cs_state cs_state;

/* A new empty state; cfg NULL means the defaults. Free with cs_state_free. */
cs_state *cs_state_new(const struct cs_config *cfg);
void cs_state_free(cs_state *s); /* NULL is fine */
const struct cs_config *cs_state_config(const cs_state *s);
/* Turns the change feed on or off (off by default: it costs a copy per
 * change). A local setting, not part of the state or its hash. */
void cs_state_track_changes(cs_state *s, bool on);
uint64_t cs_state_applied_index(const cs_state *s);

/* Applies one transaction as log entry `index` with the entry's time.
 * Always succeeds: rejections are verdicts in *out (which the caller clears
 * with cs_result_clear). Deterministic in (state, txn, index, now_ms). */
void cs_apply(cs_state *s, const cs_txn *txn, uint64_t index, int64_t now_ms,
              cs_result *out);

/* Validates txn against the state without changing it: the verdicts it would
 * get if it were the next entry (the dry run of `cellctl txn --dry-run`). */
void cs_dry_run(cs_state *s, const cs_txn *txn, cs_result *out);

/* The one fit function, used by schedulers and by the commit check alike:
 * CS_R_OK when a task of job fits on m now, else machine_down,
 * machine_draining, constraint or insufficient. */
enum cs_reason cs_fit(const cs_state *s, const struct cs_machine *m,
                      const struct cs_job *job);
/* The part of cs_fit that never changes while the machine's pool and labels
 * stay: the job's pool and label constraints (a scheduler tells "never fits"
 * from "does not fit now" with it). */
bool cs_fit_constraints(const struct cs_machine *m, const struct cs_job *job);

/* Machines live in a dense slot array (validation is an array access).
 * cs_machine_at returns NULL for a free slot or slot >= cs_machine_slots. */
uint32_t cs_machine_slots(const cs_state *s);
uint32_t cs_machine_count(const cs_state *s);
const struct cs_machine *cs_machine_at(const cs_state *s, uint32_t slot);
const struct cs_machine *cs_machine_find(const cs_state *s, const char *name);
/* Slot of a machine, or CS_NO_MACHINE. */
uint32_t cs_machine_slot(const cs_state *s, const char *name);

const struct cs_job *cs_job_find(const cs_state *s, const char *name);
uint32_t cs_job_count(const cs_state *s);
/* Iterates jobs in no particular order: start with *cursor = 0; returns NULL
 * at the end. Any cs_apply invalidates the cursor. */
const struct cs_job *cs_job_next(const cs_state *s, size_t *cursor);
/* Index of a task within its job. */
uint32_t cs_task_index(const struct cs_task *t);

/* Registered schedulers, sorted by name. */
uint32_t cs_sched_count(const cs_state *s);
const struct cs_sched *cs_sched_at(const cs_state *s, uint32_t i);
/* The scheduler registered as name, or NULL (O(log n)). */
const struct cs_sched *cs_sched_find(const cs_state *s, const char *name);

/* Resource dimensions in use: names[0..n) ("cpu", "memory", "disk", ...). */
uint32_t cs_resource_count(const cs_state *s);
const char *cs_resource_name(const cs_state *s, uint32_t i);
/* Index of a resource name, or -1. */
int cs_resource_index(const cs_state *s, const char *name);

/* A 64-bit hash of the whole logical state (not of memory layout: slot
 * numbers and iteration orders do not enter it). Two replicas that applied
 * the same log agree on it. CS_HASH_CONTENT leaves out the applied index and
 * the remembered transaction ids: only what ops change (a rejected op or an
 * aborted transaction leaves that hash as it was). */
#define CS_HASH_CONTENT 1u
uint64_t cs_state_hash(const cs_state *s, unsigned flags);

/* Checks every invariant of ARCHITECTURE.md §2 and the bookkeeping behind them.
 * Returns 0, or -1 with errbuf saying which one broke where. O(state). */
int cs_state_check(const cs_state *s, char *errbuf, size_t errlen);

/* ---- JSON codecs --------------------------------------------------------
 * Decoders never crash or leak on bad input: they return -1 and write
 * "path: what was expected" to errbuf (at least CS_ERRMSG_SIZE bytes).
 * Encoders return a new reference (json_t) or a malloc'd string the caller
 * frees. Unknown fields are rejected, so a misspelled field never silently
 * means its default. */

/* How decoders name the JSON value they got instead ("an object", "an
 * array", "a string", "an integer", "a real number", "a boolean", "null";
 * "nothing" for NULL), for other components' messages to read the same. */
const char *cs_json_type_name(const json_t *v);

int cs_txn_decode(const json_t *j, cs_txn **out, char *errbuf, size_t errlen);
int cs_txn_parse(const char *buf, size_t len, cs_txn **out, char *errbuf,
                 size_t errlen);
json_t *cs_txn_encode(const cs_txn *txn);

/* Machine and job specs on their own (API bodies, job files). `path` prefixes
 * error messages ("" at top level). Decoded specs are freed with the
 * matching _free. */
int cs_machine_spec_decode(const json_t *j, const char *path,
                           struct cs_machine_spec **out, char *errbuf,
                           size_t errlen);
json_t *cs_machine_spec_encode(const struct cs_machine_spec *spec);
void cs_machine_spec_free(struct cs_machine_spec *spec);
int cs_job_spec_decode(const json_t *j, const char *path,
                       struct cs_job_spec **out, char *errbuf, size_t errlen);
json_t *cs_job_spec_encode(const struct cs_job_spec *spec);
void cs_job_spec_free(struct cs_job_spec *spec);

json_t *cs_result_encode(const cs_result *res);
int cs_result_decode(const json_t *j, cs_result *out, char *errbuf,
                     size_t errlen);

/* Views of stored entities, as the API shows them. */
json_t *cs_machine_encode(const cs_state *s, const struct cs_machine *m);
json_t *cs_job_encode(const cs_state *s, const struct cs_job *job);
json_t *cs_task_encode(const cs_state *s, const struct cs_task *t);
/* {"name", "class", "policy", "member"}, as snapshots store it. */
json_t *cs_sched_encode(const struct cs_sched *sc);
/* One change as a watch line: {"index": ..., "kind": "task", ...}. */
json_t *cs_change_encode(const struct cs_change *c, uint64_t index);
/* The same line as compact JSON text (what json_dumps(cs_change_encode(c,
 * index), JSON_COMPACT) gives, byte for byte), without building a json_t:
 * a watch formats each change once for all its streams. Writes at most len
 * bytes into buf, NUL-terminated; returns the text's length (>= len: it did
 * not fit; CS_CHANGE_TEXT_MAX always does). */
#define CS_CHANGE_TEXT_MAX 640
size_t cs_change_format(const struct cs_change *c, uint64_t index, char *buf,
                        size_t len);
/* Reads one watch line (len bytes, no newline), the inverse of the two
 * above: a change (*index and *out set, *progress false) or a progress line
 * {"kind":"progress","index":N} (*index set, *progress true, *out
 * untouched). Returns 0, or -1 with a message naming the field ("kind:
 * expected one of: task, ...", "task: missing: required", "colour: unknown
 * field ...") for anything else: a field its kind does not have, a state
 * not of its kind, an end without its exit code. */
int cs_change_parse(const char *line, size_t len, uint64_t *index,
                    struct cs_change *out, bool *progress, char *errbuf,
                    size_t errlen);

/* ---- binary codec --------------------------------------------------------
 * A compact, versioned encoding of a transaction for Raft entries: about ten
 * times cheaper to decode than JSON. Same validation as the JSON decoder.
 * cs_txn_encode_bin appends to *buf (realloc'd; *len and *cap track it; the
 * caller frees *buf). cs_txn_decode_bin reads exactly len bytes. */
int cs_txn_encode_bin(const cs_txn *txn, uint8_t **buf, size_t *len,
                      size_t *cap);
int cs_txn_decode_bin(const uint8_t *buf, size_t len, cs_txn **out,
                      char *errbuf, size_t errlen);

/* Whole-state snapshots. Decoding rebuilds derived bookkeeping (allocated
 * vectors, counters, dependents) and runs cs_state_check, so a snapshot that
 * breaks an invariant is rejected, never loaded. */
json_t *cs_state_encode(const cs_state *s);
int cs_state_decode(const json_t *j, cs_state **out, char *errbuf,
                    size_t errlen);
char *cs_state_dump(const cs_state *s); /* compact JSON text, malloc'd */
int cs_state_load(const char *buf, size_t len, cs_state **out, char *errbuf,
                  size_t errlen);

#endif /* CELL_CELLSTATE_H */
