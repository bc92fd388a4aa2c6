/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The checks before a snapshot's data is read (lib/changes.c, lib/mount.c). */
#include <errno.h>

#include "snapshot-use.h"

int snapshot_check_state(struct snapmgr_ctx *ctx, enum snapmgr_state state,
		       const struct state_refusals *why)
{
	switch (state) {
	case SNAPMGR_STATE_ACTIVE:
		return 0;
	case SNAPMGR_STATE_INVALID:
		return snapmgr_error(ctx, -ESTALE, "%s", why->invalid);
	case SNAPMGR_STATE_OVERFLOW:
		return snapmgr_error(ctx, -ESTALE, "%s", why->overflow);
	case SNAPMGR_STATE_MERGING:
		return snapmgr_error(ctx, -EBUSY, "%s", why->merging);
	case SNAPMGR_STATE_MERGE_FAILED:
		return snapmgr_error(ctx, -ESTALE, "%s", why->merge_failed);
	}
	return snapmgr_error(ctx, -EINVAL, "%s", why->unknown);
}

int snapshot_get_usable(struct snapmgr_ctx *ctx, const char *name,
			const struct state_refusals *why, struct snapmgr_snapshot **ret)
{
	_cleanup_(snapshot_unrefp) struct snapmgr_snapshot *snap = NULL;
	int r;

	r = snapmgr_snapshot_get(ctx, name, &snap);
	if (r == -ENOENT)
		return snapmgr_error(ctx, r, "no such snapshot");
	if (r < 0)
		return r;
	r = snapshot_check_state(ctx, snapmgr_snapshot_get_state(snap), why);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(snap);
	return 0;
}

int snapshot_table_get(struct snapmgr_ctx *ctx, const char *name, const char *not_single,
		       struct smdm_device **ret)
{
	_cleanup_smdm_device_ struct smdm_device *table = NULL;
	int r;

	r = smdm_device_get(ctx, name, false, &table);
	if (r == -ENXIO)
		return snapmgr_error(ctx, -ENOENT, "no such snapshot");
	if (r < 0)
		return r;
	if (!streq(table->target_type, "snapshot") || table->target_count != 1)
		return snapmgr_error(ctx, -EBUSY, "%s", not_single);
	*ret = TAKE_PTR(table);
	return 0;
}
