/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsnapmgr: everything snapctl and snapmgrd share.
 *
 * Conventions (as in kmod and systemd): functions that can fail return a
 * negative errno; output parameters are named ret_* and are written only on
 * success; objects are opaque and reference counted, and *_unref() accepts
 * NULL and returns NULL. The library never prints: messages go to the log
 * function the caller sets with snapmgr_set_log_fn().
 *
 * Sized structs. Option structs (struct snapmgr_*_opts and struct
 * snapmgr_set_member), which the caller fills in, and result structs
 * (struct snapmgr_usage, snapmgr_device_facts, snapmgr_advice_candidate,
 * snapmgr_merge_progress, snapmgr_transfer_stats, snapmgr_dm_event), which
 * the library fills in, begin with their own size, so a later libsnapmgr
 * can add fields at their end without an ABI break. The caller declares
 * them with SNAPMGR_OPTS(type, fields...) or SNAPMGR_RESULT(type), which
 * set it.
 * - Options: the library takes the fields the caller's size covers, the
 *   rest as zero (a program built against an older libsnapmgr); a struct
 *   longer than the library's own with any of the extra bytes set is
 *   refused with -EOPNOTSUPP (a program asking for what this library
 *   cannot do).
 * - Results: the library writes only the fields the caller's size covers
 *   and sets size to the bytes it wrote, so a program built against a
 *   newer libsnapmgr sees, with SNAPMGR_HAS_FIELD(), that a field it knows
 *   was not filled in by an older library. Structs the library hands out
 *   (a snapmgr_dm_event, the stats a progress callback gets) carry the
 *   library's own size.
 * A size smaller than a size_t (0: not set up) is refused with -EINVAL.
 *
 * Collections. A list handed to the caller is a NULL-terminated array
 * (snapshots, events, names), freed with its *_free() call or, for names,
 * each string and then the array. A collection inside an object is read
 * by index from 0: a getter returning int gives -ENOENT past the last, one
 * returning a pointer NULL; a *_count() call, where there is one, gives
 * the same number.
 *
 * No value. A string or object that is not there is NULL; a double is NAN;
 * an integer is 0 only where 0 cannot be a real value (sizes, durations,
 * block sizes: each such field or getter says so), otherwise the getter
 * returns -ENODATA, or a struct has a bool has_* beside the field. -ENOENT
 * means "no such object" (by name or index), never "no value".
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct snapmgr_ctx;

/* An initializer: struct snapmgr_create_opts o = SNAPMGR_OPTS(struct snapmgr_create_opts, .snapshot = "s"); */
#define SNAPMGR_OPTS(type, ...) { .size = sizeof(type), __VA_ARGS__ }
/* struct snapmgr_usage u = SNAPMGR_RESULT(struct snapmgr_usage); */
#define SNAPMGR_RESULT(type) { .size = sizeof(type) }
/* Whether a result struct's field was filled in (see "Sized structs"). */
#define SNAPMGR_HAS_FIELD(ptr, type, field)                                 \
	((ptr)->size >= offsetof(type, field) + sizeof(((type *)0)->field))

/* Library version, e.g. "0.1.0". */
const char *snapmgr_version(void);

int snapmgr_new(struct snapmgr_ctx **ret_ctx);
struct snapmgr_ctx *snapmgr_ref(struct snapmgr_ctx *ctx);
struct snapmgr_ctx *snapmgr_unref(struct snapmgr_ctx *ctx);

/*
 * Log messages are delivered with a syslog priority (LOG_ERR..LOG_DEBUG).
 * Messages above the threshold set by snapmgr_set_log_priority() are dropped
 * before formatting. The default threshold is LOG_ERR; the default function
 * discards everything, because a library must not write to stderr on its own.
 */
typedef void (*snapmgr_log_fn)(void *data, int priority, const char *file,
			       int line, const char *fn, const char *format,
			       va_list args);
void snapmgr_set_log_fn(struct snapmgr_ctx *ctx, snapmgr_log_fn fn,
			void *data);
/*
 * One line saying why the last failed call failed, more precise than its
 * errno ("has an ext4 filesystem on it"), or NULL. Every call that takes
 * the context clears it first, so it never belongs to an earlier call: NULL
 * after a success or a failure that had nothing to add to its errno. The
 * line does not name the object the call was about; callers add that
 * (snapctl prints "snapctl: <object>: <reason>").
 */
const char *snapmgr_get_error(const struct snapmgr_ctx *ctx);
void snapmgr_clear_error(struct snapmgr_ctx *ctx);
int snapmgr_get_log_priority(const struct snapmgr_ctx *ctx);
void snapmgr_set_log_priority(struct snapmgr_ctx *ctx, int priority);

/*
 * Sizes: decimal bytes with an optional suffix K, M, G, T (or KiB, MiB,
 * GiB, TiB; case-insensitive letter), all powers of 1024. Signs, blanks,
 * fractions and "KB" are refused (-EINVAL); values above UINT64_MAX give
 * -ERANGE.
 */
int snapmgr_parse_size(const char *s, uint64_t *ret_bytes);

/*
 * Offline, read-only view of a dm-snapshot persistent exception store (the
 * COW device of a "snapshot ... P|PO <chunk>" table), read the way the
 * kernel's dm-snap-persistent.c reads it when the snapshot is loaded. The
 * whole store is parsed and checked when the object is created; what is
 * wrong with it is reported as findings, not as an error. Creation fails
 * (-errno) only on I/O errors, lack of memory, or more exceptions than
 * SNAPMGR_COW_MAX_EXCEPTIONS (-E2BIG).
 */
struct snapmgr_cow_store;

#define SNAPMGR_COW_MAGIC 0x70416e53U /* "SnAp", little-endian */
#define SNAPMGR_COW_MAX_EXCEPTIONS (UINT64_C(1) << 24)

enum snapmgr_severity {
	SNAPMGR_SEVERITY_INFO,    /* worth knowing; the store is fine */
	SNAPMGR_SEVERITY_WARNING, /* the kernel loads it, but something is off */
	SNAPMGR_SEVERITY_ERROR,   /* unusable or inconsistent */
};
const char *snapmgr_severity_to_string(enum snapmgr_severity severity);

