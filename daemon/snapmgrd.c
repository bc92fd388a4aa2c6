/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapmgrd: watches every dm snapshot on the host and keeps it from filling
 * up. One sd-event loop:
 *  - /dev/mapper/control, armed with DM_DEV_ARM_POLL: a device was created,
 *    removed, reloaded or raised an event (a snapshot was invalidated) ->
 *    rescan the snapshots and read their status;
 *  - one timer per snapshot, whose interval follows the fill rate
 *    (predict.c) so a threshold crossing is seen within --min-interval;
 *  - actions from the policy (snapmgrd.conf(5)): extend COW files, extend
 *    lvm2 snapshots with lvextend, run alert_command;
 *  - the status socket (server.c, docs/socket.md);
 *  - SIGHUP reloads the configuration, keeping the old one when the new one
 *    is bad; SIGTERM/SIGINT stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "macro.h"
#include "metrics.h"
#include "predict.h"
#include "server.h"
#include "snapmgr.h"

#define USEC_PER_SEC 1000000ULL
/*
 * Extend early when the COW would be full sooner than this, or than twice
 * the last extension took; lvextend takes seconds, so lvm2's start at 5.
 */
#define EXTEND_LEAD_SECONDS 1.0
#define EXTEND_LEAD_SECONDS_LVM2 5.0

struct daemon;

struct action {
	char what[24];      /* "extend", "alert", ... */
	char detail[200];
	uint64_t realtime;  /* usec since the epoch */
	bool ok;
};

struct snap {
	struct daemon *d;
	char *name;
	char *uuid;
	struct snapmgr_snapshot *info; /* from the last scan */
	struct snapmgr_policy *policy;
	struct predictor pred;
	struct snapmgr_usage usage;
	bool have_usage;
	double last_t; /* monotonic seconds of the last sample */
	sd_event_source *timer;
	double interval;
	bool warned, alerted_invalid, alerted_no_extend;
	pid_t extend_pid; /* lvextend running */
	uint64_t extend_from; /* COW size when it started */
	double extend_started, extend_seconds; /* how long the last one took */
	sd_event_source *child;
	unsigned extends;
	double retry_after, backoff; /* after a failed extension */
	struct action last;
	bool seen; /* in the current scan */
};

struct daemon {
	sd_event *ev;
	struct snapmgr_ctx *ctx;
	struct snapmgr_config *config;
	const char *config_dir;
	const char *socket_path_opt;
	char *socket_path; /* the one we made and unlink at exit */
	struct server *server;
	struct metrics *metrics;
	char *metrics_addr; /* listen_metrics in effect */
	int dm_fd;
	sd_event_source *dm_src, *rescan_timer;
	struct snap **snaps;
	size_t n_snaps;
	bool journal;
	int log_level;
	double burst_rate, min_interval;
	bool ready;
	uint64_t started_usec;
	/* counters, for metrics and status */
	uint64_t scans, samples, extends_total, extend_failures, alerts_total,
		invalidations;
};

/* ---------------------------------------------------------------- logging */

_printf_(5, 0) static void vlog_snap(struct daemon *d, int prio,
				     const struct snap *s, const char *action,
				     const char *fmt, va_list ap)
{
	char msg[1024];

	if (prio > d->log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (d->journal) {
		char fill[32] = "";

		if (s && s->have_usage && s->usage.has_usage &&
		    s->usage.size_bytes)
			snprintf(fill, sizeof(fill), "%.2f",
				 100.0 * (double)s->usage.used_bytes /
					 (double)s->usage.size_bytes);
		sd_journal_send("MESSAGE=%s%s%s", s ? s->name : "",
				s ? ": " : "", msg, "PRIORITY=%d", prio,
				"SYSLOG_IDENTIFIER=snapmgrd",
				"SNAPMGR_SNAPSHOT=%s", s ? s->name : "",
				"SNAPMGR_FILL=%s", fill, "SNAPMGR_ACTION=%s",
				action ? action : "", NULL);
		return;
	}
	fprintf(stderr, "snapmgrd: %s%s%s\n", s ? s->name : "", s ? ": " : "",
		msg);
}

_printf_(5, 6) static void log_snap(struct daemon *d, int prio,
				    const struct snap *s, const char *action,
				    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_snap(d, prio, s, action, fmt, ap);
	va_end(ap);
}

#define log_d(d, prio, ...) log_snap(d, prio, NULL, NULL, __VA_ARGS__)

_printf_(6, 0) static void lib_log(void *data, int priority,
				   const char *file _unused_,
				   int line _unused_, const char *fn _unused_,
				   const char *format, va_list args)
{
	vlog_snap(data, priority, NULL, NULL, format, args);
}

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_real_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}

