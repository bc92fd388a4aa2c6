/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Merging a snapshot back into its origin (rolling back), the way lvm2 does
 * it: the origin's table becomes "snapshot-merge" over the same -real device
 * and COW, the kernel hands the snapshot's exceptions over to it when it is
 * resumed, and copies them back in the background while the origin reads
 * the snapshot's data at once. When the COW holds nothing but metadata the
 * merge is over and we finalise: the origin goes back to snapshot-origin
 * (other snapshots remain) or, with none left, to a plain linear mapping;
 * the merged snapshot's COW is released.
 *
 * The record says merging (SNAP_MERGING) before the first table changes, so a crash or
 * a power cut at any point is finished by `snapctl activate`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "blockdev.h"
#include "dm-parse.h"
#include "error-private.h"
#include "era.h"
#include "loop.h"
#include "record.h"
#include "merge.h"
#include "stack.h"

/* Loads NAME as snapshot-merge with the entry's COW, then resumes it. */
static int merge_load(struct snapmgr_ctx *ctx, const struct origin_record *rec,
		      const struct snap_entry *entry)
{
	char params[128];
	int r;

	r = snapshot_params(ctx, rec->name, entry->cow_device, entry->chunk_size,
			    params, sizeof(params));
	if (r < 0)
		return r;
	r = smdm_reload(ctx, rec->name, "snapshot-merge", rec->sectors, params);
	if (r < 0)
		return r;
	return smdm_resume(ctx, rec->name);
}

/* Why snap, which no record lists, cannot be merged. */
static int merge_unrecorded(struct snapmgr_ctx *ctx, const char *snap)
{
	_cleanup_smdm_device_ struct smdm_device *snapdev = NULL;

	if (device_lookup(ctx, snap, &snapdev) == 0 && snapdev)
		return snapmgr_error(ctx, -EPERM, "not managed by snapmgr%s",
				     snapmgr_owner_from_uuid(snapdev->uuid) == SNAPMGR_OWNER_LVM2 ?
					     "; use lvconvert --merge" : "");
	return snapmgr_error(ctx, -ENOENT, "no such snapshot");
}

/*
 * Records the merge (or its deferral) before any table changes. 1 when it
 * was deferred, 0 when the record says merging now.
 */
static int merge_record(struct snapmgr_ctx *ctx, struct origin_record *rec,
			struct snap_entry *entry, const struct smdm_device *origdev,
			const struct smdm_device *snapdev, int *fp)
{
	struct smdm_snapshot_status st;
	int r;

	if (!snapdev)
		return snapmgr_error(ctx, -ENODEV, "is not active (run snapctl activate)");
	r = smdm_snapshot_status(ctx, entry->name, &st);
	if (r < 0)
		return r;
	if (st.invalid)
		return snapmgr_error(ctx, -EINVAL, "is invalid; there is nothing to merge back");
	/*
	 * Switching the origin's data under a mounted filesystem would
	 * corrupt it, and an open snapshot cannot be retired: like lvm2,
	 * record the request and merge at the next activation.
	 */
	if (origdev->open_count > 0 || snapdev->open_count > 0) {
		entry->state = SNAP_MERGE_PENDING;
		r = record_save(ctx, rec);
		return r < 0 ? r : 1;
	}
	entry->state = SNAP_MERGING;
	entry->has_merge_usage = true;
	entry->merge_start_used = st.used_sectors;
	entry->merge_metadata = st.metadata_sectors;
	r = record_save(ctx, rec);
	if (r < 0)
		return r;
	fault_point(ctx, "merge", fp);
	return 0;
}

