/* localcell.c: see localcell.h. */
#define _GNU_SOURCE
#include "localcell.h"

#include <arpa/inet.h>
#include <ev.h>
#include <ftw.h>
#include <jansson.h>
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

#include "cellclient.h"

static char bin_dir[200] = ".";
static struct lc_cell cell;

/* How the programs talk to their cell and daemons: cellclient's blocking
 * flavour on a loop of its own, the cell's members in rotation and the
 * leader a caller names as the hint. */
static struct {
	struct ev_loop *loop;
	cl_cell *cell;
	const char *leader; /* the hint: where the caller says writes go */
	uint64_t serial;    /* of transaction ids */
} talk;

void lc_find_bins(const char *dir)
{
	if (dir) {
		snprintf(bin_dir, sizeof(bin_dir), "%s", dir);
	} else {
		ssize_t n =
		    readlink("/proc/self/exe", bin_dir, sizeof(bin_dir) - 1);
		if (n < 0)
			lc_die("cannot find my own folder");
		bin_dir[n] = 0;
		*strrchr(bin_dir, '/') = 0;
	}
	char path[256];
	snprintf(path, sizeof(path), "%s/celld", bin_dir);
	if (access(path, X_OK))
		lc_die("celld not found: pass the folder of the binaries");
}

double lc_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static bool keep_logs; /* a failed run keeps its folder for the logs */

void lc_die(const char *what)
{
	fprintf(stderr, "bench: %s (logs kept in %s)\n", what, cell.root);
	keep_logs = true;
	exit(1);
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len))
		lc_die("no free port");
	close(fd);
	return ntohs(a.sin_port);
}

/* SIGTERM to every pid of a group at once, then waits for each: 32
 * schedulers leaving the cell one after the other would take seconds. */
