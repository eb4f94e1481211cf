/* cgroup.c: cgroup v2 limits where the host allows: a group per agent
 * (ROOT/cellagent.HASH, HASH from the data folder, so it is stable across
 * restarts and distinct per agent) and one per attempt (JOB.INDEX.ATTEMPT)
 * with memory.max and cpu.max, which the shim's child joins before exec.
 *
 * Only the "not available" path can be tested on the development machine
 * (cgroup v1 hybrid; its cgroup2 mount at /sys/fs/cgroup/unified has no
 * controllers), so this file is kept small. Under systemd, give the agent a
 * delegated subtree (Delegate=yes) and pass its path as the root: cgroup v2
 * forbids enabling controllers for children of a group that holds
 * processes, so the root must not be the agent's own group. */
#define _GNU_SOURCE
#include "runner_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CG_DEFAULT_ROOT "/sys/fs/cgroup"

static int write_text(const char *dir, const char *file, const char *text)
{
	char path[RN_PATH_MAX];
	if (!rn_fmt(path, sizeof(path), "%s/%s", dir, file)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int e = errno;
	close(fd);
	errno = e;
	return n == (ssize_t)len ? 0 : -1;
}

/* Whether the space-separated list in DIR/FILE holds `word`. */
static bool list_has(const char *dir, const char *file, const char *word)
{
	char path[RN_PATH_MAX], buf[1024];
	if (!rn_fmt(path, sizeof(path), "%s/%s", dir, file))
		return false;
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool found = false;
	while (!found && fscanf(f, "%1023s", buf) == 1)
		found = !strcmp(buf, word);
	fclose(f);
	return found;
}

/* Whether ROOT can hold the agent's groups; when not, why. */
static bool usable(const char *root, char *why, size_t len)
{
	struct statfs sf;
	char sub[RN_PATH_MAX];
	if (statfs(root, &sf) < 0)
		rn_fmt(why, len, "%s: %s", root, strerror(errno));
	else if (sf.f_type != CGROUP2_SUPER_MAGIC)
		rn_fmt(why, len,
		       "%s is not a cgroup2 mount (cgroup v1 or hybrid)", root);
	else if (!list_has(root, "cgroup.controllers", "memory") ||
	         !list_has(root, "cgroup.controllers", "cpu"))
		rn_fmt(why, len, "%s/cgroup.controllers lacks memory or cpu",
		       root);
	else if (!rn_fmt(sub, sizeof(sub), "%s/cgroup.subtree_control", root) ||
	         access(sub, W_OK) < 0)
		rn_fmt(why, len, "%s is not writable: %s", sub,
		       strerror(errno));
	else
		return true;
	return false;
}

/* FNV-1a: a short stable name for the data folder. */
static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

int rn_cg_init(struct rn_cgroup *cg, const char *root, const char *data_dir,
               char *what, size_t whatlen, char *errbuf, size_t errlen)
{
	cg->dir = NULL;
	if (root && (!*root || !strcmp(root, "off"))) {
		rn_fmt(what, whatlen, "cgroups off");
		return 0;
	}
	bool explicit = root != NULL;
	if (!root)
		root = CG_DEFAULT_ROOT;
	char why[512], dir[RN_PATH_MAX];
	if (!usable(root, why, sizeof(why))) {
		if (explicit)
			return cu_errf(errbuf, errlen, CC_EINVAL,
			               "cgroup root: %s", why);
		rn_fmt(what, whatlen, "cgroup v2 not available: %s", why);
		return 0;
	}
	char *real = realpath(data_dir, NULL);
	rn_fmt(dir, sizeof(dir), "%s/cellagent.%08x", root,
	       fnv1a(real ? real : data_dir));
	free(real);
	const char *step = "enable +memory +cpu in";
	const char *at = root;
	if (write_text(root, "cgroup.subtree_control", "+memory +cpu") < 0)
		goto fail;
	step = "create";
	at = dir;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		goto fail;
	step = "enable +memory +cpu in";
	if (write_text(dir, "cgroup.subtree_control", "+memory +cpu") < 0)
		goto fail;
	cg->dir = cu_xstrdup(dir);
	rn_fmt(what, whatlen, "cgroup v2 %s (memory.max, cpu.max)", dir);
	return 0;
fail:
	rn_fmt(why, sizeof(why), "cannot %s %s: %s", step, at, strerror(errno));
	if (explicit)
		return cu_errf(errbuf, errlen, CC_EINVAL, "cgroup root: %s",
		               why);
	rn_fmt(what, whatlen, "cgroup v2 not available: %s", why);
	return 0;
}

void rn_cg_free(struct rn_cgroup *cg)
{
	free(cg->dir);
	cg->dir = NULL;
}

bool rn_cg_path(const struct rn_cgroup *cg, const char *job, uint32_t index,
                uint32_t attempt, char *path, size_t len)
{
	return cg->dir &&
	       rn_fmt(path, len, "%s/%s.%u.%u", cg->dir, job, index, attempt);
}

int rn_cg_make(const struct rn_cgroup *cg, const char *path,
               uint64_t memory_mib, uint64_t cpu_millicores, char *errbuf,
               size_t errlen)
{
	(void)cg;
	char v[64];
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return cu_errf(errbuf, errlen, CC_EIO, "cannot create %s: %s",
		               path, strerror(errno));
	if (memory_mib && memory_mib < (UINT64_MAX >> 20)) {
		snprintf(v, sizeof(v), "%llu",
		         (unsigned long long)(memory_mib << 20));
		if (write_text(path, "memory.max", v) < 0)
			return cu_errf(errbuf, errlen, CC_EIO,
			               "cannot write %s/memory.max: %s", path,
			               strerror(errno));
	}
	if (cpu_millicores && cpu_millicores < UINT64_MAX / 100) {
		snprintf(v, sizeof(v), "%llu 100000",
		         (unsigned long long)(cpu_millicores * 100));
		if (write_text(path, "cpu.max", v) < 0)
			return cu_errf(errbuf, errlen, CC_EIO,
			               "cannot write %s/cpu.max: %s", path,
			               strerror(errno));
	}
	return 0;
}

void rn_cg_kill(const char *path)
{
	write_text(path, "cgroup.kill", "1");
}

void rn_cg_remove(const char *path)
{
	if (rmdir(path) < 0 && errno != ENOENT)
		CC_DEBUG("cannot remove cgroup %s: %s", path, strerror(errno));
}
