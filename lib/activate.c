/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Re-assembling our stacks from their records, after a reboot or a crash:
 * COW files are attached again, NAME-real, NAME and every snapshot are
 * loaded, an interrupted merge resumes (the origin comes up as
 * snapshot-merge), a deferred merge starts when nothing holds the devices,
 * and a finished merge is finalised. Whatever is already in place is left
 * alone, so running it twice changes nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "backing-file.h"
#include "blockdev.h"
#include "era.h"
#include "error-private.h"
#include "merge.h"
#include "record.h"
#include "stack.h"

/* Attaches a COW file again if needed and records its loop device. */
static int cow_attach(struct snapmgr_ctx *ctx, struct snap_entry *entry)
{
	if (!entry->cow_file)
		return 0;
	return backing_file_attach(ctx, entry->cow_file, &entry->cow_device);
}

/* NAME-real, and NAME as snapshot-merge: the interrupted merge resumes. */
static int origin_assemble_merging(struct snapmgr_ctx *ctx,
				   const struct origin_record *rec,
				   const struct snap_entry *merging)
{
	_cleanup_smdm_device_ struct smdm_device *real = NULL;
	char realname[REAL_NAME_MAX], uuid[64], params[128];
	int r;

	real_name(rec->name, realname);
	r = device_lookup(ctx, realname, &real);
	if (r < 0)
		return r;
	if (!real) {
		snprintf(uuid, sizeof(uuid), SNAPMGR_UUID_PREFIX "real-%s", rec->id);
		r = origin_data_params(ctx, rec, params, sizeof(params));
		if (r < 0)
			return r;
		r = smdm_create(ctx, realname, uuid, "linear", rec->sectors, params);
		if (r < 0)
			return r;
	}
	r = snapshot_params(ctx, rec->name, merging->cow_device, merging->chunk_size,
			    params, sizeof(params));
	if (r < 0)
		return r;
	snprintf(uuid, sizeof(uuid), SNAPMGR_UUID_PREFIX "orig-%s", rec->id);
	return smdm_create(ctx, rec->name, uuid, "snapshot-merge", rec->sectors, params);
}

/* One snapshot device, loaded while the origin is suspended. */
static int snapshot_activate(struct snapmgr_ctx *ctx, const struct origin_record *rec,
			     const struct snap_entry *e)
{
	_cleanup_smdm_device_ struct smdm_device *snapdev = NULL;
	char uuid[64], params[128];
	int r, k;

	r = device_lookup(ctx, e->name, &snapdev);
	if (r < 0 || snapdev)
		return r;
	r = snapshot_params(ctx, rec->name, e->cow_device, e->chunk_size, params,
			    sizeof(params));
	if (r < 0)
		return r;
	r = smdm_suspend(ctx, rec->name);
	if (r < 0)
		return r;
	snprintf(uuid, sizeof(uuid), SNAPMGR_UUID_PREFIX "snap-%s", e->id);
	r = smdm_create(ctx, e->name, uuid, "snapshot", rec->sectors, params);
	/* Resumed whatever happened: the origin must not stay suspended. */
	k = smdm_resume(ctx, rec->name);
	return r < 0 ? r : k;
}

/* An earlier run (of create, or of this) may have stopped with it suspended. */
static int origin_resume_if_suspended(struct snapmgr_ctx *ctx, const char *origin)
{
	_cleanup_smdm_device_ struct smdm_device *origdev = NULL;
	int r;

	r = smdm_device_get(ctx, origin, false, &origdev);
	if (r < 0)
		return r;
	return origdev->suspended ? smdm_resume(ctx, origin) : 0;
}

/* Deferred merges start once nothing holds the devices. */
static int start_pending_merge(struct snapmgr_ctx *ctx, const struct origin_record *rec)
{
	for (size_t i = 0; i < rec->n_snapshots; i++) {
		const struct snap_entry *e = &rec->snapshots[i];
		bool deferred = false;
		int r;

		if (e->state != SNAP_MERGE_PENDING)
			continue;
		/* It reads and writes the record itself. */
		r = merge_start_locked(ctx, e->name, &deferred);
		if (r < 0)
			return r;
		if (deferred)
			log_notice(ctx, "%s: merge still deferred: the origin or the snapshot is open",
				   e->name);
		return 0;
	}
	return 0;
}

