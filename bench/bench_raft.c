/* bench_raft.c: commit throughput and latency of cellraft's group commit on
 * a real three-voter cell: three processes on loopback, data fsync'd under
 * one scratch folder. The first node to become a trusted leader drives the
 * load from its own loop (no HTTP: this measures the replicated log, not the
 * API) and prints one line per run; then every node closes cleanly.
 *
 *   bench-raft [-n TXNS] [-k IN_FLIGHT[,IN_FLIGHT...]] [-o OPS_PER_TXN] [-d
 * DIR]
 *
 * OPS_PER_TXN 1 commits machine_state ops; larger values commit placements
 * of one big job onto 5000 machines (a scheduler's per-job transaction). */
#include <errno.h>
#include <ev.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cellraft.h"
#include "cellutil.h"

#define VOTERS   3
#define MACHINES 5000
#define RUNS_MAX 8

struct opts {
	unsigned txns;
	unsigned ops;
	unsigned inflight[RUNS_MAX];
	unsigned nruns;
	const char *dir;
};

/* ---- the workload, run by the leader ------------------------------------- */

struct bench {
	struct ev_loop *loop;
	cr_node *node;
	struct opts o;
	int report_fd;
	bool started;
	unsigned run;  /* index into o.inflight */
	unsigned sent; /* this run */
	unsigned done;
	unsigned failed;
	uint32_t next_task; /* placements: the next pending task of "big" */
	double t0;
	double *start;   /* per txn of this run */
	double *latency; /* seconds, per answered txn */
	unsigned setup_left;
};

static struct bench B;

static void next_run(void);
static void submit_one(void);

static const char *machine_name(unsigned k)
{
	static char name[32];
	snprintf(name, sizeof(name), "m%05u", k);
	return name;
}

