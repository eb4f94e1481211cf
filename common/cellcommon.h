/* cellcommon.h: the plumbing Cell's binaries share (ARCHITECTURE.md §1):
 * logging, flags and config files, Prometheus metrics, an HTTP server driven by
 * the process's libev loop, a blocking HTTP client and an asynchronous one on
 * the same loop. This header is the whole public API of the library.
 *
 * Errors: a function that can fail returns 0 or a negative CC_E* code and
 * writes a message naming what was wrong (the flag, the file and line, the
 * URL) into errbuf; CC_ERRMSG_SIZE bytes is always enough. errbuf may be NULL
 * when the caller does not want the message.
 *
 * Memory: allocation failure aborts the process, as in cellstate. Passing an
 * invalid metric name, an unknown enum value or a NULL where the declaration
 * says "never NULL" is a programming error and aborts with a message too.
 *
 * Threads: the logger may be used from any thread once configured. Flags and
 * metrics belong to one thread. A server belongs to the thread running its
 * libev loop; every cc_server_*, cc_request_*, cc_reply_* and cc_stream_*
 * call must happen on that thread. A client belongs to one thread at a time;
 * an asynchronous client to the thread running its libev loop.
 */
#ifndef CELL_CELLCOMMON_H
#define CELL_CELLCOMMON_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cellutil.h"

struct ev_loop;

#if defined(__GNUC__)
#define CC_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CC_PRINTF(f, a)
#endif

#define CC_ERRMSG_SIZE 512

/* ---- error codes ---------------------------------------------------------
 * One table generates the enum and cc_strerror(). */
#define CC_ERRORS(X)                                                           \
	X(INVAL, -1, "invalid input")                                          \
	X(IO, -2, "input/output error")                                        \
	X(CONNECT, -3, "could not connect")                                    \
	X(TIMEOUT, -4, "timed out")                                            \
	X(PROTO, -5, "protocol error")                                         \
	X(TOOBIG, -6, "too large")                                             \
	X(STATE, -7, "not allowed in this state")

enum cc_error {
	CC_OK = 0,
#define CC_ERROR_ENUM(id, code, text) CC_E##id = code,
	CC_ERRORS(CC_ERROR_ENUM)
#undef CC_ERROR_ENUM
};

/* Static text for a code: "ok", "timed out", ... ("unknown error" else). */
const char *cc_strerror(int code);
/* ==== logging (log.c) ======================================================
 * One line per event:
 *   2024-05-01T12:34:56.789Z INFO celld[2]: leader elected, term 3
 * time in UTC with milliseconds, level, the process's tag, the message.
 * Control characters in the message are escaped (\n, \xHH) so an event never
 * spans lines. Each line is one write(2), so lines from several threads or
 * processes sharing a file never interleave. Messages longer than about 8 KiB
 * are cut and end with "...". Configure (level, tag, file) before starting
 * threads. */
enum cc_log_level { CC_LOG_DEBUG, CC_LOG_INFO, CC_LOG_WARN, CC_LOG_ERROR };

/* Events below `level` are dropped; the default is CC_LOG_INFO. */
void cc_log_set_level(enum cc_log_level level);
bool cc_log_enabled(enum cc_log_level level);
/* "debug", "info", "warn" (or "warning"), "error", any case; -1 if unknown. */
int cc_log_level_parse(const char *name);
const char *cc_log_level_name(enum cc_log_level level); /* "INFO" */
/* The tag that names the process, e.g. "celld[2]"; copied (at most 63
 * bytes). NULL or "" prints no tag. */
void cc_log_set_tag(const char *tag);
/* Appends to `path` from now on (created 0644 if missing); NULL or "-" means
 * stderr, the default. On failure the logger keeps its current output. */
int cc_log_open(const char *path, char *errbuf, size_t errlen);
/* What a daemon does with its --log-level and --log-file flags: sets the
 * tag, parses the level (a message naming --log-level when it is unknown)
 * and opens the file. 0 or CC_EINVAL / CC_EIO with errbuf filled. */
