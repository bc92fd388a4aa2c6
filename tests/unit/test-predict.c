/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapmgrd's pure parts: the fill-rate predictor, the choice of the next
 * look, and the status socket's request parser.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lvm2-name.h"
#include "predict.h"
#include "protocol.h"

#define MiB (1024.0 * 1024.0)

static void test_steady_rate(void **state)
{
	struct predictor p;

	(void)state;
	predictor_reset(&p);
	assert_true(isinf(predict_seconds_until(&p, 0, 100)));
	/* 20 MiB/s sampled every 50 ms: the first difference is the rate. */
	for (int i = 0; i <= 20; i++)
		predictor_add(&p, 10.0 + i * 0.05, (uint64_t)(i * 0.05 * 20 * MiB));
	assert_true(fabs(p.rate - 20 * MiB) < 0.01 * MiB);
	/* 64 MiB COW, 20 MiB used: 2.2 s to full. */
	assert_true(fabs(predict_seconds_until(&p, 20 * MiB, 64 * MiB) - 2.2) < 0.01);
	assert_true(predict_seconds_until(&p, 64 * MiB, 64 * MiB) == 0.0);
}

static void test_rate_change_and_reset(void **state)
{
	struct predictor p;
	uint64_t used = 0;
	double t = 0;

	(void)state;
	predictor_reset(&p);
	predictor_add(&p, t, used);
	for (int i = 0; i < 20; i++) /* 1 MiB/s for 10 s */
		predictor_add(&p, t += 0.5, used += MiB / 2);
	assert_true(fabs(p.rate - MiB) < 0.01 * MiB);
	for (int i = 0; i < 8; i++) /* then 50 MiB/s for 2 s */
		predictor_add(&p, t += 0.25, used += (uint64_t)(12.5 * MiB));
	/* Within one time constant, most of the way; the peak at once. */
	assert_true(p.rate > 30 * MiB && p.rate < 50 * MiB);
	assert_true(fabs(p.peak - 50 * MiB) < 0.01 * MiB);
	/* Stopped writing: the rate decays. */
	for (int i = 0; i < 20; i++)
		predictor_add(&p, t += 1.0, used);
	assert_true(p.rate < 0.01 * MiB);
	/* A GiB left lasts for days at what remains of the rate. */
	assert_true(predict_seconds_until(&p, used, used + 1024 * MiB) > 86400);
	/* Usage dropped (a new snapshot, a merge): start afresh. */
	predictor_add(&p, t += 1.0, 0);
	assert_int_equal(p.samples, 1);
	assert_true(p.rate == 0.0);
	/* Samples closer than 1 ms are ignored, not divided by. */
	predictor_add(&p, t + 1e-6, 1000);
	assert_int_equal(p.samples, 1);
}

static void test_crossing_time(void **state)
{
	(void)state;
	assert_true(fabs(predict_crossing_time(1.0, 0, 2.0, 100, 70) - 1.7) < 1e-9);
	/* Cannot tell: the later time. */
	assert_true(predict_crossing_time(1.0, 80, 2.0, 100, 70) == 2.0);
	assert_true(predict_crossing_time(1.0, 100, 2.0, 100, 70) == 2.0);
}

static void test_interval(void **state)
{
	struct interval_params ip = {
		.used = 0, .next_mark = (uint64_t)(700 * MiB),
		.rate = 0, .peak = 0, .burst_rate = 32 * MiB,
		.min_interval = 0.05, .max_interval = 30,
	};

	(void)state;
	/* Idle: half the time a burst would take to reach the mark. */
	assert_true(fabs(choose_interval(&ip) - 700.0 / 32 / 2) < 1e-6);
	/* Big and idle: capped at poll_interval_max. */
	ip.next_mark = (uint64_t)(70000 * MiB);
	assert_true(choose_interval(&ip) == 30);
	/* A fast writer near the mark: the floor. */
	ip.used = (uint64_t)(699 * MiB);
	ip.next_mark = (uint64_t)(700 * MiB);
	ip.rate = 100 * MiB;
	assert_true(choose_interval(&ip) == 0.05);
	/* Past the mark: the floor too. */
	ip.used = ip.next_mark + 1;
	assert_true(choose_interval(&ip) == 0.05);
	/* The intervals shrink as the mark nears: the crossing is seen late
	 * by at most min_interval at the assumed rate. */
	ip.rate = 20 * MiB;
	ip.burst_rate = 0;
	for (double used = 0; used < 700; used += 10) {
		double i;

		ip.used = (uint64_t)(used * MiB);
		i = choose_interval(&ip);
		assert_true(i <= fmax(0.05, (700 - used) / 20 / 2) + 1e-9);
	}
}

