/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal: a snapshot about to be read through (lib/snapshot-use.c), by
 * changes and mount: found, in a state whose data can be trusted, and its
 * dm table a single snapshot target. The refusals' errnos are one policy;
 * their words are each caller's.
 */
#pragma once

#include "dm.h"
#include "libsnapmgr-private.h"

static inline void snapshot_unrefp(struct snapmgr_snapshot **s)
{
	snapmgr_snapshot_unref(*s);
}

/* What the caller says for each state it refuses. */
struct state_refusals {
	const char *invalid, *overflow, *merging, *merge_failed, *unknown;
};

/*
 * The refusal of a snapshot in state, or 0: one invalid, overflowed or
 * whose merge failed with -ESTALE (its data is gone), one merging with
 * -EBUSY, in why's words.
 */
int snapshot_check_state(struct snapmgr_ctx *ctx, enum snapmgr_state state,
			 const struct state_refusals *why);
/*
 * The snapshot named name, or "no such snapshot" (-ENOENT), or the
 * refusal of its state.
 */
int snapshot_get_usable(struct snapmgr_ctx *ctx, const char *name,
			const struct state_refusals *why, struct snapmgr_snapshot **ret);
/*
 * name's dm device: "no such snapshot" (-ENOENT) when there is none,
 * -EBUSY saying not_single unless its table is one snapshot target.
 */
int snapshot_table_get(struct snapmgr_ctx *ctx, const char *name, const char *not_single,
		       struct smdm_device **ret);
