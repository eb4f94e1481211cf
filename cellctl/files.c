/* files.c: reading what a user wrote in a file (job and machine specs,
 * transactions): JSON syntax errors by line and column, wrong fields by
 * their path (jobs[1].resources.cpu), every message led by the file name,
 * and nothing sent when any part is wrong. */
#include "cellctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FILE_MAX ((size_t)256 << 20) /* as large as the cell accepts */

static char *slurp(FILE *f, size_t *len, bool *too_big)
{
	size_t cap = 4096, n = 0;
	char *buf = cu_xmalloc(cap);
	size_t got;
	*too_big = false;
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (n > FILE_MAX) {
			*too_big = true;
			break;
		}
		if (cap - n - 1 == 0)
			buf = cu_xrealloc(buf, cap *= 2);
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr(" \t\r\n", s[i]))
			return false;
	return true;
}

int ctl_read_json(const char *path, json_t **out)
{
	bool stdin_ = !strcmp(path, "-");
	const char *name = stdin_ ? "(stdin)" : path;
	FILE *f = stdin_ ? stdin : fopen(path, "r");
	*out = NULL;
	if (!f)
		return ctl_fail("cannot read %s: %s", path, strerror(errno));
	size_t len;
	bool too_big;
	char *buf = slurp(f, &len, &too_big);
	bool broken = ferror(f) != 0;
	if (!stdin_)
		fclose(f);
	int rc = 0;
	json_error_t e;
	if (broken)
		rc = ctl_fail("cannot read %s: input/output error", name);
	else if (too_big)
		rc = ctl_fail("%s: larger than %zu MiB", name, FILE_MAX >> 20);
	else if (blank(buf, len))
		rc = ctl_fail("%s: the file is empty: expected a JSON object",
		              name);
	else if (!(*out = json_loadb(
	               buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e)))
		rc = ctl_fail("%s: line %d, column %d: %s", name, e.line,
		              e.column, e.text);
	free(buf);
	return rc;
}

/* The path a spec's errors start with: "job", or "jobs[i]" in a list. */
static void spec_path(char *buf, size_t len, const char *one, const char *many,
                      size_t i, bool list)
{
	if (list)
		snprintf(buf, len, "%s[%zu]", many, i);
	else
		snprintf(buf, len, "%s", one);
}

/* Decodes one spec only to check it (the object itself is what is sent,
 * so the cell decodes exactly what was checked). */
static int check_spec(const char *one, const json_t *j, const char *path,
                      char *err, size_t len)
{
	if (!strcmp(one, "job")) {
		struct cs_job_spec *s = NULL;
		int rc = cs_job_spec_decode(j, path, &s, err, len);
		cs_job_spec_free(s);
		return rc;
	}
	struct cs_machine_spec *s = NULL;
	int rc = cs_machine_spec_decode(j, path, &s, err, len);
	cs_machine_spec_free(s);
	return rc;
}

/* {"jobs": [...]}: the list, or NULL when doc is one spec. -1: the
 * wrapper itself is wrong (printed). */
static int list_of(const char *path, const json_t *doc, const char *one,
                   const char *many, const json_t **list)
{
	*list = NULL;
	if (!json_is_object(doc) || !json_object_get(doc, many))
		return 0;
	const json_t *a = json_object_get(doc, many);
	if (json_object_size(doc) != 1)
		return ctl_fail("%s: (root): expected one %s object, or "
		                "{\"%s\": [...]} with nothing else",
		                path, one, many);
	if (!json_is_array(a) || !json_array_size(a))
		return ctl_fail("%s: %s: expected a non-empty array of %s "
		                "objects",
		                path, many, one);
	*list = a;
	return 0;
}

int ctl_split_specs(const char *path, const json_t *doc, const char *one,
                    const char *many, json_t **items)
{
	const json_t *list;
	char err[CS_ERRMSG_SIZE], at[64];
	const char *name = strcmp(path, "-") ? path : "(stdin)";
	*items = NULL;
	if (list_of(name, doc, one, many, &list))
		return CTL_ERR;
	size_t n = list ? json_array_size(list) : 1;
	for (size_t i = 0; i < n; i++) {
		const json_t *j = list ? json_array_get(list, i) : doc;
		spec_path(at, sizeof(at), one, many, i, list != NULL);
		if (check_spec(one, j, at, err, sizeof(err)))
			return ctl_fail("%s: %s", name, err);
	}
	if (list) {
		*items = json_copy((json_t *)list);
	} else {
		*items = json_array();
		json_array_append((json_t *)*items, (json_t *)doc);
	}
	return 0;
}
