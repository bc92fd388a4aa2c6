/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Retention (lib/prune.c): which snapshots a policy removes (a pure
 * function), the duration parser, the record keys it relies on (old
 * records still load, as made by hand), and snapmgr_prune() end to end
 * against the fake kernel: a snapshot made by hand is never removed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "fake.h"
#include "prune-private.h"
#include "record.h"

#define NOW 1000000

static void test_keep_newest(void **state)
{
	/* Out of order on purpose: the selection sorts by time. */
	const struct prune_item items[] = {
		{ "d-3", NOW - 30, "d", true },
		{ "d-1", NOW - 50, "d", true },
		{ "hand", NOW - 90, NULL, true },
		{ "d-4", NOW - 20, "d", true },
		{ "d-2", NOW - 40, "d", true },
		{ "d-5", NOW - 10, "d", true },
	};
	bool rm[6];

	assert_int_equal(prune_select(items, 6, NULL, true, 3, 0, NOW, rm), 2);
	assert_true(rm[0] == false && rm[1] == true && rm[2] == false);
	assert_true(rm[3] == false && rm[4] == true && rm[5] == false);
	/* keep 0 removes every scheduled one, never the hand-made one. */
	assert_int_equal(prune_select(items, 6, NULL, true, 0, 0, NOW, rm), 5);
	assert_false(rm[2]);
	/* keep more than there are: nothing goes. */
	assert_int_equal(prune_select(items, 6, NULL, true, 9, 0, NOW, rm), 0);
}

static void test_older_than(void **state)
{
	const struct prune_item items[] = {
		{ "a", NOW - 100, "d", true },
		{ "b", NOW - 60, "d", true },
		{ "c", NOW - 59, "d", true },
		{ "old-unknown", 0, "d", true }, /* no time: never by age */
	};
	bool rm[4];

	assert_int_equal(prune_select(items, 4, NULL, false, 0, 60, NOW, rm), 2);
	assert_true(rm[0] && rm[1] && !rm[2] && !rm[3]);
	/* Both: beyond the newest one AND older than 60 s. */
	assert_int_equal(prune_select(items, 4, NULL, true, 1, 60, NOW, rm), 2);
	assert_true(rm[0] && rm[1] && !rm[2]);
	/* A clock that went back: a snapshot "from the future" stays. */
	assert_int_equal(prune_select(items, 4, NULL, false, 0, 60, NOW - 200, rm), 0);
}

static void test_only_settled_and_schedule(void **state)
{
	const struct prune_item items[] = {
		{ "x-1", NOW - 50, "x", true },
		{ "y-1", NOW - 45, "y", true },
		{ "x-2", NOW - 40, "x", false }, /* being created or merged */
		{ "x-3", NOW - 30, "x", true },
		{ "x-4", NOW - 20, "x", true },
	};
	bool rm[5];

	/* Only schedule x's, unsettled ones neither counted nor removed. */
	assert_int_equal(prune_select(items, 5, "x", true, 2, 0, NOW, rm), 1);
	assert_true(rm[0] && !rm[1] && !rm[2] && !rm[3] && !rm[4]);
	/* Any schedule: y-1 counts too. */
	assert_int_equal(prune_select(items, 5, NULL, true, 2, 0, NOW, rm), 2);
	assert_true(rm[0] && rm[1] && !rm[2]);
}

static void test_same_second_by_name(void **state)
{
	const struct prune_item items[] = {
		{ "s-20261201T100002", NOW, "s", true },
		{ "s-20261201T100000", NOW, "s", true },
		{ "s-20261201T100001", NOW, "s", true },
	};
	bool rm[3];

	assert_int_equal(prune_select(items, 3, NULL, true, 1, 0, NOW, rm), 2);
	assert_true(!rm[0] && rm[1] && rm[2]);
	assert_int_equal(prune_select(NULL, 0, NULL, true, 1, 0, NOW, rm), 0);
}

