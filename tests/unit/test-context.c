/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The library context: reference counting and log routing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "libsnapmgr-private.h"

static char last_message[256];
static int last_priority = -1;

_printf_(6, 0) static void capture_log(void *data, int priority, const char *file,
			int line, const char *fn, const char *format,
			va_list args)
{
	(void)file;
	(void)line;
	(void)fn;
	(*(int *)data)++;
	last_priority = priority;
	vsnprintf(last_message, sizeof(last_message), format, args);
}

static void test_new_rejects_null(void **state)
{
	(void)state;
	assert_int_equal(snapmgr_new(NULL), -EINVAL);
}

static void test_ref_unref(void **state)
{
	struct snapmgr_ctx *ctx = NULL;

	(void)state;
	assert_int_equal(snapmgr_new(&ctx), 0);
	assert_non_null(ctx);
	assert_ptr_equal(snapmgr_ref(ctx), ctx);
	assert_null(snapmgr_unref(ctx)); /* one reference left */
	assert_null(snapmgr_unref(ctx));
	assert_null(snapmgr_unref(NULL));
	assert_null(snapmgr_ref(NULL));
}

static void test_log_filtered_by_priority(void **state)
{
	struct snapmgr_ctx *ctx = NULL;
	int calls = 0;

	(void)state;
	assert_int_equal(snapmgr_new(&ctx), 0);
	/* Without a log function nothing is delivered and nothing crashes. */
	log_err(ctx, "dropped %d", 1);

	snapmgr_set_log_fn(ctx, capture_log, &calls);
	assert_int_equal(snapmgr_get_log_priority(ctx), LOG_ERR);
	log_info(ctx, "too chatty");
	assert_int_equal(calls, 0);
	log_err(ctx, "disk %s failed", "vdb");
	assert_int_equal(calls, 1);
	assert_int_equal(last_priority, LOG_ERR);
	assert_string_equal(last_message, "disk vdb failed");

	snapmgr_set_log_priority(ctx, LOG_DEBUG);
	log_debug(ctx, "now %s", "visible");
	assert_int_equal(calls, 2);
	assert_string_equal(last_message, "now visible");
	snapmgr_unref(ctx);
}

static void test_version(void **state)
{
	(void)state;
	assert_string_equal(snapmgr_version(), PROJECT_VERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_rejects_null),
		cmocka_unit_test(test_ref_unref),
		cmocka_unit_test(test_log_filtered_by_priority),
		cmocka_unit_test(test_version),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
