/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapctl list: every dm snapshot on the host, as a libsmartcols table. */
#include <getopt.h>
#include <inttypes.h>
#include <libsmartcols.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapctl.h"

enum col { COL_NAME, COL_OWNER, COL_ORIGIN, COL_ORIGIN_DEV, COL_COW, COL_CHUNK,
	   COL_SIZE, COL_USED, COL_FILL, COL_STATE, COL_SET, COL_TOKEN };

static const struct column {
	const char *name;
	double whint;
	int flags;
	int json_type;
	const char *help;
} columns[] = {
	[COL_NAME] = { "NAME", 0.2, 0, SCOLS_JSON_STRING, "snapshot (dm) name" },
	[COL_OWNER] = { "OWNER", 0.1, 0, SCOLS_JSON_STRING, "snapmgr, lvm2 or other" },
	[COL_ORIGIN] = { "ORIGIN", 0.2, 0, SCOLS_JSON_STRING, "origin (dm) name" },
	[COL_ORIGIN_DEV] = { "ORIGIN-DEV", 0.2, 0, SCOLS_JSON_STRING, "device under the origin" },
	[COL_COW] = { "COW", 0.2, 0, SCOLS_JSON_STRING, "COW device" },
	[COL_CHUNK] = { "CHUNK", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "chunk size in bytes" },
	[COL_SIZE] = { "SIZE", 8, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "COW size in bytes" },
	[COL_USED] = { "USED", 8, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "COW bytes used" },
	[COL_FILL] = { "FILL%", 6, SCOLS_FL_RIGHT, SCOLS_JSON_NUMBER, "percent of the COW used" },
	[COL_STATE] = { "STATE", 0.1, 0, SCOLS_JSON_STRING, "active, invalid, overflow, merging, merge_failed" },
	[COL_SET] = { "SET", 0.1, 0, SCOLS_JSON_STRING, "the snapshot set it belongs to" },
	[COL_TOKEN] = { "TOKEN", 0.3, 0, SCOLS_JSON_STRING, "change token (its origin was tracked)" },
};

static const int default_columns[] = { COL_NAME, COL_OWNER, COL_ORIGIN, COL_COW,
				       COL_SIZE, COL_FILL, COL_STATE, COL_SET };

static void help(void)
{
	printf("Usage:\n"
	       " snapctl list [options]\n"
	       "\n"
	       "List every device-mapper snapshot on this host: snapctl's, lvm2's and others'.\n"
	       "\n"
	       "Options:\n"
	       " -o, --output LIST   columns to show (comma-separated)\n"
	       " -n, --noheadings    don't print headings\n"
	       " -r, --raw           raw output\n"
	       " -b, --bytes         sizes in bytes (always so in JSON)\n"
	       " -J, --json          JSON output: {\"snapshots\": [...]}\n"
	       " -h, --help          display this help\n"
	       "\n"
	       "Columns:\n");
	for (size_t i = 0; i < ELEMENTSOF(columns); i++)
		printf(" %11s  %s\n", columns[i].name, columns[i].help);
	printf("\nFor more details see snapctl(8).\n");
}

