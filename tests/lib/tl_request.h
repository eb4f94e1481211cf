/* tl_request.h: one HTTP request with full control, libcurl directly, for
 * what a member's helpers hide: request headers, the answer's headers
 * (Allow, Location), and a redirect that is not followed (a follower's
 * 307). */
#ifndef CELL_TL_REQUEST_H
#define CELL_TL_REQUEST_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct tl_request {
	const char *method; /* "GET", "POST", "PATCH", ... */
	const char *url;
	const char *body;           /* NULL: no body */
	size_t len;                 /* body bytes; 0 with a body: strlen */
	const char *const *headers; /* "Name: value", NULL-terminated, may be
	                               NULL; Content-Type defaults to
	                               application/json when there is a body */
	const char *token;          /* NULL, or sent as Authorization: Bearer */
	bool follow;                /* follow 307/308 as cc_client does */
	int timeout_ms;             /* 0: 10000 */
};

struct tl_answer {
	long status; /* 0 when no answer came (error says why) */
	char *body;  /* malloc'd, NUL-terminated; "" when empty */
	size_t len;
	json_t *json;  /* the body parsed, or NULL when it is not JSON */
	char *headers; /* malloc'd: the last answer's header lines */
	char error[256];
};

/* Sends q and fills *a (which the caller clears with tl_answer_clear).
 * Returns a->status. */
long tl_request(const struct tl_request *q, struct tl_answer *a);
/* The value of header `name` (any case) in the answer, malloc'd; NULL when
 * absent. */
char *tl_answer_header(const struct tl_answer *a, const char *name);
void tl_answer_clear(struct tl_answer *a);

#endif /* CELL_TL_REQUEST_H */
