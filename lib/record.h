/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What is needed to re-assemble our stacks after a reboot: one JSON file per
 * origin under the state directory (default /var/lib/snapmgr, or
 * $SNAPMGR_STATE_DIR), written atomically (write, fsync, rename, fsync the
 * directory). The dm tables are the truth when the two disagree.
 *
 * JSON is only the file format: a record is parsed and validated once, in
 * record_load(), into a struct origin_record, and written once, from it, by
 * record_save(). Nothing else in lib/ reads or writes record JSON.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libsnapmgr-private.h"

/*
 * Versions: 1 is every record before snapshot sets; 2 adds an entry's set
 * membership ("set", "set_wrapped_origin"). This code reads both, and
 * writes the lowest version that holds the record: 1 while no entry
 * belongs to a set, so a record without sets stays readable by a snapmgr
 * from before sets (a downgrade); 2 as soon as one does, so that older
 * snapmgr refuses it ("unknown version 2") rather than silently dropping
 * the membership. 3 adds change tracking (the origin's "tracking", an
 * entry's "change_token"), written only when the record has either. A
 * later change bumps to 4 the same way.
 */
#define RECORD_VERSION_MIN 1
#define RECORD_VERSION 3

/*
 * Where a snapshot is in its life. Every multi-step operation records the
 * state it is in before its first dm change, so a re-run after a crash
 * knows what to finish. The on-disk strings are record.c's alone.
 */
enum snap_state {
	SNAP_CREATING,      /* create started, not finished */
	SNAP_ACTIVE,
	SNAP_REMOVING,      /* remove started, not finished */
	SNAP_MERGE_PENDING, /* merge asked for while the devices were open */
	SNAP_MERGING,       /* the origin is (or is to become) snapshot-merge */
	SNAP_MERGE_FAILED,  /* the kernel stopped the merge */
	_SNAP_STATE_MAX,
};

const char *snap_state_to_string(enum snap_state s);
/* -EINVAL for a string no version of snapmgr wrote. */
int snap_state_from_string(const char *s, enum snap_state *ret);

struct snap_entry {
	char *name;
	char *id;
	enum snap_state state;
	uint64_t chunk_size; /* bytes */
	char *cow_device;    /* NULL until a COW file is attached */
	char *cow_file;      /* absolute; NULL when given a COW device */
	uint64_t cow_size;   /* bytes, with cow_file */
	bool cow_file_created;
	/* The COW's usage when the merge started, for its progress. */
	bool has_merge_usage;
	uint64_t merge_start_used, merge_metadata; /* sectors */
	char *merge_error;
	/* Version 2: the snapshot set (lib/set.c) it belongs to, or NULL. */
	char *set;
	/*
	 * The set's create wrapped this origin for it: undoing the set after
	 * a failed pre-hook releases the origin too, so nothing is left.
	 */
	bool set_wrapped_origin;
	/*
	 * When the snapshot was made (seconds since the epoch) and, when a
	 * [schedule:NAME] of snapmgrd made it, NAME. Records written before
	 * these keys existed load with created 0 and schedule NULL: made by
	 * hand, so prune never removes them.
	 */
	int64_t created;
	char *schedule;
	/*
	 * Version 3: the change token of a snapshot of a tracked origin
	 * (lib/token.c), or NULL. Saved conservative (the era before the
	 * snapshot's suspend) while creating, exact once created.
	 */
	char *change_token;
};

/*
 * Change tracking with dm-era (lib/track.c): NAME-era (uuid
 * SNAPMGR-era-<origin id>) maps the device beneath NAME-real, so every
 * write to the origin, merges included, passes through it.
 */
enum track_state {
	TRACK_STARTING, /* track started, not finished: no token exists yet */
	TRACK_ACTIVE,
	TRACK_STOPPING, /* untrack started, not finished: tokens are void */
	_TRACK_STATE_MAX,
};

const char *track_state_to_string(enum track_state s);
int track_state_from_string(const char *s, enum track_state *ret);

