/* celld.h: private to celld: the process's context shared by its files
 * (DESIGN.md §3). celld is a Raft voter that serves the cell's HTTP/JSON
 * API: reads from its local replica, writes through the leader. */
#ifndef CELL_CELLD_H
#define CELL_CELLD_H

#include "cellcommon.h"
#include "cellraft.h"
#include "cellstate.h"

#include <ev.h>

/* Settings, filled by the flag table in main.c. Strings are owned by the
 * flag parser (cc_flags_free). */
struct celld_config {
	uint64_t id;
	char *raft_address; /* "127.0.0.1:9001" */
	char *listen;       /* API "127.0.0.1:8001" */
	char *advertise;    /* API URL others use; default http://LISTEN */
	char *data_dir;
	char *peers; /* "1=RAFT=API,2=RAFT=API,..." bootstrap list */
	char *join;  /* API URL of a running member to join through */
	char *token_file;
	char *log_level;
	char *log_file;
	uint64_t election_timeout_ms, heartbeat_timeout_ms;
	uint64_t snapshot_threshold, snapshot_trailing, segment_size;
	uint64_t batch_max_txns, batch_max_bytes;
	uint64_t machine_ttl_ms; /* 0: no liveness checks */
	uint64_t sched_ttl_ms;   /* 0: schedulers never expire */
	uint64_t watch_window;   /* changes kept for /v1/watch?from= */
	uint64_t watch_buffer;   /* bytes a stream may have waiting */
	uint64_t max_body;
	uint64_t dedup_max, dedup_ttl_ms;
};

struct watch;       /* watch.c */
struct liveness;    /* liveness.c */
struct sched_lease; /* sched_lease.c */

struct celld {
	struct ev_loop *loop;
	struct celld_config cfg;
	cr_node *node;
	cc_server *server;
	cc_metrics *metrics;
	struct watch *watch;
	struct liveness *live;
	struct sched_lease *leases;
	char *token; /* NULL: mutations need no token (loopback only) */
	bool stopping;
	uint64_t serial; /* for ids of transactions celld makes itself */
	uint64_t
	    led_from; /* applied index when it last became trusted leader */
	ev_signal sigint, sigterm;
	/* metrics kept by hot paths */
	struct cc_counter_vec *txns; /* outcome */
	struct cc_counter_vec *ops;  /* verdict */
	struct cc_histogram *commit_seconds;
};

/* ---- api.c: routes and the helpers every handler uses ---- */
int celld_api_routes(struct celld *d, char *errbuf, size_t errlen);
/* Mutations need the bearer token when one is configured: replies 401 and
 * returns false when the request lacks it. */
bool celld_authorized(struct celld *d, struct cc_request *r);
/* Writes go to the leader: when this member is not the trusted leader,
 * answers 307 to the leader's API (or 503 while there is none) and returns
 * false. */
bool celld_leader_or_redirect(struct celld *d, struct cc_request *r);
/* Rejects query parameters not in allowed (NULL-terminated) with 400. */
bool celld_only_params(struct cc_request *r, const char *const *allowed);

/* Submits txn (ownership moves) for request r and answers when it commits.
 * shape decides the answer: CELLD_RAW answers every verdict (POST /v1/txn);
 * CELLD_ONE answers the single op's verdict as an HTTP status (201/200 on
 * ok, 404 for unknown_*, 409 for other rejections). */
enum celld_answer { CELLD_RAW, CELLD_ONE };
void celld_submit(struct celld *d, struct cc_request *r, cs_txn *txn,
                  enum celld_answer shape, unsigned ok_status);
/* An id for a transaction celld builds for a REST write ("celld-2-40-17"),
 * or the client's ?txn_id= when given (so retries of REST writes are safe
 * too). */
const char *celld_txn_id(struct celld *d, struct cc_request *r, char *buf,
                         size_t len);
/* An id for a transaction this member makes as the trusted leader:
 * "WHAT-MEMBER-LEDFROM-N", LEDFROM the index of the barrier that made it
 * trusted. Each leadership begins with a new barrier entry, after every
 * entry of earlier ones, so an id never repeats, not even across a restart
 * (the term is no such guarantee: a lone voter restarts as leader of the
 * same term). A repeated id would be answered with the remembered first
 * verdict, and the new transaction would change nothing. */