/* ------------------------------------------------------------ JSON views */

static double fill_percent(const struct snap *s)
{
	if (!s->have_usage || !s->usage.has_usage || !s->usage.size_bytes)
		return s->have_usage && !s->usage.has_usage ? 100.0 : 0.0;
	return 100.0 * (double)s->usage.used_bytes / (double)s->usage.size_bytes;
}

static double time_to_full(const struct snap *s)
{
	if (!s->have_usage || !s->usage.has_usage)
		return s->have_usage ? 0.0 : INFINITY;
	return predict_seconds_until(&s->pred, s->usage.used_bytes,
				     s->usage.size_bytes);
}

static json_object *json_seconds(double v)
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

static json_object *snap_json(const struct snap *s)
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

_printf_(4, 5) static void record_action(struct snap *s, const char *what,
					 bool ok, const char *fmt, ...)
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

/* --------------------------------------------------------------- children */

static void sigset_child(sigset_t *ss)
{
	sigemptyset(ss);
	sigaddset(ss, SIGCHLD);
}

/* fork + exec argv with stdin from a pipe holding input (may be NULL). */
static int spawn(char *const argv[], const char *input, const char *snapshot,
		 const char *event, pid_t *ret_pid)
{
	int pfd[2];
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int e = -errno;

		close(pfd[0]);
		close(pfd[1]);
		return e;
	}
	if (pid == 0) {
		sigset_t ss;

		sigemptyset(&ss);
		sigprocmask(SIG_SETMASK, &ss, NULL);
		if (dup2(pfd[0], STDIN_FILENO) < 0)
			_exit(127);
		if (snapshot)
			setenv("SNAPMGR_SNAPSHOT", snapshot, 1);
		if (event)
			setenv("SNAPMGR_EVENT", event, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pfd[0]);
	if (input) {
		/* Small (one object) and the pipe is fresh: fits its buffer. */
		fcntl(pfd[1], F_SETFL, O_NONBLOCK);
		if (write(pfd[1], input, strlen(input)) < 0) {
			/* the command may not read it; nothing to do */
		}
	}
	close(pfd[1]);
	*ret_pid = pid;
	return 0;
}

static int alert_done(sd_event_source *src, const siginfo_t *si, void *userdata)
{
	struct daemon *d = userdata;

	if (si->si_code != CLD_EXITED || si->si_status != 0)
		log_d(d, LOG_WARNING, "alert command (pid %d) failed: %s %d",
		      (int)si->si_pid,
		      si->si_code == CLD_EXITED ? "exit status" : "signal",
		      si->si_status);
	sd_event_source_disable_unref(src);
	return 0;
}

/* Runs alert_command with the snapshot's JSON on stdin, if there is one. */
static void run_alert(struct snap *s, const char *event, const char *why)
{
	struct daemon *d = s->d;
	const char *cmd = s->policy ? snapmgr_policy_get_alert_command(s->policy) : NULL;
	json_object *o;
	char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)cmd, NULL };
	sd_event_source *src = NULL;
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
	r = spawn(argv, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE),
		  s->name, event, &pid);
	json_object_put(o);
	if (r < 0) {
		log_snap(d, LOG_ERR, s, "alert", "cannot run alert command: %s",
			 strerror(-r));
		return;
	}
	log_snap(d, LOG_NOTICE, s, "alert", "alert command started (pid %d) for %s",
		 (int)pid, event);
	if (sd_event_add_child(d->ev, &src, pid, WEXITED, alert_done, d) >= 0)
		sd_event_source_set_description(src, "alert-command");
}

/* --------------------------------------------------------------- actions */

/* A failed extension is retried after 5 s, then 10, 20... up to 5 min. */
static void extend_failed(struct snap *s)
{
	s->backoff = s->backoff > 0 ? s->backoff * 2 : 5.0;
	if (s->backoff > 300)
		s->backoff = 300;
	s->retry_after = now_mono() + s->backoff;
}

static void extend_succeeded(struct snap *s)
{
	s->backoff = 0;
	s->retry_after = 0;
}

static void schedule(struct snap *s, double seconds);
static void sample(struct snap *s);