int cc_log_configure(const char *tag, const char *level, const char *path,
                     char *errbuf, size_t errlen);

void cc_log(enum cc_log_level level, const char *fmt, ...) CC_PRINTF(2, 3);
void cc_vlog(enum cc_log_level level, const char *fmt, va_list ap)
    CC_PRINTF(2, 0);
#define CC_DEBUG(...) cc_log(CC_LOG_DEBUG, __VA_ARGS__)
#define CC_INFO(...)  cc_log(CC_LOG_INFO, __VA_ARGS__)
#define CC_WARN(...)  cc_log(CC_LOG_WARN, __VA_ARGS__)
#define CC_ERROR(...) cc_log(CC_LOG_ERROR, __VA_ARGS__)

/* ==== flags and config files (config.c) ====================================
 * A binary declares its settings once, as a table; the same table parses
 * the command line (`--name value`, `--name=value`), a config file
 * (`--config FILE`: lines `name = value`, `#` comments, the same names),
 * and writes the --help text. Precedence: defaults < file < command line.
 *
 * Values, as a user writes them:
 *   string    anything; in a file, "double quotes" keep spaces and #
 *   int       -12, 0, 42
 *   uint      0, 42
 *   bool      true/false, yes/no, on/off, 1/0; on the command line `--name`
 *             alone means true and false needs `--name=false`
 *   duration  300ms, 2s, 1.5s, 5m, 1h, 1m30s, or 0   (stored in ms)
 *   duration_us  the same, plus microseconds: 250us, 0.5ms (stored in us)
 *   size      4096, 512KiB, 64MiB, 1GiB (powers of 1024: Ki, KiB);
 *             10KB, 10k (powers of 1000); a bare number is bytes
 * `--help`/`-h` and `--config FILE` are built in. */
enum cc_flag_type {
	CC_FLAG_STRING,     /* dest: char **, a malloc'd copy (cc_flags_free) */
	CC_FLAG_INT,        /* dest: int64_t * */
	CC_FLAG_UINT,       /* dest: uint64_t * */
	CC_FLAG_BOOL,       /* dest: bool * */
	CC_FLAG_DURATION,   /* dest: uint64_t *, milliseconds */
	CC_FLAG_SIZE,       /* dest: uint64_t *, bytes */
	CC_FLAG_DURATION_US /* dest: uint64_t *, microseconds */
};

struct cc_flag {
	const char *name; /* "election-timeout"; NULL ends the table */
	enum cc_flag_type type;
	const char *def;   /* the default as a user would write it ("300ms");
	                      parsed like any value; NULL: "", 0 or false */
	const char *help;  /* one line for --help */
	void *dest;        /* borrowed; see enum cc_flag_type */
	uint64_t min, max; /* uint, duration, size: accepted range in the
	                      stored unit; max == 0 means no upper bound */
};

#define CC_HELP 1 /* cc_flags_parse: --help was given */

/* Sets every destination to its default, then applies the --config file,
 * then the command line (argv[0] is the program and is skipped). Stops at
 * "--" or at the first argument that is not a flag: with `next` non-NULL the
 * index of that argument is stored there (argc if none), so a subcommand can
 * parse the rest; with `next` NULL any such argument is an error. Returns 0,
 * CC_HELP when --help or -h was given (nothing else is checked then; print
 * cc_flags_help and exit 0), or CC_EINVAL with a message such as
 *   --election-timeout: expected a duration like 300ms or 2s, got "fast"
 *   cell.conf:7: unknown setting "colour"
 * Strings from earlier parses are not freed: call cc_flags_free first. */
int cc_flags_parse(const struct cc_flag *flags, int argc, char *const argv[],
                   int *next, char *errbuf, size_t errlen);
/* The --help text: `usage` ("celld [flags]"), `about` (a paragraph, may be
 * NULL), then every flag with its value type, help and default. Returns a
 * malloc'd string the caller frees. */
char *cc_flags_help(const struct cc_flag *flags, const char *usage,
                    const char *about);
