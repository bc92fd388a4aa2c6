/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading a dm-snapshot persistent exception store offline.
 *
 * The layout, from the kernel's drivers/md/dm-snap-persistent.c (all fields
 * little-endian):
 *
 *   chunk 0           header: magic "SnAp", valid, version (1), chunk size
 *                     in sectors
 *   chunk 1           metadata area 0: chunk_bytes / 16 exceptions of
 *                     { __le64 old_chunk; __le64 new_chunk; }
 *   chunks 2..        the data chunks of area 0's exceptions
 *   chunk 1 + (e+1)a  metadata area a, e = exceptions per area
 *
 * The kernel reads area after area and stops at the first entry whose
 * new_chunk is 0 (it would point at the header); an area without such an
 * entry is full and the next one is read. We mimic that exactly, including
 * how persistent_usage() reports allocated and metadata sectors, and then
 * check what the kernel does not: where the entries point, duplicates, and
 * data after the end of the list that looks like lost exceptions.
 *
 * Memory stays bounded: areas are read in blocks of at most 64 KiB whatever
 * the chunk size; only the exception list itself is kept, up to
 * SNAPMGR_COW_MAX_EXCEPTIONS entries. Nothing is ever written.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "libsnapmgr-private.h"
#include "error-private.h"

#define SECTOR_SIZE 512U
#define DISK_HEADER_SIZE 16U
#define DISK_EXCEPTION_SIZE 16U
#define SNAPSHOT_DISK_VERSION 1U
#define NUM_SNAPSHOT_HDR_CHUNKS 1U
/* dm_exception_store_set_chunk_size(): chunk_size > INT_MAX >> SECTOR_SHIFT */
#define MAX_CHUNK_SECTORS ((uint32_t)INT_MAX >> 9)

#define READ_BLOCK_MAX (64U * 1024U)
/* Findings of one kind shown in full; the rest are counted. */
#define FINDINGS_PER_KIND 8U
/* How far past the end of the list we look for leftover exceptions. */
#define LEFTOVER_MAX_AREAS 16U
#define LEFTOVER_MAX_BYTES_PER_AREA (1024U * 1024U)

struct finding {
	enum snapmgr_cow_finding kind;
	enum snapmgr_severity severity;
	char *message;
};

struct exception {
	uint64_t old_chunk;
	uint64_t new_chunk;
};

struct snapmgr_cow_store {
	int refcount;
	struct snapmgr_ctx *ctx;

	uint64_t size;
	uint64_t origin_size;

	uint32_t magic;
	uint32_t valid_flag;
	uint32_t version;
	uint32_t chunk_sectors;
	bool header_read;   /* the 16 header bytes were there */
	bool list_read;     /* header usable, so the areas were read */

	uint64_t chunk_bytes;
	uint64_t total_chunks; /* whole chunks, as dm-bufio counts them */
	uint32_t exceptions_per_area;

	struct exception *exceptions;
	uint64_t n_exceptions;
	uint64_t n_allocated;

	uint64_t current_area; /* the area holding the end of the list */
	uint64_t next_free;
	uint64_t hole_chunks;

	struct finding *findings;
	size_t n_findings;
	size_t n_findings_allocated;
	unsigned int shown[_SNAPMGR_COW_FINDING_MAX];
	uint64_t suppressed[_SNAPMGR_COW_FINDING_MAX];
	enum snapmgr_severity suppressed_severity[_SNAPMGR_COW_FINDING_MAX];
};

struct reader {
	snapmgr_read_fn fn;
	void *userdata;
	uint64_t size;
};

static const char *const finding_names[_SNAPMGR_COW_FINDING_MAX] = {
	[SNAPMGR_COW_TRUNCATED] = "truncated",
	[SNAPMGR_COW_NOT_INITIALISED] = "not-initialised",
	[SNAPMGR_COW_BAD_MAGIC] = "bad-magic",
	[SNAPMGR_COW_BAD_VERSION] = "bad-version",
	[SNAPMGR_COW_BAD_CHUNK_SIZE] = "bad-chunk-size",
	[SNAPMGR_COW_INVALIDATED] = "invalidated",
	[SNAPMGR_COW_ODD_VALID_FLAG] = "odd-valid-flag",
	[SNAPMGR_COW_PARTIAL_CHUNK] = "partial-chunk",
	[SNAPMGR_COW_NEW_CHUNK_PAST_END] = "new-chunk-past-end",
	[SNAPMGR_COW_NEW_CHUNK_ON_METADATA] = "new-chunk-on-metadata",
	[SNAPMGR_COW_DUPLICATE_NEW_CHUNK] = "duplicate-new-chunk",
	[SNAPMGR_COW_DUPLICATE_OLD_CHUNK] = "duplicate-old-chunk",
	[SNAPMGR_COW_OLD_CHUNK_PAST_ORIGIN] = "old-chunk-past-origin",
	[SNAPMGR_COW_LEFTOVER_DATA] = "leftover-data",
	[SNAPMGR_COW_HOLES] = "holes",
};

