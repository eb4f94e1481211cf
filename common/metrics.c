/* metrics.c: counters, gauges, labelled counters and histograms rendered in
 * the Prometheus text exposition format 0.0.4. */
#include "internal.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABELS_MAX 4

enum kind { K_COUNTER, K_GAUGE, K_GAUGE_FN, K_COUNTER_VEC, K_HISTOGRAM };

struct cc_counter {
	uint64_t v;
};

struct cc_gauge {
	double v;
};

struct child {
	struct cc_counter c; /* first: handed out as a struct cc_counter * */
	char *values[LABELS_MAX];
	struct child *next;
};

struct cc_counter_vec {
	size_t nlabels;
	char *labels[LABELS_MAX];
	struct child *head, **tail; /* in order of first use */
};

/* counts[i] holds observations in (bounds[i-1], bounds[i]]; counts[n] the
 * rest (the +Inf bucket). Rendering makes them cumulative. */
struct cc_histogram {
	double *bounds;
	size_t n;
	uint64_t *counts;
	double sum;
	uint64_t count;
};

struct family {
	enum kind kind;
	char *name, *help;
	struct family *next;
	union {
		struct cc_counter counter;
		struct cc_gauge gauge;
		struct {
			double (*fn)(void *arg);
			void *arg;
		} fn;
		struct cc_counter_vec vec;
		struct cc_histogram hist;
	} u;
};

struct cc_metrics {
	struct family *head, **tail; /* in registration order */
};

cc_metrics *cc_metrics_new(void)
{
	cc_metrics *m = cu_xcalloc(1, sizeof(*m));
	m->tail = &m->head;
	return m;
}

static void family_free(struct family *f)
{
	if (f->kind == K_COUNTER_VEC) {
		struct cc_counter_vec *v = &f->u.vec;
		for (struct child *c = v->head, *next; c; c = next) {
			next = c->next;
			for (size_t i = 0; i < v->nlabels; i++)
				free(c->values[i]);
			free(c);
		}
		for (size_t i = 0; i < v->nlabels; i++)
			free(v->labels[i]);
	} else if (f->kind == K_HISTOGRAM) {
		free(f->u.hist.bounds);
		free(f->u.hist.counts);
	}
	free(f->name);
	free(f->help);
	free(f);
}

void cc_metrics_free(cc_metrics *m)
{
	if (!m)
		return;
	for (struct family *f = m->head, *next; f; f = next) {
		next = f->next;
		family_free(f);
	}
	free(m);
}

/* ---- registration ----------------------------------------------------- */

static bool metric_name_ok(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != ':')
			return false;
	return true;
}

static bool label_name_ok(const char *s)
{
	if (!*s || isdigit((unsigned char)*s) || strncmp(s, "__", 2) == 0)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* The sample names a family writes: a histogram writes three. */
static size_t sample_names(const char *name, enum kind kind, char out[3][256])
{
	if (kind != K_HISTOGRAM) {
		snprintf(out[0], 256, "%s", name);
		return 1;
	}
	snprintf(out[0], 256, "%s_bucket", name);
	snprintf(out[1], 256, "%s_sum", name);
	snprintf(out[2], 256, "%s_count", name);
	return 3;
}

static bool clashes(const cc_metrics *m, const char *name, enum kind kind)
{
	char mine[3][256], theirs[3][256];
	size_t n = sample_names(name, kind, mine);
	for (const struct family *f = m->head; f; f = f->next) {
		if (strcmp(f->name, name) == 0)
			return true;
		size_t k = sample_names(f->name, f->kind, theirs);
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < k; j++)
				if (strcmp(mine[i], theirs[j]) == 0)
					return true;
	}
	return false;
}

static struct family *add_family(cc_metrics *m, const char *name,
                                 const char *help, enum kind kind)
{
	if (!m || !name)
		cc_die("metrics: NULL registry or name");
	if (strlen(name) > 200 || !metric_name_ok(name))
		cc_die("metrics: \"%s\" is not a valid metric name", name);
	if (clashes(m, name, kind))
		cc_die("metrics: \"%s\" is registered twice", name);
	struct family *f = cu_xcalloc(1, sizeof(*f));
	f->kind = kind;
	f->name = cu_xstrdup(name);
	f->help = cu_xstrdup(help ? help : "");
	*m->tail = f;
	m->tail = &f->next;
	return f;
}

