/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * [schedule:NAME] (snapmgrd.conf(5)): one timer per schedule in the event
 * loop. A run is: pre_hook (a child, killed after alert_timeout), the
 * snapshot NAME-YYYYmmddTHHMMSS through snapmgr_create_scheduled(), the
 * post_hook, then snapmgr_prune() of that schedule's snapshots beyond its
 * policy. A failing hook, create or prune is a failed run: logged, kept as
 * the schedule's last result for the status socket and the metrics. The
 * next run is an interval after this one started, whatever its result.
 *
 * A set schedule (origins = A B ...) takes the snapshot set NAME-YYYYmmddTHHMMSS
 * (members NAME-YYYYmmddTHHMMSS-ORIGIN, COW files cow_dir/MEMBER.cow)
 * through snapmgr_set_create_scheduled(), which runs the hooks itself: just
 * before every origin is suspended and just after they are resumed, so the
 * application is quiesced at the set's instant, not a fork away from it.
 * Those hooks block the event loop for at most alert_timeout each (the
 * library waits for them); a failing pre_hook leaves no set. Its prune is
 * snapmgr_prune_sets(): a set goes whole or stays whole.
 *
 * A run holds a reference to the configuration it started with, so a
 * reload in the middle of it changes the next run, not this one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"

enum stage { IDLE, PRE_HOOK, POST_HOOK };

struct sched {
	struct daemon *d;
	char *name;
	bool removed; /* gone from the configuration; freed when idle */
	/* the run in progress */
	enum stage stage;
	struct snapmgr_config *run_config;
	const struct snapmgr_schedule *run;
	char snapshot[SNAPMGR_NAME_MAX + 1];
	sd_event_source *child;
	sd_event_source *timer;
	/* what status and metrics show */
	uint64_t last_run_usec, last_end_usec, next_run_usec; /* realtime */
	bool have_result, last_ok;
	char last_detail[256];
	uint64_t runs, failures;
};

static const struct snapmgr_schedule *config_schedule(const struct snapmgr_config *c,
						     const char *name)
{
	for (size_t i = 0; i < snapmgr_config_get_schedule_count(c); i++) {
		const struct snapmgr_schedule *s = snapmgr_config_get_schedule(c, i);

		if (strcmp(snapmgr_schedule_get_name(s), name) == 0)
			return s;
	}
	return NULL;
}

static void sched_free(struct sched *s)
{
	if (!s)
		return;
	sd_event_source_disable_unref(s->timer);
	sd_event_source_disable_unref(s->child);
	snapmgr_config_unref(s->run_config);
	free(s->name);
	free(s);
}

static void arm(struct sched *s, uint64_t seconds);

_printf_(3, 4) static void run_end(struct sched *s, bool ok, const char *fmt, ...)
{
	struct daemon *d = s->d;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->last_detail, sizeof(s->last_detail), fmt, ap);
	va_end(ap);
	s->have_result = true;
	s->last_ok = ok;
	s->last_end_usec = now_real_usec();
	if (!ok)
		s->failures++;
	log_d(d, ok ? LOG_INFO : LOG_ERR, "schedule %s: %s", s->name, s->last_detail);
	s->stage = IDLE;
	s->run = NULL;
	s->run_config = snapmgr_config_unref(s->run_config);
	rescan_soon(d); /* new and removed snapshots */
	if (s->removed) {
		for (size_t i = 0; i < d->n_schedules; i++)
			if (d->schedules[i] == s) {
				memmove(&d->schedules[i], &d->schedules[i + 1],
					(d->n_schedules - i - 1) * sizeof(*d->schedules));
				d->n_schedules--;
				break;
			}
		sched_free(s);
	}
}

static int hook_done(sd_event_source *src, const siginfo_t *si, void *userdata);

/* 1 when the hook was started, 0 when there is none, <0 when it failed. */
static int start_hook(struct sched *s, const char *cmd, enum stage stage)
{
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)cmd, NULL };
	pid_t pid;
	int r;

	if (!cmd)
		return 0;
	s->stage = stage;
	r = spawn(s->d, argv, NULL, s->snapshot,
		  stage == PRE_HOOK ? "pre_hook" : "post_hook",
		  snapmgr_config_get_alert_timeout(s->run_config), hook_done, s,
		  &s->child, &pid);
	if (r < 0)
		return r;
	return 1;
}

