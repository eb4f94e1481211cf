/* numfmt.h: numbers as cellbench's tables and charts show them. */
#ifndef CELL_BENCH_NUMFMT_H
#define CELL_BENCH_NUMFMT_H

#include <stddef.h>

/* CB_NUM_MAX bytes always hold the result. */
#define CB_NUM_MAX 48

/* v with 3 significant digits (0.0123, 2.5, 417, 16,700), except that a
 * whole number of 1,000 or more is a count and is shown exactly
 * (1,000,000). Thousands separators from 1,000 up. Not finite: "–" (not
 * measured). Writes into buf (len bytes) and returns buf. */
char *cb_fmt(double v, char *buf, size_t len);

#endif
