/* celld.h: the celld core, the whole public API of the library `celldcore`
 * (folder celld/; the celld binary is celld/main.c around it). The core
 * holds what celld does above the store (docs/ARCHITECTURE.md §3): the
 * HTTP routes' logic (reads from the local replica, writes through the
 * writer, the one mapping of store errors to HTTP statuses), the watch
 * window behind /v1/watch, heartbeats, and the leader duties (machine
 * liveness, scheduler leases; a table any later duty joins by one row). It
 * knows the store only through cellstore.h and time only through its
 * clock, so a test runs it against the fake store with a fake clock, and a
 * simulator could run many.
 *
 * Life: cd_core_new; open the store with the hooks cd_core_store_hooks
 * fills (they may run while the store opens: the core keeps what they say
 * — the watch window, the writer's epoch — until it serves); cd_core_serve
 * with the store and the HTTP server; cd_core_tick every cd_core_tick_ms;
 * cd_core_stop, then free the server (which ends the watch streams and the
 * answers still deferred) and close the store (which answers what is in
 * flight); cd_core_free once both are gone.
 *
 * Threads: everything on the loop thread of the server and the store.
 * Errors: 0 or CC_E* codes with a message in errbuf.
 * Memory: allocation failure aborts the process. */
#ifndef CELL_CELLD_H
#define CELL_CELLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cellcommon.h"
#include "cellstore.h"

typedef struct cd_core cd_core;

/* The core's one source of time: monotonic seconds (TTLs, grace periods,
 * progress lines, commit latency). */
struct cd_clock {
	double (*now)(void *arg);
	void *arg;
};

struct cd_config {
	uint64_t machine_ttl_ms; /* a machine silent this long goes down; 0:
	                            never */
	uint64_t sched_ttl_ms;   /* a scheduler silent this long is
	                            unregistered; 0: never */
	uint64_t watch_window;   /* changes kept for /v1/watch?from= (> 0) */
	const char *token;       /* copied; mutations need it; NULL: none */
	cc_metrics *metrics;     /* borrowed, never NULL, outlives the core;
	                            the core's metrics go there */
	struct cd_clock clock;   /* copied; now NULL: the real monotonic
	                            clock */
};

/* On 0, *out is a core the caller frees with cd_core_free. */
int cd_core_new(const struct cd_config *cfg, cd_core **out, char *errbuf,
                size_t errlen);
/* The hooks to open the store with (arg: the core). */
void cd_core_store_hooks(cd_core *c, struct cst_hooks *out);
/* Serves the cell's API on server (borrowed; routes are added to it) from
 * store (borrowed, opened with the hooks above). Both must outlive the
 * core's serving (until cd_core_stop). Once only. */
int cd_core_serve(cd_core *c, cst_store *store, cc_server *server, char *errbuf,
                  size_t errlen);
/* Runs what is due: the leader duties' sweeps, the watch's progress lines.
 * Call it every cd_core_tick_ms() (from a timer) and whenever a test moves
 * its clock; a tick a little early or late is fine (what is due within
 * half a tick runs). Nothing runs before cd_core_serve or after
 * cd_core_stop. */
void cd_core_tick(cd_core *c);
unsigned cd_core_tick_ms(const cd_core *c);
/* No more sweeps, progress lines or duties' transactions. Call before
 * freeing the server and closing the store. */
void cd_core_stop(cd_core *c);
/* After the server is freed and the store closed (or never opened). NULL
 * is fine. */
void cd_core_free(cd_core *c);

#endif /* CELL_CELLD_H */