struct cc_counter *cc_counter_new(cc_metrics *m, const char *name,
                                  const char *help)
{
	return &add_family(m, name, help, K_COUNTER)->u.counter;
}

struct cc_gauge *cc_gauge_new(cc_metrics *m, const char *name, const char *help)
{
	return &add_family(m, name, help, K_GAUGE)->u.gauge;
}

void cc_gauge_fn_new(cc_metrics *m, const char *name, const char *help,
                     double (*fn)(void *arg), void *arg)
{
	if (!fn)
		cc_die("metrics: %s: NULL function", name);
	struct family *f = add_family(m, name, help, K_GAUGE_FN);
	f->u.fn.fn = fn;
	f->u.fn.arg = arg;
}

/* "verdict, reason" into v->labels. */
static void parse_labels(struct cc_counter_vec *v, const char *name,
                         const char *labels)
{
	const char *p = labels ? labels : "";
	do {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		while (len && isspace((unsigned char)*p))
			p++, len--;
		while (len && isspace((unsigned char)p[len - 1]))
			len--;
		if (v->nlabels == LABELS_MAX)
			cc_die("metrics: %s: more than %d labels", name,
			       LABELS_MAX);
		char *label = cu_xstrndup(p, len);
		v->labels[v->nlabels++] = label;
		if (!label_name_ok(label))
			cc_die("metrics: %s: \"%s\" is not a valid label name",
			       name, label);
		for (size_t i = 0; i + 1 < v->nlabels; i++)
			if (strcmp(v->labels[i], label) == 0)
				cc_die("metrics: %s: label \"%s\" twice", name,
				       label);
		p = end ? end + 1 : NULL;
	} while (p);
}

struct cc_counter_vec *cc_counter_vec_new(cc_metrics *m, const char *name,
                                          const char *help, const char *labels)
{
	struct family *f = add_family(m, name, help, K_COUNTER_VEC);
	struct cc_counter_vec *v = &f->u.vec;
	v->tail = &v->head;
	parse_labels(v, name, labels);
	return v;
}

static bool child_is(const struct cc_counter_vec *v, const struct child *c,
                     const char *const values[])
{
	for (size_t i = 0; i < v->nlabels; i++)
		if (strcmp(c->values[i], values[i]) != 0)
			return false;
	return true;
}

struct cc_counter *cc_counter_vec_get(struct cc_counter_vec *v,
                                      const char *const values[])
{
	for (size_t i = 0; i < v->nlabels; i++)
		if (!values[i])
			cc_die("metrics: NULL label value for \"%s\"",
			       v->labels[i]);
	for (struct child *c = v->head; c; c = c->next)
		if (child_is(v, c, values))
			return &c->c;
	struct child *c = cu_xcalloc(1, sizeof(*c));
	for (size_t i = 0; i < v->nlabels; i++)
		c->values[i] = cu_xstrdup(values[i]);
	*v->tail = c;
	v->tail = &c->next;
	return &c->c;
}

struct cc_counter *cc_counter_vec_get1(struct cc_counter_vec *v,
                                       const char *value)
{
	if (v->nlabels != 1)
		cc_die("metrics: cc_counter_vec_get1 on a family with %zu "
		       "labels",
		       v->nlabels);
	const char *values[1] = {value};
	return cc_counter_vec_get(v, values);
}

struct cc_histogram *cc_histogram_new(cc_metrics *m, const char *name,
                                      const char *help, const double *bounds,
                                      size_t nbounds)
{
	for (size_t i = 0; i < nbounds; i++)
		if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
			cc_die("metrics: %s: bucket bounds must be finite and "
			       "increasing",
			       name);
	struct family *f = add_family(m, name, help, K_HISTOGRAM);
	struct cc_histogram *h = &f->u.hist;
	h->n = nbounds;
	h->bounds = cu_xmalloc(nbounds * sizeof(double));
	if (nbounds)
		memcpy(h->bounds, bounds, nbounds * sizeof(double));
	h->counts = cu_xcalloc(nbounds + 1, sizeof(uint64_t));
	return h;
}

size_t cc_log_bounds(double lo, double hi, unsigned per_decade, double *out,
                     size_t max)
{
	size_t n = 0;
	for (unsigned k = 0; n < max; k++) {
		double v = lo * pow(10, (double)k / per_decade);
		double unit = pow(10, floor(log10(v)) - 1);
		v = round(v / unit) * unit;
		if (n && v <= out[n - 1])
			continue; /* rounding met the previous bound */
		out[n++] = v;
		if (v >= hi)
			break;
	}
	return n;
}

