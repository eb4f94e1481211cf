/* test_agent_core.c: the node agent core (nodeagent/cellagent.h) against a
 * fake executor and a fake cell: what it starts, stops and reports for
 * every kind of news, after a restart, after a reload, and for what it must
 * refuse. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cellagent.h"
#include "cellcommon.h"

#define MAXLOG 64

/* The fake world: what the core asked for, in order. */
struct fake {
	char starts[MAXLOG][64], stops[MAXLOG][64], fetches[MAXLOG][64];
	unsigned nstarts, nstops, nfetches;
	int start_rc;          /* what the next start returns */
	const char *start_err; /* and says */
	char ran_job[64];      /* last_attempt answers for this task */
	uint32_t ran_index, ran_attempt;
	bool ran;
};

static void key(char *out, const char *job, uint32_t index, uint32_t attempt)
{
	snprintf(out, 64, "%s/%u.%u", job, index, attempt);
}

static int fake_start(void *arg, const struct ag_run *run, char *errbuf,
                      size_t errlen)
{
	struct fake *f = arg;
	assert_non_null(run->spec);
	if (f->start_rc) {
		snprintf(errbuf, errlen, "%s", f->start_err);
		return f->start_rc;
	}
	key(f->starts[f->nstarts++], run->job, run->index, run->attempt);
	return 0;
}

static void fake_stop(void *arg, const char *job, uint32_t index,
                      uint32_t attempt)
{
	struct fake *f = arg;
	key(f->stops[f->nstops++], job, index, attempt);
}

static bool fake_last(void *arg, const char *job, uint32_t index,
                      uint32_t *attempt)
{
	struct fake *f = arg;
	if (!f->ran || strcmp(job, f->ran_job) || index != f->ran_index)
		return false;
	*attempt = f->ran_attempt;
	return true;
}

static void fake_fetch(void *arg, const char *job)
{
	struct fake *f = arg;
	snprintf(f->fetches[f->nfetches++], 64, "%s", job);
}

struct world {
	struct fake f;
	ag_core *c;
};

static int setup(void **state)
{
	struct world *w = calloc(1, sizeof(*w));
	struct ag_exec exec = {&w->f, fake_start, fake_stop, fake_last, NULL};
	struct ag_io io = {&w->f, fake_fetch, NULL};
	w->c = ag_core_new(&exec, &io);
	ag_core_add_machine(w->c, "m1");
	ag_core_add_machine(w->c, "m2");
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;
	ag_core_free(w->c);
	free(w);
	return 0;
}

static struct cs_job_spec *spec(const char *name)
{
	struct cs_job_spec *s = calloc(1, sizeof(*s));
	s->name = strdup(name);
	s->command = strdup("true");
	return s;
}

/* The reports waiting, as "job/index.attempt state exit [note]" lines. */
static char *take(ag_core *c)
{
	static char buf[4096];
	buf[0] = 0;
	for (struct ag_report *r = ag_core_take_reports(c, 1000), *next; r;
	     r = next) {
		next = r->next;
		size_t n = strlen(buf);
		snprintf(buf + n, sizeof(buf) - n, "%s%s/%u.%u@%s %s %d%s",
		         n ? "; " : "", r->job, r->index, r->attempt,
		         r->machine, cs_task_state_name(r->state), r->exit_code,
		         r->note ? " +note" : "");
		ag_report_free(r);
	}
	return buf;
}

static void load(ag_core *c)
{
	ag_core_load_begin(c);
	ag_core_load_end(c);
}

static void assigned(struct world *w, uint64_t index, const char *job,
                     uint32_t task, uint32_t attempt, const char *machine)
{
	ag_core_cell_task(w->c, index, job, task, attempt, machine,
	                  CS_TASK_ASSIGNED);
}

static const struct ag_outcome exit0 = {AG_EXITED, 0, false, NULL};
static const struct ag_outcome stopped = {AG_SIGNALED, 15, true, NULL};

/* ---- tests ---- */

static void test_runs_and_reports_a_task(void **state)
{
	struct world *w = *state;
	load(w->c);
	assigned(w, 5, "web", 0, 0, "m1");
	assert_int_equal(w->f.nfetches, 1);
	assert_string_equal(w->f.fetches[0], "web");
	assert_int_equal(w->f.nstarts, 0); /* waits for the spec */
	ag_core_job_spec(w->c, "web", spec("web"));
	assert_int_equal(w->f.nstarts, 1);
	assert_string_equal(w->f.starts[0], "web/0.0");
	assert_string_equal(take(w->c), "web/0.0@m1 running 0");
	ag_core_cell_task(w->c, 6, "web", 0, 0, "m1", CS_TASK_RUNNING);
	assert_string_equal(take(w->c), "");
	ag_core_ended(w->c, "web", 0, 0, &exit0);
	assert_string_equal(take(w->c), "web/0.0@m1 succeeded 0");
	/* a second task of the same job needs no second fetch */
	assigned(w, 7, "web", 1, 0, "m2");
	assert_int_equal(w->f.nfetches, 1);
	assert_string_equal(w->f.starts[1], "web/1.0");
}

