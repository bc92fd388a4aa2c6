/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Watching snapshots cheaply: device-mapper's global event (an fd on
 * /dev/mapper/control armed with DM_DEV_ARM_POLL turns readable when any
 * device's event number moves, or a device is created, removed, renamed or
 * gets a new table), and one snapshot's usage in one status ioctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "dm.h"
#include "error-private.h"

_public_ int snapmgr_events_open(struct snapmgr_ctx *ctx, int *ret_fd)
{
	int fd, r;

	SNAPMGR_ENTRY(ctx);
	if (!ret_fd)
		return -EINVAL;
	r = smdm_setup(ctx);
	if (r < 0)
		return r;
	fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return snapmgr_error(ctx, negative_errno(),
				     "cannot open /dev/mapper/control: %m");
	r = snapmgr_events_arm(ctx, fd);
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/*
 * A raw ioctl: libdevmapper's DM_DEVICE_ARM_POLL task runs on its own
 * private control fd, and arming is per open file, so the fd the caller
 * polls would never be armed through it.
 */
_public_ int snapmgr_events_arm(struct snapmgr_ctx *ctx, int fd)
{
	struct dm_ioctl io;

	SNAPMGR_ENTRY(ctx);
	memset(&io, 0, sizeof(io));
	io.version[0] = DM_VERSION_MAJOR;
	io.version[1] = 0;
	io.version[2] = 0;
	io.data_size = sizeof(io);
	io.data_start = sizeof(io);
	if (ioctl(fd, DM_DEV_ARM_POLL, &io) < 0)
		return snapmgr_error(ctx, negative_errno(),
				     "cannot arm device-mapper event poll: %m");
	return 0;
}

_public_ int snapmgr_snapshot_read_usage(struct snapmgr_ctx *ctx,
					 const char *name,
					 struct snapmgr_usage *ret)
{
	_cleanup_smdm_device_ struct smdm_device *dev = NULL;
	struct smdm_snapshot_status st;
	struct snapmgr_usage u = SNAPMGR_RESULT(struct snapmgr_usage);
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !name || !ret)
		return -EINVAL;
	r = result_check(ctx, ret, "snapmgr_usage");
	if (r < 0)
		return r;
	r = smdm_device_get(ctx, name, true, &dev);
	if (r < 0)
		return r;
	u.event_nr = dev->event_nr;
	if (!dev->target_type || (!streq(dev->target_type, "snapshot") &&
				  !streq(dev->target_type, "snapshot-merge")))
		return -ENXIO; /* no longer a snapshot */
	u.state = streq(dev->target_type, "snapshot-merge") ?
			  SNAPMGR_STATE_MERGING : SNAPMGR_STATE_ACTIVE;
	r = smdm_parse_snapshot_status(ctx, name, dev->params, &st);
	if (r < 0)
		return r;
	if (st.merge_failed)
		u.state = SNAPMGR_STATE_MERGE_FAILED;
	else if (st.overflow)
		u.state = SNAPMGR_STATE_OVERFLOW;
	else if (st.invalid)
		u.state = SNAPMGR_STATE_INVALID;
	else {
		u.has_usage = true;
		u.size_bytes = st.total_sectors * 512;
		u.used_bytes = st.used_sectors * 512;
		u.metadata_bytes = st.metadata_sectors * 512;
	}
	result_give(ret, &u, sizeof(u));
	return 0;
}