/*
 * A merge recorded as started whose snapshot device is still there: the
 * start was cut short (a crash, a failed step) before or after the origin
 * got its snapshot-merge table; finish it. (With the snapshot gone and the
 * origin back to normal, it was the finalisation that was cut short:
 * finalise_finished_merge's job.)
 */
static int finish_merge_start(struct snapmgr_ctx *ctx, const char *snap)
{
	_cleanup_smdm_device_ struct smdm_device *snapdev = NULL;
	bool deferred = false;
	int r;

	r = device_lookup(ctx, snap, &snapdev);
	if (r < 0 || !snapdev)
		return r;
	log_notice(ctx, "%s: finishing the start of its merge", snap);
	return merge_start_locked(ctx, snap, &deferred);
}

/* A merge that finished while we were away is finalised now. */
static int finalise_finished_merge(struct snapmgr_ctx *ctx, const char *origin)
{
	_cleanup_record_ struct origin_record *rec = NULL;
	int r;

	r = record_load(ctx, origin, &rec);
	if (r < 0)
		return r;
	r = merge_finalise_locked(ctx, rec);
	if (r == -EINPROGRESS)
		return 0;
	if (r == -EIO) {
		/* Not an activation failure: status reports it as merge_failed. */
		log_warning(ctx, "origin %s: a merge failed earlier; the origin reads its device as it is ('snapctl remove' releases the snapshot)",
			    origin);
		return 0;
	}
	return r;
}

/*
 * A tracked origin's era layer. When its metadata is gone (the file or
 * the device does not exist), the origin still comes up, without it: its
 * data matter more than a backup's shortcut. Writes from then on are not
 * tracked, so the tracking is marked stopping, which voids every token
 * ("full backup needed") until 'snapctl untrack' and 'track'. Any other
 * failure fails the activation as every other step's does: a re-run may
 * well succeed, and must find the tokens intact.
 */
static int era_assemble_or_void(struct snapmgr_ctx *ctx, struct origin_record *rec)
{
	char why[256];
	int r;

	r = track_assemble(ctx, rec);
	if (r >= 0)
		return record_save(ctx, rec);
	if (r != -ENOENT)
		return r;
	snprintf(why, sizeof(why), "%s", snapmgr_get_error(ctx) ?: strerror(-r));
	snapmgr_clear_error(ctx);
	log_err(ctx, "origin %s: its era layer cannot be assembled (%s); it comes up untracked and its change tokens are void: run 'snapctl untrack %s', then 'snapctl track' again",
		rec->name, why, rec->name);
	rec->tracking->state = TRACK_STOPPING;
	return record_save(ctx, rec);
}

