/* core.h: private to the celld core (docs/ARCHITECTURE.md §3): its state
 * and what its files share. Three parts:
 *   routes    routes.c's table, api_*.c, heartbeat.c, watch.c's handler:
 *             requests in, answers out (request.c, submit.c and
 *             store_errors.c are their helpers); they may use everything
 *             below;
 *   duties    duties.c's table and its rows (liveness.c, sched_lease.c,
 *             on ttl.c): what the writer does by itself; they use the core
 *             and the store, never a route;
 *   core      core.c (life, clock, own transaction ids), hooks.c (what
 *             the store says), metrics.c, watch.c's window; it reaches the
 *             duties only through the duty table. */
#ifndef CELL_CELLD_CORE_H
#define CELL_CELLD_CORE_H

#include "celld.h"

/* ---- the core (core.c) ---------------------------------------------------*/

/* Something a tick runs every `period` seconds (0: never). */
struct cd_every {
	double period;
	double next; /* when it is due next */
};

struct cd_watch;     /* watch.c */
struct cd_duty_slot; /* duties.c */

struct cd_core {
	struct cd_config cfg; /* cfg.token points at token */
	char *token;          /* owned copy; NULL: mutations need none */
	cst_store *store;     /* borrowed; NULL until cd_core_serve */
	cc_server *server;    /* borrowed; NULL until cd_core_serve */
	bool stopping;        /* cd_core_stop was called */
	/* Ids of the writer's own transactions (cd_own_txn_id). */
	uint64_t led_from;      /* the applied index the last on_writer gave */
	uint64_t serial;        /* ids made since */
	struct cd_watch *watch; /* owned */
	struct cd_duty_slot *duties; /* owned: one per row of the duty table */
	struct cd_every progress;    /* the watch's progress lines */
	double slack;                /* half a tick, seconds */
	/* Metrics kept by hot paths (metrics.c), in cfg.metrics. */
	struct cc_counter_vec *txns; /* answered as writer, by outcome */
	struct cc_counter_vec *ops;  /* applied, by verdict */
	struct cc_histogram *commit_seconds;
};

/* The core's clock: monotonic seconds. */
double cd_now(const cd_core *c);
/* What is due within the slack of now: true and the next time scheduled
 * one period on (or a period from now when the tick fell far behind). */
bool cd_every_due(struct cd_every *e, double now, double slack);
/* An id for a transaction this member makes as the writer:
 * "WHAT-MEMBER-LEDFROM-N", LEDFROM the applied index on_writer gave. Each
 * writer epoch starts past every index an earlier one reached, so an id
 * never repeats, not even across a restart (the epoch is no such
 * guarantee: a lone voter restarts as leader of the same Raft term). A
 * repeated id would be answered with the remembered first verdict, and the
 * new transaction would change nothing. */
const char *cd_own_txn_id(cd_core *c, const char *what, char *buf, size_t len);

/* ---- metrics (metrics.c) ---------------------------------------------------
 * The counters and histogram above, and gauges read from the store when
 * /metrics renders (0 before the core serves). */
void cd_metrics_register(cd_core *c);
void cd_count_ops(cd_core *c, const cs_result *res);
/* One answered transaction: status 0 with res, or a store error. */
void cd_count_txn(cd_core *c, int status, const cs_result *res);

/* ---- the watch window (watch.c) --------------------------------------------
 * Every replica keeps the changes of its last `window` applies, so a client
 * resumes on any member; streams subscribe with filters. */
struct cd_watch *cd_watch_new(uint64_t window);
void cd_watch_free(struct cd_watch *w); /* ends the streams still open */
/* The store the streams' filters read machines from (cd_core_serve). */
void cd_watch_serve(struct cd_watch *w, const cst_store *store);
/* Keeps res's changes and sends them to the streams that want them. */
void cd_watch_applied(struct cd_watch *w, uint64_t index, const cs_result *res);
/* The state was replaced: the window restarts after index and every stream
 * ends (clients resume, get 410 and reload). */
