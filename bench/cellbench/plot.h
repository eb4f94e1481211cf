/* plot.h: `cellbench plot`, the charts, tables and report of the results
 * `cellbench run` appended to its CSV files. */
#ifndef CELL_BENCH_PLOT_H
#define CELL_BENCH_PLOT_H

/* cellbench plot [--dir DIR] [--results FILE] [CSV...]: charts and tables.
 * argv[0] is "plot". Returns the process exit code (0, 1 on a failure with
 * a message on stderr, 2 on bad usage). */
int cb_plot_main(int argc, char **argv);

#endif
