/* localcell.h: a real Cell on loopback for the multi-process tests and the
 * benchmarks: celld voters, cellsched schedulers and cellagent node agents
 * started by fork/exec with free ports and a private folder, waited on by
 * condition with deadlines (never fixed sleeps), stopped by pid (never by
 * name) and the folder removed, even when the caller fails: an atexit
 * handler stops what is left, and the children die with the process
 * (parent-death signal). What a test and a benchmark do differently (what
 * trouble does, the flags every daemon gets, the folder's name) is a
 * profile the program installs once (lc_init); the code is the same.
 * This header is the whole public API of the library `localcell` (folder
 * localcell/).
 *
 * Trouble: a call that cannot do what it says (no free port, no leader in
 * time, a daemon that never comes up, fork failing) hands a message (with
 * the daemon's log when there is one) and the cell, whose folder holds the
 * logs, to the profile's trouble, which never returns: a test fails, a
 * benchmark ends. Calls that report a state (lc_find_leader, lc_http,
 * lc_status, lc_wait_until) return it instead.
 *
 * Threads: one thread, the one that installed the profile. */
#ifndef CELL_LOCALCELL_H
#define CELL_LOCALCELL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cellutil.h"

#define LC_MEMBERS_MAX 5
#define LC_SCHEDS_MAX  40
#define LC_AGENTS_MAX  8
#define LC_FLAGS_MAX   24 /* a daemon's own flags and the caller's */

struct lc_cell;
struct cl_cell; /* cellclient's */

/* ---- the profile: what a test and a benchmark do differently ------------ */
struct lc_profile {
	/* A cell's private folder is /tmp/FOLDER-PID-XXXXXX. */
	const char *folder;
	/* When this environment variable is set, folders are kept (and
	 * named on stderr) instead of removed. */
	const char *keep_env;
	/* Trouble keeps every folder, for the logs it names. */
	bool keep_on_trouble;
	/* The flags (NULL-terminated; NULL: none) every voter, scheduler and
	 * agent gets after its own and before the caller's (the later flag
	 * wins). */
	const char *const *celld, *const *sched, *const *agent;
	/* lc_http's limits on each request; 0: cellclient's defaults. */
	unsigned timeout_ms, connect_timeout_ms;
	/* lc_post_txn's transactions: their origin and the prefix of ids. */
	const char *origin;
	/* What trouble does; must not return (it fails the test or ends the
	 * program). msg says what went wrong (naming a daemon's log when one
	 * has it); c is the cell it happened in (lc_die: the newest running
	 * one), whose folder holds the logs, or NULL before any. */
	void (*trouble)(const struct lc_cell *c, const char *msg);
};

/* Installs the process's profile (borrowed for the life of the process):
 * before any other call; again with the same profile does nothing. */
void lc_init(const struct lc_profile *p);
/* Trouble the caller found (printf-style): the profile's trouble, with the
 * newest running cell. */
void lc_die(const char *fmt, ...) CU_PRINTF(1, 2) __attribute__((noreturn));

/* ---- processes (proc.c) ------------------------------------------------- */
/* Where the binaries are: dir, or (NULL) the folder of the running program.
 * Trouble when celld is not there. */
void lc_find_bins(const char *dir);
/* DIR/NAME for a binary of that folder (static storage, valid until the
 * next call). */
const char *lc_bin(const char *name);
/* Forks and execs argv (NULL-terminated, argv[0] the path) with stdin on
 * /dev/null and SIGKILL when this process dies; returns the pid. */
pid_t lc_spawn(const char *const *argv);
/* Sends sig to *pid and waits for it to exit (SIGKILL after 10 s); returns
 * the status as waitpid gives it and zeroes *pid. 0 when *pid is 0. */
int lc_kill_wait(pid_t *pid, int sig);
/* The same for every running pid of pids[0..n) at once: sig to all, then
 * one 10 s deadline for the group (32 schedulers leaving one after the
 * other would take seconds). */
void lc_kill_all(pid_t *const *pids, int n, int sig);
/* A loopback TCP port nobody listens on now, in 20000-31999 (below the
 * kernel's ephemeral range, so that an outgoing connection cannot take it
 * while its daemon is down for a restart), never one handed out before in
 * this process (a port given out may not be bound yet). */
int lc_free_port(void);
double lc_now(void); /* monotonic seconds */
/* Polls until fn(arg) is true or timeout_ms passes; returns the last
 * answer. Sleeps 20 ms between tries. */
bool lc_wait_until(bool (*fn)(void *arg), void *arg, int timeout_ms);

/* ---- a cell (cell.c) ---------------------------------------------------- */
/* A celld voter. */
struct lc_member {
	uint64_t id; /* its index + 1 */
	pid_t pid;   /* 0 while not running */
	int raft_port, api_port;
	char url[64];  /* http://127.0.0.1:API_PORT */
	char dir[256]; /* its data folder */
	char log[256]; /* its log file */
	char join[64]; /* "": bootstraps with the cell's --peers; else the API
	                  URL it joins through (--join), see lc_member_add */
};

