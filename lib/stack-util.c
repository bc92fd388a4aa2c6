/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Steps shared by create, remove, merge and activate (lib/stack.c,
 * lib/merge.c, lib/activate.c): each looks before it acts, so that running
 * an operation again after a crash completes it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "backing-file.h"
#include "blockdev.h"
#include "config.h"
#include "era.h"
#include "record.h"
#include "stack.h"

void fault_point(struct snapmgr_ctx *ctx, const char *op, int *n)
{
	const char *want = getenv("SNAPMGR_DEBUG_CRASH_AT");
	char here[64];

	(*n)++;
	if (!want)
		return;
	snprintf(here, sizeof(here), "%s:%d", op, *n);
	if (streq(want, here)) {
		log_warning(ctx, "SNAPMGR_DEBUG_CRASH_AT=%s: crashing on purpose",
			    here);
		_exit(SNAPMGR_CRASH_EXIT);
	}
}

void unlockp(int *fd)
{
	if (*fd >= 0)
		close(*fd); /* releases the flock */
}

/*
 * Serialises snapctl invocations (and the daemon's actions). wait false:
 * -EAGAIN at once when someone holds it (snapmgrd's event loop must never
 * sleep on it; it tries again later).
 */
static int lock_state(struct snapmgr_ctx *ctx, bool wait, int *ret_fd)
{
	const char *dir = getenv("SNAPMGR_RUN_DIR");
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;

	if (!dir || !*dir)
		dir = SNAPMGR_RUN_DIR;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return snapmgr_error(ctx, negative_errno(),
				     "cannot create %s: %m", dir);
	if (asprintf(&path, "%s/lock", dir) < 0)
		return -ENOMEM;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return snapmgr_error(ctx, negative_errno(),
				     "cannot open lock %s: %m", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return snapmgr_error(ctx, negative_errno(),
					     "cannot lock %s: %m", path);
		if (!wait)
			return snapmgr_error(ctx, -EAGAIN,
					     "another snapctl holds %s", path);
		log_notice(ctx, "waiting for another snapctl to finish");
		if (flock(fd, LOCK_EX) < 0)
			return snapmgr_error(ctx, negative_errno(),
					     "cannot lock %s: %m", path);
	}
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int take_lock(struct snapmgr_ctx *ctx, int *ret_fd)
{
	return lock_state(ctx, true, ret_fd);
}

int new_id(char ret[33])
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != sizeof(b))
		return negative_errno();
	for (int i = 0; i < 16; i++)
		snprintf(ret + 2 * i, 3, "%02x", b[i]);
	return 0;
}

int devnum_string(dev_t d, char buf[32])
{
	snprintf(buf, 32, "%u:%u", major(d), minor(d));
	return 0;
}

/* The dm device, or NULL with 0 when there is none. */
int device_lookup(struct snapmgr_ctx *ctx, const char *name,
		     struct smdm_device **ret)
{
	int r = smdm_device_get(ctx, name, false, ret);

	if (r == -ENXIO) {
		*ret = NULL;
		return 0;
	}
	return r;
}

bool uuid_is_ours(const struct smdm_device *d, const char *kind)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), SNAPMGR_UUID_PREFIX "%s-", kind);
	return d && strncmp(d->uuid, prefix, strlen(prefix)) == 0;
}

int device_lookup_ours(struct snapmgr_ctx *ctx, const char *name, const char *kind,
		       struct smdm_device **ret)
{
	_cleanup_smdm_device_ struct smdm_device *d = NULL;
	int r;

	r = device_lookup(ctx, name, &d);
	if (r < 0)
		return r;
	if (d && !uuid_is_ours(d, kind))
		return snapmgr_error(ctx, -EEXIST, "'%s' exists and is not ours", name);
	*ret = TAKE_PTR(d);
	return 0;
}

int real_name(const char *origin, char buf[REAL_NAME_MAX])
{
	snprintf(buf, REAL_NAME_MAX, "%s-real", origin);
	return 0;
}

/* NAME-real and NAME, made or completed. */
int origin_assemble(struct snapmgr_ctx *ctx, struct origin_record *rec, int *fp)
{
	_cleanup_smdm_device_ struct smdm_device *real = NULL, *orig = NULL;
	char realname[SNAPMGR_NAME_MAX + 8], uuid[64], params[64];
	const char *name = rec->name, *id = rec->id;
	uint64_t sectors = rec->sectors;
	int r;

	real_name(name, realname);
	r = device_lookup_ours(ctx, realname, "real", &real);
	if (r < 0)
		return r;
	if (!real) {
		snprintf(uuid, sizeof(uuid), SNAPMGR_UUID_PREFIX "real-%s", id);
		/* The device, or the era layer over it when tracked. */
		r = origin_data_params(ctx, rec, params, sizeof(params));
		if (r < 0)
			return r;
		r = smdm_create(ctx, realname, uuid, "linear", sectors, params);
		if (r < 0)
			return r;
		fault_point(ctx, "create", fp);
		r = smdm_device_get(ctx, realname, false, &real);
		if (r < 0)
			return r;
	}
	snprintf(params, sizeof(params), "%u:%u", major(real->devnum), minor(real->devnum));

	r = device_lookup_ours(ctx, name, "orig", &orig);
	if (r < 0)
		return r;
	if (!orig) {
		snprintf(uuid, sizeof(uuid), SNAPMGR_UUID_PREFIX "orig-%s", id);
		r = smdm_create(ctx, name, uuid, "snapshot-origin", sectors, params);
		if (r < 0)
			return r;
		fault_point(ctx, "create", fp);
	} else if (streq(orig->target_type, "linear")) {
		/* Unwrapped earlier (remove --unwrap): wrap it again, live. */
		r = smdm_reload(ctx, name, "snapshot-origin", sectors, params);
		if (r < 0)
			return r;
		r = smdm_resume(ctx, name);
		if (r < 0)
			return r;
		fault_point(ctx, "create", fp);
	}
	rec->unwrapped = false;
	return 0;
}

