/* http_server.c: libmicrohttpd driven by a libev loop on one thread, and the
 * routing of requests to handlers. */
#include "http_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_ADDRESS        "127.0.0.1"
#define DEFAULT_MAX_BODY       (1u << 20)
#define DEFAULT_STREAM_BUFFER  (8u << 20)
#define DEFAULT_IDLE_TIMEOUT_S 60u

/* ---- the libev bridge ------------------------------------------------
 * MHD runs in "external polling" mode with its own epoll set: libev watches
 * that one fd, and a timer stands for MHD_get_timeout. Either firing calls
 * MHD_run, which never blocks; after it the timer is re-armed from MHD's
 * new timeout (0 when MHD still has work, e.g. data it could not read in
 * one go). */

static void run_mhd(cc_server *s)
{
	s->in_run = true;
	s->kicked = false;
	MHD_run(s->mhd);
	s->in_run = false;

	MHD_UNSIGNED_LONG_LONG ms = 0;
	bool timed = MHD_get_timeout(s->mhd, &ms) == MHD_YES;
	ev_timer_stop(s->loop, &s->timer);
	if (s->kicked) /* a resume during MHD_run: run again next iteration */
		ms = 0, timed = true;
	if (timed) {
		ev_timer_set(&s->timer, (double)ms / 1000.0, 0.0);
		ev_timer_start(s->loop, &s->timer);
	}
}

static void on_epoll(struct ev_loop *loop, ev_io *w, int revents)
{
	CC_UNUSED(loop);
	CC_UNUSED(revents);
	run_mhd(w->data);
}

static void on_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	CC_UNUSED(loop);
	CC_UNUSED(revents);
	run_mhd(w->data);
}

void cc_server_kick(cc_server *s)
{
	if (s->in_run) {
		s->kicked = true;
		return;
	}
	ev_timer_stop(s->loop, &s->timer);
	ev_timer_set(&s->timer, 0.0, 0.0);
	ev_timer_start(s->loop, &s->timer);
}

/* ---- MHD's callbacks ------------------------------------------------- */

/* Called for the headers, for each piece of the body, then (repeatedly
 * until an answer is queued or the connection suspended) once the request
 * is complete. */
static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
	CC_UNUSED(version);
	struct cc_request *r = *con_cls;
	if (!r) {
		r = cc_request_new(cls, conn, url, method);
		*con_cls = r;
		return cc_request_begin(r);
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		return cc_request_upload(r, upload_data, n);
	}
	return cc_request_ready(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
	CC_UNUSED(cls);
	CC_UNUSED(conn);
	struct cc_request *r = *con_cls;
	if (!r)
		return;
	if (why != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		CC_DEBUG("http: %s %s ended early (MHD reason %d)", r->method,
		         r->path, (int)why);
	cc_request_ended(r);
	cc_request_free(r);
	*con_cls = NULL;
}

/* MHD reports client mistakes and network trouble here; they are not the
 * server's problems, so they go to DEBUG. The last one is kept for a failed
 * start, where it is the only explanation there is. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap) CC_PRINTF(2, 0);

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	cc_server *s = cls;
	vsnprintf(s->mhd_error, sizeof(s->mhd_error), fmt, ap);
	size_t n = strlen(s->mhd_error);
	while (n && (s->mhd_error[n - 1] == '\n' || s->mhd_error[n - 1] == ' '))
		s->mhd_error[--n] = '\0';
	CC_DEBUG("http: libmicrohttpd: %s", s->mhd_error);
}

/* ---- start and stop -------------------------------------------------- */

union sockaddr_any {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

static int parse_address(const char *address, uint16_t port,
                         union sockaddr_any *sa, socklen_t *len, char *errbuf,
                         size_t errlen)
{
	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, address, &sa->in.sin_addr) == 1) {
		sa->in.sin_family = AF_INET;
		sa->in.sin_port = htons(port);
		*len = sizeof(sa->in);
		return 0;
	}
	if (inet_pton(AF_INET6, address, &sa->in6.sin6_addr) == 1) {
		sa->in6.sin6_family = AF_INET6;
		sa->in6.sin6_port = htons(port);
		*len = sizeof(sa->in6);
		return 0;
	}
	return cu_errf(errbuf, errlen, CC_EINVAL,
	               "listen address \"%s\": expected an IP address such as "
	               "127.0.0.1 or ::1",
	               address);
}

/* The server makes its own listening socket so that a failure can say
 * exactly what went wrong (MHD_start_daemon only returns NULL). */
