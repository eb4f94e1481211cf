/* test_codec_change.c: cs_change_parse, the reader of watch lines: every
 * kind of change and every state and end survives format then parse (and
 * encode then parse, whatever the key order), changes made by applying
 * real transactions too; progress lines are told apart; anything else is
 * refused with a message naming the field. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* format(c) parses back to c (exit_code only counts with an end) and
 * formats to the same bytes; the JSON encoding with sorted keys too. */
static void round_trip(const struct cs_change *c, uint64_t index)
{
	char line[CS_CHANGE_TEXT_MAX], again[CS_CHANGE_TEXT_MAX];
	char err[CS_ERRMSG_SIZE] = "";
	size_t n = cs_change_format(c, index, line, sizeof(line));
	struct cs_change got;
	uint64_t at = 0;
	bool progress = true;
	memset(&got, 0x5a, sizeof(got));
	if (cs_change_parse(line, n, &at, &got, &progress, err, sizeof(err)))
		fail_msg("%s: %s", line, err);
	assert_false(progress);
	assert_int_equal(at, index);
	assert_int_equal(got.kind, c->kind);
	assert_int_equal(got.end, c->end);
	assert_string_equal(got.job, c->job);
	assert_string_equal(got.machine, c->machine);
	if (c->kind <= CS_CHANGE_MACHINE)
		assert_int_equal(got.state, c->state);
	if (c->kind == CS_CHANGE_TASK) {
		assert_int_equal(got.task, c->task);
		assert_int_equal(got.attempt, c->attempt);
	}
	if (c->end != CS_END_NONE)
		assert_int_equal(got.exit_code, c->exit_code);
	assert_int_equal(cs_change_format(&got, at, again, sizeof(again)), n);
	assert_string_equal(again, line);

	json_t *j = cs_change_encode(c, index);
	char *sorted = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	memset(&got, 0, sizeof(got));
	if (cs_change_parse(sorted, strlen(sorted), &at, &got, &progress, err,
	                    sizeof(err)))
		fail_msg("%s: %s", sorted, err);
	cs_change_format(&got, at, again, sizeof(again));
	assert_string_equal(again, line);
	free(sorted);
}

static struct cs_change task_change(const char *job, uint32_t task,
                                    uint32_t attempt, const char *machine,
                                    enum cs_task_state st, enum cs_task_end e,
                                    int32_t code)
{
	struct cs_change c = {.kind = CS_CHANGE_TASK,
	                      .state = (uint8_t)st,
	                      .end = (uint8_t)e,
	                      .task = task,
	                      .attempt = attempt,
	                      .exit_code = code};
	snprintf(c.job, sizeof(c.job), "%s", job);
	snprintf(c.machine, sizeof(c.machine), "%s", machine);
	return c;
}

static void test_every_kind_round_trips(void **state)
{
	(void)state;
	static const uint64_t indexes[] = {0, 1, 77, 1ull << 40,
	                                   9223372036854775807ull};
	for (size_t i = 0; i < sizeof(indexes) / sizeof(indexes[0]); i++) {
		uint64_t at = indexes[i];
		for (int st = 0; st < CS_TASK_STATE__COUNT; st++) {
			struct cs_change c =
			    task_change("web", 3, 1, "m1",
			                (enum cs_task_state)st, CS_END_NONE, 0);
			round_trip(&c, at);
			c.machine[0] = 0; /* pending: on no machine */
			round_trip(&c, at);
		}
		for (int e = CS_END_NONE + 1; e < CS_END__COUNT; e++) {
			struct cs_change c = task_change(
			    "b-1.x", 4294967295u, 4294967295u, "rack-9.m_0",
			    CS_TASK_PENDING, (enum cs_task_end)e,
			    e == CS_END_FAILED ? -2147483647 - 1 : 137);
			round_trip(&c, at);
		}
		for (int st = 0; st < CS_JOB_STATE__COUNT; st++) {
			struct cs_change c = {.kind = CS_CHANGE_JOB,
			                      .state = (uint8_t)st};
			strcpy(c.job, "j0");
			round_trip(&c, at);
		}
		for (int st = 0; st <= CS_MACHINE_DOWN; st++) {
			struct cs_change c = {.kind = CS_CHANGE_MACHINE,
			                      .state = (uint8_t)st};
			strcpy(c.machine, "m-2");
			round_trip(&c, at);
		}
		struct cs_change jr = {.kind = CS_CHANGE_JOB_REMOVED};
		strcpy(jr.job, "gone");
		round_trip(&jr, at);
		struct cs_change mr = {.kind = CS_CHANGE_MACHINE_REMOVED};
		memset(mr.machine, 'a', CS_NAME_MAX); /* the longest name */
		round_trip(&mr, at);
	}
}

