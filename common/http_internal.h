/* http_internal.h: the HTTP server's structures, shared by http_server.c,
 * http_request.c and http_stream.c; private to cellcommon. */
#ifndef CELL_COMMON_HTTP_INTERNAL_H
#define CELL_COMMON_HTTP_INTERNAL_H

#include "internal.h"

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
	struct cc_buf buf; /* queued bytes; buf.p[sent..len) not yet sent */
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
	struct cc_request *prev, *next; /* the server's live requests */
	enum req_phase phase;
	bool suspended; /* MHD_suspend_connection in force */
	ev_io hangup;   /* while suspended: notices the client leaving, which
			   MHD cannot see for a suspended connection */
	double started; /* ev_time() at the headers, for the access log */

	char *method, *path;
	const char *subpath; /* inside path */
	cc_handler_fn fn;    /* the route's, copied: routes may move */
	void *fn_arg;
	unsigned early;      /* 404/405/413 to answer once the body is in */
	char *allow;         /* the Allow header of a 405 */
	struct query_param *query;
	size_t nquery;

	struct cc_buf body;
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
	struct cc_request *live;
	struct cc_counter_vec *requests; /* by status code; NULL: no metrics */
	char mhd_error[256];             /* MHD's last log line */
};

/* http_server.c */
/* Makes the loop call MHD_run soon: after a resume, MHD must run again
 * before anything it already knows about changes on the wire. */
void cc_server_kick(cc_server *s);
const struct route *cc_route_find(const cc_server *s, const char *method,
				  const char *path, const char **subpath,
				  struct cc_buf *allow);

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

#endif