static void test_nothing_starts_before_the_first_load(void **state)
{
	struct world *w = *state;
	ag_core_load_begin(w->c);
	assigned(w, 3, "a", 0, 0, "m1");
	assert_int_equal(w->f.nfetches, 0);
	ag_core_load_end(w->c);
	assert_int_equal(w->f.nfetches, 1);
}

static void test_exit_codes_and_signals_are_reported(void **state)
{
	struct world *w = *state;
	load(w->c);
	ag_core_job_spec(w->c, "j", spec("j")); /* unknown job: ignored */
	assigned(w, 2, "j", 0, 0, "m1");
	assigned(w, 2, "j", 1, 0, "m1");
	ag_core_job_spec(w->c, "j", spec("j"));
	take(w->c);
	struct ag_outcome three = {AG_EXITED, 3, false, NULL};
	struct ag_outcome sig9 = {AG_SIGNALED, 9, false, NULL};
	ag_core_ended(w->c, "j", 0, 0, &three);
	ag_core_ended(w->c, "j", 1, 0, &sig9);
	assert_string_equal(take(w->c),
	                    "j/0.0@m1 failed 3; j/1.0@m1 failed 137");
}

static void test_preempted_task_is_stopped_not_reported(void **state)
{
	struct world *w = *state;
	load(w->c);
	assigned(w, 2, "b", 0, 0, "m1");
	ag_core_job_spec(w->c, "b", spec("b"));
	take(w->c);
	/* preempted: back to pending as attempt 1, off m1 */
	ag_core_cell_task(w->c, 9, "b", 0, 0, "m1", CS_TASK_PENDING);
	assert_int_equal(w->f.nstops, 1);
	assert_string_equal(w->f.stops[0], "b/0.0");
	ag_core_ended(w->c, "b", 0, 0, &stopped);
	assert_string_equal(take(w->c), "");
	/* placed here again as attempt 1: started afresh */
	assigned(w, 12, "b", 0, 1, "m1");
	assert_string_equal(w->f.starts[1], "b/0.1");
}

static void test_task_moved_to_another_machine_is_stopped(void **state)
{
	struct world *w = *state;
	load(w->c);
	assigned(w, 2, "b", 0, 0, "m1");
	ag_core_job_spec(w->c, "b", spec("b"));
	ag_core_cell_task(w->c, 4, "b", 0, 1, "elsewhere", CS_TASK_ASSIGNED);
	assert_int_equal(w->f.nstops, 1);
	/* an end that arrives anyway is not reported */
	ag_core_ended(w->c, "b", 0, 0, &exit0);
	assert_string_equal(take(w->c), "b/0.0@m1 running 0");
}

static void test_old_news_is_ignored(void **state)
{
	struct world *w = *state;
	load(w->c);
	assigned(w, 10, "n", 0, 0, "m1");
	ag_core_job_spec(w->c, "n", spec("n"));
	ag_core_cell_task(w->c, 8, "n", 0, 0, "m1", CS_TASK_PENDING);
	assert_int_equal(w->f.nstops, 0);
}

static void test_refusals_carry_a_note(void **state)
{
	struct world *w = *state;
	load(w->c);
	w->f.start_rc = CC_EINVAL;
	w->f.start_err = "command \"nope\" not found";
	assigned(w, 2, "x", 0, 0, "m1");
	ag_core_job_spec(w->c, "x", spec("x"));
	assert_string_equal(take(w->c), "x/0.0@m1 failed 127 +note");
	/* the same attempt's later news does not report twice */
	ag_core_cell_task(w->c, 3, "x", 0, 0, "m1", CS_TASK_ASSIGNED);
	assert_string_equal(take(w->c), "");
	w->f.start_rc = CC_EIO;
	w->f.start_err = "cannot create working directory";
	assigned(w, 4, "x", 0, 1, "m1");
	assert_string_equal(take(w->c), "x/0.1@m1 failed -1 +note");
}

