/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapctl create: a snapshot of a raw block device or of an origin we manage. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snapctl.h"
#include "track-options.h"

static void help(void)
{
	printf("Usage:\n"
	       " snapctl create SNAP --origin DEV|NAME (--cow DEV | --cow-file PATH --cow-size SIZE) [options]\n"
	       " snapctl create --set SET --origin DEV|NAME (--cow ... | --cow-file ... --cow-size ...)\n"
	       "                          --origin ... [options]\n"
	       "\n"
	       "Take a persistent snapshot named SNAP. A raw block device DEV is wrapped on\n"
	       "first use: from then on write to /dev/mapper/NAME (NAME defaults to DEV's\n"
	       "base name); later snapshots of it are added live with --origin NAME.\n"
	       "\n"
	       "Options:\n"
	       " -O, --origin DEV|NAME     the device to snapshot, or an origin's name\n"
	       " -n, --origin-name NAME    the origin's name when wrapping DEV\n"
	       " -c, --cow DEV             the COW (exception store) block device\n"
	       " -f, --cow-file PATH       create PATH (sparse) and use it through a loop device\n"
	       " -s, --cow-size SIZE       size of --cow-file (K/M/G/T suffixes)\n"
	       " -C, --chunk-size SIZE     chunk size, a power of two from 4K to 512K\n"
	       "                           (default 4K), or auto: what 'snapctl advise'\n"
	       "                           recommends from the origin's device facts\n"
	       "     --force               use a COW device that has a signature on it\n"
	       "     --track               track the origin's writes with dm-era first ('snapctl\n"
	       "                           track'; nothing when tracked already), so that the\n"
	       "                           snapshot gets a change token; with --metadata DEV or\n"
	       "                           --metadata-file PATH [--metadata-size SIZE], and\n"
	       "                           --block-size SIZE, as 'snapctl track' takes them\n"
	       " -J, --json                print the new snapshot's status as JSON; with --set,\n"
	       "                           the set and its members (docs/create-set.schema.json)\n"
	       "\n"
	       "Snapshot sets (one snapshot of each origin, all at one instant):\n"
	       "     --set SET             take a set: every --origin starts a member, and the\n"
	       "                           --origin-name, --cow, --cow-file and --cow-size after\n"
	       "                           it are that member's; members are named SET-ORIGIN\n"
	       "                           (ORIGIN: the origin's snapmgr name, for a raw device\n"
	       "                           its --origin-name or base name, /dev/sdb: sdb)\n"
	       "     --pre-hook CMD        run CMD (sh -c) just before the origins are suspended;\n"
	       "                           if it fails, the set is undone and nothing is left\n"
	       "     --post-hook CMD       run CMD just after they are resumed; if it fails, the\n"
	       "                           set stays and snapctl exits 1\n"
	       "     --hook-timeout SECS   a hook still running after SECS (default 60) is\n"
	       "                           killed and counts as failed\n"
	       " -h, --help                display this help\n"
	       "\n"
	       "For more details see snapctl(8).\n");
}

/*
 * --chunk-size auto: snapctl advise on the origin without sampling (device
 * limits and filesystem only: create must not wait), one line saying why.
 */
static int auto_chunk_size(struct snapmgr_ctx *ctx, const char *origin,
			   bool quiet, uint64_t *ret)
{
	struct snapmgr_device_facts facts = SNAPMGR_RESULT(struct snapmgr_device_facts);
	struct snapmgr_advice *a = NULL;
	_cleanup_free_ char *path = NULL;
	int r;

	if (strchr(origin, '/'))
		path = strdup(origin);
	else if (asprintf(&path, "/dev/mapper/%s", origin) < 0)
		path = NULL;
	if (!path)
		return -ENOMEM;
	r = snapmgr_device_facts_probe(ctx, path, &facts);
	if (r < 0)
		return r;
	r = snapmgr_advise(ctx, &facts, NULL,
			   SNAPMGR_ADVISE_BACKUP | SNAPMGR_ADVISE_CLONE, &a);
	if (r < 0)
		return r;
	*ret = snapmgr_advice_get_chunk_size(a);
	if (!quiet)
		printf("Chunk size %" PRIu64 " KiB (auto): %s.\n", *ret >> 10,
		       snapmgr_advice_get_reason(a, 0));
	snapmgr_advice_unref(a);
	return 0;
}

#define MAX_MEMBERS 64

/* The members' per-origin options, in the order they came. */
struct set_args {
	struct snapmgr_set_member m[MAX_MEMBERS];
	bool have_size[MAX_MEMBERS];
	size_t n;
	/* What is wrong with them for a set (said only if --set is given). */
	const char *bad;
};

