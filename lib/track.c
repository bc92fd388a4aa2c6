/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapmgr_track() and snapmgr_untrack(): the dm-era layer put beneath a
 * managed origin, and taken out, live (see lib/era.h for the layout).
 *
 * Track, each step skipped when done already, so a re-run after a crash
 * at any point finishes the job:
 *   1. the record gets "tracking" in state starting (a new id, the
 *      metadata and block size), saved before any change;
 *   2. a metadata file is created and attached to a loop device;
 *   3. the metadata's first block is zeroed, so dm-era formats it, and
 *      NAME-era is created over the device; only while NAME-era does not
 *      exist and the state is starting: no token can name this tracking
 *      yet, so starting again from empty metadata loses nothing;
 *   4. NAME-real (NAME while unwrapped) is reloaded from "linear DEV" to
 *      "linear NAME-era": one table, switched by dm's suspend and resume,
 *      so a write is either before the switch or tracked;
 *   5. the state becomes active.
 * Untrack: state stopping (tokens are void from here on), the table back
 * to "linear DEV", NAME-era removed, the metadata loop detached and a file
 * we created deleted, "tracking" dropped with every snapshot's token.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "backing-file.h"
#include "blockdev.h"
#include "dm-parse.h"
#include "era.h"
#include "error-private.h"
#include "stack.h"

#define TRACK_DEFAULT_BLOCK (64 * 1024)
/* Blocks per origin before the default block size doubles. */
#define TRACK_MAX_DEFAULT_BLOCKS (UINT64_C(1) << 24)
#define TRACK_MIN_METADATA (2 * 1024 * 1024)
#define MiB (UINT64_C(1) << 20)

_public_ uint64_t snapmgr_track_default_block_size(uint64_t origin_bytes)
{
	uint64_t b = TRACK_DEFAULT_BLOCK;

	while (origin_bytes / b > TRACK_MAX_DEFAULT_BLOCKS)
		b *= 2;
	return b;
}

/*
 * dm-era keeps a 32-bit era per block in a btree, and a bitset per era
 * until its background digest folds it into that array; a held metadata
 * snapshot (changes --since) can make the live tree copy what it changes.
 * Twice the array, a few bitsets, and 4 MiB for the space maps and
 * superblocks, rounded up to a MiB.
 */
_public_ uint64_t snapmgr_track_default_metadata_size(uint64_t origin_bytes,
						      uint64_t block_size)
{
	uint64_t blocks = block_size ? (origin_bytes + block_size - 1) / block_size : 0;
	uint64_t bytes = 4 * MiB + blocks * 8 + blocks / 2;

	return (bytes + MiB - 1) / MiB * MiB;
}

/* The device whose table maps the origin's data: NAME-real, or NAME. */
static int data_mapper(struct snapmgr_ctx *ctx, const struct origin_record *rec,
		       struct smdm_device **ret)
{
	char realname[REAL_NAME_MAX];
	int r;

	if (!rec->unwrapped) {
		real_name(rec->name, realname);
		r = device_lookup(ctx, realname, ret);
		if (r < 0 || *ret)
			return r;
	}
	r = device_lookup(ctx, rec->name, ret);
	if (r < 0)
		return r;
	if (!*ret || !(*ret)->target_type || !streq((*ret)->target_type, "linear"))
		return snapmgr_error(ctx, -ENODEV, "origin %s is not active (run 'snapctl activate %s')",
				     rec->name, rec->name);
	return 0;
}

/* The device of a linear table's "MAJ:MIN OFFSET". */
static int first_devnum(const char *params, dev_t *ret)
{
	char dev[32];

	if (!params || sscanf(params, "%31s", dev) != 1)
		return -EINVAL;
	return parse_devnum(dev, ret);
}

