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
 * The record says "merging" before the first table changes, so a crash or
 * a power cut at any point is finished by `snapctl activate`.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <libdevmapper.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "blockdev.h"
#include "dm-parse.h"
#include "loop.h"
#include "record.h"
#include "merge.h"
#include "stack.h"

/* Reads "used/total meta" of a snapshot or snapshot-merge device. */
static int read_usage(struct snapmgr_ctx *ctx, const char *name,
		      struct dm_status_snapshot *ret, char **ret_target)
{
	_cleanup_dm_device_ struct dm_device *d = NULL;
	struct dm_status_snapshot *st = NULL;
	struct dm_pool *mem;
	int r;

	r = dm_device_get(ctx, name, true, &d);
	if (r < 0)
		return r;
	if (!d->target_type)
		return -ENODATA;
	mem = dm_pool_create("snapmgr-merge", 256);
	if (!mem)
		return -ENOMEM;
	r = dm_get_status_snapshot(mem, d->params, &st) ? 0 : -EBADMSG;
	if (r == 0)
		*ret = *st;
	dm_pool_destroy(mem);
	if (r == 0 && ret_target)
		*ret_target = TAKE_PTR(d->target_type);
	return r;
}

/* The snapshot of rec whose state is merging (or merge_failed), or NULL. */
static json_object *merging_entry(json_object *rec)
{
	json_object *arr = json_object_object_get(rec, "snapshots");

	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *st = json_get_string(e, "state");

		if (streq(st, "merging") || streq(st, "merge_failed"))
			return e;
	}
	return NULL;
}

/* Loads NAME as snapshot-merge with the entry's COW, then resumes it. */
static int merge_load(struct snapmgr_ctx *ctx, const char *origin, json_object *rec,
	       json_object *entry)
{
	char params[128];
	int r;

	r = snapshot_params(ctx, origin, json_get_string(entry, "cow_device"),
			    (uint64_t)json_get_int(entry, "chunk_size"), params,
			    sizeof(params));
	if (r < 0)
		return r;
	r = dm_reload(ctx, origin, "snapshot-merge", (uint64_t)json_get_int(rec, "sectors"),
		      params);
	if (r < 0)
		return r;
	return dm_resume(ctx, origin);
}

int merge_start_locked(struct snapmgr_ctx *ctx, const char *snap,
			      bool *ret_deferred)
{
	_cleanup_free_ char *origin = NULL;
	_cleanup_dm_device_ struct dm_device *snapdev = NULL, *origdev = NULL;
	struct dm_status_snapshot st;
	json_object *rec = NULL, *entry, *other;
	const char *state;
	int fp = 0, r;

	r = record_find_origin_of(ctx, snap, &origin);
	if (r == -ENOENT) {
		r = dm_lookup(ctx, snap, &snapdev);
		if (r == 0 && snapdev)
			return snapmgr_error(ctx, -EPERM,
					     "not managed by snapmgr%s",
					     snapmgr_owner_from_uuid(snapdev->uuid) == SNAPMGR_OWNER_LVM2 ?
						     "; use lvconvert --merge" : "");
		return snapmgr_error(ctx, -ENOENT, "no such snapshot");
	}
	if (r < 0)
		return r;
	r = record_load(ctx, origin, &rec);
	if (r < 0)
		return r;
	entry = record_find_snapshot(rec, snap, NULL);
	state = json_get_string(entry, "state");
	other = merging_entry(rec);
	if (other && other != entry) {
		r = snapmgr_error(ctx, -EBUSY, "origin %s is already merging snapshot %s",
				  origin, json_get_string(other, "name"));
		goto out;
	}
	if (streq(state, "merging")) {
		/* Already started (maybe by a run that crashed): finish starting. */
	} else if (!streq(state, "active") && !streq(state, "merge_pending")) {
		r = snapmgr_error(ctx, -EINVAL, "cannot merge a snapshot in state '%s'",
				  state ? state : "unknown");
		goto out;
	}

	r = dm_lookup(ctx, snap, &snapdev);
	if (r < 0)
		goto out;
	r = dm_lookup(ctx, origin, &origdev);
	if (r < 0)
		goto out;
	if (!origdev) {
		r = snapmgr_error(ctx, -ENODEV, "origin %s is not active (run snapctl activate)", origin);
		goto out;
	}
	if (!streq(state, "merging")) {
		if (!snapdev) {
			r = snapmgr_error(ctx, -ENODEV, "is not active (run snapctl activate)");
			goto out;
		}
		r = read_usage(ctx, snap, &st, NULL);
		if (r < 0)
			goto out;
		if (st.invalid) {
			r = snapmgr_error(ctx, -EINVAL, "is invalid; there is nothing to merge back");
			goto out;
		}
		/*
		 * Switching the origin's data under a mounted filesystem would
		 * corrupt it, and an open snapshot cannot be retired: like lvm2,
		 * record the request and merge at the next activation.
		 */
		if (origdev->open_count > 0 || snapdev->open_count > 0) {
			json_set_string(entry, "state", "merge_pending");
			r = record_save(ctx, origin, rec);
			if (r >= 0)
				*ret_deferred = true;
			goto out;
		}
		json_set_string(entry, "state", "merging");
		json_object_object_add(entry, "merge_start_used",
				       json_object_new_int64((int64_t)st.used_sectors));
		json_object_object_add(entry, "merge_metadata",
				       json_object_new_int64((int64_t)st.metadata_sectors));
		r = record_save(ctx, origin, rec);
		if (r < 0)
			goto out;
		fault_point(ctx, "merge", &fp);
	}

	if (!streq(origdev->target_type, "snapshot-merge")) {
		/* The kernel hands over only from a suspended snapshot. */
		if (snapdev) {
			r = dm_suspend(ctx, snap);
			if (r < 0)
				goto out;
			fault_point(ctx, "merge", &fp);
		}
		r = dm_suspend(ctx, origin);
		if (r < 0)
			goto out;
		fault_point(ctx, "merge", &fp);
		r = merge_load(ctx, origin, rec, entry);
		if (r < 0) {
			(void)dm_resume(ctx, origin);
			goto out;
		}
		fault_point(ctx, "merge", &fp);
	}
	if (snapdev) {
		/* Handed over: it would only return I/O errors now. */
		r = dm_remove(ctx, snap);
		if (r < 0 && r != -ENXIO)
			goto out;
		fault_point(ctx, "merge", &fp);
	}
	r = 0;
	*ret_deferred = false;
out:
	json_object_put(rec);
	return r;
}

