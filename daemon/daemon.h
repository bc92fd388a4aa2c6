/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapmgrd's shared state: the daemon, and one struct snap per watched
 * snapshot. Each concern lives in its own file:
 *   log.c          journal or stderr, with SNAPMGR_* fields
 *   snap-json.c    a snapshot's status object; actions broadcast to
 *                  subscribers
 *   spawn.c        child processes (alert_command, lvextend) with a
 *                  time limit
 *   alert.c        alert_command
 *   extend.c       growing a COW file or an lvm2 snapshot
 *   merge-finish.c finalising a merge of ours that completed
 *   sample.c       reading a snapshot's usage, deciding, timing the next look
 *   watchlist.c    which snapshots exist: dm events and rescans
 *   requests.c     answers on the status socket
 *   listen.c       making (or inheriting) the status socket
 *   prometheus.c   the metrics page
 *   schedule.c     [schedule:NAME]: timed snapshots and their pruning
 *   snapmgrd.c     options, configuration, signals, main loop
 */
#pragma once

#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <syslog.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "predict.h"
#include "snapmgr.h"

#define USEC_PER_SEC 1000000ULL

struct daemon;

struct action {
	char what[24];      /* "extend", "alert", "merge", ... */
	char detail[200];
	uint64_t realtime;  /* usec since the epoch */
	bool ok;
};

/*
 * A condition that is told once (a log line, an alert) and not again until
 * it clears: the COW went past warn_threshold, the kernel invalidated the
 * snapshot, it cannot be extended, its merge failed.
 */
enum snap_condition {
	SNAP_OVER_WARN_THRESHOLD,
	SNAP_INVALID,
	SNAP_CANNOT_EXTEND,
	SNAP_MERGE_FAILED,
};

/*
 * One watched snapshot. Who writes what: watchlist.c makes and frees it and
 * keeps info/policy/seen; sample.c owns the sampling (usage, pred, last_t,
 * timer and interval, through schedule()); extend.c the extension state
 * (extend_*, child, retry_after, backoff, extends); the conditions are set
 * and cleared only through snap_raise() and snap_clear().
 */
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
	unsigned raised; /* the enum snap_condition bits: snap_raise() */
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
	sd_event_source *dm_src, *rescan_timer, *safety_timer;
	bool rescan_forced; /* rescan_soon() called: no event filtering */
	/* every dm device's event number at the last look (watchlist.c) */
	struct snapmgr_dm_event **dm_seen; /* NULL-terminated */
	size_t n_dm_seen;
	bool have_dm_seen;
	struct snap **snaps;
	size_t n_snaps;
	bool journal;
	int log_level;
	double burst_rate, min_interval;
	bool ready;
	uint64_t started_usec;
	/* counters, for metrics and status */
	uint64_t scans, samples, extends_total, extend_failures, alerts_total,
		invalidations, merges_finalised;
	/* dm wake-ups handled, and snapshots read for their own event alone */
	uint64_t dm_events, event_reads;
	/* schedule.c's, one per [schedule:NAME] */
	struct sched **schedules;
	size_t n_schedules;
	/* era-watch.c: tracked origins at the last look, and those warned of */
	sd_event_source *era_timer;
	json_object *tracking, *era_raised;
};

/* True the first time a condition is raised, false until it is cleared. */
static inline bool snap_raise(struct snap *s, enum snap_condition c)
{
	bool first = !(s->raised & (1U << c));

	s->raised |= 1U << c;
	return first;
}

static inline void snap_clear(struct snap *s, enum snap_condition c)
{
	s->raised &= ~(1U << c);
}

static inline bool snap_is_raised(const struct snap *s, enum snap_condition c)
{
	return s->raised & (1U << c);
}

/* log.c */
_printf_(5, 0) void vlog_snap(struct daemon *d, int prio, const struct snap *s,
			      const char *action, const char *fmt, va_list ap);