/* What applying transactions really produces: a machine lost with tasks
 * on it, a job failed and removed. */
static void test_applied_changes_round_trip(void **state)
{
	(void)state;
	cs_state *s = cs_state_new(NULL);
	struct tl_machine m1, m2;
	struct tl_job j;
	tl_machine_init(&m1, "m1", 4000, 4000);
	tl_machine_init(&m2, "m2", 4000, 4000);
	tl_put_machine(s, &m1);
	tl_put_machine(s, &m2);
	tl_job_init(&j, "a", 2, 100, 100);
	j.spec.max_retries = 1;
	tl_put_job(s, &j);
	cs_state_track_changes(s, true);
	tl_place(s, "a", 0, "m1");
	tl_place(s, "a", 1, "m1");
	cs_txn *t = cs_txn_new("down", "t", CS_INCREMENTAL, CS_FINE);
	cs_txn_machine_state(t, "m1", CS_MACHINE_DOWN);
	cs_txn_machine_remove(t, "m2");
	cs_txn_job_kill(t, "a");
	cs_txn_job_remove(t, "a");
	cs_result r = tl_apply(s, t);
	assert_true(r.nchanges >= 5);
	for (uint32_t i = 0; i < r.nchanges; i++)
		round_trip(&r.changes[i], r.index);
	cs_result_clear(&r);
	cs_state_free(s);
}

static void test_progress_lines(void **state)
{
	(void)state;
	struct cs_change c = {.kind = CS_CHANGE_JOB};
	strcpy(c.job, "untouched");
	uint64_t at = 0;
	bool progress = false;
	char err[CS_ERRMSG_SIZE];
	const char *line = "{\"kind\":\"progress\",\"index\":42}";
	assert_int_equal(cs_change_parse(line, strlen(line), &at, &c, &progress,
	                                 err, sizeof(err)),
	                 0);
	assert_true(progress);
	assert_int_equal(at, 42);
	assert_string_equal(c.job, "untouched");
	/* what celld writes, reordered: still progress */
	line = "{\"index\":0,\"kind\":\"progress\"}";
	assert_int_equal(cs_change_parse(line, strlen(line), &at, &c, &progress,
	                                 err, sizeof(err)),
	                 0);
	assert_true(progress);
	assert_int_equal(at, 0);
}

/* line is refused with a message containing want. */
static void refused(const char *line, const char *want)
{
	struct cs_change c;
	uint64_t at = 99;
	bool progress = false;
	char err[CS_ERRMSG_SIZE] = "";
	if (!cs_change_parse(line, strlen(line), &at, &c, &progress, err,
	                     sizeof(err)))
		fail_msg("accepted: %s", line);
	if (!strstr(err, want))
		fail_msg("%s: expected \"%s\" in: %s", line, want, err);
	assert_int_equal(at, 99);
}

