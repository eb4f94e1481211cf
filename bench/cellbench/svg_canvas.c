/* svg_canvas.c: see svg_canvas.h. */
#include "svg_canvas.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "numfmt.h"
#include "outfile.h"

enum { LEGEND_X = 620, LEGEND_TEXT = LEGEND_X + 36 };

/* Okabe-Ito colours: told apart with the common colour-vision deficits. */
static const char *const palette[] = {"#0072B2", "#D55E00", "#009E73",
                                      "#CC79A7", "#E69F00", "#56B4E9"};
#define NPALETTE (sizeof(palette) / sizeof(palette[0]))

const char *svgc_colour(size_t style)
{
	return palette[style % NPALETTE];
}

/* ---- scales ---- */

static double base(enum svg_scale s)
{
	return s == SVG_LOG2 ? 2 : 10;
}

/* Where v lies along the axis before scaling to pixels. */
static double tr(enum svg_scale s, double v)
{
	return s == SVG_LINEAR ? v : s == SVG_LOG2 ? log2(v) : log10(v);
}

bool svgc_plottable(enum svg_scale s, double v)
{
	return isfinite(v) && (s == SVG_LINEAR || v > 0);
}

void svgc_extend(double *mn, double *mx, double v)
{
	if (v < *mn)
		*mn = v;
	if (v > *mx)
		*mx = v;
}

static double nice_step(double raw)
{
	double e = pow(10, floor(log10(raw))), f = raw / e;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e;
}

/* Whole decades (or powers of 2) on a log axis; round steps from 0 on a
 * linear one. */
struct svgc_range svgc_range_of(enum svg_scale s, double mn, double mx)
{
	struct svgc_range r = {.s = s};
	if (s != SVG_LINEAR) {
		double b = base(s);
		r.lo = pow(b, floor(tr(s, mn) + 1e-9));
		r.hi = pow(b, ceil(tr(s, mx) - 1e-9));
		if (r.hi <= r.lo)
			r.hi = r.lo * b;
		return r;
	}
	mn = fmin(mn, 0);
	mx = fmax(mx, 0);
	if (mx <= mn)
		mx = mn + 1;
	r.step = nice_step((mx - mn) / 5);
	r.lo = floor(mn / r.step + 1e-9) * r.step;
	r.hi = ceil(mx / r.step - 1e-9) * r.step;
	return r;
}

static double frac(const struct svgc_range *r, double v)
{
	return (tr(r->s, v) - tr(r->s, r->lo)) /
	       (tr(r->s, r->hi) - tr(r->s, r->lo));
}

double svgc_px(const struct svgc_range *x, double v)
{
	return SVGC_L + x->pad + frac(x, v) * (SVGC_R - SVGC_L - 2 * x->pad);
}

double svgc_py(const struct svgc_range *y, double v)
{
	return SVGC_B - y->pad - frac(y, v) * (SVGC_B - SVGC_T - 2 * y->pad);
}

/* Tick values: multiples of step; powers of the base, with 2 and 5 in
 * between when a log10 axis spans two decades or less. */
static size_t ticks(const struct svgc_range *r, double *t, size_t max)
{
	size_t n = 0;
	if (r->s == SVG_LINEAR) {
		long k0 = lround(ceil(r->lo / r->step - 1e-9));
		long k1 = lround(floor(r->hi / r->step + 1e-9));
		for (long k = k0; k <= k1 && n < max; k++)
			t[n++] = (double)k * r->step;
		return n;
	}
	long k0 = lround(tr(r->s, r->lo)), k1 = lround(tr(r->s, r->hi));
	bool fine = r->s == SVG_LOG10 && k1 - k0 <= 2;
	static const double mult[] = {1, 2, 5};
	for (long k = k0; k <= k1; k++)
		for (size_t m = 0; m < (fine ? 3u : 1u); m++) {
			double v = mult[m] * pow(base(r->s), (double)k);
			if (v <= r->hi * (1 + 1e-9) && n < max)
				t[n++] = v;
		}
	return n;
}

/* ---- drawing ---- */

static void put_text(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
}

void svgc_text(FILE *f, double x, double y, const char *anchor,
               const char *extra, const char *s)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s>", x, y,
	        anchor, extra);
	put_text(f, s);
	fputs("</text>\n", f);
}

/* Widens *w to fit a legend label: 6.5 px per byte, a generous guess
 * for 12 px sans-serif text. */
void svgc_fit_label(int *w, const char *label)
{
	int need = LEGEND_TEXT + 13 * (int)strlen(label) / 2 + 12;
	if (need > *w)
		*w = need;
}

void svgc_open(FILE *f, const char *title, int w)
{
	fprintf(f,
	        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	        "height=\"%d\" viewBox=\"0 0 %d %d\" "
	        "font-family=\"sans-serif\" font-size=\"12\">\n"
	        "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
	        w, SVGC_H, w, SVGC_H, w, SVGC_H);
	svgc_text(f, (SVGC_L + SVGC_R) / 2.0, 28, "middle",
	          " font-size=\"16\" font-weight=\"bold\"", title);
}

/* A tick label: 1,000 and up as 1k, 20k, 1M, so long labels do not run
 * into the axis title. */
static const char *tick_label(double v, char *buf, size_t len)
{
	static const char *const suffix[] = {"k", "M", "G", "T"};
	double a = fabs(v);
	if (a < 1000)
		return cb_fmt(v, buf, len);
	size_t k = 0;
	while (k < 3 && a >= 1e6 * pow(1000, (double)k))
		k++;
	snprintf(buf, len, "%.3g%s", v / pow(1000, (double)k + 1), suffix[k]);
	return buf;
}

