/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "rbd diff v1" stream: writer and bounds-checked reader (rbd-diff.h). */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "rbd-diff.h"

#define BANNER_LEN (sizeof(RBD_DIFF_BANNER) - 1)

void rbd_diff_reader_init(struct rbd_diff_reader *r, rbd_diff_read_fn read,
			  void *userdata)
{
	*r = (struct rbd_diff_reader){
		.read = read,
		.userdata = userdata,
		.pending_tag = -1,
	};
}

void rbd_diff_reader_done(struct rbd_diff_reader *r)
{
	free(r->from);
	free(r->to);
	r->from = r->to = NULL;
}

static int corrupt(struct rbd_diff_reader *r, uint64_t at, const char *fmt,
		   ...) _printf_(3, 4);

static int corrupt(struct rbd_diff_reader *r, uint64_t at, const char *fmt,
		   ...)
{
	va_list ap;

	r->error_offset = at;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

/*
 * Up to len bytes, fewer only at the end of the stream: how many, or the
 * read callback's -errno. The callers name a short read as corruption.
 */
static ssize_t read_full(struct rbd_diff_reader *r, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = r->read(r->userdata, (uint8_t *)buf + done,
				    len - done);

		if (n == -EINTR)
			continue;
		if (n < 0)
			return n;
		if (n == 0)
			break;
		done += (size_t)n;
		r->pos += (uint64_t)n;
	}
	return (ssize_t)done;
}

/* Exactly len bytes; a short stream is corruption, named by what. */
static int read_exact(struct rbd_diff_reader *r, void *buf, size_t len,
		      uint64_t item_start, const char *what)
{
	ssize_t n = read_full(r, buf, len);

	if (n < 0)
		return (int)n;
	if ((size_t)n < len)
		return corrupt(r, item_start,
			       "truncated %s at byte %" PRIu64 " (the stream ends at byte %" PRIu64 ")",
			       what, item_start, r->pos);
	return 0;
}

