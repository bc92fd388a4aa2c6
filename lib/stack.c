/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Our snapshot stacks on raw block devices:
 *
 *   NAME-real  linear over DEV                 (uuid SNAPMGR-real-<id>)
 *   NAME       snapshot-origin over NAME-real  (uuid SNAPMGR-orig-<id>)
 *   SNAP       snapshot over NAME-real + COW   (uuid SNAPMGR-snap-<id>)
 *
 * Every step first looks at what is already there, so running the same
 * command again after a crash at any point finishes the job; the record is
 * written before each dm change so that `snapctl remove` can always find
 * and undo a half-made stack. SNAPMGR_DEBUG_CRASH_AT=OP:N (documented in
 * snapctl(8)) ends the process at the Nth fault point of OP, for the tests
 * that prove this.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "blockdev.h"
#include "config.h"
#include "dm.h"
#include "dm-parse.h"
#include "loop.h"
#include "record.h"
#include "stack.h"

#define MIN_CHUNK (4 * 1024)
#define MAX_CHUNK (512 * 1024)
/* Header chunk, one metadata area, one data chunk. */
#define MIN_COW_CHUNKS 3

_public_ int snapmgr_check_name(struct snapmgr_ctx *ctx, const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0)
		return snapmgr_error(ctx, -EINVAL, "name is empty");
	if (len > SNAPMGR_NAME_MAX)
		return snapmgr_error(ctx, -ENAMETOOLONG,
				     "name is %zu bytes long, the limit is %d",
				     len, SNAPMGR_NAME_MAX);
	if (streq(name, ".") || streq(name, "..") || name[0] == '-')
		return snapmgr_error(ctx, -EINVAL,
				     "name may not be '.', '..' or start with '-'");
	/* lvm2's rule for LV names: safe in /dev/mapper and in shells. */
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '+' || *p == '_' ||
		      *p == '.' || *p == '-'))
			return snapmgr_error(ctx, -EINVAL,
					     "name may only contain letters, digits and '+_.-' (found '%c')",
					     *p);
	return 0;
}

/* Checks a COW block device we were told to use. */
static int check_cow_device(struct snapmgr_ctx *ctx, const char *cow,
			    dev_t origin_dev, uint64_t chunk, bool force)
{
	_cleanup_free_ char *sig = NULL, *uuid = NULL;
	uint64_t size;
	dev_t d;
	int r;

	r = blockdev_devnum(cow, &d);
	if (r == -ENOTBLK)
		return snapmgr_error(ctx, r, "COW %s is not a block device", cow);
	if (r < 0)
		return snapmgr_error(ctx, r, "COW %s: %s", cow, strerror(-r));
	if (d == origin_dev)
		return snapmgr_error(ctx, -EINVAL,
				     "COW %s is the origin device itself", cow);
	if (blockdev_dm_uuid(d, &uuid) == 0 &&
	    strncmp(uuid, SNAPMGR_UUID_PREFIX, strlen(SNAPMGR_UUID_PREFIX)) == 0)
		return snapmgr_error(ctx, -EINVAL,
				     "COW %s is part of a snapmgr stack", cow);
	r = blockdev_check_unused(cow);
	if (r == -EBUSY)
		return snapmgr_error(ctx, r,
				     "COW %s is in use (mounted, or held by another device)",
				     cow);
	if (r < 0)
		return snapmgr_error(ctx, r, "COW %s: %s", cow, strerror(-r));
	r = blockdev_size(cow, &size);
	if (r < 0)
		return snapmgr_error(ctx, r, "COW %s: %s", cow, strerror(-r));
	if (size < MIN_COW_CHUNKS * chunk)
		return snapmgr_error(ctx, -ENOSPC,
				     "COW %s is too small: %" PRIu64 " bytes, the persistent store needs at least %" PRIu64,
				     cow, size, MIN_COW_CHUNKS * chunk);
	r = blockdev_probe_signature(cow, &sig);
	if (r < 0)
		return snapmgr_error(ctx, r, "COW %s: cannot probe: %s", cow,
				     strerror(-r));
	if (r > 0 && !force)
		return snapmgr_error(ctx, -EEXIST,
				     "COW %s has a %s signature on it; refusing to overwrite it without --force",
				     cow, sig);
	return 0;
}

