/* watch.c: GET /v1/watch, the committed changes as NDJSON, and the window
 * behind it (docs/ARCHITECTURE.md §3). Every replica keeps the changes of
 * its last `window` applies (the same on every member: the feed is
 * deterministic), so a client may resume from any member with ?from=INDEX
 * after a disconnect; an INDEX older than the window answers 410 and the
 * client reloads the state instead. Each change is formatted once, for
 * every stream that wants it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

struct rec {
	uint64_t index;
	struct cs_change c;
};

/* One stream. Owned by the watch while linked in `subs`; freed when the
 * stream ends, whoever ends it. */
struct sub {
	struct cu_list link;
	struct cc_stream *stream;
	char job[CS_NAME_MAX + 1];     /* "" = any */
	char machine[CS_NAME_MAX + 1]; /* "" = any */
	char agent[CS_AGENT_MAX + 1];  /* "" = any */
};

struct cd_watch {
	const cst_store *store; /* borrowed; NULL until the core serves */
	struct rec *ring;       /* owned, cap entries; oldest at head */
	size_t cap, head, len;
	/* Invariant: every change of every index >= lo that this replica
	 * applied is in the ring. */
	uint64_t lo;
	struct cu_list subs; /* struct sub */
};

struct cd_watch *cd_watch_new(uint64_t window)
{
	struct cd_watch *w = cu_xcalloc(1, sizeof(*w));
	w->cap = window;
	w->ring = cu_xcalloc(w->cap, sizeof(*w->ring));
	w->lo = 1;
	cu_list_init(&w->subs);
	return w;
}

void cd_watch_serve(struct cd_watch *w, const cst_store *store)
{
	w->store = store;
}

static void close_sub(struct sub *s)
{
	cc_stream_close(s->stream);
	cu_list_remove(&s->link);
	free(s);
}

/* Ends every stream (a restore, or a core freed before its server). */
static void close_all(struct cd_watch *w)
{
	struct cu_list *it, *tmp;
	CU_LIST_FOREACH_SAFE (it, tmp, &w->subs) {
		close_sub(cu_container_of(it, struct sub, link));
	}
}

void cd_watch_free(struct cd_watch *w)
{
	if (!w)
		return;
	close_all(w);
	free(w->ring);
	free(w);
}

/* One change on its way to the streams: its text and the agent of its
 * machine, each found once, when a stream first needs it. */
struct line {
	const struct cd_watch *w;
	uint64_t index;
	const struct cs_change *c;
	bool have_agent, have_text;
	const char *agent; /* the machine's agent URL, or NULL */
	size_t len;
	char text[CS_CHANGE_TEXT_MAX + 1];
};

/* Not an initializer: that would clear the text buffer every time. */
static void line_init(struct line *l, const struct cd_watch *w, uint64_t index,
                      const struct cs_change *c)
{
	l->w = w;
	l->index = index;
	l->c = c;
	l->have_agent = l->have_text = false;
	l->agent = NULL;
	l->len = 0;
}

/* Only streams ask, and streams exist only once the core serves. */
static const char *line_agent(struct line *l)
{
	if (!l->have_agent) {
		const struct cs_machine *m =
		    l->c->machine[0]
		        ? cs_machine_find(cst_state(l->w->store), l->c->machine)
		        : NULL;
		l->agent = m ? m->agent : NULL;
		l->have_agent = true;
	}
	return l->agent;
}

/* ?agent=URL: the changes of the machines that name URL as their agent
 * (as the state has them now), the tasks on or leaving them, and every
 * job_removed, so that the agent can forget what it kept of the job. */
static bool matches(const struct sub *s, struct line *l)
{
	const struct cs_change *c = l->c;
	if ((s->job[0] && strcmp(s->job, c->job)) ||
	    (s->machine[0] && strcmp(s->machine, c->machine)))
		return false;
	if (!s->agent[0] || c->kind == CS_CHANGE_JOB_REMOVED)
		return true;
	const char *agent = line_agent(l);
	return agent && !strcmp(agent, s->agent);
}

/* false: the client is too slow and the stream must end (it resumes) */
static bool send_change(struct sub *s, struct line *l)
{
	if (!matches(s, l))
		return true;
	if (!l->have_text) {
		l->len = cs_change_format(l->c, l->index, l->text,
		                          sizeof(l->text) - 1);
		l->have_text = true;
	}
	if (l->len >= sizeof(l->text) - 1) { /* never for a valid state */
		json_t *j = cs_change_encode(l->c, l->index);
		int rc = cc_stream_write_json(s->stream, j);
		json_decref(j);
		return rc == 0;
	}
	l->text[l->len] = '\n'; /* NDJSON; the buffer has room for it */
	int rc = cc_stream_write(s->stream, l->text, l->len + 1);
	l->text[l->len] = 0;
	return rc == 0;
}

static void fan_out(struct cd_watch *w, uint64_t index,
                    const struct cs_change *c)
{
	struct line l;
	struct cu_list *it, *tmp;
	line_init(&l, w, index, c);
	CU_LIST_FOREACH_SAFE (it, tmp, &w->subs) {
		struct sub *s = cu_container_of(it, struct sub, link);
		if (!send_change(s, &l))
			close_sub(s);
	}
}

