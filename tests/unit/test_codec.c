/* test_codec.c: the JSON codecs of transactions, specs and results: round
 * trips of everything a client can send, and a table of malformed inputs
 * with the exact "path: expected ..." a user must read for each. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DUMP_FLAGS (JSON_SORT_KEYS | JSON_COMPACT)

/* ---- helpers ---- */

/* Test inputs are written with ' for " so they stay readable. */
static char *sq(const char *s)
{
	char *c = strdup(s);
	assert_non_null(c);
	for (char *p = c; *p; p++)
		if (*p == '\'')
			*p = '"';
	return c;
}

static char *dump(json_t *j)
{
	assert_non_null(j);
	char *s = json_dumps(j, DUMP_FLAGS);
	assert_non_null(s);
	json_decref(j);
	return s;
}

static void assert_printable(const char *msg)
{
	assert_true(strlen(msg) < CS_ERRMSG_SIZE);
	for (const char *p = msg; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
}

/* A growing string for generated inputs. */
struct sb {
	char *p;
	size_t len, cap;
};

static void sb_add(struct sb *b, const char *s)
{
	size_t n = strlen(s);
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

static void sb_rep(struct sb *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sb_add(b, s);
}

/* ---- sample specs, every field set ---- */

static struct cs_label machine_labels[] = {{"rack", "r1"}, {"zone", "eu-1"}};
static struct cs_amount machine_capacity[] = {
    {"cpu", 64000}, {"memory", 262144}, {"disk", 1000000}, {"gpu", 8}};
static const struct cs_machine_spec full_machine = {
    "m1",
    "gpu",
    machine_labels,
    2,
    machine_capacity,
    4,
    CS_MACHINE_DRAINING,
    "https://agent-1.example:7301/cell"};

static struct cs_amount job_request[] = {
    {"cpu", 4000}, {"memory", 16384}, {"disk", 100}, {"gpu", 1}};
static struct cs_label job_labels[] = {{"zone", "eu-1"}};
static char *job_args[] = {"--epochs", "10", ""};
static struct cs_label job_env[] = {{"HOME", "/root"},
                                    {"PATH", "/bin:\xc3\xa9"}};
static char *job_deps[] = {"prep", "fetch"};

static struct cs_job_spec full_job(void)
{
	struct cs_job_spec s = {
	    .name = "train",
	    .class_name = "batch",
	    .priority = 200,
	    .ntasks = 16,
	    .request = job_request,
	    .nrequest = 4,
	    .pool = "gpu",
	    .labels = job_labels,
	    .nlabels = 1,
	    .distinct = true,
	    .gang = true,
	    .max_retries = 5,
	    .command = "/bin/train",
	    .args = job_args,
	    .nargs = 3,
	    .env = job_env,
	    .nenv = 2,
	    .duration_ms = 60000,
	    .deps = job_deps,
	    .ndeps = 2,
	    .cron = "*/5 * * * 1-5",
	};
	return s;
}

static struct cs_job_spec small_job(void)
{
	struct cs_job_spec s = {.name = "sleep",
	                        .class_name = "batch",
	                        .ntasks = 1,
	                        .request = job_request,
	                        .nrequest = 2,
	                        .max_retries = 3,
	                        .duration_ms = 1000};
	return s;
}

static void labels_equal(const struct cs_label *a, uint32_t na,
                         const struct cs_label *b, uint32_t nb)
{
	assert_int_equal(na, nb);
	for (uint32_t i = 0; i < na; i++) {
		assert_string_equal(a[i].key, b[i].key);
		assert_string_equal(a[i].value, b[i].value);
	}
}

static void amounts_equal(const struct cs_amount *a, uint32_t na,
                          const struct cs_amount *b, uint32_t nb)
{
	assert_int_equal(na, nb);
	for (uint32_t i = 0; i < na; i++) {
		assert_string_equal(a[i].name, b[i].name);
		assert_int_equal(a[i].value, b[i].value);
	}
}

static void strings_equal(char *const *a, uint32_t na, char *const *b,
                          uint32_t nb)
{
	assert_int_equal(na, nb);
	for (uint32_t i = 0; i < na; i++)
		assert_string_equal(a[i], b[i]);
}

static void opt_equal(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void machine_spec_equal(const struct cs_machine_spec *a,
                               const struct cs_machine_spec *b)
{
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->pool, b->pool);
	labels_equal(a->labels, a->nlabels, b->labels, b->nlabels);
	amounts_equal(a->capacity, a->ncapacity, b->capacity, b->ncapacity);
	assert_int_equal(a->state, b->state);
	opt_equal(a->agent, b->agent);
}

static void job_spec_equal(const struct cs_job_spec *a,
                           const struct cs_job_spec *b)
{
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->class_name, b->class_name);
	assert_int_equal(a->priority, b->priority);
	assert_int_equal(a->ntasks, b->ntasks);
	amounts_equal(a->request, a->nrequest, b->request, b->nrequest);
	opt_equal(a->pool, b->pool);
	labels_equal(a->labels, a->nlabels, b->labels, b->nlabels);
	assert_int_equal(a->distinct, b->distinct);
	assert_int_equal(a->gang, b->gang);
	assert_int_equal(a->max_retries, b->max_retries);
	opt_equal(a->command, b->command);
	strings_equal(a->args, a->nargs, b->args, b->nargs);
	labels_equal(a->env, a->nenv, b->env, b->nenv);
	assert_int_equal(a->duration_ms, b->duration_ms);
	strings_equal(a->deps, a->ndeps, b->deps, b->ndeps);
	opt_equal(a->cron, b->cron);
}

/* ---- round trips ---- */

/* Adds one op of the given kind, with every field it can carry. */
static void add_op(cs_txn *t, enum cs_op_kind k)
{
	struct cs_job_spec job = full_job();
	struct cs_sched_spec sched = {"batch-1", "batch", "first-fit",
	                              9223372036854775807ull};
	switch (k) {
	case CS_OP_PLACE:
		cs_txn_place(t, "train", 3, "m1", 41);
		break;
	case CS_OP_PREEMPT:
		cs_txn_preempt(t, "low", 0, "m1", 9223372036854775807ull,
		               "train");
		break;
	case CS_OP_RELEASE:
		cs_txn_release(t, "train", 999999, NULL);
		cs_op_expect_seq(cs_txn_release(t, "train", 2, "m2"), 0);
		break;
	case CS_OP_TASK_STATE:
		cs_txn_task_state(t, "train", 1, 4294967295u, "m1",
		                  CS_TASK_FAILED, -2147483647 - 1);
		cs_txn_task_state(t, "train", 2, 0, "m1", CS_TASK_RUNNING, 0);
		break;
	case CS_OP_MACHINE_PUT:
		cs_op_expect_seq(cs_txn_machine_put(t, &full_machine), 7);
		break;
	case CS_OP_MACHINE_STATE:
		cs_txn_machine_state(t, "m1", CS_MACHINE_DOWN);
		break;
	case CS_OP_MACHINE_REMOVE:
		cs_op_expect_seq(cs_txn_machine_remove(t, "m-2.rack_1"), 3);
		break;
	case CS_OP_JOB_PUT:
		cs_txn_job_put(t, &job);
		job = small_job();
		cs_txn_job_put(t, &job);
		break;
	case CS_OP_JOB_KILL:
		cs_txn_job_kill(t, "train");
		break;
	case CS_OP_JOB_REMOVE:
		cs_txn_job_remove(t, "0");
		break;
	case CS_OP_SCHED_REGISTER:
		cs_txn_sched_register(t, &sched);
		break;
	case CS_OP_SCHED_UNREGISTER:
		cs_txn_sched_unregister(t, "batch-1");
		break;
	case CS_OP_JOB_NOTE: {
		char longest[CS_NOTE_MAX + 1];
		memset(longest, 'n', CS_NOTE_MAX);
		longest[CS_NOTE_MAX] = 0;
		cs_txn_job_note(t, "train",
		                "no machine has cpu 64000 (largest 16000) – "
		                "\"wörld\" \\ \U0001F600");
		cs_txn_job_note(t, "train", longest);
		cs_txn_job_note(t, "train", ""); /* a clear */
		break;
	}
	case CS_OP__COUNT:
		break;
	}
}

static void ops_equal(const struct cs_op *a, const struct cs_op *b)
{
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->has_seq, b->has_seq);
	assert_int_equal(a->seq, b->seq);
	opt_equal(a->job, b->job);
	assert_int_equal(a->task, b->task);
	opt_equal(a->machine, b->machine);
	opt_equal(a->by_job, b->by_job);
	opt_equal(a->sched, b->sched);
	opt_equal(a->note, b->note);
	if (a->kind == CS_OP_TASK_STATE) {
		assert_int_equal(a->report, b->report);
		assert_int_equal(a->attempt, b->attempt);
		assert_int_equal(a->exit_code, b->exit_code);
	}
	if (a->kind == CS_OP_MACHINE_STATE)
		assert_int_equal(a->machine_state, b->machine_state);
	if (a->kind == CS_OP_MACHINE_PUT)
		machine_spec_equal(a->machine_spec, b->machine_spec);
	if (a->kind == CS_OP_JOB_PUT)
		job_spec_equal(a->job_spec, b->job_spec);
	if (a->kind == CS_OP_SCHED_REGISTER) {
		assert_string_equal(a->sched_spec->class_name,
		                    b->sched_spec->class_name);
		assert_string_equal(a->sched_spec->policy,
		                    b->sched_spec->policy);
		assert_int_equal(a->sched_spec->member, b->sched_spec->member);
	}
}