/* Grid lines and labelled ticks; the x axis only when x is not NULL (bar
 * charts label their groups instead). */
void svgc_axes(FILE *f, const struct svgc_range *x, const char *xtitle,
               const struct svgc_range *y, const char *ytitle)
{
	double t[64];
	char num[CB_NUM_MAX];
	size_t n = ticks(y, t, 64);
	for (size_t i = 0; i < n; i++) {
		double v = svgc_py(y, t[i]);
		fprintf(f,
		        "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
		        "stroke=\"#ddd\"/>\n",
		        SVGC_L, v, SVGC_R, v);
		svgc_text(f, SVGC_L - 6, v + 4, "end", "",
		          tick_label(t[i], num, sizeof(num)));
	}
	n = x ? ticks(x, t, 64) : 0;
	for (size_t i = 0; i < n; i++) {
		double v = svgc_px(x, t[i]);
		fprintf(f,
		        "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
		        "stroke=\"#ddd\"/>\n",
		        v, SVGC_T, v, SVGC_B + 5);
		svgc_text(f, v, SVGC_B + 18, "middle", "",
		          tick_label(t[i], num, sizeof(num)));
	}
	fprintf(f,
	        "<path d=\"M %d %d V %d H %d\" fill=\"none\" "
	        "stroke=\"black\"/>\n",
	        SVGC_L, SVGC_T, SVGC_B, SVGC_R);
	if (xtitle)
		svgc_text(f, (SVGC_L + SVGC_R) / 2.0, SVGC_B + 42, "middle", "",
		          xtitle);
	char rot[64];
	snprintf(rot, sizeof(rot), " transform=\"rotate(-90 22 %d)\"",
	         (SVGC_T + SVGC_B) / 2);
	svgc_text(f, 22, (SVGC_T + SVGC_B) / 2.0, "middle", rot, ytitle);
}

/* One marker; its shape and colour follow the style index. */
void svgc_marker(FILE *f, const char *cls, size_t style, bool hollow, double x,
                 double y)
{
	const char *c = svgc_colour(style);
	const char *fill = hollow ? "white" : c;
	switch (style % 4) {
	case 0:
		fprintf(f,
		        "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" "
		        "r=\"4\"",
		        cls, x, y);
		break;
	case 1:
		fprintf(f,
		        "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" "
		        "width=\"8\" height=\"8\"",
		        cls, x - 4, y - 4);
		break;
	case 2:
		fprintf(f,
		        "<polygon class=\"%s\" points=\"%.1f,%.1f %.1f,%.1f "
		        "%.1f,%.1f\"",
		        cls, x, y - 5, x + 5, y + 4, x - 5, y + 4);
		break;
	default:
		fprintf(f,
		        "<polygon class=\"%s\" points=\"%.1f,%.1f %.1f,%.1f "
		        "%.1f,%.1f %.1f,%.1f\"",
		        cls, x, y - 5, x + 5, y, x, y + 5, x - 5, y);
	}
	fprintf(f, " fill=\"%s\" stroke=\"%s\" stroke-width=\"1.5\"/>\n", fill,
	        c);
}

const char *svgc_dash(bool dashed)
{
	return dashed ? " stroke-dasharray=\"6 4\"" : "";
}

/* A legend entry: a line sample (with a marker unless style is -1, a
 * reference line) and the label. */
void svgc_legend_entry(FILE *f, size_t slot, long style, bool dashed,
                       const char *label)
{
	double y = SVGC_T + 10 + 22.0 * (double)slot;
	const char *c = style < 0 ? "#555" : svgc_colour((size_t)style);
	fprintf(f,
	        "<line class=\"legend-line\" x1=\"%d\" y1=\"%.1f\" "
	        "x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>\n",
	        LEGEND_X, y, LEGEND_X + 28, y, c,
	        style < 0 ? " stroke-dasharray=\"2 3\"" : svgc_dash(dashed));
	if (style >= 0)
		svgc_marker(f, "legend-marker", (size_t)style, dashed,
		            LEGEND_X + 14, y);
	svgc_text(f, LEGEND_TEXT, y + 4, "start", "", label);
}

/* p: x1, y1, x2, y2 in pixels */
void svgc_ref_line(FILE *f, const double *p)
{
	fprintf(f,
	        "<line class=\"ref\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
	        "y2=\"%.1f\" stroke=\"#555\" stroke-width=\"1.5\" "
	        "stroke-dasharray=\"2 3\"/>\n",
	        p[0], p[1], p[2], p[3]);
}

/* Writes the chart body through draw into a temp file renamed to path. */
int svgc_write(const char *path, void (*draw)(FILE *, const void *),
               const void *chart, char *errbuf, size_t errlen)
{
	struct cb_out o;
	if (cb_out_open(&o, path, errbuf, errlen))
		return -1;
	draw(o.f, chart);
	fputs("</svg>\n", o.f);
	return cb_out_commit(&o, errbuf, errlen);
}

void svgc_legend_swatch(FILE *f, size_t slot, size_t style, const char *label)
{
	double y = SVGC_T + 10 + 22.0 * (double)slot;
	fprintf(f,
	        "<rect class=\"legend-swatch\" x=\"%d\" y=\"%.1f\" "
	        "width=\"28\" height=\"10\" fill=\"%s\"/>\n",
	        LEGEND_X, y - 5, svgc_colour(style));
	svgc_text(f, LEGEND_TEXT, y + 4, "start", "", label);
}
