/* attempt.c: an attempt's folder on disk and the files in it (pid, exit),
 * written atomically so a crash leaves either the old or the new file. */
#define _GNU_SOURCE
#include "runner_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- small helpers ---- */

bool rn_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < len;
}

/* ---- names and paths ---- */

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool rn_job_name_ok(const char *job)
{
	if (!job || !lower_alnum(job[0]))
		return false; /* also refuses "", "." and ".." */
	size_t n = 0;
	for (; job[n]; n++)
		if (n >= RN_JOB_MAX ||
		    (!lower_alnum(job[n]) && !strchr("._-", job[n])))
			return false;
	return true;
}

bool rn_att_path(char *buf, size_t len, const char *tasks_dir, const char *job,
                 uint32_t index, uint32_t attempt, const char *name)
{
	if (name)
		return rn_fmt(buf, len, "%s/%s/%u.%u/%s", tasks_dir, job, index,
		              attempt, name);
	return rn_fmt(buf, len, "%s/%s/%u.%u", tasks_dir, job, index, attempt);
}

static bool parse_u32(const char *s, size_t n, uint32_t *out)
{
	if (n == 0 || n > 10 || (n > 1 && s[0] == '0'))
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

bool rn_att_name_parse(const char *name, uint32_t *index, uint32_t *attempt)
{
	const char *dot = strchr(name, '.');
	return dot && parse_u32(name, (size_t)(dot - name), index) &&
	       parse_u32(dot + 1, strlen(dot + 1), attempt);
}

/* ---- atomic files ---- */

int rn_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int e = errno;
	close(fd);
	errno = e;
	return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int rn_write_file(const char *path, const char *data, size_t len, bool replace,
                  char *errbuf, size_t errlen)
{
	char tmp[RN_PATH_MAX], dir[RN_PATH_MAX];
	if (!rn_fmt(tmp, sizeof(tmp), "%s.agent.tmp", path) ||
	    !rn_fmt(dir, sizeof(dir), "%s", path))
		return cu_errf(errbuf, errlen, CC_EIO, "%s: path too long",
		               path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return cu_errf(errbuf, errlen, CC_EIO, "cannot create %s: %s",
		               tmp, strerror(errno));
	if (write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		return cu_errf(errbuf, errlen, CC_EIO, "cannot write %s: %s",
		               tmp, strerror(e));
	}
	close(fd);
	int rc = replace ? rename(tmp, path) : link(tmp, path);
	int e = errno;
	if (!replace || rc < 0)
		unlink(tmp);
	if (rc < 0 && !replace && e == EEXIST)
		return cu_errf(errbuf, errlen, CC_ESTATE, "%s exists already",
		               path);
	if (rc < 0)
		return cu_errf(errbuf, errlen, CC_EIO, "cannot %s %s: %s",
		               replace ? "rename a new file to" : "link", path,
		               strerror(e));
	if (slash && rn_sync_dir(dir) < 0)
		return cu_errf(errbuf, errlen, CC_EIO, "cannot fsync %s: %s",
		               dir, strerror(errno));
	return 0;
}

/* ---- the pid file ---- */

int rn_pidrec_write(const char *att_dir, const struct rn_pidrec *p,
                    char *errbuf, size_t errlen)
{
	char path[RN_PATH_MAX], line[160];
	if (!rn_fmt(path, sizeof(path), "%s/pid", att_dir))
		return cu_errf(errbuf, errlen, CC_EIO, "%s: path too long",
		               att_dir);
	int n = snprintf(line, sizeof(line),
	                 "{\"pid\":%ld,\"start_time\":%llu,"
	                 "\"boot_id\":\"%s\"}\n",
	                 (long)p->pid, (unsigned long long)p->start_time,
	                 p->boot_id);
	return rn_write_file(path, line, (size_t)n, true, errbuf, errlen);
}

/* Loads a small JSON object file: NULL with CC_ESTATE (no file) or
 * CC_EPROTO in *rc. */
static json_t *load_object(const char *path, int *rc, char *errbuf,
                           size_t errlen)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	if (!j) {
		if (access(path, F_OK) < 0 && errno == ENOENT)
			*rc = CC_ESTATE;
		else
			*rc = cu_errf(errbuf, errlen, CC_EPROTO,
			              "%s: not readable JSON: %s", path,
			              jerr.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		*rc = cu_errf(errbuf, errlen, CC_EPROTO,
		              "%s: expected a JSON object", path);
		return NULL;
	}
	*rc = 0;
	return j;
}

int rn_pidrec_read(const char *att_dir, struct rn_pidrec *p, char *errbuf,
                   size_t errlen)
{
	char path[RN_PATH_MAX];
	if (!rn_fmt(path, sizeof(path), "%s/pid", att_dir))
		return cu_errf(errbuf, errlen, CC_EPROTO, "%s: path too long",
		               att_dir);
	int rc;
	json_t *j = load_object(path, &rc, errbuf, errlen);
	if (!j)
		return rc;
	json_t *pid = json_object_get(j, "pid");
	json_t *st = json_object_get(j, "start_time");
	const char *boot = json_string_value(json_object_get(j, "boot_id"));
	rc = 0;
	if (!json_is_integer(pid) || json_integer_value(pid) <= 0 ||
	    json_integer_value(pid) > INT32_MAX || !json_is_integer(st) ||
	    json_integer_value(st) < 0)
		rc = cu_errf(errbuf, errlen, CC_EPROTO,
		             "%s: expected {\"pid\": N, \"start_time\": T}",
		             path);
	else {
		p->pid = (pid_t)json_integer_value(pid);
		p->start_time = (uint64_t)json_integer_value(st);
		rn_fmt(p->boot_id, sizeof(p->boot_id), "%s", boot ? boot : "");
	}
	json_decref(j);
	return rc;
}

/* ---- the exit file ---- */

int rn_exit_read(const char *att_dir, struct rn_outcome *o, char *errbuf,
                 size_t errlen)
{
	char path[RN_PATH_MAX];
	if (!rn_fmt(path, sizeof(path), "%s/exit", att_dir))
		return cu_errf(errbuf, errlen, CC_EPROTO, "%s: path too long",
		               att_dir);
	int rc;
	json_t *j = load_object(path, &rc, errbuf, errlen);
	if (!j)
		return rc;
	const char *how = json_string_value(json_object_get(j, "how"));
	json_t *num = NULL;
	o->detail[0] = 0;
	if (how && !strcmp(how, "exited")) {
		o->how = RN_EXITED;
		num = json_object_get(j, "code");
	} else if (how && !strcmp(how, "signaled")) {
		o->how = RN_SIGNALED;
		num = json_object_get(j, "signal");
	} else if (how && !strcmp(how, "spawn_failed")) {
		o->how = RN_SPAWN_FAILED;
		num = json_object_get(j, "errno");
		const char *e = json_string_value(json_object_get(j, "error"));
		rn_fmt(o->detail, sizeof(o->detail), "%s",
		       e ? e : "could not start");
	}
	rc = 0;
	if (!json_is_integer(num) || json_integer_value(num) < 0 ||
	    json_integer_value(num) > 255)
		rc = cu_errf(errbuf, errlen, CC_EPROTO,
		             "%s: expected {\"how\": \"exited\"|\"signaled\"|"
		             "\"spawn_failed\", ...} with its number",
		             path);
	else
		o->code = (int)json_integer_value(num);
	json_decref(j);
	return rc;
}

int rn_exit_write(const char *att_dir, const struct rn_outcome *o,
                  const char *by, bool replace, char *errbuf, size_t errlen)
{
	char path[RN_PATH_MAX];
	if (!rn_fmt(path, sizeof(path), "%s/exit", att_dir))
		return cu_errf(errbuf, errlen, CC_EIO, "%s: path too long",
		               att_dir);
	json_t *j = json_object();
	switch (o->how) {
	case RN_EXITED:
		json_object_set_new(j, "how", json_string("exited"));
		json_object_set_new(j, "code", json_integer(o->code));
		break;
	case RN_SIGNALED:
		json_object_set_new(j, "how", json_string("signaled"));
		json_object_set_new(j, "signal", json_integer(o->code));
		break;
	case RN_SPAWN_FAILED:
	case RN_VANISHED: /* never written: nothing to say on disk */
		json_object_set_new(j, "how", json_string("spawn_failed"));
		json_object_set_new(j, "errno", json_integer(o->code));
		json_object_set_new(j, "error", json_string(o->detail));
		break;
	}
	if (by)
		json_object_set_new(j, "by", json_string(by));
	char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	size_t n = strlen(text);
	char *line = cu_xmalloc(n + 2);
	memcpy(line, text, n);
	line[n] = '\n';
	free(text);
	int rc = rn_write_file(path, line, n + 1, replace, errbuf, errlen);
	free(line);
	return rc;
}

/* ---- removing a folder ---- */

/* Deeper than this, a tree is left alone (each level holds a descriptor
 * and a stack frame; a task could nest folders without end). */
#define RM_DEPTH_MAX 256

/* Removes `name` in parent and, for a folder, everything under it first.
 * Never follows a symlink: entries are opened O_NOFOLLOW, changed through
 * their descriptor and removed by name. */
static int rm_at(int parent, const char *name, dev_t dev, int depth)
{
	if (depth > RM_DEPTH_MAX) {
		errno = ELOOP;
		return -1;
	}
	int fd = openat(parent, name,
	                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == EACCES &&
	    fchmodat(parent, name, 0700, AT_SYMLINK_NOFOLLOW) == 0)
		fd = openat(parent, name,
		            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOTDIR || errno == ELOOP) /* a file or link */
			return unlinkat(parent, name, 0);
		return errno == ENOENT ? 0 : -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_dev != dev) {
		close(fd); /* another mount: leave it, rmdir will fail */
		errno = EXDEV;
		return -1;
	}
	/* a folder the task made unwritable: open it up to empty it */
	if ((st.st_mode & 0700) != 0700)
		fchmod(fd, 0700);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int rc = 0, first = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (rm_at(dirfd(d), e->d_name, dev, depth + 1) < 0 && !first)
			first = errno, rc = -1;
	}
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && !first)
		first = errno, rc = -1;
	errno = first;
	return rc;
}

int rn_rm_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	return rm_at(AT_FDCWD, path, st.st_dev, 0);
}