static int set_member_arg(struct set_args *a, int c, const char *arg)
{
	struct snapmgr_set_member *m;

	if (a->bad)
		return 0;
	if (c == 'O') {
		if (a->n == MAX_MEMBERS)
			a->bad = "a set has at most 64 origins";
		else
			a->m[a->n++] = (struct snapmgr_set_member){ .size = sizeof(struct snapmgr_set_member), .origin = arg };
		return 0;
	}
	if (a->n == 0) {
		a->bad = "with --set, give --origin first: the COW options after it are its own";
		return 0;
	}
	m = &a->m[a->n - 1];
	switch (c) {
	case 'n': m->origin_name = arg; break;
	case 'c': m->cow_device = arg; break;
	case 'f': m->cow_file = arg; break;
	case 's':
		if (parse_size_arg("create", "--cow-size", arg, &m->cow_size))
			return EXIT_USAGE;
		a->have_size[a->n - 1] = true;
		break;
	}
	return 0;
}

/*
 * The created set (docs/create-set.schema.json): its name, the interval
 * its one instant lies in (this command's clock around the create: the
 * origins were all suspended at one moment between the two), and each
 * member's status as snapctl status --json gives it.
 */
static int print_set_json(struct snapmgr_ctx *ctx, const char *name, int64_t t0,
			  int64_t t1, bool post_hook_failed)
{
	_cleanup_strv_ char **members = NULL;
	struct snapmgr_snapshot **list = NULL;
	json_object *doc, *arr;
	int r;

	r = snapmgr_set_members(ctx, name, &members);
	if (r < 0)
		return r;
	r = snapmgr_snapshot_list(ctx, &list);
	if (r < 0)
		return r;
	doc = json_object_new_object();
	arr = json_object_new_array();
	json_object_object_add(doc, "set", json_object_new_string(name));
	json_object_object_add(doc, "instant_not_before", json_object_new_int64(t0));
	json_object_object_add(doc, "instant_not_after", json_object_new_int64(t1));
	json_object_object_add(doc, "post_hook_failed", json_object_new_boolean(post_hook_failed));
	json_object_object_add(doc, "members", arr);
	for (char **m = members; *m; m++)
		for (struct snapmgr_snapshot **p = list; *p; p++) {
			json_object *o;

			if (!streq(snapmgr_snapshot_get_name(*p), *m) ||
			    snapmgr_snapshot_to_json(*p, &o) < 0)
				continue;
			json_object_array_add(arr, o);
		}
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(stdout);
	json_object_put(doc);
	snapmgr_snapshot_list_free(list);
	return 0;
}

static int run_set(struct snapmgr_ctx *ctx, struct snapmgr_set_opts *o, struct set_args *a,
		   uint64_t chunk_size, bool auto_chunk, bool json)
{
	char why[512];
	int64_t t0, t1;
	int r;

	if (a->bad)
		return usage_error("create", "%s", a->bad);
	if (a->n == 0)
		return usage_error("create", "--set needs at least one --origin");
	for (size_t i = 0; i < a->n; i++) {
		struct snapmgr_set_member *m = &a->m[i];

		if (!!m->cow_device + !!m->cow_file != 1)
			return usage_error("create", "origin %s: give either --cow DEV or --cow-file PATH after it", m->origin);
		if (m->cow_file && !a->have_size[i])
			return usage_error("create", "origin %s: --cow-file needs --cow-size", m->origin);
		if (m->cow_device && a->have_size[i])
			return usage_error("create", "origin %s: --cow-size goes with --cow-file, not --cow", m->origin);
		m->chunk_size = chunk_size;
		if (auto_chunk) {
			r = auto_chunk_size(ctx, m->origin, false, &m->chunk_size);
			if (r < 0)
				return fail(m->origin, r, "--chunk-size auto: %s", lib_reason(ctx, r));
		}
	}
	o->n_members = a->n;
	o->members = a->m;
	t0 = (int64_t)time(NULL);
	r = snapmgr_set_create(ctx, o);
	t1 = (int64_t)time(NULL);
	if (r < 0 && r != -ECHILD)
		return fail_lib(ctx, o->name, r);
	/* Kept: listing the members below clears the context's error. */
	snprintf(why, sizeof(why), "%s", lib_reason(ctx, r));
	if (json) {
		int k = print_set_json(ctx, o->name, t0, t1, r == -ECHILD);

		if (k < 0)
			return fail_lib(ctx, o->name, k);
		return r == -ECHILD ? fail(o->name, r, "%s", why) : EXIT_OK;
	}
	printf("Created snapshot set %s:", o->name);
	{
		char **members = NULL;

		if (snapmgr_set_members(ctx, o->name, &members) == 0) {
			for (char **p = members; *p; p++)
				printf(" %s", *p);
			strv_free(members);
		}
	}
	printf(".\n");
	fflush(stdout);
	/* The post-hook failed: the set is there, yet the run did not succeed. */
	if (r == -ECHILD)
		return fail(o->name, r, "%s", why);
	return EXIT_OK;
}