/*
 * Finds or starts the record of the origin: from a raw device path (wrapped
 * on first use) or the name of an origin we manage.
 */
static int origin_prepare(struct snapmgr_ctx *ctx,
			  const struct snapmgr_create_opts *o,
			  char **ret_name, json_object **ret_rec)
{
	_cleanup_free_ char *name = NULL, *uuid = NULL, *copy = NULL;
	_cleanup_dm_device_ struct dm_device *dm = NULL, *dmreal = NULL;
	char devs[32], real[SNAPMGR_NAME_MAX + 8], id[33];
	json_object *rec = NULL;
	uint64_t size;
	dev_t d;
	int r;

	if (!strchr(o->origin, '/')) {
		/* The name of an origin we manage. */
		r = record_load(ctx, o->origin, &rec);
		if (r == -ENOENT)
			return snapmgr_error(ctx, -ENODEV,
					     "no origin named '%s' is managed by snapmgr (give a device path to wrap one)",
					     o->origin);
		if (r < 0)
			return r;
		name = strdup(o->origin);
		if (!name) {
			json_object_put(rec);
			return -ENOMEM;
		}
		*ret_name = TAKE_PTR(name);
		*ret_rec = rec;
		return 0;
	}

	r = blockdev_devnum(o->origin, &d);
	if (r == -ENOENT)
		return snapmgr_error(ctx, r, "origin %s: no such device", o->origin);
	if (r == -ENOTBLK)
		return snapmgr_error(ctx, r, "origin %s: not a block device", o->origin);
	if (r < 0)
		return snapmgr_error(ctx, r, "origin %s: %s", o->origin, strerror(-r));
	r = blockdev_dm_uuid(d, &uuid);
	if (r < 0)
		return r;
	if (strncmp(uuid, "LVM-", 4) == 0)
		return snapmgr_error(ctx, -EPERM,
				     "origin %s is an LVM logical volume; lvm2 owns its metadata, use 'lvcreate -s' (its snapshots are listed and monitored all the same)", o->origin);
	if (strncmp(uuid, SNAPMGR_UUID_PREFIX "orig-", 13) == 0) {
		_cleanup_free_ char *path = NULL;

		/* /dev/mapper/NAME of one of our origins: same as NAME. */
		r = blockdev_path_for_devnum(d, &path);
		if (r < 0)
			return r;
		r = record_load(ctx, path + strlen("/dev/mapper/"), &rec);
		if (r < 0)
			return snapmgr_error(ctx, r,
					     "origin %s is a snapmgr origin without a record (run 'snapctl activate')", o->origin);
		name = strdup(path + strlen("/dev/mapper/"));
		if (!name)
			return -ENOMEM;
		*ret_name = TAKE_PTR(name);
		*ret_rec = rec;
		return 0;
	}
	if (strncmp(uuid, SNAPMGR_UUID_PREFIX, strlen(SNAPMGR_UUID_PREFIX)) == 0)
		return snapmgr_error(ctx, -EINVAL,
				     "origin %s is part of a snapmgr stack; give the origin's name instead", o->origin);

	if (o->origin_name) {
		name = strdup(o->origin_name);
	} else {
		copy = strdup(o->origin);
		name = copy ? strdup(basename(copy)) : NULL;
	}
	if (!name)
		return -ENOMEM;
	r = snapmgr_check_name(ctx, name);
	if (r < 0)
		return r;
	devnum_string(d, devs);

	r = record_load(ctx, name, &rec);
	if (r == 0) {
		/* Re-run after a crash, or a second snapshot by path. */
		if (!streq(json_get_string(rec, "devnum"), devs)) {
			json_object_put(rec);
			return snapmgr_error(ctx, -EEXIST,
					     "origin name '%s' is already taken by another device",
					     name);
		}
		*ret_name = TAKE_PTR(name);
		*ret_rec = rec;
		return 0;
	}
	if (r != -ENOENT)
		return r;

	/* First use of this device: nothing may hold it, no name clash. */
	real_name(name, real);
	r = dm_lookup(ctx, name, &dm);
	if (r < 0)
		return r;
	if (dm)
		return snapmgr_error(ctx, -EEXIST,
				     "origin name '%s' is already taken by a device-mapper device",
				     name);
	r = dm_lookup(ctx, real, &dmreal);
	if (r < 0)
		return r;
	if (dmreal)
		return snapmgr_error(ctx, -EEXIST,
				     "device-mapper name '%s' is already taken", real);
	r = blockdev_check_unused(o->origin);
	if (r == -EBUSY)
		return snapmgr_error(ctx, r,
				     "origin %s is in use (mounted, or held by another device); unmount it first", o->origin);
	if (r < 0)
		return snapmgr_error(ctx, r, "%s", strerror(-r));
	r = blockdev_size(o->origin, &size);
	if (r < 0)
		return snapmgr_error(ctx, r, "%s", strerror(-r));
	if (size < 512 || size % 512)
		return snapmgr_error(ctx, -EINVAL, "size %" PRIu64 " is not a whole number of sectors", size);
	r = new_id(id);
	if (r < 0)
		return r;

	rec = json_object_new_object();
	json_object_object_add(rec, "version", json_object_new_int(1));
	json_set_string(rec, "name", name);
	json_set_string(rec, "id", id);
	json_set_string(rec, "device", o->origin);
	json_set_string(rec, "devnum", devs);
	json_object_object_add(rec, "sectors", json_object_new_int64((int64_t)(size / 512)));
	json_object_object_add(rec, "snapshots", json_object_new_array());
	*ret_name = TAKE_PTR(name);
	*ret_rec = rec;
	return 0;
}

