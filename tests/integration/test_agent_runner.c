/* test_agent_runner.c: the node agent's runner with the real cellagent-shim
 * and real processes: output and exit codes, a command that cannot start
 * (refused by rn_start, or failing in the shim's exec), an attempt never
 * started twice, stops (SIGTERM; SIGKILL of the whole group after the
 * grace), rlimits, the exact environment and working directory, and what a
 * new runner finds after the old one went away (alive, ended meanwhile, a
 * pid that is not our shim). Every test kills what it started by pid and
 * removes its folders, even when it fails. */
#define _GNU_SOURCE
#include "cell.h"
#include "evtest.h"
#include "testlib.h"
#include "tl_tmpdir.h"

#include "cellcommon.h"
#include "runner.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_S 10.0 /* deadline for anything that should happen */
/* Long enough that a stopped task ends by SIGTERM even when the shim is
 * slow to start (ASan); the tests of SIGKILL switch to SHORT_GRACE_MS. */
#define GRACE_MS       5000
#define SHORT_GRACE_MS 200
#define MAX_SEEN       16

static const char *const SH_ENV[] = {"PATH=/usr/bin:/bin", NULL};

struct ended {
	char job[64];
	uint32_t index, attempt;
	struct rn_outcome o;
	double at; /* ev_now when it came */
};

struct fx {
	struct ev_loop *loop;
	char *tmp; /* removed at the end */
	char data[1024];
	rn_runner *r;
	uint64_t grace_ms;
	pid_t own_shim; /* a shim a test spawned itself (killed at the end) */
	struct ended ended[MAX_SEEN];
	size_t nended;
	struct rn_found found[MAX_SEEN];
	char found_jobs[MAX_SEEN][64];
	size_t nfound;
	ev_timer tick; /* wakes the loop while a test waits for a file */
};

/* ---- callbacks ---- */

static void on_ended(void *arg, const char *job, uint32_t index,
                     uint32_t attempt, const struct rn_outcome *o)
{
	struct fx *f = arg;
	assert_true(f->nended < MAX_SEEN);
	struct ended *e = &f->ended[f->nended++];
	snprintf(e->job, sizeof(e->job), "%s", job);
	e->index = index;
	e->attempt = attempt;
	e->o = *o;
	e->at = ev_now(f->loop);
}

static void on_found(void *arg, const struct rn_found *found)
{
	struct fx *f = arg;
	assert_true(f->nfound < MAX_SEEN);
	snprintf(f->found_jobs[f->nfound], 64, "%s", found->job);
	f->found[f->nfound] = *found;
	f->found[f->nfound].job = f->found_jobs[f->nfound];
	f->nfound++;
}

static void on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)w;
	(void)revents;
}

/* ---- fixture ---- */

static struct rn_config config(struct fx *f)
{
	struct rn_config c = {
	    .data_dir = f->data,
	    .shim_path = tl_bin("cellagent-shim"),
	    .kill_grace_ms = f->grace_ms,
	    .as_min_mib = 64,
	    .as_factor = 4,
	    .cpu_seconds = 30,
	    .cgroup_root = NULL, /* detect: not usable on most test hosts */
	};
	return c;
}

static rn_runner *new_runner(struct fx *f)
{
	char err[CC_ERRMSG_SIZE];
	struct rn_config c = config(f);
	rn_runner *r = NULL;
	int rc = rn_new(f->loop, &c, on_ended, f, &r, err, sizeof(err));
	if (rc)
		fail_msg("rn_new: %s", err);
	return r;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->tmp = tl_tmpdir_make("agent-runner");
	assert_non_null(f->tmp);
	snprintf(f->data, sizeof(f->data), "%s/data", f->tmp);
	f->loop = ev_loop_new(EVFLAG_AUTO);
	f->grace_ms = GRACE_MS;
	ev_timer_init(&f->tick, on_tick, 0.01, 0.01);
	f->r = new_runner(f);
	*state = f;
	return 0;
}

/* SIGKILL to the group of every shim recorded under data/tasks that still
 * runs (pid and start time both match: never a bare pid). */
