/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one place libsnapmgr talks to libdevmapper. Each helper turns libdm's
 * 1/0 into 0/-errno (dm_task_get_errno, else -EIO), and logs what failed.
 */
#pragma once

#include <libdevmapper.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "libsnapmgr-private.h"

/* One dm device: its info and the first target of its table or status. */
struct dm_device {
	char *name;
	char *uuid;
	dev_t devnum;
	int open_count;
	bool suspended;
	bool live_table;
	uint32_t event_nr;
	unsigned target_count;
	char *target_type; /* NULL when there is no live table */
	uint64_t length;   /* sectors */
	char *params;      /* of the first target */
};

void dm_device_free(struct dm_device *dev);
static inline void dm_device_freep(struct dm_device **d)
{
	dm_device_free(*d);
}
#define _cleanup_dm_device_ _cleanup_(dm_device_freep)

static inline void dm_task_destroyp(struct dm_task **t)
{
	if (*t)
		dm_task_destroy(*t);
}
#define _cleanup_dm_task_ _cleanup_(dm_task_destroyp)

/* A failed task's -errno: dm_task_get_errno(), else -EIO. */
int task_errno(struct dm_task *dmt);

/*
 * dm_task_get_names()'s list as (name, event number) pairs sorted by name
 * (lib/dm-events.c); the list must carry event numbers (dm 4.37+).
 */
int dm_names_to_events(const struct dm_names *names,
		       struct snapmgr_dm_event **ret, size_t *ret_n);

/* A snapshot or snapshot-merge device's status line, parsed. */
struct smdm_snapshot_status {
	uint64_t used_sectors, total_sectors, metadata_sectors;
	bool invalid, overflow, merge_failed;
	bool has_usage; /* the numbers are set (not invalid or overflowed) */
};
/*
 * lib/dm-status.c, whichever backend runs the ioctls. Parses a status line
 * (logged when it cannot: -EBADMSG).
 */
int smdm_parse_snapshot_status(struct snapmgr_ctx *ctx, const char *name,
			       const char *params, struct smdm_snapshot_status *ret);
/* -ENXIO when there is no such device, -EBADMSG when it is no snapshot. */
int smdm_snapshot_status(struct snapmgr_ctx *ctx, const char *name,
			 struct smdm_snapshot_status *ret);

/* Routes libdevmapper's own messages into ctx's log function. */
void dm_setup(struct snapmgr_ctx *ctx);

/* -ENXIO when there is no such device. status: STATUS instead of TABLE. */
int dm_device_get(struct snapmgr_ctx *ctx, const char *name, bool status,
		  struct dm_device **ret);
int dm_device_get_by_devnum(struct snapmgr_ctx *ctx, dev_t devnum,
			    bool status, struct dm_device **ret);
/* A DM_DEVICE_LIST task that ran: dm_task_get_names() reads the list. */
int dm_list_devices(struct snapmgr_ctx *ctx, struct dm_task **ret);
/* All device names, NULL-terminated; free with strv_free(). */
int dm_list_names(struct snapmgr_ctx *ctx, char ***ret_names);

/* Create, load and resume in one go; the device is active on success. */
int dm_create(struct snapmgr_ctx *ctx, const char *name, const char *uuid,
	      const char *target, uint64_t length, const char *params);
/* Load a new inactive table; it takes over at the next resume. */
int dm_reload(struct snapmgr_ctx *ctx, const char *name, const char *target,
	      uint64_t length, const char *params);
int dm_suspend(struct snapmgr_ctx *ctx, const char *name);
int dm_resume(struct snapmgr_ctx *ctx, const char *name);
/* -ENXIO when already gone. */
int dm_remove(struct snapmgr_ctx *ctx, const char *name);
/* Removes now, or when the last opener closes it. */
int dm_remove_deferred(struct snapmgr_ctx *ctx, const char *name);
/* Target message to sector 0; *ret_response may be NULL (no reply). */
int dm_message(struct snapmgr_ctx *ctx, const char *name, const char *message,
	       char **ret_response);