/* encode -> text -> parse -> encode gives the same text and the same
 * transaction. */
static void txn_round_trip(const cs_txn *t)
{
	char err[CS_ERRMSG_SIZE] = "";
	if (cs_txn_validate(t, err, sizeof(err)) != 0)
		fail_msg("built transaction invalid: %s", err);
	char *text = dump(cs_txn_encode(t));
	cs_txn *back = NULL;
	if (cs_txn_parse(text, strlen(text), &back, err, sizeof(err)) != 0)
		fail_msg("%s\n  in %s", err, text);
	char *again = dump(cs_txn_encode(back));
	assert_string_equal(text, again);
	opt_equal(t->id, back->id);
	opt_equal(t->origin, back->origin);
	assert_int_equal(t->mode, back->mode);
	assert_int_equal(t->detect, back->detect);
	assert_int_equal(t->nops, back->nops);
	for (uint32_t i = 0; i < t->nops; i++)
		ops_equal(&t->ops[i], &back->ops[i]);
	tl_assert_op_names_shared(back);
	cs_txn_free(back);
	free(text);
	free(again);
}

static void test_txn_round_trip_each_op(void **state)
{
	(void)state;
	for (int k = 0; k < CS_OP__COUNT; k++) {
		cs_txn *t = cs_txn_new(
		    k % 2 ? "txn-1" : NULL, k % 3 ? "sched@host:1" : NULL,
		    k % 2 ? CS_ALL_OR_NOTHING : CS_INCREMENTAL,
		    k % 4 ? CS_COARSE : CS_FINE);
		add_op(t, (enum cs_op_kind)k);
		txn_round_trip(t);
		cs_txn_free(t);
	}
}

static void test_txn_round_trip_all_ops(void **state)
{
	(void)state;
	cs_txn *t = cs_txn_new("a/b:c@d.e_f-g", "cellctl", CS_ALL_OR_NOTHING,
	                       CS_COARSE);
	for (int k = 0; k < CS_OP__COUNT; k++)
		add_op(t, (enum cs_op_kind)k);
	txn_round_trip(t);
	cs_txn_free(t);
}

/* Every kind has a row in the op table: a name that parses back to it
 * (so names are unique too); anything else is no op. */
static void test_op_names(void **state)
{
	(void)state;
	for (int k = 0; k < CS_OP__COUNT; k++) {
		const char *name = cs_op_name((enum cs_op_kind)k);
		assert_string_not_equal(name, "invalid");
		assert_int_equal(cs_op_parse(name), k);
	}
	assert_string_equal(cs_op_name(CS_OP__COUNT), "invalid");
	assert_int_equal(cs_op_parse("invalid"), -1);
	assert_int_equal(cs_op_parse(NULL), -1);
}

/* Defaults are filled in on decode and written out explicitly. */
static void test_txn_defaults(void **state)
{
	(void)state;
	char err[CS_ERRMSG_SIZE];
	char *in = sq("{'ops':[{'op':'place','job':'a','task':0,'machine':'m'},"
	              "{'op':'task_state','job':'a','task':0,'attempt':2,"
	              "'machine':'m','state':'succeeded'},"
	              "{'op':'release','job':'a','task':0},"
	              "{'op':'sched_register','scheduler':{'name':'s',"
	              "'class':'batch','policy':'batch'}}]}");
	cs_txn *t = NULL;
	assert_int_equal(cs_txn_parse(in, strlen(in), &t, err, sizeof(err)), 0);
	assert_null(t->id);
	assert_null(t->origin);
	assert_int_equal(t->mode, CS_INCREMENTAL);
	assert_int_equal(t->detect, CS_FINE);
	assert_false(t->ops[0].has_seq);
	assert_int_equal(t->ops[1].exit_code, 0);
	assert_int_equal(t->ops[1].report, CS_TASK_SUCCEEDED);
	assert_null(t->ops[2].machine);
	assert_int_equal(t->ops[3].sched_spec->member, 0);
	char *text = dump(cs_txn_encode(t));
	char *want = sq("{'detect':'fine','mode':'incremental','ops':["
	                "{'job':'a','machine':'m','op':'place','task':0},"
	                "{'attempt':2,'exit_code':0,'job':'a','machine':'m',"
	                "'op':'task_state','state':'succeeded','task':0},"
	                "{'job':'a','op':'release','task':0},"
	                "{'op':'sched_register','scheduler':{'class':'batch',"
	                "'member':0,'name':'s','policy':'batch'}}]}");
	assert_string_equal(text, want);
	cs_txn_free(t);
	free(in);
	free(text);
	free(want);
}

static void test_machine_spec_round_trip(void **state)
{
	(void)state;
	char err[CS_ERRMSG_SIZE];
	struct cs_machine_spec small = {"m", NULL, NULL, 0, machine_capacity,
	                                2,   -1,   NULL};
	const struct cs_machine_spec *specs[] = {&full_machine, &small};
	for (size_t i = 0; i < 2; i++) {
		json_t *j = cs_machine_spec_encode(specs[i]);
		char *text = json_dumps(j, DUMP_FLAGS);
		struct cs_machine_spec *back = NULL;
		if (cs_machine_spec_decode(j, "", &back, err, sizeof(err)))
			fail_msg("%s", err);
		json_decref(j);
		char *again = dump(cs_machine_spec_encode(back));
		assert_string_equal(text, again);
		if (i == 0) {
			machine_spec_equal(specs[i], back);
			assert_non_null(strstr(text, "\"agent\""));
		} else {
			assert_string_equal(back->pool, "default");
			assert_null(back->agent); /* absent, not "" */
			assert_null(strstr(text, "agent"));
		}
		cs_machine_spec_free(back);
		free(text);
		free(again);
	}
}

static void test_job_spec_round_trip(void **state)
{
	(void)state;
	char err[CS_ERRMSG_SIZE];
	struct cs_job_spec specs[] = {full_job(), small_job()};
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(
		    cs_job_spec_validate(&specs[i], "", err, sizeof(err)), 0);
		json_t *j = cs_job_spec_encode(&specs[i]);
		char *text = json_dumps(j, DUMP_FLAGS);
		struct cs_job_spec *back = NULL;
		if (cs_job_spec_decode(j, "", &back, err, sizeof(err)))
			fail_msg("%s", err);
		json_decref(j);
		char *again = dump(cs_job_spec_encode(back));
		assert_string_equal(text, again);
		job_spec_equal(&specs[i], back);
		cs_job_spec_free(back);
		free(text);
		free(again);
	}
}