int merge_start_locked(struct snapmgr_ctx *ctx, const char *snap,
		       bool *ret_deferred)
{
	_cleanup_smdm_device_ struct smdm_device *snapdev = NULL, *origdev = NULL;
	_cleanup_record_ struct origin_record *rec = NULL;
	struct snap_entry *entry, *other;
	const char *origin;
	int fp = 0, r;

	r = record_load_of(ctx, snap, &rec, &entry);
	if (r == -ENOENT)
		return merge_unrecorded(ctx, snap);
	if (r < 0)
		return r;
	origin = rec->name;
	other = record_merging(rec);
	if (other && other != entry)
		return snapmgr_error(ctx, -EBUSY, "origin %s is already merging snapshot %s",
				     origin, other->name);
	/* merging: already started (maybe by a run that crashed): finish starting. */
	if (entry->state != SNAP_MERGING && entry->state != SNAP_ACTIVE &&
	    entry->state != SNAP_MERGE_PENDING)
		return snapmgr_error(ctx, -EINVAL, "cannot merge a snapshot in state '%s'",
				     snap_state_to_string(entry->state));

	r = device_lookup(ctx, snap, &snapdev);
	if (r < 0)
		return r;
	r = device_lookup(ctx, origin, &origdev);
	if (r < 0)
		return r;
	if (!origdev)
		return snapmgr_error(ctx, -ENODEV, "origin %s is not active (run snapctl activate)", origin);
	if (entry->state != SNAP_MERGING) {
		r = merge_record(ctx, rec, entry, origdev, snapdev, &fp);
		if (r != 0) {
			if (r > 0)
				*ret_deferred = true;
			return r < 0 ? r : 0;
		}
	}

	if (!streq(origdev->target_type, "snapshot-merge")) {
		/* The kernel hands over only from a suspended snapshot. */
		if (snapdev) {
			r = smdm_suspend(ctx, snap);
			if (r < 0)
				return r;
			fault_point(ctx, "merge", &fp);
		}
		r = smdm_suspend(ctx, origin);
		if (r < 0)
			return r;
		fault_point(ctx, "merge", &fp);
		r = merge_load(ctx, rec, entry);
		if (r < 0) {
			(void)smdm_resume(ctx, origin);
			return r;
		}
		fault_point(ctx, "merge", &fp);
	}
	if (snapdev) {
		/* Handed over: it would only return I/O errors now. */
		r = smdm_remove(ctx, snap);
		if (r < 0 && r != -ENXIO)
			return r;
		fault_point(ctx, "merge", &fp);
	}
	*ret_deferred = false;
	return 0;
}

_public_ int snapmgr_merge_start(struct snapmgr_ctx *ctx, const char *snap,
				 bool *ret_deferred)
{
	_cleanup_(unlockp) int lock = -1;
	bool deferred = false;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !snap)
		return -EINVAL;
	r = op_begin(ctx, &lock);
	if (r < 0)
		return r;
	r = merge_start_locked(ctx, snap, &deferred);
	if (r >= 0 && ret_deferred)
		*ret_deferred = deferred;
	return r;
}

/*
 * The kernel gave up (the COW failed): chunks not yet merged would stay
 * unreadable through snapshot-merge. The record keeps the snapshot as
 * merge_failed with its COW, before the origin is put back on its device.
 */
static int merge_record_failure(struct snapmgr_ctx *ctx, struct origin_record *rec,
				struct snap_entry *entry, const char *why)
{
	int r;

	entry->state = SNAP_MERGE_FAILED;
	r = set_string(&entry->merge_error, why);
	if (r < 0)
		return r;
	return record_save(ctx, rec);
}

/*
 * The origin's table back to normal: snapshot-origin over NAME-real when
 * other snapshots remain (or the COW is still to be read), else linear over
 * its device.
 */
static int merge_restore_origin(struct snapmgr_ctx *ctx, const struct origin_record *rec,
				bool others, int *fp)
{
	char realname[REAL_NAME_MAX], params[64];
	int r;

	real_name(rec->name, realname);
	r = smdm_suspend(ctx, rec->name);
	if (r < 0)
		return r;
	fault_point(ctx, "finalise", fp);
	if (others) {
		_cleanup_smdm_device_ struct smdm_device *real = NULL;

		r = smdm_device_get(ctx, realname, false, &real);
		if (r >= 0) {
			snprintf(params, sizeof(params), "%u:%u",
				 major(real->devnum), minor(real->devnum));
			r = smdm_reload(ctx, rec->name, "snapshot-origin", rec->sectors, params);
		}
	} else {
		r = origin_data_params(ctx, rec, params, sizeof(params));
		if (r >= 0)
			r = smdm_reload(ctx, rec->name, "linear", rec->sectors, params);
	}
	if (r >= 0)
		r = smdm_resume(ctx, rec->name);
	if (r < 0) {
		(void)smdm_resume(ctx, rec->name);
		return r;
	}
	fault_point(ctx, "finalise", fp);
	return 0;
}