static void kill_leftovers(const char *data)
{
	char tasks[PATH_MAX];
	snprintf(tasks, sizeof(tasks), "%s/tasks", data);
	DIR *d = opendir(tasks);
	struct dirent *j, *a;
	while (d && (j = readdir(d))) {
		char jobdir[PATH_MAX * 2];
		snprintf(jobdir, sizeof(jobdir), "%s/%s", tasks, j->d_name);
		DIR *jd = j->d_name[0] == '.' ? NULL : opendir(jobdir);
		while (jd && (a = readdir(jd))) {
			char pidf[PATH_MAX * 3];
			snprintf(pidf, sizeof(pidf), "%s/%s/pid", jobdir,
			         a->d_name);
			json_t *p = json_load_file(pidf, 0, NULL);
			long pid =
			    (long)json_integer_value(json_object_get(p, "pid"));
			json_t *start = json_object_get(p, "start_time");
			unsigned long long st =
			    (unsigned long long)json_integer_value(start);
			json_decref(p);
			char statf[64], buf[1024];
			snprintf(statf, sizeof(statf), "/proc/%ld/stat", pid);
			FILE *sf = pid > 0 ? fopen(statf, "r") : NULL;
			size_t n = sf ? fread(buf, 1, sizeof(buf) - 1, sf) : 0;
			if (sf)
				fclose(sf);
			buf[n] = 0;
			char *q = strrchr(buf, ')');
			for (int field = 2; q && field < 22; field++)
				q = strchr(q + 1, ' ');
			if (q && strtoull(q + 1, NULL, 10) == st)
				kill((pid_t)-pid, SIGKILL);
		}
		if (jd)
			closedir(jd);
	}
	if (d)
		closedir(d);
}

/* Reaps every child (this process is a subreaper, so orphaned grandchildren
 * come here too) until none is left or 2 s pass. */
static void reap_all(void)
{
	for (int i = 0; i < 200; i++) {
		pid_t p = waitpid(-1, NULL, WNOHANG);
		if (p < 0 && errno == ECHILD)
			return;
		if (p == 0) {
			struct timespec ts = {0, 10 * 1000 * 1000};
			nanosleep(&ts, NULL);
		}
	}
}

static int teardown(void **state)
{
	struct fx *f = *state;
	rn_free(f->r);
	kill_leftovers(f->data);
	if (f->own_shim > 0)
		kill(-f->own_shim, SIGKILL);
	reap_all();
	ev_timer_stop(f->loop, &f->tick);
	ev_loop_destroy(f->loop);
	assert_int_equal(tl_tmpdir_remove(f->tmp), 0);
	free(f->tmp);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static bool run_until(struct fx *f, bool (*cond)(void *), void *arg)
{
	ev_timer_start(f->loop, &f->tick);
	bool ok = tl_run_until(f->loop, cond, arg, WAIT_S);
	ev_timer_stop(f->loop, &f->tick);
	return ok;
}

struct count_cond {
	struct fx *f;
	size_t n;
};

static bool ended_n(void *arg)
{
	struct count_cond *c = arg;
	return c->f->nended >= c->n;
}

/* Waits for the n-th end and returns it. */
static const struct ended *wait_ended(struct fx *f, size_t n)
{
	struct count_cond c = {f, n};
	if (!run_until(f, ended_n, &c))
		fail_msg("no end of a task within %.0f s (%zu of %zu came)",
		         WAIT_S, f->nended, n);
	return &f->ended[n - 1];
}

static int start(struct fx *f, const char *job, uint32_t index,
                 uint32_t attempt, const char *cmd, const char *const *args,
                 const char *const *env, uint64_t memory_mib, char *err)
{
	uint32_t nargs = 0, nenv = 0;
	while (args && args[nargs])
		nargs++;
	while (env && env[nenv])
		nenv++;
	struct rn_task t = {
	    .job = job,
	    .index = index,
	    .attempt = attempt,
	    .command = cmd,
	    .args = args,
	    .nargs = nargs,
	    .env = env,
	    .nenv = nenv,
	    .memory_mib = memory_mib,
	};
	err[0] = 0;
	return rn_start(f->r, &t, err, CC_ERRMSG_SIZE);
}

/* A new runner with another grace (nothing runs yet). */
static void use_grace(struct fx *f, uint64_t ms)
{
	rn_free(f->r);
	f->grace_ms = ms;
	f->r = new_runner(f);
}

/* Starts sh -c SCRIPT as job/0 attempt 1 and asserts it started. */
static void start_sh(struct fx *f, const char *job, const char *script)
{
	const char *args[] = {"-c", script, NULL};
	char err[CC_ERRMSG_SIZE];
	if (start(f, job, 0, 1, "sh", args, SH_ENV, 0, err))
		fail_msg("rn_start %s: %s", job, err);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return cu_xstrdup("");
	size_t cap = 4096, n = 0, got;
	char *buf = cu_xmalloc(cap);
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0)
		if ((n += got) + 1 == cap)
			buf = cu_xrealloc(buf, cap *= 2);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* The attempt's file NAME (stdout, work/x, ...) into path. */
static void att_file(struct fx *f, const char *job, uint32_t index,
                     uint32_t attempt, const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/tasks/%s/%u.%u/%s", f->data, job, index,
	         attempt, name);
}

