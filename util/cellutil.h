/* cellutil.h: the building blocks every Cell library and binary shares,
 * cellstate included: memory that is there or the process aborts, error
 * messages, hashing, a hash map, intrusive lists, a growing byte buffer, a
 * bounds-checked byte reader, tables sorted by id and the project's seeded
 * random generator. This header is the whole public API of the library; it
 * depends on libc only, so the pure model (cellstate) can use it.
 *
 * Determinism: nothing here reads a clock or the OS's randomness. The hash
 * functions are stable across processes, builds and releases (the state
 * hash and on-disk encodings depend on them); little-endian hosts only.
 *
 * Memory: allocation failure aborts the process with a message naming the
 * size. A replica that half-applies a batch would diverge from the others,
 * so there is nothing safer to do, and callers never check for NULL.
 *
 * Threads: no state is shared; each object belongs to one thread. */
#ifndef CELL_CELLUTIL_H
#define CELL_CELLUTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#define CU_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CU_PRINTF(f, a)
#endif
#define CU_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- memory (alloc.c) ------------------------------------------------------
 * Each returns memory or aborts. A size of 0 still returns a unique
 * pointer the caller frees. */
void *cu_xmalloc(size_t n);
void *cu_xcalloc(size_t n, size_t size);
void *cu_xrealloc(void *p, size_t n);
char *cu_xstrdup(const char *s);            /* NULL stays NULL */
char *cu_xstrndup(const char *s, size_t n); /* n bytes, then a NUL */
/* Grows *arr (elements of `size` bytes) so that it holds at least `need`,
 * doubling from 4; *cap is updated. */
void cu_grow(void **arr, uint32_t *cap, uint32_t need, size_t size);

/* ---- tables sorted by id (sorted.c) ----------------------------------------
 * An array of n elements of `size` bytes, each a struct whose first member
 * is a uint64_t id, kept sorted by id with ids unique (a cell's members):
 * lookups by binary search, and puts and deletes that keep the order. The
 * caller owns the array; puts grow it as cu_grow does, so pointers into it
 * do not survive a put. */
/* The position of id, or where it would go. */
uint32_t cu_sorted_pos(const void *arr, uint32_t n, size_t size, uint64_t id);
/* The element with id, or NULL. Like strchr, it hands back a pointer the
 * caller may write through when the array is its to write. */
void *cu_sorted_find(const void *arr, uint32_t n, size_t size, uint64_t id);
/* Copies elem (size bytes) in by its id: over the element with that id,
 * or inserted in its place. */
void cu_sorted_put(void **arr, uint32_t *n, uint32_t *cap, size_t size,
                   const void *elem);
/* Removes the element with id; false when there is none. */
bool cu_sorted_del(void *arr, uint32_t *n, size_t size, uint64_t id);

/* ---- error messages (alloc.c) ----------------------------------------------
 * Writes the message into errbuf when there is one (errbuf may be NULL or
 * errlen 0) and returns `code`, so error paths read
 *   return cu_errf(errbuf, errlen, CC_EINVAL, "--peers: expected ...");  */
int cu_errf(char *errbuf, size_t errlen, int code, const char *fmt, ...)
    CU_PRINTF(4, 5);

/* ---- hashing (hash.c) ------------------------------------------------------
 * cu_hash_bytes: fast 64-bit hashing of short strings and byte runs, for
 * maps and the state hash. cu_fnv1a: FNV-1a, for the few places whose
 * values must stay what earlier releases computed (default Raft ids of
 * schedulers, job ownership among schedulers, hollow run times). */
uint64_t cu_hash_bytes(const void *p, size_t n, uint64_t seed);
uint64_t cu_hash_str(const char *s, uint64_t seed); /* NULL is fine */
#define CU_FNV_OFFSET 0xcbf29ce484222325ull
#define CU_FNV_PRIME  0x100000001b3ull
/* FNV-1a over s, continuing from h (start with CU_FNV_OFFSET). */
static inline uint64_t cu_fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * CU_FNV_PRIME;
	return h;
}
/* One more 64-bit value into an FNV-1a hash (one multiply, as the ids of
 * earlier releases were computed). */