static int column_by_name(const char *name, size_t len)
{
	for (size_t i = 0; i < ELEMENTSOF(columns); i++)
		if (strlen(columns[i].name) == len && strncasecmp(columns[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

static char *size_string(uint64_t bytes, bool raw_bytes)
{
	char *s;

	if (raw_bytes)
		return asprintf(&s, "%" PRIu64, bytes) < 0 ? NULL : s;
	/* Like lsblk: one decimal, binary units. */
	static const char units[] = "BKMGTPE";
	double v = (double)bytes;
	int u = 0;

	while (v >= 1024 && u < 6) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		return asprintf(&s, "%" PRIu64 "B", bytes) < 0 ? NULL : s;
	return asprintf(&s, "%.1f%c", v, units[u]) < 0 ? NULL : s;
}

static char *cell(const struct snapmgr_snapshot *s, enum col c, bool bytes)
{
	uint64_t size, used;
	bool usage = snapmgr_snapshot_get_usage(s, &size, &used, NULL);
	const char *v = NULL;
	char *out = NULL;

	switch (c) {
	case COL_NAME: v = snapmgr_snapshot_get_name(s); break;
	case COL_OWNER: v = snapmgr_owner_to_string(snapmgr_snapshot_get_owner(s)); break;
	case COL_ORIGIN: v = snapmgr_snapshot_get_origin(s); break;
	case COL_ORIGIN_DEV: v = snapmgr_snapshot_get_origin_device(s); break;
	case COL_COW: v = snapmgr_snapshot_get_cow_device(s); break;
	case COL_STATE: v = snapmgr_state_to_string(snapmgr_snapshot_get_state(s)); break;
	case COL_SET: v = snapmgr_snapshot_get_set(s); break;
	case COL_TOKEN: v = snapmgr_snapshot_get_change_token(s); break;
	case COL_CHUNK:
		return asprintf(&out, "%" PRIu64, snapmgr_snapshot_get_chunk_size(s)) < 0 ? NULL : out;
	case COL_SIZE:
		return usage ? size_string(size, bytes) : NULL;
	case COL_USED:
		return usage ? size_string(used, bytes) : NULL;
	case COL_FILL:
		return asprintf(&out, "%.2f", snapmgr_snapshot_get_fill_percent(s)) < 0 ? NULL : out;
	}
	return v ? strdup(v) : NULL;
}

static int run(struct snapmgr_ctx *ctx, int argc, char *argv[])
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "noheadings", no_argument, NULL, 'n' },
		{ "raw", no_argument, NULL, 'r' },
		{ "bytes", no_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int cols[ELEMENTSOF(columns)];
	size_t ncols = 0;
	bool json = false, raw = false, noheadings = false, bytes = false;
	const char *output = NULL;
	struct snapmgr_snapshot **list = NULL;
	struct libscols_table *tb;
	int c, r;

	while ((c = getopt_long(argc, argv, "o:nrbJh", options, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case 'n': noheadings = true; break;
		case 'r': raw = true; break;
		case 'b': bytes = true; break;
		case 'J': json = true; break;
		case 'h': help(); return EXIT_OK;
		default: return usage_error("list", "bad option");
		}
	}
	if (check_operands("list", argc, argv, 0, NULL))
		return EXIT_USAGE;
	if (output) {
		for (const char *p = output; *p;) {
			size_t len = strcspn(p, ",");
			int idx = column_by_name(p, len);

			if (idx < 0)
				return usage_error("list", "unknown column '%.*s'", (int)len, p);
			if (ncols == ELEMENTSOF(cols))
				return usage_error("list", "too many columns");
			cols[ncols++] = idx;
			p += len + (p[len] == ',');
		}
	} else {
		for (size_t i = 0; i < ELEMENTSOF(default_columns); i++)
			cols[ncols++] = default_columns[i];
	}
	if (json)
		bytes = true;

	r = snapmgr_snapshot_list(ctx, &list);
	if (r < 0)
		return fail_lib(ctx, "list", r);

	scols_init_debug(0);
	tb = scols_new_table();
	if (!tb) {
		snapmgr_snapshot_list_free(list);
		return fail("list", -ENOMEM, NULL);
	}
	scols_table_set_name(tb, "snapshots");
	scols_table_enable_json(tb, json);
	scols_table_enable_raw(tb, raw);
	scols_table_enable_noheadings(tb, noheadings);
	for (size_t i = 0; i < ncols; i++) {
		const struct column *col = &columns[cols[i]];
		struct libscols_column *cl = scols_table_new_column(tb, col->name, col->whint, col->flags);

		if (!cl)
			goto oom;
		scols_column_set_json_type(cl, col->json_type);
	}
	for (struct snapmgr_snapshot **p = list; *p; p++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		if (!ln)
			goto oom;
		for (size_t i = 0; i < ncols; i++) {
			char *v = cell(*p, cols[i], bytes);

			if (v && scols_line_refer_data(ln, i, v) < 0) {
				free(v);
				goto oom;
			}
		}
	}
	scols_print_table(tb);
	scols_unref_table(tb);
	snapmgr_snapshot_list_free(list);
	return EXIT_OK;
oom:
	scols_unref_table(tb);
	snapmgr_snapshot_list_free(list);
	return fail("list", -ENOMEM, NULL);
}

const struct cmd cmd_list = {
	.name = "list",
	.run = run,
	.help = "list every device-mapper snapshot on this host",
};
