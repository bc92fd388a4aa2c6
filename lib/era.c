/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The dm-era layer beneath a tracked origin's NAME-real (see lib/era.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "blockdev.h"
#include "era.h"
#include "stack.h"
#include "tool.h"

void era_name(const char *origin, char buf[ERA_NAME_MAX])
{
	snprintf(buf, ERA_NAME_MAX, "%s-era", origin);
}

int era_lookup(struct snapmgr_ctx *ctx, const char *origin,
	       struct smdm_device **ret)
{
	char name[ERA_NAME_MAX];

	era_name(origin, name);
	return device_lookup_ours(ctx, name, "era", ret);
}

int origin_data_params(struct snapmgr_ctx *ctx, const struct origin_record *rec,
		       char *buf, size_t size)
{
	_cleanup_smdm_device_ struct smdm_device *era = NULL;
	int r;

	r = era_lookup(ctx, rec->name, &era);
	if (r < 0)
		return r;
	if (era)
		snprintf(buf, size, "%u:%u 0", major(era->devnum), minor(era->devnum));
	else
		snprintf(buf, size, "%s 0", rec->devnum);
	return 0;
}

/* <metadata block size> <used>/<total> <current era> <held root | -> */
int era_parse_status(struct snapmgr_ctx *ctx, const char *name,
		     const char *params, struct era_status *ret)
{
	char held[32];
	uint64_t bs, used, total;
	uint32_t era;
	int n = 0;

	if (!params ||
	    sscanf(params, "%" SCNu64 " %" SCNu64 "/%" SCNu64 " %" SCNu32 " %31s%n",
		   &bs, &used, &total, &era, held, &n) != 5 || params[n] != '\0' ||
	    total == 0 || used > total)
		return snapmgr_error(ctx, -EBADMSG, "%s: cannot parse the era status '%s'",
				     name, params ? params : "");
	*ret = (struct era_status){
		.metadata_block_sectors = bs,
		.metadata_used = used,
		.metadata_total = total,
		.era = era,
		.metadata_snap_held = !streq(held, "-"),
	};
	return 0;
}

int era_status(struct snapmgr_ctx *ctx, const char *origin,
	       struct era_status *ret)
{
	_cleanup_smdm_device_ struct smdm_device *d = NULL;
	char name[ERA_NAME_MAX];
	int r;

	era_name(origin, name);
	r = smdm_device_get(ctx, name, true, &d);
	if (r == -ENXIO)
		return snapmgr_error(ctx, r, "origin %s is tracked but %s is not there (run 'snapctl activate %s')",
				     origin, name, origin);
	if (r < 0)
		return r;
	if (!d->target_type || !streq(d->target_type, "era"))
		return snapmgr_error(ctx, -EBADMSG, "%s is not an era target", name);
	return era_parse_status(ctx, name, d->params, ret);
}

int era_checkpoint(struct snapmgr_ctx *ctx, const char *origin,
		   uint32_t *ret_era)
{
	struct era_status st;
	char name[ERA_NAME_MAX];
	int r;

	era_name(origin, name);
	/*
	 * dm-era commits its metadata before it answers, so the new era is
	 * on disk; its documentation asks to read the era back, not to
	 * assume it moved.
	 */
	r = smdm_message(ctx, name, "checkpoint", NULL);
	if (r < 0)
		return r;
	r = era_status(ctx, origin, &st);
	if (r < 0)
		return r;
	*ret_era = st.era;
	return 0;
}

/*
 * The kernel loads a target's module on first use only where its
 * request_module() reaches modprobe; like lvm2, load it ourselves when the
 * target is missing, and say so when that fails.
 */
static int era_target_ready(struct snapmgr_ctx *ctx)
{
	char *argv[] = { "modprobe", "dm-era", NULL };
	uint32_t v[3];
	int r;

	if (smdm_target_version(ctx, "era", v) == 0)
		return 0;
	r = tool_run(ctx, argv, 0, "kmod", NULL, 0);
	if (r < 0 || smdm_target_version(ctx, "era", v) < 0)
		return snapmgr_error(ctx, -ENODEV,
				     "the kernel has no dm-era target (modprobe dm-era failed; a kernel built with CONFIG_DM_ERA is needed)");
	return 0;
}

int era_create(struct snapmgr_ctx *ctx, const struct origin_record *rec)
{
	const struct track_record *t = rec->tracking;
	char name[ERA_NAME_MAX], uuid[64], params[128];
	dev_t meta;
	int r;

	r = era_target_ready(ctx);
	if (r < 0)
		return r;

	r = blockdev_devnum(t->metadata_device, &meta);
	if (r < 0)
		return snapmgr_error(ctx, r, "era metadata %s: %s", t->metadata_device,
				     strerror(-r));
	era_name(rec->name, name);
	snprintf(uuid, sizeof(uuid), SNAPMGR_UUID_PREFIX "era-%s", rec->id);
	snprintf(params, sizeof(params), "%u:%u %s %" PRIu64, major(meta), minor(meta),
		 rec->devnum, t->block_size / 512);
	return smdm_create(ctx, name, uuid, "era", rec->sectors, params);
}
