/* bench_celld.c: commit throughput and latency of a real three-voter cell on
 * loopback (three celld processes, Raft log on disk with its O_DSYNC
 * writes), driven over HTTP by K clients in flight (libcurl multi, keep-
 * alive). For each point a fresh cell is started, one job of enough tasks is
 * submitted with 100 big machines, and transactions place those tasks: 1 op
 * or 1,000 ops each, in the binary encoding schedulers use (and JSON for one
 * comparison point). Every transaction must commit with every op accepted.
 *
 * Targets (issue #3): >= 20,000 committed 1-op txns/s with p99 < 10 ms at
 * 64 in flight; >= 500,000 placed tasks/s in 1,000-op transactions.
 *
 * Usage: bench-celld [CELLD_BINARY]  (default: celld beside this program) */
#define _GNU_SOURCE
#include "cellstate.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MEMBERS 3
#define MACHINES 100

static char celld_path[200];
static char root[64];
static pid_t pids[MEMBERS];
static char urls[MEMBERS][64];


static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-celld: %s (logs in %s)\n", what, root);
	exit(1);
}

/* ---- the cell ---- */

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		die("no free port");
	close(fd);
	return ntohs(a.sin_port);
}

static void stop_cell(void)
{
	for (int i = 0; i < MEMBERS; i++) {
		if (!pids[i])
			continue;
		kill(pids[i], SIGTERM);
		waitpid(pids[i], NULL, 0);
		pids[i] = 0;
	}
}

static int rm_entry(const char *p, const struct stat *s, int f, struct FTW *w)
{
	(void)s;
	(void)f;
	(void)w;
	return remove(p);
}

static void cleanup(void)
{
	stop_cell();
	if (root[0])
		nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void spawn(int i, const char *peers, int raft_port, int api_port)
{
	char id[16], raft[32], listen[32], dir[128], log[128];
	snprintf(id, sizeof(id), "%d", i + 1);
	snprintf(raft, sizeof(raft), "127.0.0.1:%d", raft_port);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", api_port);
	snprintf(dir, sizeof(dir), "%s/member%d", root, i + 1);
	snprintf(log, sizeof(log), "%s/celld%d.log", root, i + 1);
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl(celld_path, celld_path, "--id", id, "--raft-address", raft,
		      "--listen", listen, "--data-dir", dir, "--peers", peers,
		      "--machine-ttl", "0", "--log-file", log, (char *)NULL);
		_exit(127);
	}
	pids[i] = pid;
}

/* ---- HTTP ---- */

struct buf {
	char *p;
	size_t n;
};

static size_t collect(char *d, size_t s, size_t n, void *arg)
{
	struct buf *b = arg;
	b->p = realloc(b->p, b->n + s * n + 1);
	memcpy(b->p + b->n, d, s * n);
	b->n += s * n;
	b->p[b->n] = 0;
	return s * n;
}

/* A blocking request; returns the status, body in *out (caller frees). */
static long http(const char *method, const char *url, const char *body,
		 char **out)
{
	CURL *c = curl_easy_init();
	struct buf b = {0};
	long status = 0;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (out)
		*out = b.p;
	else
		free(b.p);
	return status;
}

static int find_leader(void)
{
	for (double end = now_s() + 30; now_s() < end; usleep(50000))
		for (int i = 0; i < MEMBERS; i++) {
			char url[256], *body = NULL;
			snprintf(url, sizeof(url), "%s/v1/status", urls[i]);
			long st = http("GET", url, NULL, &body);
			bool lead = st == 200 && strstr(body, "\"trusted\":true");
			free(body);
			if (lead)
				return i;
		}
	die("no leader within 30 s");
	return -1;
}

/* Fresh cell: returns the leader's index. */
static int start_cell(void)
{
	static int generation;
	char peers[512] = "";
	int raft[MEMBERS], api[MEMBERS];
	cleanup();
	snprintf(root, sizeof(root), "/tmp/bench-celld-%d-%d", getpid(),
		 generation++);
	mkdir(root, 0755);
	for (int i = 0; i < MEMBERS; i++) {
		raft[i] = free_port();
		api[i] = free_port();
		snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%d", api[i]);
		snprintf(peers + strlen(peers), sizeof(peers) - strlen(peers),
			 "%s%d=127.0.0.1:%d=%s", i ? "," : "", i + 1, raft[i],
			 urls[i]);
	}
	for (int i = 0; i < MEMBERS; i++)
		spawn(i, peers, raft[i], api[i]);
	return find_leader();
}

#define TASKS_PER_JOB 1000000u /* CS_JOB_TASKS_MAX */

