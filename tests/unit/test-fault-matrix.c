/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fault-point matrix of create, remove, merge (start and finalisation)
 * and activate, on the host, against the fake kernel of lib/fake.h.
 *
 * For each scenario: a clean run from the same starting point gives the
 * reference state. Then, for every N until the operation no longer reaches
 * it, in three ways:
 *   fail     the Nth state-changing step fails (SNAPMGR_FAKE_FAIL_AT=N)
 *   crash    the process stops right after the Nth step took effect
 *            (SNAPMGR_FAKE_CRASH_AFTER=N)
 *   point    the process stops at the Nth fault point of the operation
 *            (SNAPMGR_DEBUG_CRASH_AT=OP:N, the VM tests' mechanism, which
 *            also covers steps the fake does not see: records, COW files)
 * the operation runs in a forked child (its death leaves the fake's tables,
 * the records and the files as a killed snapctl would), then runs again
 * without a fault: that must succeed, and leave exactly the reference
 * state (dm devices and tables, nothing suspended, loop devices, COW
 * files, records). One scenario takes the other way out of a half-made
 * snapshot, `snapctl remove`, which must leave no trace of it.
 *
 * Change tracking (lib/track.c) too: track and untrack, create of a
 * tracked origin (its token), create --track, remove --release and
 * activate of a tracked origin, against the fake's era target.
 *
 * Snapshot sets (lib/set.c) run the same matrix: create (raw disks, and a
 * managed origin with a raw disk), create undone by remove SET, remove
 * and merge of a set; then the hooks (a failing pre-hook leaves the host
 * exactly as it was, a failing post-hook leaves the set) and the names.
 */
#include <dirent.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "blockdev.h"
#include "fake.h"
#include "record.h"

#define DISK "/fake/disk"
#define COWDISK "/fake/cow"
#define DISK2 "/fake/disk2"
#define MAX_N 60

static char top[128], state_dir_path[160], run_dir[160], cows[160];
static unsigned total_cases;

/* --- operations, each as one snapctl invocation would run it */

static int create_file(struct snapmgr_ctx *ctx, const char *snap, const char *origin)
{
	char cow[256];
	struct snapmgr_create_opts o = SNAPMGR_OPTS(struct snapmgr_create_opts,
		.snapshot = snap,
		.origin = origin,
		.origin_name = strchr(origin, '/') ? "o" : NULL,
		.cow_file = cow,
		.cow_size = 8 << 20,
		.chunk_size = 4096,
	);

	snprintf(cow, sizeof(cow), "%s/%s.cow", cows, snap);
	return snapmgr_create(ctx, &o);
}

static int create_device(struct snapmgr_ctx *ctx, const char *snap)
{
	struct snapmgr_create_opts o = SNAPMGR_OPTS(struct snapmgr_create_opts,
		.snapshot = snap,
		.origin = "o",
		.cow_device = COWDISK,
		.chunk_size = 8192,
	);

	return snapmgr_create(ctx, &o);
}

static int merge_start(struct snapmgr_ctx *ctx, const char *snap)
{
	bool deferred = false;

	return snapmgr_merge_start(ctx, snap, &deferred);
}

/*
 * A snapshot set "set1" of the origin named origin (a path: wrapped as
 * "o") and of DISK2 (wrapped as "p"), both COWs files; with hooks that
 * succeed, so that a hook's fork is part of every fault case.
 */
static int set_create_hooks_t(struct snapmgr_ctx *ctx, const char *origin,
			      const char *pre, const char *post, unsigned timeout);
static int set_create_hooks(struct snapmgr_ctx *ctx, const char *origin,
			    const char *pre, const char *post)
{
	return set_create_hooks_t(ctx, origin, pre, post, 10);
}

