/* bin_util.h: the primitives of the binary transaction codec, private to
 * cellstate: codec_bin.c frames a transaction, each op's file (op_*.c) codes
 * its own fields with these. Layout rules are in codec_bin.c. */
#ifndef CELL_CELLSTATE_BIN_UTIL_H
#define CELL_CELLSTATE_BIN_UTIL_H

#include "internal.h"

#include <string.h>

/* Flag bit 0 of every op: a varint seq follows the op's fields. The other
 * bits mean something per op kind (cs_op_desc.bin_ext). */
#define CS_BIN_SEQ 1u

/* ---- writing: integers are LEB128 varints (cu_buf_var), signed ones
 * zigzagged first (cu_zigzag); w grows as needed ---- */

/* varint (length + 1), then the bytes; 0 encodes NULL, so an empty string
 * and an absent one stay distinct. */
void cs_bput_str(struct cu_buf *w, const char *s);
void cs_bput_labels(struct cu_buf *w, const struct cs_label *l, uint32_t n);
void cs_bput_amounts(struct cu_buf *w, const struct cs_amount *a, uint32_t n);
void cs_bput_strings(struct cu_buf *w, char *const *s, uint32_t n);

/* ---- reading ----
 * The first error sticks (cu_reader): later reads return zeroes and NULLs,
 * and the framing checks in.err once per op, so an op's reader reads its
 * fields without checking each one. Everything read is allocated from
 * `arena` (borrowed: the transaction's), never from the heap. */
struct cs_bdec {
	struct cu_reader in;
	struct cs_arena *arena;
};

static inline void cs_bfail(struct cs_bdec *r, const char *why)
{
	cu_reader_fail(&r->in, why);
}

static inline uint8_t cs_bget_u8(struct cs_bdec *r)
{
	return cu_read_u8(&r->in);
}

static inline uint64_t cs_bget_var(struct cs_bdec *r)
{
	return cu_read_var(&r->in);
}

static inline uint32_t cs_bget_u32(struct cs_bdec *r)
{
	uint64_t v = cs_bget_var(r);
	if (v > UINT32_MAX) {
		cs_bfail(r, "count or index above 2^32");
		return 0;
	}
	return (uint32_t)v;
}

/* Inline: the place decode, the hot path, reads two per op. */
static inline char *cs_bget_str(struct cs_bdec *r)
{
	uint64_t n = cs_bget_var(r);
	if (n == 0 || r->in.err)
		return NULL;
	n--;
	if (n > (uint64_t)cu_reader_left(&r->in)) {
		cs_bfail(r, "string longer than the buffer");
		return NULL;
	}
	if (memchr(r->in.p, 0, (size_t)n)) {
		cs_bfail(r, "NUL byte inside a string");
		return NULL;
	}
	char *s = cs_arena_alloc(r->arena, (size_t)n + 1);
	memcpy(s, r->in.p, (size_t)n);
	r->in.p += n;
	return s;
}

/* A count of items each at least min_bytes long: bounded by what is left,
 * so a hostile count cannot make us allocate more than the buffer. */
uint32_t cs_bget_count(struct cs_bdec *r, size_t min_bytes);
/* Collections as cs_bput_* wrote them; *n gets the count, NULL when 0. */
struct cs_label *cs_bget_labels(struct cs_bdec *r, uint32_t *n);
struct cs_amount *cs_bget_amounts(struct cs_bdec *r, uint32_t *n);
char **cs_bget_strings(struct cs_bdec *r, uint32_t *n);

/* ---- fields several ops carry (op_fields.c) ---- */
/* str job, varint task */
void cs_bput_task_ref(struct cu_buf *w, const struct cs_op *op);
void cs_bget_task_ref(struct cs_bdec *r, struct cs_op *op);
/* The task reference, then str machine (NULL allowed). */
void cs_bput_task_machine(struct cu_buf *w, const struct cs_op *op);
void cs_bget_task_machine(struct cs_bdec *r, struct cs_op *op);

#endif /* CELL_CELLSTATE_BIN_UTIL_H */
