/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapctl advise DEV: which chunk size fits snapshots of DEV, from its I/O
 * limits, its filesystem and the writes it sees (lib/advise.c).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "snapctl.h"

static void help(void)
{
	printf("Usage:\n"
	       " snapctl advise [options] DEV|NAME\n"
	       "\n"
	       "Recommend a chunk size for snapshots of DEV (or of the origin NAME), and say\n"
	       "why. Without --sample or --trace only the device's I/O limits and its\n"
	       "filesystem are used.\n"
	       "\n"
	       "Options:\n"
	       " -s, --sample SECONDS   watch DEV's writes for SECONDS (kernel trace events\n"
	       "                        via tracefs; else /sys/block/DEV/stat, less precise)\n"
	       " -t, --trace FILE       read the writes from blkparse's text output instead\n"
	       " -f, --for WHAT         who writes: backup (the origin is written, the\n"
	       "                        snapshot kept), clone (the snapshot is written), or\n"
	       "                        both (default)\n"
	       " -v, --verbose          show the prediction for every chunk size\n"
	       " -J, --json             print a JSON document (docs/advise.schema.json)\n"
	       " -h, --help             display this help\n"
	       "\n"
	       "For more details see snapctl(8).\n");
}

static void fmt_size(char *buf, size_t len, uint64_t bytes)
{
	if (bytes >= 1024 && bytes % 1024 == 0)
		snprintf(buf, len, "%" PRIu64 " KiB", bytes >> 10);
	else
		snprintf(buf, len, "%" PRIu64 " B", bytes);
}

static void print_table(const struct snapmgr_advice *a)
{
	struct snapmgr_advice_candidate c = SNAPMGR_RESULT(struct snapmgr_advice_candidate);

	printf("\n%-9s %8s %15s %13s %10s\n", "chunk", "bypass", "copied/written",
	       "COW GiB/GiB", "rel. cost");
	for (size_t i = 0; snapmgr_advice_get_candidate(a, i, &c) == 0; i++) {
		char sz[32], bp[16];

		fmt_size(sz, sizeof(sz), c.chunk_size);
		if (isnan(c.bypass_fraction))
			snprintf(bp, sizeof(bp), "-");
		else
			snprintf(bp, sizeof(bp), "%.0f%%", c.bypass_fraction * 100);
		printf("%-9s %8s %15.2f %13.2f %10.2f%s\n", sz, bp, c.copy_ratio,
		       c.cow_per_gib / (1 << 30), c.cost,
		       c.chunk_size == snapmgr_advice_get_chunk_size(a) ? "  <-" : "");
	}
}

static void print_histogram(struct snapmgr_workload *w)
{
	uint64_t b, n, total = snapmgr_workload_get_write_count(w);

	if (!total)
		return;
	printf("\nwrite sizes (rounded up):\n");
	for (unsigned int i = 0; snapmgr_workload_get_size_bucket(w, i, &b, &n) == 0; i++) {
		char sz[32];

		if (!n)
			continue;
		fmt_size(sz, sizeof(sz), b);
		printf("  %-9s %10" PRIu64 "  %5.1f%%\n", sz, n, 100.0 * (double)n / (double)total);
	}
}

static int run(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	static const struct option options[] = {
		{ "sample", required_argument, NULL, 's' },
		{ "trace", required_argument, NULL, 't' },
		{ "for", required_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	_cleanup_(json_putp) struct json_object *doc = NULL;
	_cleanup_free_ char *path = NULL;
	struct snapmgr_workload *w = NULL;
	struct snapmgr_advice *a = NULL;
	struct snapmgr_device_facts facts = SNAPMGR_RESULT(struct snapmgr_device_facts);
	const char *trace = NULL, *reason;
	unsigned int targets = SNAPMGR_ADVISE_BACKUP | SNAPMGR_ADVISE_CLONE;
	long sample = -1;
	bool json = false, verbose = false;
	char sz[32], *end;
	int c, r, ret = EXIT_FAILURE_RUNTIME;

	while ((c = getopt_long(argc, argv, "s:t:f:vJh", options, NULL)) != -1) {
		switch (c) {
		case 's':
			errno = 0;
			sample = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || sample < 0 || sample > 86400)
				return usage_error("advise", "--sample: '%s' is not a number of seconds (0-86400)", optarg);
			break;
		case 't': trace = optarg; break;
		case 'f':
			if (streq(optarg, "backup"))
				targets = SNAPMGR_ADVISE_BACKUP;
			else if (streq(optarg, "clone"))
				targets = SNAPMGR_ADVISE_CLONE;
			else if (streq(optarg, "both"))
				targets = SNAPMGR_ADVISE_BACKUP | SNAPMGR_ADVISE_CLONE;
			else
				return usage_error("advise", "--for: '%s' is not backup, clone or both", optarg);
			break;
		case 'v': verbose = true; break;
		case 'J': json = true; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error("advise", "bad option");
		}
	}
	if (optind + 1 != argc)
		return usage_error("advise", "expected exactly one device");
	if (trace && sample >= 0)
		return usage_error("advise", "give --sample or --trace, not both");
	if (strchr(argv[optind], '/'))
		path = strdup(argv[optind]);
	else if (asprintf(&path, "/dev/mapper/%s", argv[optind]) < 0)
		path = NULL;
	if (!path)
		return fail("advise", -ENOMEM, NULL);

	r = snapmgr_device_facts_probe(ctx, path, &facts);
	if (r < 0)
		return fail_lib(ctx, path, r);
	if (trace) {
		r = snapmgr_workload_read_blkparse(ctx, trace, 0, &w);
		if (r < 0)
			return fail_lib(ctx, trace, r);
	} else if (sample >= 0) {
		if (!json)
			fprintf(stderr, "Sampling writes to %s for %ld s...\n", path, sample);
		r = snapmgr_workload_sample(ctx, path, (unsigned)sample, &w);
		if (r < 0)
			return fail_lib(ctx, path, r);
	}
	r = snapmgr_advise(ctx, &facts, w, targets, &a);
	if (r < 0) {
		fail_lib(ctx, path, r);
		goto out;
	}

	if (json) {
		r = snapmgr_advice_to_json(a, &doc);
		if (r < 0 || json_object_object_add(doc, "path", json_object_new_string(path)) < 0) {
			fail_lib(ctx, path, r < 0 ? r : -ENOMEM);
			goto out;
		}
		puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		fmt_size(sz, sizeof(sz), snapmgr_advice_get_chunk_size(a));
		printf("Recommended chunk size for %s: %s\n", path, sz);
		for (size_t i = 0; (reason = snapmgr_advice_get_reason(a, i)); i++)
			printf("  %s\n", reason);
		if (verbose) {
			if (w)
				print_histogram(w);
			print_table(a);
		}
	}
	ret = EXIT_OK;
out:
	snapmgr_advice_unref(a);
	snapmgr_workload_unref(w);
	return ret;
}

const struct cmd cmd_advise = {
	.name = "advise",
	.run = run,
	.help = "recommend a chunk size for snapshots of a device",
};
