/* main.c: cellagent, the node agent (ARCHITECTURE.md §5). Its life: read flags;
 * describe its machine (capacity detected from the host unless given) or,
 * with --hollow N, N simulated ones; adopt what its data folder says still
 * runs; serve task logs, /v1/status and /metrics; register, heartbeat,
 * follow the cell and run what is placed on its machines until SIGINT or
 * SIGTERM. On exit it stops nothing: tasks keep running and the next start
 * adopts them (a node agent's restart must not kill a service). */
#include "agent.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

static struct agent_config C;

static const struct cc_flag flags[] = {
    {"name", CC_FLAG_STRING, NULL,
     "machine name (default: the host name); with --hollow, the prefix of "
     "NAME-00000 ...",
     &C.name, 0, 0},
    {"cell", CC_FLAG_STRING, "http://127.0.0.1:8001",
     "API URLs of celld members, comma-separated", &C.cell, 0, 0},
    {"listen", CC_FLAG_STRING, "127.0.0.1:0",
     "HOST:PORT for task logs, /v1/status and /metrics (port 0: any)",
     &C.listen, 0, 0},
    {"advertise", CC_FLAG_STRING, NULL,
     "URL the cell lists as this machine's agent (default http://LISTEN)",
     &C.advertise, 0, 0},
    {"data-dir", CC_FLAG_STRING, NULL,
     "folder for task working folders, logs and pid records (required unless "
     "--hollow)",
     &C.data_dir, 0, 0},
    {"token-file", CC_FLAG_STRING, NULL,
     "file with the bearer token of the cell's API", &C.token_file, 0, 0},
    {"pool", CC_FLAG_STRING, "default", "the machine's pool", &C.pool, 0, 0},
    {"labels", CC_FLAG_STRING, "", "machine labels, KEY=VALUE[,KEY=VALUE...]",
     &C.labels, 0, 0},
    {"cpu", CC_FLAG_UINT, "0",
     "cpu capacity in millicores (0: the host's cores; hollow: 4000)", &C.cpu,
     0, 0},
    {"memory", CC_FLAG_UINT, "0",
     "memory capacity in MiB (0: the host's; hollow: 16384)", &C.memory, 0, 0},
    {"disk", CC_FLAG_UINT, "0",
     "disk capacity in MiB (0: the data folder's file system; hollow: 102400)",
     &C.disk, 0, 0},
    {"hollow", CC_FLAG_UINT, "0",
     "simulate this many machines; no process is started", &C.hollow, 0,
     100000},
    {"heartbeat", CC_FLAG_DURATION, "1s",
     "heartbeat interval (at most a third of the cell's machine TTL is used)",
     &C.heartbeat_ms, 50, 600000},
    {"kill-grace", CC_FLAG_DURATION, "10s",
     "between SIGTERM and SIGKILL when a task is stopped", &C.kill_grace_ms, 0,
     3600000},
    {"task-cpu-seconds", CC_FLAG_UINT, "0",
     "RLIMIT_CPU of every task (0: none)", &C.task_cpu_seconds, 0, 0},
    {"task-as-factor", CC_FLAG_UINT, "4",
     "RLIMIT_AS of a task: its memory request times this (0: no limit)",
     &C.task_as_factor, 0, 1024},
    {"task-as-min", CC_FLAG_UINT, "256",
     "RLIMIT_AS of a task at least this many MiB", &C.task_as_min_mib, 0, 0},
    {"cgroup", CC_FLAG_STRING, NULL,
     "cgroup v2 folder for task cgroups (default: detect; off: none)",
     &C.cgroup, 0, 0},
    {"shim", CC_FLAG_STRING, NULL,
     "path of cellagent-shim (default: next to cellagent)", &C.shim, 0, 0},
    {"report-batch", CC_FLAG_UINT, "2000",
     "task reports per transaction, at most", &C.report_batch, 1, 100000},
    {"max-inflight", CC_FLAG_UINT, "4", "report transactions in flight at once",
     &C.max_inflight, 1, 256},
    {"log-level", CC_FLAG_STRING, "info", "debug, info, warn or error",
     &C.log_level, 0, 0},
    {"log-file", CC_FLAG_STRING, "-", "where log lines go (- for stderr)",
     &C.log_file, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static const char about[] =
    "cellagent is the node agent of a cell. It registers its machine, "
    "heartbeats, follows the cell's changes for it and runs what is placed "
    "there: each task under cellagent-shim in its own process group, working "
    "folder and log files, with resource limits; it reports running and the "
    "exit, stops what is preempted or killed, and adopts its tasks again "
    "after its own restart. --hollow N simulates N machines in one process.";

static int fail(const char *msg)
{
	fprintf(stderr, "cellagent: %s (see cellagent --help)\n", msg);
	return 2;
}

/* ---- the machines ---- */

static void default_name(void)
{
	char host[256] = "";
	if (C.name)
		return;
	if (C.hollow) {
		C.name = cu_xstrdup("hollow");
		return;
	}
	gethostname(host, sizeof(host) - 1);
	for (char *p = host; *p; p++) /* machine names are [a-z0-9._-] */
		*p = isalnum((unsigned char)*p) || *p == '.' || *p == '-'
		         ? (char)tolower((unsigned char)*p)
		         : '-';
	C.name = cu_xstrdup(host[0] ? host : "localhost");
}

static void host_capacity(void)
{
	if (C.hollow) {
		C.cpu = C.cpu ? C.cpu : 4000;
		C.memory = C.memory ? C.memory : 16384;
		C.disk = C.disk ? C.disk : 102400;
		return;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	struct statvfs fs;
	if (!C.cpu)
		C.cpu = (uint64_t)(cores > 0 ? cores : 1) * 1000;
	if (!C.memory)
		C.memory = (uint64_t)pages * (uint64_t)page >> 20;
	if (!C.disk && !statvfs(C.data_dir, &fs))
		C.disk = (uint64_t)fs.f_blocks * fs.f_frsize >> 20;
}

/* "k=v,k=v" into labels (sorted by key, as the cell stores them). */
static int parse_labels(struct cs_machine_spec *m, char *errbuf, size_t len)
{
	char *copy = cu_xstrdup(C.labels), *save = NULL;
	m->labels = cu_xcalloc(CS_LABELS_MAX + 1, sizeof(*m->labels));
	for (char *tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (!eq || m->nlabels == CS_LABELS_MAX) {
			snprintf(errbuf, len,
			         "--labels: expected KEY=VALUE[,KEY=VALUE...] "
			         "(at most %d), got \"%s\"",
			         CS_LABELS_MAX, C.labels);
			free(copy);
			return -1;
		}
		*eq = 0;
		uint32_t i = m->nlabels++;
		while (i && strcmp(m->labels[i - 1].key, tok) > 0) {
			m->labels[i] = m->labels[i - 1];
			i--;
		}
		m->labels[i] =
		    (struct cs_label){cu_xstrdup(tok), cu_xstrdup(eq + 1)};
	}
	free(copy);
	return 0;
}

static int describe(struct agent *a, uint32_t i, char *errbuf, size_t len)
{
	struct cs_machine_spec *m = a->machines[i] = cu_xcalloc(1, sizeof(*m));
	char name[CS_NAME_MAX + 16];
	if (C.hollow)
		snprintf(name, sizeof(name), "%s-%05u", C.name, i);
	else
		snprintf(name, sizeof(name), "%s", C.name);
	m->name = cu_xstrdup(name);
	m->pool = cu_xstrdup(C.pool);
	m->state = -1; /* keep what the cell has (drained stays drained) */
	m->agent = cu_xstrdup(a->advertise);
	m->capacity = cu_xcalloc(3, sizeof(*m->capacity));
	m->capacity[0] = (struct cs_amount){cu_xstrdup("cpu"), C.cpu};
	m->capacity[1] = (struct cs_amount){cu_xstrdup("memory"), C.memory};
	m->capacity[2] = (struct cs_amount){cu_xstrdup("disk"), C.disk};
	m->ncapacity = 3;
	if (parse_labels(m, errbuf, len))
		return -1;
	return cs_machine_spec_validate(m, name, errbuf, len);
}

static int describe_machines(struct agent *a, char *errbuf, size_t len)
{
	a->nmachines = C.hollow ? (uint32_t)C.hollow : 1;
	a->machines = cu_xcalloc(a->nmachines, sizeof(*a->machines));
	for (uint32_t i = 0; i < a->nmachines; i++) {
		if (describe(a, i, errbuf, len))
			return -1;
		ag_core_add_machine(a->core, a->machines[i]->name);
	}
	return 0;
}

/* ---- start and stop ---- */

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int check_settings(struct agent *a, char *errbuf, size_t len)
{
	if (!C.hollow && !C.data_dir) {
		snprintf(errbuf, len,
		         "--data-dir is required (unless --hollow)");
		return -1;
	}
	a->cell_urls = cc_split_urls(C.cell, &a->ncell_urls);
	if (!a->ncell_urls || strncmp(a->cell_urls[0], "http", 4)) {
		snprintf(errbuf, len,
		         "--cell: expected http://HOST:PORT[,...], got \"%s\"",
		         C.cell);
		return -1;
	}
	if (C.token_file &&
	    !(a->token = cc_read_token(C.token_file, errbuf, len)))
		return -1;
	return 0;
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)revents;
	CC_INFO("signal %d: stopping (tasks keep running)", w->signum);
	ev_break(loop, EVBREAK_ALL);
}

static int open_executor(struct agent *a, char *errbuf, size_t len)
{
	struct ag_exec exec;
	struct ag_io io = {a, cell_fetch_job, NULL};
	if (C.hollow) {
		a->hollow = hollow_new(a);
		hollow_exec(a->hollow, &exec);
	} else {
		if (real_new(a, &a->real, errbuf, len))
			return -1;
		real_exec(a->real, &exec);
	}
	a->core = ag_core_new(&exec, &io);
	return 0;
}

static void start_watchers(struct agent *a)
{
	ev_signal_init(&a->sigint, on_signal, SIGINT);
	ev_signal_init(&a->sigterm, on_signal, SIGTERM);
	ev_signal_start(a->loop, &a->sigint);
	ev_signal_start(a->loop, &a->sigterm);
	cell_start(a);
}

static void shut_down(struct agent *a)
{
	cell_stop(a); /* drops what is in flight */
	cc_server_free(a->server);
	ag_core_free(a->core);
	hollow_free(a->hollow);
	real_free(a->real);
	cc_metrics_free(a->metrics);
	for (uint32_t i = 0; i < a->nmachines; i++)
		cs_machine_spec_free(a->machines[i]);
	free(a->machines);
	for (unsigned i = 0; i < a->ncell_urls; i++)
		free(a->cell_urls[i]);
	free(a->cell_urls);
	free(a->token);
	cc_flags_free(flags);
}

static int set_up_logging(char *errbuf, size_t len)
{
	char tag[CS_NAME_MAX + 16];
	snprintf(tag, sizeof(tag), "cellagent[%s]", C.name);
	return cc_log_configure(tag, C.log_level, C.log_file, errbuf, len);
}

static int open_server(struct agent *a, char *errbuf, size_t len)
{
	if (server_start(a, errbuf, len))
		return -1;
	if (C.advertise) {
		snprintf(a->advertise, sizeof(a->advertise), "%s", C.advertise);
	} else {
		char host[128];
		uint16_t port;
		cc_split_hostport(C.listen, host, sizeof(host), &port);
		snprintf(a->advertise, sizeof(a->advertise), "http://%s:%u",
		         host, cc_server_port(a->server));
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct agent a;
	char err[CC_ERRMSG_SIZE];
	int rc = cc_flags_parse(flags, argc, argv, NULL, err, sizeof(err));
	if (rc == CC_HELP) {
		char *help = cc_flags_help(flags, "cellagent [flags]", about);
		fputs(help, stdout);
		free(help);
		return 0;
	}
	if (rc)
		return fail(err);
	default_name();
	host_capacity();
	if (check_settings(&a, err, sizeof(err)) ||
	    set_up_logging(err, sizeof(err)))
		return fail(err);
	a.cfg = C;
	a.loop = EV_DEFAULT;
	a.metrics = cc_metrics_new();
	a.boot_ms = wall_ms();
	if (open_executor(&a, err, sizeof(err)) ||
	    open_server(&a, err, sizeof(err)) ||
	    describe_machines(&a, err, sizeof(err)) ||
	    (a.real && real_recover(a.real, err, sizeof(err)))) {
		CC_ERROR("%s", err);
		shut_down(&a);
		return 1;
	}
	CC_INFO("agent for %u machine(s) (%s%s) serving on %s", a.nmachines,
	        a.machines[0]->name, a.nmachines > 1 ? ", ..." : "",
	        a.advertise);
	start_watchers(&a);
	ev_run(a.loop, 0);
	shut_down(&a);
	return 0;
}
