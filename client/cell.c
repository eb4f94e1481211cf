/* cell.c: the cell as the client knows it (cellclient.h): its members and
 * the current one, where writes go (learned from redirects, or located
 * through /v1/status), and the cell's life: entering it from the loop and
 * freeing it with exchanges in flight. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATUS_PATH "/v1/status"

static void die(const char *what)
{
	fprintf(stderr, "cellclient: %s\n", what);
	abort();
}

/* ---- members ---- */

static size_t trimmed_len(const char *url)
{
	size_t n = strlen(url);
	while (n && url[n - 1] == '/')
		n--;
	return n;
}

void cl_cell_add_url(cl_cell *c, const char *url)
{
	size_t n = url ? trimmed_len(url) : 0;
	if (!n)
		return;
	for (uint32_t i = 0; i < c->nurls; i++)
		if (strlen(c->urls[i]) == n && !strncmp(c->urls[i], url, n))
			return;
	cu_grow((void **)&c->urls, &c->capurls, c->nurls + 1, sizeof(*c->urls));
	c->urls[c->nurls++] = cu_xstrndup(url, n);
}

int cli_member(const cl_cell *c, const char *base)
{
	for (uint32_t i = 0; i < c->nurls; i++)
		if (!strcmp(c->urls[i], base))
			return (int)i;
	return -1;
}

const char *cli_hint(cl_cell *c)
{
	const char *h = c->writer_hint ? c->writer_hint(c->hint_arg) : NULL;
	return h && *h ? h : NULL;
}

const char *cl_cell_url(cl_cell *c)
{
	if (c->writer)
		return c->writer;
	const char *h = cli_hint(c);
	return h ? h : c->urls[c->cur];
}

const char *cl_cell_writer(const cl_cell *c)
{
	return c->writer;
}

bool cl_cell_answered(const cl_cell *c)
{
	return c->answered;
}

const char *cl_cell_urls(cl_cell *c)
{
	c->urls_text.len = 0;
	cu_buf_adds(&c->urls_text, "");
	for (uint32_t i = 0; i < c->nurls; i++)
		cu_buf_addf(&c->urls_text, "%s%s", i ? ", " : "", c->urls[i]);
	return c->urls_text.p;
}

const char *cl_cell_errmsg(const cl_cell *c)
{
	return c->errmsg;
}

/* ---- the writer ---- */

bool cli_base_of(const char *url, char *out, size_t len)
{
	const char *p = url ? strstr(url, "://") : NULL;
	if (!p)
		return false;
	const char *slash = strchr(p + 3, '/');
	size_t n = slash ? (size_t)(slash - url) : strlen(url);
	if (n >= len)
		return false;
	memcpy(out, url, n);
	out[n] = 0;
	return true;
}

static void set_writer(cl_cell *c, const char *base)
{
	if (c->writer && !strcmp(c->writer, base))
		return;
	free(c->writer);
	c->writer = cu_xstrdup(base);
}

void cli_moved_on(cl_cell *c, const char *base)
{
	if (c->writer && !strcmp(c->writer, base)) {
		free(c->writer);
		c->writer = NULL;
	}
	int i = cli_member(c, base);
	if (i >= 0)
		c->cur = ((uint32_t)i + 1) % c->nurls;
}

void cli_learn(cl_cell *c, const char *base, const char *resp_url)
{
	char got[512];
	if (cli_base_of(resp_url, got, sizeof(got)) && strcmp(got, base))
		set_writer(c, got);
}

/* ---- locating the writer: one member's /v1/status after another ---- */

static void probe(cl_cell *c);

/* The member that says it is trusted writes; else the leader it names.
 * false when the answer is not JSON: no member of a cell answers so. */
static bool read_status(cl_cell *c, const char *base,
                        const struct cc_response *resp)
{
	json_t *j = cc_response_json(resp, NULL, 0);
	if (!j)
		return false;
	const char *leader = json_string_value(
	    json_object_get(json_object_get(j, "leader"), "api_address"));
	if (resp->status != 200)
		; /* a member that cannot tell: no writer learned */
	else if (json_is_true(json_object_get(j, "trusted")))
		set_writer(c, base);
	else if (leader && *leader)
		set_writer(c, leader);
	json_decref(j);
	return true;
}

