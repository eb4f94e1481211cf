/* codec_bin.c: the compact binary encoding of a transaction, for Raft
 * entries and for C clients (schedulers) that batch thousands of places.
 * This file frames a transaction; each op codes its own fields (bin_* in
 * its cs_op_desc, op_*.c).
 *
 * Layout (version 1), integers as LEB128 varints, signed ones zigzagged:
 *   u8 version, u8 mode, u8 detect, str id, str origin, varint nops, ops...
 *   op: u8 kind, u8 flags, the kind's fields, [varint seq], [extras]
 *   flags: bit 0 (CS_BIN_SEQ) on any kind: the seq follows the fields; the
 *   other bits mean what each kind says (bin_ext): sched_register's 2 is
 *   its member, machine_put's 4 its agent, each after the seq
 *   str: varint (length + 1), then the bytes; 0 encodes NULL, so an empty
 *   string and an absent one stay distinct.
 * The decoder checks every length against the buffer, rejects NUL bytes in
 * strings, and ends with cs_txn_validate: a decoded transaction meets the
 * same rules as one decoded from JSON.
 *
 * Optional fields added later ride on a flag bit, so entries written before
 * them (Raft logs on disk) still decode in this one version, and every
 * accepted encoding is the one the writer would produce: a flagged member
 * is never 0, a flagged agent never absent. A transaction without the new
 * fields encodes byte for byte as before them; one with them is refused by
 * an older decoder ("unknown ... flags"), never misread. A new op kind
 * needs no new version either: an older decoder refuses its kind byte. */
#include "bin_util.h"

#define BIN_VERSION 1

/* ---- writer ---- */

/* An op of no kind (hand-built) gets no fields: no decoder accepts it. */
static void put_op(struct cu_buf *w, const struct cs_op *op)
{
	const struct cs_op_desc *d = cs_op_desc(op->kind);
	cu_buf_u8(w, op->kind);
	size_t flags_at = w->len;
	cu_buf_u8(w, op->has_seq ? CS_BIN_SEQ : 0);
	if (d)
		d->bin_put(w, op);
	if (op->has_seq)
		cu_buf_var(w, op->seq);
	if (!d || !d->bin_put_ext)
		return;
	/* the extras' bits are known once they are written, which may move
	 * w->p: patch the flags byte after */
	uint8_t ext = d->bin_put_ext(w, op);
	w->p[flags_at] = (char)((uint8_t)w->p[flags_at] | ext);
}

int cs_txn_encode_bin(const cs_txn *txn, uint8_t **buf, size_t *len,
                      size_t *cap)
{
	struct cu_buf w = {(char *)*buf, *len, *cap};
	cu_buf_u8(&w, BIN_VERSION);
	cu_buf_u8(&w, txn->mode);
	cu_buf_u8(&w, txn->detect);
	cs_bput_str(&w, txn->id);
	cs_bput_str(&w, txn->origin);
	cu_buf_var(&w, txn->nops);
	for (uint32_t i = 0; i < txn->nops; i++)
		put_op(&w, &txn->ops[i]);
	*buf = (uint8_t *)w.p;
	*len = w.len;
	*cap = w.cap;
	return 0;
}

/* ---- reader ---- */

static const struct cs_op_desc *desc_of(uint8_t kind, uint8_t flags)
{
	const struct cs_op_desc *d = cs_op_desc((enum cs_op_kind)kind);
	return d && !(flags & ~(CS_BIN_SEQ | d->bin_ext)) ? d : NULL;
}

static int get_ops(struct cs_bdec *r, cs_txn *t, char *errbuf, size_t errlen)
{
	uint32_t n = cs_bget_count(r, 2);
	for (uint32_t i = 0; i < n && !r->in.err; i++) {
		uint8_t kind = cs_bget_u8(r), flags = cs_bget_u8(r);
		const struct cs_op_desc *d = desc_of(kind, flags);
		if (!d)
			return cu_errf(
			    errbuf, errlen, -1,
			    "binary txn: ops[%u]: unknown op kind %u "
			    "or flags %#x",
			    i, kind, flags);
		struct cs_op *op = cs_txn_add(t, (enum cs_op_kind)kind);
		d->bin_get(r, op);
		if (flags & CS_BIN_SEQ)
			cs_op_expect_seq(op, cs_bget_var(r));
		if (flags & d->bin_ext)
			d->bin_get_ext(r, op, flags);
		if (r->in.err)
			return cu_errf(errbuf, errlen, -1,
			               "binary txn: ops[%u]: %s", i, r->in.err);
	}
	return r->in.err
	           ? cu_errf(errbuf, errlen, -1, "binary txn: %s", r->in.err)
	           : 0;
}

int cs_txn_decode_bin(const uint8_t *buf, size_t len, cs_txn **out,
                      char *errbuf, size_t errlen)
{
	if (!buf || len < 4)
		return cu_errf(errbuf, errlen, -1,
		               "binary txn: %zu bytes, too short", len);
	if (buf[0] != BIN_VERSION)
		return cu_errf(errbuf, errlen, -1,
		               "binary txn: version %u, expected %u", buf[0],
		               BIN_VERSION);
	if (buf[1] > CS_ALL_OR_NOTHING || buf[2] > CS_COARSE)
		return cu_errf(errbuf, errlen, -1,
		               "binary txn: mode %u / detect %u out of range",
		               buf[1], buf[2]);
	cs_txn *t = cs_txn_new(NULL, NULL, (enum cs_mode)buf[1],
	                       (enum cs_detect)buf[2]);
	struct cs_bdec r = {cu_reader_of(buf + 3, len - 3), t->arena};
	t->id = cs_bget_str(&r);
	t->origin = cs_bget_str(&r);
	if (get_ops(&r, t, errbuf, errlen) < 0)
		goto fail;
	if (cu_reader_left(&r.in)) {
		cu_errf(errbuf, errlen, -1,
		        "binary txn: %zu bytes after the last op",
		        cu_reader_left(&r.in));
		goto fail;
	}
	if (cs_txn_validate(t, errbuf, errlen) < 0)
		goto fail;
	*out = t;
	return 0;
fail:
	cs_txn_free(t);
	return -1;
}