static int set_create_hooks_t(struct snapmgr_ctx *ctx, const char *origin,
			      const char *pre, const char *post, unsigned timeout)
{
	char cow1[256], cow2[256];
	struct snapmgr_set_member m[2] = {
		{ .size = sizeof(struct snapmgr_set_member), .origin = origin, .origin_name = strchr(origin, '/') ? "o" : NULL,
		  .cow_file = cow1, .cow_size = 8 << 20, .chunk_size = 4096 },
		{ .size = sizeof(struct snapmgr_set_member), .origin = DISK2, .origin_name = "p", .cow_file = cow2,
		  .cow_size = 8 << 20, .chunk_size = 8192 },
	};
	struct snapmgr_set_opts o = SNAPMGR_OPTS(struct snapmgr_set_opts,
		.name = "set1", .n_members = 2, .members = m,
		.pre_hook = pre, .post_hook = post, .hook_timeout = timeout,
	);

	snprintf(cow1, sizeof(cow1), "%s/set1-o.cow", cows);
	snprintf(cow2, sizeof(cow2), "%s/set1-p.cow", cows);
	return snapmgr_set_create(ctx, &o);
}

static int op_set_create(struct snapmgr_ctx *ctx) { return set_create_hooks(ctx, DISK, "true", "true"); }
static int op_set_create_managed(struct snapmgr_ctx *ctx) { return set_create_hooks(ctx, "o", NULL, NULL); }
static int op_set_remove(struct snapmgr_ctx *ctx) { return snapmgr_set_remove(ctx, "set1", 0); }
static int op_set_remove_release(struct snapmgr_ctx *ctx) { return snapmgr_set_remove(ctx, "set1", SNAPMGR_REMOVE_RELEASE); }
static int op_set_merge(struct snapmgr_ctx *ctx) { return snapmgr_set_merge_start(ctx, "set1"); }

static int op_create_first(struct snapmgr_ctx *ctx) { return create_file(ctx, "s1", DISK); }
static int op_create_second(struct snapmgr_ctx *ctx) { return create_device(ctx, "s2"); }
static int op_remove(struct snapmgr_ctx *ctx) { return snapmgr_remove(ctx, "s1", 0); }
static int op_remove_unwrap(struct snapmgr_ctx *ctx) { return snapmgr_remove(ctx, "s1", SNAPMGR_REMOVE_UNWRAP); }
static int op_remove_release(struct snapmgr_ctx *ctx) { return snapmgr_remove(ctx, "s1", SNAPMGR_REMOVE_RELEASE); }
static int op_merge_start(struct snapmgr_ctx *ctx) { return merge_start(ctx, "s1"); }
static int op_finalise(struct snapmgr_ctx *ctx) { return snapmgr_merge_finalise(ctx, "s1"); }
static int op_activate(struct snapmgr_ctx *ctx) { return snapmgr_activate(ctx, NULL, NULL); }

static int op_track(struct snapmgr_ctx *ctx)
{
	char meta[256];
	struct snapmgr_track_opts o = SNAPMGR_OPTS(struct snapmgr_track_opts,
		.origin = "o", .metadata_file = meta, .block_size = 65536);

	snprintf(meta, sizeof(meta), "%s/o.era", cows);
	return snapmgr_track(ctx, &o);
}
static int op_untrack(struct snapmgr_ctx *ctx) { return snapmgr_untrack(ctx, "o"); }
static int op_create_track(struct snapmgr_ctx *ctx)
{
	char cow[256], meta[256];
	struct snapmgr_track_opts t = SNAPMGR_OPTS(struct snapmgr_track_opts,
		.metadata_file = meta, .block_size = 65536);
	struct snapmgr_create_opts o = SNAPMGR_OPTS(struct snapmgr_create_opts,
		.snapshot = "s1", .origin = DISK, .origin_name = "o", .cow_file = cow,
		.cow_size = 8 << 20, .chunk_size = 4096, .track = &t);

	snprintf(cow, sizeof(cow), "%s/s1.cow", cows);
	snprintf(meta, sizeof(meta), "%s/o.era", cows);
	return snapmgr_create(ctx, &o);
}

/* --- starting points, reached by clean runs in this process */

static void must(int r, const char *what)
{
	if (r < 0)
		fail_msg("setup: %s: %s", what, strerror(-r));
}

