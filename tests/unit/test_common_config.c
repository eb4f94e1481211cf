/* test_common_config.c: the flag table: both flag forms, every value type,
 * a config file under command-line overrides, the --help text, and the exact
 * message a user reads for each kind of mistake. */
#include "testlib.h"

#include "cellcommon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The settings of an imaginary celld. */
struct settings {
	char *data_dir, *token;
	uint64_t port, election_ms, max_body;
	int64_t nice;
	bool verbose, prevote;
};

static struct settings cfg;

static const struct cc_flag flags[] = {
    {"data-dir", CC_FLAG_STRING, "/var/lib/cell", "where the Raft log lives",
     &cfg.data_dir, 0, 0},
    {"token", CC_FLAG_STRING, NULL, "bearer token for mutations", &cfg.token, 0,
     0},
    {"port", CC_FLAG_UINT, "7000", "API port", &cfg.port, 0, 65535},
    {"election-timeout", CC_FLAG_DURATION, "1s", "Raft election timeout",
     &cfg.election_ms, 10, 600000},
    {"max-body", CC_FLAG_SIZE, "1MiB", "largest request body", &cfg.max_body,
     1024, 0},
    {"nice", CC_FLAG_INT, "-5", "scheduling priority", &cfg.nice, 0, 0},
    {"verbose", CC_FLAG_BOOL, NULL, "log every request", &cfg.verbose, 0, 0},
    {"pre-vote", CC_FLAG_BOOL, "true", "Raft pre-vote", &cfg.prevote, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/cell-config-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	memset(&cfg, 0, sizeof(cfg));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cc_flags_free(flags);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* A file in the test's folder; returns its path (static buffer). */
static const char *write_file(const char *name, const char *text)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* argv from a NULL-terminated list, argv[0] included */
static int parse(const char *const *args, int *next, char *err)
{
	int argc = 0;
	while (args[argc])
		argc++;
	cc_flags_free(flags);
	return cc_flags_parse(flags, argc, (char *const *)args, next, err,
	                      CC_ERRMSG_SIZE);
}

static void test_defaults(void **state)
{
	(void)state;
	char err[CC_ERRMSG_SIZE];
	const char *args[] = {"celld", NULL};
	assert_int_equal(parse(args, NULL, err), 0);
	assert_string_equal(cfg.data_dir, "/var/lib/cell");
	assert_null(cfg.token);
	assert_int_equal(cfg.port, 7000);
	assert_int_equal(cfg.election_ms, 1000);
	assert_int_equal(cfg.max_body, 1 << 20);
	assert_int_equal(cfg.nice, -5);
	assert_false(cfg.verbose);
	assert_true(cfg.prevote);
}

static void test_both_forms(void **state)
{
	(void)state;
	char err[CC_ERRMSG_SIZE];
	const char *args[] = {"celld",
	                      "--data-dir",
	                      "/srv/cell",
	                      "--port=7100",
	                      "--election-timeout",
	                      "1m30s",
	                      "--max-body=64KiB",
	                      "--nice",
	                      "-20",
	                      "--verbose",
	                      "--pre-vote=off",
	                      "--token=",
	                      NULL};
	if (parse(args, NULL, err))
		fail_msg("%s", err);
	assert_string_equal(cfg.data_dir, "/srv/cell");
	assert_string_equal(cfg.token, "");
	assert_int_equal(cfg.port, 7100);
	assert_int_equal(cfg.election_ms, 90000);
	assert_int_equal(cfg.max_body, 64 * 1024);
	assert_int_equal(cfg.nice, -20);
	assert_true(cfg.verbose);
	assert_false(cfg.prevote);

	/* the last of a repeated flag wins; = may carry an = */
	const char *again[] = {"celld",    "--port",      "1",
	                       "--port=2", "--token=a=b", NULL};
	assert_int_equal(parse(again, NULL, err), 0);
	assert_int_equal(cfg.port, 2);
	assert_string_equal(cfg.token, "a=b");
}

static void test_value_syntax(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		uint64_t ms;
	} durations[] = {{"0", 0},
	                 {"300ms", 300},
	                 {"2s", 2000},
	                 {"1.5s", 1500},
	                 {"5m", 300000},
	                 {"1h", 3600000},
	                 {"1h1m1s1ms", 3661001},
	                 {"0.25m", 15000}};
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++) {
		uint64_t ms = 1;
		assert_int_equal(cc_parse_duration_ms(durations[i].text, &ms),
		                 0);
		assert_int_equal(ms, durations[i].ms);
	}
	static const char *const bad_durations[] = {
	    "",      "5",   "fast",
	    "1.5ms", "s",   "1x",
	    "-1s",   "1.s", "99999999999999999999s"};
	for (size_t i = 0; i < sizeof(bad_durations) / sizeof(bad_durations[0]);
	     i++) {
		uint64_t ms;
		assert_int_equal(cc_parse_duration_ms(bad_durations[i], &ms),
		                 CC_EINVAL);
	}
	static const struct {
		const char *text;
		uint64_t us;
	} micro[] = {{"250us", 250},
	             {"0.5ms", 500},
	             {"1.000001s", 1000001},
	             {"2s3us", 2000003},
	             {"0", 0}};
	for (size_t i = 0; i < sizeof(micro) / sizeof(micro[0]); i++) {
		uint64_t us = 1;
		assert_int_equal(cc_parse_duration_us(micro[i].text, &us), 0);
		assert_int_equal(us, micro[i].us);
	}
	uint64_t us;
	/* finer than a microsecond, and a ms flag given microseconds */
	assert_int_equal(cc_parse_duration_us("0.5us", &us), CC_EINVAL);
	assert_int_equal(cc_parse_duration_ms("250us", &us), CC_EINVAL);
	static const struct {
		const char *text;
		uint64_t bytes;
	} sizes[] = {
	    {"0", 0},          {"4096", 4096},       {"512KiB", 512 << 10},
	    {"4MiB", 4 << 20}, {"1GiB", 1ull << 30}, {"2Gi", 2ull << 30},
	    {"10KB", 10000},   {"10k", 10000},       {"3mb", 3000000},
	    {"7B", 7}};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t b = 1;
		assert_int_equal(cc_parse_size(sizes[i].text, &b), 0);
		assert_int_equal(b, sizes[i].bytes);
	}
	static const char *const bad_sizes[] = {
	    "", "lots", "1.5MiB", "-1", "1 MiB", "99999999999TiB"};
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		uint64_t b;
		assert_int_equal(cc_parse_size(bad_sizes[i], &b), CC_EINVAL);
	}
	static const char *const yes[] = {"true", "YES", "on", "1"};
	static const char *const no[] = {"false", "No", "OFF", "0"};
	for (size_t i = 0; i < 4; i++) {
		bool v = false;
		assert_int_equal(cc_parse_bool(yes[i], &v), 0);
		assert_true(v);
		assert_int_equal(cc_parse_bool(no[i], &v), 0);
		assert_false(v);
	}
	bool v;
	assert_int_equal(cc_parse_bool("maybe", &v), CC_EINVAL);
}