/* Handed over by a start that stopped before removing it: remove it now. */
static int merge_drop_snapshot(struct snapmgr_ctx *ctx, const char *snap)
{
	_cleanup_smdm_device_ struct smdm_device *snapdev = NULL;
	int r;

	r = device_lookup(ctx, snap, &snapdev);
	if (r < 0 || !snapdev)
		return r;
	r = smdm_remove(ctx, snap);
	return r == -ENXIO ? 0 : r;
}

/* The last snapshot merged: NAME is linear over its device, NAME-real goes. */
static int merge_unwrap(struct snapmgr_ctx *ctx, struct origin_record *rec)
{
	char realname[REAL_NAME_MAX];
	int r;

	real_name(rec->name, realname);
	r = smdm_remove(ctx, realname);
	if (r < 0 && r != -ENXIO)
		return r;
	rec->unwrapped = true;
	return 0;
}

/* Ends a merge whose COW holds only metadata; no-op if none is running. */
int merge_finalise_locked(struct snapmgr_ctx *ctx, struct origin_record *rec)
{
	_cleanup_smdm_device_ struct smdm_device *origdev = NULL;
	struct snap_entry *entry = record_merging(rec);
	const char *origin = rec->name;
	int fp = 0, r;

	if (!entry)
		return 0;
	r = device_lookup(ctx, origin, &origdev);
	if (r < 0)
		return r;
	/* merge_failed: restored already, or still to be restored below. */
	if (entry->state == SNAP_MERGE_FAILED &&
	    (!origdev || !streq(origdev->target_type, "snapshot-merge")))
		return -EIO;
	if (!origdev)
		return snapmgr_error(ctx, -ENODEV, "origin %s is not active (run snapctl activate)", origin);
	if (!streq(origdev->target_type, "snapshot-merge")) {
		_cleanup_smdm_device_ struct smdm_device *snapdev = NULL;

		/*
		 * Either the merge never got its table (the snapshot is still
		 * there: not started), or finalising was cut short after the
		 * table went back to normal (the snapshot is gone).
		 */
		r = device_lookup(ctx, entry->name, &snapdev);
		if (r < 0)
			return r;
		if (snapdev)
			return -EINPROGRESS;
		/* Back on its device with no snapshot left: NAME-real goes too. */
		if (rec->n_snapshots == 1 && streq(origdev->target_type, "linear")) {
			r = merge_unwrap(ctx, rec);
			if (r < 0)
				return r;
		}
	} else {
		struct smdm_snapshot_status st;
		bool failed, others;

		r = merge_drop_snapshot(ctx, entry->name);
		if (r < 0)
			return r;
		r = smdm_snapshot_status(ctx, origin, &st);
		if (r < 0)
			return r;
		failed = st.merge_failed || st.invalid;
		if (!failed && st.used_sectors != st.metadata_sectors)
			return -EINPROGRESS;
		others = rec->n_snapshots > 1;
		if (failed) {
			r = merge_record_failure(ctx, rec, entry,
						 "the kernel stopped the merge (I/O error on the COW or the origin); the origin reads its device as it is, partly rolled back");
			if (r < 0)
				return r;
			others = true; /* keep NAME-real: the COW may still be read */
		}
		r = merge_restore_origin(ctx, rec, others, &fp);
		if (r < 0)
			return r;
		if (failed)
			return -EIO;
		if (!others) {
			r = merge_unwrap(ctx, rec);
			if (r < 0)
				return r;
		}
	}
	/* The table is back to normal: release the merged snapshot's COW. */
	r = cow_release(ctx, entry, "finalise", &fp);
	if (r < 0)
		return r;
	record_remove_snapshot(rec, entry);
	return record_save(ctx, rec);
}

