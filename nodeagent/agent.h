/* agent.h: private to the cellagent binary: the process around the core
 * (cellagent.h): its machines, its conversations with the cell (cell.c),
 * its executor (real processes, real.c, or hollow timers, hollow.c) and its
 * own small HTTP server (server.c: task logs, status, metrics). */
#ifndef CELL_AGENT_PROCESS_H
#define CELL_AGENT_PROCESS_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "cellagent.h"
#include "cellclient.h"
#include "cellcommon.h"
#include "cellstate.h"

struct agent_config {
	char *name, *cell, *listen, *advertise, *data_dir, *token_file;
	char *pool, *labels, *shim;
	uint64_t cpu, memory, disk; /* capacity: millicores, MiB, MiB */
	uint64_t hollow;            /* machines simulated; 0: a real agent */
	uint64_t heartbeat_ms, kill_grace_ms;
	uint64_t task_cpu_seconds, task_as_factor, task_as_min_mib;
	char *cgroup;
	uint64_t report_batch, max_inflight;
	char *log_level, *log_file;
};

/* Where the agent is with the cell. */
enum agent_phase {
	PHASE_REGISTER, /* machine_put of every machine in flight */
	PHASE_MACHINES, /* reading their states (a down one is brought up) */
	PHASE_LOAD,     /* reading the tasks on them */
	PHASE_WATCH     /* following the change stream */
};

struct hollow;
struct real;

struct agent {
	struct agent_config cfg;
	struct ev_loop *loop;
	char *token;      /* owned; NULL: none */
	char **cell_urls; /* owned; ncell_urls entries (--cell) */
	unsigned ncell_urls;
	cl_cell *cell; /* owned: the conversation with the cell (cell.c) */
	struct cs_machine_spec **machines; /* owned; nmachines specs */
	uint32_t nmachines;
	ag_core *core;
	struct hollow *hollow; /* one of these two is the executor */
	struct real *real;
	cc_server *server;
	cc_metrics *metrics;
	char advertise[256];

	enum agent_phase phase;
	bool phase_busy;        /* the phase's request is in flight */
	unsigned phase_pending; /* registering: batches not yet answered */
	ev_timer retry;         /* runs the phase again after trouble */
	ev_timer heartbeat;
	struct cl_beat *beat; /* owned: every machine's name, built once */
	ev_prepare flush;     /* sends reports before the loop blocks */
	ev_signal sigint, sigterm;
	cl_watch *watch;     /* owned by cell while it follows; NULL: not */
	uint64_t watch_from; /* where a watch starts (the cursor's index) */
	uint64_t boot_ms, serial;
	unsigned posts;         /* report transactions in flight */
	struct cu_list fetches; /* job specs waiting to be read again */
	struct cc_counter *m_reports, *m_rejected, *m_changes, *m_reloads;
	struct cc_counter *m_http_retries;
};

/* cell.c */
void cell_start(struct agent *a);
/* Ends the conversation: what is in flight is dropped, the watch too. */
void cell_stop(struct agent *a);
void cell_fetch_job(void *arg, const char *job); /* ag_io */
/* The index the watch is at (where it would start again). */
uint64_t cell_watch_from(const struct agent *a);

/* hollow.c: tasks "run" for their job's duration_ms; no process starts. */
struct hollow *hollow_new(struct agent *a);
void hollow_free(struct hollow *h);
void hollow_exec(struct hollow *h, struct ag_exec *out);
size_t hollow_running(const struct hollow *h);

/* real.c: tasks run as processes under cellagent-shim (runner.h). */
int real_new(struct agent *a, struct real **out, char *errbuf, size_t errlen);
void real_free(struct real *r);
void real_exec(struct real *r, struct ag_exec *out);
/* Hands what the data folder holds to the core (before the first load). */
int real_recover(struct real *r, char *errbuf, size_t errlen);
int real_log_path(const struct real *r, const char *job, uint32_t index,
                  uint32_t attempt, const char *stream, char *path,
                  size_t pathlen, char *errbuf, size_t errlen);

/* server.c */
int server_start(struct agent *a, char *errbuf, size_t errlen);

#endif