/* Frees the strings cc_flags_parse stored and sets them to NULL. */
void cc_flags_free(const struct cc_flag *flags);

/* The parsers behind the flags, for values from other places (a query
 * parameter, an environment variable). 0 or CC_EINVAL. */
int cc_parse_duration_ms(const char *s, uint64_t *ms);
int cc_parse_duration_us(const char *s, uint64_t *us);
int cc_parse_size(const char *s, uint64_t *bytes);
int cc_parse_bool(const char *s, bool *v);

/* ==== addresses and tokens (addr.c) ========================================
 * Checks every server binary makes the same way. */

/* Splits "HOST:PORT" (host may be "[v6]", written without brackets) into
 * host (len bytes) and *port. 0 or CC_EINVAL. */
int cc_split_hostport(const char *s, char *host, size_t len, uint16_t *port);
/* Splits a --cell style list "URL,URL,..." into at most 16 malloc'd URLs
 * without trailing slashes (free each, then the array); *n may be 0. */
char **cc_split_urls(const char *list, unsigned *n);
/* Appends s to the NUL-terminated buf (len bytes in all) percent-encoded
 * for a URL path segment or query value: every byte but A-Z a-z 0-9 - . _ ~
 * becomes %XX. Stops short rather than overflow. */
void cc_url_escape(char *buf, size_t len, const char *s);
/* 127.x.y.z, ::1 or localhost: listening there needs no token. */
bool cc_is_loopback(const char *host);
/* Reads a bearer token file (one token of 16 to 511 characters, trailing
 * newline allowed). Returns a malloc'd token, or NULL with a message naming
 * --token-file and what was wrong. */
char *cc_read_token(const char *path, char *errbuf, size_t errlen);

/* ==== metrics (metrics.c) ==================================================
 * A registry of metrics rendered in the Prometheus text exposition format
 * (version 0.0.4). Single-threaded: updates are plain stores. Metric objects
 * belong to the registry and live until cc_metrics_free; their pointers are
 * stable, so hot paths keep them. A bad or duplicate name aborts (a
 * programming error, see the top of this file). */
typedef struct cc_metrics cc_metrics;
struct cc_counter;
struct cc_gauge;
struct cc_counter_vec;
struct cc_histogram;

cc_metrics *cc_metrics_new(void);
void cc_metrics_free(cc_metrics *m); /* NULL is fine */

struct cc_counter *cc_counter_new(cc_metrics *m, const char *name,
                                  const char *help);
void cc_counter_inc(struct cc_counter *c);
void cc_counter_add(struct cc_counter *c, uint64_t n);
uint64_t cc_counter_value(const struct cc_counter *c);

struct cc_gauge *cc_gauge_new(cc_metrics *m, const char *name,
                              const char *help);
void cc_gauge_set(struct cc_gauge *g, double v);
void cc_gauge_add(struct cc_gauge *g, double delta);
double cc_gauge_value(const struct cc_gauge *g);
/* A gauge whose value fn(arg) computes at render time (an applied index, a
 * queue length): nothing to keep up to date. */
void cc_gauge_fn_new(cc_metrics *m, const char *name, const char *help,
                     double (*fn)(void *arg), void *arg);

/* A counter family with one set of label names, e.g. "code" or
 * "verdict,reason" (comma-separated, at most 4). Each distinct combination
 * of values is its own counter, created on first use. */
struct cc_counter_vec *cc_counter_vec_new(cc_metrics *m, const char *name,
                                          const char *help, const char *labels);
/* values: one per label name, in order (copied). */
struct cc_counter *cc_counter_vec_get(struct cc_counter_vec *v,
                                      const char *const values[]);
/* The same for a family with exactly one label. */
struct cc_counter *cc_counter_vec_get1(struct cc_counter_vec *v,
                                       const char *value);

/* bounds: the buckets' upper bounds, finite and strictly increasing
 * (copied); the +Inf bucket is implied. */
struct cc_histogram *cc_histogram_new(cc_metrics *m, const char *name,
                                      const char *help, const double *bounds,
                                      size_t nbounds);
