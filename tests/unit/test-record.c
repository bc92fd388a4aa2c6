/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Stack records (lib/record.c): what the previous release wrote still loads,
 * a save and a load give back the same record, and every kind of damage is
 * refused with one line naming the file and what is wrong.
 */
#include <json-c/json.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "record.h"

static char state[256];

static int setup(void **ctxp)
{
	struct snapmgr_ctx *ctx = NULL;

	snprintf(state, sizeof(state), "/tmp/test-record.XXXXXX");
	if (!mkdtemp(state))
		return -1;
	setenv("SNAPMGR_STATE_DIR", state, 1);
	if (snapmgr_new(&ctx) < 0)
		return -1;
	*ctxp = ctx;
	return 0;
}

static int teardown(void **ctxp)
{
	char cmd[300];

	snapmgr_unref(*ctxp);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", state);
	return system(cmd);
}

static void write_record(const char *origin, const char *text)
{
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/origins", state);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/origins/%s.json", state, origin);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	fclose(f);
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = calloc(1, 65536);

	assert_non_null(f);
	assert_non_null(text);
	assert_true(fread(text, 1, 65535, f) > 0);
	fclose(f);
	return text;
}

/* The fixture is what 0.1.0 wrote (file-backed, device-backed, merging). */
static void test_loads_previous_release(void **ctxp)
{
	struct snapmgr_ctx *ctx = *ctxp;
	_cleanup_record_ struct origin_record *rec = NULL;
	_cleanup_free_ char *text = read_file(SOURCE_DIR "/data/record-0.1.0.json");
	struct snap_entry *e;

	write_record("data", text);
	assert_int_equal(record_load(ctx, "data", &rec), 0);
	assert_string_equal(rec->name, "data");
	assert_string_equal(rec->devnum, "7:3");
	assert_int_equal(rec->sectors, 32768);
	assert_false(rec->unwrapped);
	assert_int_equal(rec->n_snapshots, 3);

	e = record_find_snapshot(rec, "s1");
	assert_non_null(e);
	assert_int_equal(e->state, SNAP_ACTIVE);
	assert_string_equal(e->cow_file, "/var/lib/snapmgr/s1.cow");
	assert_int_equal(e->cow_size, 8388608);
	assert_true(e->cow_file_created);
	assert_false(e->has_merge_usage);

	e = record_find_snapshot(rec, "s2");
	assert_int_equal(e->state, SNAP_MERGING);
	assert_null(e->cow_file);
	assert_true(e->has_merge_usage);
	assert_int_equal(e->merge_start_used, 1040);
	assert_int_equal(e->merge_metadata, 16);
	assert_ptr_equal(record_merging(rec), e);

	e = record_find_snapshot(rec, "s3");
	assert_int_equal(e->state, SNAP_CREATING);
	assert_null(e->cow_device); /* null on disk: not attached yet */
	assert_null(record_find_snapshot(rec, "s4"));
}

/*
 * Saving what was loaded writes the same document the previous release
 * wrote (compared as JSON, key by key), so it can still read ours.
 */
static void test_save_is_compatible(void **ctxp)
{
	struct snapmgr_ctx *ctx = *ctxp;
	_cleanup_record_ struct origin_record *rec = NULL;
	_cleanup_free_ char *text = read_file(SOURCE_DIR "/data/record-0.1.0.json");
	_cleanup_free_ char *saved = NULL;
	char path[400];
	json_object *a, *b;

	write_record("data", text);
	assert_int_equal(record_load(ctx, "data", &rec), 0);
	assert_int_equal(record_save(ctx, rec), 0);
	snprintf(path, sizeof(path), "%s/origins/data.json", state);
	saved = read_file(path);
	a = json_tokener_parse(text);
	b = json_tokener_parse(saved);
	assert_non_null(b);
	assert_true(json_object_equal(a, b));
	json_object_put(a);
	json_object_put(b);
}

