/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/mount-table.c: the options each filesystem type gets, the user's -o
 * words split into MS_* flags and data, refusals of words that would
 * defeat the command, mountinfo parsing (a fake file: escapes, optional
 * fields, stacked mounts, a broken line), ext4's needs_recovery flag.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <cmocka.h>

#include "mount-private.h"

static struct snapmgr_ctx *ctx;

struct choice {
	int r;
	unsigned long flags;
	char *data, *shown;
};

static struct choice choose(const char *type, bool rw, bool new_uuid,
			    const char *extra)
{
	struct choice c = { 0 };

	c.r = mount_choose_options(ctx, type, rw, new_uuid, extra, &c.flags,
				   &c.data, &c.shown);
	return c;
}

static void expect(const char *type, bool rw, bool new_uuid,
		   const char *extra, unsigned long flags, const char *data,
		   const char *shown)
{
	struct choice c = choose(type, rw, new_uuid, extra);

	assert_int_equal(c.r, 0);
	assert_int_equal(c.flags, flags);
	if (data)
		assert_string_equal(c.data, data);
	else
		assert_null(c.data);
	assert_string_equal(c.shown, shown);
	free(c.data);
	free(c.shown);
}

static void test_read_only_per_type(void **state)
{
	expect("xfs", false, false, NULL, MS_RDONLY, "nouuid,norecovery", "ro,nouuid,norecovery");
	expect("ext4", false, false, NULL, MS_RDONLY, "noload", "ro,noload");
	expect("ext3", false, false, NULL, MS_RDONLY, "noload", "ro,noload");
	/* ext2 has no journal: noload means nothing there. */
	expect("ext2", false, false, NULL, MS_RDONLY, NULL, "ro");
	expect("btrfs", false, false, NULL, MS_RDONLY, NULL, "ro");
	expect("vfat", false, false, "", MS_RDONLY, NULL, "ro");
}

static void test_writable(void **state)
{
	/* The clone keeps the origin's UUID: XFS needs nouuid to mount it. */
	expect("xfs", true, false, NULL, 0, "nouuid", "rw,nouuid");
	expect("xfs", true, true, NULL, 0, NULL, "rw");
	expect("ext4", true, false, NULL, 0, NULL, "rw");
	expect("ext4", true, true, "rw", 0, NULL, "rw");
}

static void test_extra_words(void **state)
{
	expect("ext4", false, false, "noatime,nosuid,errors=continue,ro",
	       MS_RDONLY | MS_NOATIME | MS_NOSUID, "noload,errors=continue",
	       "ro,noload,errors=continue,noatime,nosuid");
	expect("xfs", false, false, "inode64", MS_RDONLY,
	       "nouuid,norecovery,inode64", "ro,nouuid,norecovery,inode64");
	/* A later word undoes an earlier one, as with mount(8). */
	expect("ext4", true, false, "noexec,exec,nodev", MS_NODEV, NULL, "rw,noexec,exec,nodev");
}

static void refused(const char *extra, bool rw, const char *why)
{
	struct choice c = choose("ext4", rw, false, extra);

	assert_int_equal(c.r, -EINVAL);
	assert_non_null(strstr(snapmgr_get_error(ctx), why));
}

static void test_refusals(void **state)
{
	refused("noatime,rw", false, "-o rw: a writable mount needs --rw");
	refused("ro", true, "-o ro contradicts --rw");
	refused("remount", false, "-o remount: not an option of a new mount");
	refused("bind", true, "-o bind");
	refused("move", false, "-o move");
}

static void test_mountinfo(void **state)
{
	struct mount_entry *v = NULL;
	const struct mount_entry *e;
	size_t n = 0;

	assert_int_equal(mount_table_read(ctx, SOURCE_DIR "/data/mountinfo-sample.txt", &v, &n), 0);
	assert_int_equal(n, 6);
	assert_int_equal(v[0].devnum, makedev(254, 0));
	assert_string_equal(v[0].mount_point, "/");
	assert_string_equal(v[0].fstype, "ext4");
	assert_string_equal(v[0].source, "/dev/vda");
	/* \040 is a space, \134 a backslash; optional fields are skipped. */
	assert_string_equal(v[2].mount_point, "/mnt/snap dir");
	assert_string_equal(v[2].fstype, "xfs");
	assert_string_equal(v[2].source, "/dev/mapper/s1");
	assert_int_equal(v[4].devnum, makedev(253, 3));
	assert_string_equal(v[5].mount_point, "/bind\\x");
	/* The topmost of two stacked mounts, and none where there is none. */
	e = mount_table_find_point(v, n, "/mnt/snap dir");
	assert_ptr_equal(e, &v[4]);
	assert_null(mount_table_find_point(v, n, "/mnt"));
	mount_entries_free(v, n);
}

static void test_mountinfo_broken(void **state)
{
	char path[] = "/tmp/test-mount.XXXXXX";
	struct mount_entry *v = NULL;
	size_t n = 0;
	FILE *f;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("22 1 254:0 / / rw - ext4 /dev/vda rw\n", f);
	fputs("23 22 8:1 / /boot rw shared:1 ext4 /dev/sda1 rw\n", f); /* no "-" */
	fclose(f);
	assert_int_equal(mount_table_read(ctx, path, &v, &n), -EBADMSG);
	assert_non_null(strstr(snapmgr_get_error(ctx), ":2: not a mountinfo line"));
	unlink(path);
	assert_int_equal(mount_table_read(ctx, "/nonexistent/mountinfo", &v, &n), -ENOENT);
}

static void test_ext4_needs_recovery(void **state)
{
	uint8_t sb[1024] = { 0 };

	assert_false(mount_ext4_needs_recovery(sb, sizeof(sb))); /* no magic */
	sb[0x38] = 0x53;
	sb[0x39] = 0xef;
	sb[0x60] = 0x2 | 0x40; /* filetype, extents */
	assert_false(mount_ext4_needs_recovery(sb, sizeof(sb)));
	sb[0x60] |= 0x4;
	assert_true(mount_ext4_needs_recovery(sb, sizeof(sb)));
	assert_false(mount_ext4_needs_recovery(sb, 0x40)); /* too short */
	assert_true(mount_is_ext("ext3"));
	assert_false(mount_is_ext("xfs"));
}

static int setup(void **state)
{
	return snapmgr_new(&ctx);
}

static int teardown(void **state)
{
	snapmgr_unref(ctx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_only_per_type),
		cmocka_unit_test(test_writable),
		cmocka_unit_test(test_extra_words),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_mountinfo),
		cmocka_unit_test(test_mountinfo_broken),
		cmocka_unit_test(test_ext4_needs_recovery),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
