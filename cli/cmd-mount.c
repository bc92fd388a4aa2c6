/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapctl mount SNAP DIR, snapctl umount SNAP|DIR: a snapshot's filesystem
 * mounted by its own device with the options its type needs (lib/mount.c).
 */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "snapctl.h"

static void mount_help(void)
{
	printf("Usage:\n"
	       " snapctl mount [options] SNAP DIR\n"
	       "\n"
	       "Mount the filesystem on the snapshot SNAP at DIR (an empty directory that is\n"
	       "no mount point), by the snapshot's own device /dev/mapper/SNAP, never by\n"
	       "UUID or LABEL (its origin has the same ones). The type comes from libblkid.\n"
	       "Read-only by default, with what the type needs to show a crash-consistent\n"
	       "image without writing to it:\n"
	       "  xfs          ro,nouuid,norecovery\n"
	       "  ext3, ext4   ro,noload\n"
	       "  others       ro\n"
	       "\n"
	       "Options:\n"
	       "     --rw          mount writable (a clone): only snapctl's own snapshots,\n"
	       "                   on a writable device. Warns that the clone has its\n"
	       "                   origin's UUID\n"
	       "     --new-uuid    with --rw: give the clone a new filesystem UUID first\n"
	       "                   (ext2/3/4: e2fsck -f -p, tune2fs -U random; xfs: mounted\n"
	       "                   and unmounted once to replay its log, xfs_admin -U generate)\n"
	       " -o, --options OPTS  more mount options, comma-separated (not rw)\n"
	       " -J, --json        print the document docs/mount.schema.json describes\n"
	       " -h, --help        display this help\n"
	       "\n"
	       "Refused: an invalid or merging snapshot, one already mounted, a DIR that is\n"
	       "not an empty directory or is a mount point.\n"
	       "Exit status: 0 mounted, 1 refused or failed, 2 usage error.\n"
	       "For more details see snapctl(8), MOUNT.\n");
}

static int print_json(const struct snapmgr_mount *m)
{
	struct json_object *doc = NULL;
	int r = snapmgr_mount_to_json(m, &doc);

	if (r < 0)
		return fail(snapmgr_mount_get_snapshot(m), r, NULL);
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
						 JSON_C_TO_STRING_SPACED |
						 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
	return EXIT_OK;
}

static int mount_run(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	enum { OPT_RW = 0x100, OPT_NEW_UUID };
	static const struct option options[] = {
		{ "rw", no_argument, NULL, OPT_RW },
		{ "new-uuid", no_argument, NULL, OPT_NEW_UUID },
		{ "options", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct snapmgr_mount *m = NULL;
	const char *opts = NULL, *w;
	unsigned flags = 0;
	bool json = false;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "o:Jh", options, NULL)) != -1) {
		switch (ch) {
		case OPT_RW:
			flags |= SNAPMGR_MOUNT_RW;
			break;
		case OPT_NEW_UUID:
			flags |= SNAPMGR_MOUNT_NEW_UUID;
			break;
		case 'o':
			opts = optarg;
			break;
		case 'J':
			json = true;
			break;
		case 'h':
			mount_help();
			return EXIT_OK;
		default:
			return usage_error("mount", "unrecognised option");
		}
	}
	if (check_operands("mount", argc, argv, 2,
			   optind == argc ? "no snapshot named" : "no directory named"))
		return EXIT_USAGE;
	if ((flags & SNAPMGR_MOUNT_NEW_UUID) && !(flags & SNAPMGR_MOUNT_RW))
		return usage_error("mount", "--new-uuid changes the filesystem: it needs --rw");

	r = snapmgr_mount(ctx, argv[optind], argv[optind + 1], flags, opts, &m);
	if (r < 0)
		return fail_lib(ctx, argv[optind], r);
	for (size_t i = 0; (w = snapmgr_mount_get_warning(m, i)); i++)
		fprintf(stderr, "snapctl: %s: warning: %s\n", argv[optind], w);
	if (json)
		r = print_json(m);
	else
		printf("%s: %s mounted on %s (%s)\n", snapmgr_mount_get_device(m),
		       snapmgr_mount_get_fstype(m), snapmgr_mount_get_directory(m),
		       snapmgr_mount_get_options(m));
	snapmgr_mount_unref(m);
	if (fflush(stdout) != 0 || ferror(stdout))
		return fail("stdout", -EIO, "write error");
	return r;
}

static void umount_help(void)
{
	printf("Usage:\n"
	       " snapctl umount SNAP|DIR\n"
	       "\n"
	       "Unmount the snapshot SNAP wherever its device is mounted (found by\n"
	       "major:minor in /proc/self/mountinfo), or the mount at DIR, which must be a\n"
	       "mount of a device-mapper snapshot (anything else is refused). An argument\n"
	       "with a '/', or naming an existing directory, is a DIR.\n"
	       "\n"
	       "Options:\n"
	       " -h, --help        display this help\n"
	       "\n"
	       "Exit status: 0 unmounted, 1 refused or failed, 2 usage error.\n"
	       "For more details see snapctl(8), MOUNT.\n");
}

static int umount_run(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	unsigned count = 0;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (ch) {
		case 'h':
			umount_help();
			return EXIT_OK;
		default:
			return usage_error("umount", "unrecognised option");
		}
	}
	if (check_operands("umount", argc, argv, 1, "no snapshot or directory named"))
		return EXIT_USAGE;
	r = snapmgr_umount(ctx, argv[optind], &count);
	if (r < 0)
		return fail_lib(ctx, argv[optind], r);
	if (count > 1)
		printf("%s: %u mounts removed\n", argv[optind], count);
	return EXIT_OK;
}

const struct cmd cmd_mount = {
	.name = "mount",
	.run = mount_run,
	.help = "mount a snapshot's filesystem safely (read-only by default)",
};

const struct cmd cmd_umount = {
	.name = "umount",
	.run = umount_run,
	.help = "unmount a snapshot (by name or mount point)",
};
