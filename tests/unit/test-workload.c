/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Workloads: blkparse text traces, trace event lines, histograms. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

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

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/test-workload.XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_fixture_queue_events(void **state)
{
	struct snapmgr_workload *w = NULL;
	uint64_t off, len;

	(void)state;
	assert_int_equal(snapmgr_workload_read_blkparse(ctx, SOURCE_DIR "/data/blkparse-sample.txt", 0, &w), 0);
	assert_int_equal(snapmgr_workload_get_source(w), SNAPMGR_WORKLOAD_BLKPARSE);
	/* Q writes only: 2048+8, 4096+128, 4224+128 and the other device. */
	assert_int_equal(snapmgr_workload_get_write_count(w), 4);
	assert_null(snapmgr_workload_get_note(w));
	assert_int_equal(snapmgr_workload_get_write(w, 0, &off, &len), 0);
	assert_int_equal(off, 2048 * 512);
	assert_int_equal(len, 4096);
	assert_int_equal(snapmgr_workload_get_write(w, 2, &off, &len), 0);
	assert_int_equal(off, 4224 * 512);
	assert_int_equal(len, 65536);
	assert_int_equal(snapmgr_workload_get_write(w, 4, &off, &len), -ENOENT);
	snapmgr_workload_unref(w);
}

static void test_fixture_device_filter(void **state)
{
	struct snapmgr_workload *w = NULL;
	uint64_t bytes, count;

	(void)state;
	assert_int_equal(snapmgr_workload_read_blkparse(ctx, SOURCE_DIR "/data/blkparse-sample.txt", (UINT64_C(8) << 32) | 16, &w), 0);
	assert_int_equal(snapmgr_workload_get_write_count(w), 1);
	assert_int_equal(snapmgr_workload_get_bytes(w), 4096);
	/* Offset 100 sectors = 51200 = 2^11 * 25: aligned to 2 KiB. */
	assert_int_equal(snapmgr_workload_get_alignment_bucket(w, 2, &bytes, &count), 0);
	assert_int_equal(bytes, 2048);
	assert_int_equal(count, 1);
	snapmgr_workload_unref(w);
}

static void test_completions_fallback(void **state)
{
	struct snapmgr_workload *w = NULL;
	char *path = write_temp(
		"  7,0    0        9     0.000300000     0  C   W 4096 + 256 [0]\n"
		"  7,0    0       10     0.000400000     0  C  WS 64 + 8 [0]\n"
		"  7,0    0       11     0.000500000     0  C   R 64 + 8 [0]\n");
	uint64_t len;

	(void)state;
	assert_int_equal(snapmgr_workload_read_blkparse(ctx, path, 0, &w), 0);
	assert_int_equal(snapmgr_workload_get_write_count(w), 2);
	assert_int_equal(snapmgr_workload_get_write(w, 0, NULL, &len), 0);
	assert_int_equal(len, 131072);
	assert_non_null(snapmgr_workload_get_note(w));
	snapmgr_workload_unref(w);
	unlink(path);
	free(path);
}

static void test_bad_traces(void **state)
{
	struct snapmgr_workload *w = (void *)0x1;
	char *bad = write_temp(
		"  7,0    0        1     0.000100000  1  Q   W 8 + 8 [a]\n"
		"  7,0    0        2     0.000200000  1  Q   W eight + 8 [a]\n");
	char *empty = write_temp("  7,0 0 1 0.1 1 Q R 8 + 8 [a]\nnothing here\n");

	(void)state;
	assert_int_equal(snapmgr_workload_read_blkparse(ctx, bad, 0, &w), -EINVAL);
	assert_ptr_equal(w, (void *)0x1);
	assert_non_null(strstr(snapmgr_get_error(ctx), "line 2"));
	assert_int_equal(snapmgr_workload_read_blkparse(ctx, empty, 0, &w), -ENODATA);
	assert_int_equal(snapmgr_workload_read_blkparse(ctx, "/nonexistent/trace", 0, &w), -ENOENT);
	assert_ptr_equal(w, (void *)0x1);
	unlink(bad);
	unlink(empty);
	free(bad);
	free(empty);
}

static void test_tracefs_lines(void **state)
{
	uint64_t s = 0, n = 0;

	(void)state;
	assert_int_equal(workload_parse_tracefs_line(
		"             fio-1234    [001] ..... 12.345678: block_bio_queue: 7,0 WS 2048 + 8 [fio]", &s, &n), 1);
	assert_int_equal(s, 2048);
	assert_int_equal(n, 8);
	assert_int_equal(workload_parse_tracefs_line(
		"  dd-1 [000] ..... 1.0: block_bio_queue: 7,0 R 2048 + 8 [dd]", &s, &n), 0);
	assert_int_equal(workload_parse_tracefs_line(
		"  kw-1 [000] ..... 1.0: block_bio_queue: 7,0 FWS 0 + 0 [kworker]", &s, &n), 0);
	assert_int_equal(workload_parse_tracefs_line("# tracer: nop", &s, &n), 0);
}

static void test_histograms(void **state)
{
	struct snapmgr_workload *w = NULL;
	uint64_t bytes, count;

	(void)state;
	assert_int_equal(snapmgr_workload_new(ctx, &w), 0);
	assert_int_equal(snapmgr_workload_add_write(w, 0, 0), -EINVAL);
	assert_int_equal(snapmgr_workload_add_write(w, UINT64_MAX, 2), -EINVAL);
	for (int i = 0; i < 10; i++)
		assert_int_equal(snapmgr_workload_add_write(w, (uint64_t)i * 65536 + 4096, 4096), 0);
	assert_int_equal(snapmgr_workload_add_write(w, 65536, 3000), 0);
	assert_int_equal(snapmgr_workload_add_write(w, 0, 8 << 20), 0);
	/* 4096 is bucket 3 (512 << 3); 3000 rounds up into it too. */
	assert_int_equal(snapmgr_workload_get_size_bucket(w, 3, &bytes, &count), 0);
	assert_int_equal(bytes, 4096);
	assert_int_equal(count, 11);
	/* 8 MiB lands in the last bucket (1 MiB and more). */
	assert_int_equal(snapmgr_workload_get_size_bucket(w, SNAPMGR_WORKLOAD_BUCKETS - 1, &bytes, &count), 0);
	assert_int_equal(bytes, 1 << 20);
	assert_int_equal(count, 1);
	assert_int_equal(snapmgr_workload_get_size_bucket(w, SNAPMGR_WORKLOAD_BUCKETS, &bytes, &count), -ENOENT);
	/* Alignment: 10 at 4 KiB, one at 64 KiB, offset 0 at the top. */
	assert_int_equal(snapmgr_workload_get_alignment_bucket(w, 3, &bytes, &count), 0);
	assert_int_equal(count, 10);
	assert_int_equal(snapmgr_workload_get_alignment_bucket(w, 7, &bytes, &count), 0);
	assert_int_equal(bytes, 65536);
	assert_int_equal(count, 1);
	assert_int_equal(snapmgr_workload_get_bytes(w), 10 * 4096 + 3000 + (8 << 20));
	snapmgr_workload_unref(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_queue_events),
		cmocka_unit_test(test_fixture_device_filter),
		cmocka_unit_test(test_completions_fallback),
		cmocka_unit_test(test_bad_traces),
		cmocka_unit_test(test_tracefs_lines),
		cmocka_unit_test(test_histograms),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