/* Reloads the data mapping to "linear params" unless it is that already. */
static int data_point_at(struct snapmgr_ctx *ctx, const struct origin_record *rec,
			 const char *params, const char *op, int *fp)
{
	_cleanup_smdm_device_ struct smdm_device *d = NULL;
	dev_t now, want, dev;
	int r;

	r = data_mapper(ctx, rec, &d);
	if (r < 0)
		return r;
	if (!d->target_type || !streq(d->target_type, "linear") || d->target_count != 1 ||
	    first_devnum(d->params, &now) < 0)
		return snapmgr_error(ctx, -EBADMSG, "%s: unexpected table '%s %s'", d->name,
				     d->target_type ? d->target_type : "none", d->params ? d->params : "");
	if (first_devnum(params, &want) < 0)
		return -EINVAL;
	if (now == want)
		return 0;
	/* Only ever between the device itself and our era layer. */
	if (parse_devnum(rec->devnum, &dev) < 0)
		return -EBADMSG;
	if (now != dev) {
		_cleanup_smdm_device_ struct smdm_device *era = NULL;

		r = era_lookup(ctx, rec->name, &era);
		if (r < 0)
			return r;
		if (!era || era->devnum != now)
			return snapmgr_error(ctx, -EBADMSG, "%s maps %u:%u, neither the origin's device nor its era layer",
					     d->name, major(now), minor(now));
	}
	r = smdm_reload(ctx, d->name, "linear", rec->sectors, params);
	if (r < 0)
		return r;
	r = smdm_resume(ctx, d->name);
	if (r < 0)
		return r;
	fault_point(ctx, op, fp);
	return 0;
}

/* Step 1: the tracking's facts, checked, in state starting. */
static int tracking_new(struct snapmgr_ctx *ctx, const struct snapmgr_track_opts *o,
			const struct origin_record *rec, struct track_record **ret)
{
	_cleanup_(track_record_freep) struct track_record *t = calloc(1, sizeof(*t));
	uint64_t origin_bytes = rec->sectors * 512;
	dev_t origin_dev = 0;
	char id[33];
	int r;

	if (!t)
		return -ENOMEM;
	if (!!o->metadata_device == !!o->metadata_file)
		return snapmgr_error(ctx, -EINVAL,
				     "give exactly one of a metadata device or a metadata file");
	t->block_size = o->block_size ? o->block_size
				      : snapmgr_track_default_block_size(origin_bytes);
	if (t->block_size < ERA_MIN_BLOCK || t->block_size % ERA_MIN_BLOCK ||
	    t->block_size / 512 > UINT32_MAX)
		return snapmgr_error(ctx, -EINVAL,
				     "block size %" PRIu64 " is not a multiple of 4 KiB (dm-era tracks whole 4 KiB units)",
				     t->block_size);
	if ((origin_bytes + t->block_size - 1) / t->block_size > UINT32_MAX)
		return snapmgr_error(ctx, -EINVAL, "block size %" PRIu64 " gives more than 2^32 blocks; take a larger one",
				     t->block_size);
	(void)parse_devnum(rec->devnum, &origin_dev);
	if (o->metadata_device) {
		r = check_given_device(ctx, "era metadata", o->metadata_device, origin_dev,
				       TRACK_MIN_METADATA, "dm-era", o->force);
		if (r < 0)
			return r;
		r = set_string(&t->metadata_device, o->metadata_device);
		if (r < 0)
			return r;
	} else {
		t->metadata_size = o->metadata_size ? o->metadata_size
			: snapmgr_track_default_metadata_size(origin_bytes, t->block_size);
		if (t->metadata_size < TRACK_MIN_METADATA || t->metadata_size % 4096)
			return snapmgr_error(ctx, -EINVAL,
					     "metadata size %" PRIu64 " is not a multiple of 4 KiB of at least 2 MiB",
					     t->metadata_size);
		r = backing_file_absolute(ctx, "era metadata", o->metadata_file,
					  "remove it, or attach it and give the device with --metadata",
					  &t->metadata_file);
		if (r < 0)
			return r;
		t->metadata_file_created = true;
	}
	r = new_id(id);
	if (r < 0 || set_string(&t->id, id) < 0)
		return r < 0 ? r : -ENOMEM;
	t->state = TRACK_STARTING;
	*ret = TAKE_PTR(t);
	return 0;
}

