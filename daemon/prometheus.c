/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The metrics page (Prometheus text exposition, served by metrics.c when
 * listen_metrics is set): per snapshot fill ratio, time to full, fill rate,
 * size, state and extensions; daemon-wide counters.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "metrics.h"

static void metric_head(FILE *f, const char *name, const char *type,
			const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A daemon-wide metric: one sample, no labels. */
static void metric_value(FILE *f, const char *name, const char *type,
			 const char *help, uint64_t value)
{
	metric_head(f, name, type, help);
	fprintf(f, "%s %" PRIu64 "\n", name, value);
}

static void metric_labels(FILE *f, const char *name, const struct snap *s)
{
	fprintf(f, "%s{snapshot=\"", name);
	metrics_label(f, s->name);
	fprintf(f, "\",owner=\"%s\"}", s->info ?
		snapmgr_owner_to_string(snapmgr_snapshot_get_owner(s->info)) : "other");
}

/* Tracked origins, as era-watch.c last saw them. */
static void tracking_metrics(struct daemon *d, FILE *f)
{
	static const struct {
		const char *metric, *key, *help;
		double scale;
	} m[] = {
		{ "snapmgr_tracking_metadata_fill_ratio", "metadata_fill_percent",
		  "Used fraction of a tracked origin's dm-era metadata (dm-era fails writes when full).", 0.01 },
		{ "snapmgr_tracking_metadata_size_bytes", "metadata_total_bytes",
		  "Size of a tracked origin's dm-era metadata.", 1 },
		{ "snapmgr_tracking_era", "era", "dm-era's current era of a tracked origin.", 1 },
	};
	size_t n = d->tracking ? json_object_array_length(d->tracking) : 0;

	for (size_t k = 0; k < ELEMENTSOF(m); k++) {
		metric_head(f, m[k].metric, "gauge", m[k].help);
		for (size_t i = 0; i < n; i++) {
			json_object *t = json_object_array_get_idx(d->tracking, i), *o, *v;

			if (!json_object_object_get_ex(t, "origin", &o) ||
			    !json_object_object_get_ex(t, m[k].key, &v) || !v)
				continue;
			fprintf(f, "%s{origin=\"", m[k].metric);
			metrics_label(f, json_object_get_string(o));
			fprintf(f, "\"} %.10g\n", json_object_get_double(v) * m[k].scale);
		}
	}
}

static void render_metrics(void *userdata, FILE *f)
{
	struct daemon *d = userdata;
	static const enum snapmgr_state states[] = {
		SNAPMGR_STATE_ACTIVE, SNAPMGR_STATE_INVALID,
		SNAPMGR_STATE_OVERFLOW, SNAPMGR_STATE_MERGING,
		SNAPMGR_STATE_MERGE_FAILED,
	};

	metric_head(f, "snapmgr_snapshot_fill_ratio", "gauge",
		    "Used fraction of the snapshot's COW (1 when invalid).");
	for (size_t i = 0; i < d->n_snaps; i++) {
		metric_labels(f, "snapmgr_snapshot_fill_ratio", d->snaps[i]);
		fprintf(f, " %.6f\n", fill_percent(d->snaps[i]) / 100.0);
	}
	metric_head(f, "snapmgr_snapshot_time_to_full_seconds", "gauge",
		    "Predicted seconds until the COW is full at the current fill rate.");
	for (size_t i = 0; i < d->n_snaps; i++) {
		double t = time_to_full(d->snaps[i]);

		metric_labels(f, "snapmgr_snapshot_time_to_full_seconds", d->snaps[i]);
		if (isfinite(t))
			fprintf(f, " %.3f\n", t);
		else
			fputs(" +Inf\n", f);
	}
	metric_head(f, "snapmgr_snapshot_fill_rate_bytes_per_second", "gauge",
		    "Smoothed COW fill rate.");
	for (size_t i = 0; i < d->n_snaps; i++) {
		metric_labels(f, "snapmgr_snapshot_fill_rate_bytes_per_second", d->snaps[i]);
		fprintf(f, " %.0f\n", d->snaps[i]->pred.rate);
	}
	metric_head(f, "snapmgr_snapshot_size_bytes", "gauge", "COW size.");
	for (size_t i = 0; i < d->n_snaps; i++) {
		metric_labels(f, "snapmgr_snapshot_size_bytes", d->snaps[i]);
		fprintf(f, " %" PRIu64 "\n", d->snaps[i]->usage.size_bytes);
	}
	metric_head(f, "snapmgr_snapshot_state", "gauge",
		    "1 for the snapshot's state, 0 for the others.");
	for (size_t i = 0; i < d->n_snaps; i++) {
		const struct snap *s = d->snaps[i];
		enum snapmgr_state cur = s->have_usage ? s->usage.state :
					 snapmgr_snapshot_get_state(s->info);

		for (size_t k = 0; k < ELEMENTSOF(states); k++) {
			fputs("snapmgr_snapshot_state{snapshot=\"", f);
			metrics_label(f, s->name);
			fprintf(f, "\",state=\"%s\"} %d\n",
				snapmgr_state_to_string(states[k]), cur == states[k]);
		}
	}
	metric_head(f, "snapmgr_snapshot_extends_total", "counter",
		    "COW extensions of this snapshot by this daemon.");
	for (size_t i = 0; i < d->n_snaps; i++) {
		metric_labels(f, "snapmgr_snapshot_extends_total", d->snaps[i]);
		fprintf(f, " %u\n", d->snaps[i]->extends);
	}
	metric_value(f, "snapmgr_snapshots", "gauge", "Snapshots watched.",
		     d->n_snaps);
	metric_value(f, "snapmgr_extends_total", "counter",
		     "COW extensions made.", d->extends_total);
	metric_value(f, "snapmgr_extend_failures_total", "counter",
		     "COW extensions that failed.", d->extend_failures);
	metric_value(f, "snapmgr_alerts_total", "counter", "Alerts raised.",
		     d->alerts_total);
	metric_value(f, "snapmgr_invalidations_total", "counter",
		     "Snapshots seen turning invalid.", d->invalidations);
	metric_value(f, "snapmgr_merges_finalised_total", "counter",
		     "Merges of ours finalised.", d->merges_finalised);
	metric_value(f, "snapmgr_scans_total", "counter",
		     "Rescans of all dm devices (new, removed or reloaded devices).", d->scans);
	metric_value(f, "snapmgr_samples_total", "counter",
		     "Status reads of one snapshot.", d->samples);
	metric_value(f, "snapmgr_dm_events_total", "counter",
		     "Device-mapper wake-ups handled.", d->dm_events);
	metric_value(f, "snapmgr_event_reads_total", "counter",
		     "Snapshots read for their own dm event, without a rescan.",
		     d->event_reads);
	schedules_metrics(d, f, metrics_label);
	tracking_metrics(d, f);
}

void apply_metrics(struct daemon *d)
{
	const char *want = snapmgr_config_get_listen_metrics(d->config);
	const char *host;
	uint16_t port;
	int r;

	if ((!want && !d->metrics_addr) ||
	    (want && d->metrics_addr && strcmp(want, d->metrics_addr) == 0))
		return;
	d->metrics = metrics_stop(d->metrics);
	free(d->metrics_addr);
	d->metrics_addr = NULL;
	if (!want || snapmgr_config_get_metrics_address(d->config, &host, &port) < 0)
		return;
	r = metrics_start(d->ev, host, port, render_metrics, d, &d->metrics);
	if (r < 0) {
		log_d(d, LOG_ERR, "cannot serve metrics on %s: %s", want, strerror(-r));
		return;
	}
	d->metrics_addr = strdup(want);
	log_d(d, LOG_INFO, "metrics on http://%s/metrics", want);
}

