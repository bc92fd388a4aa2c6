/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The chunk size model on synthetic workloads whose right answer is plain:
 * 4 KiB random writes want 4 KiB chunks; 64 KiB aligned sequential writes
 * to a clone want 64 KiB chunks (all writes bypass); an ext4 with a 64 KiB
 * RAID stripe wants 64 KiB; large chunks copy more for small writes.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "workload-private.h"

static struct snapmgr_ctx *ctx;

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

static const struct snapmgr_device_facts ssd = SNAPMGR_OPTS(struct snapmgr_device_facts,
	.logical_block_size = 512, .physical_block_size = 4096,
	.minimum_io_size = 4096, .fs_type = "ext4", .fs_block_size = 4096);

static struct snapmgr_workload *random_writes(uint64_t size, uint64_t n)
{
	struct snapmgr_workload *w = NULL;

	assert_int_equal(snapmgr_workload_new(ctx, &w), 0);
	assert_int_equal(workload_fill_random(w, n, size, UINT64_C(16) << 30), 0);
	return w;
}

static struct snapmgr_workload *sequential_writes(uint64_t size, uint64_t n,
						  uint64_t start)
{
	struct snapmgr_workload *w = NULL;

	assert_int_equal(snapmgr_workload_new(ctx, &w), 0);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(snapmgr_workload_add_write(w, start + i * size, size), 0);
	return w;
}

static struct snapmgr_advice_candidate cand(const struct snapmgr_advice *a,
					     uint64_t chunk)
{
	struct snapmgr_advice_candidate c = SNAPMGR_RESULT(struct snapmgr_advice_candidate);

	for (size_t i = 0; snapmgr_advice_get_candidate(a, i, &c) == 0; i++)
		if (c.chunk_size == chunk)
			return c;
	fail_msg("no candidate %llu", (unsigned long long)chunk);
	return c;
}

static void test_random_4k(void **state)
{
	struct snapmgr_workload *w = random_writes(4096, 20000);
	unsigned int targets[] = { SNAPMGR_ADVISE_BACKUP, SNAPMGR_ADVISE_CLONE,
				   SNAPMGR_ADVISE_BACKUP | SNAPMGR_ADVISE_CLONE };

	(void)state;
	for (size_t t = 0; t < 3; t++) {
		struct snapmgr_advice *a = NULL;
		struct snapmgr_advice_candidate c4, c64;

		assert_int_equal(snapmgr_advise(ctx, &ssd, w, targets[t], &a), 0);
		assert_int_equal(snapmgr_advice_get_chunk_size(a), 4096);
		c4 = cand(a, 4096);
		c64 = cand(a, 65536);
		assert_true(c4.cost == 1.0);
		assert_true(c64.cost > 2.0);
		/* 4 KiB writes into 64 KiB chunks copy ~16 bytes per byte. */
		assert_true(c64.copy_ratio > 15.0 && c64.copy_ratio <= 16.0);
		assert_true(c64.cow_per_gib > 15.0 * (1 << 30));
		if (targets[t] == SNAPMGR_ADVISE_BACKUP) {
			assert_true(isnan(c4.bypass_fraction));
			assert_true(c4.copy_ratio > 0.99);
		} else {
			assert_true(c4.bypass_fraction == 1.0);
			assert_true(c64.bypass_fraction == 0.0);
		}
		assert_non_null(snapmgr_advice_get_reason(a, 0));
		assert_non_null(snapmgr_advice_get_reason(a, 1));
		snapmgr_advice_unref(a);
	}
	snapmgr_workload_unref(w);
}

static void test_sequential_64k_clone(void **state)
{
	struct snapmgr_workload *w = sequential_writes(65536, 4096, 1 << 20);
	struct snapmgr_advice *a = NULL;
	struct snapmgr_advice_candidate c;

	(void)state;
	assert_int_equal(snapmgr_advise(ctx, &ssd, w, SNAPMGR_ADVISE_CLONE, &a), 0);
	assert_true(snapmgr_advice_get_chunk_size(a) >= 65536);
	c = cand(a, snapmgr_advice_get_chunk_size(a));
	assert_true(c.bypass_fraction == 1.0);
	assert_true(c.copy_ratio == 0.0);
	/* Smaller chunks: every write split, each piece its own commit. */
	assert_true(cand(a, 4096).cost > 2.0);
	assert_true(cand(a, 4096).bypass_fraction == 1.0);
	snapmgr_advice_unref(a);
	snapmgr_workload_unref(w);
}

