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
	char *raft_address;  /* "127.0.0.1:9001" */
	char *listen;        /* API "127.0.0.1:8001" */
	char *advertise;     /* API URL others use; default http://LISTEN */
	char *data_dir;
	char *peers;         /* "1=RAFT=API,2=RAFT=API,..." bootstrap list */
	char *join;          /* API URL of a running member to join through */
	char *token_file;
	char *log_level;
	char *log_file;
	uint64_t election_timeout_ms, heartbeat_timeout_ms;
	uint64_t snapshot_threshold, snapshot_trailing, segment_size;
	uint64_t batch_max_txns, batch_max_bytes;
	uint64_t machine_ttl_ms; /* 0: no liveness checks */
	uint64_t watch_window;   /* changes kept for /v1/watch?from= */
	uint64_t max_body;
	uint64_t dedup_max, dedup_ttl_ms;
};

struct watch;    /* watch.c */
struct liveness; /* liveness.c */

struct celld {
	struct ev_loop *loop;
	struct celld_config cfg;
	cr_node *node;
	cc_server *server;
	cc_metrics *metrics;
	struct watch *watch;
	struct liveness *live;
	char *token;   /* NULL: mutations need no token (loopback only) */
	bool stopping;
	uint64_t serial; /* for ids of transactions celld makes itself */
	ev_signal sigint, sigterm;
	/* metrics kept by hot paths */
	struct cc_counter_vec *txns;   /* outcome */
	struct cc_counter_vec *ops;    /* verdict */
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
/* An id for a transaction celld builds itself ("celld-2-17"), or the
 * client's ?txn_id= when given (so retries of REST writes are safe too). */
const char *celld_txn_id(struct celld *d, struct cc_request *r, char *buf,
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

/* ---- liveness.c: heartbeats and the machine TTL (leader memory) ---- */
struct liveness *liveness_new(struct celld *d, uint64_t ttl_ms);
void liveness_free(struct liveness *l);
/* This member became the trusted leader: every machine gets a full TTL. */
void liveness_trusted(struct liveness *l);
void liveness_handle(struct celld *d, struct cc_request *r);
/* From the node's on_applied hook: machines that changed are alive. */
void liveness_applied(struct liveness *l, const cs_result *res);

#endif /* CELL_CELLD_H */
