/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapctl check: a Nagios/Icinga plugin. One status line, perfdata after
 * '|', and the plugin exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 * Reads device-mapper directly; when snapmgrd runs, adds its time to full.
 */
#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapctl.h"

enum { CHECK_OK, CHECK_WARNING, CHECK_CRITICAL, CHECK_UNKNOWN };
static const char *const check_names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };

static void help(void)
{
	printf("Usage:\n"
	       " snapctl check [options] [SNAP...]\n"
	       "\n"
	       "Check snapshots' fill level as a Nagios/Icinga plugin (all snapshots when\n"
	       "none is named). Invalid, overflowed or failed-merge snapshots are critical.\n"
	       "\n"
	       "Options:\n"
	       " -w, --warning PCT    warn at this fill percentage (default 80)\n"
	       " -c, --critical PCT   critical at this fill percentage (default 90)\n"
	       " -h, --help           display this help\n"
	       "\n"
	       "Exit status: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad arguments, a named\n"
	       "snapshot missing, device-mapper unreadable).\n"
	       "For more details see snapctl(8).\n");
}

_printf_(1, 2) static int unknown(const char *fmt, ...)
{
	va_list ap;

	printf("SNAPSHOT UNKNOWN - ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return CHECK_UNKNOWN;
}

static bool parse_pct(const char *s, double *ret)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0 && v <= 100))
		return false;
	*ret = v;
	return true;
}

/* A perfdata label: quoted, with ' doubled. */
static void perf_label(FILE *f, const char *name, const char *suffix)
{
	fputc('\'', f);
	for (const char *p = name; *p; p++) {
		if (*p == '\'')
			fputc('\'', f);
		fputc(*p, f);
	}
	fprintf(f, "%s'", suffix);
}

static int run(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	static const struct option options[] = {
		{ "warning", required_argument, NULL, 'w' },
		{ "critical", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct snapmgr_snapshot **list = NULL;
	double warn = 80, crit = 90, worst_fill = -1;
	const char *worst_name = NULL;
	json_object *reply = NULL, *darr = NULL;
	char *perf = NULL, *bad = NULL;
	size_t perf_len = 0, bad_len = 0;
	FILE *pf, *bf;
	int c, r, status = CHECK_OK, n = 0, n_bad = 0;

	while ((c = getopt_long(argc, argv, "w:c:h", options, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (!parse_pct(optarg, &warn))
				return unknown("--warning: '%s' is not a percentage", optarg);
			break;
		case 'c':
			if (!parse_pct(optarg, &crit))
				return unknown("--critical: '%s' is not a percentage", optarg);
			break;
		case 'h': help(); return CHECK_OK;
		default: return unknown("bad option (try 'snapctl check --help')");
		}
	}
	if (warn > crit)
		return unknown("--warning must not be above --critical");
	r = snapmgr_snapshot_list(ctx, &list);
	if (r < 0)
		return unknown("cannot read device-mapper: %s",
			       lib_reason(ctx, r));
	for (int i = optind; i < argc; i++) {
		bool found = false;

		for (struct snapmgr_snapshot **p = list; *p; p++)
			found = found || streq(snapmgr_snapshot_get_name(*p), argv[i]);
		if (!found) {
			snapmgr_snapshot_list_free(list);
			return unknown("%s: no such snapshot", argv[i]);
		}
	}
	if (daemon_request("{\"method\":\"status\"}", 2000, &reply) == 0 &&
	    json_object_object_get_ex(reply, "snapshots", &darr) == 0)
		darr = NULL;
	pf = open_memstream(&perf, &perf_len);
	bf = open_memstream(&bad, &bad_len);
	if (!pf || !bf) {
		snapmgr_snapshot_list_free(list);
		return unknown("out of memory");
	}
	for (struct snapmgr_snapshot **p = list; *p; p++) {
		const char *name = snapmgr_snapshot_get_name(*p);
		enum snapmgr_state st = snapmgr_snapshot_get_state(*p);
		double fill = snapmgr_snapshot_get_fill_percent(*p);
		json_object *e, *ttf;
		int s = CHECK_OK;
		bool named = optind == argc;

		for (int i = optind; i < argc; i++)
			named = named || streq(argv[i], name);
		if (!named)
			continue;
		n++;
		if (st == SNAPMGR_STATE_INVALID || st == SNAPMGR_STATE_OVERFLOW ||
		    st == SNAPMGR_STATE_MERGE_FAILED)
			s = CHECK_CRITICAL;
		else if (fill >= crit)
			s = CHECK_CRITICAL;
		else if (fill >= warn)
			s = CHECK_WARNING;
		if (s != CHECK_OK)
			fprintf(bf, "%s%s %s %.1f%%", n_bad++ ? ", " : "",
				name, snapmgr_state_to_string(st), fill);
		if (s > status)
			status = s;
		if (fill > worst_fill) {
			worst_fill = fill;
			worst_name = name;
		}
		fputc(' ', pf);
		perf_label(pf, name, "_fill");
		fprintf(pf, "=%.2f%%;%g;%g;0;100", fill, warn, crit);
		e = daemon_snapshot_entry(darr, name);
		if (e && json_object_object_get_ex(e, "time_to_full_seconds", &ttf) &&
		    ttf) {
			fputc(' ', pf);
			perf_label(pf, name, "_time_to_full");
			fprintf(pf, "=%.0fs", json_object_get_double(ttf));
		}
	}
	fclose(pf);
	fclose(bf);
	if (n == 0)
		printf("SNAPSHOT OK - no snapshots\n");
	else if (status == CHECK_OK)
		printf("SNAPSHOT OK - %d snapshot%s, fullest %s at %.1f%% |%s\n", n,
		       n == 1 ? "" : "s", worst_name, worst_fill, perf);
	else
		printf("SNAPSHOT %s - %s |%s\n", check_names[status], bad, perf);
	free(perf);
	free(bad);
	json_object_put(reply);
	snapmgr_snapshot_list_free(list);
	return status;
}

const struct cmd cmd_check = {
	.name = "check",
	.run = run,
	.help = "Nagios/Icinga plugin: fill levels and states",
};
