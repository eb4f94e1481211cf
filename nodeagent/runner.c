/* runner.c: starting, stopping and watching task attempts under
 * cellagent-shim, and finding them again after an agent restart
 * (runner.h). */
#define _GNU_SOURCE
#include "runner_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define POLL_INTERVAL_S 1.0 /* liveness checks where there is no pidfd */
#define DEFAULT_PATH    "/usr/local/bin:/usr/bin:/bin"

/* One attempt being watched. Invariants: it is in r->runs exactly while
 * one of io (pidfd >= 0) or poll (pidfd < 0) is active; kill is active
 * only while stopping, and runs once. */
struct run {
	struct cu_list link; /* in r->runs */
	rn_runner *r;
	char job[RN_JOB_MAX + 1];
	uint32_t index, attempt;
	struct rn_pidrec shim; /* the shim: pid and start time */
	int pidfd;             /* -1: polled instead */
	ev_io io;              /* pidfd readable: the shim has ended */
	ev_timer poll;         /* without a pidfd: checks once a second */
	ev_timer kill;         /* the grace between SIGTERM and SIGKILL */
	bool stopping;         /* rn_stop asked (now or before a restart) */
};

struct rn_runner {
	struct ev_loop *loop; /* borrowed */
	char *tasks_dir;      /* DATA/tasks */
	char *shim_path;      /* absolute */
	uint64_t kill_grace_ms, as_min_mib, as_factor, cpu_seconds;
	struct rn_cgroup cg;
	char boot_id[RN_BOOT_ID_LEN + 1];
	rn_ended_fn ended;
	void *arg;
	/* of struct run (owned); a list: an agent runs tens, not thousands */
	struct cu_list runs;
	size_t nruns;
};

/* ---- lookups ---- */

static struct run *find(const rn_runner *r, const char *job, uint32_t index,
                        uint32_t attempt)
{
	for (struct cu_list *l = cu_list_first(&r->runs); l;
	     l = cu_list_next(&r->runs, l)) {
		struct run *p = cu_container_of(l, struct run, link);
		if (p->index == index && p->attempt == attempt &&
		    !strcmp(p->job, job))
			return p;
	}
	return NULL;
}

static void run_dir(const struct run *p, char *buf, size_t len)
{
	/* fits: checked when the run was made */
	rn_att_path(buf, len, p->r->tasks_dir, p->job, p->index, p->attempt,
	            NULL);
}

static bool has_file(const char *dir, const char *name)
{
	char path[RN_PATH_MAX];
	return rn_fmt(path, sizeof(path), "%s/%s", dir, name) &&
	       access(path, F_OK) == 0;
}

/* ---- watching a shim ---- */

static void finish(struct run *p);

static void on_pidfd(struct ev_loop *loop, ev_io *w, int revents)
{
	(void)loop;
	(void)revents;
	finish(w->data);
}

static void on_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct run *p = w->data;
	if (!rn_proc_alive(&p->shim, p->r->boot_id))
		finish(p);
}

/* Whether the shim has ended, though finish() has not run yet. */
static bool shim_ended(const struct run *p)
{
	return p->pidfd >= 0 ? rn_pidfd_ended(p->pidfd)
	                     : !rn_proc_alive(&p->shim, p->r->boot_id);
}

/* Sends sig to the attempt's process group, unless the shim has ended
 * already: its pid, and so the group's id, may be reused once it is
 * reaped. */
static void signal_group(struct run *p, int sig)
{
	if (shim_ended(p))
		return;
	if (kill(-p->shim.pid, sig) < 0 && errno != ESRCH)
		CC_WARN("task %s/%u attempt %u: kill(-%ld, %d): %s", p->job,
		        p->index, p->attempt, (long)p->shim.pid, sig,
		        strerror(errno));
}

