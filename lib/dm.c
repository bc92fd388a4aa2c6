/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The real backend of lib/dm.h: libdevmapper's tasks in, -errno out. This is
 * the only file that calls libdevmapper (lib/dm-status.c borrows its status
 * parser); the host tests link lib/dm-fake.c instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libdevmapper.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dm.h"

static inline void dm_task_destroyp(struct dm_task **t)
{
	if (*t)
		dm_task_destroy(*t);
}
#define _cleanup_dm_task_ _cleanup_(dm_task_destroyp)

/*
 * libdevmapper's log hook is process-wide and carries no user data, so the
 * context that last set it up receives its messages.
 */
static struct snapmgr_ctx *dm_log_ctx;

_printf_(5, 6) static void dm_log_bridge(int level, const char *file, int line,
					 int dm_errno_or_class, const char *f,
					 ...)
{
	va_list ap;
	char buf[512];
	int prio;

	(void)dm_errno_or_class;
	if (!dm_log_ctx)
		return;
	level &= 0x0f; /* strip libdm's _LOG_STDERR and friends */
	/* libdm's levels 3..7 match syslog's; its errors are ours to judge. */
	prio = level <= 3 ? LOG_INFO : LOG_DEBUG;
	if (snapmgr_get_log_priority(dm_log_ctx) < prio)
		return;
	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	snapmgr_log(dm_log_ctx, prio, file, line, "libdevmapper", "dm: %s", buf);
}

/*
 * Without this check libdevmapper, failing to open /dev/mapper/control,
 * reports its own last errno (often a misleading ENOMEM). The node can exist
 * (a package made it) while the kernel has no device-mapper: ENODEV/ENXIO.
 */
static int control_check(struct snapmgr_ctx *ctx)
{
	/* Tests point it elsewhere to see each refusal on any host. */
	const char *path = getenv("SNAPMGR_DEBUG_DM_CONTROL");
	static bool reached;
	int fd;

	if (reached)
		return 0;
	if (!path)
		path = "/dev/mapper/control";
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		reached = true;
		return 0;
	}
	switch (errno) {
	case ENOENT:
		return snapmgr_error(ctx, -ENODEV,
				     "device-mapper is not available: %s missing (modprobe dm_mod)", path);
	case ENODEV:
	case ENXIO:
		return snapmgr_error(ctx, -ENODEV,
				     "device-mapper is not available: the kernel has no driver behind %s (modprobe dm_mod)", path);
	case EACCES:
	case EPERM:
		return snapmgr_error(ctx, negative_errno(),
				     "cannot open %s: %m (device-mapper needs root)", path);
	default:
		return snapmgr_error(ctx, negative_errno(),
				     "cannot open %s: %m", path);
	}
}

void smdm_forget(struct snapmgr_ctx *ctx)
{
	if (dm_log_ctx == ctx)
		dm_log_ctx = NULL; /* libdm's messages go nowhere until the next setup */
}

int smdm_setup(struct snapmgr_ctx *ctx)
{
	dm_log_ctx = ctx;
	dm_log_with_errno_init(dm_log_bridge);
	/*
	 * Without udev (rescue systems, our test VM) nobody would create
	 * /dev/mapper nodes: let libdevmapper make them itself.
	 */
	if (access("/run/udev/control", F_OK) < 0)
		dm_udev_set_sync_support(0);
	return control_check(ctx);
}

/* A failed task's -errno: dm_task_get_errno(), else -EIO. */
static int task_errno(struct dm_task *dmt)
{
	int e = dm_task_get_errno(dmt);

	return e > 0 ? -e : -EIO;
}

static int device_get(struct snapmgr_ctx *ctx, const char *name, dev_t devnum,
		      bool status, struct smdm_device **ret)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	_cleanup_smdm_device_ struct smdm_device *dev = NULL;
	struct dm_info info;
	uint64_t start, length;
	char *type = NULL, *params = NULL;
	const char *s;
	void *next = NULL;

	dmt = dm_task_create(status ? DM_DEVICE_STATUS : DM_DEVICE_TABLE);
	if (!dmt)
		return -ENOMEM;
	if (name ? !dm_task_set_name(dmt, name) :
		   !dm_task_set_major(dmt, major(devnum)) ||
			   !dm_task_set_minor(dmt, minor(devnum)))
		return -EINVAL;
	if (!dm_task_run(dmt))
		return task_errno(dmt);
	if (!dm_task_get_info(dmt, &info))
		return -EIO;
	if (!info.exists)
		return -ENXIO;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->name = strdup(dm_task_get_name(dmt));
	s = dm_task_get_uuid(dmt);
	dev->uuid = strdup(s ? s : "");
	if (!dev->name || !dev->uuid)
		return -ENOMEM;
	dev->devnum = makedev(info.major, info.minor);
	dev->open_count = info.open_count;
	dev->suspended = info.suspended;
	dev->live_table = info.live_table;
	dev->event_nr = info.event_nr;
	dev->target_count = info.target_count;

	do {
		next = dm_get_next_target(dmt, next, &start, &length, &type,
					  &params);
		if (type && !dev->target_type) {
			dev->target_type = strdup(type);
			dev->params = strdup(params ? params : "");
			dev->length = length;
			if (!dev->target_type || !dev->params)
				return -ENOMEM;
		}
	} while (next);

	*ret = TAKE_PTR(dev);
	return 0;
}

