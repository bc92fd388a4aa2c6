/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal: the building blocks of our stacks (lib/stack-util.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dm.h"
#include "libsnapmgr-private.h"
#include "record.h"

#define REAL_NAME_MAX (SNAPMGR_NAME_MAX + 8)

/* SNAPMGR_DEBUG_CRASH_AT=OP:N: exit at the Nth fault point of OP. */
void fault_point(struct snapmgr_ctx *ctx, const char *op, int *n);
/* The lock under /run/snapmgr that serialises snapctl and snapmgrd. */
int take_lock(struct snapmgr_ctx *ctx, int *ret_fd);
void unlockp(int *fd);
int new_id(char ret[33]);
int devnum_string(dev_t d, char buf[32]);
/* The dm device, or *ret = NULL and 0 when there is none. */
int device_lookup(struct snapmgr_ctx *ctx, const char *name, struct smdm_device **ret);
/* Its UUID is SNAPMGR-<kind>-...: kind is real, orig, snap or era. */
bool uuid_is_ours(const struct smdm_device *d, const char *kind);
/*
 * device_lookup, and -EEXIST "'NAME' exists and is not ours" when there
 * is a device of that name whose UUID is not ours of kind.
 */
int device_lookup_ours(struct snapmgr_ctx *ctx, const char *name, const char *kind,
		       struct smdm_device **ret);
int real_name(const char *origin, char buf[REAL_NAME_MAX]);
/*
 * The record of an origin we manage, given as NAME or /dev/mapper/NAME;
 * -ENODEV with a message when there is none.
 */
int origin_record_by_name(struct snapmgr_ctx *ctx, const char *origin,
			  struct origin_record **ret);
/* NAME-real and NAME (snapshot-origin), made or completed from the record. */
int origin_assemble(struct snapmgr_ctx *ctx, struct origin_record *rec, int *fp);
/* Every public operation starts so: error cleared, libdm set up, lock held. */
int op_begin(struct snapmgr_ctx *ctx, int *ret_lock);
/* The same; wait false: -EAGAIN when another snapctl holds the lock. */
int op_begin_flags(struct snapmgr_ctx *ctx, bool wait, int *ret_lock);
/*
 * Detaches the loop device of the entry's COW file and deletes the file if
 * snapctl created it; a fault point of op between the two.
 */
int cow_release(struct snapmgr_ctx *ctx, const struct snap_entry *entry,
		const char *op, int *fp);
/*
 * Checks a device given for a COW or era metadata (what: "COW"): a block
 * device, not the origin, not ours, unused, at least min_size bytes (what
 * needs says needs them), no signature unless force.
 */
int check_given_device(struct snapmgr_ctx *ctx, const char *what, const char *dev,
		       dev_t origin_dev, uint64_t min_size, const char *needs,
		       bool force);
/* The "snapshot" table arguments: NAME-real, the COW, P, chunk. */
int snapshot_params(struct snapmgr_ctx *ctx, const char *origin,
		    const char *cow_dev, uint64_t chunk, char *buf, size_t size);

/*
 * lib/stack.c's steps of create and remove, shared with snapshot sets
 * (lib/set.c).
 */
/* The record of o->origin: loaded, or new (not saved) for a raw device. */
int origin_prepare(struct snapmgr_ctx *ctx, const struct snapmgr_create_opts *o,
		   struct origin_record **ret_rec);
/*
 * Checks o's COW and appends an entry in state creating (not saved);
 * schedule: the [schedule:NAME] making it, or NULL (by hand).
 */
int entry_new(struct snapmgr_ctx *ctx, const struct snapmgr_create_opts *o,
	      const char *schedule, dev_t origin_dev, struct origin_record *rec,
	      struct snap_entry **ret);
/* Creates the entry's COW file if needed and attaches it to a loop device. */
int cow_file_prepare(struct snapmgr_ctx *ctx, struct snap_entry *entry, int *fp);
/* Its era layer is in place (tracking active): snapshots get tokens. */
static inline bool origin_tracked(const struct origin_record *rec)
{
	return rec->tracking && rec->tracking->state == TRACK_ACTIVE;
}
/*
 * A tracked origin's new snapshot: its conservative change token (the
 * era current before the suspend), saved; nothing when untracked or set.
 */
int token_before_suspend(struct snapmgr_ctx *ctx, struct origin_record *rec,
			 struct snap_entry *entry, int *fp);
/* snapmgr_remove() with the lock held. */
int remove_locked(struct snapmgr_ctx *ctx, const char *snap, unsigned flags);
/* lib/set.c: 1 when name is a snapshot set's (so no snapshot may take it). */
int set_name_taken(struct snapmgr_ctx *ctx, const char *name);