_public_ const char *snapmgr_cow_finding_to_string(enum snapmgr_cow_finding f)
{
	if ((unsigned int)f >= _SNAPMGR_COW_FINDING_MAX)
		return NULL;
	return finding_names[f];
}

_public_ const char *snapmgr_severity_to_string(enum snapmgr_severity s)
{
	switch (s) {
	case SNAPMGR_SEVERITY_INFO:
		return "info";
	case SNAPMGR_SEVERITY_WARNING:
		return "warning";
	case SNAPMGR_SEVERITY_ERROR:
		return "error";
	}
	return NULL;
}

static int append_finding(struct snapmgr_cow_store *s,
			  enum snapmgr_cow_finding kind,
			  enum snapmgr_severity severity, char *message)
{
	if (s->n_findings == s->n_findings_allocated) {
		size_t n = s->n_findings_allocated ? 2 * s->n_findings_allocated
						   : 16;
		struct finding *f = reallocarray(s->findings, n, sizeof(*f));

		if (!f)
			return -ENOMEM;
		s->findings = f;
		s->n_findings_allocated = n;
	}
	s->findings[s->n_findings++] = (struct finding){
		.kind = kind,
		.severity = severity,
		.message = message,
	};
	return 0;
}

static int add_finding(struct snapmgr_cow_store *s,
		       enum snapmgr_cow_finding kind,
		       enum snapmgr_severity severity, const char *fmt, ...)
	_printf_(4, 5);

static int add_finding(struct snapmgr_cow_store *s,
		       enum snapmgr_cow_finding kind,
		       enum snapmgr_severity severity, const char *fmt, ...)
{
	char *message;
	va_list ap;
	int r;