void cd_watch_restored(struct cd_watch *w, uint64_t index);
/* {"kind":"progress","index":index} to every stream. */
void cd_watch_progress(struct cd_watch *w, uint64_t index);

/* ---- leader duties (duties.c) ----------------------------------------------
 * What the writer does by itself, each a row of the duty table. A duty
 * opens with the core (cd_core_new: no store yet), hears every applied
 * transaction on every member (also while the store opens), gets a fresh
 * start when this member becomes the writer (it knows nothing of the last
 * writer's memory, so whatever it times starts a full TTL), and sweeps
 * every period while the core serves, has not stopped and this member is
 * the writer. What a sweep submits is answered before close runs (the
 * store closes first). Every function but open and close may be NULL. */
struct cd_duty {
	const char *name;
	void *(*open)(cd_core *c); /* its state (never NULL) */
	void (*close)(void *self); /* cd_core_free: the store is closed */
	void (*on_writer)(void *self);
	void (*on_applied)(void *self, uint64_t index, const cs_txn *txn,
	                   const cs_result *res);
	double (*period)(const void *self); /* seconds; 0: never sweeps */
	void (*sweep)(void *self);
};
/* The rows (each in its own file). */
extern const struct cd_duty cd_duty_liveness; /* liveness.c */
extern const struct cd_duty cd_duty_leases;   /* sched_lease.c */

void cd_duties_open(cd_core *c);
void cd_duties_close(cd_core *c);
void cd_duties_writer(cd_core *c);
void cd_duties_applied(cd_core *c, uint64_t index, const cs_txn *txn,
                       const cs_result *res);
/* Schedules the first sweeps a period from now (cd_core_serve). */
void cd_duties_start(cd_core *c, double now);
/* Runs the sweeps due, on the writer only. */
void cd_duties_tick(cd_core *c, double now);
/* The shortest sweep period, seconds; 0 when none sweeps. */
double cd_duties_min_period(const cd_core *c);
/* The state that duty's open returned. */
void *cd_duty_self(const cd_core *c, const struct cd_duty *duty);

/* ---- heartbeat tables (ttl.c) ----------------------------------------------
 * Each name's last sign of life, in the writer's memory, and the grace a
 * new writer gives everyone. Machines and schedulers each keep one. */
struct cd_ttl {
	const cd_core *core; /* its clock */
	uint64_t ttl_ms;     /* 0: nothing expires */
	struct cu_map last;  /* name -> struct ttl_seen (owned) */
	double grace_from;   /* when this member last became the writer */
};
void cd_ttl_init(struct cd_ttl *t, const cd_core *c, uint64_t ttl_ms);
void cd_ttl_destroy(struct cd_ttl *t);
/* This member became the writer: everyone gets a full TTL from now. */
void cd_ttl_grace(struct cd_ttl *t);
void cd_ttl_seen(struct cd_ttl *t, const char *name); /* alive now */
void cd_ttl_forget(struct cd_ttl *t, const char *name);
/* Seconds since name's last sign of life, or since the grace began. */
double cd_ttl_silent(const struct cd_ttl *t, const char *name);
/* Silent longer than the TTL (never without a TTL). */
bool cd_ttl_expired(const struct cd_ttl *t, const char *name);
/* A quarter TTL, in seconds (0 without a TTL): how often to sweep. */
double cd_ttl_period(const struct cd_ttl *t);

/* ---- what the duties offer the routes --------------------------------------
 * Machine liveness (liveness.c): a heartbeat of machine name; false (and
 * nothing kept) when the local state has no such machine. */
bool cd_machine_beat(cd_core *c, const char *name);
/* Scheduler leases (sched_lease.c): a heartbeat of scheduler name; false
 * (and nothing kept) when it is not registered. */
bool cd_sched_beat(cd_core *c, const char *name);
/* 1 when name was heard from within the TTL (or there is no TTL), 0 when
 * not, -1 when this member cannot tell (it is not the writer). */
int cd_sched_alive(const cd_core *c, const char *name);

