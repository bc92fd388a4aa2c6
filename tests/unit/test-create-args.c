/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapmgr_create()'s argument checks, made before it touches a device or
 * the lock. A bad origin name once formatted the context's error message
 * into itself (an overlapping vsnprintf, undefined behaviour, and a garbled
 * message with glibc); the message must come out whole, also under
 * tests/run-all --sanitize.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libsnapmgr-private.h"

static void expect_refusal(const char *origin_name, int want_r, const char *want)
{
	struct snapmgr_ctx *ctx = NULL;
	struct snapmgr_create_opts o = SNAPMGR_OPTS(struct snapmgr_create_opts,
		.snapshot = "s1",
		.origin = "/nonexistent/disk",
		.origin_name = origin_name,
		.cow_file = "/nonexistent/s1.cow",
		.cow_size = 1 << 20,
		.chunk_size = 4096,
	);

	assert_int_equal(snapmgr_new(&ctx), 0);
	assert_int_equal(snapmgr_create(ctx, &o), want_r);
	assert_non_null(snapmgr_get_error(ctx));
	assert_string_equal(snapmgr_get_error(ctx), want);
	snapmgr_unref(ctx);
}

static void test_origin_name_empty(void **state)
{
	(void)state;
	expect_refusal("", -EINVAL, "origin name is empty");
}

static void test_origin_name_bad_char(void **state)
{
	(void)state;
	expect_refusal("a b", -EINVAL,
		       "origin name may only contain letters, digits and '+_.-' (found ' ')");
}

static void test_origin_name_too_long(void **state)
{
	char name[SNAPMGR_NAME_MAX + 2];
	char want[128];

	(void)state;
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	snprintf(want, sizeof(want), "origin name is %d bytes long, the limit is %d",
		 SNAPMGR_NAME_MAX + 1, SNAPMGR_NAME_MAX);
	expect_refusal(name, -ENAMETOOLONG, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_origin_name_empty),
		cmocka_unit_test(test_origin_name_bad_char),
		cmocka_unit_test(test_origin_name_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
