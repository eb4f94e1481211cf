/* plot.c: `cellbench plot`. Every CSV is read before anything is written,
 * so a malformed one stops the command with the old charts and report
 * intact; then the charts, the tables on stdout, and the report. */
#include "plot.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellcommon.h"
#include "charts.h"
#include "dataset.h"
#include "report.h"
#include "tables.h"

static const char usage[] =
    "cellbench plot [--dir DIR] [--results FILE] [CSV...]";
static const char about[] =
    "Reads the CSV files `cellbench run` appends to (none given: every "
    "DIR/*.csv) and keeps each experiment's latest run; writes its charts "
    "into DIR as EXPERIMENT-WHAT.svg, prints a Markdown table per "
    "experiment, and writes the report FILE. Flags go before the CSV "
    "files.";

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_csv(const char *name)
{
	size_t n = strlen(name);
	return name[0] != '.' && n > 4 && !strcmp(name + n - 4, ".csv");
}

/* Every DIR/NAME.csv, by name so the output does not depend on the folder's
 * order. *paths is malloc'd, each path too. 0 or -1 with a message. */
static int list_csvs(const char *dir, char ***paths, size_t *n, char *errbuf,
                     size_t errlen)
{
	*paths = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return cu_errf(errbuf, errlen, -1,
		               "%s: %s (give --dir DIR, or CSV files)", dir,
		               strerror(errno));
	for (struct dirent *e; (e = readdir(d));) {
		if (!is_csv(e->d_name))
			continue;
		size_t len = strlen(dir) + strlen(e->d_name) + 2;
		*paths = cu_xrealloc(*paths, (*n + 1) * sizeof(**paths));
		(*paths)[*n] = cu_xmalloc(len);
		snprintf((*paths)[(*n)++], len, "%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (*n)
		qsort(*paths, *n, sizeof(**paths), cmp_str);
	return 0;
}

/* Known experiments in report order, run or not; then the others found.
 * sec has room for every known experiment and every run. */
static size_t sections_of(const struct cb_dataset *ds, struct cb_section *sec)
{
	size_t n = 0;
	for (size_t i = 0; cb_experiments[i]; i++)
		sec[n++] = (struct cb_section){
		    .experiment = cb_experiments[i],
		    .run = cb_dataset_find(ds, cb_experiments[i])};
	for (size_t i = 0; i < ds->nruns; i++)
		if (!cb_experiment_known(ds->runs[i].experiment))
			sec[n++] = (struct cb_section){
			    .experiment = ds->runs[i].experiment,
			    .run = &ds->runs[i]};
	return n;
}

static void print_tables(const struct cb_dataset *ds)
{
	for (size_t i = 0; i < ds->nruns; i++) {
		const struct cb_run *r = &ds->runs[i];
		printf("%s## %s\n\nLatest run `%s`, %zu point%s.\n\n",
		       i ? "\n" : "", r->experiment, r->run, r->nrows,
		       r->nrows == 1 ? "" : "s");
		cb_table_write(stdout, r);
	}
	fflush(stdout);
}

static int plot(const char *dir, const char *results, char *const *csvs,
                size_t ncsvs)
{
	char err[CC_ERRMSG_SIZE];
	struct cb_dataset ds;
	if (cb_dataset_load(&ds, csvs, ncsvs, err, sizeof(err))) {
		fprintf(stderr, "cellbench plot: %s\n", err);
		return 1;
	}
	size_t ncharts = 0, nknown = 0;
	while (cb_experiments[nknown])
		nknown++;
	struct cb_section *sec = cu_xcalloc(ds.nruns + nknown, sizeof(*sec));
	size_t nsec = sections_of(&ds, sec);
	int rc = 0;
	for (size_t i = 0; i < nsec && !rc; i++) {
		if (sec[i].run)
			rc = cb_charts_write(sec[i].run, dir, sec[i].charts,
			                     &sec[i].ncharts, err, sizeof(err));
		ncharts += sec[i].ncharts;
	}
	if (!rc) {
		print_tables(&ds);
		rc = cb_report_write(results, dir, sec, nsec, err, sizeof(err));
	}
	if (rc)
		fprintf(stderr, "cellbench plot: %s\n", err);
	else
		fprintf(stderr,
		        "cellbench plot: %zu experiment(s) found, %zu "
		        "chart(s) in %s, report in %s\n",
		        ds.nruns, ncharts, dir, results);
	free(sec);
	cb_dataset_free(&ds);
	return rc ? 1 : 0;
}

/* 0 to go on, or the exit code: 0 after --help, 2 on bad usage. */
static int parse(const struct cc_flag *flags, int argc, char **argv, int *next,
                 int *exit_code)
{
	char err[CC_ERRMSG_SIZE];
	int rc = cc_flags_parse(flags, argc, argv, next, err, sizeof(err));
	if (rc == CC_HELP) {
		char *help = cc_flags_help(flags, usage, about);
		fputs(help, stdout);
		free(help);
		*exit_code = 0;
		return 1;
	}
	bool after_dashes = *next > 1 && !strcmp(argv[*next - 1], "--");
	for (int i = *next; !rc && !after_dashes && i < argc; i++)
		if (argv[i][0] == '-' && argv[i][1])
			rc = cu_errf(err, sizeof(err), CC_EINVAL,
			             "%s: flags go before the CSV files",
			             argv[i]);
	if (rc) {
		fprintf(stderr, "cellbench plot: %s\nusage: %s\n", err, usage);
		*exit_code = 2;
		return 1;
	}
	return 0;
}

int cb_plot_main(int argc, char **argv)
{
	char *dir = NULL, *results = NULL;
	const struct cc_flag flags[] = {
	    {"dir", CC_FLAG_STRING, "bench/results",
	     "where the CSV files are read from when none are given, and "
	     "where the charts go",
	     &dir, 0, 0},
	    {"results", CC_FLAG_STRING, "bench/RESULTS.md",
	     "the report to write; its chart links are relative to it",
	     &results, 0, 0},
	    {NULL, 0, NULL, NULL, NULL, 0, 0},
	};
	int next = argc, code = 1;
	if (parse(flags, argc, argv, &next, &code)) {
		cc_flags_free(flags);
		return code;
	}
	char err[CC_ERRMSG_SIZE], **found = NULL;
	size_t nfound = 0;
	if (!*dir || !*results) {
		fprintf(stderr,
		        "cellbench plot: --%s: expected a path, got "
		        "\"\"\nusage: %s\n",
		        *dir ? "results" : "dir", usage);
		code = 2;
	} else if (next < argc) {
		code = plot(dir, results, argv + next, (size_t)(argc - next));
	} else if (list_csvs(dir, &found, &nfound, err, sizeof(err))) {
		fprintf(stderr, "cellbench plot: %s\n", err);
		code = 1;
	} else {
		code = plot(dir, results, found, nfound);
	}
	for (size_t i = 0; i < nfound; i++)
		free(found[i]);
	free(found);
	cc_flags_free(flags);
	return code;
}
