/* cellsched.h: the scheduler core (ARCHITECTURE.md §4), the whole public API of
 * the cellsched library. It is the part of a scheduler a test can run
 * without a cluster, as Nomad's scheduler runs against a Harness:
 *
 *   - policies are assemblies of shared stages (feasibility, ranking,
 *     selection), not copies of one loop (policy.c, stages.c);
 *   - sp_decide turns one job and a read-only cell state into one placement
 *     transaction (plan.c, preempt.c);
 *   - sp_core owns the work: which pending jobs this scheduler owns, the
 *     queue, transactions in flight, retries after conflicts, parked jobs
 *     (core.c). It reads the replica and commits through a table of
 *     functions (struct sp_io), so a fake planner can force conflicts.
 *
 * Nothing here reads a clock, draws from the OS's randomness or touches a
 * file descriptor: time comes from sp_io, randomness from a seed.
 * Threads: none; everything runs on the caller's thread.
 * Memory: allocation failure aborts, as in cellstate. */
#ifndef CELL_CELLSCHED_H
#define CELL_CELLSCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cellcommon.h"
#include "cellstate.h"

/* ---- policies -------------------------------------------------------------
 * A policy names the stages a decision runs through:
 *   feasibility: state, pool, labels, distinct (cs_fit) and room after the
 *                claims of transactions still in flight;
 *   candidates:  a random sample of `choices` machines with a first-fit scan
 *                from a random machine when none of them fits (batch), or
 *                every machine (choices == 0: service);
 *   ranking:     most room left (spreads load, fewer conflicts between
 *                schedulers) or best fit (packs), minus a penalty for the
 *                failure domains the job already uses;
 *   selection:   the best ranked; else, with preemption, the machine whose
 *                cheapest set of strictly lower-priority victims makes room. */
enum sp_rank { SP_RANK_MOST_ROOM, SP_RANK_BEST_FIT };

struct sp_policy {
	const char *name;
	enum cs_mode mode; /* for non-gang jobs; gangs are all_or_nothing */
	unsigned choices;  /* sample size d; 0: consider every machine */
	enum sp_rank rank;
	bool spread;           /* penalise failure domains the job uses */
	bool preempt;          /* may evict strictly lower priorities */
	unsigned retry_budget; /* conflict rounds without progress, then park */
};

/* The built-in policies ("batch", "service"), or NULL. Static storage. */
const struct sp_policy *sp_policy_find(const char *name);
/* "batch, service": for help texts and error messages. */
const char *sp_policy_names(void);

/* ---- claims: placements in flight -----------------------------------------
 * Resources this scheduler has asked for in transactions whose outcome its
 * replica has not applied yet, per machine slot. A decision subtracts them
 * from a machine's room so a scheduler never races itself; they are dropped
 * when the replica applies the transaction's entry (its allocations then
 * show in the state itself). */
typedef struct sp_claims sp_claims;
sp_claims *sp_claims_new(void);
void sp_claims_free(sp_claims *c); /* NULL is fine */
void sp_claims_add(sp_claims *c, uint32_t slot, const cs_res *r);
/* Saturating: a claim dropped after a snapshot reset never underflows. */
void sp_claims_drop(sp_claims *c, uint32_t slot, const cs_res *r);
void sp_claims_reset(sp_claims *c);
/* Resources claimed on slot (all zero when none); borrowed. */
const cs_res *sp_claims_at(const sp_claims *c, uint32_t slot);
/* Transactions in flight that claim something on slot. */
uint32_t sp_claims_count(const sp_claims *c, uint32_t slot);

/* ---- one decision ---------------------------------------------------------*/
struct sp_params {
	const struct sp_policy *policy; /* required */
	int mode;                 /* a cs_mode overriding the policy's, or -1 */
	enum cs_detect detect;    /* coarse: place ops must not race in-flight
	                             ones on a machine, so those are skipped */
	const char *spread_label; /* failure-domain label key, e.g. "zone" */
	uint32_t max_tasks;       /* places per transaction (gangs: all) */
};

struct sp_claim {
	uint32_t slot;
	cs_res res;
};

struct sp_decision {
	cs_txn *txn;       /* owned; NULL when nothing is to be committed */
	uint32_t places;   /* place ops in txn */
	uint32_t unplaced; /* pending tasks left without a machine now */
	struct sp_claim *claims; /* owned; places entries: what each place op
	                            asks for, in op order */
};
void sp_decision_clear(struct sp_decision *d); /* frees; zeroes it */

