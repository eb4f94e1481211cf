/* main.c: cellsched, one scheduler of the cell (docs/ARCHITECTURE.md §4).
 * Its life: read flags; serve /metrics; start a standby replica; ask the
 * cell to add it and register (name, class, policy) with a lease; decide
 * placements on the replica and commit them until SIGINT/SIGTERM; then
 * unregister, leave the membership and exit. */
#include "daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct sched_config C;

static const struct cc_flag flags[] = {
    {"name", CC_FLAG_STRING, NULL,
     "scheduler name, unique in the cell (default: CLASS-ID)", &C.name, 0, 0},
    {"class", CC_FLAG_STRING, "batch", "the job class it schedules",
     &C.class_name, 0, 0},
    {"policy", CC_FLAG_STRING, NULL,
     "batch or service (default: the class, if it names a policy)", &C.policy,
     0, 0},
    {"id", CC_FLAG_UINT, NULL,
     "Raft id of its standby replica (default: from the name)", &C.id, 0, 0},
    {"cell", CC_FLAG_STRING, "http://127.0.0.1:8001",
     "API URLs of celld members, comma-separated", &C.cell, 0, 0},
    {"raft-address", CC_FLAG_STRING, NULL,
     "Raft address of the standby replica, IPv4 HOST:PORT", &C.raft_address, 0,
     0},
    {"listen", CC_FLAG_STRING, "127.0.0.1:0",
     "HOST:PORT for /metrics and /v1/status (port 0: any)", &C.listen, 0, 0},
    {"advertise", CC_FLAG_STRING, NULL,
     "URL the cell lists for this member (default http://LISTEN)", &C.advertise,
     0, 0},
    {"data-dir", CC_FLAG_STRING, NULL,
     "folder for the standby replica (emptied at start)", &C.data_dir, 0, 0},
    {"token-file", CC_FLAG_STRING, NULL,
     "file with the bearer token of the cell's API", &C.token_file, 0, 0},
    {"detect", CC_FLAG_STRING, "fine",
     "conflict detection of its transactions: fine or coarse", &C.detect, 0, 0},
    {"mode", CC_FLAG_STRING, NULL,
     "commit mode override: incremental or all_or_nothing (gangs: always "
     "all_or_nothing)",
     &C.mode, 0, 0},
    {"think-job", CC_FLAG_DURATION_US, "0",
     "added decision time per job (Omega's t_job), e.g. 100ms or 250us",
     &C.think_job_us, 0, 0},
    {"think-task", CC_FLAG_DURATION_US, "0",
     "added decision time per task placed (Omega's t_task), e.g. 5ms or 50us",
     &C.think_task_us, 0, 0},
    {"max-inflight", CC_FLAG_UINT, "64", "transactions in flight at once",
     &C.max_inflight, 1, 1024},
    {"max-tasks", CC_FLAG_UINT, "1000",
     "placements per transaction, at most (gangs: all)", &C.max_tasks, 1,
     1000000},
    {"spread-label", CC_FLAG_STRING, "zone",
     "machine label naming failure domains (service policy)", &C.spread_label,
     0, 0},
    {"seed", CC_FLAG_UINT, "0",
     "randomness of the batch sampler (0: from the clock)", &C.seed, 0, 0},
    {"heartbeat", CC_FLAG_DURATION, "1s",
     "lease renewal interval (keep it well under celld's --sched-ttl)",
     &C.heartbeat_ms, 50, 600000},
    {"leave-timeout", CC_FLAG_DURATION, "5s",
     "how long a clean shutdown waits for the cell", &C.leave_timeout_ms, 100,
     600000},
    {"log-level", CC_FLAG_STRING, "info", "debug, info, warn or error",
     &C.log_level, 0, 0},
    {"log-file", CC_FLAG_STRING, "-", "where log lines go (- for stderr)",
     &C.log_file, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0},
};

static const char about[] =
    "cellsched is one scheduler of a cell. It keeps its own replica of the "
    "cell state as a Raft standby, owns the pending jobs of its class that "
    "hash to it among the live schedulers of that class, decides placements "
    "on its replica without locks and commits them optimistically; what "
    "conflicts is retried on fresher state.";

