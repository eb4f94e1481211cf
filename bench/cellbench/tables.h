/* tables.h: the Markdown summary table of each experiment, printed by
 * cellbench plot and repeated in RESULTS.md. */
#ifndef CELL_BENCH_TABLES_H
#define CELL_BENCH_TABLES_H

#include <stddef.h>
#include <stdio.h>

#include "dataset.h"

/* One row per point of run, with the columns that matter for its
 * experiment; for an experiment cellbench does not know, every column
 * some row fills (but run, experiment and command, said elsewhere). */
void cb_table_write(FILE *f, const struct cb_run *run);
/* Field c of r as a table cell: a number through cb_fmt, "–" when empty,
 * other text as it is with "|" escaped. Writes into buf (len bytes) and
 * returns buf. */
char *cb_cell(const struct cb_row *r, enum cb_col c, char *buf, size_t len);

#endif