int smdm_device_get(struct snapmgr_ctx *ctx, const char *name, bool status,
		  struct smdm_device **ret)
{
	return device_get(ctx, name, 0, status, ret);
}

int smdm_device_get_by_devnum(struct snapmgr_ctx *ctx, dev_t devnum,
			    bool status, struct smdm_device **ret)
{
	return device_get(ctx, NULL, devnum, status, ret);
}

/* A DM_DEVICE_LIST task that ran: dm_task_get_names() reads the list. */
static int list_devices(struct snapmgr_ctx *ctx, struct dm_task **ret)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;

	dmt = dm_task_create(DM_DEVICE_LIST);
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_run(dmt)) {
		int r = task_errno(dmt);

		return snapmgr_error(ctx, r,
				     "cannot list device-mapper devices: %s",
				     strerror(-r));
	}
	*ret = TAKE_PTR(dmt);
	return 0;
}

int smdm_list_names(struct snapmgr_ctx *ctx, char ***ret_names)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	struct dm_names *names;
	char **v = NULL;
	size_t n = 0;
	unsigned next = 0;
	int r;

	r = list_devices(ctx, &dmt);
	if (r < 0)
		return r;
	names = dm_task_get_names(dmt);
	v = calloc(1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	if (names && names->dev) {
		do {
			char **nv;

			names = (struct dm_names *)((char *)names + next);
			nv = realloc(v, (n + 2) * sizeof(char *));
			if (!nv) {
				strv_free(v);
				return -ENOMEM;
			}
			v = nv;
			v[n] = strdup(names->name);
			v[n + 1] = NULL;
			if (!v[n]) {
				strv_free(v);
				return -ENOMEM;
			}
			n++;
			next = names->next;
		} while (next);
	}
	*ret_names = v;
	return 0;
}

/*
 * Whether this kernel's device list carries event numbers (dm 4.37+).
 * Asked once: the daemon lists after every event, and the answer only
 * changes with the kernel.
 */
static bool list_has_event_nr(void)
{
	static int known = -1;
	char version[64];
	unsigned major, minor;

	if (known >= 0)
		return known;
	if (!dm_driver_version(version, sizeof(version)) ||
	    sscanf(version, "%u.%u", &major, &minor) != 2)
		return false; /* asked again next time */
	known = major > 4 || (major == 4 && minor >= 37);
	return known;
}

int smdm_list_events(struct snapmgr_ctx *ctx,
		     struct snapmgr_dm_event ***ret_list)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	int r;

	if (!list_has_event_nr())
		return snapmgr_error(ctx, -EOPNOTSUPP,
				     "this kernel's device-mapper lists no event numbers");
	r = list_devices(ctx, &dmt);
	if (r < 0)
		return r;
	return smdm_names_to_events(dm_task_get_names(dmt), ret_list);
}

int smdm_target_version(struct snapmgr_ctx *ctx, const char *target,
			uint32_t ret_version[3])
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	struct dm_versions *v;
	unsigned next = 0;

	dmt = dm_task_create(DM_DEVICE_LIST_VERSIONS);
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_run(dmt))
		return task_errno(dmt);
	v = dm_task_get_versions(dmt);
	do {
		v = (struct dm_versions *)((char *)v + next);
		if (streq(v->name, target)) {
			memcpy(ret_version, v->version, 3 * sizeof(uint32_t));
			return 0;
		}
		next = v->next;
	} while (next);
	log_debug(ctx, "no %s target loaded", target);
	return -ENOENT;
}

