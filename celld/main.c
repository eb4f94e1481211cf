/* main.c: celld, a Raft voter of the cell state that serves its HTTP API.
 * Its life: read flags, open the replica, serve, and on SIGINT/SIGTERM stop
 * serving, close the replica cleanly, exit. */
#include "celld.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct celld_config C;

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

/* ---- settings that need more than the flag parser ---- */

/* "1=127.0.0.1:9001=http://127.0.0.1:8001,2=..." */
static int parse_peers(const char *s, struct cr_peer **out, unsigned *n,
                       char *errbuf, size_t errlen)
{
	char *copy = cu_xstrdup(s), *save = NULL;
	struct cr_peer *p = cu_xcalloc(16, sizeof(*p));
	*n = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq1 = strchr(tok, '='),
		     *eq2 = eq1 ? strchr(eq1 + 1, '=') : NULL;
		char *end;
		unsigned long long id = eq1 ? strtoull(tok, &end, 10) : 0;
		if (!eq1 || !eq2 || end != eq1 || !id || *n == 16) {
			snprintf(
			    errbuf, errlen,
			    "--peers: expected ID=RAFT_ADDRESS=API_URL,... "
			    "(up to 16), got \"%s\"",
			    tok);
			free(copy);
			free(p);
			return -1;
		}
		*eq1 = *eq2 = 0;
		p[*n].id = id;
		p[*n].raft_address = cu_xstrdup(eq1 + 1);
		p[*n].api_address = cu_xstrdup(eq2 + 1);
		(*n)++;
	}
	free(copy);
	*out = p;
	return 0;
}

static void free_peers(struct cr_peer *p, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		free((char *)p[i].raft_address);
		free((char *)p[i].api_address);
	}
	free(p);
}

/* ---- the replica's hooks ---- */

static void on_role(cr_node *n, enum cr_role old, enum cr_role now, void *arg)
{
	(void)n;
	(void)arg;
	CC_INFO("raft role %s -> %s", cr_role_name(old), cr_role_name(now));
}

static void on_trusted(cr_node *n, uint64_t term, void *arg)
{
	struct celld *d = arg;
	CC_INFO("leader of term %llu, serving writes",
	        (unsigned long long)term);
	d->led_from = cr_node_applied_index(n); /* for celld_own_txn_id */
	liveness_trusted(d->live);
	sched_lease_trusted(d->leases);
}

static void on_applied(cr_node *n, uint64_t index, const cs_txn *txn,
                       const cs_result *res, void *arg)
{
	struct celld *d = arg;
	(void)n;
	for (uint32_t i = 0; i < res->nops; i++)
		cc_counter_inc(cc_counter_vec_get1(
		    d->ops, cs_reason_name(res->ops[i].reason)));
	watch_applied(d->watch, index, res);
	liveness_applied(d->live, res);
	sched_lease_applied(d->leases, txn, res);
}

/* /v1/watch streams the results' change lists, which cellstate fills only
 * with tracking on (a local setting, off by default and not carried by a
 * snapshot): turn it on for the node's state, and again for every state a
 * snapshot restore puts in its place. */
static void track_changes(cr_node *n)
{
	cs_state_track_changes((cs_state *)cr_node_state(n), true);
}

static void on_restore(cr_node *n, uint64_t index, void *arg)
{
	struct celld *d = arg;
	CC_INFO("state replaced by a snapshot at index %llu",
	        (unsigned long long)index);
	track_changes(n);
	watch_restored(d->watch, index);
}

static void on_log(void *arg, enum cr_log_level level, const char *msg)
{
	(void)arg;
	cc_log((enum cc_log_level)level, "raft: %s", msg);
}

/* ---- joining a running cell ----
 * The add completes only once this member has caught up, which needs our
 * loop running: so the request is made from a thread. */

struct join_job {
	char *url, *body, *token;
};

static void *join_thread(void *arg)
{
	struct join_job *j = arg;
	struct cc_client_config cc = {.token = j->token, .timeout_ms = 120000};
	cc_client *c = cc_client_new(&cc);
	for (int attempt = 0; attempt < 60; attempt++) {
		struct cc_response resp = {0};
		char err[CC_ERRMSG_SIZE];
		int rc =
		    cc_client_request(c, "POST", j->url, j->body,
		                      strlen(j->body), &resp, err, sizeof(err));
		if (!rc && (resp.status == 200 || resp.status == 201)) {
			CC_INFO("joined the cell through %s", j->url);
			cc_response_clear(&resp);
			break;
		}
		CC_WARN("join through %s: %s", j->url,
		        rc ? err : (resp.body ? resp.body : "no answer"));
		cc_response_clear(&resp);
		sleep(1);
	}
	cc_client_free(c);
	free(j->url);
	free(j->body);
	free(j->token);
	free(j);
	return NULL;
}

static void start_join(struct celld *d)
{
	struct join_job *j = cu_xcalloc(1, sizeof(*j));
	json_t *body = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)C.id,
	                         "raft_address", C.raft_address, "api_address",
	                         C.advertise, "role", "voter");
	j->body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	size_t n = strlen(C.join) + 16;
	j->url = cu_xmalloc(n);
	snprintf(j->url, n, "%s/v1/members", C.join);
	j->token = d->token ? cu_xstrdup(d->token) : NULL;
	pthread_t t;
	if (pthread_create(&t, NULL, join_thread, j) == 0)
		pthread_detach(t);
}

/* ---- start and stop ---- */

