/* test_util.c: cellutil's building blocks on their own: the map (string
 * and caller-keyed, replace, delete during iteration, tombstones reused),
 * the lists (order, pop, take, linked), the byte buffer's and reader's
 * encodings against published values (LEB128, FNV-1a), the reader's
 * refusals, and the generator's determinism. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- the map ---- */

static void test_map_strings(void **state)
{
	(void)state;
	struct cu_map m = {0};
	char keys[2000][16];
	for (int i = 0; i < 2000; i++) {
		snprintf(keys[i], sizeof(keys[i]), "key-%d", i);
		cu_map_put(&m, keys[i], &keys[i]);
	}
	assert_int_equal(m.used, 2000);
	for (int i = 0; i < 2000; i++)
		assert_ptr_equal(cu_map_get(&m, keys[i]), &keys[i]);
	assert_null(cu_map_get(&m, "key-2000"));
	/* an equal key replaces the value, and the count stays */
	int other;
	cu_map_put(&m, "key-7", &other);
	assert_ptr_equal(cu_map_get(&m, keys[7]), &other);
	assert_int_equal(m.used, 2000);
	/* deleting the entry just returned keeps the iteration going */
	size_t cur = 0, seen = 0;
	struct cu_map_slot *e;
	while ((e = cu_map_next(&m, &cur))) {
		seen++;
		if (seen % 2)
			cu_map_del(&m, e->key);
	}
	assert_int_equal(seen, 2000);
	assert_int_equal(m.used, 1000);
	assert_int_equal(m.dead, 1000);
	/* puts after deletes reuse the tombstones instead of growing */
	uint32_t cap = m.cap;
	for (int i = 0; i < 2000; i++)
		if (!cu_map_get(&m, keys[i]))
			cu_map_put(&m, keys[i], &keys[i]);
	assert_int_equal(m.used, 2000);
	assert_true(m.cap <= 2 * cap);
	assert_null(cu_map_del(&m, "absent"));
	cu_map_destroy(&m);
	assert_int_equal(m.cap, 0);
}

struct pair {
	uint32_t a, b;
};

static bool pair_eq(const void *stored, const void *key)
{
	const struct pair *x = stored, *y = key;
	return x->a == y->a && x->b == y->b;
}

static uint64_t pair_hash(const struct pair *p)
{
	return cu_mix64(((uint64_t)p->a << 32) | p->b);
}

static void test_map_caller_keys(void **state)
{
	(void)state;
	struct cu_map m = {0};
	struct pair *ps = cu_xcalloc(500, sizeof(*ps));
	for (uint32_t i = 0; i < 500; i++) {
		ps[i] = (struct pair){i / 10, i % 10};
		cu_map_put_by(&m, pair_hash(&ps[i]), &ps[i], &ps[i], pair_eq);
	}
	struct pair probe = {7, 3};
	assert_ptr_equal(cu_map_get_by(&m, pair_hash(&probe), &probe, pair_eq),
	                 &ps[73]);
	assert_ptr_equal(cu_map_del_by(&m, pair_hash(&probe), &probe, pair_eq),
	                 &ps[73]);
	assert_null(cu_map_get_by(&m, pair_hash(&probe), &probe, pair_eq));
	assert_int_equal(m.used, 499);
	cu_map_destroy(&m);
	free(ps);
}

/* ---- lists ---- */

struct item {
	int v;
	struct cu_list link;
};

static int value(struct cu_list *l)
{
	return cu_container_of(l, struct item, link)->v;
}

static void test_lists(void **state)
{
	(void)state;
	struct cu_list head, other;
	struct item it[4] = {{.v = 0}, {.v = 1}, {.v = 2}, {.v = 3}};
	cu_list_init(&head);
	assert_true(cu_list_empty(&head));
	assert_null(cu_list_pop(&head));
	cu_list_push_back(&head, &it[1].link);
	cu_list_push_back(&head, &it[2].link);
	cu_list_push_front(&head, &it[0].link);
	cu_list_insert_after(&it[2].link, &it[3].link);
	int want = 0;
	for (struct cu_list *e = cu_list_first(&head); e;
	     e = cu_list_next(&head, e))
		assert_int_equal(value(e), want++);
	assert_int_equal(want, 4);
	cu_list_remove(&it[1].link);
	assert_false(cu_list_linked(&it[1].link));
	assert_true(cu_list_linked(&it[2].link));
	/* take moves everything, in order, and leaves the source empty */
	cu_list_take(&head, &other);
	assert_true(cu_list_empty(&head));
	assert_int_equal(value(cu_list_pop(&other)), 0);
	assert_int_equal(value(cu_list_pop(&other)), 2);
	assert_int_equal(value(cu_list_pop(&other)), 3);
	assert_null(cu_list_pop(&other));
	cu_list_take(&head, &other); /* from an empty list */
	assert_true(cu_list_empty(&other));
}

