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
#include "error-private.h"

static const void *align8(const void *p)
{
	return (const void *)(((uintptr_t)p + 7) & ~(uintptr_t)7);
}

static int event_cmp(const void *a, const void *b)
{
	const struct snapmgr_dm_event *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

int smdm_events_add(struct snapmgr_dm_event ***list, size_t *n,
		    const char *name, uint32_t event_nr)
{
	struct snapmgr_dm_event **nl, *e;

	nl = realloc(*list, (*n + 2) * sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	*list = nl;
	nl[*n] = NULL; /* a list that stays freeable if what follows fails */
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->size = sizeof(*e);
	e->event_nr = event_nr;
	e->name = strdup(name);
	if (!e->name) {
		free(e);
		return -ENOMEM;
	}
	nl[(*n)++] = e;
	nl[*n] = NULL;
	return 0;
}

void smdm_events_sort(struct snapmgr_dm_event **list, size_t n)
{
	if (n)
		qsort(list, n, sizeof(*list), event_cmp);
}

int smdm_names_to_events(const struct dm_names *names,
			 struct snapmgr_dm_event ***ret_list)
{
	struct snapmgr_dm_event **list = NULL;
	size_t n = 0;
	unsigned next = 0;
	int r;

	/* An empty list is one entry with dev 0. */
	if (names && names->dev) {
		do {
			const uint32_t *event_nr;

			names = (const struct dm_names *)((const char *)names + next);
			event_nr = align8(names->name + strlen(names->name) + 1);
			r = smdm_events_add(&list, &n, names->name, *event_nr);
			if (r < 0) {
				snapmgr_events_list_free(list);
				return r;
			}
			next = names->next;
		} while (next);
	} else {
		list = calloc(1, sizeof(*list));
		if (!list)
			return -ENOMEM;
	}
	smdm_events_sort(list, n);
	*ret_list = list;
	return 0;
}

_public_ int snapmgr_events_list(struct snapmgr_ctx *ctx,
				 struct snapmgr_dm_event ***ret_list)
{
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !ret_list)
		return -EINVAL;
	r = smdm_setup(ctx);
	if (r < 0)
		return r;
	return smdm_list_events(ctx, ret_list);
}

_public_ void snapmgr_events_list_free(struct snapmgr_dm_event **list)
{
	for (size_t i = 0; list && list[i]; i++) {
		free(list[i]->name);
		free(list[i]);
	}
	free(list);
}
