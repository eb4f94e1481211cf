/* report.c: see report.h. */
#include "report.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "cellcommon.h"
#include "derived.h"
#include "outfile.h"
#include "tables.h"

struct about {
	const char *experiment;
	const char *measures;  /* what the experiment measures */
	const char *published; /* "Published (not measured here)" */
};

static const struct about abouts[] = {
    {"omega-tjob",
     "How the service scheduler's decision time t_job affects it, with the "
     "batch workload fixed: its busyness (share of time spent deciding) "
     "against the no-conflict estimate λ × (t_job + tasks × t_task), and "
     "its conflict fraction (conflicts per committed transaction). Rows at "
     "several time scales check that compressing time leaves the result "
     "unchanged.",
     "Omega paper (Schwarzkopf et al., EuroSys 2013), Fig. 12: the service "
     "scheduler's conflict fraction rises past 1 near t_job ≈ 10 s, and "
     "its busyness rises above the no-conflict estimate λ × (t_job + tasks "
     "× t_task) as conflicts make it redo work. Compare the shape, not the "
     "numbers: the paper's workload came from Google's cluster traces."},
    {"omega-nsched",
     "How the batch workload scales out over more batch schedulers: the "
     "schedulers' busyness (median, with min and max) and the conflict "
     "fraction as their number grows.",
     "Omega paper (Schwarzkopf et al., EuroSys 2013): spreading the batch "
     "workload over 3 batch schedulers gives about 3× headroom, with a "
     "conflict fraction near 0.1."},
    {"omega-modes",
     "What the granularity of conflict detection and the commit mode cost: "
     "conflict fraction and batch busyness with fine-grained detection (a "
     "placement fails only if the machine no longer has room) or "
     "coarse-grained (it fails if the machine changed at all), and with "
     "incremental or all-or-nothing commits.",
     "Omega paper (Schwarzkopf et al., EuroSys 2013): coarse-grained "
     "detection gives 2–3× the conflict fraction of fine-grained; "
     "all-or-nothing commits about 2× the conflicts of incremental ones."},
    {"c1m",
     "Cell's take on Nomad's C1M: 1,000,000 tasks in 1,000 jobs on 5,000 "
     "hollow machines with 4 batch schedulers; how long until every task "
     "is placed, and until every task is running.",
     "Nomad's C1M (HashiCorp, 2016): 1,000,000 containers on 5,000 hosts "
     "at 3,750 tasks/s, on five servers. Nomad started real containers on "
     "real hosts; Cell's machines here are hollow, so this compares "
     "scheduling throughput, not the same work."},
    {"latency",
     "celld's commit latency as the offered load rises until the cell "
     "saturates: commit p50 and p99 (wall clock) and the placements "
     "achieved per second.",
     "none to compare with."},
};

static const struct about *about_of(const char *experiment)
{
	for (size_t i = 0; i < sizeof(abouts) / sizeof(abouts[0]); i++)
		if (!strcmp(abouts[i].experiment, experiment))
			return &abouts[i];
	return NULL;
}

/* ---- the machine ---- */

/* The value of the first "key<spaces/tabs>: value" line of a /proc file,
 * and how many lines carry that key. */
static int proc_field(const char *path, const char *key, char *val, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[512];
	int count = 0;
	size_t klen = strlen(key);
	snprintf(val, len, "unknown");
	while (f && fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) || !strchr(" \t:", line[klen]))
			continue;
		if (count++ == 0) {
			const char *v = strchr(line, ':');
			v = v ? v + 1 + strspn(v + 1, " \t") : "";
			snprintf(val, len, "%.*s", (int)strcspn(v, "\n"), v);
		}
	}
	if (f)
		fclose(f);
	return count;
}

static void machine(FILE *f)
{
	char model[256], kib[64], mem[64], dummy[8];
	int cpus =
	    proc_field("/proc/cpuinfo", "processor", dummy, sizeof(dummy));
	proc_field("/proc/cpuinfo", "model name", model, sizeof(model));
	if (proc_field("/proc/meminfo", "MemTotal", kib, sizeof(kib)))
		snprintf(mem, sizeof(mem), "%.1f GiB",
		         strtod(kib, NULL) / (1024 * 1024));
	else
		snprintf(mem, sizeof(mem), "unknown");
	struct utsname u = {0};
	if (uname(&u))
		snprintf(u.sysname, sizeof(u.sysname), "unknown");
	fprintf(f,
	        "\n## Machine\n\nThe one `cellbench plot` ran on, taken to "
	        "be the one the runs were made on.\n\n"
	        "- CPU: %s × %d\n- Memory: %s\n- Kernel: %s %s (%s)\n",
	        model, cpus, mem, u.sysname, u.release, u.machine);
}

/* ---- chart links ---- */

/* Splits a canonical absolute path into its components (in place). */
static size_t components(char *path, char **part, size_t max)
{
	size_t n = 0;
	char *save;
	for (char *t = strtok_r(path, "/", &save); t && n < max;
	     t = strtok_r(NULL, "/", &save))
		part[n++] = t;
	return n;
}

