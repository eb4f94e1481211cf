/* client.c: how cellctl finds and talks to the cell: the server list
 * (--server, CELL_SERVER, the local default), the bearer token, reads from
 * the leader when there is one, writes retried with the same transaction id
 * while the cell elects a leader, and errors said in words with what to do
 * next (never a raw curl code). */
#include "cellctl.h"

#include <ctype.h>
#include <errno.h>
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
/* How long, and how many rounds over the members, a request keeps trying
 * while the cell has no leader: an election takes about one election
 * timeout (1-2 s by default), so this covers several failed rounds without
 * hanging a script for long. */
#define WRITE_RETRY_MS   15000.0
#define MAX_ROUNDS       10
#define BACKOFF_FIRST_MS 100u
#define BACKOFF_MAX_MS   1000u

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void ctl_sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000),
	                      (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- setup ---- */

static int add_server(struct ctl *c, const char *s, size_t n, const char *from)
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
	c->servers =
	    cu_xrealloc(c->servers, (c->nservers + 1) * sizeof(char *));
	c->servers[c->nservers++] = cu_xstrndup(s, n);
	return 0;
}

static int parse_servers(struct ctl *c, const char *list, const char *from)
{
	const char *p = list;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		int rc = add_server(c, p, n, from);
		if (rc)
			return rc;
		p += n + (comma != NULL);
	}
	if (!c->nservers)
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

int ctl_connect_setup(struct ctl *c, const struct ctl_opts *o)
{
	const char *env = getenv("CELL_SERVER");
	const char *list = DEFAULT_SERVERS, *from = "the default servers";
	if (o->server && *o->server)
		list = o->server, from = "--server";
	else if (env && *env)
		list = env, from = "CELL_SERVER";
	int rc = parse_servers(c, list, from);
	const char *tenv = getenv("CELL_TOKEN_FILE");
	if (!rc && o->token_file && *o->token_file)
		rc = read_token(c, o->token_file, "--token-file");
	else if (!rc && tenv && *tenv)
		rc = read_token(c, tenv, "CELL_TOKEN_FILE");
	if (rc)
		return rc;
	c->timeout_ms =
	    o->timeout_ms ? (unsigned)o->timeout_ms : DEFAULT_TIMEOUT_MS;
	struct cc_client_config cfg = {.token = c->token,
	                               .timeout_ms = c->timeout_ms,
	                               .connect_timeout_ms =
	                                   c->timeout_ms < CONNECT_TIMEOUT_MS
	                                       ? c->timeout_ms
	                                       : CONNECT_TIMEOUT_MS};
	c->http = cc_client_new(&cfg);
	return 0;
}

void ctl_disconnect(struct ctl *c)
{
	for (size_t i = 0; i < c->nservers; i++)
		free(c->servers[i]);
	free(c->servers);
	c->servers = NULL;
	c->nservers = 0;
	free(c->leader);
	c->leader = NULL;
	free(c->token);
	c->token = NULL;
	cc_client_free(c->http);
	c->http = NULL;
}