/* Labels and env come back sorted, resources in canonical order (cpu,
 * memory, disk, the rest by name), whatever order the document used. */
static void test_spec_decode_order(void **state)
{
	(void)state;
	char err[CS_ERRMSG_SIZE];
	char *in =
	    sq("{'name':'m','labels':{'zone':'b','arch':'x86','rack':''},"
	       "'capacity':{'tpu':2,'memory':1,'cpu':3,'aa':0}}");
	json_t *j = json_loads(in, 0, NULL);
	struct cs_machine_spec *m = NULL;
	assert_int_equal(cs_machine_spec_decode(j, "", &m, err, sizeof(err)),
	                 0);
	assert_string_equal(m->labels[0].key, "arch");
	assert_string_equal(m->labels[1].key, "rack");
	assert_string_equal(m->labels[1].value, "");
	assert_string_equal(m->labels[2].key, "zone");
	assert_string_equal(m->capacity[0].name, "cpu");
	assert_string_equal(m->capacity[1].name, "memory");
	assert_string_equal(m->capacity[2].name, "aa");
	assert_string_equal(m->capacity[3].name, "tpu");
	assert_string_equal(m->pool, "default");
	assert_int_equal(m->state, -1);
	cs_machine_spec_free(m);
	json_decref(j);
	free(in);
}

static void test_result_round_trip(void **state)
{
	(void)state;
	char err[CS_ERRMSG_SIZE];
	struct cs_verdict v[] = {{CS_R_OK, NULL},
	                         {CS_R_SEQ_CHANGED, "machine m1: seq 7, saw 5"},
	                         {CS_R_INSUFFICIENT, NULL},
	                         {CS_R_OK, "\"quoted\" \xc3\xa9"}};
	cs_result results[] = {
	    {9223372036854775807ull, false, true, 4, 2, v, NULL, 0},
	    {42, true, false, 0, 0, NULL, NULL, 0},
	};
	for (size_t i = 0; i < 2; i++) {
		json_t *j = cs_result_encode(&results[i]);
		char *text = json_dumps(j, DUMP_FLAGS);
		cs_result back;
		if (cs_result_decode(j, &back, err, sizeof(err)))
			fail_msg("%s", err);
		json_decref(j);
		char *again = dump(cs_result_encode(&back));
		assert_string_equal(text, again);
		assert_int_equal(back.index, results[i].index);
		assert_int_equal(back.committed, results[i].committed);
		assert_int_equal(back.duplicate, results[i].duplicate);
		assert_int_equal(back.accepted, results[i].accepted);
		assert_int_equal(back.nops, results[i].nops);
		for (uint32_t k = 0; k < back.nops; k++) {
			assert_int_equal(back.ops[k].reason, v[k].reason);
			opt_equal(back.ops[k].detail, v[k].detail);
		}
		cs_result_clear(&back);
		free(text);
		free(again);
	}
}

static void test_result_format(void **state)
{
	(void)state;
	struct cs_verdict v[] = {{CS_R_OK, NULL},
	                         {CS_R_SEQ_CHANGED, "seq 7, saw 5"}};
	cs_result r = {12, false, true, 2, 1, v, NULL, 0};
	json_t *j = cs_result_encode(&r);
	char *text = json_dumps(j, JSON_COMPACT); /* the encoder's own order */
	char *want = sq("{'index':12,'committed':true,'duplicate':false,"
	                "'accepted':1,'rejected':1,'ops':[{'ok':true,"
	                "'reason':'ok'},{'ok':false,'reason':'seq_changed',"
	                "'detail':'seq 7, saw 5'}]}");
	assert_string_equal(text, want);
	json_decref(j);
	free(text);
	free(want);
}

/* ---- malformed input ---- */

enum target { TXN, MACHINE, JOB, RESULT };

struct bad {
	enum target target;
	const char *json; /* ' stands for " */
	const char *expect;
	size_t len; /* 0: strlen; else raw bytes, no ' conversion */
};

#define PLACE_A        "{'op':'place','job':'a','task':0,'machine':'m'}"
#define KILL_A         "{'op':'job_kill','job':'a'}"
#define OPS(ops)       "{'ops':[" ops "]}"
#define MPUT(spec)     OPS("{'op':'machine_put','machine':" spec "}")
#define CAP            "'capacity':{'cpu':1,'memory':1}"
#define JOB(res, more) "{'name':'j','class':'batch','tasks':1," res "," more "}"
#define RES            "'resources':{'cpu':1,'memory':1}"
#define JOBR(more)     JOB(RES, more)
#define NAME_RULE                                                              \
	"1-63 characters [a-z0-9._-] starting with a letter or "               \
	"digit"
#define E_MACHINE "expected a machine name: " NAME_RULE
#define E_JOB     "expected a job name: " NAME_RULE
#define E_OPS     "expected an array of 1..1000000 ops"
#define E_NOTE                                                                 \
	"expected a note: at most 512 bytes of UTF-8 text without control "    \
	"characters"
#define E_AGENT                                                                \
	"expected an agent URL: http:// or https:// then a host, at most 127 " \
	"bytes of printable ASCII without spaces"
#define E_MEMBER                                                               \
	"expected a Raft member id: an integer 0..9223372036854775807 (0: "    \
	"none)"
#define E_ID                                                                   \
	"expected a transaction id: 1-128 characters "                         \
	"[A-Za-z0-9._:@/-]"
#define V_OK  "{'ok':true,'reason':'ok'}"
#define V_SEQ "{'ok':false,'reason':'seq_changed','detail':'x'}"
#define RESULT(acc, rej, ops)                                                  \
	"{'index':1,'committed':true,'duplicate':false,'accepted':" acc        \
	",'rejected':" rej ",'ops':[" ops "]}"

