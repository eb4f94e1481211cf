/* runner_internal.h: private to the runner library (runner.c, attempt.c,
 * proc.c, cgroup.c): an attempt's files, liveness from /proc, cgroup v2. */
#ifndef CELL_NODEAGENT_RUNNER_INTERNAL_H
#define CELL_NODEAGENT_RUNNER_INTERNAL_H

#include "cellcommon.h"
#include "runner.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RN_PATH_MAX 4096
#define RN_JOB_MAX  63
/* a UUID as /proc/sys/kernel/random/boot_id has it */
#define RN_BOOT_ID_LEN 36

/* ---- small helpers (attempt.c) ---- */
/* snprintf that reports truncation: false when it did not fit. */
bool rn_fmt(char *buf, size_t len, const char *fmt, ...) CC_PRINTF(3, 4);

/* ---- an attempt's folder and its files (attempt.c) ---- */

/* [a-z0-9._-], 1..63 chars, first alphanumeric: safe as a folder name. */
bool rn_job_name_ok(const char *job);
/* "TASKS/JOB/INDEX.ATTEMPT" (name NULL) or ".../NAME"; false when it does
 * not fit in len. */
bool rn_att_path(char *buf, size_t len, const char *tasks_dir, const char *job,
                 uint32_t index, uint32_t attempt, const char *name);
/* Parses "INDEX.ATTEMPT" (plain decimals, no leading zeros). */
bool rn_att_name_parse(const char *name, uint32_t *index, uint32_t *attempt);

/* Writes a file atomically: PATH.agent.tmp, fsync, then rename over path
 * (replace) or link to it (!replace: CC_ESTATE if path exists), then fsync
 * of the folder. 0, CC_ESTATE or CC_EIO with the path and reason. */
int rn_write_file(const char *path, const char *data, size_t len, bool replace,
                  char *errbuf, size_t errlen);
/* fsync of a folder, so an entry made in it survives a crash. */
int rn_sync_dir(const char *dir);

/* The pid file: which process is the attempt's shim. */
struct rn_pidrec {
	pid_t pid;
	uint64_t start_time;              /* /proc/PID/stat field 22 */
	char boot_id[RN_BOOT_ID_LEN + 1]; /* "" when unknown */
};
int rn_pidrec_write(const char *att_dir, const struct rn_pidrec *p,
                    char *errbuf, size_t errlen);
/* 0; CC_ESTATE when there is none; CC_EPROTO when it is not one (message). */
int rn_pidrec_read(const char *att_dir, struct rn_pidrec *p, char *errbuf,
                   size_t errlen);

/* The exit file. Read: 0 with how, code and detail set (stopped is left
 * alone); CC_ESTATE when there is none; CC_EPROTO / CC_EIO when it cannot
 * be read (message). Write: as rn_write_file. */
int rn_exit_read(const char *att_dir, struct rn_outcome *o, char *errbuf,
                 size_t errlen);
int rn_exit_write(const char *att_dir, const struct rn_outcome *o,
                  const char *by, bool replace, char *errbuf, size_t errlen);

/* Removes path and everything under it without following symlinks or
 * crossing into other mounts; folders a task made unreadable are opened up
 * first. 0 or -1 with errno of the first failure. */
int rn_rm_tree(const char *path);

/* ---- processes (proc.c) ---- */

/* From /proc/PID/stat: field 22 (start time in clock ticks after boot) and
 * field 3 (state: 'R', 'S', 'Z', ...). 0 or -1 (errno: ESRCH when there is
 * no such process). */
int rn_proc_stat(pid_t pid, uint64_t *start_time, char *state);
/* This boot's id into out (RN_BOOT_ID_LEN + 1 bytes); "" if unknown. */
void rn_boot_id(char *out);
/* The recorded process is still running: same boot (when both ids are
 * known), the pid exists, is not a zombie and started when recorded. */
bool rn_proc_alive(const struct rn_pidrec *p, const char *boot_id);
/* pidfd_open(2): -1 with errno (ENOSYS on kernels before 5.3). */
int rn_pidfd_open(pid_t pid);
/* Whether a pidfd says its process has ended (non-blocking). */
bool rn_pidfd_ended(int pidfd);
/* Reaps the process if it is this process's child (zombie). Returns true
 * and its wait status in *status when it did; false otherwise (not a child,
 * not ended yet, or someone else reaped it, e.g. libev's SIGCHLD handler
 * on the default loop). pidfd may be -1. */
bool rn_reap(pid_t pid, int pidfd, int *status);

/* ---- cgroup v2 (cgroup.c) ---- */

struct rn_cgroup {
	char *dir; /* ROOT/cellagent.HASH, owned; NULL: no cgroups */
};
/* Decides whether cgroups apply (see rn_config.cgroup_root) and makes the
 * agent's group. 0 with cg->dir set or NULL, and `what` (a phrase for the
 * INFO line) saying which; CC_EINVAL when an explicit root is unusable. */
int rn_cg_init(struct rn_cgroup *cg, const char *root, const char *data_dir,
               char *what, size_t whatlen, char *errbuf, size_t errlen);
void rn_cg_free(struct rn_cgroup *cg);
/* The attempt's group "DIR/JOB.INDEX.ATTEMPT" into path. */
bool rn_cg_path(const struct rn_cgroup *cg, const char *job, uint32_t index,
                uint32_t attempt, char *path, size_t len);
/* Makes the attempt's group with memory.max and cpu.max (0: unset). */
int rn_cg_make(const struct rn_cgroup *cg, const char *path,
               uint64_t memory_mib, uint64_t cpu_millicores, char *errbuf,
               size_t errlen);
/* cgroup.kill (Linux 5.14+): SIGKILL to every process in the group. */
void rn_cg_kill(const char *path);
/* Removes the group once its processes are gone (best effort). */
void rn_cg_remove(const char *path);

#endif /* CELL_NODEAGENT_RUNNER_INTERNAL_H */
