/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Retention: removes the oldest snapshots of an origin beyond a policy
 * (keep the N newest, and/or only those older than an age), but only ever
 * snapshots a schedule made. Who made a snapshot and when is in its record
 * (lib/record.c), written before the snapshot's first dm change, so a name
 * that looks like a schedule's never makes a hand-made snapshot prunable.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error-private.h"
#include "prune-private.h"
#include "record.h"

static const struct prune_item *sort_items;

/* Newest first; equal times by name, newest timestamp suffix first. */
static int cmp_newest_first(const void *a, const void *b)
{
	const struct prune_item *x = &sort_items[*(const size_t *)a];
	const struct prune_item *y = &sort_items[*(const size_t *)b];

	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return -strcmp(x->name, y->name);
}

size_t prune_select(const struct prune_item *items, size_t n,
		    const char *schedule, bool has_keep, unsigned int keep,
		    uint64_t older_than, int64_t now, bool *remove)
{
	size_t *idx = NULL, m = 0, gone = 0;

	for (size_t i = 0; i < n; i++)
		remove[i] = false;
	if (n == 0 || !(idx = calloc(n, sizeof(*idx))))
		return 0; /* on no memory nothing goes: the safe side */
	for (size_t i = 0; i < n; i++) {
		if (!items[i].settled || !items[i].schedule)
			continue;
		if (schedule && strcmp(items[i].schedule, schedule) != 0)
			continue;
		idx[m++] = i;
	}
	sort_items = items;
	qsort(idx, m, sizeof(*idx), cmp_newest_first);
	for (size_t k = has_keep ? keep : 0; k < m; k++) {
		const struct prune_item *it = &items[idx[k]];

		if (older_than > 0 &&
		    (it->created <= 0 || now < it->created ||
		     (uint64_t)(now - it->created) < older_than))
			continue;
		remove[idx[k]] = true;
		gone++;
	}
	free(idx);
	return gone;
}

/*
 * The gone items marked in remove, oldest first (same second: by name), so
 * that a failure half-way leaves the newest ones; each removed with
 * remove_fn unless dry_run. ret_names (may be NULL): their names, in that
 * order. what: "" or "set ", for the message of a removal that failed.
 */
static int remove_oldest_first(struct snapmgr_ctx *ctx, const struct prune_item *items,
			       size_t n, bool *remove, size_t gone, bool dry_run,
			       int (*remove_fn)(struct snapmgr_ctx *, const char *, unsigned),
			       const char *what, char ***ret_names)
{
	_cleanup_strv_ char **names = calloc(gone + 1, sizeof(char *));
	size_t k = 0;
	int r;

	if (!names)
		return -ENOMEM;
	for (;;) {
		size_t oldest = n;

		for (size_t i = 0; i < n; i++)
			if (remove[i] && (oldest == n ||
					  items[i].created < items[oldest].created ||
					  (items[i].created == items[oldest].created &&
					   strcmp(items[i].name, items[oldest].name) < 0)))
				oldest = i;
		if (oldest == n)
			break;
		remove[oldest] = false;
		names[k] = strdup(items[oldest].name);
		if (!names[k])
			return -ENOMEM;
		k++;
	}
	if (!dry_run)
		for (size_t i = 0; i < k; i++) {
			r = remove_fn(ctx, names[i], 0);
			if (r < 0) {
				char why[256];

				snprintf(why, sizeof(why), "%s",
					 snapmgr_get_error(ctx) ?: strerror(-r));
				return snapmgr_error(ctx, r, "cannot remove %s%s: %s",
						     what, names[i], why);
			}
		}
	if (ret_names)
		*ret_names = TAKE_PTR(names);
	return 0;
}

/*
 * An entry point's start: the caller's options into ours, and a policy
 * given (what: "snapshots" or "sets", for the message).
 */
static int prune_opts_take(struct snapmgr_ctx *ctx, const struct snapmgr_prune_opts *theirs,
			   struct snapmgr_prune_opts *ours, const char *what)
{
	int r;

	if (!ctx || !theirs)
		return -EINVAL;
	snapmgr_clear_error(ctx);
	r = opts_take(ctx, ours, sizeof(*ours), theirs, "snapmgr_prune_opts");
	if (r < 0)
		return r;
	if (!ours->has_keep && ours->older_than == 0)
		return snapmgr_error(ctx, -EINVAL, "give a number of %s to keep, an age, or both",
				     what);
	return 0;
}