static int lvextend_done(sd_event_source *src, const siginfo_t *si,
			 void *userdata)
{
	struct snap *s = userdata;
	bool ok = si->si_code == CLD_EXITED && si->si_status == 0;
	struct snapmgr_usage u;

	s->extend_pid = 0;
	s->child = sd_event_source_disable_unref(s->child);
	s->extend_seconds = now_mono() - s->extend_started;
	/* lvm2 caps a snapshot at its origin's size and still exits 0. */
	if (ok && snapmgr_snapshot_read_usage(s->d->ctx, s->name, &u) == 0 &&
	    u.has_usage && u.size_bytes <= s->extend_from) {
		extend_failed(s);
		s->d->extend_failures++;
		log_snap(s->d, LOG_WARNING, s, "extend",
			 "lvextend did not grow the snapshot (lvm2's maximum reached?)");
		record_action(s, "extend", false, "lvextend did not grow it");
		if (!s->alerted_no_extend) {
			s->alerted_no_extend = true;
			run_alert(s, "cannot-extend", "lvextend did not grow it");
		}
		sample(s);
		return 0;
	}
	if (ok) {
		extend_succeeded(s);
		s->extends++;
		s->d->extends_total++;
		log_snap(s->d, LOG_NOTICE, s, "extend", "lvextend finished");
		record_action(s, "extend", true, "lvextend finished");
	} else {
		extend_failed(s);
		s->d->extend_failures++;
		log_snap(s->d, LOG_ERR, s, "extend", "lvextend failed (%s %d)",
			 si->si_code == CLD_EXITED ? "exit status" : "signal",
			 si->si_status);
		record_action(s, "extend", false, "lvextend failed");
		if (!s->alerted_no_extend) {
			s->alerted_no_extend = true;
			run_alert(s, "extend-failed", "lvextend failed");
		}
	}
	sample(s);
	return 0;
}

/* "vg-lv" with '-' in names doubled, as lvm2 names its dm devices. */
static int lvm2_name(const char *dm_name, char **ret)
{
	char vg[256], lv[256];
	size_t i, o = 0;
	const char *p = dm_name;

	for (i = 0; p[i]; i++) {
		if (p[i] == '-' && p[i + 1] == '-') {
			if (o + 1 >= sizeof(vg))
				return -EINVAL;
			vg[o++] = '-';
			i++;
			continue;
		}
		if (p[i] == '-')
			break;
		if (o + 1 >= sizeof(vg))
			return -EINVAL;
		vg[o++] = p[i];
	}
	if (p[i] != '-' || o == 0)
		return -EINVAL;
	vg[o] = '\0';
	p += i + 1;
	for (i = 0, o = 0; p[i]; i++) {
		if (p[i] == '-' && p[i + 1] == '-')
			i++;
		else if (p[i] == '-')
			return -EINVAL; /* a layer ("-cow", "-real") */
		if (o + 1 >= sizeof(lv))
			return -EINVAL;
		lv[o++] = p[i];
	}
	lv[o] = '\0';
	if (asprintf(ret, "%s/%s", vg, lv) < 0)
		return -ENOMEM;
	return 0;
}

