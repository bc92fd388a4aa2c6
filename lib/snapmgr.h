/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsnapmgr: everything snapctl and snapmgrd share.
 *
 * Conventions (as in kmod and systemd): functions that can fail return a
 * negative errno; output parameters are named ret_* and are written only on
 * success; objects are opaque and reference counted, and *_unref() accepts
 * NULL and returns NULL. The library never prints: messages go to the log
 * function the caller sets with snapmgr_set_log_fn().
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
/* The highest severity found, or -1 when there are no findings. */
int snapmgr_cow_store_get_worst_severity(const struct snapmgr_cow_store *store);
/*
 * True when the kernel would load the store as a valid snapshot and nothing
 * worse than an info finding was seen.
 */
bool snapmgr_cow_store_is_consistent(const struct snapmgr_cow_store *store);

#ifdef __cplusplus
}
#endif
