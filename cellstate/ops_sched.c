/* ops_sched.c: the scheduler registry. Schedulers of one class split the
 * pending jobs by hashing over this list, so every scheduler must read the
 * same list from its replica: that is why it lives in the log, while leases
 * (liveness) live in the leader's memory (DESIGN §3). */
#include "internal.h"

#include <string.h>

static void fill(struct cs_sched *d, const struct cs_sched_spec *sp)
{
	memset(d, 0, sizeof(*d));
	strncpy(d->name, sp->name, CS_NAME_MAX);
	strncpy(d->class_name, sp->class_name ? sp->class_name : "",
	        CS_NAME_MAX);
	strncpy(d->policy, sp->policy ? sp->policy : "", CS_NAME_MAX);
	d->member = sp->member;
}

enum cs_reason cs_op_sched_register(struct cs_apply *a, const struct cs_op *op)
{
	const struct cs_sched_spec *sp = op->sched_spec;
	cs_state *s = a->s;
	bool found;
	if (!sp || !sp->name)
		return cs_reject(a, CS_R_UNKNOWN_SCHEDULER,
		                 "sched_register without a spec");
	uint32_t at = cs_sched_search(s, sp->name, &found);
	struct cs_sched want;
	fill(&want, sp);
	/* Re-registering updates class, policy and member (a restarted
	 * scheduler may come back with a new standby); as the same, it is a
	 * no-op. */
	if (found && !memcmp(&s->scheds[at], &want, sizeof(want)))
		return CS_R_OK;
	cs_save_scheds(a);
	if (!found) {
		cu_grow((void **)&s->scheds, &s->scheds_cap, s->nscheds + 1,
		        sizeof(*s->scheds));
		memmove(&s->scheds[at + 1], &s->scheds[at],
		        (s->nscheds - at) * sizeof(*s->scheds));
		s->nscheds++;
	}
	s->scheds[at] = want;
	return CS_R_OK;
}

enum cs_reason cs_op_sched_unregister(struct cs_apply *a,
                                      const struct cs_op *op)
{
	cs_state *s = a->s;
	bool found;
	uint32_t at = op->sched ? cs_sched_search(s, op->sched, &found) : 0;
	if (!op->sched || !found)
		return cs_reject(a, CS_R_UNKNOWN_SCHEDULER,
		                 "scheduler %s is not registered",
		                 op->sched ? op->sched : "(none)");
	cs_save_scheds(a);
	memmove(&s->scheds[at], &s->scheds[at + 1],
	        (s->nscheds - at - 1) * sizeof(*s->scheds));
	s->nscheds--;
	return CS_R_OK;
}
