/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The "rbd diff v1" writer and reader (lib/rbd-diff.c): a round trip, the
 * writer's ordering rules, and named corrupt streams, each of which must
 * give -EBADMSG with a message naming the problem and its byte.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rbd-diff.h"

struct buf {
	uint8_t *data;
	size_t len, cap, pos;
	size_t max_read; /* 0: any; else reads return at most this */
};

static int buf_write(void *userdata, const void *p, size_t len)
{
	struct buf *b = userdata;

	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->data = realloc(b->data, b->cap);
		assert_non_null(b->data);
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	return 0;
}

static ssize_t buf_read(void *userdata, void *p, size_t len)
{
	struct buf *b = userdata;
	size_t n = b->len - b->pos;

	if (n > len)
		n = len;
	if (b->max_read && n > b->max_read)
		n = b->max_read;
	memcpy(p, b->data + b->pos, n);
	b->pos += n;
	return (ssize_t)n;
}

/* A stream: from S1 to S2, 1 MiB image, data at 4096, zeros at 8192. */
static void make_stream(struct buf *b)
{
	struct rbd_diff_writer w;
	uint8_t data[100];

	memset(data, 0xab, sizeof(data));
	rbd_diff_writer_init(&w, buf_write, b);
	assert_int_equal(rbd_diff_write_header(&w, "S1", "S2", 1 << 20), 0);
	assert_int_equal(rbd_diff_write_data(&w, 4096, sizeof(data), data), 0);
	assert_int_equal(rbd_diff_write_zero(&w, 8192, 4096), 0);
	assert_int_equal(rbd_diff_write_end(&w), 0);
	assert_int_equal(w.pos, b->len);
}

/* Reads the whole stream; returns the first error, message in msg. */
static int read_all(struct buf *b, char *msg, size_t msg_len)
{
	struct rbd_diff_reader r;
	struct rbd_diff_record rec;
	uint8_t data[64];
	int k;

	b->pos = 0;
	rbd_diff_reader_init(&r, buf_read, b);
	k = rbd_diff_read_header(&r);
	while (k == 0) {
		k = rbd_diff_next(&r, &rec);
		if (k < 0 || rec.type == 'e')
			break;
		if (rec.type == 'w') {
			/* Part of the data only: next() must skip the rest. */
			size_t n = rec.length < sizeof(data) ? rec.length : sizeof(data);

			k = rbd_diff_read_data(&r, data, n);
		}
	}
	snprintf(msg, msg_len, "%s", r.error);
	rbd_diff_reader_done(&r);
	return k;
}

static void test_round_trip(void **state)
{
	struct buf b = {};
	struct rbd_diff_reader r;
	struct rbd_diff_record rec;
	uint8_t data[100];

	(void)state;
	make_stream(&b);
	/* 12 banner, 7+7 names, 9 size, 17+100 w, 17 z, 1 e */
	assert_int_equal(b.len, 12 + 7 + 7 + 9 + 117 + 17 + 1);
	assert_memory_equal(b.data, "rbd diff v1\n", 12);

	b.max_read = 3; /* short reads everywhere */
	rbd_diff_reader_init(&r, buf_read, &b);
	assert_int_equal(rbd_diff_read_header(&r), 0);
	assert_string_equal(r.from, "S1");
	assert_string_equal(r.to, "S2");
	assert_int_equal(r.size, 1 << 20);
	assert_int_equal(rbd_diff_next(&r, &rec), 0);
	assert_int_equal(rec.type, 'w');
	assert_int_equal(rec.offset, 4096);
	assert_int_equal(rec.length, 100);
	assert_int_equal(rec.stream_offset, 35);
	assert_int_equal(rbd_diff_read_data(&r, data, 100), 0);
	assert_int_equal(data[0], 0xab);
	assert_int_equal(data[99], 0xab);
	assert_int_equal(rbd_diff_next(&r, &rec), 0);
	assert_int_equal(rec.type, 'z');
	assert_int_equal(rec.offset, 8192);
	assert_int_equal(rec.length, 4096);
	assert_int_equal(rbd_diff_next(&r, &rec), 0);
	assert_int_equal(rec.type, 'e');
	rbd_diff_reader_done(&r);
	free(b.data);
}

static void test_no_names(void **state)
{
	struct buf b = {};
	struct rbd_diff_writer w;
	char msg[256];

	(void)state;
	rbd_diff_writer_init(&w, buf_write, &b);
	assert_int_equal(rbd_diff_write_header(&w, NULL, NULL, 512), 0);
	assert_int_equal(rbd_diff_write_end(&w), 0);
	assert_int_equal(b.len, 12 + 9 + 1);
	assert_int_equal(read_all(&b, msg, sizeof(msg)), 0);
	free(b.data);
}

