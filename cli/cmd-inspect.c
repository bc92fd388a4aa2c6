/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * snapctl inspect COW: read a persistent exception store offline and
 * read-only, and say what the kernel would make of it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "json-util.h"
#include "snapctl.h"

static void help(void)
{
	printf("Usage:\n"
	       " snapctl inspect [options] COW\n"
	       "\n"
	       "Read the persistent exception store of a dm-snapshot (its COW device or\n"
	       "a copy of it) read-only, the way the kernel reads it, and check it.\n"
	       "\n"
	       "Options:\n"
	       " -J, --json               print a JSON document (docs/inspect.schema.json)\n"
	       " -e, --exceptions         also list every exception: old chunk -> new chunk\n"
	       " -o, --origin-size SIZE   the origin's size (K/M/G/T suffixes): old chunks\n"
	       "                          past its end are reported\n"
	       " -h, --help               display this help\n"
	       "\n"
	       "Exit status: 0 the store is valid and consistent (info findings only),\n"
	       "1 a finding (warning or error; an invalidated store is one) or an error,\n"
	       "2 usage error.\n"
	       "For more details see snapctl(8).\n");
}

static const char *yes_no(bool b)
{
	return b ? "true" : "false";
}

static void print_human(const struct snapmgr_cow_store *s, const char *path,
			bool list)
{
	uint64_t chunk = snapmgr_cow_store_get_chunk_sectors(s);
	uint64_t used = snapmgr_cow_store_get_used_sectors(s);
	size_t n = snapmgr_cow_store_get_finding_count(s);
	enum snapmgr_cow_finding kind;
	enum snapmgr_severity sev;
	const char *msg;
	uint64_t o, c;

	printf("cow:             %s (%" PRIu64 " bytes)\n", path,
	       snapmgr_cow_store_get_size(s));
	printf("magic:           0x%08x%s\n", snapmgr_cow_store_get_magic(s),
	       snapmgr_cow_store_get_magic(s) == SNAPMGR_COW_MAGIC ? " (SnAp)"
								   : "");
	printf("valid:           %s\n", yes_no(snapmgr_cow_store_get_valid(s)));
	printf("version:         %" PRIu32 "\n",
	       snapmgr_cow_store_get_version(s));
	printf("chunk size:      %" PRIu64 " bytes (%" PRIu64 " sectors)\n",
	       chunk * 512, chunk);
	printf("exceptions:      %" PRIu64 "\n",
	       snapmgr_cow_store_get_exception_count(s));
	printf("metadata areas:  %" PRIu64 " (%" PRIu32 " exceptions each)\n",
	       snapmgr_cow_store_get_metadata_areas(s),
	       snapmgr_cow_store_get_exceptions_per_area(s));
	printf("used:            %" PRIu64 " bytes (%" PRIu64
	       " sectors, %" PRIu64 " of them metadata)\n",
	       used * 512, used, snapmgr_cow_store_get_metadata_sectors(s));
	printf("holes:           %" PRIu64 " chunks\n",
	       snapmgr_cow_store_get_hole_chunks(s));
	printf("consistent:      %s\n",
	       yes_no(snapmgr_cow_store_is_consistent(s)));
	printf("findings:        %s\n", n ? "" : "none");
	for (size_t i = 0;
	     snapmgr_cow_store_get_finding(s, i, &kind, &sev, &msg) == 0; i++)
		printf("  %s: %s: %s\n", snapmgr_severity_to_string(sev),
		       snapmgr_cow_finding_to_string(kind), msg);
	if (!list)
		return;
	printf("exceptions (old chunk -> new chunk):\n");
	for (uint64_t i = 0; snapmgr_cow_store_get_exception(s, i, &o, &c) == 0;
	     i++)
		printf("  %" PRIu64 " -> %" PRIu64 "\n", o, c);
}

static int build_json(const struct snapmgr_cow_store *s, const char *path,
		      uint64_t origin_size, bool list,
		      struct json_object **ret)
{
	_cleanup_(json_putp) struct json_object *root = NULL;
	struct json_object *findings, *exceptions;
	uint64_t sectors = snapmgr_cow_store_get_chunk_sectors(s);
	uint64_t used = snapmgr_cow_store_get_used_sectors(s);
	enum snapmgr_cow_finding kind;
	enum snapmgr_severity sev;
	const char *msg;
	uint64_t o, n;
	int r = 0;

	root = json_object_new_object();
	findings = json_object_new_array();
	if (!root || !findings) {
		json_object_put(findings);
		return -ENOMEM;
	}

