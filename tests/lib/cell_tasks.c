/* cell_tasks.c: task processes of a test cell seen from outside: the pid
 * files tasks write, their end, the files they poll for (see cell.h). */
#define _GNU_SOURCE
#include "cell.h"
#include "testlib.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

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
	if (!lc_wait_until(pid_written, &p, timeout_ms))
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
	if (!lc_wait_until(gone, (void *)(intptr_t)pid, timeout_ms))
		fail_msg("%s (pid %d) still runs", what, (int)pid);
}

void tl_touch(const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f)
		fail_msg("cannot create %s", path);
	fclose(f);
}