static void extend(struct snap *s, double reaction)
{
	struct daemon *d = s->d;
	uint64_t size = s->usage.size_bytes, new_size, got = 0;
	const char *file = snapmgr_snapshot_get_cow_file(s->info);
	const char *dev = snapmgr_snapshot_get_cow_device(s->info);
	enum snapmgr_owner owner = snapmgr_snapshot_get_owner(s->info);
	double fill = fill_percent(s);
	int r;

	if (s->extend_pid)
		return; /* lvextend still running */
	r = snapmgr_policy_next_cow_size(s->policy, size, &new_size);
	if (r < 0) {
		if (!s->alerted_no_extend) {
			s->alerted_no_extend = true;
			log_snap(d, LOG_WARNING, s, "extend",
				 "cannot extend: max_cow_size reached (%" PRIu64 " bytes, %.2f%% full)",
				 size, fill);
			run_alert(s, "cannot-extend", "max_cow_size reached");
		}
		return;
	}
	if (owner == SNAPMGR_OWNER_LVM2) {
		_cleanup_free_ char *lv = NULL;
		char sizearg[64];
		char *argv[] = { (char *)"/sbin/lvextend", (char *)"-L", sizearg,
				 NULL, NULL };

		if (lvm2_name(s->name, &lv) < 0) {
			log_snap(d, LOG_ERR, s, "extend",
				 "cannot tell the LV name from the dm name");
			return;
		}
		argv[3] = lv;
		s->extend_from = size;
		s->extend_started = now_mono();
		snprintf(sizearg, sizeof(sizearg), "+%" PRIu64 "b", new_size - size);
		r = spawn(argv, NULL, s->name, "extend", &s->extend_pid);
		if (r < 0) {
			log_snap(d, LOG_ERR, s, "extend", "cannot run lvextend: %s",
				 strerror(-r));
			return;
		}
		log_snap(d, LOG_NOTICE, s, "extend",
			 "extending %s by %" PRIu64 " bytes with lvextend (%.2f%% full, reaction %.0f ms)",
			 lv, new_size - size, fill, reaction * 1000);
		if (sd_event_add_child(d->ev, &s->child, s->extend_pid, WEXITED,
				       lvextend_done, s) < 0)
			s->extend_pid = 0;
		return;
	}
	if (!file || !dev || strncmp(dev, "/dev/loop", 9) != 0) {
		if (!s->alerted_no_extend) {
			s->alerted_no_extend = true;
			log_snap(d, LOG_WARNING, s, "extend",
				 "cannot extend: the COW %s is not a file (%.2f%% full)",
				 dev ? dev : "?", fill);
			run_alert(s, "cannot-extend", "the COW is not a file");
		}
		return;
	}
	log_snap(d, LOG_NOTICE, s, "extend",
		 "extending COW %s from %" PRIu64 " to %" PRIu64 " bytes (%.2f%% full, reaction %.0f ms)",
		 file, size, new_size, fill, reaction * 1000);
	r = snapmgr_extend_cow_file(d->ctx, file, dev, new_size, &got);
	if (r < 0) {
		const char *e = snapmgr_get_error(d->ctx);

		extend_failed(s);
		d->extend_failures++;
		log_snap(d, LOG_ERR, s, "extend", "extend failed: %s",
			 e ? e : strerror(-r));
		record_action(s, "extend", false, "%s", e ? e : strerror(-r));
		if (!s->alerted_no_extend) {
			s->alerted_no_extend = true;
			run_alert(s, "extend-failed", e ? e : strerror(-r));
		}
		return;
	}
	extend_succeeded(s);
	s->extends++;
	d->extends_total++;
	s->alerted_no_extend = false;
	log_snap(d, LOG_NOTICE, s, "extend",
		 "extended COW %s to %" PRIu64 " bytes", file, got);
	record_action(s, "extend", true, "%" PRIu64 " -> %" PRIu64 " bytes",
		      size, got);
}

/* ---------------------------------------------------------------- samples */

static uint64_t percent_of(uint64_t size, unsigned pct)
{
	return (uint64_t)((double)size * pct / 100.0);
}

static bool can_extend(const struct snap *s, unsigned *ret_threshold)
{
	return s->policy && snapmgr_policy_get_autoextend(s->policy) &&
	       snapmgr_policy_get_extend_threshold(s->policy, ret_threshold) == 0;
}

static void sample(struct snap *s)
{
	struct daemon *d = s->d;
	struct snapmgr_usage u, prev = s->usage;
	bool had = s->have_usage;
	double t = now_mono(), prev_t = s->last_t;
	unsigned thr = 0, warn;
	uint64_t next_mark;
	int r;

	r = snapmgr_snapshot_read_usage(d->ctx, s->name, &u);
	d->samples++;
	if (r < 0) {
		/* Gone, or changed: the next scan sorts it out. */
		log_snap(d, LOG_DEBUG, s, NULL, "cannot read status: %s",
			 strerror(-r));
		schedule(s, 1.0);
		return;
	}
	s->usage = u;
	s->have_usage = true;
	s->last_t = t;
	if (!u.has_usage) {
		if (!s->alerted_invalid) {
			s->alerted_invalid = true;
			d->invalidations++;
			log_snap(d, LOG_ERR, s, "invalid",
				 "snapshot is %s: its contents are lost",
				 snapmgr_state_to_string(u.state));
			run_alert(s, snapmgr_state_to_string(u.state),
				  "the kernel invalidated the snapshot");
		}
		schedule(s, snapmgr_config_get_poll_interval_max(d->config));
		return;
	}
	s->alerted_invalid = false;
	predictor_add(&s->pred, t, u.used_bytes);
	warn = snapmgr_policy_get_warn_threshold(s->policy);

	if (can_extend(s, &thr) && u.size_bytes) {
		uint64_t mark = percent_of(u.size_bytes, thr);
		double ttf = time_to_full(s);
		double lead = s->info && snapmgr_snapshot_get_owner(s->info) ==
						 SNAPMGR_OWNER_LVM2 ?
				      EXTEND_LEAD_SECONDS_LVM2 : EXTEND_LEAD_SECONDS;

		if (2 * s->extend_seconds > lead)
			lead = 2 * s->extend_seconds;
		if ((u.used_bytes >= mark || ttf < lead) &&
		    t >= s->retry_after) {
			double crossed = t;

			/* When was the mark crossed? Between the two samples. */
			if (had && prev.has_usage && prev.size_bytes == u.size_bytes)
				crossed = predict_crossing_time(prev_t, prev.used_bytes,
								t, u.used_bytes, mark);
			if (u.used_bytes < mark)
				crossed = t; /* early, on the prediction */
			extend(s, t - crossed);
			if (!s->extend_pid) {
				/* Read the new size; re-check at once. */
				if (snapmgr_snapshot_read_usage(d->ctx, s->name, &u) == 0) {
					s->usage = u;
					s->last_t = now_mono();
				}
			}
		}
	}
	if (u.has_usage && u.size_bytes) {
		uint64_t wmark = percent_of(u.size_bytes, warn);

		if (u.used_bytes >= wmark && !s->warned) {
			s->warned = true;
			log_snap(d, LOG_WARNING, s, "warn",
				 "%.2f%% full (warn_threshold %u%%)",
				 fill_percent(s), warn);
			run_alert(s, "warn", "warn_threshold crossed");
		} else if (u.used_bytes < wmark) {
			s->warned = false;
		}
	}

	/* Next look: before the nearest mark that still matters. */
	next_mark = u.size_bytes;
	if (can_extend(s, &thr) && percent_of(u.size_bytes, thr) > u.used_bytes)
		next_mark = percent_of(u.size_bytes, thr);
	if (!s->warned && percent_of(u.size_bytes, warn) > u.used_bytes &&
	    percent_of(u.size_bytes, warn) < next_mark)
		next_mark = percent_of(u.size_bytes, warn);
	{
		struct interval_params ip = {
			.used = u.used_bytes,
			.next_mark = next_mark,
			.rate = s->pred.rate,
			.peak = s->pred.peak,
			.burst_rate = d->burst_rate,
			.min_interval = d->min_interval,
			.max_interval = snapmgr_config_get_poll_interval_max(d->config),
		};
		schedule(s, choose_interval(&ip));
	}
}

