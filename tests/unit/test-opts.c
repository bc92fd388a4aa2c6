/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Option structs that carry their size (SNAPMGR_OPTS, lib/opts.c): what a
 * program built against an older or a newer libsnapmgr gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "libsnapmgr-private.h"

/* An older libsnapmgr's struct: the fields up to cow_size only. */
struct old_create_opts {
	size_t size;
	const char *snapshot, *origin, *origin_name, *cow_device, *cow_file;
	uint64_t cow_size;
};

static void test_older_caller(void **unused)
{
	struct snapmgr_ctx *ctx = NULL;
	struct old_create_opts old = { .size = sizeof(old), .snapshot = "s", .cow_size = 42 };
	struct snapmgr_create_opts ours;
	/* What the caller's memory holds past its struct must never be read. */
	unsigned char *buf = malloc(sizeof(ours) + 64);

	(void)unused;
	assert_non_null(buf);
	memset(buf, 0xff, sizeof(ours) + 64);
	memcpy(buf, &old, sizeof(old));
	assert_int_equal(snapmgr_new(&ctx), 0);
	memset(&ours, 0xaa, sizeof(ours));
	assert_int_equal(opts_take(ctx, &ours, sizeof(ours), buf, "snapmgr_create_opts"), 0);
	assert_int_equal(ours.size, sizeof(ours));
	assert_string_equal(ours.snapshot, "s");
	assert_int_equal(ours.cow_size, 42);
	assert_int_equal(ours.chunk_size, 0); /* not in the old struct: zero */
	assert_false(ours.force);
	free(buf);
	snapmgr_unref(ctx);
}

static void test_newer_caller(void **unused)
{
	struct snapmgr_ctx *ctx = NULL;
	struct {
		struct snapmgr_create_opts known;
		uint64_t new_field;
	} newer;
	struct snapmgr_create_opts ours;

	(void)unused;
	assert_int_equal(snapmgr_new(&ctx), 0);
	memset(&newer, 0, sizeof(newer));
	newer.known.size = sizeof(newer);
	newer.known.snapshot = "s";
	/* Its new field unset: taken, as if it were ours. */
	assert_int_equal(opts_take(ctx, &ours, sizeof(ours), &newer, "snapmgr_create_opts"), 0);
	assert_string_equal(ours.snapshot, "s");
	assert_int_equal(ours.size, sizeof(ours));
	/* Set: refused, naming the struct. */
	newer.new_field = 1;
	assert_int_equal(opts_take(ctx, &ours, sizeof(ours), &newer, "snapmgr_create_opts"), -EOPNOTSUPP);
	assert_non_null(strstr(snapmgr_get_error(ctx),
			       "struct snapmgr_create_opts sets fields this libsnapmgr"));
	snapmgr_unref(ctx);
}

static void test_not_initialised(void **unused)
{
	struct snapmgr_ctx *ctx = NULL;
	struct snapmgr_create_opts zero = { .snapshot = "s", .origin = "/dev/x" };
	struct snapmgr_set_member m = { .origin = "/dev/x", .cow_device = "/dev/y" };
	struct snapmgr_set_opts so = SNAPMGR_OPTS(struct snapmgr_set_opts, .name = "set",
						  .n_members = 1, .members = &m);

	(void)unused;
	assert_int_equal(snapmgr_new(&ctx), 0);
	/* Refused before anything is looked at, with the fix in the message. */
	assert_int_equal(snapmgr_create(ctx, &zero), -EINVAL);
	assert_string_equal(snapmgr_get_error(ctx),
			    "struct snapmgr_create_opts has size 0: set it up with SNAPMGR_OPTS()");
	assert_int_equal(snapmgr_set_create(ctx, &so), -EINVAL);
	assert_string_equal(snapmgr_get_error(ctx),
			    "struct snapmgr_set_member has size 0: set it up with SNAPMGR_OPTS()");
	snapmgr_unref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_older_caller),
		cmocka_unit_test(test_newer_caller),
		cmocka_unit_test(test_not_initialised),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