static cs_txn *build_txn(unsigned serial)
{
	char id[48];
	snprintf(id, sizeof(id), "bench-%u-%u", B.run, serial);
	cs_txn *t = cs_txn_new(id, "bench", CS_INCREMENTAL, CS_FINE);
	if (B.o.ops == 1) {
		cs_txn_machine_state(t, machine_name(serial % MACHINES),
		                     CS_MACHINE_UP);
		return t;
	}
	for (unsigned k = 0; k < B.o.ops; k++, B.next_task++)
		cs_txn_place(t, "big", B.next_task,
		             machine_name(B.next_task % MACHINES), 0);
	return t;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void report_run(void)
{
	double secs = ev_time() - B.t0;
	unsigned n = B.o.txns;
	qsort(B.latency, n, sizeof(double), cmp_double);
	printf("%5u ops/txn %5u in flight: %8.0f txns/s %10.0f ops/s  "
	       "latency p50 %6.2f ms p99 %6.2f ms max %6.2f ms  (%u failed)\n",
	       B.o.ops, B.o.inflight[B.run], n / secs, n * B.o.ops / secs,
	       B.latency[n / 2] * 1e3, B.latency[n * 99 / 100] * 1e3,
	       B.latency[n - 1] * 1e3, B.failed);
	fflush(stdout);
}

static void on_answer(void *arg, int status, const cs_result *res)
{
	unsigned serial = (unsigned)(uintptr_t)arg;
	if (status != 0 || res->accepted != res->nops)
		B.failed++;
	B.latency[B.done++] = ev_time() - B.start[serial];
	if (B.done == B.o.txns) {
		report_run();
		B.run++;
		next_run();
		return;
	}
	submit_one();
}

static void submit_one(void)
{
	if (B.sent == B.o.txns)
		return;
	unsigned serial = B.sent++;
	cs_txn *t = build_txn(serial);
	B.start[serial] = ev_time();
	int rv =
	    cr_node_submit(B.node, t, on_answer, (void *)(uintptr_t)serial);
	if (rv != 0) {
		fprintf(stderr, "submit: %s\n", cr_node_errmsg(B.node));
		cs_txn_free(t);
		exit(1);
	}
}

static void next_run(void)
{
	if (B.run == B.o.nruns) {
		if (write(B.report_fd, "d", 1) != 1)
			perror("report");
		return;
	}
	B.sent = B.done = B.failed = 0;
	B.t0 = ev_time();
	for (unsigned k = 0; k < B.o.inflight[B.run]; k++)
		submit_one();
}

static void on_setup(void *arg, int status, const cs_result *res)
{
	(void)arg;
	if (status != 0 || res->accepted != res->nops) {
		fprintf(stderr, "setup failed: %s\n", cr_strerror(status));
		exit(1);
	}
	if (--B.setup_left == 0)
		next_run();
}

static void setup_put(cs_txn *t)
{
	B.setup_left++;
	if (cr_node_submit(B.node, t, on_setup, NULL) != 0) {
		fprintf(stderr, "setup: %s\n", cr_node_errmsg(B.node));
		exit(1);
	}
}

static void start_workload(void)
{
	struct cs_amount cap[2] = {{"cpu", 1000000}, {"memory", 1000000}};
	struct cs_machine_spec m = {0};
	m.pool = "default";
	m.capacity = cap;
	m.ncapacity = 2;
	m.state = -1;
	for (unsigned k = 0; k < MACHINES; k++) {
		m.name = (char *)machine_name(k);
		cs_txn *t = cs_txn_new(NULL, "bench", CS_INCREMENTAL, CS_FINE);
		cs_txn_machine_put(t, &m);
		setup_put(t);
	}
	uint64_t tasks = (uint64_t)B.o.txns * B.o.ops * B.o.nruns;
	if (B.o.ops > 1) {
		if (tasks > CS_JOB_TASKS_MAX) {
			fprintf(stderr, "too many tasks: %llu > %u\n",
			        (unsigned long long)tasks, CS_JOB_TASKS_MAX);
			exit(2);
		}
		struct cs_amount req[2] = {{"cpu", 1}, {"memory", 1}};
		struct cs_job_spec j = {0};
		j.name = "big";
		j.class_name = "batch";
		j.ntasks = (uint32_t)tasks;
		j.request = req;
		j.nrequest = 2;
		j.duration_ms = 1000; /* simulated: nothing runs them */
		cs_txn *t = cs_txn_new(NULL, "bench", CS_INCREMENTAL, CS_FINE);
		cs_txn_job_put(t, &j);
		setup_put(t);
	}
}

static void on_trusted(cr_node *node, uint64_t term, void *arg)
{
	(void)term;
	(void)arg;
	if (B.started)
		return;
	B.started = true;
	B.node = node;
	start_workload();
}

static void on_log(void *arg, enum cst_log_level level, const char *msg)
{
	(void)arg;
	if (level >= CST_LOG_WARN)
		fprintf(stderr, "bench node: %s\n", msg);
}

/* ---- one voter process --------------------------------------------------- */

static void on_closed(void *arg)
{
	ev_break(arg, EVBREAK_ALL);
}

static void on_term(EV_P_ ev_signal *w, int revents)
{
	(void)revents;
	ev_signal_stop(loop, w);
	cr_node_close(w->data, on_closed, loop);
}

static int voter(unsigned i, const unsigned *ports, const struct opts *o,
                 int report_fd)
{
	char addr[VOTERS][32], dir[512], err[CST_ERRMSG_SIZE];
	struct cst_raft_peer peers[VOTERS];
	for (unsigned k = 0; k < VOTERS; k++) {
		snprintf(addr[k], sizeof(addr[k]), "127.0.0.1:%u", ports[k]);
		peers[k] = (struct cst_raft_peer){k + 1, addr[k], NULL};
	}
	snprintf(dir, sizeof(dir), "%s/node%u", o->dir, i + 1);
	struct cr_hooks hooks = {0};
	hooks.on_trusted = on_trusted;
	hooks.log = on_log;
	struct cr_config cfg = {0};
	cfg.raft.id = i + 1;
	cfg.raft.address = addr[i];
	cfg.raft.data_dir = dir;
	cfg.raft.peers = peers;
	cfg.raft.npeers = VOTERS;
	cfg.raft.election_timeout_ms = 300; /* a quick first election */
	cfg.raft.heartbeat_timeout_ms = 30;
	cfg.hooks = &hooks;
	B.loop = ev_default_loop(0);
	B.o = *o;
	B.report_fd = report_fd;
	B.start = cu_xcalloc(o->txns, sizeof(double));
	B.latency = cu_xcalloc(o->txns, sizeof(double));
	cr_node *node;
	if (cr_node_init(&node, B.loop, &cfg, err, sizeof(err)) ||
	    cr_node_start(node, err, sizeof(err))) {
		fprintf(stderr, "node %u: %s\n", i + 1, err);
		return 1;
	}
	ev_signal sig;
	ev_signal_init(&sig, on_term, SIGTERM);
	sig.data = node;
	ev_signal_start(B.loop, &sig);
	ev_run(B.loop, 0);
	free(B.start);
	free(B.latency);
	return 0;
}

/* ---- the parent ---------------------------------------------------------- */

/* A port free now, below the kernel's ephemeral range (32768 and up by
 * default): outgoing connections take their source ports from that range,
 * so a node restarting later could otherwise find its port in use. */
static bool port_issued(unsigned port, bool add)
{ /* never hand out one port twice: the first may not be bound yet */
	static unsigned issued[64];
	static unsigned n;
	for (unsigned i = 0; i < n; i++)
		if (issued[i] == port)
			return true;
	if (add && n < 64)
		issued[n++] = port;
	return false;
}

static unsigned free_port(void)
{
	static unsigned seed;
	if (!seed)
		seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
	for (int tries = 0; tries < 1000; tries++) {
		seed = seed * 1103515245u + 12345u;
		unsigned port = 20000 + (seed >> 8) % 12000;
		if (port_issued(port, false))
			continue;
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET};
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa.sin_port = htons((uint16_t)port);
		int ok = fd >= 0 &&
		         bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		if (fd >= 0)
			close(fd);
		if (ok) {
			port_issued(port, true);
			return port;
		}
	}
	fprintf(stderr, "no free port found\n");
	exit(1);
}

