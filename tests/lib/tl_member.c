/* tl_member.c: the scripted fake cell member of the client tests (see
 * tl_member.h). */
#include "tl_member.h"
#include "testlib.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BINARY_TXN "application/x-cell-txn"

/* ---- writes ---- */

static void keep_body(struct tl_member *m, struct cc_request *req)
{
	size_t len;
	const char *body = cc_request_body(req, &len);
	const char *type = cc_request_header(req, "Content-Type");
	if (m->nbodies == TL_MEMBER_BODIES)
		return;
	int i = m->nbodies++;
	m->bodies[i] = malloc(len + 1);
	memcpy(m->bodies[i], body, len + 1);
	m->lens[i] = len;
	snprintf(m->types[i], sizeof(m->types[i]), "%s", type ? type : "");
}

static void on_held_gone(struct cc_request *req, void *arg)
{
	struct tl_member *m = arg;
	for (int i = 0; i < m->nheld; i++)
		if (m->held[i] == req)
			m->held[i] = NULL;
}

/* The script's part of every write; true when it answered. */
static bool scripted(struct tl_member *m, struct cc_request *req)
{
	m->writes++;
	if (m->fail > 0) {
		m->fail--;
		cc_reply_error(req, 503,
		               m->fail_error ? m->fail_error : "no_leader",
		               "scripted failure");
		return true;
	}
	if (m->redirect[0]) {
		char to[256];
		snprintf(to, sizeof(to), "%s%s", m->redirect,
		         cc_request_path(req));
		cc_reply_header(req, "Location", to);
		cc_reply_error(req, 307, "not_leader", "try %s", to);
		return true;
	}
	if (m->hold && m->nheld < TL_MEMBER_HELD) {
		m->held[m->nheld++] = req;
		cc_request_defer(req, on_held_gone, m);
		return true;
	}
	if (m->answer_status != 200) {
		cc_reply_error(req, m->answer_status, "refused", "scripted");
		return true;
	}
	return false;
}

static json_t *verdicts(struct tl_member *m, const char *body, size_t len,
                        const char *type)
{
	cs_txn *t = NULL;
	char err[CS_ERRMSG_SIZE];
	int rc = type && !strcmp(type, BINARY_TXN)
	             ? cs_txn_decode_bin((const uint8_t *)body, len, &t, err,
	                                 sizeof(err))
	             : cs_txn_parse(body, len, &t, err, sizeof(err));
	if (rc)
		fail_msg("the member got a bad transaction: %s", err);
	cs_result res = {.index = (uint64_t)m->writes,
	                 .committed = true,
	                 .duplicate = m->nbodies > 1,
	                 .nops = t->nops,
	                 .accepted = t->nops};
	res.ops = calloc(t->nops, sizeof(*res.ops));
	json_t *j = cs_result_encode(&res);
	cs_result_clear(&res);
	cs_txn_free(t);
	return j;
}

static void h_txn(struct cc_request *req, void *arg)
{
	struct tl_member *m = arg;
	keep_body(m, req);
	if (scripted(m, req))
		return;
	size_t len;
	const char *body = cc_request_body(req, &len);
	if (m->txn_answer) {
		cc_reply_text(req, 200, "application/json", m->txn_answer,
		              strlen(m->txn_answer));
		return;
	}
	cc_reply_json(
	    req, 200,
	    verdicts(m, body, len, cc_request_header(req, "Content-Type")));
}

static void h_beat(struct cc_request *req, void *arg)
{
	struct tl_member *m = arg;
	keep_body(m, req);
	if (scripted(m, req))
		return;
	const char *text = m->beat_answer
	                       ? m->beat_answer
	                       : "{\"ttl_ms\": 3000, \"unknown\": []}";
	cc_reply_json(req, 200, json_loads(text, 0, NULL));
}

static void h_x(struct cc_request *req, void *arg)
{
	struct tl_member *m = arg;
	if (scripted(m, req))
		return;
	cc_reply_json(req, 200,
	              json_pack("{s:s,s:s}", "member", m->h.base, "method",
	                        cc_request_method(req)));
}

void tl_member_release(struct tl_member *m)
{
	for (int i = 0; i < m->nheld; i++) {
		struct cc_request *req = m->held[i];
		m->held[i] = NULL;
		if (req)
			cc_reply_json(req, m->answer_status,
			              json_pack("{s:s}", "member", m->h.base));
	}
	m->nheld = 0;
}

/* ---- reads ---- */

static void h_status(struct cc_request *req, void *arg)
{
	struct tl_member *m = arg;
	m->status_calls++;
	if (m->status_text) {
		cc_reply_text(req, 200, "text/plain", "up", 2);
		return;
	}
	json_t *leader = m->leader[0]
	                     ? json_pack("{s:s}", "api_address", m->leader)
	                     : json_null();
	cc_reply_json(req, 200,
	              json_pack("{s:i,s:b,s:o}", "id", 1, "trusted", m->trusted,
	                        "leader", leader));
}

static void on_stream_gone(struct cc_stream *s, void *arg)
{
	struct tl_member *m = arg;
	if (m->open == s)
		m->open = NULL;
}

static void h_watch(struct cc_request *req, void *arg)
{
	struct tl_member *m = arg;
	uint64_t from = 0;
	m->streams++;
	if (!cc_request_query_u64(req, "from", 0, UINT64_MAX, &from))
		return;
	m->last_from = from;
	if (m->refuse_watch) {
		cc_reply_error(req, m->refuse_watch, "bad_query", "scripted");
		return;
	}
	if (from < m->gone_below) {
		cc_reply_error(req, 410, "gone", "index %" PRIu64 " is older",
		               from);
		return;
	}
	struct cc_stream *s = cc_stream_open(req, 200, NULL, on_stream_gone, m);
	size_t sent = 0,
	       cut = m->cuts && m->streams > m->cuts ? 0 : m->cut_after;
	for (size_t i = 0; i < m->nlog; i++) {
		if (m->log[i].index < from)
			continue;
		cc_stream_write(s, m->log[i].text, strlen(m->log[i].text));
		cc_stream_write(s, "\n", 1);
		if (cut && ++sent == cut)
			break;
	}
	if (m->progress) {
		char line[64];
		int n =
		    snprintf(line, sizeof(line),
		             "{\"kind\":\"progress\",\"index\":%" PRIu64 "}\n",
		             m->progress);
		cc_stream_write(s, line, (size_t)n);
	}
	if (cut) {
		cc_stream_close(s);
		return;
	}
	m->open = s;
}

/* ---- life ---- */

void tl_member_start(struct tl_member *m, struct ev_loop *loop)
{
	static const struct {
		const char *method, *path;
		cc_handler_fn fn;
	} routes[] = {
	    {"GET", "/v1/status", h_status},
	    {"POST", "/v1/txn", h_txn},
	    {"POST", "/v1/heartbeat", h_beat},
	    {"GET", "/v1/x", h_x},
	    {"POST", "/v1/x", h_x},
	    {"GET", "/v1/watch", h_watch},
	};
	char err[CC_ERRMSG_SIZE];
	memset(m, 0, sizeof(*m));
	tl_httpd_start(&m->h, loop);
	m->answer_status = 200;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (cc_server_route(m->h.srv, routes[i].method, routes[i].path,
		                    routes[i].fn, m, err, sizeof(err)))
			fail_msg("%s", err);
}

void tl_member_stop(struct tl_member *m)
{
	tl_httpd_stop(&m->h);
	m->open = NULL;
	m->nheld = 0;
	for (int i = 0; i < m->nbodies; i++)
		free(m->bodies[i]);
	m->nbodies = 0;
}
