/* cell_jobs.c: jobs and tasks of a test cell as a user sees them through
 * the API (see cell.h). */
#define _GNU_SOURCE
#include "cell.h"
#include "testlib.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tl_job_submit(struct lc_cell *c, const char *fmt, ...)
{
	char text[4096], url[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_error_t jerr;
	json_t *spec = json_loads(text, 0, &jerr), *out = NULL;
	if (!spec)
		fail_msg("bad job spec in the test: %s: %s", jerr.text, text);
	snprintf(url, sizeof(url), "%s/v1/jobs", lc_leader(c));
	long st = tl_http("POST", url, spec, &out);
	char *dump = out ? json_dumps(out, 0) : NULL;
	json_decref(spec);
	json_decref(out);
	if (st != 200 && st != 201)
		fail_msg("POST /v1/jobs: HTTP %ld: %s", st, dump ? dump : "");
	free(dump);
}

json_t *tl_job_get(struct lc_cell *c, const char *job)
{
	char url[160];
	json_t *out = NULL;
	snprintf(url, sizeof(url), "%s/v1/jobs/%s", lc_leader(c), job);
	if (tl_http("GET", url, NULL, &out) != 200) {
		json_decref(out);
		return NULL;
	}
	return out;
}

json_t *tl_task_get(struct lc_cell *c, const char *job, uint32_t index)
{
	json_t *j = tl_job_get(c, job);
	json_t *t =
	    json_incref(json_array_get(json_object_get(j, "tasks"), index));
	json_decref(j);
	return t;
}

struct job_wait {
	struct lc_cell *c;
	const char *job, *state;
};

static bool job_in_state(void *arg)
{
	struct job_wait *w = arg;
	json_t *j = tl_job_get(w->c, w->job);
	const char *st = json_string_value(json_object_get(j, "state"));
	bool ok = st && !strcmp(st, w->state);
	json_decref(j);
	return ok;
}

void tl_job_wait_state(struct lc_cell *c, const char *job, const char *state,
                       int timeout_ms)
{
	struct job_wait w = {c, job, state};
	if (lc_wait_until(job_in_state, &w, timeout_ms))
		return;
	json_t *j = tl_job_get(c, job);
	char *dump = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	fail_msg("job %s not %s after %d ms: %s", job, state, timeout_ms,
	         dump ? dump : "(unknown)");
}

struct task_wait {
	struct lc_cell *c;
	const char *job, *state, *machine;
	uint32_t index;
};

static bool task_in_state(void *arg)
{
	struct task_wait *w = arg;
	json_t *t = tl_task_get(w->c, w->job, w->index);
	const char *st = json_string_value(json_object_get(t, "state"));
	const char *m = json_string_value(json_object_get(t, "machine"));
	bool ok = st && !strcmp(st, w->state) &&
	          (!w->machine || (m && !strcmp(m, w->machine)));
	json_decref(t);
	return ok;
}

void tl_task_wait_state(struct lc_cell *c, const char *job, uint32_t index,
                        const char *state, const char *machine, int timeout_ms)
{
	struct task_wait w = {c, job, state, machine, index};
	if (lc_wait_until(task_in_state, &w, timeout_ms))
		return;
	json_t *t = tl_task_get(c, job, index);
	char *dump = t ? json_dumps(t, JSON_COMPACT) : NULL;
	json_decref(t);
	fail_msg("task %s/%u not %s%s%s after %d ms: %s", job, index, state,
	         machine ? " on " : "", machine ? machine : "", timeout_ms,
	         dump ? dump : "(unknown)");
}
