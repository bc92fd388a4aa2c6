/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal: merge steps that activate also takes (lib/merge.c). */
#pragma once

#include <stdbool.h>

#include "libsnapmgr-private.h"
#include "record.h"

/* With the lock held. *ret_deferred: recorded as merge_pending. */
int merge_start_locked(struct snapmgr_ctx *ctx, const char *snap, bool *ret_deferred);
/*
 * With the lock held: finalises the origin's merge if its COW is empty.
 * -EINPROGRESS while merging, -EIO when the kernel stopped the merge, 0 when
 * there was nothing to do or it is done.
 */
int merge_finalise_locked(struct snapmgr_ctx *ctx, struct origin_record *rec);
