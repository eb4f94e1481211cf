/* tl_member.h: a fake member of a cell for client tests: a tl_httpd whose
 * celld routes answer as a script says (503 a number of times, redirect,
 * hold the answer, refuse), and whose watch streams a prepared log with
 * breaks, 410 and refusals. Everything runs on the test's libev loop. */
#ifndef CELL_TL_MEMBER_H
#define CELL_TL_MEMBER_H

#include "tl_httpd.h"

#include <stdbool.h>
#include <stdint.h>

#define TL_MEMBER_BODIES 16
#define TL_MEMBER_HELD   16

/* One line of the log the watch serves. */
struct tl_line {
	uint64_t index;
	const char *text; /* the line without its "\n" */
};

/* Routes, besides tl_httpd's:
 *   GET /v1/status      {"id": 1, "trusted": trusted, "leader":
 *                       {"api_address": leader}} (leader "" : null)
 *   POST /v1/txn        a write (below); when it is answered 200, the
 *                       verdicts of the transaction received (binary or
 *                       JSON), every op accepted, "duplicate" from the
 *                       second body on
 *   POST /v1/heartbeat  a write answered with beat_answer
 *   GET POST /v1/x      a write answered {"member": base, "method"}
 *   GET /v1/watch       the log from ?from= on, as celld replays it
 * A write: 503 {"error": fail_error} while fail > 0 (each takes one), else
 * 307 to redirect + path when set, else held (deferred) when hold, else
 * answer_status (200 unless set; other statuses {"error": "refused"}). */
struct tl_member {
	struct tl_httpd h; /* h.base: the member's URL */
	bool trusted;
	char leader[64];
	bool status_text; /* /v1/status answers text, as no member does */
	int status_calls;

	int fail;
	const char *fail_error; /* NULL: "no_leader" */
	char redirect[64];
	bool hold;
	unsigned answer_status;
	const char *beat_answer; /* NULL: {"ttl_ms": 3000, "unknown": []} */
	const char *txn_answer;  /* /v1/txn's 200 text; NULL: the verdicts */
	int writes;              /* requests to the write routes */
	/* bodies received by /v1/txn and /v1/heartbeat, and their types */
	char *bodies[TL_MEMBER_BODIES];
	size_t lens[TL_MEMBER_BODIES];
	char types[TL_MEMBER_BODIES][64];
	int nbodies;
	struct cc_request *held[TL_MEMBER_HELD]; /* NULL once gone */
	int nheld;

	const struct tl_line *log; /* the watch's lines, by index */
	size_t nlog;
	size_t cut_after;      /* end each stream after this many lines; 0:
	                          keep it open after the log */
	int cuts;              /* streams cut so; 0: every one */
	uint64_t progress;     /* then a progress line at this index; 0: none */
	uint64_t gone_below;   /* ?from= below this: 410 */
	unsigned refuse_watch; /* a 4xx to answer every watch with; 0: none */
	int streams;           /* watch requests */
	uint64_t last_from;    /* the last one's ?from= */
	struct cc_stream *open; /* the last stream kept open, until gone */
};

/* Starts on loop at a free port (fails the test if it cannot); all
 * zero but answer_status 200. */
void tl_member_start(struct tl_member *m, struct ev_loop *loop);
/* Answers every held write with answer_status. */
void tl_member_release(struct tl_member *m);
/* Frees the server (open streams and held requests end first) and the
 * bodies. Twice is fine. */
void tl_member_stop(struct tl_member *m);

#endif