static int snap_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
	sample(userdata);
	return 0;
}

static void schedule(struct snap *s, double seconds)
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

/* -------------------------------------------------------------- discovery */

static void snap_free(struct snap *s)
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

static void apply_policy(struct daemon *d, struct snap *s)
{
	struct snapmgr_policy *p = NULL;

	if (snapmgr_policy_for(d->config, s->name, &p) < 0)
		return;
	snapmgr_policy_unref(s->policy);
	s->policy = p;
}

static void notify_status(struct daemon *d)
{
	sd_notifyf(0, "STATUS=Watching %zu snapshots", d->n_snaps);
}

static int rescan(struct daemon *d)
{
	struct snapmgr_snapshot **list = NULL;
	size_t n = 0, kept = 0;
	int r;

	r = snapmgr_snapshot_list(d->ctx, &list);
	d->scans++;
	if (r < 0) {
		log_d(d, LOG_ERR, "cannot list snapshots: %s",
		      snapmgr_get_error(d->ctx) ?: strerror(-r));
		return r;
	}
	for (size_t i = 0; i < d->n_snaps; i++)
		d->snaps[i]->seen = false;
	while (list[n])
		n++;
	for (size_t i = 0; i < n; i++) {
		const char *name = snapmgr_snapshot_get_name(list[i]);
		const char *uuid = snapmgr_snapshot_get_uuid(list[i]);
		struct snap *s = find_snap(d, name);

		if (s && strcmp(s->uuid, uuid) != 0)
			s = NULL; /* same name, another snapshot: the old one goes */
		if (!s) {
			struct snap **v = realloc(d->snaps, (d->n_snaps + 1) * sizeof(*v));

			s = calloc(1, sizeof(*s));
			if (!v || !s) {
				free(s);
				if (v)
					d->snaps = v;
				continue;
			}
			d->snaps = v;
			s->d = d;
			s->name = strdup(name);
			s->uuid = strdup(uuid);
			d->snaps[d->n_snaps++] = s;
			apply_policy(d, s);
			log_snap(d, LOG_INFO, s, "watch", "watching (%s, COW %s)",
				 snapmgr_owner_to_string(snapmgr_snapshot_get_owner(list[i])),
				 snapmgr_snapshot_get_cow_file(list[i]) ?:
				 snapmgr_snapshot_get_cow_device(list[i]) ?: "?");
		}
		snapmgr_snapshot_unref(s->info);
		s->info = snapmgr_snapshot_ref(list[i]);
		s->seen = true;
	}
	for (size_t i = 0; i < d->n_snaps; i++) {
		struct snap *s = d->snaps[i];

		if (!s->seen) {
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
		sample(d->snaps[i]);
	notify_status(d);
	return 0;
}

static int rescan_timer_cb(sd_event_source *src, uint64_t usec, void *userdata)
{
	rescan(userdata);
	return 0;
}

static int dm_event_cb(sd_event_source *src, int fd, uint32_t revents,
		       void *userdata)
{
	struct daemon *d = userdata;

	/* Re-arm first, so nothing that happens during the scan is missed. */
	if (snapmgr_events_arm(d->ctx, fd) < 0)
		log_d(d, LOG_ERR, "cannot re-arm the dm event poll");
	/* A burst of events (500 creations) makes one scan, 10 ms later. */
	if (!d->rescan_timer) {
		if (sd_event_add_time_relative(d->ev, &d->rescan_timer,
					       CLOCK_MONOTONIC, 10000, 1000,
					       rescan_timer_cb, d) >= 0)
			sd_event_source_set_description(d->rescan_timer, "rescan");
	} else if (sd_event_source_get_enabled(d->rescan_timer, NULL) == 0) {
		sd_event_source_set_time_relative(d->rescan_timer, 10000);
		sd_event_source_set_enabled(d->rescan_timer, SD_EVENT_ONESHOT);
	}
	return 0;
}

/* ---------------------------------------------------------------- metrics */

static void metric_head(FILE *f, const char *name, const char *type,
			const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metric_labels(FILE *f, const char *name, const struct snap *s)
{
	fprintf(f, "%s{snapshot=\"", name);
	metrics_label(f, s->name);
	fprintf(f, "\",owner=\"%s\"}", s->info ?
		snapmgr_owner_to_string(snapmgr_snapshot_get_owner(s->info)) : "other");
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
	metric_head(f, "snapmgr_snapshots", "gauge", "Snapshots watched.");
	fprintf(f, "snapmgr_snapshots %zu\n", d->n_snaps);
	metric_head(f, "snapmgr_extends_total", "counter", "COW extensions made.");
	fprintf(f, "snapmgr_extends_total %" PRIu64 "\n", d->extends_total);
	metric_head(f, "snapmgr_extend_failures_total", "counter", "COW extensions that failed.");
	fprintf(f, "snapmgr_extend_failures_total %" PRIu64 "\n", d->extend_failures);
	metric_head(f, "snapmgr_alerts_total", "counter", "Alerts raised.");
	fprintf(f, "snapmgr_alerts_total %" PRIu64 "\n", d->alerts_total);
	metric_head(f, "snapmgr_invalidations_total", "counter", "Snapshots seen turning invalid.");
	fprintf(f, "snapmgr_invalidations_total %" PRIu64 "\n", d->invalidations);
	metric_head(f, "snapmgr_scans_total", "counter", "Rescans of all dm devices.");
	fprintf(f, "snapmgr_scans_total %" PRIu64 "\n", d->scans);
	metric_head(f, "snapmgr_samples_total", "counter", "Status reads of one snapshot.");
	fprintf(f, "snapmgr_samples_total %" PRIu64 "\n", d->samples);
}

/* Starts, stops or moves the metrics listener to match listen_metrics. */
static void apply_metrics(struct daemon *d)
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

/* ----------------------------------------------------------- config, status */

static int load_config(struct daemon *d, bool initial)
{
	struct snapmgr_config *c = NULL;
	char *msg = NULL;
	int r;

	r = snapmgr_config_load(d->ctx, d->config_dir, &c, &msg);
	if (r < 0) {
		log_d(d, LOG_ERR, "%s%s", msg ? msg : strerror(-r),
		      initial ? "" : " (keeping the previous configuration)");
		free(msg);
		return r;
	}
	snapmgr_config_unref(d->config);
	d->config = c;
	d->log_level = snapmgr_config_get_log_level(c) > d->log_level ?
			       snapmgr_config_get_log_level(c) : d->log_level;
	for (size_t i = 0; i < d->n_snaps; i++) {
		apply_policy(d, d->snaps[i]);
		d->snaps[i]->alerted_no_extend = false;
		extend_succeeded(d->snaps[i]); /* a new policy: try again now */
	}
	if (!initial) {
		apply_metrics(d);
		log_d(d, LOG_NOTICE, "configuration reloaded from %s",
		      d->config_dir ? d->config_dir : SNAPMGR_CONF_DIR);
		for (size_t i = 0; i < d->n_snaps; i++)
			sample(d->snaps[i]);
	}
	return 0;
}

static json_object *handle_request(void *userdata, const struct request *req)
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
	json_object_object_add(info, "extends", json_object_new_uint64(d->extends_total));
	json_object_object_add(info, "extend_failures", json_object_new_uint64(d->extend_failures));
	json_object_object_add(info, "alerts", json_object_new_uint64(d->alerts_total));
	json_object_object_add(reply, "daemon", info);
	json_object_object_add(reply, "snapshots", arr);
	return reply;
}

/* The status socket: inherited (socket activation) or made here. */
static int open_socket(struct daemon *d, int *ret_fd)
{
	const char *path = d->socket_path_opt ? d->socket_path_opt :
			   snapmgr_config_get_socket_path(d->config);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct group *g;
	_cleanup_free_ char *dir = NULL;
	char *slash;
	int n, fd;

	n = sd_listen_fds(1);
	if (n > 1) {
		log_d(d, LOG_ERR, "expected one socket from the service manager, got %d", n);
		return -EINVAL;
	}
	if (n == 1) {
		if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) <= 0) {
			log_d(d, LOG_ERR, "the inherited fd is not a listening Unix stream socket");
			return -EINVAL;
		}
		*ret_fd = SD_LISTEN_FDS_START;
		return 0;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_d(d, LOG_ERR, "%s: socket path too long", path);
		return -ENAMETOOLONG;
	}
	dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			log_d(d, LOG_ERR, "cannot create %s: %m", dir);
			return -errno;
		}
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A live socket means another snapmgrd: do not steal it. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ||
	    errno == EAGAIN) {
		log_d(d, LOG_ERR, "%s: another snapmgrd is running", path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 64) < 0) {
		int e = -errno;

		log_d(d, LOG_ERR, "%s: cannot listen: %m", path);
		close(fd);
		return e;
	}
	g = getgrnam("snapmgr");
	if (g && chown(path, 0, g->gr_gid) < 0)
		log_d(d, LOG_WARNING, "%s: cannot give it to group snapmgr: %m", path);
	if (chmod(path, 0660) < 0)
		log_d(d, LOG_WARNING, "%s: chmod: %m", path);
	d->socket_path = strdup(path);
	*ret_fd = fd;
	return 0;
}