static void test_sequential_64k_backup(void **state)
{
	struct snapmgr_workload *w = sequential_writes(65536, 4096, 0);
	struct snapmgr_advice *a = NULL;

	(void)state;
	assert_int_equal(snapmgr_advise(ctx, &ssd, w, SNAPMGR_ADVISE_BACKUP, &a), 0);
	/*
	 * Every byte is copied once whatever the chunk, so larger chunks only
	 * save exceptions and commits: 64 KiB or more, never smaller.
	 */
	assert_true(snapmgr_advice_get_chunk_size(a) >= 65536);
	assert_true(cand(a, 4096).cost > 1.5);
	assert_true(fabs(cand(a, 4096).copy_ratio - 1.0) < 1e-9);
	assert_true(fabs(cand(a, 65536).copy_ratio - 1.0) < 1e-9);
	snapmgr_advice_unref(a);
	snapmgr_workload_unref(w);
}

static void test_unaligned_64k_clone(void **state)
{
	/* Shifted by 4 KiB: 64 KiB chunks are never covered whole. */
	struct snapmgr_workload *w = random_writes(65536, 5000);
	struct snapmgr_workload *s = NULL;
	struct snapmgr_advice *a = NULL;
	uint64_t off, len;

	(void)state;
	assert_int_equal(snapmgr_workload_new(ctx, &s), 0);
	for (uint64_t i = 0; snapmgr_workload_get_write(w, i, &off, &len) == 0; i++)
		assert_int_equal(snapmgr_workload_add_write(s, off + 4096, len), 0);
	assert_int_equal(snapmgr_advise(ctx, &ssd, s, SNAPMGR_ADVISE_CLONE, &a), 0);
	assert_true(cand(a, 65536).bypass_fraction < 0.01);
	assert_true(cand(a, 4096).bypass_fraction == 1.0);
	assert_true(snapmgr_advice_get_chunk_size(a) < 65536);
	snapmgr_advice_unref(a);
	snapmgr_workload_unref(w);
	snapmgr_workload_unref(s);
}

static void test_db_16k(void **state)
{
	struct snapmgr_workload *w = random_writes(16384, 20000);
	struct snapmgr_advice *a = NULL;

	(void)state;
	assert_int_equal(snapmgr_advise(ctx, &ssd, w, SNAPMGR_ADVISE_CLONE, &a), 0);
	assert_int_equal(snapmgr_advice_get_chunk_size(a), 16384);
	snapmgr_advice_unref(a);
	assert_int_equal(snapmgr_advise(ctx, &ssd, w, SNAPMGR_ADVISE_BACKUP, &a), 0);
	assert_int_equal(snapmgr_advice_get_chunk_size(a), 16384);
	snapmgr_advice_unref(a);
	snapmgr_workload_unref(w);
}

static void test_facts_only(void **state)
{
	struct snapmgr_device_facts raid = ssd;
	struct snapmgr_advice *a = NULL;

	(void)state;
	/* ext4 with 4 KiB blocks and nothing else: 4 KiB. */
	assert_int_equal(snapmgr_advise(ctx, &ssd, NULL, SNAPMGR_ADVISE_BACKUP | SNAPMGR_ADVISE_CLONE, &a), 0);
	assert_int_equal(snapmgr_advice_get_chunk_size(a), 4096);
	assert_non_null(strstr(snapmgr_advice_get_reason(a, 0), "filesystem block size"));
	snapmgr_advice_unref(a);
	/* ext4 with stride 4 blocks, stripe 16 blocks (64 KiB): 64 KiB. */
	raid.raid_stride = 16384;
	raid.raid_stripe_width = 65536;
	assert_int_equal(snapmgr_advise(ctx, &raid, NULL, SNAPMGR_ADVISE_BACKUP | SNAPMGR_ADVISE_CLONE, &a), 0);
	assert_int_equal(snapmgr_advice_get_chunk_size(a), 65536);
	assert_non_null(strstr(snapmgr_advice_get_reason(a, 0), "RAID stripe"));
	snapmgr_advice_unref(a);
	/* No facts at all: still an answer. */
	assert_int_equal(snapmgr_advise(ctx, NULL, NULL, SNAPMGR_ADVISE_CLONE, &a), 0);
	assert_int_equal(snapmgr_advice_get_chunk_size(a), 4096);
	snapmgr_advice_unref(a);
}

