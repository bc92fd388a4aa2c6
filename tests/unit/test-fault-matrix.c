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
#define MAX_N 60

static char top[128], state_dir_path[160], run_dir[160], cows[160];
static unsigned total_cases;

/* --- operations, each as one snapctl invocation would run it */

static int create_file(struct snapmgr_ctx *ctx, const char *snap, const char *origin)
{
	char cow[256];
	struct snapmgr_create_opts o = {
		.snapshot = snap,
		.origin = origin,
		.origin_name = strchr(origin, '/') ? "o" : NULL,
		.cow_file = cow,
		.cow_size = 8 << 20,
		.chunk_size = 4096,
	};

	snprintf(cow, sizeof(cow), "%s/%s.cow", cows, snap);
	return snapmgr_create(ctx, &o);
}

static int create_device(struct snapmgr_ctx *ctx, const char *snap)
{
	struct snapmgr_create_opts o = {
		.snapshot = snap,
		.origin = "o",
		.cow_device = COWDISK,
		.chunk_size = 8192,
	};

	return snapmgr_create(ctx, &o);
}

static int merge_start(struct snapmgr_ctx *ctx, const char *snap)
{
	bool deferred = false;

	return snapmgr_merge_start(ctx, snap, &deferred);
}

static int op_create_first(struct snapmgr_ctx *ctx) { return create_file(ctx, "s1", DISK); }
static int op_create_second(struct snapmgr_ctx *ctx) { return create_device(ctx, "s2"); }
static int op_remove(struct snapmgr_ctx *ctx) { return snapmgr_remove(ctx, "s1", 0); }
static int op_remove_unwrap(struct snapmgr_ctx *ctx) { return snapmgr_remove(ctx, "s1", SNAPMGR_REMOVE_UNWRAP); }
static int op_remove_release(struct snapmgr_ctx *ctx) { return snapmgr_remove(ctx, "s1", SNAPMGR_REMOVE_RELEASE); }
static int op_merge_start(struct snapmgr_ctx *ctx) { return merge_start(ctx, "s1"); }
static int op_finalise(struct snapmgr_ctx *ctx) { return snapmgr_merge_finalise(ctx, "s1"); }
static int op_activate(struct snapmgr_ctx *ctx) { return snapmgr_activate(ctx, NULL, NULL); }

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
		for (size_t i = 0; i < rec->n_snapshots; i++) {
			const struct snap_entry *e = &rec->snapshots[i];
			char cow[300] = "none";
			dev_t devnum;

			/* Loop numbers may differ from run to run: name the file. */
			if (e->cow_device && blockdev_devnum(e->cow_device, &devnum) == 0)
				fake_devnum_name(devnum, cow, sizeof(cow));
			else if (e->cow_device)
				snprintf(cow, sizeof(cow), "stale");
			fprintf(f, "  snapshot %s %s chunk=%ju cow=%s file=%s%s merge=%ju/%ju%s%s\n",
				e->name, snap_state_to_string(e->state), (uintmax_t)e->chunk_size,
				cow, e->cow_file ? e->cow_file : "-",
				e->cow_file_created ? " created" : "",
				(uintmax_t)e->merge_start_used, (uintmax_t)e->merge_metadata,
				e->merge_error ? " error: " : "", e->merge_error ? e->merge_error : "");
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
	return !strstr(state, "dm s1 ") && !strstr(state, "loop ") &&
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
};

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
	struct CMUnitTest tests[ELEMENTSOF(scenarios)];

	for (size_t i = 0; i < ELEMENTSOF(scenarios); i++)
		tests[i] = (struct CMUnitTest){
			.name = scenarios[i].name,
			.test_func = run_scenario,
			.initial_state = (void *)&scenarios[i],
		};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
