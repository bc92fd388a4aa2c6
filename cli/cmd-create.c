/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapctl create: a snapshot of a raw block device or of an origin we manage. */
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
	       " snapctl create SNAP --origin DEV|NAME (--cow DEV | --cow-file PATH --cow-size SIZE) [options]\n"
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
	       " -J, --json                print the new snapshot's status as JSON\n"
	       " -h, --help                display this help\n"
	       "\n"
	       "For more details see snapctl(8).\n");
}

static int parse_size_arg(const char *opt, const char *arg, uint64_t *ret)
{
	if (snapmgr_parse_size(arg, ret) < 0)
		return usage_error("create", "%s: '%s' is not a size (e.g. 512M, 4K)", opt, arg);
	return 0;
}

/*
 * --chunk-size auto: snapctl advise on the origin without sampling (device
 * limits and filesystem only: create must not wait), one line saying why.
 */
static int auto_chunk_size(struct snapmgr_ctx *ctx, const char *origin,
			   bool quiet, uint64_t *ret)
{
	struct snapmgr_device_facts facts;
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

static int run(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	enum { OPT_FORCE = 0x100 };
	static const struct option options[] = {
		{ "origin", required_argument, NULL, 'O' },
		{ "origin-name", required_argument, NULL, 'n' },
		{ "cow", required_argument, NULL, 'c' },
		{ "cow-file", required_argument, NULL, 'f' },
		{ "cow-size", required_argument, NULL, 's' },
		{ "chunk-size", required_argument, NULL, 'C' },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct snapmgr_create_opts o = { .chunk_size = 4096 };
	bool json = false, have_size = false, auto_chunk = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "O:n:c:f:s:C:Jh", options, NULL)) != -1) {
		switch (c) {
		case 'O': o.origin = optarg; break;
		case 'n': o.origin_name = optarg; break;
		case 'c': o.cow_device = optarg; break;
		case 'f': o.cow_file = optarg; break;
		case 's':
			if (parse_size_arg("--cow-size", optarg, &o.cow_size))
				return EXIT_USAGE;
			have_size = true;
			break;
		case 'C':
			if (streq(optarg, "auto")) {
				auto_chunk = true;
				break;
			}
			auto_chunk = false;
			if (parse_size_arg("--chunk-size", optarg, &o.chunk_size))
				return EXIT_USAGE;
			break;
		case OPT_FORCE: o.force = true; break;
		case 'J': json = true; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error("create", "bad option");
		}
	}
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
