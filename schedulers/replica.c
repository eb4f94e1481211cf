/* replica.c: the scheduler's standby replica of the cell state: a cellraft
 * node that never votes, applying the log into a local cellstate that the
 * core decides on. */
#include "daemon.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int replica_wipe(const char *dir, char *errbuf, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		snprintf(errbuf, errlen, "--data-dir %s: %s", dir,
		         strerror(errno));
		return -1;
	}
	char path[4096];
	for (struct dirent *e; (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) && errno != ENOENT) {
			snprintf(errbuf, errlen,
			         "--data-dir %s: cannot remove %s: %s (the "
			         "folder should hold only a standby replica)",
			         dir, e->d_name, strerror(errno));
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return 0;
}

static bool registered_here(struct sched *s, const cs_state *st)
{
	for (uint32_t i = 0; i < cs_sched_count(st); i++) {
		const struct cs_sched *sc = cs_sched_at(st, i);
		if (!strcmp(sc->name, s->cfg.name))
			return true;
	}
	return false;
}

/* The registry is what makes jobs ours: keep the flag in step with it. */
static void check_registration(struct sched *s)
{
	bool now = registered_here(s, cr_node_state(s->node));
	if (now == s->registered)
		return;
	s->registered = now;
	CC_INFO("%s in the cell's scheduler registry at index %llu",
	        now ? "registered" : "no longer",
	        (unsigned long long)cr_node_applied_index(s->node));
	if (now && s->phase == PHASE_REGISTERING)
		s->phase = PHASE_RUNNING;
}

static void on_applied(cr_node *n, uint64_t index, const cs_txn *txn,
                       const cs_result *res, void *arg)
{
	struct sched *s = arg;
	(void)n;
	if (sp_core_applied(s->core, index, txn, res))
		check_registration(s);
}

static void track_changes(cr_node *n)
{
	cs_state_track_changes((cs_state *)cr_node_state(n), true);
}

static void on_restore(cr_node *n, uint64_t index, void *arg)
{
	struct sched *s = arg;
	CC_INFO("replica replaced by a snapshot at index %llu",
	        (unsigned long long)index);
	track_changes(n);
	sp_core_reset(s->core);
	check_registration(s);
}

static void on_role(cr_node *n, enum cr_role old, enum cr_role now, void *arg)
{
	(void)n;
	(void)arg;
	CC_DEBUG("raft role %s -> %s", cr_role_name(old), cr_role_name(now));
}

static void on_log(void *arg, enum cr_log_level level, const char *msg)
{
	(void)arg;
	cc_log((enum cc_log_level)level, "raft: %s", msg);
}

int replica_open(struct sched *s, char *errbuf, size_t errlen)
{
	static struct cr_hooks hooks = {on_role,    NULL,   on_applied,
	                                on_restore, on_log, NULL};
	hooks.arg = s;
	if (mkdir(s->cfg.data_dir, 0755) && errno != EEXIST) {
		snprintf(errbuf, errlen, "--data-dir %s: %s", s->cfg.data_dir,
		         strerror(errno));
		return -1;
	}
	if (replica_wipe(s->cfg.data_dir, errbuf, errlen))
		return -1;
	struct cr_config rc = {
	    .id = s->cfg.id,
	    .raft_address = s->cfg.raft_address,
	    .api_address = s->cfg.advertise,
	    .data_dir = s->cfg.data_dir,
	    .npeers = 0, /* added by the running cell */
	    .hooks = &hooks,
	};
	if (cr_node_init(&s->node, s->loop, &rc, errbuf, errlen))
		return -1;
	track_changes(s->node);
	return cr_node_start(s->node, errbuf, errlen) ? -1 : 0;
}