static inline uint64_t cu_fnv1a_u64(uint64_t h, uint64_t v)
{
	return (h ^ v) * CU_FNV_PRIME;
}
static inline uint64_t cu_mix64(uint64_t x)
{ /* splitmix64's finalizer */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* ---- the seeded random generator (rng.c) -----------------------------------
 * xorshift64*: every randomized choice in Cell (a scheduler's sample of
 * machines, cellbench's workload, the tests) draws from it, so one seed
 * decides a whole run. *state is the generator; a state of 0 is replaced by
 * a fixed non-zero one. */
uint64_t cu_rand(uint64_t *state);
uint32_t cu_rand_below(uint64_t *state, uint32_t n); /* [0, n); 0 for n 0 */
double cu_rand_unit(uint64_t *state); /* (0, 1], never 0: safe for log() */

/* ---- hash map (map.c) ------------------------------------------------------
 * Open addressing with linear probing and tombstones, load kept under 3/4.
 * It maps a key to a value; both are borrowed: a key must live as long as
 * its entry (keys usually point into the value they name). String keys use
 * the plain functions; other keys (a job and a task index, ...) pass their
 * own hash and equality to the _by functions. Lookups, inserts and deletes
 * are O(1) on average; iteration order depends on the hashes and the
 * history of inserts only, so it is the same in every process that did the
 * same inserts. */
struct cu_map_slot {
	const void *key; /* NULL: empty; cu_map_tombstone: deleted */
	void *value;
	uint64_t hash;
};
struct cu_map {
	struct cu_map_slot *slots; /* owned */
	uint32_t cap;  /* a power of two, or 0 before the first put */
	uint32_t used; /* live entries */
	uint32_t dead; /* tombstones */
};
extern const char cu_map_tombstone[];
/* Equality of a stored key and the key looked up. */
typedef bool (*cu_map_eq_fn)(const void *stored, const void *key);

void cu_map_init(struct cu_map *m);    /* an empty map ({0} is one too) */
void cu_map_destroy(struct cu_map *m); /* frees the slots, not keys/values */
void *cu_map_get(const struct cu_map *m, const char *key); /* NULL: absent */
/* Inserts, or replaces the key and value of an equal key. */
void cu_map_put(struct cu_map *m, const char *key, void *value);
void *cu_map_del(struct cu_map *m, const char *key); /* removed value */
void *cu_map_get_by(const struct cu_map *m, uint64_t hash, const void *key,
                    cu_map_eq_fn eq);
void cu_map_put_by(struct cu_map *m, uint64_t hash, const void *key,
                   void *value, cu_map_eq_fn eq);
void *cu_map_del_by(struct cu_map *m, uint64_t hash, const void *key,
                    cu_map_eq_fn eq);
/* Iteration: *cursor starts at 0; returns NULL at the end. A put or del
 * during iteration invalidates the cursor (del of the entry just returned
 * excepted: it leaves a tombstone, so iteration may go on). */
struct cu_map_slot *cu_map_next(const struct cu_map *m, size_t *cursor);

/* ---- intrusive doubly-linked lists -----------------------------------------
 * A list is a circular chain through a head; an element embeds a struct
 * cu_list and is found from it with cu_container_of. The list owns
 * nothing. Invariant: an element is in at most one list, and a removed
 * element links to itself (so cu_list_linked tells whether it is in one). */
struct cu_list {
	struct cu_list *prev, *next;
};
#define cu_container_of(ptr, type, member)                                     \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static inline void cu_list_init(struct cu_list *l)
{
	l->prev = l->next = l;
}
static inline bool cu_list_empty(const struct cu_list *head)
{
	return head->next == head;
}
static inline bool cu_list_linked(const struct cu_list *e)
{
	return e->next && e->next != e;
}
/* Puts e right after `at` (at == head: the front). */
static inline void cu_list_insert_after(struct cu_list *at, struct cu_list *e)
{
	e->prev = at;
	e->next = at->next;
	at->next->prev = e;
	at->next = e;
}
static inline void cu_list_push_back(struct cu_list *head, struct cu_list *e)
{
	cu_list_insert_after(head->prev, e);
}
static inline void cu_list_push_front(struct cu_list *head, struct cu_list *e)
{
	cu_list_insert_after(head, e);
}
static inline void cu_list_remove(struct cu_list *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
	cu_list_init(e);
}
/* The element after e, or NULL at the end of head's list. */
static inline struct cu_list *cu_list_next(const struct cu_list *head,
                                           const struct cu_list *e)
{
	return e->next == head ? NULL : e->next;
}
static inline struct cu_list *cu_list_first(const struct cu_list *head)
{
	return cu_list_next(head, head);
}
/* Unlinks and returns the first element, or NULL when the list is empty. */
static inline struct cu_list *cu_list_pop(struct cu_list *head)
{
	struct cu_list *e = cu_list_first(head);
	if (e)
		cu_list_remove(e);
	return e;
}
/* Moves every element of `from`, in order, to `to` (made empty first);
 * `from` is left empty. A flush works on what was there when it began, and
 * what its callbacks add waits for the next one. */
static inline void cu_list_take(struct cu_list *from, struct cu_list *to)
{
	cu_list_init(to);
	if (cu_list_empty(from))
		return;
	to->next = from->next;
	to->prev = from->prev;
	to->next->prev = to;
	to->prev->next = to;
	cu_list_init(from);
}
/* for (it over head): `it` may be removed (and freed) inside the loop. */
#define CU_LIST_FOREACH_SAFE(it, tmp, head)                                    \
	for ((it) = (head)->next, (tmp) = (it)->next; (it) != (head);          \
	     (it) = (tmp), (tmp) = (it)->next)

/* ---- a growing byte buffer (buf.c) -----------------------------------------
 * Always NUL-terminated once anything was added, so text built in it is a C
 * string; binary encodings ignore the terminator. */
struct cu_buf {
	char *p; /* owned; NULL until the first add */
	size_t len, cap;
};
void cu_buf_reserve(struct cu_buf *b, size_t extra); /* room for extra + 1 */
void cu_buf_add(struct cu_buf *b, const void *data, size_t n);
void cu_buf_adds(struct cu_buf *b, const char *s);
void cu_buf_addf(struct cu_buf *b, const char *fmt, ...) CU_PRINTF(2, 3);
/* Hands the bytes to the caller ("" when empty) and resets the buffer. */
char *cu_buf_steal(struct cu_buf *b);
void cu_buf_free(struct cu_buf *b);
/* Little-endian integers and LEB128 varints (7 bits a byte, low first). */
void cu_buf_u8(struct cu_buf *b, unsigned v);
void cu_buf_u16(struct cu_buf *b, uint16_t v);
void cu_buf_u32(struct cu_buf *b, uint32_t v);
void cu_buf_u64(struct cu_buf *b, uint64_t v);
void cu_buf_var(struct cu_buf *b, uint64_t v);
/* Zigzag: small negative numbers stay small as varints. */
static inline uint64_t cu_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (v < 0 ? UINT64_MAX : 0);
}
static inline int64_t cu_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Fixed-width little-endian integers in place (frames, headers). */
static inline void cu_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void cu_put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void cu_put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t cu_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t cu_get_u32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}
static inline uint64_t cu_get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* ---- a bounds-checked reader -----------------------------------------------
 * A cursor over untrusted bytes. The first error sticks: `err` names it
 * (static text) and every later read returns zeroes, so a decoder can read
 * a whole structure and check once. Invariant: p <= end. */