int snapshot_params(struct snapmgr_ctx *ctx, const char *origin,
			   const char *cow_dev, uint64_t chunk, char *buf,
			   size_t size)
{
	_cleanup_smdm_device_ struct smdm_device *real = NULL;
	char realname[SNAPMGR_NAME_MAX + 8];
	dev_t c;
	int r;

	real_name(origin, realname);
	r = smdm_device_get(ctx, realname, false, &real);
	if (r < 0)
		return r;
	r = blockdev_devnum(cow_dev, &c);
	if (r < 0)
		return snapmgr_error(ctx, r, "COW %s: %s", cow_dev, strerror(-r));
	snprintf(buf, size, "%u:%u %u:%u P %" PRIu64, major(real->devnum),
		 minor(real->devnum), major(c), minor(c), chunk / 512);
	return 0;
}

int op_begin_flags(struct snapmgr_ctx *ctx, bool wait, int *ret_lock)
{
	int r;

	snapmgr_clear_error(ctx);
	r = smdm_setup(ctx);
	if (r < 0)
		return r;
	return lock_state(ctx, wait, ret_lock);
}

int op_begin(struct snapmgr_ctx *ctx, int *ret_lock)
{
	return op_begin_flags(ctx, true, ret_lock);
}

int cow_release(struct snapmgr_ctx *ctx, const struct snap_entry *entry,
		const char *op, int *fp)
{
	if (!entry->cow_file)
		return 0;
	return backing_file_release(ctx, "COW", entry->cow_file, entry->cow_file_created, op, fp);
}

/* Checks a block device we were told to use for a COW or era metadata. */
int check_given_device(struct snapmgr_ctx *ctx, const char *what, const char *dev,
		       dev_t origin_dev, uint64_t min_size, const char *needs,
		       bool force)
{
	_cleanup_free_ char *sig = NULL, *uuid = NULL;
	uint64_t size;
	dev_t d;
	int r;

	r = blockdev_devnum(dev, &d);
	if (r == -ENOTBLK)
		return snapmgr_error(ctx, r, "%s %s is not a block device", what, dev);
	if (r < 0)
		return snapmgr_error(ctx, r, "%s %s: %s", what, dev, strerror(-r));
	if (d == origin_dev)
		return snapmgr_error(ctx, -EINVAL,
				     "%s %s is the origin device itself", what, dev);
	if (blockdev_dm_uuid(d, &uuid) == 0 &&
	    strncmp(uuid, SNAPMGR_UUID_PREFIX, strlen(SNAPMGR_UUID_PREFIX)) == 0)
		return snapmgr_error(ctx, -EINVAL,
				     "%s %s is part of a snapmgr stack", what, dev);
	r = blockdev_check_unused(dev);
	if (r == -EBUSY)
		return snapmgr_error(ctx, r,
				     "%s %s is in use (mounted, or held by another device)",
				     what, dev);
	if (r < 0)
		return snapmgr_error(ctx, r, "%s %s: %s", what, dev, strerror(-r));
	r = blockdev_size(dev, &size);
	if (r < 0)
		return snapmgr_error(ctx, r, "%s %s: %s", what, dev, strerror(-r));
	if (size < min_size)
		return snapmgr_error(ctx, -ENOSPC,
				     "%s %s is too small: %" PRIu64 " bytes, %s needs at least %" PRIu64,
				     what, dev, size, needs, min_size);
	r = blockdev_probe_signature(dev, &sig);
	if (r < 0)
		return snapmgr_error(ctx, r, "%s %s: cannot probe: %s", what, dev,
				     strerror(-r));
	if (r > 0 && !force)
		return snapmgr_error(ctx, -EEXIST,
				     "%s %s has a %s signature on it; refusing to overwrite it without --force",
				     what, dev, sig);
	return 0;
}


int origin_record_by_name(struct snapmgr_ctx *ctx, const char *origin,
			  struct origin_record **ret)
{
	const char *name = origin;
	int r;

	if (strncmp(name, "/dev/mapper/", strlen("/dev/mapper/")) == 0)
		name += strlen("/dev/mapper/");
	if (strchr(name, '/'))
		return snapmgr_error(ctx, -ENODEV,
				     "%s is not an origin managed by snapmgr; give an origin's name ('snapctl create' wraps a device)",
				     origin);
	r = record_load(ctx, name, ret);
	if (r == -ENOENT)
		return snapmgr_error(ctx, -ENODEV,
				     "no origin named '%s' is managed by snapmgr ('snapctl create' wraps a device)",
				     name);
	return r;
}
