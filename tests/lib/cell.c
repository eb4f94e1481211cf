/* cell.c: a real local cell for multi-process tests (see cell.h). */
#define _GNU_SOURCE
#include "cell.h"
#include "testlib.h"
#include "tl_tmpdir.h"

#include "cellcommon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- cleanup backstop: every cell started and not yet stopped ---- */

static struct tl_cell *live[16];

static void cleanup_all(void)
{
	for (int i = 0; i < 16; i++)
		if (live[i])
			tl_cell_stop(live[i]);
}

static void track(struct tl_cell *c, bool on)
{
	static bool registered;
	if (!registered) {
		atexit(cleanup_all);
		registered = true;
	}
	for (int i = 0; i < 16; i++)
		if (on ? !live[i] : live[i] == c) {
			live[i] = on ? c : NULL;
			return;
		}
}

/* ---- helpers ---- */

const char *tl_bin(const char *name)
{
	static char path[512];
	const char *dir = getenv("CELL_BIN_DIR");
	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "./bin", name);
	return path;
}

/* Never hand out one port twice: the first may not be bound yet. */
static bool port_issued(int port, bool add)
{
	static int issued[256];
	static unsigned n;
	for (unsigned i = 0; i < n; i++)
		if (issued[i] == port)
			return true;
	if (add && n < 256)
		issued[n++] = port;
	return false;
}

/* A port nobody listens on now, below the kernel's ephemeral range
 * (32768 and up): a port bind(0) handed out could be taken by an outgoing
 * connection while its member is down, and the restart would fail. */
int tl_free_port(void)
{
	static unsigned seed;
	if (!seed)
		seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
	for (int tries = 0; tries < 1000; tries++) {
		seed = seed * 1103515245u + 12345u;
		int port = 20000 + (int)((seed >> 8) % 12000);
		if (port_issued(port, false))
			continue;
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		struct sockaddr_in a = {.sin_family = AF_INET,
		                        .sin_port = htons((uint16_t)port),
		                        .sin_addr.s_addr =
		                            htonl(INADDR_LOOPBACK)};
		bool ok =
		    fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a));
		if (fd >= 0)
			close(fd);
		if (ok) {
			port_issued(port, true);
			return port;
		}
	}
	fail_msg("no free port in 20000-31999");
	return -1;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

bool tl_wait_until(bool (*fn)(void *arg), void *arg, int timeout_ms)
{
	double end = now_ms() + timeout_ms;
	for (;;) {
		if (fn(arg))
			return true;
		if (now_ms() > end)
			return false;
		usleep(20000);
	}
}

static cc_client *client(void)
{
	static cc_client *c;
	if (!c) {
		struct cc_client_config cfg = {.timeout_ms = 10000,
		                               .connect_timeout_ms = 1000};
		c = cc_client_new(&cfg);
	}
	return c;
}

long tl_http(const char *method, const char *url, const json_t *body,
             json_t **out)
{
	struct cc_response resp = {0};
	char err[CC_ERRMSG_SIZE];
	if (out)
		*out = NULL;
	if (cc_client_json(client(), method, url, body, &resp, err,
	                   sizeof(err)))
		return 0;
	if (out)
		*out = json_loadb(resp.body, resp.len, 0, NULL);
	long status = resp.status;
	cc_response_clear(&resp);
	return status;
}

/* Kills (SIGKILL) and reaps every pid > 0 in kids[0..n): a test's helper
 * processes, from its teardown. */
void tl_reap(pid_t *kids, int n)
{
	for (int i = 0; i < n; i++)
		if (kids[i] > 0) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], NULL, 0);
			kids[i] = 0;
		}
}

json_t *tl_cell_status(const struct tl_member *m)
{
	char url[128];
	json_t *j;
	snprintf(url, sizeof(url), "%s/v1/status", m->url);
	return tl_http("GET", url, NULL, &j) == 200 ? j
	                                            : (json_decref(j), NULL);
}

/* ---- members ---- */

void tl_cell_member_start(struct tl_cell *c, int i)
{
	struct tl_member *m = &c->m[i];
	char id[24], raft[32], listen[32];
	snprintf(id, sizeof(id), "%llu", (unsigned long long)m->id);
	snprintf(raft, sizeof(raft), "127.0.0.1:%d", m->raft_port);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", m->api_port);
	const char *base[] = {
	    tl_bin("celld"), "--id", id, "--raft-address", raft, "--listen",
	    listen, "--data-dir", m->dir, m->join[0] ? "--join" : "--peers",
	    m->join[0] ? m->join : c->peers, "--election-timeout", "300ms",
	    "--heartbeat-timeout", "30ms", "--log-file", m->log, "--log-level",
	    "debug",
	    /* no agent or scheduler heartbeats here: a
	     * machine must not go down, nor a scheduler be
	     * unregistered, because a test ran long; a
	     * liveness or lease test passes its own
	     * --machine-ttl / --sched-ttl (the later flag
	     * wins) */
	    "--machine-ttl", "0", "--sched-ttl", "0"};
	m->pid = tl_spawn(base, sizeof(base) / sizeof(base[0]), c->extra);
}

