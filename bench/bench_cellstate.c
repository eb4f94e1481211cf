/* bench_cellstate.c: microbenchmark of the cell-state core on one thread.
 * A cell of 10,000 machines and 1,000,000 tasks (10,000 jobs of 100 tasks):
 *   - place ops validated and applied per second, fine and coarse detection
 *     (one transaction per job, as a scheduler commits a job's placements);
 *   - transactions decoded per second (1-op and 100-op ones), from JSON and
 *     from the binary codec of Raft entries;
 *   - heap bytes per task of the whole state once every task is placed.
 * Targets (issue #2): >= 5,000,000 place ops/s, <= 200 bytes per task.
 * Usage: bench-cellstate [MACHINES [JOBS [TASKS_PER_JOB]]] */
#include "cellstate.h"
#include "cellutil.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint32_t machines = 10000, jobs = 10000, per_job = 100;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static void name(char *buf, char kind, uint32_t i)
{
	snprintf(buf, 16, "%c%06u", kind, i);
}

static void must_accept(cs_state *s, cs_txn *t, uint64_t index)
{
	cs_result r;
	cs_apply(s, t, index, (int64_t)index, &r);
	if (r.accepted != r.nops) {
		fprintf(stderr, "setup op rejected: %s\n",
		        cs_reason_name(r.ops[0].reason));
		exit(1);
	}
	cs_result_clear(&r);
	cs_txn_free(t);
}

/* Machines and jobs (all tasks pending), applied as two transactions. */
static cs_state *build_cell(void)
{
	cs_state *s = cs_state_new(NULL);
	char n[16];
	struct cs_amount cap[2] = {{"cpu", 64000}, {"memory", 262144}};
	struct cs_machine_spec ms = {
	    .pool = "default", .capacity = cap, .ncapacity = 2, .state = -1};
	cs_txn *t = cs_txn_new(NULL, "bench", CS_INCREMENTAL, CS_FINE);
	for (uint32_t i = 0; i < machines; i++) {
		name(n, 'm', i);
		ms.name = n;
		cs_txn_machine_put(t, &ms);
	}
	must_accept(s, t, 1);
	struct cs_amount req[2] = {{"cpu", 500}, {"memory", 1024}};
	struct cs_job_spec js = {.class_name = "batch",
	                         .ntasks = per_job,
	                         .request = req,
	                         .nrequest = 2,
	                         .duration_ms = 1000};
	t = cs_txn_new(NULL, "bench", CS_INCREMENTAL, CS_FINE);
	for (uint32_t j = 0; j < jobs; j++) {
		name(n, 'j', j);
		js.name = n;
		cs_txn_job_put(t, &js);
	}
	must_accept(s, t, 2);
	return s;
}

static uint32_t machine_of(uint32_t job, uint32_t task)
{
	return (uint32_t)(((uint64_t)job * per_job + task) % machines);
}

/* One transaction per job. For coarse detection each place carries the seq
 * its machine will have when the transaction applies: a machine's seq is
 * set from the cell-wide clock on the first change of each transaction. */
static cs_txn **build_places(cs_state *s, enum cs_detect detect)
{
	cs_txn **txns = cu_xcalloc(jobs, sizeof(*txns));
	uint64_t *seq = cu_xcalloc(machines, sizeof(*seq));
	uint64_t clock = 0;
	char jn[16], mn[16];
	for (uint32_t i = 0; i < machines; i++) {
		name(mn, 'm', i);
		seq[i] = cs_machine_find(s, mn)->seq;
		clock = seq[i] > clock ? seq[i] : clock;
	}
	for (uint32_t j = 0; j < jobs; j++) {
		cs_txn *t = cs_txn_new(NULL, "bench", CS_INCREMENTAL, detect);
		name(jn, 'j', j);
		uint64_t next = clock;
		for (uint32_t k = 0; k < per_job; k++) {
			uint32_t m = machine_of(j, k);
			name(mn, 'm', m);
			cs_txn_place(t, jn, k, mn, seq[m]);
		}
		for (uint32_t k = 0; k < per_job; k++) /* distinct machines */
			seq[machine_of(j, k)] = ++next;
		clock = next;
		txns[j] = t;
	}
	free(seq);
	return txns;
}

/* Applies every transaction; returns place ops per second. */
static double run_places(cs_state *s, cs_txn **txns, uint64_t *accepted)
{
	cs_result r;
	double t0 = now_s();
	for (uint32_t j = 0; j < jobs; j++) {
		cs_apply(s, txns[j], 10 + j, 10 + j, &r);
		*accepted += r.accepted;
		cs_result_clear(&r);
	}
	double dt = now_s() - t0;
	return (double)jobs * per_job / dt;
}

static void free_txns(cs_txn **txns)
{
	for (uint32_t j = 0; j < jobs; j++)
		cs_txn_free(txns[j]);
	free(txns);
}

