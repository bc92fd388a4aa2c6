/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Extending a snapshot's COW by its policy: a COW file of ours (or anyone's
 * loop-backed one) is grown in place (libsnapmgr), an lvm2 snapshot through
 * lvextend, which lvm2 owns and which may take seconds: it runs as a child
 * and the loop goes on. Every step is safe to repeat: growing a file to a
 * size it has is a no-op, and the size asked of lvextend is relative to the
 * size read just before.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "lvm2-name.h"

/* lvextend gets this long; lvm2's own locks may make it wait. */
#define LVEXTEND_TIMEOUT 300

/* A failed extension is retried after 5 s, then 10, 20... up to 5 min. */
static void extend_failed(struct snap *s)
{
	s->backoff = s->backoff > 0 ? s->backoff * 2 : 5.0;
	if (s->backoff > 300)
		s->backoff = 300;
	s->retry_after = now_mono() + s->backoff;
	s->d->extend_failures++;
}

void extend_succeeded(struct snap *s)
{
	s->backoff = 0;
	s->retry_after = 0;
}

static void extend_gave_up(struct snap *s, const char *event, const char *why)
{
	if (snap_raise(s, SNAP_CANNOT_EXTEND))
		run_alert(s, event, why);
}

static int lvextend_done(sd_event_source *src _unused_, const siginfo_t *si,
			 void *userdata)
{
	struct snap *s = userdata;
	struct snapmgr_usage u = SNAPMGR_RESULT(struct snapmgr_usage);
	char how[48];

	s->extend_pid = 0;
	s->child = sd_event_source_disable_unref(s->child);
	s->extend_seconds = now_mono() - s->extend_started;
	if (!child_ok(si)) {
		extend_failed(s);
		log_snap(s->d, LOG_ERR, s, "extend", "lvextend failed (%s)",
			 child_status(si, how, sizeof(how)));
		record_action(s, "extend", false, "lvextend failed");
		extend_gave_up(s, "extend-failed", "lvextend failed");
	} else if (snapmgr_snapshot_read_usage(s->d->ctx, s->name, &u) == 0 &&
		   u.has_usage && u.size_bytes <= s->extend_from) {
		/* lvm2 caps a snapshot at its origin's size and still exits 0. */
		extend_failed(s);
		log_snap(s->d, LOG_WARNING, s, "extend",
			 "lvextend did not grow the snapshot (lvm2's maximum reached?)");
		record_action(s, "extend", false, "lvextend did not grow it");
		extend_gave_up(s, "cannot-extend", "lvextend did not grow it");
	} else {
		extend_succeeded(s);
		s->extends++;
		s->d->extends_total++;
		log_snap(s->d, LOG_NOTICE, s, "extend", "lvextend finished");
		record_action(s, "extend", true, "lvextend finished");
	}
	if (!s->seen) {
		rescan_soon(s->d); /* it went while lvextend ran */
		return 0;
	}
	sample(s);
	return 0;
}

static void extend_lvm2(struct snap *s, uint64_t size, uint64_t new_size,
			double reaction)
{
	struct daemon *d = s->d;
	_cleanup_free_ char *lv = NULL;
	char sizearg[64];
	char *argv[] = { (char *)"/sbin/lvextend", (char *)"-L", sizearg, NULL,
			 NULL };
	int r;

	if (lvm2_name(s->name, &lv) < 0) {
		log_snap(d, LOG_ERR, s, "extend",
			 "cannot tell the LV name from the dm name");
		return;
	}
	argv[3] = lv;
	s->extend_from = size;
	s->extend_started = now_mono();
	snprintf(sizearg, sizeof(sizearg), "+%" PRIu64 "b", new_size - size);
	r = spawn(d, argv, NULL, s->name, "extend", LVEXTEND_TIMEOUT,
		  lvextend_done, s, &s->child, &s->extend_pid);
	if (r < 0) {
		log_snap(d, LOG_ERR, s, "extend", "cannot run lvextend: %s",
			 strerror(-r));
		return;
	}
	log_snap(d, LOG_NOTICE, s, "extend",
		 "extending %s by %" PRIu64 " bytes with lvextend (%.2f%% full, reaction %.0f ms)",
		 lv, new_size - size, fill_percent(s), reaction * 1000);
}

static void extend_file(struct snap *s, const char *file, const char *dev,
			uint64_t size, uint64_t new_size, double reaction)
{
	struct daemon *d = s->d;
	uint64_t got = 0;
	const char *e;
	int r;

	log_snap(d, LOG_NOTICE, s, "extend",
		 "extending COW %s from %" PRIu64 " to %" PRIu64 " bytes (%.2f%% full, reaction %.0f ms)",
		 file, size, new_size, fill_percent(s), reaction * 1000);
	r = snapmgr_extend_cow_file(d->ctx, file, dev, new_size, &got);
	if (r < 0) {
		e = snapmgr_get_error(d->ctx) ?: strerror(-r);
		extend_failed(s);
		log_snap(d, LOG_ERR, s, "extend", "extend failed: %s", e);
		record_action(s, "extend", false, "%s", e);
		extend_gave_up(s, "extend-failed", e);
		return;
	}
	extend_succeeded(s);
	s->extends++;
	d->extends_total++;
	snap_clear(s, SNAP_CANNOT_EXTEND);
	log_snap(d, LOG_NOTICE, s, "extend",
		 "extended COW %s to %" PRIu64 " bytes", file, got);
	record_action(s, "extend", true, "%" PRIu64 " -> %" PRIu64 " bytes",
		      size, got);
}

void extend(struct snap *s, double reaction)
{
	uint64_t size = s->usage.size_bytes, new_size;
	const char *file = snapmgr_snapshot_get_cow_file(s->info);
	const char *dev = snapmgr_snapshot_get_cow_device(s->info);

	if (s->extend_pid)
		return; /* lvextend still running */
	if (snapmgr_policy_next_cow_size(s->policy, size, &new_size) < 0) {
		if (!snap_is_raised(s, SNAP_CANNOT_EXTEND))
			log_snap(s->d, LOG_WARNING, s, "extend",
				 "cannot extend: max_cow_size reached (%" PRIu64 " bytes, %.2f%% full)",
				 size, fill_percent(s));
		extend_gave_up(s, "cannot-extend", "max_cow_size reached");
		return;
	}
	if (snapmgr_snapshot_get_owner(s->info) == SNAPMGR_OWNER_LVM2) {
		extend_lvm2(s, size, new_size, reaction);
		return;
	}
	if (!file || !dev || strncmp(dev, "/dev/loop", 9) != 0) {
		if (!snap_is_raised(s, SNAP_CANNOT_EXTEND))
			log_snap(s->d, LOG_WARNING, s, "extend",
				 "cannot extend: the COW %s is not a file (%.2f%% full)",
				 dev ? dev : "?", fill_percent(s));
		extend_gave_up(s, "cannot-extend", "the COW is not a file");
		return;
	}
	extend_file(s, file, dev, size, new_size, reaction);
}
