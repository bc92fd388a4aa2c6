/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapctl remove: drop one of our snapshots, and its COW file if we made it. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "snapctl.h"

static void help(void)
{
	printf("Usage:\n"
	       " snapctl remove [options] SNAP|SET...\n"
	       "\n"
	       "Remove snapshots made by snapctl. A COW file snapctl created is deleted;\n"
	       "a COW device given with --cow is left as it is. The origin keeps working at\n"
	       "/dev/mapper/NAME, unless --release removes it. A snapshot set's name removes\n"
	       "every member of the set (refused, without --force, while one is open).\n"
	       "\n"
	       "Options:\n"
	       "     --force    remove even when the snapshot is open: its users get I/O errors\n"
	       "     --unwrap   when the last snapshot goes, turn the origin back into a plain\n"
	       "                linear mapping of its device\n"
	       "     --release  when the last snapshot goes, remove the origin's device-mapper\n"
	       "                device and snapctl's record of it: only the raw device is left\n"
	       "                (refused while the origin is open)\n"
	       " -h, --help     display this help\n"
	       "\n"
	       "For more details see snapctl(8).\n");
}

static int run(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	enum { OPT_FORCE = 0x100, OPT_UNWRAP, OPT_RELEASE };
	static const struct option options[] = {
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "unwrap", no_argument, NULL, OPT_UNWRAP },
		{ "release", no_argument, NULL, OPT_RELEASE },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	unsigned flags = 0;
	int c, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_FORCE: flags |= SNAPMGR_REMOVE_FORCE; break;
		case OPT_UNWRAP: flags |= SNAPMGR_REMOVE_UNWRAP; break;
		case OPT_RELEASE: flags |= SNAPMGR_REMOVE_RELEASE; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error("remove", "bad option");
		}
	}
	if (optind >= argc)
		return usage_error("remove", "no snapshot named");
	for (int i = optind; i < argc; i++) {
		/* A set's name: every member goes (snapmgr_set_remove). */
		int r = snapmgr_set_exists(ctx, argv[i]);

		if (r > 0)
			r = snapmgr_set_remove(ctx, argv[i], flags);
		else if (r == 0)
			r = snapmgr_remove(ctx, argv[i], flags);

		if (r < 0)
			rc = fail_lib(ctx, argv[i], r);
	}
	return rc;
}

const struct cmd cmd_remove = {
	.name = "remove",
	.run = run,
	.help = "remove snapshots made by snapctl",
};