static void test_bad_lines_name_the_field(void **state)
{
	(void)state;
	refused("", "empty input");
	refused("{\"index\":1,", "line 1");
	refused("[1]", "expected a change object, got an array");
	refused("{\"index\":1,\"kind\":\"job\",\"job\":\"a\",\"state\":"
	        "\"running\"} x",
	        "line 1");
	refused("{\"kind\":\"job\",\"job\":\"a\",\"state\":\"running\"}",
	        "index: missing");
	refused("{\"index\":-1,\"kind\":\"progress\"}", "index: expected");
	refused("{\"index\":\"7\",\"kind\":\"progress\"}", "index: expected");
	refused("{\"index\":1}", "kind: missing");
	refused("{\"index\":1,\"kind\":\"jobs\",\"job\":\"a\"}",
	        "kind: expected one of: task, job");
	refused("{\"index\":1,\"kind\":\"progress\",\"job\":\"a\"}",
	        "job: unknown field");
	refused("{\"index\":1,\"kind\":\"job\",\"job\":\"a\",\"state\":"
	        "\"running\",\"colour\":\"red\"}",
	        "colour: unknown field");
	refused("{\"index\":1,\"kind\":\"job\",\"job\":\"a\",\"task\":0,"
	        "\"state\":\"running\"}",
	        "task: unknown field");
	refused("{\"index\":1,\"kind\":\"job\",\"state\":\"running\"}",
	        "job: missing");
	refused("{\"index\":1,\"kind\":\"job\",\"job\":\"a\",\"state\":\"up\"}",
	        "state: expected one of: blocked");
	refused("{\"index\":1,\"kind\":\"machine\",\"machine\":\"m\","
	        "\"state\":\"running\"}",
	        "state: expected one of: up, draining, down");
	refused("{\"index\":1,\"kind\":\"machine\",\"machine\":\"M!\","
	        "\"state\":\"up\"}",
	        "machine: expected a machine name");
	refused("{\"index\":1,\"kind\":\"task\",\"job\":\"a\",\"attempt\":0,"
	        "\"state\":\"pending\"}",
	        "task: missing");
	refused("{\"index\":1,\"kind\":\"task\",\"job\":\"a\",\"task\":-1,"
	        "\"attempt\":0,\"state\":\"pending\"}",
	        "task: expected");
	refused("{\"index\":1,\"kind\":\"task\",\"job\":\"a\",\"task\":0,"
	        "\"attempt\":0,\"state\":\"pending\",\"end\":\"lost\"}",
	        "exit_code: missing: required (it comes with \"end\")");
	refused("{\"index\":1,\"kind\":\"task\",\"job\":\"a\",\"task\":0,"
	        "\"attempt\":0,\"state\":\"pending\",\"exit_code\":1}",
	        "end: missing: required (it comes with \"exit_code\")");
	refused("{\"index\":1,\"kind\":\"task\",\"job\":\"a\",\"task\":0,"
	        "\"attempt\":0,\"state\":\"pending\",\"end\":\"none\","
	        "\"exit_code\":0}",
	        "end: expected one of: succeeded");
	refused("{\"index\":1,\"kind\":\"task\",\"job\":\"a\",\"task\":0,"
	        "\"attempt\":0,\"state\":\"failed\",\"end\":\"failed\","
	        "\"exit_code\":2147483648}",
	        "exit_code: expected");
	refused("{\"index\":1,\"kind\":\"task\",\"job\":\"a\",\"task\":0,"
	        "\"attempt\":0,\"machine\":\"\",\"state\":\"pending\"}",
	        "machine: expected a machine name");
	refused("{\"index\":1,\"kind\":\"job_removed\",\"job\":\"a\","
	        "\"state\":\"killed\"}",
	        "state: unknown field");
	refused("{\"index\":1,\"kind\":\"machine_removed\"}",
	        "machine: missing");
	refused("{\"index\":1,\"index\":2,\"kind\":\"progress\"}", "duplicate");
	char longname[160];
	snprintf(longname, sizeof(longname),
	         "{\"index\":1,\"kind\":\"job_removed\",\"job\":\"%064d\"}", 0);
	refused(longname, "job: expected a job name");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_kind_round_trips),
	    cmocka_unit_test(test_applied_changes_round_trip),
	    cmocka_unit_test(test_progress_lines),
	    cmocka_unit_test(test_bad_lines_name_the_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
