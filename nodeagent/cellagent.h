/* cellagent.h: the node agent core (ARCHITECTURE.md §5), the whole public API
 * of the cellagent library. The core is the part of an agent a test can run
 * without a cell or a process: it keeps what the cell says its machines
 * should run (from a task list and the watch stream) beside what it runs,
 * and decides what to start, what to stop and what to report.
 *
 * It is level-triggered, as a kubelet is: after every piece of news about a
 * task, the one attempt the cell wants on one of our machines is compared
 * with the attempts running here, and the difference is acted on. So a
 * missed or repeated change, a reload after 410 or an agent restart all
 * converge the same way.
 *
 * Rules it keeps:
 *   - an attempt is started at most once on this agent: the executor
 *     remembers every attempt it ever started (the real one in its data
 *     folder, so across restarts too), and the core asks before starting;
 *   - a local attempt the cell no longer wants here (preempted, killed,
 *     moved after the machine went down) is stopped and not reported: the
 *     cell has already decided its fate, and a report would be stale;
 *   - an attempt's end is reported only while the cell still wants that
 *     attempt here;
 *   - what it cannot do safely (a command that does not exist, a folder it
 *     cannot make, an attempt it already ran) is reported on the task with
 *     a note saying why, never silently dropped.
 *
 * Nothing here reads a clock or touches a file descriptor; I/O goes through
 * struct ag_exec (starting and stopping attempts) and struct ag_io (job
 * specs, the reports' way out).
 * Threads: none; everything runs on the caller's thread.
 * Memory: allocation failure aborts, as in cellstate. */
#ifndef CELL_CELLAGENT_H
#define CELL_CELLAGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cellstate.h"

typedef struct ag_core ag_core;

/* One attempt to start: borrowed views, valid during the call. */
struct ag_run {
	const char *machine;
	const char *job;
	uint32_t index, attempt;
	const struct cs_job_spec
	    *spec; /* command, args, env, duration, request */
};

/* How an attempt ended, as the executor saw it. */
enum ag_how {
	AG_EXITED,       /* code: the exit code */
	AG_SIGNALED,     /* code: the signal */
	AG_SPAWN_FAILED, /* it never ran: detail says why */
	AG_VANISHED      /* no outcome was recorded (killed with its
	                    supervisor, machine rebooted): detail says why */
};

struct ag_outcome {
	enum ag_how how;
	int code;
	bool stopped;       /* it ended after the core asked to stop it */
	const char *detail; /* borrowed; NULL or a sentence */
};

/* The executor: real processes (nodeagent/real.c) or hollow timers
 * (nodeagent/hollow.c). */
struct ag_exec {
	void *arg;
	/* Starts `run`; its end comes through ag_core_ended later, never from
	 * inside this call. Returns 0, or an error with errbuf saying why:
	 * CC_ESTATE when the attempt was started here before, CC_EINVAL when
	 * the command cannot be run (not found, not executable), another
	 * code for trouble of the machine (a folder it cannot make). */
	int (*start)(void *arg, const struct ag_run *run, char *errbuf,
	             size_t errlen);
	/* Asks a started attempt to end (SIGTERM, then SIGKILL after a
	 * grace); its end comes through ag_core_ended with stopped set. */
	void (*stop)(void *arg, const char *job, uint32_t index,
	             uint32_t attempt);
	/* The highest attempt of job/index ever started here; false if none. */
	bool (*last_attempt)(void *arg, const char *job, uint32_t index,
	                     uint32_t *attempt);
	/* The job was removed from the cell: its records may go. May be
	 * NULL. */
	void (*forget_job)(void *arg, const char *job);
};

/* What the core needs from the cell. */
struct ag_io {
	void *arg;
	/* Fetch the spec of `job` and answer with ag_core_job_spec (later,
	 * not from inside this call). Retrying transport trouble is the
	 * caller's business; only a final answer comes back. */
	void (*fetch_job)(void *arg, const char *job);
	/* Reports are waiting for ag_core_take_reports. May be NULL. */
	void (*reports_ready)(void *arg);
};

/* One report for the cell: a task_state op, and before it a job_note op
 * when `note` is set (why the attempt failed or was refused). Owned by
 * whoever holds it; ag_report_free frees one. */
struct ag_report {
	char *job, *machine, *note;
	uint32_t index, attempt;
	enum cs_task_state state; /* running, succeeded, failed or lost */
	int32_t exit_code;
	struct ag_report *next;
};
void ag_report_free(struct ag_report *r);

/* exec and io are copied (their args borrowed; must outlive the core). */
ag_core *ag_core_new(const struct ag_exec *exec, const struct ag_io *io);
/* Stops nothing: what runs keeps running (an agent restart adopts it). */
void ag_core_free(ag_core *c); /* NULL is fine */

/* ---- our machines ---- */
/* Adds a machine this agent speaks for (copied); repeats are fine. Ids
 * are 0, 1, ... in the order machines were first added. */
void ag_core_add_machine(ag_core *c, const char *name);
#define AG_NO_MACHINE UINT32_MAX
/* The id of one of our machines, or AG_NO_MACHINE. */
uint32_t ag_core_machine_id(const ag_core *c, const char *name);

/* ---- what exists here (before the first load) ----
 * An attempt found in the data folder at start: alive (adopted by the
 * executor; its end comes through ag_core_ended) or ended with `o`. */
void ag_core_found(ag_core *c, const char *job, uint32_t index,
                   uint32_t attempt, bool alive, const struct ag_outcome *o);

/* ---- what the cell says ----
 * A load replaces the whole view: ag_core_load_begin, one ag_core_cell_task
 * per assigned or running task on our machines, ag_core_load_end. Between
 * loads, every task change from the watch stream goes to ag_core_cell_task
 * too (changes about other machines may be passed; they are ignored unless
 * they move a task off one of ours). `index` is the log index the news is
 * from: news older than what the core already knows of that task is
 * ignored. Nothing is started before the first load ends. */
void ag_core_load_begin(ag_core *c);
void ag_core_cell_task(ag_core *c, uint64_t index, const char *job,
                       uint32_t task, uint32_t attempt, const char *machine,
                       enum cs_task_state state);
void ag_core_load_end(ag_core *c);
/* The job was removed from the cell (a job_removed change). */
void ag_core_job_removed(ag_core *c, const char *job);
/* The answer to io.fetch_job: spec is taken (freed by the core), or NULL
 * when the cell does not know the job (its waiting attempts are dropped). */
void ag_core_job_spec(ag_core *c, const char *job, struct cs_job_spec *spec);

/* ---- what the executor says ---- */
void ag_core_ended(ag_core *c, const char *job, uint32_t index,
                   uint32_t attempt, const struct ag_outcome *o);

/* ---- reports ----
 * Takes up to max waiting reports, oldest first, as a list the caller owns
 * (free each with ag_report_free); NULL when none wait. */
struct ag_report *ag_core_take_reports(ag_core *c, size_t max);

/* ---- counts, for /v1/status and /metrics ---- */
struct ag_counts {
	uint64_t wanted;  /* attempts the cell wants on our machines */
	uint64_t running; /* started here and not yet ended */
	uint64_t waiting; /* wanted, waiting for the job's spec */
	uint64_t reports; /* reports not yet taken */
	uint64_t started, ended, stopped, refused; /* totals */
	uint64_t jobs;                             /* job specs cached */
	bool loaded;                               /* a load has ended */
};
void ag_core_counts(const ag_core *c, struct ag_counts *out);

#endif