/* The sweep is over: the requests waiting for it go on. */
static void swept(cl_cell *c, bool answered, int code, const char *msg,
                  const char *base)
{
	c->locating = c->need_locate = false;
	cli_located(c, answered, code, msg, base);
}

static void probe_answer(void *arg, int status, struct cc_response *resp,
                         const char *errmsg)
{
	cl_cell *c = arg;
	uint32_t at = (c->probe_from + c->probed - 1) % c->nurls;
	char err[CC_ERRMSG_SIZE];
	c->pending--;
	cli_enter(c);
	if (status == 0 && !read_status(c, c->urls[at], resp)) {
		status = cu_errf(err, sizeof(err), CC_EPROTO,
		                 "GET %s" STATUS_PATH " answered HTTP %ld "
		                 "without JSON",
		                 c->urls[at], resp->status);
		errmsg = err;
	}
	if (status == CC_ESTATE) {
		c->locating = false;
	} else if (status == 0) {
		c->answered = true;
		c->cur = at;
		swept(c, true, 0, "", c->urls[at]);
	} else if (c->probed < c->nurls) {
		probe(c);
	} else {
		swept(c, false, status, errmsg, c->urls[at]);
	}
	cli_leave(c);
}

static void probe(cl_cell *c)
{
	uint32_t at = (c->probe_from + c->probed++) % c->nurls;
	char url[2048];
	snprintf(url, sizeof(url), "%s" STATUS_PATH, c->urls[at]);
	int rc = cc_aclient_request(c->http, "GET", url, NULL, NULL, 0,
	                            probe_answer, c);
	if (rc == 0) {
		c->pending++;
		return;
	}
	/* a member URL curl will not take: as one that does not answer */
	if (c->probed < c->nurls)
		probe(c);
	else
		swept(c, false, rc, cc_aclient_errmsg(c->http), c->urls[at]);
}

void cli_locate(cl_cell *c)
{
	if (c->locating)
		return;
	free(c->writer); /* it is what we look for */
	c->writer = NULL;
	c->locating = true;
	c->probe_from = c->cur;
	c->probed = 0;
	probe(c);
}

/* ---- the cell's life ---- */

cl_cell *cl_cell_new(struct ev_loop *loop, const struct cl_config *cfg)
{
	if (!loop || !cfg || !cfg->urls || !cfg->nurls)
		die("cl_cell_new needs a loop and at least one member URL");
	cl_cell *c = cu_xcalloc(1, sizeof(*c));
	c->loop = loop;
	for (unsigned i = 0; i < cfg->nurls; i++)
		cl_cell_add_url(c, cfg->urls[i]);
	if (!c->nurls)
		die("cl_cell_new: every member URL is empty");
	c->token = cu_xstrdup(cfg->token);
	struct cc_client_config hc = {.token = c->token,
	                              .timeout_ms = cfg->timeout_ms,
	                              .connect_timeout_ms =
	                                  cfg->connect_timeout_ms};
	c->http = cc_aclient_new(loop, &hc);
	c->locate = c->need_locate = cfg->locate;
	c->writer_hint = cfg->writer_hint;
	c->hint_arg = cfg->hint_arg;
	c->on_retry = cfg->on_retry;
	c->retry_arg = cfg->retry_arg;
	c->resends = cfg->resends;
	cu_list_init(&c->locate_wait);
	cu_list_init(&c->reqs);
	cu_list_init(&c->watches);
	return c;
}

static void destroy(cl_cell *c)
{
	for (uint32_t i = 0; i < c->nurls; i++)
		free(c->urls[i]);
	free(c->urls);
	free(c->writer);
	free(c->token);
	cu_buf_free(&c->urls_text);
	free(c);
}

void cli_enter(cl_cell *c)
{
	c->depth++;
}

void cli_leave(cl_cell *c)
{
	if (--c->depth == 0 && c->closing && c->pending == 0)
		destroy(c);
}

void cl_cell_free(cl_cell *c)
{
	if (!c || c->closing)
		return;
	c->closing = true;
	cli_enter(c);
	cli_requests_close(c);
	cli_watches_close(c);
	/* what is in flight there answers now with CC_ESTATE (a stream
	 * whose line is being handed out: once that returns) */
	cc_aclient_free(c->http);
	c->http = NULL;
	cli_leave(c);
}