static void assert_file(struct fx *f, const char *job, const char *name,
                        const char *want)
{
	char path[PATH_MAX];
	att_file(f, job, 0, 1, name, path, sizeof(path));
	char *got = slurp(path);
	assert_string_equal(got, want);
	free(got);
}

static bool exit_file(void *path)
{
	return access(path, F_OK) == 0;
}

static bool file_filled(void *path)
{
	struct stat st;
	return stat(path, &st) == 0 && st.st_size > 0;
}

/* Gone, or a zombie nobody reaped yet: not running any more. */
static bool proc_gone(void *arg)
{
	pid_t pid = (pid_t)(intptr_t)arg;
	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = 0;
	char *q = strrchr(buf, ')');
	return !q || q[2] == 'Z' || q[2] == 'X';
}

/* ---- running ---- */

static void test_echo_stdout(void **state)
{
	struct fx *f = *state;
	const char *args[] = {"hello", "world", NULL};
	char err[CC_ERRMSG_SIZE], path[PATH_MAX];
	assert_int_equal(start(f, "echo", 0, 1, "echo", args, SH_ENV, 0, err),
	                 0);
	assert_true(rn_running(f->r, "echo", 0, 1));
	assert_int_equal(rn_count(f->r), 1);
	const struct ended *e = wait_ended(f, 1);
	assert_string_equal(e->job, "echo");
	assert_int_equal(e->index, 0);
	assert_int_equal(e->attempt, 1);
	assert_int_equal(e->o.how, RN_EXITED);
	assert_int_equal(e->o.code, 0);
	assert_false(e->o.stopped);
	assert_false(rn_running(f->r, "echo", 0, 1));
	assert_int_equal(rn_count(f->r), 0);
	assert_int_equal(rn_log_path(f->r, "echo", 0, 1, "stdout", path,
	                             sizeof(path), err, sizeof(err)),
	                 0);
	char *out = slurp(path);
	assert_string_equal(out, "hello world\n");
	free(out);
	assert_file(f, "echo", "stderr", "");
}

static void test_exit_code(void **state)
{
	struct fx *f = *state;
	start_sh(f, "three", "echo oops >&2; exit 3");
	const struct ended *e = wait_ended(f, 1);
	assert_int_equal(e->o.how, RN_EXITED);
	assert_int_equal(e->o.code, 3);
	assert_string_equal(e->o.detail, "");
	assert_file(f, "three", "stderr", "oops\n");
}

/* A name not in PATH is refused by rn_start; the folder stays, so the
 * attempt is not tried again here, and recovery knows why. */
