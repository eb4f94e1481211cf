/* client.c: how cellctl finds and talks to the cell: the server list
 * (--server, CELL_SERVER, the local default), the bearer token, and
 * cellclient's blocking flavour under CL_POLICY_INTERACTIVE (the writer
 * located through /v1/status so that reads see writes, writes resent with
 * the same transaction id while the cell elects a leader), with errors said
 * in words and what to do next (never a raw curl code). */
#include "cellctl.h"

#include <ctype.h>
#include <errno.h>
#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* The API ports ./scripts/run.sh gives its three members (base 7100). */
#define DEFAULT_SERVERS                                                        \
	"http://127.0.0.1:7111,http://127.0.0.1:7112,http://127.0.0.1:7113"
#define DEFAULT_TIMEOUT_MS 10000u
#define CONNECT_TIMEOUT_MS 3000u

/* ---- setup ---- */

/* The URLs a user gave, trimmed and checked. */
struct servers {
	char **v; /* owned, n of them */
	size_t n;
};

static int add_server(struct ctl *c, struct servers *l, const char *s, size_t n,
                      const char *from)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && (isspace((unsigned char)s[n - 1]) || s[n - 1] == '/'))
		n--;
	if (!n)
		return 0;
	if (strncmp(s, "http://", 7) && strncmp(s, "https://", 8))
		return ctl_usage(
		    c,
		    "%s: expected URLs like http://127.0.0.1:7111, "
		    "got \"%.*s\"",
		    from, (int)(n > 64 ? 64 : n), s);
	l->v = cu_xrealloc(l->v, (l->n + 1) * sizeof(char *));
	l->v[l->n++] = cu_xstrndup(s, n);
	return 0;
}

static int parse_servers(struct ctl *c, struct servers *l, const char *list,
                         const char *from)
{
	const char *p = list;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		int rc = add_server(c, l, p, n, from);
		if (rc)
			return rc;
		p += n + (comma != NULL);
	}
	if (!l->n)
		return ctl_usage(c, "%s: expected at least one URL", from);
	return 0;
}

/* The token: the file's content without surrounding whitespace. */
static int read_token(struct ctl *c, const char *path, const char *from)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return ctl_fail("cannot read the token file %s (%s): %s; check "
		                "the path given by %s",
		                path, from, strerror(errno), from);
	char buf[4096];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *s = buf;
	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	if (!n)
		return ctl_fail("the token file %s (%s) is empty", path, from);
	c->token = cu_xstrdup(s);
	return 0;
}

static void on_retry(void *arg, const struct cl_retry *why);

static void open_cell(struct ctl *c, const struct servers *l)
{
	struct cl_config cfg = {
	    .urls = (const char *const *)l->v,
	    .nurls = (unsigned)l->n,
	    .token = c->token,
	    .timeout_ms = c->timeout_ms,
	    .connect_timeout_ms = c->timeout_ms < CONNECT_TIMEOUT_MS
	                              ? c->timeout_ms
	                              : CONNECT_TIMEOUT_MS,
	    .locate = true, /* reads from the writer: read-your-writes */
	    .on_retry = on_retry,
	    .retry_arg = c};
	c->loop = ev_loop_new(EVFLAG_AUTO);
	if (!c->loop)
		abort();
	c->cell = cl_cell_new(c->loop, &cfg);
}

int ctl_connect_setup(struct ctl *c, const struct ctl_opts *o)
{
	const char *env = getenv("CELL_SERVER");
	const char *list = DEFAULT_SERVERS, *from = "the default servers";
	struct servers l = {0};
	if (o->server && *o->server)
		list = o->server, from = "--server";
	else if (env && *env)
		list = env, from = "CELL_SERVER";
	int rc = parse_servers(c, &l, list, from);
	const char *tenv = getenv("CELL_TOKEN_FILE");
	if (!rc && o->token_file && *o->token_file)
		rc = read_token(c, o->token_file, "--token-file");
	else if (!rc && tenv && *tenv)
		rc = read_token(c, tenv, "CELL_TOKEN_FILE");
	c->timeout_ms =
	    o->timeout_ms ? (unsigned)o->timeout_ms : DEFAULT_TIMEOUT_MS;
	if (!rc)
		open_cell(c, &l);
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	return rc;
}

void ctl_disconnect(struct ctl *c)
{
	cl_cell_free(c->cell);
	c->cell = NULL;
	if (c->loop)
		ev_loop_destroy(c->loop);
	c->loop = NULL;
	free(c->token);
	c->token = NULL;
}

void ctl_reply_clear(struct ctl_reply *r)
{
	json_decref(r->body);
	memset(r, 0, sizeof(*r));
}

/* ---- ids and paths ---- */

void ctl_new_id(char *buf, size_t len)
{
	struct timespec ts;
	uint32_t rnd = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid();
	snprintf(buf, len, "cellctl-%lld%03ld-%d-%08x", (long long)ts.tv_sec,
	         ts.tv_nsec / 1000000, (int)getpid(), rnd);
}

