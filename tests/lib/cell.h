/* cell.h: a real local cell for multi-process tests: celld voters on
 * loopback with free ports and a private data folder, started with
 * fork/exec, waited on by condition (never by fixed sleeps), and always
 * cleaned up: processes by pid, folders removed, even when a test fails
 * (a test's teardown calls tl_cell_stop; an atexit handler and the
 * children's parent-death signal catch the rest). */
#ifndef CELL_TESTLIB_CELL_H
#define CELL_TESTLIB_CELL_H

#include "tl_request.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TL_CELL_MAX 5

struct tl_member {
	uint64_t id;
	pid_t pid; /* 0 while not running */
	int raft_port, api_port;
	char url[64];  /* http://127.0.0.1:PORT */
	char dir[256]; /* its data folder */
	char log[256]; /* its log file */
	char join[64]; /* "": bootstraps with the cell's --peers; else the API
	                  URL it joins through (--join), see tl_cell_member_add
	                */
};

#define TL_SCHED_MAX 8

/* A cellsched process of the cell. */
struct tl_sched {
	char name[32];
	pid_t pid; /* 0 while not running */
	int raft_port, api_port;
	char url[64]; /* its /metrics and /v1/status */
	char dir[256];
	char log[256];
};

#define TL_AGENT_MAX       8
#define TL_AGENT_FLAGS_MAX 16

/* A cellagent process of the cell: one real machine, or hollow ones. */
struct tl_agent {
	char name[32];
	pid_t pid; /* 0 while not running */
	int port;
	char url[64];  /* its logs, /v1/status, /metrics */
	char dir[256]; /* its data folder */
	char log[256];
	char *flags[TL_AGENT_FLAGS_MAX + 1]; /* owned copies of `extra` */
};

struct tl_cell {
	char root[128]; /* the private folder (removed by tl_cell_stop) */
	int n;
	struct tl_member m[TL_CELL_MAX];
	int nsched;
	struct tl_sched s[TL_SCHED_MAX];
	int nagents;
	struct tl_agent a[TL_AGENT_MAX];
	char peers[1024];
	const char *const *extra; /* extra celld flags for every member */
};

/* Starts n voters (1..5) with fast timeouts (election 300 ms, heartbeat
 * 30 ms), no machine liveness and no scheduler leases (--machine-ttl 0
 * --sched-ttl 0), plus `extra` flags (NULL-terminated, borrowed for the cell's
 * life, may be NULL), then waits until one is the trusted leader. Fails the
 * test (cmocka) when that does not happen within 30 s. */
struct tl_cell *tl_cell_start(int n, const char *const *extra);
/* SIGTERM to every running member, wait for each (SIGKILL after 10 s),
 * remove the folder. NULL is fine. */
void tl_cell_stop(struct tl_cell *c);

/* (Re)starts member i with its data folder (after a kill or a stop). */
void tl_cell_member_start(struct tl_cell *c, int i);
/* Adds member c->n (id c->n + 1) with fresh ports and folder, started with
 * `--join join_url` and no --peers: a voter joining the running cell.
 * Returns its index. The caller waits for the membership to show it. */
int tl_cell_member_add(struct tl_cell *c, const char *join_url);
/* Sends sig to member i and waits for it to exit (returns its status as
 * waitpid gives it). */
int tl_cell_member_kill(struct tl_cell *c, int i, int sig);

/* Forks and execs base[0..nbase) plus extra (NULL-terminated, may be NULL)
 * with stdin on /dev/null and SIGKILL when the test process dies; returns
 * the child's pid (the test fails if fork does). */
pid_t tl_spawn(const char *const *base, size_t nbase, const char *const *extra);
/* Sends sig to *pid and waits for it to exit (SIGKILL after 10 s); returns
 * the status as waitpid gives it and zeroes *pid. 0 when *pid is 0. */
int tl_kill_wait(pid_t *pid, int sig);

