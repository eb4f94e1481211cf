/* util.c: allocation that aborts, error messages and growing buffers. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CC_NORETURN void oom(size_t n)
{
	fprintf(stderr, "cellcommon: out of memory allocating %zu bytes\n", n);
	abort();
}

void *cc_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *cc_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *cc_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *cc_xstrdup(const char *s)
{
	return s ? cc_xstrndup(s, strlen(s)) : NULL;
}

char *cc_xstrndup(const char *s, size_t n)
{
	char *c = cc_xmalloc(n + 1);
	memcpy(c, s, n);
	c[n] = '\0';
	return c;
}

void cc_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("cellcommon: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

int cc_errf(char *errbuf, size_t errlen, int code, const char *fmt, ...)
{
	if (errbuf && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(errbuf, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

const char *cc_strerror(int code)
{
	switch (code) {
	case CC_OK:
		return "ok";
#define CC_ERROR_CASE(id, c, text)                                             \
	case CC_E##id:                                                         \
		return text;
		CC_ERRORS(CC_ERROR_CASE)
#undef CC_ERROR_CASE
	default:
		return "unknown error";
	}
}

static void buf_reserve(struct cc_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->p = cc_xrealloc(b->p, cap);
	b->cap = cap;
}

void cc_buf_add(struct cc_buf *b, const void *data, size_t n)
{
	buf_reserve(b, n);
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void cc_buf_adds(struct cc_buf *b, const char *s)
{
	cc_buf_add(b, s, strlen(s));
}

void cc_buf_addf(struct cc_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *cc_buf_steal(struct cc_buf *b)
{
	char *s = b->p ? b->p : cc_xstrdup("");
	*b = (struct cc_buf){0};
	return s;
}

void cc_buf_free(struct cc_buf *b)
{
	free(b->p);
	*b = (struct cc_buf){0};
}