enum snapmgr_cow_finding {
	SNAPMGR_COW_TRUNCATED,           /* the kernel would read past the end */
	SNAPMGR_COW_NOT_INITIALISED,     /* magic 0: the kernel starts afresh */
	SNAPMGR_COW_BAD_MAGIC,
	SNAPMGR_COW_BAD_VERSION,
	SNAPMGR_COW_BAD_CHUNK_SIZE,
	SNAPMGR_COW_INVALIDATED,         /* valid = 0 */
	SNAPMGR_COW_ODD_VALID_FLAG,      /* valid neither 0 nor 1 */
	SNAPMGR_COW_PARTIAL_CHUNK,       /* size not a multiple of the chunk */
	SNAPMGR_COW_NEW_CHUNK_PAST_END,
	SNAPMGR_COW_NEW_CHUNK_ON_METADATA,
	SNAPMGR_COW_DUPLICATE_NEW_CHUNK,
	SNAPMGR_COW_DUPLICATE_OLD_CHUNK,
	SNAPMGR_COW_OLD_CHUNK_PAST_ORIGIN,
	SNAPMGR_COW_LEFTOVER_DATA,       /* non-zero entries after the end */
	SNAPMGR_COW_HOLES,               /* unused chunks below the next free */
	_SNAPMGR_COW_FINDING_MAX,
};
/* A stable name, e.g. "duplicate-old-chunk"; NULL for unknown values. */
const char *snapmgr_cow_finding_to_string(enum snapmgr_cow_finding finding);

/*
 * Reads len bytes at offset into buf; returns the number of bytes read
 * (fewer only at the end) or -errno.
 */
typedef int64_t (*snapmgr_read_fn)(void *userdata, void *buf, size_t len,
				   uint64_t offset);

/* origin_size: the origin's size in bytes, or 0 when unknown. */
int snapmgr_cow_store_open(struct snapmgr_ctx *ctx, const char *path,
			   uint64_t origin_size,
			   struct snapmgr_cow_store **ret_store);
int snapmgr_cow_store_new_from_buffer(struct snapmgr_ctx *ctx,
				      const void *buf, size_t size,
				      uint64_t origin_size,
				      struct snapmgr_cow_store **ret_store);
int snapmgr_cow_store_new_from_reader(struct snapmgr_ctx *ctx,
				      snapmgr_read_fn read_fn, void *userdata,
				      uint64_t size, uint64_t origin_size,
				      struct snapmgr_cow_store **ret_store);
struct snapmgr_cow_store *
snapmgr_cow_store_ref(struct snapmgr_cow_store *store);
struct snapmgr_cow_store *
snapmgr_cow_store_unref(struct snapmgr_cow_store *store);

/* Header; meaningful only when the magic matched. */
uint64_t snapmgr_cow_store_get_size(const struct snapmgr_cow_store *store);
uint32_t snapmgr_cow_store_get_magic(const struct snapmgr_cow_store *store);
bool snapmgr_cow_store_get_valid(const struct snapmgr_cow_store *store);
uint32_t snapmgr_cow_store_get_version(const struct snapmgr_cow_store *store);
uint32_t
snapmgr_cow_store_get_chunk_sectors(const struct snapmgr_cow_store *store);
uint32_t
snapmgr_cow_store_get_exceptions_per_area(const struct snapmgr_cow_store *store);

/*
 * What the kernel would load: the exceptions before the end of the list,
 * the metadata areas it reads (the last one holds the end of the list), and
 * the usage `dmsetup status` would show: used sectors (allocated/total) and
 * metadata sectors (header plus areas). Holes are chunks below the next
 * free chunk that no exception uses, left by out-of-order commits.
 */
uint64_t
snapmgr_cow_store_get_exception_count(const struct snapmgr_cow_store *store);
uint64_t
snapmgr_cow_store_get_metadata_areas(const struct snapmgr_cow_store *store);
uint64_t
snapmgr_cow_store_get_used_sectors(const struct snapmgr_cow_store *store);
uint64_t
snapmgr_cow_store_get_metadata_sectors(const struct snapmgr_cow_store *store);
uint64_t
snapmgr_cow_store_get_hole_chunks(const struct snapmgr_cow_store *store);

/*
 * Iterates in on-disk order: index 0, 1, ... until -ENOENT.
 */
int snapmgr_cow_store_get_exception(const struct snapmgr_cow_store *store,
				    uint64_t index, uint64_t *ret_old_chunk,
				    uint64_t *ret_new_chunk);

/* Findings, most in on-disk order; -ENOENT past the last one. */
size_t
snapmgr_cow_store_get_finding_count(const struct snapmgr_cow_store *store);
int snapmgr_cow_store_get_finding(const struct snapmgr_cow_store *store,
				  size_t index,
				  enum snapmgr_cow_finding *ret_finding,
				  enum snapmgr_severity *ret_severity,
				  const char **ret_message);
/* The highest severity found, or -ENODATA when there are no findings. */
int snapmgr_cow_store_get_worst_severity(const struct snapmgr_cow_store *store);
/*
 * True when the kernel would load the store as a valid snapshot and nothing
 * worse than an info finding was seen.
 */
bool snapmgr_cow_store_is_consistent(const struct snapmgr_cow_store *store);

/*
 * Snapshots: every dm snapshot on the host, ours (dm UUIDs starting with
 * SNAPMGR_UUID_PREFIX), lvm2's ("LVM-") and any other. Objects are a
 * snapshot's state when it was read; read again for fresh numbers.
 */
#define SNAPMGR_UUID_PREFIX "SNAPMGR-"

struct snapmgr_snapshot;
struct json_object;

enum snapmgr_owner {
	SNAPMGR_OWNER_SNAPMGR,
	SNAPMGR_OWNER_LVM2,
	SNAPMGR_OWNER_OTHER,
};
const char *snapmgr_owner_to_string(enum snapmgr_owner owner);

enum snapmgr_state {
	SNAPMGR_STATE_ACTIVE,
	SNAPMGR_STATE_INVALID,      /* the kernel dropped it (I/O error, full) */
	SNAPMGR_STATE_OVERFLOW,     /* the COW filled up */
	SNAPMGR_STATE_MERGING,
	SNAPMGR_STATE_MERGE_FAILED,
};
const char *snapmgr_state_to_string(enum snapmgr_state state);

/* A NULL-terminated array; free with snapmgr_snapshot_list_free(). */
int snapmgr_snapshot_list(struct snapmgr_ctx *ctx,
			  struct snapmgr_snapshot ***ret_list);
void snapmgr_snapshot_list_free(struct snapmgr_snapshot **list);
/* -ENOENT when no snapshot has that dm name. */
int snapmgr_snapshot_get(struct snapmgr_ctx *ctx, const char *name,
			 struct snapmgr_snapshot **ret);
