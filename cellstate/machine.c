/* machine.c: a machine's state changes, shared by the machine ops. A
 * machine that goes down or away loses its tasks, which go back to pending
 * while retries remain. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static int by_job_and_index(const void *x, const void *y)
{
	const struct cs_task *a = *(const struct cs_task *const *)x;
	const struct cs_task *b = *(const struct cs_task *const *)y;
	int c = strcmp(a->job->spec.name, b->job->spec.name);
	if (c)
		return c;
	return a < b ? -1 : a > b;
}

/* In (job, index) order. The list order is placement order on a replica
 * that replayed the log and load order on one restored from a snapshot; a
 * failing job kills its other tasks, so the order of ends shows in the
 * state: it must not depend on the list. */
void cs_machine_lose_tasks(struct cs_apply *a, uint32_t slot)
{
	struct cs_machine *m = cs_slot(a->s, slot);
	uint32_t n = 0;
	if (!m->ntasks)
		return;
	struct cs_task **all = cu_xmalloc(m->ntasks * sizeof(*all));
	for (struct cs_task *t = m->tasks; t; t = t->next_on_machine)
		all[n++] = t;
	qsort(all, n, sizeof(*all), by_job_and_index);
	for (uint32_t i = 0; i < n; i++)
		if (all[i]->machine == slot) /* not killed by an earlier end */
			cs_task_end(a, all[i], CS_END_LOST, all[i]->exit_code);
	free(all);
}

void cs_machine_set_state(struct cs_apply *a, uint32_t slot,
                          enum cs_machine_state st)
{
	cs_touch_machine(a, slot)->state = st;
	cs_note_machine(a, slot);
	if (st == CS_MACHINE_DOWN)
		cs_machine_lose_tasks(a, slot);
}