static void test_writer_order(void **state)
{
	struct buf b = {};
	struct rbd_diff_writer w;
	uint8_t d[8] = {};

	(void)state;
	rbd_diff_writer_init(&w, buf_write, &b);
	assert_int_equal(rbd_diff_write_data(&w, 0, 8, d), -EINVAL); /* no header */
	assert_int_equal(rbd_diff_write_header(&w, NULL, "S", 4096), 0);
	assert_int_equal(rbd_diff_write_data(&w, 100, 8, d), 0);
	assert_int_equal(rbd_diff_write_data(&w, 104, 8, d), -EINVAL); /* overlap */
	assert_int_equal(rbd_diff_write_zero(&w, 50, 8), -EINVAL);     /* backwards */
	assert_int_equal(rbd_diff_write_zero(&w, 108, 0), -EINVAL);    /* empty */
	assert_int_equal(rbd_diff_write_zero(&w, 4000, 97), -EINVAL);  /* past size */
	assert_int_equal(rbd_diff_write_zero(&w, 4000, 96), 0);
	assert_int_equal(rbd_diff_write_end(&w), 0);
	assert_int_equal(rbd_diff_write_end(&w), -EINVAL);
	free(b.data);
}

static void expect_corrupt(struct buf *b, const char *needle)
{
	char msg[256];

	assert_int_equal(read_all(b, msg, sizeof(msg)), -EBADMSG);
	if (!strstr(msg, needle))
		fail_msg("message '%s' lacks '%s'", msg, needle);
}

static void test_bad_magic(void **state)
{
	struct buf b = {};

	(void)state;
	make_stream(&b);
	b.data[9] = '2'; /* "rbd diff v2\n": not ours */
	expect_corrupt(&b, "bad magic");
	free(b.data);
}

static void test_record_past_size(void **state)
{
	struct buf b = {};

	(void)state;
	make_stream(&b);
	/* The 'z' record at 152: offset 8192 -> 1 MiB - 4095. */
	assert_int_equal(b.data[152], 'z');
	b.data[153] = 0x01;
	b.data[154] = 0xf0;
	b.data[155] = 0x0f;
	expect_corrupt(&b, "past the image size 1048576");
	expect_corrupt(&b, "at byte 152");
	free(b.data);
}

static void test_offset_overflow(void **state)
{
	struct buf b = {};

	(void)state;
	make_stream(&b);
	memset(b.data + 153, 0xff, 8); /* offset + length wraps */
	expect_corrupt(&b, "past the image size");
	free(b.data);
}

static void test_truncated_w(void **state)
{
	struct buf b = {};

	(void)state;
	make_stream(&b);
	b.len = 35 + 17 + 40; /* in the middle of the 'w' record's data */
	expect_corrupt(&b, "truncated 'w' record");
	expect_corrupt(&b, "60 bytes short");
	b.len = 35 + 10; /* in its offset/length */
	expect_corrupt(&b, "truncated 'w' record at byte 35");
	free(b.data);
}

static void test_unknown_tag(void **state)
{
	struct buf b = {};

	(void)state;
	make_stream(&b);
	b.data[152] = 'q';
	expect_corrupt(&b, "unknown record tag 0x71 at byte 152");
	/* And among the metadata records. */
	b.data[152] = 'z';
	b.data[26] = 'x';
	expect_corrupt(&b, "unknown record tag 0x78 at byte 26");
	free(b.data);
}

static void test_no_end(void **state)
{
	struct buf b = {};

	(void)state;
	make_stream(&b);
	b.len--;
	expect_corrupt(&b, "no 'e' record");
	free(b.data);
}

static void test_no_size(void **state)
{
	struct buf b = {};
	static const uint8_t s[] = "rbd diff v1\ne";

	(void)state;
	buf_write(&b, s, sizeof(s) - 1);
	expect_corrupt(&b, "no 's' (size) record");
	free(b.data);
}

static void test_bad_names(void **state)
{
	struct buf b = {};
	static const uint8_t huge[] = "rbd diff v1\nf\xff\xff\xff\xff";
	static const uint8_t nul[] = "rbd diff v1\nt\x02\x00\x00\x00" "a\0";

	(void)state;
	buf_write(&b, huge, sizeof(huge) - 1);
	expect_corrupt(&b, "a snapshot name of 4294967295 bytes");
	b.len = 0;
	buf_write(&b, nul, sizeof(nul) - 1);
	expect_corrupt(&b, "NUL byte");
	free(b.data);
}

static void test_metadata_after_data(void **state)
{
	struct buf b = {};

	(void)state;
	make_stream(&b);
	b.data[152] = 's';
	expect_corrupt(&b, "'s' record at byte 152 after the data records");
	free(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_no_names),
		cmocka_unit_test(test_writer_order),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_record_past_size),
		cmocka_unit_test(test_offset_overflow),
		cmocka_unit_test(test_truncated_w),
		cmocka_unit_test(test_unknown_tag),
		cmocka_unit_test(test_no_end),
		cmocka_unit_test(test_no_size),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_metadata_after_data),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
