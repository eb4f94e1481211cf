/* test_snapshot.c: whole-state snapshots: a restored state is the state
 * (same hash, same canonical text, same future verdicts), and a snapshot that
 * is malformed or breaks an invariant is refused with its path named. */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

/* m1 (with an agent URL) holds a/0 running; b waits for a; one remembered
 * id; a scheduler; a note on a (its task 1 is pending again). */
static cs_state *sample(void)
{
	cs_state *s = cs_state_new(NULL);
	struct tl_machine m;
	tl_machine_init(&m, "m1", 4000, 8192);
	tl_machine_label(&m, "zone", "a");
	m.cap[2] = (struct cs_amount){"gpu", 2};
	m.spec.ncapacity = 3;
	m.spec.agent = "http://127.0.0.1:7301";
	tl_put_machine(s, &m);
	tl_machine_init(&m, "m2", 4000, 8192);
	tl_put_machine(s, &m);
	struct tl_job j;
	tl_job_init(&j, "a", 2, 1000, 512);
	j.spec.max_retries = 2;
	tl_put_job(s, &j);
	tl_job_init(&j, "b", 1, 100, 100);
	j.deps[0] = "a";
	j.spec.ndeps = 1;
	tl_put_job(s, &j);
	tl_place(s, "a", 0, "m1");
	tl_report(s, "a", 0, CS_TASK_RUNNING, 0);
	tl_place(s, "a", 1, "m2");
	tl_report(s, "a", 1, CS_TASK_FAILED, 7); /* pending, attempt 1 */
	cs_txn *t = cs_txn_new("sched-1-1", "sched-1", CS_INCREMENTAL, CS_FINE);
	struct cs_sched_spec sp = {"sched-1", "batch", "batch", 17};
	cs_txn_sched_register(t, &sp);
	cs_txn_job_note(t, "a", "task 1: no machine has cpu 1000 free");
	tl_assert_ok(s, t);
	return s;
}

static void test_round_trip(void **st)
{
	(void)st;
	cs_state *s = sample();
	char *text = cs_state_dump(s);
	char err[CS_ERRMSG_SIZE];
	cs_state *r;
	if (cs_state_load(text, strlen(text), &r, err, sizeof(err)))
		fail_msg("load: %s", err);
	assert_int_equal(cs_state_hash(r, 0), cs_state_hash(s, 0));
	char *again = cs_state_dump(r);
	assert_string_equal(again, text);
	assert_string_equal(cs_job_find(r, "a")->note,
	                    "task 1: no machine has cpu 1000 free");
	assert_null(cs_job_find(r, "b")->note);
	assert_string_equal(cs_machine_find(r, "m1")->agent,
	                    "http://127.0.0.1:7301");
	assert_null(cs_machine_find(r, "m2")->agent);
	assert_non_null(strstr(text, "\"agent\":\"http://127.0.0.1:7301\""));
	/* the restored replica answers the next entries as the original */
	for (int i = 0; i < 2; i++) {
		cs_state *x = i ? r : s;
		tl_report(x, "a", 0, CS_TASK_SUCCEEDED, 0);
		assert_int_equal(cs_job_find(x, "b")->state, CS_JOB_BLOCKED);
		tl_place(x, "a", 1, "m2");
		tl_report(x, "a", 1, CS_TASK_SUCCEEDED, 0);
		assert_int_equal(cs_job_find(x, "b")->state, CS_JOB_PENDING);
		cs_txn *t =
		    cs_txn_new("sched-1-1", "sched-1", CS_INCREMENTAL, CS_FINE);
		cs_txn_sched_unregister(t, "sched-1");
		cs_result res = tl_apply(x, t);
		assert_true(res.duplicate); /* the id survived the snapshot */
		cs_result_clear(&res);
	}
	assert_int_equal(cs_state_hash(r, 0), cs_state_hash(s, 0));
	free(again);
	free(text);
	cs_state_free(r);
	cs_state_free(s);
}

/* Whatever order a machine keeps its tasks in (placement order live, load
 * order after a restore), losing the machine must end the same way: here
 * the first task to be lost fails the job and kills the other. */
