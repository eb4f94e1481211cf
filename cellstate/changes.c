/* changes.c: the change feed of a transaction (cellstate.h): recorded as the
 * ops run, handed to the result only when the transaction commits. */
#include "internal.h"

#include <string.h>

void cs_state_track_changes(cs_state *s, bool on)
{
	s->track_changes = on;
}

static struct cs_change *add(struct cs_apply *a, enum cs_change_kind kind)
{
	cu_grow((void **)&a->changes, &a->changes_cap, a->nchanges + 1,
	        sizeof(*a->changes));
	struct cs_change *c = &a->changes[a->nchanges++];
	memset(c, 0, sizeof(*c));
	c->kind = (uint8_t)kind;
	return c;
}

/* dst holds CS_NAME_MAX + 1 bytes; names are validated to fit. */
static void copy_name(char *dst, const char *src)
{
	size_t n = src ? strnlen(src, CS_NAME_MAX) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = 0;
}

void cs_note_task(struct cs_apply *a, const struct cs_task *t,
                  enum cs_task_end end, uint32_t slot)
{
	if (!a->s->track_changes)
		return;
	struct cs_change *c = add(a, CS_CHANGE_TASK);
	uint32_t on = t->machine != CS_NO_MACHINE ? t->machine : slot;
	c->state = t->state;
	c->end = (uint8_t)end;
	c->task = cs_task_index(t);
	c->attempt = t->attempt;
	c->exit_code = t->exit_code;
	copy_name(c->job, t->job->spec.name);
	if (on != CS_NO_MACHINE)
		copy_name(c->machine, a->s->machines[on].name);
}

void cs_note_job(struct cs_apply *a, const struct cs_job *job)
{
	if (!a->s->track_changes)
		return;
	struct cs_change *c = add(a, CS_CHANGE_JOB);
	c->state = (uint8_t)job->state;
	copy_name(c->job, job->spec.name);
}

void cs_note_machine(struct cs_apply *a, uint32_t slot)
{
	if (!a->s->track_changes)
		return;
	struct cs_change *c = add(a, CS_CHANGE_MACHINE);
	c->state = (uint8_t)a->s->machines[slot].state;
	copy_name(c->machine, a->s->machines[slot].name);
}

void cs_note_removed(struct cs_apply *a, enum cs_change_kind kind,
                     const char *name)
{
	if (!a->s->track_changes)
		return;
	struct cs_change *c = add(a, kind);
	copy_name(kind == CS_CHANGE_JOB_REMOVED ? c->job : c->machine, name);
}