static void test_never_runs_an_attempt_twice(void **state)
{
	struct world *w = *state;
	w->f.ran = true;
	snprintf(w->f.ran_job, sizeof(w->f.ran_job), "r");
	w->f.ran_index = 0;
	w->f.ran_attempt = 2;
	load(w->c);
	assigned(w, 2, "r", 0, 2, "m1"); /* ran before, no longer running */
	assigned(w, 2, "r", 0, 1, "m2"); /* older than what ran here */
	assert_int_equal(w->f.nstarts, 0);
	assert_int_equal(w->f.nfetches, 0);
	assert_string_equal(take(w->c),
	                    "r/0.2@m1 lost -1 +note; r/0.1@m2 lost -1 +note");
	assigned(w, 3, "r", 0, 1, "m2"); /* reported once is enough */
	assert_string_equal(take(w->c), "");
	assert_int_equal(w->f.nstarts, 0);
}

static void test_running_without_a_record_is_lost(void **state)
{
	struct world *w = *state;
	ag_core_load_begin(w->c);
	ag_core_cell_task(w->c, 5, "g", 3, 0, "m2", CS_TASK_RUNNING);
	ag_core_load_end(w->c);
	assert_int_equal(w->f.nstarts, 0);
	assert_string_equal(take(w->c), "g/3.0@m2 lost -1 +note");
}

static void test_restart_adopts_and_reports(void **state)
{
	struct world *w = *state;
	struct ag_outcome seven = {AG_EXITED, 7, false, NULL};
	ag_core_found(w->c, "alive", 0, 0, true, NULL);
	ag_core_found(w->c, "gone", 0, 1, false, &seven);
	ag_core_found(w->c, "moved", 0, 0, true, NULL);
	ag_core_found(w->c, "old", 0, 0, false, &exit0);
	assert_string_equal(take(w->c), ""); /* nothing before the load */
	ag_core_load_begin(w->c);
	assigned(w, 20, "alive", 0, 0, "m1");
	ag_core_cell_task(w->c, 20, "gone", 0, 1, "m1", CS_TASK_RUNNING);
	ag_core_load_end(w->c);
	assert_int_equal(w->f.nstarts, 0);
	assert_int_equal(w->f.nstops, 1);
	assert_string_equal(w->f.stops[0], "moved/0.0");
	char *r = take(w->c);
	assert_non_null(strstr(r, "alive/0.0@m1 running 0"));
	assert_non_null(strstr(r, "gone/0.1@m1 failed 7"));
	assert_null(strstr(r, "old"));
}

static void test_reload_stops_what_it_no_longer_lists(void **state)
{
	struct world *w = *state;
	load(w->c);
	assigned(w, 2, "a", 0, 0, "m1");
	assigned(w, 2, "a", 1, 0, "m1");
	ag_core_job_spec(w->c, "a", spec("a"));
	ag_core_load_begin(w->c);
	assigned(w, 50, "a", 1, 0, "m1");
	ag_core_load_end(w->c);
	assert_int_equal(w->f.nstops, 1);
	assert_string_equal(w->f.stops[0], "a/0.0");
	assert_int_equal(w->f.nstarts, 2);
}

static void test_unknown_job_drops_waiting_attempts(void **state)
{
	struct world *w = *state;
	load(w->c);
	assigned(w, 2, "ghost", 0, 0, "m1");
	ag_core_job_spec(w->c, "ghost", NULL);
	assert_int_equal(w->f.nstarts, 0);
	assert_string_equal(take(w->c), "");
	struct ag_counts n;
	ag_core_counts(w->c, &n);
	assert_int_equal(n.waiting, 0);
}

static void test_other_machines_are_ignored(void **state)
{
	struct world *w = *state;
	load(w->c);
	assigned(w, 2, "z", 0, 0, "m9");
	assert_int_equal(w->f.nfetches, 0);
	struct ag_counts n;
	ag_core_counts(w->c, &n);
	assert_int_equal(n.wanted, 0);
	assert_int_equal(n.jobs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	    T(test_runs_and_reports_a_task),
	    T(test_nothing_starts_before_the_first_load),
	    T(test_exit_codes_and_signals_are_reported),
	    T(test_preempted_task_is_stopped_not_reported),
	    T(test_task_moved_to_another_machine_is_stopped),
	    T(test_old_news_is_ignored),
	    T(test_refusals_carry_a_note),
	    T(test_never_runs_an_attempt_twice),
	    T(test_running_without_a_record_is_lost),
	    T(test_restart_adopts_and_reports),
	    T(test_reload_stops_what_it_no_longer_lists),
	    T(test_unknown_job_drops_waiting_attempts),
	    T(test_other_machines_are_ignored),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