/* ---- answering store errors (store_errors.c) -------------------------------
 * The one mapping of the store's error codes to HTTP answers. The context
 * names the error in the client's terms. */
enum cd_context {
	CD_TXN,       /* a transaction: submit and its callback */
	CD_MEMBERSHIP /* a membership list or change */
};
/* Answers r for store error code (never 0); msg (may be NULL or "") is
 * what the store said. CST_ENOTWRITER answers 307 to the writer or 503
 * no_leader, as cd_writer_or_redirect does. */
void cd_reply_store_error(cd_core *c, struct cc_request *r, enum cd_context ctx,
                          int code, const char *msg);
/* Writes go to the writer: false, with 307 to the writer's API (the same
 * path and query) or 503 no_leader sent, when this member is not it. */
bool cd_writer_or_redirect(cd_core *c, struct cc_request *r);

/* ---- request helpers (request.c) ---------------------------------------- */

/* Mutations need the bearer token when one is configured: false, with 401
 * sent, when the request lacks it. */
bool cd_authorized(const cd_core *c, struct cc_request *r);
/* Rejects query parameters not in allowed (NULL-terminated) with 400. */
bool cd_only_params(struct cc_request *r, const char *const *allowed);
/* What every write checks first: the token, the query, the writer. */
bool cd_write_checks(cd_core *c, struct cc_request *r,
                     const char *const *params);
/* The client's ?txn_id= when given (so resends of REST writes are safe
 * too), else an id of this member's own ("celld-2-40-17"). */
const char *cd_txn_id(cd_core *c, struct cc_request *r, char *buf, size_t len);

/* ---- submitting for a request (submit.c) -----------------------------------
 * Submits txn (taken) for r and answers once the store has. CD_RAW answers
 * every verdict (POST /v1/txn); CD_ONE the single op's verdict as an HTTP
 * status (ok_status on ok, 404 for unknown_*, 409 for other rejections). */
enum cd_answer { CD_RAW, CD_ONE };
void cd_submit(cd_core *c, struct cc_request *r, cs_txn *txn,
               enum cd_answer shape, unsigned ok_status);

/* ---- routes (routes.c: the table; arg is the core) ---------------------- */
int cd_routes_add(cd_core *c, char *errbuf, size_t errlen);
/* api_read.c */
/* ?limit=N for lists; false with 400 sent on anything but a number in
 * range. */
bool cd_list_limit(struct cc_request *r, size_t *limit);
/* {"index": applied, KEY: items (taken), "truncated": truncated} */
json_t *cd_listing(const cd_core *c, const char *key, json_t *items,
                   bool truncated);
void cd_get_status(struct cc_request *r, void *arg);
void cd_get_machines(struct cc_request *r, void *arg);
void cd_get_jobs(struct cc_request *r, void *arg);
void cd_get_schedulers(struct cc_request *r, void *arg);
/* api_tasks.c */
void cd_get_tasks(struct cc_request *r, void *arg);
/* api_write.c */
void cd_post_txn(struct cc_request *r, void *arg);
void cd_put_machine(struct cc_request *r, void *arg);
void cd_post_machine(struct cc_request *r, void *arg);
void cd_delete_machine(struct cc_request *r, void *arg);
void cd_post_job(struct cc_request *r, void *arg);
void cd_delete_job(struct cc_request *r, void *arg);
/* api_members.c */
/* A member as /v1/members and /v1/status show it. */
json_t *cd_member_json(const struct cst_member *m, uint64_t writer);
void cd_get_members(struct cc_request *r, void *arg);
void cd_post_member(struct cc_request *r, void *arg);
void cd_put_member(struct cc_request *r, void *arg);
void cd_delete_member(struct cc_request *r, void *arg);
/* heartbeat.c */
void cd_post_heartbeat(struct cc_request *r, void *arg);
/* watch.c */
void cd_get_watch(struct cc_request *r, void *arg);
/* metrics.c */
void cd_get_metrics(struct cc_request *r, void *arg);

#endif /* CELL_CELLD_CORE_H */
