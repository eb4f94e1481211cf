/* addr.c: what every server binary checks the same way: HOST:PORT
 * arguments, whether a host is loopback, and bearer token files. */
#include "cellcommon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cc_is_loopback(const char *host)
{
	return !strncmp(host, "127.", 4) || !strcmp(host, "::1") ||
	       !strcmp(host, "[::1]") || !strcmp(host, "localhost");
}

int cc_split_hostport(const char *s, char *host, size_t len, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || (size_t)(colon - s) >= len)
		return CC_EINVAL;
	char *end;
	errno = 0;
	unsigned long p = strtoul(colon + 1, &end, 10);
	if (*end || errno || p > 65535 || end == colon + 1)
		return CC_EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	if (host[0] == '[') { /* [::1] -> ::1 */
		size_t n = strlen(host);
		if (host[n - 1] != ']')
			return CC_EINVAL;
		memmove(host, host + 1, n - 2);
		host[n - 2] = 0;
	}
	*port = (uint16_t)p;
	return 0;
}

char *cc_read_token(const char *path, char *errbuf, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(errbuf, errlen, "--token-file %s: %s", path,
		         strerror(errno));
		return NULL;
	}
	char buf[512] = "";
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n &&
	       (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = 0;
	if (n < 16 || strpbrk(buf, " \t\r\n")) {
		snprintf(errbuf, errlen,
		         "--token-file %s: expected one token of 16 to 511 "
		         "characters without spaces",
		         path);
		return NULL;
	}
	return cu_xstrdup(buf);
}

char **cc_split_urls(const char *list, unsigned *n)
{
	char *copy = cu_xstrdup(list), *save = NULL;
	char **urls = cu_xcalloc(16, sizeof(*urls));
	*n = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok && *n < 16;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t len = strlen(tok);
		while (len && tok[len - 1] == '/')
			tok[--len] = 0;
		urls[(*n)++] = cu_xstrdup(tok);
	}
	free(copy);
	return urls;
}

void cc_url_escape(char *buf, size_t len, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(buf);
	for (; *s && n + 4 < len; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._~", ch)) {
			buf[n++] = (char)ch;
		} else {
			buf[n++] = '%';
			buf[n++] = hex[ch >> 4];
			buf[n++] = hex[ch & 15];
		}
	}
	buf[n] = 0;
}
