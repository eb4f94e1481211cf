/* internal.h: private to cellcommon; never included outside common/. */
#ifndef CELL_COMMON_INTERNAL_H
#define CELL_COMMON_INTERNAL_H

#include "cellcommon.h"

#include <stdarg.h>
#include <stddef.h>

#define CC_UNUSED(x)    ((void)(x))
#define CC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define CC_NORETURN     _Noreturn

/* A programming error: prints "cellcommon: <message>" and aborts. */
CC_NORETURN void cc_die(const char *fmt, ...) CC_PRINTF(1, 2);

#endif
