/* cmd_watch.c: `cellctl watch`: follows the cell's change stream
 * (GET /v1/watch) and prints one line per change. The stream is the same on
 * every member, so after a disconnect it resumes on the next member where
 * it stopped; when the cell no longer keeps that far back (410) it says so,
 * and continues from the state's current index. */
#include "cellctl.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define PAUSE_FIRST_MS 100u
#define PAUSE_MAX_MS   2000u

static struct {
	uint64_t from;
	char *job, *machine;
} W;

/* Where the stream resumes. One log index may carry several changes (a
 * transaction that kills a job ends all its tasks), and a connection may
 * break between them, so the resume point is (index, how many of its
 * changes were printed): the next stream starts at `from` and drops the
 * first `skip` changes of that index, which every member sends in the same
 * order. A progress line tells that every index up to it is complete. */
struct cursor {
	uint64_t from; /* the next stream starts here */
	uint64_t skip; /* changes of index `from` already printed */
	uint64_t drop; /* this connection: changes of `from` still to drop */
};

struct watch {
	struct ctl *c;
	char **urls; /* members to rotate through (owned) */
	size_t n, cur;
	struct cursor at;
	bool streamed; /* some member ever answered the stream */
};

/* ---- printing ---- */

/* One line of fixed columns (a stream cannot be aligned afterwards),
 * without trailing blanks. */
static void print_columns(const char *index, const char *kind,
                          const char *object, const char *state,
                          const char *details)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "%-8s %-8s %-24s %-10s %s", index,
	                 kind, object, state, details);
	size_t len = n < 0                      ? 0
	             : (size_t)n < sizeof(line) ? (size_t)n
	                                        : sizeof(line) - 1;
	while (len && line[len - 1] == ' ')
		len--;
	printf("%.*s\n", (int)len, line);
}

static void print_header(const struct ctl *c)
{
	if (!c->json)
		print_columns("INDEX", "KIND", "OBJECT", "STATE", "DETAILS");
}

static void print_change(const struct ctl *c, const char *line, const json_t *j)
{
	char object[160], details[256] = "", index[24];
	const char *kind = jstr(j, "kind");
	if (c->json) {
		printf("%s\n", line);
		return;
	}
	if (!strcmp(kind, "task")) {
		snprintf(object, sizeof(object), "%s/%lld", jstr(j, "job"),
		         jint(j, "task"));
		snprintf(details, sizeof(details), "machine=%s attempt=%lld",
		         *jstr(j, "machine") ? jstr(j, "machine") : "-",
		         jint(j, "attempt"));
		if (*jstr(j, "end"))
			snprintf(details + strlen(details),
			         sizeof(details) - strlen(details),
			         " end=%s exit_code=%lld", jstr(j, "end"),
			         jint(j, "exit_code"));
	} else {
		snprintf(object, sizeof(object), "%s",
		         *jstr(j, "job") ? jstr(j, "job") : jstr(j, "machine"));
	}
	snprintf(index, sizeof(index), "%lld", jint(j, "index"));
	print_columns(index, kind, object,
	              *jstr(j, "state") ? jstr(j, "state") : "-", details);
}

static void print_reload(const struct ctl *c, uint64_t asked, uint64_t at)
{
	if (c->json)
		printf("{\"kind\":\"reload\",\"requested\":%" PRIu64
		       ",\"index\":%" PRIu64 "}\n",
		       asked, at);
	else
		printf("-------- reload: the cell no longer keeps changes from "
		       "index %" PRIu64 "; the state is at index %" PRIu64
		       ", watching on from %" PRIu64 " (list machines, jobs "
		       "and tasks for the state itself)\n",
		       asked, at, at + 1);
}

/* ---- one line of the stream ---- */

static int on_line(const char *line, size_t len, void *arg)
{
	struct watch *w = arg;
	struct cursor *at = &w->at;
	json_t *j = json_loadb(line, len, 0, NULL);
	if (!j)
		return 0; /* not ours to judge: skip it */
	uint64_t idx = (uint64_t)jint(j, "index");
	if (!strcmp(jstr(j, "kind"), "progress")) {
		if (idx + 1 > at->from)
			*at = (struct cursor){idx + 1, 0, 0};
	} else if (idx < at->from) {
		/* already printed (a resumed stream replays its index) */
	} else if (idx == at->from && at->drop) {
		at->drop--;
	} else {
		print_change(w->c, line, j);
		fflush(stdout);
		if (idx > at->from)
			*at = (struct cursor){idx, 1, 0};
		else
			at->skip++;
	}
	json_decref(j);
	return 0;
}