struct snapmgr_snapshot *snapmgr_snapshot_ref(struct snapmgr_snapshot *s);
struct snapmgr_snapshot *snapmgr_snapshot_unref(struct snapmgr_snapshot *s);

const char *snapmgr_snapshot_get_name(const struct snapmgr_snapshot *s);
const char *snapmgr_snapshot_get_uuid(const struct snapmgr_snapshot *s);
enum snapmgr_owner snapmgr_snapshot_get_owner(const struct snapmgr_snapshot *s);
enum snapmgr_state snapmgr_snapshot_get_state(const struct snapmgr_snapshot *s);
/* The snapshot-origin device's name; NULL when none is active. */
const char *snapmgr_snapshot_get_origin(const struct snapmgr_snapshot *s);
const char *snapmgr_snapshot_get_origin_device(const struct snapmgr_snapshot *s);
const char *snapmgr_snapshot_get_cow_device(const struct snapmgr_snapshot *s);
/* The file behind a loop-device COW, else NULL. */
const char *snapmgr_snapshot_get_cow_file(const struct snapmgr_snapshot *s);
/* The snapshot set it belongs to (snapmgr_set_create()), or NULL. */
const char *snapmgr_snapshot_get_set(const struct snapmgr_snapshot *s);
uint64_t snapmgr_snapshot_get_chunk_size(const struct snapmgr_snapshot *s);
int snapmgr_snapshot_get_open_count(const struct snapmgr_snapshot *s);
/* False when the kernel reports no usage (invalid, overflowed). */
bool snapmgr_snapshot_get_usage(const struct snapmgr_snapshot *s,
				uint64_t *ret_size, uint64_t *ret_used,
				uint64_t *ret_metadata);
double snapmgr_snapshot_get_fill_percent(const struct snapmgr_snapshot *s);
/* Our module's counters; false (and NULL values) on other modules. */
bool snapmgr_snapshot_has_counters(const struct snapmgr_snapshot *s);
const char *snapmgr_snapshot_get_counter(const struct snapmgr_snapshot *s,
					 const char *key);
/*
 * Whether the loaded dm-snapshot module holds bypassed full-chunk writes
 * until the submitter's plug is released (snapmgr's module, parameter
 * snapshot_bypass_batching). -ENOENT when the parameter does not exist:
 * Debian's module, or none loaded.
 */
int snapmgr_get_bypass_batching(struct snapmgr_ctx *ctx, bool *ret_on);
/*
 * Whether the loaded dm-snapshot module reads an origin chunk once for all
 * the snapshots that copy it (snapmgr's module from patchlevel 1005,
 * parameter snapshot_shared_copy). -ENOENT when the parameter does not
 * exist.
 */
int snapmgr_get_shared_copy(struct snapmgr_ctx *ctx, bool *ret_on);
/* The object docs/status.schema.json describes for one snapshot. */
int snapmgr_snapshot_to_json(const struct snapmgr_snapshot *s,
			     struct json_object **ret);

/*
 * Watching (lib/watch.c), for snapmgrd. snapmgr_events_open() returns an fd
 * on /dev/mapper/control, armed: it polls readable once any dm device's
 * event number moves (a snapshot was invalidated, ...) or a device is
 * created, removed or given a new table. Call snapmgr_events_arm() before
 * rescanning, then poll again.
 */
int snapmgr_events_open(struct snapmgr_ctx *ctx, int *ret_fd);
int snapmgr_events_arm(struct snapmgr_ctx *ctx, int fd);

/*
 * Every dm device's name and event number, sorted by name, from one
 * DM_LIST_DEVICES ioctl (lib/dm-events.c): after a wake-up, the devices
 * whose number moved raised an event (an invalidated snapshot does); when
 * the names are the same and no number moved, a table changed.
 * -EOPNOTSUPP on kernels before 4.13, whose list has no numbers.
 */
struct snapmgr_dm_event {
	size_t size; /* the library's sizeof(struct snapmgr_dm_event) */
	char *name;
	uint32_t event_nr;
};
/* A NULL-terminated array; free with snapmgr_events_list_free(). */
int snapmgr_events_list(struct snapmgr_ctx *ctx,
			struct snapmgr_dm_event ***ret_list);
void snapmgr_events_list_free(struct snapmgr_dm_event **list);

/* One snapshot's usage now, in one status ioctl. */
struct snapmgr_usage {
	size_t size; /* sizeof(struct snapmgr_usage): SNAPMGR_RESULT() */
	enum snapmgr_state state;
	bool has_usage; /* false when invalid or overflowed */
	uint64_t size_bytes, used_bytes, metadata_bytes;
	uint32_t event_nr;
};
/* -ENXIO when the device is gone or no longer a snapshot. */
int snapmgr_snapshot_read_usage(struct snapmgr_ctx *ctx, const char *name,
				struct snapmgr_usage *ret);

/*
 * Grows a COW file to new_size bytes (a multiple of 512; never shrinks it)
 * and makes loop_dev, the loop device over it, take the new size; the
 * snapshot sees it at once. Safe to repeat. ret_size: the loop device's size.
 */
int snapmgr_extend_cow_file(struct snapmgr_ctx *ctx, const char *cow_file,
			    const char *loop_dev, uint64_t new_size,
			    uint64_t *ret_size);

/*
 * Policy configuration (snapmgrd.conf(5)): DIR/snapmgrd.conf, then every
 * file named *.conf in DIR/snapmgrd.conf.d in lexical order; a later file
 * overrides an earlier one key by key. dir NULL means SNAPMGR_CONF_DIR
 * (/etc/snapmgr); missing files and directories are fine.
 *
 * Loading is all or nothing. On failure (-EINVAL for any error in a file,
 * -errno when a file or directory cannot be read, -ENOMEM; but not for
 * invalid arguments, -EINVAL without a message) nothing is
 * returned in ret_config and, if reterr_message is not NULL, it is set to a
 * newly allocated one-line message naming the file and line, e.g.
 * "/etc/snapmgr/snapmgrd.conf:12: extend_threshold: '150' is not a
 * percentage between 1 and 100" (NULL if even that allocation failed); the
 * caller frees it and keeps using its previous configuration. On success
 * *reterr_message is left alone.
 */
struct snapmgr_config;

int snapmgr_config_load(struct snapmgr_ctx *ctx, const char *dir,
			struct snapmgr_config **ret_config,
			char **reterr_message);
