/* runner.h: the part of cellagent that runs real processes (ARCHITECTURE.md
 * §5): it starts each task attempt under cellagent-shim, stops it, learns how
 * it ended, and after an agent restart finds what ran or ended while the agent
 * was away. Private to the node agent (nodeagent/); the agent's core is its
 * only user.
 *
 * Why a shim: only a process's parent can reap its exit status, and after
 * an agent restart the tasks are no longer the agent's children. So every
 * attempt runs as the child of its own cellagent-shim (spawned by the agent
 * in a new process group it leads), which waits for the task and writes the
 * outcome to a file. The agent only watches the shim (a pidfd, or a 1 s
 * poll where there is none) and reads that file once the shim is gone.
 *
 * On disk, under the agent's data folder, one folder per attempt:
 *   tasks/JOB/INDEX.ATTEMPT/
 *     work/    the task's working directory (its cwd)
 *     stdout   the task's standard output (appended)
 *     stderr   the task's standard error (appended), and the shim's own
 *              complaints, prefixed "cellagent-shim:"
 *     pid      {"pid":N,"start_time":T,"boot_id":"..."}: the shim; written
 *              by the agent right after spawning it (atomically). T is field
 *              22 of /proc/N/stat, so a reused pid is never taken for it.
 *     exit     one JSON line, written atomically by the shim when the task
 *              ended: {"how":"exited","code":N} | {"how":"signaled",
 *              "signal":N} | {"how":"spawn_failed","errno":N,"error":"..."}.
 *              The agent writes it itself when an attempt could not start,
 *              and ({"how":"signaled","signal":9,"by":"cellagent"}) just
 *              before it SIGKILLs a group, since that kills the shim too.
 *     stop     present once rn_stop was asked (so `stopped` and a stop in
 *              progress survive an agent restart)
 * The folder exists iff the attempt was started here once; an attempt is
 * never started twice (not even after a refusal or a failed start).
 *
 * Threads: everything runs on the thread of the loop given to rn_new.
 * Callbacks never run from inside the call that caused them, except
 * rn_recover's `fn`, which runs during rn_recover.
 *
 * Errors: 0 or a negative CC_E* code (cellcommon.h) with a message naming
 * the task, the path and the reason in errbuf (CC_ERRMSG_SIZE is always
 * enough; errbuf may be NULL). */
#ifndef CELL_NODEAGENT_RUNNER_H
#define CELL_NODEAGENT_RUNNER_H

#include <ev.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rn_runner rn_runner;

struct rn_config {
	const char *data_dir;   /* borrowed; tasks/ is made under it */
	const char *shim_path;  /* borrowed; path of cellagent-shim */
	uint64_t kill_grace_ms; /* SIGTERM, then SIGKILL after this */
	/* RLIMIT_AS = max(memory request * as_factor, as_min_mib) MiB; no AS
	 * limit when as_factor is 0 or the task requests no memory */
	uint64_t as_min_mib;
	uint64_t as_factor;
	uint64_t cpu_seconds; /* RLIMIT_CPU per task (soft; hard is one
	                         second more, so SIGXCPU comes first); 0:
	                         none */
	/* NULL: use cgroup v2 at /sys/fs/cgroup when the host allows (else
	 * rlimits only, said in one INFO line); "" or "off": no cgroups; a
	 * path: cgroup v2 there, and rn_new fails when it is not usable */
	const char *cgroup_root;
};

/* What to run: borrowed for the call. */
struct rn_task {
	const char *job; /* [a-z0-9._-], <= 63 chars, starts alphanumeric */
	uint32_t index, attempt;
	/* a path (relative ones are taken from the work folder, as the task
	 * would), or a name looked up in PATH of the task's environment,
	 * else in the agent's own */
	const char *command;
	const char *const *args; /* not counting the command itself */
	uint32_t nargs;
	/* "NAME=VALUE"; exactly the task's environment. The agent adds
	 * CELL_JOB, CELL_TASK, CELL_ATTEMPT, CELL_MACHINE before calling. */
	const char *const *env;
	uint32_t nenv;
	uint64_t memory_mib;     /* the task's request, for limits (0: none) */
	uint64_t cpu_millicores; /* the task's request, for cgroup cpu.max
	                            (0: none) */
};

enum rn_how {
	RN_EXITED,
	RN_SIGNALED,
	RN_SPAWN_FAILED, /* it never ran: not found, not executable, ... */
	RN_VANISHED      /* no exit file: the shim was SIGKILLed by someone
	                    else, the machine rebooted, or it never started */
};

struct rn_outcome {
	enum rn_how how;
	int code;         /* EXITED: exit code; SIGNALED: signal number;
	                     SPAWN_FAILED: errno; VANISHED: 0 */
	bool stopped;     /* it ended after rn_stop asked it to */
	char detail[256]; /* SPAWN_FAILED / VANISHED: a sentence, e.g.
	                     "execve /bin/nope: No such file or directory";
	                     "" otherwise */
};

