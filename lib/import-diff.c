/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapmgr_import_diff(): applies an "rbd diff v1" stream to an image file
 * or block device, the restore side of snapmgr_export().
 *
 * Nothing past a corruption is written. A stream in a regular file is read
 * through once, data skipped, before anything is written, so a corrupt or
 * truncated file changes nothing. A stream from a pipe cannot be read
 * twice: its records are applied as they come, each 'w' record buffered
 * whole (up to RECORD_BUFFER_MAX; bigger ones in pieces of that size)
 * before it is written, so a bad record leaves the target as the records
 * before it made it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error-private.h"
#include "image-io.h"
#include "rbd-diff.h"

#define RECORD_BUFFER_MAX (16U * 1024U * 1024U)
#define PROGRESS_INTERVAL 1.0

struct input {
	int fd;
	uint64_t bytes;
};

static ssize_t input_read(void *userdata, void *buf, size_t len)
{
	struct input *in = userdata;
	ssize_t n = read(in->fd, buf, len);

	if (n < 0)
		return negative_errno();
	in->bytes += (uint64_t)n;
	return n;
}

static int corrupt(struct snapmgr_ctx *ctx, const char *input,
		   const struct rbd_diff_reader *rd)
{
	return snapmgr_error(ctx, -EBADMSG, "%s: corrupt stream: %s", input, rd->error);
}

static int read_error(struct snapmgr_ctx *ctx, const char *input,
		      const struct rbd_diff_reader *rd, int r)
{
	if (r == -EBADMSG)
		return corrupt(ctx, input, rd);
	return snapmgr_error(ctx, r, "%s: reading at byte %" PRIu64 ": %s",
			     input, rd->pos, strerror(-r));
}

/* The whole stream, data skipped: is it sound? */
static int validate(struct snapmgr_ctx *ctx, const char *input, int fd)
{
	struct input in = { .fd = fd };
	struct rbd_diff_reader rd;
	struct rbd_diff_record rec;
	int r;

	rbd_diff_reader_init(&rd, input_read, &in);
	r = rbd_diff_read_header(&rd);
	while (r == 0) {
		r = rbd_diff_next(&rd, &rec);
		if (r == 0 && rec.type == 'e')
			break;
		/* Skip the data without reading it. */
		if (r == 0 && rec.type == 'w' && rd.data_left) {
			struct stat st;
			off_t here = lseek(fd, 0, SEEK_CUR);

			if (here < 0 || fstat(fd, &st) < 0) {
				r = negative_errno();
				break;
			}
			if ((uint64_t)st.st_size - (uint64_t)here < rd.data_left) {
				rd.pos += (uint64_t)st.st_size - (uint64_t)here;
				r = snapmgr_error(ctx, -EBADMSG,
						  "%s: corrupt stream: truncated 'w' record at byte %" PRIu64 ": its data stops at byte %" PRIu64 ", %" PRIu64 " bytes short",
						  input, rec.stream_offset, (uint64_t)st.st_size,
						  rd.data_left - ((uint64_t)st.st_size - (uint64_t)here));
				rbd_diff_reader_done(&rd);
				return r;
			}
			if (lseek(fd, (off_t)rd.data_left, SEEK_CUR) < 0) {
				r = negative_errno();
				break;
			}
			rd.pos += rd.data_left;
			rd.data_left = 0;
		}
	}
	if (r < 0)
		r = read_error(ctx, input, &rd, r);
	rbd_diff_reader_done(&rd);
	if (r == 0 && lseek(fd, 0, SEEK_SET) < 0)
		r = snapmgr_error(ctx, negative_errno(), "%s: cannot rewind", input);
	return r;
}

static void progress(const struct snapmgr_import_opts *o,
		     struct snapmgr_transfer_stats *st, double start,
		     double *last, bool force)
{
	double t = now_seconds();

	st->seconds = t - start;
	if (!o->progress || (!force && t - *last < PROGRESS_INTERVAL))
		return;
	*last = t;
	o->progress(o->userdata, st);
}

