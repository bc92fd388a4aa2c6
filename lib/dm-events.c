/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every dm device's event number in one DM_LIST_DEVICES ioctl, so a watcher
 * woken by the global event can tell which devices raised one (their number
 * moved) from a device created, removed or given a new table (names change,
 * or no number moved) without reading every device's table and status.
 *
 * Since dm ioctl 4.37 (Linux 4.13) the kernel puts each device's event
 * number after its name in the list, at the next 8-byte boundary, followed
 * by a flags word. libdevmapper returns the list as is but has no accessor
 * for the number, so it is read here at the offset the kernel writes it
 * (include/uapi/linux/dm-ioctl.h describes the layout).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dm.h"

static const void *align8(const void *p)
{
	return (const void *)(((uintptr_t)p + 7) & ~(uintptr_t)7);
}

static int event_cmp(const void *a, const void *b)
{
	const struct snapmgr_dm_event *x = a, *y = b;

	return strcmp(x->name, y->name);
}

int dm_names_to_events(const struct dm_names *names,
		       struct snapmgr_dm_event **ret, size_t *ret_n)
{
	struct snapmgr_dm_event *v = NULL;
	size_t n = 0;
	unsigned next = 0;

	/* An empty list is one entry with dev 0. */
	if (names && names->dev) {
		do {
			struct snapmgr_dm_event *nv;
			const uint32_t *event_nr;

			names = (const struct dm_names *)((const char *)names + next);
			nv = realloc(v, (n + 1) * sizeof(*v));
			if (!nv)
				goto nomem;
			v = nv;
			event_nr = align8(names->name + strlen(names->name) + 1);
			v[n].event_nr = *event_nr;
			v[n].name = strdup(names->name);
			if (!v[n].name)
				goto nomem;
			n++;
			next = names->next;
		} while (next);
	}
	if (n)
		qsort(v, n, sizeof(*v), event_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
nomem:
	snapmgr_events_list_free(v, n);
	return -ENOMEM;
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

_public_ int snapmgr_events_list(struct snapmgr_ctx *ctx,
				 struct snapmgr_dm_event **ret, size_t *ret_n)
{
	_cleanup_dm_task_ struct dm_task *dmt = NULL;
	int r;

	if (!ctx || !ret || !ret_n)
		return -EINVAL;
	dm_setup(ctx);
	if (!list_has_event_nr())
		return snapmgr_error(ctx, -EOPNOTSUPP,
				     "this kernel's device-mapper lists no event numbers");
	r = dm_list_devices(ctx, &dmt);
	if (r < 0)
		return r;
	return dm_names_to_events(dm_task_get_names(dmt), ret, ret_n);
}

_public_ void snapmgr_events_list_free(struct snapmgr_dm_event *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}
