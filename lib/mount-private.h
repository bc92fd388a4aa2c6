/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal side of lib/mount.c: the pure parts (lib/mount-table.c: which
 * options a filesystem gets, /proc/self/mountinfo) and the new-UUID steps
 * (lib/mount-uuid.c), apart so the unit tests reach them.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "libsnapmgr-private.h"

/* One line of /proc/self/mountinfo (proc(5)); strings unescaped. */
struct mount_entry {
	dev_t devnum;
	char *mount_point;
	char *fstype;
	char *source;
};

void mount_entries_free(struct mount_entry *v, size_t n);
/*
 * Reads a mountinfo file (path NULL: /proc/self/mountinfo). -EBADMSG, with
 * the line number in ctx's error, for a line that is not mountinfo.
 */
int mount_table_read(struct snapmgr_ctx *ctx, const char *path,
		     struct mount_entry **ret, size_t *ret_n);
/* The last entry (the one on top) mounted at path, or NULL. */
const struct mount_entry *mount_table_find_point(const struct mount_entry *v,
						 size_t n, const char *path);

/*
 * What mount(2) gets for a filesystem type: the MS_* flags and the data
 * string, and the whole option list as a user reads it (the "options" of
 * the JSON). extra: the user's -o list, its flag words (noatime, nosuid,
 * ...) turned into MS_* flags, the rest appended to the data. -EINVAL,
 * with a message, for "rw" or "remount"/"bind"/"move" in extra, which
 * would defeat what the command is for.
 *
 * Read-only: XFS ro,nouuid,norecovery; ext3/ext4 ro,noload; anything else
 * ro. Writable: XFS nouuid (the origin, mounted, has the same UUID) unless
 * the clone got its own; others nothing.
 */
int mount_choose_options(struct snapmgr_ctx *ctx, const char *fstype,
			 bool rw, bool new_uuid, const char *extra,
			 unsigned long *ret_flags, char **ret_data,
			 char **ret_shown);

/* ext2/3/4's superblock (1024 bytes at offset 1024) says needs_recovery. */
bool mount_ext4_needs_recovery(const uint8_t *sb, size_t len);
bool mount_is_ext(const char *fstype);

/*
 * lib/mount-uuid.c: gives the filesystem on dev (not mounted) a new UUID,
 * ext2/3/4 and XFS; dir is an empty directory XFS may be mounted on once
 * to replay its log. -EOPNOTSUPP for other types.
 */
int mount_new_uuid(struct snapmgr_ctx *ctx, const char *dev,
		   const char *fstype, const char *dir);
