/* test_codec_bin.c: the binary transaction codec: every op kind survives a
 * round trip exactly (compared through the JSON encoding), and damaged
 * input (every truncation, seeded byte flips, hostile counts) is refused
 * without a crash or a leak. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *as_json(const cs_txn *t)
{
	json_t *j = cs_txn_encode(t);
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

/* One transaction with every op kind and every optional field used. */
static cs_txn *every_op(void)
{
	cs_txn *t =
	    cs_txn_new("txn-1", "batch-1", CS_ALL_OR_NOTHING, CS_COARSE);
	cs_txn_place(t, "web", 3, "m1", 42);
	cs_txn_preempt(t, "low", 0, "m1", 42, "web");
	cs_op_expect_seq(cs_txn_release(t, "low", 1, "m2"), 7);
	cs_txn_release(t, "low", 2, NULL);
	cs_txn_task_state(t, "web", 3, 2, "m1", CS_TASK_FAILED, -9);
	cs_txn_task_state(t, "web", 4, 0, "m1", CS_TASK_SUCCEEDED, 2147483647);
	struct tl_machine m;
	tl_machine_init(&m, "m9", 4000, 8192);
	tl_machine_label(&m, "rack", "");
	tl_machine_label(&m, "zone", "a");
	m.cap[2] = (struct cs_amount){"gpu", 4};
	m.spec.ncapacity = 3;
	m.spec.state = CS_MACHINE_DRAINING;
	cs_op_expect_seq(cs_txn_machine_put(t, &m.spec), 0);
	tl_machine_init(&m, "m10", 4000, 8192);
	m.spec.agent = "http://127.0.0.1:7301";
	cs_op_expect_seq(cs_txn_machine_put(t, &m.spec), 3);
	cs_txn_machine_state(t, "m1", CS_MACHINE_DOWN);
	cs_txn_machine_remove(t, "m2");
	struct tl_job j;
	tl_job_init(&j, "etl", 5, 250, 128);
	j.spec.class_name = "service";
	j.spec.priority = 1000;
	j.spec.pool = "prod";
	j.labels[0] = (struct cs_label){"zone", "b"};
	j.spec.nlabels = 1;
	j.spec.distinct = true;
	j.spec.gang = true;
	j.spec.max_retries = 7;
	j.spec.command = "/bin/echo";
	char *args[] = {"hello", "", "wörld"};
	j.spec.args = args;
	j.spec.nargs = 3;
	struct cs_label env[] = {{"A", "1"}, {"B_2", ""}};
	j.spec.env = env;
	j.spec.nenv = 2;
	j.deps[0] = "prep";
	j.spec.ndeps = 1;
	j.spec.cron = "*/5 * * * 1-5";
	cs_txn_job_put(t, &j.spec);
	cs_txn_job_kill(t, "old");
	cs_txn_job_remove(t, "older");
	struct cs_sched_spec sp = {"svc-1", "service", "service", 300};
	cs_txn_sched_register(t, &sp);
	sp = (struct cs_sched_spec){"batch-1", "batch", "batch", 0};
	cs_txn_sched_register(t, &sp);
	cs_txn_job_note(t, "etl",
	                "no machine has gpu 1 (pool prod is full) – ü");
	cs_txn_job_note(t, "etl", NULL);
	cs_txn_sched_unregister(t, "gone");
	return t;
}

static void encode(const cs_txn *t, uint8_t **buf, size_t *len)
{
	size_t cap = 0;
	*buf = NULL;
	*len = 0;
	assert_int_equal(cs_txn_encode_bin(t, buf, len, &cap), 0);
}

static void test_round_trip_every_op(void **st)
{
	(void)st;
	cs_txn *t = every_op();
	char err[CS_ERRMSG_SIZE];
	if (cs_txn_validate(t, err, sizeof(err)))
		fail_msg("the sample itself is invalid: %s", err);
	uint8_t *buf;
	size_t len;
	encode(t, &buf, &len);
	cs_txn *back = NULL;
	if (cs_txn_decode_bin(buf, len, &back, err, sizeof(err)))
		fail_msg("decode: %s", err);
	char *a = as_json(t), *b = as_json(back);
	assert_string_equal(a, b);
	tl_assert_op_names_shared(back);
	free(a);
	free(b);
	free(buf);
	cs_txn_free(back);
	cs_txn_free(t);
}

static void test_no_id_no_origin(void **st)
{
	(void)st;
	cs_txn *t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, "a", 0, "m1", 0);
	uint8_t *buf;
	size_t len;
	encode(t, &buf, &len);
	cs_txn *back;
	char err[CS_ERRMSG_SIZE];
	assert_int_equal(cs_txn_decode_bin(buf, len, &back, err, sizeof(err)),
	                 0);
	assert_null(back->id);
	assert_null(back->origin);
	assert_int_equal(back->mode, CS_INCREMENTAL);
	free(buf);
	cs_txn_free(back);
	cs_txn_free(t);
}

