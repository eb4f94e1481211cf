/* enums.c: names of every enum that crosses the API, and their parsers (op
 * kinds name themselves, in ops.c). */
#include "internal.h"

#include <string.h>

static const char *const reason_names[] = {
#define CS_REASON_NAME(id, name) name,
    CS_REASONS(CS_REASON_NAME)
#undef CS_REASON_NAME
};

static int parse(const char *const *names, size_t n, const char *name)
{
	if (!name)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (names[i] && !strcmp(names[i], name))
			return (int)i;
	return -1;
}

#define NAME_TABLE(fn, parsefn, type, ...)                                     \
	static const char *const fn##_names[] = {__VA_ARGS__};                 \
	const char *fn(type v)                                                 \
	{                                                                      \
		return (unsigned)v < CS_ARRAY_LEN(fn##_names) ? fn##_names[v]  \
		                                              : "invalid";     \
	}                                                                      \
	int parsefn(const char *name)                                          \
	{                                                                      \
		return parse(fn##_names, CS_ARRAY_LEN(fn##_names), name);      \
	}

const char *cs_reason_name(enum cs_reason r)
{
	return (unsigned)r < CS_REASON__COUNT ? reason_names[r] : "invalid";
}

int cs_reason_parse(const char *name)
{
	return parse(reason_names, CS_REASON__COUNT, name);
}

NAME_TABLE(cs_machine_state_name, cs_machine_state_parse, enum cs_machine_state,
           "up", "draining", "down")
NAME_TABLE(cs_task_state_name, cs_task_state_parse, enum cs_task_state,
           "pending", "assigned", "running", "succeeded", "failed", "lost",
           "preempted", "killed")
NAME_TABLE(cs_task_end_name, cs_task_end_parse, enum cs_task_end, "none",
           "succeeded", "failed", "lost", "preempted", "killed", "released")
NAME_TABLE(cs_job_state_name, cs_job_state_parse, enum cs_job_state, "blocked",
           "pending", "running", "succeeded", "failed", "killed")
NAME_TABLE(cs_job_cause_name, cs_job_cause_parse, enum cs_job_cause, "none",
           "task_failed", "dependency_failed", "killed")
NAME_TABLE(cs_mode_name, cs_mode_parse, enum cs_mode, "incremental",
           "all_or_nothing")
NAME_TABLE(cs_detect_name, cs_detect_parse, enum cs_detect, "fine", "coarse")
NAME_TABLE(cs_change_kind_name, cs_change_kind_parse, enum cs_change_kind,
           "task", "job", "machine", "job_removed", "machine_removed")