static void test_restored_replica_agrees_on_cascades(void **st)
{
	(void)st;
	cs_state *s = cs_state_new(NULL);
	cs_state_track_changes(s, true);
	struct tl_machine m;
	tl_machine_init(&m, "m1", 4000, 8192);
	tl_put_machine(s, &m);
	struct tl_job j;
	tl_job_init(&j, "a", 2, 100, 100); /* no retries */
	tl_put_job(s, &j);
	tl_job_init(&j, "b", 1, 100, 100);
	j.deps[0] = "a";
	j.spec.ndeps = 1;
	tl_put_job(s, &j);
	tl_job_init(&j, "c", 1, 100, 100);
	j.deps[0] = "a";
	j.spec.ndeps = 1;
	tl_put_job(s, &j);
	tl_place(s, "a", 1, "m1");
	tl_place(s, "a", 0, "m1");
	char *text = cs_state_dump(s);
	char err[CS_ERRMSG_SIZE];
	cs_state *r;
	if (cs_state_load(text, strlen(text), &r, err, sizeof(err)))
		fail_msg("load: %s", err);
	cs_state_track_changes(r, true);
	char *feeds[2];
	for (int i = 0; i < 2; i++) {
		cs_state *x = i ? r : s;
		cs_txn *t = cs_txn_new(NULL, "t", CS_INCREMENTAL, CS_FINE);
		cs_txn_machine_state(t, "m1", CS_MACHINE_DOWN);
		cs_result res = tl_apply(x, t);
		json_t *all = json_array();
		for (uint32_t k = 0; k < res.nchanges; k++)
			json_array_append_new(
			    all, cs_change_encode(&res.changes[k], 0));
		feeds[i] = json_dumps(all, JSON_COMPACT);
		json_decref(all);
		cs_result_clear(&res);
	}
	assert_int_equal(cs_state_hash(r, 0), cs_state_hash(s, 0));
	assert_string_equal(feeds[0], feeds[1]); /* watchers see one story */
	free(feeds[0]);
	free(feeds[1]);
	free(text);
	cs_state_free(r);
	cs_state_free(s);
}

/* ---- malformed snapshots ----
 * Each case edits a valid snapshot and names the error it must produce. */

static json_t *at(json_t *root, const char *list, size_t i)
{
	return json_array_get(json_object_get(root, list), i);
}

static json_t *task0(json_t *root)
{
	return json_array_get(json_object_get(at(root, "jobs", 0), "tasks"), 0);
}

static void bad_format(json_t *r)
{
	json_object_set_new(r, "format", json_string("cell-state/9"));
}
static void unknown_field(json_t *r)
{
	json_object_set_new(r, "colour", json_string("blue"));
}
static void not_object(json_t *r)
{
	json_object_set_new(r, "machines", json_string("m1"));
}
static void first_resource(json_t *r)
{
	json_array_set_new(json_object_get(r, "resources"), 0,
	                   json_string("mem"));
}
static void twice_resource(json_t *r)
{
	json_array_append_new(json_object_get(r, "resources"),
	                      json_string("gpu"));
}
static void dup_machine(json_t *r)
{
	json_object_set_new(at(r, "machines", 1), "name", json_string("m1"));
}
static void capacity_type(json_t *r)
{
	json_object_set_new(json_object_get(at(r, "machines", 0), "capacity"),
	                    "cpu", json_string("4000"));
}
static void capacity_unknown_res(json_t *r)
{
	json_object_set_new(json_object_get(at(r, "machines", 1), "capacity"),
	                    "fpga", json_integer(1));
}
static void over_capacity(json_t *r)
{
	json_object_set_new(json_object_get(at(r, "machines", 0), "capacity"),
	                    "cpu", json_integer(10));
}
static void machine_state_bad(json_t *r)
{
	json_object_set_new(at(r, "machines", 0), "state",
	                    json_string("sideways"));
}
static void seq_negative(json_t *r)
{
	json_object_set_new(at(r, "machines", 0), "seq", json_integer(-1));
}
static void seq_ahead(json_t *r)
{
	json_object_set_new(at(r, "machines", 0), "seq", json_integer(999999));
}
static void task_unknown_machine(json_t *r)
{
	json_object_set_new(task0(r), "machine", json_string("m7"));
}
static void task_no_machine(json_t *r)
{
	json_object_del(task0(r), "machine");
}
static void task_index_range(json_t *r)
{
	json_object_set_new(task0(r), "index", json_integer(2));
}
static void task_twice(json_t *r)
{
	json_t *tasks = json_object_get(at(r, "jobs", 0), "tasks");
	json_array_set(tasks, 1, json_array_get(tasks, 0));
}
static void task_preempted(json_t *r)
{
	json_object_set_new(task0(r), "state", json_string("preempted"));
}
static void task_on_down_machine(json_t *r)
{
	json_object_set_new(at(r, "machines", 0), "state", json_string("down"));
}
static void job_spec_bad(json_t *r)
{
	json_object_set_new(json_object_get(at(r, "jobs", 0), "spec"), "tasks",
	                    json_integer(0));
}
static void job_state_wrong(json_t *r)
{
	json_object_set_new(at(r, "jobs", 0), "state",
	                    json_string("succeeded"));
}
static void waiting_unknown(json_t *r)
{
	json_object_set_new(at(r, "jobs", 1), "waiting_on",
	                    json_pack("[s]", "zz"));
}
static void blocked_not_waiting(json_t *r)
{
	json_object_del(at(r, "jobs", 1), "waiting_on");
}
static void dedup_reason(json_t *r)
{
	json_array_set_new(json_object_get(at(r, "dedup", 0), "reasons"), 0,
	                   json_string("maybe"));
}
static void sched_unsorted(json_t *r)
{
	json_array_append_new(json_object_get(r, "schedulers"),
	                      json_pack("{s:s,s:s,s:s}", "name", "a-first",
	                                "class", "batch", "policy", "batch"));
}
static void note_control(json_t *r)
{
	json_object_set_new(at(r, "jobs", 0), "note", json_string("a\tb"));
}
static void sched_member_negative(json_t *r)
{
	json_object_set_new(at(r, "schedulers", 0), "member", json_integer(-1));
}
static void agent_bad(json_t *r)
{
	json_object_set_new(at(r, "machines", 0), "agent",
	                    json_string("127.0.0.1:7301"));
}
static void agent_null(json_t *r)
{
	json_object_set_new(at(r, "machines", 1), "agent", json_null());
}
static void config_missing(json_t *r)
{
	json_object_del(r, "config");
}