static void expect_refused(const uint8_t *buf, size_t len, const char *what)
{
	cs_txn *out = (cs_txn *)(uintptr_t)0x1;
	char err[CS_ERRMSG_SIZE] = "";
	if (cs_txn_decode_bin(buf, len, &out, err, sizeof(err)) != -1)
		fail_msg("%s: accepted", what);
	if (out != (cs_txn *)(uintptr_t)0x1)
		fail_msg("%s: *out changed on error", what);
	if (!err[0])
		fail_msg("%s: no message", what);
}

static void test_every_truncation_refused(void **st)
{
	(void)st;
	cs_txn *t = every_op();
	uint8_t *buf;
	size_t len;
	encode(t, &buf, &len);
	for (size_t n = 0; n < len; n++) {
		char what[48];
		snprintf(what, sizeof(what), "prefix of %zu bytes", n);
		expect_refused(buf, n, what);
	}
	free(buf);
	cs_txn_free(t);
}

static void test_specific_damage(void **st)
{
	(void)st;
	char err[CS_ERRMSG_SIZE];
	cs_txn *out;
	/* version, then mode out of range */
	const uint8_t v2[] = {2, 0, 0, 0, 0, 0};
	assert_int_equal(
	    cs_txn_decode_bin(v2, sizeof(v2), &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "version 2, expected 1"));
	const uint8_t mode[] = {1, 9, 0, 0, 0, 0};
	assert_int_equal(
	    cs_txn_decode_bin(mode, sizeof(mode), &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mode 9"));
	/* a count of 2^31 ops in a 10-byte buffer */
	const uint8_t count[] = {1, 0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x08};
	assert_int_equal(
	    cs_txn_decode_bin(count, sizeof(count), &out, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "count larger than the buffer"));
	/* an unknown op kind */
	const uint8_t kind[] = {1, 0, 0, 0, 0, 1, 99, 0};
	assert_int_equal(
	    cs_txn_decode_bin(kind, sizeof(kind), &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ops[0]: unknown op kind 99 or flags 0"));
	/* the member flag (2): only on sched_register (kind 10), never with
	 * member 0, which is written without the flag */
	const uint8_t mplace[] = {1, 0,   0, 0, 0,   1,   0, 2,
	                          2, 'a', 0, 3, 'm', '1', 5};
	assert_int_equal(
	    cs_txn_decode_bin(mplace, sizeof(mplace), &out, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "ops[0]: unknown op kind 0 or flags 0x2"));
	const uint8_t mzero[] = {1, 0,   0, 0,   0, 1,   10, 2,
	                         2, 's', 2, 'b', 2, 'p', 0};
	assert_int_equal(
	    cs_txn_decode_bin(mzero, sizeof(mzero), &out, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "ops[0]: member flag with member 0"));
	const uint8_t mok[] = {1, 0,   0, 0,   0, 1,   10, 2,
	                       2, 's', 2, 'b', 2, 'p', 7};
	assert_int_equal(
	    cs_txn_decode_bin(mok, sizeof(mok), &out, err, sizeof(err)), 0);
	assert_int_equal(out->ops[0].sched_spec->member, 7);
	cs_txn_free(out);
	/* a NUL inside the job name of a place */
	const uint8_t nul[] = {1, 0,   0, 0, 0, 1, 0,   0,
	                       3, 'a', 0, 0, 0, 3, 'm', '1'};
	assert_int_equal(
	    cs_txn_decode_bin(nul, sizeof(nul), &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "NUL byte"));
	/* valid framing, invalid content: the JSON rules apply */
	cs_txn *t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_COARSE);
	struct cs_op *op = cs_txn_place(t, "Bad_Name", 0, "m1", 0);
	op->has_seq = false;
	uint8_t *buf;
	size_t len;
	encode(t, &buf, &len);
	assert_int_equal(cs_txn_decode_bin(buf, len, &out, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "ops[0].job: expected a job name"));
	free(buf);
	cs_txn_free(t);
	/* trailing garbage */
	t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, "a", 0, "m1", 0);
	encode(t, &buf, &len);
	buf = cu_xrealloc(buf, len + 2);
	buf[len] = buf[len + 1] = 7;
	assert_int_equal(
	    cs_txn_decode_bin(buf, len + 2, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "2 bytes after the last op"));
	free(buf);
	cs_txn_free(t);
}

/* machine_put m1 {cpu 4000, memory 8192}, as version 1 wrote it before
 * machines had an agent: flags 0, then name, pool, labels, capacity, state
 * (0: keep). With `flags` 4 the agent string follows. */
#define MPUT_M1(flags)                                                         \
	1, 0, 0, 0, 0, 1, 4, flags, 3, 'm', '1', 8, 'd', 'e', 'f', 'a', 'u',   \
	    'l', 't', 0, 2, 4, 'c', 'p', 'u', 0xa0, 0x1f, 7, 'm', 'e', 'm',    \
	    'o', 'r', 'y', 0x80, 0x40, 0

/* The agent rides on flag bit 2 of machine_put: a put without one is
 * written byte for byte as before (so logs written then still decode, and
 * what older builds wrote and read is unchanged), one with it round-trips,
 * and the flag is refused where it does not belong, or without a value,
 * or with a value the JSON rules refuse. */
static void test_machine_agent(void **st)
{
	(void)st;
	char err[CS_ERRMSG_SIZE];
	cs_txn *out;
	const uint8_t old[] = {MPUT_M1(0)};
	struct tl_machine m;
	tl_machine_init(&m, "m1", 4000, 8192);
	cs_txn *t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_FINE);
	cs_txn_machine_put(t, &m.spec);
	uint8_t *buf;
	size_t len;
	encode(t, &buf, &len);
	assert_int_equal(len, sizeof(old));
	assert_memory_equal(buf, old, len);
	free(buf);
	cs_txn_free(t);
	assert_int_equal(
	    cs_txn_decode_bin(old, sizeof(old), &out, err, sizeof(err)), 0);
	assert_null(out->ops[0].machine_spec->agent);
	cs_txn_free(out);

	const uint8_t with[] = {MPUT_M1(4), 12,  'h', 't', 't', 'p', ':',
	                        '/',        '/', 'a', ':', '8', '0'};
	m.spec.agent = "http://a:80";
	t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_FINE);
	cs_txn_machine_put(t, &m.spec);
	encode(t, &buf, &len);
	assert_int_equal(len, sizeof(with));
	assert_memory_equal(buf, with, len);
	free(buf);
	cs_txn_free(t);
	assert_int_equal(
	    cs_txn_decode_bin(with, sizeof(with), &out, err, sizeof(err)), 0);
	assert_string_equal(out->ops[0].machine_spec->agent, "http://a:80");
	cs_txn_free(out);

	const uint8_t absent[] = {MPUT_M1(4), 0};
	assert_int_equal(
	    cs_txn_decode_bin(absent, sizeof(absent), &out, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "ops[0]: agent flag without an agent"));
	const uint8_t bad[] = {MPUT_M1(4), 8,   'f', 't', 'p',
	                       ':',        '/', '/', 'a'};
	assert_int_equal(
	    cs_txn_decode_bin(bad, sizeof(bad), &out, err, sizeof(err)), -1);
	assert_non_null(
	    strstr(err, "ops[0].machine.agent: expected an agent URL"));
	const uint8_t place[] = {1, 0,   0, 0, 0,   1,   0, 4,
	                         2, 'a', 0, 3, 'm', '1', 2, 'x'};
	assert_int_equal(
	    cs_txn_decode_bin(place, sizeof(place), &out, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "ops[0]: unknown op kind 0 or flags 0x4"));
}

