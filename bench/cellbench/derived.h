/* derived.h: the figures RESULTS.md derives from an experiment's latest
 * run, the ones it sets next to the published figures. */
#ifndef CELL_BENCH_DERIVED_H
#define CELL_BENCH_DERIVED_H

#include <stdio.h>

#include "dataset.h"

/* Writes them to f as Markdown (a bullet list, for omega-tjob a table
 * too); nothing for an experiment cellbench does not know. */
void cb_derived_write(FILE *f, const struct cb_run *run);

#endif