	r |= json_add(root, "path", json_object_new_string(path));
	r |= json_add(root, "size_bytes",
		      json_object_new_uint64(snapmgr_cow_store_get_size(s)));
	if (origin_size)
		r |= json_add(root, "origin_size_bytes",
			      json_object_new_uint64(origin_size));
	r |= json_add(root, "magic",
		      json_object_new_uint64(snapmgr_cow_store_get_magic(s)));
	r |= json_add(root, "valid",
		      json_object_new_boolean(snapmgr_cow_store_get_valid(s)));
	r |= json_add(root, "version",
		      json_object_new_uint64(snapmgr_cow_store_get_version(s)));
	/* Sizes in bytes, as in every JSON document of ours. */
	r |= json_add(root, "chunk_size", json_object_new_uint64(sectors * 512));
	r |= json_add(root, "exceptions_per_area",
		      json_object_new_uint64(
			      snapmgr_cow_store_get_exceptions_per_area(s)));
	r |= json_add(root, "exception_count",
		      json_object_new_uint64(
			      snapmgr_cow_store_get_exception_count(s)));
	r |= json_add(root, "metadata_areas",
		      json_object_new_uint64(
			      snapmgr_cow_store_get_metadata_areas(s)));
	r |= json_add(root, "metadata_bytes",
		      json_object_new_uint64(
			      snapmgr_cow_store_get_metadata_sectors(s) * 512));
	r |= json_add(root, "used_bytes", json_object_new_uint64(used * 512));
	r |= json_add(root, "hole_chunks",
		      json_object_new_uint64(snapmgr_cow_store_get_hole_chunks(s)));
	r |= json_add(root, "consistent",
		      json_object_new_boolean(snapmgr_cow_store_is_consistent(s)));
	r |= json_add(root, "findings", findings);
	if (r < 0)
		return -ENOMEM;

	for (size_t i = 0;
	     snapmgr_cow_store_get_finding(s, i, &kind, &sev, &msg) == 0; i++) {
		struct json_object *f = json_object_new_object();

		if (!f)
			return -ENOMEM;
		r |= json_add(f, "severity",
			      json_object_new_string(snapmgr_severity_to_string(sev)));
		r |= json_add(f, "kind",
			      json_object_new_string(
				      snapmgr_cow_finding_to_string(kind)));
		r |= json_add(f, "message", json_object_new_string(msg));
		r |= json_append(findings, f);
		if (r < 0)
			return -ENOMEM;
	}

	if (list) {
		exceptions = json_object_new_array();
		if (json_add(root, "exceptions", exceptions) < 0)
			return -ENOMEM;
		for (uint64_t i = 0;
		     snapmgr_cow_store_get_exception(s, i, &o, &n) == 0; i++) {
			struct json_object *e = json_object_new_object();

			if (!e)
				return -ENOMEM;
			r |= json_add(e, "old_chunk", json_object_new_uint64(o));
			r |= json_add(e, "new_chunk", json_object_new_uint64(n));
			r |= json_append(exceptions, e);
			if (r < 0)
				return -ENOMEM;
		}
	}

	*ret = TAKE_PTR(root);
	return 0;
}

static int run(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "exceptions", no_argument, NULL, 'e' },
		{ "origin-size", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct snapmgr_cow_store *s = NULL;
	bool json = false, list = false;
	uint64_t origin_size = 0;
	const char *path;
	int c, r;

	while ((c = getopt_long(argc, argv, "Jeo:h", options, NULL)) != -1) {
		switch (c) {
		case 'J':
			json = true;
			break;
		case 'e':
			list = true;
			break;
		case 'o':
			r = snapmgr_parse_size(optarg, &origin_size);
			if (r < 0 || origin_size == 0)
				return usage_error("inspect",
						   "invalid origin size '%s'",
						   optarg);
			break;
		case 'h':
			help();
			return EXIT_OK;
		default:
			return usage_error("inspect", "unrecognised option");
		}
	}
	if (check_operands("inspect", argc, argv, 1, "no COW device or file given"))
		return EXIT_USAGE;
	path = argv[optind];

	r = snapmgr_cow_store_open(ctx, path, origin_size, &s);
	if (r == -E2BIG)
		return fail(path,
			    r, "more than %llu exceptions, too many to inspect",
			    (unsigned long long)SNAPMGR_COW_MAX_EXCEPTIONS);
	if (r == -ENOTBLK)
		return fail(path, r, "not a regular file or block device");
	if (r < 0)
		return fail_lib(ctx, path, r);

	if (json) {
		struct json_object *doc = NULL;

		r = build_json(s, path, origin_size, list, &doc);
		if (r < 0) {
			snapmgr_cow_store_unref(s);
			return fail(path, r, NULL);
		}
		puts(json_object_to_json_string_ext(
			doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
				     JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(doc);
	} else {
		print_human(s, path, list);
	}

	r = snapmgr_cow_store_is_consistent(s) ? EXIT_OK
					       : EXIT_FAILURE_RUNTIME;
	snapmgr_cow_store_unref(s);
	if (fflush(stdout) != 0 || ferror(stdout))
		return fail("stdout", -EIO, "write error");
	return r;
}

const struct cmd cmd_inspect = {
	.name = "inspect",
	.run = run,
	.help = "check a snapshot's persistent exception store (COW), read-only",
};
