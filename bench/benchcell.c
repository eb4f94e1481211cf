/* benchcell.c: the benchmarks' profile of localcell (see benchcell.h). */
#include "benchcell.h"

#include <stdio.h>
#include <stdlib.h>

/* Benchmarks heartbeat nothing they do not measure: no machine goes down
 * because a point ran long. */
static const char *const celld_flags[] = {"--machine-ttl", "0", NULL};

static void end_run(const struct lc_cell *c, const char *msg)
{
	if (c)
		fprintf(stderr, "bench: %s (logs kept in %s)\n", msg, c->root);
	else
		fprintf(stderr, "bench: %s\n", msg);
	exit(1);
}

static const struct lc_profile bench = {
    .folder = "bench-cell",
    .keep_env = "CELL_KEEP_BENCH_DATA",
    .keep_on_trouble = true,
    .celld = celld_flags,
    .timeout_ms = 60000,
    .origin = "bench",
    .trouble = end_run,
};

void bench_init(const char *bin_dir)
{
	lc_init(&bench);
	lc_find_bins(bin_dir);
}