/*
 * After a successful take: prune by the schedule's policy, the sets it
 * made (set) or its origin's snapshots, and end the run saying both.
 */
static void finish_run(struct sched *s, bool set)
{
	struct daemon *d = s->d;
	unsigned int keep = 0;
	struct snapmgr_prune_opts po = SNAPMGR_OPTS(struct snapmgr_prune_opts,
		.schedule = s->name,
		.older_than = snapmgr_schedule_get_keep_for(s->run),
	);
	const char *what = set ? "set " : "";
	_cleanup_strv_ char **gone = NULL;
	size_t n_gone = 0;
	int r;

	po.has_keep = snapmgr_schedule_get_keep(s->run, &keep) == 0;
	po.keep = keep;
	if (set) {
		r = snapmgr_prune_sets(d->ctx, &po, &gone);
	} else {
		/* The origin's dm name: on first use origin may be a device path. */
		po.origin = snapmgr_schedule_get_origin(s->run);
		if (strchr(po.origin, '/'))
			po.origin = strrchr(po.origin, '/') + 1;
		r = snapmgr_prune(d->ctx, &po, &gone);
	}
	if (r < 0) {
		run_end(s, false, "took %s%s, prune failed: %s", what, s->snapshot,
			snapmgr_get_error(d->ctx) ?: strerror(-r));
		return;
	}
	for (char **g = gone; g && *g; g++)
		n_gone++;
	run_end(s, true, "took %s%s, pruned %zu", what, s->snapshot, n_gone);
}

static void take_set(struct sched *s, const char *const *origins)
{
	struct daemon *d = s->d;
	size_t n = 0;
	int r;

	while (origins[n])
		n++;
	{
		struct snapmgr_set_member m[n];
		char cow[n][4096];
		struct snapmgr_set_opts o = SNAPMGR_OPTS(struct snapmgr_set_opts,
			.name = s->snapshot,
			.n_members = n,
			.members = m,
			.pre_hook = snapmgr_schedule_get_pre_hook(s->run),
			.post_hook = snapmgr_schedule_get_post_hook(s->run),
			.hook_timeout = snapmgr_config_get_alert_timeout(s->run_config),
		);

		for (size_t i = 0; i < n; i++) {
			/* The member's origin name, as lib/set.c gives it. */
			const char *base = strrchr(origins[i], '/') ?
						   strrchr(origins[i], '/') + 1 : origins[i];

			snprintf(cow[i], sizeof(cow[i]), "%s/%s-%s.cow",
				 snapmgr_schedule_get_cow_dir(s->run), s->snapshot, base);
			m[i] = (struct snapmgr_set_member){ .size = sizeof(struct snapmgr_set_member),
				.origin = origins[i],
				.cow_file = cow[i],
				.cow_size = snapmgr_schedule_get_cow_size(s->run),
				.chunk_size = 4096,
			};
		}
		r = snapmgr_set_create_scheduled(d->ctx, &o, s->name);
	}
	if (r == -ECANCELED) {
		run_end(s, false, "pre_hook failed: no set taken (%s)",
			snapmgr_get_error(d->ctx) ?: strerror(-r));
		return;
	}
	if (r == -ECHILD) {
		run_end(s, false, "took set %s, %s", s->snapshot,
			snapmgr_get_error(d->ctx) ?: "post_hook failed");
		return;
	}
	if (r < 0) {
		run_end(s, false, "cannot create set %s: %s", s->snapshot,
			snapmgr_get_error(d->ctx) ?: strerror(-r));
		return;
	}
	finish_run(s, true);
}

static void take_snapshot(struct sched *s)
{
	struct daemon *d = s->d;
	char cow[4096];
	struct snapmgr_create_opts o = SNAPMGR_OPTS(struct snapmgr_create_opts,
		.snapshot = s->snapshot,
		.origin = snapmgr_schedule_get_origin(s->run),
		.cow_file = cow,
		.cow_size = snapmgr_schedule_get_cow_size(s->run),
		.chunk_size = 4096,
	);
	int r;

	snprintf(cow, sizeof(cow), "%s/%s.cow", snapmgr_schedule_get_cow_dir(s->run),
		 s->snapshot);
	r = snapmgr_create_scheduled(d->ctx, &o, s->name);
	if (r < 0) {
		run_end(s, false, "cannot create %s: %s", s->snapshot,
			snapmgr_get_error(d->ctx) ?: strerror(-r));
		return;
	}
	r = start_hook(s, snapmgr_schedule_get_post_hook(s->run), POST_HOOK);
	if (r < 0) {
		run_end(s, false, "took %s, cannot run post_hook: %s", s->snapshot,
			strerror(-r));
		return;
	}
	if (r == 0)
		finish_run(s, false);
}

