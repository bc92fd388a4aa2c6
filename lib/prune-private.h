/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal to libsnapmgr: prune's selection, a pure function for the tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct prune_item {
	const char *name;
	int64_t created;      /* seconds since the epoch; 0 unknown */
	const char *schedule; /* NULL: made by hand */
	bool settled;         /* active: no create, remove or merge under way */
};

/*
 * Which items go under the policy: among the settled items that schedule
 * made (any schedule when schedule is NULL; never one made by hand), newest
 * first (by created, then by name), the first keep stay when has_keep; of
 * the rest, with older_than > 0, only those at least older_than seconds old
 * at now go. Sets remove[i] for each of the n items; returns how many go.
 */
size_t prune_select(const struct prune_item *items, size_t n,
		    const char *schedule, bool has_keep, unsigned int keep,
		    uint64_t older_than, int64_t now, bool *remove);