static void on_closed(void *arg)
{
	struct celld *d = arg;
	ev_break(d->loop, EVBREAK_ALL);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct celld *d = w->data;
	(void)loop;
	(void)revents;
	if (d->stopping)
		return;
	d->stopping = true;
	CC_INFO("signal %d: stopping", w->signum);
	cc_server_free(d->server); /* aborts deferred requests and streams */
	d->server = NULL;
	cr_node_close(d->node, on_closed, d);
}

static int open_node(struct celld *d, char *errbuf, size_t errlen)
{
	static struct cr_hooks hooks = {on_role,    on_trusted, on_applied,
	                                on_restore, on_log,     NULL};
	struct cr_peer *peers = NULL;
	unsigned npeers = 0;
	if (C.peers && *C.peers &&
	    parse_peers(C.peers, &peers, &npeers, errbuf, errlen))
		return -1;
	hooks.arg = d;
	struct cr_config rc = {
	    .id = C.id,
	    .raft_address = C.raft_address,
	    .api_address = C.advertise,
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
	    .hooks = &hooks,
	};
	int r = cr_node_init(&d->node, d->loop, &rc, errbuf, errlen);
	free_peers(peers, npeers);
	if (r)
		return -1;
	track_changes(
	    d->node); /* before start: replayed entries feed the window */
	return cr_node_start(d->node, errbuf, errlen) ? -1 : 0;
}

static int open_server(struct celld *d, char *errbuf, size_t errlen)
{
	char host[128];
	uint16_t port;
	if (cc_split_hostport(C.listen, host, sizeof(host), &port)) {
		snprintf(errbuf, errlen,
		         "--listen: expected HOST:PORT, got \"%s\"", C.listen);
		return -1;
	}
	struct cc_server_config sc = {.address = host,
	                              .port = port,
	                              .max_body = C.max_body,
	                              .max_stream_buffer = C.watch_buffer,
	                              .metrics = d->metrics};
	if (cc_server_new(d->loop, &sc, &d->server, errbuf, errlen))
		return -1;
	return celld_api_routes(d, errbuf, errlen);
}

static int check_settings(struct celld *d, char *errbuf, size_t errlen)
{
	char host[128];
	uint16_t port;
	if (!C.id || !C.raft_address || !C.data_dir) {
		snprintf(
		    errbuf, errlen,
		    "--id (> 0), --raft-address and --data-dir are required");
		return -1;
	}
	if (C.join && C.peers) {
		snprintf(errbuf, errlen,
		         "--join and --peers exclude each other: "
		         "bootstrap a cell or join one");
		return -1;
	}
	if (cc_split_hostport(C.listen, host, sizeof(host), &port)) {
		snprintf(errbuf, errlen,
		         "--listen: expected HOST:PORT, got \"%s\"", C.listen);
		return -1;
	}
	if (C.token_file &&
	    !(d->token = cc_read_token(C.token_file, errbuf, errlen)))
		return -1;
	if (!cc_is_loopback(host) && !d->token) {
		snprintf(
		    errbuf, errlen,
		    "--listen %s is not a loopback address: give --token-file "
		    "so that only holders of the token can change the cell",
		    C.listen);
		return -1;
	}
	if (!C.advertise) {
		size_t n = strlen(C.listen) + 8;
		C.advertise = cu_xmalloc(n);
		snprintf(C.advertise, n, "http://%s", C.listen);
	}
	return 0;
}

static void setup_metrics(struct celld *d)
{
	/* 10 per decade, 100 us to 10 s: cellbench reads p50/p99 from them */
	double bounds[64];
	size_t nbounds = cc_log_bounds(1e-4, 10, 10, bounds, 64);
	d->metrics = cc_metrics_new();
	d->txns = cc_counter_vec_new(d->metrics, "cell_txns_total",
	                             "transactions answered by this member as "
	                             "leader, by outcome",
	                             "outcome");
	d->ops = cc_counter_vec_new(d->metrics, "cell_ops_total",
	                            "ops applied on this replica, by verdict",
	                            "verdict");
	d->commit_seconds = cc_histogram_new(
	    d->metrics, "cell_commit_latency_seconds",
	    "from a write's arrival to its commit, on the leader", bounds,
	    nbounds);
	celld_gauges(d);
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
	d.cfg = C;
	if (check_settings(&d, err, sizeof(err)))
		return fail(err);
	char tag[32];
	snprintf(tag, sizeof(tag), "celld[%llu]", (unsigned long long)C.id);
	if (cc_log_configure(tag, C.log_level, C.log_file, err, sizeof(err)))
		return fail(err);
	d.cfg = C;
	d.loop = ev_default_loop(0);
	setup_metrics(&d);
	d.watch = watch_new(&d, C.watch_window);
	d.live = liveness_new(&d, C.machine_ttl_ms);
	d.leases = sched_lease_new(&d, C.sched_ttl_ms);
	if (open_node(&d, err, sizeof(err)) ||
	    open_server(&d, err, sizeof(err))) {
		CC_ERROR("%s", err);
		return 1;
	}
	ev_signal_init(&d.sigint, on_signal, SIGINT);
	ev_signal_init(&d.sigterm, on_signal, SIGTERM);
	d.sigint.data = d.sigterm.data = &d;
	ev_signal_start(d.loop, &d.sigint);
	ev_signal_start(d.loop, &d.sigterm);
	CC_INFO(
	    "serving the API on %s (advertised as %s), raft on %s, data in %s",
	    C.listen, C.advertise, C.raft_address, C.data_dir);
	if (C.join)
		start_join(&d);
	ev_run(d.loop, 0);
	sched_lease_free(d.leases);
	liveness_free(d.live);
	watch_free(d.watch);
	cc_metrics_free(d.metrics);
	free(d.token);
	cc_flags_free(flags);
	CC_INFO("stopped");
	return 0;
}
