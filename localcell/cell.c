/* cell.c: the profile and trouble, and cells of celld voters (see
 * localcell.h): their folder, start and stop, members, the leader, and
 * what the atexit handler stops. */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LEADER_WAIT_MS 30000

static const struct lc_profile *profile;
static pid_t owner;   /* the process that installed it */
static bool keep_all; /* trouble kept every folder for its logs */
static struct cu_list live = {&live, &live}; /* cells not yet stopped */

/* ---- the profile and trouble ---- */

static void at_exit(void)
{
	/* a forked child that exit()s leaves its parent's cells alone */
	if (getpid() != owner)
		return;
	while (!cu_list_empty(&live))
		lc_stop(cu_container_of(cu_list_first(&live), struct lc_cell,
		                        link));
	lci_http_end();
}

void lc_init(const struct lc_profile *p)
{
	if (profile == p)
		return;
	if (profile)
		lci_trouble(NULL, "lc_init: a second profile");
	profile = p;
	owner = getpid();
	atexit(at_exit);
}

const struct lc_profile *lci_profile(void)
{
	if (!profile) {
		fprintf(stderr, "localcell: lc_init was not called\n");
		abort();
	}
	return profile;
}

__attribute__((noreturn)) static void trouble(const struct lc_cell *c,
                                              const char *msg)
{
	const struct lc_profile *p = lci_profile();
	if (!c && !cu_list_empty(&live))
		c = cu_container_of(live.prev, struct lc_cell, link);
	if (p->keep_on_trouble)
		keep_all = true;
	p->trouble(c, msg);
	/* a profile whose trouble returned: end here all the same */
	fprintf(stderr, "localcell: %s\n", msg);
	exit(1);
}

void lci_trouble(const struct lc_cell *c, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	trouble(c, msg);
}

void lc_die(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	trouble(NULL, msg);
}

/* ---- the private folder ---- */

static void folder_make(struct lc_cell *c)
{
	snprintf(c->root, sizeof(c->root), "/tmp/%s-%d-XXXXXX",
	         lci_profile()->folder, (int)getpid());
	if (!mkdtemp(c->root))
		lci_trouble(NULL, "mkdtemp %s: %s", c->root, strerror(errno));
}

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void folder_remove(const struct lc_cell *c)
{
	const char *env = lci_profile()->keep_env;
	if (keep_all) /* the trouble's message named it */
		return;
	if (env && getenv(env)) {
		fprintf(stderr, "kept %s\n", c->root);
		return;
	}
	/* depth first, so that a folder is empty by the time it goes */
	nftw(c->root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- members ---- */

void lci_member_urls(const struct lc_cell *c, char *out, size_t len)
{
	out[0] = 0;
	for (int i = 0; i < c->n; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s%s",
		         i ? "," : "", c->m[i].url);
}

/* Ports, URL and folders of member i (id i + 1). */
static void member_init(struct lc_cell *c, int i)
{
	struct lc_member *m = &c->m[i];
	char root[sizeof(c->root)]; /* a copy: gcc sees m inside c */
	memcpy(root, c->root, sizeof(root));
	m->id = (uint64_t)i + 1;
	m->raft_port = lc_free_port();
	m->api_port = lc_free_port();
	snprintf(m->url, sizeof(m->url), "http://127.0.0.1:%d", m->api_port);
	snprintf(m->dir, sizeof(m->dir), "%s/member%d", root, i + 1);
	snprintf(m->log, sizeof(m->log), "%s/celld%d.log", root, i + 1);
}

void lc_member_start(struct lc_cell *c, int i)
{
	struct lc_member *m = &c->m[i];
	char id[24], raft[32], listen[32];
	snprintf(id, sizeof(id), "%llu", (unsigned long long)m->id);
	snprintf(raft, sizeof(raft), "127.0.0.1:%d", m->raft_port);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", m->api_port);
	const char *const own[] = {lc_bin("celld"),
	                           "--id",
	                           id,
	                           "--raft-address",
	                           raft,
	                           "--listen",
	                           listen,
	                           "--data-dir",
	                           m->dir,
	                           m->join[0] ? "--join" : "--peers",
	                           m->join[0] ? m->join : c->peers,
	                           "--log-file",
	                           m->log,
	                           NULL};
	struct lci_argv argv = {0};
	lci_argv_add(&argv, own);
	lci_argv_add(&argv, lci_profile()->celld);
	lci_argv_add(&argv, c->extra);
	m->pid = lc_spawn(argv.v);
}

int lc_member_add(struct lc_cell *c, const char *join_url)
{
	if (c->n == LC_MEMBERS_MAX)
		lci_trouble(c, "a cell holds at most %d members",
		            LC_MEMBERS_MAX);
	int i = c->n++;
	member_init(c, i);
	snprintf(c->m[i].join, sizeof(c->m[i].join), "%s", join_url);
	lc_member_start(c, i);
	return i;
}

int lc_member_kill(struct lc_cell *c, int i, int sig)
{
	return lc_kill_wait(&c->m[i].pid, sig);
}

struct leader_probe {
	struct lc_cell *c;
	int found;
};

static bool probe_leader(void *arg)
{
	struct leader_probe *p = arg;
	for (int i = 0; i < p->c->n; i++) {
		if (!p->c->m[i].pid)
			continue;
		json_t *s = lc_status(p->c->m[i].url);
		bool lead = s && json_is_true(json_object_get(s, "trusted"));
		json_decref(s);
		if (lead) {
			p->found = i;
			return true;
		}
	}
	return false;
}

int lc_find_leader(struct lc_cell *c, int timeout_ms)
{
	struct leader_probe p = {c, -1};
	if (lc_wait_until(probe_leader, &p, timeout_ms))
		c->leader = p.found;
	return p.found;
}

const char *lc_leader(struct lc_cell *c)
{
	int i = lc_find_leader(c, LEADER_WAIT_MS);
	if (i < 0)
		lci_trouble(c, "no leader within %d s", LEADER_WAIT_MS / 1000);
	return c->m[i].url;
}

/* ---- the cell ---- */

struct lc_cell *lc_start(int n, const char *const *extra)
{
	if (n < 1 || n > LC_MEMBERS_MAX)
		lci_trouble(NULL, "a cell of %d voters: 1 to %d", n,
		            LC_MEMBERS_MAX);
	struct lc_cell *c = cu_xcalloc(1, sizeof(*c));
	c->n = n;
	c->extra = extra;
	c->leader = -1;
	folder_make(c);
	cu_list_push_back(&live, &c->link);
	for (int i = 0; i < n; i++) {
		struct lc_member *m = &c->m[i];
		member_init(c, i);
		snprintf(c->peers + strlen(c->peers),
		         sizeof(c->peers) - strlen(c->peers),
		         "%s%llu=127.0.0.1:%d=%s", i ? "," : "",
		         (unsigned long long)m->id, m->raft_port, m->url);
	}
	for (int i = 0; i < n; i++)
		lc_member_start(c, i);
	lc_leader(c);
	return c;
}

void lc_stop(struct lc_cell *c)
{
	if (!c)
		return;
	lci_daemons_stop(c->a, c->nagents);
	lci_daemons_stop(c->s, c->nsched);
	pid_t *pids[LC_MEMBERS_MAX] = {0};
	for (int i = 0; i < c->n; i++)
		pids[i] = &c->m[i].pid;
	lc_kill_all(pids, c->n, SIGTERM);
	lci_talk_free(c);
	folder_remove(c);
	cu_list_remove(&c->link);
	free(c);
}
