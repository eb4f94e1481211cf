/* entry.c: builds group-commit entries (the batch format of cr_fsm.h). */
#include <stdlib.h>
#include <string.h>

#include "cr_bytes.h"
#include "cr_fsm.h"

static void reserve(struct cr_entry *e, size_t more)
{
	if (e->cap - e->len >= more)
		return;
	size_t cap = e->cap ? e->cap : 4096;
	while (cap - e->len < more)
		cap *= 2;
	e->buf = cu_xrealloc(e->buf, cap);
	e->cap = cap;
}

void cr_entry_init(struct cr_entry *e)
{
	memset(e, 0, sizeof(*e));
	cr_entry_reset(e);
}

void cr_entry_free(struct cr_entry *e)
{
	free(e->buf);
	memset(e, 0, sizeof(*e));
}

void cr_entry_reset(struct cr_entry *e)
{
	reserve(e, CR_ENTRY_HEADER_SIZE);
	e->len = CR_ENTRY_HEADER_SIZE; /* header written by finish */
	e->count = 0;
}

/* Starts a record; returns the offset of its header so the length can be
 * patched once the payload is in. */
static size_t record_begin(struct cr_entry *e, uint8_t kind)
{
	reserve(e, CR_RECORD_HEADER_SIZE);
	size_t at = e->len;
	memset(e->buf + at, 0, CR_RECORD_HEADER_SIZE);
	e->buf[at] = kind;
	e->len += CR_RECORD_HEADER_SIZE;
	return at;
}

static void record_end(struct cr_entry *e, size_t at)
{
	size_t payload = e->len - at - CR_RECORD_HEADER_SIZE;
	cu_put_u32(e->buf + at + 4, (uint32_t)payload);
	e->count++;
}

int cr_entry_add_txn(struct cr_entry *e, const cs_txn *txn)
{
	size_t at = record_begin(e, CR_REC_TXN);
	if (cs_txn_encode_bin(txn, &e->buf, &e->len, &e->cap) != 0) {
		e->len = at; /* drop the half-written record */
		return CR_EINVAL;
	}
	if (e->len - at - CR_RECORD_HEADER_SIZE > CST_TXN_MAX_BYTES) {
		e->len = at;
		return CR_ETOOBIG;
	}
	record_end(e, at);
	return 0;
}

static void put_str(struct cr_entry *e, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n > UINT16_MAX)
		n = UINT16_MAX; /* callers check lengths; decoders reject */
	reserve(e, 2 + n);
	cu_put_u16(e->buf + e->len, (uint16_t)n);
	if (n)
		memcpy(e->buf + e->len + 2, s, n);
	e->len += 2 + n;
}

void cr_entry_add_member_put(struct cr_entry *e, uint64_t id,
                             const char *raft_address, const char *api_address)
{
	size_t at = record_begin(e, CR_REC_MEMBER_PUT);
	reserve(e, 8);
	cu_put_u64(e->buf + e->len, id);
	e->len += 8;
	put_str(e, raft_address);
	put_str(e, api_address);
	record_end(e, at);
}

void cr_entry_add_member_del(struct cr_entry *e, uint64_t id)
{
	size_t at = record_begin(e, CR_REC_MEMBER_DEL);
	reserve(e, 8);
	cu_put_u64(e->buf + e->len, id);
	e->len += 8;
	record_end(e, at);
}

void cr_entry_add_record(struct cr_entry *e, uint8_t kind, const void *payload,
                         size_t len)
{
	size_t at = record_begin(e, kind);
	reserve(e, len);
	if (len)
		memcpy(e->buf + e->len, payload, len);
	e->len += len;
	record_end(e, at);
}

void cr_entry_finish(struct cr_entry *e, int64_t now_ms, uint64_t proposer,
                     uint64_t batch_id, struct raft_buffer *out)
{
	uint8_t *h = e->buf;
	cu_put_u32(h, CR_ENTRY_MAGIC);
	cu_put_u16(h + 4, CR_ENTRY_VERSION);
	cu_put_u16(h + 6, 0);
	cu_put_u32(h + 8, e->count);
	cu_put_u32(h + 12, 0);
	cu_put_u64(h + 16, (uint64_t)now_ms);
	cu_put_u64(h + 24, proposer);
	cu_put_u64(h + 32, batch_id);
	size_t padded = CR_PAD8(e->len); /* see cr_fsm.h: raft#304 */
	out->base = raft_malloc(padded);
	if (!out->base)
		abort();
	memcpy(out->base, e->buf, e->len);
	memset((uint8_t *)out->base + e->len, 0, padded - e->len);
	out->len = padded;
}
