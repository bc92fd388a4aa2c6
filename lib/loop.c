/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loop devices through their ioctls: libdevmapper has no call for them, and
 * util-linux's loop code is not a public library.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loop.h"

int loop_find(const char *file, char **ret_dev)
{
	_cleanup_free_ char *want = realpath(file, NULL);
	DIR *d;
	struct dirent *de;
	int r = -ENOENT;

	if (!want)
		return negative_errno();
	d = opendir("/sys/block");
	if (!d)
		return negative_errno();
	while ((de = readdir(d))) {
		char path[300], buf[4096];
		FILE *f;

		if (strncmp(de->d_name, "loop", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file",
			 de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f)) {
			buf[strcspn(buf, "\n")] = '\0';
			if (streq(buf, want)) {
				r = asprintf(ret_dev, "/dev/%s", de->d_name) < 0 ?
					    -ENOMEM : 0;
				fclose(f);
				break;
			}
		}
		fclose(f);
	}
	closedir(d);
	return r;
}

int loop_attach(struct snapmgr_ctx *ctx, const char *file, char **ret_dev)
{
	_cleanup_close_ int ctl = -1, ffd = -1;

	ffd = open(file, O_RDWR | O_CLOEXEC);
	if (ffd < 0)
		return snapmgr_error(ctx, negative_errno(), "cannot open %s: %m",
				     file);
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return snapmgr_error(ctx, negative_errno(),
				     "cannot open /dev/loop-control: %m");
	/* Another process may take the free device first: try again. */
	for (int attempt = 0; attempt < 16; attempt++) {
		struct loop_config cfg = { .fd = (unsigned)ffd };
		_cleanup_close_ int lfd = -1;
		char dev[32];
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (n < 0)
			return snapmgr_error(ctx, negative_errno(),
					     "no free loop device: %m");
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		lfd = open(dev, O_RDWR | O_CLOEXEC);
		if (lfd < 0)
			return snapmgr_error(ctx, negative_errno(),
					     "cannot open %s: %m", dev);
		strncpy((char *)cfg.info.lo_file_name, file, LO_NAME_SIZE - 1);
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0) {
			log_info(ctx, "attached %s to %s", file, dev);
			*ret_dev = strdup(dev);
			return *ret_dev ? 0 : -ENOMEM;
		}
		if (errno != EBUSY)
			return snapmgr_error(ctx, negative_errno(),
					     "cannot attach %s to %s: %m", file,
					     dev);
	}
	return snapmgr_error(ctx, -EBUSY, "no free loop device for %s", file);
}

int loop_detach(struct snapmgr_ctx *ctx, const char *dev)
{
	_cleanup_close_ int fd = open(dev, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return snapmgr_error(ctx, negative_errno(), "cannot open %s: %m",
				     dev);
	if (ioctl(fd, LOOP_CLR_FD, 0) < 0 && errno != ENXIO)
		return snapmgr_error(ctx, negative_errno(),
				     "cannot detach %s: %m", dev);
	log_info(ctx, "detached %s", dev);
	return 0;
}
