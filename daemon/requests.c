/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Answers on the status socket (docs/socket.md): "list" from what the
 * daemon knows, "status" with a fresh look at the snapshot asked for.
 */
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "protocol.h"

json_object *handle_request(void *userdata, const struct request *req)
{
	struct daemon *d = userdata;
	json_object *reply = reply_ok(), *arr = json_object_new_array(), *info;

	if (req->method == REQUEST_LIST) {
		for (size_t i = 0; i < d->n_snaps; i++) {
			const struct snap *s = d->snaps[i];
			json_object *o = json_object_new_object();

			json_object_object_add(o, "name", json_object_new_string(s->name));
			json_object_object_add(o, "state", json_object_new_string(
				snapmgr_state_to_string(s->have_usage ? s->usage.state :
						       snapmgr_snapshot_get_state(s->info))));
			json_object_object_add(o, "fill_percent", json_object_new_double(fill_percent(s)));
			json_object_object_add(o, "time_to_full_seconds", json_seconds(time_to_full(s)));
			json_object_array_add(arr, o);
		}
		json_object_object_add(reply, "snapshots", arr);
		return reply;
	}
	/* status: refresh what was asked for, so it is the kernel's view now. */
	for (size_t i = 0; i < d->n_snaps; i++) {
		struct snap *s = d->snaps[i];
		json_object *o;

		if (req->snapshot && strcmp(req->snapshot, s->name) != 0)
			continue;
		if (req->snapshot)
			sample(s);
		o = snap_json(s);
		if (o)
			json_object_array_add(arr, o);
	}
	if (req->snapshot && json_object_array_length(arr) == 0) {
		json_object_put(arr);
		json_object_put(reply);
		return reply_error("no such snapshot");
	}
	info = json_object_new_object();
	json_object_object_add(info, "version", json_object_new_string(PROJECT_VERSION));
	json_object_object_add(info, "pid", json_object_new_int(getpid()));
	json_object_object_add(info, "uptime_seconds",
			       json_object_new_int64((int64_t)((now_real_usec() - d->started_usec) / USEC_PER_SEC)));
	json_object_object_add(info, "watched", json_object_new_int64((int64_t)d->n_snaps));
	json_object_object_add(info, "scans", json_object_new_uint64(d->scans));
	json_object_object_add(info, "samples", json_object_new_uint64(d->samples));
	json_object_object_add(info, "dm_events", json_object_new_uint64(d->dm_events));
	json_object_object_add(info, "event_reads", json_object_new_uint64(d->event_reads));
	json_object_object_add(info, "extends", json_object_new_uint64(d->extends_total));
	json_object_object_add(info, "extend_failures", json_object_new_uint64(d->extend_failures));
	json_object_object_add(info, "alerts", json_object_new_uint64(d->alerts_total));
	json_object_object_add(info, "merges_finalised", json_object_new_uint64(d->merges_finalised));
	json_object_object_add(reply, "daemon", info);
	json_object_object_add(reply, "schedules", schedules_json(d));
	json_object_object_add(reply, "snapshots", arr);
	return reply;
}