static int create_locked(struct snapmgr_ctx *ctx,
			 const struct snapmgr_create_opts *o)
{
	_cleanup_free_ char *origin = NULL;
	_cleanup_dm_device_ struct dm_device *snapdev = NULL, *origdev = NULL;
	json_object *rec = NULL, *entry;
	char params[128], uuid[64], id[33];
	dev_t origin_dev = 0;
	int64_t sectors;
	int fp = 0, r;

	r = origin_prepare(ctx, o, &origin, &rec);
	if (r < 0)
		return r;
	sectors = json_get_int(rec, "sectors");
	if (streq(o->snapshot, origin) || (strlen(o->snapshot) == strlen(origin) + 5 &&
					    strncmp(o->snapshot, origin, strlen(origin)) == 0 &&
					    streq(o->snapshot + strlen(origin), "-real"))) {
		r = snapmgr_error(ctx, -EEXIST, "name is used by the origin's stack");
		goto out;
	}
	(void)parse_devnum(json_get_string(rec, "devnum"), &origin_dev);

	entry = record_find_snapshot(rec, o->snapshot, NULL);
	r = dm_lookup(ctx, o->snapshot, &snapdev);
	if (r < 0)
		goto out;
	if (entry && streq(json_get_string(entry, "state"), "active")) {
		r = snapmgr_error(ctx, -EEXIST, "snapshot already exists");
		goto out;
	}
	if (!entry) {
		_cleanup_free_ char *other = NULL;

		if (snapdev || record_find_origin_of(ctx, o->snapshot, &other) == 0) {
			r = snapmgr_error(ctx, -EEXIST, "name is already taken");
			goto out;
		}
		if (o->cow_device) {
			r = check_cow_device(ctx, o->cow_device, origin_dev,
					     o->chunk_size, o->force);
			if (r < 0)
				goto out;
		} else {
			struct stat st;

			if (o->cow_size < MIN_COW_CHUNKS * o->chunk_size) {
				r = snapmgr_error(ctx, -ENOSPC,
						  "COW size %" PRIu64 " is too small, the persistent store needs at least %" PRIu64 " bytes",
						  o->cow_size, MIN_COW_CHUNKS * o->chunk_size);
				goto out;
			}
			if (stat(o->cow_file, &st) == 0) {
				r = snapmgr_error(ctx, -EEXIST,
						  "COW file %s already exists; remove it or give it with --cow after attaching it",
						  o->cow_file);
				goto out;
			}
		}
		r = new_id(id);
		if (r < 0)
			goto out;
		entry = json_object_new_object();
		json_set_string(entry, "name", o->snapshot);
		json_set_string(entry, "id", id);
		json_set_string(entry, "state", "creating");
		json_object_object_add(entry, "chunk_size", json_object_new_int64((int64_t)o->chunk_size));
		json_set_string(entry, "cow_device", o->cow_device);
		if (o->cow_file) {
			_cleanup_free_ char *abs = NULL;
			_cleanup_free_ char *dircopy = strdup(o->cow_file);
			_cleanup_free_ char *dirabs = dircopy ? realpath(dirname(dircopy), NULL) : NULL;
			_cleanup_free_ char *basecopy = strdup(o->cow_file);

			if (!dirabs) {
				r = snapmgr_error(ctx, negative_errno(),
						  "COW file %s: directory does not exist", o->cow_file);
				goto out;
			}
			if (!basecopy || asprintf(&abs, "%s/%s", dirabs, basename(basecopy)) < 0) {
				r = -ENOMEM;
				goto out;
			}
			json_set_string(entry, "cow_file", abs);
			json_object_object_add(entry, "cow_size", json_object_new_int64((int64_t)o->cow_size));
			json_object_object_add(entry, "cow_file_created", json_object_new_boolean(true));
		}
		json_object_array_add(json_object_object_get(rec, "snapshots"), entry);
		r = record_save(ctx, origin, rec);
		if (r < 0)
			goto out;
		fault_point(ctx, "create", &fp);
	} else if (snapdev && !uuid_is_ours(snapdev, "snap")) {
		r = snapmgr_error(ctx, -EEXIST, "name is already taken");
		goto out;
	}

	r = origin_assemble(ctx, origin, rec, &fp);
	if (r < 0)
		goto out;
	r = record_save(ctx, origin, rec);
	if (r < 0)
		goto out;

	if (json_get_string(entry, "cow_file")) {
		const char *file = json_get_string(entry, "cow_file");
		_cleanup_free_ char *loopdev = NULL;

		if (access(file, F_OK) < 0) {
			_cleanup_close_ int fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

			if (fd < 0 || ftruncate(fd, json_get_int(entry, "cow_size")) < 0) {
				r = snapmgr_error(ctx, negative_errno(),
						  "cannot create COW file %s: %m", file);
				goto out;
			}
			fault_point(ctx, "create", &fp);
		}
		if (loop_find(file, &loopdev) < 0) {
			r = loop_attach(ctx, file, &loopdev);
			if (r < 0)
				goto out;
			fault_point(ctx, "create", &fp);
		}
		json_set_string(entry, "cow_device", loopdev);
		r = record_save(ctx, origin, rec);
		if (r < 0)
			goto out;
	}

	if (!snapdev) {
		const char *cow = json_get_string(entry, "cow_device");
		uint64_t chunk = (uint64_t)json_get_int(entry, "chunk_size");

		/* A stale header would make the kernel load old exceptions. */
		r = blockdev_zero_head(cow, chunk);
		if (r < 0) {
			r = snapmgr_error(ctx, r, "cannot initialise COW %s: %s", cow, strerror(-r));
			goto out;
		}
		fault_point(ctx, "create", &fp);
		r = snapshot_params(ctx, origin, cow, chunk, params, sizeof(params));
		if (r < 0)
			goto out;
		/* Writes in flight to the origin finish before the snapshot exists. */
		r = dm_suspend(ctx, origin);
		if (r < 0)
			goto out;
		fault_point(ctx, "create", &fp);
		snprintf(uuid, sizeof(uuid), SNAPMGR_UUID_PREFIX "snap-%s",
			 json_get_string(entry, "id"));
		r = dm_create(ctx, o->snapshot, uuid, "snapshot", (uint64_t)sectors, params);
		if (r < 0) {
			(void)dm_resume(ctx, origin);
			goto out;
		}
		fault_point(ctx, "create", &fp);
	}
	/* Resume the origin if an earlier run left it suspended. */
	r = dm_device_get(ctx, origin, false, &origdev);
	if (r < 0)
		goto out;
	if (origdev->suspended) {
		r = dm_resume(ctx, origin);
		if (r < 0)
			goto out;
	}
	/* The last step: a crash after it is the same as success. */
	json_set_string(entry, "state", "active");
	r = record_save(ctx, origin, rec);
	if (r < 0)
		goto out;
	r = 0;
out:
	json_object_put(rec);
	return r;
}

