/* dataset.c: see dataset.h. */
#include "dataset.h"
#include "figures.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cellcommon.h"

/* cb_experiments is defined beside the experiments (experiments.c) */

static int known_rank(const char *name)
{
	int i = 0;
	while (cb_experiments[i] && strcmp(cb_experiments[i], name))
		i++;
	return i; /* unknown names share the last rank */
}

bool cb_experiment_known(const char *name)
{
	return cb_experiments[known_rank(name)] != NULL;
}

static struct cb_run *find_or_add(struct cb_dataset *ds, const char *name)
{
	for (size_t i = 0; i < ds->nruns; i++)
		if (!strcmp(ds->runs[i].experiment, name))
			return &ds->runs[i];
	ds->runs = cu_xrealloc(ds->runs, (ds->nruns + 1) * sizeof(*ds->runs));
	struct cb_run *r = &ds->runs[ds->nruns++];
	*r = (struct cb_run){.experiment = cu_xstrdup(name),
	                     .run = cu_xstrdup("")};
	return r;
}

/* Moves *row into its experiment's run if it belongs to the latest run so
 * far (dropping rows of an older one); otherwise clears it. */
static void take_row(struct cb_dataset *ds, struct cb_row *row)
{
	struct cb_run *r = find_or_add(ds, row->v[CB_experiment]);
	const char *when = row->v[CB_run] ? row->v[CB_run] : "";
	int cmp = r->nrows ? strcmp(when, r->run) : 1;
	if (cmp < 0) {
		cb_row_clear(row);
		return;
	}
	if (cmp > 0) {
		cb_rows_free(r->rows, r->nrows);
		r->rows = NULL;
		r->nrows = 0;
		free(r->run);
		r->run = cu_xstrdup(when);
	}
	r->rows = cu_xrealloc(r->rows, (r->nrows + 1) * sizeof(*r->rows));
	r->rows[r->nrows++] = *row;
	*row = (struct cb_row){0};
}

static int load_file(struct cb_dataset *ds, const char *path, char *errbuf,
                     size_t errlen)
{
	struct cb_row *rows;
	size_t n;
	if (cb_csv_read(path, &rows, &n, errbuf, errlen))
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (!rows[i].v[CB_experiment])
			rc = cu_errf(errbuf, errlen, -1,
			             "%s: data row %zu: the experiment field "
			             "is empty, expected an experiment name",
			             path, i + 1);
		else
			take_row(ds, &rows[i]);
	}
	cb_rows_free(rows, n);
	return rc;
}

/* Insertion sort: stable, and runs have tens of rows. */
static void sort_by_point(struct cb_run *r)
{
	for (size_t i = 1; i < r->nrows; i++) {
		struct cb_row row = r->rows[i];
		double p = cb_num(&row, CB_point);
		size_t j = i;
		while (j > 0 && cb_num(&r->rows[j - 1], CB_point) > p) {
			r->rows[j] = r->rows[j - 1];
			j--;
		}
		r->rows[j] = row;
	}
}

static int run_order(const void *a, const void *b)
{
	const struct cb_run *x = a, *y = b;
	int rx = known_rank(x->experiment), ry = known_rank(y->experiment);
	return rx != ry ? rx - ry : strcmp(x->experiment, y->experiment);
}

int cb_dataset_load(struct cb_dataset *ds, char *const *paths, size_t npaths,
                    char *errbuf, size_t errlen)
{
	*ds = (struct cb_dataset){0};
	for (size_t i = 0; i < npaths; i++)
		if (load_file(ds, paths[i], errbuf, errlen)) {
			cb_dataset_free(ds);
			return -1;
		}
	for (size_t i = 0; i < ds->nruns; i++)
		sort_by_point(&ds->runs[i]);
	if (ds->nruns)
		qsort(ds->runs, ds->nruns, sizeof(*ds->runs), run_order);
	return 0;
}

void cb_dataset_free(struct cb_dataset *ds)
{
	for (size_t i = 0; i < ds->nruns; i++) {
		cb_rows_free(ds->runs[i].rows, ds->runs[i].nrows);
		free(ds->runs[i].experiment);
		free(ds->runs[i].run);
	}
	free(ds->runs);
	*ds = (struct cb_dataset){0};
}

const struct cb_run *cb_dataset_find(const struct cb_dataset *ds,
                                     const char *experiment)
{
	for (size_t i = 0; i < ds->nruns; i++)
		if (!strcmp(ds->runs[i].experiment, experiment))
			return &ds->runs[i];
	return NULL;
}

double cb_num(const struct cb_row *r, enum cb_col c)
{
	const char *s = r->v[c];
	char *end;
	if (!s)
		return NAN;
	double v = strtod(s, &end);
	return end != s && !*end ? v : NAN;
}

bool cb_row_saturated(const struct cb_row *r)
{
	/* NaN compares false: a point without the figures is not sustained */
	return !(cb_num(r, CB_placements_per_s) >=
	         CB_SUSTAINED_SHARE * cb_num(r, CB_offered_tasks_per_s)) ||
	       cb_num(r, CB_jobs_never_placed) > 0;
}

bool cb_same(double a, double b)
{
	return a == b || (isnan(a) && isnan(b));
}

size_t cb_groups(const struct cb_run *run, enum cb_col c, double *keys,
                 size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < run->nrows; i++) {
		double v = cb_num(&run->rows[i], c);
		size_t j = 0;
		while (j < n && !cb_same(keys[j], v))
			j++;
		if (j < n || n == max)
			continue;
		/* insert in order, NaN first */
		for (j = n; j > 0 && (isnan(v) || keys[j - 1] > v); j--)
			keys[j] = keys[j - 1];
		keys[j] = v;
		n++;
	}
	return n;
}

static bool field_is(const struct cb_row *r, enum cb_col c, const char *v)
{
	return r->v[c] && !strcmp(r->v[c], v);
}

const struct cb_row *cb_find_row(const struct cb_run *run, enum cb_col c1,
                                 const char *v1, enum cb_col c2, const char *v2)
{
	for (size_t i = 0; i < run->nrows; i++)
		if (field_is(&run->rows[i], c1, v1) &&
		    (!v2 || field_is(&run->rows[i], c2, v2)))
			return &run->rows[i];
	return NULL;
}
