/* test_util_sorted.c: cellutil's tables sorted by id: puts in any order
 * keep the order and replace an equal id, lookups find exactly what is
 * there, deletes close the gap, and a table of structs of another size
 * works the same. */
#include "testlib.h"

#include <stdlib.h>

struct row {
	uint64_t id; /* the key: first member */
	char tag;
};

static void put(struct row **t, uint32_t *n, uint32_t *cap, uint64_t id,
                char tag)
{
	struct row r = {id, tag};
	cu_sorted_put((void **)t, n, cap, sizeof(**t), &r);
}

static void assert_sorted(const struct row *t, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++)
		assert_true(t[i - 1].id < t[i].id);
}

static void test_put_find_del(void **state)
{
	(void)state;
	struct row *t = NULL;
	uint32_t n = 0, cap = 0;
	assert_null(cu_sorted_find(t, n, sizeof(*t), 5));
	assert_int_equal(cu_sorted_pos(t, n, sizeof(*t), 5), 0);
	const uint64_t ids[] = {50, 10, 40, 20, 30, 60, 5};
	for (unsigned i = 0; i < CU_ARRAY_LEN(ids); i++)
		put(&t, &n, &cap, ids[i], 'a');
	assert_int_equal(n, CU_ARRAY_LEN(ids));
	assert_true(cap >= n);
	assert_sorted(t, n);
	assert_int_equal(t[0].id, 5);
	assert_int_equal(t[n - 1].id, 60);

	put(&t, &n, &cap, 30, 'b'); /* an equal id is replaced */
	assert_int_equal(n, CU_ARRAY_LEN(ids));
	const struct row *r = cu_sorted_find(t, n, sizeof(*t), 30);
	assert_non_null(r);
	assert_int_equal(r->tag, 'b');
	assert_null(cu_sorted_find(t, n, sizeof(*t), 31));
	assert_int_equal(cu_sorted_pos(t, n, sizeof(*t), 31), 4);
	assert_int_equal(cu_sorted_pos(t, n, sizeof(*t), 99), n);

	assert_true(cu_sorted_del(t, &n, sizeof(*t), 5));  /* the first */
	assert_true(cu_sorted_del(t, &n, sizeof(*t), 60)); /* the last */
	assert_true(cu_sorted_del(t, &n, sizeof(*t), 30)); /* the middle */
	assert_false(cu_sorted_del(t, &n, sizeof(*t), 30));
	assert_int_equal(n, 4);
	assert_sorted(t, n);
	assert_int_equal(t[0].id, 10);
	assert_int_equal(t[3].id, 50);
	free(t);
}

/* Elements larger than the id, as the members of a cell are. */
struct wide {
	uint64_t id;
	char name[40];
};

static void test_wide_elements(void **state)
{
	(void)state;
	struct wide *t = NULL;
	uint32_t n = 0, cap = 0;
	for (uint64_t id = 100; id >= 4; id -= 3) { /* 100, 97, ..., 4 */
		struct wide w = {.id = id};
		snprintf(w.name, sizeof(w.name), "m%llu",
		         (unsigned long long)id);
		cu_sorted_put((void **)&t, &n, &cap, sizeof(*t), &w);
	}
	assert_int_equal(n, 33);
	for (uint32_t i = 1; i < n; i++)
		assert_true(t[i - 1].id < t[i].id);
	const struct wide *w = cu_sorted_find(t, n, sizeof(*t), 49);
	assert_non_null(w);
	assert_string_equal(w->name, "m49");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_put_find_del),
	    cmocka_unit_test(test_wide_elements),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
