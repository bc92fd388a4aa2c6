/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging: to the journal with structured fields (SNAPMGR_SNAPSHOT,
 * SNAPMGR_FILL, SNAPMGR_ACTION) so `journalctl SNAPMGR_SNAPSHOT=x` finds a
 * snapshot's story, or to stderr as one line when not under systemd.
 */
#include <stdio.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "daemon.h"

void vlog_snap(struct daemon *d, int prio, const struct snap *s,
	       const char *action, const char *fmt, va_list ap)
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

void log_snap(struct daemon *d, int prio, const struct snap *s,
	      const char *action, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog_snap(d, prio, s, action, fmt, ap);
	va_end(ap);
}

void lib_log(void *data, int priority, const char *file _unused_,
	     int line _unused_, const char *fn _unused_, const char *format,
	     va_list args)
{
	vlog_snap(data, priority, NULL, NULL, format, args);
}

double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t now_real_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * USEC_PER_SEC + (uint64_t)ts.tv_nsec / 1000;
}
