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
#include <libdevmapper.h> /* struct dm_names only: no call */
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

int smdm_names_to_events(const struct dm_names *names,
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

_public_ int snapmgr_events_list(struct snapmgr_ctx *ctx,
				 struct snapmgr_dm_event **ret, size_t *ret_n)
{
	int r;

	if (!ctx || !ret || !ret_n)
		return -EINVAL;
	r = smdm_setup(ctx);
	if (r < 0)
		return r;
	return smdm_list_events(ctx, ret, ret_n);
}

_public_ void snapmgr_events_list_free(struct snapmgr_dm_event *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}