/* ---- one exchange ---- */

/* Why no answer came, in words: "connection refused", ... */
void ctl_transport_reason(int code, const char *msg, char *out, size_t len)
{
	if (code == CC_ECONNECT && strstr(msg, "unknown host"))
		snprintf(out, len, "unknown host");
	else if (code == CC_ECONNECT && strstr(msg, "refused"))
		snprintf(out, len, "connection refused");
	else if (code == CC_ECONNECT)
		snprintf(out, len, "could not connect");
	else if (code == CC_ETIMEOUT)
		snprintf(out, len, "no answer in time");
	else if (code == CC_EINVAL)
		snprintf(out, len, "not a valid http:// URL");
	else if (code == CC_EPROTO && strstr(msg, "without JSON"))
		snprintf(out, len, "it is not a Cell API");
	else if (code == CC_EPROTO)
		snprintf(out, len,
		         "the answer is not HTTP, or it closed "
		         "the connection without answering");
	else
		snprintf(out, len, "the connection broke off");
}

static void fill_error(struct ctl_reply *r)
{
	r->error = r->detail = "";
	if (r->status < 300 || !json_is_object(r->body))
		return;
	const char *e = json_string_value(json_object_get(r->body, "error"));
	const char *d = json_string_value(json_object_get(r->body, "detail"));
	r->error = e ? e : "";
	r->detail = d ? d : "";
}

/* An answer as a reply (*r cleared first); a Cell API answers JSON, so
 * anything else is CC_EPROTO, as if no answer came. */
static int take_reply(struct cc_response *resp, const char *base,
                      const char *path, struct ctl_reply *r, char *err,
                      size_t errlen)
{
	json_t *body =
	    resp->len ? json_loadb(resp->body, resp->len, 0, NULL) : NULL;
	if (!body && resp->status != 204)
		return cu_errf(err, errlen, CC_EPROTO,
		               "%s%s answered HTTP %ld without JSON", base,
		               path, resp->status);
	ctl_reply_clear(r);
	r->status = resp->status;
	r->body = body;
	fill_error(r);
	return 0;
}

/* A JSON body as text (NULL for none); the caller frees it. */
static char *body_text(const json_t *body, size_t *len)
{
	char *text =
	    body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
	*len = text ? strlen(text) : 0;
	return text;
}

int ctl_exchange(struct ctl *c, const char *method, const char *base,
                 const char *path, const json_t *body, struct ctl_reply *r,
                 char *err, size_t errlen)
{
	struct cc_response resp;
	size_t len;
	char *text = body_text(body, &len);
	int rc = cl_sync_request_at(c->cell, base, method, path,
	                            text ? "application/json" : NULL, text, len,
	                            &resp, err, errlen);
	free(text);
	if (!rc)
		rc = take_reply(&resp, base, path, r, err, errlen);
	cc_response_clear(&resp);
	return rc;
}

/* ---- the resend rule's notes and verdicts ---- */

/* Says once a request why it waits (cellclient calls this before each
 * pause; resending is silent otherwise). */
static void on_retry(void *arg, const struct cl_retry *why)
{
	struct ctl *c = arg;
	if (c->told || !why->resp)
		return;
	c->told = true;
	json_t *j = cc_response_json(why->resp, NULL, 0);
	const char *e = json_string_value(json_object_get(j, "error"));
	const char *d = json_string_value(json_object_get(j, "detail"));
	e = e ? e : "";
	if (!strcmp(e, "no_leader"))
		ctl_note("the cell has no leader yet (%s); retrying for up to "
		         "%.0f s",
		         why->url, CL_POLICY_INTERACTIVE.deadline_ms / 1000.0);
	else if (!strcmp(e, "outcome_unknown"))
		ctl_note("the leader changed while the change was in flight "
		         "(%s); resending it with the same id, which the cell "
		         "answers once",
		         why->url);
	else
		ctl_note("%s: %s (%s); retrying", why->url, e, d ? d : "");
	json_decref(j);
}

/* Nothing came that a Cell API would say: in words, whether some member
 * answered during this run (then the cell was lost) or none did. */
static int unreachable(struct ctl *c, int code, const char *msg)
{
	char why[128];
	const char *list = cl_cell_urls(c->cell);
	ctl_transport_reason(code, msg, why, sizeof(why));
	if (cl_cell_answered(c->cell))
		return ctl_fail("lost the cell at %s (%s): the members that "
		                "answered stopped answering; check the cell "
		                "with cellctl status",
		                list, why);
	return ctl_fail("cannot reach the cell at %s (%s): is it running? "
	                "start one with ./scripts/run.sh or set "
	                "--server/CELL_SERVER",
	                list, why);
}

/* No answer: refused everywhere (nothing was sent), or what may have been
 * delivered and must not be sent twice. */
