/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image files, block devices and streams for export and import-diff. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>

#include "image-io.h"

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool is_zero(const void *p, size_t len)
{
	const uint8_t *b = p;

	/* Compare the buffer with itself shifted: one memcmp, no table. */
	return len == 0 || (b[0] == 0 && memcmp(b, b + 1, len - 1) == 0);
}

int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int pwrite_all(int fd, const void *buf, size_t len, uint64_t offset)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)offset);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			return -ENOSPC;
		p += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return 0;
}

static int fail_path(struct snapmgr_ctx *ctx, int r, const char *path,
		     const char *what)
{
	return snapmgr_error(ctx, r, "%s: %s: %s", path, what, strerror(-r));
}

int image_open_target(struct snapmgr_ctx *ctx, const char *path,
		      uint64_t create_size, struct image *ret)
{
	struct image img = { .fd = -1 };
	struct stat st;
	int r;

	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			return fail_path(ctx, negative_errno(), path, "cannot look at it");
		if (!create_size)
			return snapmgr_error(ctx, -ENOENT, "%s does not exist (an incremental update needs the previous backup there)", path);
		img.fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (img.fd < 0)
			return fail_path(ctx, negative_errno(), path, "cannot create it");
		img.created = true;
		if (ftruncate(img.fd, (off_t)create_size) < 0) {
			r = negative_errno();
			close(img.fd);
			unlink(path);
			return fail_path(ctx, r, path, "cannot size it");
		}
		img.size = create_size;
	} else if (S_ISREG(st.st_mode)) {
		img.fd = open(path, O_RDWR | O_CLOEXEC);
		if (img.fd < 0)
			return fail_path(ctx, negative_errno(), path, "cannot open it");
		img.size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		/* O_EXCL: never a device that is mounted or part of a stack. */
		img.fd = open(path, O_RDWR | O_EXCL | O_CLOEXEC);
		if (img.fd < 0) {
			r = negative_errno();
			if (r == -EBUSY)
				return snapmgr_error(ctx, r, "%s is in use (mounted, or held by device-mapper, md, swap): refusing to write to it", path);
			return fail_path(ctx, r, path, "cannot open it");
		}
		img.is_blockdev = true;
		img.devnum = st.st_rdev;
		if (ioctl(img.fd, BLKGETSIZE64, &img.size) < 0) {
			r = negative_errno();
			close(img.fd);
			return fail_path(ctx, r, path, "cannot read its size");
		}
	} else {
		return snapmgr_error(ctx, -EINVAL, "%s is neither a regular file nor a block device", path);
	}
	img.path = strdup(path);
	if (!img.path) {
		image_close(&img, true);
		return -ENOMEM;
	}
	*ret = img;
	return 0;
}

int image_open_output(struct snapmgr_ctx *ctx, const char *path,
		      struct image *ret)
{
	struct image img = { .fd = -1, .is_stream = true };

	if (streq(path, "-")) {
		img.fd = STDOUT_FILENO;
	} else {
		img.fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (img.fd < 0) {
			int r = negative_errno();

			if (r == -EEXIST)
				return snapmgr_error(ctx, r, "%s exists: export writes only new files (use --to to update an image in place)", path);
			return fail_path(ctx, r, path, "cannot create it");
		}
		img.created = true;
	}
	img.path = strdup(path);
	if (!img.path) {
		image_close(&img, true);
		return -ENOMEM;
	}
	*ret = img;
	return 0;
}

int image_sync(struct image *img)
{
	/* Pipes and terminals cannot be synced; files and devices must be. */
	if (img->fd == STDOUT_FILENO && img->is_stream) {
		struct stat st;

		if (fstat(img->fd, &st) == 0 && !S_ISREG(st.st_mode) &&
		    !S_ISBLK(st.st_mode))
			return 0;
	}
	return fsync(img->fd) < 0 ? negative_errno() : 0;
}

int image_close(struct image *img, bool keep)
{
	int r = 0;

	if (img->fd > STDERR_FILENO && close(img->fd) < 0)
		r = negative_errno();
	img->fd = -1;
	if (!keep && img->created && img->path)
		unlink(img->path);
	free(img->path);
	img->path = NULL;
	return r;
}

static int write_zeros(struct image *img, uint64_t offset, uint64_t length)
{
	static const uint8_t zeros[64 * 1024];

	while (length) {
		size_t n = length < sizeof(zeros) ? (size_t)length : sizeof(zeros);
		int r = img->is_stream ? write_all(img->fd, zeros, n)
				       : pwrite_all(img->fd, zeros, n, offset);

		if (r < 0)
			return r;
		offset += n;
		length -= n;
	}
	return 0;
}

int image_zero(struct image *img, uint64_t offset, uint64_t length)
{
	if (img->is_stream)
		return write_zeros(img, offset, length);
	if (img->created)
		return 0;
	if (img->is_blockdev) {
		uint64_t range[2] = { offset, length };

		if (ioctl(img->fd, BLKZEROOUT, range) == 0)
			return 0;
	} else if (fallocate(img->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			     (off_t)offset, (off_t)length) == 0) {
		return 0;
	}
	return write_zeros(img, offset, length);
}
