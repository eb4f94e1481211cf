/* test_client_watch.c: cellclient's watch follower against fake members
 * (tl_member) on the test's loop: every change exactly once and in order
 * across a stream that breaks in the middle of an index's changes, across
 * members and a member that goes away; progress lines; 410 ends the watch
 * with on_gone, another 4xx with on_refused; a round of members that give
 * nothing pauses; lines that are not changes are skipped; cancelling from
 * a handler; freeing the cell with a watch following; the blocking
 * flavour's follow. */
#include "testlib.h"

#include "cellclient.h"
#include "evtest.h"
#include "tl_member.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEADLINE 20.0
#define NLOG     6
#define MAX_SEEN 32

struct fx {
	struct ev_loop *loop;
	struct tl_member m[2];
	char refused[2][64];
	int refused_fd[2];
	char text[NLOG][CS_CHANGE_TEXT_MAX];
	struct tl_line log[NLOG];
	cl_cell *cell;
	cl_watch *w;
	/* what the handlers saw */
	char seen[MAX_SEEN][CS_CHANGE_TEXT_MAX];
	int nseen, breaks, gone, refusals, opens, skips;
	uint64_t progress, gone_from;
	char gone_url[64], break_url[8][64], break_next[8][64];
	long break_http[8], refused_http;
	unsigned break_idle[8], break_members;
	double break_at[8];
	char detail[CC_ERRMSG_SIZE];
	int stop_after_breaks; /* on_break returns false then; 0: never */
	int cancel_at;         /* cancel from the nth change; 0: never */
	bool free_at_change;   /* free the cell from the first change */
	bool free_at_break;    /* free the cell from the first break */
};

/* The log: index 3 one change, index 5 three (a job killed with its
 * tasks), index 6 one. */
