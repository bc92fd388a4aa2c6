/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapctl status: one snapshot's state, usage and counters; JSON for machines. */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "snapctl.h"

static void help(void)
{
	printf("Usage:\n"
	       " snapctl status [options] [SNAP...]\n"
	       "\n"
	       "Show the state, usage and counters of snapshots (all of them when none is\n"
	       "named), as read from the kernel now. When snapmgrd runs, adds its\n"
	       "prediction (time_to_full_seconds) and last action ($SNAPMGR_SOCKET),\n"
	       "and, when no SNAP is named, each schedule's last run, next run and result.\n"
	       "\n"
	       "Options:\n"
	       " -J, --json     print a JSON document (docs/status.schema.json)\n"
	       " -h, --help     display this help\n"
	       "\n"
	       "Exit status: 0, or 1 when a named snapshot does not exist.\n"
	       "For more details see snapctl(8).\n");
}

/* Module-wide settings of the loaded dm-snapshot: 1 on, 0 off, -1 none. */
struct module_settings {
	int batching;		/* snapshot_bypass_batching */
	int shared_copy;	/* snapshot_shared_copy */
};

static struct module_settings module_settings(struct snapmgr_ctx *ctx)
{
	bool batching, shared;

	return (struct module_settings) {
		.batching = snapmgr_get_bypass_batching(ctx, &batching) < 0 ? -1 : batching,
		.shared_copy = snapmgr_get_shared_copy(ctx, &shared) < 0 ? -1 : shared,
	};
}

static const char *setting_text(int on)
{
	return on < 0 ? "- (the loaded dm-snapshot module has none)" : on ? "on" : "off";
}

static json_object *setting_json(int on)
{
	return on < 0 ? NULL : json_object_new_boolean(on);
}

static void print_human(const struct snapmgr_snapshot *s, struct module_settings m)
{
	uint64_t size, used, meta;
	const char *v;

	printf("%s\n", snapmgr_snapshot_get_name(s));
	printf("  owner:          %s\n", snapmgr_owner_to_string(snapmgr_snapshot_get_owner(s)));
	printf("  state:          %s\n", snapmgr_state_to_string(snapmgr_snapshot_get_state(s)));
	printf("  origin:         %s\n", (v = snapmgr_snapshot_get_origin(s)) ? v : "-");
	printf("  origin device:  %s\n", (v = snapmgr_snapshot_get_origin_device(s)) ? v : "-");
	if ((v = snapmgr_snapshot_get_set(s)))
		printf("  set:            %s\n", v);
	printf("  cow device:     %s\n", (v = snapmgr_snapshot_get_cow_device(s)) ? v : "-");
	if ((v = snapmgr_snapshot_get_cow_file(s)))
		printf("  cow file:       %s\n", v);
	printf("  chunk size:     %" PRIu64 "\n", snapmgr_snapshot_get_chunk_size(s));
	if ((v = snapmgr_snapshot_get_change_token(s)))
		printf("  change token:   %s\n", v);
	if (snapmgr_snapshot_get_usage(s, &size, &used, &meta))
		printf("  used:           %" PRIu64 " of %" PRIu64 " bytes (%.2f%%), metadata %" PRIu64 "\n",
		       used, size, snapmgr_snapshot_get_fill_percent(s), meta);
	if (snapmgr_snapshot_has_counters(s)) {
		static const char *const keys[] = { "bypass", "bypassed_writes",
						    "copied_chunks",
						    "origin_sectors_read" };

		printf("  counters:      ");
		for (size_t i = 0; i < ELEMENTSOF(keys); i++)
			printf(" %s=%s", keys[i],
			       (v = snapmgr_snapshot_get_counter(s, keys[i])) ? v : "?");
		putchar('\n');
	}
	else
		printf("  counters:       - (the loaded dm-snapshot module has none)\n");
	printf("  batching:       %s\n", setting_text(m.batching));
	printf("  shared copy:    %s\n", setting_text(m.shared_copy));
}

/*
 * What snapmgrd adds when it runs: its status reply's snapshots and
 * schedules (*ret_schedules, may stay NULL), or NULL. The kernel's view is
 * still read here; the daemon only adds its prediction, last action and
 * the schedules it runs.
 */
static json_object *daemon_snapshots(json_object **ret_schedules)
{
	json_object *reply = NULL, *arr, *ret = NULL;

	if (daemon_request("{\"method\":\"status\"}", 2000, &reply) < 0)
		return NULL;
	if (json_object_object_get_ex(reply, "snapshots", &arr) &&
	    json_object_is_type(arr, json_type_array))
		ret = json_object_get(arr);
	if (json_object_object_get_ex(reply, "schedules", &arr) &&
	    json_object_is_type(arr, json_type_array))
		*ret_schedules = json_object_get(arr);
	json_object_put(reply);
	return ret;
}

/* A daemon time (seconds since the epoch, or null) as ISO 8601 UTC. */
static const char *when(json_object *o, const char *key, char *buf, size_t size)
{
	json_object *v;
	time_t t;
	struct tm tm;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return "-";
	t = (time_t)json_object_get_double(v);
	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return "-";
	return buf;
}

static const char *str_or(json_object *o, const char *key, const char *dflt)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : dflt;
}