_public_ int snapmgr_import_diff(struct snapmgr_ctx *ctx,
				 const struct snapmgr_import_opts *theirs,
				 struct snapmgr_transfer_stats *ret_stats)
{
	struct snapmgr_import_opts ours;
	const struct snapmgr_import_opts *opts = &ours;
	struct snapmgr_transfer_stats st = SNAPMGR_RESULT(struct snapmgr_transfer_stats);
	struct image img = { .fd = -1 };
	struct input in = { .fd = -1 };
	struct rbd_diff_reader rd;
	struct rbd_diff_record rec;
	const char *input;
	uint8_t *buf = NULL;
	bool from_stdin, keep = false;
	double start, last;
	struct stat sti;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !theirs)
		return -EINVAL;
	r = opts_take(ctx, &ours, sizeof(ours), theirs, "snapmgr_import_opts");
	if (r < 0)
		return r;
	if (ret_stats) {
		r = result_check(ctx, ret_stats, "snapmgr_transfer_stats");
		if (r < 0)
			return r;
	}
	if (!opts->input || !opts->target)
		return -EINVAL;
	input = opts->input;
	from_stdin = streq(input, "-");
	rbd_diff_reader_init(&rd, input_read, &in);

	in.fd = from_stdin ? STDIN_FILENO : open(input, O_RDONLY | O_CLOEXEC);
	if (in.fd < 0) {
		r = negative_errno();
		return snapmgr_error(ctx, r, "%s: cannot open it: %s", input, strerror(-r));
	}
	if (fstat(in.fd, &sti) < 0) {
		r = snapmgr_error(ctx, negative_errno(), "%s: cannot look at it", input);
		goto out;
	}
	if (S_ISREG(sti.st_mode)) {
		r = validate(ctx, input, in.fd);
		if (r < 0)
			goto out;
	}

	r = rbd_diff_read_header(&rd);
	if (r < 0) {
		r = read_error(ctx, input, &rd, r);
		goto out;
	}
	if (opts->expect_from && !rd.from) {
		r = snapmgr_error(ctx, -EINVAL, "%s: the stream has no 'f' record (it is a full export), expected one from '%s'",
				  input, opts->expect_from);
		goto out;
	}
	if (opts->expect_from && !streq(rd.from, opts->expect_from)) {
		r = snapmgr_error(ctx, -EINVAL, "%s: the stream starts from snapshot '%s', expected '%s'",
				  input, rd.from, opts->expect_from);
		goto out;
	}

	/* A full stream (no 'f') may create its image; a diff needs its base. */
	r = image_open_target(ctx, opts->target, rd.from ? 0 : rd.size, &img);
	if (r < 0)
		goto out;
	if (img.size != rd.size) {
		r = snapmgr_error(ctx, -EINVAL, "%s is %" PRIu64 " bytes, the stream's image %" PRIu64 ": refusing to apply it",
				  opts->target, img.size, rd.size);
		goto out;
	}

	buf = malloc(RECORD_BUFFER_MAX);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	start = last = now_seconds();
	st.total_bytes = rd.size;
	for (;;) {
		r = rbd_diff_next(&rd, &rec);
		if (r < 0) {
			r = read_error(ctx, input, &rd, r);
			goto out;
		}
		if (rec.type == 'e')
			break;
		if (rec.type == 'z') {
			r = image_zero(&img, rec.offset, rec.length);
			if (r < 0) {
				r = snapmgr_error(ctx, r, "%s: zeroing at %" PRIu64 ": %s",
						  opts->target, rec.offset, strerror(-r));
				goto out;
			}
			st.zero_bytes += rec.length;
		} else {
			uint64_t off = rec.offset, left = rec.length;

			while (left) {
				size_t n = left < RECORD_BUFFER_MAX ? (size_t)left
								    : RECORD_BUFFER_MAX;

				r = rbd_diff_read_data(&rd, buf, n);
				if (r < 0) {
					r = read_error(ctx, input, &rd, r);
					goto out;
				}
				r = pwrite_all(img.fd, buf, n, off);
				if (r < 0) {
					r = snapmgr_error(ctx, r, "%s: writing at %" PRIu64 ": %s",
							  opts->target, off, strerror(-r));
					goto out;
				}
				st.bytes_written += n;
				off += n;
				left -= n;
			}
		}
		/* Records may overlap or repeat: progress is by stream position. */
		st.done_bytes = rec.offset + rec.length;
		st.bytes_read = in.bytes;
		progress(opts, &st, start, &last, false);
	}
	r = image_sync(&img);
	if (r < 0) {
		r = snapmgr_error(ctx, r, "%s: %s", opts->target, strerror(-r));
		goto out;
	}
	st.done_bytes = st.total_bytes;
	st.bytes_read = in.bytes;
	progress(opts, &st, start, &last, true);
	if (ret_stats)
		result_give(ret_stats, &st, sizeof(st));
	keep = true;
	r = 0;
out:
	/* A failed import keeps a target that existed: it holds what was applied. */
	if (img.fd >= 0)
		image_close(&img, keep);
	if (in.fd > STDERR_FILENO)
		close(in.fd);
	rbd_diff_reader_done(&rd);
	free(buf);
	return r;
}
