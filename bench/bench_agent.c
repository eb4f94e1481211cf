/* bench_agent.c: what one hollow cellagent process of 5,000 machines costs
 * and how fast it turns placements into running tasks, on a real cell
 * (celld on loopback with its Raft log on disk, two batch schedulers):
 *
 *   1. idle: the agent only heartbeats its 5,000 machines for IDLE_S
 *      seconds: its cpu share;
 *   2. load: JOBS x TASKS tasks (long simulated runs, so they stay running)
 *      are submitted in one transaction; the cell's job counts are polled
 *      every 50 ms. Reported: when all were placed (assigned or running),
 *      when all were running, tasks per second going from assigned to
 *      running as the cell saw it, and the agent's cpu time and memory per
 *      machine and per task.
 *
 * Target (issue #6): none named; the figures go in the issue note.
 *
 * Usage: bench-agent [BIN_DIR [VOTERS [TASKS_PER_JOB]]]  (defaults: this
 * program's folder, 1, 1000: 100,000 tasks) */
#include "benchcell.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MACHINES  "5000"
#define NMACHINES 5000
#define JOBS      100
#define IDLE_S    10

/* utime + stime of pid in seconds; its resident and peak memory in KiB. */
static double cpu_seconds(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	unsigned long ut = 0, st = 0;
	if (f && fgets(buf, sizeof(buf), f)) {
		char *p = strrchr(buf, ')'); /* the name may hold spaces */
		if (p)
			sscanf(p + 2,
			       "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
			       "%*u %lu %lu",
			       &ut, &st);
	}
	if (f)
		fclose(f);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static long memory_kib(pid_t pid, const char *field)
{
	char path[64], line[256];
	long kib = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			kib = strtol(line + strlen(field) + 1, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

static void submit(struct lc_cell *c, int tasks)
{
	json_t *ops = json_array();
	char name[32];
	for (int j = 0; j < JOBS; j++) {
		snprintf(name, sizeof(name), "load-%03d", j);
		json_array_append_new(
		    ops,
		    json_pack("{s:s,s:{s:s,s:s,s:i,s:{s:i,s:i},s:i}}", "op",
		              "job_put", "job", "name", name, "class", "batch",
		              "tasks", tasks, "resources", "cpu", 10, "memory",
		              16, "duration_ms", 3600000));
	}
	lc_post_txn(c, ops, "submitting the load");
}

/* Sums the counts of every job: tasks assigned and running. */
static void counts(const char *leader, long *assigned, long *running)
{
	char url[128], *out = NULL;
	snprintf(url, sizeof(url), "%s/v1/jobs?limit=1000", leader);
	lc_http("GET", url, NULL, &out);
	json_t *j = json_loads(out ? out : "", 0, NULL), *job;
	size_t i;
	*assigned = *running = 0;
	json_array_foreach (json_object_get(j, "jobs"), i, job) {
		json_t *c = json_object_get(job, "counts");
		*assigned +=
		    (long)json_integer_value(json_object_get(c, "assigned"));
		*running +=
		    (long)json_integer_value(json_object_get(c, "running"));
	}
	json_decref(j);
	free(out);
}

int main(int argc, char **argv)
{
	bench_init(argc > 1 ? argv[1] : NULL);
	int voters = argc > 2 ? atoi(argv[2]) : 1;
	int tasks = argc > 3 ? atoi(argv[3]) : 1000;
	long total = (long)JOBS * tasks;
	const char *const cell_flags[] = {"--machine-ttl", "10s", NULL};
	struct lc_cell *c = lc_start(voters, cell_flags);
	const char *const hollow[] = {"--hollow", MACHINES, NULL};
	int a = lc_agent_start(c, "hollow", hollow);
	lc_sched_start(c, "batch-1", "batch", NULL);
	lc_sched_start(c, "batch-2", "batch", NULL);
	pid_t agent = c->a[a].pid;
	const char *leader = lc_leader(c);

	double cpu0 = cpu_seconds(agent), t0 = lc_now();
	sleep(IDLE_S);
	double idle = (cpu_seconds(agent) - cpu0) / (lc_now() - t0);
	long rss_idle = memory_kib(agent, "VmRSS:");

	double cpu1 = cpu_seconds(agent);
	double start = lc_now(), first = 0, placed = 0, ran = 0;
	submit(c, tasks);
	for (double end = start + 600; lc_now() < end && !ran; usleep(50000)) {
		long as, rn;
		counts(leader, &as, &rn);
		double now = lc_now() - start;
		if (!first && as + rn > 0)
			first = now;
		if (!placed && as + rn == total)
			placed = now;
		if (rn == total)
			ran = now;
	}
	if (!ran)
		lc_die("not every task was running within 600 s");
	double cpu = cpu_seconds(agent) - cpu1;
	long rss = memory_kib(agent, "VmRSS:"),
	     hwm = memory_kib(agent, "VmHWM:");
	printf("hollow agent: %d machines, %d voter(s), 2 batch schedulers, "
	       "%ld tasks in %d jobs\n",
	       NMACHINES, voters, total, JOBS);
	printf("idle (heartbeats only):   %.1f%% of one core, %ld KiB resident "
	       "(%.2f KiB per machine)\n",
	       idle * 100, rss_idle, (double)rss_idle / NMACHINES);
	printf("first placement:          %.2f s after submission\n", first);
	printf("all placed:               %.2f s\n", placed);
	printf("all running:              %.2f s\n", ran);
	printf("assigned -> running rate: %.0f tasks/s (from the first "
	       "placement until all ran)\n",
	       (double)total / (ran - first));
	printf("agent cpu for the load:   %.2f s (%.1f us per task, %.2f ms "
	       "per machine)\n",
	       cpu, cpu * 1e6 / (double)total, cpu * 1e3 / NMACHINES);
	printf("agent memory after:       %ld KiB resident, %ld KiB peak "
	       "(%.2f KiB per machine, %.0f bytes per running task above "
	       "idle)\n",
	       rss, hwm, (double)rss / NMACHINES,
	       (double)(rss - rss_idle) * 1024 / (double)total);
	lc_stop(c);
	return 0;
}
