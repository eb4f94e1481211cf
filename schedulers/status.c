/* status.c: the scheduler's own HTTP server: /metrics for Prometheus and
 * /v1/status for people and tests (what it is, how far its replica is,
 * what it is working on). */
#include "daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void get_metrics(struct cc_request *r, void *arg)
{
	struct sched *s = arg;
	cc_reply_metrics(r, s->metrics);
}

static const char *phase_name(enum sched_phase p)
{
	static const char *const names[] = {"joining", "registering", "running",
	                                    "leaving", "closing"};
	return names[p];
}

static json_t *work_json(const struct sp_stats *st)
{
	return json_pack(
	    "{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:f}", "owned",
	    (json_int_t)st->owned, "queued", (json_int_t)st->queued, "inflight",
	    (json_int_t)st->inflight, "parked", (json_int_t)st->parked,
	    "decisions", (json_int_t)st->decisions, "txns",
	    (json_int_t)st->txns, "txns_conflicted",
	    (json_int_t)st->txns_conflicted, "txns_progress",
	    (json_int_t)st->txns_progress, "tasks_placed",
	    (json_int_t)st->tasks_placed, "places_rejected",
	    (json_int_t)st->places_rejected, "retries", (json_int_t)st->retries,
	    "notes", (json_int_t)st->notes, "busy_seconds", st->busy_seconds);
}

static void get_status(struct cc_request *r, void *arg)
{
	struct sched *s = arg;
	struct sp_stats st;
	struct replica_view v;
	sp_core_stats(s->core, &st);
	replica_view(s, true, &v);
	json_t *j = json_pack(
	    "{s:s,s:s,s:s,s:I,s:s,s:b,s:I,s:I,s:s,s:s,s:o}", "name",
	    s->cfg.name, "class", s->cfg.class_name, "policy", s->cfg.policy,
	    "id", (json_int_t)s->cfg.id, "phase", phase_name(s->phase),
	    "registered", s->registered, "applied_index",
	    (json_int_t)v.applied_index, "commit_index",
	    (json_int_t)v.commit_index, "state_hash", v.state_hash,
	    "content_hash", v.content_hash, "work", work_json(&st));
	cc_reply_json(r, 200, j);
}

static double g_applied(void *arg)
{
	struct replica_view v;
	replica_view(arg, false, &v);
	return (double)v.applied_index;
}

static double g_lag(void *arg)
{
	struct replica_view v;
	replica_view(arg, false, &v);
	return v.commit_index > v.applied_index
	           ? (double)(v.commit_index - v.applied_index)
	           : 0;
}

int status_serve(struct sched *s, char *errbuf, size_t errlen)
{
	char host[128];
	uint16_t port;
	if (cc_split_hostport(s->cfg.listen, host, sizeof(host), &port)) {
		snprintf(errbuf, errlen,
		         "--listen: expected HOST:PORT, got \"%s\"",
		         s->cfg.listen);
		return -1;
	}
	cc_gauge_fn_new(s->metrics, "cellsched_applied_index",
	                "Last log entry applied to this scheduler's replica",
	                g_applied, s);
	cc_gauge_fn_new(s->metrics, "cellsched_replica_lag_entries",
	                "Entries known committed and not yet applied locally",
	                g_lag, s);
	struct cc_server_config sc = {
	    .address = host, .port = port, .metrics = s->metrics};
	if (cc_server_new(s->loop, &sc, &s->server, errbuf, errlen))
		return -1;
	if (cc_server_route(s->server, "GET", "/metrics", get_metrics, s,
	                    errbuf, errlen) ||
	    cc_server_route(s->server, "GET", "/v1/status", get_status, s,
	                    errbuf, errlen))
		return -1;
	return 0;
}
