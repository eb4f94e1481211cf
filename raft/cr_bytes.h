/* cr_bytes.h: little-endian integer framing for entries and snapshots, and a
 * bounds-checked reader so decoders never read past their input. */
#ifndef CELL_CR_BYTES_H
#define CELL_CR_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void cr_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void cr_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void cr_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint16_t cr_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t cr_get_u32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline uint64_t cr_get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* A cursor over untrusted bytes. Invariant: pos <= len; once a read fails,
 * `bad` stays set and every later read fails too, so a decoder can read a
 * whole structure and check once. */
struct cr_reader {
	const uint8_t *p;
	size_t len;
	size_t pos;
	bool bad;
};

static inline const uint8_t *cr_read(struct cr_reader *r, size_t n)
{
	if (r->bad || r->len - r->pos < n) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *at = r->p + r->pos;
	r->pos += n;
	return at;
}

static inline uint16_t cr_read_u16(struct cr_reader *r)
{
	const uint8_t *p = cr_read(r, 2);
	return p ? cr_get_u16(p) : 0;
}

static inline uint32_t cr_read_u32(struct cr_reader *r)
{
	const uint8_t *p = cr_read(r, 4);
	return p ? cr_get_u32(p) : 0;
}

static inline uint64_t cr_read_u64(struct cr_reader *r)
{
	const uint8_t *p = cr_read(r, 8);
	return p ? cr_get_u64(p) : 0;
}

/* Reads a u16-length string into out (NUL-terminated); fails when it does
 * not fit in outlen - 1 bytes or holds a NUL. */
static inline void cr_read_str(struct cr_reader *r, char *out, size_t outlen)
{
	uint16_t n = cr_read_u16(r);
	const uint8_t *p = cr_read(r, n);
	if (!p || n >= outlen || memchr(p, 0, n)) {
		r->bad = true;
		out[0] = 0;
		return;
	}
	memcpy(out, p, n);
	out[n] = 0;
}

#endif /* CELL_CR_BYTES_H */