/* Steps 1-5 on a loaded record (track, or create --track: op "create"). */
int track_steps(struct snapmgr_ctx *ctx, struct origin_record *rec,
		const struct snapmgr_track_opts *o, const char *op, int *fp)
{
	_cleanup_smdm_device_ struct smdm_device *era = NULL;
	char params[64];
	int r;

	if (rec->tracking && rec->tracking->state == TRACK_STOPPING)
		return snapmgr_error(ctx, -EEXIST,
				     "origin %s was being untracked when it stopped; run 'snapctl untrack %s' to finish",
				     rec->name, rec->name);
	if (!rec->tracking) {
		r = tracking_new(ctx, o, rec, &rec->tracking);
		if (r < 0)
			return r;
		r = record_save(ctx, rec);
		if (r < 0)
			return r;
		fault_point(ctx, op, fp);
	} else {
		log_notice(ctx, "origin %s: finishing the track that stopped half-way, with its metadata and block size",
			   rec->name);
	}
	if (rec->tracking->metadata_file) {
		r = backing_file_prepare(ctx, "era metadata", rec->tracking->metadata_file,
					 rec->tracking->metadata_size, op, fp,
					 &rec->tracking->metadata_device);
		if (r < 0)
			return r;
		r = record_save(ctx, rec);
		if (r < 0)
			return r;
	}
	r = era_lookup(ctx, rec->name, &era);
	if (r < 0)
		return r;
	if (!era) {
		/* dm-era formats metadata whose first block is all zeroes. */
		r = blockdev_zero_head(rec->tracking->metadata_device, ERA_METADATA_BLOCK);
		if (r < 0)
			return snapmgr_error(ctx, r, "cannot initialise era metadata %s: %s",
					     rec->tracking->metadata_device, strerror(-r));
		fault_point(ctx, op, fp);
		r = era_create(ctx, rec);
		if (r < 0)
			return r;
		fault_point(ctx, op, fp);
	}
	r = origin_data_params(ctx, rec, params, sizeof(params));
	if (r < 0)
		return r;
	r = data_point_at(ctx, rec, params, op, fp);
	if (r < 0)
		return r;
	/* The last step: a crash after it is the same as success. */
	rec->tracking->state = TRACK_ACTIVE;
	return record_save(ctx, rec);
}

static int track_locked(struct snapmgr_ctx *ctx, const struct snapmgr_track_opts *o)
{
	_cleanup_record_ struct origin_record *rec = NULL;
	int fp = 0, r;

	r = origin_record_by_name(ctx, o->origin, &rec);
	if (r < 0)
		return r;
	if (record_merging(rec))
		return snapmgr_error(ctx, -EBUSY, "origin %s is merging a snapshot; track it after the merge", rec->name);
	if (rec->tracking && rec->tracking->state == TRACK_ACTIVE)
		return snapmgr_error(ctx, -EEXIST, "origin %s is tracked already", rec->name);
	return track_steps(ctx, rec, o, "track", &fp);
}

_public_ int snapmgr_track(struct snapmgr_ctx *ctx, const struct snapmgr_track_opts *theirs)
{
	_cleanup_(unlockp) int lock = -1;
	struct snapmgr_track_opts o;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !theirs)
		return -EINVAL;
	snapmgr_clear_error(ctx);
	r = opts_take(ctx, &o, sizeof(o), theirs, "snapmgr_track_opts");
	if (r < 0)
		return r;
	if (!o.origin)
		return -EINVAL;
	r = op_begin(ctx, &lock);
	if (r < 0)
		return r;
	return track_locked(ctx, &o);
}

