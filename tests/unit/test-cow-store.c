/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The persistent exception store reader: synthetic stores built in memory
 * by a small model of the kernel's allocator (dm-snap-persistent.c), then
 * every kind of corruption, each of which must give one precise finding.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "libsnapmgr-private.h"

/* 1-sector chunks: 32 exceptions per area, so areas fill quickly. */
#define CHUNK_SECTORS 1U
#define CHUNK_BYTES (CHUNK_SECTORS * 512U)
#define EPA (CHUNK_BYTES / 16U)

struct image {
	uint8_t *data;
	size_t size;
	uint32_t chunk_sectors;
	uint64_t chunk_bytes;
	uint64_t epa;
	/* The kernel's allocator state, as persistent_* keeps it. */
	uint64_t next_free;
	uint64_t current_area;
	uint64_t committed;
};

static struct snapmgr_ctx *ctx;

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void img_header(struct image *img, uint32_t magic, uint32_t valid,
		       uint32_t version, uint32_t chunk_sectors)
{
	put_le32(img->data, magic);
	put_le32(img->data + 4, valid);
	put_le32(img->data + 8, version);
	put_le32(img->data + 12, chunk_sectors);
}

/* A fresh store as the kernel writes it: header and a zeroed area 0. */
static void img_init(struct image *img, uint32_t chunk_sectors,
		     uint64_t chunks)
{
	memset(img, 0, sizeof(*img));
	img->chunk_sectors = chunk_sectors;
	img->chunk_bytes = (uint64_t)chunk_sectors * 512;
	img->epa = img->chunk_bytes / 16;
	img->size = (size_t)(chunks * img->chunk_bytes);
	img->data = calloc(1, img->size);
	assert_non_null(img->data);
	img_header(img, SNAPMGR_COW_MAGIC, 1, 1, chunk_sectors);
	img->next_free = 2;
}

static void img_free(struct image *img)
{
	free(img->data);
	img->data = NULL;
}

static uint64_t area_chunk(const struct image *img, uint64_t area)
{
	return 1 + (img->epa + 1) * area;
}

static uint8_t *entry(struct image *img, uint64_t area, uint64_t index)
{
	uint64_t off = area_chunk(img, area) * img->chunk_bytes + index * 16;

	assert_true(off + 16 <= img->size);
	return img->data + off;
}

static void img_put(struct image *img, uint64_t area, uint64_t index,
		    uint64_t old_chunk, uint64_t new_chunk)
{
	uint8_t *p = entry(img, area, index);

	put_le64(p, old_chunk);
	put_le64(p + 8, new_chunk);
}

static void img_zero_area(struct image *img, uint64_t area)
{
	memset(img->data + area_chunk(img, area) * img->chunk_bytes, 0,
	       img->chunk_bytes);
}

/* persistent_prepare_exception(): next_free, skipping metadata chunks. */
static uint64_t img_allocate(struct image *img)
{
	uint64_t c = img->next_free++;

	if (img->next_free % (img->epa + 1) == 1)
		img->next_free++;
	return c;
}

/* persistent_commit_exception(), in order. */
static void img_commit_to(struct image *img, uint64_t old_chunk,
			  uint64_t new_chunk)
{
	img_put(img, img->current_area, img->committed++, old_chunk,
		new_chunk);
	if (img->committed == img->epa) {
		if (area_chunk(img, img->current_area + 1) * img->chunk_bytes <
		    img->size)
			img_zero_area(img, img->current_area + 1);
		img->current_area++;
		img->committed = 0;
	}
}

static uint64_t img_commit(struct image *img, uint64_t old_chunk)
{
	uint64_t c = img_allocate(img);

	img_commit_to(img, old_chunk, c);
	return c;
}

static uint64_t old_of(uint64_t i)
{
	return (i * 7919) % 100003;
}

static void img_fill(struct image *img, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		img_commit(img, old_of(i));
}

static struct snapmgr_cow_store *load(const struct image *img,
				      uint64_t origin_size)
{
	struct snapmgr_cow_store *s = NULL;
	int r;

	r = snapmgr_cow_store_new_from_buffer(ctx, img->data, img->size,
					      origin_size, &s);
	assert_int_equal(r, 0);
	assert_non_null(s);
	return s;
}