static int fail(const char *msg)
{
	fprintf(stderr, "cellsched: %s (see cellsched --help)\n", msg);
	return 2;
}

/* ---- clocks and the core's table ---- */

static int64_t mono_us(void *arg)
{
	(void)arg;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_ms(void *arg)
{
	(void)arg;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const cs_state *replica_state(void *arg)
{
	return cst_state(((struct sched *)arg)->store);
}

/* Before the loop blocks: let the core decide what the news allows. */
static void on_decide(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct sched *s = w->data;
	(void)revents;
	if (!s->core || s->phase != PHASE_RUNNING)
		return;
	int64_t wait = sp_core_run(s->core);
	if (wait > 0 && !ev_is_active(&s->wake)) {
		ev_timer_set(&s->wake, (double)wait / 1e6, 0);
		ev_timer_start(loop, &s->wake);
	}
}

static void on_wake(struct ev_loop *loop, ev_timer *t, int revents)
{
	(void)loop;
	(void)t;
	(void)revents; /* on_decide runs before the loop blocks again */
}

/* ---- settings ---- */

static uint64_t id_from_name(const char *name)
{
	uint64_t h = cu_fnv1a(CU_FNV_OFFSET, name);
	/* large, positive as a JSON integer, and away from small voter ids */
	return (h >> 2) | (1ull << 40);
}

static int parse_modes(struct sp_params *p, char *errbuf, size_t errlen)
{
	int d = cs_detect_parse(C.detect);
	if (d < 0) {
		snprintf(errbuf, errlen,
		         "--detect: expected fine or coarse, got \"%s\"",
		         C.detect);
		return -1;
	}
	p->detect = (enum cs_detect)d;
	p->mode = C.mode ? cs_mode_parse(C.mode) : -1;
	if (C.mode && p->mode < 0) {
		snprintf(errbuf, errlen,
		         "--mode: expected incremental or all_or_nothing, got "
		         "\"%s\"",
		         C.mode);
		return -1;
	}
	return 0;
}

static int check_settings(struct sched *s, struct sp_params *p, char *errbuf,
                          size_t errlen)
{
	if (!C.raft_address || !C.data_dir) {
		snprintf(errbuf, errlen,
		         "--raft-address and --data-dir are required");
		return -1;
	}
	if (!C.policy)
		C.policy = cu_xstrdup(C.class_name);
	p->policy = sp_policy_find(C.policy);
	if (!p->policy) {
		snprintf(errbuf, errlen,
		         "--policy: expected one of %s, got \"%s\"",
		         sp_policy_names(), C.policy);
		return -1;
	}
	if (parse_modes(p, errbuf, errlen))
		return -1;
	s->cell_urls = cc_split_urls(C.cell, &s->ncell_urls);
	if (!s->ncell_urls || strncmp(s->cell_urls[0], "http", 4)) {
		snprintf(errbuf, errlen,
		         "--cell: expected http://HOST:PORT[,...], got \"%s\"",
		         C.cell);
		return -1;
	}
	if (C.token_file &&
	    !(s->token = cc_read_token(C.token_file, errbuf, errlen)))
		return -1;
	return 0;
}

/* Names depend on the id and the id on the name: whichever is given. */
static void default_identity(void)
{
	if (!C.name) {
		char buf[CS_NAME_MAX + 1];
		snprintf(
		    buf, sizeof(buf), "%s-%llu", C.class_name,
		    (unsigned long long)(C.id ? C.id : (uint64_t)getpid()));
		C.name = cu_xstrdup(buf);
	}
	if (!C.id)
		C.id = id_from_name(C.name);
}

/* ---- start and stop ---- */

void sched_closed(void *arg)
{
	struct sched *s = arg;
	s->store = NULL;
	ev_break(s->loop, EVBREAK_ALL);
}

static void on_signal(struct ev_loop *loop, ev_signal *w, int revents)
{
	(void)loop;
	(void)revents;
	struct sched *s = w->data;
	CC_INFO("signal %d: leaving the cell", w->signum);
	cell_leave(s);
}

static int open_http(struct sched *s, char *errbuf, size_t errlen)
{
	s->m_resends = cc_counter_new(
	    s->metrics, "cellsched_resends_total",
	    "Transactions sent again because the cell had no leader");
	cell_open(s);
	if (status_serve(s, errbuf, errlen))
		return -1;
	if (!C.advertise) {
		char host[128], buf[160];
		uint16_t port;
		cc_split_hostport(C.listen, host, sizeof(host), &port);
		snprintf(buf, sizeof(buf), "http://%s:%u", host,
		         cc_server_port(s->server));
		C.advertise = cu_xstrdup(buf);
	}
	s->cfg.advertise = C.advertise;
	return 0;
}

static sp_core *open_core(struct sched *s, const struct sp_params *p)
{
	struct sp_core_config cc = {
	    .name = C.name,
	    .class_name = C.class_name,
	    .params = *p,
	    .max_inflight = (uint32_t)C.max_inflight,
	    .think_job_us = C.think_job_us,
	    .think_task_us = C.think_task_us,
	    .seed =
	        C.seed ? C.seed : (uint64_t)mono_us(NULL) ^ (uint64_t)getpid(),
	    .metrics = s->metrics,
	};
	cc.params.spread_label = C.spread_label;
	cc.params.max_tasks = (uint32_t)C.max_tasks;
	struct sp_io io = {replica_state, mono_us, wall_ms, cell_submit, s};
	return sp_core_new(&cc, &io);
}

static void start_watchers(struct sched *s)
{
	ev_prepare_init(&s->decide, on_decide);
	s->decide.data = s;
	ev_prepare_start(s->loop, &s->decide);
	ev_timer_init(&s->wake, on_wake, 0, 0);
	ev_signal_init(&s->sigint, on_signal, SIGINT);
	ev_signal_init(&s->sigterm, on_signal, SIGTERM);
	s->sigint.data = s->sigterm.data = s;
	ev_signal_start(s->loop, &s->sigint);
	ev_signal_start(s->loop, &s->sigterm);
	cell_heartbeat_start(s);
}

static void shut_down(struct sched *s)
{
	cell_close(s);
	sp_core_free(s->core);
	cc_server_free(s->server);
	cc_metrics_free(s->metrics);
	for (unsigned i = 0; i < s->ncell_urls; i++)
		free(s->cell_urls[i]);
	free(s->cell_urls);
	free(s->token);
	cc_flags_free(flags);
}

static int set_up_logging(char *errbuf, size_t errlen)
{
	char tag[CS_NAME_MAX + 16];
	snprintf(tag, sizeof(tag), "cellsched[%s]", C.name);
	return cc_log_configure(tag, C.log_level, C.log_file, errbuf, errlen);
}

int main(int argc, char **argv)
{
	static struct sched s;
	char err[CC_ERRMSG_SIZE];
	struct sp_params params = {0};
	int rc = cc_flags_parse(flags, argc, argv, NULL, err, sizeof(err));
	if (rc == CC_HELP) {
		char *help = cc_flags_help(flags, "cellsched [flags]", about);
		fputs(help, stdout);
		free(help);
		return 0;
	}
	if (rc)
		return fail(err);
	default_identity();
	if (check_settings(&s, &params, err, sizeof(err)) ||
	    set_up_logging(err, sizeof(err)))
		return fail(err);
	s.cfg = C;
	s.loop = EV_DEFAULT;
	s.metrics = cc_metrics_new();
	s.boot_ms = (uint64_t)wall_ms(NULL);
	s.phase = PHASE_JOINING;
	if (open_http(&s, err, sizeof(err)))
		return fail(err);
	s.core = open_core(&s, &params);
	if (replica_open(&s, err, sizeof(err))) {
		CC_ERROR("%s", err);
		return 1;
	}
	CC_INFO(
	    "scheduler %s (class %s, policy %s, standby %llu) serving on %s",
	    C.name, C.class_name, C.policy, (unsigned long long)C.id,
	    C.advertise);
	start_watchers(&s);
	cell_join(&s);
	ev_run(s.loop, 0);
	shut_down(&s);
	return 0;
}
