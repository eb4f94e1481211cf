/* http_client.c: a small blocking HTTP client over libcurl's easy API, with
 * leader redirects followed and errors said in words; and the libcurl
 * plumbing it shares with the asynchronous client (http_internal.h). */
#include "http_internal.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS         10000u
#define DEFAULT_CONNECT_TIMEOUT_MS 3000u
#define DEFAULT_MAX_REDIRECTS      5u
#define DEFAULT_MAX_BODY           ((size_t)256 << 20)

struct cc_client {
	CURL *curl; /* kept between requests: it keeps connections open */
	struct cc_http_opts o;
	char curl_err[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		cc_die("http client: curl_global_init failed");
}

void cc_http_opts_init(struct cc_http_opts *o,
                       const struct cc_client_config *cfg)
{
	static const struct cc_client_config defaults;
	if (!cfg)
		cfg = &defaults;
	pthread_once(&curl_once, curl_init_once);
	memset(o, 0, sizeof(*o));
	if (cfg->token && *cfg->token) {
		size_t n = strlen(cfg->token) + 32;
		o->auth = cu_xmalloc(n);
		snprintf(o->auth, n, "Authorization: Bearer %s", cfg->token);
	}
	o->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DEFAULT_TIMEOUT_MS;
	o->connect_timeout_ms = cfg->connect_timeout_ms
	                            ? cfg->connect_timeout_ms
	                            : DEFAULT_CONNECT_TIMEOUT_MS;
	o->max_redirects =
	    cfg->max_redirects ? cfg->max_redirects : DEFAULT_MAX_REDIRECTS;
	o->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
}

void cc_http_opts_free(struct cc_http_opts *o)
{
	free(o->auth);
	o->auth = NULL;
}

cc_client *cc_client_new(const struct cc_client_config *cfg)
{
	cc_client *c = cu_xcalloc(1, sizeof(*c));
	cc_http_opts_init(&c->o, cfg);
	c->curl = curl_easy_init();
	if (!c->curl)
		cc_die("http client: curl_easy_init failed");
	return c;
}

void cc_client_free(cc_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	cc_http_opts_free(&c->o);
	free(c);
}

void cc_response_clear(struct cc_response *r)
{
	free(r->body);
	free(r->content_type);
	free(r->url);
	memset(r, 0, sizeof(*r));
}

json_t *cc_response_json(const struct cc_response *r, char *errbuf,
                         size_t errlen)
{
	json_error_t e;
	json_t *j = r->body ? json_loadb(r->body, r->len, 0, &e) : NULL;
	if (!j)
		cu_errf(
		    errbuf, errlen, CC_EPROTO,
		    "answer from %s: invalid JSON at line %d, column %d: %s",
		    r->url ? r->url : "?", r->body ? e.line : 0,
		    r->body ? e.column : 0, r->body ? e.text : "no body");
	return j;
}

/* ---- where the body goes --------------------------------------------- */

static bool status_ok(CURL *h)
{
	long status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	return status >= 200 && status < 300;
}

/* Appends n bytes of a 2xx stream, moving `complete` past the last "\n".
 * False when a line passes the limit: then only the whole lines before it
 * are kept, for cc_sink_lines to hand out before the error. */
static bool add_lines(struct cc_sink *s, const char *data, size_t n)
{
	size_t max = s->max_line ? s->max_line : s->max;
	size_t partial = s->line.len - s->complete, off = 0;
	const char *nl;
	bool fits = true;
	while ((nl = memchr(data + off, '\n', n - off))) {
		size_t end = (size_t)(nl - data);
		if (partial + (end - off) > max) {
			fits = false;
			break;
		}
		partial = 0;
		off = end + 1;
	}
	if (fits && partial + (n - off) > max)
		fits = false;
	if (!fits) {
		if (off) {
			cu_buf_add(&s->line, data, off);
			s->complete = s->line.len;
		}
		s->line.len = s->complete;
		if (s->line.p)
			s->line.p[s->line.len] = '\0';
		s->line_too_long = true;
		return false;
	}
	cu_buf_add(&s->line, data, n);
	if (off)
		s->complete = s->line.len - (n - off);
	return true;
}

/* One line to fn, its "\r" dropped; false when fn asks to stop. */
static bool hand_out(struct cc_sink *s, char *line, size_t n)
{
	if (n && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	if (s->fn(line, n, s->arg)) {
		s->stopped = true;
		return false;
	}
	return true;
}

bool cc_sink_lines(struct cc_sink *s, bool end)
{
	if (!s->fn || s->stopped)
		return !s->stopped;
	struct cu_buf *b = &s->line;
	size_t off = 0;
	while (off < s->complete) {
		char *start = b->p + off;
		char *nl = memchr(start, '\n', s->complete - off);
		off += (size_t)(nl - start) + 1;
		if (!hand_out(s, start, (size_t)(nl - start)))
			return false;
	}
	if (s->complete) {
		memmove(b->p, b->p + s->complete, b->len - s->complete);
		b->len -= s->complete;
		b->p[b->len] = '\0';
		s->complete = 0;
	}
	if (end && b->len) {
		/* a stream that ended on a line without its newline: that
		 * line counts */
		size_t n = b->len;
		b->len = 0;
		return hand_out(s, b->p, n);
	}
	return true;
}

size_t cc_curl_on_write(char *data, size_t size, size_t nmemb, void *arg)
{
	struct cc_sink *s = arg;
	size_t n = size * nmemb;
	if (s->fn && status_ok(s->curl)) {
		/* the lines before one too long still count */
		bool fits = add_lines(s, data, n);
		if (!s->deferred && !cc_sink_lines(s, false))
			return 0;
		return fits ? n : 0; /* 0: curl stops, CURLE_WRITE_ERROR */
	}
	if (s->body.len + n > s->max) {
		s->too_big = true;
		return 0;
	}
	cu_buf_add(&s->body, data, n);
	return n;
}

/* ---- one exchange ---------------------------------------------------- */

struct curl_slist *cc_curl_headers(const struct cc_http_opts *o,
                                   const char *content_type)
{
	struct curl_slist *h = NULL;
	if (o->auth)
		h = curl_slist_append(h, o->auth);
	/* curl would otherwise label every body as a form */
	h = curl_slist_append(h, content_type ? content_type : "Content-Type:");
	if (!h)
		cc_die("http client: out of memory");
	return h;
}

static void set_method(CURL *h, const char *method, const char *body,
                       size_t len)
{
	if (strcmp(method, "GET") == 0) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		return;
	}
	/* a body (possibly empty, so Content-Length: 0 goes out) with the
	 * method named as given, kept the same across redirects */
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
	                 (curl_off_t)(body ? len : 0));
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
}

