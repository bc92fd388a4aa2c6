/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One look at a snapshot: read its usage, feed the predictor, act on the
 * policy (extend, warn, alert on invalidation, finalise a finished merge),
 * and set the timer for the next look so that the next threshold is not
 * crossed unseen (predict.c's choose_interval).
 */
#include <string.h>

#include "daemon.h"

/*
 * Extend early when the COW would be full sooner than this, or than twice
 * the last extension took; lvextend takes seconds, so lvm2's start at 5.
 */
#define EXTEND_LEAD_SECONDS 1.0
#define EXTEND_LEAD_SECONDS_LVM2 5.0
/* A merge raises no event when it ends: how often to look while merging. */
#define MERGE_POLL_SECONDS 1.0

static uint64_t percent_of(uint64_t size, unsigned pct)
{
	return (uint64_t)((double)size * pct / 100.0);
}

static bool can_extend(const struct snap *s, unsigned *ret_threshold)
{
	return s->policy && snapmgr_policy_get_autoextend(s->policy) &&
	       snapmgr_policy_get_extend_threshold(s->policy, ret_threshold) == 0;
}

/* Invalid or overflowed: the contents are lost; say so once. */
static void sample_lost(struct snap *s)
{
	struct daemon *d = s->d;

	if (snap_raise(s, SNAP_INVALID)) {
		d->invalidations++;
		log_snap(d, LOG_ERR, s, "invalid",
			 "snapshot is %s: its contents are lost",
			 snapmgr_state_to_string(s->usage.state));
		run_alert(s, snapmgr_state_to_string(s->usage.state),
			  "the kernel invalidated the snapshot");
	}
	schedule(s, snapmgr_config_get_poll_interval_max(d->config));
}

static void maybe_extend(struct snap *s, const struct snapmgr_usage *prev,
			 bool had, double prev_t)
{
	struct snapmgr_usage *u = &s->usage;
	double t = s->last_t, ttf, lead, crossed;
	unsigned thr = 0;
	uint64_t mark;

	if (!can_extend(s, &thr) || !u->size_bytes)
		return;
	mark = percent_of(u->size_bytes, thr);
	ttf = time_to_full(s);
	lead = snapmgr_snapshot_get_owner(s->info) == SNAPMGR_OWNER_LVM2 ?
		       EXTEND_LEAD_SECONDS_LVM2 : EXTEND_LEAD_SECONDS;
	if (2 * s->extend_seconds > lead)
		lead = 2 * s->extend_seconds;
	if ((u->used_bytes < mark && ttf >= lead) || t < s->retry_after)
		return;
	/* When was the mark crossed? Between the two samples. */
	crossed = t;
	if (u->used_bytes >= mark && had && prev->has_usage &&
	    prev->size_bytes == u->size_bytes)
		crossed = predict_crossing_time(prev_t, prev->used_bytes, t,
						u->used_bytes, mark);
	extend(s, t - crossed);
	if (!s->extend_pid) {
		struct snapmgr_usage now = SNAPMGR_RESULT(struct snapmgr_usage);

		/* Read the new size, for the choice of the next look. */
		if (snapmgr_snapshot_read_usage(s->d->ctx, s->name, &now) == 0) {
			s->usage = now;
			s->last_t = now_mono();
		}
	}
}

static void maybe_warn(struct snap *s)
{
	const struct snapmgr_usage *u = &s->usage;
	unsigned warn = snapmgr_policy_get_warn_threshold(s->policy);
	uint64_t wmark;

	if (!u->has_usage || !u->size_bytes)
		return;
	wmark = percent_of(u->size_bytes, warn);
	if (u->used_bytes >= wmark && snap_raise(s, SNAP_OVER_WARN_THRESHOLD)) {
		log_snap(s->d, LOG_WARNING, s, "warn",
			 "%.2f%% full (warn_threshold %u%%)", fill_percent(s),
			 warn);
		run_alert(s, "warn", "warn_threshold crossed");
	} else if (u->used_bytes < wmark) {
		snap_clear(s, SNAP_OVER_WARN_THRESHOLD);
	}
}

/* Next look: before the nearest mark that still matters. */
static void schedule_next(struct snap *s)
{
	struct daemon *d = s->d;
	const struct snapmgr_usage *u = &s->usage;
	unsigned thr = 0, warn = snapmgr_policy_get_warn_threshold(s->policy);
	uint64_t next_mark = u->size_bytes;
	struct interval_params ip;

	if (can_extend(s, &thr) && percent_of(u->size_bytes, thr) > u->used_bytes)
		next_mark = percent_of(u->size_bytes, thr);
	if (!snap_is_raised(s, SNAP_OVER_WARN_THRESHOLD) && percent_of(u->size_bytes, warn) > u->used_bytes &&
	    percent_of(u->size_bytes, warn) < next_mark)
		next_mark = percent_of(u->size_bytes, warn);
	ip = (struct interval_params){
		.used = u->used_bytes,
		.next_mark = next_mark,
		.rate = s->pred.rate,
		.peak = s->pred.peak,
		.burst_rate = d->burst_rate,
		.min_interval = d->min_interval,
		.max_interval = snapmgr_config_get_poll_interval_max(d->config),
	};
	schedule(s, choose_interval(&ip));
}

void sample(struct snap *s)
{
	struct daemon *d = s->d;
	struct snapmgr_usage prev = s->usage;
	bool had = s->have_usage;
	double prev_t = s->last_t;
	int r;

	r = snapmgr_snapshot_read_usage(d->ctx, s->name, &s->usage);
	d->samples++;
	if (r < 0 && s->info && !*snapmgr_snapshot_get_uuid(s->info) &&
	    snapmgr_snapshot_get_state(s->info) == SNAPMGR_STATE_MERGING) {
		/* A merge whose finalisation was cut short: finish it. */
		merge_finish(s);
		schedule(s, MERGE_POLL_SECONDS);
		return;
	}
	if (r < 0) {
		/* Gone, or changed: the next scan sorts it out. */
		s->usage = prev;
		log_snap(d, LOG_DEBUG, s, NULL, "cannot read status: %s",
			 strerror(-r));
		/* A failed merge of ours has only its record left: no hurry. */
		schedule(s, s->info && snapmgr_snapshot_get_state(s->info) ==
					       SNAPMGR_STATE_MERGE_FAILED ?
				    snapmgr_config_get_poll_interval_max(d->config) :
				    1.0);
		return;
	}
	s->have_usage = true;
	s->last_t = now_mono();

	if (s->usage.state == SNAPMGR_STATE_MERGING ||
	    s->usage.state == SNAPMGR_STATE_MERGE_FAILED) {
		if (merge_finished(s))
			merge_finish(s);
		else if (s->usage.state == SNAPMGR_STATE_MERGE_FAILED &&
			 snap_raise(s, SNAP_MERGE_FAILED)) {
			/* Not ours: the owner (lvm2) deals with it; we tell. */
			log_snap(d, LOG_ERR, s, "merge", "the kernel stopped the merge");
			run_alert(s, "merge-failed", "the kernel stopped the merge");
		}
		predictor_reset(&s->pred); /* a merge only empties the COW */
		schedule(s, MERGE_POLL_SECONDS);
		return;
	}
	if (!s->usage.has_usage) {
		sample_lost(s);
		return;
	}
	snap_clear(s, SNAP_INVALID);
	predictor_add(&s->pred, s->last_t, s->usage.used_bytes);
	maybe_extend(s, &prev, had, prev_t);
	maybe_warn(s);
	schedule_next(s);
}

static int snap_timer(sd_event_source *src _unused_, uint64_t usec _unused_,
		      void *userdata)
{
	sample(userdata);
	return 0;
}

void schedule(struct snap *s, double seconds)
{
	uint64_t usec = (uint64_t)(seconds * 1e6);
	/*
	 * Be exact for short waits; let long ones slip by a quarter, so the
	 * timers of idle snapshots fire together in few wakeups. The interval
	 * is half the time to the next mark at the burst rate: a quarter late
	 * is still early.
	 */
	uint64_t accuracy = seconds < 1.0 ? 1000 : usec / 4;

	s->interval = seconds;
	if (!s->timer) {
		if (sd_event_add_time_relative(s->d->ev, &s->timer, CLOCK_MONOTONIC,
					       usec, accuracy, snap_timer, s) < 0)
			return;
		sd_event_source_set_description(s->timer, "snapshot-sample");
		return;
	}
	sd_event_source_set_time_relative(s->timer, usec);
	sd_event_source_set_time_accuracy(s->timer, accuracy);
	sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
}
