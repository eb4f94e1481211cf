/* tables.c: see tables.h. */
#include "tables.h"

#include <math.h>
#include <string.h>

#include "numfmt.h"

struct column {
	enum cb_col c;
	const char *head; /* with units */
};

struct table {
	const char *experiment;
	struct column cols[10];
	size_t n;
};

static const struct table tables[] = {
    {"omega-tjob",
     {{CB_time_scale, "time scale"},
      {CB_service_t_job_s, "service t_job (s)"},
      {CB_conflict_fraction_service, "conflict fraction (service)"},
      {CB_busy_service, "busy (service)"},
      {CB_busy_service_estimate, "busy estimate (service)"},
      {CB_conflict_fraction_batch, "conflict fraction (batch)"},
      {CB_busy_batch_median, "busy (batch, median)"},
      {CB_wait_mean_s, "wait mean (s)"}},
     8},
    {"omega-nsched",
     {{CB_batch_scheds, "batch schedulers"},
      {CB_busy_batch_median, "busy (median)"},
      {CB_busy_batch_min, "busy (min)"},
      {CB_busy_batch_max, "busy (max)"},
      {CB_conflict_fraction, "conflict fraction"},
      {CB_task_conflict_fraction, "task conflict fraction"},
      {CB_wait_mean_s, "wait mean (s)"},
      {CB_jobs_never_placed, "jobs never placed"}},
     8},
    {"omega-modes",
     {{CB_detect, "detect"},
      {CB_mode, "mode"},
      {CB_conflict_fraction, "conflict fraction"},
      {CB_task_conflict_fraction, "task conflict fraction"},
      {CB_busy_batch_median, "busy (batch, median)"},
      {CB_wait_mean_s, "wait mean (s)"},
      {CB_txns, "transactions"}},
     7},
    {"c1m",
     {{CB_tasks_submitted, "tasks"},
      {CB_jobs_submitted, "jobs"},
      {CB_machines, "machines"},
      {CB_batch_scheds, "batch schedulers"},
      {CB_all_placed_s, "all placed (s)"},
      {CB_all_running_s, "all running (s)"},
      {CB_running_tasks_per_s, "running tasks/s"},
      {CB_tasks_never_placed, "tasks never placed"}},
     8},
    {"latency",
     {{CB_offered_tasks_per_s, "offered (tasks/s)"},
      {CB_placements_per_s, "placements/s"},
      {CB_commit_p50_ms, "commit p50 (ms)"},
      {CB_commit_p99_ms, "commit p99 (ms)"},
      {CB_tasks_never_placed, "tasks never placed"}},
     5},
};

char *cb_cell(const struct cb_row *r, enum cb_col c, char *buf, size_t len)
{
	double v = cb_num(r, c);
	if (!r->v[c] || !isnan(v))
		return cb_fmt(v, buf, len);
	size_t o = 0;
	for (const char *s = r->v[c]; *s && o + 3 < len; s++) {
		if (*s == '|')
			buf[o++] = '\\';
		buf[o++] = *s == '\n' ? ' ' : *s;
	}
	buf[o] = 0;
	return buf;
}

static bool is_text(enum cb_col c)
{
	return c == CB_detect || c == CB_mode || c == CB_run ||
	       c == CB_experiment || c == CB_command;
}

static void write_table(FILE *f, const struct cb_run *run,
                        const struct column *cols, size_t n)
{
	char cell[256];
	for (size_t k = 0; k < n; k++)
		fprintf(f, "| %s ", cols[k].head);
	fputs("|\n", f);
	for (size_t k = 0; k < n; k++)
		fputs(is_text(cols[k].c) ? "|---" : "|---:", f);
	fputs("|\n", f);
	for (size_t i = 0; i < run->nrows; i++) {
		for (size_t k = 0; k < n; k++)
			fprintf(f, "| %s ",
			        cb_cell(&run->rows[i], cols[k].c, cell,
			                sizeof(cell)));
		fputs("|\n", f);
	}
}

/* The point and every column some row fills, named as in the CSV. */
static size_t generic_columns(const struct cb_run *run, struct column *cols)
{
	size_t n = 0;
	cols[n++] = (struct column){CB_point, cb_col_names[CB_point]};
	for (int c = CB_point + 1; c < CB_NCOLS; c++) {
		bool any = false;
		for (size_t i = 0; i < run->nrows && !any; i++)
			any = run->rows[i].v[c] != NULL;
		if (any && c != CB_command)
			cols[n++] =
			    (struct column){(enum cb_col)c, cb_col_names[c]};
	}
	return n;
}

void cb_table_write(FILE *f, const struct cb_run *run)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		if (!strcmp(tables[t].experiment, run->experiment)) {
			write_table(f, run, tables[t].cols, tables[t].n);
			return;
		}
	struct column cols[CB_NCOLS];
	size_t n = generic_columns(run, cols);
	write_table(f, run, cols, n);
}