static void test_duration(void **state)
{
	uint64_t s = 0;

	assert_int_equal(snapmgr_parse_duration("90", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(snapmgr_parse_duration("10s", &s), 0);
	assert_int_equal(s, 10);
	assert_int_equal(snapmgr_parse_duration("5min", &s), 0);
	assert_int_equal(s, 300);
	assert_int_equal(snapmgr_parse_duration("1h", &s), 0);
	assert_int_equal(s, 3600);
	assert_int_equal(snapmgr_parse_duration("2d", &s), 0);
	assert_int_equal(s, 172800);
	assert_int_equal(snapmgr_parse_duration("1w", &s), 0);
	assert_int_equal(s, 604800);
	s = 7;
	assert_int_equal(snapmgr_parse_duration("", &s), -EINVAL);
	assert_int_equal(snapmgr_parse_duration("-1", &s), -EINVAL);
	assert_int_equal(snapmgr_parse_duration(" 1", &s), -EINVAL);
	assert_int_equal(snapmgr_parse_duration("1.5h", &s), -EINVAL);
	assert_int_equal(snapmgr_parse_duration("5m", &s), -EINVAL);
	assert_int_equal(snapmgr_parse_duration("1 h", &s), -EINVAL);
	assert_int_equal(snapmgr_parse_duration("99999999999999999999", &s), -ERANGE);
	assert_int_equal(snapmgr_parse_duration("9999999999999999w", &s), -ERANGE);
	assert_int_equal(s, 7); /* untouched on failure */
}

/* --- the record keys */

static const char old_record[] =
	"{ \"version\": 1, \"name\": \"o\", \"id\": \"i\", \"device\": \"/dev/x\","
	" \"devnum\": \"8:16\", \"sectors\": 2048, \"snapshots\": ["
	" { \"name\": \"s\", \"id\": \"j\", \"state\": \"active\", \"chunk_size\": 4096,"
	"   \"cow_device\": \"/dev/y\" } ] }";

static void test_record_keys(void **state)
{
	struct snapmgr_ctx *ctx = NULL;
	struct origin_record *rec = NULL, *back = NULL;
	char *text = NULL;

	assert_int_equal(snapmgr_new(&ctx), 0);
	/* A record from before the keys: created 0, made by hand. */
	assert_int_equal(record_parse(ctx, "old", "o", old_record,
				      strlen(old_record), &rec), 0);
	assert_int_equal(rec->snapshots[0].created, 0);
	assert_null(rec->snapshots[0].schedule);
	/* And written back, it stays without them. */
	assert_int_equal(record_format(rec, &text), 0);
	assert_null(strstr(text, "\"schedule\""));
	assert_null(strstr(text, "\"created\""));
	free(text);

	rec->snapshots[0].created = 1764583200;
	assert_int_equal(set_string(&rec->snapshots[0].schedule, "daily"), 0);
	assert_int_equal(record_format(rec, &text), 0);
	assert_int_equal(record_parse(ctx, "new", "o", text, strlen(text), &back), 0);
	assert_int_equal(back->snapshots[0].created, 1764583200);
	assert_string_equal(back->snapshots[0].schedule, "daily");
	free(text);
	origin_record_free(back);
	back = NULL;

	/* Wrong types are refused like every other key. */
	{
		static const char bad[] =
			"{ \"version\": 1, \"name\": \"o\", \"id\": \"i\", \"device\": \"/dev/x\","
			" \"devnum\": \"8:16\", \"sectors\": 2048, \"snapshots\": ["
			" { \"name\": \"s\", \"id\": \"j\", \"state\": \"active\", \"chunk_size\": 4096,"
			"   \"cow_device\": \"/dev/y\", \"schedule\": 3 } ] }";

		assert_int_equal(record_parse(ctx, "bad", "o", bad, strlen(bad), &back),
				 -EBADMSG);
		assert_non_null(strstr(snapmgr_get_error(ctx), "\"schedule\" is not a string"));
	}
	origin_record_free(rec);
	snapmgr_unref(ctx);
}

/* --- end to end, against the fake kernel */

static char top[128];

static int create(struct snapmgr_ctx *ctx, const char *snap, const char *schedule)
{
	char cow[256];
	struct snapmgr_create_opts o = SNAPMGR_OPTS(struct snapmgr_create_opts,
		.snapshot = snap,
		.origin = strcmp(snap, "first") == 0 ? "/fake/disk" : "o",
		.origin_name = strcmp(snap, "first") == 0 ? "o" : NULL,
		.cow_file = cow,
		.cow_size = 1 << 20,
		.chunk_size = 4096,
	);

	snprintf(cow, sizeof(cow), "%s/%s.cow", top, snap);
	return schedule ? snapmgr_create_scheduled(ctx, &o, schedule) :
			  snapmgr_create(ctx, &o);
}

static void test_prune_end_to_end(void **state)
{
	struct snapmgr_ctx *ctx = NULL;
	char **names = NULL, dir[200];
	struct snapmgr_prune_opts o = SNAPMGR_OPTS(struct snapmgr_prune_opts, .origin = "o", .has_keep = true, .keep = 2);

	snprintf(top, sizeof(top), "/dev/shm/test-prune.XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(dir, sizeof(dir), "%s/state", top);
	setenv("SNAPMGR_STATE_DIR", dir, 1);
	snprintf(dir, sizeof(dir), "%s/run", top);
	setenv("SNAPMGR_RUN_DIR", dir, 1);
	fake_reset();
	assert_int_equal(fake_add_disk("/fake/disk", makedev(8, 16), 64 << 20), 0);
	assert_int_equal(snapmgr_new(&ctx), 0);

	/* Made by hand, first and named like a schedule's: never pruned. */
	assert_int_equal(create(ctx, "first", NULL), 0);
	assert_int_equal(create(ctx, "h-20000101T000000", NULL), 0);
	assert_int_equal(create(ctx, "h-20261201T100000", "h"), 0);
	assert_int_equal(create(ctx, "h-20261201T100010", "h"), 0);
	assert_int_equal(create(ctx, "h-20261201T100020", "h"), 0);
	assert_int_equal(create(ctx, "h-20261201T100030", "h"), 0);

	o.dry_run = true;
	assert_int_equal(snapmgr_prune(ctx, &o, &names), 0);
	assert_string_equal(names[0], "h-20261201T100000");
	assert_string_equal(names[1], "h-20261201T100010");
	assert_null(names[2]);
	strv_free(names);
	assert_non_null(fake_dm_find("h-20261201T100000")); /* dry run */

	o.dry_run = false;
	assert_int_equal(snapmgr_prune(ctx, &o, &names), 0);
	assert_null(names[2]);
	strv_free(names);
	assert_null(fake_dm_find("h-20261201T100000"));
	assert_null(fake_dm_find("h-20261201T100010"));
	assert_non_null(fake_dm_find("h-20261201T100020"));
	assert_non_null(fake_dm_find("h-20261201T100030"));
	assert_non_null(fake_dm_find("first"));
	assert_non_null(fake_dm_find("h-20000101T000000"));

	/* keep 0: every scheduled one, still none by hand. */
	o.keep = 0;
	assert_int_equal(snapmgr_prune(ctx, &o, NULL), 0);
	assert_null(fake_dm_find("h-20261201T100030"));
	assert_non_null(fake_dm_find("first"));
	assert_non_null(fake_dm_find("h-20000101T000000"));

	/* Refusals, with their reason. */
	o.origin = "nope";
	assert_int_equal(snapmgr_prune(ctx, &o, NULL), -ENOENT);
	assert_string_equal(snapmgr_get_error(ctx), "no such origin");
	o.origin = "o";
	o.has_keep = false;
	assert_int_equal(snapmgr_prune(ctx, &o, NULL), -EINVAL);
	assert_non_null(strstr(snapmgr_get_error(ctx), "to keep"));
	snapmgr_unref(ctx);
	{
		char cmd[200];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
		assert_int_equal(system(cmd), 0);
	}
}

/* --- sets a schedule made: pruned whole */

/* The first set wraps the fake disks as origins o and p, the next use them. */
static int create_set(struct snapmgr_ctx *ctx, const char *set, const char *schedule)
{
	static bool wrapped;
	char cow1[256], cow2[256];
	struct snapmgr_set_member m[2] = {
		{ .size = sizeof(struct snapmgr_set_member), .origin = wrapped ? "o" : "/fake/disk", .origin_name = wrapped ? NULL : "o",
		  .cow_file = cow1, .cow_size = 1 << 20, .chunk_size = 4096 },
		{ .size = sizeof(struct snapmgr_set_member), .origin = wrapped ? "p" : "/fake/disk2", .origin_name = wrapped ? NULL : "p",
		  .cow_file = cow2, .cow_size = 1 << 20, .chunk_size = 4096 },
	};
	struct snapmgr_set_opts o = SNAPMGR_OPTS(struct snapmgr_set_opts, .name = set, .n_members = 2, .members = m);

	snprintf(cow1, sizeof(cow1), "%s/%s-o.cow", top, set);
	snprintf(cow2, sizeof(cow2), "%s/%s-p.cow", top, set);
	wrapped = true;
	return schedule ? snapmgr_set_create_scheduled(ctx, &o, schedule) :
			  snapmgr_set_create(ctx, &o);
}

static void test_prune_sets_end_to_end(void **state)
{
	struct snapmgr_ctx *ctx = NULL;
	char **names = NULL, dir[200], cmd[200];
	struct snapmgr_prune_opts o = SNAPMGR_OPTS(struct snapmgr_prune_opts, .schedule = "s", .has_keep = true, .keep = 1);

	snprintf(top, sizeof(top), "/dev/shm/test-prune-sets.XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(dir, sizeof(dir), "%s/state", top);
	setenv("SNAPMGR_STATE_DIR", dir, 1);
	snprintf(dir, sizeof(dir), "%s/run", top);
	setenv("SNAPMGR_RUN_DIR", dir, 1);
	fake_reset();
	assert_int_equal(fake_add_disk("/fake/disk", makedev(8, 16), 64 << 20), 0);
	assert_int_equal(fake_add_disk("/fake/disk2", makedev(8, 32), 64 << 20), 0);
	assert_int_equal(snapmgr_new(&ctx), 0);

	/* By hand, named like the schedule's: never pruned. */
	assert_int_equal(create_set(ctx, "s-20000101T000000", NULL), 0);
	assert_int_equal(create_set(ctx, "s-20261201T100000", "s"), 0);
	assert_int_equal(create_set(ctx, "s-20261201T100010", "s"), 0);
	assert_int_equal(create_set(ctx, "s-20261201T100020", "s"), 0);
	/* The daemon's naming: SCHEDULE-TIMESTAMP-ORIGIN for each member. */
	assert_non_null(fake_dm_find("s-20261201T100000-o"));
	assert_non_null(fake_dm_find("s-20261201T100000-p"));

	/* Per origin, a set's member is never pruned: sets stay whole. */
	{
		struct snapmgr_prune_opts po = SNAPMGR_OPTS(struct snapmgr_prune_opts, .origin = "o", .has_keep = true, .keep = 0);

		assert_int_equal(snapmgr_prune(ctx, &po, &names), 0);
		assert_null(names[0]);
		strv_free(names);
		assert_non_null(fake_dm_find("s-20261201T100000-o"));
	}

	o.dry_run = true;
	assert_int_equal(snapmgr_prune_sets(ctx, &o, &names), 0);
	assert_string_equal(names[0], "s-20261201T100000");
	assert_string_equal(names[1], "s-20261201T100010");
	assert_null(names[2]);
	strv_free(names);
	assert_non_null(fake_dm_find("s-20261201T100000-p"));

	o.dry_run = false;
	assert_int_equal(snapmgr_prune_sets(ctx, &o, &names), 0);
	assert_null(names[2]);
	strv_free(names);
	assert_null(fake_dm_find("s-20261201T100000-o"));
	assert_null(fake_dm_find("s-20261201T100000-p"));
	assert_null(fake_dm_find("s-20261201T100010-o"));
	assert_null(fake_dm_find("s-20261201T100010-p"));
	assert_non_null(fake_dm_find("s-20261201T100020-o"));
	assert_non_null(fake_dm_find("s-20261201T100020-p"));
	assert_non_null(fake_dm_find("s-20000101T000000-o"));
	assert_non_null(fake_dm_find("s-20000101T000000-p"));

	/* A schedule that made no set (snapctl prune NAME falls back to an
	 * origin on this): nothing pruned, and it says so. */
	o.schedule = "other";
	o.keep = 0;
	names = NULL;
	assert_int_equal(snapmgr_prune_sets(ctx, &o, &names), -ENOENT);
	assert_null(names);
	assert_string_equal(snapmgr_get_error(ctx), "no snapshot set made by schedule other");
	assert_non_null(fake_dm_find("s-20261201T100020-o"));

	/* Refusals. */
	o.schedule = NULL;
	assert_int_equal(snapmgr_prune_sets(ctx, &o, NULL), -EINVAL);
	o.schedule = "s";
	o.has_keep = false;
	assert_int_equal(snapmgr_prune_sets(ctx, &o, NULL), -EINVAL);
	assert_non_null(strstr(snapmgr_get_error(ctx), "to keep"));
	assert_int_equal(create_set(ctx, "s-x", ""), -EINVAL);
	snapmgr_unref(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	assert_int_equal(system(cmd), 0);
}

/* --- [schedule:NAME] in snapmgrd.conf */

static int load_conf(const char *text, struct snapmgr_config **ret, char **msg)
{
	char dir[] = "/tmp/test-prune-conf.XXXXXX", path[64], cmd[96];
	struct snapmgr_ctx *ctx = NULL;
	FILE *f;
	int r;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/snapmgrd.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(snapmgr_new(&ctx), 0);
	*msg = NULL;
	r = snapmgr_config_load(ctx, dir, ret, msg);
	snapmgr_unref(ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return r;
}

static void test_schedule_config(void **state)
{
	struct snapmgr_config *c = NULL;
	const struct snapmgr_schedule *s;
	unsigned int keep = 0;
	char *msg = NULL;

	assert_int_equal(load_conf("[schedule:often]\norigin = o\ncow_dir = /var/cows\n"
				   "cow_size = 64M\ninterval = 10s\nkeep = 3\n"
				   "pre_hook = /bin/false\n"
				   "[schedule:daily]\norigin = p\ncow_dir = /c\ncow_size = 1G\n"
				   "interval = 1d\nkeep_for = 7d\n", &c, &msg), 0);
	assert_int_equal(snapmgr_config_get_schedule_count(c), 2);
	s = snapmgr_config_get_schedule(c, 0);
	assert_string_equal(snapmgr_schedule_get_name(s), "often");
	assert_string_equal(snapmgr_schedule_get_origin(s), "o");
	assert_string_equal(snapmgr_schedule_get_cow_dir(s), "/var/cows");
	assert_int_equal(snapmgr_schedule_get_cow_size(s), 64 << 20);
	assert_int_equal(snapmgr_schedule_get_interval(s), 10);
	assert_int_equal(snapmgr_schedule_get_keep(s, &keep), 0);
	assert_int_equal(keep, 3);
	assert_int_equal(snapmgr_schedule_get_keep_for(s), 0);
	assert_string_equal(snapmgr_schedule_get_pre_hook(s), "/bin/false");
	assert_null(snapmgr_schedule_get_post_hook(s));
	s = snapmgr_config_get_schedule(c, 1);
	assert_int_equal(snapmgr_schedule_get_interval(s), 86400);
	assert_int_equal(snapmgr_schedule_get_keep(s, &keep), -ENODATA);
	assert_int_equal(snapmgr_schedule_get_keep_for(s), 7 * 86400);
	assert_null(snapmgr_config_get_schedule(c, 2));
	assert_null(snapmgr_schedule_get_origins(s));
	snapmgr_config_unref(c);

	/* A set schedule: origins, blank-separated, in their order. */
	assert_int_equal(load_conf("[schedule:both]\norigins = db\t /dev/sdb  log\n"
				   "cow_dir = /c\ncow_size = 1G\ninterval = 1h\nkeep = 2\n",
				   &c, &msg), 0);
	s = snapmgr_config_get_schedule(c, 0);
	assert_null(snapmgr_schedule_get_origin(s));
	assert_non_null(snapmgr_schedule_get_origins(s));
	assert_string_equal(snapmgr_schedule_get_origins(s)[0], "db");
	assert_string_equal(snapmgr_schedule_get_origins(s)[1], "/dev/sdb");
	assert_string_equal(snapmgr_schedule_get_origins(s)[2], "log");
	assert_null(snapmgr_schedule_get_origins(s)[3]);
	snapmgr_config_unref(c);
	assert_int_equal(load_conf("[schedule:x]\norigins = a\n", &c, &msg), -EINVAL);
	assert_non_null(strstr(msg, ":2: origins: 'a' is not two or more origins"));
	free(msg);
	assert_int_equal(load_conf("[schedule:x]\norigins = a b a\n", &c, &msg), -EINVAL);
	assert_non_null(strstr(msg, "origins: 'a' is named twice"));
	free(msg);
	assert_int_equal(load_conf("[schedule:x]\norigin = a\norigins = a b\ncow_dir = /c\n"
				   "cow_size = 1M\ninterval = 10s\nkeep = 1\n", &c, &msg), -EINVAL);
	assert_non_null(strstr(msg, "[schedule:x] has both origin and origins"));
	free(msg);
	assert_int_equal(load_conf("[schedule:x]\ncow_dir = /c\ncow_size = 1M\n"
				   "interval = 10s\nkeep = 1\n", &c, &msg), -EINVAL);
	assert_non_null(strstr(msg, "[schedule:x] has no origin or origins"));
	free(msg);

	/* Refusals name the line (or the section) and the reason. */
	assert_int_equal(load_conf("[schedule:x]\norigin = o\ncow_dir = /c\ncow_size = 1M\n"
				   "interval = 10s\n", &c, &msg), -EINVAL);
	assert_non_null(strstr(msg, "snapmgrd.conf:1: [schedule:x] has no keep or keep_for"));
	free(msg);
	assert_int_equal(load_conf("[schedule:x]\ninterval = 5m\n", &c, &msg), -EINVAL);
	assert_non_null(strstr(msg, ":2: interval: '5m' is not a duration"));
	free(msg);
	assert_int_equal(load_conf("[schedule:x]\ncow_dir = rel\n", &c, &msg), -EINVAL);
	assert_non_null(strstr(msg, "cow_dir: 'rel' is not an absolute path"));
	free(msg);
	assert_int_equal(load_conf("[schedule:a/b]\n", &c, &msg), -EINVAL);
	assert_non_null(strstr(msg, "schedule name 'a/b' is not"));
	free(msg);
	assert_int_equal(load_conf("[schedule:x]\nkeep = 0\n", &c, &msg), -EINVAL);
	assert_non_null(strstr(msg, "keep: '0' is not a number of snapshots"));
	free(msg);
	assert_int_equal(load_conf("[schedule:x]\nwhen = now\n", &c, &msg), -EINVAL);
	assert_non_null(strstr(msg, "unknown key 'when' in [schedule:x]"));
	free(msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keep_newest),
		cmocka_unit_test(test_older_than),
		cmocka_unit_test(test_only_settled_and_schedule),
		cmocka_unit_test(test_same_second_by_name),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_record_keys),
		cmocka_unit_test(test_prune_end_to_end),
		cmocka_unit_test(test_prune_sets_end_to_end),
		cmocka_unit_test(test_schedule_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
