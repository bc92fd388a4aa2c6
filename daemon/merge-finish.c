/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Finalising our merges. While a snapshot merges into its origin, the
 * origin's device is a snapshot-merge target listed under the origin's
 * name; when its COW holds nothing but metadata the kernel is done, and
 * the stack must go back to snapshot-origin (or linear) and the COW be
 * released: snapmgr_merge_finalise(), as `snapctl merge --wait` and
 * `snapctl activate` do. The kernel raises no event when a merge ends, so
 * a merging snapshot is looked at every MERGE_POLL seconds (sample.c).
 *
 * It runs in the event loop, without waiting: the lock that serialises
 * snapctl may be held for seconds by a running `snapctl create`, so the
 * library is asked not to wait for it (-EAGAIN) and the snapshot is looked
 * at again a second later. The dm work itself (a suspend, a reload, a
 * resume of the origin) is what `snapctl merge --wait` does, over in
 * milliseconds. Finalising is idempotent, so a daemon killed meanwhile, or
 * a snapctl that finalises first, leaves nothing half done.
 */
#include <errno.h>
#include <string.h>

#include "daemon.h"

#define RETRY_BUSY 1.0   /* seconds, while another snapctl holds the lock */
#define RETRY_ERROR 5.0

bool merge_finished(const struct snap *s)
{
	if (!s->info || !s->have_usage ||
	    snapmgr_snapshot_get_owner(s->info) != SNAPMGR_OWNER_SNAPMGR)
		return false;
	if (s->usage.state == SNAPMGR_STATE_MERGE_FAILED)
		return true; /* finalising puts the origin back on its device */
	return s->usage.state == SNAPMGR_STATE_MERGING && s->usage.has_usage &&
	       s->usage.used_bytes == s->usage.metadata_bytes;
}

void merge_finish(struct snap *s)
{
	struct daemon *d = s->d;
	int r;

	log_snap(d, LOG_INFO, s, "merge", "merge complete in the kernel; finalising");
	r = snapmgr_merge_finalise_nowait(d->ctx, s->name);
	switch (r) {
	case 0:
		d->merges_finalised++;
		log_snap(d, LOG_NOTICE, s, "merge",
			 "merge finished: the origin has the snapshot's data, its COW is released");
		record_action(s, "merge", true, "merge finalised");
		/* The table changed; drop it from the list now it is done. */
		rescan_soon(d);
		break;
	case -EAGAIN:
		log_snap(d, LOG_INFO, s, "merge",
			 "another snapctl holds the lock; finalising in %.0f s", RETRY_BUSY);
		schedule(s, RETRY_BUSY);
		break;
	case -EINPROGRESS:
		schedule(s, RETRY_BUSY);
		break;
	case -EIO:
		log_snap(d, LOG_ERR, s, "merge",
			 "the kernel stopped the merge (I/O error); the origin reads its device as it is, partly rolled back");
		record_action(s, "merge", false, "merge failed");
		if (snap_raise(s, SNAP_MERGE_FAILED))
			run_alert(s, "merge-failed",
				  "the kernel stopped the merge (I/O error on the COW or the origin)");
		break;
	default:
		log_snap(d, LOG_ERR, s, "merge",
			 "cannot finalise the merge: %s; trying again in %.0f s",
			 snapmgr_get_error(d->ctx) ?: strerror(-r), RETRY_ERROR);
		record_action(s, "merge", false, "cannot finalise the merge");
		schedule(s, RETRY_ERROR);
		break;
	}
}