/* Built in memory, saved, loaded: the same fields come back. */
static void test_round_trip(void **ctxp)
{
	struct snapmgr_ctx *ctx = *ctxp;
	_cleanup_record_ struct origin_record *rec = NULL, *back = NULL;
	_cleanup_free_ char *t1 = NULL, *t2 = NULL;
	struct snap_entry *e;

	assert_int_equal(origin_record_new("o1", "aa", "/dev/sdb", "8:16", 2048, &rec), 0);
	assert_int_equal(record_add_snapshot(rec, &e), 0);
	assert_int_equal(set_string(&e->name, "a"), 0);
	assert_int_equal(set_string(&e->id, "11"), 0);
	assert_int_equal(set_string(&e->cow_device, "/dev/sdc"), 0);
	e->state = SNAP_MERGE_FAILED;
	e->chunk_size = 8192;
	e->has_merge_usage = true;
	e->merge_start_used = 100;
	e->merge_metadata = 2;
	assert_int_equal(set_string(&e->merge_error, "the kernel stopped"), 0);
	assert_int_equal(record_add_snapshot(rec, &e), 0);
	assert_int_equal(set_string(&e->name, "b"), 0);
	assert_int_equal(set_string(&e->id, "22"), 0);
	assert_int_equal(set_string(&e->cow_file, "/srv/b.cow"), 0);
	e->state = SNAP_MERGE_PENDING;
	e->chunk_size = 4096;
	e->cow_size = 1 << 20;
	e->cow_file_created = false;

	assert_int_equal(record_save(ctx, rec), 0);
	assert_int_equal(record_load(ctx, "o1", &back), 0);
	assert_int_equal(record_format(rec, &t1), 0);
	assert_int_equal(record_format(back, &t2), 0);
	assert_string_equal(t1, t2);
	e = record_find_snapshot(back, "a");
	assert_int_equal(e->state, SNAP_MERGE_FAILED);
	assert_string_equal(e->merge_error, "the kernel stopped");
	e = record_find_snapshot(back, "b");
	assert_int_equal(e->state, SNAP_MERGE_PENDING);
	assert_false(e->cow_file_created);

	/* Removing an entry keeps the others; unwrapped survives a save. */
	record_remove_snapshot(back, record_find_snapshot(back, "a"));
	assert_int_equal(back->n_snapshots, 1);
	assert_string_equal(back->snapshots[0].name, "b");
	back->unwrapped = true;
	assert_int_equal(record_save(ctx, back), 0);
	origin_record_free(rec);
	assert_int_equal(record_load(ctx, "o1", &rec), 0);
	assert_true(rec->unwrapped);
	assert_int_equal(rec->n_snapshots, 1);
}

static void test_no_record(void **ctxp)
{
	struct snapmgr_ctx *ctx = *ctxp;
	struct origin_record *rec = NULL;

	snapmgr_clear_error(ctx);
	assert_int_equal(record_load(ctx, "nothing-here", &rec), -ENOENT);
	assert_null(rec);
	assert_null(snapmgr_get_error(ctx));
}

static void test_state_strings(void **ctxp)
{
	enum snap_state s;

	(void)ctxp;
	for (int i = 0; i < _SNAP_STATE_MAX; i++) {
		assert_non_null(snap_state_to_string((enum snap_state)i));
		assert_int_equal(snap_state_from_string(snap_state_to_string((enum snap_state)i), &s), 0);
		assert_int_equal(s, i);
	}
	assert_null(snap_state_to_string(_SNAP_STATE_MAX));
	assert_int_equal(snap_state_from_string("frozen", &s), -EINVAL);
	assert_int_equal(snap_state_from_string(NULL, &s), -EINVAL);
}

#define GOOD_ENTRY \
	"{\"name\":\"s1\",\"id\":\"ab\",\"state\":\"active\",\"chunk_size\":4096,\"cow_device\":\"/dev/sdc\"}"
