/* results.c: see results.h. */
#include "results.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellcommon.h"

#define CB_COL_NAME(name) #name,
const char *const cb_col_names[CB_NCOLS] = {CB_COLUMNS(CB_COL_NAME)};
#undef CB_COL_NAME

void cb_row_set(struct cb_row *r, enum cb_col c, const char *value)
{
	free(r->v[c]);
	r->v[c] = value ? cu_xstrdup(value) : NULL;
}

void cb_row_setf(struct cb_row *r, enum cb_col c, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	cb_row_set(r, c, buf);
}

void cb_row_setd(struct cb_row *r, enum cb_col c, double v)
{
	if (isfinite(v))
		cb_row_setf(r, c, "%.6g", v);
	else
		cb_row_set(r, c, NULL);
}

void cb_row_clear(struct cb_row *r)
{
	for (int i = 0; i < CB_NCOLS; i++) {
		free(r->v[i]);
		r->v[i] = NULL;
	}
}

static void put_field(FILE *f, const char *v)
{
	if (!v)
		return;
	if (!strpbrk(v, ",\"\r\n")) {
		fputs(v, f);
		return;
	}
	fputc('"', f);
	for (const char *p = v; *p; p++) {
		if (*p == '"')
			fputc('"', f);
		fputc(*p, f);
	}
	fputc('"', f);
}

static void put_line(FILE *f, const char *const *v)
{
	for (int i = 0; i < CB_NCOLS; i++) {
		if (i)
			fputc(',', f);
		put_field(f, v[i]);
	}
	fputc('\n', f);
}

/* ---- reading ---- */

/* Splits one record starting at *p into fields (malloc'd). Returns the
 * number of fields, or -1 for an unterminated quote. *p moves past the
 * record's newline. */
static int split_record(const char **p, char **fields, int max)
{
	const char *s = *p;
	int n = 0;
	for (;;) {
		size_t cap = 64, len = 0;
		char *v = cu_xmalloc(cap);
		bool quoted = *s == '"';
		s += quoted;
		for (;;) {
			if (quoted && *s == '"' && s[1] == '"')
				s++;
			else if (quoted && *s == '"') {
				quoted = false;
				s++;
				continue;
			} else if (!quoted && (*s == ',' || *s == '\n' ||
			                       *s == '\r' || !*s))
				break;
			else if (!*s) {
				free(v);
				goto bad;
			}
			if (len + 2 > cap)
				v = cu_xrealloc(v, cap *= 2);
			v[len++] = *s++;
		}
		v[len] = 0;
		if (n < max)
			fields[n] = v;
		else
			free(v);
		n++;
		if (*s != ',')
			break;
		s++;
	}
	if (*s == '\r')
		s++;
	if (*s == '\n')
		s++;
	*p = s;
	return n;
bad:
	for (int i = 0; i < n && i < max; i++)
		free(fields[i]);
	return -1;
}

static char *slurp(const char *path, char *errbuf, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		cu_errf(errbuf, errlen, -1, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 1 << 16, len = 0, got;
	char *buf = cu_xmalloc(cap);
	while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0)
		if ((len += got) + 1 == cap)
			buf = cu_xrealloc(buf, cap *= 2);
	fclose(f);
	buf[len] = 0;
	return buf;
}

static int check_header(const char *path, char **fields, int n, char *errbuf,
                        size_t errlen)
{
	for (int i = 0; i < CB_NCOLS; i++)
		if (i >= n || strcmp(fields[i], cb_col_names[i]))
			return cu_errf(errbuf, errlen, -1,
			               "%s:1: column %d is \"%s\", expected "
			               "\"%s\" (a CSV from another version "
			               "of cellbench?)",
			               path, i + 1, i < n ? fields[i] : "",
			               cb_col_names[i]);
	if (n != CB_NCOLS)
		return cu_errf(errbuf, errlen, -1,
		               "%s:1: %d columns, expected %d", path, n,
		               CB_NCOLS);
	return 0;
}

static void free_fields(char **fields, int n)
{
	for (int i = 0; i < n && i < CB_NCOLS; i++)
		free(fields[i]);
}

int cb_csv_read(const char *path, struct cb_row **rows, size_t *nrows,
                char *errbuf, size_t errlen)
{
	*rows = NULL;
	*nrows = 0;
	char *text = slurp(path, errbuf, errlen);
	if (!text)
		return -1;
	const char *p = text;
	char *fields[CB_NCOLS];
	int rc = 0, line = 1;
	int n = split_record(&p, fields, CB_NCOLS);
	if (n < 0 || check_header(path, fields, n, errbuf, errlen))
		rc = n < 0 ? cu_errf(errbuf, errlen, -1,
		                     "%s:1: unterminated quote", path)
		           : -1;
	if (n > 0)
		free_fields(fields, n);
	size_t cap = 0;
	while (!rc && *p) {
		line++;
		n = split_record(&p, fields, CB_NCOLS);
		if (n != CB_NCOLS) {
			if (n > 0)
				free_fields(fields, n);
			rc = cu_errf(errbuf, errlen, -1,
			             "%s:%d: %d fields, expected %d", path,
			             line, n, CB_NCOLS);
			break;
		}
		if (*nrows == cap)
			*rows = cu_xrealloc(*rows, (cap = cap ? cap * 2 : 16) *
			                               sizeof(**rows));
		struct cb_row *r = &(*rows)[(*nrows)++];
		for (int i = 0; i < CB_NCOLS; i++) {
			r->v[i] = *fields[i] ? fields[i] : NULL;
			if (!r->v[i])
				free(fields[i]);
		}
	}
	free(text);
	if (rc) {
		cb_rows_free(*rows, *nrows);
		*rows = NULL;
		*nrows = 0;
	}
	return rc;
}

void cb_rows_free(struct cb_row *rows, size_t nrows)
{
	for (size_t i = 0; i < nrows; i++)
		cb_row_clear(&rows[i]);
	free(rows);
}

/* ---- appending ---- */

/* 1: the file has our header; 0: new or empty; -1: another header. */
static int header_state(const char *path, char *errbuf, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	char first[4096];
	bool any = fgets(first, sizeof(first), f) != NULL;
	fclose(f);
	if (!any)
		return 0;
	const char *p = first;
	char *fields[CB_NCOLS];
	int n = split_record(&p, fields, CB_NCOLS);
	int rc =
	    n < 0 ? cu_errf(errbuf, errlen, -1, "%s:1: unreadable header", path)
	          : check_header(path, fields, n, errbuf, errlen);
	if (n > 0)
		free_fields(fields, n);
	return rc ? -1 : 1;
}

int cb_csv_append(const char *path, const struct cb_row *row, char *errbuf,
                  size_t errlen)
{
	int have = header_state(path, errbuf, errlen);
	if (have < 0)
		return -1;
	FILE *f = fopen(path, "ab");
	if (!f)
		return cu_errf(errbuf, errlen, -1, "%s: %s", path,
		               strerror(errno));
	if (!have)
		put_line(f, cb_col_names);
	put_line(f, (const char *const *)row->v);
	if (fclose(f))
		return cu_errf(errbuf, errlen, -1, "%s: %s", path,
		               strerror(errno));
	return 0;
}
