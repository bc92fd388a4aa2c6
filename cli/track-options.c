/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapctl track's metadata and block options, shared with create --track. */
#include <stdbool.h>

#include "snapctl.h"
#include "track-options.h"

/* 0 would mean the default to the library: say so instead. */
static int nonzero_size(const char *cmd, const char *opt, const char *arg, uint64_t *ret)
{
	if (parse_size_arg(cmd, opt, arg, ret))
		return EXIT_USAGE;
	if (!*ret)
		return usage_error(cmd, "%s: must not be 0 (leave it out for the default)", opt);
	return 0;
}

int track_option(const char *cmd, int c, const char *arg, struct snapmgr_track_opts *o)
{
	switch (c) {
	case OPT_TRACK_META:
		o->metadata_device = arg;
		return 0;
	case OPT_TRACK_META_FILE:
		o->metadata_file = arg;
		return 0;
	case OPT_TRACK_META_SIZE:
		return nonzero_size(cmd, "--metadata-size", arg, &o->metadata_size);
	case OPT_TRACK_BLOCK:
		return nonzero_size(cmd, "--block-size", arg, &o->block_size);
	}
	return usage_error(cmd, "bad option");
}

int track_options_check(const char *cmd, const struct snapmgr_track_opts *o)
{
	/* create takes them only with --track: its message names it. */
	bool create = streq(cmd, "create");

	if (!!o->metadata_device == !!o->metadata_file)
		return usage_error(cmd, "%s exactly one of --metadata DEV and --metadata-file PATH",
				   create ? "--track needs" : "give");
	if (o->metadata_size && !o->metadata_file)
		return usage_error(cmd, "--metadata-size goes with --metadata-file");
	return 0;
}
