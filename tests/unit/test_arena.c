/* The bump allocator: alignment, the limit, and arena_reset's reuse of
 * its chunks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "svcdns/arena.h"

static void test_arena_alloc_aligned(void **state)
{
	struct arena *a = arena_create(128);
	size_t i;

	(void)state;
	assert_non_null(a);
	for (i = 1; i < 300; i += 7) {
		char *p = arena_alloc(a, i);

		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 8, 0);
		memset(p, 0xab, i);
	}
	assert_true(arena_footprint(a) >= 128);
	arena_destroy(a);
}

static void test_arena_limit(void **state)
{
	struct arena *a = arena_create(1024);

	(void)state;
	assert_non_null(a);
	arena_set_limit(a, 4096);
	assert_non_null(arena_alloc(a, 3000));
	assert_null(arena_alloc(a, 2000));
	assert_non_null(arena_alloc(a, 500));
	arena_destroy(a);
}

/* After a reset the same allocations are served from the same chunks: the
 * footprint does not grow, and the memory handed out is the old memory. */
static void test_arena_reset_reuses(void **state)
{
	struct arena *a = arena_create(4096);
	char *first[64];
	size_t foot;
	size_t i;
	size_t same = 0;

	(void)state;
	assert_non_null(a);
	for (i = 0; i < 64; i++) {
		first[i] = arena_alloc(a, i == 10 ? 20000 : 1000);
		assert_non_null(first[i]);
		memset(first[i], (int)i, i == 10 ? 20000 : 1000);
	}
	foot = arena_footprint(a);
	arena_reset(a);
	assert_int_equal(arena_footprint(a), foot);
	for (i = 0; i < 64; i++) {
		char *p = arena_alloc(a, i == 10 ? 20000 : 1000);
		size_t k;

		assert_non_null(p);
		for (k = 0; k < 64; k++) {
			same += p == first[k];
		}
		memset(p, 0x5a, i == 10 ? 20000 : 1000);
	}
	assert_int_equal(arena_footprint(a), foot);
	assert_true(same > 0);
	/* More than before: new chunks on top of the old ones. */
	assert_non_null(arena_alloc(a, 50000));
	assert_true(arena_footprint(a) > foot);
	arena_reset(a);
	arena_reset(a); /* twice is harmless */
	assert_non_null(arena_calloc(a, 10, 100));
	arena_destroy(a);
}

/* The limit counts the kept chunks: a reset frees nothing. */
static void test_arena_reset_limit(void **state)
{
	struct arena *a = arena_create(1024);

	(void)state;
	assert_non_null(a);
	arena_set_limit(a, 8192);
	assert_non_null(arena_alloc(a, 6000));
	arena_reset(a);
	assert_non_null(arena_alloc(a, 6000)); /* the kept chunk */
	assert_null(arena_alloc(a, 6000));     /* a new one: over */
	arena_destroy(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena_alloc_aligned),
		cmocka_unit_test(test_arena_limit),
		cmocka_unit_test(test_arena_reset_reuses),
		cmocka_unit_test(test_arena_reset_limit),
	};

	return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}
