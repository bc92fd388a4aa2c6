/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Facts about block devices, from the kernel (sysfs, ioctls) and libblkid. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "libsnapmgr-private.h"

/* -ENOTBLK when path is not a block device. */
int blockdev_devnum(const char *path, dev_t *ret_devnum);
/* The same, the reason in ctx: "not a block device", or errno's text. */
static inline int blockdev_devnum_checked(struct snapmgr_ctx *ctx, const char *path,
					  dev_t *ret_devnum)
{
	int r = blockdev_devnum(path, ret_devnum);

	if (r < 0)
		return snapmgr_error(ctx, r, "%s", r == -ENOTBLK ? "not a block device" : strerror(-r));
	return 0;
}
int blockdev_size(const char *path, uint64_t *ret_bytes);
/*
 * Opens with O_EXCL, which the kernel refuses (-EBUSY) when anything holds
 * the device: a mounted filesystem, a dm table, md, swap, another O_EXCL.
 */
int blockdev_check_unused(const char *path);
/*
 * Any signature libblkid knows (filesystem, partition table, LVM, swap,
 * RAID): 1 and its name in ret_type, or 0 when there is none.
 */
int blockdev_probe_signature(const char *path, char **ret_type);
/*
 * "/dev/mapper/NAME" for dm devices, "/dev/NAME" for others, from sysfs;
 * -ENODEV if unknown.
 */
int blockdev_path_for_devnum(dev_t devnum, char **ret_path);
/* The dm UUID of a dm device, "" for other devices. */
int blockdev_dm_uuid(dev_t devnum, char **ret_uuid);
/* The file behind a loop device; -ENOENT for other devices. */
int blockdev_loop_backing_file(dev_t devnum, char **ret_file);
/* Writes zeros over the first len bytes, synchronously. */
int blockdev_zero_head(const char *path, size_t len);
