/* internal.h: private to cellcommon; never included outside common/. */
#ifndef CELL_COMMON_INTERNAL_H
#define CELL_COMMON_INTERNAL_H

#include "cellcommon.h"

#include <stdarg.h>
#include <stddef.h>

#define CC_UNUSED(x)    ((void)(x))
#define CC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#if defined(__GNUC__)
#define CC_NORETURN __attribute__((noreturn))
#else
#define CC_NORETURN
#endif

/* A programming error: prints "cellcommon: <message>" and aborts. */
CC_NORETURN void cc_die(const char *fmt, ...) CC_PRINTF(1, 2);

/* ---- a growing byte buffer, always NUL-terminated (util.c) ---- */
struct cc_buf {
	char *p; /* owned; NULL until the first add */
	size_t len, cap;
};
void cc_buf_add(struct cc_buf *b, const void *data, size_t n);
void cc_buf_adds(struct cc_buf *b, const char *s);
void cc_buf_addf(struct cc_buf *b, const char *fmt, ...) CC_PRINTF(2, 3);
/* Hands the string to the caller ("" when empty) and resets the buffer. */
char *cc_buf_steal(struct cc_buf *b);
void cc_buf_free(struct cc_buf *b);

#endif