void ctl_reply_clear(struct ctl_reply *r)
{
	json_decref(r->body);
	free(r->base);
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

void ctl_path_add(char *buf, size_t len, const char *s)
{
	size_t n = strlen(buf);
	for (; *s && n + 4 < len; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || strchr("-._~", ch))
			buf[n++] = (char)ch;
		else
			n += (size_t)snprintf(buf + n, len - n, "%%%02X", ch);
	}
	buf[n] = 0;
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

int ctl_exchange(struct ctl *c, const char *method, const char *base,
                 const char *path, const json_t *body, struct ctl_reply *r,
                 char *err, size_t errlen)
{
	char url[2048];
	struct cc_response resp = {0};
	snprintf(url, sizeof(url), "%s%s", base, path);
	int rc = body ? cc_client_json(c->http, method, url, body, &resp, err,
	                               errlen)
	              : cc_client_request(c->http, method, url, NULL, 0, &resp,
	                                  err, errlen);
	if (rc) {
		cc_response_clear(&resp);
		return rc;
	}
	ctl_reply_clear(r);
	r->status = resp.status;
	r->body = resp.len ? json_loadb(resp.body, resp.len, 0, NULL) : NULL;
	r->base = cu_xstrdup(base);
	cc_response_clear(&resp);
	if (!r->body && r->status != 204) {
		snprintf(err, errlen, "%s answered HTTP %ld without JSON", url,
		         r->status);
		ctl_reply_clear(r);
		return CC_EPROTO;
	}
	fill_error(r);
	return 0;
}

/* ---- finding the leader (reads go there: read-your-writes) ---- */

struct attempt {
	int code;                 /* last transport error, 0 if none */
	char err[CC_ERRMSG_SIZE]; /* its message */
	bool told;                /* the user was told we retry */
};

static void locate(struct ctl *c, struct attempt *a)
{
	struct ctl_reply r = {0};
	c->located = true;
	free(c->leader);
	c->leader = NULL;
	for (size_t k = 0; k < c->nservers; k++) {
		size_t i = (c->next + k) % c->nservers;
		int rc = ctl_exchange(c, "GET", c->servers[i], "/v1/status",
		                      NULL, &r, a->err, sizeof(a->err));
		if (rc) {
			a->code = rc;
			continue;
		}
		c->answered = true;
		c->next = i;
		const json_t *l = json_object_get(r.body, "leader");
		if (json_is_true(json_object_get(r.body, "trusted")))
			c->leader = cu_xstrdup(c->servers[i]);
		else if (*jstr(l, "api_address"))
			c->leader = cu_xstrdup(jstr(l, "api_address"));
		break;
	}
	ctl_reply_clear(&r);
}

/* The URLs to try this round (at most max): the leader first, then every
 * server from c->next on. */
static size_t candidates(struct ctl *c, const char **out, size_t max)
{
	size_t n = 0;
	if (c->leader)
		out[n++] = c->leader;
	for (size_t k = 0; k < c->nservers && n < max; k++) {
		const char *s = c->servers[(c->next + k) % c->nservers];
		if (!c->leader || strcmp(s, c->leader))
			out[n++] = s;
	}
	return n;
}

static int unreachable(const struct ctl *c, int code, const char *msg)
{
	char why[128], list[1024] = "";
	ctl_transport_reason(code, msg, why, sizeof(why));
	for (size_t i = 0; i < c->nservers; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
		         "%s%s", i ? ", " : "", c->servers[i]);
	if (c->answered)
		return ctl_fail("lost the cell at %s (%s): the members that "
		                "answered stopped answering; check the cell "
		                "with cellctl status",
		                list, why);
	return ctl_fail("cannot reach the cell at %s (%s): is it running? "
	                "start one with ./scripts/run.sh or set "
	                "--server/CELL_SERVER",
	                list, why);
}

/* A 503 a write may retry with the same id: no leader yet, or the leader
 * lost in flight (the id makes a resend answer the first verdict). */
static bool retryable(const struct ctl_reply *r, unsigned flags)
{
	if (r->status != 503)
		return false;
	if (!strcmp(r->error, "no_leader"))
		return true; /* refused before anything happened */
	return (flags & CTL_WRITE) && !(flags & CTL_NO_RETRY);
}

/* Says once why a request waits (retrying is silent otherwise). */
static void tell_retry(const char *url, const struct ctl_reply *r)
{
	if (!strcmp(r->error, "no_leader"))
		ctl_note("the cell has no leader yet (%s); retrying for up to "
		         "%.0f s",
		         url, WRITE_RETRY_MS / 1000);
	else if (!strcmp(r->error, "outcome_unknown"))
		ctl_note("the leader changed while the change was in flight "
		         "(%s); resending it with the same id, which the cell "
		         "answers once",
		         url);
	else
		ctl_note("%s: %s (%s); retrying", url, r->error, r->detail);
}

/* One pass over the candidates. 1: an answer is in *r; 0: try again after
 * a pause; <0: give up with that exit code (already printed). */
static int round_once(struct ctl *c, const char *method, const char *path,
                      const json_t *body, unsigned flags, struct ctl_reply *r,
                      struct attempt *a)
{
	const char *urls[64];
	size_t n = candidates(c, urls, 64);
	for (size_t i = 0; i < n; i++) {
		int rc = ctl_exchange(c, method, urls[i], path, body, r, a->err,
		                      sizeof(a->err));
		if (rc == 0) {
			c->answered = true;
			if (!retryable(r, flags))
				return 1;
			if (!a->told)
				tell_retry(urls[i], r);
			a->told = true;
			c->located = false; /* the leader moved: look again */
			return 0;
		}
		a->code = rc;
		/* refused: nothing was sent, the next member is safe; other
		 * breaks may have delivered the request, which only an
		 * idempotent one may send again */
		if (rc != CC_ECONNECT && (flags & CTL_NO_RETRY)) {
			char why[128];
			ctl_transport_reason(rc, a->err, why, sizeof(why));
			ctl_fail("%s%s: %s: the change may or may not have "
			         "happened; check before retrying",
			         urls[i], path, why);
			return -CTL_ERR;
		}
	}
	c->located = false;
	return 0;
}

int ctl_request(struct ctl *c, const char *method, const char *path,
                const json_t *body, unsigned flags, struct ctl_reply *r)
{
	struct attempt a = {0};
	double deadline = now_ms() + WRITE_RETRY_MS;
	unsigned pause = BACKOFF_FIRST_MS;
	memset(r, 0, sizeof(*r));
	for (int round = 1;; round++) {
		if (!c->located)
			locate(c, &a);
		if (!c->answered)
			break; /* nobody at any address: say so at once */
		int rc = round_once(c, method, path, body, flags, r, &a);
		if (rc > 0)
			return 0;
		if (rc < 0)
			return -rc;
		if (!c->answered || now_ms() + pause > deadline ||
		    round == MAX_ROUNDS)
			break;
		ctl_sleep_ms(pause);
		pause = pause * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : pause * 2;
	}
	if (r->status) { /* still 503 after the retries */
		int rc = ctl_reply_fail(c, r, "the request", false);
		ctl_reply_clear(r);
		return rc;
	}
	return unreachable(c, a.code, a.err);
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
