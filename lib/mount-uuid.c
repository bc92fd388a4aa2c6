/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A writable clone's own filesystem UUID (snapctl mount --rw --new-uuid),
 * through the filesystem's own tools: no one else should write its
 * superblock. Both tools refuse a filesystem whose journal or log still
 * holds changes, and a snapshot of a mounted filesystem may have one:
 *
 * - ext2/3/4: `e2fsck -f -p` first. It replays the journal into the
 *   snapshot (the clone, which is about to be written anyway) and checks
 *   it; -p (preen) fixes only what is safe without a human and fails
 *   otherwise, so we stop there. tune2fs -U also wants a freshly checked
 *   filesystem when metadata_csum is on (Debian's default).
 * - XFS: xfs_admin -U refuses a dirty log. `xfs_repair -L` would clear it,
 *   throwing away the changes it holds: never. The clone is mounted once
 *   (nouuid: the origin has the same UUID) and unmounted, which replays
 *   the log the way the kernel does after a crash; then xfs_admin.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "mount-private.h"
#include "tool.h"

static int ext_new_uuid(struct snapmgr_ctx *ctx, const char *dev)
{
	char *fsck[] = { "e2fsck", "-f", "-p", (char *)dev, NULL };
	char *tune[] = { "tune2fs", "-U", "random", (char *)dev, NULL };
	int r;

	log_info(ctx, "%s: e2fsck -f -p (replays the journal into the clone), then tune2fs -U random", dev);
	/* e2fsck: 1 = errors corrected, which -p does only when it is safe. */
	r = tool_run(ctx, fsck, 1, "e2fsprogs", NULL, 0);
	if (r < 0)
		return snapmgr_error(ctx, r, "--new-uuid: the clone's filesystem needs a manual check: %s",
				     snapmgr_get_error(ctx) ?: strerror(-r));
	return tool_run(ctx, tune, 0, "e2fsprogs", NULL, 0);
}

static int xfs_new_uuid(struct snapmgr_ctx *ctx, const char *dev,
			const char *dir)
{
	char *admin[] = { "xfs_admin", "-U", "generate", (char *)dev, NULL };
	int r;

	log_info(ctx, "%s: mounted once on %s to replay the log, then xfs_admin -U generate", dev, dir);
	/* Mounting replays the log into the clone; umount leaves it clean. */
	if (mount(dev, dir, "xfs", 0, "nouuid") < 0) {
		r = negative_errno();
		return snapmgr_error(ctx, r, "--new-uuid: mounting once to replay the XFS log failed: %s",
				     strerror(-r));
	}
	if (umount2(dir, 0) < 0) {
		r = negative_errno();
		return snapmgr_error(ctx, r, "--new-uuid: cannot unmount %s after the log replay: %s",
				     dir, strerror(-r));
	}
	return tool_run(ctx, admin, 0, "xfsprogs", NULL, 0);
}

int mount_new_uuid(struct snapmgr_ctx *ctx, const char *dev,
		   const char *fstype, const char *dir)
{
	if (mount_is_ext(fstype))
		return ext_new_uuid(ctx, dev);
	if (streq(fstype, "xfs"))
		return xfs_new_uuid(ctx, dev, dir);
	return snapmgr_error(ctx, -EOPNOTSUPP, "--new-uuid knows ext2/3/4 and xfs, not %s", fstype);
}