_public_ int snapmgr_merge_start(struct snapmgr_ctx *ctx, const char *snap,
				 bool *ret_deferred)
{
	_cleanup_(unlockp) int lock = -1;
	bool deferred = false;
	int r;

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

/* Ends a merge whose COW holds only metadata; no-op if none is running. */
int merge_finalise_locked(struct snapmgr_ctx *ctx, const char *origin,
			  json_object *rec)
{
	_cleanup_dm_device_ struct dm_device *origdev = NULL;
	json_object *entry = merging_entry(rec), *arr;
	char realname[REAL_NAME_MAX], params[64];
	size_t idx;
	bool others;
	int fp = 0, r;

	if (!entry)
		return 0;
	if (streq(json_get_string(entry, "state"), "merge_failed")) {
		_cleanup_dm_device_ struct dm_device *o = NULL;

		/* Restored already, or still to be restored below. */
		r = dm_lookup(ctx, origin, &o);
		if (r < 0)
			return r;
		if (!o || !streq(o->target_type, "snapshot-merge"))
			return -EIO;
	}
	r = dm_lookup(ctx, origin, &origdev);
	if (r < 0)
		return r;
	if (!origdev)
		return snapmgr_error(ctx, -ENODEV, "origin %s is not active (run snapctl activate)", origin);
	if (!streq(origdev->target_type, "snapshot-merge")) {
		_cleanup_dm_device_ struct dm_device *snapdev = NULL;

		/*
		 * Either the merge never got its table (the snapshot is still
		 * there: not started), or finalising was cut short after the
		 * table went back to normal (the snapshot is gone).
		 */
		r = dm_lookup(ctx, json_get_string(entry, "name"), &snapdev);
		if (r < 0)
			return r;
		if (snapdev)
			return -EINPROGRESS;
	} else {
		struct dm_status_snapshot st;

		bool failed;

		r = read_usage(ctx, origin, &st, NULL);
		if (r < 0)
			return r;
		failed = st.merge_failed || st.invalid;
		if (!failed && st.used_sectors != st.metadata_sectors)
			return -EINPROGRESS;
		arr = json_object_object_get(rec, "snapshots");
		others = json_object_array_length(arr) > 1;
		if (failed) {
			/*
			 * The kernel gave up (the COW failed): chunks not yet
			 * merged would stay unreadable through snapshot-merge.
			 * Keep the origin usable: it goes back to reading its
			 * device as it is, partly rolled back, and the record
			 * keeps the snapshot as merge_failed with its COW.
			 */
			json_set_string(entry, "state", "merge_failed");
			json_set_string(entry, "merge_error",
					"the kernel stopped the merge (I/O error on the COW or the origin); the origin reads its device as it is, partly rolled back");
			r = record_save(ctx, origin, rec);
			if (r < 0)
				return r;
			others = true; /* keep NAME-real: the COW may still be read */
		}
		real_name(origin, realname);
		r = dm_suspend(ctx, origin);
		if (r < 0)
			return r;
		fault_point(ctx, "finalise", &fp);
		if (others) {
			_cleanup_dm_device_ struct dm_device *real = NULL;

			r = dm_device_get(ctx, realname, false, &real);
			if (r >= 0) {
				snprintf(params, sizeof(params), "%u:%u",
					 major(real->devnum), minor(real->devnum));
				r = dm_reload(ctx, origin, "snapshot-origin",
					      (uint64_t)json_get_int(rec, "sectors"), params);
			}
		} else {
			snprintf(params, sizeof(params), "%s 0",
				 json_get_string(rec, "devnum"));
			r = dm_reload(ctx, origin, "linear",
				      (uint64_t)json_get_int(rec, "sectors"), params);
		}
		if (r >= 0)
			r = dm_resume(ctx, origin);
		if (r < 0) {
			(void)dm_resume(ctx, origin);
			return r;
		}
		fault_point(ctx, "finalise", &fp);
		if (failed)
			return -EIO;
		if (!others) {
			r = dm_remove(ctx, realname);
			if (r < 0 && r != -ENXIO)
				return r;
			json_object_object_add(rec, "unwrapped", json_object_new_boolean(true));
		}
	}
	/* The table is back to normal: release the merged snapshot's COW. */
	r = cow_release(ctx, entry, "finalise", &fp);
	if (r < 0)
		return r;
	if (record_find_snapshot(rec, json_get_string(entry, "name"), &idx))
		json_object_array_del_idx(json_object_object_get(rec, "snapshots"), idx, 1);
	return record_save(ctx, origin, rec);
}

_public_ int snapmgr_merge_progress(struct snapmgr_ctx *ctx, const char *snap,
				    struct snapmgr_merge_progress *ret)
{
	_cleanup_free_ char *origin = NULL, *target = NULL;
	struct dm_status_snapshot st;
	json_object *rec = NULL, *entry;
	int64_t start, meta;
	int r;

	if (!ctx || !snap || !ret)
		return -EINVAL;
	dm_setup(ctx);
	r = record_find_origin_of(ctx, snap, &origin);
	if (r == -ENOENT) {
		/* Finalised: the record no longer lists it. */
		memset(ret, 0, sizeof(*ret));
		ret->done = true;
		ret->percent = 100.0;
		return 0;
	}
	if (r < 0)
		return r;
	r = record_load(ctx, origin, &rec);
	if (r < 0)
		return r;
	entry = record_find_snapshot(rec, snap, NULL);
	memset(ret, 0, sizeof(*ret));
	if (streq(json_get_string(entry, "state"), "merge_pending")) {
		ret->pending = true;
		goto out;
	}
	if (!streq(json_get_string(entry, "state"), "merging") &&
	    !streq(json_get_string(entry, "state"), "merge_failed")) {
		r = snapmgr_error(ctx, -EINVAL, "is not merging");
		goto out;
	}
	r = read_usage(ctx, origin, &st, &target);
	if (r < 0)
		goto out;
	if (!streq(target, "snapshot-merge")) {
		r = snapmgr_error(ctx, -EINVAL, "origin %s is not merging (run snapctl activate)", origin);
		goto out;
	}
	start = json_get_int(entry, "merge_start_used");
	meta = json_get_int(entry, "merge_metadata");
	ret->failed = st.merge_failed || st.invalid;
	ret->remaining_bytes = (st.used_sectors - st.metadata_sectors) * 512;
	ret->total_bytes = start > meta ? (uint64_t)(start - meta) * 512 : 0;
	if (ret->remaining_bytes > ret->total_bytes)
		ret->total_bytes = ret->remaining_bytes;
	ret->done = !ret->failed && st.used_sectors == st.metadata_sectors;
	ret->percent = ret->total_bytes ?
			       100.0 * (double)(ret->total_bytes - ret->remaining_bytes) /
				       (double)ret->total_bytes :
			       (ret->done ? 100.0 : 0.0);
	if (ret->failed && !streq(json_get_string(entry, "state"), "merge_failed")) {
		/* Record it, so status and activate know. */
		json_set_string(entry, "state", "merge_failed");
		json_set_string(entry, "merge_error",
				"the kernel stopped the merge (I/O error on the COW or the origin)");
		(void)record_save(ctx, origin, rec);
	}
out:
	json_object_put(rec);
	return r;
}

_public_ int snapmgr_merge_finalise(struct snapmgr_ctx *ctx, const char *snap)
{
	_cleanup_(unlockp) int lock = -1;
	_cleanup_free_ char *origin = NULL;
	json_object *rec = NULL;
	int r;

	if (!ctx || !snap)
		return -EINVAL;
	r = op_begin(ctx, &lock);
	if (r < 0)
		return r;
	r = record_find_origin_of(ctx, snap, &origin);
	if (r == -ENOENT) {
		/*
		 * While merging, the snapshot is listed under its origin's
		 * name (the snapshot-merge device): take that name too.
		 */
		r = strchr(snap, '/') ? -ENOENT : record_load(ctx, snap, &rec);
		if (r == -ENOENT)
			return 0; /* already finalised */
		if (r < 0)
			return r;
		origin = strdup(snap);
		if (!origin) {
			json_object_put(rec);
			return -ENOMEM;
		}
	} else if (r < 0) {
		return r;
	} else {
		r = record_load(ctx, origin, &rec);
		if (r < 0)
			return r;
	}
	r = merge_finalise_locked(ctx, origin, rec);
	if (r == -EIO)
		r = snapmgr_error(ctx, r, "the merge failed; the origin stays usable");
	json_object_put(rec);
	return r;
}
