/* policy.c: the built-in policies as assemblies of the shared stages, the
 * library's random generator, and who owns a job among the schedulers. */
#include "cellsched.h"

#include <stdio.h>
#include <string.h>

/* batch: Omega's fast batch scheduler. Two random choices and a first-fit
 * fallback decide a task in O(1) on most cells; ranking by most room spreads
 * load, so schedulers sampling the same cell seldom pick the same machine. */
static const struct sp_policy batch = {
    .name = "batch",
    .mode = CS_INCREMENTAL,
    .choices = 2,
    .rank = SP_RANK_MOST_ROOM,
    .spread = false,
    .preempt = true,
    .retry_budget = 8,
};

/* service: the careful scheduler. Every machine is scored: tightest fit
 * first (keeps large holes for large tasks), away from the failure domains
 * the job already uses. Slower per task, and service jobs are few. */
static const struct sp_policy service = {
    .name = "service",
    .mode = CS_INCREMENTAL,
    .choices = 0,
    .rank = SP_RANK_BEST_FIT,
    .spread = true,
    .preempt = true,
    .retry_budget = 16,
};

static const struct sp_policy *const policies[] = {&batch, &service};

const struct sp_policy *sp_policy_find(const char *name)
{
	for (size_t i = 0; i < CU_ARRAY_LEN(policies); i++)
		if (!strcmp(policies[i]->name, name))
			return policies[i];
	return NULL;
}

const char *sp_policy_names(void)
{
	/* built once from the table, so a new policy is listed by itself */
	static char names[256];
	if (!names[0])
		for (size_t i = 0; i < CU_ARRAY_LEN(policies); i++)
			snprintf(names + strlen(names),
			         sizeof(names) - strlen(names), "%s%s",
			         i ? ", " : "", policies[i]->name);
	return names;
}

/* FNV-1a over "scheduler\xffjob", then a finaliser so close names differ. */
static uint64_t pair_hash(const char *a, const char *b)
{
	uint64_t h = cu_fnv1a(CU_FNV_OFFSET, a);
	h = cu_fnv1a(cu_fnv1a_u64(h, 0xff), b);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

const struct cs_sched *sp_owner(const cs_state *s, const struct cs_job *job)
{
	const struct cs_sched *best = NULL;
	uint64_t best_h = 0;
	for (uint32_t i = 0; i < cs_sched_count(s); i++) {
		const struct cs_sched *sc = cs_sched_at(s, i);
		if (strcmp(sc->class_name, job->spec.class_name))
			continue;
		uint64_t h = pair_hash(sc->name, job->spec.name);
		if (!best || h > best_h) {
			best = sc;
			best_h = h;
		}
	}
	return best;
}
