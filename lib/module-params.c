/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parameters of the loaded dm-snapshot module, read from sysfs. Module-wide
 * settings have no dm message to ask: /sys/module/dm_snapshot/parameters/ is
 * the kernel's own interface for them. Debian's module has none of ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "error-private.h"
#include "module-params.h"
#include "libsnapmgr-private.h"

#define DM_SNAPSHOT_PARAMS "/sys/module/dm_snapshot/parameters"

int module_param_read_bool(const char *path, bool *ret_value)
{
	char buf[8] = "";
	ssize_t n;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return r;
	/* The kernel's param_get_bool() prints Y or N and a newline. */
	buf[strcspn(buf, "\n")] = '\0';
	if (strcmp(buf, "Y") == 0)
		*ret_value = true;
	else if (strcmp(buf, "N") == 0)
		*ret_value = false;
	else
		return -EBADMSG;
	return 0;
}

/* One of our module's bool parameters; -ENOENT on Debian's module. */
static int snapshot_param_bool(struct snapmgr_ctx *ctx, const char *name,
			       bool *ret_on)
{
	char path[128];
	int r;

	snprintf(path, sizeof(path), DM_SNAPSHOT_PARAMS "/%s", name);
	r = module_param_read_bool(path, ret_on);
	if (r == -ENOENT)
		log_debug(ctx, "%s: absent (module not loaded, or not snapmgr's)",
			  path);
	else if (r < 0)
		log_debug(ctx, "%s: %s", path, strerror(-r));
	return r;
}

_public_ int snapmgr_get_bypass_batching(struct snapmgr_ctx *ctx, bool *ret_on)
{
	SNAPMGR_ENTRY(ctx);
	return snapshot_param_bool(ctx, "snapshot_bypass_batching", ret_on);
}

_public_ int snapmgr_get_shared_copy(struct snapmgr_ctx *ctx, bool *ret_on)
{
	SNAPMGR_ENTRY(ctx);
	return snapshot_param_bool(ctx, "snapshot_shared_copy", ret_on);
}
