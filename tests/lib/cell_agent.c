/* cell_agent.c: cellagent processes in a test cell (see cell.h). */
#define _GNU_SOURCE
#include "cell.h"
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void agent_spawn(struct tl_cell *c, struct tl_agent *a)
{
	char listen[32], cell[TL_CELL_MAX * 64] = "";
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", a->port);
	for (int m = 0; m < c->n; m++)
		snprintf(cell + strlen(cell), sizeof(cell) - strlen(cell),
		         "%s%s", m ? "," : "", c->m[m].url);
	const char *const argv[] = {tl_bin("cellagent"),
	                            "--name",
	                            a->name,
	                            "--cell",
	                            cell,
	                            "--listen",
	                            listen,
	                            "--data-dir",
	                            a->dir,
	                            "--log-file",
	                            a->log,
	                            "--log-level",
	                            "debug",
	                            "--heartbeat",
	                            "200ms",
	                            "--kill-grace",
	                            "500ms"};
	a->pid = tl_spawn(argv, sizeof(argv) / sizeof(argv[0]),
	                  (const char *const *)a->flags);
}

int tl_cell_agent_add(struct tl_cell *c, const char *name,
                      const char *const *extra)
{
	if (c->nagents == TL_AGENT_MAX)
		fail_msg("a test cell holds at most %d agents", TL_AGENT_MAX);
	int i = c->nagents++;
	struct tl_agent *a = &c->a[i];
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->port = tl_free_port();
	snprintf(a->url, sizeof(a->url), "http://127.0.0.1:%d", a->port);
	char root[sizeof(c->root)]; /* a copy: a lives inside c */
	memcpy(root, c->root, sizeof(root));
	snprintf(a->dir, sizeof(a->dir), "%s/agent-%s", root, name);
	snprintf(a->log, sizeof(a->log), "%s/agent-%s.log", root, name);
	for (int k = 0; extra && extra[k]; k++) {
		if (k == TL_AGENT_FLAGS_MAX)
			fail_msg("at most %d extra agent flags",
			         TL_AGENT_FLAGS_MAX);
		a->flags[k] = cu_xstrdup(extra[k]);
	}
	agent_spawn(c, a);
	return i;
}

void tl_agent_restart(struct tl_cell *c, int i)
{
	if (c->a[i].pid)
		fail_msg("agent %s is still running", c->a[i].name);
	agent_spawn(c, &c->a[i]);
}

json_t *tl_agent_status(const struct tl_agent *a)
{
	char url[96];
	json_t *out = NULL;
	snprintf(url, sizeof(url), "%s/v1/status", a->url);
	if (tl_http("GET", url, NULL, &out) != 200) {
		json_decref(out);
		return NULL;
	}
	return out;
}

static bool watching(void *arg)
{
	json_t *st = tl_agent_status(arg);
	const char *phase = json_string_value(json_object_get(st, "phase"));
	bool ok = phase && !strcmp(phase, "watching");
	json_decref(st);
	return ok;
}

void tl_agent_wait_watching(const struct tl_agent *a, int timeout_ms)
{
	if (!tl_wait_until(watching, (void *)a, timeout_ms))
		fail_msg("agent %s not watching after %d ms (log: %s)", a->name,
		         timeout_ms, a->log);
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

void tl_agent_kill_tasks(const struct tl_agent *a)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/tasks", a->dir);
	DIR *jobs = opendir(path);
	struct dirent *j, *t;
	while (jobs && (j = readdir(jobs))) {
		if (j->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/tasks/%s", a->dir, j->d_name);
		DIR *tasks = opendir(path);
		while (tasks && (t = readdir(tasks))) {
			if (t->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/tasks/%s/%s/pid",
			         a->dir, j->d_name, t->d_name);
			kill_group_in(path);
		}
		if (tasks)
			closedir(tasks);
	}
	if (jobs)
		closedir(jobs);
}

struct pid_file {
	const char *path;
	long pid;
};

static bool pid_written(void *arg)
{
	struct pid_file *p = arg;
	FILE *f = fopen(p->path, "r");
	bool ok = f && fscanf(f, "%ld", &p->pid) == 1 && p->pid > 1;
	if (f)
		fclose(f);
	return ok;
}

pid_t tl_wait_pid_file(const char *path, int timeout_ms)
{
	struct pid_file p = {path, 0};
	if (!tl_wait_until(pid_written, &p, timeout_ms))
		fail_msg("no task wrote its pid to %s", path);
	return (pid_t)p.pid;
}

static bool gone(void *arg)
{
	pid_t pid = (pid_t)(intptr_t)arg;
	return kill(pid, 0) && errno == ESRCH;
}

void tl_wait_pid_gone(pid_t pid, const char *what, int timeout_ms)
{
	if (!tl_wait_until(gone, (void *)(intptr_t)pid, timeout_ms))
		fail_msg("%s (pid %d) still runs", what, (int)pid);
}

void tl_touch(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		fail_msg("cannot create %s", path);
	fclose(f);
}