/* Log-spaced bounds from lo up to at least hi, per_decade of them per
 * factor of ten, each rounded to 2 significant digits (so 10 per decade
 * gives 0.001, 0.0013, 0.0016, 0.002, ...): fine enough that a quantile read
 * from the buckets is within one bucket ratio (26% at 10) of the truth.
 * Writes at most max into out; returns how many. */
size_t cc_log_bounds(double lo, double hi, unsigned per_decade, double *out,
                     size_t max);
void cc_histogram_observe(struct cc_histogram *h, double v);

/* The Content-Type of cc_metrics_render's text, for GET /metrics. */
#define CC_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Renders every metric in registration order (labelled children in the
 * order they were first used). Returns a malloc'd, NUL-terminated string the
 * caller frees; *len (if not NULL) gets its length. */
char *cc_metrics_render(const cc_metrics *m, size_t *len);

/* ==== HTTP server (http_server.c, http_request.c, http_stream.c) ===========
 * libmicrohttpd driven by the caller's libev loop on the loop's thread (no
 * threads of its own). Handlers are chosen by method and path; a handler
 * answers at once, defers its answer (cc_request_defer) or opens a chunked
 * stream (cc_stream_open). Errors are JSON {"error": ..., "detail": ...}:
 * 404 for an unknown path, 405 with Allow for a known path and another
 * method, 413 for a body over the limit, 400 for what libmicrohttpd cannot
 * parse (it runs in strict mode: an HTTP/1.1 request without Host is 400).
 * Answers libmicrohttpd gives by itself (400, 505) are not counted in
 * cell_http_requests_total; everything a route or the router answers is. */
typedef struct cc_server cc_server;
struct cc_request;
struct cc_stream;

struct cc_server_config {
	const char *address;      /* IPv4 or IPv6 literal; NULL: 127.0.0.1 */
	uint16_t port;            /* 0: any free port (see cc_server_port) */
	size_t max_body;          /* larger request bodies get 413; 0: 1 MiB */
	size_t max_stream_buffer; /* per stream, see cc_stream_write;
	                             0: 8 MiB */
	unsigned idle_timeout_s;  /* idle connections close; 0: 60 s */
	unsigned max_connections; /* 0: libmicrohttpd's default */
	/* borrowed, may be NULL; if set, the server counts every answer in
	 * cell_http_requests_total{code="..."}; must outlive the server */
	cc_metrics *metrics;
};

/* Binds, listens and starts serving on `loop` (borrowed; must outlive the
 * server). Errors (CC_EINVAL for a bad address, CC_EIO for bind and the
 * like) say which address failed and why. */
int cc_server_new(struct ev_loop *loop, const struct cc_server_config *cfg,
                  cc_server **out, char *errbuf, size_t errlen);
uint16_t cc_server_port(const cc_server *s); /* the bound port */
/* Stops serving. Deferred requests not yet answered and streams not yet
 * closed get their abort callbacks first; then every connection closes.
 * NULL is fine. Never call it from inside a handler or callback of the same
 * server. */
void cc_server_free(cc_server *s);

/* A handler must, before it returns, do exactly one of: reply (cc_reply_*),
 * defer (cc_request_defer) or open a stream (cc_stream_open). If it does
 * none, the client gets 500. `req` belongs to the server. */
typedef void (*cc_handler_fn)(struct cc_request *req, void *arg);

/* Routes `method` ("GET", "POST", ...) on `path` to fn(req, arg). A path
 * ending in "/" is a prefix (as in Go's ServeMux): "/v1/jobs/" matches
 * "/v1/jobs" and everything under it, and "/" matches every path; any other
 * path matches exactly. The longest matching route with the request's
 * method wins (an exact one over a prefix); HEAD falls back to GET.
 * CC_EINVAL for a bad method or path or a route registered twice. */
int cc_server_route(cc_server *s, const char *method, const char *path,
                    cc_handler_fn fn, void *arg, char *errbuf, size_t errlen);

