/* cell.h: a real local cell for multi-process tests: localcell's launcher
 * (localcell.h: celld voters, schedulers and agents on loopback, free
 * ports, a private folder, waits by condition, cleanup by pid even when a
 * test fails) under the tests' profile and the names the tests use, plus
 * what only tests need: jobs and tasks as a user sees them, and task
 * processes seen from outside. The tests' profile: members with fast
 * timeouts (election 300 ms, heartbeat 30 ms), no machine liveness and no
 * scheduler leases (--machine-ttl 0 --sched-ttl 0: a machine must not go
 * down, nor a scheduler be unregistered, because a test ran long; a
 * liveness or lease test passes its own, the later flag wins), debug logs,
 * schedulers and agents heartbeating every 200 ms, agents killing 500 ms
 * after SIGTERM; trouble fails the test (cmocka), naming the log to read.
 * CELL_KEEP_TEST_DATA keeps the folders. */
#ifndef CELL_TESTLIB_CELL_H
#define CELL_TESTLIB_CELL_H

#include "localcell.h"
#include "tl_request.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define TL_CELL_MAX LC_MEMBERS_MAX

/* ---- the launcher, with the tests' profile ----
 * Functions that may be a test's first use of localcell install the
 * profile; the rest are localcell's calls under the tests' names. */

/* lc_start with the tests' profile: n voters (1..5) plus `extra` flags
 * (NULL-terminated, borrowed for the cell's life, may be NULL); fails the
 * test when no leader is trusted within 30 s. */
struct lc_cell *tl_cell_start(int n, const char *const *extra);
/* The path of a built binary ("celld"): $CELL_BIN_DIR/NAME (./bin/NAME
 * without it), static storage valid until the next call. */
const char *tl_bin(const char *name);
/* lc_free_port, failing the test when there is none. */
int tl_free_port(void);
/* lc_http_json: a request with an optional JSON body (borrowed); returns
 * the HTTP status (0 when no answer came) and the parsed answer in *out
 * (NULL when absent or not JSON; the caller decrefs; out may be NULL).
 * Follows redirects. */
long tl_http(const char *method, const char *url, const json_t *body,
             json_t **out);
/* Kills (SIGKILL) and reaps every pid > 0 in kids[0..n), zeroing them: a
 * test's helper processes, from its teardown. */
void tl_reap(pid_t *kids, int n);

static inline void tl_cell_stop(struct lc_cell *c)
{
	lc_stop(c);
}
static inline void tl_cell_member_start(struct lc_cell *c, int i)
{
	lc_member_start(c, i);
}
static inline int tl_cell_member_add(struct lc_cell *c, const char *join_url)
{
	return lc_member_add(c, join_url);
}
static inline int tl_cell_member_kill(struct lc_cell *c, int i, int sig)
{
	return lc_member_kill(c, i, sig);
}
static inline int tl_kill_wait(pid_t *pid, int sig)
{
	return lc_kill_wait(pid, sig);
}
static inline int tl_cell_leader(struct lc_cell *c, int timeout_ms)
{
	return lc_find_leader(c, timeout_ms);
}
static inline json_t *tl_cell_status(const struct lc_member *m)
{
	return lc_status(m->url);
}
static inline bool tl_wait_until(bool (*fn)(void *arg), void *arg,
                                 int timeout_ms)
{
	return lc_wait_until(fn, arg, timeout_ms);
}

/* A scheduler (started, not waited for) and its waits. */
static inline int tl_cell_sched_add(struct lc_cell *c, const char *name,
                                    const char *class_name,
                                    const char *const *extra)
{
	return lc_sched_add(c, name, class_name, extra);
}
static inline json_t *tl_sched_status(const struct lc_daemon *s)
{
	return lc_status(s->url);
}
static inline void tl_sched_wait_running(const struct lc_daemon *s,
                                         int timeout_ms)
{
	lc_wait_phase(s, "running", timeout_ms);
}

/* A node agent (started, not waited for); lc_stop kills the tasks it
 * leaves. */
static inline int tl_cell_agent_add(struct lc_cell *c, const char *name,
                                    const char *const *extra)
{
	return lc_agent_add(c, name, extra);
}
static inline void tl_agent_restart(struct lc_cell *c, int i)
{
	lc_restart(c, &c->a[i]);
}
static inline json_t *tl_agent_status(const struct lc_daemon *a)
{
	return lc_status(a->url);
}
static inline void tl_agent_wait_watching(const struct lc_daemon *a,
                                          int timeout_ms)
{
	lc_wait_phase(a, "watching", timeout_ms);
}

/* ---- task processes, seen from outside (cell_tasks.c) ----
 * Tests have tasks write their pid ("echo $$ > FILE") and wait on files. */
/* Waits until path holds a pid and returns it (fails after timeout_ms). */
pid_t tl_wait_pid_file(const char *path, int timeout_ms);
/* Waits until no process has that pid (fails, naming `what`). */
void tl_wait_pid_gone(pid_t pid, const char *what, int timeout_ms);
/* Creates an empty file (a signal a task polls for). */
void tl_touch(const char *path);

/* ---- jobs and tasks as a user sees them (cell_jobs.c) ----
 * Each talks to the leader and fails the test when the cell says no. */
/* POSTs a job spec given as printf-style JSON text. */
void tl_job_submit(struct lc_cell *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* GET /v1/jobs/JOB (with its tasks); NULL when unknown. */
json_t *tl_job_get(struct lc_cell *c, const char *job);
/* One task of GET /v1/jobs/JOB; NULL when unknown. */
json_t *tl_task_get(struct lc_cell *c, const char *job, uint32_t index);
/* Waits until the job is in `state` (fails the test after timeout_ms,
 * showing the job). */
void tl_job_wait_state(struct lc_cell *c, const char *job, const char *state,
                       int timeout_ms);
/* Waits until the task is in `state`, on `machine` when not NULL. */
void tl_task_wait_state(struct lc_cell *c, const char *job, uint32_t index,
                        const char *state, const char *machine, int timeout_ms);

#endif /* CELL_TESTLIB_CELL_H */