_public_ int snapmgr_create(struct snapmgr_ctx *ctx,
			    const struct snapmgr_create_opts *o)
{
	_cleanup_(unlockp) int lock = -1;
	int r;

	if (!ctx || !o || !o->snapshot || !o->origin)
		return -EINVAL;
	snapmgr_clear_error(ctx);
	dm_setup(ctx);
	r = snapmgr_check_name(ctx, o->snapshot);
	if (r < 0)
		return r;
	if (o->origin_name) {
		r = snapmgr_check_name(ctx, o->origin_name);
		if (r < 0)
			return snapmgr_error(ctx, r, "origin %s", snapmgr_get_error(ctx));
	}
	if (o->chunk_size < MIN_CHUNK || o->chunk_size > MAX_CHUNK ||
	    (o->chunk_size & (o->chunk_size - 1)))
		return snapmgr_error(ctx, -EINVAL,
				     "chunk size %" PRIu64 " is not a power of two from 4 KiB to 512 KiB",
				     o->chunk_size);
	if (!!o->cow_device == !!o->cow_file)
		return snapmgr_error(ctx, -EINVAL,
				     "give exactly one of a COW device or a COW file");
	r = take_lock(ctx, &lock);
	if (r < 0)
		return r;
	return create_locked(ctx, o);
}