/* Random damage never crashes or leaks; what still decodes re-encodes to
 * the same bytes (the decoder accepts only what it could have written). */
static void test_random_byte_flips(void **st)
{
	(void)st;
	uint64_t rng = tl_seed("test_random_byte_flips");
	cs_txn *t = every_op();
	uint8_t *buf;
	size_t len;
	encode(t, &buf, &len);
	uint8_t *copy = malloc(len);
	for (int round = 0; round < 5000; round++) {
		memcpy(copy, buf, len);
		for (uint32_t k = 1 + cu_rand_below(&rng, 3); k; k--)
			copy[cu_rand_below(&rng, (uint32_t)len)] ^=
			    (uint8_t)(1u << cu_rand_below(&rng, 8));
		cs_txn *out;
		char err[CS_ERRMSG_SIZE];
		if (cs_txn_decode_bin(copy, len, &out, err, sizeof(err)))
			continue;
		uint8_t *again;
		size_t n;
		encode(out, &again, &n);
		if (n != len || memcmp(again, copy, len))
			fail_msg(
			    "round %d: accepted bytes that do not re-encode "
			    "the same",
			    round);
		free(again);
		cs_txn_free(out);
	}
	free(copy);
	free(buf);
	cs_txn_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_every_op),
	    cmocka_unit_test(test_no_id_no_origin),
	    cmocka_unit_test(test_every_truncation_refused),
	    cmocka_unit_test(test_specific_damage),
	    cmocka_unit_test(test_machine_agent),
	    cmocka_unit_test(test_random_byte_flips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