void cc_curl_prepare(CURL *h, const struct cc_http_opts *o, const char *method,
                     const char *url, const char *body, size_t len,
                     struct curl_slist *headers, struct cc_sink *sink,
                     char *curl_err)
{
	curl_easy_reset(h); /* options only: open connections stay */
	curl_err[0] = '\0';
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	                 (long)o->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
	                 sink->fn ? 0L : (long)o->timeout_ms);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, cc_curl_on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, sink);
	set_method(h, method, body, len);
	cu_buf_free(&sink->body);
	cu_buf_free(&sink->line);
	sink->complete = 0;
	sink->too_big = sink->line_too_long = false;
}

/* What went wrong, in words, with curl's own detail in parentheses. */
int cc_curl_error(CURL *h, CURLcode rc, const char *curl_err,
                  const struct cc_sink *sink, const char *method,
                  const char *url, char *errbuf, size_t errlen)
{
	const char *detail = curl_err[0] ? curl_err : curl_easy_strerror(rc);
	int code = CC_EIO;
	const char *what = "the request failed";
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		code = CC_ECONNECT, what = "could not connect";
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		code = CC_ECONNECT, what = "unknown host";
		break;
	case CURLE_OPERATION_TIMEDOUT:
		code = CC_ETIMEOUT, what = "no answer in time";
		break;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		code = CC_EINVAL, what = "not a valid http:// URL";
		break;
	case CURLE_GOT_NOTHING:
		code = CC_EPROTO,
		what = "the server closed the connection without answering";
		break;
	case CURLE_WEIRD_SERVER_REPLY:
		code = CC_EPROTO, what = "the answer is not HTTP";
		break;
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		what = "the connection broke off";
		break;
	case CURLE_WRITE_ERROR:
		if (sink->too_big)
			return cu_errf(errbuf, errlen, CC_ETOOBIG,
			               "%s %s: the answer is larger than the "
			               "limit of %zu bytes",
			               method, url, sink->max);
		if (sink->line_too_long)
			return cu_errf(errbuf, errlen, CC_ETOOBIG,
			               "%s %s: a line of the answer is longer "
			               "than the limit of %zu bytes",
			               method, url,
			               sink->max_line ? sink->max_line
			                              : sink->max);
		break;
	default:
		break;
	}
	/* curl says "Couldn't connect to server" for every connect failure;
	 * the system's reason (Connection refused, ...) tells a user whether
	 * nothing listens there or the network is in the way */
	long os_errno = 0;
	if (rc == CURLE_COULDNT_CONNECT)
		curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
	return cu_errf(errbuf, errlen, code, "%s %s: %s (%s%s%s)", method, url,
	               what, detail, os_errno ? "; " : "",
	               os_errno ? strerror((int)os_errno) : "");
}

