/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapctl export SNAP: a snapshot's data out, whole or incremental. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "snapctl.h"

static void help(void)
{
	printf("Usage:\n"
	       " snapctl export [options] SNAP (-o FILE | --to TARGET)\n"
	       "\n"
	       "Copy the data of the snapshot SNAP out: the whole device, or with --since\n"
	       "only the extents written since OLDER_SNAP was taken, or since a change\n"
	       "TOKEN of a tracked origin (an incremental backup; see 'snapctl changes'),\n"
	       "read from SNAP.\n"
	       "\n"
	       "Options:\n"
	       "     --since OLDER_SNAP   an older snapshot of the same origin, kept since\n"
	       "                          the last backup: export only what changed since\n"
	       "     --since TOKEN        or the change_token of the last backup's snapshot\n"
	       "                          (snapctl track; that snapshot may be gone)\n"
	       " -o, --output FILE        write a new file (never overwritten), '-' for\n"
	       "                          stdout; raw: a sparse image (full exports only)\n"
	       "     --to TARGET          update TARGET in place: an image file (created\n"
	       "                          sparse when absent, full exports only) or a block\n"
	       "                          device holding the previous backup; its size must\n"
	       "                          be the origin's\n"
	       "     --format FORMAT      raw (default) or rbd-diff (Ceph's \"rbd diff v1\"\n"
	       "                          stream, for -o; `rbd import-diff`, `rbd merge-diff`\n"
	       "                          and 'snapctl import-diff' read it)\n"
	       " -J, --json               progress as JSON lines (stdout, or stderr when the\n"
	       "                          export goes to stdout), the last with \"done\": true\n"
	       " -h, --help               display this help\n"
	       "\n"
	       "Runs of zeros become holes in a raw file and 'z' records in rbd-diff.\n"
	       "Refused, with the reason, when OLDER_SNAP is not older than SNAP, not of\n"
	       "the same origin, invalid or merging.\n"
	       "Exit status: 0 exported, 1 refused or failed, 2 usage error, 3 full backup\n"
	       "needed: --since TOKEN cannot answer (the message says why).\n"
	       "For more details see snapctl(8).\n");
}

static int run(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	enum { OPT_SINCE = 0x100, OPT_TO, OPT_FORMAT };
	static const struct option options[] = {
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "output", required_argument, NULL, 'o' },
		{ "to", required_argument, NULL, OPT_TO },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct snapmgr_export_opts o = SNAPMGR_OPTS(struct snapmgr_export_opts, .format = SNAPMGR_EXPORT_RAW);
	struct snapmgr_transfer_stats st = SNAPMGR_RESULT(struct snapmgr_transfer_stats);
	struct progress p;
	bool json = false;
	int c, r, rc;

	while ((c = getopt_long(argc, argv, "o:Jh", options, NULL)) != -1) {
		switch (c) {
		case OPT_SINCE:
			o.since = optarg;
			break;
		case 'o':
			o.output = optarg;
			break;
		case OPT_TO:
			o.target = optarg;
			break;
		case OPT_FORMAT:
			if (streq(optarg, "raw"))
				o.format = SNAPMGR_EXPORT_RAW;
			else if (streq(optarg, "rbd-diff"))
				o.format = SNAPMGR_EXPORT_RBD_DIFF;
			else
				return usage_error("export", "unknown format '%s' (raw or rbd-diff)", optarg);
			break;
		case 'J':
			json = true;
			break;
		case 'h':
			help();
			return EXIT_OK;
		default:
			return usage_error("export", "unrecognised option");
		}
	}
	if (check_operands("export", argc, argv, 1, "no snapshot named"))
		return EXIT_USAGE;
	o.snapshot = argv[optind];
	if (!o.output == !o.target)
		return usage_error("export", "give exactly one of -o FILE and --to TARGET");
	if (o.target && o.format != SNAPMGR_EXPORT_RAW)
		return usage_error("export", "--to updates an image in place: raw only (write rbd-diff with -o)");
	if (o.since && o.output && o.format == SNAPMGR_EXPORT_RAW)
		return usage_error("export", "an incremental raw export needs --to the previous backup (or --format rbd-diff)");
	if (streq(o.output, "-") && isatty(STDOUT_FILENO))
		return usage_error("export", "will not write an image to a terminal");

	progress_init(&p, json, streq(o.output, "-"));
	o.progress = progress_update;
	o.userdata = &p;
	r = snapmgr_export(ctx, &o, &st);
	rc = progress_done(ctx, &p, o.snapshot, r, &st);
	/* The token cannot answer: said above, and exit 3 (full backup). */
	if (r == -ESTALE && o.since && strchr(o.since, ':'))
		return EXIT_FULL_BACKUP;
	return rc;
}

const struct cmd cmd_export = {
	.name = "export",
	.run = run,
	.help = "copy a snapshot out, whole or since an older one (raw, rbd-diff)",
};
