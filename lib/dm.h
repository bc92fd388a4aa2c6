/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The seam between libsnapmgr and device-mapper. Everything that needs dm
 * goes through these smdm_* calls (never libdevmapper's own dm_*), which
 * return 0 or a negative errno and set the context's error for what failed.
 *
 * Two backends implement them, chosen at link time: lib/dm.c over
 * libdevmapper (the library), and lib/dm-fake.c, an in-memory device table
 * with fault injection that only the host tests link (so the crash-safety
 * of create, remove, merge and activate is tested without a kernel).
 * lib/dm-status.c and lib/dm-events.c parse what either backend returns.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "libsnapmgr-private.h"

/* One dm device: its info and the first target of its table or status. */
struct smdm_device {
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

void smdm_device_free(struct smdm_device *dev);
static inline void smdm_device_freep(struct smdm_device **d)
{
	smdm_device_free(*d);
}
#define _cleanup_smdm_device_ _cleanup_(smdm_device_freep)

/*
 * Called first by every operation that needs device-mapper: routes the
 * backend's messages into ctx's log function, and checks that dm can be
 * reached at all. When it cannot, -ENODEV and one line with the fix, e.g.
 * "device-mapper is not available: /dev/mapper/control missing (modprobe
 * dm_mod)".
 */
int smdm_setup(struct snapmgr_ctx *ctx);
/*
 * ctx is going away: libdevmapper's process-wide log hook must stop
 * pointing at it (only if it does: another live context keeps it).
 */
void smdm_forget(struct snapmgr_ctx *ctx);

/* -ENXIO when there is no such device. status: STATUS instead of TABLE. */
int smdm_device_get(struct snapmgr_ctx *ctx, const char *name, bool status,
		    struct smdm_device **ret);
int smdm_device_get_by_devnum(struct snapmgr_ctx *ctx, dev_t devnum,
			      bool status, struct smdm_device **ret);
/* All device names, NULL-terminated; free with strv_free(). */
int smdm_list_names(struct snapmgr_ctx *ctx, char ***ret_names);
/* Every device's event number, sorted by name (see lib/dm-events.c). */
int smdm_list_events(struct snapmgr_ctx *ctx,
		     struct snapmgr_dm_event ***ret_list);
/* The version of a target type (e.g. "snapshot"); -ENOENT if not loaded. */
int smdm_target_version(struct snapmgr_ctx *ctx, const char *target,
			uint32_t ret_version[3]);

/* Create, load and resume in one go; the device is active on success. */
int smdm_create(struct snapmgr_ctx *ctx, const char *name, const char *uuid,
		const char *target, uint64_t length, const char *params);
/* Load a new inactive table; it takes over at the next resume. */
int smdm_reload(struct snapmgr_ctx *ctx, const char *name, const char *target,
		uint64_t length, const char *params);
int smdm_suspend(struct snapmgr_ctx *ctx, const char *name);
int smdm_resume(struct snapmgr_ctx *ctx, const char *name);
/* -ENXIO when already gone. */
int smdm_remove(struct snapmgr_ctx *ctx, const char *name);
/* Removes now, or when the last opener closes it. */
int smdm_remove_deferred(struct snapmgr_ctx *ctx, const char *name);
/* Target message to sector 0; *ret_response may be NULL (no reply). */
int smdm_message(struct snapmgr_ctx *ctx, const char *name, const char *message,
		 char **ret_response);

/* A snapshot or snapshot-merge device's status line, parsed. */
struct smdm_snapshot_status {
	uint64_t used_sectors, total_sectors, metadata_sectors;
	bool invalid, overflow, merge_failed;
	bool has_usage; /* the numbers are set (not invalid or overflowed) */
};
/* lib/dm-status.c: parses a status line (logged when it cannot: -EBADMSG). */
int smdm_parse_snapshot_status(struct snapmgr_ctx *ctx, const char *name,
			       const char *params, struct smdm_snapshot_status *ret);
/* -ENXIO when there is no such device, -EBADMSG when it is no snapshot. */
int smdm_snapshot_status(struct snapmgr_ctx *ctx, const char *name,
			 struct smdm_snapshot_status *ret);

/*
 * lib/dm-events.c: a DM_LIST_DEVICES reply (struct dm_names, as the kernel
 * lays it out) as (name, event number) pairs sorted by name; the list must
 * carry event numbers (dm 4.37+).
 */
struct dm_names;
int smdm_names_to_events(const struct dm_names *names,
			 struct snapmgr_dm_event ***ret_list);
/*
 * Building such a list (the fake backend too): one more entry, the list
 * kept NULL-terminated (free it with snapmgr_events_list_free() on
 * failure); then sorted by name.
 */
int smdm_events_add(struct snapmgr_dm_event ***list, size_t *n,
		    const char *name, uint32_t event_nr);
void smdm_events_sort(struct snapmgr_dm_event **list, size_t n);