static void test_file_and_overrides(void **state)
{
	(void)state;
	const char *path = write_file(
	    "cell.conf", "# a cell member\n"
	                 "\n"
	                 "data-dir = \"/srv/my cell # 1\"  # quoted\n"
	                 "port=7200\n"
	                 "   election-timeout   =   250ms   \n"
	                 "token = secret # comment after a value\n"
	                 "verbose = yes\n"
	                 "pre-vote = \"false\"\n"
	                 "nice = 3\n");
	char err[CC_ERRMSG_SIZE];
	const char *args[] = {"celld", "--config", path, NULL};
	if (parse(args, NULL, err))
		fail_msg("%s", err);
	assert_string_equal(cfg.data_dir, "/srv/my cell # 1");
	assert_int_equal(cfg.port, 7200);
	assert_int_equal(cfg.election_ms, 250);
	assert_string_equal(cfg.token, "secret");
	assert_true(cfg.verbose);
	assert_false(cfg.prevote);
	assert_int_equal(cfg.nice, 3);
	assert_int_equal(cfg.max_body, 1 << 20); /* untouched: default */

	/* the command line wins over the file, wherever --config is */
	char eq[256];
	snprintf(eq, sizeof(eq), "--config=%s", path);
	const char *both[] = {"celld",   "--port=7300", eq,  "--verbose=false",
	                      "--token", "cli",         NULL};
	if (parse(both, NULL, err))
		fail_msg("%s", err);
	assert_int_equal(cfg.port, 7300);
	assert_false(cfg.verbose);
	assert_string_equal(cfg.token, "cli");
	assert_int_equal(cfg.election_ms, 250); /* from the file */
}

static void test_positionals(void **state)
{
	(void)state;
	char err[CC_ERRMSG_SIZE];
	int next = -1;
	const char *args[] = {"cellctl", "--port", "1", "get",
	                      "jobs",    "--port", "2", NULL};
	assert_int_equal(parse(args, &next, err), 0);
	assert_int_equal(next, 3);
	assert_int_equal(cfg.port, 1);

	const char *dashes[] = {"cellctl", "--verbose", "--", "--port", NULL};
	assert_int_equal(parse(dashes, &next, err), 0);
	assert_int_equal(next, 3);
	assert_true(cfg.verbose);

	const char *none[] = {"cellctl", "--verbose", NULL};
	assert_int_equal(parse(none, &next, err), 0);
	assert_int_equal(next, 2);

	/* a lone "-" is an argument (stdin, by convention) */
	const char *dash[] = {"cellctl", "-", NULL};
	assert_int_equal(parse(dash, &next, err), 0);
	assert_int_equal(next, 1);
}

