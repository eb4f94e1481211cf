/* charts.h: which charts each experiment gets (see RESULTS.md), written
 * as SVG files named EXPERIMENT-WHAT.svg. */
#ifndef CELL_BENCH_CHARTS_H
#define CELL_BENCH_CHARTS_H

#include <stddef.h>

#include "dataset.h"

#define CB_MAX_CHARTS 4 /* per experiment */

struct cb_chart {
	const char *file;  /* static: "omega-tjob-busyness.svg" */
	const char *title; /* static: what it shows, for alt text */
};

/* Writes the charts of run's experiment into dir; a chart with nothing to
 * plot is not written, and experiments cellbench does not know get none.
 * The charts written go to out (CB_MAX_CHARTS entries), their count to
 * *n. 0 or -1 with a message naming the file. */
int cb_charts_write(const struct cb_run *run, const char *dir,
                    struct cb_chart *out, size_t *n, char *errbuf,
                    size_t errlen);

#endif