_public_ int snapmgr_prune(struct snapmgr_ctx *ctx,
			   const struct snapmgr_prune_opts *theirs,
			   char ***ret_names)
{
	_cleanup_record_ struct origin_record *rec = NULL;
	_cleanup_free_ struct prune_item *items = NULL;
	_cleanup_free_ bool *remove = NULL;
	struct snapmgr_prune_opts ours;
	const struct snapmgr_prune_opts *o = &ours;
	size_t n, gone;
	int r;

	SNAPMGR_ENTRY(ctx);
	r = prune_opts_take(ctx, theirs, &ours, "snapshots");
	if (r < 0)
		return r;
	if (!o->origin)
		return -EINVAL;
	r = record_load(ctx, o->origin, &rec);
	if (r == -ENOENT)
		return snapmgr_error(ctx, r, "no such origin");
	if (r < 0)
		return r;
	n = rec->n_snapshots;
	items = calloc(n ? n : 1, sizeof(*items));
	remove = calloc(n ? n : 1, sizeof(*remove));
	if (!items || !remove)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		items[i] = (struct prune_item){
			.name = rec->snapshots[i].name,
			.created = rec->snapshots[i].created,
			/* A set's member goes only with its set: snapmgr_prune_sets(). */
			.schedule = rec->snapshots[i].set ? NULL : rec->snapshots[i].schedule,
			.settled = rec->snapshots[i].state == SNAP_ACTIVE,
		};
	gone = prune_select(items, n, o->schedule, o->has_keep, o->keep,
			    o->older_than, (int64_t)time(NULL), remove);
	return remove_oldest_first(ctx, items, n, remove, gone, o->dry_run,
				   snapmgr_remove, "", ret_names);
}

/*
 * The sets a schedule made, one item each: created when its oldest member
 * was, settled only when every member is, so a set half created, removed
 * or merged is neither counted nor removed.
 */
static int set_items(struct snapmgr_ctx *ctx, const char *schedule,
		     struct prune_item **ret_items, char ***ret_names, size_t *ret_n)
{
	_cleanup_(record_iter_done) struct record_iter it = {};
	_cleanup_strv_ char **names = NULL;
	_cleanup_free_ struct prune_item *items = NULL;
	size_t n = 0;
	int r;

	names = calloc(1, sizeof(char *));
	if (!names)
		return -ENOMEM;
	/* A damaged record: its sets stay. */
	while ((r = record_next(ctx, &it)) > 0) {
		struct origin_record *rec = it.rec;

		for (size_t i = 0; i < rec->n_snapshots; i++) {
			const struct snap_entry *e = &rec->snapshots[i];
			size_t k;

			if (!e->set || !e->schedule || strcmp(e->schedule, schedule) != 0)
				continue;
			for (k = 0; k < n && strcmp(names[k], e->set) != 0; k++)
				;
			if (k == n) {
				struct prune_item *v = reallocarray(items, n + 1, sizeof(*v));
				char **w;

				if (!v)
					return -ENOMEM;
				items = v;
				w = reallocarray(names, n + 2, sizeof(*w));
				if (!w)
					return -ENOMEM;
				names = w;
				names[n] = strdup(e->set);
				names[n + 1] = NULL;
				if (!names[n])
					return -ENOMEM;
				items[n] = (struct prune_item){ .created = e->created,
								.schedule = schedule,
								.settled = true };
				n++;
			}
			if (e->created < items[k].created)
				items[k].created = e->created;
			if (e->state != SNAP_ACTIVE)
				items[k].settled = false;
		}
	}
	if (r < 0)
		return r;
	snapmgr_clear_error(ctx);
	for (size_t k = 0; k < n; k++)
		items[k].name = names[k];
	*ret_items = TAKE_PTR(items);
	*ret_names = TAKE_PTR(names);
	*ret_n = n;
	return 0;
}

_public_ int snapmgr_prune_sets(struct snapmgr_ctx *ctx,
				const struct snapmgr_prune_opts *theirs,
				char ***ret_names)
{
	_cleanup_free_ struct prune_item *items = NULL;
	_cleanup_strv_ char **sets = NULL;
	_cleanup_free_ bool *remove = NULL;
	struct snapmgr_prune_opts ours;
	const struct snapmgr_prune_opts *o = &ours;
	size_t n = 0, gone;
	int r;

	SNAPMGR_ENTRY(ctx);
	r = prune_opts_take(ctx, theirs, &ours, "sets");
	if (r < 0)
		return r;
	if (!o->schedule)
		return -EINVAL;
	r = set_items(ctx, o->schedule, &items, &sets, &n);
	if (r < 0)
		return r;
	if (n == 0) /* a name given by hand that no schedule made sets for */
		return snapmgr_error(ctx, -ENOENT, "no snapshot set made by schedule %s",
				     o->schedule);
	remove = calloc(n ? n : 1, sizeof(*remove));
	if (!remove)
		return -ENOMEM;
	gone = prune_select(items, n, o->schedule, o->has_keep, o->keep,
			    o->older_than, (int64_t)time(NULL), remove);
	return remove_oldest_first(ctx, items, n, remove, gone, o->dry_run,
				   snapmgr_set_remove, "set ", ret_names);
}

_public_ int snapmgr_parse_duration(const char *s, uint64_t *ret_seconds)
{
	static const struct {
		const char *suffix;
		uint64_t seconds;
	} units[] = {
		{ "", 1 }, { "s", 1 }, { "min", 60 }, { "h", 3600 },
		{ "d", 86400 }, { "w", 7 * 86400 },
	};
	uint64_t n = 0;
	const char *p = s;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].suffix) != 0)
			continue;
		if (n > UINT64_MAX / units[i].seconds)
			return -ERANGE;
		*ret_seconds = n * units[i].seconds;
		return 0;
	}
	return -EINVAL;
}