struct bad {
	void (*edit)(json_t *root);
	const char *error; /* a substring the message must contain */
};

static const struct bad bads[] = {
    {bad_format, "format: expected \"cell-state/1\""},
    {unknown_field, "colour: unknown field"},
    {not_object, "machines: expected an array"},
    {first_resource, "resources[0]: expected \"cpu\""},
    {twice_resource, "resources[4]: expected a resource not named before"},
    {dup_machine, "machines[1].name: expected a name not used before"},
    {capacity_type, "machines[0].capacity.cpu: expected"},
    {capacity_unknown_res, "fpga: expected a name listed in resources"},
    {over_capacity, "inconsistent snapshot: machine m1: cpu allocated 1000 "
                    "over capacity 10"},
    {machine_state_bad,
     "machines[0].state: expected one of: up, draining, down"},
    {seq_negative, "machines[0].seq: expected"},
    {seq_ahead, "inconsistent snapshot: machine m1: seq 999999 ahead of the "
                "clock"},
    {task_unknown_machine, "jobs[0].tasks[0].machine: expected a machine "
                           "listed in machines"},
    {task_no_machine, "jobs[0].tasks[0].machine: expected a machine listed"},
    {task_index_range, "jobs[0].tasks[0].index: expected"},
    {task_twice, "jobs[0].tasks[1].index: expected each task once"},
    {task_preempted, "jobs[0].tasks[0].state: expected one of"},
    {task_on_down_machine, "inconsistent snapshot"},
    {job_spec_bad, "jobs[0].spec.tasks"},
    {job_state_wrong, "inconsistent snapshot: job a: state succeeded, its "
                      "tasks say running"},
    {waiting_unknown, "jobs[1].waiting_on: expected jobs listed in jobs"},
    {blocked_not_waiting, "inconsistent snapshot: job b: blocked with 0 "
                          "dependencies waiting"},
    {dedup_reason, "dedup[0].reasons: [0]: expected a reason name"},
    {sched_unsorted, "schedulers[1].name: expected schedulers sorted by name"},
    {note_control, "jobs[0].note: expected a note: at most 512 bytes of "
                   "UTF-8 text without control characters, got \"a?b\""},
    {sched_member_negative, "schedulers[0].member: expected a Raft member "
                            "id: an integer 0..9223372036854775807 (0: none), "
                            "got -1"},
    {agent_bad, "machines[0].agent: expected an agent URL: http:// or "
                "https:// then a host, at most 127 bytes of printable ASCII "
                "without spaces, got \"127.0.0.1:7301\""},
    {agent_null, "machines[1].agent: expected an agent URL"},
    {config_missing, "config: missing"},
};

static void test_malformed_snapshots(void **st)
{
	(void)st;
	cs_state *s = sample();
	json_t *good = cs_state_encode(s);
	char err[CS_ERRMSG_SIZE];
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		json_t *j = json_deep_copy(good);
		bads[i].edit(j);
		cs_state *out = NULL;
		err[0] = 0;
		int rc = cs_state_decode(j, &out, err, sizeof(err));
		json_decref(j);
		if (rc != -1 || out)
			fail_msg("case %zu was accepted (want \"%s\")", i,
			         bads[i].error);
		if (!strstr(err, bads[i].error))
			fail_msg("case %zu: got \"%s\", want \"%s\"", i, err,
			         bads[i].error);
	}
	json_decref(good);
	cs_state_free(s);
}