static void run_here(int (*op)(struct snapmgr_ctx *), const char *what)
{
	struct snapmgr_ctx *ctx = NULL;

	must(snapmgr_new(&ctx), "snapmgr_new");
	must(op(ctx), what);
	snapmgr_unref(ctx);
}

static void prep_none(void) {}
static void prep_one(void) { run_here(op_create_first, "create s1"); }
static void prep_two(void)
{
	prep_one();
	run_here(op_create_second, "create s2");
}
static void prep_two_merging(void)
{
	prep_two();
	fake_state()->merge_remaining = 100;
	run_here(op_merge_start, "merge s1");
	fake_state()->merge_remaining = 0;
}
static void prep_one_merging(void)
{
	prep_one();
	run_here(op_merge_start, "merge s1");
	fake_state()->merge_remaining = 0;
}
static void prep_two_merge_failed(void)
{
	prep_two_merging();
	fake_state()->merge_failed = true;
}
static void prep_two_in_progress(void)
{
	prep_two();
	fake_state()->merge_remaining = 100;
}
static void prep_reboot_two(void)
{
	prep_two();
	fake_reboot();
}
static void prep_reboot_merging(void)
{
	prep_two_merging();
	fake_reboot();
	fake_state()->merge_remaining = 100; /* still copying after the boot */
}
static void prep_reboot_merge_done(void)
{
	prep_two_merging();
	fake_reboot(); /* it finished while we were away */
}
static void prep_reboot_pending(void)
{
	prep_one();
	/* The origin is mounted: the merge is deferred to the next boot. */
	fake_dm_find("o")->open_count = 1;
	run_here(op_merge_start, "merge s1 (deferred)");
	fake_reboot();
}
static void prep_set(void) { run_here(op_set_create, "create --set set1"); }
static void prep_set_merging(void)
{
	prep_set();
	fake_state()->merge_remaining = 100;
}

static void prep_tracked(void)
{
	prep_one();
	run_here(op_track, "track o");
}
static void prep_reboot_tracked(void)
{
	prep_tracked();
	run_here(op_create_second, "create s2 (a token)");
	fake_reboot();
}

static void prep_reboot_unwrapped(void)
{
	prep_one();
	run_here(op_remove_unwrap, "remove --unwrap s1");
	fake_reboot();
}

struct scenario {
	const char *name;
	void (*prepare)(void);
	int (*op)(struct snapmgr_ctx *);
	int want;              /* what op returns when all goes well */
	const char *fault_op;  /* its SNAPMGR_DEBUG_CRASH_AT name */
	/*
	 * Another way out after a fault, instead of running op again: then
	 * the end state is not a clean op's, and undone() judges it.
	 */
	int (*recover)(struct snapmgr_ctx *);
};

/* --- the state compared between runs */

static char *describe(void)
{
	_cleanup_free_ char *dm = fake_describe();
	_cleanup_strv_ char **origins = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct snapmgr_ctx *ctx = NULL;
	struct dirent *de;
	DIR *d;

	fputs(dm, f);
	assert_int_equal(snapmgr_new(&ctx), 0);
	assert_int_equal(record_list(&origins), 0);
	for (char **o = origins; *o; o++) {
		_cleanup_record_ struct origin_record *rec = NULL;

		if (record_load(ctx, *o, &rec) < 0) {
			fprintf(f, "record %s unreadable: %s\n", *o, snapmgr_get_error(ctx));
			continue;
		}
		fprintf(f, "record %s device=%s sectors=%ju%s\n", rec->name, rec->device,
			(uintmax_t)rec->sectors, rec->unwrapped ? " unwrapped" : "");
		/* The tracking's id is new at every run: whether tokens name it. */
		if (rec->tracking)
			fprintf(f, "  tracking %s block=%ju file=%s%s\n",
				track_state_to_string(rec->tracking->state),
				(uintmax_t)rec->tracking->block_size,
				rec->tracking->metadata_file ? rec->tracking->metadata_file : "-",
				rec->tracking->metadata_file_created ? " created" : "");
		for (size_t i = 0; i < rec->n_snapshots; i++) {
			const struct snap_entry *e = &rec->snapshots[i];
			char cow[300] = "none";
			dev_t devnum;

			/* Loop numbers may differ from run to run: name the file. */
			if (e->cow_device && blockdev_devnum(e->cow_device, &devnum) == 0)
				fake_devnum_name(devnum, cow, sizeof(cow));
			else if (e->cow_device)
				snprintf(cow, sizeof(cow), "stale");
			fprintf(f, "  snapshot %s %s set=%s%s chunk=%ju cow=%s file=%s%s merge=%ju/%ju%s%s\n",
				e->name, snap_state_to_string(e->state), e->set ? e->set : "-",
				e->set_wrapped_origin ? " wrapped" : "", (uintmax_t)e->chunk_size,
				cow, e->cow_file ? e->cow_file : "-",
				e->cow_file_created ? " created" : "",
				(uintmax_t)e->merge_start_used, (uintmax_t)e->merge_metadata,
				e->merge_error ? " error: " : "", e->merge_error ? e->merge_error : "");
			if (e->change_token)
				fprintf(f, "    token %s\n", rec->tracking && strstr(e->change_token, rec->tracking->id)
								  ? "of this tracking" : "FOREIGN");
		}
	}
	snapmgr_unref(ctx);
	d = opendir(cows);
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			fprintf(f, "file %s\n", de->d_name);
	if (d)
		closedir(d);
	fclose(f);
	return text;
}