/*
 * The last snapshot is gone: the origin becomes a plain linear mapping of
 * its device again and the -real device goes. Each step is skipped when it
 * is done already, so a re-run after a crash finishes the job.
 */
static int unwrap_origin(struct snapmgr_ctx *ctx, const char *origin,
			 json_object *rec, const struct dm_device *origdev,
			 int *fp)
{
	char realname[SNAPMGR_NAME_MAX + 8], params[64];
	int r;

	fault_point(ctx, "remove", fp);
	real_name(origin, realname);
	snprintf(params, sizeof(params), "%s 0", json_get_string(rec, "devnum"));
	if (origdev && streq(origdev->target_type, "snapshot-origin")) {
		r = dm_reload(ctx, origin, "linear",
			      (uint64_t)json_get_int(rec, "sectors"), params);
		if (r >= 0)
			r = dm_resume(ctx, origin);
		if (r < 0)
			return r;
		fault_point(ctx, "remove", fp);
	}
	r = dm_remove(ctx, realname);
	return r == -ENXIO ? 0 : r;
}

static int remove_locked(struct snapmgr_ctx *ctx, const char *snap,
			 unsigned flags)
{
	_cleanup_free_ char *origin = NULL;
	_cleanup_dm_device_ struct dm_device *snapdev = NULL, *origdev = NULL;
	json_object *rec = NULL, *entry, *arr;
	size_t idx;
	bool last;
	int fp = 0, r;

	r = dm_lookup(ctx, snap, &snapdev);
	if (r < 0)
		return r;
	r = record_find_origin_of(ctx, snap, &origin);
	if (r == -ENOENT) {
		if (!snapdev)
			return snapmgr_error(ctx, -ENOENT, "no such snapshot");
		if (!uuid_is_ours(snapdev, "snap")) {
			enum snapmgr_owner owner = snapmgr_owner_from_uuid(snapdev->uuid);

			return snapmgr_error(ctx, -EPERM,
					     "not managed by snapmgr (owner %s)%s",
					     snapmgr_owner_to_string(owner),
					     owner == SNAPMGR_OWNER_LVM2 ? "; use lvremove" : "");
		}
		return snapmgr_error(ctx, -EBADMSG,
				     "is ours but has no record; remove it with dmsetup");
	}
	if (r < 0)
		return r;
	r = record_load(ctx, origin, &rec);
	if (r < 0)
		return r;
	entry = record_find_snapshot(rec, snap, &idx);
	if (snapdev && !uuid_is_ours(snapdev, "snap")) {
		r = snapmgr_error(ctx, -EPERM, "dm device %s is not ours", snap);
		goto out;
	}
	if (snapdev && snapdev->open_count > 0 && !(flags & SNAPMGR_REMOVE_FORCE)) {
		r = snapmgr_error(ctx, -EBUSY,
				  "is in use (mounted or open); unmount it, or use --force");
		goto out;
	}
	last = json_object_array_length(json_object_object_get(rec, "snapshots")) == 1;
	if (last && (flags & SNAPMGR_REMOVE_RELEASE)) {
		_cleanup_dm_device_ struct dm_device *o = NULL;

		r = dm_lookup(ctx, origin, &o);
		if (r < 0)
			goto out;
		if (o && o->open_count > 0) {
			r = snapmgr_error(ctx, -EBUSY,
					  "origin %s is in use (mounted or open); unmount it, or use --unwrap",
					  origin);
			goto out;
		}
	}
	json_set_string(entry, "state", "removing");
	r = record_save(ctx, origin, rec);
	if (r < 0)
		goto out;
	fault_point(ctx, "remove", &fp);

	if (snapdev) {
		if (snapdev->open_count > 0) {
			/* --force: the holder gets I/O errors from now on. */
			r = dm_reload(ctx, snap, "error", snapdev->length, "");
			if (r >= 0)
				r = dm_resume(ctx, snap);
			if (r < 0)
				goto out;
		}
		r = dm_lookup(ctx, origin, &origdev);
		if (r < 0)
			goto out;
		if (origdev) {
			r = dm_suspend(ctx, origin);
			if (r < 0)
				goto out;
			fault_point(ctx, "remove", &fp);
		}
		r = snapdev->open_count > 0 ? dm_remove_deferred(ctx, snap) :
					      dm_remove(ctx, snap);
		if (r < 0 && r != -ENXIO) {
			if (origdev)
				(void)dm_resume(ctx, origin);
			goto out;
		}
		fault_point(ctx, "remove", &fp);
	}
	dm_device_free(origdev);
	origdev = NULL;
	r = dm_lookup(ctx, origin, &origdev);
	if (r < 0)
		goto out;
	if (origdev && origdev->suspended) {
		r = dm_resume(ctx, origin);
		if (r < 0)
			goto out;
	}

	r = cow_release(ctx, entry, "remove", &fp);
	if (r < 0)
		goto out;
	/*
	 * The entry stays ("removing") until the origin is unwrapped or
	 * released too, so a re-run after a crash finds it and finishes.
	 */
	if (last && (flags & (SNAPMGR_REMOVE_UNWRAP | SNAPMGR_REMOVE_RELEASE))) {
		r = unwrap_origin(ctx, origin, rec, origdev, &fp);
		if (r < 0)
			goto out;
	}
	if (last && (flags & SNAPMGR_REMOVE_RELEASE)) {
		r = dm_remove(ctx, origin);
		if (r == -EBUSY)
			r = snapmgr_error(ctx, r,
					  "origin %s was opened meanwhile; it stays as a linear mapping",
					  origin);
		if (r < 0 && r != -ENXIO)
			goto out;
		fault_point(ctx, "remove", &fp);
		r = record_delete(ctx, origin);
		goto out;
	}
	arr = json_object_object_get(rec, "snapshots");
	json_object_array_del_idx(arr, idx, 1);
	if (last && (flags & SNAPMGR_REMOVE_UNWRAP))
		json_object_object_add(rec, "unwrapped", json_object_new_boolean(true));
	r = record_save(ctx, origin, rec);
	if (r < 0)
		goto out;
	r = 0;
out:
	json_object_put(rec);
	return r;
}

_public_ int snapmgr_remove(struct snapmgr_ctx *ctx, const char *snap,
			    unsigned flags)
{
	_cleanup_(unlockp) int lock = -1;
	int r;

	if (!ctx || !snap)
		return -EINVAL;
	r = op_begin(ctx, &lock);
	if (r < 0)
		return r;
	return remove_locked(ctx, snap, flags);
}