static void on_kill(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	struct run *p = w->data;
	if (shim_ended(p))
		return; /* its end is on the way */
	char dir[RN_PATH_MAX], err[CC_ERRMSG_SIZE];
	run_dir(p, dir, sizeof(dir));
	/* SIGKILL to the group kills the shim too, so it cannot write the
	 * outcome: write it first. A shim whose task ended meanwhile renames
	 * its own file over this one, or was first (ESTATE). */
	struct rn_outcome o = {.how = RN_SIGNALED, .code = SIGKILL};
	int rc = rn_exit_write(dir, &o, "cellagent", false, err, sizeof(err));
	if (rc && rc != CC_ESTATE)
		CC_WARN("task %s/%u attempt %u: %s", p->job, p->index,
		        p->attempt, err);
	CC_INFO("task %s/%u attempt %u still runs %llu ms after SIGTERM: "
	        "SIGKILL",
	        p->job, p->index, p->attempt,
	        (unsigned long long)p->r->kill_grace_ms);
	char cg[RN_PATH_MAX];
	if (rn_cg_path(&p->r->cg, p->job, p->index, p->attempt, cg, sizeof(cg)))
		rn_cg_kill(cg);
	signal_group(p, SIGKILL);
}

/* Starts the stop: marks it on disk, SIGTERM, the grace timer. */
static void begin_stop(struct run *p)
{
	char dir[RN_PATH_MAX], path[RN_PATH_MAX], err[CC_ERRMSG_SIZE];
	p->stopping = true;
	run_dir(p, dir, sizeof(dir));
	if (rn_fmt(path, sizeof(path), "%s/stop", dir) &&
	    rn_write_file(path, "", 0, true, err, sizeof(err)) < 0)
		CC_WARN("task %s/%u attempt %u: %s", p->job, p->index,
		        p->attempt, err);
	signal_group(p, SIGTERM);
	ev_timer_set(&p->kill, (double)p->r->kill_grace_ms / 1000.0, 0.0);
	ev_timer_start(p->r->loop, &p->kill);
}

/* Watches the shim p->shim through pidfd (may be -1: polled) and adds p
 * to the runner's list. */
static void watch(rn_runner *r, struct run *p, int pidfd)
{
	p->r = r;
	p->pidfd = pidfd;
	ev_io_init(&p->io, on_pidfd, pidfd, EV_READ);
	ev_timer_init(&p->poll, on_poll, POLL_INTERVAL_S, POLL_INTERVAL_S);
	ev_timer_init(&p->kill, on_kill, 0.0, 0.0);
	p->io.data = p->poll.data = p->kill.data = p;
	if (pidfd >= 0)
		ev_io_start(r->loop, &p->io);
	else
		ev_timer_start(r->loop, &p->poll);
	cu_list_push_front(&r->runs, &p->link);
	r->nruns++;
}

static void unwatch(struct run *p)
{
	rn_runner *r = p->r;
	ev_io_stop(r->loop, &p->io);
	ev_timer_stop(r->loop, &p->poll);
	ev_timer_stop(r->loop, &p->kill);
	if (p->pidfd >= 0)
		close(p->pidfd);
	cu_list_remove(&p->link);
	r->nruns--;
}

/* The outcome of an attempt whose shim has ended, from its folder. */
static void outcome_of(const char *dir, const struct rn_pidrec *shim,
                       struct rn_outcome *o)
{
	char err[CC_ERRMSG_SIZE];
	memset(o, 0, sizeof(*o));
	int rc = rn_exit_read(dir, o, err, sizeof(err));
	if (rc == CC_ESTATE && shim)
		rn_fmt(o->detail, sizeof(o->detail),
		       "its shim (pid %ld) ended without writing %s/exit: "
		       "it was killed or the machine restarted",
		       (long)shim->pid, dir);
	else if (rc == CC_ESTATE)
		rn_fmt(o->detail, sizeof(o->detail),
		       "it never started: the agent stopped before it "
		       "recorded a shim in %s",
		       dir);
	else if (rc)
		rn_fmt(o->detail, sizeof(o->detail), "%s", err);
	if (rc) {
		o->how = RN_VANISHED;
		o->code = 0;
	}
	o->stopped = has_file(dir, "stop");
}

/* The shim has ended: reap it if it is ours, learn the outcome, forget
 * the run, tell the owner. Touches nothing of the runner after the
 * callback, which may free it. */
