/* test_common_log.c: one line per event with UTC time in milliseconds,
 * level, tag and message; the level threshold; a log file; control
 * characters that could split a line; and the error-code table. */
#include "testlib.h"

#include "cellcommon.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[64];

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof(path), "/tmp/cell-log-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	char err[CC_ERRMSG_SIZE];
	if (cc_log_open(path, err, sizeof(err)))
		fail_msg("%s", err);
	cc_log_set_level(CC_LOG_INFO);
	cc_log_set_tag("celld[2]");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(cc_log_open(NULL, NULL, 0), 0); /* back to stderr */
	cc_log_set_tag(NULL);
	cc_log_set_level(CC_LOG_INFO);
	unlink(path);
	return 0;
}

/* The file's lines (malloc'd, NULL-terminated array; free with free_lines). */
static char **read_lines(size_t *n)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char **lines = calloc(64, sizeof(char *));
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	*n = 0;
	while ((len = getline(&line, &cap, f)) > 0 && *n < 63) {
		assert_int_equal(line[len - 1], '\n');
		line[len - 1] = '\0';
		lines[(*n)++] = strdup(line);
	}
	free(line);
	fclose(f);
	return lines;
}

static void free_lines(char **lines)
{
	for (size_t i = 0; lines[i]; i++)
		free(lines[i]);
	free(lines);
}

static void assert_matches(const char *text, const char *pattern)
{
	regex_t re;
	assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	int rc = regexec(&re, text, 0, NULL, 0);
	regfree(&re);
	if (rc != 0)
		fail_msg("\"%s\" does not match /%s/", text, pattern);
}

#define TIME                                                                   \
	"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "

static void test_line_format_and_levels(void **state)
{
	(void)state;
	CC_DEBUG("not shown at INFO");
	CC_INFO("leader elected, term %d", 3);
	CC_WARN("slow fsync: %.1f ms", 12.5);
	CC_ERROR("disk full");
	cc_log_set_level(CC_LOG_DEBUG);
	assert_true(cc_log_enabled(CC_LOG_DEBUG));
	CC_DEBUG("now shown");
	cc_log_set_level(CC_LOG_ERROR);
	assert_false(cc_log_enabled(CC_LOG_WARN));
	CC_WARN("dropped");
	cc_log_set_tag(NULL);
	CC_ERROR("untagged");

	size_t n;
	char **lines = read_lines(&n);
	assert_int_equal(n, 5);
	assert_matches(lines[0], TIME "INFO celld\\[2\\]: leader elected, "
	                              "term 3$");
	assert_matches(lines[1], TIME "WARN celld\\[2\\]: slow fsync: 12.5 "
	                              "ms$");
	assert_matches(lines[2], TIME "ERROR celld\\[2\\]: disk full$");
	assert_matches(lines[3], TIME "DEBUG celld\\[2\\]: now shown$");
	assert_matches(lines[4], TIME "ERROR untagged$");
	free_lines(lines);
}

static void test_one_event_one_line(void **state)
{
	(void)state;
	CC_INFO("bad path \"/v1/a\r\nInjected: yes\" tab\there \x01 end");
	char *big = malloc(20000);
	memset(big, 'x', 19999);
	big[19999] = '\0';
	CC_INFO("%s", big);
	free(big);

	size_t n;
	char **lines = read_lines(&n);
	assert_int_equal(n, 2);
	assert_matches(lines[0], TIME "INFO celld\\[2\\]: bad path "
	                              "\"/v1/a\\\\r\\\\nInjected: yes\" "
	                              "tab\\\\there \\\\x01 end$");
	/* cut, and says so */
	assert_true(strlen(lines[1]) < 8300);
	assert_matches(lines[1], "x\\.\\.\\.$");
	free_lines(lines);
}

static void test_levels_by_name(void **state)
{
	(void)state;
	assert_int_equal(cc_log_level_parse("debug"), CC_LOG_DEBUG);
	assert_int_equal(cc_log_level_parse("INFO"), CC_LOG_INFO);
	assert_int_equal(cc_log_level_parse("Warning"), CC_LOG_WARN);
	assert_int_equal(cc_log_level_parse("warn"), CC_LOG_WARN);
	assert_int_equal(cc_log_level_parse("error"), CC_LOG_ERROR);
	assert_int_equal(cc_log_level_parse("loud"), -1);
	assert_int_equal(cc_log_level_parse(NULL), -1);
	assert_string_equal(cc_log_level_name(CC_LOG_WARN), "WARN");
}

static void test_open_errors(void **state)
{
	(void)state;
	char err[CC_ERRMSG_SIZE];
	assert_int_equal(
	    cc_log_open("/nonexistent/dir/cell.log", err, sizeof(err)), CC_EIO);
	assert_string_equal(err, "log file /nonexistent/dir/cell.log: cannot "
	                         "open: No such file or directory");
	/* the old output is still in use */
	CC_INFO("still here");
	size_t n;
	char **lines = read_lines(&n);
	assert_int_equal(n, 1);
	free_lines(lines);
}

static void test_error_names(void **state)
{
	(void)state;
	assert_string_equal(cc_strerror(CC_OK), "ok");
	assert_string_equal(cc_strerror(CC_ETIMEOUT), "timed out");
	assert_string_equal(cc_strerror(CC_ESTATE),
	                    "not allowed in this state");
	assert_string_equal(cc_strerror(-99), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	    T(test_line_format_and_levels),
	    T(test_one_event_one_line),
	    T(test_levels_by_name),
	    T(test_open_errors),
	    T(test_error_names),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
