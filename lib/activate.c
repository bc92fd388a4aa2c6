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
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "blockdev.h"
#include "loop.h"
#include "merge.h"
#include "record.h"
#include "stack.h"

/* Attaches a COW file again if needed and records its loop device. */
static int cow_attach(struct snapmgr_ctx *ctx, json_object *entry)
{
	const char *file = json_get_string(entry, "cow_file");
	_cleanup_free_ char *dev = NULL;
	int r;

	if (!file)
		return 0;
	if (loop_find(file, &dev) < 0) {
		r = loop_attach(ctx, file, &dev);
		if (r < 0)
			return r;
	}
	json_set_string(entry, "cow_device", dev);
	return 0;
}

static int activate_origin(struct snapmgr_ctx *ctx, const char *origin)
{
	_cleanup_dm_device_ struct dm_device *origdev = NULL;
	json_object *rec = NULL, *arr, *merging = NULL;
	char devs[32], uuid[64], params[128];
	const char *path;
	dev_t d;
	size_t n;
	int fp = 0, r;

	r = record_load(ctx, origin, &rec);
	if (r < 0)
		return r;
	/* Device numbers change across reboots (loop devices): re-read. */
	path = json_get_string(rec, "device");
	r = path ? blockdev_devnum(path, &d) : -EBADMSG;
	if (r < 0) {
		r = snapmgr_error(ctx, r, "origin %s: device %s: %s", origin,
				  path ? path : "(none)", strerror(-r));
		goto out;
	}
	devnum_string(d, devs);
	json_set_string(rec, "devnum", devs);

	arr = json_object_object_get(rec, "snapshots");
	n = arr ? json_object_array_length(arr) : 0;
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *st = json_get_string(e, "state");

		if (streq(st, "merging") || streq(st, "merge_failed"))
			merging = e;
		if (!streq(st, "creating") && !streq(st, "removing")) {
			r = cow_attach(ctx, e);
			if (r < 0)
				goto out;
		}
	}
	r = record_save(ctx, origin, rec);
	if (r < 0)
		goto out;

	r = dm_lookup(ctx, origin, &origdev);
	if (r < 0)
		goto out;
	if (n == 0 && json_object_get_boolean(json_object_object_get(rec, "unwrapped"))) {
		/* No snapshot: a plain linear mapping keeps the name working. */
		if (!origdev) {
			snprintf(uuid, sizeof(uuid), SNAPMGR_UUID_PREFIX "orig-%s",
				 json_get_string(rec, "id"));
			snprintf(params, sizeof(params), "%s 0", devs);
			r = dm_create(ctx, origin, uuid, "linear",
				      (uint64_t)json_get_int(rec, "sectors"), params);
		}
		goto out;
	}
	if (!origdev && merging) {
		char realname[REAL_NAME_MAX];
		_cleanup_dm_device_ struct dm_device *real = NULL;

		/* The interrupted merge resumes as the origin comes up. */
		real_name(origin, realname);
		r = dm_lookup(ctx, realname, &real);
		if (r < 0)
			goto out;
		if (!real) {
			snprintf(uuid, sizeof(uuid), SNAPMGR_UUID_PREFIX "real-%s",
				 json_get_string(rec, "id"));
			snprintf(params, sizeof(params), "%s 0", devs);
			r = dm_create(ctx, realname, uuid, "linear",
				      (uint64_t)json_get_int(rec, "sectors"), params);
			if (r < 0)
				goto out;
		}
		r = snapshot_params(ctx, origin, json_get_string(merging, "cow_device"),
				    (uint64_t)json_get_int(merging, "chunk_size"),
				    params, sizeof(params));
		if (r < 0)
			goto out;
		snprintf(uuid, sizeof(uuid), SNAPMGR_UUID_PREFIX "orig-%s",
			 json_get_string(rec, "id"));
		r = dm_create(ctx, origin, uuid, "snapshot-merge",
			      (uint64_t)json_get_int(rec, "sectors"), params);
		if (r < 0)
			goto out;
	} else {
		r = origin_assemble(ctx, origin, rec, &fp);
		if (r < 0)
			goto out;
	}

	/* Every other snapshot, loaded while the origin is suspended. */
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *name = json_get_string(e, "name");
		const char *st = json_get_string(e, "state");
		_cleanup_dm_device_ struct dm_device *snapdev = NULL;

		if (!streq(st, "active") && !streq(st, "merge_pending")) {
			if (streq(st, "creating") || streq(st, "removing"))
				log_warning(ctx, "%s: was being %s when it stopped; run 'snapctl %s %s' again",
					    name, streq(st, "creating") ? "created" : "removed",
					    streq(st, "creating") ? "create" : "remove", name);
			continue;
		}
		r = dm_lookup(ctx, name, &snapdev);
		if (r < 0)
			goto out;
		if (snapdev)
			continue;
		r = snapshot_params(ctx, origin, json_get_string(e, "cow_device"),
				    (uint64_t)json_get_int(e, "chunk_size"), params,
				    sizeof(params));
		if (r < 0)
			goto out;
		r = dm_suspend(ctx, origin);
		if (r < 0)
			goto out;
		snprintf(uuid, sizeof(uuid), SNAPMGR_UUID_PREFIX "snap-%s",
			 json_get_string(e, "id"));
		r = dm_create(ctx, name, uuid, "snapshot",
			      (uint64_t)json_get_int(rec, "sectors"), params);
		(void)dm_resume(ctx, origin);
		if (r < 0)
			goto out;
	}
	r = record_save(ctx, origin, rec);
	if (r < 0)
		goto out;

	/* Deferred merges start once nothing holds the devices. */
	for (size_t i = 0; !merging && i < n; i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		bool deferred = false;

		if (!streq(json_get_string(e, "state"), "merge_pending"))
			continue;
		r = merge_start_locked(ctx, json_get_string(e, "name"), &deferred);
		if (r < 0)
			goto out;
		if (deferred)
			log_notice(ctx, "%s: merge still deferred: the origin or the snapshot is open",
				   json_get_string(e, "name"));
		break;
	}
	/* A merge that finished while we were away is finalised now. */
	json_object_put(rec);
	rec = NULL;
	r = record_load(ctx, origin, &rec);
	if (r < 0)
		goto out;
	r = merge_finalise_locked(ctx, origin, rec);
	if (r == -EINPROGRESS)
		r = 0;
	else if (r == -EIO) {
		/* Not an activation failure: status reports it as merge_failed. */
		log_warning(ctx, "origin %s: a merge failed earlier; the origin reads its device as it is ('snapctl remove' releases the snapshot)",
			    origin);
		r = 0;
	}
out:
	json_object_put(rec);
	return r;
}

_public_ int snapmgr_activate(struct snapmgr_ctx *ctx, const char *origin,
			      unsigned *ret_failed)
{
	_cleanup_(unlockp) int lock = -1;
	char **origins = NULL;
	unsigned failed = 0;
	int r, first = 0;

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
	strv_free(origins);
	if (ret_failed)
		*ret_failed = failed;
	return first;
}
