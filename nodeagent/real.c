/* real.c: the executor of a real agent: each attempt runs as a process
 * under cellagent-shim (runner.h). Here the job's spec becomes what the
 * runner starts: the command and arguments, the job's environment plus
 * CELL_JOB, CELL_TASK, CELL_ATTEMPT and CELL_MACHINE (and a PATH when the
 * job sets none), the memory and cpu request for the limits. A job with only
 * a simulated duration runs as `sleep` for that long, so it has a process,
 * a pid record and survives agent restarts like any other. */
#include "agent.h"

#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

#define DEFAULT_PATH "PATH=/usr/local/bin:/usr/bin:/bin"

struct real {
	struct agent *a;
	rn_runner *rn;
	char shim[4096];
};

static uint64_t amount(const struct cs_job_spec *s, const char *name)
{
	for (uint32_t i = 0; i < s->nrequest; i++)
		if (!strcmp(s->request[i].name, name))
			return s->request[i].value;
	return 0;
}

/* One "NAME=VALUE" string, malloc'd. */
static char *env_var(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static char *env_var(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = cu_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* The task's environment: the job's, the CELL_* names, a default PATH;
 * env has room for nenv + 5 strings (malloc'd); returns how many. */
static uint32_t build_env(const struct ag_run *run, char **env)
{
	const struct cs_job_spec *s = run->spec;
	uint32_t n = 0;
	bool path = false;
	for (uint32_t i = 0; i < s->nenv; i++) {
		env[n++] = env_var("%s=%s", s->env[i].key, s->env[i].value);
		path = path || !strcmp(s->env[i].key, "PATH");
	}
	env[n++] = env_var("CELL_JOB=%s", run->job);
	env[n++] = env_var("CELL_TASK=%u", run->index);
	env[n++] = env_var("CELL_ATTEMPT=%u", run->attempt);
	env[n++] = env_var("CELL_MACHINE=%s", run->machine);
	if (!path)
		env[n++] = cu_xstrdup(DEFAULT_PATH);
	return n;
}

static int start(void *arg, const struct ag_run *run, char *errbuf,
                 size_t errlen)
{
	struct real *r = arg;
	const struct cs_job_spec *s = run->spec;
	char **env = cu_xcalloc(s->nenv + 5, sizeof(*env)), secs[32];
	const char *sleep_args[1] = {secs};
	uint32_t nenv = build_env(run, env);
	struct rn_task t = {
	    .job = run->job,
	    .index = run->index,
	    .attempt = run->attempt,
	    .command = s->command,
	    .args = (const char *const *)s->args,
	    .nargs = s->nargs,
	    .env = (const char *const *)env,
	    .nenv = nenv,
	    .memory_mib = amount(s, "memory"),
	    .cpu_millicores = amount(s, "cpu"),
	};
	if (!s->command) { /* simulated: sleep for the duration */
		snprintf(secs, sizeof(secs), "%.3f",
		         (double)s->duration_ms / 1000);
		t.command = "sleep";
		t.args = sleep_args;
		t.nargs = 1;
	}
	int rc = rn_start(r->rn, &t, errbuf, errlen);
	for (uint32_t i = 0; i < nenv; i++)
		free(env[i]);
	free(env);
	return rc;
}

static void stop(void *arg, const char *job, uint32_t index, uint32_t attempt)
{
	rn_stop(((struct real *)arg)->rn, job, index, attempt);
}

static bool last_attempt(void *arg, const char *job, uint32_t index,
                         uint32_t *attempt)
{
	return rn_last_attempt(((struct real *)arg)->rn, job, index, attempt);
}

static void forget_job(void *arg, const char *job)
{
	rn_forget_job(((struct real *)arg)->rn, job);
}

static void outcome_of(const struct rn_outcome *o, struct ag_outcome *out)
{
	static const enum ag_how how[] = {
	    [RN_EXITED] = AG_EXITED,
	    [RN_SIGNALED] = AG_SIGNALED,
	    [RN_SPAWN_FAILED] = AG_SPAWN_FAILED,
	    [RN_VANISHED] = AG_VANISHED,
	};
	*out = (struct ag_outcome){how[o->how], o->code, o->stopped,
	                           o->detail[0] ? o->detail : NULL};
}

static void ended(void *arg, const char *job, uint32_t index, uint32_t attempt,
                  const struct rn_outcome *o)
{
	struct real *r = arg;
	struct ag_outcome out;
	outcome_of(o, &out);
	CC_INFO("task %s/%u attempt %u ended: %s %d%s%s", job, index, attempt,
	        o->how == RN_EXITED     ? "exit"
	        : o->how == RN_SIGNALED ? "signal"
	                                : "not run",
	        o->code, o->stopped ? " (stopped)" : "",
	        o->detail[0] ? o->detail : "");
	ag_core_ended(r->a->core, job, index, attempt, &out);
}

static void found(void *arg, const struct rn_found *f)
{
	struct real *r = arg;
	struct ag_outcome out;
	outcome_of(&f->outcome, &out);
	CC_INFO("found task %s/%u attempt %u %s", f->job, f->index, f->attempt,
	        f->alive ? "still running: adopting it" : "ended while away");
	ag_core_found(r->a->core, f->job, f->index, f->attempt, f->alive, &out);
}

/* cellagent-shim lives next to cellagent unless --shim says otherwise. */
static void shim_path(struct real *r)
{
	if (r->a->cfg.shim) {
		snprintf(r->shim, sizeof(r->shim), "%s", r->a->cfg.shim);
		return;
	}
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = 0;
	snprintf(r->shim, sizeof(r->shim), "%s/cellagent-shim",
	         n > 0 ? dirname(self) : ".");
}

int real_new(struct agent *a, struct real **out, char *errbuf, size_t errlen)
{
	struct real *r = cu_xcalloc(1, sizeof(*r));
	r->a = a;
	shim_path(r);
	const struct agent_config *c = &a->cfg;
	struct rn_config rc = {
	    .data_dir = c->data_dir,
	    .shim_path = r->shim,
	    .kill_grace_ms = c->kill_grace_ms,
	    .as_min_mib = c->task_as_min_mib,
	    .as_factor = c->task_as_factor,
	    .cpu_seconds = c->task_cpu_seconds,
	    .cgroup_root = c->cgroup,
	};
	if (rn_new(a->loop, &rc, ended, r, &r->rn, errbuf, errlen)) {
		free(r);
		return -1;
	}
	*out = r;
	return 0;
}

void real_free(struct real *r)
{
	if (!r)
		return;
	rn_free(r->rn);
	free(r);
}

void real_exec(struct real *r, struct ag_exec *out)
{
	*out = (struct ag_exec){r, start, stop, last_attempt, forget_job};
}

int real_recover(struct real *r, char *errbuf, size_t errlen)
{
	return rn_recover(r->rn, found, r, errbuf, errlen);
}

int real_log_path(const struct real *r, const char *job, uint32_t index,
                  uint32_t attempt, const char *stream, char *path,
                  size_t pathlen, char *errbuf, size_t errlen)
{
	return rn_log_path(r->rn, job, index, attempt, stream, path, pathlen,
	                   errbuf, errlen);
}