void cc_curl_response(CURL *h, struct cc_sink *sink, const char *url,
                      struct cc_response *resp)
{
	char *ct = NULL;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
	resp->content_type = cu_xstrdup(ct);
	resp->len = sink->body.len;
	resp->body = cu_buf_steal(&sink->body);
	resp->url = cu_xstrdup(url);
}

/* Redirects are followed by the caller rather than by curl: curl would
 * keep a custom method on 301-303 too, and would drop the token on the way
 * to another host, which is exactly where a follower sends a write. */
int cc_curl_next_hop(CURL *h, const struct cc_http_opts *o, unsigned *hops,
                     const char *method, const char *url, char **next,
                     char *errbuf, size_t errlen)
{
	long status = 0;
	char *loc = NULL;
	*next = NULL;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status != 307 && status != 308)
		return 0;
	curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
	if (!loc)
		return 0;
	if (++*hops > o->max_redirects)
		return cu_errf(errbuf, errlen, CC_EPROTO,
		               "%s %s: more than %u redirects, the last to %s",
		               method, url, o->max_redirects, loc);
	*next = cu_xstrdup(loc);
	return 1;
}

static int exchange(cc_client *c, const char *method, const char *url,
                    const char *body, size_t len, const char *content_type,
                    struct cc_sink *sink, struct cc_response *resp,
                    char *errbuf, size_t errlen)
{
	cc_response_clear(resp);
	struct curl_slist *headers = cc_curl_headers(&c->o, content_type);
	char *cur = cu_xstrdup(url), *next;
	unsigned hops = 0;
	int rc;
	for (;;) {
		cc_curl_prepare(c->curl, &c->o, method, cur, body, len, headers,
		                sink, c->curl_err);
		CURLcode cr = curl_easy_perform(c->curl);
		if (cr != CURLE_OK && !sink->stopped) {
			rc = cc_curl_error(c->curl, cr, c->curl_err, sink,
			                   method, cur, errbuf, errlen);
			break;
		}
		rc = sink->stopped
		         ? 0
		         : cc_curl_next_hop(c->curl, &c->o, &hops, method, url,
		                            &next, errbuf, errlen);
		if (rc != 1)
			break;
		free(cur);
		cur = next;
	}
	if (rc == 0) {
		cc_sink_lines(sink, true);
		cc_curl_response(c->curl, sink, cur, resp);
	}
	free(cur);
	curl_slist_free_all(headers);
	cu_buf_free(&sink->body);
	cu_buf_free(&sink->line);
	return rc;
}

int cc_client_request(cc_client *c, const char *method, const char *url,
                      const char *body, size_t len, struct cc_response *resp,
                      char *errbuf, size_t errlen)
{
	struct cc_sink sink = {.curl = c->curl, .max = c->o.max_body};
	return exchange(c, method, url, body, len, NULL, &sink, resp, errbuf,
	                errlen);
}

int cc_client_json(cc_client *c, const char *method, const char *url,
                   const json_t *body, struct cc_response *resp, char *errbuf,
                   size_t errlen)
{
	char *text = NULL;
	if (body && !(text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY)))
		return cu_errf(errbuf, errlen, CC_EINVAL,
		               "%s %s: the body cannot be encoded as JSON",
		               method, url);
	struct cc_sink sink = {.curl = c->curl, .max = c->o.max_body};
	int rc = exchange(c, method, url, text, text ? strlen(text) : 0,
	                  "Content-Type: application/json", &sink, resp, errbuf,
	                  errlen);
	free(text);
	return rc;
}

int cc_client_stream(cc_client *c, const char *url, cc_line_fn fn, void *arg,
                     struct cc_response *resp, char *errbuf, size_t errlen)
{
	struct cc_sink sink = {
	    .curl = c->curl, .max = c->o.max_body, .fn = fn, .arg = arg};
	return exchange(c, "GET", url, NULL, 0, NULL, &sink, resp, errbuf,
	                errlen);
}
