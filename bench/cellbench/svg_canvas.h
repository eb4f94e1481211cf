/* svg_canvas.h: the drawing kit behind svg.c, private to it: a canvas
 * with the plot area on the left and the legend on its right (so the
 * legend never hides a point), axis scales and ticks, markers, legend
 * entries. Everything writes SVG elements to f; coordinates are printed
 * with one decimal, which keeps the output deterministic. */
#ifndef CELL_BENCH_SVG_CANVAS_H
#define CELL_BENCH_SVG_CANVAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "svg.h"

/* Pixels: the plot area is [SVGC_L, SVGC_R] x [SVGC_T, SVGC_B]; the
 * canvas is SVGC_MIN_W wide or more (svgc_fit_label). */
enum {
	SVGC_MIN_W = 760,
	SVGC_H = 450,
	SVGC_L = 80,
	SVGC_T = 50,
	SVGC_R = 600,
	SVGC_B = 380,
	SVGC_PAD = 10 /* kept free inside a line chart's axes */
};

/* An axis: the values at its two ends. */
struct svgc_range {
	enum svg_scale s;
	double lo, hi, step; /* step: linear tick spacing */
	double pad;          /* pixels kept free at both ends, so points at
	                        the ends do not sit on the axes */
};

/* Whole decades (or powers of 2) on a log axis; round steps from 0 on a
 * linear one. mn <= mx, both plottable. pad is 0. */
struct svgc_range svgc_range_of(enum svg_scale s, double mn, double mx);
/* Finite, and positive on a log axis. */
bool svgc_plottable(enum svg_scale s, double v);
void svgc_extend(double *mn, double *mx, double v);
double svgc_px(const struct svgc_range *x, double v);
double svgc_py(const struct svgc_range *y, double v);

/* The colour of a style index (series k has style k). */
const char *svgc_colour(size_t style);
/* " stroke-dasharray=..." or "". */
const char *svgc_dash(bool dashed);
/* A <text> element; extra: more attributes (" font-size=..."), or "". */
void svgc_text(FILE *f, double x, double y, const char *anchor,
               const char *extra, const char *s);
/* Widens *w to fit a legend label. */
void svgc_fit_label(int *w, const char *label);
/* The <svg> element (w pixels wide), a white background and the title. */
void svgc_open(FILE *f, const char *title, int w);
/* Grid lines, labelled ticks and axis titles; no x axis when x is NULL
 * (bar charts label their groups instead). */
void svgc_axes(FILE *f, const struct svgc_range *x, const char *xtitle,
               const struct svgc_range *y, const char *ytitle);
/* A marker of class cls; its shape and colour follow the style. */
void svgc_marker(FILE *f, const char *cls, size_t style, bool hollow, double x,
                 double y);
/* Legend entry number slot: a line sample with the style's marker, or a
 * reference line's dotted sample when style is -1; then the label. */
void svgc_legend_entry(FILE *f, size_t slot, long style, bool dashed,
                       const char *label);
/* Legend entry for a bar series: a swatch of its colour. */
void svgc_legend_swatch(FILE *f, size_t slot, size_t style, const char *label);
/* A reference line of class "ref"; p: x1, y1, x2, y2 in pixels. */
void svgc_ref_line(FILE *f, const double *p);
/* Writes a whole SVG file through draw (which writes all but the closing
 * tag) into a temp file renamed to path. 0 or -1 with a message. */
int svgc_write(const char *path, void (*draw)(FILE *, const void *),
               const void *chart, char *errbuf, size_t errlen);

#endif
