/* svg.h: a minimal SVG chart writer: line charts (linear, log10 or log2
 * axes, markers, error bars, reference lines, a legend) and grouped bar
 * charts. Output depends only on the input, byte for byte, so charts kept
 * in git change only when the data does.
 *
 * Elements a reader (or a test) can count: each drawn series is one
 * <polyline class="series">, each plotted point one element of class
 * "marker", each bar one <rect class="bar">, each reference line one
 * element of class "ref". */
#ifndef CELL_BENCH_SVG_H
#define CELL_BENCH_SVG_H

#include <stdbool.h>
#include <stddef.h>

enum svg_scale { SVG_LINEAR, SVG_LOG10, SVG_LOG2 };

struct svg_axis {
	const char *title;    /* with units: "offered load (tasks/s)" */
	enum svg_scale scale; /* a linear axis always includes 0 */
};

/* A point is plotted when x and y are finite (and positive on a log
 * axis); others are skipped, not drawn as 0. A series with no plotted
 * point is left out, legend included. */
struct svg_series {
	const char *name;      /* legend label */
	const double *x, *y;   /* n points each, borrowed */
	const double *lo, *hi; /* error bar ends per point, or NULL */
	size_t n;
	bool dashed; /* dashed line, hollow markers: a second measure of the
	                same thing (an estimate, a p99) */
};

/* A reference line: y = value across the chart, or y = x. */
struct svg_ref {
	const char *name; /* legend label */
	bool diagonal;
	double value;
};

struct svg_chart {
	const char *title;
	struct svg_axis x, y;
	const struct svg_series *series; /* borrowed */
	size_t nseries;
	const struct svg_ref *refs; /* borrowed */
	size_t nrefs;
};

/* Bars: ngroups groups along x, each with one bar per series.
 * v[g * nseries + s] is the value of series s in group g; NaN: no bar.
 * Only horizontal reference lines. Values are printed above the bars. */
struct svg_bars {
	const char *title;
	const char *ytitle;
	const char *const *groups; /* ngroups labels under the x axis */
	size_t ngroups;
	const char *const *names; /* nseries legend labels */
	size_t nseries;
	const double *v;
	const struct svg_ref *refs;
	size_t nrefs;
};

#define SVG_EMPTY 1 /* nothing to plot: no file was written */

/* Write the chart to path (through a temp file). 0, SVG_EMPTY, or -1 with a
 * message naming the file. */
int svg_line_chart(const char *path, const struct svg_chart *c, char *errbuf,
                   size_t errlen);
int svg_bar_chart(const char *path, const struct svg_bars *b, char *errbuf,
                  size_t errlen);

#endif