/* One case per line reads best as a table. */
/* clang-format off */
static const struct bad bad_cases[] = {
    /* not JSON at all */
    {TXN, "", "(root): expected a transaction object, got empty input", 0},
    {TXN, " \n\t ", "(root): expected a transaction object, got empty input", 0},
    {TXN, "{'ops':[", "line 1, column 8: ']' expected near end of file", 0},
    {TXN, OPS(PLACE_A) " x", "line 1, column 59: end of file expected near 'x'", 0},
    {TXN, "{'id':'a','id':'b','ops':[]}", "line 1, column 14: duplicate object key", 0},
    {TXN, "{'id':'\xff'}", "line 1, column 7: unable to decode byte 0xff", 0},
    {TXN, OPS("{'op':'job_kill','job':'\xc0\xaf'}"), "unable to decode byte 0xc0", 0},
    {TXN, "{'id':'a\\u0000b','ops':[]}", "line 1, column 16: \\u0000 is not allowed", 0},
    {TXN, "{\"id\":\"a\0b\"}", "line 1, column 8: control character 0x0", 12},
    {TXN, OPS("{'op':'place','job':'a','task':99999999999999999999999}"),
     "too big integer", 0},
    {TXN, OPS("{'op':'place','job':'a','task':1e400}"), "real number overflow", 0},
    {TXN, OPS("{'op':'place','job':'a','task':0,'machine':'m','seq':9223372036854775808}"),
     "too big integer near '9223372036854775808'", 0},
    {TXN, OPS("{'op':'place','job':'a','task':-9223372036854775809}"),
     "too big negative integer", 0},
    /* the transaction */
    {TXN, "[1,2]", "(root): expected a transaction object, got an array", 0},
    {TXN, "42", "(root): expected a transaction object, got an integer", 0},
    {TXN, "'ops'", "(root): expected a transaction object, got a string", 0},
    {TXN, "{}", "ops: missing: required", 0},
    {TXN, "{'ops':{}}", "ops: " E_OPS ", got an object", 0},
    {TXN, "{'ops':null}", "ops: " E_OPS ", got null", 0},
    {TXN, "{'ops':[]}", "ops: " E_OPS ", got an empty array", 0},
    {TXN, "{'ops':[1]}", "ops[0]: expected an op object, got an integer", 0},
    {TXN, "{'opz':[],'ops':[]}",
     "opz: unknown field (expected one of: id, origin, mode, detect, ops)", 0},
    {TXN, "{'mode':'sometimes','ops':[" KILL_A "]}",
     "mode: expected one of: incremental, all_or_nothing, got \"sometimes\"", 0},
    {TXN, "{'detect':1,'ops':[" KILL_A "]}",
     "detect: expected one of: fine, coarse, got an integer", 0},
    {TXN, "{'id':'has space','ops':[" KILL_A "]}", "id: " E_ID ", got \"has space\"", 0},
    {TXN, "{'id':'','ops':[" KILL_A "]}", "id: " E_ID ", got \"\"", 0},
    {TXN, "{'id':null,'ops':[" KILL_A "]}", "id: " E_ID ", got null", 0},
    {TXN, "{'origin':['x'],'ops':[" KILL_A "]}",
     "origin: expected an origin: 1-128 characters [A-Za-z0-9._:@/-], got an array", 0},
    /* ops */
    {TXN, OPS("{'job':'a'}"), "ops[0].op: missing: required", 0},
    {TXN, OPS(KILL_A ",{'op':'teleport'}"),
     "ops[1].op: expected one of: place, preempt, release, task_state, "
     "machine_put, machine_state, machine_remove, job_put, job_kill, "
     "job_remove, sched_register, sched_unregister, job_note, got \"teleport\"", 0},
    {TXN, OPS("{'op':7}"), "ops[0].op: expected one of: place, preempt,", 0},
    {TXN, OPS("{'op':'place','job':'a','task':0,'machine':'m','sq':1}"),
     "ops[0].sq: unknown field (expected one of: op, job, task, machine, seq)", 0},
    {TXN, OPS("{'op':'job_kill','job':'a','task':1}"),
     "ops[0].task: unknown field (expected one of: op, job)", 0},
    {TXN, OPS("{'op':'place','job':'a','machine':'m'}"), "ops[0].task: missing: required", 0},
    {TXN, OPS("{'op':'place','job':'a','task':'1','machine':'m'}"),
     "ops[0].task: expected an integer 0..999999, got a string", 0},
    {TXN, OPS("{'op':'place','job':'a','task':1.5,'machine':'m'}"),
     "ops[0].task: expected an integer 0..999999, got a real number", 0},
    {TXN, OPS("{'op':'place','job':'a','task':1.0,'machine':'m'}"),
     "ops[0].task: expected an integer 0..999999, got a real number", 0},
    {TXN, OPS("{'op':'place','job':'a','task':1000000,'machine':'m'}"),
     "ops[0].task: expected an integer 0..999999, got 1000000", 0},
    {TXN, OPS("{'op':'place','job':'a','task':-1,'machine':'m'}"),
     "ops[0].task: expected an integer 0..999999, got -1", 0},
    {TXN, OPS(KILL_A "," KILL_A ",{'op':'place','job':'a','task':0,'machine':1}"),
     "ops[2].machine: " E_MACHINE ", got an integer", 0},
    {TXN, OPS("{'op':'place','job':'a','task':0,'machine':'Web-1'}"),
     "ops[0].machine: " E_MACHINE ", got \"Web-1\"", 0},
    {TXN, OPS("{'op':'place','job':'a','task':0,'machine':"
	      "'mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm'}"),
     "ops[0].machine: " E_MACHINE ", got a string of 64 bytes", 0},
    {TXN, OPS("{'op':'machine_remove','machine':'.m'}"),
     "ops[0].machine: " E_MACHINE ", got \".m\"", 0},
    {TXN, OPS("{'op':'job_kill','job':''}"), "ops[0].job: " E_JOB ", got \"\"", 0},
    {TXN, OPS("{'op':'job_kill'}"), "ops[0].job: missing: required", 0},
    {TXN, "{'detect':'coarse','ops':[" PLACE_A "," PLACE_A "]}",
     "ops[0].seq: missing: required when detect is \"coarse\"", 0},
    {TXN, "{'detect':'coarse','ops':[{'op':'place','job':'a','task':0,"
	  "'machine':'m','seq':1}," PLACE_A "]}",
     "ops[1].seq: missing: required when detect is \"coarse\"", 0},
    {TXN, OPS("{'op':'place','job':'a','task':0,'machine':'m','seq':-1}"),
     "ops[0].seq: expected an integer 0..9223372036854775807, got -1", 0},
    {TXN, OPS("{'op':'machine_remove','machine':'m','seq':'5'}"),
     "ops[0].seq: expected an integer 0..9223372036854775807, got a string", 0},
    {TXN, OPS("{'op':'preempt','job':'a','task':0,'machine':'m'}"),
     "ops[0].for: missing: required", 0},
    {TXN, OPS("{'op':'release','job':'a','task':0,'machine':null}"),
     "ops[0].machine: " E_MACHINE ", got null", 0},
    {TXN, OPS("{'op':'task_state','job':'a','task':0,'attempt':0,'machine':'m','state':'pending'}"),
     "ops[0].state: expected one of: running, succeeded, failed, lost, got \"pending\"", 0},
    {TXN, OPS("{'op':'task_state','job':'a','task':0,'machine':'m','state':'lost'}"),
     "ops[0].attempt: missing: required", 0},
    {TXN, OPS("{'op':'task_state','job':'a','task':0,'attempt':4294967296,'machine':'m','state':'lost'}"),
     "ops[0].attempt: expected an integer 0..4294967295, got 4294967296", 0},
    {TXN, OPS("{'op':'task_state','job':'a','task':0,'attempt':0,'machine':'m','state':'failed','exit_code':2147483648}"),
     "ops[0].exit_code: expected an integer -2147483648..2147483647, got 2147483648", 0},
    {TXN, OPS("{'op':'task_state','job':'a','task':0,'attempt':0,'machine':'m','state':'failed','exit_code':true}"),
     "ops[0].exit_code: expected an integer -2147483648..2147483647, got a boolean", 0},
    {TXN, OPS("{'op':'machine_state','machine':'m','state':'sideways'}"),
     "ops[0].state: expected one of: up, draining, down, got \"sideways\"", 0},
    {TXN, OPS("{'op':'machine_state','machine':'m'}"), "ops[0].state: missing: required", 0},
    /* machine specs inside machine_put */
    {TXN, OPS("{'op':'machine_put','machine':'m'}"),
     "ops[0].machine: expected a machine spec object, got a string", 0},
    {TXN, MPUT("{'name':'m'}"), "ops[0].machine.capacity: missing: required", 0},
    {TXN, MPUT("{" CAP "}"), "ops[0].machine.name: missing: required", 0},
    {TXN, MPUT("{'name':'m','capacity':{'cpu':1}}"),
     "ops[0].machine.capacity.memory: missing: required", 0},
    {TXN, MPUT("{'name':'m','capacity':{'cpu':-5,'memory':1}}"),
     "ops[0].machine.capacity.cpu: expected an integer 0..1000000000000000, got -5", 0},
    {TXN, MPUT("{'name':'m','capacity':{'cpu':1000000000000001,'memory':1}}"),
     "ops[0].machine.capacity.cpu: expected an integer 0..1000000000000000, got 1000000000000001", 0},
    {TXN, MPUT("{'name':'m','capacity':{'cpu':1,'memory':1,'GPU':1}}"),
     "ops[0].machine.capacity.GPU: expected a resource name: 1-31 characters "
     "[a-z0-9._/-] starting with a letter, got \"GPU\"", 0},
    {TXN, MPUT("{'name':'m','capacity':{'cpu':1,'memory':1,'a':1,'b':1,'c':1,'d':1,'e':1,'f':1,'g':1}}"),
     "ops[0].machine.capacity: expected at most 8 resources, got 9", 0},
    {TXN, MPUT("{'name':'m','capacity':[1,2]}"),
     "ops[0].machine.capacity: expected an object of resource amounts, got an array", 0},
    {TXN, MPUT("{'name':'m'," CAP ",'labels':{'Rack':'a'}}"),
     "ops[0].machine.labels.Rack: expected a label key: 1-63 characters [a-z0-9._/-] "
     "starting with a letter or digit, got \"Rack\"", 0},
    {TXN, MPUT("{'name':'m'," CAP ",'labels':{'rack':'a b'}}"),
     "ops[0].machine.labels.rack: expected a label value: 0-63 characters [A-Za-z0-9._-], "
     "got \"a b\"", 0},
    {TXN, MPUT("{'name':'m'," CAP ",'labels':{'rack':7}}"),
     "ops[0].machine.labels.rack: expected a label value: 0-63 characters [A-Za-z0-9._-], "
     "got an integer", 0},
    {TXN, MPUT("{'name':'m'," CAP ",'labels':{'rack':[[[['a']]]]}}"),
     "ops[0].machine.labels.rack: expected a label value: 0-63 characters [A-Za-z0-9._-], "
     "got an array", 0},
    {TXN, MPUT("{'name':'m'," CAP ",'labels':['rack']}"),
     "ops[0].machine.labels: expected an object of labels, got an array", 0},
    {TXN, MPUT("{'name':'m'," CAP ",'zone':'a'}"),
     "ops[0].machine.zone: unknown field (expected one of: name, pool, labels, capacity, "
     "state, agent)", 0},
    {TXN, MPUT("{'name':'m'," CAP ",'state':'broken'}"),
     "ops[0].machine.state: expected one of: up, draining, down, got \"broken\"", 0},
    {TXN, MPUT("{'name':'m'," CAP ",'pool':''}"),
     "ops[0].machine.pool: expected a pool name: " NAME_RULE ", got \"\"", 0},
    /* the agent URL: optional, never empty or null, http(s) only, one
     * printable ASCII token */
    {TXN, MPUT("{'name':'m'," CAP ",'agent':'ftp://a:21'}"),
     "ops[0].machine.agent: " E_AGENT ", got \"ftp://a:21\"", 0},
    {MACHINE, "{'name':'m'," CAP ",'agent':''}", "machine.agent: " E_AGENT ", got \"\"", 0},
    {MACHINE, "{'name':'m'," CAP ",'agent':'http://'}",
     "machine.agent: " E_AGENT ", got \"http://\"", 0},
    {MACHINE, "{'name':'m'," CAP ",'agent':'https://'}",
     "machine.agent: " E_AGENT ", got \"https://\"", 0},
    {MACHINE, "{'name':'m'," CAP ",'agent':'127.0.0.1:7301'}",
     "machine.agent: " E_AGENT ", got \"127.0.0.1:7301\"", 0},
    {MACHINE, "{'name':'m'," CAP ",'agent':'http://a b:7301'}",
     "machine.agent: " E_AGENT ", got \"http://a b:7301\"", 0},
    {MACHINE, "{'name':'m'," CAP ",'agent':' http://a:7301'}",
     "machine.agent: " E_AGENT ", got \" http://a:7301\"", 0},
    {MACHINE, "{'name':'m'," CAP ",'agent':'http://a:7301\\n'}",
     "machine.agent: " E_AGENT ", got \"http://a:7301?\"", 0},
    {MACHINE, "{'name':'m'," CAP ",'agent':'http://a\\u007f'}",
     "machine.agent: " E_AGENT ", got \"http://a?\"", 0},
    {MACHINE, "{'name':'m'," CAP ",'agent':'http://h\\u00e9te'}",
     "machine.agent: " E_AGENT ", got \"http://h??te\"", 0},
    {MACHINE, "{'name':'m'," CAP ",'agent':7301}", "machine.agent: " E_AGENT ", got an integer", 0},
    {MACHINE, "{'name':'m'," CAP ",'agent':null}", "machine.agent: " E_AGENT ", got null", 0},
    {MACHINE, "{'name':'m'," CAP ",'agent':['http://a']}",
     "machine.agent: " E_AGENT ", got an array", 0},
    /* job specs inside job_put, and on their own (path "job") */
    {TXN, OPS("{'op':'job_put','job':'j'}"),
     "ops[0].job: expected a job spec object, got a string", 0},
    {TXN, OPS("{'op':'job_put','job':{'name':'j','tasks':1," RES ",'command':'x'}}"),
     "ops[0].job.class: missing: required", 0},
    {TXN, OPS(KILL_A "," KILL_A "," KILL_A ",{'op':'job_put','job':"
	      JOB("'resources':{'cpu':0,'memory':1}", "'command':'x'") "}"),
     "ops[3].job.resources.cpu: expected a positive integer", 0},
    {JOB, JOB("'resources':{'cpu':-1,'memory':1}", "'command':'x'"),
     "job.resources.cpu: expected a positive integer", 0},
    {JOB, JOB("'resources':{'cpu':1,'memory':0}", "'command':'x'"),
     "job.resources.memory: expected a positive integer", 0},
    {JOB, JOB("'resources':{'memory':1}", "'command':'x'"), "job.resources.cpu: missing: required", 0},
    {JOB, JOB("'resources':{'cpu':1,'memory':1,'disk':-1}", "'command':'x'"),
     "job.resources.disk: expected an integer 0..1000000000000000, got -1", 0},
    {JOB, "{'name':'j','class':'batch'," RES ",'command':'x'}", "job.tasks: missing: required", 0},
    {JOB, "{'name':'j','class':'batch','tasks':0," RES ",'command':'x'}",
     "job.tasks: expected an integer 1..1000000, got 0", 0},
    {JOB, "{'name':'j','class':'batch','tasks':1000001," RES ",'command':'x'}",
     "job.tasks: expected an integer 1..1000000, got 1000001", 0},
    {JOB, JOBR("'command':'x','priority':1001"), "job.priority: expected an integer 0..1000, got 1001", 0},
    {JOB, JOBR("'command':'x','max_retries':'3'"),
     "job.max_retries: expected an integer 0..1000, got a string", 0},
    {JOB, JOBR("'command':'x','gang':'yes'"), "job.gang: expected true or false, got a string", 0},
    {JOB, JOBR("'command':'x','constraints':{'distinct_machines':1}"),
     "job.constraints.distinct_machines: expected true or false, got an integer", 0},
    {JOB, JOBR("'command':'x','constraints':{'zone':'a'}"),
     "job.constraints.zone: unknown field (expected one of: pool, labels, distinct_machines)", 0},
    {JOB, JOBR("'command':'x','constraints':{'pool':'GPU'}"),
     "job.constraints.pool: expected a pool name: " NAME_RULE ", got \"GPU\"", 0},
    {JOB, JOBR("'command':'x','constraints':'gpu'"),
     "job.constraints: expected an object of constraints, got a string", 0},
    {JOB, JOBR("'command':''"), "job.command: expected a string of 1..4096 bytes, got \"\"", 0},
    {JOB, JOBR("'command':'x','args':'-v'"), "job.args: expected an array of arguments, got a string", 0},
    {JOB, JOBR("'command':'x','args':['-v',2]"),
     "job.args[1]: expected a string of at most 4096 bytes, got an integer", 0},
    {JOB, JOBR("'command':'x','env':{'1X':'a'}"),
     "job.env.1X: expected a variable name: 1-128 characters [A-Za-z0-9_] not starting with "
     "a digit, got \"1X\"", 0},
    {JOB, JOBR("'command':'x','env':{'HOME':1}"),
     "job.env.HOME: expected a string of at most 4096 bytes, got an integer", 0},
    {JOB, JOBR("'args':['x']"), "job: expected \"command\" or a positive \"duration_ms\"", 0},
    {JOB, JOBR("'duration_ms':0"), "job: expected \"command\" or a positive \"duration_ms\"", 0},
    {TXN, OPS("{'op':'job_put','job':" JOBR("'priority':5") "}"),
     "ops[0].job: expected \"command\" or a positive \"duration_ms\"", 0},
    {JOB, JOBR("'duration_ms':1000000000001"),
     "job.duration_ms: expected an integer 0..1000000000000, got 1000000000001", 0},
    {JOB, JOBR("'command':'x','depends_on':['a','b','a']"),
     "job.depends_on[2]: expected each job once, got \"a\" again", 0},
    {JOB, JOBR("'command':'x','depends_on':['a','j']"),
     "job.depends_on[1]: expected another job's name, got the job itself", 0},
    {JOB, JOBR("'command':'x','depends_on':['A']"), "job.depends_on[0]: " E_JOB ", got \"A\"", 0},
    {JOB, JOBR("'command':'x','depends_on':'a'"), "job.depends_on: expected an array of jobs, got a string", 0},
    {JOB, JOBR("'command':'x','cron':'61 * * * *'"),
     "job.cron: expected 5 cron fields 'minute hour day-of-month month day-of-week'", 0},
    {JOB, JOBR("'command':'x','cron':'* * * *'"), "job.cron: expected 5 cron fields", 0},
    {JOB, JOBR("'command':'x','cron':5"), "job.cron: expected a cron schedule string, got an integer", 0},
    {JOB, JOBR("'cmd':'x'"),
     "job.cmd: unknown field (expected one of: name, class, priority, tasks, resources, "
     "constraints, gang, max_retries, command, args, env, duration_ms, depends_on, cron)", 0},
    {JOB, "{'name':'Job','class':'batch','tasks':1," RES ",'command':'x'}",
     "job.name: " E_JOB ", got \"Job\"", 0},
    {JOB, "{'name':'j','class':'Batch','tasks':1," RES ",'command':'x'}",
     "job.class: expected a class name: " NAME_RULE ", got \"Batch\"", 0},
    {JOB, "[]", "job: expected a job spec object, got an array", 0},
    {MACHINE, "{'name':'m'," CAP ",'labels':{'a':'b'},'state':null}",
     "machine.state: expected one of: up, draining, down, got null", 0},
    /* schedulers */
    {TXN, OPS("{'op':'sched_register','scheduler':{'name':'s','class':'batch'}}"),
     "ops[0].scheduler.policy: missing: required", 0},
    {TXN, OPS("{'op':'sched_register','scheduler':'s'}"),
     "ops[0].scheduler: expected a scheduler object, got a string", 0},
    {TXN, OPS("{'op':'sched_register','scheduler':{'name':'s','class':'b','policy':'p','lease':1}}"),
     "ops[0].scheduler.lease: unknown field (expected one of: name, class, policy, member)", 0},
    {TXN, OPS("{'op':'sched_register','scheduler':{'name':'s','class':'b','policy':'p','member':-1}}"),
     "ops[0].scheduler.member: " E_MEMBER ", got -1", 0},
    {TXN, OPS("{'op':'sched_register','scheduler':{'name':'s','class':'b','policy':'p','member':'101'}}"),
     "ops[0].scheduler.member: " E_MEMBER ", got a string", 0},
    {TXN, OPS("{'op':'sched_register','scheduler':{'name':'s','class':'b','policy':'p','member':null}}"),
     "ops[0].scheduler.member: " E_MEMBER ", got null", 0},
    {TXN, OPS("{'op':'sched_unregister','scheduler':'Sched'}"),
     "ops[0].scheduler: expected a scheduler name: " NAME_RULE ", got \"Sched\"", 0},
    /* job notes */
    {TXN, OPS("{'op':'job_note','job':'a','note':5}"), "ops[0].note: " E_NOTE ", got an integer", 0},
    {TXN, OPS("{'op':'job_note','job':'a','note':null}"), "ops[0].note: " E_NOTE ", got null", 0},
    {TXN, OPS("{'op':'job_note','job':'a'}"), "ops[0].note: missing: required", 0},
    {TXN, OPS("{'op':'job_note','job':'a','note':'ring\\u0007bell'}"),
     "ops[0].note: " E_NOTE ", got \"ring?bell\"", 0},
    {TXN, OPS("{'op':'job_note','job':'a','note':'two\\nlines'}"),
     "ops[0].note: " E_NOTE ", got \"two?lines\"", 0},
    {TXN, OPS("{'op':'job_note','job':'a','note':'csi\\u009b2J'}"),
     "ops[0].note: " E_NOTE ", got \"csi??2J\"", 0},
    {TXN, OPS("{'op':'job_note','job':'a','note':'del\\u007f'}"),
     "ops[0].note: " E_NOTE ", got \"del?\"", 0},
    {TXN, OPS("{'op':'job_note','job':'A','note':'x'}"), "ops[0].job: " E_JOB ", got \"A\"", 0},
    {TXN, OPS("{'op':'job_note','job':'a','note':'x','task':0}"),
     "ops[0].task: unknown field (expected one of: op, job, note)", 0},
    /* results */
    {RESULT, RESULT("2", "0", V_OK "," V_SEQ),
     "accepted: expected 1 (the ops with \"ok\": true), got 2", 0},
    {RESULT, RESULT("1", "0", V_OK "," V_SEQ),
     "rejected: expected 1 (the ops with \"ok\": false), got 0", 0},
    {RESULT, RESULT("1", "2", V_OK "," V_SEQ),
     "rejected: expected 1 (the ops with \"ok\": false), got 2", 0},
    {RESULT, RESULT("1", "0", "{'ok':true,'reason':'seq_changed'}"),
     "ops[0].ok: expected false for reason \"seq_changed\"", 0},
    {RESULT, RESULT("0", "1", "{'ok':false,'reason':'ok'}"),
     "ops[0].ok: expected true for reason \"ok\"", 0},
    {RESULT, RESULT("0", "1", "{'ok':false,'reason':'bad_luck'}"),
     "ops[0].reason: expected a reason code such as \"ok\" or \"seq_changed\", got \"bad_luck\"", 0},
    {RESULT, RESULT("0", "1", "{'ok':false,'reason':'insufficient','why':1}"),
     "ops[0].why: unknown field (expected one of: ok, reason, detail)", 0},
    {RESULT, RESULT("0", "1", "{'ok':false,'reason':'insufficient','detail':5}"),
     "ops[0].detail: expected a string, got an integer", 0},
    {RESULT, RESULT("0", "1", "{'reason':'insufficient'}"), "ops[0].ok: missing: required", 0},
    {RESULT, "{'committed':true,'duplicate':false,'accepted':0,'rejected':0,'ops':[]}",
     "index: missing: required", 0},
    {RESULT, "{'index':-1,'committed':true,'duplicate':false,'accepted':0,'rejected':0,'ops':[]}",
     "index: expected an integer 0..9223372036854775807, got -1", 0},
    {RESULT, "{'index':1,'committed':'yes','duplicate':false,'accepted':0,'rejected':0,'ops':[]}",
     "committed: expected true or false, got a string", 0},
    {RESULT, "{'index':1,'committed':true,'duplicate':false,'accepted':0,'rejected':0,'ops':{}}",
     "ops: expected an array of at most 1000000 verdicts, got an object", 0},
    {RESULT, "[]", "(root): expected a result object, got an array", 0},
};
/* clang-format on */