/* 100 machines and enough jobs for `tasks` tiny tasks: bench0, bench1, ... */
static void prefill(const char *leader, uint32_t tasks)
{
	char url[256], body[512];
	for (int m = 0; m < MACHINES; m++) {
		snprintf(url, sizeof(url), "%s/v1/machines/m%03d", leader, m);
		if (http("PUT", url, "{\"capacity\":{\"cpu\":1000000000000,"
				     "\"memory\":1000000000000}}",
			 NULL) != 200)
			die("machine_put failed");
	}
	snprintf(url, sizeof(url), "%s/v1/jobs", leader);
	for (uint32_t j = 0; j * TASKS_PER_JOB < tasks; j++) {
		uint32_t n = tasks - j * TASKS_PER_JOB;
		snprintf(body, sizeof(body),
			 "{\"name\":\"bench%u\",\"class\":\"batch\","
			 "\"tasks\":%u,\"resources\":{\"cpu\":1,"
			 "\"memory\":1},\"duration_ms\":1000}",
			 j, n < TASKS_PER_JOB ? n : TASKS_PER_JOB);
		if (http("POST", url, body, NULL) != 201)
			die("job_put failed");
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

struct slot {
	CURL *easy;
	struct buf resp;
	double t0;
	uint32_t k;
};

struct run {
	CURLM *multi;
	struct txnbuf *txns;
	uint32_t ntxns, next, done, failed;
	double *lat;
	char url[256];
	struct curl_slist *hdrs;
};

static void launch(struct run *r, struct slot *s)
{
	struct txnbuf *b = &r->txns[r->next];
	s->k = r->next++;
	s->resp.n = 0;
	curl_easy_setopt(s->easy, CURLOPT_URL, r->url);
	curl_easy_setopt(s->easy, CURLOPT_POST, 1L);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, b->data);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE, (long)b->len);
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, &s->resp);
	curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
	s->t0 = now_s();
	curl_multi_add_handle(r->multi, s->easy);
}

static void finish(struct run *r, CURL *easy)
{
	struct slot *s;
	long status = 0;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&s);
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(r->multi, easy);
	r->lat[r->done++] = now_s() - s->t0;
	if (status != 200 || !s->resp.p || !strstr(s->resp.p, "\"rejected\":0")) {
		if (!r->failed++)
			fprintf(stderr, "txn %u: status %ld: %.200s\n", s->k,
				status, s->resp.p ? s->resp.p : "");
	}
	if (r->next < r->ntxns)
		launch(r, s);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void point(uint32_t ops, uint32_t inflight, uint32_t ntxns, bool json)
{
	int leader = start_cell();
	prefill(urls[leader], ntxns * ops);
	struct run r = {.multi = curl_multi_init(), .ntxns = ntxns};
	r.txns = calloc(ntxns, sizeof(*r.txns));
	for (uint32_t k = 0; k < ntxns; k++)
		r.txns[k] = encode_txn(k, ops, json);
	r.lat = calloc(ntxns, sizeof(double));
	snprintf(r.url, sizeof(r.url), "%s/v1/txn", urls[leader]);
	r.hdrs = curl_slist_append(NULL, json ? "Content-Type: application/json"
					      : "Content-Type: application/x-cell-txn");
	r.hdrs = curl_slist_append(r.hdrs, "Expect:");
	struct slot *slots = calloc(inflight, sizeof(*slots));
	double t0 = now_s();
	for (uint32_t i = 0; i < inflight && r.next < ntxns; i++) {
		slots[i].easy = curl_easy_init();
		launch(&r, &slots[i]);
	}
	while (r.done < ntxns) {
		int running, left;
		curl_multi_perform(r.multi, &running);
		CURLMsg *msg;
		while ((msg = curl_multi_info_read(r.multi, &left)))
			if (msg->msg == CURLMSG_DONE)
				finish(&r, msg->easy_handle);
		if (r.done < ntxns)
			curl_multi_poll(r.multi, NULL, 0, 100, NULL);
	}
	double dt = now_s() - t0;
	qsort(r.lat, ntxns, sizeof(double), cmp_double);
	printf("%5u ops/txn %3u in flight %-6s %8.0f txn/s %10.0f ops/s  "
	       "p50 %6.2f ms  p99 %6.2f ms  %s\n",
	       ops, inflight, json ? "json" : "binary", ntxns / dt,
	       (double)ntxns * ops / dt, r.lat[ntxns / 2] * 1e3,
	       r.lat[(size_t)(ntxns * 0.99)] * 1e3,
	       r.failed ? "SOME FAILED" : "all committed");
	fflush(stdout);
	for (uint32_t i = 0; i < inflight; i++)
		if (slots[i].easy) {
			curl_easy_cleanup(slots[i].easy);
			free(slots[i].resp.p);
		}
	for (uint32_t k = 0; k < ntxns; k++)
		free(r.txns[k].data);
	free(slots);
	free(r.txns);
	free(r.lat);
	curl_slist_free_all(r.hdrs);
	curl_multi_cleanup(r.multi);
	stop_cell();
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		snprintf(celld_path, sizeof(celld_path), "%s", argv[1]);
	} else {
		ssize_t n = readlink("/proc/self/exe", celld_path,
				     sizeof(celld_path) - 8);
		if (n < 0)
			die("cannot find myself");
		celld_path[n] = 0;
		strcpy(strrchr(celld_path, '/') + 1, "celld");
	}
	if (access(celld_path, X_OK))
		die("celld not found: pass its path");
	signal(SIGPIPE, SIG_IGN);
	atexit(cleanup);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	printf("three celld voters on loopback, Raft log on disk; %s\n",
	       celld_path);
	point(1, 1, 3000, false);
	point(1, 64, 60000, false);
	point(1, 64, 60000, true);
	point(1000, 1, 200, false);
	point(1000, 64, 2000, false);
	curl_global_cleanup();
	return 0;
}
