/* http_stream.c: long-lived chunked answers fed by their owner (NDJSON
 * watch streams), with the connection suspended while nothing waits. */
#include "http_internal.h"

#include <stdlib.h>
#include <string.h>

#define BLOCK_SIZE (32u << 10) /* MHD's read size for a stream */
#define COMPACT_AT (64u << 10) /* sent bytes worth moving the rest down */

/* Drops what MHD has taken from the front of the buffer. */
static void compact(struct cc_stream *st)
{
	struct cu_buf *b = &st->buf;
	if (st->sent == b->len) {
		st->sent = 0;
		b->len = 0;
		if (b->cap > COMPACT_AT) /* a burst is over: give it back */
			cu_buf_free(b);
	} else if (st->sent >= COMPACT_AT && st->sent * 2 >= b->len) {
		memmove(b->p, b->p + st->sent, b->len - st->sent);
		b->len -= st->sent;
		b->p[b->len] = '\0';
		st->sent = 0;
	}
}

/* MHD asks for more of the body. Nothing waiting: suspend until the owner
 * writes or closes (returning 0 without suspending would spin). */
static ssize_t on_read(void *cls, uint64_t pos, char *out, size_t max)
{
	CC_UNUSED(pos);
	struct cc_request *r = cls;
	struct cc_stream *st = &r->stream;
	if (r->phase == PH_GONE)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	size_t avail = st->buf.len - st->sent;
	if (avail) {
		size_t n = avail < max ? avail : max;
		memcpy(out, st->buf.p + st->sent, n);
		st->sent += n;
		compact(st);
		return (ssize_t)n;
	}
	if (r->phase == PH_CLOSED)
		return MHD_CONTENT_READER_END_OF_STREAM;
	cc_request_suspend(r);
	return 0;
}

struct cc_stream *cc_stream_open(struct cc_request *r, unsigned status,
                                 const char *content_type,
                                 cc_stream_gone_fn on_gone, void *arg)
{
	if (r->phase != PH_HANDLER)
		return NULL;
	if (status && (status < 100 || status > 599))
		cc_die("http: %u is not an HTTP status", status);
	/* unknown size on HTTP/1.1: MHD sends Transfer-Encoding: chunked */
	struct MHD_Response *resp = MHD_create_response_from_callback(
	    MHD_SIZE_UNKNOWN, BLOCK_SIZE, on_read, r, NULL);
	if (!resp)
		cc_die("http: out of memory making a stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        content_type ? content_type
	                                     : "application/x-ndjson");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	                        "no-cache");
	struct cc_stream *st = &r->stream;
	st->req = r;
	st->on_gone = on_gone;
	st->arg = arg;
	r->response = resp;
	r->status = status ? status : 200;
	r->phase = PH_STREAM;
	return st;
}

int cc_stream_write(struct cc_stream *st, const void *data, size_t len)
{
	struct cc_request *r = st->req;
	if (r->phase != PH_STREAM)
		return CC_ESTATE;
	if (cc_stream_buffered(st) + len > r->srv->max_stream_buffer)
		return CC_ETOOBIG;
	cu_buf_add(&st->buf, data, len);
	cc_request_resume(r);
	return 0;
}

int cc_stream_write_json(struct cc_stream *st, const json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text)
		return CC_EINVAL;
	size_t len = strlen(text);
	text = cu_xrealloc(text, len + 1);
	text[len] = '\n'; /* NDJSON: one document per line */
	int rc = cc_stream_write(st, text, len + 1);
	free(text);
	return rc;
}

size_t cc_stream_buffered(const struct cc_stream *st)
{
	return st->buf.len - st->sent;
}

void cc_stream_close(struct cc_stream *st)
{
	struct cc_request *r = st->req;
	if (r->phase != PH_STREAM)
		return;
	r->phase = PH_CLOSED;
	cc_request_resume(r);
}

void cc_stream_release(struct cc_stream *st)
{
	cu_buf_free(&st->buf);
}