/* ---- schedulers (cell_sched.c) ----
 * Starts a cellsched named `name` for job class `class_name` with fresh
 * ports and folder, pointed at every member, heartbeating every 200 ms,
 * plus `extra` flags (NULL-terminated, may be NULL; copied before return).
 * Returns its index; tl_cell_stop stops it (SIGTERM) before the members. */
int tl_cell_sched_add(struct tl_cell *c, const char *name,
                      const char *class_name, const char *const *extra);
/* GET its /v1/status; NULL when it does not answer. */
json_t *tl_sched_status(const struct tl_sched *s);
/* Waits until it says it is registered and running (fails the test after
 * timeout_ms, naming its log). */
void tl_sched_wait_running(const struct tl_sched *s, int timeout_ms);

/* ---- node agents (cell_agent.c) ----
 * Starts a cellagent for machine `name` (with --hollow in extra: the prefix
 * of its hollow machines) with a fresh port and data folder, pointed at
 * every member, heartbeating every 200 ms, SIGKILL 500 ms after SIGTERM,
 * plus `extra` flags (NULL-terminated, may be NULL; copied, and used again
 * by tl_agent_restart). Returns its index. tl_cell_stop stops it and kills
 * every task its data folder records (agents leave tasks running when they
 * stop, by design). */
int tl_cell_agent_add(struct tl_cell *c, const char *name,
                      const char *const *extra);
/* Starts agent i again with the same port, folder and flags. */
void tl_agent_restart(struct tl_cell *c, int i);
/* GET its /v1/status; NULL when it does not answer. */
json_t *tl_agent_status(const struct tl_agent *a);
/* Waits until it follows the cell's watch stream (fails the test after
 * timeout_ms, naming its log). */
void tl_agent_wait_watching(const struct tl_agent *a, int timeout_ms);
/* SIGKILL to the process group of every task recorded in its data folder
 * (tasks/JOB/INDEX.ATTEMPT/pid). */
void tl_agent_kill_tasks(const struct tl_agent *a);

/* ---- task processes, seen from outside (cell_agent.c) ----
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
void tl_job_submit(struct tl_cell *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* GET /v1/jobs/JOB (with its tasks); NULL when unknown. */
json_t *tl_job_get(struct tl_cell *c, const char *job);
/* One task of GET /v1/jobs/JOB; NULL when unknown. */
json_t *tl_task_get(struct tl_cell *c, const char *job, uint32_t index);
/* Waits until the job is in `state` (fails the test after timeout_ms,
 * showing the job). */
void tl_job_wait_state(struct tl_cell *c, const char *job, const char *state,
                       int timeout_ms);
/* Waits until the task is in `state`, on `machine` when not NULL. */
void tl_task_wait_state(struct tl_cell *c, const char *job, uint32_t index,
                        const char *state, const char *machine, int timeout_ms);

/* Index of the member that reports itself the trusted leader, waiting up
 * to timeout_ms; -1 when none. */
int tl_cell_leader(struct tl_cell *c, int timeout_ms);

/* ---- HTTP against a member ----
 * A request with an optional JSON body (borrowed); returns the HTTP status
 * (0 when no answer came) and stores the parsed answer in *out (NULL when
 * absent or not JSON; the caller decrefs; out may be NULL). Follows
 * redirects. */
long tl_http(const char *method, const char *url, const json_t *body,
             json_t **out);
/* Kills (SIGKILL) and reaps every pid > 0 in kids[0..n), zeroing them: a
 * test's helper processes, from its teardown. */
void tl_reap(pid_t *kids, int n);

/* GET url/v1/status; NULL when the member does not answer. */
json_t *tl_cell_status(const struct tl_member *m);

/* Polls until fn(arg) is true or timeout_ms passes; returns the last
 * answer. Sleeps 20 ms between tries. */
bool tl_wait_until(bool (*fn)(void *arg), void *arg, int timeout_ms);

/* A loopback TCP port nobody listens on now (the kernel's pick). */
int tl_free_port(void);

/* The path of a built binary ("celld"): $CELL_BIN_DIR/NAME. */
const char *tl_bin(const char *name);

#endif /* CELL_TESTLIB_CELL_H */
