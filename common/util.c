/* util.c: the library's error texts and its fatal programming errors. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>

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
