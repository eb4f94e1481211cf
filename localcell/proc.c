/* proc.c: processes of a local cell (see localcell.h): the binaries, fork
 * and exec, stopping by pid, free ports, deadlines. */
#define _GNU_SOURCE
#include "internal.h"

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

#define KILL_GRACE_S 10.0 /* SIGKILL after this long */
#define PORT_LO      20000
#define PORT_COUNT   12000

static char bin_dir[256] = "./bin";
static uint8_t issued[PORT_COUNT / 8]; /* a bit for each port handed out */

void lc_find_bins(const char *dir)
{
	if (dir) {
		snprintf(bin_dir, sizeof(bin_dir), "%s", dir);
	} else {
		ssize_t n =
		    readlink("/proc/self/exe", bin_dir, sizeof(bin_dir) - 1);
		if (n < 0)
			lci_trouble(NULL, "cannot find my own folder: %s",
			            strerror(errno));
		bin_dir[n] = 0;
		*strrchr(bin_dir, '/') = 0;
	}
	if (access(lc_bin("celld"), X_OK))
		lci_trouble(NULL,
		            "celld not found in %s: pass the folder of "
		            "the binaries",
		            bin_dir);
}

const char *lc_bin(const char *name)
{
	static char path[512];
	snprintf(path, sizeof(path), "%s/%s", bin_dir, name);
	return path;
}

void lci_argv_add(struct lci_argv *a, const char *const *list)
{
	for (int i = 0; list && list[i]; i++) {
		if (a->n == LCI_ARGV_MAX)
			lci_trouble(NULL, "%s: more than %d arguments", a->v[0],
			            LCI_ARGV_MAX);
		a->v[a->n++] = list[i];
	}
	a->v[a->n] = NULL;
}

pid_t lc_spawn(const char *const *argv)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		lci_trouble(NULL, "fork: %s", strerror(errno));
	if (pid > 0)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the caller */
	if (getppid() != parent)          /* it died before prctl */
		_exit(127);
	int devnull = open("/dev/null", O_RDWR);
	if (devnull > 0) {
		dup2(devnull, 0);
		close(devnull);
	}
	execv(argv[0], (char *const *)argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Waits for pid to exit until `deadline`, then SIGKILLs it; its status. */
static int reap(pid_t pid, double deadline)
{
	int status = 0;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (lc_now() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(10000);
	}
	return status;
}

int lc_kill_wait(pid_t *pid, int sig)
{
	if (!*pid)
		return 0;
	kill(*pid, sig);
	int status = reap(*pid, lc_now() + KILL_GRACE_S);
	*pid = 0;
	return status;
}

void lc_kill_all(pid_t *const *pids, int n, int sig)
{
	for (int i = 0; i < n; i++)
		if (*pids[i])
			kill(*pids[i], sig);
	double deadline = lc_now() + KILL_GRACE_S;
	for (int i = 0; i < n; i++)
		if (*pids[i]) {
			reap(*pids[i], deadline);
			*pids[i] = 0;
		}
}

static bool port_free(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return false;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET,
	                        .sin_port = htons((uint16_t)port),
	                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	bool ok = !bind(fd, (struct sockaddr *)&a, sizeof(a));
	close(fd);
	return ok;
}

int lc_free_port(void)
{
	static uint64_t seed;
	if (!seed) /* processes running side by side start apart */
		seed = (uint64_t)getpid() << 32 ^ (uint64_t)time(NULL);
	for (int tries = 0; tries < 1000; tries++) {
		unsigned i = cu_rand_below(&seed, PORT_COUNT);
		uint8_t bit = (uint8_t)(1u << (i % 8));
		if ((issued[i / 8] & bit) || !port_free(PORT_LO + (int)i))
			continue;
		issued[i / 8] |= bit;
		return PORT_LO + (int)i;
	}
	lci_trouble(NULL, "no free port in %d-%d", PORT_LO,
	            PORT_LO + PORT_COUNT - 1);
}

double lc_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool lc_wait_until(bool (*fn)(void *arg), void *arg, int timeout_ms)
{
	double end = lc_now() + timeout_ms / 1e3;
	for (;;) {
		if (fn(arg))
			return true;
		if (lc_now() > end)
			return false;
		usleep(20000);
	}
}
