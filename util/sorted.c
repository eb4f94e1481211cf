/* sorted.c: arrays of structs kept sorted by their leading uint64_t id
 * (see cellutil.h). */
#include "cellutil.h"

/* The id of element i: the struct's first member, which a pointer to the
 * struct points to as well. */
static uint64_t id_at(const void *arr, size_t size, uint32_t i)
{
	return *(const uint64_t *)(const void *)((const char *)arr +
	                                         (size_t)i * size);
}

uint32_t cu_sorted_pos(const void *arr, uint32_t n, size_t size, uint64_t id)
{
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (id_at(arr, size, mid) < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void *cu_sorted_find(const void *arr, uint32_t n, size_t size, uint64_t id)
{
	uint32_t i = cu_sorted_pos(arr, n, size, id);
	if (i == n || id_at(arr, size, i) != id)
		return NULL;
	return (void *)((const char *)arr + (size_t)i * size);
}

void cu_sorted_put(void **arr, uint32_t *n, uint32_t *cap, size_t size,
                   const void *elem)
{
	uint64_t id = id_at(elem, size, 0);
	uint32_t i = cu_sorted_pos(*arr, *n, size, id);
	if (i == *n || id_at(*arr, size, i) != id) {
		cu_grow(arr, cap, *n + 1, size);
		char *at = (char *)*arr + (size_t)i * size;
		memmove(at + size, at, (size_t)(*n - i) * size);
		(*n)++;
	}
	memcpy((char *)*arr + (size_t)i * size, elem, size);
}

bool cu_sorted_del(void *arr, uint32_t *n, size_t size, uint64_t id)
{
	char *at = cu_sorted_find(arr, *n, size, id);
	if (!at)
		return false;
	char *end = (char *)arr + (size_t)*n * size;
	memmove(at, at + size, (size_t)(end - at) - size);
	(*n)--;
	return true;
}
