/* buf.c: the growing byte buffer and its little-endian and varint writers
 * (see cellutil.h). */
#include "cellutil.h"

#include <stdio.h>
#include <stdlib.h>

void cu_buf_reserve(struct cu_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->p = cu_xrealloc(b->p, cap);
	b->cap = cap;
}

void cu_buf_add(struct cu_buf *b, const void *data, size_t n)
{
	cu_buf_reserve(b, n);
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void cu_buf_adds(struct cu_buf *b, const char *s)
{
	cu_buf_add(b, s, strlen(s));
}

void cu_buf_addf(struct cu_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	cu_buf_reserve(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *cu_buf_steal(struct cu_buf *b)
{
	char *s = b->p ? b->p : cu_xstrdup("");
	*b = (struct cu_buf){0};
	return s;
}

void cu_buf_free(struct cu_buf *b)
{
	free(b->p);
	*b = (struct cu_buf){0};
}

void cu_buf_u8(struct cu_buf *b, unsigned v)
{
	uint8_t x = (uint8_t)v;
	cu_buf_add(b, &x, 1);
}

void cu_buf_u16(struct cu_buf *b, uint16_t v)
{
	uint8_t x[2];
	cu_put_u16(x, v);
	cu_buf_add(b, x, sizeof(x));
}

void cu_buf_u32(struct cu_buf *b, uint32_t v)
{
	uint8_t x[4];
	cu_put_u32(x, v);
	cu_buf_add(b, x, sizeof(x));
}

void cu_buf_u64(struct cu_buf *b, uint64_t v)
{
	uint8_t x[8];
	cu_put_u64(x, v);
	cu_buf_add(b, x, sizeof(x));
}

void cu_buf_var(struct cu_buf *b, uint64_t v)
{
	uint8_t x[10];
	size_t n = 0;
	do {
		x[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			x[n] |= 0x80;
		n++;
	} while (v);
	cu_buf_add(b, x, n);
}