static int on_signal(sd_event_source *src, const struct signalfd_siginfo *si,
		     void *userdata)
{
	struct daemon *d = userdata;

	if (si->ssi_signo == SIGHUP) {
		sd_notify(0, "RELOADING=1");
		load_config(d, false);
		sd_notify(0, "READY=1");
		notify_status(d);
		return 0;
	}
	log_d(d, LOG_INFO, "stopping on signal %u", si->ssi_signo);
	sd_notify(0, "STOPPING=1");
	return sd_event_exit(sd_event_source_get_event(src), 0);
}

/* ------------------------------------------------------------------ main */

static void help(void)
{
	printf("Usage:\n"
	       " snapmgrd [options]\n"
	       "\n"
	       "Watch every device-mapper snapshot, extend COWs before they fill up,\n"
	       "alert when one cannot be saved, and answer status requests.\n"
	       "\n"
	       "Options:\n"
	       " -c, --config-dir DIR     read DIR/snapmgrd.conf and DIR/snapmgrd.conf.d\n"
	       "                          (default " SNAPMGR_CONF_DIR ")\n"
	       " -s, --socket PATH        status socket (default: socket_path)\n"
	       "     --log-target TARGET  auto, stderr or journal (default auto)\n"
	       "     --burst-rate SIZE    write rate to expect from an idle snapshot,\n"
	       "                          per second (default 32M)\n"
	       "     --min-interval MS    shortest time between two looks (default 50)\n"
	       " -v, --verbose            log at debug level\n"
	       " -h, --help               display this help\n"
	       " -V, --version            display version\n"
	       "\n"
	       "For more details see snapmgrd(8).\n");
}

