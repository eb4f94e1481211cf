/* shim.c: cellagent-shim, the parent of one task attempt. It outlives
 * agent restarts, waits for the task and writes how it ended to DIR/exit,
 * because only a parent can learn a process's exit status (runner.h).
 *
 *   cellagent-shim --dir DIR [--as BYTES] [--cpu SECONDS] [--cgroup PATH]
 *                  [--exec FILE] -- ARGV0 [ARGS...]
 *
 * The agent spawns it as the leader of a new process group, with stdin
 * from /dev/null, stdout and stderr appending to DIR/stdout and DIR/stderr,
 * and exactly the task's environment. SIGTERM, SIGINT and SIGHUP never
 * reach the shim: it keeps them blocked for its whole life (the agent
 * spawns it with them blocked already, so a stop that comes before main()
 * cannot kill it), and SIGPIPE is ignored. A stop aimed at the group thus
 * reaches the task but not the shim; one that came before the task was
 * forked is passed on to it. Its child restores every signal, joins the
 * cgroup, sets the limits, enters DIR/work and executes FILE (default
 * ARGV0, looked up in PATH) with argv ARGV0 ARGS. An exec that fails is
 * reported over a close-on-exec pipe, so "could not start" is never
 * mistaken for "exited 127". Then DIR/exit gets one JSON line, atomically
 * (tmp, fsync, rename):
 *   {"how":"exited","code":N}  {"how":"signaled","signal":N}
 *   {"how":"spawn_failed","errno":N,"error":"execve /x: No such file..."}
 * Exit status: 0 once DIR/exit is written; 1 when it could not be; 2 for
 * bad usage. No dependencies beyond libc, on purpose. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct opts {
	const char *dir;    /* the attempt's folder */
	const char *exec;   /* the file to execute; NULL: argv[0] via PATH */
	const char *cgroup; /* the attempt's cgroup v2 folder, or NULL */
	unsigned long long as, cpu; /* RLIMIT_AS bytes, RLIMIT_CPU s; 0:
	                               none */
	char **argv;                /* the task's argv, NULL-terminated */
};

__attribute__((format(printf, 1, 2), noreturn)) static void
usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "cellagent-shim: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr,
	        "\nusage: cellagent-shim --dir DIR [--as BYTES] "
	        "[--cpu SECONDS] [--cgroup PATH] [--exec FILE] -- ARGV0 "
	        "[ARGS...]\n");
	exit(2);
}

static unsigned long long number(const char *flag, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		usage("%s: expected a number", flag);
	return v;
}

static void parse(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof(*o));
	int i = 1;
	for (; i < argc && strcmp(argv[i], "--"); i += 2) {
		const char *flag = argv[i];
		if (i + 1 >= argc)
			usage("%s: needs a value", flag);
		const char *val = argv[i + 1];
		if (!strcmp(flag, "--dir"))
			o->dir = val;
		else if (!strcmp(flag, "--exec"))
			o->exec = val;
		else if (!strcmp(flag, "--cgroup"))
			o->cgroup = val;
		else if (!strcmp(flag, "--as"))
			o->as = number(flag, val);
		else if (!strcmp(flag, "--cpu"))
			o->cpu = number(flag, val);
		else
			usage("unknown flag %s", flag);
	}
	if (!o->dir)
		usage("%s is required", "--dir");
	if (i + 1 >= argc)
		usage("%s", "no command after --");
	o->argv = argv + i + 1;
	if (!o->exec)
		o->exec = o->argv[0];
}

/* The agent's descriptors stay out of the task. */
static void close_others(void)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
#endif
	long max = sysconf(_SC_OPEN_MAX);
	for (long fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
		close((int)fd);
}

/* ---- the child: becomes the task ---- */

/* Sends "errno message" up the pipe and ends the child. */
static void fail(int pipefd, int err, const char *fmt, ...)
{
	char msg[512];
	int n = snprintf(msg, sizeof(msg), "%d ", err);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	va_end(ap);
	size_t len = strlen(msg);
	snprintf(msg + len, sizeof(msg) - len, ": %s", strerror(err));
	ssize_t w = write(pipefd, msg, strlen(msg)); /* < PIPE_BUF: whole */
	(void)w;
	_exit(127);
}

static void child(const struct opts *o, int pipefd)
{
	/* Dispositions first, then the mask: a stop that came after the
	 * fork is pending here and now ends the child the default way. */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL); /* KILL, STOP and libc's own refuse */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (o->cgroup) {
		char path[PATH_MAX], pid[32];
		snprintf(path, sizeof(path), "%s/cgroup.procs", o->cgroup);
		int n = snprintf(pid, sizeof(pid), "%ld", (long)getpid());
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, pid, (size_t)n) != n)
			fail(pipefd, errno, "join cgroup %s", o->cgroup);
		close(fd);
	}
	if (o->as) {
		struct rlimit rl = {o->as, o->as};
		if (setrlimit(RLIMIT_AS, &rl) < 0)
			fail(pipefd, errno, "setrlimit RLIMIT_AS %llu", o->as);
	}
	if (o->cpu) {
		/* SIGXCPU at the soft limit, SIGKILL a second later */
		struct rlimit rl = {o->cpu, o->cpu + 1};
		if (setrlimit(RLIMIT_CPU, &rl) < 0)
			fail(pipefd, errno, "setrlimit RLIMIT_CPU %llu",
			     o->cpu);
	}
	char work[PATH_MAX];
	snprintf(work, sizeof(work), "%s/work", o->dir);
	if (chdir(work) < 0)
		fail(pipefd, errno, "chdir %s", work);
	if (strchr(o->exec, '/')) {
		execve(o->exec, o->argv, environ);
		fail(pipefd, errno, "execve %s", o->exec);
	}
	execvpe(o->exec, o->argv, environ);
	fail(pipefd, errno, "execvp %s", o->exec);
}