static int open_listener(cc_server *s, const char *address, uint16_t port,
                         int *out, char *errbuf, size_t errlen)
{
	union sockaddr_any sa;
	socklen_t len;
	int rc = parse_address(address, port, &sa, &len, errbuf, errlen);
	if (rc)
		return rc;
	bool v6 = sa.sa.sa_family == AF_INET6;
	snprintf(s->addr, sizeof(s->addr), v6 ? "[%s]:%u" : "%s:%u", address,
	         port);
	int fd = socket(sa.sa.sa_family,
	                SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, &sa.sa, len) || listen(fd, SOMAXCONN) ||
	    getsockname(fd, &sa.sa, &len)) {
		rc = cu_errf(errbuf, errlen, CC_EIO, "listen on %s: %s",
		             s->addr, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	s->port = ntohs(v6 ? sa.in6.sin6_port : sa.in.sin_port);
	snprintf(s->addr, sizeof(s->addr), v6 ? "[%s]:%u" : "%s:%u", address,
	         s->port);
	*out = fd;
	return 0;
}

static int start_mhd(cc_server *s, const struct cc_server_config *cfg, int fd,
                     char *errbuf, size_t errlen)
{
	unsigned idle =
	    cfg->idle_timeout_s ? cfg->idle_timeout_s : DEFAULT_IDLE_TIMEOUT_S;
	struct MHD_OptionItem ops[] = {
	    /* first, so MHD never logs on its own to stderr */
	    {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, s},
	    {MHD_OPTION_LISTEN_SOCKET, fd, NULL},
	    {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s},
	    {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)idle, NULL},
	    /* refuse what HTTP/1.1 forbids (no Host, folded headers) */
	    {MHD_OPTION_STRICT_FOR_CLIENT, 1, NULL},
	    {cfg->max_connections ? MHD_OPTION_CONNECTION_LIMIT
	                          : MHD_OPTION_END,
	     (intptr_t)cfg->max_connections, NULL},
	    {MHD_OPTION_END, 0, NULL},
	};
	/* no internal thread: MHD only runs inside MHD_run, on our loop */
	unsigned flags =
	    MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	s->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_access, s,
	                          MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
	if (!s->mhd) {
		close(fd); /* MHD owns the socket only once it started */
		return cu_errf(errbuf, errlen, CC_EIO,
		               "listen on %s: libmicrohttpd did not start: %s",
		               s->addr,
		               s->mhd_error[0] ? s->mhd_error : "no reason");
	}
	return 0;
}

static void start_watchers(cc_server *s)
{
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	ev_io_init(&s->io, on_epoll, info->epoll_fd, EV_READ);
	s->io.data = s;
	ev_io_start(s->loop, &s->io);
	ev_timer_init(&s->timer, on_timer, 0.0, 0.0);
	s->timer.data = s;
	cc_server_kick(s); /* let MHD arm its timeout */
}

int cc_server_new(struct ev_loop *loop, const struct cc_server_config *cfg,
                  cc_server **out, char *errbuf, size_t errlen)
{
	static const struct cc_server_config defaults;
	if (!cfg)
		cfg = &defaults;
	cc_server *s = cu_xcalloc(1, sizeof(*s));
	s->loop = loop;
	cu_list_init(&s->live);
	s->max_body = cfg->max_body ? cfg->max_body : DEFAULT_MAX_BODY;
	s->max_stream_buffer = cfg->max_stream_buffer ? cfg->max_stream_buffer
	                                              : DEFAULT_STREAM_BUFFER;
	int fd = -1;
	int rc = open_listener(s, cfg->address ? cfg->address : DEFAULT_ADDRESS,
	                       cfg->port, &fd, errbuf, errlen);
	if (rc == 0)
		rc = start_mhd(s, cfg, fd, errbuf, errlen);
	if (rc) {
		free(s);
		return rc;
	}
	if (cfg->metrics)
		s->requests = cc_counter_vec_new(
		    cfg->metrics, "cell_http_requests_total",
		    "HTTP requests answered, by status code", "code");
	start_watchers(s);
	CC_INFO("http: listening on %s", s->addr);
	*out = s;
	return 0;
}

uint16_t cc_server_port(const cc_server *s)
{
	return s->port;
}

