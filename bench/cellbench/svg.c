/* svg.c: see svg.h; the drawing itself is in svg_canvas.c. */
#include "svg.h"

#include <math.h>
#include <stdio.h>

#include "numfmt.h"
#include "svg_canvas.h"

/* ---- line charts ---- */

static bool point_ok(const struct svg_chart *c, const struct svg_series *s,
                     size_t i)
{
	return svgc_plottable(c->x.scale, s->x[i]) &&
	       svgc_plottable(c->y.scale, s->y[i]);
}

static bool errorbar_ok(const struct svg_chart *c, const struct svg_series *s,
                        size_t i)
{
	return s->lo && s->hi && svgc_plottable(c->y.scale, s->lo[i]) &&
	       svgc_plottable(c->y.scale, s->hi[i]);
}

static size_t npoints(const struct svg_chart *c, const struct svg_series *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n; i++)
		n += point_ok(c, s, i);
	return n;
}

/* The axes' ranges over every plotted point, error bar and horizontal
 * reference line; false when there is no point to plot. */
static bool line_extent(const struct svg_chart *c, struct svgc_range *x,
                        struct svgc_range *y)
{
	double xmn = INFINITY, xmx = -INFINITY, ymn = INFINITY, ymx = -INFINITY;
	for (size_t k = 0; k < c->nseries; k++) {
		const struct svg_series *s = &c->series[k];
		for (size_t i = 0; i < s->n; i++) {
			if (!point_ok(c, s, i))
				continue;
			svgc_extend(&xmn, &xmx, s->x[i]);
			svgc_extend(&ymn, &ymx, s->y[i]);
			if (errorbar_ok(c, s, i)) {
				svgc_extend(&ymn, &ymx, s->lo[i]);
				svgc_extend(&ymn, &ymx, s->hi[i]);
			}
		}
	}
	if (xmn > xmx)
		return false;
	for (size_t k = 0; k < c->nrefs; k++)
		if (!c->refs[k].diagonal &&
		    svgc_plottable(c->y.scale, c->refs[k].value))
			svgc_extend(&ymn, &ymx, c->refs[k].value);
	*x = svgc_range_of(c->x.scale, xmn, xmx);
	*y = svgc_range_of(c->y.scale, ymn, ymx);
	x->pad = y->pad = SVGC_PAD;
	return true;
}

static void draw_series(FILE *f, const struct svg_chart *c,
                        const struct svgc_range *x, const struct svgc_range *y,
                        size_t style)
{
	const struct svg_series *s = &c->series[style];
	fprintf(f,
	        "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" "
	        "stroke-width=\"2\"%s points=\"",
	        svgc_colour(style), svgc_dash(s->dashed));
	const char *sep = "";
	for (size_t i = 0; i < s->n; i++)
		if (point_ok(c, s, i)) {
			fprintf(f, "%s%.1f,%.1f", sep, svgc_px(x, s->x[i]),
			        svgc_py(y, s->y[i]));
			sep = " ";
		}
	fputs("\"/>\n", f);
	for (size_t i = 0; i < s->n; i++) {
		if (!point_ok(c, s, i) || !errorbar_ok(c, s, i))
			continue;
		double X = svgc_px(x, s->x[i]), lo = svgc_py(y, s->lo[i]),
		       hi = svgc_py(y, s->hi[i]);
		fprintf(f,
		        "<path class=\"errorbar\" d=\"M %.1f %.1f V %.1f "
		        "M %.1f %.1f H %.1f M %.1f %.1f H %.1f\" "
		        "stroke=\"%s\"/>\n",
		        X, lo, hi, X - 4, lo, X + 4, X - 4, hi, X + 4,
		        svgc_colour(style));
	}
	for (size_t i = 0; i < s->n; i++)
		if (point_ok(c, s, i))
			svgc_marker(f, "marker", style, s->dashed,
			            svgc_px(x, s->x[i]), svgc_py(y, s->y[i]));
}

/* Where a reference line runs, in pixels: y = value across the plot, or
 * y = x where both axes share a scale. False when it is not drawn. */
static bool ref_span(const struct svg_ref *r, const struct svgc_range *x,
                     const struct svgc_range *y, double *p)
{
	if (!r->diagonal) {
		if (!svgc_plottable(y->s, r->value))
			return false;
		p[0] = SVGC_L, p[2] = SVGC_R,
		p[1] = p[3] = svgc_py(y, r->value);
		return true;
	}
	double t0 = fmax(x->lo, y->lo), t1 = fmin(x->hi, y->hi);
	if (x->s != y->s || t0 >= t1)
		return false;
	p[0] = svgc_px(x, t0), p[1] = svgc_py(y, t0), p[2] = svgc_px(x, t1),
	p[3] = svgc_py(y, t1);
	return true;
}