static void make_log(struct fx *f)
{
	struct cs_change c[NLOG];
	uint64_t idx[NLOG] = {3, 5, 5, 5, 6, 6};
	memset(c, 0, sizeof(c));
	c[0].kind = CS_CHANGE_MACHINE;
	strcpy(c[0].machine, "m1");
	c[1].kind = CS_CHANGE_JOB;
	c[1].state = CS_JOB_KILLED;
	strcpy(c[1].job, "web");
	for (int i = 2; i <= 3; i++) {
		c[i].kind = CS_CHANGE_TASK;
		c[i].state = CS_TASK_KILLED;
		c[i].end = CS_END_KILLED;
		c[i].task = (uint32_t)i - 2;
		strcpy(c[i].job, "web");
		strcpy(c[i].machine, "m1");
	}
	c[4].kind = CS_CHANGE_JOB_REMOVED;
	strcpy(c[4].job, "web");
	c[5].kind = CS_CHANGE_MACHINE_REMOVED;
	strcpy(c[5].machine, "m1");
	for (int i = 0; i < NLOG; i++) {
		cs_change_format(&c[i], idx[i], f->text[i], sizeof(f->text[i]));
		f->log[i] = (struct tl_line){idx[i], f->text[i]};
	}
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->loop = ev_loop_new(EVFLAG_AUTO);
	make_log(f);
	for (int i = 0; i < 2; i++) {
		tl_member_start(&f->m[i], f->loop);
		f->m[i].log = f->log;
		f->m[i].nlog = NLOG;
		uint16_t port;
		f->refused_fd[i] = tl_refusing_port(&port);
		snprintf(f->refused[i], sizeof(f->refused[i]),
		         "http://127.0.0.1:%u", port);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	cl_cell_free(f->cell);
	for (int i = 0; i < 2; i++) {
		tl_member_stop(&f->m[i]);
		close(f->refused_fd[i]);
	}
	ev_loop_destroy(f->loop);
	free(f);
	return 0;
}

/* ---- handlers ---- */

static void on_change(void *arg, uint64_t index, const struct cs_change *c,
                      const char *line, size_t len)
{
	struct fx *f = arg;
	char again[CS_CHANGE_TEXT_MAX];
	/* the decoded change is the line */
	assert_int_equal(cs_change_format(c, index, again, sizeof(again)), len);
	assert_string_equal(again, line);
	if (f->nseen < MAX_SEEN)
		snprintf(f->seen[f->nseen], sizeof(f->seen[0]), "%s", line);
	f->nseen++;
	if (f->cancel_at && f->nseen == f->cancel_at)
		cl_watch_cancel(f->w);
	if (f->free_at_change) {
		cl_cell_free(f->cell);
		f->cell = NULL;
	}
}

static void on_gone(void *arg, const char *url, uint64_t from,
                    const char *detail)
{
	struct fx *f = arg;
	f->gone++;
	f->gone_from = from;
	f->w = NULL;
	snprintf(f->gone_url, sizeof(f->gone_url), "%s", url);
	snprintf(f->detail, sizeof(f->detail), "%s", detail);
}

static void on_refused(void *arg, const char *url, long http,
                       const char *detail)
{
	struct fx *f = arg;
	assert_string_equal(url, f->m[0].h.base);
	f->refusals++;
	f->refused_http = http;
	f->w = NULL;
	snprintf(f->detail, sizeof(f->detail), "%s", detail);
}

static bool on_break(void *arg, const struct cl_watch_break *b)
{
	struct fx *f = arg;
	int i = f->breaks++;
	if (i < 8) {
		snprintf(f->break_url[i], 64, "%s", b->url);
		snprintf(f->break_next[i], 64, "%s", b->next);
		f->break_http[i] = b->http;
		f->break_idle[i] = b->idle;
		f->break_at[i] = ev_time();
		assert_true(b->code ? b->http == 0 : b->http != 0);
	}
	f->break_members = b->members;
	bool go_on = !f->stop_after_breaks || f->breaks < f->stop_after_breaks;
	if (!go_on)
		f->w = NULL;
	if (f->free_at_break) {
		cl_cell_free(f->cell);
		f->cell = NULL;
		f->w = NULL;
	}
	return go_on;
}

static void on_progress(void *arg, uint64_t index)
{
	((struct fx *)arg)->progress = index;
}

static void on_open(void *arg, const char *url)
{
	(void)url;
	((struct fx *)arg)->opens++;
}

static void on_skip(void *arg, const char *line, size_t len, const char *why)
{
	(void)line;
	(void)len;
	assert_non_null(why);
	((struct fx *)arg)->skips++;
}

static void start(struct fx *f, uint64_t from, unsigned pause_ms)
{
	struct cl_watch_handlers h = {.on_change = on_change,
	                              .on_gone = on_gone,
	                              .on_refused = on_refused,
	                              .on_break = on_break,
	                              .on_progress = on_progress,
	                              .on_open = on_open,
	                              .on_skip = on_skip,
	                              .arg = f};
	struct cl_policy p = {.pause_ms = pause_ms, .pause_max_ms = pause_ms};
	f->w = cl_watch_start(f->cell, from, "job=web", &p, &h);
	assert_non_null(f->w);
	assert_int_equal(f->nseen + f->breaks + f->opens, 0);
}

static cl_cell *cell_of(struct fx *f, const char *u0, const char *u1)
{
	const char *urls[2] = {u0, u1};
	struct cl_config cfg = {.urls = urls, .nurls = u1 ? 2 : 1};
	f->cell = cl_cell_new(f->loop, &cfg);
	return f->cell;
}

static bool seen_all(void *arg)
{
	return ((struct fx *)arg)->nseen >= NLOG;
}

static bool seen_more(void *arg)
{
	return ((struct fx *)arg)->nseen > NLOG;
}

static bool seen_five(void *arg)
{
	return ((struct fx *)arg)->nseen >= 5;
}

static bool seen_one(void *arg)
{
	return ((struct fx *)arg)->nseen >= 1;
}

static bool progressed_to_9(void *arg)
{
	return ((struct fx *)arg)->progress == 9;
}

static void wait_for(struct fx *f, bool (*cond)(void *))
{
	if (!tl_run_until(f->loop, cond, f, DEADLINE))
		fail_msg("the condition did not hold within %.0f s (saw %d "
		         "changes, %d breaks)",
		         DEADLINE, f->nseen, f->breaks);
}

/* Every change of the log from index `from` on, once, in order. */
static void saw_log_from(const struct fx *f, uint64_t from)
{
	int k = 0;
	for (int i = 0; i < NLOG; i++) {
		if (f->log[i].index < from)
			continue;
		assert_true(k < f->nseen);
		assert_string_equal(f->seen[k], f->log[i].text);
		k++;
	}
	assert_int_equal(f->nseen, k);
}

/* ---- the cursor ---- */

/* m0 ends each stream after 3 lines: in the middle of index 5's three
 * changes; the watch resumes on m1 from index 5, skipping two. */
static void test_break_in_the_middle_of_an_index(void **state)
{
	struct fx *f = *state;
	f->m[0].cut_after = 3;
	cell_of(f, f->m[0].h.base, f->m[1].h.base);
	start(f, 1, 60000);
	wait_for(f, seen_all);
	saw_log_from(f, 1);
	assert_int_equal(f->breaks, 1);
	assert_string_equal(f->break_url[0], f->m[0].h.base);
	assert_string_equal(f->break_next[0], f->m[1].h.base);
	assert_int_equal(f->break_http[0], 200); /* the member ended it */
	assert_int_equal(f->break_idle[0], 0);
	assert_int_equal(f->break_members, 2);
	assert_int_equal(f->m[1].last_from, 5);
	uint64_t from, skip;
	cl_watch_cursor(f->w, &from, &skip);
	assert_int_equal(from, 6);
	assert_int_equal(skip, 2);
	assert_int_equal(f->opens, 2);
	/* nothing more comes while it follows */
	assert_false(tl_run_until(f->loop, seen_more, f, 0.2));
}

/* One member that cuts its first three streams after two lines: each
 * resume repeats what index 5 already gave, and nothing comes out twice;
 * the streams that moved nothing make a round, and a pause. */
static void test_one_member_cuts_streams(void **state)
{
	struct fx *f = *state;
	f->m[0].cut_after = 2;
	f->m[0].cuts = 3;
	cell_of(f, f->m[0].h.base, NULL);
	start(f, 4, 1);
	wait_for(f, seen_five);
	saw_log_from(f, 4); /* index 3 is before 4: five from the log */
	assert_int_equal(f->breaks, 3);
	assert_int_equal(f->break_idle[0], 0);
	assert_int_equal(f->break_idle[1], 1);
	assert_int_equal(f->break_idle[2], 2);
	assert_int_equal(f->m[0].streams, 4);
	assert_int_equal(f->m[0].last_from, 5);
}

/* A member that goes away mid-stream: on to the next. */
static void test_member_goes_away(void **state)
{
	struct fx *f = *state;
	cell_of(f, f->m[0].h.base, f->m[1].h.base);
	start(f, 4, 60000);
	wait_for(f, seen_five);
	assert_int_equal(f->m[0].streams, 1);
	tl_member_stop(&f->m[0]); /* the open stream breaks */
	f->m[1].progress = 9;
	/* m1 is asked from index 6 on, where the watch was, and its
	 * progress line moves the cursor past 9 */
	wait_for(f, progressed_to_9);
	saw_log_from(f, 4);
	assert_int_equal(f->m[1].last_from, 6);
	uint64_t from, skip;
	cl_watch_cursor(f->w, &from, &skip);
	assert_int_equal(from, 10);
	assert_int_equal(skip, 0);
	assert_int_equal(f->breaks, 1);
	assert_int_equal(f->break_http[0], 0); /* broken off */
}

/* ---- what ends a watch ---- */

static bool gone(void *arg)
{
	return ((struct fx *)arg)->gone > 0;
}

static void test_410_is_gone(void **state)
{
	struct fx *f = *state;
	f->m[0].gone_below = 100;
	cell_of(f, f->m[0].h.base, NULL);
	start(f, 7, 60000);
	wait_for(f, gone);
	assert_int_equal(f->gone, 1);
	assert_int_equal(f->gone_from, 7);
	assert_string_equal(f->gone_url, f->m[0].h.base);
	assert_non_null(strstr(f->detail, "older"));
	assert_int_equal(f->breaks, 0);
	/* the watch is over: the blocking follow returns at once */
	cl_sync_follow(f->cell);
	assert_int_equal(f->m[0].streams, 1);
}

static bool refusal(void *arg)
{
	return ((struct fx *)arg)->refusals > 0;
}

static void test_4xx_is_refused(void **state)
{
	struct fx *f = *state;
	f->m[0].refuse_watch = 400;
	cell_of(f, f->m[0].h.base, f->m[1].h.base);
	start(f, 1, 60000);
	wait_for(f, refusal);
	assert_int_equal(f->refused_http, 400);
	assert_string_equal(f->detail, "scripted");
	assert_int_equal(f->m[1].streams, 0); /* no other member will undo */
	assert_int_equal(f->gone + f->breaks, 0);
}

static bool four_breaks(void *arg)
{
	return ((struct fx *)arg)->breaks >= 4;
}

/* Nobody there: a round of members that gave nothing pauses before the
 * next; on_break can end it. */
static void test_idle_rounds_pause(void **state)
{
	struct fx *f = *state;
	unsigned pause = 200;
	f->stop_after_breaks = 4;
	cell_of(f, f->refused[0], f->refused[1]);
	start(f, 1, pause);
	wait_for(f, four_breaks);
	for (int i = 0; i < 4; i++)
		assert_int_equal(f->break_idle[i], (unsigned)i + 1);
	assert_int_equal(f->break_http[0], 0);
	assert_string_equal(f->break_next[0], f->refused[1]);
	/* the second member at once, the round's end waited for */
	assert_true(f->break_at[2] - f->break_at[1] >= pause / 1000.0 * 0.9);
	cl_sync_follow(f->cell); /* over: returns */
	assert_int_equal(f->breaks, 4);
}

static void test_lines_that_are_not_changes(void **state)
{
	struct fx *f = *state;
	static const struct tl_line odd[] = {
	    {1, "{\"index\":1,\"kind\":\"spaceship\"}"},
	    {1, "not json"},
	    {2, "{\"index\":2,\"kind\":\"job_removed\",\"job\":\"web\"}"}};
	f->m[0].log = odd;
	f->m[0].nlog = 3;
	cell_of(f, f->m[0].h.base, NULL);
	start(f, 1, 60000);
	wait_for(f, seen_one);
	assert_int_equal(f->skips, 2);
	assert_int_equal(f->nseen, 1);
	assert_string_equal(f->seen[0], odd[2].text);
}

/* ---- stopping ---- */

static bool two_seen(void *arg)
{
	return ((struct fx *)arg)->nseen >= 2;
}

static void test_cancel_from_a_change(void **state)
{
	struct fx *f = *state;
	f->cancel_at = 2;
	cell_of(f, f->m[0].h.base, NULL);
	start(f, 1, 60000);
	wait_for(f, two_seen);
	assert_false(tl_run_until(f->loop, seen_all, f, 0.3));
	assert_int_equal(f->nseen, 2);
	assert_int_equal(f->breaks, 0);
	cl_sync_follow(f->cell); /* no watch left */
}

static void test_cancel_and_free(void **state)
{
	struct fx *f = *state;
	cell_of(f, f->m[0].h.base, NULL);
	start(f, 1, 60000);
	wait_for(f, seen_all);
	cl_watch_cancel(f->w); /* a stream open at the member */
	f->w = NULL;
	f->nseen = f->opens = 0;
	start(f, 1, 60000);
	wait_for(f, two_seen);
	cl_cell_free(f->cell); /* with a watch following: no handler runs */
	f->cell = NULL;
	int seen = f->nseen;
	ev_run(f->loop, EVRUN_NOWAIT);
	assert_int_equal(f->nseen, seen);
	assert_int_equal(f->breaks, 0);
}

static void test_free_from_a_change(void **state)
{
	struct fx *f = *state;
	f->free_at_change = true;
	cell_of(f, f->m[0].h.base, NULL);
	start(f, 1, 60000);
	wait_for(f, seen_one);
	assert_int_equal(f->nseen, 1);
	assert_null(f->cell);
	ev_run(f->loop, EVRUN_NOWAIT);
	assert_int_equal(f->nseen, 1);
}

static bool broke_once(void *arg)
{
	return ((struct fx *)arg)->breaks > 0;
}

static void test_free_from_a_break(void **state)
{
	struct fx *f = *state;
	f->free_at_break = true;
	f->m[0].cut_after = 1;
	cell_of(f, f->m[0].h.base, f->m[1].h.base);
	start(f, 1, 60000);
	wait_for(f, broke_once);
	assert_null(f->cell);
	assert_false(tl_run_until(f->loop, two_seen, f, 0.2));
	assert_int_equal(f->breaks, 1);
	assert_int_equal(f->nseen, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_break_in_the_middle_of_an_index),
	    T(test_one_member_cuts_streams),
	    T(test_member_goes_away),
	    T(test_410_is_gone),
	    T(test_4xx_is_refused),
	    T(test_idle_rounds_pause),
	    T(test_lines_that_are_not_changes),
	    T(test_cancel_from_a_change),
	    T(test_cancel_and_free),
	    T(test_free_from_a_change),
	    T(test_free_from_a_break),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
