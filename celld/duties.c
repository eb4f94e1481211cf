/* duties.c: the leader duties (docs/ARCHITECTURE.md §3) as one table, and
 * the dispatch that opens them with the core, tells them what the store
 * says and sweeps them on the core's ticks while this member writes. A new
 * duty is a file defining its struct cd_duty, a declaration in core.h and
 * one row here. */
#include <stdio.h>
#include <stdlib.h>

#include "core.h"

static const struct cd_duty *const table[] = {
    &cd_duty_liveness,
    &cd_duty_leases,
};
#define NDUTIES CU_ARRAY_LEN(table)

/* A row's state in one core. */
struct cd_duty_slot {
	void *self;            /* what open returned; closed by close */
	struct cd_every sweep; /* period from the row, next from the clock */
};

void cd_duties_open(cd_core *c)
{
	c->duties = cu_xcalloc(NDUTIES, sizeof(*c->duties));
	for (size_t i = 0; i < NDUTIES; i++) {
		c->duties[i].self = table[i]->open(c);
		c->duties[i].sweep.period =
		    table[i]->period ? table[i]->period(c->duties[i].self) : 0;
	}
}

void cd_duties_close(cd_core *c)
{
	for (size_t i = 0; c->duties && i < NDUTIES; i++)
		table[i]->close(c->duties[i].self);
	free(c->duties);
	c->duties = NULL;
}

void cd_duties_writer(cd_core *c)
{
	for (size_t i = 0; i < NDUTIES; i++)
		if (table[i]->on_writer)
			table[i]->on_writer(c->duties[i].self);
}

void cd_duties_applied(cd_core *c, uint64_t index, const cs_txn *txn,
                       const cs_result *res)
{
	for (size_t i = 0; i < NDUTIES; i++)
		if (table[i]->on_applied)
			table[i]->on_applied(c->duties[i].self, index, txn,
			                     res);
}

void cd_duties_start(cd_core *c, double now)
{
	for (size_t i = 0; i < NDUTIES; i++)
		c->duties[i].sweep.next = now + c->duties[i].sweep.period;
}

void cd_duties_tick(cd_core *c, double now)
{
	bool writer = cst_writable(c->store);
	for (size_t i = 0; i < NDUTIES; i++) {
		/* the schedule moves on everywhere: a member that becomes
		 * the writer sweeps on the same cadence */
		if (cd_every_due(&c->duties[i].sweep, now, c->slack) &&
		    writer && table[i]->sweep)
			table[i]->sweep(c->duties[i].self);
	}
}

double cd_duties_min_period(const cd_core *c)
{
	double min = 0;
	for (size_t i = 0; i < NDUTIES; i++) {
		double p = c->duties[i].sweep.period;
		if (p > 0 && (min == 0 || p < min))
			min = p;
	}
	return min;
}

void *cd_duty_self(const cd_core *c, const struct cd_duty *duty)
{
	for (size_t i = 0; i < NDUTIES; i++)
		if (table[i] == duty)
			return c->duties[i].self;
	fprintf(stderr, "celld: duty %s is not in the duty table\n",
	        duty->name);
	abort(); /* a programming error */
}
