/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapmgr_changes_since(): the blocks of a tracked origin written since a
 * change token, and snapmgr_tracking_to_json().
 *
 * Never from live metadata: dm-era is asked for a metadata snapshot
 * (take_metadata_snap, which also moves to a new era and commits), that
 * frozen copy is read by thin-provisioning-tools' era_invalidate
 * (--metadata-snapshot --written-since ERA: every block whose era, in the
 * era array or in a writeset not yet digested into it, is ERA or later),
 * and the snapshot is dropped. Why nothing written is missed: dm-era holds
 * a write to a block not yet marked in the current era until that mark is
 * committed, and the metadata snapshot's commit includes the current era's
 * writeset, so every write that completed before the call is in it.
 *
 * era_invalidate prints a flat XML list: <blocks>, then <block block="N"/>
 * and <range begin="B" end="E"/> (E exclusive) lines, then </blocks>. That
 * fixed shape is parsed here strictly, line by line; anything else is an
 * error, never skipped.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changes.h"
#include "era.h"
#include "error-private.h"
#include "stack.h"
#include "tool.h"

/* era_invalidate's output for 2^32 blocks in the worst case is large. */
#define ERA_XML_MAX (UINT64_C(1) << 30)

static int full_backup(struct snapmgr_ctx *ctx, const char *why)
{
	return snapmgr_error(ctx, -ESTALE, "full backup needed: %s", why);
}

/* One line of era_invalidate's list, as blocks [*b, *e). 1: a block line. */
static int parse_line(const char *line, uint64_t *b, uint64_t *e)
{
	unsigned long long x, y;
	int n = -1;

	while (*line == ' ' || *line == '\t')
		line++;
	if (!*line || streq(line, "<blocks>") || streq(line, "</blocks>"))
		return 0;
	if (sscanf(line, "<block block=\"%llu\"/>%n", &x, &n) == 1 && n > 0 &&
	    line[n] == '\0') {
		*b = x;
		*e = x + 1;
		return 1;
	}
	n = -1;
	/* 0.9.0 prints `end = "E"`; the spaces are matched loosely. */
	if (sscanf(line, "<range begin=\"%llu\" end = \"%llu\"/>%n", &x, &y, &n) == 2 &&
	    n > 0 && line[n] == '\0' && y > x) {
		*b = x;
		*e = y;
		return 1;
	}
	return -EBADMSG;
}