static int activate_origin(struct snapmgr_ctx *ctx, const char *origin)
{
	_cleanup_smdm_device_ struct smdm_device *origdev = NULL;
	_cleanup_record_ struct origin_record *rec = NULL;
	const struct snap_entry *merging;
	char devs[32], uuid[64], params[128];
	bool pending;
	dev_t d;
	int fp = 0, r;

	r = record_load(ctx, origin, &rec);
	if (r < 0)
		return r;
	/* Device numbers change across reboots (loop devices): re-read. */
	r = blockdev_devnum(rec->device, &d);
	if (r < 0)
		return snapmgr_error(ctx, r, "origin %s: device %s: %s", origin,
				     rec->device, strerror(-r));
	devnum_string(d, devs);
	r = set_string(&rec->devnum, devs);
	if (r < 0)
		return r;

	for (size_t i = 0; i < rec->n_snapshots; i++) {
		struct snap_entry *e = &rec->snapshots[i];

		if (e->state != SNAP_CREATING && e->state != SNAP_REMOVING) {
			r = cow_attach(ctx, e);
			if (r < 0)
				return r;
		}
	}
	r = record_save(ctx, rec);
	if (r < 0)
		return r;

	merging = record_merging(rec);
	/* The era layer first: NAME-real maps it. */
	if (!(rec->n_snapshots == 0 && rec->unwrapped)) {
		r = era_assemble_or_void(ctx, rec);
		if (r < 0)
			return r;
	}
	r = device_lookup(ctx, origin, &origdev);
	if (r < 0)
		return r;
	if (rec->n_snapshots == 0 && rec->unwrapped) {
		/* No snapshot: a plain linear mapping keeps the name working. */
		if (origdev)
			return 0;
		snprintf(uuid, sizeof(uuid), SNAPMGR_UUID_PREFIX "orig-%s", rec->id);
		r = era_assemble_or_void(ctx, rec);
		if (r < 0)
			return r;
		r = origin_data_params(ctx, rec, params, sizeof(params));
		if (r < 0)
			return r;
		return smdm_create(ctx, origin, uuid, "linear", rec->sectors, params);
	}
	/*
	 * While a merge runs, its start and finalisation own the origin's
	 * table (a linear one means finalising was cut short after the last
	 * snapshot merged: it must not be wrapped again).
	 */
	if (!origdev && merging)
		r = origin_assemble_merging(ctx, rec, merging);
	else if (!merging)
		r = origin_assemble(ctx, rec, &fp);
	if (r < 0)
		return r;

	/* Every other snapshot, loaded while the origin is suspended. */
	pending = false;
	for (size_t i = 0; i < rec->n_snapshots; i++) {
		const struct snap_entry *e = &rec->snapshots[i];

		switch (e->state) {
		case SNAP_MERGE_PENDING:
			pending = true;
			_fallthrough_;
		case SNAP_ACTIVE:
			r = snapshot_activate(ctx, rec, e);
			if (r < 0)
				return r;
			break;
		case SNAP_CREATING:
		case SNAP_REMOVING:
			/* A set's member is finished by the set's command. */
			if (e->set) {
				log_warning(ctx, "%s: member of set %s, which was being %s when it stopped; run the 'snapctl %s' of set %s again, or 'snapctl remove %s'",
					    e->name, e->set,
					    e->state == SNAP_CREATING ? "created" : "removed",
					    e->state == SNAP_CREATING ? "create --set" : "remove",
					    e->set, e->set);
				break;
			}
			log_warning(ctx, "%s: was being %s when it stopped; run 'snapctl %s %s' again",
				    e->name, e->state == SNAP_CREATING ? "created" : "removed",
				    e->state == SNAP_CREATING ? "create" : "remove", e->name);
			break;
		case SNAP_MERGING:
		case SNAP_MERGE_FAILED:
		case _SNAP_STATE_MAX:
			break;
		}
	}
	r = origin_resume_if_suspended(ctx, origin);
	if (r < 0)
		return r;
	r = record_save(ctx, rec);
	if (r < 0)
		return r;
	if (pending && !merging) {
		r = start_pending_merge(ctx, rec);
		if (r < 0)
			return r;
	}
	if (merging && merging->state == SNAP_MERGING) {
		r = finish_merge_start(ctx, merging->name);
		if (r < 0)
			return r;
	}
	return finalise_finished_merge(ctx, origin);
}

_public_ int snapmgr_activate(struct snapmgr_ctx *ctx, const char *origin,
			      unsigned *ret_failed)
{
	_cleanup_(unlockp) int lock = -1;
	_cleanup_strv_ char **origins = NULL;
	unsigned failed = 0;
	int r, first = 0;

	SNAPMGR_ENTRY(ctx);
	if (!ctx)
		return -EINVAL;
	r = op_begin(ctx, &lock);
	if (r < 0)
		return r;
	if (origin) {
		r = activate_origin(ctx, origin);
		if (r == -ENOENT)
			return snapmgr_error(ctx, r, "no origin named '%s' is managed by snapmgr", origin);
		if (ret_failed)
			*ret_failed = r < 0;
		return r;
	}
	r = record_list(&origins);
	if (r < 0)
		return r;
	for (char **o = origins; *o; o++) {
		r = activate_origin(ctx, *o);
		if (r < 0) {
			/* Go on with the others; report the first failure. */
			log_err(ctx, "%s", snapmgr_get_error(ctx) ?: strerror(-r));
			if (!first)
				first = r;
			failed++;
		}
	}
	if (ret_failed)
		*ret_failed = failed;
	return first;
}