/* Snapshots written before schedulers named their standby still load. */
static void test_scheduler_without_member(void **st)
{
	(void)st;
	cs_state *s = sample();
	json_t *j = cs_state_encode(s);
	json_t *sched = at(j, "schedulers", 0);
	assert_int_equal(json_integer_value(json_object_get(sched, "member")),
	                 17);
	json_object_del(sched, "member");
	cs_state *r = NULL;
	char err[CS_ERRMSG_SIZE];
	if (cs_state_decode(j, &r, err, sizeof(err)))
		fail_msg("decode: %s", err);
	assert_int_equal(cs_sched_at(r, 0)->member, 0);
	json_decref(j);
	cs_state_free(r);
	cs_state_free(s);
}

/* Written by the build before machines had an agent URL (two machines, one
 * transaction), with the hashes it computed. It loads, writes itself back
 * the same, and hashes the same: a state with no agent anywhere is what it
 * was, so replicas of either build agree on it. */
static const char old_snapshot[] =
    "{\"format\":\"cell-state/1\",\"applied_index\":1,\"seq_clock\":2,"
    "\"config\":{\"dedup_max\":262144,\"dedup_ttl_ms\":600000},"
    "\"resources\":[\"cpu\",\"memory\",\"disk\"],\"machines\":["
    "{\"name\":\"m1\",\"pool\":\"default\",\"labels\":{\"zone\":\"a\"},"
    "\"state\":\"up\",\"seq\":1,\"capacity\":{\"cpu\":4000,\"memory\":8192,"
    "\"disk\":0},\"allocated\":{\"cpu\":0,\"memory\":0,\"disk\":0},"
    "\"tasks\":0},{\"name\":\"m2\",\"pool\":\"default\",\"labels\":{},"
    "\"state\":\"up\",\"seq\":2,\"capacity\":{\"cpu\":4000,\"memory\":8192,"
    "\"disk\":0},\"allocated\":{\"cpu\":0,\"memory\":0,\"disk\":0},"
    "\"tasks\":0}],\"jobs\":[],\"schedulers\":[],\"dedup\":[{\"id\":"
    "\"t-1\",\"index\":1,\"ms\":1000,\"committed\":true,\"reasons\":"
    "[\"ok\",\"ok\"]}]}";

static void test_snapshot_without_agents(void **st)
{
	(void)st;
	cs_state *r = NULL;
	char err[CS_ERRMSG_SIZE];
	if (cs_state_load(old_snapshot, strlen(old_snapshot), &r, err,
	                  sizeof(err)))
		fail_msg("load: %s", err);
	assert_null(cs_machine_find(r, "m1")->agent);
	assert_null(cs_machine_find(r, "m2")->agent);
	assert_int_equal(cs_state_hash(r, 0), 0x4c54542b1673ad41ull);
	assert_int_equal(cs_state_hash(r, CS_HASH_CONTENT),
	                 0xe0164bca4d4794f1ull);
	char *again = cs_state_dump(r);
	assert_string_equal(again, old_snapshot);
	free(again);
	/* giving m1 an agent changes the hash */
	uint64_t content = cs_state_hash(r, CS_HASH_CONTENT);
	struct tl_machine m;
	tl_machine_init(&m, "m1", 4000, 8192);
	tl_machine_label(&m, "zone", "a");
	m.spec.agent = "http://127.0.0.1:7301";
	tl_put_machine(r, &m);
	assert_int_not_equal(cs_state_hash(r, CS_HASH_CONTENT), content);
	cs_state_free(r);
}

static void test_load_text_errors(void **st)
{
	(void)st;
	char err[CS_ERRMSG_SIZE];
	cs_state *out = NULL;
	assert_int_equal(cs_state_load("", 0, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "got empty input"));
	assert_int_equal(
	    cs_state_load("{\"format\":", 10, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "line 1"));
	assert_int_equal(cs_state_load("[1]", 3, &out, err, sizeof(err)), -1);
	assert_non_null(
	    strstr(err, "(root): expected a state snapshot object"));
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_restored_replica_agrees_on_cascades),
	    cmocka_unit_test(test_malformed_snapshots),
	    cmocka_unit_test(test_scheduler_without_member),
	    cmocka_unit_test(test_snapshot_without_agents),
	    cmocka_unit_test(test_load_text_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
