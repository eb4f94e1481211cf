/* tl_httpd.h: a real cc_server on loopback, served by the test's libev
 * loop, with the routes the HTTP client tests share. */
#ifndef CELL_TL_HTTPD_H
#define CELL_TL_HTTPD_H

#include "cellcommon.h"

/* Routes:
 *   GET POST PUT DELETE /v1/echo  200 {"method", "body", "token" (bearer or
 *                                 null), "type" (Content-Type or null),
 *                                 "hop" (?hop= or null)}
 *   GET POST PUT /v1/redirect/N   307 (odd N) or 308 (even N) to
 *                                 /v1/redirect/N-1 (absolute URL);
 *                                 /v1/redirect/0 to "/v1/echo?hop=last"
 *   POST /v1/loop                 307 to itself
 *   POST /v1/see-other            303 to /v1/echo
 *   GET /v1/big                   200 with 3000 bytes of text
 *   GET /v1/never                 deferred and never answered */
struct tl_httpd {
	struct ev_loop *loop; /* borrowed */
	cc_server *srv;       /* NULL once stopped */
	char base[64];        /* "http://127.0.0.1:PORT" */
	int held;             /* /v1/never requests taken */
	int aborted;          /* of those, the ones whose client went away */
};

/* Starts the server on loop at a free port; fails the test (cmocka) if it
 * cannot. Tests may add routes of their own to h->srv. */
void tl_httpd_start(struct tl_httpd *h, struct ev_loop *loop);
/* Frees the server (held requests are aborted first). Twice is fine. */
void tl_httpd_stop(struct tl_httpd *h);

/* A port on 127.0.0.1 where connecting is refused: a bound socket that does
 * not listen. Returns that socket (the caller closes it when done) and
 * stores the port; fails the test if it cannot. */
int tl_refusing_port(uint16_t *port);

#endif