#define GOOD_TRACKING \
	"{\"id\":\"ef\",\"state\":\"active\",\"block_size\":65536,\"metadata_device\":\"/dev/sdd\"}"
#define HEAD "\"name\":\"o\",\"id\":\"cd\",\"device\":\"/dev/sdb\",\"devnum\":\"8:16\",\"sectors\":2048"

static const struct {
	const char *what, *text, *message;
} bad_records[] = {
	{ "unknown version", "{\"version\":4," HEAD ",\"snapshots\":[]}",
	  "unknown version 4 (this snapmgr reads versions 1 to 3)" },
	{ "version 0", "{\"version\":0," HEAD ",\"snapshots\":[]}",
	  "unknown version 0 (this snapmgr reads versions 1 to 3)" },
	{ "set in a version 1 record", "{\"version\":1," HEAD ",\"snapshots\":[{\"name\":\"s1\",\"id\":\"ab\",\"state\":\"active\",\"chunk_size\":4096,\"cow_device\":\"/dev/sdc\",\"set\":\"x\"}]}",
	  "snapshot s1: \"set\" needs record version 2" },
	{ "set not a string", "{\"version\":2," HEAD ",\"snapshots\":[{\"name\":\"s1\",\"id\":\"ab\",\"state\":\"active\",\"chunk_size\":4096,\"cow_device\":\"/dev/sdc\",\"set\":3}]}",
	  "snapshot s1: \"set\" is not a string" },
	{ "set_wrapped_origin without a set", "{\"version\":2," HEAD ",\"snapshots\":[{\"name\":\"s1\",\"id\":\"ab\",\"state\":\"active\",\"chunk_size\":4096,\"cow_device\":\"/dev/sdc\",\"set_wrapped_origin\":true}]}",
	  "snapshot s1: \"set_wrapped_origin\" without \"set\"" },
	{ "version missing", "{" HEAD ",\"snapshots\":[]}", "missing key \"version\"" },
	{ "version a string", "{\"version\":\"1\"," HEAD ",\"snapshots\":[]}",
	  "\"version\" is not an integer" },
	{ "truncated", "{\"version\":1," HEAD ",\"snapshots\":[" GOOD_ENTRY,
	  "truncated (the JSON ends early)" },
	{ "empty file", "", "truncated (the JSON ends early)" },
	{ "not JSON", "version=1\n", "not valid JSON (" },
	{ "trailing text", "{\"version\":1," HEAD ",\"snapshots\":[]} x", "text after the end of the record" },
	{ "not an object", "[1]", "not a JSON object" },
	{ "missing key", "{\"version\":1,\"name\":\"o\",\"id\":\"cd\",\"device\":\"/dev/sdb\",\"devnum\":\"8:16\",\"snapshots\":[]}",
	  "missing key \"sectors\"" },
	{ "wrong type", "{\"version\":1,\"name\":\"o\",\"id\":\"cd\",\"device\":\"/dev/sdb\",\"devnum\":\"8:16\",\"sectors\":\"2048\",\"snapshots\":[]}",
	  "\"sectors\" is not an integer" },
	{ "negative size", "{\"version\":1,\"name\":\"o\",\"id\":\"cd\",\"device\":\"/dev/sdb\",\"devnum\":\"8:16\",\"sectors\":-1,\"snapshots\":[]}",
	  "\"sectors\" is negative (-1)" },
	{ "snapshots not an array", "{\"version\":1," HEAD ",\"snapshots\":{}}", "\"snapshots\" is not an array" },
	{ "unwrapped not a boolean", "{\"version\":1," HEAD ",\"unwrapped\":1,\"snapshots\":[]}",
	  "\"unwrapped\" is not true or false" },
	{ "record of another origin", "{\"version\":1,\"name\":\"p\",\"id\":\"cd\",\"device\":\"/dev/sdb\",\"devnum\":\"8:16\",\"sectors\":2048,\"snapshots\":[]}",
	  "it is the record of \"p\"" },
	{ "unknown state", "{\"version\":1," HEAD ",\"snapshots\":[{\"name\":\"s1\",\"id\":\"ab\",\"state\":\"frozen\",\"chunk_size\":4096,\"cow_device\":\"/dev/sdc\"}]}",
	  "snapshot s1: unknown state \"frozen\"" },
	{ "entry without a name", "{\"version\":1," HEAD ",\"snapshots\":[" GOOD_ENTRY ",{\"id\":\"ab\"}]}",
	  "snapshot 2: missing key \"name\"" },
	{ "entry not an object", "{\"version\":1," HEAD ",\"snapshots\":[3]}", "snapshot 1: not an object" },
	{ "entry state a number", "{\"version\":1," HEAD ",\"snapshots\":[{\"name\":\"s1\",\"id\":\"ab\",\"state\":1,\"chunk_size\":4096,\"cow_device\":\"/dev/sdc\"}]}",
	  "snapshot s1: \"state\" is not a string" },
	{ "entry without a COW", "{\"version\":1," HEAD ",\"snapshots\":[{\"name\":\"s1\",\"id\":\"ab\",\"state\":\"active\",\"chunk_size\":4096}]}",
	  "snapshot s1: neither \"cow_device\" nor \"cow_file\"" },
	{ "COW file without its size", "{\"version\":1," HEAD ",\"snapshots\":[{\"name\":\"s1\",\"id\":\"ab\",\"state\":\"active\",\"chunk_size\":4096,\"cow_file\":\"/x\"}]}",
	  "snapshot s1: missing key \"cow_size\"" },
	{ "odd chunk size", "{\"version\":1," HEAD ",\"snapshots\":[{\"name\":\"s1\",\"id\":\"ab\",\"state\":\"active\",\"chunk_size\":1000,\"cow_device\":\"/dev/sdc\"}]}",
	  "snapshot s1: chunk_size 1000 is not a whole number of sectors" },
	{ "merge usage half there", "{\"version\":1," HEAD ",\"snapshots\":[{\"name\":\"s1\",\"id\":\"ab\",\"state\":\"merging\",\"chunk_size\":4096,\"cow_device\":\"/dev/sdc\",\"merge_start_used\":9}]}",
	  "snapshot s1: missing key \"merge_metadata\"" },
	{ "a snapshot twice", "{\"version\":1," HEAD ",\"snapshots\":[" GOOD_ENTRY "," GOOD_ENTRY "]}",
	  "snapshot \"s1\" is listed twice" },
	{ "empty name", "{\"version\":1," HEAD ",\"snapshots\":[{\"name\":\"\",\"id\":\"ab\"}]}",
	  "snapshot 1: \"name\" is empty" },
	{ "tracking in a version 2 record", "{\"version\":2," HEAD ",\"snapshots\":[],\"tracking\":" GOOD_TRACKING "}",
	  "\"tracking\" needs record version 3" },
	{ "a token in a version 2 record", "{\"version\":2," HEAD ",\"snapshots\":[{\"name\":\"s1\",\"id\":\"ab\",\"state\":\"active\",\"chunk_size\":4096,\"cow_device\":\"/dev/sdc\",\"change_token\":\"era1:x:1\"}]}",
	  "snapshot s1: \"change_token\" needs record version 3" },
	{ "tracking in an unknown state", "{\"version\":3," HEAD ",\"snapshots\":[],\"tracking\":{\"id\":\"ef\",\"state\":\"resting\",\"block_size\":65536,\"metadata_device\":\"/dev/sdd\"}}",
	  "tracking: unknown state \"resting\"" },
	{ "tracking block size not 4 KiB units", "{\"version\":3," HEAD ",\"snapshots\":[],\"tracking\":{\"id\":\"ef\",\"state\":\"active\",\"block_size\":6000,\"metadata_device\":\"/dev/sdd\"}}",
	  "tracking: block_size 6000 is not a multiple of 4096" },
	{ "tracking without metadata", "{\"version\":3," HEAD ",\"snapshots\":[],\"tracking\":{\"id\":\"ef\",\"state\":\"active\",\"block_size\":65536}}",
	  "tracking: neither \"metadata_device\" nor \"metadata_file\"" },
	{ "tracking metadata file without its size", "{\"version\":3," HEAD ",\"snapshots\":[],\"tracking\":{\"id\":\"ef\",\"state\":\"active\",\"block_size\":65536,\"metadata_file\":\"/m\"}}",
	  "tracking: missing key \"metadata_size\"" },
};