static void draw_line_chart(FILE *f, const void *chart)
{
	const struct svg_chart *c = chart;
	struct svgc_range x, y;
	double p[4];
	int w = SVGC_MIN_W;
	line_extent(c, &x, &y);
	for (size_t k = 0; k < c->nseries; k++)
		if (npoints(c, &c->series[k]))
			svgc_fit_label(&w, c->series[k].name);
	for (size_t k = 0; k < c->nrefs; k++)
		if (ref_span(&c->refs[k], &x, &y, p))
			svgc_fit_label(&w, c->refs[k].name);
	svgc_open(f, c->title, w);
	svgc_axes(f, &x, c->x.title, &y, c->y.title);
	for (size_t k = 0; k < c->nrefs; k++)
		if (ref_span(&c->refs[k], &x, &y, p))
			svgc_ref_line(f, p);
	size_t slot = 0;
	for (size_t k = 0; k < c->nseries; k++) {
		if (!npoints(c, &c->series[k]))
			continue;
		draw_series(f, c, &x, &y, k);
		svgc_legend_entry(f, slot++, (long)k, c->series[k].dashed,
		                  c->series[k].name);
	}
	for (size_t k = 0; k < c->nrefs; k++)
		if (ref_span(&c->refs[k], &x, &y, p))
			svgc_legend_entry(f, slot++, -1, false,
			                  c->refs[k].name);
}

int svg_line_chart(const char *path, const struct svg_chart *c, char *errbuf,
                   size_t errlen)
{
	struct svgc_range x, y;
	if (!line_extent(c, &x, &y))
		return SVG_EMPTY;
	return svgc_write(path, draw_line_chart, c, errbuf, errlen);
}

/* ---- bar charts ---- */

static bool bar_extent(const struct svg_bars *b, struct svgc_range *y)
{
	double mn = INFINITY, mx = -INFINITY;
	for (size_t i = 0; i < b->ngroups * b->nseries; i++)
		if (isfinite(b->v[i]))
			svgc_extend(&mn, &mx, b->v[i]);
	if (mn > mx)
		return false;
	for (size_t k = 0; k < b->nrefs; k++)
		if (isfinite(b->refs[k].value))
			svgc_extend(&mn, &mx, b->refs[k].value);
	*y = svgc_range_of(SVG_LINEAR, mn, mx);
	return true;
}

static void draw_bar(FILE *f, const struct svgc_range *y, size_t s, double x0,
                     double w, double v)
{
	char num[CB_NUM_MAX];
	double top = svgc_py(y, fmax(v, 0)), bottom = svgc_py(y, fmin(v, 0));
	fprintf(f,
	        "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
	        "height=\"%.1f\" fill=\"%s\"/>\n",
	        x0, top, w, bottom - top, svgc_colour(s));
	svgc_text(f, x0 + w / 2, top - 5, "middle", "",
	          cb_fmt(v, num, sizeof(num)));
}

static void draw_bar_chart(FILE *f, const void *chart)
{
	const struct svg_bars *b = chart;
	struct svgc_range y;
	int w = SVGC_MIN_W;
	bar_extent(b, &y);
	for (size_t k = 0; k < b->nseries && b->nseries > 1; k++)
		svgc_fit_label(&w, b->names[k]);
	for (size_t k = 0; k < b->nrefs; k++)
		svgc_fit_label(&w, b->refs[k].name);
	svgc_open(f, b->title, w);
	svgc_axes(f, NULL, NULL, &y, b->ytitle);
	double gw = (double)(SVGC_R - SVGC_L) / (double)b->ngroups;
	double bw = gw * 0.7 / (double)b->nseries;
	for (size_t g = 0; g < b->ngroups; g++) {
		double g0 = SVGC_L + gw * (double)g;
		svgc_text(f, g0 + gw / 2, SVGC_B + 18, "middle", "",
		          b->groups[g]);
		for (size_t s = 0; s < b->nseries; s++)
			if (isfinite(b->v[g * b->nseries + s]))
				draw_bar(f, &y, s,
				         g0 + gw * 0.15 + bw * (double)s, bw,
				         b->v[g * b->nseries + s]);
	}
	size_t slot = 0;
	for (size_t s = 0; s < b->nseries && b->nseries > 1; s++)
		svgc_legend_swatch(f, slot++, s, b->names[s]);
	double p[4];
	for (size_t k = 0; k < b->nrefs; k++)
		if (!b->refs[k].diagonal && ref_span(&b->refs[k], &y, &y, p)) {
			svgc_ref_line(f, p);
			svgc_legend_entry(f, slot++, -1, false,
			                  b->refs[k].name);
		}
}

int svg_bar_chart(const char *path, const struct svg_bars *b, char *errbuf,
                  size_t errlen)
{
	struct svgc_range y;
	if (!b->ngroups || !b->nseries || !bar_extent(b, &y))
		return SVG_EMPTY;
	return svgc_write(path, draw_bar_chart, b, errbuf, errlen);
}