static size_t count_findings(const struct snapmgr_cow_store *s,
			     enum snapmgr_cow_finding kind)
{
	size_t n = 0;
	enum snapmgr_cow_finding k;

	for (size_t i = 0;
	     snapmgr_cow_store_get_finding(s, i, &k, NULL, NULL) == 0; i++)
		if (k == kind)
			n++;
	return n;
}

static void dump_findings(const struct snapmgr_cow_store *s)
{
	enum snapmgr_cow_finding k;
	enum snapmgr_severity sev;
	const char *msg;

	for (size_t i = 0;
	     snapmgr_cow_store_get_finding(s, i, &k, &sev, &msg) == 0; i++)
		print_message("  finding %s/%s: %s\n",
			      snapmgr_severity_to_string(sev),
			      snapmgr_cow_finding_to_string(k), msg);
}

/*
 * Asserts that the store has exactly the given findings (kind, severity)
 * and that the first message of `kind` contains `needle`.
 */
static void expect_only(const struct snapmgr_cow_store *s,
			enum snapmgr_cow_finding kind,
			enum snapmgr_severity severity, const char *needle)
{
	enum snapmgr_cow_finding k;
	enum snapmgr_severity sev;
	const char *msg;
	bool seen = false;

	for (size_t i = 0;
	     snapmgr_cow_store_get_finding(s, i, &k, &sev, &msg) == 0; i++) {
		if (k != kind) {
			dump_findings(s);
			fail_msg("unexpected finding %s: %s",
				 snapmgr_cow_finding_to_string(k), msg);
		}
		assert_int_equal(sev, severity);
		if (!seen && needle && !strstr(msg, needle)) {
			dump_findings(s);
			fail_msg("'%s' not in '%s'", needle, msg);
		}
		seen = true;
	}
	if (!seen)
		fail_msg("no %s finding",
			 snapmgr_cow_finding_to_string(kind));
}

/* The first finding of `kind` has this severity and contains `needle`. */
static void expect_finding(const struct snapmgr_cow_store *s,
			   enum snapmgr_cow_finding kind,
			   enum snapmgr_severity severity, const char *needle)
{
	enum snapmgr_cow_finding k;
	enum snapmgr_severity sev;
	const char *msg;

	for (size_t i = 0;
	     snapmgr_cow_store_get_finding(s, i, &k, &sev, &msg) == 0; i++) {
		if (k != kind)
			continue;
		assert_int_equal(sev, severity);
		if (!strstr(msg, needle)) {
			dump_findings(s);
			fail_msg("'%s' not in '%s'", needle, msg);
		}
		return;
	}
	dump_findings(s);
	fail_msg("no %s finding", snapmgr_cow_finding_to_string(kind));
}

static void expect_clean(const struct snapmgr_cow_store *s)
{
	if (snapmgr_cow_store_get_finding_count(s) != 0) {
		dump_findings(s);
		fail_msg("expected no findings");
	}
	assert_int_equal(snapmgr_cow_store_get_worst_severity(s), -ENODATA);
	assert_true(snapmgr_cow_store_is_consistent(s));
}

/* used sectors == (exceptions + metadata chunks) * chunk, with no holes */
static void expect_usage(const struct snapmgr_cow_store *s, uint64_t n,
			 uint64_t areas)
{
	uint64_t chunk = snapmgr_cow_store_get_chunk_sectors(s);

	assert_int_equal(snapmgr_cow_store_get_exception_count(s), n);
	assert_int_equal(snapmgr_cow_store_get_metadata_areas(s), areas);
	assert_int_equal(snapmgr_cow_store_get_metadata_sectors(s),
			 (areas + 1) * chunk);
	assert_int_equal(snapmgr_cow_store_get_used_sectors(s),
			 n * chunk + snapmgr_cow_store_get_metadata_sectors(s));
}

