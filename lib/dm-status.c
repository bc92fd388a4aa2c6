/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A snapshot's status line, parsed by libdevmapper's dm_get_status_snapshot
 * so that the kernel's format is known in one place. Only the parser (no
 * ioctl) is used here, so this file serves the real backend (lib/dm.c) and
 * the host tests' fake one (lib/dm-fake.c) alike.
 */
#include <errno.h>
#include <libdevmapper.h>

#include "dm.h"

int smdm_parse_snapshot_status(struct snapmgr_ctx *ctx, const char *name,
			       const char *params, struct smdm_snapshot_status *ret)
{
	struct dm_status_snapshot *st = NULL;
	struct dm_pool *mem;
	int r;

	mem = dm_pool_create("snapmgr-status", 256);
	if (!mem)
		return -ENOMEM;
	r = params && dm_get_status_snapshot(mem, params, &st) ? 0 : -EBADMSG;
	if (r == 0)
		*ret = (struct smdm_snapshot_status){
			.used_sectors = st->used_sectors,
			.total_sectors = st->total_sectors,
			.metadata_sectors = st->metadata_sectors,
			.invalid = st->invalid,
			.overflow = st->overflow,
			.merge_failed = st->merge_failed,
			.has_usage = !st->invalid && !st->overflow && !st->merge_failed,
		};
	else
		log_warning(ctx, "%s: cannot parse snapshot status '%s'", name,
			    params ? params : "");
	dm_pool_destroy(mem);
	return r;
}

int smdm_snapshot_status(struct snapmgr_ctx *ctx, const char *name,
			 struct smdm_snapshot_status *ret)
{
	_cleanup_smdm_device_ struct smdm_device *d = NULL;
	int r;

	r = smdm_device_get(ctx, name, true, &d);
	if (r < 0)
		return r;
	if (!streq(d->target_type, "snapshot") &&
	    !streq(d->target_type, "snapshot-merge"))
		return -EBADMSG;
	return smdm_parse_snapshot_status(ctx, name, d->params, ret);
}
