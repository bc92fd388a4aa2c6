/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapmgrd: watches every dm snapshot on the host and keeps it from filling
 * up. One sd-event loop:
 *  - /dev/mapper/control, armed with DM_DEV_ARM_POLL: a device raised an
 *    event (a snapshot was invalidated) -> read the snapshots whose event
 *    number moved; a device was created, removed or reloaded -> rescan the
 *    snapshots and read their status (watchlist.c);
 *  - one timer per snapshot, whose interval follows the fill rate
 *    (predict.c) so a threshold crossing is seen within --min-interval;
 *  - actions from the policy (snapmgrd.conf(5)): extend COW files, extend
 *    lvm2 snapshots with lvextend, run alert_command; finalise merges of
 *    ours that completed;
 *  - the status socket (server.c, docs/socket.md);
 *  - SIGHUP reloads the configuration, keeping the old one when the new one
 *    is bad; SIGTERM/SIGINT stop.
 * daemon.h lists the files each part lives in; this one has the options,
 * the configuration and main().
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "config.h"
#include "daemon.h"
#include "metrics.h"
#include "server.h"

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
		snap_clear(d->snaps[i], SNAP_CANNOT_EXTEND);
		extend_succeeded(d->snaps[i]); /* a new policy: try again now */
	}
	if (!initial) {
		apply_metrics(d);
		schedules_apply(d);
		log_d(d, LOG_NOTICE, "configuration reloaded from %s",
		      d->config_dir ? d->config_dir : SNAPMGR_CONF_DIR);
		for (size_t i = 0; i < d->n_snaps; i++)
			sample(d->snaps[i]);
	}
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
	schedules_apply(&d);
	r = era_watch_start(&d);
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
	schedules_free(&d);
	era_watch_free(&d);
	watchlist_free(&d);
	sd_event_source_disable_unref(d.dm_src);
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