static void test_valid_many_areas(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;
	uint64_t o, n, i;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 128);
	img_fill(&img, 100); /* areas 0..2 full, 4 entries in area 3 */
	s = load(&img, 0);
	expect_clean(s);
	assert_true(snapmgr_cow_store_get_valid(s));
	assert_int_equal(snapmgr_cow_store_get_magic(s), 0x70416e53);
	assert_int_equal(snapmgr_cow_store_get_version(s), 1);
	assert_int_equal(snapmgr_cow_store_get_chunk_sectors(s), 1);
	assert_int_equal(snapmgr_cow_store_get_exceptions_per_area(s), EPA);
	assert_int_equal(snapmgr_cow_store_get_size(s), 128 * 512);
	expect_usage(s, 100, 4);
	assert_int_equal(snapmgr_cow_store_get_used_sectors(s), 105);
	assert_int_equal(snapmgr_cow_store_get_hole_chunks(s), 0);

	/* The iterator gives the model's mapping, in commit order. */
	for (i = 0; snapmgr_cow_store_get_exception(s, i, &o, &n) == 0; i++) {
		assert_int_equal(o, old_of(i));
		/* Data chunks: 2..33 for area 0, 35..66 for area 1, ... */
		assert_int_equal(n, 2 + i + i / EPA);
	}
	assert_int_equal(i, 100);
	assert_int_equal(snapmgr_cow_store_get_exception(s, 100, &o, &n),
			 -ENOENT);
	assert_ptr_equal(snapmgr_cow_store_ref(s), s);
	assert_null(snapmgr_cow_store_unref(s));
	assert_int_equal(snapmgr_cow_store_get_exception_count(s), 100);
	assert_null(snapmgr_cow_store_unref(s));
	assert_null(snapmgr_cow_store_unref(NULL));
	img_free(&img);
}

