/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapctl import-diff FILE TARGET: apply an rbd-diff stream (restore). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "snapctl.h"

static void help(void)
{
	printf("Usage:\n"
	       " snapctl import-diff [options] FILE|- TARGET\n"
	       "\n"
	       "Apply an \"rbd diff v1\" stream (from 'snapctl export --format rbd-diff',\n"
	       "`rbd export-diff` or `rbd merge-diff`) to TARGET, an image file or a block\n"
	       "device. A full stream (no 'f' record) creates a missing TARGET as a sparse\n"
	       "file; an incremental one needs the backup it starts from.\n"
	       "\n"
	       "Options:\n"
	       "     --expect-from NAME   refuse a stream that does not start from the\n"
	       "                          snapshot NAME (its 'f' record)\n"
	       " -J, --json               progress as JSON lines, the last with \"done\": true\n"
	       " -h, --help               display this help\n"
	       "\n"
	       "A stream whose image size differs from TARGET's is refused. A corrupt or\n"
	       "truncated stream is reported with the byte where it goes wrong; a stream in\n"
	       "a file is checked whole before anything is written, one from a pipe is\n"
	       "applied record by record and stops at the bad one (TARGET is then half\n"
	       "updated: apply the stream again once it is repaired, or restore anew).\n"
	       "Exit status: 0 applied, 1 refused, corrupt or failed, 2 usage error.\n"
	       "For more details see snapctl(8).\n");
}

static int run(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	enum { OPT_EXPECT_FROM = 0x100 };
	static const struct option options[] = {
		{ "expect-from", required_argument, NULL, OPT_EXPECT_FROM },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct snapmgr_import_opts o = SNAPMGR_OPTS(struct snapmgr_import_opts);
	struct snapmgr_transfer_stats st = SNAPMGR_RESULT(struct snapmgr_transfer_stats);
	struct progress p;
	bool json = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "Jh", options, NULL)) != -1) {
		switch (c) {
		case OPT_EXPECT_FROM:
			o.expect_from = optarg;
			break;
		case 'J':
			json = true;
			break;
		case 'h':
			help();
			return EXIT_OK;
		default:
			return usage_error("import-diff", "unrecognised option");
		}
	}
	if (check_operands("import-diff", argc, argv, 2, "give the stream (FILE or -) and the TARGET"))
		return EXIT_USAGE;
	o.input = argv[optind];
	o.target = argv[optind + 1];

	progress_init(&p, json, false);
	o.progress = progress_update;
	o.userdata = &p;
	r = snapmgr_import_diff(ctx, &o, &st);
	return progress_done(ctx, &p, o.target, r, &st);
}

const struct cmd cmd_import_diff = {
	.name = "import-diff",
	.run = run,
	.help = "apply an rbd-diff stream to an image file or device (restore)",
};
