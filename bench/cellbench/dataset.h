/* dataset.h: the latest run of each experiment found in a set of CSV
 * files, and the questions cellbench plot asks of its rows. */
#ifndef CELL_BENCH_DATASET_H
#define CELL_BENCH_DATASET_H

#include <stdbool.h>
#include <stddef.h>

#include "results.h"

/* The experiments `cellbench run` knows, in report order; NULL ends it. */
extern const char *const cb_experiments[];
bool cb_experiment_known(const char *name);

/* One experiment's latest run: the rows whose `run` is the greatest (ISO
 * 8601 UTC strings compare as strings) over every file read. */
struct cb_run {
	char *experiment;    /* owned */
	char *run;           /* owned; "" when the rows left it empty */
	struct cb_row *rows; /* owned: ordered by point, then file order */
	size_t nrows;
};

/* Known experiments first in cb_experiments order, then the others by
 * name. */
struct cb_dataset {
	struct cb_run *runs; /* owned */
	size_t nruns;
};

/* Reads every file (cb_csv_read) and keeps each experiment's latest run.
 * 0, or -1 with cb_csv_read's message (file and line) or one naming the
 * file and row whose experiment is empty; *ds is then empty. Free with
 * cb_dataset_free either way. */
int cb_dataset_load(struct cb_dataset *ds, char *const *paths, size_t npaths,
                    char *errbuf, size_t errlen);
void cb_dataset_free(struct cb_dataset *ds);
/* The run of that experiment, or NULL (borrowed from ds). */
const struct cb_run *cb_dataset_find(const struct cb_dataset *ds,
                                     const char *experiment);

/* A field as a number: NaN when empty or not a number. */
double cb_num(const struct cb_row *r, enum cb_col c);
/* A latency point the cell did not keep up with: placements under
 * CB_SUSTAINED_SHARE of the offered load, or a job never placed. `cellbench
 * run latency` stops after the first; the report's saturation point is the
 * last one before it. */
bool cb_row_saturated(const struct cb_row *r);
/* Numeric keys are equal, NaN equal to NaN (a group of "not given"). */
bool cb_same(double a, double b);
/* The distinct values of column c over the run, ascending, NaN first if a
 * row leaves it empty; at most max (the rest are dropped). Returns how
 * many were stored in keys. */
size_t cb_groups(const struct cb_run *run, enum cb_col c, double *keys,
                 size_t max);
/* The first row (in point order) whose field c1 is v1 and, unless v2 is
 * NULL, whose field c2 is v2; NULL if none (borrowed from run). */
const struct cb_row *cb_find_row(const struct cb_run *run, enum cb_col c1,
                                 const char *v1, enum cb_col c2,
                                 const char *v2);

#endif
