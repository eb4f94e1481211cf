/* alloc.c: memory that is there or the process aborts, and error
 * messages (see cellutil.h). */
#include "cellutil.h"

#include <stdio.h>
#include <stdlib.h>

static _Noreturn void oom(size_t n)
{
	fprintf(stderr, "cell: out of memory allocating %zu bytes\n", n);
	abort();
}

void *cu_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *cu_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *cu_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *cu_xstrdup(const char *s)
{
	return s ? cu_xstrndup(s, strlen(s)) : NULL;
}

char *cu_xstrndup(const char *s, size_t n)
{
	char *c = cu_xmalloc(n + 1);
	memcpy(c, s, n);
	c[n] = '\0';
	return c;
}

void cu_grow(void **arr, uint32_t *cap, uint32_t need, size_t size)
{
	if (need <= *cap)
		return;
	uint64_t c = *cap ? *cap : 4;
	while (c < need)
		c *= 2;
	if (c > UINT32_MAX)
		c = UINT32_MAX;
	*arr = cu_xrealloc(*arr, (size_t)c * size);
	*cap = (uint32_t)c;
}

int cu_errf(char *errbuf, size_t errlen, int code, const char *fmt, ...)
{
	if (errbuf && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}
