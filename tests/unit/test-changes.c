/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/changes.c's pure part: an exception store (built in memory, parsed
 * by lib/cow-store.c) to sorted, merged byte ranges; and lib/export.c's
 * check that a --since snapshot covers the newer one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "changes.h"

#define CHUNK 4096U

static struct snapmgr_ctx *ctx;

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A store of 4 KiB chunks whose area 0 maps the given old chunks. */
static uint8_t *make_store(const uint64_t *old, size_t n, size_t *ret_size)
{
	size_t size = (2 + n + 1) * CHUNK;
	uint8_t *s = calloc(1, size);

	assert_non_null(s);
	put_le(s, SNAPMGR_COW_MAGIC, 4);
	put_le(s + 4, 1, 4);
	put_le(s + 8, 1, 4);
	put_le(s + 12, CHUNK / 512, 4);
	for (size_t i = 0; i < n; i++) {
		put_le(s + CHUNK + 16 * i, old[i], 8);
		put_le(s + CHUNK + 16 * i + 8, 2 + i, 8);
	}
	*ret_size = size;
	return s;
}

static void ranges_of(const uint64_t *old, size_t n, uint64_t origin_size,
		      int expect_r, struct snapmgr_range **ret, size_t *ret_n)
{
	struct snapmgr_cow_store *store = NULL;
	size_t size;
	uint8_t *img = make_store(old, n, &size);

	assert_int_equal(snapmgr_cow_store_new_from_buffer(ctx, img, size, 0, &store), 0);
	assert_int_equal(snapmgr_cow_store_get_exception_count(store), n);
	assert_int_equal(changes_ranges_from_store(ctx, store, origin_size, ret, ret_n), expect_r);
	snapmgr_cow_store_unref(store);
	free(img);
}

static void test_sorted_merged(void **state)
{
	/* Out of order, adjacent runs, the origin's partial last chunk. */
	static const uint64_t old[] = { 11, 5, 255, 3, 10, 6, 12 };
	struct snapmgr_range *r = NULL;
	size_t n = 0;

	(void)state;
	ranges_of(old, 7, 256 * CHUNK - 1000, 0, &r, &n);
	assert_int_equal(n, 4);
	assert_int_equal(r[0].offset, 3 * CHUNK);
	assert_int_equal(r[0].length, CHUNK);
	assert_int_equal(r[1].offset, 5 * CHUNK);
	assert_int_equal(r[1].length, 2 * CHUNK);
	assert_int_equal(r[2].offset, 10 * CHUNK);
	assert_int_equal(r[2].length, 3 * CHUNK);
	assert_int_equal(r[3].offset, 255 * CHUNK);
	assert_int_equal(r[3].length, CHUNK - 1000);
	free(r);
}

static void test_empty(void **state)
{
	struct snapmgr_range *r = NULL;
	size_t n = 99;

	(void)state;
	ranges_of(NULL, 0, 64 * CHUNK, 0, &r, &n);
	assert_int_equal(n, 0);
	free(r);
}

static void test_past_origin(void **state)
{
	static const uint64_t old[] = { 1, 64 };
	struct snapmgr_range *r = NULL;
	size_t n = 0;

	(void)state;
	ranges_of(old, 2, 64 * CHUNK, -EBADMSG, &r, &n);
	assert_non_null(strstr(snapmgr_get_error(ctx), "chunk 64 lies past the end"));
}

static void test_covers(void **state)
{
	const struct snapmgr_range older[] = { { 0, 8192 }, { 65536, 65536 } };
	const struct snapmgr_range inside[] = { { 4096, 4096 }, { 69632, 8192 } };
	const struct snapmgr_range outside[] = { { 4096, 4096 }, { 16384, 4096 } };
	const struct snapmgr_range straddle[] = { { 4096, 8192 } };
	/* Newer with 64 KiB chunks where older (4 KiB) saw one write. */
	const struct snapmgr_range big[] = { { 0, 65536 } };

	(void)state;
	assert_true(export_older_covers(older, 2, inside, 2, true));
	assert_false(export_older_covers(older, 2, outside, 2, true));
	assert_false(export_older_covers(older, 2, straddle, 1, true));
	assert_true(export_older_covers(older, 2, NULL, 0, true));
	assert_false(export_older_covers(NULL, 0, inside, 1, true));
	assert_false(export_older_covers(older, 2, big, 1, true));
	assert_true(export_older_covers(older, 2, big, 1, false));
	assert_false(export_older_covers(&older[1], 1, big, 1, false));
}

static int setup(void **state)
{
	(void)state;
	return snapmgr_new(&ctx);
}

static int teardown(void **state)
{
	(void)state;
	snapmgr_unref(ctx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted_merged),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_past_origin),
		cmocka_unit_test(test_covers),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
