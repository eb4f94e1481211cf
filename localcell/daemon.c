/* daemon.c: cellsched and cellagent processes of a local cell (see
 * localcell.h): one launcher for both, their waits, the tasks agents leave. */
#define _GNU_SOURCE
#include "internal.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UP_WAIT_MS 60000

static bool is_sched(const struct lc_daemon *d)
{
	return !strcmp(d->kind, "sched");
}

static const char *word(const struct lc_daemon *d)
{
	return is_sched(d) ? "scheduler" : "agent";
}

/* The next free slot of c for kind, counted already: a trouble later on
 * leaves it for lc_stop to clean up. */
static struct lc_daemon *claim(struct lc_cell *c, const char *kind)
{
	bool sched = !strcmp(kind, "sched");
	int *n = sched ? &c->nsched : &c->nagents;
	int max = sched ? LC_SCHEDS_MAX : LC_AGENTS_MAX;
	if (*n == max)
		lci_trouble(c, "a cell holds at most %d %s processes", max,
		            kind);
	struct lc_daemon *d = sched ? &c->s[*n] : &c->a[*n];
	++*n;
	d->kind = kind;
	return d;
}

static void flags_add(struct lc_daemon *d, int *n, const char *const *list)
{
	for (int i = 0; list && list[i]; i++) {
		if (*n == LC_FLAGS_MAX)
			lci_trouble(NULL, "%s %s: more than %d flags", word(d),
			            d->name, LC_FLAGS_MAX);
		d->flags[(*n)++] = cu_xstrdup(list[i]);
	}
}

/* Name, port, folder and flags (own, then the caller's) of a claimed d. */
static void daemon_init(struct lc_cell *c, struct lc_daemon *d,
                        const char *name, const char *const *own,
                        const char *const *extra)
{
	int n = 0;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->port = lc_free_port();
	snprintf(d->url, sizeof(d->url), "http://127.0.0.1:%d", d->port);
	snprintf(d->dir, sizeof(d->dir), "%s/%s-%s", c->root, d->kind, name);
	snprintf(d->log, sizeof(d->log), "%s/%s-%s.log", c->root, d->kind,
	         name);
	flags_add(d, &n, own);
	flags_add(d, &n, extra);
}

static void spawn(const struct lc_cell *c, struct lc_daemon *d)
{
	char bin[32], listen[32], cell[LC_MEMBERS_MAX * 64];
	snprintf(bin, sizeof(bin), "cell%s", d->kind);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", d->port);
	lci_member_urls(c, cell, sizeof(cell));
	const char *const own[] = {lc_bin(bin),  "--name",     d->name,
	                           "--cell",     cell,         "--listen",
	                           listen,       "--data-dir", d->dir,
	                           "--log-file", d->log,       NULL};
	const struct lc_profile *p = lci_profile();
	struct lci_argv argv = {0};
	lci_argv_add(&argv, own);
	lci_argv_add(&argv, is_sched(d) ? p->sched : p->agent);
	lci_argv_add(&argv, (const char *const *)d->flags);
	d->pid = lc_spawn(argv.v);
}

int lc_sched_add(struct lc_cell *c, const char *name, const char *class_name,
                 const char *const *extra)
{
	struct lc_daemon *d = claim(c, "sched");
	char raft[32];
	d->raft_port = lc_free_port();
	snprintf(raft, sizeof(raft), "127.0.0.1:%d", d->raft_port);
	const char *const own[] = {"--class", class_name, "--raft-address",
	                           raft, NULL};
	daemon_init(c, d, name, own, extra);
	spawn(c, d);
	return (int)(d - c->s);
}

int lc_sched_start(struct lc_cell *c, const char *name, const char *class_name,
                   const char *const *extra)
{
	int i = lc_sched_add(c, name, class_name, extra);
	lc_wait_phase(&c->s[i], "running", UP_WAIT_MS);
	return i;
}

int lc_agent_add(struct lc_cell *c, const char *name, const char *const *extra)
{
	struct lc_daemon *d = claim(c, "agent");
	daemon_init(c, d, name, NULL, extra);
	spawn(c, d);
	return (int)(d - c->a);
}

int lc_agent_start(struct lc_cell *c, const char *name,
                   const char *const *extra)
{
	int i = lc_agent_add(c, name, extra);
	lc_wait_phase(&c->a[i], "watching", UP_WAIT_MS);
	return i;
}

void lc_restart(struct lc_cell *c, struct lc_daemon *d)
{
	if (d->pid)
		lci_trouble(c, "%s %s is still running", word(d), d->name);
	spawn(c, d);
}

struct phase_wait {
	const struct lc_daemon *d;
	const char *phase;
};

static bool in_phase(void *arg)
{
	const struct phase_wait *w = arg;
	json_t *st = lc_status(w->d->url);
	const char *phase = json_string_value(json_object_get(st, "phase"));
	bool ok = phase && !strcmp(phase, w->phase);
	json_decref(st);
	return ok;
}

void lc_wait_phase(const struct lc_daemon *d, const char *phase, int timeout_ms)
{
	struct phase_wait w = {d, phase};
	if (!lc_wait_until(in_phase, &w, timeout_ms))
		lci_trouble(NULL, "%s %s not %s after %d ms (log: %s)", word(d),
		            d->name, phase, timeout_ms, d->log);
}

/* Kills the group whose leader (the shim) the pid record at path names:
 * {"pid": N, "start_time": ..., "boot_id": ...}. */
static void kill_group_in(const char *path)
{
	json_t *rec = json_load_file(path, 0, NULL);
	json_int_t pid = json_integer_value(json_object_get(rec, "pid"));
	if (pid > 1)
		kill((pid_t)-pid, SIGKILL);
	json_decref(rec);
}

/* The next entry of d (which may be NULL) but . and .., or NULL. */
static struct dirent *next_entry(DIR *d)
{
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			return e;
	return NULL;
}

void lc_kill_tasks(const struct lc_daemon *agent)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/tasks", agent->dir);
	DIR *jobs = opendir(path);
	for (struct dirent *j; (j = next_entry(jobs));) {
		snprintf(path, sizeof(path), "%s/tasks/%s", agent->dir,
		         j->d_name);
		DIR *tasks = opendir(path);
		for (struct dirent *t; (t = next_entry(tasks));) {
			snprintf(path, sizeof(path), "%s/tasks/%s/%s/pid",
			         agent->dir, j->d_name, t->d_name);
			kill_group_in(path);
		}
		if (tasks)
			closedir(tasks);
	}
	if (jobs)
		closedir(jobs);
}

void lci_daemons_stop(struct lc_daemon *d, int n)
{
	pid_t *pids[LC_SCHEDS_MAX] = {0};
	for (int i = 0; i < n; i++)
		pids[i] = &d[i].pid;
	lc_kill_all(pids, n, SIGTERM);
	for (int i = 0; i < n; i++) {
		if (!is_sched(&d[i]))
			lc_kill_tasks(&d[i]);
		for (int k = 0; d[i].flags[k]; k++)
			free(d[i].flags[k]);
	}
}