/* Parses text as a JSON document for the decoders that take json_t, with
 * the message cs_txn_parse would give (jansson quotes raw input bytes:
 * those become '?'). */
static json_t *load(const char *text, size_t len, char *err)
{
	json_error_t e;
	json_t *j =
	    json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &e);
	if (j)
		return j;
	snprintf(err, CS_ERRMSG_SIZE, "line %d, column %d: %s", e.line,
	         e.column, e.text);
	for (char *p = err; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			*p = '?';
	return NULL;
}

/* Runs one input through its decoder; returns the decoder's answer and
 * checks that *out was left alone. */
static int decode_bad(enum target t, const char *text, size_t len, char *err)
{
	static char sentinel;
	void *const mark = &sentinel;
	int rc;
	if (t == TXN) {
		cs_txn *out = mark;
		rc = cs_txn_parse(text, len, &out, err, CS_ERRMSG_SIZE);
		if (rc == 0)
			cs_txn_free(out);
		else
			assert_ptr_equal(out, mark);
		return rc;
	}
	json_t *j = load(text, len, err);
	if (!j)
		return -1; /* the JSON parse error is the message */
	if (t == MACHINE) {
		struct cs_machine_spec *out = mark;
		rc = cs_machine_spec_decode(j, "machine", &out, err,
		                            CS_ERRMSG_SIZE);
		if (rc == 0)
			cs_machine_spec_free(out);
		else
			assert_ptr_equal(out, mark);
	} else if (t == JOB) {
		struct cs_job_spec *out = mark;
		rc = cs_job_spec_decode(j, "job", &out, err, CS_ERRMSG_SIZE);
		if (rc == 0)
			cs_job_spec_free(out);
		else
			assert_ptr_equal(out, mark);
	} else {
		cs_result out, before;
		memset(&out, 0xab, sizeof(out));
		before = out;
		rc = cs_result_decode(j, &out, err, CS_ERRMSG_SIZE);
		if (rc == 0)
			cs_result_clear(&out);
		else
			assert_memory_equal(&out, &before, sizeof(out));
	}
	json_decref(j);
	return rc;
}

