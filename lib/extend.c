/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Growing a file-backed COW: the file first (space reserved with fallocate
 * where the filesystem can, so the store cannot hit ENOSPC later), then
 * LOOP_SET_CAPACITY so the loop device takes the new size. dm-snapshot reads
 * the COW device's size at every allocation and in its status, so the
 * persistent store uses the new space at once, without a table reload (see
 * tests/vm/daemon-extend.test).
 *
 * Safe to repeat after a crash at any point: the file is never shrunk, and
 * a file already at or beyond the target is only re-announced to the loop
 * device.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blockdev.h"
#include "error-private.h"
#include "libsnapmgr-private.h"

_public_ int snapmgr_extend_cow_file(struct snapmgr_ctx *ctx,
				     const char *cow_file, const char *loop_dev,
				     uint64_t new_size, uint64_t *ret_size)
{
	_cleanup_close_ int ffd = -1, lfd = -1;
	uint64_t dev_size;
	struct stat st;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!cow_file || !loop_dev || new_size == 0 || new_size % 512)
		return -EINVAL;
	ffd = open(cow_file, O_RDWR | O_CLOEXEC);
	if (ffd < 0)
		return snapmgr_error(ctx, negative_errno(), "cannot open %s: %m",
				     cow_file);
	if (fstat(ffd, &st) < 0)
		return negative_errno();
	if ((uint64_t)st.st_size < new_size) {
		r = fallocate(ffd, 0, st.st_size, (off_t)(new_size - st.st_size));
		if (r < 0 && (errno == EOPNOTSUPP || errno == ENOSYS))
			r = ftruncate(ffd, (off_t)new_size);
		if (r < 0)
			return snapmgr_error(ctx, negative_errno(),
					     "cannot grow %s to %" PRIu64 " bytes: %m",
					     cow_file, new_size);
		if (fsync(ffd) < 0)
			return snapmgr_error(ctx, negative_errno(),
					     "cannot sync %s: %m", cow_file);
		log_info(ctx, "grew %s from %jd to %" PRIu64 " bytes", cow_file,
			 (intmax_t)st.st_size, new_size);
	}
	/*
	 * Tests kill the caller here, between the two steps, to prove that a
	 * repeat converges: SNAPMGR_DEBUG_EXTEND_PAUSE=SECONDS.
	 */
	if (getenv("SNAPMGR_DEBUG_EXTEND_PAUSE"))
		sleep((unsigned)atoi(getenv("SNAPMGR_DEBUG_EXTEND_PAUSE")));
	lfd = open(loop_dev, O_RDONLY | O_CLOEXEC);
	if (lfd < 0)
		return snapmgr_error(ctx, negative_errno(), "cannot open %s: %m",
				     loop_dev);
	if (ioctl(lfd, LOOP_SET_CAPACITY, 0) < 0)
		return snapmgr_error(ctx, negative_errno(),
				     "cannot resize %s: %m", loop_dev);
	r = blockdev_size(loop_dev, &dev_size);
	if (r < 0)
		return r;
	if (dev_size < new_size)
		return snapmgr_error(ctx, -EIO,
				     "%s is %" PRIu64 " bytes after the resize, not %" PRIu64,
				     loop_dev, dev_size, new_size);
	if (ret_size)
		*ret_size = dev_size;
	return 0;
}
