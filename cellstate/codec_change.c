/* codec_change.c: reading a watch line (cellstate.h), the inverse of
 * cs_change_format and cs_change_encode: exactly the fields a change of its
 * kind has, or a progress line; anything else is refused naming the
 * field, so a client never acts on half of a line it misread. */
#include "json_util.h"

#include <string.h>

#define EXPECT_KIND                                                            \
	"one of: task, job, machine, job_removed, machine_removed, progress"

static const char *const progress_fields[] = {"index", "kind", NULL};
static const char *const task_fields[] = {
    "index",   "kind",  "job", "task",      "attempt",
    "machine", "state", "end", "exit_code", NULL};
static const char *const job_fields[] = {"index", "kind", "job", "state", NULL};
static const char *const machine_fields[] = {"index", "kind", "machine",
                                             "state", NULL};
static const char *const job_removed_fields[] = {"index", "kind", "job", NULL};
static const char *const machine_removed_fields[] = {"index", "kind", "machine",
                                                     NULL};

static const char *const *fields_of(enum cs_change_kind k)
{
	switch (k) {
	case CS_CHANGE_TASK:
		return task_fields;
	case CS_CHANGE_JOB:
		return job_fields;
	case CS_CHANGE_MACHINE:
		return machine_fields;
	case CS_CHANGE_JOB_REMOVED:
		return job_removed_fields;
	default:
		return machine_removed_fields;
	}
}

/* A name into dst (CS_NAME_MAX + 1 bytes); absent leaves it "". */
static int name_read(struct cs_jdec *d, const json_t *j, const char *key,
                     enum cs_jneed need, const char *expect, char *dst)
{
	const char *s = NULL;
	int rc = cs_jget_str(d, j, key, need, cs_name_valid, expect, &s);
	if (rc > 0)
		strcpy(dst, s); /* a valid name fits */
	return rc < 0 ? -1 : 0;
}

/* The names a change of kind k may have for its state, from the enums'
 * own tables (a state added there is read here too). */
static size_t state_names(enum cs_change_kind k, const char **out)
{
	size_t n = 0;
	if (k == CS_CHANGE_TASK)
		for (; n < CS_TASK_STATE__COUNT; n++)
			out[n] = cs_task_state_name((enum cs_task_state)n);
	else if (k == CS_CHANGE_JOB)
		for (; n < CS_JOB_STATE__COUNT; n++)
			out[n] = cs_job_state_name((enum cs_job_state)n);
	else
		for (; n <= CS_MACHINE_DOWN; n++)
			out[n] =
			    cs_machine_state_name((enum cs_machine_state)n);
	return n;
}

static int state_read(struct cs_jdec *d, const json_t *j, struct cs_change *c)
{
	const char *names[CS_TASK_STATE__COUNT + CS_JOB_STATE__COUNT];
	size_t n = state_names((enum cs_change_kind)c->kind, names);
	int v = 0;
	if (cs_jget_enum(d, j, "state", CS_JREQ, names, n, &v) < 0)
		return -1;
	c->state = (uint8_t)v;
	return 0;
}

/* The end of the attempt and its exit code come together or not at all;
 * "none" is never written (a change without an end has no "end"). */
static int end_read(struct cs_jdec *d, const json_t *j, struct cs_change *c)
{
	bool has_end = json_object_get(j, "end") != NULL;
	bool has_code = json_object_get(j, "exit_code") != NULL;
	const char *ends[CS_END__COUNT - 1];
	int64_t code = 0;
	int v = 0;
	c->end = CS_END_NONE;
	if (has_end != has_code)
		return cs_jerr_at(d, has_end ? "exit_code" : "end",
		                  "%s (it comes with \"%s\")", CS_MISSING,
		                  has_end ? "end" : "exit_code");
	if (!has_end)
		return 0;
	for (int e = CS_END_NONE + 1; e < CS_END__COUNT; e++)
		ends[e - 1] = cs_task_end_name((enum cs_task_end)e);
	if (cs_jget_enum(d, j, "end", CS_JREQ, ends, CS_END__COUNT - 1, &v) <
	        0 ||
	    cs_jget_i64(d, j, "exit_code", CS_JREQ, INT32_MIN, INT32_MAX, NULL,
	                &code) < 0)
		return -1;
	c->end = (uint8_t)(v + 1);
	c->exit_code = (int32_t)code;
	return 0;
}

