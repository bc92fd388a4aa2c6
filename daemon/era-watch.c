/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tracked origins (snapctl track): dm-era's metadata fills like a COW
 * (an era per block, a bitset per era until digested) and dm-era fails
 * writes when it is full. dm-era raises no dm event as it fills, so it is
 * looked at every poll_interval_max seconds: at or above the
 * warn_threshold of the policy that matches the origin's name, a warning
 * and the alert_command (event "era_metadata_warn", the tracking's JSON
 * on stdin, SNAPMGR_SNAPSHOT set to the origin's name), once per crossing.
 * The last look is what the metrics page shows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

static inline void policy_unrefp(struct snapmgr_policy **p)
{
	snapmgr_policy_unref(*p);
}

static bool was_raised(const struct daemon *d, const char *origin)
{
	json_object *v;

	return d->era_raised && json_object_object_get_ex(d->era_raised, origin, &v);
}

static void era_alert(struct daemon *d, json_object *t, const char *origin,
		      double fill, unsigned warn)
{
	_cleanup_(policy_unrefp) struct snapmgr_policy *p = NULL;
	const char *cmd = NULL;
	sd_event_source *src;
	char why[160];
	pid_t pid;
	int r;

	snprintf(why, sizeof(why), "era metadata %.1f%% full (warn_threshold %u%%); dm-era fails writes when it is full: untrack and track with more metadata",
		 fill, warn);
	log_d(d, LOG_WARNING, "origin %s: %s", origin, why);
	d->alerts_total++;
	if (snapmgr_policy_for(d->config, origin, &p) == 0)
		cmd = snapmgr_policy_get_alert_command(p);
	if (!cmd)
		return;
	json_object_object_add(t, "event", json_object_new_string("era_metadata_warn"));
	json_object_object_add(t, "reason", json_object_new_string(why));
	{
		char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)cmd, NULL };

		r = spawn(d, argv, json_object_to_json_string_ext(t, JSON_C_TO_STRING_PLAIN |
								      JSON_C_TO_STRING_NOSLASHESCAPE),
			  origin, "era_metadata_warn", snapmgr_config_get_alert_timeout(d->config),
			  alert_done, d, &src, &pid);
	}
	if (r < 0)
		log_d(d, LOG_ERR, "origin %s: cannot run alert command: %s", origin, strerror(-r));
}

static void era_look(struct daemon *d)
{
	json_object *arr = NULL, *raised = json_object_new_object();

	if (snapmgr_tracking_to_json(d->ctx, NULL, &arr) < 0 || !raised) {
		json_object_put(raised);
		return;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *t = json_object_array_get_idx(arr, i), *v;
		_cleanup_(policy_unrefp) struct snapmgr_policy *p = NULL;
		const char *origin;
		unsigned warn = 80;
		double fill;

		if (!json_object_object_get_ex(t, "origin", &v))
			continue;
		origin = json_object_get_string(v);
		if (!json_object_object_get_ex(t, "metadata_fill_percent", &v) || !v)
			continue;
		fill = json_object_get_double(v);
		if (snapmgr_policy_for(d->config, origin, &p) == 0)
			warn = snapmgr_policy_get_warn_threshold(p);
		if (fill < warn)
			continue;
		json_object_object_add(raised, origin, json_object_new_boolean(true));
		if (!was_raised(d, origin)) {
			json_object *copy = NULL;

			if (json_object_deep_copy(t, &copy, NULL) == 0) {
				era_alert(d, copy, origin, fill, warn);
				json_object_put(copy);
			}
		}
	}
	json_object_put(d->era_raised);
	d->era_raised = raised;
	json_object_put(d->tracking);
	d->tracking = arr;
}

static int era_timer_cb(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;
	uint64_t every = (uint64_t)snapmgr_config_get_poll_interval_max(d->config) * USEC_PER_SEC;

	era_look(d);
	sd_event_source_set_time(src, usec + (every ? every : 10 * USEC_PER_SEC));
	sd_event_source_set_enabled(src, SD_EVENT_ON);
	return 0;
}

int era_watch_start(struct daemon *d)
{
	int r;

	era_look(d);
	r = sd_event_add_time_relative(d->ev, &d->era_timer, CLOCK_MONOTONIC,
				       (uint64_t)snapmgr_config_get_poll_interval_max(d->config) * USEC_PER_SEC,
				       USEC_PER_SEC, era_timer_cb, d);
	if (r < 0)
		return r;
	sd_event_source_set_description(d->era_timer, "era-watch");
	return 0;
}

void era_watch_free(struct daemon *d)
{
	d->era_timer = sd_event_source_disable_unref(d->era_timer);
	json_object_put(d->tracking);
	d->tracking = NULL;
	json_object_put(d->era_raised);
	d->era_raised = NULL;
}
