/* rng.c: xorshift64*, the project's one seeded generator (see
 * cellutil.h). */
#include "cellutil.h"

uint64_t cu_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dull;
}

uint32_t cu_rand_below(uint64_t *state, uint32_t n)
{
	return n ? (uint32_t)(cu_rand(state) % n) : 0;
}

double cu_rand_unit(uint64_t *state)
{
	/* 53 random bits, shifted off zero: a mean of log(u) is finite */
	return ((double)(cu_rand(state) >> 11) + 1.0) / 9007199254740992.0;
}
