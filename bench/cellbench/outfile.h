/* outfile.h: output files that appear whole or not at all, so a failed
 * run never leaves a half-written chart or report behind. */
#ifndef CELL_BENCH_OUTFILE_H
#define CELL_BENCH_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

struct cb_out {
	FILE *f;    /* write here between open and commit */
	char *path; /* owned: the file that appears on commit */
	char *tmp;  /* owned: PATH.tmp, renamed over path on commit */
};

/* Opens PATH.tmp for writing. 0, or -1 with a message naming the file. */
int cb_out_open(struct cb_out *o, const char *path, char *errbuf,
                size_t errlen);
/* Closes the temp file and renames it over path; if any write failed, the
 * temp file is removed and path is left as it was. Releases o either way.
 * 0 or -1 with a message. */
int cb_out_commit(struct cb_out *o, char *errbuf, size_t errlen);
/* Removes the temp file and releases o; path is left as it was. */
void cb_out_abort(struct cb_out *o);

#endif
