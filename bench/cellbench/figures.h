/* figures.h: the published figures and targets cellbench's report
 * compares its measurements with, each with its source. */
#ifndef CELL_BENCH_FIGURES_H
#define CELL_BENCH_FIGURES_H

/* Nomad's C1M (HashiCorp, 2016): 1,000,000 containers on 5,000 hosts at
 * 3,750 tasks/s, five servers. */
#define CB_NOMAD_C1M_TASKS_PER_S 3750.0
/* Issue 7: the c1m point (1,000,000 tasks) running within 60 s. */
#define CB_C1M_TARGET_S 60.0
#define CB_C1M_TASKS    1000000.0
/* latency: a load is sustained while placements stay within 10% of it. */
#define CB_SUSTAINED_SHARE 0.9

#endif