const char *celld_own_txn_id(struct celld *d, const char *what, char *buf,
                             size_t len);

/* api_read.c / api_write.c */
void celld_routes_read(struct celld *d, char *errbuf, size_t errlen, int *rc);
/* Gauges read from the node when /metrics renders (api_read.c). */
void celld_gauges(struct celld *d);
void celld_routes_write(struct celld *d, char *errbuf, size_t errlen, int *rc);

/* ---- watch.c: the change feed behind /v1/watch ---- */
struct watch *watch_new(struct celld *d, uint64_t window);
void watch_free(struct watch *w);
/* From the node's on_applied hook: keeps and fans out res->changes. */
void watch_applied(struct watch *w, uint64_t index, const cs_result *res);
/* The local state was replaced: the window restarts after `index`, and
 * every stream ends (clients resume and get 410, then reload). */
void watch_restored(struct watch *w, uint64_t index);
void watch_handle(struct celld *d, struct cc_request *r);

/* ---- ttl.c: a heartbeat table (leader memory) ----
 * Machines (liveness.c) and schedulers (sched_lease.c) each keep one. */
struct ttl_table {
	struct ev_loop *loop;
	uint64_t ttl_ms;      /* 0: nothing expires, and no sweeps run */
	json_t *last;         /* name -> last sign of life (ev_now) */
	ev_tstamp grace_from; /* when this member became the trusted leader */
	void (*sweep)(void *arg); /* every quarter TTL; checks leadership */
	void *arg;
	ev_timer timer;
};
void ttl_init(struct ttl_table *t, struct ev_loop *loop, uint64_t ttl_ms,
              void (*sweep)(void *arg), void *arg);
void ttl_destroy(struct ttl_table *t);
/* This member became the trusted leader: everyone gets a full TTL. */
void ttl_trusted(struct ttl_table *t);
void ttl_seen(struct ttl_table *t, const char *name); /* alive now */
void ttl_forget(struct ttl_table *t, const char *name);
/* Seconds since name's last sign of life, or since the grace began. */
double ttl_silent(const struct ttl_table *t, const char *name);
/* Silent longer than the TTL (never with no TTL). */
bool ttl_expired(const struct ttl_table *t, const char *name);

/* ---- liveness.c: the machine TTL (leader memory) ---- */
struct liveness *liveness_new(struct celld *d, uint64_t ttl_ms);
void liveness_free(struct liveness *l);
/* This member became the trusted leader: every machine gets a full TTL. */
void liveness_trusted(struct liveness *l);
/* A heartbeat of machine name: false (and nothing kept) when the local
 * state has no such machine. */
bool liveness_beat(struct liveness *l, const char *name);
uint64_t liveness_ttl_ms(const struct liveness *l);
/* From the node's on_applied hook: machines that changed are alive. */
void liveness_applied(struct liveness *l, const cs_result *res);

/* ---- sched_lease.c: scheduler leases (leader memory) ----
 * A scheduler silent past the TTL is unregistered, and the Raft standby it
 * named is removed. */
struct sched_lease *sched_lease_new(struct celld *d, uint64_t ttl_ms);
void sched_lease_free(struct sched_lease *l);
/* This member became the trusted leader: every scheduler gets a full TTL. */
void sched_lease_trusted(struct sched_lease *l);
/* A heartbeat of scheduler name: false (and nothing kept) when it is not
 * registered. */
bool sched_lease_beat(struct sched_lease *l, const char *name);
uint64_t sched_lease_ttl_ms(const struct sched_lease *l);
/* From the node's on_applied hook: an accepted sched_register is a sign of
 * life, an accepted sched_unregister forgets the scheduler. */
void sched_lease_applied(struct sched_lease *l, const cs_txn *txn,
                         const cs_result *res);
/* 1 when name was heard from within the TTL (or there is no TTL), 0 when
 * not, -1 when this member cannot tell (it is not the trusted leader). */
int sched_lease_alive(const struct sched_lease *l, const char *name);

/* ---- heartbeat.c: POST /v1/heartbeat for machines and schedulers ---- */
void heartbeat_handle(struct celld *d, struct cc_request *r);

#endif /* CELL_CELLD_H */