struct snapmgr_config *snapmgr_config_ref(struct snapmgr_config *config);
struct snapmgr_config *snapmgr_config_unref(struct snapmgr_config *config);

/* [daemon]: listen_metrics as written, NULL when metrics are off. */
const char *
snapmgr_config_get_listen_metrics(const struct snapmgr_config *config);
/* Its host (IPv6 without brackets) and port; -ENODATA when off. */
int snapmgr_config_get_metrics_address(const struct snapmgr_config *config,
				       const char **ret_host,
				       uint16_t *ret_port);
const char *snapmgr_config_get_socket_path(const struct snapmgr_config *config);
/* Seconds. */
unsigned int
snapmgr_config_get_poll_interval_max(const struct snapmgr_config *config);
/* Seconds an alert_command may run before it is killed. */
unsigned int
snapmgr_config_get_alert_timeout(const struct snapmgr_config *config);
/* A syslog priority, LOG_ERR..LOG_DEBUG. */
int snapmgr_config_get_log_level(const struct snapmgr_config *config);

/*
 * The policy of one snapshot, by its device-mapper name: built-in defaults,
 * then every [defaults] section, then every [snapshot:GLOB] section whose
 * GLOB matches the name (fnmatch(3)), each in the order read and each
 * overriding only the keys it sets. The policy is a copy: it stays valid
 * after the configuration is unreferenced.
 */
struct snapmgr_policy;

enum snapmgr_extend_unit {
	SNAPMGR_EXTEND_PERCENT, /* percent of the current COW size */
	SNAPMGR_EXTEND_BYTES,
};

int snapmgr_policy_for(const struct snapmgr_config *config,
		       const char *snapshot_name,
		       struct snapmgr_policy **ret_policy);
struct snapmgr_policy *snapmgr_policy_ref(struct snapmgr_policy *policy);
struct snapmgr_policy *snapmgr_policy_unref(struct snapmgr_policy *policy);

/* Optional values: -ENODATA when unset (no extension, no limit). */
int snapmgr_policy_get_extend_threshold(const struct snapmgr_policy *policy,
					unsigned int *ret_percent);
int snapmgr_policy_get_max_cow_size(const struct snapmgr_policy *policy,
				    uint64_t *ret_bytes);
/* NULL when unset. */
const char *
snapmgr_policy_get_alert_command(const struct snapmgr_policy *policy);
/* Always set (built-in 20%). */
int snapmgr_policy_get_extend_by(const struct snapmgr_policy *policy,
				 enum snapmgr_extend_unit *ret_unit,
				 uint64_t *ret_value);
/* Percent, built-in 80. */
unsigned int
snapmgr_policy_get_warn_threshold(const struct snapmgr_policy *policy);
/* Built-in true; extension also needs extend_threshold. */
bool snapmgr_policy_get_autoextend(const struct snapmgr_policy *policy);
/*
 * The COW size after one extension from cow_size bytes: grown by extend_by
 * (rounded up to whole 512-byte sectors), capped at max_cow_size. -ENOSPC
 * when max_cow_size leaves no room to grow.
 */
int snapmgr_policy_next_cow_size(const struct snapmgr_policy *policy,
				 uint64_t cow_size, uint64_t *ret_size);

/*
 * Our stacks on raw block devices (see lib/stack.c): create wraps DEV on
 * first use as NAME-real (linear) + NAME (snapshot-origin), then adds the
 * snapshot. Both calls serialise on a lock file under /run/snapmgr (or
 * $SNAPMGR_RUN_DIR), keep records under /var/lib/snapmgr (or
 * $SNAPMGR_STATE_DIR), and are safe to run again after a crash at any step.
 * On failure snapmgr_get_error() says why in one line.
 */
#define SNAPMGR_NAME_MAX 127
/* The exit status of a crash injected with SNAPMGR_DEBUG_CRASH_AT. */
#define SNAPMGR_CRASH_EXIT 99

int snapmgr_check_name(struct snapmgr_ctx *ctx, const char *name);

struct snapmgr_create_opts {
	size_t size; /* sizeof(struct snapmgr_create_opts): SNAPMGR_OPTS() */
	const char *snapshot;    /* dm name of the new snapshot */
	const char *origin;      /* a block device path, or an origin's name */
	const char *origin_name; /* name when wrapping; default basename(DEV) */
	const char *cow_device;  /* a block device for the COW, or */
	const char *cow_file;    /* a file to create, of cow_size bytes */
	uint64_t cow_size;
	uint64_t chunk_size;     /* bytes: a power of two, 4 KiB .. 512 KiB */
	bool force;              /* use a COW device with a signature on it */
	/*
	 * LIBSNAPMGR_0.4: also track the origin (snapmgr_track(), its origin
	 * field ignored) before the snapshot is taken, so that the snapshot
	 * has a change token; nothing when it is tracked already. NULL: no.
	 */
	const struct snapmgr_track_opts *track;
};
struct snapmgr_track_opts;
int snapmgr_create(struct snapmgr_ctx *ctx, const struct snapmgr_create_opts *opts);

enum {
	SNAPMGR_REMOVE_FORCE = 1 << 0,  /* even when open: holders get EIO */
	SNAPMGR_REMOVE_UNWRAP = 1 << 1, /* last one: origin back to linear */
	/* last one: the origin's dm device and record go (refused when open) */
	SNAPMGR_REMOVE_RELEASE = 1 << 2,
};
int snapmgr_remove(struct snapmgr_ctx *ctx, const char *snapshot, unsigned flags);

/*
 * Snapshot sets (lib/set.c): one snapshot of each of several origins, all
 * holding the same instant. Member i is named "SET-ORIGIN", ORIGIN being
 * the name the origin has (or gets) under snapmgr: for a raw device path
 * its origin_name, default the path's base name (/dev/loop0: "loop0"); for
 * one of our origins (NAME or /dev/mapper/NAME): NAME. Every origin is
 * suspended (which freezes a filesystem on it) before the first snapshot
 * is loaded and resumed only after the last. pre_hook runs (sh -c, with
 * SNAPMGR_SET and SNAPMGR_HOOK=pre|post in its environment) just before
 * the suspend, post_hook just after the resume, each killed with its
 * process group after hook_timeout seconds (0: 60), which counts as a
 * failure. A hook must not call snapctl: the lock is held.
 *
 * Returns 0; -ECANCELED when the pre-hook failed (the set was undone:
 * nothing is left of it, origins wrapped for it are released); -ECHILD
 * when the set was created but the post-hook failed; other -errno as
 * snapmgr_create(). Safe to run again after a crash at any step: the
 * re-run completes the set (see snapctl(8), SETS), or
 * snapmgr_set_remove() undoes it.
 */
