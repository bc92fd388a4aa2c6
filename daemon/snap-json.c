/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A watched snapshot as JSON: libsnapmgr's status object (docs/
 * status.schema.json), refreshed with the last sample, plus what only the
 * daemon knows (prediction, next look, last action). Used by the socket,
 * the alert command's stdin and the subscribers' events.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"
#include "server.h"

double fill_percent(const struct snap *s)
{
	if (!s->have_usage || !s->usage.has_usage || !s->usage.size_bytes)
		return s->have_usage && !s->usage.has_usage ? 100.0 : 0.0;
	return 100.0 * (double)s->usage.used_bytes / (double)s->usage.size_bytes;
}

double time_to_full(const struct snap *s)
{
	if (!s->have_usage || !s->usage.has_usage)
		return s->have_usage ? 0.0 : INFINITY;
	if (s->usage.state == SNAPMGR_STATE_MERGING)
		return INFINITY; /* it only empties */
	return predict_seconds_until(&s->pred, s->usage.used_bytes,
				     s->usage.size_bytes);
}

json_object *json_seconds(double v)
{
	char buf[32];

	if (!isfinite(v))
		return NULL;
	snprintf(buf, sizeof(buf), "%.3f", v);
	return json_object_new_double_s(v, buf);
}

/* What the daemon adds to a snapshot's status object. */
static void add_daemon_fields(json_object *o, const struct snap *s)
{
	json_object *a = NULL;

	json_object_object_add(o, "time_to_full_seconds",
			       json_seconds(time_to_full(s)));
	json_object_object_add(o, "fill_rate_bytes_per_second",
			       json_object_new_int64((int64_t)s->pred.rate));
	json_object_object_add(o, "next_check_seconds",
			       json_seconds(s->interval));
	json_object_object_add(o, "extends", json_object_new_int64(s->extends));
	if (s->last.realtime) {
		a = json_object_new_object();
		json_object_object_add(a, "action",
				       json_object_new_string(s->last.what));
		json_object_object_add(a, "ok",
				       json_object_new_boolean(s->last.ok));
		json_object_object_add(a, "detail",
				       json_object_new_string(s->last.detail));
		json_object_object_add(a, "time_usec",
				       json_object_new_uint64(s->last.realtime));
	}
	json_object_object_add(o, "last_action", a);
}

json_object *snap_json(const struct snap *s)
{
	json_object *o = NULL;

	if (!s->info || snapmgr_snapshot_to_json(s->info, &o) < 0)
		return NULL;
	/* Fresher than the scan: the last sample. */
	if (s->have_usage) {
		json_object_object_add(o, "state", json_object_new_string(
			snapmgr_state_to_string(s->usage.state)));
		if (s->usage.has_usage) {
			char buf[32];

			json_object_object_add(o, "size_bytes", json_object_new_uint64(s->usage.size_bytes));
			json_object_object_add(o, "used_bytes", json_object_new_uint64(s->usage.used_bytes));
			json_object_object_add(o, "metadata_bytes", json_object_new_uint64(s->usage.metadata_bytes));
			snprintf(buf, sizeof(buf), "%.2f", fill_percent(s));
			json_object_object_add(o, "fill_percent",
					       json_object_new_double_s(strtod(buf, NULL), buf));
		}
	}
	add_daemon_fields(o, s);
	return o;
}

static void broadcast(struct daemon *d, const struct snap *s,
		      const char *event, const char *detail)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "event", json_object_new_string(event));
	json_object_object_add(o, "snapshot", json_object_new_string(s->name));
	json_object_object_add(o, "detail", json_object_new_string(detail));
	json_object_object_add(o, "time_usec",
			       json_object_new_uint64(now_real_usec()));
	json_object_object_add(o, "status", snap_json(s));
	server_broadcast(d->server, o);
	json_object_put(o);
}

void record_action(struct snap *s, const char *what, bool ok,
		   const char *fmt, ...)
{
	va_list ap;

	snprintf(s->last.what, sizeof(s->last.what), "%s", what);
	va_start(ap, fmt);
	vsnprintf(s->last.detail, sizeof(s->last.detail), fmt, ap);
	va_end(ap);
	s->last.ok = ok;
	s->last.realtime = now_real_usec();
	broadcast(s->d, s, what, s->last.detail);
}
