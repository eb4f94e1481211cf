/* tl_store.c: recording a store's answers (see tl_store.h). */
#include "tl_store.h"

void tl_answer_call(struct tl_answer *a, int status)
{
	a->calls++;
	if (a->clock)
		a->order = ++*a->clock;
	a->status = status;
}

void tl_on_answer(void *arg, int status, const cs_result *res)
{
	struct tl_answer *a = arg;
	tl_answer_call(a, status);
	a->had_res = res != NULL;
	if (res) {
		a->index = res->index;
		a->duplicate = res->duplicate;
		a->reason = res->nops ? res->ops[0].reason : CS_R_OK;
		a->changes = res->nchanges;
	}
}

const struct cst_member *tl_find_member(const struct cst_member *m, unsigned n,
                                        uint64_t id)
{
	for (unsigned i = 0; i < n; i++)
		if (m[i].id == id)
			return &m[i];
	return NULL;
}
