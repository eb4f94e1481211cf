/* internal.h: private to the cellsched library: the planner's scratch and
 * the stages plan.c and preempt.c share. */
#ifndef CELL_SCHED_INTERNAL_H
#define CELL_SCHED_INTERNAL_H

#include "cellsched.h"

#define SP_NO_SLOT UINT32_MAX

/* A failure domain (value of the spread label) and the job's tasks in it. */
struct sp_domain {
	const char *value; /* borrowed from a machine's labels */
	uint32_t tasks;
};

/* Per-slot scratch is valid for the current decision only when its stamp
 * equals `stamp`, so nothing is cleared between decisions. */
struct sp_planner {
	uint32_t cap;
	uint32_t stamp;
	uint32_t *seen; /* cap entries: stamp of the last write */
	cs_res *add;    /* placed on the slot by this decision */
	cs_res *freed;  /* freed there by this decision's victims */
	bool *job_here; /* this decision put a task of the job there */
	const struct cs_task **victims; /* chosen by this decision */
	uint32_t nvictims, victims_cap;
	const struct cs_task **scratch; /* candidate victims on one machine */
	uint32_t scratch_cap;
	struct sp_domain *domains;
	uint32_t ndomains, domains_cap;
	uint32_t *eligible; /* slots matching the job's pool and labels */
	uint32_t eligible_cap;
};

/* One decision in progress. */
struct sp_ctx {
	sp_planner *p;
	const cs_state *s;
	const struct cs_job *job;
	const sp_claims *claims;
	const struct sp_params *prm;
	uint64_t *rng;
	uint32_t nres;
	uint32_t slots;
	/* The machines the candidates stage draws from: eligible[0..n) when
	 * the job has pool or label constraints (p->eligible, built once per
	 * decision), else every slot (eligible NULL, n == slots). */
	const uint32_t *eligible;
	uint32_t n;
};

/* stages.c */
void sp_planner_begin(sp_planner *p, uint32_t slots);
/* Sets x->eligible and x->n for x->job (see struct sp_ctx). */
void sp_candidates(struct sp_ctx *x);
void sp_planner_touch(sp_planner *p, uint32_t slot);
/* Room left on slot after the state's allocations, the claims in flight
 * and this decision's own places and victims. */
void sp_room(const struct sp_ctx *x, const struct cs_machine *m, uint32_t slot,
             cs_res *out);
bool sp_res_fits(const cs_res *need, const cs_res *room, uint32_t nres);
/* Feasibility apart from room: up, constraints, distinct, coarse races.
 * Returns CS_R_OK or CS_R_INSUFFICIENT when room decides, else the reason. */
enum cs_reason sp_feasible(const struct sp_ctx *x, const struct cs_machine *m,
                           uint32_t slot);
bool sp_fits(const struct sp_ctx *x, uint32_t slot);
/* The ranking stage: higher is better. */
double sp_score(const struct sp_ctx *x, const struct cs_machine *m,
                uint32_t slot);
/* The selection stage: the machine for the next task, or SP_NO_SLOT. */
uint32_t sp_select(struct sp_ctx *x);
/* Bookkeeping after a place on slot. */
void sp_took(struct sp_ctx *x, const struct cs_machine *m, uint32_t slot);
const char *sp_domain_of(const struct cs_machine *m, const char *label);
void sp_domains_count(struct sp_ctx *x);

/* preempt.c: the machine whose cheapest strictly lower-priority victims make
 * room for one task; their preempt ops go into txn. SP_NO_SLOT if none. */
uint32_t sp_preempt(struct sp_ctx *x, cs_txn *txn);

#endif