static void finish(struct run *p)
{
	rn_runner *r = p->r;
	char dir[RN_PATH_MAX], cg[RN_PATH_MAX];
	int status = 0;
	bool reaped = rn_reap(p->shim.pid, p->pidfd, &status);
	run_dir(p, dir, sizeof(dir));
	struct rn_outcome o;
	outcome_of(dir, &p->shim, &o);
	o.stopped = o.stopped || p->stopping;
	if (o.how == RN_VANISHED && reaped && WIFSIGNALED(status))
		rn_fmt(o.detail, sizeof(o.detail),
		       "its shim (pid %ld) was killed by signal %d before "
		       "it wrote %s/exit",
		       (long)p->shim.pid, WTERMSIG(status), dir);
	else if (o.how == RN_VANISHED && reaped)
		rn_fmt(o.detail, sizeof(o.detail),
		       "its shim (pid %ld) exited %d without writing "
		       "%s/exit (see its stderr)",
		       (long)p->shim.pid, WEXITSTATUS(status), dir);
	if (rn_cg_path(&r->cg, p->job, p->index, p->attempt, cg, sizeof(cg)))
		rn_cg_remove(cg);

	char job[RN_JOB_MAX + 1];
	uint32_t index = p->index, attempt = p->attempt;
	memcpy(job, p->job, sizeof(job));
	unwatch(p);
	free(p);
	CC_DEBUG("task %s/%u attempt %u ended (how %d, code %d%s)", job, index,
	         attempt, (int)o.how, o.code, o.stopped ? ", stopped" : "");
	if (r->ended)
		r->ended(r->arg, job, index, attempt, &o);
}

/* ---- the runner ---- */

/* 0 when path is a file this process may execute; else an errno, and why
 * not in why. */
static int not_executable(const char *path, char *why, size_t len)
{
	struct stat st;
	int e = 0;
	const char *what = NULL;
	if (stat(path, &st) < 0)
		e = errno;
	else if (S_ISDIR(st.st_mode))
		e = EISDIR;
	else if (!S_ISREG(st.st_mode))
		e = EACCES, what = "not a regular file";
	else if (access(path, X_OK) < 0)
		e = errno, what = "not executable";
	if (e)
		rn_fmt(why, len, "%s", what ? what : strerror(e));
	return e;
}

static int make_dir(const char *path, char *errbuf, size_t errlen)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return cu_errf(errbuf, errlen, CC_EIO, "cannot create %s: %s",
		               path, strerror(errno));
	return 0;
}

int rn_new(struct ev_loop *loop, const struct rn_config *cfg, rn_ended_fn ended,
           void *arg, rn_runner **out, char *errbuf, size_t errlen)
{
	if (!cfg->data_dir || !*cfg->data_dir || !cfg->shim_path)
		return cu_errf(errbuf, errlen, CC_EINVAL,
		               "runner: data folder and shim path are needed");
	char tasks[RN_PATH_MAX], what[600];
	if (!rn_fmt(tasks, sizeof(tasks), "%s/tasks", cfg->data_dir))
		return cu_errf(errbuf, errlen, CC_EINVAL,
		               "data folder %s: path too long", cfg->data_dir);
	int rc = make_dir(cfg->data_dir, errbuf, errlen);
	if (!rc)
		rc = make_dir(tasks, errbuf, errlen);
	if (rc)
		return rc;
	char *shim = realpath(cfg->shim_path, NULL);
	char why[128];
	if (!shim || not_executable(shim, why, sizeof(why))) {
		if (!shim)
			rn_fmt(why, sizeof(why), "%s", strerror(errno));
		free(shim);
		return cu_errf(errbuf, errlen, CC_EINVAL,
		               "shim %s is not an executable file (%s)",
		               cfg->shim_path, why);
	}
	rn_runner *r = cu_xcalloc(1, sizeof(*r));
	cu_list_init(&r->runs);
	rc = rn_cg_init(&r->cg, cfg->cgroup_root, cfg->data_dir, what,
	                sizeof(what), errbuf, errlen);
	if (rc) {
		free(shim);
		free(r);
		return rc;
	}
	r->loop = loop;
	r->tasks_dir = cu_xstrdup(tasks);
	r->shim_path = shim;
	r->kill_grace_ms = cfg->kill_grace_ms;
	r->as_min_mib = cfg->as_min_mib;
	r->as_factor = cfg->as_factor;
	r->cpu_seconds = cfg->cpu_seconds;
	r->ended = ended;
	r->arg = arg;
	rn_boot_id(r->boot_id);

	char as[96], cpu[48];
	if (r->as_factor)
		snprintf(as, sizeof(as), "max(memory x %llu, %llu MiB)",
		         (unsigned long long)r->as_factor,
		         (unsigned long long)r->as_min_mib);
	else
		snprintf(as, sizeof(as), "none");
	if (r->cpu_seconds)
		snprintf(cpu, sizeof(cpu), "%llu s",
		         (unsigned long long)r->cpu_seconds);
	else
		snprintf(cpu, sizeof(cpu), "none");
	CC_INFO("task limits: RLIMIT_AS %s, RLIMIT_CPU %s; %s", as, cpu, what);
	*out = r;
	return 0;
}