int main(int argc, char *argv[])
{
	enum { OPT_LOG_TARGET = 256, OPT_BURST, OPT_MIN_INTERVAL };
	static const struct option options[] = {
		{ "config-dir", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "log-target", required_argument, NULL, OPT_LOG_TARGET },
		{ "burst-rate", required_argument, NULL, OPT_BURST },
		{ "min-interval", required_argument, NULL, OPT_MIN_INTERVAL },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	struct daemon d = { .dm_fd = -1, .log_level = LOG_INFO,
			    .burst_rate = 32.0 * 1024 * 1024, .min_interval = 0.05 };
	const char *log_target = "auto";
	sigset_t ss;
	int c, r, lfd = -1, verbose = 0;
	uint64_t v;

	while ((c = getopt_long(argc, argv, "c:s:vhV", options, NULL)) != -1) {
		switch (c) {
		case 'c': d.config_dir = optarg; break;
		case 's': d.socket_path_opt = optarg; break;
		case OPT_LOG_TARGET: log_target = optarg; break;
		case OPT_BURST:
			if (snapmgr_parse_size(optarg, &v) < 0 || v == 0) {
				fprintf(stderr, "snapmgrd: --burst-rate: bad size '%s'\n", optarg);
				return 2;
			}
			d.burst_rate = (double)v;
			break;
		case OPT_MIN_INTERVAL:
			d.min_interval = atoi(optarg) / 1000.0;
			if (d.min_interval < 0.001 || d.min_interval > 10) {
				fprintf(stderr, "snapmgrd: --min-interval: 1 to 10000 ms\n");
				return 2;
			}
			break;
		case 'v': verbose = 1; break;
		case 'h': help(); return 0;
		case 'V': printf("snapmgrd from snapmgr %s\n", PROJECT_VERSION); return 0;
		default:
			fprintf(stderr, "snapmgrd: bad option (try 'snapmgrd --help')\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "snapmgrd: no arguments expected (try 'snapmgrd --help')\n");
		return 2;
	}
	if (strcmp(log_target, "journal") == 0)
		d.journal = true;
	else if (strcmp(log_target, "auto") == 0)
		d.journal = getenv("JOURNAL_STREAM") != NULL;
	else if (strcmp(log_target, "stderr") != 0) {
		fprintf(stderr, "snapmgrd: --log-target: auto, stderr or journal\n");
		return 2;
	}
	if (verbose)
		d.log_level = LOG_DEBUG;
	d.started_usec = now_real_usec();

	r = snapmgr_new(&d.ctx);
	if (r < 0)
		return 1;
	snapmgr_set_log_fn(d.ctx, lib_log, &d);
	snapmgr_set_log_priority(d.ctx, verbose ? LOG_DEBUG : LOG_WARNING);
	if (load_config(&d, true) < 0)
		return 1;
	if (!verbose && d.log_level < snapmgr_config_get_log_level(d.config))
		d.log_level = snapmgr_config_get_log_level(d.config);
	if (!verbose)
		d.log_level = snapmgr_config_get_log_level(d.config);

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGCHLD);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	(void)sigset_child;

	r = sd_event_default(&d.ev);
	if (r < 0)
		goto out;
	sd_event_add_signal(d.ev, NULL, SIGTERM, on_signal, &d);
	sd_event_add_signal(d.ev, NULL, SIGINT, on_signal, &d);
	sd_event_add_signal(d.ev, NULL, SIGHUP, on_signal, &d);
	sd_event_set_watchdog(d.ev, true);

	r = snapmgr_events_open(d.ctx, &d.dm_fd);
	if (r < 0) {
		log_d(&d, LOG_ERR, "%s", snapmgr_get_error(d.ctx) ?: strerror(-r));
		goto out;
	}
	r = sd_event_add_io(d.ev, &d.dm_src, d.dm_fd, EPOLLIN, dm_event_cb, &d);
	if (r < 0)
		goto out;
	sd_event_source_set_description(d.dm_src, "dm-events");

	r = open_socket(&d, &lfd);
	if (r < 0)
		goto out;
	{
		struct group *g = getgrnam("snapmgr");

		r = server_new(d.ev, lfd, g ? g->gr_gid : (gid_t)-1,
			       handle_request, &d, &d.server);
		if (r < 0)
			goto out;
	}

	apply_metrics(&d);
	r = rescan(&d);
	if (r < 0)
		goto out;
	log_d(&d, LOG_INFO, "started: watching %zu snapshots, socket %s",
	      d.n_snaps, d.socket_path ? d.socket_path : "(inherited)");
	sd_notify(0, "READY=1");
	notify_status(&d);
	r = sd_event_loop(d.ev);
out:
	sd_notify(0, "STOPPING=1");
	d.server = server_free(d.server);
	d.metrics = metrics_stop(d.metrics);
	free(d.metrics_addr);
	for (size_t i = 0; i < d.n_snaps; i++)
		snap_free(d.snaps[i]);
	free(d.snaps);
	sd_event_source_disable_unref(d.dm_src);
	sd_event_source_disable_unref(d.rescan_timer);
	if (d.dm_fd >= 0)
		close(d.dm_fd);
	if (lfd >= 0)
		close(lfd);
	if (d.socket_path) {
		unlink(d.socket_path);
		free(d.socket_path);
	}
	sd_event_unref(d.ev);
	snapmgr_config_unref(d.config);
	snapmgr_unref(d.ctx);
	return r < 0 ? 1 : 0;
}