/* ---- the request: everything borrowed from the server; strings live as
 * long as the request ---- */
const char *cc_request_method(const struct cc_request *r);
/* The path, percent-decoded, without the query: "/v1/jobs/train". */
const char *cc_request_path(const struct cc_request *r);
/* The part of the path below a prefix route: under "/v1/jobs/" that is ""
 * for "/v1/jobs", "/train" for "/v1/jobs/train"; "" for exact routes. */
const char *cc_request_subpath(const struct cc_request *r);
/* A query parameter, decoded (%XX and +): NULL when absent, "" for "?a" or
 * "?a=". With repeats, the first. */
const char *cc_request_query(const struct cc_request *r, const char *name);
/* Every query parameter in order, for handlers that reject unknown ones:
 * returns the i-th name and stores its value (NULL for "?a"); NULL when
 * i >= count. */
const char *cc_request_query_at(const struct cc_request *r, size_t i,
                                const char **value);
/* Query parameter `name` as an integer in [lo, hi] into *out (left as it
 * is when absent). false, with 400 {"error": "bad_query", "detail":
 * "NAME: expected an integer LO..HI, got \"...\""} sent, for anything else. */
bool cc_request_query_u64(struct cc_request *r, const char *name, uint64_t lo,
                          uint64_t hi, uint64_t *out);
/* A request header, name compared without case; NULL when absent. */
const char *cc_request_header(const struct cc_request *r, const char *name);
/* The token of "Authorization: Bearer TOKEN", or NULL. */
const char *cc_request_bearer(const struct cc_request *r);
/* Whether the request carries exactly `token` as its bearer token, compared
 * in time that does not depend on how much of it a guess got right. False
 * for a NULL or empty token. */
bool cc_request_has_token(const struct cc_request *r, const char *token);
/* The whole body, NUL-terminated (a body with NUL bytes is still all there
 * in *len); "" when there is none. */
const char *cc_request_body(const struct cc_request *r, size_t *len);
/* The body parsed as JSON: a new reference, or NULL with a message such as
 * "body: invalid JSON at line 1, column 9: ..." (an empty body is an error
 * too). */
json_t *cc_request_json(const struct cc_request *r, char *errbuf,
                        size_t errlen);

/* ---- answers ----
 * Each returns 0, or CC_ESTATE when the request was already answered or is
 * a stream (nothing happens then; a stolen body is still released). After a
 * successful reply the request may be used only by the handler that is
 * still running, and only to read it. */

/* Adds a header to the coming answer (Location, Retry-After, ...); copied.
 * CC_EINVAL for a name or value with CR/LF. */
int cc_reply_header(struct cc_request *r, const char *name, const char *value);
/* `body` is stolen: the reference is released whatever happens. A NULL body
 * answers with no content. Content-Type is application/json. */
int cc_reply_json(struct cc_request *r, unsigned status, json_t *body);
/* `body` (len bytes) is copied; content_type e.g. "text/plain;
 * version=0.0.4" for /metrics. */
int cc_reply_text(struct cc_request *r, unsigned status,
                  const char *content_type, const char *body, size_t len);
/* 200 with every metric of m in the Prometheus text format: a GET
 * /metrics handler's whole answer. */
int cc_reply_metrics(struct cc_request *r, const cc_metrics *m);
/* {"error": error, "detail": <formatted>}; detail may be NULL (omitted). */
int cc_reply_error(struct cc_request *r, unsigned status, const char *error,
                   const char *detail_fmt, ...) CC_PRINTF(4, 5);

/* ---- deferred answers ----
 * The handler returns without answering and answers later with cc_reply_*
 * from any callback on the loop's thread (a Raft commit, a timer). Until
 * then the request stays valid and the connection waits. If the request ends
 * first (the client hung up, or cc_server_free), on_abort(req, arg) runs
 * once, if not NULL; the request is gone when it returns and must not be
 * answered. Calling it twice, or on a stream, returns CC_ESTATE. */
