/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapctl changes SNAP: the origin extents written since SNAP was taken,
 * from its exception store (lib/changes.c); snapctl changes --since TOKEN
 * ORIGIN|SNAP: the blocks written since a change token, from dm-era
 * (lib/era-changes.c).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "snapctl.h"

static void help(void)
{
	printf("Usage:\n"
	       " snapctl changes [options] SNAP\n"
	       " snapctl changes [options] --since TOKEN ORIGIN|SNAP\n"
	       "\n"
	       "List the origin extents written since the snapshot SNAP was taken, read\n"
	       "from its exception store while it is active (read-only). Works for any\n"
	       "persistent dm snapshot: snapctl's, lvm2's (lvcreate -s) and others'.\n"
	       "Every origin write acknowledged before the call lies inside a listed\n"
	       "extent; extents are whole chunks (the granularity), sorted and merged.\n"
	       "\n"
	       "With --since TOKEN (a snapshot's change_token, of an origin under 'snapctl\n"
	       "track'): the blocks of the tracked origin written since the token, read\n"
	       "from a dm-era metadata snapshot; the snapshot of the token need not exist\n"
	       "any more. Given SNAP (taken at or after the token), the extents cover\n"
	       "every byte in which SNAP differs from the origin at the token.\n"
	       "\n"
	       "Options:\n"
	       "     --since TOKEN      the writes since a change token, of ORIGIN or SNAP\n"
	       " -J, --json             print the document docs/changes.schema.json describes\n"
	       "     --format FORMAT    ranges (default): offset and length in bytes, one\n"
	       "                        extent a line (with --json: the document);\n"
	       "                        rbd-json: the list `rbd diff --format=json` prints\n"
	       " -h, --help             display this help\n"
	       "\n"
	       "An invalid (overflowed) or merging snapshot is refused: its changes are\n"
	       "unknown, take a full backup.\n"
	       "Exit status: 0 listed, 1 refused or failed, 2 usage error, 3 (with --since)\n"
	       "full backup needed: the token cannot answer (the message says why).\n"
	       "For more details see snapctl(8).\n");
}

static int print_json(struct snapmgr_ctx *ctx, const struct snapmgr_changes *c,
		      enum snapmgr_changes_format format, const char *name)
{
	struct json_object *doc = NULL;
	int r = snapmgr_changes_to_json(c, format, &doc);

	if (r < 0)
		return fail(name, r, NULL);
	puts(json_object_to_json_string_ext(doc, format == SNAPMGR_CHANGES_RBD_JSON
							 ? JSON_C_TO_STRING_PLAIN
							 : JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_SPACED |
								   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
	return EXIT_OK;
}

static int run(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	enum { OPT_FORMAT = 0x100, OPT_SINCE };
	static const struct option options[] = {
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "json", no_argument, NULL, 'J' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	enum snapmgr_changes_format format = SNAPMGR_CHANGES_RANGES;
	struct snapmgr_changes *c = NULL;
	bool json = false;
	const char *name, *since = NULL;
	uint64_t off, len;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "Jh", options, NULL)) != -1) {
		switch (ch) {
		case 'J':
			json = true;
			break;
		case OPT_FORMAT:
			if (streq(optarg, "ranges"))
				format = SNAPMGR_CHANGES_RANGES;
			else if (streq(optarg, "rbd-json"))
				format = SNAPMGR_CHANGES_RBD_JSON;
			else
				return usage_error("changes", "unknown format '%s' (ranges or rbd-json)", optarg);
			break;
		case OPT_SINCE:
			since = optarg;
			break;
		case 'h':
			help();
			return EXIT_OK;
		default:
			return usage_error("changes", "unrecognised option");
		}
	}
	if (check_operands("changes", argc, argv, 1, "no snapshot named"))
		return EXIT_USAGE;
	name = argv[optind];

	if (since) {
		r = snapmgr_changes_since(ctx, name, since, &c);
		if (r == -ESTALE) {
			fail_lib(ctx, name, r);
			return EXIT_FULL_BACKUP;
		}
	} else {
		r = snapmgr_changes_get(ctx, name, &c);
	}
	if (r < 0)
		return fail_lib(ctx, name, r);

	if (json || format == SNAPMGR_CHANGES_RBD_JSON) {
		r = print_json(ctx, c, format, name);
	} else {
		printf("# origin %" PRIu64 " bytes, granularity %" PRIu64 " bytes, %zu extents, %" PRIu64 " bytes changed since %s\n",
		       snapmgr_changes_get_origin_size(c),
		       snapmgr_changes_get_granularity(c),
		       snapmgr_changes_get_range_count(c),
		       snapmgr_changes_get_changed_bytes(c), since ? since : name);
		for (size_t i = 0; snapmgr_changes_get_range(c, i, &off, &len) == 0; i++)
			printf("%" PRIu64 " %" PRIu64 "\n", off, len);
		r = EXIT_OK;
	}
	snapmgr_changes_unref(c);
	if (fflush(stdout) != 0 || ferror(stdout))
		return fail("stdout", -EIO, "write error");
	return r;
}

const struct cmd cmd_changes = {
	.name = "changes",
	.run = run,
	.help = "list the origin extents written since a snapshot was taken",
};