static void test_min_io(void **state)
{
	/*
	 * A device that writes 64 KiB at least: chunk writes below that are
	 * read-modify-write, which narrows the gap between 4 KiB and 64 KiB
	 * chunks for 4 KiB random writes (the writes themselves pay it either
	 * way, so 4 KiB still wins) and is named in the reasons.
	 */
	struct snapmgr_device_facts big = ssd;
	struct snapmgr_workload *w = random_writes(4096, 5000);
	struct snapmgr_advice *a = NULL;
	double plain, rmw;
	bool named = false;
	const char *s;

	(void)state;
	assert_int_equal(snapmgr_advise(ctx, &ssd, w, SNAPMGR_ADVISE_CLONE, &a), 0);
	plain = cand(a, 65536).cost;
	snapmgr_advice_unref(a);
	big.minimum_io_size = 65536;
	assert_int_equal(snapmgr_advise(ctx, &big, w, SNAPMGR_ADVISE_CLONE, &a), 0);
	rmw = cand(a, 65536).cost;
	assert_true(rmw < plain);
	assert_int_equal(snapmgr_advice_get_chunk_size(a), 4096);
	for (size_t i = 0; (s = snapmgr_advice_get_reason(a, i)); i++)
		named |= strstr(s, "minimum I/O size is 64 KiB") != NULL;
	assert_true(named);
	snapmgr_advice_unref(a);
	snapmgr_workload_unref(w);
}

static void test_ext_superblock(void **state)
{
	uint8_t sb[1024] = {};
	struct snapmgr_device_facts f = SNAPMGR_RESULT(struct snapmgr_device_facts);

	(void)state;
	assert_int_equal(advise_parse_ext_superblock(sb, sizeof(sb), &f), -EINVAL);
	sb[0x38] = 0x53;
	sb[0x39] = 0xef;
	sb[0x18] = 2;    /* 4 KiB blocks */
	sb[0x164] = 4;   /* stride 4 blocks */
	sb[0x170] = 16;  /* stripe width 16 blocks */
	assert_int_equal(advise_parse_ext_superblock(sb, 0x100, &f), -EINVAL);
	assert_int_equal(advise_parse_ext_superblock(sb, sizeof(sb), &f), 0);
	assert_int_equal(f.fs_block_size, 4096);
	assert_int_equal(f.raid_stride, 16384);
	assert_int_equal(f.raid_stripe_width, 65536);
	sb[0x18] = 40;   /* nonsense block size */
	f.fs_block_size = 7;
	assert_int_equal(advise_parse_ext_superblock(sb, sizeof(sb), &f), -EINVAL);
	assert_int_equal(f.fs_block_size, 7);
	/* A stripe width overflowing 32 bits is dropped, not wrapped. */
	sb[0x18] = 6;
	sb[0x170] = 0; sb[0x171] = 0; sb[0x172] = 0; sb[0x173] = 0x10;
	assert_int_equal(advise_parse_ext_superblock(sb, sizeof(sb), &f), 0);
	assert_int_equal(f.raid_stripe_width, 0);
}

static void test_bad_args_and_json(void **state)
{
	struct snapmgr_workload *w = random_writes(4096, 100);
	struct snapmgr_advice *a = (void *)0x1;
	struct json_object *doc = NULL, *v, *arr;

	(void)state;
	assert_int_equal(snapmgr_advise(ctx, &ssd, w, 0, &a), -EINVAL);
	assert_int_equal(snapmgr_advise(ctx, &ssd, w, 4, &a), -EINVAL);
	assert_ptr_equal(a, (void *)0x1);
	assert_int_equal(snapmgr_advise(ctx, &ssd, w, SNAPMGR_ADVISE_CLONE, &a), 0);
	assert_int_equal(snapmgr_advice_to_json(a, &doc), 0);
	assert_true(json_object_object_get_ex(doc, "recommendation", &v));
	assert_true(json_object_object_get_ex(v, "chunk_size", &v));
	assert_int_equal(json_object_get_uint64(v), 4096);
	assert_true(json_object_object_get_ex(doc, "candidates", &arr));
	assert_int_equal(json_object_array_length(arr), 8);
	assert_true(json_object_object_get_ex(doc, "workload", &v));
	assert_true(json_object_object_get_ex(v, "size_histogram", &arr));
	assert_int_equal(json_object_array_length(arr), 1);
	json_object_put(doc);
	snapmgr_advice_unref(a);
	snapmgr_workload_unref(w);
}

