/* testlib.c: helpers shared by the unit tests (seeds, spec builders). */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t tl_seed(const char *test)
{
	const char *env = getenv("CELL_SEED");
	uint64_t seed;
	if (env && *env)
		seed = strtoull(env, NULL, 0);
	else
		seed = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20);
	fprintf(stderr, "%s: seed %llu (rerun with CELL_SEED=%llu)\n", test,
	        (unsigned long long)seed, (unsigned long long)seed);
	return seed;
}

void tl_job_init(struct tl_job *j, const char *name, uint32_t ntasks,
                 uint64_t cpu, uint64_t mem)
{
	memset(j, 0, sizeof(*j));
	j->req[0] = (struct cs_amount){"cpu", cpu};
	j->req[1] = (struct cs_amount){"memory", mem};
	j->spec.name = (char *)name;
	j->spec.class_name = "batch";
	j->spec.ntasks = ntasks;
	j->spec.request = j->req;
	j->spec.nrequest = 2;
	j->spec.labels = j->labels;
	j->spec.deps = j->deps;
	j->spec.duration_ms = 1000;
}

void tl_machine_init(struct tl_machine *m, const char *name, uint64_t cpu,
                     uint64_t mem)
{
	memset(m, 0, sizeof(*m));
	m->cap[0] = (struct cs_amount){"cpu", cpu};
	m->cap[1] = (struct cs_amount){"memory", mem};
	m->spec.name = (char *)name;
	m->spec.pool = "default";
	m->spec.capacity = m->cap;
	m->spec.ncapacity = 2;
	m->spec.labels = m->labels;
	m->spec.state = -1;
}

void tl_machine_label(struct tl_machine *m, const char *key, const char *value)
{
	m->labels[m->spec.nlabels++] =
	    (struct cs_label){(char *)key, (char *)value};
}

void tl_assert_invariants(const cs_state *s)
{
	char err[CS_ERRMSG_SIZE];
	if (cs_state_check(s, err, sizeof(err)))
		fail_msg("invariant broken: %s", err);
}

cs_result tl_apply(cs_state *s, cs_txn *txn)
{
	cs_result res;
	uint64_t index = cs_state_applied_index(s) + 1;
	cs_apply(s, txn, index, (int64_t)index * 1000, &res);
	cs_txn_free(txn);
	tl_assert_invariants(s);
	return res;
}

void tl_assert_ok(cs_state *s, cs_txn *txn)
{
	cs_result res = tl_apply(s, txn);
	for (uint32_t i = 0; i < res.nops; i++)
		if (res.ops[i].reason != CS_R_OK)
			fail_msg("op %u rejected: %s (%s)", i,
			         cs_reason_name(res.ops[i].reason),
			         res.ops[i].detail ? res.ops[i].detail : "");
	cs_result_clear(&res);
}

static cs_txn *txn1(void)
{
	return cs_txn_new(NULL, "test", CS_INCREMENTAL, CS_FINE);
}

void tl_put_machine(cs_state *s, const struct tl_machine *m)
{
	cs_txn *t = txn1();
	cs_txn_machine_put(t, &m->spec);
	tl_assert_ok(s, t);
}

void tl_put_job(cs_state *s, const struct tl_job *j)
{
	cs_txn *t = txn1();
	cs_txn_job_put(t, &j->spec);
	tl_assert_ok(s, t);
}

void tl_place(cs_state *s, const char *job, uint32_t task, const char *machine)
{
	cs_txn *t = txn1();
	cs_txn_place(t, job, task, machine, 0);
	tl_assert_ok(s, t);
}

const struct cs_task *tl_task(const cs_state *s, const char *job, uint32_t i)
{
	const struct cs_job *j = cs_job_find(s, job);
	assert_non_null(j);
	assert_true(i < j->spec.ntasks);
	return &j->tasks[i];
}

void tl_report(cs_state *s, const char *job, uint32_t task,
               enum cs_task_state st, int32_t exit_code)
{
	const struct cs_task *tk = tl_task(s, job, task);
	const struct cs_machine *m = cs_machine_at(s, tk->machine);
	assert_non_null(m);
	cs_txn *t = txn1();
	cs_txn_task_state(t, job, task, tk->attempt, m->name, st, exit_code);
	tl_assert_ok(s, t);
}

uint64_t tl_seq(const cs_state *s, const char *machine)
{
	const struct cs_machine *m = cs_machine_find(s, machine);
	assert_non_null(m);
	return m->seq;
}

void tl_assert_op_names_shared(const cs_txn *t)
{
	for (uint32_t i = 0; i < t->nops; i++) {
		const struct cs_op *op = &t->ops[i];
		if (op->kind == CS_OP_MACHINE_PUT)
			assert_ptr_equal(op->machine, op->machine_spec->name);
		if (op->kind == CS_OP_JOB_PUT)
			assert_ptr_equal(op->job, op->job_spec->name);
		if (op->kind == CS_OP_SCHED_REGISTER)
			assert_ptr_equal(op->sched, op->sched_spec->name);
	}
}