/* Each damage: -EBADMSG, "record PATH: REASON", one line, nothing loaded. */
static void test_malformed(void **ctxp)
{
	struct snapmgr_ctx *ctx = *ctxp;

	for (size_t i = 0; i < ELEMENTSOF(bad_records); i++) {
		struct origin_record *rec = NULL;
		char want[512];
		const char *msg;

		write_record("o", bad_records[i].text);
		snapmgr_clear_error(ctx);
		print_message("# %s\n", bad_records[i].what);
		assert_int_equal(record_load(ctx, "o", &rec), -EBADMSG);
		assert_null(rec);
		msg = snapmgr_get_error(ctx);
		assert_non_null(msg);
		snprintf(want, sizeof(want), "record %s/origins/o.json: %s", state,
			 bad_records[i].message);
		if (strncmp(msg, want, strlen(want)) != 0)
			fail_msg("%s: got [%s], want [%s]", bad_records[i].what, msg, want);
		assert_null(strchr(msg, '\n'));
	}
	/* The good entry on its own is fine: the cases above fail for their reason. */
	write_record("o", "{\"version\":1," HEAD ",\"snapshots\":[" GOOD_ENTRY "]}");
	{
		_cleanup_record_ struct origin_record *rec = NULL;

		assert_int_equal(record_load(ctx, "o", &rec), 0);
		assert_int_equal(rec->n_snapshots, 1);
	}
}