struct snapmgr_set_member {
	size_t size; /* sizeof(struct snapmgr_set_member): SNAPMGR_OPTS() */
	const char *origin;      /* as snapmgr_create_opts */
	const char *origin_name;
	const char *cow_device;
	const char *cow_file;
	uint64_t cow_size;
	uint64_t chunk_size;
};
struct snapmgr_set_opts {
	size_t size; /* sizeof(struct snapmgr_set_opts): SNAPMGR_OPTS() */
	const char *name;
	size_t n_members;
	const struct snapmgr_set_member *members;
	bool force;
	const char *pre_hook, *post_hook; /* NULL: none */
	unsigned hook_timeout;            /* seconds; 0: 60 */
};
int snapmgr_set_create(struct snapmgr_ctx *ctx, const struct snapmgr_set_opts *opts);
/* 1 when some record lists a snapshot of set name, 0 when none does. */
int snapmgr_set_exists(struct snapmgr_ctx *ctx, const char *name);
/* The set's member snapshots, sorted (NULL-terminated; free each and it). */
int snapmgr_set_members(struct snapmgr_ctx *ctx, const char *name, char ***ret_members);
/* Removes every member (flags as snapmgr_remove()); -ENOENT: no such set. */
int snapmgr_set_remove(struct snapmgr_ctx *ctx, const char *name, unsigned flags);
/*
 * Starts the merge of every member, or of none: -EBUSY (or the reason's
 * errno) with the first member that cannot merge now, and why, when one
 * cannot (open, invalid, inactive, its origin busy merging another).
 * A set is never deferred member by member.
 */
int snapmgr_set_merge_start(struct snapmgr_ctx *ctx, const char *name);

/*
 * Schedules and retention (lib/prune.c). snapmgr_create_scheduled() is
 * snapmgr_create() that also records, in the snapshot's record, that the
 * [schedule:NAME] schedule made it (and every create records when). Only
 * such snapshots are ever pruned: a snapshot made by hand is never touched,
 * whatever its name.
 */
int snapmgr_create_scheduled(struct snapmgr_ctx *ctx,
			     const struct snapmgr_create_opts *opts,
			     const char *schedule);

struct snapmgr_prune_opts {
	size_t size; /* sizeof(struct snapmgr_prune_opts): SNAPMGR_OPTS() */
	const char *origin;   /* an origin's name */
	const char *schedule; /* only this schedule's snapshots; NULL: any */
	bool has_keep;        /* keep the newest keep snapshots */
	unsigned int keep;
	uint64_t older_than;  /* seconds: only older ones go; 0: any age */
	bool dry_run;         /* remove nothing, just name them */
};
/*
 * Removes, oldest first, the snapshots of origin that a schedule made and
 * that the policy does not keep: beyond the has_keep newest, and (with
 * older_than) older than that. At least one of the two must be given
 * (-EINVAL). Snapshots being created, removed or merged are neither
 * counted nor removed. ret_names (may be NULL): the names removed (or, with
 * dry_run, that would be), oldest first, NULL-terminated; free each and the
 * array. On failure the ones before the failing one are gone.
 */
int snapmgr_prune(struct snapmgr_ctx *ctx, const struct snapmgr_prune_opts *opts,
		  char ***ret_names);
/*
 * Sets a schedule made (snapmgr_set_create_scheduled()), kept whole. A
 * member of a set is never pruned by snapmgr_prune(); this applies the
 * policy to the sets that opts->schedule (required) made, on any origin
 * (opts->origin is not used): a set counts once, as old as its oldest
 * member, and only when every member is active; a set goes whole
 * (snapmgr_set_remove()). ret_names: the sets removed, oldest first.
 */
int snapmgr_set_create_scheduled(struct snapmgr_ctx *ctx,
				 const struct snapmgr_set_opts *opts,
				 const char *schedule);
int snapmgr_prune_sets(struct snapmgr_ctx *ctx, const struct snapmgr_prune_opts *opts,
		       char ***ret_names);
/*
 * Durations: a decimal number with an optional unit, s (the default), min,
 * h, d or w: "90", "10s", "5min", "1h", "7d". Blanks, signs, fractions and
 * other units are refused (-EINVAL); overflow gives -ERANGE.
 */
int snapmgr_parse_duration(const char *s, uint64_t *ret_seconds);

/*
 * [schedule:NAME] sections of snapmgrd.conf(5), in the order first read;
 * a schedule belongs to its configuration (valid while it is referenced).
 * Loading refuses a schedule without origin, cow_dir, cow_size, interval
 * and keep or keep_for.
 */
struct snapmgr_schedule;
size_t snapmgr_config_get_schedule_count(const struct snapmgr_config *config);
/* NULL past the end. */
const struct snapmgr_schedule *
snapmgr_config_get_schedule(const struct snapmgr_config *config, size_t index);
const char *snapmgr_schedule_get_name(const struct snapmgr_schedule *s);
const char *snapmgr_schedule_get_origin(const struct snapmgr_schedule *s);
/*
 * A set schedule (origins = A B ...): its origins, NULL-terminated; then
 * snapmgr_schedule_get_origin() is NULL. NULL for a one-origin schedule.
 */
const char *const *snapmgr_schedule_get_origins(const struct snapmgr_schedule *s);
const char *snapmgr_schedule_get_cow_dir(const struct snapmgr_schedule *s);
uint64_t snapmgr_schedule_get_cow_size(const struct snapmgr_schedule *s);
/* Seconds. */
uint64_t snapmgr_schedule_get_interval(const struct snapmgr_schedule *s);
/* -ENODATA when only keep_for is set. */
int snapmgr_schedule_get_keep(const struct snapmgr_schedule *s,
			      unsigned int *ret_keep);
/* Seconds; 0 when unset. */
uint64_t snapmgr_schedule_get_keep_for(const struct snapmgr_schedule *s);
/* Shell commands, NULL when unset. */
const char *snapmgr_schedule_get_pre_hook(const struct snapmgr_schedule *s);
const char *snapmgr_schedule_get_post_hook(const struct snapmgr_schedule *s);

/*
 * Chunk size advice (lib/workload.c, lib/advise.c). A workload is the list
 * of writes (byte offset, byte length) seen on a device, from a blkparse
 * text trace, from the kernel's block_bio_queue trace events, from
 * /proc-style I/O counters (average write size only), or added by hand.
 */
