/* numfmt.c: see numfmt.h. */
#include "numfmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* digits ("-1234567") with a comma before every group of three */
static void group_thousands(const char *digits, char *buf, size_t len)
{
	size_t n = strlen(digits), o = 0, start = digits[0] == '-';
	for (size_t i = 0; i < n && o + 2 < len; i++) {
		if (i > start && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = 0;
}

char *cb_fmt(double v, char *buf, size_t len)
{
	if (!isfinite(v)) {
		snprintf(buf, len, "–");
		return buf;
	}
	/* Round first: %.3g of 999.7 would say "1e+03". */
	char tmp[CB_NUM_MAX];
	snprintf(tmp, sizeof(tmp), "%.2e", v);
	double r = strtod(tmp, NULL);
	if (fabs(r) < 1000) {
		snprintf(buf, len, "%.3g", r);
		return buf;
	}
	double shown = v == floor(v) && fabs(v) < 1e15 ? v : r;
	snprintf(tmp, sizeof(tmp), "%.0f", shown);
	group_thousands(tmp, buf, len);
	return buf;
}
