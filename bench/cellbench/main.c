/* main.c: the cellbench command.
 *   cellbench run EXPERIMENT [flags]   runs an experiment, appends CSV rows
 *   cellbench plot [flags] [CSV...]    charts, tables and bench/RESULTS.md
 *   cellbench list                     the experiments */
#include "cellbench.h"
#include "plot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellcommon.h"

static struct {
	uint64_t seed, voters, machines, window_ms;
	char *scales, *out, *bin_dir, *heartbeat;
	bool smoke;
} F;

static const struct cc_flag run_flags[] = {
    {"seed", CC_FLAG_UINT, "1", "workload seed: the same seed, the same jobs",
     &F.seed, 1, 0},
    {"time-scale", CC_FLAG_STRING, NULL,
     "factor(s) dividing every workload duration, comma-separated (default: "
     "the experiment's)",
     &F.scales, 0, 0},
    {"voters", CC_FLAG_UINT, "0", "celld voters (0: the experiment's default)",
     &F.voters, 0, 5},
    {"machines", CC_FLAG_UINT, "0",
     "hollow machines (0: the experiment's default)", &F.machines, 0, 8000},
    {"window", CC_FLAG_DURATION, "0",
     "arrival window in cell time (0: the experiment's default)", &F.window_ms,
     0, 0},
    {"smoke", CC_FLAG_BOOL, "false",
     "tiny sizes, seconds per point (for tests)", &F.smoke, 0, 0},
    {"out", CC_FLAG_STRING, "bench/results",
     "folder of the CSV files (EXPERIMENT.csv, appended)", &F.out, 0, 0},
    {"raft-heartbeat", CC_FLAG_STRING, "10ms",
     "celld's --heartbeat-timeout: how stale an idle replica may be",
     &F.heartbeat, 0, 0},
    {"bin-dir", CC_FLAG_STRING, NULL,
     "folder of celld, cellsched and cellagent (default: beside cellbench)",
     &F.bin_dir, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static const char usage[] =
    "usage: cellbench run EXPERIMENT [flags]   run one experiment\n"
    "       cellbench plot [flags] [CSV...]    charts, tables, RESULTS.md\n"
    "       cellbench list                     the experiments\n";

static int bad_usage(const char *msg)
{
	fprintf(stderr, "cellbench: %s\n%s", msg, usage);
	return 2;
}

/* The command line as a user would type it again. */
static char *command_line(int argc, char **argv)
{
	size_t len = 1;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) * 4 + 3;
	char *s = cu_xmalloc(len), *p = s;
	for (int i = 0; i < argc; i++) {
		bool plain =
		    argv[i][0] && !strpbrk(argv[i], " \t'\"\\$`*?;&|<>()");
		p += sprintf(p, "%s", i ? " " : "");
		if (plain) {
			p += sprintf(p, "%s", argv[i]);
			continue;
		}
		*p++ = '\'';
		for (const char *c = argv[i]; *c; c++)
			p += *c == '\'' ? sprintf(p, "'\\''")
			                : sprintf(p, "%c", *c);
		*p++ = '\'';
		*p = 0;
	}
	return s;
}

/* "100,50" into scales; false on anything but positive numbers. */
static bool parse_scales(const char *text, double *out, size_t max, size_t *n)
{
	*n = 0;
	char *copy = cu_xstrdup(text), *save = NULL;
	bool ok = true;
	for (char *t = strtok_r(copy, ",", &save); t && ok;
	     t = strtok_r(NULL, ",", &save)) {
		char *end;
		double v = strtod(t, &end);
		ok = *n < max && end != t && !*end && v > 0 && v <= 1e6;
		if (ok)
			out[(*n)++] = v;
	}
	free(copy);
	return ok && *n > 0;
}

static int cmd_run(int argc, char **argv)
{
	char err[CC_ERRMSG_SIZE];
	if (argc < 3 || argv[2][0] == '-')
		return bad_usage("run: which experiment?");
	/* argv + 2: the experiment stands where a program name would */
	int rc = cc_flags_parse(run_flags, argc - 2, argv + 2, NULL, err,
	                        sizeof(err));
	if (rc == CC_HELP) {
		char *help =
		    cc_flags_help(run_flags, "cellbench run EXPERIMENT [flags]",
		                  cb_experiments_help());
		fputs(help, stdout);
		free(help);
		cc_flags_free(run_flags);
		return 0;
	}
	if (rc)
		return bad_usage(err);
	double scales[16];
	struct cb_options o = {.seed = F.seed,
	                       .voters = (int)F.voters,
	                       .machines = (int)F.machines,
	                       .window = (double)F.window_ms / 1e3,
	                       .smoke = F.smoke,
	                       .out_dir = F.out,
	                       .bin_dir = F.bin_dir,
	                       .raft_heartbeat = F.heartbeat,
	                       .scales = scales};
	if (F.scales && !parse_scales(F.scales, scales, 16, &o.nscales)) {
		snprintf(err, sizeof(err),
		         "--time-scale: expected up to 16 positive factors "
		         "like 100 or 100,50, got \"%s\"",
		         F.scales);
		cc_flags_free(run_flags);
		return bad_usage(err);
	}
	char *command = command_line(argc, argv);
	o.command = command;
	rc = cb_experiment_run(argv[2], &o);
	free(command);
	cc_flags_free(run_flags);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc, argv);
	if (!strcmp(argv[1], "plot"))
		return cb_plot_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list")) {
		fputs(cb_experiments_help(), stdout);
		return 0;
	}
	char msg[160];
	snprintf(msg, sizeof(msg), "unknown command \"%.60s\"", argv[1]);
	return bad_usage(msg);
}