static int hook_done(sd_event_source *src, const siginfo_t *si, void *userdata)
{
	struct sched *s = userdata;
	char how[48];

	sd_event_source_disable_unref(src);
	s->child = NULL;
	if (s->stage == PRE_HOOK) {
		if (!child_ok(si)) {
			run_end(s, false, "pre_hook failed (%s): no snapshot taken",
				child_status(si, how, sizeof(how)));
			return 0;
		}
		take_snapshot(s);
		return 0;
	}
	if (!child_ok(si)) {
		run_end(s, false, "took %s, post_hook failed (%s)", s->snapshot,
			child_status(si, how, sizeof(how)));
		return 0;
	}
	finish_run(s, false);
	return 0;
}

static void start_run(struct sched *s)
{
	struct daemon *d = s->d;
	time_t t = time(NULL);
	struct tm tm;
	int r;

	s->run = config_schedule(d->config, s->name);
	if (!s->run)
		return;
	s->run_config = snapmgr_config_ref(d->config);
	s->runs++;
	s->last_run_usec = now_real_usec();
	gmtime_r(&t, &tm);
	snprintf(s->snapshot, sizeof(s->snapshot), "%s-%04d%02d%02dT%02d%02d%02d",
		 s->name, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec);
	arm(s, snapmgr_schedule_get_interval(s->run));
	if (snapmgr_schedule_get_origins(s->run)) {
		take_set(s, snapmgr_schedule_get_origins(s->run));
		return;
	}
	r = start_hook(s, snapmgr_schedule_get_pre_hook(s->run), PRE_HOOK);
	if (r < 0) {
		run_end(s, false, "cannot run pre_hook: %s", strerror(-r));
		return;
	}
	if (r == 0)
		take_snapshot(s);
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct sched *s = userdata;

	if (s->stage != IDLE) {
		/* The previous run is still in its hooks: skip this one. */
		log_d(s->d, LOG_WARNING, "schedule %s: previous run still busy, skipping one",
		      s->name);
		arm(s, snapmgr_schedule_get_interval(config_schedule(s->d->config, s->name)));
		return 0;
	}
	start_run(s);
	return 0;
}

static void arm(struct sched *s, uint64_t seconds)
{
	uint64_t now;

	if (sd_event_now(s->d->ev, CLOCK_MONOTONIC, &now) < 0)
		return;
	s->next_run_usec = now_real_usec() + seconds * USEC_PER_SEC;
	if (!s->timer) {
		if (sd_event_add_time(s->d->ev, &s->timer, CLOCK_MONOTONIC,
				      now + seconds * USEC_PER_SEC, 0, on_timer, s) < 0)
			return;
		sd_event_source_set_description(s->timer, "schedule");
		return;
	}
	sd_event_source_set_time(s->timer, now + seconds * USEC_PER_SEC);
	sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
}

