/* codec_txn.c: JSON for transactions (FORMAT.md), the body of POST /v1/txn
 * and the payload of a Raft entry: the transaction's own fields here, each
 * op's in its file (cs_op_desc). Decoding goes through the builders and
 * ends with cs_txn_validate, so a decoded transaction is exactly what a
 * scheduler could have built, checked by the same code. */
#include "json_util.h"

#include <stdlib.h>

static const char *const txn_fields[] = {"id",     "origin", "mode",
                                         "detect", "ops",    NULL};

/* "op" first: it decides which fields are known, and who reads them. */
static int op_read(struct cs_jdec *d, const json_t *o, cs_txn *t)
{
	const char *names[CS_OP__COUNT];
	int kind;
	for (int i = 0; i < CS_OP__COUNT; i++)
		names[i] = cs_op_name((enum cs_op_kind)i);
	if (cs_jv_object(d, o, "an op object") < 0 ||
	    cs_jget_enum(d, o, "op", CS_JREQ, names, CS_OP__COUNT, &kind) < 0)
		return -1;
	const struct cs_op_desc *op = cs_op_desc((enum cs_op_kind)kind);
	if (cs_jcheck_fields(d, o, op->fields) < 0)
		return -1;
	return op->json_read(d, o, t);
}

static int ops_read(struct cs_jdec *d, const json_t *ops, cs_txn *t)
{
	/* No reserve up front: the builders double as needed, so a huge array
	 * of junk fails at its first entry without a huge allocation. */
	uint32_t n = (uint32_t)json_array_size(ops);
	size_t saved = cs_jpath_key(&d->path, "ops");
	int r = 0;
	for (uint32_t i = 0; i < n && r == 0; i++) {
		size_t at = cs_jpath_index(&d->path, i);
		r = op_read(d, json_array_get(ops, i), t);
		cs_jpath_pop(&d->path, at);
	}
	cs_jpath_pop(&d->path, saved);
	return r;
}

static int txn_read(struct cs_jdec *d, const json_t *j, cs_txn **out)
{
	const char *modes[] = {cs_mode_name(CS_INCREMENTAL),
	                       cs_mode_name(CS_ALL_OR_NOTHING)};
	const char *detects[] = {cs_detect_name(CS_FINE),
	                         cs_detect_name(CS_COARSE)};
	const char *id = NULL, *origin = NULL;
	int mode = CS_INCREMENTAL, detect = CS_FINE;
	const json_t *ops;
	if (cs_jv_object(d, j, "a transaction object") < 0 ||
	    cs_jcheck_fields(d, j, txn_fields) < 0 ||
	    cs_jget_str(d, j, "id", CS_JOPT, cs_id_valid, CS_EXPECT_ID, &id) <
	        0 ||
	    cs_jget_str(d, j, "origin", CS_JOPT, cs_id_valid, CS_EXPECT_ORIGIN,
	                &origin) < 0 ||
	    cs_jget_enum(d, j, "mode", CS_JOPT, modes, 2, &mode) < 0 ||
	    cs_jget_enum(d, j, "detect", CS_JOPT, detects, 2, &detect) < 0 ||
	    cs_jget_array(d, j, "ops", CS_JREQ, 1, CS_TXN_OPS_MAX,
	                  CS_EXPECT_OPS, &ops) < 0)
		return -1;
	*out =
	    cs_txn_new(id, origin, (enum cs_mode)mode, (enum cs_detect)detect);
	return ops_read(d, ops, *out);
}

int cs_txn_decode(const json_t *j, cs_txn **out, char *errbuf, size_t errlen)
{
	struct cs_jdec d;
	cs_txn *txn = NULL;
	cs_jdec_init(&d, NULL, errbuf, errlen);
	if (!j)
		return cs_jerr(&d,
		               "expected a transaction object, got nothing");
	if (txn_read(&d, j, &txn) < 0 ||
	    cs_txn_validate(txn, errbuf, errlen) < 0) {
		cs_txn_free(txn);
		return -1;
	}
	*out = txn;
	return 0;
}

int cs_txn_parse(const char *buf, size_t len, cs_txn **out, char *errbuf,
                 size_t errlen)
{
	json_t *j;
	if (cs_jparse(buf, len, "a transaction object", &j, errbuf, errlen) < 0)
		return -1;
	int r = cs_txn_decode(j, out, errbuf, errlen);
	json_decref(j);
	return r;
}

/* ---- encoding: fields in the order FORMAT.md lists them ---- */

/* An op of no kind (hand-built) is written as {"op": "invalid"}, which no
 * decoder accepts. */
static json_t *op_encode(const struct cs_op *op)
{
	json_t *o = cs_jnew(json_object());
	const struct cs_op_desc *d = cs_op_desc(op->kind);
	cs_jset_str(o, "op", cs_op_name(op->kind));
	if (d)
		d->json_write(o, op);
	return o;
}

json_t *cs_txn_encode(const cs_txn *txn)
{
	json_t *o = cs_jnew(json_object());
	json_t *ops = cs_jnew(json_array());
	cs_jset_str(o, "id", txn->id);
	cs_jset_str(o, "origin", txn->origin);
	cs_jset_str(o, "mode", cs_mode_name(txn->mode));
	cs_jset_str(o, "detect", cs_detect_name(txn->detect));
	for (uint32_t i = 0; i < txn->nops; i++)
		cs_jappend(ops, op_encode(&txn->ops[i]));
	cs_jset(o, "ops", ops);
	return o;
}