struct snapmgr_workload;

enum snapmgr_workload_source {
	SNAPMGR_WORKLOAD_MANUAL,    /* snapmgr_workload_add_write() */
	SNAPMGR_WORKLOAD_BLKPARSE,  /* a blkparse text trace */
	SNAPMGR_WORKLOAD_TRACEFS,   /* block_bio_queue events, sampled live */
	SNAPMGR_WORKLOAD_DISKSTATS, /* /sys/block/DEV/stat deltas: imprecise */
	SNAPMGR_WORKLOAD_DEVICE,    /* made up from device and fs facts */
};
const char *snapmgr_workload_source_to_string(enum snapmgr_workload_source s);

int snapmgr_workload_new(struct snapmgr_ctx *ctx,
			 struct snapmgr_workload **ret);
struct snapmgr_workload *snapmgr_workload_ref(struct snapmgr_workload *w);
struct snapmgr_workload *snapmgr_workload_unref(struct snapmgr_workload *w);
/* length > 0; -EINVAL otherwise, -E2BIG past SNAPMGR_WORKLOAD_MAX_WRITES. */
#define SNAPMGR_WORKLOAD_MAX_WRITES (UINT64_C(1) << 24)
int snapmgr_workload_add_write(struct snapmgr_workload *w, uint64_t offset,
			       uint64_t length);
/*
 * blkparse(1) default text output ("MAJ,MIN CPU SEQ TIME PID ACTION RWBS
 * SECTOR + COUNT [PROC]"): writes are lines whose RWBS contains 'W' with
 * action Q (queued bios, what a dm target is given); a trace without any
 * Q write falls back to C (completions). devnum 0 takes every device, else
 * only lines of that device. -EINVAL with snapmgr_get_error() naming the
 * line when a line that looks like an event cannot be parsed.
 */
int snapmgr_workload_read_blkparse(struct snapmgr_ctx *ctx, const char *path,
				   uint64_t devnum,
				   struct snapmgr_workload **ret);
/*
 * Samples the writes to the block device at path for seconds: through
 * tracefs (block_bio_queue in a private trace instance) when it is mounted
 * at /sys/kernel/tracing, else from /sys/block/DEV/stat deltas (then only
 * the average write size is known: the workload is made of writes of that
 * size, aligned, and snapmgr_workload_get_note() says so).
 */
int snapmgr_workload_sample(struct snapmgr_ctx *ctx, const char *path,
			    unsigned int seconds, struct snapmgr_workload **ret);
enum snapmgr_workload_source
snapmgr_workload_get_source(const struct snapmgr_workload *w);
/* Why the workload is less than exact, or NULL. */
const char *snapmgr_workload_get_note(const struct snapmgr_workload *w);
uint64_t snapmgr_workload_get_write_count(const struct snapmgr_workload *w);
uint64_t snapmgr_workload_get_bytes(const struct snapmgr_workload *w);
double snapmgr_workload_get_seconds(const struct snapmgr_workload *w);
/*
 * Histograms over power-of-two buckets from 512 bytes to 1 MiB (the last
 * bucket takes everything larger): write sizes rounded up, and alignment =
 * the largest power of two dividing the offset. -ENOENT past the last.
 */
#define SNAPMGR_WORKLOAD_BUCKETS 12
int snapmgr_workload_get_size_bucket(const struct snapmgr_workload *w,
				     unsigned int index, uint64_t *ret_bytes,
				     uint64_t *ret_count);
int snapmgr_workload_get_alignment_bucket(const struct snapmgr_workload *w,
					  unsigned int index,
					  uint64_t *ret_bytes,
					  uint64_t *ret_count);
int snapmgr_workload_get_write(const struct snapmgr_workload *w,
			       uint64_t index, uint64_t *ret_offset,
			       uint64_t *ret_length);

/*
 * I/O limits and filesystem facts of a device; 0 or "" when unknown. A
 * result of snapmgr_device_facts_probe() and, to snapmgr_advise(), an
 * option struct: made up by hand, set it up with SNAPMGR_OPTS().
 */
struct snapmgr_device_facts {
	size_t size; /* sizeof(struct snapmgr_device_facts) */
	uint32_t logical_block_size;
	uint32_t physical_block_size;
	uint32_t minimum_io_size;
	uint32_t optimal_io_size;
	bool rotational;
	char fs_type[32];
	uint32_t fs_block_size;
	uint32_t raid_stride;       /* bytes (ext4 s_raid_stride * block) */
	uint32_t raid_stripe_width; /* bytes */
};
int snapmgr_device_facts_probe(struct snapmgr_ctx *ctx, const char *path,
			       struct snapmgr_device_facts *ret);

enum {
	SNAPMGR_ADVISE_BACKUP = 1 << 0, /* the workload writes the origin */
	SNAPMGR_ADVISE_CLONE = 1 << 1,  /* the workload writes the snapshot */
};
#define SNAPMGR_ADVISE_CHUNK_MIN 4096U
#define SNAPMGR_ADVISE_CHUNK_MAX 524288U

struct snapmgr_advice;
struct snapmgr_advice_candidate {
	size_t size; /* sizeof(struct snapmgr_advice_candidate): SNAPMGR_RESULT() */
	uint64_t chunk_size;
	double bypass_fraction;  /* of snapshot chunk writes; NAN: none */
	double copy_ratio;       /* origin bytes copied per byte written */
	double cow_per_gib;      /* COW bytes allocated per GiB written */
	double cost;             /* predicted time, relative to the best (1.0) */
};
/*
 * Predicts, for every chunk size from 4 KiB to 512 KiB, what the writes of
 * workload cost when they go to the origin (BACKUP), to the snapshot
 * (CLONE) or both, and recommends one. workload NULL: a workload made up
 * from facts (random writes of the RAID stripe width, else the filesystem
 * block, else the physical block size). facts may be NULL.
 */
int snapmgr_advise(struct snapmgr_ctx *ctx,
		   const struct snapmgr_device_facts *facts,
		   const struct snapmgr_workload *workload, unsigned int targets,
		   struct snapmgr_advice **ret);
struct snapmgr_advice *snapmgr_advice_ref(struct snapmgr_advice *a);
struct snapmgr_advice *snapmgr_advice_unref(struct snapmgr_advice *a);
uint64_t snapmgr_advice_get_chunk_size(const struct snapmgr_advice *a);
/* One-line reasons, most important first; NULL past the last. */
const char *snapmgr_advice_get_reason(const struct snapmgr_advice *a,
				      size_t index);
