/* benchcell.h: the benchmarks' profile of localcell (localcell.h), whose
 * calls the benchmark programs use: celld voters with no machine liveness
 * and otherwise the binaries' own defaults, requests allowed a minute, and
 * trouble ending the program with a message, every folder kept for its
 * logs. CELL_KEEP_BENCH_DATA keeps the folders of a good run too. */
#ifndef CELL_BENCH_BENCHCELL_H
#define CELL_BENCH_BENCHCELL_H

#include "localcell.h"

/* Installs the profile and finds celld and friends in bin_dir (NULL: the
 * folder of the running program); ends the program when they are not
 * there. First thing, before any other localcell call. */
void bench_init(const char *bin_dir);

#endif