static void assert_bad(const char *line, const char *why)
{
	struct request r;
	const char *err = NULL;

	if (request_parse(line, strlen(line), &r, &err) != -EINVAL)
		fail_msg("'%s' was accepted", line);
	assert_non_null(err);
	if (why && !strstr(err, why))
		fail_msg("'%s': error '%s', expected '%s'", line, err, why);
}

static int parse(const char *line, struct request *r, const char **err)
{
	return request_parse(line, strlen(line), r, err);
}

static void test_requests(void **state)
{
	struct request r;
	const char *err = NULL;
	char *big;

	(void)state;
	assert_int_equal(parse("{\"method\":\"status\"}", &r, &err), 0);
	assert_int_equal(r.method, REQUEST_STATUS);
	assert_null(r.snapshot);
	assert_int_equal(parse("{\"method\":\"status\",\"snapshot\":\"s1\"}", &r, &err), 0);
	assert_string_equal(r.snapshot, "s1");
	request_done(&r);
	assert_int_equal(parse(" {\"method\" : \"list\", \"extra\": 1} ", &r, &err), 0);
	assert_int_equal(r.method, REQUEST_LIST);
	assert_int_equal(parse("{\"method\":\"subscribe\"}", &r, &err), 0);
	assert_int_equal(r.method, REQUEST_SUBSCRIBE);

	assert_bad("", "empty");
	assert_bad("{", "JSON");
	assert_bad("{\"method\":\"status\"} trailing", "JSON");
	assert_bad("{\"method\":\"status\"}{}", "JSON");
	assert_bad("[1,2]", "JSON object");
	assert_bad("\"status\"", "JSON object");
	assert_bad("{}", "method");
	assert_bad("{\"method\":7}", "method");
	assert_bad("{\"method\":\"reboot\"}", "unknown");
	assert_bad("{\"method\":\"list\",\"snapshot\":\"s1\"}", "snapshot");
	assert_bad("{\"method\":\"status\",\"snapshot\":[]}", "snapshot");
	assert_bad("{\"method\":{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{}}}}}}}}}", NULL);
	assert_bad("\xff\xfe", NULL);
	assert_bad("{\"method\":\"list\\u0000\"}", "unknown");
	assert_bad("{\"method\":\"status\",\"snapshot\":\"a\\u0000b\"}", "NUL");
	assert_int_equal(request_parse("{\"method\":\"list\"}\0x", 19, &r, &err), -EINVAL);
	big = malloc(REQUEST_MAX + 2);
	assert_non_null(big);
	memset(big, ' ', REQUEST_MAX + 1);
	big[REQUEST_MAX + 1] = '\0';
	assert_bad(big, "too long");
	free(big);
}

static void expect_lv(const char *dm_name, const char *want)
{
	char *got = NULL;

	assert_int_equal(lvm2_name(dm_name, &got), 0);
	assert_string_equal(got, want);
	free(got);
}

static void test_lvm2_name(void **state)
{
	char *got = NULL;

	expect_lv("vg-lv", "vg/lv");
	expect_lv("my--vg-my--lv", "my-vg/my-lv");
	expect_lv("vg-lv--", "vg/lv-");
	expect_lv("a--b--c-snap", "a-b-c/snap");
	/* Layers and things that are not VG-LV. */
	assert_int_equal(lvm2_name("vg-lv-cow", &got), -EINVAL);
	assert_int_equal(lvm2_name("vg-lv-real", &got), -EINVAL);
	assert_int_equal(lvm2_name("vglv", &got), -EINVAL);
	assert_int_equal(lvm2_name("-lv", &got), -EINVAL);
	assert_int_equal(lvm2_name("vg-", &got), -EINVAL);
	assert_int_equal(lvm2_name("", &got), -EINVAL);
	assert_null(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steady_rate),
		cmocka_unit_test(test_rate_change_and_reset),
		cmocka_unit_test(test_crossing_time),
		cmocka_unit_test(test_interval),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_lvm2_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