static void test_help(void **state)
{
	(void)state;
	char err[CC_ERRMSG_SIZE];
	const char *h1[] = {"celld", "--port=1", "--help", "--bogus", NULL};
	assert_int_equal(parse(h1, NULL, err), CC_HELP);
	const char *h2[] = {"celld", "-h", NULL};
	assert_int_equal(parse(h2, NULL, err), CC_HELP);

	char *text =
	    cc_flags_help(flags, "celld [flags]", "Serves the cell state.");
	assert_string_equal(
	    text,
	    "Usage: celld [flags]\n"
	    "\n"
	    "Serves the cell state.\n"
	    "\n"
	    "Flags:\n"
	    "  --config FILE\n"
	    "        read settings from FILE, one \"name = value\" per line "
	    "(names as below, without --; flags given here win)\n"
	    "  --data-dir TEXT\n"
	    "        where the Raft log lives (default \"/var/lib/cell\")\n"
	    "  --token TEXT\n"
	    "        bearer token for mutations (default: none)\n"
	    "  --port N\n"
	    "        API port (default 7000)\n"
	    "  --election-timeout DURATION\n"
	    "        Raft election timeout (default 1s)\n"
	    "  --max-body SIZE\n"
	    "        largest request body (default 1MiB)\n"
	    "  --nice INT\n"
	    "        scheduling priority (default -5)\n"
	    "  --verbose\n"
	    "        log every request (default false)\n"
	    "  --pre-vote\n"
	    "        Raft pre-vote (default true)\n"
	    "  --help\n"
	    "        print this help and exit\n");
	/* every flag is there */
	for (const struct cc_flag *f = flags; f->name; f++) {
		char needle[64];
		snprintf(needle, sizeof(needle), "  --%s", f->name);
		assert_non_null(strstr(text, needle));
	}
	free(text);
}

/* ---- mistakes, each with the exact message the user reads ---- */

struct bad {
	const char *args[8];
	const char *message;
};

static void check_bad(const struct bad *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char err[CC_ERRMSG_SIZE] = "";
		int rc = parse(cases[i].args, NULL, err);
		if (rc != CC_EINVAL || strcmp(err, cases[i].message) != 0)
			fail_msg(
			    "case %zu: rc %d, message:\n  %s\nwanted:\n  %s", i,
			    rc, err, cases[i].message);
	}
}

