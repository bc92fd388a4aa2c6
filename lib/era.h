/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal: the dm-era layer of a tracked origin (lib/era.c) and change
 * tokens (lib/token.c).
 *
 *   DEV <- NAME-era (era META DEV BLOCK) <- NAME-real <- NAME, snapshots
 *
 * The era layer sits beneath NAME-real rather than above it, so adding or
 * removing it reloads one table (NAME-real's, or NAME's while the origin
 * is unwrapped) and never the snapshot-origin or snapshot tables: there
 * is no moment, crash or not, in which an origin write could reach the
 * device without passing the snapshots' copy-on-write, and every write
 * below the snapshots (origin writes, merges) passes through the era
 * target.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "dm.h"
#include "record.h"

#define ERA_NAME_MAX (SNAPMGR_NAME_MAX + 8)
/* dm-era's own limits: blocks are multiples of 8 sectors. */
#define ERA_MIN_BLOCK (4 * 1024)
/* dm-era's metadata block (its status line's first field). */
#define ERA_METADATA_BLOCK 4096

void era_name(const char *origin, char buf[ERA_NAME_MAX]);
/* NAME-era when it exists (ours, else -EEXIST), or *ret = NULL. */
int era_lookup(struct snapmgr_ctx *ctx, const char *origin,
	       struct smdm_device **ret);
/*
 * The linear table that maps the origin's data: "MAJ:MIN 0" of NAME-era
 * when it exists, else of the device itself.
 */
int origin_data_params(struct snapmgr_ctx *ctx, const struct origin_record *rec,
		       char *buf, size_t size);

struct era_status {
	uint64_t metadata_block_sectors;
	uint64_t metadata_used, metadata_total; /* in metadata blocks */
	uint32_t era;
	bool metadata_snap_held;
};
int era_parse_status(struct snapmgr_ctx *ctx, const char *name,
		     const char *params, struct era_status *ret);
int era_status(struct snapmgr_ctx *ctx, const char *origin,
	       struct era_status *ret);
/*
 * Moves the era layer to a new era (dm-era's "checkpoint") and returns
 * the era now current: every write that completes from here on is
 * recorded in it or a later one.
 */
int era_checkpoint(struct snapmgr_ctx *ctx, const char *origin,
		   uint32_t *ret_era);
/* Creates NAME-era over the device (never formats: see lib/track.c). */
int era_create(struct snapmgr_ctx *ctx, const struct origin_record *rec);

/*
 * lib/era-changes.c: era_invalidate's list (modified in place) as byte
 * ranges of block_size blocks, sorted, merged, cut at origin_size;
 * -EBADMSG with a message for anything but that list.
 */
struct snapmgr_range;
int era_parse_blocks(struct snapmgr_ctx *ctx, char *xml, uint64_t block_size,
		     uint64_t origin_size, struct snapmgr_range **ret, size_t *ret_n);

/* lib/track.c, for create --track, activate and remove --release. */
struct snapmgr_track_opts;
/* snapmgr_track()'s steps on rec, fault points of op (o: checked by the caller). */
int track_steps(struct snapmgr_ctx *ctx, struct origin_record *rec,
		const struct snapmgr_track_opts *o, const char *op, int *fp);
/* NAME-era (and its metadata loop) made again for a tracked origin. */
int track_assemble(struct snapmgr_ctx *ctx, struct origin_record *rec);
/* After the origin's release: NAME-era and the metadata go too. */
int track_release(struct snapmgr_ctx *ctx, struct origin_record *rec,
		  const char *op, int *fp);

/*
 * lib/token.c. A change token: "era1:<tracking id>:<era>", opaque to
 * users. parse: -EINVAL when it is no token at all.
 */
#define TOKEN_MAX 64
void token_format(const char *tracking_id, uint32_t era, char buf[TOKEN_MAX]);
bool token_looks_like(const char *s);
int token_parse(const char *s, char ret_id[33], uint32_t *ret_era);
