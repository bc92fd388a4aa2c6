/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Files behind loop devices: a snapshot's COW file and a tracked origin's
 * era metadata file go through the same steps, each skipped when done
 * already, so a re-run after a crash finishes the job.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backing-file.h"
#include "loop.h"
#include "record.h"
#include "stack.h"

int backing_file_absolute(struct snapmgr_ctx *ctx, const char *what, const char *file,
			  const char *hint, char **ret)
{
	_cleanup_free_ char *dircopy = strdup(file), *basecopy = strdup(file);
	_cleanup_free_ char *dirabs = NULL;
	struct stat st;

	if (!dircopy || !basecopy)
		return -ENOMEM;
	if (stat(file, &st) == 0)
		return snapmgr_error(ctx, -EEXIST, "%s file %s already exists; %s",
				     what, file, hint);
	dirabs = realpath(dirname(dircopy), NULL);
	if (!dirabs)
		return snapmgr_error(ctx, negative_errno(),
				     "%s file %s: directory does not exist", what, file);
	return asprintf(ret, "%s/%s", dirabs, basename(basecopy)) < 0 ? -ENOMEM : 0;
}

/* fp NULL: no fault point (activate has none). */
static int attach(struct snapmgr_ctx *ctx, const char *file, const char *op, int *fp,
		  char **device)
{
	_cleanup_free_ char *loopdev = NULL;
	int r;

	if (loop_find(file, &loopdev) < 0) {
		r = loop_attach(ctx, file, &loopdev);
		if (r < 0)
			return r;
		if (fp)
			fault_point(ctx, op, fp);
	}
	return set_string(device, loopdev);
}

int backing_file_prepare(struct snapmgr_ctx *ctx, const char *what, const char *file,
			 uint64_t size, const char *op, int *fp, char **device)
{
	if (access(file, F_OK) < 0) {
		_cleanup_close_ int fd = open(file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
			return snapmgr_error(ctx, negative_errno(),
					     "cannot create %s file %s: %m", what, file);
		fault_point(ctx, op, fp);
	}
	return attach(ctx, file, op, fp, device);
}

int backing_file_attach(struct snapmgr_ctx *ctx, const char *file, char **device)
{
	return attach(ctx, file, NULL, NULL, device);
}

int backing_file_release(struct snapmgr_ctx *ctx, const char *what, const char *file,
			 bool created, const char *op, int *fp)
{
	_cleanup_free_ char *loopdev = NULL;
	int r;

	if (loop_find(file, &loopdev) == 0) {
		r = loop_detach(ctx, loopdev);
		if (r < 0)
			return r;
		fault_point(ctx, op, fp);
	}
	if (created && unlink(file) < 0 && errno != ENOENT)
		return snapmgr_error(ctx, negative_errno(), "cannot delete %s file %s: %m",
				     what, file);
	return 0;
}
