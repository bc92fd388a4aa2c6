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
 * It runs in a forked child: it takes the lock that serialises snapctl,
 * which a running `snapctl create` may hold for seconds, and the loop must
 * not wait. Finalising is idempotent, so a daemon killed meanwhile, or a
 * snapctl that finalises first, leaves nothing half done.
 */
#include <errno.h>
#include <string.h>

#include "daemon.h"

#define MERGE_FINISH_TIMEOUT 120

enum {
	FINISH_DONE = 0,
	FINISH_MERGE_FAILED = 1,
	FINISH_ERROR = 2,
	FINISH_NOT_YET = 3,
};

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

/* In the child. */
static int finish_in_child(void *userdata)
{
	struct snap *s = userdata;
	int r;

	snapmgr_clear_error(s->d->ctx);
	r = snapmgr_merge_finalise(s->d->ctx, s->name);
	if (r == -EINPROGRESS)
		return FINISH_NOT_YET;
	if (r == -EIO)
		return FINISH_MERGE_FAILED;
	if (r < 0) {
		log_snap(s->d, LOG_ERR, s, "merge", "cannot finalise the merge: %s",
			 snapmgr_get_error(s->d->ctx) ?: strerror(-r));
		return FINISH_ERROR;
	}
	return FINISH_DONE;
}

static int finish_done(sd_event_source *src _unused_, const siginfo_t *si,
		       void *userdata)
{
	struct snap *s = userdata;
	struct daemon *d = s->d;
	char how[48];

	s->finish_pid = 0;
	s->finish_child = sd_event_source_disable_unref(s->finish_child);
	if (si->si_code != CLD_EXITED) {
		log_snap(d, LOG_ERR, s, "merge", "merge finalisation died (%s)",
			 child_status(si, how, sizeof(how)));
		record_action(s, "merge", false, "finalisation died");
		schedule(s, 5.0);
		return 0;
	}
	switch (si->si_status) {
	case FINISH_DONE:
		d->merges_finalised++;
		log_snap(d, LOG_NOTICE, s, "merge",
			 "merge finished: the origin has the snapshot's data, its COW is released");
		record_action(s, "merge", true, "merge finalised");
		/* The table changed; drop it from the list now it is done. */
		rescan_soon(d);
		break;
	case FINISH_MERGE_FAILED:
		log_snap(d, LOG_ERR, s, "merge",
			 "the kernel stopped the merge (I/O error); the origin reads its device as it is, partly rolled back");
		record_action(s, "merge", false, "merge failed");
		if (!s->alerted_merge_failed) {
			s->alerted_merge_failed = true;
			run_alert(s, "merge-failed",
				  "the kernel stopped the merge (I/O error on the COW or the origin)");
		}
		break;
	case FINISH_NOT_YET:
		schedule(s, 1.0);
		break;
	default:
		log_snap(d, LOG_ERR, s, "merge", "cannot finalise the merge (%s); trying again in 5 s",
			 child_status(si, how, sizeof(how)));
		record_action(s, "merge", false, "cannot finalise the merge");
		schedule(s, 5.0);
		break;
	}
	return 0;
}

void merge_finish(struct snap *s)
{
	int r;

	if (s->finish_pid)
		return;
	log_snap(s->d, LOG_INFO, s, "merge", "merge complete in the kernel; finalising");
	r = spawn_fn(s->d, finish_in_child, s, "merge-finish", MERGE_FINISH_TIMEOUT,
		     finish_done, s, &s->finish_child, &s->finish_pid);
	if (r < 0) {
		log_snap(s->d, LOG_ERR, s, "merge", "cannot start finalising: %s",
			 strerror(-r));
		schedule(s, 5.0);
	}
}