static uint64_t le64_at(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static int read_name(struct rbd_diff_reader *r, uint64_t start, char tag,
		     char **ret)
{
	char what[32];
	uint8_t len_buf[4];
	uint32_t len;
	char *name;
	int k;

	snprintf(what, sizeof(what), "'%c' record", tag);
	k = read_exact(r, len_buf, sizeof(len_buf), start, what);
	if (k < 0)
		return k;
	memcpy(&len, len_buf, 4);
	len = le32toh(len);
	if (len > RBD_DIFF_NAME_MAX)
		return corrupt(r, start,
			       "'%c' record at byte %" PRIu64 ": a snapshot name of %" PRIu32 " bytes (at most %u)",
			       tag, start, len, RBD_DIFF_NAME_MAX);
	name = malloc((size_t)len + 1);
	if (!name)
		return -ENOMEM;
	k = read_exact(r, name, len, start, what);
	if (k < 0) {
		free(name);
		return k;
	}
	name[len] = '\0';
	if (strlen(name) != len) {
		free(name);
		return corrupt(r, start,
			       "'%c' record at byte %" PRIu64 ": the snapshot name holds a NUL byte",
			       tag, start);
	}
	*ret = name;
	return 0;
}

int rbd_diff_read_header(struct rbd_diff_reader *r)
{
	char banner[BANNER_LEN];
	int k;

	k = read_exact(r, banner, BANNER_LEN, 0, "banner");
	if (k < 0)
		return k;
	if (memcmp(banner, RBD_DIFF_BANNER, BANNER_LEN) != 0)
		return corrupt(r, 0, "bad magic: not an \"rbd diff v1\" stream");

	for (;;) {
		uint64_t start = r->pos;
		uint8_t tag, buf[8];
		char **name;

		k = read_exact(r, &tag, 1, start, "record tag (no 'e' record)");
		if (k < 0)
			return k;
		switch (tag) {
		case 'f':
		case 't':
			name = tag == 'f' ? &r->from : &r->to;
			if (*name)
				return corrupt(r, start,
					       "second '%c' record at byte %" PRIu64,
					       tag, start);
			k = read_name(r, start, (char)tag, name);
			if (k < 0)
				return k;
			break;
		case 's':
			if (r->has_size)
				return corrupt(r, start,
					       "second 's' record at byte %" PRIu64,
					       start);
			k = read_exact(r, buf, 8, start, "'s' record");
			if (k < 0)
				return k;
			r->size = le64_at(buf);
			r->has_size = true;
			break;
		case 'w':
		case 'z':
		case 'e':
			if (!r->has_size)
				return corrupt(r, start,
					       "no 's' (size) record before the '%c' record at byte %" PRIu64,
					       tag, start);
			r->pending_tag = tag;
			r->pending_pos = start;
			r->header_done = true;
			return 0;
		default:
			return corrupt(r, start,
				       "unknown record tag 0x%02x at byte %" PRIu64,
				       tag, start);
		}
	}
}

int rbd_diff_next(struct rbd_diff_reader *r, struct rbd_diff_record *ret)
{
	uint8_t tag, buf[16];
	uint64_t start, offset, length, end;
	int k;

	if (!r->header_done)
		return -EINVAL;
	if (r->ended) {
		*ret = (struct rbd_diff_record){ .type = 'e', .stream_offset = r->pos };
		return 0;
	}
	/* Skip what the caller did not read of the last 'w' record. */
	while (r->data_left) {
		uint8_t skip[4096];
		size_t n = r->data_left < sizeof(skip) ? (size_t)r->data_left
						       : sizeof(skip);

		k = rbd_diff_read_data(r, skip, n);
		if (k < 0)
			return k;
	}

	if (r->pending_tag >= 0) {
		tag = (uint8_t)r->pending_tag;
		start = r->pending_pos;
		r->pending_tag = -1;
	} else {
		start = r->pos;
		k = read_exact(r, &tag, 1, start, "record tag (no 'e' record)");
		if (k < 0)
			return k;
	}

	switch (tag) {
	case 'e':
		r->ended = true;
		*ret = (struct rbd_diff_record){ .type = 'e', .stream_offset = start };
		return 0;
	case 'w':
	case 'z':
		break;
	case 'f':
	case 't':
	case 's':
		return corrupt(r, start,
			       "'%c' record at byte %" PRIu64 " after the data records",
			       tag, start);
	default:
		return corrupt(r, start,
			       "unknown record tag 0x%02x at byte %" PRIu64,
			       tag, start);
	}

	k = read_exact(r, buf, 16, start, tag == 'w' ? "'w' record" : "'z' record");
	if (k < 0)
		return k;
	offset = le64_at(buf);
	length = le64_at(buf + 8);
	if (__builtin_add_overflow(offset, length, &end) || end > r->size)
		return corrupt(r, start,
			       "'%c' record at byte %" PRIu64 " (offset %" PRIu64 ", length %" PRIu64 ") reaches past the image size %" PRIu64,
			       tag, start, offset, length, r->size);
	if (tag == 'w')
		r->data_left = length;
	*ret = (struct rbd_diff_record){
		.type = (char)tag,
		.offset = offset,
		.length = length,
		.stream_offset = start,
	};
	return 0;
}

int rbd_diff_read_data(struct rbd_diff_reader *r, void *buf, size_t len)
{
	ssize_t done;

	if (len > r->data_left)
		return -EINVAL;
	done = read_full(r, buf, len);
	if (done < 0)
		return (int)done;
	/* Reported at the byte where the data ran out. */
	if ((size_t)done < len)
		return corrupt(r, r->pos,
			       "truncated 'w' record: its data stops at byte %" PRIu64 ", %" PRIu64 " bytes short",
			       r->pos, r->data_left - (size_t)done);
	r->data_left -= len;
	return 0;
}

void rbd_diff_writer_init(struct rbd_diff_writer *w, rbd_diff_write_fn write,
			  void *userdata)
{
	*w = (struct rbd_diff_writer){ .write = write, .userdata = userdata };
}

static int put(struct rbd_diff_writer *w, const void *buf, size_t len)
{
	int k = w->write(w->userdata, buf, len);

	if (k < 0)
		return k;
	w->pos += len;
	return 0;
}

static int put_name(struct rbd_diff_writer *w, char tag, const char *name)
{
	size_t n = strlen(name);
	uint8_t head[5];
	uint32_t len;
	int k;

	if (n > RBD_DIFF_NAME_MAX)
		return -ENAMETOOLONG;
	head[0] = (uint8_t)tag;
	len = htole32((uint32_t)n);
	memcpy(head + 1, &len, 4);
	k = put(w, head, sizeof(head));
	return k < 0 ? k : put(w, name, n);
}

int rbd_diff_write_header(struct rbd_diff_writer *w, const char *from,
			  const char *to, uint64_t size)
{
	uint8_t rec[9];
	uint64_t v = htole64(size);
	int k;

	if (w->header_done)
		return -EINVAL;
	k = put(w, RBD_DIFF_BANNER, BANNER_LEN);
	if (k == 0 && from)
		k = put_name(w, 'f', from);
	if (k == 0 && to)
		k = put_name(w, 't', to);
	if (k < 0)
		return k;
	rec[0] = 's';
	memcpy(rec + 1, &v, 8);
	k = put(w, rec, sizeof(rec));
	if (k < 0)
		return k;
	w->size = size;
	w->header_done = true;
	return 0;
}

static int put_extent(struct rbd_diff_writer *w, char tag, uint64_t offset,
		      uint64_t length)
{
	uint8_t rec[17];
	uint64_t v, end;

	if (!w->header_done || w->ended || length == 0 || offset < w->next ||
	    __builtin_add_overflow(offset, length, &end) || end > w->size)
		return -EINVAL;
	rec[0] = (uint8_t)tag;
	v = htole64(offset);
	memcpy(rec + 1, &v, 8);
	v = htole64(length);
	memcpy(rec + 9, &v, 8);
	w->next = end;
	return put(w, rec, sizeof(rec));
}

int rbd_diff_write_data(struct rbd_diff_writer *w, uint64_t offset,
			uint64_t length, const void *data)
{
	int k;

	if (length > SIZE_MAX)
		return -EINVAL;
	k = put_extent(w, 'w', offset, length);
	return k < 0 ? k : put(w, data, (size_t)length);
}

int rbd_diff_write_zero(struct rbd_diff_writer *w, uint64_t offset,
			uint64_t length)
{
	return put_extent(w, 'z', offset, length);
}

int rbd_diff_write_end(struct rbd_diff_writer *w)
{
	int k;

	if (!w->header_done || w->ended)
		return -EINVAL;
	k = put(w, "e", 1);
	if (k < 0)
		return k;
	w->ended = true;
	return 0;
}