/*
 * Sized structs (snapmgr.h): facts are options to snapmgr_advise(), a
 * candidate a result. A caller built against an older, shorter struct
 * gets what its size covers and nothing written past it; one built
 * against a newer, longer struct learns from size what was filled in.
 */
static void test_sized_structs(void **state)
{
	struct snapmgr_workload *w = random_writes(4096, 100);
	struct snapmgr_advice *a = NULL;
	struct {
		struct snapmgr_device_facts f;
		uint64_t newer_field;
	} longer = { .f = ssd };
	struct {
		struct snapmgr_advice_candidate c;
		unsigned char more[16];
	} out;
	struct snapmgr_device_facts unset = ssd;
	size_t old_size = offsetof(struct snapmgr_advice_candidate, cost);

	(void)state;
	unset.size = 0;
	assert_int_equal(snapmgr_advise(ctx, &unset, w, SNAPMGR_ADVISE_CLONE, &a), -EINVAL);
	assert_non_null(strstr(snapmgr_get_error(ctx), "snapmgr_device_facts has size 0"));
	longer.f.size = sizeof(longer);
	longer.newer_field = 1;
	assert_int_equal(snapmgr_advise(ctx, &longer.f, w, SNAPMGR_ADVISE_CLONE, &a), -EOPNOTSUPP);
	assert_non_null(strstr(snapmgr_get_error(ctx), "does not have"));
	longer.newer_field = 0; /* asks for nothing new: fine */
	assert_int_equal(snapmgr_advise(ctx, &longer.f, w, SNAPMGR_ADVISE_CLONE, &a), 0);

	/* Older caller: cost is past its size and stays as it was. */
	memset(&out, 0xa5, sizeof(out));
	out.c.size = old_size;
	assert_int_equal(snapmgr_advice_get_candidate(a, 0, &out.c), 0);
	assert_int_equal(out.c.size, old_size);
	assert_int_equal(out.c.chunk_size, 4096);
	for (size_t i = old_size; i < sizeof(out); i++)
		assert_int_equal(((unsigned char *)&out)[i], 0xa5);
	assert_false(SNAPMGR_HAS_FIELD(&out.c, struct snapmgr_advice_candidate, cost));
	assert_true(SNAPMGR_HAS_FIELD(&out.c, struct snapmgr_advice_candidate, cow_per_gib));

	/* Newer caller: size says the library wrote its own struct only. */
	memset(&out, 0xa5, sizeof(out));
	out.c.size = sizeof(out);
	assert_int_equal(snapmgr_advice_get_candidate(a, 0, &out.c), 0);
	assert_int_equal(out.c.size, sizeof(struct snapmgr_advice_candidate));
	assert_true(out.c.cost == 1.0 || out.c.cost > 1.0);
	for (size_t i = 0; i < sizeof(out.more); i++)
		assert_int_equal(out.more[i], 0xa5);

	/* Not set up: refused, nothing written. */
	memset(&out, 0xa5, sizeof(out));
	out.c.size = 0;
	assert_int_equal(snapmgr_advice_get_candidate(a, 0, &out.c), -EINVAL);
	assert_int_equal(out.c.chunk_size, 0xa5a5a5a5a5a5a5a5ULL);
	snapmgr_advice_unref(a);
	snapmgr_workload_unref(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_4k),
		cmocka_unit_test(test_sequential_64k_clone),
		cmocka_unit_test(test_sequential_64k_backup),
		cmocka_unit_test(test_unaligned_64k_clone),
		cmocka_unit_test(test_db_16k),
		cmocka_unit_test(test_facts_only),
		cmocka_unit_test(test_min_io),
		cmocka_unit_test(test_ext_superblock),
		cmocka_unit_test(test_bad_args_and_json),
		cmocka_unit_test(test_sized_structs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
