/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * alert_command: run with /bin/sh -c, the snapshot's JSON (plus "event" and
 * "reason") on stdin, SNAPMGR_SNAPSHOT and SNAPMGR_EVENT in the
 * environment, killed after alert_timeout seconds.
 */
#include <string.h>

#include "daemon.h"

int alert_done(sd_event_source *src, const siginfo_t *si, void *userdata)
{
	struct daemon *d = userdata;
	char how[48];

	if (!child_ok(si))
		log_d(d, LOG_WARNING, "alert command (pid %d) failed: %s",
		      (int)si->si_pid, child_status(si, how, sizeof(how)));
	sd_event_source_disable_unref(src);
	return 0;
}

void run_alert(struct snap *s, const char *event, const char *why)
{
	struct daemon *d = s->d;
	const char *cmd = s->policy ? snapmgr_policy_get_alert_command(s->policy) : NULL;
	json_object *o;
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)cmd, NULL };
	sd_event_source *src;
	pid_t pid;
	int r;

	d->alerts_total++;
	record_action(s, "alert", true, "%s: %s", event, why);
	if (!cmd)
		return;
	o = snap_json(s);
	if (!o)
		o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string(event));
	json_object_object_add(o, "reason", json_object_new_string(why));
	r = spawn(d, argv,
		  json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE),
		  s->name, event, snapmgr_config_get_alert_timeout(d->config),
		  alert_done, d, &src, &pid);
	json_object_put(o);
	if (r < 0) {
		log_snap(d, LOG_ERR, s, "alert", "cannot run alert command: %s",
			 strerror(-r));
		return;
	}
	log_snap(d, LOG_NOTICE, s, "alert", "alert command started (pid %d) for %s",
		 (int)pid, event);
}