int era_parse_blocks(struct snapmgr_ctx *ctx, char *xml, uint64_t block_size,
		     uint64_t origin_size, struct snapmgr_range **ret, size_t *ret_n)
{
	_cleanup_free_ struct snapmgr_range *ranges = NULL;
	size_t n = 0, cap = 0;
	uint64_t last_end = 0;
	char *save = NULL;
	bool seen_open = false, seen_close = false;

	for (char *line = strtok_r(xml, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		uint64_t b, e, off, len;
		int r = parse_line(line, &b, &e);

		if (r < 0)
			return snapmgr_error(ctx, r, "era_invalidate printed an unexpected line: %.80s", line);
		if (strstr(line, "</blocks>"))
			seen_close = true;
		else if (strstr(line, "<blocks>"))
			seen_open = true;
		if (r == 0)
			continue;
		if (!seen_open || seen_close || b < last_end || b > UINT64_MAX / block_size ||
		    (off = b * block_size) >= origin_size)
			return snapmgr_error(ctx, -EBADMSG,
					     "era_invalidate listed block %" PRIu64 " out of order or past the origin's end",
					     b);
		last_end = e;
		len = (e - b) * block_size;
		/* The last block may be partial: the origin ends there. */
		if (e > UINT64_MAX / block_size || len > origin_size - off)
			len = origin_size - off;
		if (n && ranges[n - 1].offset + ranges[n - 1].length == off) {
			ranges[n - 1].length += len;
			continue;
		}
		if (n == cap) {
			struct snapmgr_range *p;

			cap = cap ? 2 * cap : 64;
			p = realloc(ranges, cap * sizeof(*p));
			if (!p)
				return -ENOMEM;
			ranges = p;
		}
		ranges[n++] = (struct snapmgr_range){ off, len };
	}
	if (!seen_open || !seen_close)
		return snapmgr_error(ctx, -EBADMSG, "era_invalidate's list is incomplete (no <blocks> ... </blocks>)");
	*ret = TAKE_PTR(ranges);
	*ret_n = n;
	return 0;
}

/* The blocks of the era layer written in era or later, from a metadata snapshot. */
static int era_blocks_since(struct snapmgr_ctx *ctx, const struct origin_record *rec,
			    uint32_t era, struct snapmgr_range **ret, size_t *ret_n)
{
	const struct track_record *t = rec->tracking;
	_cleanup_free_ char *xml = NULL;
	char name[ERA_NAME_MAX], since[16];
	struct era_status st;
	int r, k;

	era_name(rec->name, name);
	r = era_status(ctx, rec->name, &st);
	if (r < 0)
		return r;
	/* One left held by a reader that crashed: ours (we hold the lock). */
	if (st.metadata_snap_held) {
		r = smdm_message(ctx, name, "drop_metadata_snap", NULL);
		if (r < 0)
			return r;
	}
	r = smdm_message(ctx, name, "take_metadata_snap", NULL);
	if (r < 0)
		return r;
	snprintf(since, sizeof(since), "%" PRIu32, era);
	{
		char *argv[] = { "era_invalidate", "--metadata-snapshot", "--written-since",
				 since, t->metadata_device, NULL };

		r = tool_run(ctx, argv, 0, "thin-provisioning-tools", &xml, ERA_XML_MAX);
	}
	/* Dropped whatever happened: a held snapshot pins metadata blocks. */
	k = smdm_message(ctx, name, "drop_metadata_snap", NULL);
	if (r < 0)
		return r;
	if (k < 0)
		return k;
	return era_parse_blocks(ctx, xml, t->block_size, rec->sectors * 512, ret, ret_n);
}

static int changes_since_locked(struct snapmgr_ctx *ctx, const char *name,
				const char *token, struct snapmgr_changes **ret)
{
	_cleanup_record_ struct origin_record *rec = NULL;
	struct snap_entry *entry = NULL;
	struct snapmgr_range *ranges = NULL;
	char id[33], why[256];
	struct era_status st;
	uint32_t era;
	size_t n = 0;
	int r;

	if (token_parse(token, id, &era) < 0)
		return snapmgr_error(ctx, -EINVAL, "'%s' is not a change token", token);
	/* A snapshot's name, else an origin's. */
	if (record_load_of(ctx, name, &rec, &entry) < 0) {
		r = origin_record_by_name(ctx, name, &rec);
		if (r == -ENODEV)
			return snapmgr_error(ctx, -ENOENT, "no snapshot or origin named '%s' is managed by snapmgr", name);
		if (r < 0)
			return r;
	}
	if (!rec->tracking)
		return full_backup(ctx, "the origin is not tracked (it was untracked, or never tracked)");
	if (rec->tracking->state != TRACK_ACTIVE) {
		snprintf(why, sizeof(why), "the origin's tracking is being %s ('snapctl %s %s' finishes it)",
			 rec->tracking->state == TRACK_STARTING ? "set up" : "taken out",
			 rec->tracking->state == TRACK_STARTING ? "track" : "untrack", rec->name);
		return full_backup(ctx, why);
	}
	if (!streq(id, rec->tracking->id))
		return full_backup(ctx, "the token is from other change tracking (this origin was untracked and tracked again since, or the token is another origin's)");
	r = era_status(ctx, rec->name, &st);
	if (r < 0)
		return r;
	if (era > st.era) {
		snprintf(why, sizeof(why), "the token's era %" PRIu32 " is ahead of the origin's era %" PRIu32 " (not from this metadata)",
			 era, st.era);
		return full_backup(ctx, why);
	}
	if (entry) {
		char sid[33];
		uint32_t sera;

		if (entry->state != SNAP_ACTIVE)
			return snapmgr_error(ctx, -EBUSY, "snapshot %s is %s, not active", entry->name,
					     snap_state_to_string(entry->state));
		if (!entry->change_token || token_parse(entry->change_token, sid, &sera) < 0 ||
		    !streq(sid, id))
			return full_backup(ctx, "the snapshot was taken before this tracking began");
		if (sera < era) {
			snprintf(why, sizeof(why), "snapshot %s is older than the token (era %" PRIu32 " < %" PRIu32 ")",
				 entry->name, sera, era);
			return full_backup(ctx, why);
		}
	}
	r = era_blocks_since(ctx, rec, era, &ranges, &n);
	if (r < 0)
		return r;
	return changes_new_tracked(entry ? entry->name : NULL, rec->name, token, era,
				   rec->sectors * 512, rec->tracking->block_size, ranges, n, ret);
}

_public_ int snapmgr_changes_since(struct snapmgr_ctx *ctx, const char *name,
				   const char *token, struct snapmgr_changes **ret)
{
	_cleanup_(unlockp) int lock = -1;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !name || !token || !ret)
		return -EINVAL;
	/* The lock: one metadata snapshot at a time, and no untrack meanwhile. */
	r = op_begin(ctx, &lock);
	if (r < 0)
		return r;
	return changes_since_locked(ctx, name, token, ret);
}

