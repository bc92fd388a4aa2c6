/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Which snapshots are watched. /dev/mapper/control, armed with
 * DM_DEV_ARM_POLL, becomes readable when any dm device is created,
 * removed, renamed, given a new table or raises an event (an invalidated
 * snapshot does). The daemon then lists every device's event number
 * (one ioctl): when only event numbers moved, it reads just the snapshots
 * whose number moved; otherwise (names changed, or no number moved: a new
 * table) it rescans every snapshot on the host (ours, lvm2's, others').
 */
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "daemon.h"

/* A burst of events (500 creations) makes one scan, this much later. */
#define RESCAN_DELAY_USEC 10000

void snap_free(struct snap *s)
{
	if (!s)
		return;
	sd_event_source_disable_unref(s->timer);
	sd_event_source_disable_unref(s->child);
	snapmgr_snapshot_unref(s->info);
	snapmgr_policy_unref(s->policy);
	free(s->name);
	free(s->uuid);
	free(s);
}

static struct snap *find_snap(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < d->n_snaps; i++)
		if (strcmp(d->snaps[i]->name, name) == 0)
			return d->snaps[i];
	return NULL;
}

void apply_policy(struct daemon *d, struct snap *s)
{
	struct snapmgr_policy *p = NULL;

	if (snapmgr_policy_for(d->config, s->name, &p) < 0)
		return;
	snapmgr_policy_unref(s->policy);
	s->policy = p;
}

void notify_status(struct daemon *d)
{
	sd_notifyf(0, "STATUS=Watching %zu snapshots", d->n_snaps);
}

static struct snap *snap_new(struct daemon *d, const struct snapmgr_snapshot *info)
{
	struct snap **v = realloc(d->snaps, (d->n_snaps + 1) * sizeof(*v));
	struct snap *s;

	if (!v)
		return NULL;
	d->snaps = v;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->d = d;
	s->usage.size = sizeof(s->usage); /* a result struct: SNAPMGR_RESULT */
	s->name = strdup(snapmgr_snapshot_get_name(info));
	s->uuid = strdup(snapmgr_snapshot_get_uuid(info));
	if (!s->name || !s->uuid) {
		snap_free(s);
		return NULL;
	}
	d->snaps[d->n_snaps++] = s;
	apply_policy(d, s);
	log_snap(d, LOG_INFO, s, "watch", "watching (%s, COW %s)",
		 snapmgr_owner_to_string(snapmgr_snapshot_get_owner(info)),
		 snapmgr_snapshot_get_cow_file(info) ?:
		 snapmgr_snapshot_get_cow_device(info) ?: "?");
	return s;
}

/* A child working on it (lvextend) keeps it listed. */
static bool snap_busy(const struct snap *s)
{
	return s->extend_pid;
}

/* Keeps v (every device's event number now) as the base for the next look. */
static void remember_events(struct daemon *d, struct snapmgr_dm_event **v,
			    bool valid)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	snapmgr_events_list_free(d->dm_seen);
	d->dm_seen = v;
	d->n_dm_seen = n;
	d->have_dm_seen = valid;
}

int rescan(struct daemon *d)
{
	struct snapmgr_snapshot **list = NULL;
	struct snapmgr_dm_event **events = NULL;
	size_t kept = 0;
	int r;

	/*
	 * Event numbers first: an event after this point moves a number past
	 * what is remembered, and the scan below reads the device anyway.
	 */
	r = snapmgr_events_list(d->ctx, &events);
	remember_events(d, r >= 0 ? events : NULL, r >= 0);
	d->rescan_forced = false;
	/* This scan is the safety net a filtered batch asked for. */
	if (d->safety_timer)
		sd_event_source_set_enabled(d->safety_timer, SD_EVENT_OFF);
	r = snapmgr_snapshot_list(d->ctx, &list);
	d->scans++;
	if (r < 0) {
		log_d(d, LOG_ERR, "cannot list snapshots: %s",
		      snapmgr_get_error(d->ctx) ?: strerror(-r));
		return r;
	}
	for (size_t i = 0; i < d->n_snaps; i++)
		d->snaps[i]->seen = false;
	for (size_t i = 0; list[i]; i++) {
		struct snap *s = find_snap(d, snapmgr_snapshot_get_name(list[i]));

		if (s && strcmp(s->uuid, snapmgr_snapshot_get_uuid(list[i])) != 0)
			s = NULL; /* same name, another snapshot: the old one goes */
		if (!s)
			s = snap_new(d, list[i]);
		if (!s)
			continue;
		snapmgr_snapshot_unref(s->info);
		s->info = snapmgr_snapshot_ref(list[i]);
		s->seen = true;
	}
	for (size_t i = 0; i < d->n_snaps; i++) {
		struct snap *s = d->snaps[i];

		if (!s->seen && !snap_busy(s)) {
			log_snap(d, LOG_INFO, s, "unwatch", "gone; no longer watched");
			snap_free(s);
			continue;
		}
		d->snaps[kept++] = s;
	}
	d->n_snaps = kept;
	snapmgr_snapshot_list_free(list);
	/* Read each one now: an event may be an invalidation. */
	for (size_t i = 0; i < d->n_snaps; i++)
		if (d->snaps[i]->seen)
			sample(d->snaps[i]);
	notify_status(d);
	return 0;
}