/* Runs a task that changes state, waiting for udev where udev runs. */
static int run_change(struct snapmgr_ctx *ctx, struct dm_task *dmt,
		      const char *what, const char *name)
{
	uint32_t cookie = 0;
	int ok, r = 0;

	if (!dm_task_set_cookie(dmt, &cookie, 0))
		return -EIO;
	ok = dm_task_run(dmt);
	if (!ok)
		r = task_errno(dmt);
	/* Always wait: the cookie was taken even when the task failed. */
	dm_udev_wait(cookie);
	if (r < 0)
		snapmgr_error(ctx, r, "%s %s: %s", what, name, strerror(-r));
	else
		log_debug(ctx, "%s %s: done", what, name);
	return r;
}

/* create and reload (op): a task for name (and uuid) with a one-target table. */
static int table_task(struct snapmgr_ctx *ctx, int type, const char *op, const char *name,
		      const char *uuid, const char *target, uint64_t length,
		      const char *params, struct dm_task **ret)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;

	log_info(ctx, "%s %s: %s %" PRIu64 " %s", op, name, target, length, params);
	dmt = dm_task_create(type);
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, name) || (uuid && !dm_task_set_uuid(dmt, uuid)))
		return -EINVAL;
	if (!dm_task_add_target(dmt, 0, length, target, params))
		return -ENOMEM;
	*ret = TAKE_PTR(dmt);
	return 0;
}

int smdm_create(struct snapmgr_ctx *ctx, const char *name, const char *uuid,
	      const char *target, uint64_t length, const char *params)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	int r;

	r = table_task(ctx, DM_DEVICE_CREATE, "create", name, uuid, target, length, params, &dmt);
	if (r < 0)
		return r;
	return run_change(ctx, dmt, "create", name);
}

int smdm_reload(struct snapmgr_ctx *ctx, const char *name, const char *target,
	      uint64_t length, const char *params)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	int r;

	r = table_task(ctx, DM_DEVICE_RELOAD, "reload", name, NULL, target, length, params, &dmt);
	if (r < 0)
		return r;
	if (!dm_task_run(dmt)) {
		r = task_errno(dmt);
		return snapmgr_error(ctx, r, "reload %s: %s", name,
				     strerror(-r));
	}
	return 0;
}

static int simple_change(struct snapmgr_ctx *ctx, int type, const char *what,
			 const char *name)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;

	log_info(ctx, "%s %s", what, name);
	dmt = dm_task_create(type);
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, name))
		return -EINVAL;
	if (type == DM_DEVICE_SUSPEND) {
		if (dm_task_run(dmt))
			return 0;
		return snapmgr_error(ctx, task_errno(dmt), "suspend %s: %s",
				     name, strerror(-task_errno(dmt)));
	}
	if (type == DM_DEVICE_REMOVE)
		dm_task_retry_remove(dmt);
	return run_change(ctx, dmt, what, name);
}

int smdm_remove_deferred(struct snapmgr_ctx *ctx, const char *name)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;

	log_info(ctx, "remove %s (deferred until its last user closes it)", name);
	dmt = dm_task_create(DM_DEVICE_REMOVE);
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, name) || !dm_task_deferred_remove(dmt))
		return -EINVAL;
	return run_change(ctx, dmt, "remove", name);
}

int smdm_suspend(struct snapmgr_ctx *ctx, const char *name)
{
	return simple_change(ctx, DM_DEVICE_SUSPEND, "suspend", name);
}

int smdm_resume(struct snapmgr_ctx *ctx, const char *name)
{
	return simple_change(ctx, DM_DEVICE_RESUME, "resume", name);
}

int smdm_remove(struct snapmgr_ctx *ctx, const char *name)
{
	return simple_change(ctx, DM_DEVICE_REMOVE, "remove", name);
}

int smdm_message(struct snapmgr_ctx *ctx, const char *name, const char *message,
	       char **ret_response)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	const char *resp;
	char *copy = NULL;

	dmt = dm_task_create(DM_DEVICE_TARGET_MSG);
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, name) || !dm_task_set_sector(dmt, 0) ||
	    !dm_task_set_message(dmt, message))
		return -EINVAL;
	if (!dm_task_run(dmt)) {
		int r = task_errno(dmt);

		log_debug(ctx, "message '%s' to %s: %s", message, name,
			  strerror(-r));
		return r;
	}
	resp = dm_task_get_message_response(dmt);
	if (resp && *resp) {
		copy = strdup(resp);
		if (!copy)
			return -ENOMEM;
	}
	if (ret_response)
		*ret_response = copy;
	else
		free(copy);
	return 0;
}