static json_object *tracking_json(struct snapmgr_ctx *ctx, const struct origin_record *rec)
{
	const struct track_record *t = rec->tracking;
	json_object *o = json_object_new_object();
	struct era_status st;
	bool have = false;

	if (!o)
		return NULL;
	if (t->state == TRACK_ACTIVE)
		have = era_status(ctx, rec->name, &st) == 0;
	json_object_object_add(o, "origin", json_object_new_string(rec->name));
	json_object_object_add(o, "state", json_object_new_string(track_state_to_string(t->state)));
	json_object_object_add(o, "block_size", json_object_new_uint64(t->block_size));
	json_object_object_add(o, "metadata_device",
			       t->metadata_device ? json_object_new_string(t->metadata_device) : NULL);
	json_object_object_add(o, "metadata_file",
			       t->metadata_file ? json_object_new_string(t->metadata_file) : NULL);
	json_object_object_add(o, "era", have ? json_object_new_uint64(st.era) : NULL);
	json_object_object_add(o, "metadata_used_bytes",
			       have ? json_object_new_uint64(st.metadata_used * st.metadata_block_sectors * 512) : NULL);
	json_object_object_add(o, "metadata_total_bytes",
			       have ? json_object_new_uint64(st.metadata_total * st.metadata_block_sectors * 512) : NULL);
	json_object_object_add(o, "metadata_fill_percent",
			       have ? json_object_new_double(100.0 * (double)st.metadata_used / (double)st.metadata_total) : NULL);
	return o;
}

_public_ int snapmgr_tracking_to_json(struct snapmgr_ctx *ctx, const char *origin,
				      struct json_object **ret)
{
	_cleanup_strv_ char **origins = NULL;
	json_object *arr;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !ret)
		return -EINVAL;
	r = record_list(&origins);
	if (r < 0)
		return r;
	arr = json_object_new_array();
	if (!arr)
		return -ENOMEM;
	for (char **o = origins; *o; o++) {
		_cleanup_record_ struct origin_record *rec = NULL;

		if (origin && !streq(*o, origin))
			continue;
		/* A damaged record is status's to report, not this list's. */
		if (record_load(ctx, *o, &rec) < 0 || !rec->tracking)
			continue;
		if (json_object_array_add(arr, tracking_json(ctx, rec)) < 0) {
			json_object_put(arr);
			return -ENOMEM;
		}
	}
	snapmgr_clear_error(ctx);
	if (origin && json_object_array_length(arr) == 0) {
		json_object_put(arr);
		return snapmgr_error(ctx, -ENOENT, "origin %s is not tracked", origin);
	}
	*ret = arr;
	return 0;
}
