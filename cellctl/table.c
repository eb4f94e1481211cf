/* table.c: what cellctl prints: aligned tables (columns two spaces apart,
 * as kubectl does), "key: value" blocks, pretty JSON, and small helpers to
 * read fields of the API's answers. */
#include "cellctl.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct table {
	size_t ncols;
	char **cells; /* row-major, ncols per row; row 0 is the header */
	size_t nrows, cap;
	size_t filled; /* cells in the last row so far */
};

static char *clean(const char *s)
{
	/* a name or detail with a control character must not break the
	 * layout (or the terminal) */
	char *out = cu_xstrdup(s ? s : "-");
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return out;
}

static void grow(struct table *t)
{
	if (t->nrows < t->cap)
		return;
	t->cap = t->cap ? t->cap * 2 : 16;
	t->cells = cu_xrealloc(t->cells, t->cap * t->ncols * sizeof(char *));
}

struct table *table_new(const char *const *headers)
{
	struct table *t = cu_xcalloc(1, sizeof(*t));
	while (headers[t->ncols])
		t->ncols++;
	table_row(t);
	for (size_t i = 0; i < t->ncols; i++)
		table_cell(t, headers[i]);
	return t;
}

void table_row(struct table *t)
{
	/* a short row is padded with "" so every row has ncols cells */
	while (t->nrows && t->filled < t->ncols)
		table_cell(t, "");
	grow(t);
	memset(&t->cells[t->nrows * t->ncols], 0, t->ncols * sizeof(char *));
	t->nrows++;
	t->filled = 0;
}

void table_cell(struct table *t, const char *s)
{
	if (t->filled == t->ncols)
		return;
	t->cells[(t->nrows - 1) * t->ncols + t->filled++] = clean(s);
}

void table_cellf(struct table *t, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	table_cell(t, buf);
}

void table_print(struct table *t, FILE *out)
{
	while (t->filled < t->ncols)
		table_cell(t, "");
	size_t *w = cu_xcalloc(t->ncols, sizeof(*w));
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t k = 0; k < t->ncols; k++) {
			size_t n = strlen(t->cells[r * t->ncols + k]);
			w[k] = n > w[k] ? n : w[k];
		}
	size_t linecap = 1;
	for (size_t k = 0; k < t->ncols; k++)
		linecap += w[k] + 2;
	char *line = cu_xmalloc(linecap);
	for (size_t r = 0; r < t->nrows; r++) {
		size_t n = 0;
		for (size_t k = 0; k < t->ncols; k++)
			n += (size_t)snprintf(line + n, linecap - n, "%-*s  ",
			                      (int)w[k],
			                      t->cells[r * t->ncols + k]);
		while (n && line[n - 1] == ' ') /* no trailing blanks */
			n--;
		line[n] = 0;
		fprintf(out, "%s\n", line);
	}
	free(line);
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(w);
	free(t);
}

void kv_line(const char *key, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	char *v = clean(buf);
	printf("%-14s%s\n", key, v);
	free(v);
}

void ctl_print_json(const json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
}

const char *jstr(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

long long jint(const json_t *o, const char *key)
{
	return (long long)json_integer_value(json_object_get(o, key));
}

char *ctl_join_object(const json_t *o, const char *sep)
{
	size_t cap = 1, n = 0;
	const char *k;
	json_t *v;
	json_object_foreach ((json_t *)o, k, v) {
		cap += strlen(k) + strlen(sep) + 1 +
		       (json_is_string(v) ? json_string_length(v) : 24);
	}
	char *out = cu_xcalloc(1, cap);
	json_object_foreach ((json_t *)o, k, v) {
		char num[24] = "";
		if (!json_is_string(v))
			snprintf(num, sizeof(num), "%lld",
			         (long long)json_integer_value(v));
		n += (size_t)snprintf(
		    out + n, cap - n, "%s%s=%s", n ? sep : "", k,
		    json_is_string(v) ? json_string_value(v) : num);
	}
	return out;
}

void ctl_time(char *buf, size_t len, long long ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	if (ms <= 0 || !gmtime_r(&t, &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void ctl_print_results(const struct ctl *c, const json_t *results,
                       const char *key, const char *done)
{
	size_t i;
	json_t *e;
	if (c->json) {
		ctl_print_json(results);
		return;
	}
	json_array_foreach (results, i, e) {
		if (!json_is_true(json_object_get(e, "ok")))
			continue; /* its rejection went to stderr */
		printf("%s %s %s at index %lld%s\n", key, jstr(e, key), done,
		       jint(e, "index"),
		       json_is_true(json_object_get(e, "duplicate"))
		           ? " (a retry: it had already been done)"
		           : "");
	}
}

void ctl_print_listing(const json_t *body, const char *key, json_t **items,
                       size_t n)
{
	json_t *out = json_pack("{s:O,s:[]}", "index",
	                        json_object_get(body, "index"), key);
	json_t *truncated = json_object_get(body, "truncated");
	if (truncated)
		json_object_set(out, "truncated", truncated);
	for (size_t i = 0; i < n; i++)
		json_array_append(json_object_get(out, key), items[i]);
	ctl_print_json(out);
	json_decref(out);
}