/* ---- bytes ---- */

static void test_buffer_and_reader(void **state)
{
	(void)state;
	struct cu_buf b = {0};
	cu_buf_var(&b, 300); /* LEB128's own example: AC 02 */
	cu_buf_var(&b, 0);
	cu_buf_u16(&b, 0x0102);
	cu_buf_u32(&b, 0x01020304u);
	cu_buf_u64(&b, 0x0102030405060708ull);
	cu_buf_var(&b, cu_zigzag(-3)); /* 5 */
	cu_buf_var(&b, UINT64_MAX);
	const uint8_t want[] = {0xac, 0x02, 0x00, 0x02, 0x01, 0x04,
	                        0x03, 0x02, 0x01, 0x08, 0x07, 0x06,
	                        0x05, 0x04, 0x03, 0x02, 0x01, 0x05};
	assert_true(b.len == sizeof(want) + 10);
	assert_memory_equal(b.p, want, sizeof(want));
	struct cu_reader r = cu_reader_of(b.p, b.len);
	assert_int_equal(cu_read_var(&r), 300);
	assert_int_equal(cu_read_var(&r), 0);
	assert_int_equal(cu_read_u16(&r), 0x0102);
	assert_int_equal(cu_read_u32(&r), 0x01020304u);
	assert_true(cu_read_u64(&r) == 0x0102030405060708ull);
	assert_int_equal(cu_unzigzag(cu_read_var(&r)), -3);
	assert_true(cu_read_var(&r) == UINT64_MAX);
	assert_int_equal(cu_reader_left(&r), 0);
	assert_null(r.err);
	/* reading past the end sticks, and returns zeroes */
	assert_int_equal(cu_read_u8(&r), 0);
	assert_string_equal(r.err, "truncated");
	assert_int_equal(cu_read_u32(&r), 0);
	assert_string_equal(r.err, "truncated");
	cu_buf_free(&b);
	assert_null(b.p);

	/* one encoding per value: a zero high byte, or bits past 64 */
	const uint8_t padded[] = {0x81, 0x00},
	              wide[] = {0xff, 0xff, 0xff, 0xff, 0xff,
	                        0xff, 0xff, 0xff, 0xff, 0x02};
	r = cu_reader_of(padded, sizeof(padded));
	assert_int_equal(cu_read_var(&r), 0);
	assert_string_equal(r.err, "malformed varint");
	r = cu_reader_of(wide, sizeof(wide));
	assert_int_equal(cu_read_var(&r), 0);
	assert_string_equal(r.err, "malformed varint");

	struct cu_buf t = {0};
	cu_buf_addf(&t, "%s=%d", "x", 42);
	cu_buf_adds(&t, "!");
	char *s = cu_buf_steal(&t);
	assert_string_equal(s, "x=42!");
	assert_null(t.p);
	free(s);
}

/* ---- hashing and the generator ---- */

static void test_fnv_and_rng(void **state)
{
	(void)state;
	/* the published FNV-1a 64-bit test vectors */
	assert_true(cu_fnv1a(CU_FNV_OFFSET, "") == 0xcbf29ce484222325ull);
	assert_true(cu_fnv1a(CU_FNV_OFFSET, "a") == 0xaf63dc4c8601ec8cull);
	assert_true(cu_fnv1a(CU_FNV_OFFSET, "foobar") == 0x85944171f73967e8ull);
	assert_true(cu_hash_str("job-1", 0) == cu_hash_bytes("job-1", 5, 0));
	assert_true(cu_hash_str("job-1", 0) != cu_hash_str("job-1", 1));

	uint64_t a = 42, b = 42, z = 0;
	for (int i = 0; i < 1000; i++)
		assert_true(cu_rand(&a) == cu_rand(&b));
	assert_true(cu_rand(&z) != 0); /* a zero state is replaced */
	for (int i = 0; i < 10000; i++) {
		assert_true(cu_rand_below(&a, 7) < 7);
		double u = cu_rand_unit(&a);
		assert_true(u > 0 && u <= 1);
	}
	assert_int_equal(cu_rand_below(&a, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_map_strings),
	    cmocka_unit_test(test_map_caller_keys),
	    cmocka_unit_test(test_lists),
	    cmocka_unit_test(test_buffer_and_reader),
	    cmocka_unit_test(test_fnv_and_rng),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