static void keep(struct cd_watch *w, uint64_t index, const struct cs_change *c)
{
	if (w->len == w->cap) { /* forget the oldest: the window moves on */
		w->lo = w->ring[w->head].index + 1;
		w->head = (w->head + 1) % w->cap;
		w->len--;
	}
	struct rec *r = &w->ring[(w->head + w->len++) % w->cap];
	r->index = index;
	r->c = *c;
}

void cd_watch_applied(struct cd_watch *w, uint64_t index, const cs_result *res)
{
	for (uint32_t i = 0; i < res->nchanges; i++) {
		keep(w, index, &res->changes[i]);
		fan_out(w, index, &res->changes[i]);
	}
}

void cd_watch_restored(struct cd_watch *w, uint64_t index)
{
	w->len = 0;
	w->head = 0;
	w->lo = index + 1;
	close_all(w);
}

void cd_watch_progress(struct cd_watch *w, uint64_t index)
{
	json_t *j = json_pack("{s:s,s:I}", "kind", "progress", "index",
	                      (json_int_t)index);
	struct cu_list *it, *tmp;
	CU_LIST_FOREACH_SAFE (it, tmp, &w->subs) {
		struct sub *s = cu_container_of(it, struct sub, link);
		if (cc_stream_write_json(s->stream, j))
			close_sub(s);
	}
	json_decref(j);
}

static void on_gone(struct cc_stream *stream, void *arg)
{
	struct sub *s = arg;
	(void)stream;
	cu_list_remove(&s->link);
	free(s);
}

/* ---- the request ---- */

static bool name_param(struct cc_request *r, const char *key, char *out)
{
	const char *v = cc_request_query(r, key);
	if (!v) {
		out[0] = 0;
		return true;
	}
	if (!*v || strlen(v) > CS_NAME_MAX) {
		cc_reply_error(r, 400, "bad_query",
		               "%s: expected a name of 1-63 characters", key);
		return false;
	}
	strcpy(out, v);
	return true;
}

static bool agent_param(struct cc_request *r, char *out)
{
	const char *v = cc_request_query(r, "agent");
	if (!v) {
		out[0] = 0;
		return true;
	}
	if (!*v || strlen(v) > CS_AGENT_MAX) {
		cc_reply_error(r, 400, "bad_query",
		               "agent: expected an agent URL of 1-%u bytes",
		               CS_AGENT_MAX);
		return false;
	}
	strcpy(out, v);
	return true;
}

static bool from_param(const struct cd_watch *w, struct cc_request *r,
                       uint64_t *from)
{
	const char *v = cc_request_query(r, "from");
	uint64_t applied = cst_applied_index(w->store);
	*from = applied + 1; /* absent: what happens from now on */
	if (!v)
		return true;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	/* errno: an index past 2^64-1 would quietly become 2^64-1 */
	if (!*v || *end || v[0] == '-' || errno == ERANGE) {
		cc_reply_error(r, 400, "bad_query",
		               "from: expected a log index (an integer >= 0), "
		               "got \"%.32s\"",
		               v);
		return false;
	}
	*from = n ? n : 1;
	if (*from < w->lo && *from <= applied) {
		cc_reply_error(r, 410, "gone",
		               "index %llu is older than this member's window "
		               "(it keeps changes from index %llu): reload the "
		               "state, then watch from its index",
		               n, (unsigned long long)w->lo);
		return false;
	}
	return true;
}

/* Sends the kept changes from `from` on; false when the client cannot take
 * them all (it gets what fit, then the stream ends and it resumes). */
static bool replay(const struct cd_watch *w, struct sub *s, uint64_t from)
{
	for (size_t i = 0; i < w->len; i++) {
		const struct rec *r = &w->ring[(w->head + i) % w->cap];
		if (r->index < from)
			continue;
		struct line l;
		line_init(&l, w, r->index, &r->c);
		if (!send_change(s, &l))
			return false;
	}
	return true;
}

/* The filters of the query into s; false with 400 (or 410) sent. */
static bool parse_query(const struct cd_watch *w, struct cc_request *r,
                        struct sub *s, uint64_t *from)
{
	static const char *const params[] = {"from", "job", "machine", "agent",
	                                     NULL};
	return cd_only_params(r, params) && from_param(w, r, from) &&
	       name_param(r, "job", s->job) &&
	       name_param(r, "machine", s->machine) && agent_param(r, s->agent);
}

void cd_get_watch(struct cc_request *r, void *arg)
{
	cd_core *c = arg;
	struct cd_watch *w = c->watch;
	struct sub *s = cu_xcalloc(1, sizeof(*s));
	uint64_t from;
	cu_list_init(&s->link);
	if (!parse_query(w, r, s, &from) ||
	    !(s->stream = cc_stream_open(r, 200, NULL, on_gone, s))) {
		free(s);
		return;
	}
	cu_list_push_back(&w->subs, &s->link);
	if (!replay(w, s, from))
		close_sub(s);
}
