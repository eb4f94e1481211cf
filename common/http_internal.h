/* http_internal.h: private to cellcommon: the HTTP server's structures,
 * shared by http_server.c, http_request.c and http_stream.c, and the libcurl
 * plumbing both clients share (http_client.c, http_async.c). */
#ifndef CELL_COMMON_HTTP_INTERNAL_H
#define CELL_COMMON_HTTP_INTERNAL_H

#include "internal.h"

#include <curl/curl.h>
#include <ev.h>
#include <microhttpd.h>

struct route {
	char *method;
	char *path;  /* a prefix route's without its final "/" ("" for "/") */
	bool prefix; /* matches path and path + "/..." */
	cc_handler_fn fn;
	void *arg;
};

/* Where a request is in its life. Legal moves:
 *   BODY     -> HANDLER (body complete) | ANSWERED (early 413)
 *   HANDLER  -> ANSWERED | DEFERRED | STREAM         (what the handler did)
 *   DEFERRED -> ANSWERED (cc_reply_*) | GONE (hang-up, server freed)
 *   ANSWERED -> QUEUED                               (handed to MHD)
 *   STREAM   -> CLOSED (cc_stream_close) | GONE (hang-up, server freed)
 * The owner (a handler, the holder of a deferred request or of a stream) is
 * told exactly once when a request it holds becomes GONE. A request is freed
 * only by MHD's completion callback, which runs only inside MHD calls, so
 * owner callbacks never see a request vanish under them. */
enum req_phase {
	PH_BODY,
	PH_HANDLER,
	PH_DEFERRED,
	PH_ANSWERED,
	PH_QUEUED,
	PH_STREAM,
	PH_CLOSED,
	PH_GONE
};

struct cc_stream {
	struct cc_request *req;
	struct cu_buf buf; /* queued bytes; buf.p[sent..len) not yet sent */
	size_t sent;
	cc_stream_gone_fn on_gone;
	void *arg;
};

struct query_param {
	char *name;
	char *value; /* NULL for "?a" */
};

struct reply_header {
	char *name, *value;
};

struct cc_request {
	cc_server *srv;
	struct MHD_Connection *conn;
	struct cu_list link; /* in srv->live */
	enum req_phase phase;
	bool suspended; /* MHD_suspend_connection in force */
	ev_io hangup;   /* while suspended: notices the client leaving, which
	                   MHD cannot see for a suspended connection */
	double started; /* ev_time() at the headers, for the access log */

	char *method, *path;
	const char *subpath; /* inside path */
	cc_handler_fn fn;    /* the route's, copied: routes may move */
	void *fn_arg;
	unsigned early; /* 404/405/413 to answer once the body is in */
	char *allow;    /* the Allow header of a 405 */
	struct query_param *query;
	size_t nquery;

	struct cu_buf body;
	uint64_t discarded; /* body bytes dropped past max_body */

	struct reply_header *headers; /* for the coming answer */
	size_t nheaders;
	struct MHD_Response *response; /* ANSWERED: the answer to queue */
	unsigned status;

	cc_abort_fn on_abort; /* DEFERRED */
	void *abort_arg;
	struct cc_stream stream; /* STREAM, CLOSED */
};

struct cc_server {
	struct ev_loop *loop;
	struct MHD_Daemon *mhd;
	ev_io io;       /* MHD's epoll fd */
	ev_timer timer; /* MHD_get_timeout, or 0 to run MHD again soon */
	bool in_run;    /* inside MHD_run */
	bool kicked;    /* something asked for MHD_run while in_run */
	uint16_t port;
	char addr[80]; /* "127.0.0.1:7000", for messages */
	size_t max_body, max_stream_buffer;
	struct route *routes;
	size_t nroutes;
	struct cu_list live; /* of cc_request.link; MHD owns the requests */
	struct cc_counter_vec *requests; /* by status code; NULL: no metrics */
	char mhd_error[256];             /* MHD's last log line */
};

/* http_server.c */
/* Makes the loop call MHD_run soon: after a resume, MHD must run again
 * before anything it already knows about changes on the wire. */
void cc_server_kick(cc_server *s);
const struct route *cc_route_find(const cc_server *s, const char *method,
                                  const char *path, const char **subpath,
                                  struct cu_buf *allow);

/* http_request.c */
struct cc_request *cc_request_new(cc_server *s, struct MHD_Connection *conn,
                                  const char *url, const char *method);
void cc_request_free(struct cc_request *r);
/* MHD's access callback, split by stage. */
enum MHD_Result cc_request_begin(struct cc_request *r);
enum MHD_Result cc_request_upload(struct cc_request *r, const char *data,
                                  size_t len);
enum MHD_Result cc_request_ready(struct cc_request *r);
/* The request ended (MHD completion): tells the owner if it still held the
 * request. */
