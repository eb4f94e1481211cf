/* cell.c: the tests' profile of localcell, and its entry points (see
 * cell.h). */
#include "cell.h"
#include "testlib.h"

#include <signal.h>
#include <stdlib.h>

static const char *const celld_flags[] = {"--election-timeout",
                                          "300ms",
                                          "--heartbeat-timeout",
                                          "30ms",
                                          "--log-level",
                                          "debug",
                                          "--machine-ttl",
                                          "0",
                                          "--sched-ttl",
                                          "0",
                                          NULL};
static const char *const sched_flags[] = {"--log-level", "debug", "--heartbeat",
                                          "200ms", NULL};
static const char *const agent_flags[] = {
    "--log-level",  "debug", "--heartbeat", "200ms",
    "--kill-grace", "500ms", NULL};

/* cmocka shows it as the failure; the folder is removed at teardown
 * unless CELL_KEEP_TEST_DATA is set. */
static void fail_test(const struct lc_cell *c, const char *msg)
{
	if (c)
		fail_msg("%s (logs in %s)", msg, c->root);
	fail_msg("%s", msg);
}

static const struct lc_profile tests = {
    .folder = "cell-test",
    .keep_env = "CELL_KEEP_TEST_DATA",
    .celld = celld_flags,
    .sched = sched_flags,
    .agent = agent_flags,
    .timeout_ms = 10000,
    .connect_timeout_ms = 1000,
    .origin = "test",
    .trouble = fail_test,
};

/* The profile, for every call that may be a test's first. */
static void profile(void)
{
	lc_init(&tests);
}

/* The binaries' folder as ctest passes it, for calls that run them. */
static void bins(void)
{
	static bool found;
	profile();
	if (!found) {
		const char *dir = getenv("CELL_BIN_DIR");
		found = true;
		lc_find_bins(dir ? dir : "./bin");
	}
}

struct lc_cell *tl_cell_start(int n, const char *const *extra)
{
	bins();
	return lc_start(n, extra);
}

const char *tl_bin(const char *name)
{
	bins();
	return lc_bin(name);
}

int tl_free_port(void)
{
	profile();
	return lc_free_port();
}

long tl_http(const char *method, const char *url, const json_t *body,
             json_t **out)
{
	profile();
	return lc_http_json(method, url, body, out);
}

void tl_reap(pid_t *kids, int n)
{
	for (int i = 0; i < n; i++)
		if (kids[i] > 0)
			lc_kill_wait(&kids[i], SIGKILL);
}
