/* report.h: RESULTS.md, the benchmark report kept in git: the machine,
 * then per experiment what it measures, how it was run, the table, the
 * charts, the figures derived from them and the published ones. */
#ifndef CELL_BENCH_REPORT_H
#define CELL_BENCH_REPORT_H

#include <stddef.h>

#include "charts.h"
#include "dataset.h"

/* One experiment's section. */
struct cb_section {
	const char *experiment;   /* borrowed */
	const struct cb_run *run; /* borrowed; NULL: not run yet */
	struct cb_chart charts[CB_MAX_CHARTS];
	size_t ncharts;
};

/* Writes the report to path through a temp file, so a failure leaves the
 * old one whole. Chart links are relative to path's folder; the charts
 * are in chart_dir. 0 or -1 with a message naming the file. */
int cb_report_write(const char *path, const char *chart_dir,
                    const struct cb_section *sections, size_t n, char *errbuf,
                    size_t errlen);

#endif