/* chart_dir as a prefix for links from the folder holding the report:
 * "results/" for bench/RESULTS.md and bench/results. */
static int link_prefix(const char *report, const char *chart_dir, char *out,
                       size_t len, char *errbuf, size_t errlen)
{
	char from[PATH_MAX], to[PATH_MAX], *a[256], *b[256];
	char *copy = cu_xstrdup(report);
	const char *rdir = dirname(copy);
	const char *bad = !realpath(rdir, from)      ? rdir
	                  : !realpath(chart_dir, to) ? chart_dir
	                                             : NULL;
	int rc =
	    bad ? cu_errf(errbuf, errlen, -1, "%s: %s", bad, strerror(errno))
	        : 0;
	free(copy);
	if (rc)
		return rc;
	size_t na = components(from, a, 256);
	size_t nb = components(to, b, 256), k = 0;
	while (k < na && k < nb && !strcmp(a[k], b[k]))
		k++;
	out[0] = 0;
	for (size_t i = k; i < na; i++)
		strncat(out, "../", len - strlen(out) - 1);
	for (size_t i = k; i < nb; i++) {
		strncat(out, b[i], len - strlen(out) - 1);
		strncat(out, "/", len - strlen(out) - 1);
	}
	return 0;
}

/* ---- sections ---- */
/* Every block starts with its blank line, so the file ends without one. */

/* The run's command, or each one when its rows carry several. */
static void commands(FILE *f, const struct cb_run *run)
{
	size_t distinct = 0;
	for (size_t i = 0; i < run->nrows; i++) {
		const char *c = run->rows[i].v[CB_command];
		distinct += c && cb_find_row(run, CB_command, c, CB_command,
		                             NULL) == &run->rows[i];
	}
	if (!distinct) {
		fputs("\nThe rows record no command.\n", f);
		return;
	}
	fputs(distinct > 1 ? "\nThe rows carry several commands:\n\n```sh\n"
	                   : "\nCommand:\n\n```sh\n",
	      f);
	for (size_t i = 0; i < run->nrows; i++) {
		const char *c = run->rows[i].v[CB_command];
		if (c && cb_find_row(run, CB_command, c, CB_command, NULL) ==
		             &run->rows[i])
			fprintf(f, "%s\n", c);
	}
	fputs("```\n", f);
}

static void published(FILE *f, const struct about *ab)
{
	if (ab)
		fprintf(f, "\n**Published (not measured here):** %s\n",
		        ab->published);
}

static void section(FILE *f, const struct cb_section *s, const char *links)
{
	const struct about *ab = about_of(s->experiment);
	fprintf(f, "\n## %s\n\n%s\n", s->experiment,
	        ab ? ab->measures
	           : "An experiment this version of `cellbench plot` does not "
	             "describe: its table shows every column its rows fill.");
	if (!s->run) {
		fprintf(f,
		        "\nStatus: not run yet. To run it:\n\n```sh\n"
		        "cellbench run %s\n```\n",
		        s->experiment);
		published(f, ab);
		return;
	}
	fprintf(f, "\nLatest run: %s%s%s (%zu point%s).\n",
	        *s->run->run ? "`" : "",
	        *s->run->run ? s->run->run : "not recorded",
	        *s->run->run ? "`" : "", s->run->nrows,
	        s->run->nrows == 1 ? "" : "s");
	commands(f, s->run);
	fputc('\n', f);
	cb_table_write(f, s->run);
	for (size_t i = 0; i < s->ncharts; i++)
		fprintf(f, "\n![%s](%s%s)\n", s->charts[i].title, links,
		        s->charts[i].file);
	if (!ab)
		return;
	fputs("\n**Derived here:**\n\n", f);
	cb_derived_write(f, s->run);
	published(f, ab);
}

int cb_report_write(const char *path, const char *chart_dir,
                    const struct cb_section *sections, size_t n, char *errbuf,
                    size_t errlen)
{
	char links[PATH_MAX] = "";
	bool any_chart = false;
	for (size_t i = 0; i < n; i++)
		any_chart |= sections[i].ncharts > 0;
	if (any_chart &&
	    link_prefix(path, chart_dir, links, sizeof(links), errbuf, errlen))
		return -1;
	struct cb_out o;
	if (cb_out_open(&o, path, errbuf, errlen))
		return -1;
	fputs("# Cell benchmark results\n\nThis file is written by "
	      "`cellbench plot` from the latest run of each experiment; do "
	      "not edit it by hand.\n",
	      o.f);
	bool any_run = false;
	for (size_t i = 0; i < n; i++)
		any_run |= sections[i].run != NULL;
	if (any_run)
		machine(o.f);
	else
		fputs("\nNo experiment has run yet.\n", o.f);
	for (size_t i = 0; i < n; i++)
		section(o.f, &sections[i], links);
	return cb_out_commit(&o, errbuf, errlen);
}