static int no_answer(struct ctl *c, unsigned flags, int rc,
                     const struct cc_response *resp, const char *err)
{
	if (rc != CC_ECONNECT && !(flags & CL_IDEMPOTENT)) {
		char why[128];
		ctl_transport_reason(rc, err, why, sizeof(why));
		return ctl_fail("%s: %s: the change may or may not have "
		                "happened; check before retrying",
		                resp->url ? resp->url : "", why);
	}
	return unreachable(c, rc, err);
}

int ctl_request(struct ctl *c, const char *method, const char *path,
                const json_t *body, unsigned flags, struct ctl_reply *r)
{
	struct cc_response resp;
	char err[CC_ERRMSG_SIZE];
	/* a write carries its transaction id, so a resend is answered once */
	unsigned cf = flags & CTL_NO_RETRY ? 0 : CL_IDEMPOTENT;
	size_t len;
	char *text = body_text(body, &len);
	memset(r, 0, sizeof(*r));
	c->told = false;
	int rc = cl_sync_request(
	    c->cell, method, path, text ? "application/json" : NULL, text, len,
	    &CL_POLICY_INTERACTIVE, cf, &resp, err, sizeof(err));
	free(text);
	if (rc) {
		rc = no_answer(c, cf, rc, &resp, err);
	} else if (take_reply(&resp, cl_cell_url(c->cell), path, r, err,
	                      sizeof(err))) {
		/* whatever answered is not a member of a cell */
		rc = unreachable(c, CC_EPROTO, err);
	} else if (cl_resendable(&resp, cf)) { /* the retries ran out */
		rc = ctl_reply_fail(c, r, "the request", false);
		ctl_reply_clear(r);
	}
	cc_response_clear(&resp);
	return rc;
}

int ctl_get(struct ctl *c, const char *path, json_t **out)
{
	struct ctl_reply r;
	*out = NULL;
	int rc = ctl_request(c, "GET", path, NULL, CTL_READ, &r);
	if (rc)
		return rc;
	if (r.status != 200) {
		rc = ctl_reply_fail(c, &r, NULL, false);
		ctl_reply_clear(&r);
		return rc;
	}
	*out = json_incref(r.body);
	ctl_reply_clear(&r);
	return 0;
}

/* ---- errors in words ---- */

static bool is_verdict(const char *error)
{
	return cs_reason_parse(error) > 0;
}

int ctl_reply_fail(const struct ctl *c, const struct ctl_reply *r,
                   const char *what, bool verdicts)
{
	const char *d = r->detail[0] ? r->detail : r->error;
	const char *w = what ? what : "the request";
	if (r->status == 401)
		return ctl_fail(c->token ? "the cell refused %s: the bearer "
		                           "token was not accepted; check the "
		                           "file given by --token-file or "
		                           "CELL_TOKEN_FILE"
		                         : "the cell refused %s: it needs the "
		                           "cell's bearer token; pass "
		                           "--token-file FILE or set "
		                           "CELL_TOKEN_FILE",
		                w);
	if (verdicts && is_verdict(r->error)) {
		ctl_fail("%s: rejected (%s): %s", w, r->error, d);
		return CTL_REJECTED;
	}
	if (r->status == 404 && (what == NULL || is_verdict(r->error)))
		return ctl_fail("%s", d);
	if (r->status == 400)
		return ctl_fail("%s: the cell found it invalid: %s (%s)", w, d,
		                r->error);
	if (r->status == 503)
		return ctl_fail("%s: the cell cannot do it now: %s; retry in a "
		                "moment (cellctl status shows the members)",
		                w, d);
	return ctl_fail("%s: the cell answered HTTP %ld: %s", w, r->status,
	                d[0] ? d : "no detail");
}

/* ---- REST writes: one change, one verdict ---- */

int ctl_write(struct ctl *c, const char *method, const char *path,
              const json_t *body, const char *what, json_t *entry)
{
	char id[96], full[1024];
	struct ctl_reply r;
	ctl_new_id(id, sizeof(id));
	snprintf(full, sizeof(full), "%s%stxn_id=%s", path,
	         strchr(path, '?') ? "&" : "?", id);
	int rc = ctl_request(c, method, full, body, CTL_WRITE, &r);
	if (rc)
		return rc;
	if (r.status == 200 || r.status == 201) {
		json_object_set_new(entry, "ok", json_true());
		json_object_set_new(entry, "index",
		                    json_integer(jint(r.body, "index")));
		json_object_set_new(entry, "duplicate",
		                    json_boolean(json_is_true(
		                        json_object_get(r.body, "duplicate"))));
	} else {
		rc = ctl_reply_fail(c, &r, what, true);
		json_object_set_new(entry, "ok", json_false());
		json_object_set_new(entry, "error", json_string(r.error));
		json_object_set_new(entry, "detail", json_string(r.detail));
	}
	ctl_reply_clear(&r);
	return rc;
}

int ctl_worse(int a, int b)
{
	/* an error outranks a rejection, which outranks success */
	if (a == CTL_ERR || b == CTL_ERR)
		return CTL_ERR;
	return a > b ? a : b;
}