/* Returns true when the case behaved; prints why not otherwise. */
static bool check_bad(size_t i, enum target t, const char *text, size_t len,
                      const char *expect)
{
	char err[CS_ERRMSG_SIZE] = "";
	int rc = decode_bad(t, text, len, err);
	if (rc == -1 && strstr(err, expect)) {
		assert_printable(err);
		return true;
	}
	fprintf(stderr, "case %zu: %.120s\n  want: %s\n  got:  %s (rc %d)\n", i,
	        text, expect, err, rc);
	return false;
}

static void test_malformed_table(void **state)
{
	(void)state;
	int failed = 0;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad *b = &bad_cases[i];
		char *text = b->len ? NULL : sq(b->json);
		if (!check_bad(i, b->target, text ? text : b->json,
		               b->len ? b->len : strlen(text), b->expect))
			failed++;
		free(text);
	}
	assert_int_equal(failed, 0);
}

/* ---- malformed inputs too big to write out ---- */

struct gen {
	enum target target;
	char *text;
	const char *expect;
};

static char *gen_nested(const char *head, size_t depth, const char *tail)
{
	struct sb b = {0};
	sb_add(&b, head);
	sb_rep(&b, "[", depth);
	sb_rep(&b, "]", depth);
	sb_add(&b, tail);
	return b.p;
}