/*
 * Arms a one-shot timer *src firing usec from now, made on first use; a
 * timer already armed keeps its time (one look serves a burst of calls).
 */
static void arm_oneshot(struct daemon *d, sd_event_source **src, uint64_t usec,
			uint64_t accuracy, sd_event_time_handler_t cb,
			const char *description)
{
	int enabled = 0;

	if (!*src) {
		if (sd_event_add_time_relative(d->ev, src, CLOCK_MONOTONIC, usec,
					       accuracy, cb, d) >= 0)
			sd_event_source_set_description(*src, description);
		return;
	}
	if (sd_event_source_get_enabled(*src, &enabled) >= 0 && enabled)
		return;
	sd_event_source_set_time_relative(*src, usec);
	sd_event_source_set_enabled(*src, SD_EVENT_ONESHOT);
}

/*
 * When a batch was handled by reading only the devices whose event number
 * moved, a rescan follows this much later: the same batch may also have
 * held a new table, which moves no number.
 */
#define SAFETY_RESCAN_USEC (10 * USEC_PER_SEC)

static int safety_timer_cb(sd_event_source *src _unused_, uint64_t usec _unused_,
			   void *userdata)
{
	rescan(userdata);
	return 0;
}

/*
 * After a dm wake-up: reads only the snapshots whose event number moved,
 * or rescans when that cannot tell what happened. Returns whether it
 * handled the batch without a rescan.
 */
static bool read_moved(struct daemon *d)
{
	struct snapmgr_dm_event **now = NULL;
	size_t n = 0, moved = 0;

	if (!d->have_dm_seen || snapmgr_events_list(d->ctx, &now) < 0)
		return false;
	while (now[n])
		n++;
	if (n != d->n_dm_seen)
		goto rescan; /* created or removed */
	for (size_t i = 0; i < n; i++) {
		/* Both sorted by name: the same names pair up in order. */
		if (strcmp(now[i]->name, d->dm_seen[i]->name) != 0)
			goto rescan; /* renamed, or one went as another came */
		if (now[i]->event_nr != d->dm_seen[i]->event_nr)
			moved++;
	}
	if (moved == 0)
		goto rescan; /* a new table somewhere */
	for (size_t i = 0; i < n; i++) {
		struct snap *s;

		if (now[i]->event_nr == d->dm_seen[i]->event_nr)
			continue;
		s = find_snap(d, now[i]->name);
		if (s && s->seen) {
			d->event_reads++;
			sample(s);
		}
	}
	remember_events(d, now, true);
	arm_oneshot(d, &d->safety_timer, SAFETY_RESCAN_USEC, USEC_PER_SEC,
		    safety_timer_cb, "safety-rescan");
	return true;
rescan:
	snapmgr_events_list_free(now);
	return false;
}

static int rescan_timer_cb(sd_event_source *src _unused_, uint64_t usec _unused_,
			   void *userdata)
{
	struct daemon *d = userdata;

	if (d->rescan_forced || !read_moved(d))
		rescan(d);
	return 0;
}

static void look_soon(struct daemon *d)
{
	arm_oneshot(d, &d->rescan_timer, RESCAN_DELAY_USEC, 1000, rescan_timer_cb,
		    "rescan");
}

void rescan_soon(struct daemon *d)
{
	d->rescan_forced = true;
	look_soon(d);
}

int dm_event_cb(sd_event_source *src _unused_, int fd, uint32_t revents _unused_,
		void *userdata)
{
	struct daemon *d = userdata;

	/* Re-arm first, so nothing that happens during the look is missed. */
	if (snapmgr_events_arm(d->ctx, fd) < 0)
		log_d(d, LOG_ERR, "cannot re-arm the dm event poll");
	d->dm_events++;
	look_soon(d);
	return 0;
}

void watchlist_free(struct daemon *d)
{
	for (size_t i = 0; i < d->n_snaps; i++)
		snap_free(d->snaps[i]);
	free(d->snaps);
	d->snaps = NULL;
	d->n_snaps = 0;
	sd_event_source_disable_unref(d->rescan_timer);
	sd_event_source_disable_unref(d->safety_timer);
	d->rescan_timer = d->safety_timer = NULL;
	remember_events(d, NULL, false);
}
