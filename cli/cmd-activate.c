/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapctl activate: bring our stacks back after a reboot or a crash. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "snapctl.h"

static void help(void)
{
	printf("Usage:\n"
	       " snapctl activate [options] (--all | NAME...)\n"
	       "\n"
	       "Re-assemble snapctl's stacks from their records: attach COW files again,\n"
	       "load each origin and its snapshots, resume an interrupted merge, start a\n"
	       "deferred one when nothing holds the devices, finalise a finished one.\n"
	       "What is already active is left alone: running it twice changes nothing.\n"
	       "\n"
	       "Options:\n"
	       " -a, --all      every origin snapctl manages\n"
	       " -h, --help     display this help\n"
	       "\n"
	       "For more details see snapctl(8).\n");
}

static int run(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	static const struct option options[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	bool all = false;
	int c, rc = EXIT_OK;

	while ((c = getopt_long(argc, argv, "ah", options, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error("activate", "bad option");
		}
	}
	if (all == (optind < argc))
		return usage_error("activate", "give --all or origin names, not both");
	if (all) {
		unsigned failed = 0;
		int r = snapmgr_activate(ctx, NULL, &failed);

		/*
		 * The library goes on after a failed origin and logs each
		 * one's reason as it happens (shown above); the context keeps
		 * only the last message while r is the first failure's
		 * errno, so neither stands for all of them here.
		 */
		if (r < 0)
			return fail("activate", r, "%u origin(s) could not be activated (the reasons are above)",
				    failed);
		return EXIT_OK;
	}
	for (int i = optind; i < argc; i++) {
		int r = snapmgr_activate(ctx, argv[i], NULL);

		if (r < 0)
			rc = fail_lib(ctx, argv[i], r);
	}
	return rc;
}

const struct cmd cmd_activate = {
	.name = "activate",
	.run = run,
	.help = "re-assemble snapctl's stacks (after a reboot), resume merges",
};
