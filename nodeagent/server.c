/* server.c: the agent's own HTTP server. GET /v1/logs/JOB/INDEX serves an
 * attempt's stdout or stderr from the data folder (cellctl task logs finds
 * it through the machine's `agent` URL); /v1/status tells people and tests
 * where the agent is; /metrics is for Prometheus. Output is served from the
 * agent rather than uploaded: it stays where it was written, costs the cell
 * nothing, and is readable while the task still runs. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_TAIL_MAX (64u << 20) /* bytes served at most, from the end */

static void get_metrics(struct cc_request *r, void *arg)
{
	cc_reply_metrics(r, ((struct agent *)arg)->metrics);
}

static const char *phase_name(enum agent_phase p)
{
	static const char *const names[] = {"registering", "machines",
	                                    "loading", "watching"};
	return names[p];
}

static void get_status(struct cc_request *r, void *arg)
{
	struct agent *a = arg;
	struct ag_counts n;
	ag_core_counts(a->core, &n);
	json_t *j = json_pack(
	    "{s:s,s:s,s:I,s:s,s:b,s:I,s:{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}}",
	    "name", a->cfg.name, "mode", a->hollow ? "hollow" : "real",
	    "machines", (json_int_t)a->nmachines, "phase", phase_name(a->phase),
	    "loaded", n.loaded, "watch_from", (json_int_t)cell_watch_from(a),
	    "tasks", "wanted", (json_int_t)n.wanted, "running",
	    (json_int_t)n.running, "waiting", (json_int_t)n.waiting,
	    "reports_queued", (json_int_t)n.reports, "reports_inflight",
	    (json_int_t)a->posts, "started", (json_int_t)n.started, "ended",
	    (json_int_t)n.ended, "stopped", (json_int_t)n.stopped, "refused",
	    (json_int_t)n.refused);
	cc_reply_json(r, 200, j);
}

/* Up to `tail` bytes from the end of the file at path. */
static void reply_file_tail(struct cc_request *r, const char *path,
                            uint64_t tail)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		cc_reply_error(r, 404, "no_log", "%s: %s", path,
		               strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	off_t from = st.st_size > (off_t)tail ? st.st_size - (off_t)tail : 0;
	size_t len = (size_t)(st.st_size - from), got = 0;
	char *buf = cu_xmalloc(len + 1);
	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, from + (off_t)got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	cc_reply_text(r, 200, "text/plain; charset=utf-8", buf, got);
	free(buf);
}

/* GET /v1/logs/JOB/INDEX?attempt=N&stream=stdout|stderr&tail=BYTES */
static void get_logs(struct cc_request *r, void *arg)
{
	struct agent *a = arg;
	const char *sub = cc_request_subpath(r);
	char job[CS_NAME_MAX + 2];
	unsigned index;
	int used = 0;
	if (sscanf(sub, "/%64[^/]/%u%n", job, &index, &used) != 2 ||
	    sub[used] || job[0] == '.') {
		cc_reply_error(r, 400, "bad_path",
		               "expected /v1/logs/JOB/INDEX, got /v1/logs%.80s",
		               sub);
		return;
	}
	if (!a->real) {
		cc_reply_error(r, 404, "no_log",
		               "hollow machines run no process and keep no "
		               "output");
		return;
	}
	uint64_t attempt = 0, tail = 0; /* 0: all of it, up to the max */
	const char *stream = cc_request_query(r, "stream");
	if (!cc_request_query_u64(r, "attempt", 0, UINT32_MAX, &attempt) ||
	    !cc_request_query_u64(r, "tail", 0, LOG_TAIL_MAX, &tail))
		return;
	if (!tail)
		tail = LOG_TAIL_MAX;
	char path[4096], err[CC_ERRMSG_SIZE];
	int rc = real_log_path(a->real, job, index, (uint32_t)attempt,
	                       stream ? stream : "stdout", path, sizeof(path),
	                       err, sizeof(err));
	if (rc == CC_EINVAL)
		cc_reply_error(r, 400, "bad_query", "%s", err);
	else if (rc)
		cc_reply_error(r, 404, "no_log", "%s", err);
	else
		reply_file_tail(r, path, tail);
}

static double gauge_running(void *arg)
{
	struct ag_counts n;
	ag_core_counts(((struct agent *)arg)->core, &n);
	return (double)n.running;
}

static double gauge_machines(void *arg)
{
	return ((struct agent *)arg)->nmachines;
}

static void add_metrics(struct agent *a)
{
	cc_metrics *m = a->metrics;
	cc_gauge_fn_new(m, "cellagent_machines", "Machines this agent serves",
	                gauge_machines, a);
	cc_gauge_fn_new(m, "cellagent_tasks_running",
	                "Attempts started here and not yet ended",
	                gauge_running, a);
	a->m_reports = cc_counter_new(m, "cellagent_reports_total",
	                              "Task reports sent to the cell");
	a->m_rejected = cc_counter_new(
	    m, "cellagent_reports_rejected_total",
	    "Task reports the cell did not take (it had moved on)");
	a->m_changes = cc_counter_new(m, "cellagent_watch_changes_total",
	                              "Changes read from the watch stream");
	a->m_reloads =
	    cc_counter_new(m, "cellagent_reloads_total",
	                   "Task reloads after the watch window moved past us");
	a->m_http_retries =
	    cc_counter_new(m, "cellagent_http_retries_total",
	                   "Requests tried again through another member");
}

int server_start(struct agent *a, char *errbuf, size_t errlen)
{
	char host[128];
	uint16_t port;
	if (cc_split_hostport(a->cfg.listen, host, sizeof(host), &port)) {
		snprintf(errbuf, errlen,
		         "--listen: expected HOST:PORT, got \"%s\"",
		         a->cfg.listen);
		return -1;
	}
	struct cc_server_config sc = {
	    .address = host, .port = port, .metrics = a->metrics};
	if (cc_server_new(a->loop, &sc, &a->server, errbuf, errlen) ||
	    cc_server_route(a->server, "GET", "/v1/logs/", get_logs, a, errbuf,
	                    errlen) ||
	    cc_server_route(a->server, "GET", "/v1/status", get_status, a,
	                    errbuf, errlen) ||
	    cc_server_route(a->server, "GET", "/metrics", get_metrics, a,
	                    errbuf, errlen))
		return -1;
	add_metrics(a);
	return 0;
}