struct track_record {
	char *id; /* new at every track: a token names the tracking it is of */
	enum track_state state;
	uint64_t block_size;     /* bytes */
	char *metadata_device;   /* NULL until a metadata file is attached */
	char *metadata_file;     /* absolute; NULL when given a device */
	uint64_t metadata_size;  /* bytes, with metadata_file */
	bool metadata_file_created;
};

void track_record_free(struct track_record *t);
static inline void track_record_freep(struct track_record **t)
{
	track_record_free(*t);
}

struct origin_record {
	char *name;
	char *id;
	char *device; /* the path it was wrapped from */
	char *devnum; /* "major:minor" of device, re-read at activation */
	uint64_t sectors;
	bool unwrapped; /* no snapshot left: NAME is linear over device */
	struct track_record *tracking; /* version 3; NULL when not tracked */
	size_t n_snapshots;
	struct snap_entry *snapshots;
};

void origin_record_free(struct origin_record *rec);
static inline void origin_record_freep(struct origin_record **rec)
{
	origin_record_free(*rec);
}
#define _cleanup_record_ _cleanup_(origin_record_freep)

/* A new record with no snapshots. */
int origin_record_new(const char *name, const char *id, const char *device,
		      const char *devnum, uint64_t sectors,
		      struct origin_record **ret);

const char *state_dir(void);
/*
 * -ENOENT when there is no record for that origin (no message); -EBADMSG
 * with a one-line message naming the file when it cannot be trusted:
 * not JSON, truncated, a key missing or of the wrong type, an unknown
 * version or state.
 */
int record_load(struct snapmgr_ctx *ctx, const char *origin,
		struct origin_record **ret);
int record_save(struct snapmgr_ctx *ctx, const struct origin_record *rec);
int record_delete(struct snapmgr_ctx *ctx, const char *origin);

/* Parses record text; path names the file in messages (record_load's core). */
int record_parse(struct snapmgr_ctx *ctx, const char *path, const char *origin,
		 const char *text, size_t len, struct origin_record **ret);
/* The JSON text record_save() writes; free() it. */
int record_format(const struct origin_record *rec, char **ret_text);

/* The entry named snap, or NULL. */
struct snap_entry *record_find_snapshot(struct origin_record *rec,
					const char *snap);
/* The entry merging (or whose merge failed), or NULL: at most one is. */
struct snap_entry *record_merging(struct origin_record *rec);
/* Appends a zeroed entry (pointers to other entries become invalid). */
int record_add_snapshot(struct origin_record *rec, struct snap_entry **ret);
/* Drops entry (a pointer into rec) and frees what it holds. */
void record_remove_snapshot(struct origin_record *rec, struct snap_entry *entry);

/* Replaces *field with a copy of value (NULL clears it). */
int set_string(char **field, const char *value);

/* The names of all origins with a record (NULL-terminated; strv_free). */
int record_list(char ***ret_origins);
/*
 * A walk over every origin's record that loads: a damaged one is passed
 * over and never hides the others. rec is the current one, freed by the
 * next step unless the walker takes it (TAKE_PTR).
 *
 *   _cleanup_(record_iter_done) struct record_iter it = {};
 *   while ((r = record_next(ctx, &it)) > 0)
 *           ... it.rec ...
 */
struct record_iter {
	char **origins;
	size_t next;
	struct origin_record *rec;
};
/* 1 with it->rec the next record, 0 when there is none, or -errno. */
int record_next(struct snapmgr_ctx *ctx, struct record_iter *it);
void record_iter_done(struct record_iter *it);

/* Finds the origin whose record lists snap; -ENOENT if none. */
int record_find_origin_of(struct snapmgr_ctx *ctx, const char *snap,
			  char **ret_origin);
/*
 * The record that lists snap, loaded once (the one looked in is the one
 * returned), and snap's entry in it (ret_entry may be NULL); -ENOENT,
 * with no message, if no record lists snap.
 */
int record_load_of(struct snapmgr_ctx *ctx, const char *snap,
		   struct origin_record **ret_rec, struct snap_entry **ret_entry);
