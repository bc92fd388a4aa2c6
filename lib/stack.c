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
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "backing-file.h"
#include "blockdev.h"
#include "config.h"
#include "dm.h"
#include "dm-parse.h"
#include "era.h"
#include "error-private.h"
#include "record.h"
#include "stack.h"

#define MIN_CHUNK (4 * 1024)
#define MAX_CHUNK (512 * 1024)
/* Header chunk, one metadata area, one data chunk. */
#define MIN_COW_CHUNKS 3

_public_ int snapmgr_check_name(struct snapmgr_ctx *ctx, const char *name)
{
	size_t len = name ? strlen(name) : 0;

	SNAPMGR_ENTRY(ctx);
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

/*
 * Finds or starts the record of the origin: from a raw device path (wrapped
 * on first use) or the name of an origin we manage.
 */
int origin_prepare(struct snapmgr_ctx *ctx,
			  const struct snapmgr_create_opts *o,
			  struct origin_record **ret_rec)
{
	_cleanup_free_ char *name = NULL, *uuid = NULL, *copy = NULL;
	_cleanup_smdm_device_ struct smdm_device *dm = NULL, *dmreal = NULL;
	_cleanup_record_ struct origin_record *rec = NULL;
	char devs[32], real[SNAPMGR_NAME_MAX + 8], id[33];
	uint64_t size;
	dev_t d;
	int r;

	if (!strchr(o->origin, '/')) {
		/* The name of an origin we manage. */
		r = record_load(ctx, o->origin, ret_rec);
		if (r == -ENOENT)
			return snapmgr_error(ctx, -ENODEV,
					     "no origin named '%s' is managed by snapmgr (give a device path to wrap one)",
					     o->origin);
		return r;
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
		r = record_load(ctx, path + strlen("/dev/mapper/"), ret_rec);
		if (r == -ENOENT)
			return snapmgr_error(ctx, r,
					     "origin %s is a snapmgr origin without a record (run 'snapctl activate')", o->origin);
		return r;
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
		if (!streq(rec->devnum, devs))
			return snapmgr_error(ctx, -EEXIST,
					     "origin name '%s' is already taken by another device",
					     name);
		*ret_rec = TAKE_PTR(rec);
		return 0;
	}
	if (r != -ENOENT)
		return r;

	/* First use of this device: nothing may hold it, no name clash. */
	real_name(name, real);
	r = device_lookup(ctx, name, &dm);
	if (r < 0)
		return r;
	if (dm)
		return snapmgr_error(ctx, -EEXIST,
				     "origin name '%s' is already taken by a device-mapper device",
				     name);
	r = device_lookup(ctx, real, &dmreal);
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
	return origin_record_new(name, id, o->origin, devs, size / 512, ret_rec);
}

/* A new entry in state creating, for a snapshot not yet in the record. */
int entry_new(struct snapmgr_ctx *ctx, const struct snapmgr_create_opts *o,
	      const char *schedule, dev_t origin_dev, struct origin_record *rec,
	      struct snap_entry **ret)
{
	_cleanup_free_ char *other = NULL, *abs = NULL;
	struct snap_entry *entry;
	char id[33];
	int r;

	if (record_find_origin_of(ctx, o->snapshot, &other) == 0)
		return snapmgr_error(ctx, -EEXIST, "name is already taken");
	/* remove and merge take set names too: one name, one meaning. */
	if (set_name_taken(ctx, o->snapshot) > 0)
		return snapmgr_error(ctx, -EEXIST, "name is taken by a snapshot set");
	if (o->cow_device) {
		r = check_given_device(ctx, "COW", o->cow_device, origin_dev,
				       MIN_COW_CHUNKS * o->chunk_size,
				       "the persistent store", o->force);
		if (r < 0)
			return r;
	} else {
		if (o->cow_size < MIN_COW_CHUNKS * o->chunk_size)
			return snapmgr_error(ctx, -ENOSPC,
					     "COW size %" PRIu64 " is too small, the persistent store needs at least %" PRIu64 " bytes",
					     o->cow_size, MIN_COW_CHUNKS * o->chunk_size);
		r = backing_file_absolute(ctx, "COW", o->cow_file,
					  "remove it or give it with --cow after attaching it", &abs);
		if (r < 0)
			return r;
	}
	r = new_id(id);
	if (r < 0)
		return r;
	r = record_add_snapshot(rec, &entry);
	if (r < 0)
		return r;
	entry->state = SNAP_CREATING;
	entry->chunk_size = o->chunk_size;
	entry->cow_file = TAKE_PTR(abs);
	entry->cow_file_created = !!entry->cow_file;
	entry->cow_size = entry->cow_file ? o->cow_size : 0;
	/* Saved with the first record write: prune's facts survive a crash. */
	entry->created = (int64_t)time(NULL);
	if (set_string(&entry->name, o->snapshot) < 0 || set_string(&entry->id, id) < 0 ||
	    set_string(&entry->cow_device, o->cow_device) < 0 ||
	    set_string(&entry->schedule, schedule) < 0)
		return -ENOMEM;
	*ret = entry;
	return 0;
}

/* Creates the entry's COW file if needed and attaches it to a loop device. */
int cow_file_prepare(struct snapmgr_ctx *ctx, struct snap_entry *entry, int *fp)
{
	return backing_file_prepare(ctx, "COW", entry->cow_file, entry->cow_size, "create", fp,
				    &entry->cow_device);
}

static bool tracked(const struct origin_record *rec)
{
	return origin_tracked(rec);
}

/*
 * A tracked origin's snapshot gets a change token. Before the suspend, a
 * conservative one is saved: the era current then, which holds writes
 * from before the snapshot too but misses none after it. It stays if a
 * crash comes before the exact one (the era after the checkpoint inside
 * the suspend) is saved with the snapshot.
 */
int token_before_suspend(struct snapmgr_ctx *ctx, struct origin_record *rec,
				struct snap_entry *entry, int *fp)
{
	char token[TOKEN_MAX];
	struct era_status st;
	int r;

	if (!tracked(rec) || entry->change_token)
		return 0;
	r = era_status(ctx, rec->name, &st);
	if (r < 0)
		return r;
	token_format(rec->tracking->id, st.era, token);
	r = set_string(&entry->change_token, token);
	if (r < 0)
		return r;
	r = record_save(ctx, rec);
	if (r < 0)
		return r;
	fault_point(ctx, "create", fp);
	return 0;
}

/* Loads the snapshot device, the origin suspended around it. */
static int snapshot_load(struct snapmgr_ctx *ctx, const struct origin_record *rec,
			 struct snap_entry *entry, int *fp)
{
	char params[128], uuid[64], token[TOKEN_MAX];
	uint32_t era = 0;
	int r;

	/* A stale header would make the kernel load old exceptions. */
	r = blockdev_zero_head(entry->cow_device, entry->chunk_size);
	if (r < 0)
		return snapmgr_error(ctx, r, "cannot initialise COW %s: %s",
				     entry->cow_device, strerror(-r));
	fault_point(ctx, "create", fp);
	r = snapshot_params(ctx, rec->name, entry->cow_device, entry->chunk_size,
			    params, sizeof(params));
	if (r < 0)
		return r;
	/* Writes in flight to the origin finish before the snapshot exists. */
	r = smdm_suspend(ctx, rec->name);
	if (r < 0)
		return r;
	fault_point(ctx, "create", fp);
	/*
	 * Nothing reaches the origin now: every write before the snapshot
	 * is in an era before the new one, every write after it in the new
	 * one or later.
	 */
	if (tracked(rec)) {
		r = era_checkpoint(ctx, rec->name, &era);
		if (r < 0) {
			(void)smdm_resume(ctx, rec->name);
			return r;
		}
		fault_point(ctx, "create", fp);
	}
	snprintf(uuid, sizeof(uuid), SNAPMGR_UUID_PREFIX "snap-%s", entry->id);
	r = smdm_create(ctx, entry->name, uuid, "snapshot", rec->sectors, params);
	if (r < 0) {
		(void)smdm_resume(ctx, rec->name);
		return r;
	}
	fault_point(ctx, "create", fp);
	if (tracked(rec)) {
		token_format(rec->tracking->id, era, token);
		r = set_string(&entry->change_token, token);
		if (r < 0)
			return r;
	}
	return 0;
}

static int create_locked(struct snapmgr_ctx *ctx,
			 const struct snapmgr_create_opts *o,
			 const char *schedule, const struct snapmgr_track_opts *track)
{
	_cleanup_record_ struct origin_record *rec = NULL;
	_cleanup_smdm_device_ struct smdm_device *snapdev = NULL, *origdev = NULL;
	struct snap_entry *entry;
	const char *origin;
	size_t olen;
	dev_t origin_dev = 0;
	int fp = 0, r;

	r = origin_prepare(ctx, o, &rec);
	if (r < 0)
		return r;
	origin = rec->name;
	olen = strlen(origin);
	if (streq(o->snapshot, origin) ||
	    (strncmp(o->snapshot, origin, olen) == 0 && streq(o->snapshot + olen, "-real")))
		return snapmgr_error(ctx, -EEXIST, "name is used by the origin's stack");
	(void)parse_devnum(rec->devnum, &origin_dev);

	entry = record_find_snapshot(rec, o->snapshot);
	r = device_lookup(ctx, o->snapshot, &snapdev);
	if (r < 0)
		return r;
	if (entry && entry->state == SNAP_REMOVING)
		return snapmgr_error(ctx, -EEXIST,
				     "was being removed when it stopped; run 'snapctl remove %s' to finish",
				     o->snapshot);
	/* Only a create that stopped half-way may be run again. */
	if (entry && entry->state != SNAP_CREATING)
		return snapmgr_error(ctx, -EEXIST, "snapshot already exists");
	if (!entry) {
		if (snapdev)
			return snapmgr_error(ctx, -EEXIST, "name is already taken");
		r = entry_new(ctx, o, schedule, origin_dev, rec, &entry);
		if (r < 0)
			return r;
		r = record_save(ctx, rec);
		if (r < 0)
			return r;
		fault_point(ctx, "create", &fp);
	} else if (snapdev && !uuid_is_ours(snapdev, "snap")) {
		return snapmgr_error(ctx, -EEXIST, "name is already taken");
	}

	r = origin_assemble(ctx, rec, &fp);
	if (r < 0)
		return r;
	r = record_save(ctx, rec);
	if (r < 0)
		return r;
	/* create --track: the era layer first, so the snapshot gets a token. */
	if (track && !origin_tracked(rec)) {
		r = track_steps(ctx, rec, track, "create", &fp);
		if (r < 0)
			return r;
	}

	if (entry->cow_file) {
		r = cow_file_prepare(ctx, entry, &fp);
		if (r < 0)
			return r;
		r = record_save(ctx, rec);
		if (r < 0)
			return r;
	}
	if (!snapdev) {
		r = token_before_suspend(ctx, rec, entry, &fp);
		if (r < 0)
			return r;
		r = snapshot_load(ctx, rec, entry, &fp);
		if (r < 0)
			return r;
	}
	/* Resume the origin if an earlier run left it suspended. */
	r = smdm_device_get(ctx, origin, false, &origdev);
	if (r < 0)
		return r;
	if (origdev->suspended) {
		r = smdm_resume(ctx, origin);
		if (r < 0)
			return r;
	}
	/* The last step: a crash after it is the same as success. */
	entry->state = SNAP_ACTIVE;
	return record_save(ctx, rec);
}

static int create(struct snapmgr_ctx *ctx, const struct snapmgr_create_opts *theirs,
		  const char *schedule)
{
	_cleanup_(unlockp) int lock = -1;
	struct snapmgr_create_opts ours;
	const struct snapmgr_create_opts *o = &ours;
	struct snapmgr_track_opts track;
	int r;

	if (!ctx || !theirs)
		return -EINVAL;
	snapmgr_clear_error(ctx);
	r = opts_take(ctx, &ours, sizeof(ours), theirs, "snapmgr_create_opts");
	if (r < 0)
		return r;
	if (!o->snapshot || !o->origin)
		return -EINVAL;
	r = snapmgr_check_name(ctx, o->snapshot);
	if (r < 0)
		return r;
	if (o->origin_name) {
		r = snapmgr_check_name(ctx, o->origin_name);
		if (r < 0) {
			/*
			 * A copy: formatting the context's message into itself
			 * would be an overlapping vsnprintf (undefined).
			 */
			char why[256];

			snprintf(why, sizeof(why), "%s", snapmgr_get_error(ctx) ?: strerror(-r));
			return snapmgr_error(ctx, r, "origin %s", why);
		}
	}
	if (o->chunk_size < MIN_CHUNK || o->chunk_size > MAX_CHUNK ||
	    (o->chunk_size & (o->chunk_size - 1)))
		return snapmgr_error(ctx, -EINVAL,
				     "chunk size %" PRIu64 " is not a power of two from 4 KiB to 512 KiB",
				     o->chunk_size);
	if (!!o->cow_device == !!o->cow_file)
		return snapmgr_error(ctx, -EINVAL,
				     "give exactly one of a COW device or a COW file");
	if (o->track) {
		r = opts_take(ctx, &track, sizeof(track), o->track, "snapmgr_track_opts");
		if (r < 0)
			return r;
	}
	r = smdm_setup(ctx);
	if (r < 0)
		return r;
	r = take_lock(ctx, &lock);
	if (r < 0)
		return r;
	return create_locked(ctx, o, schedule, o->track ? &track : NULL);
}

_public_ int snapmgr_create(struct snapmgr_ctx *ctx,
			    const struct snapmgr_create_opts *o)
{
	SNAPMGR_ENTRY(ctx);
	return create(ctx, o, NULL);
}

_public_ int snapmgr_create_scheduled(struct snapmgr_ctx *ctx,
				      const struct snapmgr_create_opts *o,
				      const char *schedule)
{
	SNAPMGR_ENTRY(ctx);
	if (!schedule || !*schedule)
		return -EINVAL;
	return create(ctx, o, schedule);
}

/*
 * The last snapshot is gone: the origin becomes a plain linear mapping of
 * its device again and the -real device goes. Each step is skipped when it
 * is done already, so a re-run after a crash finishes the job.
 */
static int unwrap_origin(struct snapmgr_ctx *ctx, const struct origin_record *rec,
			 const struct smdm_device *origdev, int *fp)
{
	char realname[SNAPMGR_NAME_MAX + 8], params[64];
	int r;

	fault_point(ctx, "remove", fp);
	real_name(rec->name, realname);
	r = origin_data_params(ctx, rec, params, sizeof(params));
	if (r < 0)
		return r;
	if (origdev && streq(origdev->target_type, "snapshot-origin")) {
		r = smdm_reload(ctx, rec->name, "linear", rec->sectors, params);
		if (r >= 0)
			r = smdm_resume(ctx, rec->name);
		if (r < 0)
			return r;
		fault_point(ctx, "remove", fp);
	}
	r = smdm_remove(ctx, realname);
	return r == -ENXIO ? 0 : r;
}

/* Why snap, which has no record, cannot be removed. */
static int remove_unrecorded(struct snapmgr_ctx *ctx, const struct smdm_device *snapdev)
{
	enum snapmgr_owner owner;

	if (!snapdev)
		return snapmgr_error(ctx, -ENOENT, "no such snapshot");
	if (uuid_is_ours(snapdev, "snap"))
		return snapmgr_error(ctx, -EBADMSG,
				     "is ours but has no record; remove it with dmsetup");
	owner = snapmgr_owner_from_uuid(snapdev->uuid);
	return snapmgr_error(ctx, -EPERM, "not managed by snapmgr (owner %s)%s",
			     snapmgr_owner_to_string(owner),
			     owner == SNAPMGR_OWNER_LVM2 ? "; use lvremove" : "");
}

/* Takes the snapshot device away, the origin suspended around it. */
static int snapshot_unload(struct snapmgr_ctx *ctx, const char *origin,
			   const struct smdm_device *snapdev, int *fp)
{
	_cleanup_smdm_device_ struct smdm_device *origdev = NULL;
	int r;

	if (snapdev->open_count > 0) {
		/* --force: the holder gets I/O errors from now on. */
		r = smdm_reload(ctx, snapdev->name, "error", snapdev->length, "");
		if (r >= 0)
			r = smdm_resume(ctx, snapdev->name);
		if (r < 0)
			return r;
	}
	r = device_lookup(ctx, origin, &origdev);
	if (r < 0)
		return r;
	if (origdev) {
		r = smdm_suspend(ctx, origin);
		if (r < 0)
			return r;
		fault_point(ctx, "remove", fp);
	}
	r = snapdev->open_count > 0 ? smdm_remove_deferred(ctx, snapdev->name) :
				      smdm_remove(ctx, snapdev->name);
	if (r < 0 && r != -ENXIO) {
		if (origdev)
			(void)smdm_resume(ctx, origin);
		return r;
	}
	fault_point(ctx, "remove", fp);
	return 0;
}

int remove_locked(struct snapmgr_ctx *ctx, const char *snap,
			 unsigned flags)
{
	_cleanup_smdm_device_ struct smdm_device *snapdev = NULL, *origdev = NULL;
	_cleanup_record_ struct origin_record *rec = NULL;
	struct snap_entry *entry;
	const char *origin;
	bool last;
	int fp = 0, r;

	r = device_lookup(ctx, snap, &snapdev);
	if (r < 0)
		return r;
	r = record_load_of(ctx, snap, &rec, &entry);
	if (r == -ENOENT)
		return remove_unrecorded(ctx, snapdev);
	if (r < 0)
		return r;
	origin = rec->name;
	if (snapdev && !uuid_is_ours(snapdev, "snap"))
		return snapmgr_error(ctx, -EPERM, "dm device %s is not ours", snap);
	if (snapdev && snapdev->open_count > 0 && !(flags & SNAPMGR_REMOVE_FORCE))
		return snapmgr_error(ctx, -EBUSY,
				     "is in use (mounted or open); unmount it, or use --force");
	last = rec->n_snapshots == 1;
	if (last && (flags & SNAPMGR_REMOVE_RELEASE)) {
		_cleanup_smdm_device_ struct smdm_device *o = NULL;

		r = device_lookup(ctx, origin, &o);
		if (r < 0)
			return r;
		if (o && o->open_count > 0)
			return snapmgr_error(ctx, -EBUSY,
					     "origin %s is in use (mounted or open); unmount it, or use --unwrap",
					     origin);
	}
	entry->state = SNAP_REMOVING;
	r = record_save(ctx, rec);
	if (r < 0)
		return r;
	fault_point(ctx, "remove", &fp);

	if (snapdev) {
		r = snapshot_unload(ctx, origin, snapdev, &fp);
		if (r < 0)
			return r;
	}
	r = device_lookup(ctx, origin, &origdev);
	if (r < 0)
		return r;
	if (origdev && origdev->suspended) {
		r = smdm_resume(ctx, origin);
		if (r < 0)
			return r;
	}

	r = cow_release(ctx, entry, "remove", &fp);
	if (r < 0)
		return r;
	/*
	 * The entry stays (SNAP_REMOVING) until the origin is unwrapped or
	 * released too, so a re-run after a crash finds it and finishes.
	 */
	if (last && (flags & (SNAPMGR_REMOVE_UNWRAP | SNAPMGR_REMOVE_RELEASE))) {
		r = unwrap_origin(ctx, rec, origdev, &fp);
		if (r < 0)
			return r;
	}
	if (last && (flags & SNAPMGR_REMOVE_RELEASE)) {
		r = smdm_remove(ctx, origin);
		if (r == -EBUSY)
			return snapmgr_error(ctx, r,
					     "origin %s was opened meanwhile; it stays as a linear mapping",
					     origin);
		if (r < 0 && r != -ENXIO)
			return r;
		fault_point(ctx, "remove", &fp);
		/* Released: its era layer and metadata go too. */
		r = track_release(ctx, rec, "remove", &fp);
		if (r < 0)
			return r;
		return record_delete(ctx, origin);
	}
	record_remove_snapshot(rec, entry);
	if (last && (flags & SNAPMGR_REMOVE_UNWRAP))
		rec->unwrapped = true;
	return record_save(ctx, rec);
}

_public_ int snapmgr_remove(struct snapmgr_ctx *ctx, const char *snap,
			    unsigned flags)
{
	_cleanup_(unlockp) int lock = -1;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !snap)
		return -EINVAL;
	r = op_begin(ctx, &lock);
	if (r < 0)
		return r;
	return remove_locked(ctx, snap, flags);
}