/* ---- the members to rotate through ---- */

static void add_url(struct watch *w, const char *url)
{
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	if (!n)
		return;
	for (size_t i = 0; i < w->n; i++)
		if (strlen(w->urls[i]) == n && !strncmp(w->urls[i], url, n))
			return;
	w->urls = cu_xrealloc(w->urls, (w->n + 1) * sizeof(char *));
	w->urls[w->n++] = cu_xstrndup(url, n);
}

/* The servers given, then every member's API address. */
static int known_members(struct watch *w)
{
	json_t *body, *m;
	size_t i;
	for (i = 0; i < w->c->nservers; i++)
		add_url(w, w->c->servers[i]);
	int rc = ctl_get(w->c, "/v1/members", &body);
	if (rc)
		return rc;
	json_array_foreach (json_object_get(body, "members"), i, m) {
		add_url(w, jstr(m, "api_address"));
	}
	json_decref(body);
	return 0;
}

/* The index a watch starts after: the state's applied index. */
static int state_index(struct ctl *c, const char *base, uint64_t *index)
{
	struct ctl_reply r = {0};
	char err[CC_ERRMSG_SIZE];
	json_t *body = NULL;
	int rc = 0;
	if (base) {
		rc = ctl_exchange(c, "GET", base, "/v1/status", NULL, &r, err,
		                  sizeof(err));
		if (!rc && r.status != 200)
			rc = CTL_ERR;
		body = r.body;
	} else {
		rc = ctl_get(c, "/v1/status", &body);
	}
	if (!rc)
		*index = (uint64_t)jint(body, "applied_index");
	if (!base)
		json_decref(body);
	ctl_reply_clear(&r);
	return rc;
}

/* ---- following ---- */

static void stream_url(const struct watch *w, char *url, size_t len)
{
	snprintf(url, len, "%s/v1/watch?from=%" PRIu64, w->urls[w->cur],
	         w->at.from);
	if (W.job) {
		snprintf(url + strlen(url), len - strlen(url), "&job=");
		ctl_path_add(url, len, W.job);
	}
	if (W.machine) {
		snprintf(url + strlen(url), len - strlen(url), "&machine=");
		ctl_path_add(url, len, W.machine);
	}
}

/* 410: the cell no longer keeps `from`: start again at the state's index
 * on the member that said so. */
static int reload(struct watch *w)
{
	uint64_t index;
	if (state_index(w->c, w->urls[w->cur], &index))
		return -1;
	print_reload(w->c, w->at.from, index);
	fflush(stdout);
	w->at = (struct cursor){index + 1, 0, 0};
	return 0;
}

/* A 4xx other than 410 is a mistake no other member will undo. */
static int refused(const struct cc_response *resp)
{
	json_t *j = cc_response_json(resp, NULL, 0);
	const char *d = jstr(j, "detail");
	ctl_fail("the cell refused the watch: %s (HTTP %ld)",
	         *d ? d : "no detail", resp->status);
	json_decref(j);
	return CTL_ERR;
}

/* One stream from the current member. 1: it ended or broke (try the next
 * member); 0: go on with the same member; <0: give up with -code. */
static int follow_once(struct watch *w, char *why, size_t len)
{
	char url[2048];
	struct cc_response resp = {0};
	stream_url(w, url, sizeof(url));
	w->at.drop = w->at.skip;
	int rc = cc_client_stream(w->c->http, url, on_line, w, &resp, why, len);
	int next = 1;
	if (!rc && resp.status == 200) {
		w->streamed = true;
		snprintf(why, len, "the member ended the stream");
	} else if (!rc && resp.status == 410) {
		w->streamed = true;
		next = reload(w) ? 1 : 0;
		snprintf(why, len, "the member could not tell its index");
	} else if (!rc && resp.status >= 400 && resp.status < 500) {
		next = -refused(&resp);
	} else if (!rc) {
		snprintf(why, len, "HTTP %ld", resp.status);
	} else {
		char reason[128];
		ctl_transport_reason(rc, why, reason, sizeof(reason));
		w->streamed |= rc == CC_EIO; /* it broke mid-stream */
		snprintf(why, len, "%s", reason);
	}
	cc_response_clear(&resp);
	return next;
}

