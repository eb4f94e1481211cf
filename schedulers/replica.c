/* replica.c: the scheduler's standby replica of the cell state: a store
 * (cellstore.h) opened on the Raft group with no peers, so that the running
 * cell adds it as a member that never votes; it applies the log into a local
 * cellstate that the core decides on. */
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
	bool now = registered_here(s, cst_state(s->store));
	if (now == s->registered)
		return;
	s->registered = now;
	CC_INFO("%s in the cell's scheduler registry at index %llu",
	        now ? "registered" : "no longer",
	        (unsigned long long)cst_applied_index(s->store));
	if (now && s->phase == PHASE_REGISTERING)
		s->phase = PHASE_RUNNING;
}

/* Hooks that run while the store opens find s->store unset: the core
 * catches up at once after the open (replica_open). */
static void on_applied(void *arg, uint64_t index, const cs_txn *txn,
                       const cs_result *res)
{
	struct sched *s = arg;
	if (s->store && sp_core_applied(s->core, index, txn, res))
		check_registration(s);
}

static void on_restore(void *arg, uint64_t index)
{
	struct sched *s = arg;
	CC_INFO("replica replaced by a snapshot at index %llu",
	        (unsigned long long)index);
	if (!s->store)
		return;
	sp_core_reset(s->core);
	check_registration(s);
}

static void on_role(void *arg, enum cst_role old, enum cst_role now)
{
	(void)arg;
	CC_DEBUG("raft role %s -> %s", cst_role_name(old), cst_role_name(now));
}

static void on_log(void *arg, enum cst_log_level level, const char *msg)
{
	(void)arg;
	cc_log((enum cc_log_level)level, "raft: %s", msg);
}

static void hash_hex(const cs_state *st, unsigned flags, char out[17])
{
	snprintf(out, 17, "%016llx",
	         (unsigned long long)cs_state_hash(st, flags));
}

void replica_view(const struct sched *s, bool hashes, struct replica_view *out)
{
	if (!s->store || s->phase == PHASE_CLOSING) {
		*out = s->last_view;
		return;
	}
	struct cst_status st;
	cst_status(s->store, &st);
	out->applied_index = st.applied_index;
	out->commit_index = st.commit_index;
	out->state_hash[0] = out->content_hash[0] = 0;
	if (!hashes)
		return;
	hash_hex(cst_state(s->store), 0, out->state_hash);
	hash_hex(cst_state(s->store), CS_HASH_CONTENT, out->content_hash);
}

void replica_close(struct sched *s, cst_close_cb done)
{
	replica_view(s, true, &s->last_view);
	s->phase = PHASE_CLOSING;
	cst_close(s->store, done, s);
}

static int prepare_dir(const char *dir, char *errbuf, size_t errlen)
{
	if (mkdir(dir, 0755) && errno != EEXIST) {
		snprintf(errbuf, errlen, "--data-dir %s: %s", dir,
		         strerror(errno));
		return -1;
	}
	return replica_wipe(dir, errbuf, errlen);
}

int replica_open(struct sched *s, char *errbuf, size_t errlen)
{
	const struct cst_hooks hooks = {.on_role = on_role,
	                                .on_applied = on_applied,
	                                .on_restore = on_restore,
	                                .log = on_log,
	                                .arg = s};
	if (prepare_dir(s->cfg.data_dir, errbuf, errlen))
		return -1;
	const struct cst_raft_config rc = {
	    .id = s->cfg.id,
	    .address = s->cfg.raft_address,
	    .api_address = s->cfg.advertise,
	    .data_dir = s->cfg.data_dir,
	    .npeers = 0, /* added by the running cell */
	};
	if (cst_raft_open(s->loop, &rc, &hooks, &s->store, errbuf, errlen))
		return -1;
	sp_core_reset(s->core); /* whatever the open replayed */
	check_registration(s);
	return 0;
}
