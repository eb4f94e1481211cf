/* testlib.h: helpers shared by the unit tests. */
#ifndef CELL_TESTLIB_H
#define CELL_TESTLIB_H

#include <setjmp.h> /* cmocka needs these first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cellstate.h"
#include "cellutil.h"

/* The seed for a randomized test: CELL_SEED if set, else fresh; printed to
 * stderr with how to rerun, so a failure can be reproduced. Tests draw from
 * it with cu_rand and cu_rand_below, the project's one generator. */
uint64_t tl_seed(const char *test);

/* ---- building states without JSON ---- */

/* A job spec with its own storage: tests set the fields they need. */
struct tl_job {
	struct cs_job_spec spec;
	struct cs_amount req[CS_RES_MAX];
	struct cs_label labels[4];
	char *deps[8];
};
/* ntasks tasks of cpu millicores and mem MiB each; class "batch",
 * priority 0, max_retries 0, duration 1000 ms. */
void tl_job_init(struct tl_job *j, const char *name, uint32_t ntasks,
                 uint64_t cpu, uint64_t mem);

struct tl_machine {
	struct cs_machine_spec spec;
	struct cs_amount cap[CS_RES_MAX];
	struct cs_label labels[4];
};
/* pool "default", no labels, state kept (-1). */
void tl_machine_init(struct tl_machine *m, const char *name, uint64_t cpu,
                     uint64_t mem);
void tl_machine_label(struct tl_machine *m, const char *key, const char *value);

/* Applies txn as the next entry (index = applied + 1, time = index * 1000
 * ms), frees it, asserts the invariants hold, and returns the verdicts
 * (caller clears). */
cs_result tl_apply(cs_state *s, cs_txn *txn);
/* One-op helpers for setting up: assert the op was accepted. */
void tl_put_machine(cs_state *s, const struct tl_machine *m);
void tl_put_job(cs_state *s, const struct tl_job *j);
void tl_place(cs_state *s, const char *job, uint32_t task, const char *machine);
void tl_report(cs_state *s, const char *job, uint32_t task,
               enum cs_task_state st, int32_t exit_code);
void tl_assert_ok(cs_state *s, cs_txn *txn); /* every op accepted */
void tl_assert_invariants(const cs_state *s);

/* The builders' invariant, which every decoder must keep too: a put op's
 * name field is its spec's name (the same pointer). */
void tl_assert_op_names_shared(const cs_txn *t);

const struct cs_task *tl_task(const cs_state *s, const char *job, uint32_t i);
uint64_t tl_seq(const cs_state *s, const char *machine);

#endif
