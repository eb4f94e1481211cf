/* daemon.h: private to the cellsched binary (not sched.h, which would
 * shadow the system header on the include path): the process around the core
 * (cellsched.h): its standby replica (a store, cellstore.h), its
 * conversations with the cell (cellclient.h), its own small HTTP server. */
#ifndef CELL_SCHED_PROCESS_H
#define CELL_SCHED_PROCESS_H

#include <ev.h>
#include <stdbool.h>
#include <stdint.h>

#include "cellclient.h"
#include "cellcommon.h"
#include "cellsched.h"
#include "cellstore.h"

struct sched_config {
	char *name, *class_name, *policy;
	uint64_t id;
	char *raft_address, *listen, *advertise, *cell, *data_dir, *token_file;
	char *detect, *mode, *spread_label;
	uint64_t think_job_us, think_task_us;
	uint64_t max_inflight, max_tasks, seed;
	uint64_t heartbeat_ms, leave_timeout_ms;
	char *log_level, *log_file;
};

/* Where the process is in its life. */
enum sched_phase {
	PHASE_JOINING,     /* asking the cell to add our standby */
	PHASE_REGISTERING, /* our sched_register in flight */
	PHASE_RUNNING,
	PHASE_LEAVING, /* unregister, then leave the membership */
	PHASE_CLOSING
};

/* How far the replica is, as /v1/status and /metrics show it. */
struct replica_view {
	uint64_t applied_index, commit_index;
	char state_hash[17], content_hash[17]; /* as celld shows them */
};

struct sched {
	struct sched_config cfg;
	struct ev_loop *loop;
	char *token;      /* owned; NULL: none */
	char **cell_urls; /* owned; ncell_urls entries */
	unsigned ncell_urls;
	cst_store *store; /* owned: the standby replica; NULL once closed */
	/* The replica as it was when it began to close: a closing store may
	 * be read only inside its own hooks. */
	struct replica_view last_view;
	char writer_url[CST_API_ADDR_MAX]; /* cell.c's writer hint */
	sp_core *core;
	cl_cell *cell;        /* owned: every request to celld */
	struct cl_beat *beat; /* owned: the lease renewal's body */
	cc_server *server;
	cc_metrics *metrics;
	enum sched_phase phase;
	bool registered;    /* our registration is in the replica */
	bool asking;        /* a join, register or heartbeat in flight */
	ev_prepare decide;  /* runs the core before the loop blocks */
	ev_timer wake;      /* think time / backoff ends */
	ev_timer heartbeat; /* lease renewals and join retries */
	ev_timer leave_deadline;
	ev_signal sigint, sigterm;
	uint64_t boot_ms; /* makes transaction ids unique per run */
	uint64_t txn_serial;
	struct cc_counter *m_resends; /* counted by cellclient */
};

/* replica.c */
int replica_open(struct sched *s, char *errbuf, size_t errlen);
/* How far the replica is; its hashes too when `hashes` (a full pass). */
void replica_view(const struct sched *s, bool hashes, struct replica_view *out);
/* Closes the store (keeping its last view); done(s) runs once it is gone. */
void replica_close(struct sched *s, cst_close_cb done);
/* Empties the data folder: a standby's replica is a cache the leader
 * refills (snapshot + log), and stale Raft state of an earlier membership
 * would only confuse a re-join. */
int replica_wipe(const char *dir, char *errbuf, size_t errlen);

/* cell.c: the conversations with celld */
void cell_open(struct sched *s); /* the client: before any other call */
void cell_join(struct sched *s); /* add standby, then register */
void cell_heartbeat_start(struct sched *s);
void cell_submit(void *arg, cs_txn *txn, uint64_t ticket); /* sp_io */
void cell_leave(struct sched *s); /* unregister, leave, close */
/* At exit: what is in flight is answered with CC_ESTATE, then freed. */
void cell_close(struct sched *s);

/* status.c */
int status_serve(struct sched *s, char *errbuf, size_t errlen);

/* main.c */
void sched_closed(void *arg);

#endif