static char *gen_labels(size_t n)
{
	struct sb b = {0};
	char kv[32];
	sb_add(&b, "{\"name\":\"m\",\"capacity\":{\"cpu\":1,\"memory\":1},"
	           "\"labels\":{");
	for (size_t i = 0; i < n; i++) {
		snprintf(kv, sizeof(kv), "%s\"k%zu\":\"v\"", i ? "," : "", i);
		sb_add(&b, kv);
	}
	sb_add(&b, "}}");
	return b.p;
}

/* A valid job but for extra, a '"field":value' text. */
static char *gen_job(const char *extra)
{
	struct sb b = {0};
	sb_add(&b, "{\"name\":\"j\",\"class\":\"b\",\"tasks\":1,"
	           "\"resources\":{\"cpu\":1,\"memory\":1},");
	sb_add(&b, extra);
	sb_add(&b, "}");
	return b.p;
}

/* "field":["<prefix>0","<prefix>1",...] with n entries, plus a command. */
static char *gen_job_list(const char *field, const char *prefix, size_t n)
{
	struct sb b = {0};
	char tmp[64];
	sb_add(&b, "\"command\":\"x\",\"");
	sb_add(&b, field);
	sb_add(&b, "\":[");
	for (size_t i = 0; i < n; i++) {
		snprintf(tmp, sizeof(tmp), "%s\"%s%zu\"", i ? "," : "", prefix,
		         i);
		sb_add(&b, tmp);
	}
	sb_add(&b, "]");
	char *job = gen_job(b.p);
	free(b.p);
	return job;
}

static char *gen_long_command(size_t n)
{
	struct sb b = {0};
	sb_add(&b, "\"command\":\"");
	sb_rep(&b, "x", n);
	sb_add(&b, "\"");
	char *job = gen_job(b.p);
	free(b.p);
	return job;
}

static char *gen_long_note(size_t n)
{
	struct sb b = {0};
	sb_add(&b, "{\"ops\":[{\"op\":\"job_note\",\"job\":\"a\",\"note\":\"");
	sb_rep(&b, "x", n);
	sb_add(&b, "\"}]}");
	return b.p;
}

static char *gen_ops(size_t n)
{
	struct sb b = {0};
	sb_add(&b, "{\"ops\":[0");
	sb_rep(&b, ",0", n - 1);
	sb_add(&b, "]}");
	return b.p;
}

static char *gen_long_key(void)
{
	struct sb b = {0};
	sb_add(&b, "{\"ops\":[{\"op\":\"job_kill\",\"job\":\"a\",\"");
	sb_rep(&b, "k", 200);
	sb_add(&b, "\":1}]}");
	return b.p;
}

/* A machine whose agent URL is n bytes long: "http://" then 'a's. */
static char *gen_agent(size_t n)
{
	struct sb b = {0};
	sb_add(&b, "{\"name\":\"m\",\"capacity\":{\"cpu\":1,\"memory\":1},"
	           "\"agent\":\"http://");
	sb_rep(&b, "a", n - 7);
	sb_add(&b, "\"}");
	return b.p;
}

static size_t generated(struct gen *g)
{
	size_t n = 0;
	g[n++] =
	    (struct gen){TXN, gen_nested("", 3000, ""),
	                 "line 1, column 2049: maximum parsing depth reached"};
	g[n++] = (struct gen){
	    TXN,
	    gen_nested(
	        "{\"ops\":[{\"op\":\"machine_put\",\"machine\":{\"name\":"
	        "\"m\",\"capacity\":{\"cpu\":1,\"memory\":1},\"labels\":"
	        "{\"rack\":",
	        3000, "}}}]}"),
	    "maximum parsing depth reached"};
	g[n++] = (struct gen){
	    MACHINE,
	    gen_nested("{\"name\":\"m\",\"capacity\":{\"cpu\":1,\"memory\":1},"
	               "\"labels\":{\"rack\":",
	               1000, "}}"),
	    "machine.labels.rack: expected a label value: 0-63 characters "
	    "[A-Za-z0-9._-], got an array"};
	g[n++] =
	    (struct gen){MACHINE, gen_labels(33),
	                 "machine.labels: expected at most 32 labels, got 33"};
	g[n++] = (struct gen){MACHINE, gen_agent(CS_AGENT_MAX + 1),
	                      "machine.agent: " E_AGENT
	                      ", got a string of 128 bytes"};
	g[n++] =
	    (struct gen){JOB, gen_long_command(4097),
	                 "job.command: expected a string of 1..4096 bytes, "
	                 "got a string of 4097 bytes"};
	g[n++] =
	    (struct gen){JOB, gen_job_list("depends_on", "d", 65),
	                 "job.depends_on: expected at most 64 jobs, got 65"};
	g[n++] =
	    (struct gen){JOB, gen_job_list("args", "", 1025),
	                 "job.args: expected at most 1024 arguments, got 1025"};
	g[n++] =
	    (struct gen){TXN, gen_long_note(CS_NOTE_MAX + 1),
	                 "ops[0].note: " E_NOTE ", got a string of 513 bytes"};
	g[n++] = (struct gen){TXN, gen_ops(1000001),
	                      "ops: expected an array of 1..1000000 ops, got "
	                      "1000001 entries"};
	g[n++] = (struct gen){TXN, gen_long_key(),
	                      "ops[0]."
	                      "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"
	                      "kkkkkkkkkkkkkkkk...: "
	                      "unknown field (expected one of: op, job)"};
	return n;
}

static void test_malformed_generated(void **state)
{
	(void)state;
	struct gen g[16];
	size_t n = generated(g);
	int failed = 0;
	for (size_t i = 0; i < n; i++) {
		if (!check_bad(i, g[i].target, g[i].text, strlen(g[i].text),
		               g[i].expect))
			failed++;
		free(g[i].text);
	}
	assert_int_equal(failed, 0);
}