int snapmgr_advice_get_candidate(const struct snapmgr_advice *a,
				 size_t index,
				 struct snapmgr_advice_candidate *ret);
/* The document docs/advise.schema.json describes. */
int snapmgr_advice_to_json(const struct snapmgr_advice *a,
			   struct json_object **ret);

/*
 * Merging a snapshot back into its origin (lib/merge.c). start: the origin
 * switches to snapshot-merge and reads the snapshot's data at once; when
 * the origin or the snapshot is open the request is recorded instead
 * (*ret_deferred) and starts at the next snapmgr_activate(). progress:
 * -EINVAL when the snapshot is not merging; done once the kernel has copied
 * everything back. finalise (by the snapshot's name or its origin's, the
 * name the merging device is listed under): back to snapshot-origin (or
 * linear when no snapshot is left), the COW released; 0 when there is
 * nothing to finalise, -EINPROGRESS while merging, -EIO when the kernel
 * stopped the merge.
 */
struct snapmgr_merge_progress {
	size_t size; /* sizeof(struct snapmgr_merge_progress): SNAPMGR_RESULT() */
	bool pending;  /* deferred: waits for the devices to be closed */
	bool done;
	bool failed;   /* merge_failed: the origin stays usable */
	double percent;
	uint64_t total_bytes;     /* data to merge when it started */
	uint64_t remaining_bytes;
};
int snapmgr_merge_start(struct snapmgr_ctx *ctx, const char *snapshot, bool *ret_deferred);
int snapmgr_merge_progress(struct snapmgr_ctx *ctx, const char *snapshot,
			   struct snapmgr_merge_progress *ret);
int snapmgr_merge_finalise(struct snapmgr_ctx *ctx, const char *snapshot);
/*
 * The same, for an event loop: -EAGAIN at once, instead of waiting, while
 * another snapctl (a create, a remove...) holds the lock; try again later.
 */
int snapmgr_merge_finalise_nowait(struct snapmgr_ctx *ctx, const char *snapshot);

/*
 * Re-assembles our stacks from their records (origin NULL: all of them):
 * idempotent. *ret_failed counts origins that could not be activated.
 */
int snapmgr_activate(struct snapmgr_ctx *ctx, const char *origin, unsigned *ret_failed);

/*
 * Incremental backups (LIBSNAPMGR_0.2). Changes (lib/changes.c): the
 * origin extents written since a snapshot was taken, from its persistent
 * exception store read while it is active (O_DIRECT, read-only), for any
 * dm snapshot, lvm2's too. Ranges are in bytes, sorted, merged, whole
 * chunks (granularity) except where the origin ends. A snapshot that is
 * invalid, overflowed, merging or transient is refused (-ESTALE, -EBUSY,
 * -EOPNOTSUPP) with snapmgr_get_error() saying "changes unknown: ...".
 */
struct snapmgr_changes;

enum snapmgr_changes_format {
	SNAPMGR_CHANGES_RANGES,   /* docs/changes.schema.json */
	SNAPMGR_CHANGES_RBD_JSON, /* what `rbd diff --format=json` prints */
};

int snapmgr_changes_get(struct snapmgr_ctx *ctx, const char *snapshot,
			struct snapmgr_changes **ret);
struct snapmgr_changes *snapmgr_changes_ref(struct snapmgr_changes *c);
struct snapmgr_changes *snapmgr_changes_unref(struct snapmgr_changes *c);
const char *snapmgr_changes_get_snapshot(const struct snapmgr_changes *c);
/* The snapshot-origin's name, or NULL. */
const char *snapmgr_changes_get_origin(const struct snapmgr_changes *c);
uint64_t snapmgr_changes_get_origin_size(const struct snapmgr_changes *c);
uint64_t snapmgr_changes_get_granularity(const struct snapmgr_changes *c);
uint64_t snapmgr_changes_get_changed_bytes(const struct snapmgr_changes *c);
size_t snapmgr_changes_get_range_count(const struct snapmgr_changes *c);
/* -ENOENT past the last range. */
int snapmgr_changes_get_range(const struct snapmgr_changes *c, size_t index,
			      uint64_t *ret_offset, uint64_t *ret_length);
int snapmgr_changes_to_json(const struct snapmgr_changes *c,
			    enum snapmgr_changes_format format,
			    struct json_object **ret);

/*
 * Export (lib/export.c) copies a snapshot's data out: everything, or with
 * since (an older snapshot of the same origin) the extents its changes
 * list, read from snapshot. Into output (a new file, or "-": stdout) or in
 * place into target (an image file, created sparse for a full export, or
 * a block device of the origin's size). Import (lib/import-diff.c) applies
 * an rbd-diff stream (input a file or "-": stdin) to target. On failure
 * snapmgr_get_error() says why in one line.
 */
enum snapmgr_export_format {
	SNAPMGR_EXPORT_RAW,
	SNAPMGR_EXPORT_RBD_DIFF, /* Ceph's "rbd diff v1" stream */
};

/*
 * ret_stats of export and import may be NULL; the progress callback gets
 * the library's own (size: its sizeof).
 */
struct snapmgr_transfer_stats {
	size_t size; /* sizeof(struct snapmgr_transfer_stats): SNAPMGR_RESULT() */
	uint64_t total_bytes;   /* to go through: image bytes covered */
	uint64_t done_bytes;    /* of total_bytes, so far */
	uint64_t bytes_read;    /* read from the snapshot (or the stream) */
	uint64_t bytes_written; /* data written out (zeros skipped) */
	uint64_t zero_bytes;    /* runs of zeros: holes, 'z' records */
	double seconds;
};
typedef void (*snapmgr_progress_fn)(void *userdata,
				    const struct snapmgr_transfer_stats *stats);

struct snapmgr_export_opts {
	size_t size; /* sizeof(struct snapmgr_export_opts): SNAPMGR_OPTS() */
	const char *snapshot;
	const char *since;  /* NULL: a full export; an older snapshot or a change token */
	const char *output; /* exactly one of output and target */
	const char *target;
	enum snapmgr_export_format format;
	snapmgr_progress_fn progress; /* about every 256 MiB or second */
	void *userdata;
};
int snapmgr_export(struct snapmgr_ctx *ctx,
		   const struct snapmgr_export_opts *opts,
		   struct snapmgr_transfer_stats *ret_stats);