static void schedules_print(json_object *schedules)
{
	for (size_t i = 0; schedules && i < json_object_array_length(schedules); i++) {
		json_object *o = json_object_array_get_idx(schedules, i);
		char last[32], next[32];
		json_object *running = NULL;

		json_object_object_get_ex(o, "running", &running);
		printf("schedule %s\n", str_or(o, "name", "?"));
		printf("  last run:       %s%s\n", when(o, "last_run", last, sizeof(last)),
		       json_object_get_boolean(running) ? " (running)" : "");
		printf("  next run:       %s\n", when(o, "next_run", next, sizeof(next)));
		printf("  result:         %s%s%s\n", str_or(o, "last_result", "- (no run ended yet)"),
		       str_or(o, "last_detail", NULL) ? ": " : "", str_or(o, "last_detail", ""));
		printf("  runs, failures: %s, %s\n", str_or(o, "runs", "0"), str_or(o, "failures", "0"));
	}
}

static const char *const daemon_keys[] = { "time_to_full_seconds",
					   "last_action" };

static void daemon_merge(json_object *o, json_object *extra)
{
	json_object *v;

	for (size_t i = 0; extra && i < ELEMENTSOF(daemon_keys); i++)
		if (json_object_object_get_ex(extra, daemon_keys[i], &v))
			json_object_object_add(o, daemon_keys[i], json_object_get(v));
}

static void daemon_print(json_object *extra)
{
	json_object *v, *a;

	if (!extra)
		return;
	if (json_object_object_get_ex(extra, "time_to_full_seconds", &v))
		printf("  time to full:   %s\n",
		       v ? json_object_get_string(v) : "- (not filling)");
	if (json_object_object_get_ex(extra, "last_action", &a) && a &&
	    json_object_object_get_ex(a, "action", &v)) {
		json_object *detail = NULL;

		json_object_object_get_ex(a, "detail", &detail);
		printf("  last action:    %s%s%s\n", json_object_get_string(v),
		       detail ? ": " : "", detail ? json_object_get_string(detail) : "");
	}
}

static void tracking_print(json_object *arr)
{
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *t = json_object_array_get_idx(arr, i), *v;

		json_object_object_get_ex(t, "origin", &v);
		printf("origin %s: tracked", json_object_get_string(v));
		json_object_object_get_ex(t, "state", &v);
		if (!streq(json_object_get_string(v), "active"))
			printf(" (%s)", json_object_get_string(v));
		json_object_object_get_ex(t, "block_size", &v);
		printf(", block size %s", json_object_get_string(v));
		if (json_object_object_get_ex(t, "era", &v) && v)
			printf(", era %s", json_object_get_string(v));
		if (json_object_object_get_ex(t, "metadata_fill_percent", &v) && v)
			printf(", metadata %.2f%% used", json_object_get_double(v));
		printf("\n");
	}
}

/* Shows the named snapshots (all when names is empty). */
static int show(struct snapmgr_ctx *ctx, const char *const *names, int n_names,
		bool json)
{
	struct snapmgr_snapshot **list = NULL;
	json_object *doc = NULL, *arr = NULL, *extra, *schedules = NULL, *tracking = NULL;
	struct module_settings settings;
	int rc = EXIT_OK, r;

	r = snapmgr_snapshot_list(ctx, &list);
	if (r < 0)
		return fail_lib(ctx, "status", r);
	extra = daemon_snapshots(&schedules);
	settings = module_settings(ctx);
	if (json) {
		doc = json_object_new_object();
		arr = json_object_new_array();
		json_object_object_add(doc, "snapshots", arr);
	}
	for (int i = 0; i < (n_names ? n_names : 1); i++) {
		bool found = false;

		for (struct snapmgr_snapshot **p = list; *p; p++) {
			json_object *o;

			if (n_names && !streq(snapmgr_snapshot_get_name(*p), names[i]))
				continue;
			found = true;
			if (!json) {
				print_human(*p, settings);
				daemon_print(daemon_snapshot_entry(extra, snapmgr_snapshot_get_name(*p)));
				continue;
			}
			if (snapmgr_snapshot_to_json(*p, &o) == 0) {
				daemon_merge(o, daemon_snapshot_entry(extra, snapmgr_snapshot_get_name(*p)));
				json_object_object_add(o, "bypass_batching", setting_json(settings.batching));
				json_object_object_add(o, "shared_copy", setting_json(settings.shared_copy));
				json_object_array_add(arr, o);
			}
		}
		if (n_names && !found)
			rc = fail(names[i], -ENOENT, "no such snapshot");
	}
	/* Schedules are the daemon's, not a snapshot's: only in the full view. */
	/* Tracked origins too: what a backup tool watches besides snapshots. */
	if (!n_names && snapmgr_tracking_to_json(ctx, NULL, &tracking) < 0)
		tracking = NULL;
	if (json) {
		json_object_object_add(doc, "schedules",
				       n_names ? NULL : json_object_get(schedules));
		json_object_object_add(doc, "tracking", json_object_get(tracking));
	} else if (!n_names) {
		schedules_print(schedules);
		tracking_print(tracking);
	}
	json_object_put(tracking);
	if (json)
		puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
	json_object_put(schedules);
	json_object_put(extra);
	snapmgr_snapshot_list_free(list);
	return rc;
}

int print_status_json(struct snapmgr_ctx *ctx, const char *name)
{
	return show(ctx, &name, 1, true);
}

static int run(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "Jh", options, NULL)) != -1) {
		switch (c) {
		case 'J': json = true; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error("status", "bad option");
		}
	}
	return show(ctx, (const char *const *)argv + optind, argc - optind, json);
}

const struct cmd cmd_status = {
	.name = "status",
	.run = run,
	.help = "show snapshots' state, usage and counters",
};