_public_ int snapmgr_merge_progress(struct snapmgr_ctx *ctx, const char *snap,
				    struct snapmgr_merge_progress *ret)
{
	_cleanup_smdm_device_ struct smdm_device *origdev = NULL;
	_cleanup_record_ struct origin_record *rec = NULL;
	struct smdm_snapshot_status st;
	struct snap_entry *entry;
	const char *origin;
	struct snapmgr_merge_progress p = SNAPMGR_RESULT(struct snapmgr_merge_progress);
	uint64_t start, meta;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !snap || !ret)
		return -EINVAL;
	r = result_check(ctx, ret, "snapmgr_merge_progress");
	if (r < 0)
		return r;
	r = smdm_setup(ctx);
	if (r < 0)
		return r;
	r = record_load_of(ctx, snap, &rec, &entry);
	if (r == -ENOENT) {
		/* Finalised: the record no longer lists it. */
		p.done = true;
		p.percent = 100.0;
		result_give(ret, &p, sizeof(p));
		return 0;
	}
	if (r < 0)
		return r;
	origin = rec->name;
	if (entry->state == SNAP_MERGE_PENDING) {
		p.pending = true;
		result_give(ret, &p, sizeof(p));
		return 0;
	}
	if (entry->state != SNAP_MERGING && entry->state != SNAP_MERGE_FAILED)
		return snapmgr_error(ctx, -EINVAL, "is not merging");
	r = smdm_device_get(ctx, origin, false, &origdev);
	if (r < 0)
		return r;
	if (!streq(origdev->target_type, "snapshot-merge"))
		return snapmgr_error(ctx, -EINVAL, "origin %s is not merging (run snapctl activate)", origin);
	r = smdm_snapshot_status(ctx, origin, &st);
	if (r < 0)
		return r;
	start = entry->merge_start_used;
	meta = entry->merge_metadata;
	p.failed = st.merge_failed || st.invalid;
	p.remaining_bytes = (st.used_sectors - st.metadata_sectors) * 512;
	p.total_bytes = start > meta ? (start - meta) * 512 : 0;
	if (p.remaining_bytes > p.total_bytes)
		p.total_bytes = p.remaining_bytes;
	p.done = !p.failed && st.used_sectors == st.metadata_sectors;
	p.percent = p.total_bytes ?
			       100.0 * (double)(p.total_bytes - p.remaining_bytes) /
				       (double)p.total_bytes :
			       (p.done ? 100.0 : 0.0);
	if (p.failed && entry->state != SNAP_MERGE_FAILED)
		/* Record it, so status and activate know. */
		(void)merge_record_failure(ctx, rec, entry,
					   "the kernel stopped the merge (I/O error on the COW or the origin)");
	result_give(ret, &p, sizeof(p));
	return 0;
}

static int merge_finalise(struct snapmgr_ctx *ctx, const char *snap, bool wait)
{
	_cleanup_(unlockp) int lock = -1;
	_cleanup_record_ struct origin_record *rec = NULL;
	int r;

	if (!ctx || !snap)
		return -EINVAL;
	r = op_begin_flags(ctx, wait, &lock);
	if (r < 0)
		return r;
	r = record_load_of(ctx, snap, &rec, NULL);
	if (r == -ENOENT) {
		/*
		 * While merging, the snapshot is listed under its origin's
		 * name (the snapshot-merge device): take that name too.
		 */
		r = strchr(snap, '/') ? -ENOENT : record_load(ctx, snap, &rec);
		if (r == -ENOENT)
			return 0; /* already finalised */
	}
	if (r < 0)
		return r;
	r = merge_finalise_locked(ctx, rec);
	if (r == -EIO)
		r = snapmgr_error(ctx, r, "the merge failed; the origin stays usable");
	return r;
}

_public_ int snapmgr_merge_finalise(struct snapmgr_ctx *ctx, const char *snap)
{
	SNAPMGR_ENTRY(ctx);
	return merge_finalise(ctx, snap, true);
}

_public_ int snapmgr_merge_finalise_nowait(struct snapmgr_ctx *ctx, const char *snap)
{
	SNAPMGR_ENTRY(ctx);
	return merge_finalise(ctx, snap, false);
}
