/* tl_request.c: one HTTP request with full control (see tl_request.h). */
#define _GNU_SOURCE
#include "tl_request.h"

#include "cellutil.h"

#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	cu_buf_add(arg, data, size * n);
	return size * n;
}

/* Keeps the header lines of the last answer only (a redirect's are
 * dropped when the next status line comes). */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct cu_buf *b = arg;
	if (size * n >= 5 && !strncmp(data, "HTTP/", 5))
		b->len = 0;
	cu_buf_add(b, data, size * n);
	return size * n;
}

static struct curl_slist *headers_of(const struct tl_request *q, char *auth,
                                     size_t authlen)
{
	struct curl_slist *hl = NULL;
	bool typed = false;
	for (int i = 0; q->headers && q->headers[i]; i++) {
		hl = curl_slist_append(hl, q->headers[i]);
		if (!strncasecmp(q->headers[i], "Content-Type:", 13))
			typed = true;
	}
	if (q->body && !typed)
		hl = curl_slist_append(hl, "Content-Type: application/json");
	hl = curl_slist_append(hl, "Expect:"); /* no 100-continue round */
	if (q->token) {
		snprintf(auth, authlen, "Authorization: Bearer %s", q->token);
		hl = curl_slist_append(hl, auth);
	}
	return hl;
}

static void prepare(CURL *h, const struct tl_request *q)
{
	curl_easy_setopt(h, CURLOPT_URL, q->url);
	curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method);
	if (!strcmp(q->method, "HEAD"))
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (q->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, q->body);
		curl_easy_setopt(
		    h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(q->len ? q->len : strlen(q->body)));
	}
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, q->follow ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
	                 (long)(q->timeout_ms ? q->timeout_ms : 10000));
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
}

long tl_request(const struct tl_request *q, struct tl_answer *a)
{
	static bool curl_ready;
	if (!curl_ready) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		curl_ready = true;
	}
	memset(a, 0, sizeof(*a));
	struct cu_buf body = {0}, head = {0};
	char auth[600];
	CURL *h = curl_easy_init();
	struct curl_slist *hl = headers_of(q, auth, sizeof(auth));
	prepare(h, q);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &head);
	CURLcode rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
	else
		snprintf(a->error, sizeof(a->error), "%s %s: %s", q->method,
		         q->url, curl_easy_strerror(rc));
	curl_slist_free_all(hl);
	curl_easy_cleanup(h);
	a->len = body.len;
	a->body = cu_buf_steal(&body);
	a->headers = cu_buf_steal(&head);
	a->json = json_loadb(a->body, a->len, 0, NULL);
	return a->status;
}

char *tl_answer_header(const struct tl_answer *a, const char *name)
{
	size_t n = strlen(name);
	for (const char *line = a->headers; line && *line;) {
		const char *end = strchr(line, '\n');
		if (!end)
			end = line + strlen(line);
		if ((size_t)(end - line) > n && !strncasecmp(line, name, n) &&
		    line[n] == ':') {
			const char *v = line + n + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			const char *e = end;
			while (e > v && (e[-1] == '\r' || e[-1] == ' '))
				e--;
			return cu_xstrndup(v, (size_t)(e - v));
		}
		line = *end ? end + 1 : end;
	}
	return NULL;
}

void tl_answer_clear(struct tl_answer *a)
{
	free(a->body);
	free(a->headers);
	json_decref(a->json);
	memset(a, 0, sizeof(*a));
}