/*
 * Set membership (version 2): written only when an entry has a set, so a
 * record without sets keeps version 1; a set survives a save and a load.
 */
static void test_set_version(void **ctxp)
{
	struct snapmgr_ctx *ctx = *ctxp;
	_cleanup_record_ struct origin_record *rec = NULL, *back = NULL;
	_cleanup_free_ char *v1 = NULL, *v2 = NULL;
	struct snap_entry *e;

	assert_int_equal(origin_record_new("o", "cd", "/dev/sdb", "8:16", 2048, &rec), 0);
	assert_int_equal(record_add_snapshot(rec, &e), 0);
	assert_int_equal(set_string(&e->name, "s1"), 0);
	assert_int_equal(set_string(&e->id, "ab"), 0);
	assert_int_equal(set_string(&e->cow_device, "/dev/sdc"), 0);
	e->chunk_size = 4096;
	assert_int_equal(record_format(rec, &v1), 0);
	assert_non_null(strstr(v1, "\"version\":1"));
	assert_null(strstr(v1, "\"set\""));

	assert_int_equal(set_string(&e->set, "daily"), 0);
	e->set_wrapped_origin = true;
	assert_int_equal(record_format(rec, &v2), 0);
	assert_non_null(strstr(v2, "\"version\":2"));
	assert_int_equal(record_parse(ctx, "x", "o", v2, strlen(v2), &back), 0);
	assert_string_equal(back->snapshots[0].set, "daily");
	assert_true(back->snapshots[0].set_wrapped_origin);
}

/*
 * Change tracking (version 3): written only when the origin is tracked or
 * an entry has a token; both survive a save and a load; untracked again
 * (no tracking, no token), the record goes back to the lowest version.
 */
