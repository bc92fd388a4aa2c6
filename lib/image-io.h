/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where export and import-diff write: an image file or a block device
 * holding a backup, or a stream (a new file, stdout).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "libsnapmgr-private.h"

struct image {
	int fd;
	char *path;
	bool is_blockdev;
	bool is_stream;  /* a pipe or terminal: sequential writes only */
	bool created;    /* made by us: a new sparse file, removed on failure */
	uint64_t size;
	dev_t devnum;    /* of a block device */
	uint64_t stream_pos;
};

/*
 * An image to update in place. When path does not exist and create_size
 * is not 0, a sparse file of that size is created (O_EXCL). Block devices
 * are opened O_EXCL (refused while mounted or held by dm, md, ...).
 * ret->size is the image's size; the caller compares it.
 */
int image_open_target(struct snapmgr_ctx *ctx, const char *path,
		      uint64_t create_size, struct image *ret);
/* A new file (O_EXCL, mode 0600: it holds a device's data) or "-" (fd 1). */
int image_open_output(struct snapmgr_ctx *ctx, const char *path,
		      struct image *ret);
/* Closes; a file we created is removed when !keep. */
int image_close(struct image *img, bool keep);
int image_sync(struct image *img);

int write_all(int fd, const void *buf, size_t len);
int pwrite_all(int fd, const void *buf, size_t len, uint64_t offset);
/*
 * Makes [offset, offset+length) read as zeros: nothing for a file we just
 * created (it is a hole already), a punched hole in other files,
 * BLKZEROOUT on block devices; written zeros where those are refused.
 */
int image_zero(struct image *img, uint64_t offset, uint64_t length);
/* True when the len bytes at p are all zero. */
bool is_zero(const void *p, size_t len);
double now_seconds(void);