typedef void (*cc_abort_fn)(struct cc_request *req, void *arg);
int cc_request_defer(struct cc_request *r, cc_abort_fn on_abort, void *arg);

/* ---- streaming answers ----
 * A long-lived chunked answer (Transfer-Encoding: chunked) the owner feeds
 * as events happen, e.g. NDJSON lines for /v1/watch. Nothing runs while
 * there is nothing to send (the connection is suspended, and resumed by the
 * next write). The stream is the owner's to use until it calls
 * cc_stream_close, or until on_gone(stream, arg) has run: the client hung up
 * or the server is being freed; the stream is gone when on_gone returns.
 * Exactly one of the two ends it. A waiting connection (deferred, or a
 * stream with nothing to send) is watched for the client leaving; a client
 * that shuts down its sending side while it waits counts as gone. */
typedef void (*cc_stream_gone_fn)(struct cc_stream *s, void *arg);

/* Answers `r` with status (200 if 0) and content_type (NULL:
 * "application/x-ndjson") and returns the stream; from a handler only. NULL
 * (and nothing happens) if the request was already answered or deferred.
 * on_gone may be NULL. */
struct cc_stream *cc_stream_open(struct cc_request *r, unsigned status,
                                 const char *content_type,
                                 cc_stream_gone_fn on_gone, void *arg);
/* Queues len bytes (copied). CC_ETOOBIG, and nothing is queued, when the
 * client is so slow that more than max_stream_buffer bytes would wait: the
 * owner usually closes the stream then, and the client resumes from where
 * it was. */
int cc_stream_write(struct cc_stream *s, const void *data, size_t len);
/* Queues j as one compact JSON line ending in "\n"; j is borrowed. */
int cc_stream_write_json(struct cc_stream *s, const json_t *j);
size_t cc_stream_buffered(const struct cc_stream *s); /* bytes waiting */
/* Ends the answer once everything queued is sent; `s` is gone on return and
 * on_gone will not run. */
void cc_stream_close(struct cc_stream *s);

/* ==== HTTP client (http_client.c) ==========================================
 * A small blocking client over libcurl for cellctl and tests. It keeps its
 * connections open between requests. 307 and 308 redirects are followed
 * with the same method, body and token (a follower points at the leader);
 * other statuses are returned as they are. GET and HEAD send no body.
 * libcurl's proxy variables (http_proxy, no_proxy, ...) apply as usual. */
typedef struct cc_client cc_client;

struct cc_client_config {
	const char *token;           /* bearer token, copied; NULL: none */
	unsigned timeout_ms;         /* whole request; 0: 10000 */
	unsigned connect_timeout_ms; /* 0: 3000 */
	unsigned max_redirects;      /* 0: 5 */
	size_t max_body;             /* larger answers fail; 0: 256 MiB */
};

/* cfg may be NULL for the defaults. Never NULL; free with cc_client_free. */
cc_client *cc_client_new(const struct cc_client_config *cfg);
void cc_client_free(cc_client *c); /* NULL is fine */

struct cc_response {
	long status; /* the HTTP status of the last answer */
	char *body;  /* owned, NUL-terminated, never NULL after a
	                successful call */
	size_t len;
	char *content_type; /* owned; NULL when the server sent none */
	char *url;          /* owned; where the answer came from (after
	                       redirects) */
};
void cc_response_clear(struct cc_response *r); /* frees; zeroes it */
/* The body parsed as JSON: a new reference or NULL with a message. */
json_t *cc_response_json(const struct cc_response *r, char *errbuf,
                         size_t errlen);

/* Sends method (GET, POST, PUT, DELETE, ...) to url with `body` (len bytes,
 * copied; NULL for none) and stores the answer in *resp (cleared first).
 * Returns 0 when an HTTP answer arrived, whatever its status; otherwise a
 * code and a message naming the method, URL and what happened:
 * CC_ECONNECT (refused, unknown host), CC_ETIMEOUT, CC_EPROTO (not HTTP,
 * too many redirects), CC_ETOOBIG, CC_EINVAL (a bad URL), CC_EIO. */