static void test_command_not_found(void **state)
{
	struct fx *f = *state;
	char err[CC_ERRMSG_SIZE];
	assert_int_equal(start(f, "nocmd", 0, 1, "cell-no-such-command", NULL,
	                       SH_ENV, 0, err),
	                 CC_EINVAL);
	assert_non_null(strstr(err, "task nocmd/0 attempt 1"));
	assert_non_null(strstr(err, "command \"cell-no-such-command\" not "
	                            "found in PATH (/usr/bin:/bin"));
	assert_false(rn_running(f->r, "nocmd", 0, 1));
	uint32_t last = 0;
	assert_true(rn_last_attempt(f->r, "nocmd", 0, &last));
	assert_int_equal(last, 1);
	assert_int_equal(start(f, "nocmd", 0, 1, "true", NULL, SH_ENV, 0, err),
	                 CC_ESTATE);

	/* a path that is not an executable file: refused too */
	char notexec[PATH_MAX];
	snprintf(notexec, sizeof(notexec), "%s/plain.txt", f->tmp);
	FILE *fp = fopen(notexec, "w");
	fputs("hello\n", fp);
	fclose(fp);
	assert_int_equal(start(f, "nocmd", 0, 2, notexec, NULL, SH_ENV, 0, err),
	                 CC_EINVAL);
	assert_non_null(strstr(err, "is not an executable file"));
	assert_non_null(strstr(err, notexec));

	assert_int_equal(rn_recover(f->r, on_found, f, err, sizeof(err)), 0);
	assert_int_equal(f->nfound, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_false(f->found[i].alive);
		assert_int_equal(f->found[i].outcome.how, RN_SPAWN_FAILED);
	}
	assert_non_null(strstr(f->found[0].outcome.detail, "not found"));
	assert_non_null(
	    strstr(f->found[1].outcome.detail, "not an executable"));
	assert_int_equal(f->nended, 0); /* refused: no end comes */
}

/* An executable whose exec fails (its interpreter is missing) is the
 * shim's to report: SPAWN_FAILED, not "exited 127". */
static void test_exec_fails_in_shim(void **state)
{
	struct fx *f = *state;
	char script[PATH_MAX], err[CC_ERRMSG_SIZE], want[PATH_MAX + 64];
	snprintf(script, sizeof(script), "%s/broken.sh", f->tmp);
	FILE *fp = fopen(script, "w");
	fputs("#!/nonexistent/interpreter\necho never\n", fp);
	fclose(fp);
	chmod(script, 0755);
	assert_int_equal(start(f, "broken", 0, 1, script, NULL, SH_ENV, 0, err),
	                 0);
	const struct ended *e = wait_ended(f, 1);
	assert_int_equal(e->o.how, RN_SPAWN_FAILED);
	assert_int_equal(e->o.code, ENOENT);
	snprintf(want, sizeof(want), "execve %s: No such file or directory",
	         script);
	assert_string_equal(e->o.detail, want);
	snprintf(want, sizeof(want),
	         "cellagent-shim: execve %s: No such file or directory\n",
	         script);
	assert_file(f, "broken", "stderr", want);
}

static void test_start_twice(void **state)
{
	struct fx *f = *state;
	const char *args[] = {"60", NULL};
	char err[CC_ERRMSG_SIZE];
	assert_int_equal(start(f, "twice", 0, 1, "sleep", args, SH_ENV, 0, err),
	                 0);
	assert_int_equal(start(f, "twice", 0, 1, "sleep", args, SH_ENV, 0, err),
	                 CC_ESTATE);
	assert_non_null(strstr(err, "task twice/0 attempt 1 was already "
	                            "started on this machine"));
	rn_stop(f->r, "twice", 0, 1);
	wait_ended(f, 1);
	/* ended does not make it startable again; the next attempt is */
	assert_int_equal(start(f, "twice", 0, 1, "true", NULL, SH_ENV, 0, err),
	                 CC_ESTATE);
	assert_int_equal(start(f, "twice", 0, 2, "true", NULL, SH_ENV, 0, err),
	                 0);
	const struct ended *e = wait_ended(f, 2);
	assert_int_equal(e->attempt, 2);
	assert_int_equal(e->o.how, RN_EXITED);
	uint32_t last = 0;
	assert_true(rn_last_attempt(f->r, "twice", 0, &last));
	assert_int_equal(last, 2);
	assert_false(rn_last_attempt(f->r, "twice", 1, &last));
}

