/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal side of lib/changes.c, for lib/export.c and the unit tests. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "libsnapmgr-private.h"

/*
 * The store's old chunks as byte ranges, sorted and merged, the last one
 * cut at origin_size. -EBADMSG (with snapmgr_get_error()) when an
 * exception lies past the origin's end.
 */
int changes_ranges_from_store(struct snapmgr_ctx *ctx,
			      const struct snapmgr_cow_store *store,
			      uint64_t origin_size,
			      struct snapmgr_range **ret_ranges, size_t *ret_n);
/* The store of a COW block device, read with O_DIRECT. */
int changes_open_store(struct snapmgr_ctx *ctx, const char *cow_path,
		       uint64_t origin_size, struct snapmgr_cow_store **ret);

/*
 * lib/era-changes.c's result: the blocks written since token (ranges
 * taken, freed on failure too); snapshot NULL when asked of the origin.
 */
int changes_new_tracked(const char *snapshot, const char *origin, const char *token,
			uint32_t era, uint64_t origin_size, uint64_t granularity,
			struct snapmgr_range *ranges, size_t n, struct snapmgr_changes **ret);

const struct snapmgr_range *changes_ranges(const struct snapmgr_changes *c,
					   size_t *ret_n);
/* The origin device named in the snapshot's table. */
dev_t changes_origin_devnum(const struct snapmgr_changes *c);
/* True when d is the snapshot, its origin (table) or its COW. */
bool changes_uses_devnum(const struct snapmgr_changes *c, dev_t d);
/* True when the file open at fd backs the snapshot's COW or origin loop. */
bool changes_uses_file(const struct snapmgr_changes *c, int fd);

/*
 * lib/export.c: does older (a --since snapshot's ranges) cover newer's?
 * exact: same chunk size, every range inside; else every range touched.
 */
bool export_older_covers(const struct snapmgr_range *older, size_t n_older,
			 const struct snapmgr_range *newer, size_t n_newer,
			 bool exact);