/* Called on the loop when an attempt's shim is gone and its outcome known;
 * once per attempt rn_start or rn_recover (alive) handed over. Strings and
 * `o` are valid during the call. The runner no longer tracks the attempt
 * when this runs: the callback may call any rn_* function, rn_free
 * included. */
typedef void (*rn_ended_fn)(void *arg, const char *job, uint32_t index,
                            uint32_t attempt, const struct rn_outcome *o);

/* Makes data_dir/tasks, checks that the shim is an executable file, detects
 * cgroups and logs (CC_INFO) which limits apply. loop is borrowed and must
 * outlive the runner. 0 and *out (free with rn_free), or CC_EINVAL (a bad
 * shim path, an unusable explicit cgroup_root) / CC_EIO. */
int rn_new(struct ev_loop *loop, const struct rn_config *cfg, rn_ended_fn ended,
           void *arg, rn_runner **out, char *errbuf, size_t errlen);
/* Stops watching and frees. Does NOT kill tasks: they survive an agent
 * restart, and the next runner's rn_recover finds them (a stop in progress
 * resumes there). NULL is fine. */
void rn_free(rn_runner *r);

/* Starts one attempt. 0: it runs, and `ended` will come. Otherwise `ended`
 * never comes for it, and:
 *   CC_EINVAL "task J/I: job name ..." for a name unsafe as a folder name
 *             (nothing is made on disk);
 *   CC_ESTATE "task J/I attempt A was already started on this machine"
 *             when its folder exists;
 *   CC_EINVAL "command \"x\" not found in PATH (...)" or "command /x/y is
 *             not an executable file (...)";
 *   CC_EIO    "cannot create working directory D: ...", cannot start the
 *             shim, ...
 * Every failure after the folder was made leaves it behind with an exit
 * file saying why (SPAWN_FAILED, for rn_recover), so the attempt counts as
 * tried and is not retried here. A failure of the exec itself (a broken
 * interpreter line, a binary for another machine) is not an error here: the
 * shim reports it, and the outcome is RN_SPAWN_FAILED. */
int rn_start(rn_runner *r, const struct rn_task *t, char *errbuf,
             size_t errlen);
/* SIGTERM to the attempt's process group now, and SIGKILL to the group
 * after kill_grace_ms if the shim still lives; `ended` comes later with
 * stopped=true. No-op when not running, or when a stop is already under
 * way (the grace is not restarted). A task that leaves its process group
 * escapes this; with cgroups, the SIGKILL goes to its cgroup as well. */
void rn_stop(rn_runner *r, const char *job, uint32_t index, uint32_t attempt);
bool rn_running(const rn_runner *r, const char *job, uint32_t index,
                uint32_t attempt);
size_t rn_count(const rn_runner *r); /* attempts running (being watched) */

/* What rn_recover found for one attempt folder; borrowed for the call. */
struct rn_found {
	const char *job;
	uint32_t index, attempt;
	bool alive;                /* the shim still runs: now watched */
	struct rn_outcome outcome; /* when !alive */
};
typedef void (*rn_found_fn)(void *arg, const struct rn_found *f);

/* At start, before anything else: scans data_dir/tasks and calls fn once
 * per attempt folder (folders are visited in name order), with:
 *   alive: its shim still runs (same boot, the pid lives and is not a
 *          zombie, and /proc start time matches the recorded one: a bare
 *          pid is never trusted). The runner adopts it: it is watched, and
 *          its end comes through `ended` later. If a stop was asked before
 *          the restart, it resumes (SIGTERM again, SIGKILL after grace).
 *   not alive: the outcome from the exit file; RN_VANISHED when there is
 *          none (the detail says whether a shim was ever started).
 * Attempts this runner already watches are reported alive, not adopted
 * twice. Names under tasks/ that are not attempt folders are skipped with a
 * warning. 0, or CC_EIO when tasks/ cannot be read. */
int rn_recover(rn_runner *r, rn_found_fn fn, void *arg, char *errbuf,
               size_t errlen);
/* The highest attempt of (job, index) that has a folder here; false when
 * none (or the job name is invalid). */
bool rn_last_attempt(const rn_runner *r, const char *job, uint32_t index,
                     uint32_t *attempt);
/* Removes every folder of the job's attempts that are not running, and the
 * job's folder once empty (the cell removed the job). Failures are logged
 * (CC_WARN). */
void rn_forget_job(rn_runner *r, const char *job);

/* The path of one attempt's stdout or stderr (stream "stdout"/"stderr"),
 * for the agent's log endpoint: 0 and the path, or CC_EINVAL (bad stream or
 * job name, or pathlen too small) / CC_ESTATE ("no attempt A of task J/I on
 * this machine"). */
int rn_log_path(const rn_runner *r, const char *job, uint32_t index,
                uint32_t attempt, const char *stream, char *path,
                size_t pathlen, char *errbuf, size_t errlen);

#endif /* CELL_NODEAGENT_RUNNER_H */
