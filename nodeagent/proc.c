/* proc.c: is a recorded process still the one we started? (/proc start
 * times, the boot id, pidfds) and reaping the shims that are our children. */
#define _GNU_SOURCE
#include "runner_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef P_PIDFD
#define P_PIDFD 3 /* waitid on a pidfd, Linux 5.4+ */
#endif

int rn_proc_stat(pid_t pid, uint64_t *start_time, char *state)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			errno = ESRCH;
		return -1;
	}
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int e = errno;
	close(fd);
	if (n <= 0) {
		errno = n < 0 ? e : ESRCH; /* an empty read: it is gone */
		return -1;
	}
	buf[n] = 0;
	/* "PID (COMM) S ppid ...": COMM may hold spaces and parentheses, so
	 * count fields from the last ')'. State is field 3, start time 22. */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2]) {
		errno = EPROTO;
		return -1;
	}
	p += 2;
	*state = *p;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p) {
			errno = EPROTO;
			return -1;
		}
		p++;
	}
	char *end;
	errno = 0;
	unsigned long long v = strtoull(p, &end, 10);
	if (errno || end == p) {
		errno = EPROTO;
		return -1;
	}
	*start_time = v;
	return 0;
}

void rn_boot_id(char *out)
{
	out[0] = 0;
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	if (!f)
		return;
	char line[64];
	if (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		rn_fmt(out, RN_BOOT_ID_LEN + 1, "%s", line);
	}
	fclose(f);
}

bool rn_proc_alive(const struct rn_pidrec *p, const char *boot_id)
{
	/* After a reboot the same pid may well have the same start time. */
	if (p->boot_id[0] && boot_id[0] && strcmp(p->boot_id, boot_id))
		return false;
	uint64_t start;
	char state;
	if (rn_proc_stat(p->pid, &start, &state) < 0)
		return false;
	/* A zombie has ended; where nobody reaps orphans (some containers'
	 * pid 1) it keeps its pid and start time forever. */
	return start == p->start_time && state != 'Z' && state != 'X';
}

int rn_pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	/* the fd comes with close-on-exec set */
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

bool rn_pidfd_ended(int pidfd)
{
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
	return poll(&pfd, 1, 0) > 0;
}

bool rn_reap(pid_t pid, int pidfd, int *status)
{
	if (pidfd >= 0) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		if (waitid((idtype_t)P_PIDFD, (id_t)pidfd, &si,
		           WEXITED | WNOHANG) == 0) {
			if (si.si_pid == 0)
				return false; /* not ended yet */
			*status = si.si_code == CLD_EXITED
			              ? W_EXITCODE(si.si_status, 0)
			              : W_EXITCODE(0, si.si_status);
			return true;
		}
		if (errno != EINVAL) /* EINVAL: a kernel before 5.4 */
			return false;
	}
	return waitpid(pid, status, WNOHANG) == pid;
}
