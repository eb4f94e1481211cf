/* demo.c: cellstate-demo, a walk through the cell-state model on a small
 * cell: two schedulers racing for one machine under both conflict-detection
 * modes, a gang placed all-or-nothing, a preemption, a dependency, a retry,
 * and a transaction retried by id. Every transaction is shown as the JSON a
 * client would send, with the verdict of each op. */
#include "cellstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t entry;

static void show_txn(const cs_txn *t)
{
	json_t *j = cs_txn_encode(t);
	char *s = json_dumps(j, JSON_COMPACT);
	if (strlen(s) > 400)
		strcpy(s + 380, " ... }"); /* the first one is long */
	printf("  txn  %s\n", s);
	free(s);
	json_decref(j);
}

static void commit(cs_state *s, cs_txn *t, const char *title)
{
	cs_result r;
	printf("\n%s\n", title);
	show_txn(t);
	entry++;
	cs_apply(s, t, entry, (int64_t)entry * 1000, &r);
	printf("  -> entry %llu: %s%s, %u of %u ops accepted\n",
	       (unsigned long long)entry,
	       r.committed ? "committed" : "rejected whole",
	       r.duplicate ? " (duplicate id: first verdict, no change)" : "",
	       r.accepted, r.nops);
	for (uint32_t i = 0; i < r.nops; i++)
		printf("     op %u %-10s %-16s %s\n", i,
		       cs_op_name(t->ops[i].kind),
		       cs_reason_name(r.ops[i].reason),
		       r.ops[i].detail ? r.ops[i].detail : "");
	cs_result_clear(&r);
	cs_txn_free(t);
}

static cs_txn *txn(const char *id, const char *origin, enum cs_mode mode,
                   enum cs_detect detect)
{
	return cs_txn_new(id, origin, mode, detect);
}

static void add_machine(cs_txn *t, const char *name, uint64_t cpu,
                        const char *zone)
{
	struct cs_amount cap[2] = {{"cpu", cpu}, {"memory", 16384}};
	struct cs_label l = {"zone", (char *)zone};
	struct cs_machine_spec m = {(char *)name, "default", &l, 1,
	                            cap,          2,         -1, NULL};
	cs_txn_machine_put(t, &m);
}

static void add_job(cs_txn *t, const char *name, uint32_t n, uint64_t cpu,
                    uint32_t prio, bool gang, const char *dep)
{
	struct cs_amount req[2] = {{"cpu", cpu}, {"memory", 1024}};
	char *deps[1] = {(char *)dep};
	struct cs_job_spec j = {.name = (char *)name,
	                        .class_name = "batch",
	                        .priority = prio,
	                        .ntasks = n,
	                        .request = req,
	                        .nrequest = 2,
	                        .gang = gang,
	                        .max_retries = 1,
	                        .command = "/bin/true",
	                        .deps = deps,
	                        .ndeps = dep ? 1 : 0};
	cs_txn_job_put(t, &j);
}

static uint64_t seq(const cs_state *s, const char *m)
{
	return cs_machine_find(s, m)->seq;
}

static void show_machines(const cs_state *s)
{
	printf("\nmachines\n  %-6s %-5s %5s %14s %6s\n", "NAME", "STATE", "SEQ",
	       "CPU USED/CAP", "TASKS");
	for (uint32_t i = 0; i < cs_machine_slots(s); i++) {
		const struct cs_machine *m = cs_machine_at(s, i);
		if (m)
			printf("  %-6s %-5s %5llu %7llu/%-6llu %6u\n", m->name,
			       cs_machine_state_name(m->state),
			       (unsigned long long)m->seq,
			       (unsigned long long)m->allocated.v[CS_RES_CPU],
			       (unsigned long long)m->capacity.v[CS_RES_CPU],
			       m->ntasks);
	}
}

static void race(cs_state *s, enum cs_detect detect, const char *ja,
                 const char *jb)
{
	/* both schedulers decided on the same replica, seeing the same seq */
	uint64_t seen = seq(s, "m2");
	char title[160];
	cs_txn *a = txn(NULL, "batch-1", CS_INCREMENTAL, detect);
	cs_txn_place(a, ja, 0, "m2", seen);
	snprintf(
	    title, sizeof(title),
	    "[%s] scheduler batch-1 places %s/0 on m2, having seen seq %llu",
	    cs_detect_name(detect), ja, (unsigned long long)seen);
	commit(s, a, title);
	cs_txn *b = txn(NULL, "batch-2", CS_INCREMENTAL, detect);
	cs_txn_place(b, jb, 0, "m2", seen);
	snprintf(
	    title, sizeof(title),
	    "[%s] scheduler batch-2 places %s/0 on m2, having seen the same "
	    "seq %llu",
	    cs_detect_name(detect), jb, (unsigned long long)seen);
	commit(s, b, title);
}

