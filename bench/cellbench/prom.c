/* prom.c: reading Prometheus text (see cellbench.h). Only what Cell's own
 * daemons write: one sample per line, `name{k="v",...} value`, comments
 * starting with '#'. */
#include "cellbench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Calls fn for every sample line whose name is exactly `name`; stops early
 * when fn returns false. labels points at "{...}" or is "" when absent. */
typedef bool (*sample_fn)(const char *labels, size_t labels_len, double v,
                          void *arg);

static void each_sample(const char *text, const char *name, sample_fn fn,
                        void *arg)
{
	size_t len = strlen(name);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p += !!p) {
		if (*p == '#' || strncmp(p, name, len) ||
		    (p[len] != '{' && p[len] != ' '))
			continue;
		const char *labels = p + len, *end = labels;
		if (*labels == '{') {
			end = strchr(labels, '}');
			if (!end)
				return;
			end++;
		}
		char *after;
		double v = strtod(end, &after);
		if (after == end)
			continue;
		if (!fn(labels, (size_t)(end - labels), v, arg))
			return;
	}
}

struct sum_arg {
	const char *label;
	double sum;
};

/* label is `k="v"`; labels is "{...}" (values here hold no comma). */
static bool has_label(const char *labels, size_t len, const char *label)
{
	size_t n = strlen(label);
	const char *end = labels + len;
	for (const char *p = labels; p + 1 + n < end; p++)
		if ((*p == '{' || *p == ',') && !strncmp(p + 1, label, n) &&
		    (p[1 + n] == ',' || p[1 + n] == '}'))
			return true;
	return false;
}

static bool add_sample(const char *labels, size_t len, double v, void *arg)
{
	struct sum_arg *a = arg;
	if (!a->label || has_label(labels, len, a->label))
		a->sum += v;
	return true;
}

double cb_prom_sum(const char *text, const char *name, const char *label)
{
	struct sum_arg a = {label, 0};
	each_sample(text, name, add_sample, &a);
	return a.sum;
}

static bool add_bucket(const char *labels, size_t len, double v, void *arg)
{
	struct cb_hist *h = arg;
	const char *le = strstr(labels, "le=\"");
	if (!le || le >= labels + len || h->n == CB_HIST_MAX)
		return h->n < CB_HIST_MAX;
	le += 4;
	h->le[h->n] = strncmp(le, "+Inf", 4) ? strtod(le, NULL) : INFINITY;
	h->cum[h->n++] = v;
	return true;
}

bool cb_prom_hist(const char *text, const char *name, struct cb_hist *h)
{
	char n[128];
	*h = (struct cb_hist){0};
	snprintf(n, sizeof(n), "%s_bucket", name);
	each_sample(text, n, add_bucket, h);
	snprintf(n, sizeof(n), "%s_sum", name);
	h->sum = cb_prom_sum(text, n, NULL);
	snprintf(n, sizeof(n), "%s_count", name);
	h->count = cb_prom_sum(text, n, NULL);
	return h->n > 0 && isinf(h->le[h->n - 1]);
}

bool cb_hist_add(struct cb_hist *a, const struct cb_hist *b, int sign)
{
	if (!a->n) {
		*a = *b;
		for (size_t i = 0; i < a->n; i++)
			a->cum[i] *= sign;
		a->sum *= sign;
		a->count *= sign;
		return true;
	}
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (a->le[i] != b->le[i])
			return false;
	for (size_t i = 0; i < a->n; i++)
		a->cum[i] += sign * b->cum[i];
	a->sum += sign * b->sum;
	a->count += sign * b->count;
	return true;
}

double cb_hist_quantile(const struct cb_hist *h, double q)
{
	if (!h->n || h->cum[h->n - 1] <= 0)
		return NAN;
	double rank = q * h->cum[h->n - 1];
	for (size_t i = 0; i < h->n; i++) {
		if (h->cum[i] < rank || h->cum[i] <= 0)
			continue;
		if (isinf(h->le[i]))
			return i ? h->le[i - 1] : NAN;
		double lo = i ? h->le[i - 1] : 0, below = i ? h->cum[i - 1] : 0;
		double in = h->cum[i] - below;
		return lo +
		       (h->le[i] - lo) * (in > 0 ? (rank - below) / in : 1);
	}
	return h->le[h->n - 1];
}
