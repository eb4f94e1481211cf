/* metrics.c: celld's Prometheus metrics: transactions by outcome, ops by
 * verdict, commit latency, and gauges read from the store at render time
 * (the names say "raft": they predate the store seam and dashboards use
 * them). GET /metrics serves the whole registry, the HTTP server's
 * counters included. */
#include "core.h"

static struct cst_status status_of(const cd_core *c)
{
	struct cst_status st = {0};
	if (c->store)
		cst_status(c->store, &st);
	return st;
}

static double gauge_commit(void *arg)
{
	return (double)status_of(arg).commit_index;
}

static double gauge_applied(void *arg)
{
	return (double)status_of(arg).applied_index;
}

static double gauge_term(void *arg)
{
	return (double)status_of(arg).term;
}

static double gauge_role(void *arg)
{
	return (double)status_of(arg).role;
}

static double gauge_writer(void *arg)
{
	return status_of(arg).writer ? 1 : 0;
}

static void register_gauges(cd_core *c)
{
	cc_metrics *m = c->cfg.metrics;
	cc_gauge_fn_new(m, "cell_commit_index",
	                "highest log index known committed", gauge_commit, c);
	cc_gauge_fn_new(m, "cell_applied_index",
	                "highest log index applied on this replica",
	                gauge_applied, c);
	cc_gauge_fn_new(m, "cell_raft_term", "current Raft term", gauge_term,
	                c);
	cc_gauge_fn_new(m, "cell_raft_role",
	                "Raft role: 0 unavailable, 1 follower, 2 candidate, 3 "
	                "leader",
	                gauge_role, c);
	cc_gauge_fn_new(m, "cell_raft_leader",
	                "1 when this member is the trusted leader",
	                gauge_writer, c);
}

void cd_metrics_register(cd_core *c)
{
	/* 10 per decade, 100 us to 10 s: cellbench reads p50/p99 from them */
	double bounds[64];
	size_t nbounds = cc_log_bounds(1e-4, 10, 10, bounds, 64);
	cc_metrics *m = c->cfg.metrics;
	c->txns = cc_counter_vec_new(m, "cell_txns_total",
	                             "transactions answered by this member as "
	                             "leader, by outcome",
	                             "outcome");
	c->ops = cc_counter_vec_new(m, "cell_ops_total",
	                            "ops applied on this replica, by verdict",
	                            "verdict");
	c->commit_seconds = cc_histogram_new(
	    m, "cell_commit_latency_seconds",
	    "from a write's arrival to its commit, on the leader", bounds,
	    nbounds);
	register_gauges(c);
}

void cd_count_ops(cd_core *c, const cs_result *res)
{
	for (uint32_t i = 0; i < res->nops; i++)
		cc_counter_inc(cc_counter_vec_get1(
		    c->ops, cs_reason_name(res->ops[i].reason)));
}

void cd_count_txn(cd_core *c, int status, const cs_result *res)
{
	const char *outcome = status           ? "unknown"
	                      : res->duplicate ? "duplicate"
	                      : res->committed ? "committed"
	                                       : "rejected";
	cc_counter_inc(cc_counter_vec_get1(c->txns, outcome));
}

void cd_get_metrics(struct cc_request *r, void *arg)
{
	const cd_core *c = arg;
	cc_reply_metrics(r, c->cfg.metrics);
}