/* ---- the outcome ---- */

/* Appends s to the JSON string being built in out (len bytes), escaped;
 * bytes that are not valid UTF-8 become '?', so the line always parses. */
static void json_str(char *out, size_t len, const char *s)
{
	size_t n = strlen(out);
	const unsigned char *p = (const unsigned char *)s;
	while (*p && n + 8 < len) {
		size_t seq = *p < 0x80             ? 1
		             : (*p & 0xe0) == 0xc0 ? 2
		             : (*p & 0xf0) == 0xe0 ? 3
		             : (*p & 0xf8) == 0xf0 ? 4
		                                   : 0;
		for (size_t k = 1; k < seq; k++)
			if ((p[k] & 0xc0) != 0x80)
				seq = 0;
		if (seq == 0) {
			out[n++] = '?';
			p++;
		} else if (seq > 1) {
			memcpy(out + n, p, seq);
			n += seq;
			p += seq;
		} else if (*p == '"' || *p == '\\') {
			out[n++] = '\\';
			out[n++] = (char)*p++;
		} else if (*p < 0x20) {
			n +=
			    (size_t)snprintf(out + n, len - n, "\\u%04x", *p++);
		} else {
			out[n++] = (char)*p++;
		}
	}
	out[n] = 0;
}

/* DIR/exit.tmp, fsync, rename to DIR/exit, fsync DIR. */
static int write_exit(const char *dir, const char *line)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s/exit.tmp", dir);
	snprintf(path, sizeof(path), "%s/exit", dir);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	size_t len = strlen(line), done = 0;
	while (done < len) {
		ssize_t w = write(fd, line + done, len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		done += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0)
		return -1;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	parse(argc, argv, &o);
	sigset_t stops;
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGHUP);
	sigprocmask(SIG_BLOCK, &stops, NULL);
	signal(SIGPIPE, SIG_IGN);
	close_others();
	/* Stops that came before the task exists, to pass on once it does
	 * (one that comes between here and the fork is lost to the task;
	 * the agent's SIGKILL after the grace still ends it). */
	sigset_t early;
	sigemptyset(&early);
	struct timespec now = {0, 0};
	int sig;
	while ((sig = sigtimedwait(&stops, NULL, &now)) > 0)
		sigaddset(&early, sig);

	char line[1024];
	char report[600] = "";
	int p[2];
	pid_t pid = -1;
	if (pipe2(p, O_CLOEXEC) < 0)
		snprintf(report, sizeof(report), "%d pipe: %s", errno,
		         strerror(errno));
	else if ((pid = fork()) < 0)
		snprintf(report, sizeof(report), "%d fork: %s", errno,
		         strerror(errno));
	else if (pid == 0) {
		close(p[0]);
		child(&o, p[1]);
	}
	if (pid > 0) {
		for (sig = 1; sig < NSIG; sig++)
			if (sigismember(&early, sig) == 1)
				kill(pid, sig);
		close(p[1]);
		size_t got = 0;
		for (;;) {
			ssize_t n =
			    read(p[0], report + got, sizeof(report) - 1 - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0 || (got += (size_t)n) == sizeof(report) - 1)
				break;
		}
		report[got] = 0;
		close(p[0]);
	}

	int status = 0;
	while (pid > 0 && waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			/* no status is better than a made-up "exited 0": the
			 * agent reports the attempt as vanished */
			fprintf(stderr, "cellagent-shim: waitpid %ld: %s\n",
			        (long)pid, strerror(errno));
			return 1;
		}
	}
	if (report[0]) {
		char *msg = strchr(report, ' ');
		msg = msg ? msg + 1 : report;
		fprintf(stderr, "cellagent-shim: %s\n", msg);
		snprintf(line, sizeof(line),
		         "{\"how\":\"spawn_failed\",\"errno\":%d,\"error\":\"",
		         atoi(report));
		json_str(line, sizeof(line) - 3, msg);
		strcat(line, "\"}\n");
	} else if (WIFSIGNALED(status)) {
		snprintf(line, sizeof(line),
		         "{\"how\":\"signaled\",\"signal\":%d}\n",
		         WTERMSIG(status));
	} else {
		snprintf(line, sizeof(line),
		         "{\"how\":\"exited\",\"code\":%d}\n",
		         WEXITSTATUS(status));
	}
	if (write_exit(o.dir, line) < 0) {
		fprintf(stderr, "cellagent-shim: cannot write %s/exit: %s\n",
		        o.dir, strerror(errno));
		return 1;
	}
	return 0;
}