/* NAME-era removed, the metadata loop detached, our metadata file deleted. */
static int track_teardown(struct snapmgr_ctx *ctx, const struct origin_record *rec,
			  const char *op, int *fp)
{
	_cleanup_smdm_device_ struct smdm_device *era = NULL;
	const struct track_record *t = rec->tracking;
	char name[ERA_NAME_MAX];
	int r;

	r = era_lookup(ctx, rec->name, &era);
	if (r < 0)
		return r;
	if (era) {
		era_name(rec->name, name);
		r = smdm_remove(ctx, name);
		if (r == -EBUSY)
			return snapmgr_error(ctx, r, "%s is still in use", name);
		if (r < 0 && r != -ENXIO)
			return r;
		fault_point(ctx, op, fp);
	}
	if (!t->metadata_file)
		return 0;
	return backing_file_release(ctx, "era metadata", t->metadata_file,
				    t->metadata_file_created, op, fp);
}

static void tracking_drop(struct origin_record *rec)
{
	track_record_free(rec->tracking);
	rec->tracking = NULL;
	for (size_t i = 0; i < rec->n_snapshots; i++) {
		free(rec->snapshots[i].change_token);
		rec->snapshots[i].change_token = NULL;
	}
}

static int untrack_locked(struct snapmgr_ctx *ctx, const char *origin)
{
	_cleanup_record_ struct origin_record *rec = NULL;
	char params[64];
	int fp = 0, r;

	r = origin_record_by_name(ctx, origin, &rec);
	if (r < 0)
		return r;
	if (!rec->tracking)
		return snapmgr_error(ctx, -ENOENT, "origin %s is not tracked", rec->name);
	if (rec->tracking->state != TRACK_STOPPING) {
		rec->tracking->state = TRACK_STOPPING;
		r = record_save(ctx, rec);
		if (r < 0)
			return r;
		fault_point(ctx, "untrack", &fp);
	}
	snprintf(params, sizeof(params), "%s 0", rec->devnum);
	r = data_point_at(ctx, rec, params, "untrack", &fp);
	/* Not active (after a reboot, before activate): nothing maps it. */
	if (r < 0 && r != -ENODEV)
		return r;
	snapmgr_clear_error(ctx);
	r = track_teardown(ctx, rec, "untrack", &fp);
	if (r < 0)
		return r;
	tracking_drop(rec);
	return record_save(ctx, rec);
}

_public_ int snapmgr_untrack(struct snapmgr_ctx *ctx, const char *origin)
{
	_cleanup_(unlockp) int lock = -1;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !origin)
		return -EINVAL;
	r = op_begin(ctx, &lock);
	if (r < 0)
		return r;
	return untrack_locked(ctx, origin);
}

int track_release(struct snapmgr_ctx *ctx, struct origin_record *rec,
		  const char *op, int *fp)
{
	int r;

	if (!rec->tracking)
		return 0;
	r = track_teardown(ctx, rec, op, fp);
	if (r < 0)
		return r;
	tracking_drop(rec);
	return 0;
}

int track_assemble(struct snapmgr_ctx *ctx, struct origin_record *rec)
{
	_cleanup_smdm_device_ struct smdm_device *era = NULL;
	struct track_record *t = rec->tracking;
	int r;

	if (!t)
		return 0;
	if (t->state != TRACK_ACTIVE) {
		log_warning(ctx, "origin %s: was being %s when it stopped; run 'snapctl %s %s' again",
			    rec->name, t->state == TRACK_STARTING ? "tracked" : "untracked",
			    t->state == TRACK_STARTING ? "track" : "untrack", rec->name);
		return 0;
	}
	if (t->metadata_file) {
		r = backing_file_attach(ctx, t->metadata_file, &t->metadata_device);
		if (r < 0)
			return r;
	}
	r = era_lookup(ctx, rec->name, &era);
	if (r < 0 || era)
		return r;
	/* Never formats: the metadata holds what the tokens refer to. */
	return era_create(ctx, rec);
}
