/* tl_store.h: what the store tests record of a store's answers (the fake's
 * and the Raft store's alike): one callback's answer, a submit's verdicts
 * or a completion's status, in the order the answers came; and a member
 * found by id in a membership list. */
#ifndef CELL_TL_STORE_H
#define CELL_TL_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "cellstore.h"

/* One submit's or completion's answer. */
struct tl_answer {
	unsigned *clock; /* NULL, or a counter every answer advances */
	unsigned calls;
	unsigned order; /* *clock after the last call (0 without a clock) */
	int status;
	bool had_res;
	uint64_t index;
	bool duplicate;
	enum cs_reason reason; /* the first op's */
	uint32_t changes;
};

/* A cst_submit_cb recording into the struct tl_answer arg. */
void tl_on_answer(void *arg, int status, const cs_result *res);
/* Records one call with its status, for the callbacks without verdicts
 * (a barrier, a membership change, a close: 0). */
void tl_answer_call(struct tl_answer *a, int status);

/* The member with id in m[0..n), or NULL. */
const struct cst_member *tl_find_member(const struct cst_member *m, unsigned n,
                                        uint64_t id);

#endif