void rn_free(rn_runner *r)
{
	if (!r)
		return;
	for (struct cu_list *l; (l = cu_list_first(&r->runs));) {
		struct run *p = cu_container_of(l, struct run, link);
		unwatch(p);
		free(p);
	}
	rn_cg_free(&r->cg);
	free(r->tasks_dir);
	free(r->shim_path);
	free(r);
}

bool rn_running(const rn_runner *r, const char *job, uint32_t index,
                uint32_t attempt)
{
	return job && find(r, job, index, attempt) != NULL;
}

size_t rn_count(const rn_runner *r)
{
	return r->nruns;
}

void rn_stop(rn_runner *r, const char *job, uint32_t index, uint32_t attempt)
{
	struct run *p = job ? find(r, job, index, attempt) : NULL;
	if (p && !p->stopping)
		begin_stop(p);
}

/* ---- starting an attempt ---- */

/* Finds the file to execute, as execvp would in the task: a path as it is
 * (relative to the work folder), a name in PATH of the task's environment,
 * else in the agent's. 0 and file, or CC_EINVAL with *err an errno. */
static int resolve(const struct rn_task *t, const char *work, char *file,
                   size_t len, int *err, char *errbuf, size_t errlen)
{
	char why[128];
	const char *cmd = t->command;
	*err = ENOENT;
	if (!cmd || !*cmd)
		return cu_errf(errbuf, errlen, CC_EINVAL, "no command given");
	if (strchr(cmd, '/')) {
		bool ok = rn_fmt(file, len, "%s%s%s", cmd[0] == '/' ? "" : work,
		                 cmd[0] == '/' ? "" : "/", cmd);
		*err =
		    ok ? not_executable(file, why, sizeof(why)) : ENAMETOOLONG;
		if (!*err)
			return 0;
		return cu_errf(errbuf, errlen, CC_EINVAL,
		               "command %s is not an executable file (%s)",
		               file, ok ? why : "path too long");
	}
	const char *path = NULL, *whose = "the task's";
	for (uint32_t i = 0; i < t->nenv && !path; i++)
		if (!strncmp(t->env[i], "PATH=", 5))
			path = t->env[i] + 5;
	if (!path) {
		path = getenv("PATH");
		whose = "the agent's";
	}
	if (!path) {
		path = DEFAULT_PATH;
		whose = "a default";
	}
	for (const char *d = path; *d;) {
		size_t n = strcspn(d, ":");
		/* an empty entry would mean the current folder: skipped */
		if (n && rn_fmt(file, len, "%.*s/%s", (int)n, d, cmd) &&
		    !not_executable(file, why, sizeof(why)))
			return 0;
		d += n + (d[n] == ':');
	}
	return cu_errf(errbuf, errlen, CC_EINVAL,
	               "command \"%s\" not found in PATH (%s, %s)", cmd, path,
	               whose);
}