static double bench_places(enum cs_detect detect, size_t *bytes_per_task)
{
	size_t heap0 = heap_in_use();
	cs_state *s = build_cell();
	cs_txn **txns = build_places(s, detect);
	uint64_t accepted = 0;
	double rate = run_places(s, txns, &accepted);
	free_txns(txns);
	if (accepted != (uint64_t)jobs * per_job) {
		fprintf(stderr, "%s: only %llu of %llu places accepted\n",
		        cs_detect_name(detect), (unsigned long long)accepted,
		        (unsigned long long)jobs * per_job);
		exit(1);
	}
	char err[CS_ERRMSG_SIZE];
	if (cs_state_check(s, err, sizeof(err))) {
		fprintf(stderr, "invariant broken: %s\n", err);
		exit(1);
	}
	if (bytes_per_task)
		*bytes_per_task =
		    (heap_in_use() - heap0) / ((size_t)jobs * per_job);
	cs_state_free(s);
	return rate;
}

/* Decodes n copies of one transaction's JSON; returns transactions/s. */
static double bench_decode(const char *json, uint32_t n)
{
	char err[CS_ERRMSG_SIZE];
	size_t len = strlen(json);
	double t0 = now_s();
	for (uint32_t i = 0; i < n; i++) {
		cs_txn *t;
		if (cs_txn_parse(json, len, &t, err, sizeof(err))) {
			fprintf(stderr, "decode failed: %s\n", err);
			exit(1);
		}
		cs_txn_free(t);
	}
	return n / (now_s() - t0);
}

static cs_txn *sample_txn(uint32_t nops)
{
	cs_txn *t =
	    cs_txn_new("batch-1-000042", "batch-1", CS_INCREMENTAL, CS_COARSE);
	char mn[16];
	for (uint32_t k = 0; k < nops; k++) {
		name(mn, 'm', k * 37 % 10000);
		cs_txn_place(t, "j000042", k, mn, 1234567 + k);
	}
	return t;
}

/* Decodes n copies of one transaction's binary form; returns txns/s. */
static double bench_decode_bin(uint32_t nops, uint32_t n, size_t *bytes)
{
	cs_txn *t = sample_txn(nops);
	uint8_t *buf = NULL;
	size_t cap = 0;
	*bytes = 0;
	cs_txn_encode_bin(t, &buf, bytes, &cap);
	cs_txn_free(t);
	char err[CS_ERRMSG_SIZE];
	double t0 = now_s();
	for (uint32_t i = 0; i < n; i++) {
		cs_txn *x;
		if (cs_txn_decode_bin(buf, *bytes, &x, err, sizeof(err))) {
			fprintf(stderr, "binary decode failed: %s\n", err);
			exit(1);
		}
		cs_txn_free(x);
	}
	double rate = n / (now_s() - t0);
	free(buf);
	return rate;
}

static char *txn_json(uint32_t nops)
{
	cs_txn *t = sample_txn(nops);
	json_t *j = cs_txn_encode(t);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	cs_txn_free(t);
	return s;
}

int main(int argc, char **argv)
{
	if (argc > 1)
		machines = (uint32_t)strtoul(argv[1], NULL, 10);
	if (argc > 2)
		jobs = (uint32_t)strtoul(argv[2], NULL, 10);
	if (argc > 3)
		per_job = (uint32_t)strtoul(argv[3], NULL, 10);
	if (!machines || !jobs || !per_job || per_job > machines) {
		fprintf(stderr,
		        "usage: %s [MACHINES [JOBS [TASKS_PER_JOB]]] "
		        "(TASKS_PER_JOB <= MACHINES)\n",
		        argv[0]);
		return 2;
	}
	printf("cell: %u machines, %u jobs x %u tasks = %llu tasks, one "
	       "thread\n",
	       machines, jobs, per_job, (unsigned long long)jobs * per_job);
	size_t bpt = 0;
	double fine = bench_places(CS_FINE, &bpt);
	double coarse = bench_places(CS_COARSE, NULL);
	char *one = txn_json(1), *hundred = txn_json(100);
	double dec1 = bench_decode(one, 200000);
	double dec100 = bench_decode(hundred, 5000);
	size_t bin1, bin100;
	double bdec1 = bench_decode_bin(1, 500000, &bin1);
	double bdec100 = bench_decode_bin(100, 50000, &bin100);
	printf("place ops/s, fine detection:    %12.0f  (target >= 5000000)\n",
	       fine);
	printf("place ops/s, coarse detection:  %12.0f  (target >= 5000000)\n",
	       coarse);
	printf("txns decoded/s, 1 place op:     %12.0f  (%zu bytes of JSON)\n",
	       dec1, strlen(one));
	printf("txns decoded/s, 100 place ops:  %12.0f  (%.0f ops/s)\n", dec100,
	       dec100 * 100);
	printf("binary txns decoded/s, 1 op:    %12.0f  (%zu bytes)\n", bdec1,
	       bin1);
	printf("binary txns decoded/s, 100 ops: %12.0f  (%.0f ops/s, %zu "
	       "bytes)\n",
	       bdec100, bdec100 * 100, bin100);
	printf("heap bytes per task:            %12zu  (target <= 200)\n", bpt);
	free(one);
	free(hundred);
	return 0;
}
