/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Ceph's "rbd diff v1" stream (doc/dev/rbd-diff.rst in ceph/ceph; what
 * `rbd export-diff` writes and `rbd import-diff` / `rbd merge-diff` read):
 *
 *   "rbd diff v1\n"
 *   metadata records, any order, before the data records:
 *     'f' le32 length, name     the snapshot the diff starts from
 *     't' le32 length, name     the snapshot it leads to
 *     's' le64                  the image size at the end
 *   data records:
 *     'w' le64 offset, le64 length, length bytes of data
 *     'z' le64 offset, le64 length   (zeros)
 *   'e'                         the end
 *
 * The writer emits records in ascending, non-overlapping order, which
 * `rbd merge-diff` requires. The reader trusts nothing: every length and
 * offset is checked against the stream and the image size before use, and
 * an error says what was wrong and at which byte of the stream.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RBD_DIFF_BANNER "rbd diff v1\n"
#define RBD_DIFF_NAME_MAX 4096U /* rbd's own limit for 'f' and 't' names */

/* Reads up to len bytes; 0 at the end of the stream, or -errno. */
typedef ssize_t (*rbd_diff_read_fn)(void *userdata, void *buf, size_t len);
/* Writes all len bytes, or returns -errno. */
typedef int (*rbd_diff_write_fn)(void *userdata, const void *buf, size_t len);

struct rbd_diff_record {
	char type;              /* 'w', 'z' or 'e' */
	uint64_t offset;
	uint64_t length;
	uint64_t stream_offset; /* where the record's tag is */
};

struct rbd_diff_reader {
	rbd_diff_read_fn read;
	void *userdata;
	uint64_t pos;        /* bytes of the stream consumed */
	char *from, *to;     /* NULL when absent */
	bool has_size;
	uint64_t size;
	bool header_done, ended;
	int pending_tag;     /* the first data tag, read with the header */
	uint64_t pending_pos;
	uint64_t data_left;  /* of the current 'w' record */
	uint64_t error_offset;
	char error[256];     /* why the last call returned -EBADMSG */
};

void rbd_diff_reader_init(struct rbd_diff_reader *r, rbd_diff_read_fn read,
			  void *userdata);
void rbd_diff_reader_done(struct rbd_diff_reader *r);
/*
 * The banner and the metadata records. -EBADMSG (r->error) for a bad
 * banner, a truncated or oversized record, a missing size, or an unknown
 * tag; -errno when reading fails.
 */
int rbd_diff_read_header(struct rbd_diff_reader *r);
/*
 * The next data record, or 'e'. Data a caller left unread is skipped.
 * -EBADMSG for an unknown tag, a record past the size or truncated.
 */
int rbd_diff_next(struct rbd_diff_reader *r, struct rbd_diff_record *ret);
/* Exactly len bytes (len <= what is left of the 'w' record). */
int rbd_diff_read_data(struct rbd_diff_reader *r, void *buf, size_t len);

struct rbd_diff_writer {
	rbd_diff_write_fn write;
	void *userdata;
	uint64_t pos;  /* bytes written */
	uint64_t size;
	uint64_t next; /* records must start at or after this offset */
	bool header_done, ended;
};

void rbd_diff_writer_init(struct rbd_diff_writer *w, rbd_diff_write_fn write,
			  void *userdata);
/* from and to may be NULL (no record). */
int rbd_diff_write_header(struct rbd_diff_writer *w, const char *from,
			  const char *to, uint64_t size);
/* -EINVAL for records out of order, overlapping, empty or past the size. */
int rbd_diff_write_data(struct rbd_diff_writer *w, uint64_t offset,
			uint64_t length, const void *data);
int rbd_diff_write_zero(struct rbd_diff_writer *w, uint64_t offset,
			uint64_t length);
int rbd_diff_write_end(struct rbd_diff_writer *w);
