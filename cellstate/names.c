/* names.c: the character rules for names, ids, labels, resources, agent
 * URLs and cron schedules, shared by every validator. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool alnum(char c)
{
	return lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool all_of(const char *s, size_t max, const char *extra,
                   bool (*cls)(char))
{
	size_t n = 0;
	for (; s[n]; n++) {
		if (n >= max)
			return false;
		if (!cls(s[n]) && !strchr(extra, s[n]))
			return false;
	}
	return true;
}

bool cs_name_valid(const char *s)
{
	return s && lower_alnum(s[0]) &&
	       all_of(s, CS_NAME_MAX, "._-", lower_alnum);
}

bool cs_id_valid(const char *s)
{
	return s && s[0] && all_of(s, CS_ID_MAX, "._:@/-", alnum);
}

bool cs_label_key_valid(const char *s)
{
	return s && lower_alnum(s[0]) &&
	       all_of(s, CS_NAME_MAX, "._/-", lower_alnum);
}

bool cs_label_value_valid(const char *s)
{
	return s && all_of(s, CS_NAME_MAX, "._-", alnum);
}

bool cs_res_name_valid(const char *s)
{
	return s && s[0] >= 'a' && s[0] <= 'z' &&
	       all_of(s, CS_RES_NAME_MAX, "._/-", lower_alnum);
}

static bool env_char(char c)
{
	return alnum(c) || c == '_';
}

bool cs_env_name_valid(const char *s)
{
	return s &&
	       (s[0] == '_' ||
	        (alnum(s[0]) && !(s[0] >= '0' && s[0] <= '9'))) &&
	       all_of(s, 128, "", env_char);
}

/* Printable ASCII but the space: no whitespace, no control character, no
 * byte of a multi-byte character (a URL spells those percent-encoded). */
static bool url_char(char c)
{
	return c > 0x20 && c < 0x7f;
}

bool cs_agent_url_valid(const char *s)
{
	size_t scheme;
	if (s && !strncmp(s, "http://", 7))
		scheme = 7;
	else if (s && !strncmp(s, "https://", 8))
		scheme = 8;
	else
		return false;
	return s[scheme] && all_of(s, CS_AGENT_MAX, "", url_char);
}

/* Parses a number in [lo, hi] at *p; advances *p. */
static bool cron_num(const char **p, int lo, int hi, int *out)
{
	if (**p < '0' || **p > '9')
		return false;
	long v = 0;
	while (**p >= '0' && **p <= '9') {
		v = v * 10 + (**p - '0');
		if (v > hi)
			return false;
		(*p)++;
	}
	*out = (int)v;
	return v >= lo;
}

/* item := ('*' | N | N-N) ('/' N)?  ;  field := item (',' item)* */
static bool cron_field(const char *f, size_t len, int lo, int hi)
{
	char buf[64];
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, f, len);
	buf[len] = 0;
	const char *p = buf;
	for (;;) {
		int a, b;
		if (*p == '*') {
			p++;
		} else {
			if (!cron_num(&p, lo, hi, &a))
				return false;
			if (*p == '-') {
				p++;
				if (!cron_num(&p, lo, hi, &b) || b < a)
					return false;
			}
		}
		if (*p == '/') {
			p++;
			if (!cron_num(&p, 1, hi > 1 ? hi : 1, &b))
				return false;
		}
		if (*p == 0)
			return true;
		if (*p != ',')
			return false;
		p++;
	}
}

const char *cs_cron_check(const char *spec)
{
	static const int lo[5] = {0, 0, 1, 1, 0}, hi[5] = {59, 23, 31, 12, 7};
	static const char *expect =
	    "expected 5 cron fields 'minute hour day-of-month month "
	    "day-of-week', each '*', N, N-M, lists with ',' and steps '/N' "
	    "(ranges 0-59, 0-23, 1-31, 1-12, 0-7)";
	const char *p = spec;
	for (int i = 0; i < 5; i++) {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, " \t");
		if (!cron_field(p, n, lo[i], hi[i]))
			return expect;
		p += n;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	return *p ? expect : NULL;
}
