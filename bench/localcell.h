/* localcell.h: a real cell on loopback for the benchmark programs (celld
 * voters and cellsched processes by fork/exec, free ports, a private
 * folder), stopped by pid and removed at exit. Not a test library: errors
 * end the program with a message naming the folder of the logs. */
#ifndef CELL_BENCH_LOCALCELL_H
#define CELL_BENCH_LOCALCELL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define LC_MEMBERS_MAX 5
#define LC_SCHEDS_MAX  40
#define LC_AGENTS_MAX  8

struct lc_cell {
	char root[96];
	int n;
	pid_t pids[LC_MEMBERS_MAX];
	char urls[LC_MEMBERS_MAX][64];
	int nsched;
	pid_t sched_pids[LC_SCHEDS_MAX];
	char sched_urls[LC_SCHEDS_MAX][64];
	int nagents;
	pid_t agent_pids[LC_AGENTS_MAX];
	char agent_urls[LC_AGENTS_MAX][64];
};

/* Where celld and cellsched are: dir, or (NULL) the folder of the running
 * program. Ends the program when celld is not there. */
void lc_find_bins(const char *dir);
/* A fresh cell of n voters with `extra` celld flags (NULL-terminated, may
 * be NULL); stops the previous one. Returns the cell (static storage)
 * once a leader is trusted. */
struct lc_cell *lc_start(int n, const char *const *extra);
/* Starts a cellsched of class_name with `extra` flags; returns its index.
 * Waits until it reports itself running. */
int lc_sched_start(struct lc_cell *c, const char *name, const char *class_name,
                   const char *const *extra);
/* Starts a cellagent named `name` (with --hollow N in extra: N simulated
 * machines) with `extra` flags; returns its index. Waits until it follows
 * the cell's watch stream. Benchmarks use hollow agents: a real agent's
 * tasks would outlive lc_stop. */
int lc_agent_start(struct lc_cell *c, const char *name,
                   const char *const *extra);
void lc_stop(struct lc_cell *c);
/* URL of the trusted leader (waits up to 30 s). */
const char *lc_leader(struct lc_cell *c);

/* A blocking request (one attempt, cellclient's cl_sync_request_at) to
 * url, any daemon of the cell, with an optional JSON body; returns the HTTP
 * status (0 when no answer came) and the body in *out (malloc'd; out may
 * be NULL). */
long lc_http(const char *method, const char *url, const char *body, char **out);
/* Posts a transaction of ops (a jansson array; ownership moves in) with a
 * fresh id through cellclient, leader first, resent as a scheduler would,
 * and ends the program, naming `what`, unless it committed with every op
 * accepted. */
void lc_post_txn(const char *leader, json_t *ops, const char *what);
double lc_now(void); /* monotonic seconds */
void lc_die(const char *what) __attribute__((noreturn));

#endif
