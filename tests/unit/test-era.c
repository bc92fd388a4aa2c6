/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Change tracking's pure parts: change tokens (lib/token.c), dm-era's
 * status line (lib/era.c), era_invalidate's block list and the defaults
 * (lib/era-changes.c, lib/track.c). Every malformed input is refused,
 * never half-read.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "changes.h"
#include "era.h"

#define ID "0123456789abcdef0123456789abcdef"

static void test_token(void **state)
{
	char buf[TOKEN_MAX], id[33];
	uint32_t era;
	static const char *const bad[] = {
		"", "era1:", "era1:" ID, "era1:" ID ":", "era1:" ID ":x", "era1:" ID ":1x",
		"era1:" ID ":-1", "era1:" ID ":4294967296", "era2:" ID ":1",
		"era1:0123456789ABCDEF0123456789abcdef:1", "era1:0123:1", "snap-1",
	};

	token_format(ID, 42, buf);
	assert_string_equal(buf, "era1:" ID ":42");
	assert_true(token_looks_like(buf));
	assert_false(token_looks_like("daily-2026"));
	assert_int_equal(token_parse(buf, id, &era), 0);
	assert_string_equal(id, ID);
	assert_int_equal(era, 42);
	assert_int_equal(token_parse("era1:" ID ":4294967295", id, &era), 0);
	assert_int_equal(era, UINT32_MAX);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("# %s\n", bad[i]);
		assert_int_equal(token_parse(bad[i], id, &era), -EINVAL);
	}
}

static void test_status(void **state)
{
	struct snapmgr_ctx *ctx = NULL;
	struct era_status st;
	static const char *const bad[] = {
		"", "8 10/1024", "8 10/1024 5", "8 10-1024 5 -", "8 2000/1024 5 -",
		"8 0/0 5 -", "8 10/1024 5 - extra", "x 10/1024 5 -",
	};

	assert_int_equal(snapmgr_new(&ctx), 0);
	assert_int_equal(era_parse_status(ctx, "o-era", "8 59/1024 12 -", &st), 0);
	assert_int_equal(st.metadata_block_sectors, 8);
	assert_int_equal(st.metadata_used, 59);
	assert_int_equal(st.metadata_total, 1024);
	assert_int_equal(st.era, 12);
	assert_false(st.metadata_snap_held);
	assert_int_equal(era_parse_status(ctx, "o-era", "8 60/1024 13 97", &st), 0);
	assert_true(st.metadata_snap_held);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("# %s\n", bad[i]);
		assert_int_equal(era_parse_status(ctx, "o-era", bad[i], &st), -EBADMSG);
		assert_non_null(strstr(snapmgr_get_error(ctx), "cannot parse the era status"));
	}
	snapmgr_unref(ctx);
}

/* What era_invalidate 0.9.0 prints (its own spacing: `end = "E"`). */
static void test_blocks(void **state)
{
	struct snapmgr_ctx *ctx = NULL;
	struct snapmgr_range *r = NULL;
	size_t n = 0;
	char xml[] = "<blocks>\n"
		     "  <block block=\"0\"/>\n"
		     "  <range begin=\"2\" end = \"5\"/>\n"
		     "  <block block=\"5\"/>\n"
		     "  <block block=\"9\"/>\n"
		     "</blocks>\n";
	char empty[] = "<blocks>\n</blocks>\n";

	assert_int_equal(snapmgr_new(&ctx), 0);
	/* 10 blocks of 4 KiB, the last one cut: the origin is 38000 bytes. */
	assert_int_equal(era_parse_blocks(ctx, xml, 4096, 38000, &r, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].offset, 0);
	assert_int_equal(r[0].length, 4096);
	/* 2..5 and 5 are one run: merged. */
	assert_int_equal(r[1].offset, 2 * 4096);
	assert_int_equal(r[1].length, 4 * 4096);
	assert_int_equal(r[2].offset, 9 * 4096);
	assert_int_equal(r[2].length, 38000 - 9 * 4096);
	free(r);
	r = NULL;
	assert_int_equal(era_parse_blocks(ctx, empty, 4096, 38000, &r, &n), 0);
	assert_int_equal(n, 0);
	free(r);
	snapmgr_unref(ctx);
}

static void test_blocks_refused(void **state)
{
	static const char *const bad[] = {
		/* not closed: a tool cut short */
		"<blocks>\n  <block block=\"1\"/>\n",
		/* never opened */
		"  <block block=\"1\"/>\n</blocks>\n",
		/* past the origin's end (10 blocks) */
		"<blocks>\n  <block block=\"10\"/>\n</blocks>\n",
		/* out of order */
		"<blocks>\n  <block block=\"4\"/>\n  <block block=\"2\"/>\n</blocks>\n",
		/* an empty or reversed range */
		"<blocks>\n  <range begin=\"4\" end = \"4\"/>\n</blocks>\n",
		/* anything else */
		"<blocks>\n  <block block=\"x\"/>\n</blocks>\n",
		"<blocks>\n  <superblock/>\n</blocks>\n",
		"<blocks>\n  <block block=\"1\"/> trailing\n</blocks>\n",
		"no metadata snapshot taken.\n",
	};
	struct snapmgr_ctx *ctx = NULL;

	assert_int_equal(snapmgr_new(&ctx), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct snapmgr_range *r = NULL;
		char *copy = strdup(bad[i]);
		size_t n = 0;

		print_message("# %s\n", bad[i]);
		assert_int_equal(era_parse_blocks(ctx, copy, 4096, 40960, &r, &n), -EBADMSG);
		assert_null(r);
		assert_non_null(strstr(snapmgr_get_error(ctx), "era_invalidate"));
		free(copy);
	}
	snapmgr_unref(ctx);
}

static void test_defaults(void **state)
{
	const uint64_t GiB = UINT64_C(1) << 30, MiB = UINT64_C(1) << 20;

	assert_int_equal(snapmgr_track_default_block_size(16 * MiB), 65536);
	/* 1 TiB at 64 KiB is 2^24 blocks: still 64 KiB; beyond, doubled. */
	assert_int_equal(snapmgr_track_default_block_size(1024 * GiB), 65536);
	assert_int_equal(snapmgr_track_default_block_size(1024 * GiB + 65536), 131072);
	assert_int_equal(snapmgr_track_default_block_size(16 * 1024 * GiB), 1 << 20);
	assert_int_equal(snapmgr_track_default_metadata_size(16 * MiB, 65536), 4 * MiB + MiB);
	/* 1 TiB at 64 KiB: 4 MiB + 16 Mi blocks * 8.5 bytes = 140 MiB. */
	assert_int_equal(snapmgr_track_default_metadata_size(1024 * GiB, 65536), 140 * MiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_blocks_refused),
		cmocka_unit_test(test_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
