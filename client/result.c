/* result.c: the verdicts of a transaction from celld's answer. celld
 * writes them as compact JSON in one shape (cs_result_encode, dumped
 * compact); that text is read here directly, since building a thousand
 * verdict objects in jansson first costs a poster a millisecond per
 * 1,000-op transaction. Any other text (details, spaces, another key order)
 * goes through jansson and cs_result_decode: the quick reader accepts a
 * subset of what the decoder accepts, and gives the same result. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* cellstate's limits: JSON integers, ops in a transaction */
#define INDEX_MAX 9223372036854775807ull
#define OPS_MAX   1000000u

struct scan {
	const char *p, *end;
};

static bool lit(struct scan *s, const char *text, size_t n)
{
	if ((size_t)(s->end - s->p) < n || memcmp(s->p, text, n))
		return false;
	s->p += n;
	return true;
}
#define LIT(s, text) lit((s), (text), sizeof(text) - 1)

/* A JSON integer 0..max, without the signs or leading zeros it has no
 * need of. */
static bool num(struct scan *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *start = s->p;
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
		unsigned d = (unsigned)(*s->p++ - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	size_t n = (size_t)(s->p - start);
	if (!n || (n > 1 && *start == '0'))
		return false;
	*out = v;
	return true;
}

static bool boolean(struct scan *s, bool *out)
{
	*out = LIT(s, "true");
	return *out || LIT(s, "false");
}

/* {"ok":B,"reason":"NAME"}, the name a reason code; a detail (which may
 * hold escapes) is left to the decoder. */
static bool verdict(struct scan *s, struct cs_verdict *v)
{
	char name[64];
	size_t n = 0;
	bool ok;
	if (!LIT(s, "{\"ok\":") || !boolean(s, &ok) ||
	    !LIT(s, ",\"reason\":\""))
		return false;
	while (s->p < s->end && n + 1 < sizeof(name) &&
	       ((*s->p >= 'a' && *s->p <= 'z') || *s->p == '_'))
		name[n++] = *s->p++;
	name[n] = 0;
	int reason = cs_reason_parse(name);
	if (reason < 0 || !LIT(s, "\"}") || ok != (reason == CS_R_OK))
		return false;
	v->reason = (enum cs_reason)reason;
	return true;
}

static bool verdicts(struct scan *s, cs_result *r)
{
	uint32_t ok = 0;
	for (uint32_t i = 0; i < r->nops; i++) {
		if ((i && !LIT(s, ",")) || !verdict(s, &r->ops[i]))
			return false;
		ok += r->ops[i].reason == CS_R_OK;
	}
	if (ok != r->accepted || !LIT(s, "]}"))
		return false;
	while (s->p < s->end && (*s->p == '\n' || *s->p == ' ')) /* celld's */
		s->p++;
	return s->p == s->end;
}

static bool quick(const char *body, size_t len, cs_result *r)
{
	struct scan s = {body, body + len};
	uint64_t accepted, rejected;
	memset(r, 0, sizeof(*r));
	if (!LIT(&s, "{\"index\":") || !num(&s, INDEX_MAX, &r->index) ||
	    !LIT(&s, ",\"committed\":") || !boolean(&s, &r->committed) ||
	    !LIT(&s, ",\"duplicate\":") || !boolean(&s, &r->duplicate) ||
	    !LIT(&s, ",\"accepted\":") || !num(&s, OPS_MAX, &accepted) ||
	    !LIT(&s, ",\"rejected\":") || !num(&s, OPS_MAX, &rejected) ||
	    accepted + rejected > OPS_MAX || !LIT(&s, ",\"ops\":["))
		return false;
	r->accepted = (uint32_t)accepted;
	r->nops = (uint32_t)(accepted + rejected);
	r->ops = r->nops ? cu_xcalloc(r->nops, sizeof(*r->ops)) : NULL;
	if (verdicts(&s, r))
		return true;
	cs_result_clear(r);
	return false;
}

int cli_result_read(const struct cc_response *resp, cs_result *out,
                    char *errbuf, size_t errlen)
{
	if (resp->body && quick(resp->body, resp->len, out))
		return 0;
	json_t *j = cc_response_json(resp, errbuf, errlen);
	int rc = j ? cs_result_decode(j, out, errbuf, errlen) : -1;
	json_decref(j);
	return rc;
}