pid_t tl_spawn(const char *const *base, size_t nbase, const char *const *extra)
{
	const char *argv[64];
	size_t n = 0;
	for (; n < nbase && n < 62; n++)
		argv[n] = base[n];
	for (int i = 0; extra && extra[i] && n < 62; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the test */
	int devnull = open("/dev/null", O_RDWR);
	dup2(devnull, 0);
	execv(argv[0], (char *const *)argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int tl_kill_wait(pid_t *pid, int sig)
{
	int status = 0;
	if (!*pid)
		return 0;
	kill(*pid, sig);
	double end = now_ms() + 10000;
	while (waitpid(*pid, &status, WNOHANG) == 0) {
		if (now_ms() > end) {
			kill(*pid, SIGKILL);
			waitpid(*pid, &status, 0);
			break;
		}
		usleep(10000);
	}
	*pid = 0;
	return status;
}

int tl_cell_member_kill(struct tl_cell *c, int i, int sig)
{
	return tl_kill_wait(&c->m[i].pid, sig);
}

struct leader_probe {
	struct tl_cell *c;
	int found;
};

static bool probe_leader(void *arg)
{
	struct leader_probe *p = arg;
	for (int i = 0; i < p->c->n; i++) {
		if (!p->c->m[i].pid)
			continue;
		json_t *s = tl_cell_status(&p->c->m[i]);
		bool lead = s && json_is_true(json_object_get(s, "trusted"));
		json_decref(s);
		if (lead) {
			p->found = i;
			return true;
		}
	}
	return false;
}

int tl_cell_leader(struct tl_cell *c, int timeout_ms)
{
	struct leader_probe p = {c, -1};
	tl_wait_until(probe_leader, &p, timeout_ms);
	return p.found;
}

/* Ports, URL and folders of member i (id i + 1). */
static void member_init(struct tl_cell *c, int i)
{
	struct tl_member *m = &c->m[i];
	char root[sizeof(c->root)]; /* a copy: m lives inside c */
	memcpy(root, c->root, sizeof(root));
	m->id = (uint64_t)i + 1;
	m->raft_port = tl_free_port();
	m->api_port = tl_free_port();
	snprintf(m->url, sizeof(m->url), "http://127.0.0.1:%d", m->api_port);
	snprintf(m->dir, sizeof(m->dir), "%s/member%d", root, i + 1);
	snprintf(m->log, sizeof(m->log), "%s/celld%d.log", root, i + 1);
}

int tl_cell_member_add(struct tl_cell *c, const char *join_url)
{
	if (c->n == TL_CELL_MAX)
		fail_msg("a cell holds at most %d members", TL_CELL_MAX);
	int i = c->n++;
	member_init(c, i);
	snprintf(c->m[i].join, sizeof(c->m[i].join), "%s", join_url);
	tl_cell_member_start(c, i);
	return i;
}

struct tl_cell *tl_cell_start(int n, const char *const *extra)
{
	struct tl_cell *c = cu_xcalloc(1, sizeof(*c));
	snprintf(c->root, sizeof(c->root), "/tmp/cell-test-XXXXXX");
	if (!mkdtemp(c->root))
		fail_msg("mkdtemp: %s", strerror(errno));
	c->n = n;
	c->extra = extra;
	track(c, true);
	for (int i = 0; i < n; i++) {
		struct tl_member *m = &c->m[i];
		member_init(c, i);
		snprintf(c->peers + strlen(c->peers),
		         sizeof(c->peers) - strlen(c->peers),
		         "%s%llu=127.0.0.1:%d=%s", i ? "," : "",
		         (unsigned long long)m->id, m->raft_port, m->url);
	}
	for (int i = 0; i < n; i++)
		tl_cell_member_start(c, i);
	if (tl_cell_leader(c, 30000) < 0)
		fail_msg("no leader within 30 s (logs in %s)", c->root);
	return c;
}

void tl_cell_stop(struct tl_cell *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->nagents; i++) {
		tl_kill_wait(&c->a[i].pid, SIGTERM);
		tl_agent_kill_tasks(&c->a[i]);
		for (int k = 0; c->a[i].flags[k]; k++)
			free(c->a[i].flags[k]);
	}
	for (int i = 0; i < c->nsched; i++)
		tl_kill_wait(&c->s[i].pid, SIGTERM);
	for (int i = 0; i < c->n; i++)
		tl_cell_member_kill(c, i, SIGTERM);
	if (getenv("CELL_KEEP_TEST_DATA"))
		fprintf(stderr, "kept %s\n", c->root);
	else
		tl_tmpdir_remove(c->root);
	track(c, false);
	free(c);
}