int cc_client_request(cc_client *c, const char *method, const char *url,
                      const char *body, size_t len, struct cc_response *resp,
                      char *errbuf, size_t errlen);
/* The same with a JSON body (borrowed; NULL for none) and Content-Type:
 * application/json. */
int cc_client_json(cc_client *c, const char *method, const char *url,
                   const json_t *body, struct cc_response *resp, char *errbuf,
                   size_t errlen);

/* Called for each line of a streaming answer, without its "\n" (or "\r\n");
 * `line` is NUL-terminated and valid during the call only. Return 0 to go
 * on, anything else to hang up. */
typedef int (*cc_line_fn)(const char *line, size_t len, void *arg);

/* GETs url and, if the status is 2xx, hands every line of the body to
 * fn(line, arg) as it arrives; no overall timeout applies. For other
 * statuses the body is collected into resp->body instead. Returns 0 when the
 * server ended the stream or fn asked to stop; CC_EIO when the connection
 * broke mid-stream; CC_ETOOBIG for a line longer than max_body (the lines
 * before it are handed out); otherwise as cc_client_request. */
int cc_client_stream(cc_client *c, const char *url, cc_line_fn fn, void *arg,
                     struct cc_response *resp, char *errbuf, size_t errlen);

/* ==== asynchronous HTTP client (http_async.c) ==============================
 * libcurl multi on the caller's libev loop: many requests in flight over
 * kept-alive connections, every callback on the loop thread. Same behaviour
 * as the blocking client: 307/308 followed with method, body and token;
 * other statuses returned as they are; libcurl proxy variables apply. Besides
 * requests, it follows line streams (cc_aclient_stream) such as /v1/watch. */
typedef struct cc_aclient cc_aclient;

/* cfg as for cc_client_new (NULL: defaults); timeout_ms bounds each hop, as
 * in the blocking client. loop is borrowed and must outlive the client.
 * Never NULL. */
cc_aclient *cc_aclient_new(struct ev_loop *loop,
                           const struct cc_client_config *cfg);
/* Cancels what is in flight, requests and streams: each pending callback
 * (a stream's on_end) runs once, now, with CC_ESTATE ("client closed");
 * then frees. NULL is fine. Safe from inside one of the client's own
 * callbacks too: the pending callbacks still run at once, and the memory
 * goes when the running callback returns; a stream whose on_line calls it
 * gets no more lines and its on_end runs (CC_ESTATE) as soon as on_line
 * returns. From the moment it is called, cc_aclient_request fails with
 * CC_ESTATE, cc_aclient_stream returns NULL, and a second cc_aclient_free
 * does nothing. */
void cc_aclient_free(cc_aclient *c);

/* status: 0 when an HTTP answer arrived (any HTTP status) and *resp holds it,
 * or a CC_E* code (CC_ECONNECT, CC_ETIMEOUT, CC_EPROTO, CC_ETOOBIG, CC_EIO,
 * CC_ESTATE when the client was freed; CC_EINVAL when a redirect pointed at
 * a bad URL) with errmsg naming method, URL and what happened. resp is
 * borrowed for the call and never NULL (all zero on an error); the callee
 * may take resp->body (and set it to NULL). errmsg is "" on success. The
 * callback may start requests and may free the client. */
typedef void (*cc_aclient_cb)(void *arg, int status, struct cc_response *resp,
                              const char *errmsg);

/* Starts method to url with `body` (len bytes, copied; NULL for none) and
 * Content-Type content_type (NULL: none; "application/json" typical).
 * Returns 0 and cb runs exactly once later (never from inside this call), or
 * an error code (CC_EINVAL for a bad method/URL) with cb never run
 * (CC_ESTATE once cc_aclient_free has begun; cc_aclient_errmsg says why).
 * GET and HEAD send no body, as in the blocking client. */
int cc_aclient_request(cc_aclient *c, const char *method, const char *url,
                       const char *content_type, const void *body, size_t len,
                       cc_aclient_cb cb, void *arg);