int main(void)
{
	cs_state *s = cs_state_new(NULL);
	printf("Cell state demo: a pure, deterministic model of a cell and its "
	       "optimistic transactions.\n");

	cs_txn *t = txn("setup-1", "operator", CS_INCREMENTAL, CS_FINE);
	add_machine(t, "m1", 4000, "a");
	add_machine(t, "m2", 4000, "b");
	add_machine(t, "m3", 2000, "c");
	add_job(t, "etl", 2, 1000, 100, false, NULL);
	add_job(t, "report", 1, 500, 100, false, "etl");
	add_job(t, "a", 1, 1000, 100, false, NULL);
	add_job(t, "b", 1, 1000, 100, false, NULL);
	add_job(t, "c", 1, 1000, 100, false, NULL);
	add_job(t, "d", 1, 1000, 100, false, NULL);
	add_job(t, "train", 3, 1500, 200, true, NULL);
	add_job(t, "urgent", 1, 2000, 900, false, NULL);
	commit(s, t, "An operator adds three machines and submits jobs");

	race(s, CS_FINE, "a", "b");
	race(s, CS_COARSE, "c", "d");

	t = txn("train-1", "gang-1", CS_ALL_OR_NOTHING, CS_FINE);
	cs_txn_place(t, "train", 0, "m1", 0);
	cs_txn_place(t, "train", 1, "m1", 0);
	cs_txn_place(t, "train", 2, "m2", 0);
	commit(s, t,
	       "A gang scheduler places a 3-task gang all-or-nothing; "
	       "one task does not fit, so none is placed");

	t = txn(NULL, "service-1", CS_ALL_OR_NOTHING, CS_COARSE);
	cs_txn_preempt(t, "a", 0, "m2", seq(s, "m2"), "urgent");
	cs_txn_place(t, "urgent", 0, "m2", seq(s, "m2"));
	commit(s, t,
	       "A priority-900 job preempts a priority-100 task and takes "
	       "its place in the same transaction");

	t = txn("etl-place", "batch-1", CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, "etl", 0, "m1", 0);
	cs_txn_place(t, "etl", 1, "m3", 0);
	cs_txn_place(t, "report", 0, "m3", 0);
	commit(s, t, "etl is placed; report depends on etl, so it waits");

	t = txn("etl-place", "batch-1", CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, "etl", 0, "m1", 0);
	cs_txn_place(t, "etl", 1, "m3", 0);
	cs_txn_place(t, "report", 0, "m3", 0);
	commit(s, t,
	       "The same transaction id again (a client retrying after a "
	       "lost leader)");

	t = txn(NULL, "agent-m3", CS_INCREMENTAL, CS_FINE);
	cs_txn_task_state(t, "etl", 1, 0, "m3", CS_TASK_FAILED, 1);
	commit(s, t,
	       "An agent reports etl/1 failed: it has a retry left, so it "
	       "is pending again as attempt 1");

	t = txn(NULL, "agent", CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, "etl", 1, "m3", 0);
	cs_txn_task_state(t, "etl", 0, 0, "m1", CS_TASK_SUCCEEDED, 0);
	cs_txn_task_state(t, "etl", 1, 0, "m3", CS_TASK_SUCCEEDED, 0);
	cs_txn_task_state(t, "etl", 1, 1, "m3", CS_TASK_SUCCEEDED, 0);
	cs_txn_place(t, "report", 0, "m3", 0);
	commit(s, t,
	       "etl/1 runs again and both etl tasks succeed (a late "
	       "report for attempt 0 is stale); report is unblocked");

	show_machines(s);
	char err[CS_ERRMSG_SIZE];
	char *snap = cs_state_dump(s);
	printf("\ninvariants: %s\n",
	       cs_state_check(s, err, sizeof(err)) ? err : "all hold");
	printf("state hash: %016llx (any replica that applied these %llu "
	       "entries has it)\n",
	       (unsigned long long)cs_state_hash(s, 0),
	       (unsigned long long)entry);
	printf("snapshot:   %zu bytes of JSON\n", strlen(snap));
	free(snap);
	cs_state_free(s);
	return 0;
}