void cc_request_ended(struct cc_request *r);
/* The owner is told and the connection is let go: hang-up or shutdown. */
void cc_request_gone(struct cc_request *r);
void cc_request_suspend(struct cc_request *r);
void cc_request_resume(struct cc_request *r);
/* Queues a response made by the stream code, with the reply headers. */
enum MHD_Result cc_request_queue(struct cc_request *r, unsigned status,
                                 struct MHD_Response *resp);

/* http_stream.c */
void cc_stream_release(struct cc_stream *st);

/* ---- the clients' libcurl plumbing (http_client.c) ----------------------
 * One hop of a request is one libcurl transfer; 307/308 are followed by the
 * caller, hop by hop, so that method, body and token go along (see
 * cc_curl_next_hop). */

/* A cc_client_config with its defaults filled in. */
struct cc_http_opts {
	char *auth; /* owned: "Authorization: Bearer ..." or NULL */
	unsigned timeout_ms, connect_timeout_ms, max_redirects;
	size_t max_body;
};
/* Also initialises libcurl once per process. cfg may be NULL. */
void cc_http_opts_init(struct cc_http_opts *o,
                       const struct cc_client_config *cfg);
void cc_http_opts_free(struct cc_http_opts *o);

/* Where an answer's body goes (CURLOPT_WRITEFUNCTION cc_curl_on_write).
 * Streaming (fn set): a 2xx body goes to `line` and is handed to fn line by
 * line; any other status's body goes to `body`. Invariant: line.p[0,
 * complete) is whole lines, each ending in "\n", none longer than the
 * limit; line.p[complete, line.len) is the start of the next one. */
struct cc_sink {
	CURL *curl;         /* borrowed: the transfer writing here */
	size_t max;         /* body's limit; also a line's when max_line is 0 */
	struct cu_buf body; /* the whole body, or a stream's error answer */
	bool too_big;       /* body passed max */
	cc_line_fn fn; /* streaming: lines go here when the status is 2xx */
	void *arg;
	/* false: the write callback calls fn itself (the blocking client);
	 * true: it only collects, and the owner calls cc_sink_lines outside
	 * curl, so that fn may call into curl again (the async client) */
	bool deferred;
	size_t max_line;    /* streaming: longest line, without "\n"; 0: max */
	struct cu_buf line; /* streaming: received, not yet handed to fn */
	size_t complete;    /* see the invariant above */
	bool line_too_long; /* a line passed its limit (it is not kept) */
	bool stopped;       /* fn asked to hang up */
};
size_t cc_curl_on_write(char *data, size_t size, size_t nmemb, void *sink);
/* Hands the sink's whole lines to fn, without "\n" or "\r\n", and with
 * `end` (the answer is over) the last one too, even without its newline.
 * Returns false, with stopped set, when fn asked to hang up; fn is not
 * called again then. */
bool cc_sink_lines(struct cc_sink *s, bool end);

/* The request headers: the token, and content_type ("Content-Type: ...",
 * or NULL for none). The caller frees the list (curl_slist_free_all) after
 * the last transfer using it. */
struct curl_slist *cc_curl_headers(const struct cc_http_opts *o,
                                   const char *content_type);
/* Resets h (options only: the connections it or its multi handle keep stay
 * open) and sets it up for one hop of method to url. Everything passed is
 * borrowed until the transfer ends; curl_err is CURL_ERROR_SIZE bytes.
 * The sink is emptied. A sink with a line function gets no overall
 * timeout. */
void cc_curl_prepare(CURL *h, const struct cc_http_opts *o, const char *method,
                     const char *url, const char *body, size_t len,
                     struct curl_slist *headers, struct cc_sink *sink,
                     char *curl_err);
/* A failed transfer of h (rc, with curl_err as filled by it) as a CC_E*
 * code and a message naming method and url. */
int cc_curl_error(CURL *h, CURLcode rc, const char *curl_err,
                  const struct cc_sink *sink, const char *method,
                  const char *url, char *errbuf, size_t errlen);
/* After an answer arrived on h: 0 when it is final; 1 with *next (malloc'd)
 * for a 307/308 with a Location, counted in *hops; CC_EPROTO when that
 * redirect would pass o->max_redirects (url: the first URL, for the
 * message). */
int cc_curl_next_hop(CURL *h, const struct cc_http_opts *o, unsigned *hops,
                     const char *method, const char *url, char **next,
                     char *errbuf, size_t errlen);
/* Moves the answer on h into resp: status, content type, the sink's body
 * (the sink is left empty) and url, where it came from. */
void cc_curl_response(CURL *h, struct cc_sink *sink, const char *url,
                      struct cc_response *resp);

#endif
