/* ops.c: the op table, one row per op kind (each defined in its op's
 * file), through which the codecs, validation and apply reach every op. */
#include "internal.h"

#include <string.h>

/* Each defined in its op's file, op_<name>.c (op_job_end.c holds two). */
extern const struct cs_op_desc cs_op_desc_place;
extern const struct cs_op_desc cs_op_desc_preempt;
extern const struct cs_op_desc cs_op_desc_release;
extern const struct cs_op_desc cs_op_desc_task_state;
extern const struct cs_op_desc cs_op_desc_machine_put;
extern const struct cs_op_desc cs_op_desc_machine_state;
extern const struct cs_op_desc cs_op_desc_machine_remove;
extern const struct cs_op_desc cs_op_desc_job_put;
extern const struct cs_op_desc cs_op_desc_job_kill;
extern const struct cs_op_desc cs_op_desc_job_remove;
extern const struct cs_op_desc cs_op_desc_sched_register;
extern const struct cs_op_desc cs_op_desc_sched_unregister;
extern const struct cs_op_desc cs_op_desc_job_note;

/* A kind's number is its byte in the binary codec (Raft logs on disk), so
 * kinds are only ever appended, before CS_OP__COUNT. */
const struct cs_op_desc *const cs_op_table[CS_OP__COUNT] = {
    [CS_OP_PLACE] = &cs_op_desc_place,
    [CS_OP_PREEMPT] = &cs_op_desc_preempt,
    [CS_OP_RELEASE] = &cs_op_desc_release,
    [CS_OP_TASK_STATE] = &cs_op_desc_task_state,
    [CS_OP_MACHINE_PUT] = &cs_op_desc_machine_put,
    [CS_OP_MACHINE_STATE] = &cs_op_desc_machine_state,
    [CS_OP_MACHINE_REMOVE] = &cs_op_desc_machine_remove,
    [CS_OP_JOB_PUT] = &cs_op_desc_job_put,
    [CS_OP_JOB_KILL] = &cs_op_desc_job_kill,
    [CS_OP_JOB_REMOVE] = &cs_op_desc_job_remove,
    [CS_OP_SCHED_REGISTER] = &cs_op_desc_sched_register,
    [CS_OP_SCHED_UNREGISTER] = &cs_op_desc_sched_unregister,
    [CS_OP_JOB_NOTE] = &cs_op_desc_job_note,
};

const char *cs_op_name(enum cs_op_kind k)
{
	const struct cs_op_desc *d = cs_op_desc(k);
	return d ? d->name : "invalid";
}

int cs_op_parse(const char *name)
{
	for (int k = 0; name && k < CS_OP__COUNT; k++)
		if (!strcmp(cs_op_table[k]->name, name))
			return k;
	return -1;
}
