/* bench_celld.c: commit throughput and latency of a real three-voter cell on
 * loopback (three celld processes, Raft log on disk with its O_DSYNC
 * writes), driven over HTTP by K transactions in flight through cellclient
 * (the scheduler's path: one kept-alive client on a libev loop, verdicts
 * decoded). For each point a fresh cell is started, one job of enough tasks is
 * submitted with 100 big machines, and transactions place those tasks: 1 op
 * or 1,000 ops each, in the binary encoding schedulers use (and JSON for one
 * comparison point). Every transaction must commit with every op accepted.
 *
 * Targets (issue #3): >= 20,000 committed 1-op txns/s with p99 < 10 ms at
 * 64 in flight; >= 500,000 placed tasks/s in 1,000-op transactions.
 *
 * Usage: bench-celld [BIN_DIR]  (default: the folder of this program) */
#define _GNU_SOURCE
#include "benchcell.h"
#include "cellclient.h"
#include "cellstate.h"
#include "cellutil.h"

#include <ev.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MACHINES 100

#define TASKS_PER_JOB 1000000u /* CS_JOB_TASKS_MAX */

/* 100 machines and enough jobs for `tasks` tiny tasks: bench0, bench1, ... */
static void prefill(const char *leader, uint32_t tasks)
{
	char url[256], body[512];
	for (int m = 0; m < MACHINES; m++) {
		snprintf(url, sizeof(url), "%s/v1/machines/m%03d", leader, m);
		if (lc_http("PUT", url,
		            "{\"capacity\":{\"cpu\":1000000000000,"
		            "\"memory\":1000000000000}}",
		            NULL) != 200)
			lc_die("machine_put failed");
	}
	snprintf(url, sizeof(url), "%s/v1/jobs", leader);
	for (uint32_t j = 0; j * TASKS_PER_JOB < tasks; j++) {
		uint32_t n = tasks - j * TASKS_PER_JOB;
		snprintf(body, sizeof(body),
		         "{\"name\":\"bench%u\",\"class\":\"batch\","
		         "\"tasks\":%u,\"resources\":{\"cpu\":1,"
		         "\"memory\":1},\"duration_ms\":1000}",
		         j, n < TASKS_PER_JOB ? n : TASKS_PER_JOB);
		if (lc_http("POST", url, body, NULL) != 201)
			lc_die("job_put failed");
	}
}

/* ---- the load ---- */

struct txnbuf {
	char *data;
	size_t len;
};

/* Transaction k places tasks k*ops .. k*ops+ops-1. */
static struct txnbuf encode_txn(uint32_t k, uint32_t ops, bool json)
{
	char id[32], m[16], job[24];
	snprintf(id, sizeof(id), "b-%u", k);
	cs_txn *t = cs_txn_new(id, "bench", CS_INCREMENTAL, CS_FINE);
	for (uint32_t i = 0; i < ops; i++) {
		uint32_t task = k * ops + i;
		snprintf(m, sizeof(m), "m%03u", task % MACHINES);
		snprintf(job, sizeof(job), "bench%u", task / TASKS_PER_JOB);
		cs_txn_place(t, job, task % TASKS_PER_JOB, m, 0);
	}
	struct txnbuf b = {0};
	if (json) {
		json_t *j = cs_txn_encode(t);
		b.data = json_dumps(j, JSON_COMPACT);
		b.len = strlen(b.data);
		json_decref(j);
	} else {
		size_t cap = 0;
		cs_txn_encode_bin(t, (uint8_t **)&b.data, &b.len, &cap);
	}
	cs_txn_free(t);
	return b;
}

struct run;

/* One transaction in flight; when it is answered the slot posts the next. */
struct slot {
	struct run *r;
	double t0;
	uint32_t k;
};

struct run {
	cl_cell *cell;
	const char *type; /* the body's content type */
	struct txnbuf *txns;
	uint32_t ntxns, next, done, failed;
	double *lat;
};

static void launch(struct run *r, struct slot *s);

static void finish(void *arg, int status, const cs_result *res, const char *err)
{
	struct slot *s = arg;
	struct run *r = s->r;
	r->lat[r->done++] = lc_now() - s->t0;
	if (status || !res->committed || res->accepted != res->nops) {
		if (!r->failed++)
			fprintf(stderr, "txn %u: %.200s\n", s->k,
			        status ? err : "not every op was accepted");
	}
	if (r->next < r->ntxns)
		launch(r, s);
}

/* Once: a benchmark measures the cell as it answers, never a resend. */
static void launch(struct run *r, struct slot *s)
{
	struct txnbuf *b = &r->txns[r->next];
	s->k = r->next++;
	s->t0 = lc_now();
	if (cl_post_txn_body(r->cell, r->type, b->data, b->len, &CL_POLICY_ONCE,
	                     finish, s))
		lc_die("a transaction could not be sent");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void point(uint32_t ops, uint32_t inflight, uint32_t ntxns, bool json)
{
	struct lc_cell *cell = lc_start(3, NULL);
	const char *leader = lc_leader(cell);
	prefill(leader, ntxns * ops);
	struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
	struct cl_config cfg = {.urls = &leader, .nurls = 1};
	struct run r = {.cell = cl_cell_new(loop, &cfg),
	                .type = json ? "application/json" : CL_TXN_CONTENT_TYPE,
	                .ntxns = ntxns};
	r.txns = cu_xcalloc(ntxns, sizeof(*r.txns));
	for (uint32_t k = 0; k < ntxns; k++)
		r.txns[k] = encode_txn(k, ops, json);
	r.lat = cu_xcalloc(ntxns, sizeof(double));
	struct slot *slots = cu_xcalloc(inflight, sizeof(*slots));
	double t0 = lc_now();
	for (uint32_t i = 0; i < inflight && r.next < ntxns; i++) {
		slots[i].r = &r;
		launch(&r, &slots[i]);
	}
	while (r.done < ntxns)
		ev_run(loop, EVRUN_ONCE);
	double dt = lc_now() - t0;
	qsort(r.lat, ntxns, sizeof(double), cmp_double);
	printf("%5u ops/txn %3u in flight %-6s %8.0f txn/s %10.0f ops/s  "
	       "p50 %6.2f ms  p99 %6.2f ms  %s\n",
	       ops, inflight, json ? "json" : "binary", ntxns / dt,
	       (double)ntxns * ops / dt, r.lat[ntxns / 2] * 1e3,
	       r.lat[(size_t)(ntxns * 0.99)] * 1e3,
	       r.failed ? "SOME FAILED" : "all committed");
	fflush(stdout);
	cl_cell_free(r.cell);
	ev_loop_destroy(loop);
	for (uint32_t k = 0; k < ntxns; k++)
		free(r.txns[k].data);
	free(slots);
	free(r.txns);
	free(r.lat);
	lc_stop(cell);
}

int main(int argc, char **argv)
{
	bench_init(argc > 1 ? argv[1] : NULL);
	signal(SIGPIPE, SIG_IGN);
	printf("three celld voters on loopback, Raft log on disk\n");
	point(1, 1, 3000, false);
	point(1, 64, 60000, false);
	point(1, 64, 60000, true);
	point(1000, 1, 200, false);
	point(1000, 64, 2000, false);
	return 0;
}
