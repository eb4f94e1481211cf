/* hash.c: fast 64-bit hashing of short strings and byte runs (names, ids)
 * for the maps and the state hash. Stable across processes, builds and
 * releases: the state hash every replica compares depends on it. */
#include "cellutil.h"

#define K1 0x9e3779b97f4a7c15ull
#define K2 0xc2b2ae3d27d4eb4full

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

uint64_t cu_hash_bytes(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *b = p;
	uint64_t h = seed ^ (n * K1);
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, b, 8); /* little-endian hosts only (cellutil.h) */
		h = rotl(h ^ (w * K2), 31) * K1;
		b += 8;
		n -= 8;
	}
	uint64_t tail = 0;
	for (size_t i = 0; i < n; i++)
		tail |= (uint64_t)b[i] << (8 * i);
	h = rotl(h ^ (tail * K2), 27) * K1;
	return cu_mix64(h);
}

uint64_t cu_hash_str(const char *s, uint64_t seed)
{
	return s ? cu_hash_bytes(s, strlen(s), seed) : cu_mix64(seed ^ K2);
}
