/* internal.h: private to cellcommon; never included outside common/. */
#ifndef CELL_COMMON_INTERNAL_H
#define CELL_COMMON_INTERNAL_H

#include "cellcommon.h"

#include <stdarg.h>
#include <stddef.h>

#define CC_UNUSED(x)    ((void)(x))
#define CC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* GCC's spelling rather than C11's _Noreturn, which means the same to
 * the compilers but which cppcheck (2.10) drops from a declaration: it
 * would take every cc_die() for a call that returns. */
#define CC_NORETURN __attribute__((noreturn))

/* A programming error: prints "cellcommon: <message>" and aborts. */
CC_NORETURN void cc_die(const char *fmt, ...) CC_PRINTF(1, 2);

#endif
