/* tl_tmpdir.c: scratch folders for tests, removed recursively at the end. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "tl_tmpdir.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellutil.h"

char *tl_tmpdir_make(const char *prefix)
{
	const char *base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	size_t len = strlen(base) + strlen(prefix) + 16;
	char *path = cu_xmalloc(len);
	snprintf(path, len, "%s/%s-XXXXXX", base, prefix);
	if (!mkdtemp(path)) {
		int e = errno;
		free(path);
		errno = e;
		return NULL;
	}
	return path;
}

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) == 0 ? 0 : -1;
}

int tl_tmpdir_remove(const char *path)
{
	if (!path)
		return 0;
	/* Depth first, so a folder is empty by the time it is removed. */
	return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}