static int follow(struct watch *w)
{
	char why[CC_ERRMSG_SIZE];
	unsigned pause = PAUSE_FIRST_MS;
	size_t failed = 0; /* members in a row that gave nothing */
	for (;;) {
		bool had = w->streamed;
		uint64_t before = w->at.from + w->at.skip;
		int rc = follow_once(w, why, sizeof(why));
		if (rc < 0)
			return -rc;
		if (rc == 0)
			continue;
		bool progressed =
		    w->at.from + w->at.skip != before || w->streamed != had;
		failed = progressed ? 0 : failed + 1;
		if (!w->streamed && failed >= w->n)
			return ctl_fail("cannot stream changes from any member "
			                "(%s); check the cell with cellctl "
			                "status",
			                why);
		ctl_note("watch: lost %s (%s); resuming from index %" PRIu64
		         " on %s",
		         w->urls[w->cur], why, w->at.from,
		         w->urls[(w->cur + 1) % w->n]);
		w->cur = (w->cur + 1) % w->n;
		if (failed && failed % w->n == 0) { /* a whole round failed */
			ctl_sleep_ms(pause);
			pause =
			    pause * 2 > PAUSE_MAX_MS ? PAUSE_MAX_MS : pause * 2;
		} else if (!failed) {
			pause = PAUSE_FIRST_MS;
		}
	}
}

static int watch_run(struct ctl *c, int argc, char **argv)
{
	struct watch w = {.c = c};
	uint64_t index = 0;
	if (argc > 0)
		return ctl_usage(c, "unexpected argument \"%.64s\"", argv[0]);
	int rc = known_members(&w);
	if (!rc && !W.from)
		rc = state_index(c, NULL, &index);
	if (!rc) {
		w.at.from = W.from ? W.from : index + 1;
		setvbuf(stdout, NULL, _IOLBF, 0);
		print_header(c);
		rc = follow(&w);
	}
	for (size_t i = 0; i < w.n; i++)
		free(w.urls[i]);
	free(w.urls);
	return rc;
}

static const struct cc_flag watch_flags[] = {
    {"from", CC_FLAG_UINT, NULL,
     "start at this log index (0: changes from now on)", &W.from, 0, 0},
    {"job", CC_FLAG_STRING, NULL, "only changes of this job and its tasks",
     &W.job, 0, 0},
    {"machine", CC_FLAG_STRING, NULL,
     "only changes of this machine and the tasks on it", &W.machine, 0, 0},
    {NULL, 0, NULL, NULL, NULL, 0, 0}};

static const struct ctl_cmd watch_cmds[] = {
    {
        .summary = "follow the cell's changes, one line each",
        .usage = "cellctl watch [--from INDEX] [--job JOB] [--machine NAME]\n"
                 "       [flags]",
        .about =
            "Follows the committed changes (GET /v1/watch) and prints one\n"
            "line per change: the log index, what changed and its new\n"
            "state. When the member it streams from goes away, it resumes\n"
            "on the next member (the servers given, then every member the\n"
            "cell lists) exactly where it stopped: nothing is printed twice\n"
            "and nothing is skipped. When the cell no longer keeps the\n"
            "changes it would need (410), it prints a reload line and\n"
            "continues from the state's current index. With --json each\n"
            "line is the change as the cell sends it. Stop it with Ctrl-C.",
        .examples = "  $ cellctl watch\n"
                    "  $ cellctl watch --job web\n"
                    "  $ cellctl watch --from 1 --json |\n"
                    "        jq -c 'select(.kind == \"task\")'\n",
        .flags = watch_flags,
        .run = watch_run,
    },
    {.run = NULL},
};

const struct ctl_group ctl_group_watch = {
    "watch", "follow the cell's changes, one line each", watch_cmds};
