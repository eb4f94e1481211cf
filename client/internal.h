/* internal.h: private to cellclient: the cell's structure, shared by the
 * files of the library (cell.c the members, the writer and locating it;
 * request.c the resend engine; watch.c the follower), and what they call of
 * one another. */
#ifndef CELL_CLIENT_INTERNAL_H
#define CELL_CLIENT_INTERNAL_H

#include "cellclient.h"

#include <ev.h>

struct cl_req;

struct cl_cell {
	struct ev_loop *loop; /* borrowed */
	cc_aclient *http;     /* owned */
	char **urls;          /* owned: the members, nurls of them */
	uint32_t nurls, capurls;
	uint32_t cur;  /* the current member */
	char *writer;  /* owned: the writer's base URL as learned, or NULL */
	char *token;   /* owned; NULL: none */
	bool answered; /* some member answered something */
	const char *(*writer_hint)(void *arg);
	void *hint_arg;
	void (*on_retry)(void *arg, const struct cl_retry *why);
	void *retry_arg;
	struct cc_counter *resends; /* borrowed, may be NULL */

	/* Locating the writer through /v1/status (cfg.locate): one probe at
	 * a time for the whole cell; requests that need it wait. */
	bool locate;                /* configured to */
	bool need_locate;           /* before the next round that starts */
	bool locating;              /* a probe is in flight */
	uint32_t probe_from;        /* the member the sweep started at */
	uint32_t probed;            /* members asked in this sweep */
	struct cu_list locate_wait; /* requests waiting (cl_req.wait) */

	struct cu_list reqs;    /* every request not yet answered */
	struct cu_list watches; /* every watch not yet over */
	/* Entry points from the loop on the stack, and exchanges handed to
	 * the HTTP client whose callback has yet to run: the memory goes
	 * once both are zero after cl_cell_free. */
	unsigned depth, pending;
	bool closing;
	struct cu_buf urls_text; /* cl_cell_urls' answer */
	char errmsg[CC_ERRMSG_SIZE];
};

/* cell.c: entering the library from the loop, and leaving it (the last
 * leave after cl_cell_free frees the cell). */
void cli_enter(cl_cell *c);
void cli_leave(cl_cell *c);
/* The caller's hint of where writes go (its own replica's writer), or
 * NULL when it has none. */
const char *cli_hint(cl_cell *c);
/* The member index of base, or -1. */
int cli_member(const cl_cell *c, const char *base);
/* After a failed exchange with base: forget it as the writer, and let the
 * member after it be the current one. */
void cli_moved_on(cl_cell *c, const char *base);
/* An answer came from resp_url to a request sent to base: a redirect
 * taught where the writer is. */
void cli_learn(cl_cell *c, const char *base, const char *resp_url);
/* The base URL of url ("http://host:port" of "http://host:port/v1/x") into
 * out (len bytes); false when it has none. */
bool cli_base_of(const char *url, char *out, size_t len);
/* Starts a sweep over the members' /v1/status unless one runs; waiting
 * requests are woken with cli_located. */
void cli_locate(cl_cell *c);

/* request.c */
/* The sweep ended: answered tells whether any member answered; code and
 * msg the last failure when none did. */
void cli_located(cl_cell *c, bool answered, int code, const char *msg,
                 const char *last_base);
/* Every request not handed to the HTTP client ends now with CC_ESTATE. */
void cli_requests_close(cl_cell *c);

/* result.c: the verdicts of a 200 answer to /v1/txn into *out (cleared
 * by the caller with cs_result_clear); -1 with a message when it is not a
 * result. */
int cli_result_read(const struct cc_response *resp, cs_result *out,
                    char *errbuf, size_t errlen);

/* watch.c: every watch ends without a handler (the cell is closing). */
void cli_watches_close(cl_cell *c);

#endif /* CELL_CLIENT_INTERNAL_H */
