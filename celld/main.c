/* main.c: celld, a Raft voter of the cell state that serves its HTTP API:
 * the celld core (celld.h) over the Raft store (cst_raft_open). Its life:
 * read flags, open the store, serve, join a running cell if asked, and on
 * SIGINT/SIGTERM stop serving, close the store cleanly, exit. */
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "celld.h"
#include "join.h"

/* Settings, filled by the flag table. Strings are owned by the flag parser
 * (cc_flags_free). */
static struct {
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
} C;

static const struct cc_flag flags[] = {
    {"id", CC_FLAG_UINT, NULL,
     "this member's Raft id (> 0, unique in the cell)", &C.id, 0, 0},
    {"raft-address", CC_FLAG_STRING, NULL,
     "Raft address, an IPv4 literal HOST:PORT", &C.raft_address, 0, 0},
    {"listen", CC_FLAG_STRING, "127.0.0.1:8001",
     "API address HOST:PORT to serve on", &C.listen, 0, 0},
    {"advertise", CC_FLAG_STRING, NULL,
     "API URL other members and clients use (default http://LISTEN)",
     &C.advertise, 0, 0},
    {"data-dir", CC_FLAG_STRING, NULL,
     "folder for the Raft log and snapshots (created)", &C.data_dir, 0, 0},
    {"peers", CC_FLAG_STRING, NULL,
     "bootstrap voters ID=RAFT=API,...; the same on every initial voter",
     &C.peers, 0, 0},
    {"join", CC_FLAG_STRING, NULL,
     "API URL of a running member: join the cell as a voter through it",
     &C.join, 0, 0},
    {"token-file", CC_FLAG_STRING, NULL,
     "file holding the bearer token mutations need (required off loopback)",
     &C.token_file, 0, 0},
    {"election-timeout", CC_FLAG_DURATION, "1s",
     "Raft election timeout (randomised up to twice)", &C.election_timeout_ms,
     10, 60000},
    {"heartbeat-timeout", CC_FLAG_DURATION, "100ms", "Raft heartbeat interval",
     &C.heartbeat_timeout_ms, 1, 10000},
    {"snapshot-threshold", CC_FLAG_UINT, "16384", "entries between snapshots",
     &C.snapshot_threshold, 16, 0},
    {"snapshot-trailing", CC_FLAG_UINT, "8192", "entries kept after a snapshot",
     &C.snapshot_trailing, 0, 0},
    {"segment-size", CC_FLAG_SIZE, "64MiB", "Raft log segment size",
     &C.segment_size, 1 << 20, 1ull << 32},
    {"batch-max-txns", CC_FLAG_UINT, "1024",
     "transactions per Raft entry, at most", &C.batch_max_txns, 1, 1 << 20},
    {"batch-max-bytes", CC_FLAG_SIZE, "1MiB",
     "bytes per Raft entry before it is sealed", &C.batch_max_bytes, 1024,
     1ull << 30},
    {"machine-ttl", CC_FLAG_DURATION, "10s",
     "a machine silent this long goes down (0: never)", &C.machine_ttl_ms, 0,
     0},
    {"sched-ttl", CC_FLAG_DURATION, "10s",
     "a scheduler silent this long is unregistered and its standby member "
     "removed (0: never)",
     &C.sched_ttl_ms, 0, 0},
    {"watch-window", CC_FLAG_UINT, "200000",
     "changes kept for /v1/watch?from=", &C.watch_window, 1, 100000000},
    {"watch-buffer", CC_FLAG_SIZE, "64MiB",
     "bytes a /v1/watch stream may have waiting for a slow client before it is "
     "ended (it resumes with ?from=)",
     &C.watch_buffer, 64 << 10, 1ull << 32},
    {"max-body", CC_FLAG_SIZE, "64MiB", "largest request body accepted",
     &C.max_body, 1024, 1ull << 32},
    {"dedup-max", CC_FLAG_UINT, "262144",
     "transaction ids remembered (a new cell only)", &C.dedup_max, 0,
     UINT32_MAX},
    {"dedup-ttl", CC_FLAG_DURATION, "10m",
     "how long ids are remembered (a new cell only)", &C.dedup_ttl_ms, 0, 0},
    {"log-level", CC_FLAG_STRING, "info", "debug, info, warn or error",
     &C.log_level, 0, 0},
    {"log-file", CC_FLAG_STRING, "-", "where log lines go (- for stderr)",
     &C.log_file, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static const char about[] =
    "celld keeps a replica of the cell state as a Raft voter and serves the "
    "cell's HTTP/JSON API. Start three (or five) with the same --peers list "
    "to bootstrap a cell; start one with --join URL to add it to a running "
    "cell. Reads are served from the local replica; writes are redirected to "
    "the leader.";

/* Wrong usage: say what and exit 2. */
static int fail(const char *msg)
{
	fprintf(stderr, "celld: %s (see celld --help)\n", msg);
	return 2;
}

/* The process: what main opens and the signal closes. */
struct celld {
	struct ev_loop *loop;
	cc_metrics *metrics; /* owned */
	cd_core *core;       /* owned */
	cst_store *store;    /* owned; closed on the way out */
	cc_server *server;   /* owned; NULL once stopping */
	struct join *join;   /* owned; NULL when not joining */
	char *token;         /* owned; NULL: mutations need no token */
	char *advertise;     /* owned: --advertise, or http://LISTEN */
	bool stopping;
	ev_signal sigint, sigterm;
	ev_timer tick; /* the core's sweeps and progress lines */
};

/* ---- settings that need more than the flag parser ---- */

#define MAX_PEERS 16

/* "1=127.0.0.1:9001=http://127.0.0.1:8001,2=..." into p (MAX_PEERS);
 * the strings point into *copy, which the caller frees. */
static int parse_peers(const char *s, struct cst_raft_peer *p, unsigned *n,
                       char **copy, char *errbuf, size_t errlen)
{
	char *save = NULL;
	*copy = cu_xstrdup(s);
	*n = 0;
	for (char *tok = strtok_r(*copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq1 = strchr(tok, '='),
		     *eq2 = eq1 ? strchr(eq1 + 1, '=') : NULL;
		char *end;
		unsigned long long id = eq1 ? strtoull(tok, &end, 10) : 0;
		if (!eq1 || !eq2 || end != eq1 || !id || *n == MAX_PEERS)
			return cu_errf(
			    errbuf, errlen, CC_EINVAL,
			    "--peers: expected ID=RAFT_ADDRESS=API_URL,... "
			    "(up to 16), got \"%s\"",
			    tok);
		*eq1 = *eq2 = 0;
		p[(*n)++] = (struct cst_raft_peer){id, eq1 + 1, eq2 + 1};
	}
	return 0;
}

static int check_settings(struct celld *d, char *errbuf, size_t errlen)
{
	char host[128];
	uint16_t port;
	if (!C.id || !C.raft_address || !C.data_dir)
		return cu_errf(
		    errbuf, errlen, CC_EINVAL,
		    "--id (> 0), --raft-address and --data-dir are required");
	if (C.join && C.peers)
		return cu_errf(errbuf, errlen, CC_EINVAL,
		               "--join and --peers exclude each other: "
		               "bootstrap a cell or join one");
	if (cc_split_hostport(C.listen, host, sizeof(host), &port))
		return cu_errf(errbuf, errlen, CC_EINVAL,
		               "--listen: expected HOST:PORT, got \"%s\"",
		               C.listen);
	if (C.token_file &&
	    !(d->token = cc_read_token(C.token_file, errbuf, errlen)))
		return CC_EINVAL;
	if (!cc_is_loopback(host) && !d->token)
		return cu_errf(
		    errbuf, errlen, CC_EINVAL,
		    "--listen %s is not a loopback address: give --token-file "
		    "so that only holders of the token can change the cell",
		    C.listen);
	if (C.advertise) {
		d->advertise = cu_xstrdup(C.advertise);
	} else {
		size_t n = strlen(C.listen) + 8;
		d->advertise = cu_xmalloc(n);
		snprintf(d->advertise, n, "http://%s", C.listen);
	}
	return 0;
}

/* ---- opening ---- */

static int open_core(struct celld *d, char *errbuf, size_t errlen)
{
	struct cd_config cc = {.machine_ttl_ms = C.machine_ttl_ms,
	                       .sched_ttl_ms = C.sched_ttl_ms,
	                       .watch_window = C.watch_window,
	                       .token = d->token,
	                       .metrics = d->metrics};
	return cd_core_new(&cc, &d->core, errbuf, errlen);
}

static int open_store(struct celld *d, char *errbuf, size_t errlen)
{
	struct cst_raft_peer peers[MAX_PEERS];
	unsigned npeers = 0;
	char *copy = NULL;
	if (C.peers && *C.peers &&
	    parse_peers(C.peers, peers, &npeers, &copy, errbuf, errlen)) {
		free(copy);
		return CC_EINVAL;
	}
	struct cst_hooks hooks;
	cd_core_store_hooks(d->core, &hooks);
	struct cst_raft_config rc = {
	    .id = C.id,
	    .address = C.raft_address,
	    .api_address = d->advertise,
	    .data_dir = C.data_dir,
	    .peers = peers,
	    .npeers = npeers,
	    .election_timeout_ms = (unsigned)C.election_timeout_ms,
	    .heartbeat_timeout_ms = (unsigned)C.heartbeat_timeout_ms,
	    .snapshot_threshold = (unsigned)C.snapshot_threshold,
	    .snapshot_trailing = (unsigned)C.snapshot_trailing,
	    .segment_size = C.segment_size,
	    .batch_max_txns = (unsigned)C.batch_max_txns,
	    .batch_max_bytes = C.batch_max_bytes,
	    .state = {.dedup_max = (uint32_t)C.dedup_max,
	              .dedup_ttl_ms = (int64_t)C.dedup_ttl_ms},
	};
	int rc_open =
	    cst_raft_open(d->loop, &rc, &hooks, &d->store, errbuf, errlen);
	free(copy);
	return rc_open ? CC_EIO : 0;
}

static int open_server(struct celld *d, char *errbuf, size_t errlen)
{
	char host[128];
	uint16_t port;
	cc_split_hostport(C.listen, host, sizeof(host), &port); /* checked */
	struct cc_server_config sc = {.address = host,
	                              .port = port,
	                              .max_body = C.max_body,
	                              .max_stream_buffer = C.watch_buffer,
	                              .metrics = d->metrics};
	int rc = cc_server_new(d->loop, &sc, &d->server, errbuf, errlen);
	return rc ? rc
	          : cd_core_serve(d->core, d->store, d->server, errbuf, errlen);
}

/* ---- running and stopping ---- */

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct celld *d = w->data;
	(void)loop;
	(void)revents;
	cd_core_tick(d->core);
}

static void on_closed(void *arg)
{
	struct celld *d = arg;
	ev_break(d->loop, EVBREAK_ALL);
}

/* Stops serving first (deferred answers and watch streams end), then closes
 * the store, which answers what is in flight; the loop ends after it. */
static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct celld *d = w->data;
	(void)revents;
	if (d->stopping)
		return;
	d->stopping = true;
	CC_INFO("signal %d: stopping", w->signum);
	ev_timer_stop(loop, &d->tick);
	join_free(d->join);
	d->join = NULL;
	cd_core_stop(d->core);
	cc_server_free(d->server);
	d->server = NULL;
	cst_close(d->store, on_closed, d);
}

static void start_loop_watchers(struct celld *d)
{
	double every = cd_core_tick_ms(d->core) / 1000.0;
	ev_timer_init(&d->tick, on_tick, every, every);
	ev_signal_init(&d->sigint, on_signal, SIGINT);
	ev_signal_init(&d->sigterm, on_signal, SIGTERM);
	d->tick.data = d->sigint.data = d->sigterm.data = d;
	ev_timer_start(d->loop, &d->tick);
	ev_signal_start(d->loop, &d->sigint);
	ev_signal_start(d->loop, &d->sigterm);
}

static int run(struct celld *d)
{
	char err[CC_ERRMSG_SIZE];
	d->loop = ev_default_loop(0);
	d->metrics = cc_metrics_new();
	if (open_core(d, err, sizeof(err)) || open_store(d, err, sizeof(err)) ||
	    open_server(d, err, sizeof(err))) {
		CC_ERROR("%s", err);
		return 1;
	}
	start_loop_watchers(d);
	CC_INFO(
	    "serving the API on %s (advertised as %s), raft on %s, data in %s",
	    C.listen, d->advertise, C.raft_address, C.data_dir);
	if (C.join)
		d->join = join_start(d->loop, C.join, C.id, C.raft_address,
		                     d->advertise, d->token);
	ev_run(d->loop, 0);
	cd_core_free(d->core);
	cc_metrics_free(d->metrics);
	CC_INFO("stopped");
	return 0;
}

int main(int argc, char **argv)
{
	static struct celld d;
	char err[CC_ERRMSG_SIZE];
	int rc = cc_flags_parse(flags, argc, argv, NULL, err, sizeof(err));
	if (rc == CC_HELP) {
		char *help = cc_flags_help(flags, "celld [flags]", about);
		fputs(help, stdout);
		free(help);
		return 0;
	}
	if (rc)
		return fail(err);
	if (check_settings(&d, err, sizeof(err)))
		return fail(err);
	char tag[32];
	snprintf(tag, sizeof(tag), "celld[%llu]", (unsigned long long)C.id);
	if (cc_log_configure(tag, C.log_level, C.log_file, err, sizeof(err)))
		return fail(err);
	rc = run(&d);
	free(d.token);
	free(d.advertise);
	cc_flags_free(flags);
	return rc;
}