/* RLIMIT_AS for a request of mem MiB, in bytes; 0: none. */
static uint64_t as_bytes(const rn_runner *r, uint64_t mem)
{
	if (!r->as_factor || !mem)
		return 0;
	uint64_t mib =
	    mem > UINT64_MAX / r->as_factor ? UINT64_MAX : mem * r->as_factor;
	if (mib < r->as_min_mib)
		mib = r->as_min_mib;
	return mib >= (UINT64_MAX >> 20) ? 0 : mib << 20;
}

/* Spawns the shim for t in dir; 0 and *pid, or an errno. */
static int spawn_shim(const rn_runner *r, const struct rn_task *t,
                      const char *dir, const char *file, const char *cg,
                      pid_t *pid)
{
	char out[RN_PATH_MAX], err[RN_PATH_MAX], as[24], cpu[24];
	rn_fmt(out, sizeof(out), "%s/stdout", dir);
	rn_fmt(err, sizeof(err), "%s/stderr", dir);
	snprintf(as, sizeof(as), "%llu",
	         (unsigned long long)as_bytes(r, t->memory_mib));
	snprintf(cpu, sizeof(cpu), "%llu", (unsigned long long)r->cpu_seconds);

	const char **argv = cu_xmalloc((t->nargs + 16) * sizeof(*argv));
	size_t n = 0;
	argv[n++] = r->shim_path;
	argv[n++] = "--dir";
	argv[n++] = dir;
	argv[n++] = "--as";
	argv[n++] = as;
	argv[n++] = "--cpu";
	argv[n++] = cpu;
	if (cg) {
		argv[n++] = "--cgroup";
		argv[n++] = cg;
	}
	argv[n++] = "--exec";
	argv[n++] = file;
	argv[n++] = "--";
	argv[n++] = t->command;
	for (uint32_t i = 0; i < t->nargs; i++)
		argv[n++] = t->args[i];
	argv[n] = NULL;
	const char **envp = cu_xmalloc((t->nenv + 1) * sizeof(*envp));
	for (uint32_t i = 0; i < t->nenv; i++)
		envp[i] = t->env[i];
	envp[t->nenv] = NULL;

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t stops, all;
	/* born with stops blocked: a SIGTERM to the group that comes before
	 * the shim's main() runs must not kill the shim (shim.c) */
	sigemptyset(&stops);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGHUP);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out,
	                                 O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, err,
	                                 O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawnattr_init(&at);
	/* its own process group (pgid 0: its pid), so a stop reaches the
	 * task and everything it forked with one kill(-pgid) */
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
	                                  POSIX_SPAWN_SETSIGMASK |
	                                  POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setsigmask(&at, &stops);
	posix_spawnattr_setsigdefault(&at, &all);
	int rc = posix_spawn(pid, r->shim_path, &fa, &at, (char **)argv,
	                     (char **)envp);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	free(argv);
	free(envp);
	return rc;
}