struct snapmgr_import_opts {
	size_t size; /* sizeof(struct snapmgr_import_opts): SNAPMGR_OPTS() */
	const char *input;
	const char *target;
	const char *expect_from; /* the stream's 'f' name must be this */
	snapmgr_progress_fn progress;
	void *userdata;
};
/*
 * -EBADMSG for a corrupt or truncated stream: nothing after the bad
 * record was written (a stream from a regular file is checked whole
 * before anything is written).
 */
int snapmgr_import_diff(struct snapmgr_ctx *ctx,
			const struct snapmgr_import_opts *opts,
			struct snapmgr_transfer_stats *ret_stats);

/*
 * Mounting a snapshot's filesystem (lib/mount.c, LIBSNAPMGR_0.3), by its
 * own dm node (never UUID= or LABEL=, which the origin shares), the type
 * from libblkid, read-only by default with what the type needs to show a
 * crash-consistent image without writing to it: XFS ro,nouuid,norecovery,
 * ext3/ext4 ro,noload, others ro (snapctl(8), MOUNT). options: the user's
 * -o list, or NULL. Refused, with snapmgr_get_error() saying why: an
 * invalid or merging snapshot, a directory that is not empty or already a
 * mount point, a snapshot already mounted, SNAPMGR_MOUNT_RW on a
 * read-only device or on a snapshot snapmgr did not make (lvm2's, ...),
 * NEW_UUID without RW, -o rw without RW.
 */
struct snapmgr_mount;

enum {
	SNAPMGR_MOUNT_RW = 1 << 0,       /* writable: the clone's own data */
	SNAPMGR_MOUNT_NEW_UUID = 1 << 1, /* with RW: a new filesystem UUID */
};

int snapmgr_mount(struct snapmgr_ctx *ctx, const char *snapshot,
		  const char *directory, unsigned flags, const char *options,
		  struct snapmgr_mount **ret);
struct snapmgr_mount *snapmgr_mount_ref(struct snapmgr_mount *m);
struct snapmgr_mount *snapmgr_mount_unref(struct snapmgr_mount *m);
const char *snapmgr_mount_get_snapshot(const struct snapmgr_mount *m);
/* "/dev/mapper/NAME": what was mounted. */
const char *snapmgr_mount_get_device(const struct snapmgr_mount *m);
/* The canonical path mounted on. */
const char *snapmgr_mount_get_directory(const struct snapmgr_mount *m);
const char *snapmgr_mount_get_fstype(const struct snapmgr_mount *m);
/* The whole option list, e.g. "ro,nouuid,norecovery,noatime". */
const char *snapmgr_mount_get_options(const struct snapmgr_mount *m);
bool snapmgr_mount_get_read_only(const struct snapmgr_mount *m);
/*
 * What the caller should tell the user (a duplicate UUID, a journal not
 * replayed), one line each; NULL past the last.
 */
const char *snapmgr_mount_get_warning(const struct snapmgr_mount *m,
				      size_t index);
/* The document docs/mount.schema.json describes. */
int snapmgr_mount_to_json(const struct snapmgr_mount *m,
			  struct json_object **ret);
/*
 * what: a snapshot's name (every mount of its device, by major:minor in
 * /proc/self/mountinfo; -ENOENT when there is none) or a directory (must
 * be the mount point of a dm snapshot, else -EINVAL or -EPERM).
 * *ret_count (may be NULL): how many mounts were removed.
 */
int snapmgr_umount(struct snapmgr_ctx *ctx, const char *what,
		   unsigned *ret_count);

/*
 * Change tracking (LIBSNAPMGR_0.4, lib/track.c): a dm-era layer beneath a
 * managed origin (DEV <- NAME-era <- NAME-real <- NAME and its snapshots)
 * records which blocks are written, persistently (dm-era commits its
 * metadata before a first write to a block goes on), with no snapshot kept
 * alive. Every snapmgr_create() of a tracked origin takes an era checkpoint
 * in the snapshot's suspend: the snapshot's change token
 * (snapmgr_snapshot_get_change_token()) names the writes after it.
 * Both calls are safe to run again after a crash at any step.
 */
struct snapmgr_track_opts {
	size_t size; /* sizeof(struct snapmgr_track_opts): SNAPMGR_OPTS() */
	const char *origin;          /* an origin's name (or /dev/mapper/NAME) */
	const char *metadata_device; /* a block device for dm-era's metadata, or */
	const char *metadata_file;   /* a file to create, of metadata_size bytes */
	uint64_t metadata_size;      /* 0: snapmgr_track_default_metadata_size() */
	uint64_t block_size;         /* bytes, a multiple of 4 KiB; 0: the default */
	bool force;                  /* use a metadata device with a signature */
};
int snapmgr_track(struct snapmgr_ctx *ctx, const struct snapmgr_track_opts *opts);
/* Takes the era layer out; every token of that tracking is void after. */
int snapmgr_untrack(struct snapmgr_ctx *ctx, const char *origin);
/* 64 KiB, doubled until the origin has at most 2^24 blocks. */
uint64_t snapmgr_track_default_block_size(uint64_t origin_bytes);
uint64_t snapmgr_track_default_metadata_size(uint64_t origin_bytes,
					     uint64_t block_size);
/*
 * The tracked origins (origin NULL: all, else that one; -ENOENT when it
 * is not tracked), as the "tracking" array of docs/status.schema.json:
 * state, block size, era, metadata use.
 */
int snapmgr_tracking_to_json(struct snapmgr_ctx *ctx, const char *origin,
			     struct json_object **ret);
/* NULL unless the snapshot's origin was tracked when it was made. */
const char *snapmgr_snapshot_get_change_token(const struct snapmgr_snapshot *s);
/*
 * The blocks of a tracked origin written since token, as byte ranges of
 * the era block size (lib/era-changes.c): name is the origin, or one of
 * its snapshots taken at or after the token (the ranges then cover every
 * byte in which the snapshot differs from the origin at the token).
 * Read from a metadata snapshot of dm-era, through thin-provisioning-
 * tools' era_invalidate. -ESTALE, with "full backup needed: REASON", when
 * the token cannot answer (another tracking's, from before an untrack,
 * newer than the metadata, the snapshot older than the token); -EINVAL
 * when token is not a change token.
 */
int snapmgr_changes_since(struct snapmgr_ctx *ctx, const char *name,
			  const char *token, struct snapmgr_changes **ret);
/* The token of changes from snapmgr_changes_since(), else NULL. */
const char *snapmgr_changes_get_token(const struct snapmgr_changes *c);

#ifdef __cplusplus
}
#endif