static void test_bad_job_names(void **state)
{
	struct fx *f = *state;
	const char *bad[] = {"",
	                     ".hidden",
	                     "../up",
	                     "a/b",
	                     "Upper",
	                     "-dash",
	                     "a234567890123456789012345678901234567890123456"
	                     "789012345678901234"};
	char err[CC_ERRMSG_SIZE];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
		    start(f, bad[i], 0, 1, "true", NULL, SH_ENV, 0, err),
		    CC_EINVAL);
	char tasks[PATH_MAX];
	snprintf(tasks, sizeof(tasks), "%s/tasks", f->data);
	DIR *d = opendir(tasks);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)))
		assert_true(e->d_name[0] == '.'); /* nothing was made */
	closedir(d);
}

/* ---- stopping ---- */

/* Stopped at once, before the shim has even forked the task: the early
 * SIGTERM must neither kill the shim (no outcome) nor get lost. */
static void test_stop_sleep(void **state)
{
	struct fx *f = *state;
	const char *args[] = {"60", NULL};
	char err[CC_ERRMSG_SIZE];
	assert_int_equal(start(f, "nap", 0, 1, "sleep", args, SH_ENV, 0, err),
	                 0);
	rn_stop(f->r, "nap", 0, 2); /* not running: nothing happens */
	rn_stop(f->r, "nap", 0, 1);
	rn_stop(f->r, "nap", 0, 1); /* a second ask changes nothing */
	const struct ended *e = wait_ended(f, 1);
	assert_int_equal(e->o.how, RN_SIGNALED);
	assert_int_equal(e->o.code, SIGTERM);
	assert_true(e->o.stopped);
	assert_int_equal(rn_count(f->r), 0);
}

static const char *IGNORES_TERM =
    "trap '' TERM; sleep 60 & echo $! > sleep.pid; wait";

/* SIGTERM ignored: SIGKILL after the grace, to the whole group, so the
 * task's own child (the sleep) goes too. */
static void test_stop_escalates_to_group_kill(void **state)
{
	struct fx *f = *state;
	char pidf[PATH_MAX];
	use_grace(f, SHORT_GRACE_MS);
	start_sh(f, "stubborn", IGNORES_TERM);
	att_file(f, "stubborn", 0, 1, "work/sleep.pid", pidf, sizeof(pidf));
	assert_true(run_until(f, file_filled, pidf));
	char *text = slurp(pidf);
	pid_t grandchild = (pid_t)atol(text);
	free(text);
	assert_true(grandchild > 0);

	ev_now_update(f->loop);
	double asked = ev_now(f->loop);
	rn_stop(f->r, "stubborn", 0, 1);
	const struct ended *e = wait_ended(f, 1);
	assert_int_equal(e->o.how, RN_SIGNALED);
	assert_int_equal(e->o.code, SIGKILL);
	assert_true(e->o.stopped);
	assert_true(e->at - asked >= (SHORT_GRACE_MS - 10) / 1000.0);
	assert_true(run_until(f, proc_gone, (void *)(intptr_t)grandchild));
}

/* The shim itself, started the way the agent starts it but with SIGTERM
 * already pending when it execs (a stop that came before its main()): it
 * must survive and hand the stop to the task. */
