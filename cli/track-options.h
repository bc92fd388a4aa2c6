/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The options of snapctl track that create --track takes too, parsed and
 * checked in one place (cli/track-options.c) so the two cannot drift.
 */
#pragma once

#include <getopt.h>

#include "snapmgr.h"

enum {
	OPT_TRACK_META = 0x200, /* above every command's own OPT_* */
	OPT_TRACK_META_FILE,
	OPT_TRACK_META_SIZE,
	OPT_TRACK_BLOCK,
};

/* Their entries in a command's struct option table. */
#define TRACK_OPTIONS \
	{ "metadata", required_argument, NULL, OPT_TRACK_META }, \
	{ "metadata-file", required_argument, NULL, OPT_TRACK_META_FILE }, \
	{ "metadata-size", required_argument, NULL, OPT_TRACK_META_SIZE }, \
	{ "block-size", required_argument, NULL, OPT_TRACK_BLOCK }

/*
 * Takes getopt's c (one of OPT_TRACK_*) and its argument into o; a size
 * must be one, and not 0. Returns 0, or EXIT_USAGE after saying why.
 */
int track_option(const char *cmd, int c, const char *arg, struct snapmgr_track_opts *o);
/*
 * Exactly one of --metadata and --metadata-file, --metadata-size only with
 * the file. Returns 0, or EXIT_USAGE after saying why.
 */
int track_options_check(const char *cmd, const struct snapmgr_track_opts *o);