static void test_valid_exactly_full_areas(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 128);
	img_fill(&img, 2 * EPA); /* the kernel zeroed area 2 already */
	s = load(&img, 0);
	expect_clean(s);
	expect_usage(s, 2 * EPA, 3);
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_valid_larger_chunk(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	/* 8 sectors, as in the VM test: 256 per area; 600 = 2 areas + 88 */
	img_init(&img, 8, 700);
	img_fill(&img, 600);
	s = load(&img, 1ULL << 30);
	expect_clean(s);
	expect_usage(s, 600, 3);
	assert_int_equal(snapmgr_cow_store_get_used_sectors(s),
			 (600 + 4) * 8);
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_empty(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 16);
	s = load(&img, 0);
	expect_clean(s);
	expect_usage(s, 0, 1);
	assert_int_equal(snapmgr_cow_store_get_used_sectors(s), 2);
	assert_int_equal(snapmgr_cow_store_get_exception(s, 0, NULL, NULL),
			 -ENOENT);
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_bad_magic(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 16);
	img_fill(&img, 3);
	img_header(&img, 0x70416e54, 1, 1, CHUNK_SECTORS);
	s = load(&img, 0);
	expect_only(s, SNAPMGR_COW_BAD_MAGIC, SNAPMGR_SEVERITY_ERROR,
		    "bad magic 0x70416e54");
	assert_false(snapmgr_cow_store_get_valid(s));
	assert_false(snapmgr_cow_store_is_consistent(s));
	assert_int_equal(snapmgr_cow_store_get_exception_count(s), 0);
	assert_int_equal(snapmgr_cow_store_get_used_sectors(s), 0);
	assert_int_equal(snapmgr_cow_store_get_worst_severity(s),
			 SNAPMGR_SEVERITY_ERROR);
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_not_initialised(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 16);
	memset(img.data, 0, img.size);
	s = load(&img, 0);
	expect_only(s, SNAPMGR_COW_NOT_INITIALISED, SNAPMGR_SEVERITY_WARNING,
		    "magic 0");
	assert_false(snapmgr_cow_store_is_consistent(s));
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_version_2(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 16);
	img_fill(&img, 3);
	img_header(&img, SNAPMGR_COW_MAGIC, 1, 2, CHUNK_SECTORS);
	s = load(&img, 0);
	expect_only(s, SNAPMGR_COW_BAD_VERSION, SNAPMGR_SEVERITY_ERROR,
		    "version 2 is not supported");
	assert_int_equal(snapmgr_cow_store_get_version(s), 2);
	assert_int_equal(snapmgr_cow_store_get_exception_count(s), 0);
	assert_false(snapmgr_cow_store_is_consistent(s));
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void check_chunk_size(uint32_t chunk_sectors, const char *needle)
{
	struct snapmgr_cow_store *s;
	struct image img;

	img_init(&img, CHUNK_SECTORS, 16);
	img_fill(&img, 3);
	img_header(&img, SNAPMGR_COW_MAGIC, 1, 1, chunk_sectors);
	s = load(&img, 0);
	expect_only(s, SNAPMGR_COW_BAD_CHUNK_SIZE, SNAPMGR_SEVERITY_ERROR,
		    needle);
	assert_int_equal(snapmgr_cow_store_get_chunk_sectors(s),
			 chunk_sectors);
	assert_int_equal(snapmgr_cow_store_get_exception_count(s), 0);
	assert_int_equal(snapmgr_cow_store_get_metadata_areas(s), 0);
	assert_false(snapmgr_cow_store_is_consistent(s));
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_bad_chunk_size(void **state)
{
	(void)state;
	check_chunk_size(0, "chunk size 0 sectors is not a power of two");
	check_chunk_size(3, "chunk size 3 sectors is not a power of two");
	check_chunk_size(24, "chunk size 24 sectors is not a power of two");
	check_chunk_size(UINT32_MAX, "is not a power of two");
	check_chunk_size(1U << 22, "above the kernel's limit");
	check_chunk_size(1U << 31, "above the kernel's limit");
}

static void test_huge_chunk_small_file(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	/* The largest chunk the kernel takes (1 GiB), in a 16 KiB file. */
	img_init(&img, CHUNK_SECTORS, 32);
	img_header(&img, SNAPMGR_COW_MAGIC, 1, 1, 1U << 21);
	s = load(&img, 0);
	expect_only(s, SNAPMGR_COW_TRUNCATED, SNAPMGR_SEVERITY_ERROR,
		    "too small for the header chunk and the first metadata area");
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_entry_past_end(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 64);
	img_fill(&img, 40);
	img_put(&img, 1, 3, 77, 5000); /* exception 35 */
	s = load(&img, 0);
	expect_only(s, SNAPMGR_COW_NEW_CHUNK_PAST_END, SNAPMGR_SEVERITY_ERROR,
		    "exception 35 (area 1, entry 3) maps old chunk 77 to chunk 5000, past the end of the COW (64 chunks)");
	assert_int_equal(snapmgr_cow_store_get_exception_count(s), 40);
	assert_false(snapmgr_cow_store_is_consistent(s));
	/* The kernel's next_free follows the bogus chunk. */
	assert_int_equal(snapmgr_cow_store_get_used_sectors(s), 5001);
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_entry_past_end_wraps(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 64);
	img_fill(&img, 5);
	img_put(&img, 0, 2, 1, UINT64_MAX);
	s = load(&img, 0);
	expect_only(s, SNAPMGR_COW_NEW_CHUNK_PAST_END, SNAPMGR_SEVERITY_ERROR,
		    "to chunk 18446744073709551615");
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_entry_on_metadata(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 128);
	img_fill(&img, 40);
	/* chunk 34 is metadata area 1 (1 + 33 * 1) */
	img_put(&img, 0, 5, old_of(5), 34);
	s = load(&img, 0);
	expect_finding(s, SNAPMGR_COW_NEW_CHUNK_ON_METADATA,
		       SNAPMGR_SEVERITY_ERROR,
		       "exception 5 (area 0, entry 5) maps old chunk 39595 to chunk 34, which is metadata area 1");
	/* Chunk 7, which exception 5 had, is now unused: a hole. */
	expect_finding(s, SNAPMGR_COW_HOLES, SNAPMGR_SEVERITY_INFO,
		       "1 data chunks below the next free chunk 43");
	assert_int_equal(snapmgr_cow_store_get_finding_count(s), 2);
	assert_false(snapmgr_cow_store_is_consistent(s));
	snapmgr_cow_store_unref(s);

	/* Area 0 itself. */
	img_put(&img, 0, 5, old_of(5), 1);
	s = load(&img, 0);
	expect_finding(s, SNAPMGR_COW_NEW_CHUNK_ON_METADATA,
		       SNAPMGR_SEVERITY_ERROR,
		       "to chunk 1, which is metadata area 0");
	assert_int_equal(snapmgr_cow_store_get_finding_count(s), 2);
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_same_old_chunk_twice(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 128);
	img_fill(&img, 50);
	img_put(&img, 1, 2, old_of(3), 2 + 34 + 1); /* exception 34 */
	s = load(&img, 0);
	expect_only(s, SNAPMGR_COW_DUPLICATE_OLD_CHUNK, SNAPMGR_SEVERITY_ERROR,
		    "old chunk 23757 is mapped twice: by exception 3 (area 0, entry 3) to chunk 5 and by exception 34 (area 1, entry 2) to chunk 37");
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_same_new_chunk_twice(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 128);
	img_fill(&img, 50);
	img_put(&img, 1, 0, 999999, 10); /* exception 32, was chunk 35 */
	s = load(&img, 0);
	assert_int_equal(count_findings(s, SNAPMGR_COW_DUPLICATE_NEW_CHUNK),
			 1);
	/* Chunk 35 is left unused: one hole. */
	assert_int_equal(count_findings(s, SNAPMGR_COW_HOLES), 1);
	assert_int_equal(snapmgr_cow_store_get_hole_chunks(s), 1);
	assert_int_equal(snapmgr_cow_store_get_finding_count(s), 2);
	assert_int_equal(snapmgr_cow_store_get_worst_severity(s),
			 SNAPMGR_SEVERITY_ERROR);
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_old_chunk_past_origin(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 64);
	img_commit(&img, 0);
	img_commit(&img, 9);
	img_commit(&img, 10);
	/* 5000 bytes: 10 chunks of 512, the last one partial. */
	s = load(&img, 5000);
	expect_only(s, SNAPMGR_COW_OLD_CHUNK_PAST_ORIGIN,
		    SNAPMGR_SEVERITY_ERROR,
		    "exception 2 (area 0, entry 2) maps old chunk 10, past the end of the origin (10 chunks)");
	snapmgr_cow_store_unref(s);
	s = load(&img, 5632);
	expect_clean(s);
	snapmgr_cow_store_unref(s);
	s = load(&img, 0); /* unknown origin: not checked */
	expect_clean(s);
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_truncated_tiny(void **state)
{
	struct snapmgr_cow_store *s = NULL;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 16);
	for (size_t len = 0; len < 16; len++) {
		assert_int_equal(snapmgr_cow_store_new_from_buffer(
					 ctx, img.data, len, 0, &s),
				 0);
		expect_only(s, SNAPMGR_COW_TRUNCATED, SNAPMGR_SEVERITY_ERROR,
			    "too small for the 16-byte header");
		s = snapmgr_cow_store_unref(s);
	}
	/* Header there, but not the first area. */
	assert_int_equal(snapmgr_cow_store_new_from_buffer(ctx, img.data,
							   1000, 0, &s),
			 0);
	expect_only(s, SNAPMGR_COW_TRUNCATED, SNAPMGR_SEVERITY_ERROR,
		    "the COW is 1000 bytes, too small for the header chunk and the first metadata area (512 bytes each)");
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_truncated_next_area(void **state)
{
	struct snapmgr_cow_store *s = NULL;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 128);
	img_fill(&img, 2 * EPA);
	/* Cut just before area 2 (chunk 67): areas 0 and 1 are full. */
	assert_int_equal(snapmgr_cow_store_new_from_buffer(
				 ctx, img.data, 67 * 512, 0, &s),
			 0);
	expect_only(s, SNAPMGR_COW_TRUNCATED, SNAPMGR_SEVERITY_ERROR,
		    "metadata area 1 is full, but the next area (chunk 67) lies beyond the end of the COW (67 chunks)");
	assert_false(snapmgr_cow_store_is_consistent(s));
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_truncated_data(void **state)
{
	struct snapmgr_cow_store *s = NULL;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 128);
	img_fill(&img, 40);
	/* 40 exceptions use chunks up to 43; keep 40 chunks. */
	assert_int_equal(snapmgr_cow_store_new_from_buffer(
				 ctx, img.data, 40 * 512, 0, &s),
			 0);
	/* New chunks 40, 41 and 42 are gone. */
	assert_int_equal(count_findings(s, SNAPMGR_COW_NEW_CHUNK_PAST_END),
			 3);
	assert_int_equal(snapmgr_cow_store_get_finding_count(s), 3);
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_zeroed_area_in_the_middle(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 256);
	img_fill(&img, 4 * EPA + 5); /* areas 0..3 full, 5 in area 4 */
	img_zero_area(&img, 1);
	s = load(&img, 0);
	/* The kernel stops at area 1, entry 0. */
	assert_int_equal(snapmgr_cow_store_get_exception_count(s), EPA);
	assert_int_equal(snapmgr_cow_store_get_metadata_areas(s), 2);
	expect_only(s, SNAPMGR_COW_LEFTOVER_DATA, SNAPMGR_SEVERITY_WARNING,
		    "metadata area 2 (chunk 67), after the end of the exception list in area 1, holds 32 entries that look like exceptions");
	/* Areas 2, 3 and 4 each hold some. */
	assert_int_equal(count_findings(s, SNAPMGR_COW_LEFTOVER_DATA), 3);
	assert_false(snapmgr_cow_store_is_consistent(s));
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_torn_area(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 128);
	img_fill(&img, 40); /* 8 in area 1 */
	/* A torn write: entry 3 of area 1 lost, 4..7 still there. */
	img_put(&img, 1, 3, 0, 0);
	s = load(&img, 0);
	assert_int_equal(snapmgr_cow_store_get_exception_count(s), 35);
	expect_only(s, SNAPMGR_COW_LEFTOVER_DATA, SNAPMGR_SEVERITY_WARNING,
		    "metadata area 1 (chunk 34) holds 4 non-zero entries after the end of the exception list at entry 3 (4 look like exceptions)");
	snapmgr_cow_store_unref(s);

	/* Random bytes after the end marker count too. */
	img_put(&img, 1, 3, 0x1234, 0);
	img_put(&img, 1, 4, 0, 0);
	img_put(&img, 1, 5, 0, 0);
	img_put(&img, 1, 6, 0, 0);
	img_put(&img, 1, 7, 0, 0);
	s = load(&img, 0);
	expect_only(s, SNAPMGR_COW_LEFTOVER_DATA, SNAPMGR_SEVERITY_WARNING,
		    "holds 1 non-zero entries");
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_garbage_in_next_area_is_ignored(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 128);
	img_fill(&img, 10);
	/* Area 1's chunk holds old text: nothing that looks like a list. */
	memset(img.data + area_chunk(&img, 1) * 512, 'x', 512);
	s = load(&img, 0);
	expect_clean(s);
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_invalidated(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 64);
	img_fill(&img, 20);
	img_header(&img, SNAPMGR_COW_MAGIC, 0, 1, CHUNK_SECTORS);
	s = load(&img, 0);
	expect_only(s, SNAPMGR_COW_INVALIDATED, SNAPMGR_SEVERITY_ERROR,
		    "valid = 0");
	assert_false(snapmgr_cow_store_get_valid(s));
	assert_false(snapmgr_cow_store_is_consistent(s));
	/* The list is still shown for the curious. */
	assert_int_equal(snapmgr_cow_store_get_exception_count(s), 20);
	snapmgr_cow_store_unref(s);

	img_header(&img, SNAPMGR_COW_MAGIC, 7, 1, CHUNK_SECTORS);
	s = load(&img, 0);
	expect_only(s, SNAPMGR_COW_ODD_VALID_FLAG, SNAPMGR_SEVERITY_WARNING,
		    "the valid flag is 7");
	assert_true(snapmgr_cow_store_get_valid(s));
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_holes_after_crash(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;
	uint64_t a, b, c;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 64);
	img_fill(&img, 10);
	/* Three allocated, only the last committed before the crash. */
	a = img_allocate(&img);
	b = img_allocate(&img);
	c = img_allocate(&img);
	(void)a;
	(void)b;
	img_commit_to(&img, 5555, c);
	s = load(&img, 0);
	expect_only(s, SNAPMGR_COW_HOLES, SNAPMGR_SEVERITY_INFO,
		    "2 data chunks below the next free chunk 15 are unused");
	assert_int_equal(snapmgr_cow_store_get_hole_chunks(s), 2);
	assert_int_equal(snapmgr_cow_store_get_used_sectors(s), 15);
	/* info only: still consistent */
	assert_true(snapmgr_cow_store_is_consistent(s));
	assert_int_equal(snapmgr_cow_store_get_worst_severity(s),
			 SNAPMGR_SEVERITY_INFO);
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_partial_chunk(void **state)
{
	struct snapmgr_cow_store *s = NULL;
	struct image img;

	(void)state;
	img_init(&img, 8, 16);
	img_fill(&img, 3);
	assert_int_equal(snapmgr_cow_store_new_from_buffer(
				 ctx, img.data, img.size - 100, 0, &s),
			 0);
	expect_only(s, SNAPMGR_COW_PARTIAL_CHUNK, SNAPMGR_SEVERITY_INFO,
		    "its last 3996 bytes are never used");
	assert_true(snapmgr_cow_store_is_consistent(s));
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static void test_findings_are_capped(void **state)
{
	struct snapmgr_cow_store *s;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 256);
	/* 100 exceptions all for old chunk 4: 99 duplicates. */
	for (int i = 0; i < 100; i++)
		img_commit(&img, 4);
	s = load(&img, 0);
	assert_int_equal(count_findings(s, SNAPMGR_COW_DUPLICATE_OLD_CHUNK),
			 9);
	assert_int_equal(snapmgr_cow_store_get_finding_count(s), 9);
	{
		const char *msg;

		assert_int_equal(snapmgr_cow_store_get_finding(s, 8, NULL,
							       NULL, &msg),
				 0);
		assert_string_equal(msg,
				    "91 more duplicate-old-chunk findings not shown");
	}
	snapmgr_cow_store_unref(s);
	img_free(&img);
}

static int64_t failing_read(void *userdata, void *buf, size_t len,
			    uint64_t offset)
{
	const struct image *img = userdata;

	if (offset >= 512)
		return -EIO;
	memcpy(buf, img->data + offset, len);
	return (int64_t)len;
}

static int64_t short_read(void *userdata, void *buf, size_t len,
			  uint64_t offset)
{
	(void)userdata;
	(void)buf;
	(void)offset;
	return len > 1 ? (int64_t)len - 1 : 0;
}

static void test_read_errors(void **state)
{
	struct snapmgr_cow_store *s = (void *)0x1, *none = NULL;
	struct image img;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 64);
	img_fill(&img, 3);
	assert_int_equal(snapmgr_cow_store_new_from_reader(
				 ctx, failing_read, &img, img.size, 0, &s),
			 -EIO);
	assert_ptr_equal(s, (void *)0x1); /* untouched on failure */
	assert_int_equal(snapmgr_cow_store_new_from_reader(
				 ctx, short_read, &img, img.size, 0, &s),
			 -EIO);
	assert_ptr_equal(s, (void *)0x1);
	assert_int_equal(snapmgr_cow_store_new_from_reader(
				 ctx, NULL, &img, img.size, 0, &s),
			 -EINVAL);
	assert_int_equal(snapmgr_cow_store_new_from_buffer(ctx, NULL, 10, 0,
							   &s),
			 -EINVAL);
	assert_int_equal(snapmgr_cow_store_new_from_buffer(NULL, img.data,
							   img.size, 0, &s),
			 -EINVAL);
	assert_int_equal(snapmgr_cow_store_new_from_buffer(ctx, img.data,
							   img.size, 0, NULL),
			 -EINVAL);
	assert_ptr_equal(s, (void *)0x1);
	assert_int_equal(snapmgr_cow_store_get_finding(none, 0, NULL, NULL,
						       NULL),
			 -EINVAL);
	img_free(&img);
}

static void test_open_file(void **state)
{
	char path[] = "/tmp/test-cow-store-XXXXXX";
	struct snapmgr_cow_store *s = NULL;
	struct stat st;
	struct image img;
	int fd;

	(void)state;
	img_init(&img, CHUNK_SECTORS, 128);
	img_fill(&img, 70);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img.data, img.size), (ssize_t)img.size);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	assert_int_equal(chmod(path, 0400), 0);

	assert_int_equal(snapmgr_cow_store_open(ctx, path, 0, &s), 0);
	expect_clean(s);
	expect_usage(s, 70, 3);
	snapmgr_cow_store_unref(s);

	/* Opening never writes: the file is unchanged, mtime included. */
	{
		struct stat st2;
		uint8_t *back = malloc(img.size);

		assert_non_null(back);
		assert_int_equal(stat(path, &st2), 0);
		assert_int_equal(st2.st_mtim.tv_sec, st.st_mtim.tv_sec);
		assert_int_equal(st2.st_mtim.tv_nsec, st.st_mtim.tv_nsec);
		fd = open(path, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(read(fd, back, img.size), (ssize_t)img.size);
		close(fd);
		assert_memory_equal(back, img.data, img.size);
		free(back);
	}
	unlink(path);

	s = (void *)0x1;
	assert_int_equal(snapmgr_cow_store_open(ctx, path, 0, &s), -ENOENT);
	assert_int_equal(snapmgr_cow_store_open(ctx, "/tmp", 0, &s),
			 -EISDIR);
	assert_int_equal(snapmgr_cow_store_open(ctx, "/dev/null", 0, &s),
			 -ENOTBLK);
	assert_ptr_equal(s, (void *)0x1);
	img_free(&img);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(snapmgr_severity_to_string(SNAPMGR_SEVERITY_ERROR),
			    "error");
	assert_string_equal(snapmgr_cow_finding_to_string(SNAPMGR_COW_HOLES),
			    "holes");
	for (int k = 0; k < _SNAPMGR_COW_FINDING_MAX; k++)
		assert_non_null(snapmgr_cow_finding_to_string(k));
	assert_null(snapmgr_cow_finding_to_string(_SNAPMGR_COW_FINDING_MAX));
	assert_null(snapmgr_severity_to_string(42));
}

static int setup(void **state)
{
	(void)state;
	return snapmgr_new(&ctx);
}

static int teardown(void **state)
{
	(void)state;
	ctx = snapmgr_unref(ctx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_many_areas),
		cmocka_unit_test(test_valid_exactly_full_areas),
		cmocka_unit_test(test_valid_larger_chunk),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_not_initialised),
		cmocka_unit_test(test_version_2),
		cmocka_unit_test(test_bad_chunk_size),
		cmocka_unit_test(test_huge_chunk_small_file),
		cmocka_unit_test(test_entry_past_end),
		cmocka_unit_test(test_entry_past_end_wraps),
		cmocka_unit_test(test_entry_on_metadata),
		cmocka_unit_test(test_same_old_chunk_twice),
		cmocka_unit_test(test_same_new_chunk_twice),
		cmocka_unit_test(test_old_chunk_past_origin),
		cmocka_unit_test(test_truncated_tiny),
		cmocka_unit_test(test_truncated_next_area),
		cmocka_unit_test(test_truncated_data),
		cmocka_unit_test(test_zeroed_area_in_the_middle),
		cmocka_unit_test(test_torn_area),
		cmocka_unit_test(test_garbage_in_next_area_is_ignored),
		cmocka_unit_test(test_invalidated),
		cmocka_unit_test(test_holes_after_crash),
		cmocka_unit_test(test_partial_chunk),
		cmocka_unit_test(test_findings_are_capped),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_open_file),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