/* Creates the (empty) log files, so a failure names the file. */
static int touch(const char *dir, const char *name, char *errbuf, size_t errlen)
{
	char path[RN_PATH_MAX];
	rn_fmt(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return cu_errf(errbuf, errlen, CC_EIO, "cannot create %s: %s",
		               path, strerror(errno));
	close(fd);
	return 0;
}

/* An attempt that will not run: its exit file says why, so rn_recover
 * finds a SPAWN_FAILED rather than a vanished attempt. Returns code with
 * the message "task J/I attempt A: MSG" in errbuf. */
static int refuse(const struct rn_task *t, const char *dir, int code, int err,
                  const char *msg, char *errbuf, size_t errlen)
{
	struct rn_outcome o = {.how = RN_SPAWN_FAILED, .code = err};
	char werr[CC_ERRMSG_SIZE];
	rn_fmt(o.detail, sizeof(o.detail), "%s", msg);
	if (rn_exit_write(dir, &o, "cellagent", true, werr, sizeof(werr)) < 0)
		CC_WARN("task %s/%u attempt %u: %s", t->job, t->index,
		        t->attempt, werr);
	return cu_errf(errbuf, errlen, code, "task %s/%u attempt %u: %s",
	               t->job, t->index, t->attempt, msg);
}

int rn_start(rn_runner *r, const struct rn_task *t, char *errbuf, size_t errlen)
{
	char jobdir[RN_PATH_MAX], dir[RN_PATH_MAX], work[RN_PATH_MAX];
	char file[RN_PATH_MAX], cg[RN_PATH_MAX], msg[CC_ERRMSG_SIZE];
	if (!rn_job_name_ok(t->job))
		return cu_errf(errbuf, errlen, CC_EINVAL,
		               "task %s/%u: job name: expected 1 to %d of "
		               "[a-z0-9._-], starting with a letter or digit",
		               t->job ? t->job : "(null)", t->index,
		               RN_JOB_MAX);
	if (!rn_fmt(jobdir, sizeof(jobdir), "%s/%s", r->tasks_dir, t->job) ||
	    !rn_att_path(dir, sizeof(dir), r->tasks_dir, t->job, t->index,
	                 t->attempt, NULL) ||
	    !rn_fmt(work, sizeof(work), "%s/work", dir) ||
	    /* the longest name made in dir */
	    !rn_fmt(file, sizeof(file), "%s/exit.agent.tmp", dir))
		return cu_errf(errbuf, errlen, CC_EINVAL,
		               "task %s/%u attempt %u: data folder path too "
		               "long",
		               t->job, t->index, t->attempt);
	bool new_job = mkdir(jobdir, 0755) == 0;
	if (!new_job && errno != EEXIST)
		return cu_errf(errbuf, errlen, CC_EIO,
		               "task %s/%u attempt %u: cannot create %s: %s",
		               t->job, t->index, t->attempt, jobdir,
		               strerror(errno));
	if (mkdir(dir, 0755) < 0) {
		if (errno == EEXIST)
			return cu_errf(errbuf, errlen, CC_ESTATE,
			               "task %s/%u attempt %u was already "
			               "started on this machine (%s exists)",
			               t->job, t->index, t->attempt, dir);
		return cu_errf(errbuf, errlen, CC_EIO,
		               "task %s/%u attempt %u: cannot create %s: %s",
		               t->job, t->index, t->attempt, dir,
		               strerror(errno));
	}
	/* From here on the attempt counts as tried, crash or not. */
	if (rn_sync_dir(jobdir) < 0 ||
	    (new_job && rn_sync_dir(r->tasks_dir) < 0))
		CC_WARN("task %s/%u attempt %u: cannot fsync %s: %s", t->job,
		        t->index, t->attempt, jobdir, strerror(errno));
	if (mkdir(work, 0755) < 0) {
		int e = errno;
		rn_fmt(msg, sizeof(msg),
		       "cannot create working directory %s: %s", work,
		       strerror(e));
		return refuse(t, dir, CC_EIO, e, msg, errbuf, errlen);
	}
	if (touch(dir, "stdout", msg, sizeof(msg)) < 0 ||
	    touch(dir, "stderr", msg, sizeof(msg)) < 0)
		return refuse(t, dir, CC_EIO, EIO, msg, errbuf, errlen);
	int rc, err;
	if (resolve(t, work, file, sizeof(file), &err, msg, sizeof(msg)) < 0)
		return refuse(t, dir, CC_EINVAL, err, msg, errbuf, errlen);

	const char *cgp = NULL;
	if (rn_cg_path(&r->cg, t->job, t->index, t->attempt, cg, sizeof(cg))) {
		if (rn_cg_make(&r->cg, cg, t->memory_mib, t->cpu_millicores,
		               msg, sizeof(msg)) == 0)
			cgp = cg;
		else
			CC_WARN("task %s/%u attempt %u runs without its "
			        "cgroup: %s",
			        t->job, t->index, t->attempt, msg);
	}
	pid_t pid;
	err = spawn_shim(r, t, dir, file, cgp, &pid);
	if (err) {
		rn_fmt(msg, sizeof(msg), "cannot start the shim %s: %s",
		       r->shim_path, strerror(err));
		if (cgp)
			rn_cg_remove(cgp);
		return refuse(t, dir, CC_EIO, err, msg, errbuf, errlen);
	}

	struct run *p = cu_xcalloc(1, sizeof(*p));
	rn_fmt(p->job, sizeof(p->job), "%s", t->job);
	p->index = t->index;
	p->attempt = t->attempt;
	p->shim.pid = pid;
	rn_fmt(p->shim.boot_id, sizeof(p->shim.boot_id), "%s", r->boot_id);
	char state;
	/* the shim is our child and not reaped yet: its stat is there */
	rc = rn_proc_stat(pid, &p->shim.start_time, &state) < 0
	         ? cu_errf(msg, sizeof(msg), CC_EIO,
	                   "cannot read /proc/%ld/stat: %s", (long)pid,
	                   strerror(errno))
	         : rn_pidrec_write(dir, &p->shim, msg, sizeof(msg));
	if (rc) {
		/* Untracked after a restart, it must not run at all. */
		int status;
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		free(p);
		if (cgp)
			rn_cg_remove(cgp);
		return refuse(t, dir, CC_EIO, EIO, msg, errbuf, errlen);
	}
	watch(r, p, rn_pidfd_open(pid));
	CC_DEBUG("task %s/%u attempt %u: started %s under shim pid %ld", t->job,
	         t->index, t->attempt, file, (long)pid);
	return 0;
}

/* ---- after a restart ---- */

/* Looks at one attempt folder: adopts a live shim or reads the outcome. */
static void inspect(rn_runner *r, const char *job, uint32_t index,
                    uint32_t attempt, struct rn_found *f)
{
	char dir[RN_PATH_MAX], err[CC_ERRMSG_SIZE];
	memset(f, 0, sizeof(*f));
	f->job = job;
	f->index = index;
	f->attempt = attempt;
	if (find(r, job, index, attempt)) {
		f->alive = true;
		return;
	}
	rn_att_path(dir, sizeof(dir), r->tasks_dir, job, index, attempt, NULL);
	struct rn_pidrec shim;
	int rc = rn_pidrec_read(dir, &shim, err, sizeof(err));
	if (rc == CC_EPROTO)
		CC_WARN("task %s/%u attempt %u: %s", job, index, attempt, err);
	if (rc == 0) {
		/* open first, then check: a pidfd that was opened while the
		 * start time matched refers to that very process */
		int pidfd = rn_pidfd_open(shim.pid);
		if (rn_proc_alive(&shim, r->boot_id)) {
			struct run *p = cu_xcalloc(1, sizeof(*p));
			rn_fmt(p->job, sizeof(p->job), "%s", job);
			p->index = index;
			p->attempt = attempt;
			p->shim = shim;
			watch(r, p, pidfd);
			f->alive = true;
			if (has_file(dir, "stop"))
				begin_stop(p); /* finish what was asked */
			CC_INFO("task %s/%u attempt %u: adopted its shim "
			        "(pid %ld)%s",
			        job, index, attempt, (long)shim.pid,
			        p->stopping ? ", stopping it" : "");
			return;
		}
		/* our own zombie (an agent restarted in-process): reap it */
		uint64_t start;
		char state;
		if (rn_proc_stat(shim.pid, &start, &state) == 0 &&
		    start == shim.start_time && state == 'Z') {
			int status;
			rn_reap(shim.pid, pidfd, &status);
		}
		if (pidfd >= 0)
			close(pidfd);
	}
	outcome_of(dir, rc == 0 ? &shim : NULL, &f->outcome);
	char cg[RN_PATH_MAX];
	if (rn_cg_path(&r->cg, job, index, attempt, cg, sizeof(cg)))
		rn_cg_remove(cg);
}

static int only_dirs(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

int rn_recover(rn_runner *r, rn_found_fn fn, void *arg, char *errbuf,
               size_t errlen)
{
	struct dirent **jobs;
	int njobs = scandir(r->tasks_dir, &jobs, only_dirs, alphasort);
	if (njobs < 0)
		return cu_errf(errbuf, errlen, CC_EIO, "cannot read %s: %s",
		               r->tasks_dir, strerror(errno));
	for (int j = 0; j < njobs; j++) {
		const char *job = jobs[j]->d_name;
		char jobdir[RN_PATH_MAX];
		struct dirent **atts;
		int natts = -1;
		if (rn_job_name_ok(job) &&
		    rn_fmt(jobdir, sizeof(jobdir), "%s/%s", r->tasks_dir, job))
			natts = scandir(jobdir, &atts, only_dirs, alphasort);
		if (natts < 0)
			CC_WARN("recovery: skipping %s/%s: not a job folder",
			        r->tasks_dir, job);
		for (int a = 0; a < natts; a++) {
			uint32_t index, attempt;
			struct rn_found f;
			if (rn_att_name_parse(atts[a]->d_name, &index,
			                      &attempt)) {
				inspect(r, job, index, attempt, &f);
				fn(arg, &f);
			} else {
				CC_WARN("recovery: skipping %s/%s: not an "
				        "attempt folder (INDEX.ATTEMPT)",
				        jobdir, atts[a]->d_name);
			}
			free(atts[a]);
		}
		if (natts >= 0)
			free(atts);
		free(jobs[j]);
	}
	free(jobs);
	return 0;
}

bool rn_last_attempt(const rn_runner *r, const char *job, uint32_t index,
                     uint32_t *attempt)
{
	char jobdir[RN_PATH_MAX];
	if (!rn_job_name_ok(job) ||
	    !rn_fmt(jobdir, sizeof(jobdir), "%s/%s", r->tasks_dir, job))
		return false;
	DIR *d = opendir(jobdir);
	if (!d)
		return false;
	bool found = false;
	struct dirent *e;
	while ((e = readdir(d))) {
		uint32_t i, a;
		if (rn_att_name_parse(e->d_name, &i, &a) && i == index &&
		    (!found || a > *attempt)) {
			*attempt = a;
			found = true;
		}
	}
	closedir(d);
	return found;
}

void rn_forget_job(rn_runner *r, const char *job)
{
	char jobdir[RN_PATH_MAX], path[RN_PATH_MAX];
	if (!rn_job_name_ok(job) ||
	    !rn_fmt(jobdir, sizeof(jobdir), "%s/%s", r->tasks_dir, job))
		return;
	DIR *d = opendir(jobdir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		uint32_t i, a;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (rn_att_name_parse(e->d_name, &i, &a) && find(r, job, i, a))
			continue; /* still running: kept */
		if (rn_fmt(path, sizeof(path), "%s/%s", jobdir, e->d_name) &&
		    rn_rm_tree(path) < 0)
			CC_WARN("cannot remove %s: %s", path, strerror(errno));
	}
	closedir(d);
	if (rmdir(jobdir) < 0 && errno != ENOTEMPTY && errno != EEXIST)
		CC_WARN("cannot remove %s: %s", jobdir, strerror(errno));
}

int rn_log_path(const rn_runner *r, const char *job, uint32_t index,
                uint32_t attempt, const char *stream, char *path,
                size_t pathlen, char *errbuf, size_t errlen)
{
	char dir[RN_PATH_MAX];
	if (!stream || (strcmp(stream, "stdout") && strcmp(stream, "stderr")))
		return cu_errf(errbuf, errlen, CC_EINVAL,
		               "stream \"%s\": expected stdout or stderr",
		               stream ? stream : "(null)");
	if (!rn_job_name_ok(job))
		return cu_errf(errbuf, errlen, CC_EINVAL,
		               "job name \"%s\": expected [a-z0-9._-]",
		               job ? job : "(null)");
	if (!rn_att_path(dir, sizeof(dir), r->tasks_dir, job, index, attempt,
	                 NULL) ||
	    access(dir, F_OK) < 0)
		return cu_errf(errbuf, errlen, CC_ESTATE,
		               "no attempt %u of task %s/%u on this machine",
		               attempt, job, index);
	if (!rn_fmt(path, pathlen, "%s/%s", dir, stream))
		return cu_errf(errbuf, errlen, CC_EINVAL,
		               "%s/%s: longer than the %zu bytes given", dir,
		               stream, pathlen);
	return 0;
}