static void test_bad_flags(void **state)
{
	(void)state;
	static const struct bad cases[] = {
	    {{"celld", "--election-timeout", "fast"},
	     "--election-timeout: expected a duration from 10ms to 10m, got "
	     "\"fast\""},
	    {{"celld", "--election-timeout=5ms"},
	     "--election-timeout: expected a duration from 10ms to 10m, got "
	     "\"5ms\""},
	    {{"celld", "--colour=red"}, "unknown flag \"--colour=red\""},
	    {{"celld", "-p", "7000"}, "unknown flag \"-p\""},
	    {{"celld", "--port"}, "--port: expected a value after it"},
	    {{"celld", "--port", "70000"},
	     "--port: expected a whole number from 0 to 65535, got \"70000\""},
	    {{"celld", "--port=-1"},
	     "--port: expected a whole number from 0 to 65535, got \"-1\""},
	    {{"celld", "--max-body", "lots"},
	     "--max-body: expected a size of at least 1KiB, got \"lots\""},
	    {{"celld", "--max-body", "12"},
	     "--max-body: expected a size of at least 1KiB, got \"12\""},
	    {{"celld", "--nice", "1.5"},
	     "--nice: expected an integer, got \"1.5\""},
	    {{"celld", "--verbose=maybe"},
	     "--verbose: expected true or false, got \"maybe\""},
	    {{"celld", "extra"}, "unexpected argument \"extra\""},
	    {{"celld", "--verbose", "false"}, "unexpected argument \"false\""},
	    {{"celld", "--help=yes"}, "--help: takes no value"},
	    {{"celld", "--config"}, "--config: expected a value after it"},
	    {{"celld", "--config="}, "--config: expected a file name"},
	    {{"celld", "--config=a", "--config=b"},
	     "--config: given more than once"},
	    {{"celld", "--nice", "9223372036854775808"},
	     "--nice: expected an integer, got \"9223372036854775808\""},
	    {{"celld", "--token=x", "--port=\x01\"\\"},
	     "--port: expected a whole number from 0 to 65535, got "
	     "\"\\x01\\x22\\x5c\""},
	};
	check_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_bad_files(void **state)
{
	(void)state;
	struct {
		const char *text, *message; /* after the file's path */
	} cases[] = {
	    {"port = 7000\n# fine so far\ncolour = red\n",
	     ":3: unknown setting \"colour\""},
	    {"port 7000\n", ":1: expected \"name = value\", got \"port 7000\""},
	    {"= 7000\n", ":1: expected \"name = value\", got no name"},
	    {"election-timeout = fast\n",
	     ":1: election-timeout: expected a duration from 10ms to 10m, "
	     "got \"fast\""},
	    {"port = 1\nport = 2\n", ":2: \"port\" is already set on line 1"},
	    {"data-dir = \"/srv/cell\n", ":1: data-dir: unterminated quote"},
	    {"data-dir = \"/srv\" cell\n",
	     ":1: data-dir: unexpected text after the closing quote"},
	    {"config = other.conf\n",
	     ":1: a config file cannot name another one"},
	    {"verbose = \n", ":1: verbose: expected true or false, got \"\""},
	    {"--port = 1\n", ":1: unknown setting \"--port\""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = write_file("bad.conf", cases[i].text);
		char eq[256], want[CC_ERRMSG_SIZE], err[CC_ERRMSG_SIZE] = "";
		snprintf(eq, sizeof(eq), "--config=%s", path);
		snprintf(want, sizeof(want), "%s%s", path, cases[i].message);
		const char *args[] = {"celld", eq, NULL};
		int rc = parse(args, NULL, err);
		if (rc != CC_EINVAL || strcmp(err, want) != 0)
			fail_msg(
			    "case %zu: rc %d, message:\n  %s\nwanted:\n  %s", i,
			    rc, err, want);
	}

	/* a file that is not there */
	char err[CC_ERRMSG_SIZE];
	const char *args[] = {"celld", "--config", "/nonexistent/cell.conf",
	                      NULL};
	assert_int_equal(parse(args, NULL, err), CC_EINVAL);
	assert_string_equal(err, "/nonexistent/cell.conf: cannot read: No "
	                         "such file or directory");

	/* a bad command-line value is reported even when the file is bad */
	const char *path = write_file("bad.conf", "colour = red\n");
	char eq[256];
	snprintf(eq, sizeof(eq), "--config=%s", path);
	const char *both[] = {"celld", eq, "--port=x", NULL};
	assert_int_equal(parse(both, NULL, err), CC_EINVAL);
	assert_string_equal(err, "--port: expected a whole number from 0 to "
	                         "65535, got \"x\"");
}

static void test_bad_table(void **state)
{
	(void)state;
	uint64_t v;
	char *s = NULL;
	char err[CC_ERRMSG_SIZE];
	const char *args[] = {"x", NULL};
	struct cc_flag bad_default[] = {
	    {"timeout", CC_FLAG_DURATION, "soon", "h", &v, 0, 0},
	    {NULL, 0, NULL, NULL, NULL, 0, 0}};
	assert_int_equal(cc_flags_parse(bad_default, 1, (char *const *)args,
	                                NULL, err, sizeof(err)),
	                 CC_EINVAL);
	assert_string_equal(err, "flag table: default of timeout: expected a "
	                         "duration like 300ms or 2s, got \"soon\"");
	struct cc_flag twice[] = {{"a", CC_FLAG_STRING, NULL, "h", &s, 0, 0},
	                          {"a", CC_FLAG_UINT, NULL, "h", &v, 0, 0},
	                          {NULL, 0, NULL, NULL, NULL, 0, 0}};
	assert_int_equal(cc_flags_parse(twice, 1, (char *const *)args, NULL,
	                                err, sizeof(err)),
	                 CC_EINVAL);
	assert_string_equal(err, "flag table: a: declared twice");
	cc_flags_free(twice);
	struct cc_flag reserved[] = {
	    {"help", CC_FLAG_BOOL, NULL, "h", &v, 0, 0},
	    {NULL, 0, NULL, NULL, NULL, 0, 0}};
	assert_int_equal(cc_flags_parse(reserved, 1, (char *const *)args, NULL,
	                                err, sizeof(err)),
	                 CC_EINVAL);
	assert_string_equal(err, "flag table: bad or reserved name \"help\"");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_defaults),     T(test_both_forms),
	    T(test_value_syntax), T(test_file_and_overrides),
	    T(test_positionals),  T(test_help),
	    T(test_bad_flags),    T(test_bad_files),
	    T(test_bad_table),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
