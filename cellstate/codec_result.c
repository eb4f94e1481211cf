/* codec_result.c: JSON for the verdicts of one transaction (FORMAT.md), the
 * answer of POST /v1/txn. The decoder checks that the counts agree with the
 * verdicts, so a client can trust "accepted" without recounting. */
#include "json_util.h"

#include <stdlib.h>
#include <string.h>

static const char *const result_fields[] = {
    "index", "committed", "duplicate", "accepted", "rejected", "ops", NULL};
static const char *const verdict_fields[] = {"ok", "reason", "detail", NULL};

#define EXPECT_REASON   "a reason code such as \"ok\" or \"seq_changed\""
#define EXPECT_VERDICTS "an array of at most 1000000 verdicts"

static bool reason_valid(const char *s)
{
	return cs_reason_parse(s) >= 0;
}

static int verdict_read(struct cs_jdec *d, const json_t *o,
                        struct cs_verdict *v)
{
	const char *reason, *detail = NULL;
	bool ok;
	if (cs_jv_object(d, o, "a verdict object") < 0 ||
	    cs_jcheck_fields(d, o, verdict_fields) < 0 ||
	    cs_jget_bool(d, o, "ok", CS_JREQ, &ok) < 0 ||
	    cs_jget_str(d, o, "reason", CS_JREQ, reason_valid, EXPECT_REASON,
	                &reason) < 0 ||
	    cs_jget_str(d, o, "detail", CS_JOPT, NULL, "a string", &detail) < 0)
		return -1;
	v->reason = (enum cs_reason)cs_reason_parse(reason);
	if (ok != (v->reason == CS_R_OK))
		return cs_jerr_at(d, "ok", "expected %s for reason \"%s\"",
		                  ok ? "false" : "true", reason);
	v->detail = cu_xstrdup(detail);
	return 0;
}

static int verdicts_read(struct cs_jdec *d, const json_t *ops, cs_result *r)
{
	uint32_t n = (uint32_t)json_array_size(ops);
	r->ops = n ? cu_xcalloc(n, sizeof(*r->ops)) : NULL;
	r->nops = n; /* details are zeroed: cs_result_clear copes on error */
	size_t saved = cs_jpath_key(&d->path, "ops");
	int rc = 0;
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		size_t at = cs_jpath_index(&d->path, i);
		rc = verdict_read(d, json_array_get(ops, i), &r->ops[i]);
		cs_jpath_pop(&d->path, at);
	}
	cs_jpath_pop(&d->path, saved);
	return rc;
}

static int counts_check(struct cs_jdec *d, const cs_result *r,
                        uint32_t rejected)
{
	uint32_t ok = 0;
	for (uint32_t i = 0; i < r->nops; i++)
		ok += r->ops[i].reason == CS_R_OK;
	if (r->accepted != ok)
		return cs_jerr_at(d, "accepted",
		                  "expected %u (the ops with \"ok\": true), "
		                  "got %u",
		                  ok, r->accepted);
	if (rejected != r->nops - ok)
		return cs_jerr_at(d, "rejected",
		                  "expected %u (the ops with \"ok\": false), "
		                  "got %u",
		                  r->nops - ok, rejected);
	return 0;
}

static int result_read(struct cs_jdec *d, const json_t *j, cs_result *r)
{
	const json_t *ops;
	uint32_t rejected;
	if (cs_jv_object(d, j, "a result object") < 0 ||
	    cs_jcheck_fields(d, j, result_fields) < 0 ||
	    cs_jget_u64(d, j, "index", CS_JREQ, 0, CS_JSON_INT_MAX, NULL,
	                &r->index) < 0 ||
	    cs_jget_bool(d, j, "committed", CS_JREQ, &r->committed) < 0 ||
	    cs_jget_bool(d, j, "duplicate", CS_JREQ, &r->duplicate) < 0 ||
	    cs_jget_u32(d, j, "accepted", CS_JREQ, 0, CS_TXN_OPS_MAX, NULL,
	                &r->accepted) < 0 ||
	    cs_jget_u32(d, j, "rejected", CS_JREQ, 0, CS_TXN_OPS_MAX, NULL,
	                &rejected) < 0 ||
	    cs_jget_array(d, j, "ops", CS_JREQ, 0, CS_TXN_OPS_MAX,
	                  EXPECT_VERDICTS, &ops) < 0 ||
	    verdicts_read(d, ops, r) < 0)
		return -1;
	return counts_check(d, r, rejected);
}

int cs_result_decode(const json_t *j, cs_result *out, char *errbuf,
                     size_t errlen)
{
	struct cs_jdec d;
	cs_result r;
	memset(&r, 0, sizeof(r));
	cs_jdec_init(&d, NULL, errbuf, errlen);
	if (!j)
		return cs_jerr(&d, "expected a result object, got nothing");
	if (result_read(&d, j, &r) < 0) {
		cs_result_clear(&r);
		return -1;
	}
	*out = r;
	return 0;
}

static json_t *verdict_encode(const struct cs_verdict *v)
{
	json_t *o = cs_jnew(json_object());
	cs_jset_bool(o, "ok", v->reason == CS_R_OK);
	cs_jset_str(o, "reason", cs_reason_name(v->reason));
	cs_jset_str(o, "detail", v->detail);
	return o;
}

json_t *cs_result_encode(const cs_result *res)
{
	json_t *o = cs_jnew(json_object());
	json_t *ops = cs_jnew(json_array());
	uint32_t accepted =
	    res->accepted <= res->nops ? res->accepted : res->nops;
	cs_jset_u64(o, "index", res->index);
	cs_jset_bool(o, "committed", res->committed);
	cs_jset_bool(o, "duplicate", res->duplicate);
	cs_jset_u64(o, "accepted", res->accepted);
	cs_jset_u64(o, "rejected", res->nops - accepted);
	for (uint32_t i = 0; i < res->nops; i++)
		cs_jappend(ops, verdict_encode(&res->ops[i]));
	cs_jset(o, "ops", ops);
	return o;
}