static void test_tracking_version(void **ctxp)
{
	struct snapmgr_ctx *ctx = *ctxp;
	_cleanup_record_ struct origin_record *rec = NULL, *back = NULL;
	_cleanup_free_ char *v3 = NULL, *v1 = NULL;
	struct track_record *t;
	struct snap_entry *e;

	assert_int_equal(origin_record_new("o", "cd", "/dev/sdb", "8:16", 2048, &rec), 0);
	assert_int_equal(record_add_snapshot(rec, &e), 0);
	assert_int_equal(set_string(&e->name, "s1"), 0);
	assert_int_equal(set_string(&e->id, "ab"), 0);
	assert_int_equal(set_string(&e->cow_device, "/dev/sdc"), 0);
	e->chunk_size = 4096;
	assert_int_equal(set_string(&e->change_token, "era1:0123456789abcdef0123456789abcdef:7"), 0);
	t = rec->tracking = calloc(1, sizeof(*t));
	assert_non_null(t);
	assert_int_equal(set_string(&t->id, "0123456789abcdef0123456789abcdef"), 0);
	t->state = TRACK_STOPPING;
	t->block_size = 65536;
	assert_int_equal(set_string(&t->metadata_file, "/var/lib/m"), 0);
	assert_int_equal(set_string(&t->metadata_device, "/dev/loop3"), 0);
	t->metadata_size = 4 << 20;
	t->metadata_file_created = true;
	assert_int_equal(record_format(rec, &v3), 0);
	assert_non_null(strstr(v3, "\"version\":3"));
	assert_int_equal(record_parse(ctx, "x", "o", v3, strlen(v3), &back), 0);
	assert_non_null(back->tracking);
	assert_int_equal(back->tracking->state, TRACK_STOPPING);
	assert_int_equal(back->tracking->block_size, 65536);
	assert_int_equal(back->tracking->metadata_size, 4 << 20);
	assert_true(back->tracking->metadata_file_created);
	assert_string_equal(back->tracking->metadata_file, "/var/lib/m");
	assert_string_equal(back->tracking->metadata_device, "/dev/loop3");
	assert_string_equal(back->snapshots[0].change_token, e->change_token);

	track_record_free(rec->tracking);
	rec->tracking = NULL;
	free(e->change_token);
	e->change_token = NULL;
	assert_int_equal(record_format(rec, &v1), 0);
	assert_non_null(strstr(v1, "\"version\":1"));
	assert_null(strstr(v1, "tracking"));
	assert_null(strstr(v1, "change_token"));
}

static void test_track_state_strings(void **ctxp)
{
	enum track_state s;

	for (unsigned i = 0; i < _TRACK_STATE_MAX; i++) {
		assert_non_null(track_state_to_string((enum track_state)i));
		assert_int_equal(track_state_from_string(track_state_to_string((enum track_state)i), &s), 0);
		assert_int_equal(s, i);
	}
	assert_int_equal(track_state_from_string("tracking", &s), -EINVAL);
	assert_null(track_state_to_string(_TRACK_STATE_MAX));
}

/* A damaged record of one origin does not hide another's snapshots. */
static void test_find_origin_skips_damaged(void **ctxp)
{
	struct snapmgr_ctx *ctx = *ctxp;
	_cleanup_free_ char *origin = NULL;

	assert_int_equal(record_delete(ctx, "data"), 0);
	write_record("bad", "{");
	write_record("o", "{\"version\":1," HEAD ",\"snapshots\":[" GOOD_ENTRY "]}");
	assert_int_equal(record_find_origin_of(ctx, "s1", &origin), 0);
	assert_string_equal(origin, "o");
	assert_int_equal(record_find_origin_of(ctx, "s9", &origin), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loads_previous_release),
		cmocka_unit_test(test_save_is_compatible),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_no_record),
		cmocka_unit_test(test_state_strings),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_set_version),
		cmocka_unit_test(test_tracking_version),
		cmocka_unit_test(test_track_state_strings),
		cmocka_unit_test(test_find_origin_skips_damaged),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
