/* cell_sched.c: cellsched processes in a test cell (see cell.h). */
#define _GNU_SOURCE
#include "cell.h"
#include "testlib.h"

#include <stdio.h>
#include <string.h>

int tl_cell_sched_add(struct tl_cell *c, const char *name,
                      const char *class_name, const char *const *extra)
{
	if (c->nsched == TL_SCHED_MAX)
		fail_msg("a test cell holds at most %d schedulers",
		         TL_SCHED_MAX);
	int i = c->nsched++;
	struct tl_sched *s = &c->s[i];
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->raft_port = tl_free_port();
	s->api_port = tl_free_port();
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->api_port);
	char root[sizeof(c->root)]; /* a copy: s lives inside c */
	memcpy(root, c->root, sizeof(root));
	snprintf(s->dir, sizeof(s->dir), "%s/sched-%s", root, name);
	snprintf(s->log, sizeof(s->log), "%s/sched-%s.log", root, name);
	char raft[32], listen[32], cell[TL_CELL_MAX * 64] = "";
	snprintf(raft, sizeof(raft), "127.0.0.1:%d", s->raft_port);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", s->api_port);
	for (int m = 0; m < c->n; m++)
		snprintf(cell + strlen(cell), sizeof(cell) - strlen(cell),
		         "%s%s", m ? "," : "", c->m[m].url);
	const char *const argv[] = {tl_bin("cellsched"),
	                            "--name",
	                            s->name,
	                            "--class",
	                            class_name,
	                            "--cell",
	                            cell,
	                            "--raft-address",
	                            raft,
	                            "--listen",
	                            listen,
	                            "--data-dir",
	                            s->dir,
	                            "--log-file",
	                            s->log,
	                            "--log-level",
	                            "debug",
	                            "--heartbeat",
	                            "200ms"};
	s->pid = tl_spawn(argv, sizeof(argv) / sizeof(argv[0]), extra);
	return i;
}

json_t *tl_sched_status(const struct tl_sched *s)
{
	char url[96];
	json_t *out = NULL;
	snprintf(url, sizeof(url), "%s/v1/status", s->url);
	if (tl_http("GET", url, NULL, &out) != 200) {
		json_decref(out);
		return NULL;
	}
	return out;
}

static bool running(void *arg)
{
	json_t *st = tl_sched_status(arg);
	const char *phase = json_string_value(json_object_get(st, "phase"));
	bool ok = phase && !strcmp(phase, "running");
	json_decref(st);
	return ok;
}

void tl_sched_wait_running(const struct tl_sched *s, int timeout_ms)
{
	if (!tl_wait_until(running, (void *)s, timeout_ms))
		fail_msg("scheduler %s not running after %d ms (log: %s)",
		         s->name, timeout_ms, s->log);
}