/* --- running */

enum mode { NONE, FAIL, CRASH, POINT };
static const char *const mode_names[] = { "none", "fail", "crash", "point" };

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
	return remove(path);
}

/* rm -rf, without a shell per case (hundreds of them). */
static void rm_rf(const char *path)
{
	if (access(path, F_OK) == 0)
		assert_int_equal(nftw(path, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

/* A fresh host: no devices, no records, no files; the disks declared. */
static void fresh(const struct scenario *s)
{
	fake_reset();
	rm_rf(state_dir_path);
	rm_rf(run_dir);
	rm_rf(cows);
	assert_int_equal(mkdir(cows, 0755), 0);
	assert_int_equal(fake_add_disk(DISK, makedev(8, 16), 64 << 20), 0);
	assert_int_equal(fake_add_disk(COWDISK, makedev(8, 32), 16 << 20), 0);
	assert_int_equal(fake_add_disk(DISK2, makedev(8, 48), 32 << 20), 0);
	s->prepare();
	fake_state()->steps = 0;
}

/* The child's exit status: 0 when op returned what it should, 99 crashed. */
static int run_child_op(const struct scenario *s, int (*op)(struct snapmgr_ctx *),
			int want, enum mode mode, int n)
{
	char v[64];
	int status;
	pid_t pid;

	fake_state()->steps = 0;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct snapmgr_ctx *ctx = NULL;
		int r;

		snprintf(v, sizeof(v), "%d", n);
		if (mode == FAIL)
			setenv("SNAPMGR_FAKE_FAIL_AT", v, 1);
		else if (mode == CRASH)
			setenv("SNAPMGR_FAKE_CRASH_AFTER", v, 1);
		else if (mode == POINT) {
			snprintf(v, sizeof(v), "%s:%d", s->fault_op, n);
			setenv("SNAPMGR_DEBUG_CRASH_AT", v, 1);
		}
		if (snapmgr_new(&ctx) < 0)
			_exit(2);
		r = op(ctx);
		if (r != want && mode == NONE)
			fprintf(stderr, "# %s: returned %d (%s), not %d\n", s->name, r,
				snapmgr_get_error(ctx) ?: strerror(-r), want);
		_exit(r == want ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status))
		fail_msg("%s: %s:%d: the child died of signal %d", s->name,
			 mode_names[mode], n, WTERMSIG(status));
	return WEXITSTATUS(status);
}

static int run_child(const struct scenario *s, enum mode mode, int n)
{
	return run_child_op(s, s->op, s->want, mode, n);
}

/* After "create, then remove instead": no trace of the snapshot is left. */
static bool undone(const char *state)
{
	return !strstr(state, "dm s1 ") && !strstr(state, "dm set1-") && !strstr(state, "loop ") &&
	       !strstr(state, "file ") && !strstr(state, "  snapshot ") &&
	       !strstr(state, "SUSPENDED");
}

static void run_mode(const struct scenario *s, enum mode mode, const char *clean)
{
	int n, reached = 0;

	for (n = 1; n <= MAX_N; n++) {
		_cleanup_free_ char *after = NULL;
		int st;
		bool hit;

		fresh(s);
		st = run_child(s, mode, n);
		hit = mode == FAIL ? fake_state()->steps >= (unsigned)n : st == SNAPMGR_CRASH_EXIT;
		if (!hit) {
			/* Past the last step: it ran through, as a clean run does. */
			after = describe();
			if (st != 0 || !streq(after, clean))
				fail_msg("%s: %s:%d was not reached, yet the run differs from a clean one (exit %d):\n%s\nwant:\n%s",
					 s->name, mode_names[mode], n, st, after, clean);
			break;
		}
		reached++;
		st = s->recover ? run_child_op(s, s->recover, 0, NONE, 0) : run_child(s, NONE, 0);
		after = describe();
		if (st != 0 || !(s->recover ? undone(after) : streq(after, clean)))
			fail_msg("%s: %s:%d then a re-run: exit %d, state:\n%s\nwant (a clean run):\n%s",
				 s->name, mode_names[mode], n, st, after, clean);
	}
	if (n > MAX_N)
		fail_msg("%s: %s: more than %d steps?", s->name, mode_names[mode], MAX_N);
	total_cases += (unsigned)reached;
	print_message("# %s: %s: %d cases\n", s->name, mode_names[mode], reached);
	/* Every operation here changes dm, and has a fault point. */
	assert_true(reached > 0);
}

static void run_scenario(void **statep)
{
	const struct scenario *s = *statep;
	_cleanup_free_ char *clean = NULL;
	int st;

	fresh(s);
	st = run_child(s, NONE, 0);
	assert_int_equal(st, 0);
	clean = describe();
	/* A clean run leaves nothing suspended: the reference is sound. */
	assert_null(strstr(clean, "SUSPENDED"));
	run_mode(s, FAIL, clean);
	run_mode(s, CRASH, clean);
	if (s->fault_op)
		run_mode(s, POINT, clean);
}

static const struct scenario scenarios[] = {
	{ "create (wrap a disk, COW file)", prep_none, op_create_first, 0, "create", NULL },
	{ "create (second snapshot, COW device)", prep_one, op_create_second, 0, "create", NULL },
	{ "create, then remove instead", prep_none, op_create_first, 0, "create", op_remove },
	{ "remove (one of two)", prep_two, op_remove, 0, "remove", NULL },
	{ "remove --unwrap (the last)", prep_one, op_remove_unwrap, 0, "remove", NULL },
	{ "remove --release (the last)", prep_one, op_remove_release, 0, "remove", NULL },
	{ "merge start", prep_two_in_progress, op_merge_start, 0, "merge", NULL },
	{ "merge finalise (a snapshot left)", prep_two_merging, op_finalise, 0, "finalise", NULL },
	{ "merge finalise (the last: unwrap)", prep_one_merging, op_finalise, 0, "finalise", NULL },
	{ "merge finalise (the kernel failed it)", prep_two_merge_failed, op_finalise, -EIO, "finalise", NULL },
	{ "activate (after a reboot)", prep_reboot_two, op_activate, 0, "create", NULL },
	{ "activate (merge still running)", prep_reboot_merging, op_activate, 0, NULL, NULL },
	{ "activate (merge finished meanwhile)", prep_reboot_merge_done, op_activate, 0, "finalise", NULL },
	{ "activate (deferred merge)", prep_reboot_pending, op_activate, 0, "merge", NULL },
	{ "activate (unwrapped origin)", prep_reboot_unwrapped, op_activate, 0, NULL, NULL },
	{ "track (an origin with a snapshot, metadata file)", prep_one, op_track, 0, "track", NULL },
	{ "untrack", prep_tracked, op_untrack, 0, "untrack", NULL },
	{ "create of a tracked origin (its token)", prep_tracked, op_create_second, 0, "create", NULL },
	{ "create --track (wrap, track, snapshot)", prep_none, op_create_track, 0, "create", NULL },
	{ "remove --release of a tracked origin", prep_tracked, op_remove_release, 0, "remove", NULL },
	{ "activate (a tracked origin, after a reboot)", prep_reboot_tracked, op_activate, 0, "create", NULL },
	{ "set create (two raw disks, COW files, hooks)", prep_none, op_set_create, 0, "create", NULL },
	{ "set create (a managed origin and a raw disk)", prep_one, op_set_create_managed, 0, "create", NULL },
	{ "set create, then remove the set instead", prep_none, op_set_create, 0, "create", op_set_remove },
	{ "set remove", prep_set, op_set_remove, 0, "remove", NULL },
	{ "set remove --release", prep_set, op_set_remove_release, 0, "remove", NULL },
	{ "set merge", prep_set_merging, op_set_merge, 0, "merge", NULL },
};

/* --- snapshot sets: the hooks, and what a finished set looks like */

static const struct scenario set_from_none = { "set hooks", prep_none, NULL, 0, NULL, NULL };
static const struct scenario set_from_one = { "set hooks", prep_one, NULL, 0, NULL, NULL };

/* In this process: r and the context's message. */
static int set_here(const char *origin, const char *pre, const char *post, unsigned timeout,
		    char *msg, size_t size)
{
	struct snapmgr_ctx *ctx = NULL;
	int r;

	assert_int_equal(snapmgr_new(&ctx), 0);
	r = set_create_hooks_t(ctx, origin, pre, post, timeout);
	snprintf(msg, size, "%s", snapmgr_get_error(ctx) ?: "");
	snapmgr_unref(ctx);
	return r;
}

static void expect_contains(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("[%s] does not contain [%s]", text, want);
}

/* A failing pre-hook: -ECANCELED, and the host is as before, exactly. */
static void test_set_pre_hook_fails(void **unused)
{
	const struct scenario *starts[] = { &set_from_none, &set_from_one };
	char msg[512];

	for (size_t i = 0; i < ELEMENTSOF(starts); i++) {
		_cleanup_free_ char *before = NULL, *after = NULL;

		fresh(starts[i]);
		before = describe();
		assert_int_equal(set_here(starts[i] == &set_from_one ? "o" : DISK,
					  "exit 3", NULL, 10, msg, sizeof(msg)), -ECANCELED);
		expect_contains(msg, "the pre-hook failed (exit status 3): exit 3; the set was not created, nothing is left of it");
		after = describe();
		assert_string_equal(before, after);
		assert_null(strstr(after, "SUSPENDED"));
	}
	/* A hook that outlives its timeout is killed and counts as failed. */
	{
		_cleanup_free_ char *before = NULL, *after = NULL;
		time_t t0 = time(NULL);

		fresh(&set_from_none);
		before = describe();
		assert_int_equal(set_here(DISK, "sleep 30", NULL, 1, msg, sizeof(msg)), -ECANCELED);
		expect_contains(msg, "the pre-hook timed out after 1 s (killed): sleep 30");
		assert_true(time(NULL) - t0 < 10);
		after = describe();
		assert_string_equal(before, after);
	}
}

/* A failing post-hook: -ECHILD, the set is made all the same. */
static void test_set_post_hook_fails(void **unused)
{
	_cleanup_free_ char *clean = NULL, *after = NULL;
	char msg[512];

	fresh(&set_from_none);
	/* The hooks see which set and which hook they are. */
	assert_int_equal(set_here(DISK, "test \"$SNAPMGR_SET $SNAPMGR_HOOK\" = 'set1 pre'",
				  "test \"$SNAPMGR_SET $SNAPMGR_HOOK\" = 'set1 post'", 10,
				  msg, sizeof(msg)), 0);
	clean = describe();
	expect_contains(clean, "  snapshot set1-o active set=set1 wrapped");
	expect_contains(clean, "  snapshot set1-p active set=set1 wrapped");
	assert_null(strstr(clean, "SUSPENDED"));
	/* The same command again: the set is there already. */
	assert_int_equal(set_here(DISK, NULL, NULL, 10, msg, sizeof(msg)), -EEXIST);
	expect_contains(msg, "snapshot set already exists");

	fresh(&set_from_none);
	assert_int_equal(set_here(DISK, NULL, "exit 4", 10, msg, sizeof(msg)), -ECHILD);
	expect_contains(msg, "the set was created, but the post-hook failed (exit status 4): exit 4");
	after = describe();
	assert_string_equal(clean, after);
}

/* Names: a set and a snapshot never share one; a re-run names the same origins. */
static void test_set_names(void **unused)
{
	struct snapmgr_ctx *ctx = NULL;
	char **members = NULL;
	char msg[512];

	fresh(&set_from_one);
	assert_int_equal(set_here("o", NULL, NULL, 10, msg, sizeof(msg)), 0);
	assert_int_equal(snapmgr_new(&ctx), 0);
	assert_int_equal(snapmgr_set_exists(ctx, "set1"), 1);
	assert_int_equal(snapmgr_set_exists(ctx, "s1"), 0);
	assert_int_equal(snapmgr_set_members(ctx, "set1", &members), 0);
	assert_string_equal(members[0], "set1-o");
	assert_string_equal(members[1], "set1-p");
	assert_null(members[2]);
	strv_free(members);
	assert_int_equal(snapmgr_set_members(ctx, "nope", &members), -ENOENT);
	assert_int_equal(create_file(ctx, "set1", "o"), -EEXIST);
	expect_contains(snapmgr_get_error(ctx), "name is taken by a snapshot set");
	{
		struct snapmgr_set_member m = { .size = sizeof(m), .origin = "o", .cow_device = COWDISK, .chunk_size = 4096 };
		struct snapmgr_set_opts o = SNAPMGR_OPTS(struct snapmgr_set_opts, .name = "s1", .n_members = 1, .members = &m);

		assert_int_equal(snapmgr_set_create(ctx, &o), -EEXIST);
		expect_contains(snapmgr_get_error(ctx), "a snapshot is named so");
		/* Same set, fewer origins: refused, the set stays whole. */
		o.name = "set1";
		assert_int_equal(snapmgr_set_create(ctx, &o), -EEXIST);
		expect_contains(snapmgr_get_error(ctx),
				"the set has a member set1-p (origin p) that this command does not name; run 'snapctl remove set1' to undo the set");
	}
	snapmgr_unref(ctx);
}

static int group_setup(void **state)
{
	snprintf(top, sizeof(top), "/dev/shm/test-fault-matrix.XXXXXX");
	if (!mkdtemp(top))
		return -1;
	snprintf(state_dir_path, sizeof(state_dir_path), "%s/state", top);
	snprintf(run_dir, sizeof(run_dir), "%s/run", top);
	snprintf(cows, sizeof(cows), "%s/cows", top);
	setenv("SNAPMGR_STATE_DIR", state_dir_path, 1);
	setenv("SNAPMGR_RUN_DIR", run_dir, 1);
	return 0;
}

static int group_teardown(void **state)
{
	print_message("# %u fault cases in all\n", total_cases);
	rm_rf(top);
	return 0;
}

int main(void)
{
	struct CMUnitTest tests[ELEMENTSOF(scenarios) + 3];
	size_t n = ELEMENTSOF(scenarios);

	for (size_t i = 0; i < ELEMENTSOF(scenarios); i++)
		tests[i] = (struct CMUnitTest){
			.name = scenarios[i].name,
			.test_func = run_scenario,
			.initial_state = (void *)&scenarios[i],
		};
	tests[n++] = (struct CMUnitTest){ .name = "set: a failing pre-hook changes nothing",
					  .test_func = test_set_pre_hook_fails };
	tests[n++] = (struct CMUnitTest){ .name = "set: a failing post-hook leaves the set",
					  .test_func = test_set_post_hook_fails };
	tests[n++] = (struct CMUnitTest){ .name = "set: names", .test_func = test_set_names };
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