static int task_read(struct cs_jdec *d, const json_t *j, struct cs_change *c)
{
	if (name_read(d, j, "job", CS_JREQ, CS_EXPECT_JOB, c->job) < 0 ||
	    cs_jget_u32(d, j, "task", CS_JREQ, 0, UINT32_MAX, NULL, &c->task) <
	        0 ||
	    cs_jget_u32(d, j, "attempt", CS_JREQ, 0, UINT32_MAX, NULL,
	                &c->attempt) < 0 ||
	    name_read(d, j, "machine", CS_JOPT, CS_EXPECT_MACHINE, c->machine) <
	        0 ||
	    state_read(d, j, c) < 0)
		return -1;
	return end_read(d, j, c);
}

static int change_read(struct cs_jdec *d, const json_t *j, struct cs_change *c)
{
	switch ((enum cs_change_kind)c->kind) {
	case CS_CHANGE_TASK:
		return task_read(d, j, c);
	case CS_CHANGE_JOB:
		return name_read(d, j, "job", CS_JREQ, CS_EXPECT_JOB, c->job) <
		               0
		           ? -1
		           : state_read(d, j, c);
	case CS_CHANGE_MACHINE:
		return name_read(d, j, "machine", CS_JREQ, CS_EXPECT_MACHINE,
		                 c->machine) < 0
		           ? -1
		           : state_read(d, j, c);
	case CS_CHANGE_JOB_REMOVED:
		return name_read(d, j, "job", CS_JREQ, CS_EXPECT_JOB, c->job);
	default:
		return name_read(d, j, "machine", CS_JREQ, CS_EXPECT_MACHINE,
		                 c->machine);
	}
}

static int line_read(struct cs_jdec *d, const json_t *j, uint64_t *index,
                     struct cs_change *c, bool *progress)
{
	const char *kind;
	if (cs_jv_object(d, j, "a change object") < 0 ||
	    cs_jget_u64(d, j, "index", CS_JREQ, 0, CS_JSON_INT_MAX, NULL,
	                index) < 0 ||
	    cs_jget_str(d, j, "kind", CS_JREQ, NULL, EXPECT_KIND, &kind) < 0)
		return -1;
	*progress = !strcmp(kind, "progress");
	if (*progress)
		return cs_jcheck_fields(d, j, progress_fields);
	int k = cs_change_kind_parse(kind);
	if (k < 0) {
		char clip[64];
		return cs_jerr_at(d, "kind", "expected %s, got \"%s\"",
		                  EXPECT_KIND,
		                  cs_jclip(clip, sizeof(clip), kind));
	}
	c->kind = (uint8_t)k;
	if (cs_jcheck_fields(d, j, fields_of((enum cs_change_kind)k)) < 0)
		return -1;
	return change_read(d, j, c);
}

int cs_change_parse(const char *line, size_t len, uint64_t *index,
                    struct cs_change *out, bool *progress, char *errbuf,
                    size_t errlen)
{
	struct cs_jdec d;
	struct cs_change c;
	json_t *j;
	uint64_t at = 0;
	bool prog = false;
	memset(&c, 0, sizeof(c));
	if (cs_jparse(line, len, "a change line", &j, errbuf, errlen) < 0)
		return -1;
	cs_jdec_init(&d, NULL, errbuf, errlen);
	int rc = line_read(&d, j, &at, &c, &prog);
	json_decref(j);
	if (rc < 0)
		return -1;
	*index = at;
	*progress = prog;
	if (!prog)
		*out = c;
	return 0;
}
