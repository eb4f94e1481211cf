/* tl_tmpdir.h: scratch folders for tests that write files (raft data dirs). */
#ifndef CELL_TL_TMPDIR_H
#define CELL_TL_TMPDIR_H

/* A new empty folder "$TMPDIR/<prefix>-XXXXXX" (TMPDIR defaults to /tmp).
 * Returns a malloc'd path (caller frees) or NULL with errno set. */
char *tl_tmpdir_make(const char *prefix);

/* Removes path and everything under it (symlinks are not followed).
 * Returns 0, or -1 with errno from the first failure. NULL is fine. */
int tl_tmpdir_remove(const char *path);

#endif