/* A jansson string can hold a NUL; a C string cannot, so it is refused. */
static void test_nul_inside_json_string(void **state)
{
	(void)state;
	char err[CS_ERRMSG_SIZE];
	json_t *op =
	    json_pack("{s:s, s:s#}", "op", "job_kill", "job", "a\0b", 3);
	json_t *j = json_pack("{s:[o]}", "ops", op);
	cs_txn *out = NULL;
	assert_int_equal(cs_txn_decode(j, &out, err, sizeof(err)), -1);
	assert_null(out);
	assert_non_null(
	    strstr(err, "ops[0].job: " E_JOB ", got a string with a NUL byte"));
	json_decref(j);
	assert_int_equal(cs_txn_decode(NULL, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "(root): expected a transaction object"));
	struct cs_job_spec *job = NULL;
	assert_int_equal(
	    cs_job_spec_decode(NULL, "job", &job, err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "job: expected a job spec object, got nothing");
	struct cs_machine_spec *m = NULL;
	assert_int_equal(cs_machine_spec_decode(NULL, "", &m, err, sizeof(err)),
	                 -1);
	assert_null(job);
	assert_null(m);
}

/* Every prefix of a valid document, and random byte flips, are answered
 * with a message or a valid transaction: never a crash or a leak. */
/* Every prefix of text, and random byte flips in it, get an answer from
 * the decoder for t (decode_bad checks *out is left alone on error). */
static void mangle(enum target t, const char *text, uint64_t *rng)
{
	size_t len = strlen(text);
	char err[CS_ERRMSG_SIZE];
	for (size_t n = 0; n < len; n++) {
		assert_int_equal(decode_bad(t, text, n, err), -1);
		assert_printable(err);
	}
	char *copy = malloc(len);
	assert_non_null(copy);
	for (int i = 0; i < 3000; i++) {
		memcpy(copy, text, len);
		for (int f = 0; f < 1 + (int)cu_rand_below(rng, 3); f++)
			copy[cu_rand_below(rng, (uint32_t)len)] =
			    (char)cu_rand_below(rng, 256);
		err[0] = 0;
		if (decode_bad(t, copy, len, err) != 0)
			assert_printable(err);
	}
	free(copy);
}

/* Damaged documents are answered with a message or a valid value: never a
 * crash, a leak or a half-written *out. */
static void test_mangled_inputs(void **state)
{
	(void)state;
	uint64_t rng = tl_seed("test_mangled_inputs");
	cs_txn *t = cs_txn_new("id-1", "o", CS_ALL_OR_NOTHING, CS_COARSE);
	for (int k = 0; k < CS_OP__COUNT; k++)
		add_op(t, (enum cs_op_kind)k);
	char *text = dump(cs_txn_encode(t));
	cs_txn_free(t);
	mangle(TXN, text, &rng);
	free(text);
	struct cs_verdict v[] = {{CS_R_OK, NULL}, {CS_R_EXISTS, "job a"}};
	cs_result r = {7, true, false, 2, 1, v, NULL, 0};
	text = dump(cs_result_encode(&r));
	mangle(RESULT, text, &rng);
	free(text);
}

/* The validators answer built structs in the same words as the decoder. */
static void test_validate_built(void **state)
{
	(void)state;
	char err[CS_ERRMSG_SIZE];
	struct cs_label unsorted[] = {{"zone", "a"}, {"rack", "b"}};
	struct cs_machine_spec m = full_machine;
	m.labels = unsorted;
	assert_int_equal(cs_machine_spec_validate(&m, "m", err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "m.labels.rack: expected keys sorted and "
	                         "unique, got \"rack\" after \"zone\"");
	m = full_machine;
	m.agent = "http://\x01";
	assert_int_equal(cs_machine_spec_validate(&m, "m", err, sizeof(err)),
	                 -1);
	assert_string_equal(err, "m.agent: " E_AGENT ", got \"http://?\"");
	char url[CS_AGENT_MAX + 2];
	memset(url, 'a', sizeof(url) - 1);
	memcpy(url, "https://", 8);
	url[CS_AGENT_MAX] = 0; /* the longest accepted */
	m.agent = url;
	assert_int_equal(cs_machine_spec_validate(&m, "m", err, sizeof(err)),
	                 0);
	url[CS_AGENT_MAX] = 'a';
	url[CS_AGENT_MAX + 1] = 0;
	assert_int_equal(cs_machine_spec_validate(&m, "m", err, sizeof(err)),
	                 -1);
	assert_string_equal(err,
	                    "m.agent: " E_AGENT ", got a string of 128 bytes");
	struct cs_job_spec j = full_job();
	j.ntasks = 0;
	assert_int_equal(cs_job_spec_validate(&j, "", err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "tasks: expected an integer 1..1000000, got 0");
	j = full_job();
	j.command = NULL;
	j.duration_ms = 0;
	assert_int_equal(cs_job_spec_validate(&j, "", err, sizeof(err)), -1);
	assert_string_equal(err, "(root): expected \"command\" or a positive "
	                         "\"duration_ms\"");

	cs_txn *t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_COARSE);
	cs_txn_release(t, "a", 0, NULL);
	cs_op_expect_seq(cs_txn_job_kill(t, "a"), 1);
	assert_int_equal(cs_txn_validate(t, err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "ops[1].seq: expected no seq on a \"job_kill\" op");
	cs_txn_free(t);

	t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_FINE);
	cs_txn_place(t, "a", 0, "m", 1ull << 63);
	assert_int_equal(cs_txn_validate(t, err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "ops[0].seq: expected an integer "
	                    "0..9223372036854775807, got 9223372036854775808");
	cs_txn_free(t);

	/* built notes and members meet the decoder's rules */
	char longer[CS_NOTE_MAX + 2];
	memset(longer, 'x', CS_NOTE_MAX + 1);
	longer[CS_NOTE_MAX + 1] = 0;
	t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_FINE);
	cs_txn_job_note(t, "a", longer);
	assert_int_equal(cs_txn_validate(t, err, sizeof(err)), -1);
	assert_string_equal(err, "ops[0].note: " E_NOTE
	                         ", got a string of 513 bytes");
	cs_txn_free(t);
	t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_FINE);
	struct cs_sched_spec sp = {"s", "batch", "batch", 1ull << 63};
	cs_txn_sched_register(t, &sp);
	assert_int_equal(cs_txn_validate(t, err, sizeof(err)), -1);
	assert_string_equal(err, "ops[0].scheduler.member: " E_MEMBER
	                         ", got 9223372036854775808");
	cs_txn_free(t);

	t = cs_txn_new(NULL, NULL, CS_INCREMENTAL, CS_FINE);
	assert_int_equal(cs_txn_validate(t, err, sizeof(err)), -1);
	assert_string_equal(err,
	                    "ops: expected an array of 1..1000000 ops, got "
	                    "an empty array");
	cs_txn_free(t);
}

/* A NULL or zero-sized errbuf is allowed. */
static void test_no_errbuf(void **state)
{
	(void)state;
	cs_txn *out = NULL;
	assert_int_equal(cs_txn_parse("{", 1, &out, NULL, 0), -1);
	assert_int_equal(cs_txn_parse("{}", 2, &out, NULL, 0), -1);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_op_names),
	    cmocka_unit_test(test_txn_round_trip_each_op),
	    cmocka_unit_test(test_txn_round_trip_all_ops),
	    cmocka_unit_test(test_txn_defaults),
	    cmocka_unit_test(test_machine_spec_round_trip),
	    cmocka_unit_test(test_job_spec_round_trip),
	    cmocka_unit_test(test_spec_decode_order),
	    cmocka_unit_test(test_result_round_trip),
	    cmocka_unit_test(test_result_format),
	    cmocka_unit_test(test_malformed_table),
	    cmocka_unit_test(test_malformed_generated),
	    cmocka_unit_test(test_nul_inside_json_string),
	    cmocka_unit_test(test_mangled_inputs),
	    cmocka_unit_test(test_validate_built),
	    cmocka_unit_test(test_no_errbuf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
