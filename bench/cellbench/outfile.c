/* outfile.c: see outfile.h. */
#include "outfile.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cellcommon.h"

static void release(struct cb_out *o)
{
	free(o->path);
	free(o->tmp);
	*o = (struct cb_out){0};
}

int cb_out_open(struct cb_out *o, const char *path, char *errbuf, size_t errlen)
{
	size_t len = strlen(path) + 5;
	*o = (struct cb_out){0};
	o->tmp = cu_xmalloc(len);
	snprintf(o->tmp, len, "%s.tmp", path);
	/* fopen rather than mkstemp: the file gets the umask's permissions,
	 * like any file the user writes. */
	o->f = fopen(o->tmp, "w");
	if (!o->f) {
		int rc = cu_errf(errbuf, errlen, -1, "%s: %s", o->tmp,
		                 strerror(errno));
		release(o);
		return rc;
	}
	o->path = cu_xstrdup(path);
	return 0;
}

int cb_out_commit(struct cb_out *o, char *errbuf, size_t errlen)
{
	int rc = 0;
	/* errno after a failed write is the best account of why it failed. */
	bool failed = ferror(o->f);
	int why = errno;
	if (fclose(o->f)) {
		failed = true;
		why = errno;
	}
	if (failed)
		rc = cu_errf(errbuf, errlen, -1, "%s: write failed: %s", o->tmp,
		             strerror(why));
	else if (rename(o->tmp, o->path))
		rc = cu_errf(errbuf, errlen, -1, "%s: cannot rename to %s: %s",
		             o->tmp, o->path, strerror(errno));
	if (rc)
		unlink(o->tmp);
	release(o);
	return rc;
}

void cb_out_abort(struct cb_out *o)
{
	if (o->f) {
		fclose(o->f);
		unlink(o->tmp);
	}
	release(o);
}