struct cu_reader {
	const uint8_t *p, *end;
	const char *err; /* NULL while every read fit */
};
static inline struct cu_reader cu_reader_of(const void *p, size_t n)
{
	const uint8_t *b = p;
	return (struct cu_reader){b, b + n, NULL};
}
static inline size_t cu_reader_left(const struct cu_reader *r)
{
	return (size_t)(r->end - r->p);
}
static inline void cu_reader_fail(struct cu_reader *r, const char *why)
{
	if (!r->err)
		r->err = why;
}
/* n bytes, or NULL ("truncated") when fewer are left. */
static inline const uint8_t *cu_read(struct cu_reader *r, size_t n)
{
	if (r->err || cu_reader_left(r) < n) {
		cu_reader_fail(r, "truncated");
		return NULL;
	}
	const uint8_t *at = r->p;
	r->p += n;
	return at;
}
static inline uint8_t cu_read_u8(struct cu_reader *r)
{
	const uint8_t *p = cu_read(r, 1);
	return p ? *p : 0;
}
static inline uint16_t cu_read_u16(struct cu_reader *r)
{
	const uint8_t *p = cu_read(r, 2);
	return p ? cu_get_u16(p) : 0;
}
static inline uint32_t cu_read_u32(struct cu_reader *r)
{
	const uint8_t *p = cu_read(r, 4);
	return p ? cu_get_u32(p) : 0;
}
static inline uint64_t cu_read_u64(struct cu_reader *r)
{
	const uint8_t *p = cu_read(r, 8);
	return p ? cu_get_u64(p) : 0;
}
/* A LEB128 varint in its one shortest encoding ("malformed varint" for a
 * zero high byte or bits past 64). */
static inline uint64_t cu_read_var(struct cu_reader *r)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t b = cu_read_u8(r);
		if ((shift && b == 0) || (shift == 63 && b > 1))
			break;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	cu_reader_fail(r, "malformed varint");
	return 0;
}

#endif /* CELL_CELLUTIL_H */