/* Scratch memory reused by decisions (sized to the machine slots). */
typedef struct sp_planner sp_planner;
sp_planner *sp_planner_new(void);
void sp_planner_free(sp_planner *p); /* NULL is fine */

/* Decides placements for the pending tasks of job on s, around the claims
 * in flight. rng is the caller's generator state (xorshift64*, never 0).
 * txn_id and origin go on the transaction (copied). A gang job gets all of
 * its pending tasks placed or no transaction at all. *out is overwritten. */
void sp_decide(sp_planner *p, const cs_state *s, const struct cs_job *job,
               const sp_claims *claims, const struct sp_params *params,
               uint64_t *rng, const char *txn_id, const char *origin,
               struct sp_decision *out);

/* True when no pending task of job can ever fit as the cell is now, even
 * with every machine empty and up: no machine passes its pool and label
 * constraints, none is big enough, or a distinct job has more tasks than
 * such machines. why gets a sentence for the job's note. */
bool sp_never_fits(const cs_state *s, const struct cs_job *job, char *why,
                   size_t len);

/* Owner of a job among the live schedulers of its class (rendezvous hashing
 * over the registry, so a scheduler leaving moves only its own jobs), or
 * NULL when no scheduler of the class is registered. Borrowed from s. */
const struct cs_sched *sp_owner(const cs_state *s, const struct cs_job *job);

/* ---- the core -------------------------------------------------------------
 * What the process around the core provides. Every function is required. */
struct sp_io {
	/* The replica, as applied so far (borrowed until the next apply). */
	const cs_state *(*state)(void *arg);
	/* Monotonic clock for busyness and think time, microseconds. */
	int64_t (*mono_us)(void *arg);
	/* Wall clock, ms since the epoch: compared with job submit times. */
	int64_t (*wall_ms)(void *arg);
	/* Sends txn to the cell (ownership moves to the callee). Later, and
	 * never from inside this call, the callee calls sp_core_committed
	 * with the same ticket exactly once. */
	void (*submit)(void *arg, cs_txn *txn, uint64_t ticket);
	void *arg;
};

struct sp_core_config {
	const char *name;        /* this scheduler's registered name (copied) */
	const char *class_name;  /* the job class it serves (copied) */
	struct sp_params params; /* policy etc.; strings copied */
	uint32_t max_inflight;   /* transactions in flight at once; 0: 8 */
	uint64_t think_job_us;   /* Omega's t_job */
	uint64_t think_task_us;  /* and t_task, per task placed */
	uint64_t seed;           /* randomness of the batch sampler */
	cc_metrics *metrics;     /* borrowed; NULL: none exported */
};

typedef struct sp_core sp_core;
sp_core *sp_core_new(const struct sp_core_config *cfg, const struct sp_io *io);
void sp_core_free(sp_core *c); /* NULL is fine; in-flight tickets are
                                  forgotten (their answers are ignored) */

/* The replica applied txn as entry index with result res (borrowed; its
 * change list must be on: cs_state_track_changes). Returns true when it
 * changed the scheduler registry. */
bool sp_core_applied(sp_core *c, uint64_t index, const cs_txn *txn,
                     const cs_result *res);
/* The replica was replaced by a snapshot, or this scheduler's registration
 * changed: forget claims and what was known, and look at every job again. */
void sp_core_reset(sp_core *c);
/* The answer to ticket: status 0 and the verdicts in res (borrowed), or an
 * error (outcome unknown; res NULL). */
void sp_core_committed(sp_core *c, uint64_t ticket, int status,
                       const cs_result *res);
/* Decides and submits what it can now. Returns microseconds until it wants
 * to run again (think time running out), or -1 when only news (an apply,
 * an answer) can give it work. */
int64_t sp_core_run(sp_core *c);
/* Stop taking new work (a shutdown): sp_core_run decides nothing more. */
void sp_core_stop(sp_core *c);

struct sp_stats {
	uint64_t txns;            /* answered transactions */
	uint64_t txns_conflicted; /* ... with at least one op rejected */
	uint64_t txns_progress;   /* ... with at least one op accepted */
	uint64_t places_tried, places_rejected;
	uint64_t tasks_placed;
	uint64_t retries; /* decisions re-made after a rejection */
	uint64_t decisions;
	uint64_t notes; /* job notes written */
	uint32_t owned, queued, inflight, parked;
	double busy_seconds; /* deciding and thinking */
};
void sp_core_stats(const sp_core *c, struct sp_stats *out);

#endif /* CELL_CELLSCHED_H */
