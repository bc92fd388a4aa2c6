/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapctl prune: retention by hand, the policy a schedule applies. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapctl.h"

static void help(void)
{
	printf("Usage:\n"
	       " snapctl prune [options] ORIGIN|SET_SCHEDULE --keep N\n"
	       " snapctl prune [options] ORIGIN|SET_SCHEDULE --older-than AGE\n"
	       "\n"
	       "Remove the oldest snapshots of ORIGIN beyond a retention policy, or\n"
	       "the oldest snapshot sets of the set schedule SET_SCHEDULE, whole. Only\n"
	       "snapshots a snapmgrd schedule made are ever removed (their record says\n"
	       "which); a snapshot made by hand is never touched, whatever its name.\n"
	       "\n"
	       "Options:\n"
	       " -k, --keep N           keep the N newest scheduled snapshots\n"
	       "     --older-than AGE   remove only snapshots older than AGE\n"
	       "                        (seconds, or with s, min, h, d, w: 90min, 7d)\n"
	       "     --schedule NAME    only the snapshots of schedule NAME\n"
	       " -n, --dry-run          remove nothing, list what would be removed\n"
	       " -J, --json             print {\"origin\" (or \"set_schedule\"), \"dry_run\",\n"
	       "                        \"removed\": [names]}\n"
	       " -h, --help             display this help\n"
	       "\n"
	       "For more details see snapctl(8).\n");
}

static int print_json(const char *key, const char *object, bool dry_run, char **names)
{
	struct json_object *doc = json_object_new_object();
	struct json_object *arr = json_object_new_array();

	if (!doc || !arr) {
		json_object_put(doc);
		json_object_put(arr);
		return -ENOMEM;
	}
	for (char **n = names; n && *n; n++)
		json_object_array_add(arr, json_object_new_string(*n));
	json_object_object_add(doc, key, json_object_new_string(object));
	json_object_object_add(doc, "dry_run", json_object_new_boolean(dry_run));
	json_object_object_add(doc, "removed", arr);
	puts(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
	return 0;
}

static int run(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	enum { OPT_OLDER_THAN = 0x100, OPT_SCHEDULE };
	static const struct option options[] = {
		{ "keep", required_argument, NULL, 'k' },
		{ "older-than", required_argument, NULL, OPT_OLDER_THAN },
		{ "schedule", required_argument, NULL, OPT_SCHEDULE },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct snapmgr_prune_opts o = SNAPMGR_OPTS(struct snapmgr_prune_opts);
	_cleanup_strv_ char **names = NULL;
	const char *key = "origin";
	bool json = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "k:nJh", options, NULL)) != -1) {
		switch (c) {
		case 'k': {
			char *end;
			unsigned long v;

			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end || errno ||
			    v > UINT_MAX)
				return usage_error("prune", "--keep takes a whole number");
			o.keep = (unsigned int)v;
			o.has_keep = true;
			break;
		}
		case OPT_OLDER_THAN:
			if (snapmgr_parse_duration(optarg, &o.older_than) < 0 ||
			    o.older_than == 0)
				return usage_error("prune",
						   "--older-than takes an age such as 3600, 90min, 12h or 7d");
			break;
		case OPT_SCHEDULE: o.schedule = optarg; break;
		case 'n': o.dry_run = true; break;
		case 'J': json = true; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error("prune", "bad option");
		}
	}
	if (optind >= argc)
		return usage_error("prune", "no origin named");
	if (optind + 1 < argc)
		return usage_error("prune", "one origin at a time");
	if (!o.has_keep && !o.older_than)
		return usage_error("prune", "give --keep N, --older-than AGE, or both");
	o.origin = argv[optind];
	/*
	 * A set schedule's name first (a dry run finds whether it made
	 * sets; asked for a dry run, it is the answer): its sets go whole.
	 * Else an origin, whose own errors stand.
	 */
	if (!o.schedule) {
		struct snapmgr_prune_opts so = o;

		so.origin = NULL;
		so.schedule = argv[optind];
		so.dry_run = true;
		r = snapmgr_prune_sets(ctx, &so, &names);
		if (r >= 0) {
			key = "set_schedule";
			if (!o.dry_run) {
				strv_free(TAKE_PTR(names));
				so.dry_run = false;
				r = snapmgr_prune_sets(ctx, &so, &names);
				if (r < 0)
					return fail_lib(ctx, argv[optind], r);
			}
		} else if (r != -ENOENT)
			return fail_lib(ctx, argv[optind], r);
	}
	if (!names) {
		r = snapmgr_prune(ctx, &o, &names);
		if (r < 0)
			return fail_lib(ctx, o.origin, r);
	}
	if (json)
		return print_json(key, argv[optind], o.dry_run, names) < 0 ?
			       EXIT_FAILURE_RUNTIME : EXIT_OK;
	for (char **n = names; *n; n++)
		printf("%s%s\n", o.dry_run ? "would remove " : "removed ", *n);
	return EXIT_OK;
}

const struct cmd cmd_prune = {
	.name = "prune",
	.run = run,
	.help = "remove the oldest scheduled snapshots beyond a policy",
};