void cc_server_free(cc_server *s)
{
	if (!s)
		return;
	/* Owners first, while every request is still there; MHD refuses to
	 * stop with suspended connections, so they are all resumed. Nothing
	 * is freed until MHD_stop_daemon runs the completion callbacks. */
	for (struct cu_list *l = cu_list_first(&s->live); l;
	     l = cu_list_next(&s->live, l)) {
		struct cc_request *r =
		    cu_container_of(l, struct cc_request, link);
		if (r->phase == PH_DEFERRED || r->phase == PH_STREAM)
			cc_request_gone(r);
		else
			cc_request_resume(r);
	}
	ev_io_stop(s->loop, &s->io);
	ev_timer_stop(s->loop, &s->timer);
	MHD_stop_daemon(s->mhd); /* closes the listening socket too */
	for (size_t i = 0; i < s->nroutes; i++) {
		free(s->routes[i].method);
		free(s->routes[i].path);
	}
	free(s->routes);
	CC_INFO("http: stopped listening on %s", s->addr);
	free(s);
}

/* ---- routing --------------------------------------------------------- */

static bool method_ok(const char *m)
{
	if (!*m)
		return false;
	for (; *m; m++)
		if (*m < 'A' || *m > 'Z')
			return false;
	return true;
}

static bool path_ok(const char *path)
{
	return path[0] == '/' && !strpbrk(path, "?# \t\r\n");
}

int cc_server_route(cc_server *s, const char *method, const char *path,
                    cc_handler_fn fn, void *arg, char *errbuf, size_t errlen)
{
	if (!method || !method_ok(method) || !path || !path_ok(path) || !fn)
		return cu_errf(errbuf, errlen, CC_EINVAL,
		               "route %s %s: expected a method such as GET and "
		               "a path such as /v1/status or /v1/jobs/",
		               method ? method : "(null)",
		               path ? path : "(null)");
	size_t len = strlen(path);
	bool prefix = path[len - 1] == '/';
	if (prefix)
		len--;
	for (size_t i = 0; i < s->nroutes; i++) {
		const struct route *o = &s->routes[i];
		if (strcmp(o->method, method) == 0 && o->prefix == prefix &&
		    strlen(o->path) == len && memcmp(o->path, path, len) == 0)
			return cu_errf(errbuf, errlen, CC_EINVAL,
			               "route %s %s: registered twice", method,
			               path);
	}
	s->routes =
	    cu_xrealloc(s->routes, (s->nroutes + 1) * sizeof(*s->routes));
	s->routes[s->nroutes++] = (struct route){
	    cu_xstrdup(method), cu_xstrndup(path, len), prefix, fn, arg};
	return 0;
}

/* How well route r matches path: -1 not at all, else longer is better and
 * an exact route beats a prefix of the same length. */
static long match(const struct route *r, const char *path)
{
	size_t len = strlen(r->path);
	if (!r->prefix)
		return strcmp(r->path, path) == 0 ? (long)len * 2 + 1 : -1;
	if (strncmp(r->path, path, len) != 0 ||
	    (path[len] != '\0' && path[len] != '/'))
		return -1;
	return (long)len * 2;
}

static const struct route *best(const cc_server *s, const char *method,
                                const char *path)
{
	const struct route *found = NULL;
	long score = -1;
	for (size_t i = 0; i < s->nroutes; i++) {
		const struct route *r = &s->routes[i];
		long m = strcmp(r->method, method) == 0 ? match(r, path) : -1;
		if (m > score)
			score = m, found = r;
	}
	return found;
}

static void allow_add(struct cu_buf *allow, const char *method)
{
	size_t n = strlen(method);
	for (const char *p = allow->p; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && memcmp(p, method, n) == 0)
			return;
		p = end ? end + 2 : p + len;
	}
	if (allow->len)
		cu_buf_adds(allow, ", ");
	cu_buf_adds(allow, method);
}

/* NULL when nothing matches; then allow lists the methods the path does
 * have (empty: the path is unknown). */
const struct route *cc_route_find(const cc_server *s, const char *method,
                                  const char *path, const char **subpath,
                                  struct cu_buf *allow)
{
	const struct route *r = best(s, method, path);
	if (!r && strcmp(method, "HEAD") == 0)
		r = best(s, "GET", path);
	if (r) {
		*subpath = r->prefix ? path + strlen(r->path) : "";
		return r;
	}
	for (size_t i = 0; i < s->nroutes; i++) {
		if (match(&s->routes[i], path) < 0)
			continue;
		allow_add(allow, s->routes[i].method);
		if (strcmp(s->routes[i].method, "GET") == 0)
			allow_add(allow, "HEAD");
	}
	return NULL;
}
