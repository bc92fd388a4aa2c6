/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapctl merge: roll an origin back to one of its snapshots, with progress. */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "snapctl.h"

static void help(void)
{
	printf("Usage:\n"
	       " snapctl merge [options] SNAP|SET\n"
	       "\n"
	       "Merge the snapshot back into its origin: the origin reads the snapshot's\n"
	       "data at once, and the kernel copies it back in the background. When the\n"
	       "origin or the snapshot is open (mounted), the merge is recorded and starts\n"
	       "at the next 'snapctl activate' once both are closed. When it ends, the\n"
	       "origin goes back to normal and the snapshot and its COW are released (by\n"
	       "--wait, by 'snapctl activate', or by snapmgrd). A snapshot set's name merges\n"
	       "every member at once, and is refused unless every member can merge now:\n"
	       "a set's merge is never deferred.\n"
	       "\n"
	       "Options:\n"
	       " -w, --wait     wait for the merge to end, showing progress, and finalise it\n"
	       " -J, --json     progress as JSON lines\n"
	       " -h, --help     display this help\n"
	       "\n"
	       "For more details see snapctl(8).\n");
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *snap, const struct snapmgr_merge_progress *p,
		   double rate, double eta, bool json, bool tty, bool final)
{
	if (json) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "snapshot", json_object_new_string(snap));
		json_object_object_add(o, "state", json_object_new_string(
			p->failed ? "merge_failed" : p->done ? "merged" : "merging"));
		json_object_object_add(o, "percent", json_object_new_double(p->percent));
		json_object_object_add(o, "remaining_bytes", json_object_new_uint64(p->remaining_bytes));
		json_object_object_add(o, "total_bytes", json_object_new_uint64(p->total_bytes));
		json_object_object_add(o, "rate_bytes_per_second", json_object_new_double(rate));
		json_object_object_add(o, "eta_seconds", eta >= 0 ? json_object_new_double(eta) : NULL);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else if (tty) {
		int filled = (int)(p->percent / 100.0 * 30);

		printf("\r%s: [%.*s%*s] %5.1f%%  %.1f MiB/s  ", snap, filled,
		       "==============================", 30 - filled, "", p->percent,
		       rate / 1048576.0);
		if (eta >= 0)
			printf("%.0fs left ", eta);
		if (final)
			putchar('\n');
	} else {
		printf("%s: merged %.1f%% (%" PRIu64 " bytes left, %.1f MiB/s)\n", snap,
		       p->percent, p->remaining_bytes, rate / 1048576.0);
	}
	fflush(stdout);
}

static int wait_merge(struct snapmgr_ctx *ctx, const char *snap, bool json)
{
	bool tty = isatty(STDOUT_FILENO) && !json;
	double t0 = now(), last_print = 0;
	uint64_t first_remaining = 0;
	double last_percent = -1;
	bool have_first = false;

	for (;;) {
		struct snapmgr_merge_progress p = SNAPMGR_RESULT(struct snapmgr_merge_progress);
		double rate = 0, eta = -1, t;
		int r = snapmgr_merge_progress(ctx, snap, &p);

		if (r < 0)
			return fail_lib(ctx, snap, r);
		if (p.pending)
			return fail(snap, -EBUSY, "the merge is deferred until the origin and the snapshot are closed");
		t = now();
		if (!have_first) {
			first_remaining = p.remaining_bytes;
			have_first = true;
		}
		if (t > t0 && first_remaining > p.remaining_bytes)
			rate = (double)(first_remaining - p.remaining_bytes) / (t - t0);
		if (rate > 0)
			eta = (double)p.remaining_bytes / rate;
		if (p.failed) {
			report(snap, &p, rate, -1, json, tty, true);
			/* Puts the origin back on its device, so it stays usable. */
			(void)snapmgr_merge_finalise(ctx, snap);
			return fail(snap, -EIO, "the merge failed (I/O error on the COW or the origin) at %.1f%%; state merge_failed, the origin reads its device as it is, partly rolled back",
				    p.percent);
		}
		/* Not a terminal: a line per percent or every 15 s, like lvm2. */
		if (p.done || json || tty || p.percent >= last_percent + 1 || t - last_print >= 15) {
			report(snap, &p, rate, eta, json, tty, p.done);
			last_print = t;
			last_percent = p.percent;
		}
		if (p.done)
			break;
		usleep(json || tty ? 500000 : 250000);
	}
	{
		int r = snapmgr_merge_finalise(ctx, snap);

		if (r < 0)
			return fail_lib(ctx, snap, r);
	}
	if (!json)
		printf("%s: merged; the origin is back to normal.\n", snap);
	return EXIT_OK;
}

/* A set: every member merges now, or none does (snapmgr_set_merge_start). */
static int merge_set(struct snapmgr_ctx *ctx, const char *set, bool wait, bool json)
{
	char **members = NULL;
	int r, rc = EXIT_OK;

	r = snapmgr_set_members(ctx, set, &members);
	if (r < 0)
		return fail_lib(ctx, set, r);
	r = snapmgr_set_merge_start(ctx, set);
	if (r < 0) {
		strv_free(members);
		return fail_lib(ctx, set, r);
	}
	if (!wait && !json)
		printf("%s: merging every member in the background; 'snapctl merge --wait MEMBER' shows a member's progress.\n",
		       set);
	for (char **m = members; wait && *m; m++)
		if (wait_merge(ctx, *m, json) != EXIT_OK)
			rc = EXIT_FAILURE_RUNTIME;
	strv_free(members);
	return rc;
}

static int run(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	static const struct option options[] = {
		{ "wait", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	bool wait = false, json = false, deferred = false;
	const char *snap;
	int c, r;

	while ((c = getopt_long(argc, argv, "wJh", options, NULL)) != -1) {
		switch (c) {
		case 'w': wait = true; break;
		case 'J': json = true; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error("merge", "bad option");
		}
	}
	if (optind + 1 != argc)
		return usage_error("merge", "expected exactly one snapshot or set name");
	snap = argv[optind];
	r = snapmgr_set_exists(ctx, snap);
	if (r < 0)
		return fail_lib(ctx, snap, r);
	if (r > 0)
		return merge_set(ctx, snap, wait, json);
	r = snapmgr_merge_start(ctx, snap, &deferred);
	if (r < 0)
		return fail_lib(ctx, snap, r);
	if (deferred) {
		if (json)
			printf("{\"snapshot\":\"%s\",\"state\":\"merge_pending\"}\n", snap);
		else
			printf("%s: the origin or the snapshot is open; the merge is recorded and starts at the next 'snapctl activate' once both are closed.\n",
			       snap);
		return EXIT_OK;
	}
	if (!wait) {
		if (!json)
			printf("%s: merging in the background; 'snapctl merge --wait %s' shows progress.\n",
			       snap, snap);
		return EXIT_OK;
	}
	return wait_merge(ctx, snap, json);
}

const struct cmd cmd_merge = {
	.name = "merge",
	.run = run,
	.help = "merge a snapshot back into its origin (roll back)",
};