void schedules_apply(struct daemon *d)
{
	const struct snapmgr_config *c = d->config;
	size_t n = snapmgr_config_get_schedule_count(c);

	/* Gone from the configuration: now, or when its run ends. */
	for (size_t i = 0; i < d->n_schedules;) {
		struct sched *s = d->schedules[i];

		if (config_schedule(c, s->name)) {
			i++;
			continue;
		}
		sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
		if (s->stage != IDLE) {
			s->removed = true;
			i++;
			continue;
		}
		memmove(&d->schedules[i], &d->schedules[i + 1],
			(d->n_schedules - i - 1) * sizeof(*d->schedules));
		d->n_schedules--;
		sched_free(s);
	}
	for (size_t k = 0; k < n; k++) {
		const struct snapmgr_schedule *cs = snapmgr_config_get_schedule(c, k);
		uint64_t interval = snapmgr_schedule_get_interval(cs), due = 0;
		struct sched *s = NULL, **v;

		for (size_t i = 0; i < d->n_schedules; i++)
			if (strcmp(d->schedules[i]->name, snapmgr_schedule_get_name(cs)) == 0)
				s = d->schedules[i];
		if (s) {
			s->removed = false;
			/* Same schedule: an interval after its last run. */
			if (s->last_run_usec) {
				uint64_t at = s->last_run_usec + interval * USEC_PER_SEC,
					 now = now_real_usec();

				due = at > now ? (at - now + USEC_PER_SEC - 1) / USEC_PER_SEC : 0;
			}
			if (s->stage == IDLE)
				arm(s, due);
			continue;
		}
		s = calloc(1, sizeof(*s));
		v = s ? reallocarray(d->schedules, d->n_schedules + 1, sizeof(*v)) : NULL;
		if (!v || !(s->name = strdup(snapmgr_schedule_get_name(cs)))) {
			if (v)
				d->schedules = v;
			free(s);
			log_d(d, LOG_ERR, "schedule %s: out of memory",
			      snapmgr_schedule_get_name(cs));
			continue;
		}
		d->schedules = v;
		s->d = d;
		d->schedules[d->n_schedules++] = s;
		/* New, or the daemon just started: the one catch-up run, now. */
		arm(s, 0);
	}
}

void schedules_free(struct daemon *d)
{
	for (size_t i = 0; i < d->n_schedules; i++)
		sched_free(d->schedules[i]);
	free(d->schedules);
	d->schedules = NULL;
	d->n_schedules = 0;
}

static json_object *usec_or_null(uint64_t usec)
{
	return usec ? json_object_new_double((double)usec / USEC_PER_SEC) : NULL;
}

json_object *schedules_json(const struct daemon *d)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < d->n_schedules; i++) {
		const struct sched *s = d->schedules[i];
		json_object *o;

		if (s->removed)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(s->name));
		json_object_object_add(o, "running", json_object_new_boolean(s->stage != IDLE));
		json_object_object_add(o, "last_run", usec_or_null(s->last_run_usec));
		json_object_object_add(o, "next_run", usec_or_null(s->next_run_usec));
		json_object_object_add(o, "last_result",
				       s->have_result ? json_object_new_string(s->last_ok ? "ok" : "failed") : NULL);
		json_object_object_add(o, "last_detail",
				       s->have_result ? json_object_new_string(s->last_detail) : NULL);
		json_object_object_add(o, "runs", json_object_new_uint64(s->runs));
		json_object_object_add(o, "failures", json_object_new_uint64(s->failures));
		json_object_array_add(arr, o);
	}
	return arr;
}

void schedules_metrics(const struct daemon *d, FILE *f,
		       void (*label)(FILE *f, const char *value))
{
	static const struct {
		const char *name, *type, *help;
	} m[] = {
		{ "snapmgr_schedule_last_run_timestamp_seconds", "gauge", "When the schedule's last run started (0: never)." },
		{ "snapmgr_schedule_next_run_timestamp_seconds", "gauge", "When the schedule runs next." },
		{ "snapmgr_schedule_last_run_success", "gauge", "1 if the last run succeeded, 0 if it failed (a failing hook included), -1 before the first." },
		{ "snapmgr_schedule_runs_total", "counter", "Runs started." },
		{ "snapmgr_schedule_failures_total", "counter", "Runs that failed." },
	};

	for (size_t k = 0; k < ELEMENTSOF(m); k++) {
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m[k].name, m[k].help,
			m[k].name, m[k].type);
		for (size_t i = 0; i < d->n_schedules; i++) {
			const struct sched *s = d->schedules[i];
			double v;

			if (s->removed)
				continue;
			switch (k) {
			case 0: v = (double)s->last_run_usec / USEC_PER_SEC; break;
			case 1: v = (double)s->next_run_usec / USEC_PER_SEC; break;
			case 2: v = s->have_result ? s->last_ok : -1; break;
			case 3: v = (double)s->runs; break;
			default: v = (double)s->failures; break;
			}
			fprintf(f, "%s{schedule=\"", m[k].name);
			label(f, s->name);
			fprintf(f, "\"} %.3f\n", v);
		}
	}
}
