/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Block device facts and the few writes we allow ourselves on them. */
#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "blockdev.h"

int blockdev_devnum(const char *path, dev_t *ret_devnum)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return negative_errno();
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	*ret_devnum = st.st_rdev;
	return 0;
}

int blockdev_size(const char *path, uint64_t *ret_bytes)
{
	_cleanup_close_ int fd = -1;
	uint64_t bytes;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
		return negative_errno();
	*ret_bytes = bytes;
	return 0;
}

int blockdev_check_unused(const char *path)
{
	int fd = open(path, O_RDONLY | O_EXCL | O_CLOEXEC);

	if (fd < 0)
		return negative_errno();
	close(fd);
	return 0;
}

int blockdev_probe_signature(const char *path, char **ret_type)
{
	blkid_probe pr;
	const char *value = NULL;
	int r;

	pr = blkid_new_probe_from_filename(path);
	if (!pr)
		return errno ? negative_errno() : -EIO;
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC);
	r = blkid_do_safeprobe(pr);
	if (r == 0) {
		if (blkid_probe_lookup_value(pr, "TYPE", &value, NULL) < 0 &&
		    blkid_probe_lookup_value(pr, "PTTYPE", &value, NULL) < 0)
			value = "unknown";
		*ret_type = strdup(value);
		blkid_free_probe(pr);
		return *ret_type ? 1 : -ENOMEM;
	}
	blkid_free_probe(pr);
	if (r == -2) { /* ambiguous: more than one signature */
		*ret_type = strdup("ambiguous signatures");
		return *ret_type ? 1 : -ENOMEM;
	}
	if (r == 1)
		return 0;
	return -EIO;
}

static int read_sysfs(dev_t devnum, const char *file, char *buf, size_t size)
{
	char path[128];
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%s", major(devnum),
		 minor(devnum), file);
	f = fopen(path, "re");
	if (!f)
		return negative_errno();
	if (!fgets(buf, (int)size, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

int blockdev_path_for_devnum(dev_t devnum, char **ret_path)
{
	char path[128];
	_cleanup_fclose_ FILE *f = NULL;
	char line[256];

	/* dm devices by the name users know them by. */
	if (read_sysfs(devnum, "dm/name", line, sizeof(line)) == 0 && line[0]) {
		if (asprintf(ret_path, "/dev/mapper/%s", line) < 0)
			return -ENOMEM;
		return 0;
	}

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent",
		 major(devnum), minor(devnum));
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ENODEV : negative_errno();
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "DEVNAME=", 8) == 0) {
			line[strcspn(line, "\n")] = '\0';
			if (asprintf(ret_path, "/dev/%s", line + 8) < 0)
				return -ENOMEM;
			return 0;
		}
	}
	return -ENODEV;
}

int blockdev_dm_uuid(dev_t devnum, char **ret_uuid)
{
	char buf[256];

	if (read_sysfs(devnum, "dm/uuid", buf, sizeof(buf)) < 0)
		buf[0] = '\0';
	*ret_uuid = strdup(buf);
	return *ret_uuid ? 0 : -ENOMEM;
}

int blockdev_loop_backing_file(dev_t devnum, char **ret_file)
{
	char buf[4096];

	if (read_sysfs(devnum, "loop/backing_file", buf, sizeof(buf)) < 0 ||
	    !buf[0])
		return -ENOENT;
	*ret_file = strdup(buf);
	return *ret_file ? 0 : -ENOMEM;
}

int blockdev_zero_head(const char *path, size_t len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ void *zeros = NULL;

	zeros = calloc(1, len);
	if (!zeros)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (pwrite(fd, zeros, len, 0) != (ssize_t)len)
		return errno ? negative_errno() : -EIO;
	if (fsync(fd) < 0)
		return negative_errno();
	/* Readers of the device must not see the old header from cache. */
	(void)ioctl(fd, BLKFLSBUF, 0);
	return 0;
}