static void test_shim_passes_on_early_stop(void **state)
{
	struct fx *f = *state;
	char dir[1100], work[1200], path[1200];
	snprintf(dir, sizeof(dir), "%s/direct", f->tmp);
	snprintf(work, sizeof(work), "%s/work", dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(mkdir(work, 0755), 0);
	const char *shim = tl_bin("cellagent-shim");
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sigset_t term;
		sigemptyset(&term);
		sigaddset(&term, SIGTERM);
		sigprocmask(SIG_BLOCK, &term, NULL);
		setpgid(0, 0);
		kill(getpid(), SIGTERM); /* pending across the exec */
		execl(shim, shim, "--dir", dir, "--", "sleep", "60",
		      (char *)NULL);
		_exit(127);
	}
	f->own_shim = pid;
	snprintf(path, sizeof(path), "%s/exit", dir);
	assert_true(run_until(f, exit_file, path));
	char *text = slurp(path);
	assert_string_equal(text, "{\"how\":\"signaled\",\"signal\":15}\n");
	free(text);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	f->own_shim = 0;
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- limits, environment, working directory ---- */

static void test_rlimits(void **state)
{
	struct fx *f = *state;
	const char *args[] = {"-c", "ulimit -v; ulimit -t", NULL};
	char err[CC_ERRMSG_SIZE];
	/* 100 MiB x 4 = 400 MiB; 10 MiB x 4 < the 64 MiB floor; 0: none */
	assert_int_equal(start(f, "lim", 0, 1, "sh", args, SH_ENV, 100, err),
	                 0);
	assert_int_equal(start(f, "lim", 1, 1, "sh", args, SH_ENV, 10, err), 0);
	assert_int_equal(start(f, "lim", 2, 1, "sh", args, SH_ENV, 0, err), 0);
	/* more than the limit cannot be had: 200 MB in a shell variable */
	const char *hog[] = {
	    "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' x); echo ok",
	    NULL};
	assert_int_equal(start(f, "lim", 3, 1, "sh", hog, SH_ENV, 16, err), 0);
	wait_ended(f, 4);
	for (size_t i = 0; i < 4; i++) {
		const struct ended *e = &f->ended[i];
		if (e->index == 3)
			assert_false(e->o.how == RN_EXITED && e->o.code == 0);
		else
			assert_int_equal(e->o.how, RN_EXITED);
	}
	const char *want[] = {"409600\n30\n", "65536\n30\n", "unlimited\n30\n"};
	for (uint32_t i = 0; i < 3; i++) {
		char path[PATH_MAX];
		att_file(f, "lim", i, 1, "stdout", path, sizeof(path));
		char *out = slurp(path);
		assert_string_equal(out, want[i]);
		free(out);
	}
	char path[PATH_MAX];
	att_file(f, "lim", 3, 1, "stdout", path, sizeof(path));
	char *out = slurp(path);
	assert_null(strstr(out, "ok"));
	free(out);
}

static void test_env_exact(void **state)
{
	struct fx *f = *state;
	const char *env[] = {"A=1", "B=two words", "CELL_JOB=envjob",
	                     "EMPTY=", NULL};
	char err[CC_ERRMSG_SIZE];
	/* no PATH in the task's env: "env" is found in the agent's PATH */
	assert_int_equal(start(f, "envjob", 0, 1, "env", NULL, env, 0, err), 0);
	const struct ended *e = wait_ended(f, 1);
	assert_int_equal(e->o.how, RN_EXITED);
	assert_int_equal(e->o.code, 0);
	assert_file(f, "envjob", "stdout",
	            "A=1\nB=two words\nCELL_JOB=envjob\nEMPTY=\n");
}

static void test_working_directory(void **state)
{
	struct fx *f = *state;
	char err[CC_ERRMSG_SIZE], work[PATH_MAX], want[PATH_MAX + 2];
	assert_int_equal(start(f, "cwd", 0, 1, "pwd", NULL, SH_ENV, 0, err), 0);
	wait_ended(f, 1);
	att_file(f, "cwd", 0, 1, "work", work, sizeof(work));
	char *real = realpath(work, NULL);
	assert_non_null(real);
	snprintf(want, sizeof(want), "%s\n", real);
	free(real);
	assert_file(f, "cwd", "stdout", want);
}

/* ---- after a restart ---- */

static void test_recover_alive(void **state)
{
	struct fx *f = *state;
	char err[CC_ERRMSG_SIZE];
	const char *args[] = {"60", NULL};
	assert_int_equal(start(f, "long", 0, 1, "sleep", args, SH_ENV, 0, err),
	                 0);
	rn_free(f->r); /* the agent goes away; the task keeps running */
	f->r = new_runner(f);
	assert_int_equal(rn_recover(f->r, on_found, f, err, sizeof(err)), 0);
	assert_int_equal(f->nfound, 1);
	assert_string_equal(f->found[0].job, "long");
	assert_int_equal(f->found[0].index, 0);
	assert_int_equal(f->found[0].attempt, 1);
	assert_true(f->found[0].alive);
	assert_true(rn_running(f->r, "long", 0, 1));
	assert_int_equal(rn_count(f->r), 1);

	rn_stop(f->r, "long", 0, 1);
	const struct ended *e = wait_ended(f, 1);
	assert_int_equal(e->o.how, RN_SIGNALED);
	assert_int_equal(e->o.code, SIGTERM);
	assert_true(e->o.stopped);
}

static void test_recover_ended_while_away(void **state)
{
	struct fx *f = *state;
	char err[CC_ERRMSG_SIZE], path[PATH_MAX];
	start_sh(f, "seven", "exit 7");
	rn_free(f->r);
	f->r = NULL;
	/* the exit file comes first, then the shim ends (an ASan shim takes
	 * a while: its leak check runs at exit); until then it is alive */
	att_file(f, "seven", 0, 1, "exit", path, sizeof(path));
	assert_true(run_until(f, exit_file, path));
	att_file(f, "seven", 0, 1, "pid", path, sizeof(path));
	json_t *rec = json_load_file(path, 0, NULL);
	pid_t shim = (pid_t)json_integer_value(json_object_get(rec, "pid"));
	json_decref(rec);
	assert_true(shim > 0);
	assert_true(run_until(f, proc_gone, (void *)(intptr_t)shim));

	f->r = new_runner(f);
	assert_int_equal(rn_recover(f->r, on_found, f, err, sizeof(err)), 0);
	assert_int_equal(f->nfound, 1);
	assert_false(f->found[0].alive);
	assert_int_equal(f->found[0].outcome.how, RN_EXITED);
	assert_int_equal(f->found[0].outcome.code, 7);
	assert_false(f->found[0].outcome.stopped);
	assert_int_equal(rn_count(f->r), 0);
	assert_int_equal(f->nended, 0);
}

/* A stop asked before the restart is finished by the next runner. */
static void test_recover_resumes_stop(void **state)
{
	struct fx *f = *state;
	char err[CC_ERRMSG_SIZE], pidf[PATH_MAX];
	use_grace(f, SHORT_GRACE_MS);
	start_sh(f, "resume", IGNORES_TERM);
	att_file(f, "resume", 0, 1, "work/sleep.pid", pidf, sizeof(pidf));
	assert_true(run_until(f, file_filled, pidf));
	rn_stop(f->r, "resume", 0, 1);
	rn_free(f->r); /* before the grace ran out: no SIGKILL yet */
	f->r = new_runner(f);
	assert_int_equal(rn_recover(f->r, on_found, f, err, sizeof(err)), 0);
	assert_int_equal(f->nfound, 1);
	assert_true(f->found[0].alive);
	const struct ended *e = wait_ended(f, 1);
	assert_int_equal(e->o.how, RN_SIGNALED);
	assert_int_equal(e->o.code, SIGKILL);
	assert_true(e->o.stopped);
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* A pid file naming a live process that is not the shim (this test, with
 * another start time) is not adopted: the pid was reused. */
static void test_recover_pid_reused(void **state)
{
	struct fx *f = *state;
	char err[CC_ERRMSG_SIZE], path[PATH_MAX], text[256];
	att_file(f, "fake", 0, 1, "", path, sizeof(path));
	char tasks[2048];
	snprintf(tasks, sizeof(tasks), "%s/tasks/fake", f->data);
	assert_int_equal(mkdir(tasks, 0755), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	att_file(f, "fake", 0, 1, "pid", path, sizeof(path));
	snprintf(text, sizeof(text), "{\"pid\":%ld,\"start_time\":1}\n",
	         (long)getpid());
	write_text(path, text);
	/* and one folder that never got as far as a shim */
	att_file(f, "fake", 0, 2, "", path, sizeof(path));
	assert_int_equal(mkdir(path, 0755), 0);

	assert_int_equal(rn_recover(f->r, on_found, f, err, sizeof(err)), 0);
	assert_int_equal(f->nfound, 2);
	assert_false(f->found[0].alive);
	assert_int_equal(f->found[0].attempt, 1);
	assert_int_equal(f->found[0].outcome.how, RN_VANISHED);
	assert_non_null(strstr(f->found[0].outcome.detail, "its shim (pid"));
	assert_false(f->found[1].alive);
	assert_int_equal(f->found[1].attempt, 2);
	assert_int_equal(f->found[1].outcome.how, RN_VANISHED);
	assert_non_null(strstr(f->found[1].outcome.detail, "never started"));
	assert_int_equal(rn_count(f->r), 0);
	assert_int_equal(kill(getpid(), 0), 0); /* and we are still here */
}

/* ---- files ---- */

static void test_log_path(void **state)
{
	struct fx *f = *state;
	char err[CC_ERRMSG_SIZE], path[PATH_MAX], want[PATH_MAX];
	start_sh(f, "logs", "echo out; echo err >&2");
	wait_ended(f, 1);
	assert_int_equal(rn_log_path(f->r, "logs", 0, 1, "stderr", path,
	                             sizeof(path), err, sizeof(err)),
	                 0);
	att_file(f, "logs", 0, 1, "stderr", want, sizeof(want));
	assert_string_equal(path, want);
	assert_int_equal(rn_log_path(f->r, "logs", 0, 1, "stdin", path,
	                             sizeof(path), err, sizeof(err)),
	                 CC_EINVAL);
	assert_non_null(strstr(err, "expected stdout or stderr"));
	assert_int_equal(rn_log_path(f->r, "logs", 0, 2, "stdout", path,
	                             sizeof(path), err, sizeof(err)),
	                 CC_ESTATE);
	assert_string_equal(err, "no attempt 2 of task logs/0 on this machine");
	assert_int_equal(rn_log_path(f->r, "nojob", 3, 1, "stdout", path,
	                             sizeof(path), err, sizeof(err)),
	                 CC_ESTATE);
	assert_int_equal(rn_log_path(f->r, "../logs", 0, 1, "stdout", path,
	                             sizeof(path), err, sizeof(err)),
	                 CC_EINVAL);
	assert_int_equal(rn_log_path(f->r, "logs", 0, 1, "stdout", path, 8, err,
	                             sizeof(err)),
	                 CC_EINVAL);
}

static void test_forget_job(void **state)
{
	struct fx *f = *state;
	char err[CC_ERRMSG_SIZE], path[PATH_MAX], keep[1024];
	char script[PATH_MAX + 64];
	const char *args[] = {"60", NULL};
	/* a folder outside, which a symlink in the task's folder points to */
	snprintf(keep, sizeof(keep), "%s/keep", f->tmp);
	assert_int_equal(mkdir(keep, 0755), 0);
	snprintf(path, sizeof(path), "%s/canary", keep);
	write_text(path, "still here\n");
	snprintf(script, sizeof(script),
	         "mkdir -p a/b && chmod 0 a/b && ln -s %s link", keep);
	start_sh(f, "gone", script);
	wait_ended(f, 1);
	assert_int_equal(start(f, "gone", 1, 1, "sleep", args, SH_ENV, 0, err),
	                 0);
	rn_forget_job(f->r, "gone");
	att_file(f, "gone", 0, 1, "", path, sizeof(path));
	assert_int_equal(access(path, F_OK), -1); /* finished: removed */
	att_file(f, "gone", 1, 1, "", path, sizeof(path));
	assert_int_equal(access(path, F_OK), 0); /* running: kept */
	rn_stop(f->r, "gone", 1, 1);
	wait_ended(f, 2);
	rn_forget_job(f->r, "gone");
	snprintf(path, sizeof(path), "%s/tasks/gone", f->data);
	assert_int_equal(access(path, F_OK), -1);
	/* the symlink was removed, not followed */
	snprintf(path, sizeof(path), "%s/canary", keep);
	assert_int_equal(access(path, F_OK), 0);
}

int main(void)
{
	/* orphaned grandchildren come to this process, which reaps them at
	 * the end of each test (some containers' pid 1 never does) */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	    T(test_echo_stdout),
	    T(test_exit_code),
	    T(test_command_not_found),
	    T(test_exec_fails_in_shim),
	    T(test_start_twice),
	    T(test_bad_job_names),
	    T(test_stop_sleep),
	    T(test_stop_escalates_to_group_kill),
	    T(test_shim_passes_on_early_stop),
	    T(test_rlimits),
	    T(test_env_exact),
	    T(test_working_directory),
	    T(test_recover_alive),
	    T(test_recover_ended_while_away),
	    T(test_recover_resumes_stop),
	    T(test_recover_pid_reused),
	    T(test_log_path),
	    T(test_forget_job),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