static int run(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	enum { OPT_FORCE = 0x100, OPT_SET, OPT_PRE_HOOK, OPT_POST_HOOK, OPT_HOOK_TIMEOUT,
	       OPT_TRACK };
	static const struct option options[] = {
		{ "origin", required_argument, NULL, 'O' },
		{ "origin-name", required_argument, NULL, 'n' },
		{ "cow", required_argument, NULL, 'c' },
		{ "cow-file", required_argument, NULL, 'f' },
		{ "cow-size", required_argument, NULL, 's' },
		{ "chunk-size", required_argument, NULL, 'C' },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "set", required_argument, NULL, OPT_SET },
		{ "pre-hook", required_argument, NULL, OPT_PRE_HOOK },
		{ "post-hook", required_argument, NULL, OPT_POST_HOOK },
		{ "hook-timeout", required_argument, NULL, OPT_HOOK_TIMEOUT },
		{ "track", no_argument, NULL, OPT_TRACK },
		TRACK_OPTIONS,
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct snapmgr_track_opts to = SNAPMGR_OPTS(struct snapmgr_track_opts);
	bool track = false, track_args = false;
	struct snapmgr_create_opts o = SNAPMGR_OPTS(struct snapmgr_create_opts, .chunk_size = 4096);
	struct snapmgr_set_opts so = SNAPMGR_OPTS(struct snapmgr_set_opts);
	struct set_args sa = {};
	bool json = false, have_size = false, auto_chunk = false, hooks = false;
	unsigned n_origins = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "O:n:c:f:s:C:Jh", options, NULL)) != -1) {
		/* Kept for --set, whose member options depend on their order. */
		if ((c == 'O' || c == 'n' || c == 'c' || c == 'f' || c == 's') &&
		    set_member_arg(&sa, c, optarg))
			return EXIT_USAGE;
		if (c == 'O')
			n_origins++;
		switch (c) {
		case 'O': o.origin = optarg; break;
		case 'n': o.origin_name = optarg; break;
		case 'c': o.cow_device = optarg; break;
		case 'f': o.cow_file = optarg; break;
		case 's':
			if (parse_size_arg("create", "--cow-size", optarg, &o.cow_size))
				return EXIT_USAGE;
			have_size = true;
			break;
		case 'C':
			if (streq(optarg, "auto")) {
				auto_chunk = true;
				break;
			}
			auto_chunk = false;
			if (parse_size_arg("create", "--chunk-size", optarg, &o.chunk_size))
				return EXIT_USAGE;
			break;
		case OPT_FORCE: o.force = true; so.force = true; break;
		case OPT_SET: so.name = optarg; break;
		case OPT_PRE_HOOK: so.pre_hook = optarg; hooks = true; break;
		case OPT_POST_HOOK: so.post_hook = optarg; hooks = true; break;
		case OPT_HOOK_TIMEOUT: {
			char *end = NULL;
			unsigned long v = strtoul(optarg, &end, 10);

			if (!*optarg || *end || v == 0 || v > 86400)
				return usage_error("create", "--hook-timeout: '%s' is not a number of seconds from 1 to 86400", optarg);
			so.hook_timeout = (unsigned)v;
			hooks = true;
			break;
		}
		case OPT_TRACK: track = true; break;
		case OPT_TRACK_META:
		case OPT_TRACK_META_FILE:
		case OPT_TRACK_META_SIZE:
		case OPT_TRACK_BLOCK:
			if (track_option("create", c, optarg, &to))
				return EXIT_USAGE;
			track_args = true;
			break;
		case 'J': json = true; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error("create", "bad option");
		}
	}
	if (so.name && (track || track_args))
		return usage_error("create", "--track goes with one snapshot, not --set (track each origin with 'snapctl track')");
	if (track_args && !track)
		return usage_error("create", "--metadata, --metadata-file, --metadata-size and --block-size go with --track");
	if (track && track_options_check("create", &to))
		return EXIT_USAGE;
	if (track) {
		to.force = o.force;
		o.track = &to;
	}
	if (so.name) {
		if (optind != argc)
			return usage_error("create", "with --set, the members are named SET-ORIGIN: give no snapshot name");
		return run_set(ctx, &so, &sa, o.chunk_size, auto_chunk, json);
	}
	if (hooks)
		return usage_error("create", "--pre-hook, --post-hook and --hook-timeout go with --set");
	if (n_origins > 1)
		return usage_error("create", "one --origin per snapshot; use --set for several");
	if (optind + 1 != argc)
		return usage_error("create", "expected exactly one snapshot name");
	o.snapshot = argv[optind];
	if (!o.origin)
		return usage_error("create", "--origin is required");
	if (!!o.cow_device + !!o.cow_file != 1)
		return usage_error("create", "give either --cow DEV or --cow-file PATH");
	if (o.cow_file && !have_size)
		return usage_error("create", "--cow-file needs --cow-size");
	if (o.cow_device && have_size)
		return usage_error("create", "--cow-size goes with --cow-file, not --cow");

	if (auto_chunk) {
		r = auto_chunk_size(ctx, o.origin, json, &o.chunk_size);
		if (r < 0)
			return fail(o.origin, r, "--chunk-size auto: %s",
				    lib_reason(ctx, r));
	}
	r = snapmgr_create(ctx, &o);
	if (r < 0)
		return fail_lib(ctx, o.snapshot, r);
	if (json)
		return print_status_json(ctx, o.snapshot);
	printf("Created snapshot %s of %s.\n", o.snapshot, o.origin);
	return EXIT_OK;
}

const struct cmd cmd_create = {
	.name = "create",
	.run = run,
	.help = "take a snapshot of a block device or of an origin we manage",
};
