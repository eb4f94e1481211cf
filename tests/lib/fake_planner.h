/* fake_planner.h: a harness that runs scheduler cores (cellsched.h) against
 * one in-memory cell state, without a cluster (Nomad's Harness): each core
 * submits through it, the harness applies the transactions in order, and a
 * test can force conflicts (a rival transaction applied just before one of
 * theirs) or failures (an answer that never says what happened). Time is a
 * fake clock that moves only when every core is waiting for it. */
#ifndef CELL_FAKE_PLANNER_H
#define CELL_FAKE_PLANNER_H

#include "cellsched.h"

#define FP_CORES_MAX 8

struct fp_submission {
	int core;    /* index into fp->cores */
	cs_txn *txn; /* owned */
	uint64_t ticket;
};

typedef struct fp fp;

/* What a core's sp_io functions get: the harness and which core. */
struct fp_io_arg {
	fp *h;
	int core;
};
/* Called before a core's txn is applied; may apply rivals (fp_apply). */
typedef void (*fp_rival_fn)(fp *h, int core, const cs_txn *txn, void *arg);

struct fp {
	cs_state *s; /* owned; change tracking on */
	sp_core *cores[FP_CORES_MAX];
	struct fp_io_arg io_args[FP_CORES_MAX];
	int ncores;
	int64_t now_us;          /* the fake clock (mono); wall = now_us/1000 */
	struct fp_submission *q; /* FIFO of submitted txns */
	uint32_t nq, qcap;
	fp_rival_fn rival;
	void *rival_arg;
	uint32_t fail_next; /* answer this many submissions with CC_EIO,
	                       unapplied */
	uint64_t submitted; /* by all cores */
};

fp *fp_new(void);
void fp_free(fp *h);
/* A core on the harness; cfg->metrics may be NULL. */
sp_core *fp_add_core(fp *h, const struct sp_core_config *cfg);
/* Applies txn (freed) as the next entry; every core hears of it. Returns
 * the verdicts (caller clears). */
cs_result fp_apply(fp *h, cs_txn *txn);
/* Registers scheduler name of class_name (policy = class). */
void fp_register(fp *h, const char *name, const char *class_name);
/* Runs cores and answers submissions until nothing more happens or
 * max_rounds pass; returns the rounds used. */
uint32_t fp_settle(fp *h, uint32_t max_rounds);

#endif
