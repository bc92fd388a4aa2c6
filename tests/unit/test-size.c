/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* snapmgr_parse_size(): bytes, K/M/G/T and KiB..TiB, overflow, garbage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "libsnapmgr-private.h"

static void assert_size(const char *s, uint64_t expected)
{
	uint64_t v = 12345;

	if (snapmgr_parse_size(s, &v) != 0)
		fail_msg("'%s' was refused", s);
	if (v != expected)
		fail_msg("'%s' gave %llu, expected %llu", s,
			 (unsigned long long)v, (unsigned long long)expected);
}

static void assert_refused(const char *s, int expected)
{
	uint64_t v = 12345;
	int r = snapmgr_parse_size(s, &v);

	if (r != expected)
		fail_msg("'%s' gave %d, expected %d", s, r, expected);
	assert_int_equal(v, 12345); /* untouched on failure */
}

static void test_plain_bytes(void **state)
{
	(void)state;
	assert_size("0", 0);
	assert_size("1", 1);
	assert_size("512", 512);
	assert_size("007", 7);
	assert_size("18446744073709551615", UINT64_MAX);
}

static void test_suffixes(void **state)
{
	(void)state;
	assert_size("1K", 1024);
	assert_size("1k", 1024);
	assert_size("4KiB", 4096);
	assert_size("64M", 64ULL << 20);
	assert_size("64MiB", 64ULL << 20);
	assert_size("16m", 16ULL << 20);
	assert_size("2G", 2ULL << 30);
	assert_size("2GiB", 2ULL << 30);
	assert_size("3T", 3ULL << 40);
	assert_size("3TiB", 3ULL << 40);
	assert_size("0G", 0);
	assert_size("16777215T", 16777215ULL << 40);
}

static void test_garbage(void **state)
{
	(void)state;
	assert_refused("", -EINVAL);
	assert_refused("K", -EINVAL);
	assert_refused("-1", -EINVAL);
	assert_refused("+1", -EINVAL);
	assert_refused(" 1", -EINVAL);
	assert_refused("1 ", -EINVAL);
	assert_refused("1.5G", -EINVAL);
	assert_refused("0x10", -EINVAL);
	assert_refused("1KB", -EINVAL);
	assert_refused("1Kib", -EINVAL);
	assert_refused("1KiBx", -EINVAL);
	assert_refused("1P", -EINVAL);
	assert_refused("1B", -EINVAL);
	assert_refused("12abc", -EINVAL);
	assert_int_equal(snapmgr_parse_size(NULL, NULL), -EINVAL);
}

static void test_overflow(void **state)
{
	(void)state;
	assert_refused("18446744073709551616", -ERANGE);
	assert_refused("99999999999999999999999", -ERANGE);
	assert_refused("16777216T", -ERANGE);
	assert_refused("17179869184G", -ERANGE);
	assert_size("17179869183G", 17179869183ULL << 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_bytes),
		cmocka_unit_test(test_suffixes),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_overflow),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
