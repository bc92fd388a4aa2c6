/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapctl track and untrack: a dm-era layer under one of our origins, so
 * that backups can ask what changed since a change token (lib/track.c).
 */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "snapctl.h"
#include "track-options.h"

static void help(void)
{
	printf("Usage:\n"
	       " snapctl track [options] ORIGIN (--metadata DEV | --metadata-file PATH)\n"
	       "\n"
	       "Track which blocks of ORIGIN (an origin snapctl manages) are written, with\n"
	       "the kernel's dm-era under its stack, live: persistently, across reboots\n"
	       "(snapctl activate puts it back), with no snapshot kept alive. From then on\n"
	       "every snapshot of ORIGIN gets a change token (snapctl status), and\n"
	       "'snapctl changes --since TOKEN' or 'snapctl export --since TOKEN' list or\n"
	       "copy what was written since, even after that snapshot is removed.\n"
	       "\n"
	       "Options:\n"
	       "     --metadata DEV         a block device for dm-era's metadata (its first\n"
	       "                            4 KiB are zeroed; refused when it has a signature,\n"
	       "                            unless --force)\n"
	       "     --metadata-file PATH   a new file for it, attached to a loop device\n"
	       "     --metadata-size SIZE   its size (default: 4 MiB + 8.5 bytes a block,\n"
	       "                            rounded up to a MiB)\n"
	       "     --block-size SIZE      the tracking granularity, a multiple of 4 KiB\n"
	       "                            (default 64 KiB, doubled until ORIGIN has at\n"
	       "                            most 2^24 blocks)\n"
	       "     --force                use a metadata device with a signature on it\n"
	       " -J, --json                 print the tracking (docs/status.schema.json's\n"
	       "                            \"tracking\" entry) when done\n"
	       " -h, --help                 display this help\n"
	       "\n"
	       "Safe to run again after a crash at any step: the re-run finishes the job.\n"
	       "For more details see snapctl(8).\n");
}

static void untrack_help(void)
{
	printf("Usage:\n"
	       " snapctl untrack ORIGIN\n"
	       "\n"
	       "Take ORIGIN's dm-era layer out, live, detach its metadata and delete a\n"
	       "metadata file snapctl created. Every change token of that tracking is void\n"
	       "afterwards ('changes --since' answers \"full backup needed\").\n"
	       "\n"
	       "Options:\n"
	       " -h, --help     display this help\n"
	       "\n"
	       "Safe to run again after a crash at any step.\n"
	       "For more details see snapctl(8).\n");
}

static int print_tracking(struct snapmgr_ctx *ctx, const char *origin, bool json)
{
	struct json_object *arr = NULL, *t;
	int r = snapmgr_tracking_to_json(ctx, origin, &arr);

	if (r < 0)
		return fail_lib(ctx, origin, r);
	t = json_object_array_get_idx(arr, 0);
	if (json) {
		puts(json_object_to_json_string_ext(t, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		struct json_object *v;

		json_object_object_get_ex(t, "block_size", &v);
		printf("%s: tracked with dm-era, block size %" PRIu64 " bytes", origin,
		       (uint64_t)json_object_get_uint64(v));
		if (json_object_object_get_ex(t, "era", &v) && v)
			printf(", era %" PRIu64, (uint64_t)json_object_get_uint64(v));
		printf("\n");
	}
	json_object_put(arr);
	return EXIT_OK;
}

static int run(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	enum { OPT_FORCE = 0x100 };
	static const struct option options[] = {
		TRACK_OPTIONS,
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct snapmgr_track_opts o = SNAPMGR_OPTS(struct snapmgr_track_opts);
	bool json = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "Jh", options, NULL)) != -1) {
		switch (c) {
		case OPT_TRACK_META:
		case OPT_TRACK_META_FILE:
		case OPT_TRACK_META_SIZE:
		case OPT_TRACK_BLOCK:
			if (track_option("track", c, optarg, &o))
				return EXIT_USAGE;
			break;
		case OPT_FORCE:
			o.force = true;
			break;
		case 'J':
			json = true;
			break;
		case 'h':
			help();
			return EXIT_OK;
		default:
			return usage_error("track", "bad option");
		}
	}
	if (check_operands("track", argc, argv, 1, "no origin named"))
		return EXIT_USAGE;
	if (track_options_check("track", &o))
		return EXIT_USAGE;
	o.origin = argv[optind];
	r = snapmgr_track(ctx, &o);
	if (r < 0)
		return fail_lib(ctx, o.origin, r);
	/* The name without /dev/mapper/, as the record has it. */
	if (strncmp(o.origin, "/dev/mapper/", 12) == 0)
		o.origin += 12;
	return print_tracking(ctx, o.origin, json);
}

static int run_untrack(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			untrack_help();
			return EXIT_OK;
		default:
			return usage_error("untrack", "bad option");
		}
	}
	if (check_operands("untrack", argc, argv, 1, "no origin named"))
		return EXIT_USAGE;
	r = snapmgr_untrack(ctx, argv[optind]);
	if (r < 0)
		return fail_lib(ctx, argv[optind], r);
	return EXIT_OK;
}

const struct cmd cmd_track = {
	.name = "track",
	.run = run,
	.help = "track an origin's writes with dm-era, for change tokens",
};

const struct cmd cmd_untrack = {
	.name = "untrack",
	.run = run_untrack,
	.help = "take an origin's change tracking out",
};