/* ---- updates ---------------------------------------------------------- */

void cc_counter_inc(struct cc_counter *c)
{
	c->v++;
}

void cc_counter_add(struct cc_counter *c, uint64_t n)
{
	c->v += n;
}

uint64_t cc_counter_value(const struct cc_counter *c)
{
	return c->v;
}

void cc_gauge_set(struct cc_gauge *g, double v)
{
	g->v = v;
}

void cc_gauge_add(struct cc_gauge *g, double delta)
{
	g->v += delta;
}

double cc_gauge_value(const struct cc_gauge *g)
{
	return g->v;
}

void cc_histogram_observe(struct cc_histogram *h, double v)
{
	/* binary search for the first bound >= v; NaN lands in +Inf */
	size_t lo = 0, hi = h->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v <= h->bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	h->counts[isnan(v) ? h->n : lo]++;
	h->sum += v;
	h->count++;
}

/* ---- rendering -------------------------------------------------------- */

/* The shortest text that reads back as the same double, as Prometheus's
 * own clients write it; the special values are spelled as the format says. */
static void format_double(char *out, size_t size, double v)
{
	if (isnan(v)) {
		snprintf(out, size, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, size, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, size, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

/* HELP text escapes \ and newline; label values also escape ". */
static void add_escaped(struct cu_buf *b, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			cu_buf_adds(b, "\\\\");
		else if (*s == '\n')
			cu_buf_adds(b, "\\n");
		else if (quote && *s == '"')
			cu_buf_adds(b, "\\\"");
		else
			cu_buf_add(b, s, 1);
	}
}

static void render_header(struct cu_buf *b, const struct family *f)
{
	static const char *const types[] = {"counter", "gauge", "gauge",
	                                    "counter", "histogram"};
	cu_buf_addf(b, "# HELP %s ", f->name);
	add_escaped(b, f->help, false);
	cu_buf_addf(b, "\n# TYPE %s %s\n", f->name, types[f->kind]);
}

static void render_vec(struct cu_buf *b, const struct family *f)
{
	const struct cc_counter_vec *v = &f->u.vec;
	for (const struct child *c = v->head; c; c = c->next) {
		cu_buf_addf(b, "%s{", f->name);
		for (size_t i = 0; i < v->nlabels; i++) {
			cu_buf_addf(b, "%s%s=\"", i ? "," : "", v->labels[i]);
			add_escaped(b, c->values[i], true);
			cu_buf_adds(b, "\"");
		}
		cu_buf_addf(b, "} %" PRIu64 "\n", c->c.v);
	}
}

static void render_histogram(struct cu_buf *b, const struct family *f)
{
	const struct cc_histogram *h = &f->u.hist;
	char num[64];
	uint64_t cumulative = 0;
	for (size_t i = 0; i <= h->n; i++) {
		cumulative += h->counts[i];
		if (i < h->n)
			format_double(num, sizeof(num), h->bounds[i]);
		else
			snprintf(num, sizeof(num), "+Inf");
		cu_buf_addf(b, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", f->name,
		            num, cumulative);
	}
	format_double(num, sizeof(num), h->sum);
	cu_buf_addf(b, "%s_sum %s\n", f->name, num);
	cu_buf_addf(b, "%s_count %" PRIu64 "\n", f->name, h->count);
}

static void render_family(struct cu_buf *b, const struct family *f)
{
	char num[64];
	render_header(b, f);
	switch (f->kind) {
	case K_COUNTER:
		cu_buf_addf(b, "%s %" PRIu64 "\n", f->name, f->u.counter.v);
		break;
	case K_GAUGE:
		format_double(num, sizeof(num), f->u.gauge.v);
		cu_buf_addf(b, "%s %s\n", f->name, num);
		break;
	case K_GAUGE_FN:
		format_double(num, sizeof(num), f->u.fn.fn(f->u.fn.arg));
		cu_buf_addf(b, "%s %s\n", f->name, num);
		break;
	case K_COUNTER_VEC:
		render_vec(b, f);
		break;
	case K_HISTOGRAM:
		render_histogram(b, f);
		break;
	}
}

char *cc_metrics_render(const cc_metrics *m, size_t *len)
{
	struct cu_buf b = {0};
	for (const struct family *f = m->head; f; f = f->next)
		render_family(&b, f);
	if (len)
		*len = b.len;
	return cu_buf_steal(&b);
}
