/* cr_bytes.h: the one framing helper the Raft records need beyond
 * cellutil's reader: a string with a u16 length. */
#ifndef CELL_CR_BYTES_H
#define CELL_CR_BYTES_H

#include "cellutil.h"

/* Reads a u16-length string into out (NUL-terminated); fails the reader
 * when it does not fit in outlen - 1 bytes or holds a NUL. */
static inline void cr_read_str(struct cu_reader *r, char *out, size_t outlen)
{
	uint16_t n = cu_read_u16(r);
	const uint8_t *p = cu_read(r, n);
	out[0] = 0;
	if (!p || n >= outlen || memchr(p, 0, n)) {
		cu_reader_fail(r, "bad string");
		return;
	}
	memcpy(out, p, n);
	out[n] = 0;
}

#endif /* CELL_CR_BYTES_H */
