/* cmd_watch.c: `cellctl watch`: follows the cell's change stream
 * (GET /v1/watch) through cellclient's watch follower and prints one line
 * per change. The stream is the same on every member, so after a
 * disconnect it resumes on the next member where it stopped; when the cell
 * no longer keeps that far back (410) it says so, and continues from the
 * state's current index. */
#include "cellctl.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* between rounds of members that gave nothing */
static const struct cl_policy watch_policy = {.pause_ms = 100,
                                              .pause_max_ms = 2000};

static struct {
	uint64_t from;
	char *job, *machine;
} W;

struct watch {
	struct ctl *c;
	cl_watch *w;   /* while it follows */
	bool streamed; /* some member ever answered the stream */
	int rc;        /* the exit code once it stopped by itself */
	/* a 410: the member, and the index it no longer keeps */
	bool gone;
	char gone_url[512];
	uint64_t gone_from;
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

static const char *state_of(const struct cs_change *ch)
{
	switch (ch->kind) {
	case CS_CHANGE_TASK:
		return cs_task_state_name((enum cs_task_state)ch->state);
	case CS_CHANGE_JOB:
		return cs_job_state_name((enum cs_job_state)ch->state);
	case CS_CHANGE_MACHINE:
		return cs_machine_state_name((enum cs_machine_state)ch->state);
	default:
		return "-";
	}
}

static void print_change(const struct ctl *c, uint64_t at,
                         const struct cs_change *ch, const char *line)
{
	char object[160], details[256] = "", index[24];
	if (c->json) {
		printf("%s\n", line);
		return;
	}
	if (ch->kind == CS_CHANGE_TASK) {
		snprintf(object, sizeof(object), "%s/%u", ch->job, ch->task);
		snprintf(details, sizeof(details), "machine=%s attempt=%u",
		         ch->machine[0] ? ch->machine : "-", ch->attempt);
		if (ch->end != CS_END_NONE)
			snprintf(details + strlen(details),
			         sizeof(details) - strlen(details),
			         " end=%s exit_code=%d",
			         cs_task_end_name((enum cs_task_end)ch->end),
			         ch->exit_code);
	} else {
		snprintf(object, sizeof(object), "%s",
		         ch->job[0] ? ch->job : ch->machine);
	}
	snprintf(index, sizeof(index), "%" PRIu64, at);
	print_columns(index, cs_change_kind_name(ch->kind), object,
	              state_of(ch), details);
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

/* ---- the watch's handlers ---- */

static void on_change(void *arg, uint64_t index, const struct cs_change *ch,
                      const char *line, size_t len)
{
	struct watch *w = arg;
	(void)len;
	print_change(w->c, index, ch, line);
	fflush(stdout);
}

static void on_open(void *arg, const char *url)
{
	(void)url;
	((struct watch *)arg)->streamed = true;
}

static void on_gone(void *arg, const char *url, uint64_t from,
                    const char *detail)
{
	struct watch *w = arg;
	(void)detail;
	w->w = NULL;
	w->streamed = w->gone = true;
	w->gone_from = from;
	snprintf(w->gone_url, sizeof(w->gone_url), "%s", url);
}

/* A 4xx other than 410 is a mistake no other member will undo. */
static void on_refused(void *arg, const char *url, long http,
                       const char *detail)
{
	struct watch *w = arg;
	(void)url;
	w->w = NULL;
	w->rc = ctl_fail("the cell refused the watch: %s (HTTP %ld)",
	                 *detail ? detail : "no detail", http);
}

static void break_reason(struct watch *w, const struct cl_watch_break *b,
                         char *why, size_t len)
{
	if (b->code) {
		ctl_transport_reason(b->code, b->msg, why, len);
		w->streamed |= b->code == CC_EIO; /* it broke mid-stream */
	} else if (b->http == 200) {
		snprintf(why, len, "the member ended the stream");
	} else {
		snprintf(why, len, "HTTP %ld", b->http);
	}
}

/* Said on the way to the next member; nobody ever streaming after a whole
 * round of them ends the watch. */
static bool on_break(void *arg, const struct cl_watch_break *b)
{
	struct watch *w = arg;
	char why[CC_ERRMSG_SIZE];
	uint64_t from, skip;
	break_reason(w, b, why, sizeof(why));
	if (!w->streamed && b->idle >= b->members) {
		w->w = NULL;
		w->rc = ctl_fail("cannot stream changes from any member (%s); "
		                 "check the cell with cellctl status",
		                 why);
		return false;
	}
	cl_watch_cursor(w->w, &from, &skip);
	ctl_note("watch: lost %s (%s); resuming from index %" PRIu64 " on %s",
	         b->url, why, from, b->next);
	return true;
}

/* ---- the members to rotate through ---- */

/* Every member's API address the cell lists (borrowed from *body, which
 * the caller decrefs). */
static int known_members(struct ctl *c, json_t **body)
{
	return ctl_get(c, "/v1/members", body);
}

static void add_members(struct ctl *c, const json_t *body)
{
	size_t i;
	json_t *m;
	json_array_foreach (json_object_get(body, "members"), i, m) {
		cl_cell_add_url(c->cell, jstr(m, "api_address"));
	}
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

static void filter(char *q, size_t len)
{
	q[0] = 0;
	if (W.job) {
		snprintf(q + strlen(q), len - strlen(q), "job=");
		cc_url_escape(q, len, W.job);
	}
	if (W.machine) {
		snprintf(q + strlen(q), len - strlen(q),
		         "%smachine=", q[0] ? "&" : "");
		cc_url_escape(q, len, W.machine);
	}
}

/* 410: the cell no longer keeps `from`: start again after the state's
 * index on the member that said so. Returns where to go on from. */
static uint64_t reload(struct watch *w)
{
	uint64_t index;
	if (state_index(w->c, w->gone_url, &index)) {
		ctl_note("watch: lost %s (the member could not tell its "
		         "index); resuming from index %" PRIu64 " on %s",
		         w->gone_url, w->gone_from, cl_cell_url(w->c->cell));
		return w->gone_from;
	}
	print_reload(w->c, w->gone_from, index);
	fflush(stdout);
	return index + 1;
}

static int follow(struct watch *w, uint64_t from)
{
	struct cl_watch_handlers h = {.on_change = on_change,
	                              .on_gone = on_gone,
	                              .on_refused = on_refused,
	                              .on_break = on_break,
	                              .on_open = on_open,
	                              .arg = w};
	char q[1024];
	filter(q, sizeof(q));
	for (;;) {
		w->gone = false;
		w->w = cl_watch_start(w->c->cell, from, q, &watch_policy, &h);
		if (!w->w)
			return ctl_fail("%s", cl_cell_errmsg(w->c->cell));
		cl_sync_follow(w->c->cell);
		if (!w->gone)
			return w->rc;
		from = reload(w);
	}
}

static int watch_run(struct ctl *c, int argc, char **argv)
{
	struct watch w = {.c = c, .rc = CTL_ERR};
	uint64_t index = 0;
	json_t *members = NULL;
	if (argc > 0)
		return ctl_usage(c, "unexpected argument \"%.64s\"", argv[0]);
	int rc = known_members(c, &members);
	if (!rc && !W.from)
		rc = state_index(c, NULL, &index);
	if (!rc) {
		/* the servers given, then every member */
		add_members(c, members);
		setvbuf(stdout, NULL, _IOLBF, 0);
		print_header(c);
		rc = follow(&w, W.from ? W.from : index + 1);
	}
	json_decref(members);
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