static void stop_all(pid_t *pids, int n)
{
	for (int i = 0; i < n; i++)
		if (pids[i])
			kill(pids[i], SIGTERM);
	for (int i = 0; i < n; i++)
		if (pids[i]) {
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

void lc_stop(struct lc_cell *c)
{
	stop_all(c->agent_pids, c->nagents);
	stop_all(c->sched_pids, c->nsched);
	stop_all(c->pids, c->n);
	cl_cell_free(talk.cell);
	talk.cell = NULL;
	if (c->root[0] && !keep_logs && !getenv("CELL_KEEP_BENCH_DATA"))
		nftw(c->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	c->root[0] = 0;
	c->n = c->nsched = c->nagents = 0;
}

static void at_exit(void)
{
	lc_stop(&cell);
	if (talk.loop)
		ev_loop_destroy(talk.loop);
}

static const char *leader_hint(void *arg)
{
	(void)arg;
	return talk.leader;
}

/* The members, for every request after lc_start. */
static void talk_open(const struct lc_cell *c)
{
	const char *urls[LC_MEMBERS_MAX];
	for (int i = 0; i < c->n; i++)
		urls[i] = c->urls[i];
	struct cl_config cfg = {.urls = urls,
	                        .nurls = (unsigned)c->n,
	                        .timeout_ms = 60000,
	                        .writer_hint = leader_hint};
	if (!talk.loop && !(talk.loop = ev_loop_new(EVFLAG_AUTO)))
		lc_die("cannot make an event loop");
	talk.cell = cl_cell_new(talk.loop, &cfg);
}

static pid_t spawn(const char *const argv[])
{
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	if (pid < 0)
		lc_die("fork failed");
	return pid;
}

static void add_flags(const char **argv, int *n, const char *const *extra)
{
	for (int i = 0; extra && extra[i] && *n < 62; i++)
		argv[(*n)++] = extra[i];
	argv[*n] = NULL;
}

static void spawn_member(struct lc_cell *c, int i, const char *peers,
                         int raft_port, int api_port, const char *const *extra)
{
	char path[256], id[16], raft[32], listen[32], dir[160], log[160];
	snprintf(path, sizeof(path), "%s/celld", bin_dir);
	snprintf(id, sizeof(id), "%d", i + 1);
	snprintf(raft, sizeof(raft), "127.0.0.1:%d", raft_port);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", api_port);
	snprintf(dir, sizeof(dir), "%s/member%d", c->root, i + 1);
	snprintf(log, sizeof(log), "%s/celld%d.log", c->root, i + 1);
	const char *argv[64] = {path, "--id",       id,     "--raft-address",
	                        raft, "--listen",   listen, "--data-dir",
	                        dir,  "--peers",    peers,  "--machine-ttl",
	                        "0",  "--log-file", log};
	int n = 15;
	add_flags(argv, &n, extra);
	c->pids[i] = spawn(argv);
}

const char *lc_leader(struct lc_cell *c)
{
	for (double end = lc_now() + 30; lc_now() < end; usleep(50000))
		for (int i = 0; i < c->n; i++) {
			char url[256], *body = NULL;
			snprintf(url, sizeof(url), "%s/v1/status", c->urls[i]);
			long st = lc_http("GET", url, NULL, &body);
			bool lead =
			    st == 200 && strstr(body, "\"trusted\":true");
			free(body);
			if (lead)
				return c->urls[i];
		}
	lc_die("no leader within 30 s");
}

struct lc_cell *lc_start(int n, const char *const *extra)
{
	static int generation;
	static bool hooked;
	struct lc_cell *c = &cell;
	char peers[512] = "";
	int raft[LC_MEMBERS_MAX], api[LC_MEMBERS_MAX];
	if (!hooked) {
		atexit(at_exit);
		hooked = true;
	}
	lc_stop(c);
	c->n = n;
	snprintf(c->root, sizeof(c->root), "/tmp/bench-cell-%d-%d", getpid(),
	         generation++);
	mkdir(c->root, 0755);
	for (int i = 0; i < n; i++) {
		raft[i] = free_port();
		api[i] = free_port();
		snprintf(c->urls[i], sizeof(c->urls[i]), "http://127.0.0.1:%d",
		         api[i]);
		snprintf(peers + strlen(peers), sizeof(peers) - strlen(peers),
		         "%s%d=127.0.0.1:%d=%s", i ? "," : "", i + 1, raft[i],
		         c->urls[i]);
	}
	for (int i = 0; i < n; i++)
		spawn_member(c, i, peers, raft[i], api[i], extra);
	talk_open(c);
	lc_leader(c);
	return c;
}

/* Polls url until its body contains `needle`, up to 60 s. */
static void wait_for(const char *url, const char *needle, const char *what)
{
	for (double end = lc_now() + 60; lc_now() < end; usleep(50000)) {
		char *body = NULL;
		long st = lc_http("GET", url, NULL, &body);
		bool up = st == 200 && strstr(body, needle);
		free(body);
		if (up)
			return;
	}
	lc_die(what);
}

static void cell_list(const struct lc_cell *c, char *out, size_t len)
{
	out[0] = 0;
	for (int m = 0; m < c->n; m++)
		snprintf(out + strlen(out), len - strlen(out), "%s%s",
		         m ? "," : "", c->urls[m]);
}

/* A cellsched or cellagent (kind) named name, with the flags every one
 * gets (--name, --cell, --listen, --data-dir, --log-file), then `own`
 * (NULL-terminated), then extra; waits until its /v1/status says
 * `phase`. Stores its status URL in url and returns its pid. */
static pid_t start_daemon(struct lc_cell *c, const char *kind, const char *name,
                          const char *const *own, const char *const *extra,
                          const char *phase, char *url, size_t urllen)
{
	char path[256], listen[32], dir[160], log[160], cells[400], want[64];
	snprintf(path, sizeof(path), "%s/cell%s", bin_dir, kind);
	int port = free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(url, urllen, "http://127.0.0.1:%d", port);
	snprintf(dir, sizeof(dir), "%s/%s-%s", c->root, kind, name);
	snprintf(log, sizeof(log), "%s/%s-%s.log", c->root, kind, name);
	cell_list(c, cells, sizeof(cells));
	const char *argv[64] = {path,  "--name",     name,   "--cell",
	                        cells, "--listen",   listen, "--data-dir",
	                        dir,   "--log-file", log};
	int n = 11;
	add_flags(argv, &n, own);
	add_flags(argv, &n, extra);
	pid_t pid = spawn(argv);
	char status[128], why[96];
	snprintf(status, sizeof(status), "%s/v1/status", url);
	snprintf(want, sizeof(want), "\"phase\":\"%s\"", phase);
	snprintf(why, sizeof(why), "cell%s %s did not reach %s within 60 s",
	         kind, name, phase);
	wait_for(status, want, why);
	return pid;
}

int lc_sched_start(struct lc_cell *c, const char *name, const char *class_name,
                   const char *const *extra)
{
	if (c->nsched == LC_SCHEDS_MAX)
		lc_die("too many schedulers");
	int i = c->nsched++;
	char raft[32];
	snprintf(raft, sizeof(raft), "127.0.0.1:%d", free_port());
	const char *const own[] = {"--class", class_name, "--raft-address",
	                           raft, NULL};
	c->sched_pids[i] =
	    start_daemon(c, "sched", name, own, extra, "running",
	                 c->sched_urls[i], sizeof(c->sched_urls[i]));
	return i;
}

int lc_agent_start(struct lc_cell *c, const char *name,
                   const char *const *extra)
{
	if (c->nagents == LC_AGENTS_MAX)
		lc_die("too many agents");
	int i = c->nagents++;
	c->agent_pids[i] =
	    start_daemon(c, "agent", name, NULL, extra, "watching",
	                 c->agent_urls[i], sizeof(c->agent_urls[i]));
	return i;
}

long lc_http(const char *method, const char *url, const char *body, char **out)
{
	char base[128], err[CC_ERRMSG_SIZE];
	const char *p = strstr(url, "://");
	const char *path = p ? strchr(p + 3, '/') : NULL;
	struct cc_response resp;
	if (!talk.cell)
		lc_die("a request before the cell started");
	if (!path || (size_t)(path - url) >= sizeof(base))
		lc_die("a URL without a path");
	snprintf(base, sizeof(base), "%.*s", (int)(path - url), url);
	int rc = cl_sync_request_at(
	    talk.cell, base, method, path, body ? "application/json" : NULL,
	    body, body ? strlen(body) : 0, &resp, err, sizeof(err));
	long status = rc ? 0 : resp.status;
	if (out)
		*out = cu_xstrdup(rc || !resp.body ? "" : resp.body);
	cc_response_clear(&resp);
	return status;
}

struct verdict {
	bool done;
	int status;
	char why[512]; /* what went wrong, or "" */
};

static void decided(void *arg, int status, const cs_result *res,
                    const char *err)
{
	struct verdict *v = arg;
	v->done = true;
	v->status = status;
	if (status) {
		snprintf(v->why, sizeof(v->why), "%.300s", err);
	} else if (!res->committed || res->accepted != res->nops) {
		uint32_t i = 0;
		while (i + 1 < res->nops && res->ops[i].reason == CS_R_OK)
			i++;
		snprintf(v->why, sizeof(v->why),
		         "%u of %u ops rejected (op %u: %s: %.200s)",
		         res->nops - res->accepted, res->nops, i,
		         cs_reason_name(res->ops[i].reason),
		         res->ops[i].detail ? res->ops[i].detail : "");
	}
}

void lc_post_txn(const char *leader, json_t *ops, const char *what)
{
	char id[64];
	snprintf(id, sizeof(id), "bench-%d-%llu", (int)getpid(),
	         (unsigned long long)++talk.serial);
	json_t *txn =
	    json_pack("{s:s,s:s,s:o}", "id", id, "origin", "bench", "ops", ops);
	char *body = json_dumps(txn, JSON_COMPACT);
	json_decref(txn);
	struct verdict v = {0};
	talk.leader = leader;
	/* the id makes a resend (a leader lost in flight) answered once */
	if (!talk.cell ||
	    cl_post_txn_body(talk.cell, "application/json", body, strlen(body),
	                     &CL_POLICY_SCHEDULER, decided, &v))
		lc_die("a transaction could not be sent");
	free(body);
	while (!v.done)
		ev_run(talk.loop, EVRUN_ONCE);
	talk.leader = NULL;
	if (v.why[0]) {
		fprintf(stderr, "bench: %s: %s\n", what, v.why);
		lc_die("a transaction was not accepted whole");
	}
}
