/* tl_httpd.c: the HTTP client tests' server (see tl_httpd.h). */
#include "tl_httpd.h"
#include "testlib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void h_echo(struct cc_request *req, void *arg)
{
	(void)arg;
	size_t len;
	const char *body = cc_request_body(req, &len);
	const char *token = cc_request_bearer(req);
	const char *ct = cc_request_header(req, "Content-Type");
	const char *hop = cc_request_query(req, "hop");
	cc_reply_json(req, 200,
	              json_pack("{s:s, s:s%, s:o, s:o, s:o}", "method",
	                        cc_request_method(req), "body", body, len,
	                        "token",
	                        token ? json_string(token) : json_null(),
	                        "type", ct ? json_string(ct) : json_null(),
	                        "hop", hop ? json_string(hop) : json_null()));
}

static void h_redirect(struct cc_request *req, void *arg)
{
	struct tl_httpd *h = arg;
	int n = atoi(cc_request_subpath(req) + 1);
	char to[128];
	if (n > 0)
		snprintf(to, sizeof(to), "%s/v1/redirect/%d", h->base, n - 1);
	else
		snprintf(to, sizeof(to), "/v1/echo?hop=last");
	cc_reply_header(req, "Location", to);
	cc_reply_error(req, n % 2 ? 307 : 308, "moved", "try %s", to);
}

static void h_loop(struct cc_request *req, void *arg)
{
	(void)arg;
	cc_reply_header(req, "Location", "/v1/loop");
	cc_reply_json(req, 307, NULL);
}

static void h_see_other(struct cc_request *req, void *arg)
{
	(void)arg;
	cc_reply_header(req, "Location", "/v1/echo");
	cc_reply_json(req, 303, NULL);
}

static void h_big(struct cc_request *req, void *arg)
{
	(void)arg;
	char big[3000];
	memset(big, 'b', sizeof(big));
	cc_reply_text(req, 200, "text/plain", big, sizeof(big));
}

static void on_abort(struct cc_request *req, void *arg)
{
	(void)req;
	((struct tl_httpd *)arg)->aborted++;
}

static void h_never(struct cc_request *req, void *arg)
{
	struct tl_httpd *h = arg;
	cc_request_defer(req, on_abort, h);
	h->held++;
}

void tl_httpd_start(struct tl_httpd *h, struct ev_loop *loop)
{
	static const struct {
		const char *method, *path;
		cc_handler_fn fn;
	} routes[] = {
	    {"GET", "/v1/echo", h_echo},
	    {"POST", "/v1/echo", h_echo},
	    {"PUT", "/v1/echo", h_echo},
	    {"DELETE", "/v1/echo", h_echo},
	    {"POST", "/v1/redirect/", h_redirect},
	    {"PUT", "/v1/redirect/", h_redirect},
	    {"GET", "/v1/redirect/", h_redirect},
	    {"POST", "/v1/loop", h_loop},
	    {"POST", "/v1/see-other", h_see_other},
	    {"GET", "/v1/big", h_big},
	    {"GET", "/v1/never", h_never},
	};
	memset(h, 0, sizeof(*h));
	h->loop = loop;
	char err[CC_ERRMSG_SIZE];
	if (cc_server_new(loop, NULL, &h->srv, err, sizeof(err)))
		fail_msg("%s", err);
	snprintf(h->base, sizeof(h->base), "http://127.0.0.1:%u",
	         cc_server_port(h->srv));
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (cc_server_route(h->srv, routes[i].method, routes[i].path,
		                    routes[i].fn, h, err, sizeof(err)))
			fail_msg("%s", err);
}

void tl_httpd_stop(struct tl_httpd *h)
{
	cc_server_free(h->srv);
	h->srv = NULL;
}

int tl_refusing_port(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(sa);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}