	if (s->shown[kind] >= FINDINGS_PER_KIND) {
		s->suppressed[kind]++;
		s->suppressed_severity[kind] = severity;
		return 0;
	}
	va_start(ap, fmt);
	r = vasprintf(&message, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	r = append_finding(s, kind, severity, message);
	if (r < 0) {
		free(message);
		return r;
	}
	s->shown[kind]++;
	log_debug(s->ctx, "cow store: %s: %s", finding_names[kind], message);
	return 0;
}

static int add_suppressed_summaries(struct snapmgr_cow_store *s)
{
	for (unsigned int k = 0; k < _SNAPMGR_COW_FINDING_MAX; k++) {
		char *message;
		int r;

		if (!s->suppressed[k])
			continue;
		if (asprintf(&message, "%llu more %s findings not shown",
			     (unsigned long long)s->suppressed[k],
			     finding_names[k]) < 0)
			return -ENOMEM;
		r = append_finding(s, k, s->suppressed_severity[k], message);
		if (r < 0) {
			free(message);
			return r;
		}
	}
	return 0;
}

/* Reads exactly len bytes at offset; a short read is an I/O error. */
static int read_at(const struct reader *rd, void *buf, size_t len,
		   uint64_t offset)
{
	int64_t n;

	if (offset > rd->size || len > rd->size - offset)
		return -EIO;
	n = rd->fn(rd->userdata, buf, len, offset);
	if (n < 0)
		return (int)n;
	if ((uint64_t)n != len)
		return -EIO; /* the file shrank under us */
	return 0;
}

static uint64_t stride(const struct snapmgr_cow_store *s)
{
	return (uint64_t)s->exceptions_per_area + 1;
}

/* area_location(); false when the result does not fit in 64 bits. */
static bool area_location(const struct snapmgr_cow_store *s, uint64_t area,
			  uint64_t *ret_chunk)
{
	uint64_t c;

	if (__builtin_mul_overflow(stride(s), area, &c) ||
	    __builtin_add_overflow(c, NUM_SNAPSHOT_HDR_CHUNKS, &c))
		return false;
	*ret_chunk = c;
	return true;
}

static bool is_metadata_chunk(const struct snapmgr_cow_store *s, uint64_t c)
{
	return c < NUM_SNAPSHOT_HDR_CHUNKS ||
	       (c - NUM_SNAPSHOT_HDR_CHUNKS) % stride(s) == 0;
}

/* Metadata areas starting below chunk n. */
static uint64_t areas_below(const struct snapmgr_cow_store *s, uint64_t n)
{
	if (n <= NUM_SNAPSHOT_HDR_CHUNKS)
		return 0;
	return (n - NUM_SNAPSHOT_HDR_CHUNKS - 1) / stride(s) + 1;
}

static void decode_entry(const uint8_t *p, struct exception *e)
{
	uint64_t v;

	memcpy(&v, p, 8);
	e->old_chunk = le64toh(v);
	memcpy(&v, p + 8, 8);
	e->new_chunk = le64toh(v);
}

static int append_exception(struct snapmgr_cow_store *s,
			    const struct exception *e)
{
	if (s->n_exceptions == s->n_allocated) {
		uint64_t n = s->n_allocated ? 2 * s->n_allocated : 256;
		struct exception *p;

		if (s->n_allocated >= SNAPMGR_COW_MAX_EXCEPTIONS) {
			log_debug(s->ctx,
				  "cow store: more than %llu exceptions, giving up",
				  (unsigned long long)SNAPMGR_COW_MAX_EXCEPTIONS);
			return -E2BIG;
		}
		if (n > SNAPMGR_COW_MAX_EXCEPTIONS)
			n = SNAPMGR_COW_MAX_EXCEPTIONS;
		p = reallocarray(s->exceptions, n, sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->exceptions = p;
		s->n_allocated = n;
	}
	s->exceptions[s->n_exceptions++] = *e;
	return 0;
}

/*
 * Could this entry be an exception of this store? Random leftovers rarely
 * point at a data chunk inside the COW.
 */
static bool plausible(const struct snapmgr_cow_store *s,
		      const struct exception *e)
{
	return e->new_chunk < s->total_chunks &&
	       !is_metadata_chunk(s, e->new_chunk);
}

/*
 * Counts entries from entry `first` of the area at `chunk` on: non-zero
 * ones, and plausible exceptions among them. Reads at most
 * LEFTOVER_MAX_BYTES_PER_AREA.
 */
static int scan_leftovers(struct snapmgr_cow_store *s, const struct reader *rd,
			  uint8_t *buf, size_t block, uint64_t chunk,
			  uint32_t first, uint64_t *ret_nonzero,
			  uint64_t *ret_plausible, uint32_t *ret_first_plausible)
{
	uint64_t base = chunk * s->chunk_bytes;
	uint64_t nonzero = 0, plaus = 0;
	uint64_t start = (uint64_t)first * DISK_EXCEPTION_SIZE;
	uint64_t end = s->chunk_bytes;
	uint32_t first_plausible = UINT32_MAX;

	if (end - start > LEFTOVER_MAX_BYTES_PER_AREA)
		end = start + LEFTOVER_MAX_BYTES_PER_AREA;

	for (uint64_t off = start - start % block; off < end; off += block) {
		int r = read_at(rd, buf, block, base + off);

		if (r < 0)
			return r;
		for (size_t i = 0; i < block; i += DISK_EXCEPTION_SIZE) {
			struct exception e;

			if (off + i < start || off + i >= end)
				continue;
			decode_entry(buf + i, &e);
			if (!e.old_chunk && !e.new_chunk)
				continue;
			nonzero++;
			if (plausible(s, &e)) {
				if (!plaus)
					first_plausible = (uint32_t)((off + i) /
						DISK_EXCEPTION_SIZE);
				plaus++;
			}
		}
	}
	*ret_nonzero = nonzero;
	*ret_plausible = plaus;
	*ret_first_plausible = first_plausible;
	return 0;
}

/* Looks past the end of the list: the rest of the last area, then on. */
static int check_leftovers(struct snapmgr_cow_store *s,
			   const struct reader *rd, uint8_t *buf, size_t block,
			   uint32_t end_index)
{
	uint64_t chunk, nonzero, plaus;
	uint32_t first;
	int r;

	if (!area_location(s, s->current_area, &chunk))
		return 0;
	/* From the end marker itself: its old_chunk should be 0 too. */
	r = scan_leftovers(s, rd, buf, block, chunk, end_index,
			   &nonzero, &plaus, &first);
	if (r < 0)
		return r;
	if (nonzero) {
		r = add_finding(s, SNAPMGR_COW_LEFTOVER_DATA,
				SNAPMGR_SEVERITY_WARNING,
				"metadata area %llu (chunk %llu) holds %llu non-zero entries after the end of the exception list at entry %u (%llu look like exceptions): a torn write or leftover data; the kernel ignores them",
				(unsigned long long)s->current_area,
				(unsigned long long)chunk,
				(unsigned long long)nonzero, end_index,
				(unsigned long long)plaus);
		if (r < 0)
			return r;
	}

	for (uint64_t a = s->current_area + 1;
	     a <= s->current_area + LEFTOVER_MAX_AREAS; a++) {
		if (!area_location(s, a, &chunk) || chunk >= s->total_chunks)
			break;
		r = scan_leftovers(s, rd, buf, block, chunk, 0, &nonzero,
				   &plaus, &first);
		if (r < 0)
			return r;
		if (!plaus)
			break;
		r = add_finding(s, SNAPMGR_COW_LEFTOVER_DATA,
				SNAPMGR_SEVERITY_WARNING,
				"metadata area %llu (chunk %llu), after the end of the exception list in area %llu, holds %llu entries that look like exceptions (first at entry %u): leftover data, or exceptions lost behind a zeroed or torn area; the kernel ignores them",
				(unsigned long long)a,
				(unsigned long long)chunk,
				(unsigned long long)s->current_area,
				(unsigned long long)plaus, first);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * read_exceptions() and insert_exceptions(): area after area until an entry
 * with new_chunk 0. Records the list, current_area and next_free.
 */
static int read_list(struct snapmgr_cow_store *s, const struct reader *rd)
{
	size_t block = s->chunk_bytes < READ_BLOCK_MAX ? (size_t)s->chunk_bytes
						       : READ_BLOCK_MAX;
	_cleanup_free_ uint8_t *buf = malloc(block);
	uint32_t end_index = 0;
	bool end_found = false;
	int r;

	if (!buf)
		return -ENOMEM;

	/* persistent_ctr(): header and the first area. */
	s->next_free = NUM_SNAPSHOT_HDR_CHUNKS + 1;

	for (uint64_t area = 0; !end_found; area++) {
		uint64_t chunk = UINT64_MAX;

		s->current_area = area;
		if (!area_location(s, area, &chunk) ||
		    chunk >= s->total_chunks) {
			return add_finding(s, SNAPMGR_COW_TRUNCATED,
					   SNAPMGR_SEVERITY_ERROR,
					   "metadata area %llu is full, but the next area (chunk %llu) lies beyond the end of the COW (%llu chunks): the kernel cannot load this store",
					   (unsigned long long)(area ? area - 1 : 0),
					   (unsigned long long)chunk,
					   (unsigned long long)s->total_chunks);
		}

		for (uint64_t off = 0; off < s->chunk_bytes && !end_found;
		     off += block) {
			r = read_at(rd, buf, block, chunk * s->chunk_bytes + off);
			if (r < 0)
				return r;
			for (size_t i = 0; i < block; i += DISK_EXCEPTION_SIZE) {
				struct exception e;

				decode_entry(buf + i, &e);
				if (e.new_chunk == 0) {
					end_index = (uint32_t)((off + i) /
						DISK_EXCEPTION_SIZE);
					end_found = true;
					break;
				}
				/* The kernel's arithmetic, wrap included. */
				if (s->next_free <= e.new_chunk)
					s->next_free = e.new_chunk + 1;
				r = append_exception(s, &e);
				if (r < 0)
					return r;
			}
		}
	}

	/* skip_metadata() */
	if (s->next_free % stride(s) == NUM_SNAPSHOT_HDR_CHUNKS)
		s->next_free++;

	log_debug(s->ctx,
		  "cow store: %llu exceptions in %llu areas, list ends at area %llu entry %u, next free chunk %llu",
		  (unsigned long long)s->n_exceptions,
		  (unsigned long long)s->current_area + 1,
		  (unsigned long long)s->current_area, end_index,
		  (unsigned long long)s->next_free);

	return check_leftovers(s, rd, buf, block, end_index);
}

static void describe(const struct snapmgr_cow_store *s, uint64_t i,
		     char *out, size_t len)
{
	snprintf(out, len, "exception %llu (area %llu, entry %llu)",
		 (unsigned long long)i,
		 (unsigned long long)(i / s->exceptions_per_area),
		 (unsigned long long)(i % s->exceptions_per_area));
}

static int compare_old(const void *a, const void *b, void *data)
{
	const struct exception *ex = data;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;

	if (ex[i].old_chunk != ex[j].old_chunk)
		return ex[i].old_chunk < ex[j].old_chunk ? -1 : 1;
	return i < j ? -1 : i > j;
}

static int compare_new(const void *a, const void *b, void *data)
{
	const struct exception *ex = data;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;

	if (ex[i].new_chunk != ex[j].new_chunk)
		return ex[i].new_chunk < ex[j].new_chunk ? -1 : 1;
	return i < j ? -1 : i > j;
}

static int check_duplicates(struct snapmgr_cow_store *s, uint32_t *idx,
			    bool old, uint64_t *ret_distinct_data)
{
	uint64_t n = s->n_exceptions, distinct = 0;
	char a[96], b[96];
	int r;

	for (uint64_t i = 0; i < n; i++)
		idx[i] = (uint32_t)i;
	qsort_r(idx, n, sizeof(*idx), old ? compare_old : compare_new,
		s->exceptions);

	for (uint64_t k = 0; k < n; k++) {
		const struct exception *e = &s->exceptions[idx[k]];
		const struct exception *p;

		if (k == 0 || (old ? s->exceptions[idx[k - 1]].old_chunk !=
					     e->old_chunk
				   : s->exceptions[idx[k - 1]].new_chunk !=
					     e->new_chunk)) {
			if (plausible(s, e))
				distinct++;
			continue;
		}
		p = &s->exceptions[idx[k - 1]];
		describe(s, idx[k - 1], a, sizeof(a));
		describe(s, idx[k], b, sizeof(b));
		if (old)
			r = add_finding(s, SNAPMGR_COW_DUPLICATE_OLD_CHUNK,
					SNAPMGR_SEVERITY_ERROR,
					"old chunk %llu is mapped twice: by %s to chunk %llu and by %s to chunk %llu",
					(unsigned long long)e->old_chunk, a,
					(unsigned long long)p->new_chunk, b,
					(unsigned long long)e->new_chunk);
		else
			r = add_finding(s, SNAPMGR_COW_DUPLICATE_NEW_CHUNK,
					SNAPMGR_SEVERITY_ERROR,
					"new chunk %llu is used twice: by %s for old chunk %llu and by %s for old chunk %llu",
					(unsigned long long)e->new_chunk, a,
					(unsigned long long)p->old_chunk, b,
					(unsigned long long)e->old_chunk);
		if (r < 0)
			return r;
	}
	if (ret_distinct_data)
		*ret_distinct_data = distinct;
	return 0;
}

/* What the kernel does not check: where each exception points. */
static int check_exceptions(struct snapmgr_cow_store *s)
{
	uint64_t origin_chunks = 0, distinct = 0;
	bool past_end = false;
	_cleanup_free_ uint32_t *idx = NULL;
	char what[96];
	int r;

	if (s->origin_size)
		origin_chunks = s->origin_size / s->chunk_bytes +
				!!(s->origin_size % s->chunk_bytes);

	for (uint64_t i = 0; i < s->n_exceptions; i++) {
		const struct exception *e = &s->exceptions[i];

		describe(s, i, what, sizeof(what));
		if (e->new_chunk >= s->total_chunks) {
			past_end = true;
			r = add_finding(s, SNAPMGR_COW_NEW_CHUNK_PAST_END,
					SNAPMGR_SEVERITY_ERROR,
					"%s maps old chunk %llu to chunk %llu, past the end of the COW (%llu chunks)",
					what, (unsigned long long)e->old_chunk,
					(unsigned long long)e->new_chunk,
					(unsigned long long)s->total_chunks);
		} else if (is_metadata_chunk(s, e->new_chunk)) {
			r = add_finding(s, SNAPMGR_COW_NEW_CHUNK_ON_METADATA,
					SNAPMGR_SEVERITY_ERROR,
					"%s maps old chunk %llu to chunk %llu, which is metadata area %llu",
					what, (unsigned long long)e->old_chunk,
					(unsigned long long)e->new_chunk,
					(unsigned long long)((e->new_chunk -
							      NUM_SNAPSHOT_HDR_CHUNKS) /
							     stride(s)));
		} else {
			r = 0;
		}
		if (r < 0)
			return r;
		if (origin_chunks && e->old_chunk >= origin_chunks) {
			r = add_finding(s, SNAPMGR_COW_OLD_CHUNK_PAST_ORIGIN,
					SNAPMGR_SEVERITY_ERROR,
					"%s maps old chunk %llu, past the end of the origin (%llu chunks)",
					what, (unsigned long long)e->old_chunk,
					(unsigned long long)origin_chunks);
			if (r < 0)
				return r;
		}
	}

	if (s->n_exceptions) {
		idx = malloc(s->n_exceptions * sizeof(*idx));
		if (!idx)
			return -ENOMEM;
		r = check_duplicates(s, idx, true, NULL);
		if (r < 0)
			return r;
		r = check_duplicates(s, idx, false, &distinct);
		if (r < 0)
			return r;
	}

	/*
	 * Holes: data chunks below next_free that no exception uses. Every
	 * exception's new chunk is below next_free unless one points past
	 * the end (then next_free may have wrapped and means nothing).
	 */
	if (!past_end) {
		uint64_t data = s->next_free - NUM_SNAPSHOT_HDR_CHUNKS -
				areas_below(s, s->next_free);

		s->hole_chunks = data > distinct ? data - distinct : 0;
		if (s->hole_chunks) {
			r = add_finding(s, SNAPMGR_COW_HOLES,
					SNAPMGR_SEVERITY_INFO,
					"%llu data chunks below the next free chunk %llu are unused: holes left by exceptions committed out of order before a crash; the kernel counts them as used",
					(unsigned long long)s->hole_chunks,
					(unsigned long long)s->next_free);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* read_header() and the sanity checks of persistent_read_metadata(). */
static int parse(struct snapmgr_cow_store *s, const struct reader *rd)
{
	uint8_t hdr[DISK_HEADER_SIZE];
	uint32_t v[4];
	bool usable = true;
	int r = 0;

	if (s->size < DISK_HEADER_SIZE)
		return add_finding(s, SNAPMGR_COW_TRUNCATED,
				   SNAPMGR_SEVERITY_ERROR,
				   "the COW is %llu bytes, too small for the %u-byte header",
				   (unsigned long long)s->size,
				   DISK_HEADER_SIZE);
	r = read_at(rd, hdr, sizeof(hdr), 0);
	if (r < 0)
		return r;
	memcpy(v, hdr, sizeof(v));
	s->magic = le32toh(v[0]);
	s->valid_flag = le32toh(v[1]);
	s->version = le32toh(v[2]);
	s->chunk_sectors = le32toh(v[3]);
	s->header_read = true;

	if (s->magic == 0)
		return add_finding(s, SNAPMGR_COW_NOT_INITIALISED,
				   SNAPMGR_SEVERITY_WARNING,
				   "the header is zero (magic 0): not a snapshot store yet; the kernel would initialise a new, empty one here");
	if (s->magic != SNAPMGR_COW_MAGIC)
		return add_finding(s, SNAPMGR_COW_BAD_MAGIC,
				   SNAPMGR_SEVERITY_ERROR,
				   "bad magic 0x%08x (expected 0x%08x, \"SnAp\"): not a persistent snapshot store",
				   s->magic, SNAPMGR_COW_MAGIC);

	if (s->chunk_sectors == 0 ||
	    (s->chunk_sectors & (s->chunk_sectors - 1)) != 0) {
		usable = false;
		r = add_finding(s, SNAPMGR_COW_BAD_CHUNK_SIZE,
				SNAPMGR_SEVERITY_ERROR,
				"chunk size %u sectors is not a power of two: the kernel refuses it",
				s->chunk_sectors);
	} else if (s->chunk_sectors > MAX_CHUNK_SECTORS) {
		usable = false;
		r = add_finding(s, SNAPMGR_COW_BAD_CHUNK_SIZE,
				SNAPMGR_SEVERITY_ERROR,
				"chunk size %u sectors is above the kernel's limit of %u sectors",
				s->chunk_sectors, MAX_CHUNK_SECTORS);
	}
	if (r < 0)
		return r;

	if (s->version != SNAPSHOT_DISK_VERSION) {
		usable = false;
		r = add_finding(s, SNAPMGR_COW_BAD_VERSION,
				SNAPMGR_SEVERITY_ERROR,
				"on-disk version %u is not supported (the kernel reads only version %u)",
				s->version, SNAPSHOT_DISK_VERSION);
		if (r < 0)
			return r;
	}

	if (s->valid_flag == 0)
		r = add_finding(s, SNAPMGR_COW_INVALIDATED,
				SNAPMGR_SEVERITY_ERROR,
				"the snapshot was invalidated (valid = 0), e.g. because it overflowed or an I/O to it failed: the kernel loads it as invalid and ignores its exceptions");
	else if (s->valid_flag != 1)
		r = add_finding(s, SNAPMGR_COW_ODD_VALID_FLAG,
				SNAPMGR_SEVERITY_WARNING,
				"the valid flag is %u; the kernel writes only 0 or 1 (it treats any non-zero value as valid)",
				s->valid_flag);
	if (r < 0)
		return r;

	if (!usable)
		return 0;

	s->chunk_bytes = (uint64_t)s->chunk_sectors * SECTOR_SIZE;
	s->total_chunks = s->size / s->chunk_bytes;
	s->exceptions_per_area = (uint32_t)(s->chunk_bytes /
					    DISK_EXCEPTION_SIZE);

	if (s->total_chunks < NUM_SNAPSHOT_HDR_CHUNKS + 1)
		return add_finding(s, SNAPMGR_COW_TRUNCATED,
				   SNAPMGR_SEVERITY_ERROR,
				   "the COW is %llu bytes, too small for the header chunk and the first metadata area (%llu bytes each)",
				   (unsigned long long)s->size,
				   (unsigned long long)s->chunk_bytes);

	if (s->size % s->chunk_bytes) {
		r = add_finding(s, SNAPMGR_COW_PARTIAL_CHUNK,
				SNAPMGR_SEVERITY_INFO,
				"the COW size %llu is not a multiple of the chunk size %llu: its last %llu bytes are never used",
				(unsigned long long)s->size,
				(unsigned long long)s->chunk_bytes,
				(unsigned long long)(s->size % s->chunk_bytes));
		if (r < 0)
			return r;
	}

	s->list_read = true;
	r = read_list(s, rd);
	if (r < 0)
		return r;
	return check_exceptions(s);
}

static struct snapmgr_cow_store *free_store(struct snapmgr_cow_store *s)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_findings; i++)
		free(s->findings[i].message);
	free(s->findings);
	free(s->exceptions);
	snapmgr_unref(s->ctx);
	free(s);
	return NULL;
}

static inline void free_storep(struct snapmgr_cow_store **s)
{
	free_store(*s);
}

_public_ int snapmgr_cow_store_new_from_reader(struct snapmgr_ctx *ctx,
					       snapmgr_read_fn read_fn,
					       void *userdata, uint64_t size,
					       uint64_t origin_size,
					       struct snapmgr_cow_store **ret)
{
	_cleanup_(free_storep) struct snapmgr_cow_store *s = NULL;
	struct reader rd = { read_fn, userdata, size };
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !read_fn || !ret)
		return -EINVAL;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->refcount = 1;
	s->ctx = snapmgr_ref(ctx);
	s->size = size;
	s->origin_size = origin_size;

	r = parse(s, &rd);
	if (r < 0)
		return r;
	r = add_suppressed_summaries(s);
	if (r < 0)
		return r;
	/* Exact length: callers may hold on to the store. */
	if (s->n_exceptions && s->n_exceptions < s->n_allocated) {
		struct exception *p = reallocarray(s->exceptions,
						   s->n_exceptions,
						   sizeof(*p));
		if (p) {
			s->exceptions = p;
			s->n_allocated = s->n_exceptions;
		}
	}
	*ret = TAKE_PTR(s);
	return 0;
}

struct buffer {
	const uint8_t *data;
	size_t size;
};

static int64_t buffer_read(void *userdata, void *buf, size_t len,
			   uint64_t offset)
{
	const struct buffer *b = userdata;

	if (offset >= b->size)
		return 0;
	if (len > b->size - offset)
		len = b->size - offset;
	memcpy(buf, b->data + offset, len);
	return (int64_t)len;
}

_public_ int snapmgr_cow_store_new_from_buffer(struct snapmgr_ctx *ctx,
					       const void *buf, size_t size,
					       uint64_t origin_size,
					       struct snapmgr_cow_store **ret)
{
	struct buffer b = { buf, size };

	SNAPMGR_ENTRY(ctx);
	if (!buf && size)
		return -EINVAL;
	return snapmgr_cow_store_new_from_reader(ctx, buffer_read, &b, size,
						 origin_size, ret);
}

static int64_t fd_read(void *userdata, void *buf, size_t len, uint64_t offset)
{
	int fd = *(int *)userdata;
	size_t done = 0;

	while (done < len) {
		ssize_t n;

		if (offset + done > (uint64_t)INT64_MAX)
			return -EOVERFLOW;
		n = pread(fd, (uint8_t *)buf + done, len - done,
			  (off_t)(offset + done));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (int64_t)done;
}

_public_ int snapmgr_cow_store_open(struct snapmgr_ctx *ctx, const char *path,
				    uint64_t origin_size,
				    struct snapmgr_cow_store **ret)
{
	_cleanup_close_ int fd = -1;
	uint64_t size;
	struct stat st;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !path || !ret)
		return -EINVAL;

	/* Read-only, always: this may be the COW of a live snapshot. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0)
			return negative_errno();
		/*
		 * dm-snapshot writes the COW with bios beneath the device's
		 * page cache: drop clean cached pages (it writes nothing) so
		 * that a second look at a live COW is not served stale data.
		 */
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	} else if (S_ISDIR(st.st_mode)) {
		return -EISDIR;
	} else {
		return -ENOTBLK;
	}
	log_debug(ctx, "cow store: %s: %llu bytes", path,
		  (unsigned long long)size);

	return snapmgr_cow_store_new_from_reader(ctx, fd_read, &fd, size,
						 origin_size, ret);
}

_public_ struct snapmgr_cow_store *
snapmgr_cow_store_ref(struct snapmgr_cow_store *s)
{
	if (s)
		s->refcount++;
	return s;
}

_public_ struct snapmgr_cow_store *
snapmgr_cow_store_unref(struct snapmgr_cow_store *s)
{
	if (!s || --s->refcount > 0)
		return NULL;
	return free_store(s);
}

_public_ uint64_t snapmgr_cow_store_get_size(const struct snapmgr_cow_store *s)
{
	return s ? s->size : 0;
}

_public_ uint32_t snapmgr_cow_store_get_magic(const struct snapmgr_cow_store *s)
{
	return s ? s->magic : 0;
}

_public_ bool snapmgr_cow_store_get_valid(const struct snapmgr_cow_store *s)
{
	return s && s->magic == SNAPMGR_COW_MAGIC && s->valid_flag != 0;
}

_public_ uint32_t
snapmgr_cow_store_get_version(const struct snapmgr_cow_store *s)
{
	return s ? s->version : 0;
}

_public_ uint32_t
snapmgr_cow_store_get_chunk_sectors(const struct snapmgr_cow_store *s)
{
	return s ? s->chunk_sectors : 0;
}

_public_ uint32_t
snapmgr_cow_store_get_exceptions_per_area(const struct snapmgr_cow_store *s)
{
	return s ? s->exceptions_per_area : 0;
}

_public_ uint64_t
snapmgr_cow_store_get_exception_count(const struct snapmgr_cow_store *s)
{
	return s ? s->n_exceptions : 0;
}

_public_ uint64_t
snapmgr_cow_store_get_metadata_areas(const struct snapmgr_cow_store *s)
{
	return s && s->list_read ? s->current_area + 1 : 0;
}

/* persistent_usage(): sectors_allocated = next_free * chunk_size. */
_public_ uint64_t
snapmgr_cow_store_get_used_sectors(const struct snapmgr_cow_store *s)
{
	return s && s->list_read ? s->next_free * s->chunk_sectors : 0;
}

/* persistent_usage(): (current_area + 1 + header) * chunk_size. */
_public_ uint64_t
snapmgr_cow_store_get_metadata_sectors(const struct snapmgr_cow_store *s)
{
	if (!s || !s->list_read)
		return 0;
	return (s->current_area + 1 + NUM_SNAPSHOT_HDR_CHUNKS) *
	       s->chunk_sectors;
}

_public_ uint64_t
snapmgr_cow_store_get_hole_chunks(const struct snapmgr_cow_store *s)
{
	return s ? s->hole_chunks : 0;
}

_public_ int snapmgr_cow_store_get_exception(const struct snapmgr_cow_store *s,
					     uint64_t index,
					     uint64_t *ret_old_chunk,
					     uint64_t *ret_new_chunk)
{
	if (!s)
		return -EINVAL;
	if (index >= s->n_exceptions)
		return -ENOENT;
	if (ret_old_chunk)
		*ret_old_chunk = s->exceptions[index].old_chunk;
	if (ret_new_chunk)
		*ret_new_chunk = s->exceptions[index].new_chunk;
	return 0;
}

_public_ size_t
snapmgr_cow_store_get_finding_count(const struct snapmgr_cow_store *s)
{
	return s ? s->n_findings : 0;
}

_public_ int snapmgr_cow_store_get_finding(const struct snapmgr_cow_store *s,
					   size_t index,
					   enum snapmgr_cow_finding *ret_finding,
					   enum snapmgr_severity *ret_severity,
					   const char **ret_message)
{
	if (!s)
		return -EINVAL;
	if (index >= s->n_findings)
		return -ENOENT;
	if (ret_finding)
		*ret_finding = s->findings[index].kind;
	if (ret_severity)
		*ret_severity = s->findings[index].severity;
	if (ret_message)
		*ret_message = s->findings[index].message;
	return 0;
}

_public_ int
snapmgr_cow_store_get_worst_severity(const struct snapmgr_cow_store *s)
{
	int worst = -ENODATA;

	for (size_t i = 0; s && i < s->n_findings; i++)
		if ((int)s->findings[i].severity > worst)
			worst = (int)s->findings[i].severity;
	return worst;
}

_public_ bool snapmgr_cow_store_is_consistent(const struct snapmgr_cow_store *s)
{
	return snapmgr_cow_store_get_valid(s) && s->list_read &&
	       snapmgr_cow_store_get_worst_severity(s) <
		       (int)SNAPMGR_SEVERITY_WARNING;
}