/* A cellsched or cellagent process. */
struct lc_daemon {
	const char *kind; /* "sched" or "agent" (static): its binary is
	                     cellKIND, its folder and log KIND-NAME */
	char name[32];
	pid_t pid;     /* 0 while not running */
	int port;      /* its API: /v1/status, /metrics, an agent's logs */
	int raft_port; /* a scheduler's replica; 0 for an agent */
	char url[64];
	char dir[256]; /* its data folder */
	char log[256];
	/* Owned copies of its own flags and the caller's, NULL-terminated:
	 * the same again at a restart. */
	char *flags[LC_FLAGS_MAX + 1];
};

struct lc_cell {
	char root[128]; /* the private folder */
	int n;
	struct lc_member m[LC_MEMBERS_MAX];
	int nsched;
	struct lc_daemon s[LC_SCHEDS_MAX];
	int nagents;
	struct lc_daemon a[LC_AGENTS_MAX];
	char peers[1024];         /* --peers of the voters that bootstrap */
	const char *const *extra; /* borrowed: every voter's extra flags */
	int leader; /* the member lc_find_leader found last, or -1 */
	/* private: lc_post_txn's conversation, and the list of cells the
	 * atexit handler stops */
	struct cl_cell *talk;
	struct cu_list link;
};

/* Starts n voters (1..5) with the profile's flags plus `extra`
 * (NULL-terminated, borrowed for the cell's life, may be NULL) and waits
 * until one is the trusted leader; trouble after 30 s. The cell is the
 * caller's until lc_stop. */
struct lc_cell *lc_start(int n, const char *const *extra);
/* Stops the agents (then kills every task their folders record: agents
 * leave tasks running when they stop, by design), the schedulers, then the
 * voters: SIGTERM to each group at once, SIGKILL after 10 s; removes the
 * folder (unless kept) and frees c. NULL is fine. */
void lc_stop(struct lc_cell *c);
/* (Re)starts member i with its data folder (after a kill or a stop). */
void lc_member_start(struct lc_cell *c, int i);
/* Adds member c->n (id c->n + 1) with fresh ports and folder, started with
 * `--join join_url` and no --peers: a voter joining the running cell.
 * Returns its index; the caller waits for the membership to show it. */
int lc_member_add(struct lc_cell *c, const char *join_url);
/* lc_kill_wait of member i. */
int lc_member_kill(struct lc_cell *c, int i, int sig);
/* Index of the running member that reports itself the trusted leader,
 * waiting up to timeout_ms; -1 when none. */
int lc_find_leader(struct lc_cell *c, int timeout_ms);
/* The trusted leader's URL (in c), waiting up to 30 s; trouble when none. */
const char *lc_leader(struct lc_cell *c);

/* ---- schedulers and agents (daemon.c) ----------------------------------
 * Each gets a fresh API port and a folder, the members' URLs (--cell), the
 * profile's flags, then `extra` (NULL-terminated, may be NULL; copied). The
 * _add calls return the index (in c->s, c->a) at once; the _start calls
 * wait up to 60 s for it to be running / watching first. */
int lc_sched_add(struct lc_cell *c, const char *name, const char *class_name,
                 const char *const *extra);
int lc_sched_start(struct lc_cell *c, const char *name, const char *class_name,
                   const char *const *extra);
/* An agent for machine `name` (with --hollow N in extra: N simulated
 * machines with that prefix). */
int lc_agent_add(struct lc_cell *c, const char *name, const char *const *extra);
int lc_agent_start(struct lc_cell *c, const char *name,
                   const char *const *extra);
/* Starts d again with the same port, folder and flags; trouble while it
 * still runs. */
void lc_restart(struct lc_cell *c, struct lc_daemon *d);
/* Waits until d's /v1/status says `phase` ("running" for a scheduler
 * registered with the cell, "watching" for an agent following its watch
 * stream); trouble after timeout_ms, naming its log. */
void lc_wait_phase(const struct lc_daemon *d, const char *phase,
                   int timeout_ms);
/* SIGKILL to the process group of every task recorded in an agent's data
 * folder (tasks/JOB/INDEX.ATTEMPT/pid). */
void lc_kill_tasks(const struct lc_daemon *agent);

/* ---- talking to the daemons (http.c), through cellclient ---------------
 * One attempt at url (any daemon; 307 and 308 followed) with an optional
 * JSON body (borrowed); returns the HTTP status (0 when no answer came) and
 * the body in *out (malloc'd, "" when none; out may be NULL). */
long lc_http(const char *method, const char *url, const char *body, char **out);
/* The same with a JSON body (borrowed; NULL: none) and the answer parsed
 * into *out (NULL when absent or not JSON; the caller decrefs; out may be
 * NULL). */
long lc_http_json(const char *method, const char *url, const json_t *body,
                  json_t **out);
/* GET base/v1/status of any daemon; NULL unless it answers 200 (the caller
 * decrefs). */
json_t *lc_status(const char *base);
/* Posts a transaction of ops (a jansson array; ownership moves in) with a
 * fresh id to c, the leader lc_find_leader found first, resent as a
 * scheduler would; trouble, naming `what`, unless it committed with every
 * op accepted. */
void lc_post_txn(struct lc_cell *c, json_t *ops, const char *what);

#endif /* CELL_LOCALCELL_H */