_printf_(5, 6) void log_snap(struct daemon *d, int prio, const struct snap *s,
			     const char *action, const char *fmt, ...);
#define log_d(d, prio, ...) log_snap(d, prio, NULL, NULL, __VA_ARGS__)
/* For snapmgr_set_log_fn(); data is the daemon. */
_printf_(6, 0) void lib_log(void *data, int priority, const char *file,
			    int line, const char *fn, const char *format,
			    va_list args);
double now_mono(void);
uint64_t now_real_usec(void);

/* snap-json.c */
double fill_percent(const struct snap *s);
double time_to_full(const struct snap *s);
/* A number with three decimals; NULL (JSON null) when not finite. */
json_object *json_seconds(double v);
/* The snapshot's status object with the daemon's fields; NULL if unknown. */
json_object *snap_json(const struct snap *s);
/* Records the snapshot's last action and tells the subscribers. */
_printf_(4, 5) void record_action(struct snap *s, const char *what, bool ok,
				  const char *fmt, ...);

/* spawn.c */
/*
 * fork + exec argv, stdin from a pipe holding input (may be NULL), with
 * SNAPMGR_SNAPSHOT and SNAPMGR_EVENT set. The child is killed (SIGTERM,
 * then SIGKILL 5 s later) when it runs longer than timeout seconds (0: no
 * limit); done then runs as for any exit, and owns *ret_src: it drops it
 * with sd_event_source_disable_unref().
 */
int spawn(struct daemon *d, char *const argv[], const char *input,
	  const char *snapshot, const char *event, unsigned timeout,
	  sd_event_child_handler_t done, void *userdata,
	  sd_event_source **ret_src, pid_t *ret_pid);
/* How a child ended, for a log line: "exit status 3", "signal 9". */
const char *child_status(const siginfo_t *si, char *buf, size_t size);
static inline bool child_ok(const siginfo_t *si)
{
	return si->si_code == CLD_EXITED && si->si_status == 0;
}

/* alert.c: runs alert_command (if any) with the snapshot's JSON. */
void run_alert(struct snap *s, const char *event, const char *why);
/* An alert command's exit: logged when it failed (userdata: the daemon). */
int alert_done(sd_event_source *src, const siginfo_t *si, void *userdata);

/* extend.c */
void extend(struct snap *s, double reaction);
void extend_succeeded(struct snap *s);

/* merge-finish.c: a merge of ours whose COW holds only metadata. */
bool merge_finished(const struct snap *s);
void merge_finish(struct snap *s);

/* sample.c */
void sample(struct snap *s);
void schedule(struct snap *s, double seconds);

/* watchlist.c */
int rescan(struct daemon *d);
/* A rescan 10 ms from now (one for a burst of calls). */
void rescan_soon(struct daemon *d);
/* Drops every watched snapshot, the timers and the event numbers. */
void watchlist_free(struct daemon *d);
void snap_free(struct snap *s);
void apply_policy(struct daemon *d, struct snap *s);
void notify_status(struct daemon *d);
int dm_event_cb(sd_event_source *src, int fd, uint32_t revents, void *userdata);

/* requests.c: the server's request handler; userdata is the daemon. */
struct request;
json_object *handle_request(void *userdata, const struct request *req);

/* listen.c: the status socket, inherited or made (then d->socket_path). */
int open_socket(struct daemon *d, int *ret_fd);

/* schedule.c: timers per the configuration's schedules (start, reload). */
void schedules_apply(struct daemon *d);
void schedules_free(struct daemon *d);

/* era-watch.c: tracked origins' era metadata, looked at periodically. */
int era_watch_start(struct daemon *d);
void era_watch_free(struct daemon *d);
/* The status reply's "schedules" array. */
json_object *schedules_json(const struct daemon *d);
void schedules_metrics(const struct daemon *d, FILE *f,
		       void (*label)(FILE *f, const char *value));

/* prometheus.c: starts, stops or moves the listener per listen_metrics. */
void apply_metrics(struct daemon *d);