/* Waits for the leader's "done", or for a voter to die first (then the
 * run is void). pids of dead voters are set to 0. */
static bool wait_report(int fd, pid_t *pids)
{
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 500) == 1) {
			char ch;
			return read(fd, &ch, 1) == 1;
		}
		for (unsigned k = 0; k < VOTERS; k++) {
			int st;
			if (waitpid(pids[k], &st, WNOHANG) == pids[k]) {
				fprintf(stderr, "voter %u exited early\n",
				        k + 1);
				pids[k] = 0;
				return false;
			}
		}
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-raft [-n TXNS] [-k K[,K...]] "
	                "[-o OPS_PER_TXN] [-d DIR]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
	int c;
	o->txns = 20000;
	o->ops = 1;
	o->inflight[0] = 1;
	o->inflight[1] = 64;
	o->nruns = 2;
	o->dir = NULL;
	while ((c = getopt(argc, argv, "n:k:o:d:h")) != -1) {
		switch (c) {
		case 'n':
			o->txns = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'o':
			o->ops = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'k':
			o->nruns = 0;
			for (char *s = strtok(optarg, ",");
			     s && o->nruns < RUNS_MAX; s = strtok(NULL, ","))
				o->inflight[o->nruns++] =
				    (unsigned)strtoul(s, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (!o->txns || !o->ops || !o->nruns)
		usage();
	for (unsigned r = 0; r < o->nruns; r++)
		if (!o->inflight[r])
			usage();
}

int main(int argc, char **argv)
{
	struct opts o;
	parse(argc, argv, &o);
	char tmp[] = "/tmp/bench-raft-XXXXXX";
	bool own_dir = !o.dir;
	if (own_dir && !(o.dir = mkdtemp(tmp))) {
		perror("mkdtemp");
		return 1;
	}
	unsigned ports[VOTERS];
	for (unsigned k = 0; k < VOTERS; k++)
		ports[k] = free_port();
	int fds[2];
	if (pipe(fds) != 0)
		return 1;
	printf("bench-raft: 3 voters (3 processes), loopback, data in %s\n",
	       o.dir);
	fflush(stdout);
	pid_t pids[VOTERS];
	for (unsigned k = 0; k < VOTERS; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			close(fds[0]);
			_exit(voter(k, ports, &o, fds[1]));
		}
	}
	close(fds[1]);
	int failed = !wait_report(fds[0], pids);
	for (unsigned k = 0; k < VOTERS; k++)
		if (pids[k] > 0)
			kill(pids[k], SIGTERM);
	for (unsigned k = 0; k < VOTERS; k++) {
		int st;
		if (pids[k] > 0 && waitpid(pids[k], &st, 0) == pids[k])
			failed |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	}
	if (own_dir) {
		char cmd[600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", o.dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", o.dir);
	}
	return failed;
}