/* Requests not yet answered. Streams do not count: one may last as long as
 * the process, and a caller that waits for its requests to drain, or
 * bounds how many are in flight, should not wait on it. */
size_t cc_aclient_inflight(const cc_aclient *c);
/* Why the last cc_aclient_request or cc_aclient_stream that failed did, e.g.
 * "GET ftp://x/: not a valid http:// URL (the scheme is ftp)"; "" if none
 * failed yet. Valid until the next call. */
const char *cc_aclient_errmsg(const cc_aclient *c);

/* ---- line streams ----
 * A GET whose answer never has to end, e.g. celld's GET /v1/watch (chunked
 * NDJSON, a progress line every few seconds when nothing happens): each line
 * of a 2xx answer goes to on_line as it arrives, and on_end runs once when
 * the stream is over. The callbacks run from the loop, never from inside
 * libcurl, so they may start requests and streams, cancel other streams and
 * free the client (see cc_aclient_free). */
typedef struct cc_astream cc_astream;

/* A line longer than this (not counting its "\n") ends the stream with
 * CC_ETOOBIG; the lines before it are handed out first. */
#define CC_ASTREAM_MAX_LINE ((size_t)1 << 20)

/* One line of a 2xx answer, without its "\n" or "\r\n"; `line` is
 * NUL-terminated and valid during the call only. A last line without a
 * newline, before the server ends the answer, is a line too (not when the
 * connection breaks). Return 0 to go on, anything else to hang up: then no
 * more lines come and on_end runs with status 0. To end the stream from
 * here, return nonzero: cc_astream_cancel on this same stream aborts. */
typedef int (*cc_astream_line_fn)(void *arg, const char *line, size_t len);

/* The stream is over; runs exactly once, unless cc_astream_cancel came
 * first. status:
 *   0            the server ended the answer, or on_line asked to stop;
 *                resp->status is the HTTP status. For a non-2xx answer the
 *                body is in resp->body (on_line never ran), as with
 *                cc_client_stream; after a 2xx one resp->body is "".
 *   CC_EIO       the connection broke off mid-stream
 *   CC_ETIMEOUT  nothing (not a byte) came for idle_ms
 *   CC_ETOOBIG   a line longer than CC_ASTREAM_MAX_LINE, or a non-2xx body
 *                over max_body
 *   CC_ESTATE    the client was freed (cc_aclient_free)
 *   otherwise as cc_aclient_cb (CC_ECONNECT, CC_EPROTO, ...), with errmsg
 *   naming the URL and what happened. resp and errmsg as for cc_aclient_cb.
 * The stream handle is gone when on_end returns: it may start a new one. */
typedef void (*cc_astream_end_fn)(void *arg, int status,
                                  struct cc_response *resp, const char *errmsg);

/* Starts GET url (with the client's token) and returns the stream: the
 * client owns it until on_end runs or cc_astream_cancel. Neither callback
 * runs from inside this call. idle_ms: the stream fails with CC_ETIMEOUT
 * when no byte arrives for that long, connecting included (0: no limit;
 * for /v1/watch, which sends a progress line every 5 s, 15000 notices a
 * connection that died without a word). No overall timeout: the client's
 * timeout_ms does not apply, connect_timeout_ms does. 307/308 are followed as
 * for requests. NULL, with cc_aclient_errmsg saying why and no callback ever
 * run, for a bad URL or callback (CC_EINVAL's cases) or once cc_aclient_free
 * has begun. on_line and on_end never NULL; arg is passed to both. */
cc_astream *cc_aclient_stream(cc_aclient *c, const char *url, unsigned idle_ms,
                              cc_astream_line_fn on_line,
                              cc_astream_end_fn on_end, void *arg);
/* Hangs up now: no callback of s runs any more (on_end neither). NULL is
 * fine. Not on a stream that is over (its handle is gone once on_end
 * returns), and not from s's own on_line (return nonzero there; this
 * aborts). */
void cc_astream_cancel(cc_astream *s);

#endif
