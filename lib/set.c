/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Snapshot sets: one snapshot of each of several origins at one instant.
 *
 * A set is no file of its own: each member is an entry of its origin's
 * record whose "set" names the set (record version 2), so the state that
 * a crash must not lose lives where single snapshots keep theirs, and
 * list, status, remove and activate see members as snapshots.
 *
 * Create runs single create's steps for every member (record, stack, COW)
 * before any origin is suspended, then: pre-hook, suspend every origin,
 * load every snapshot, resume every origin, post-hook, and the entries
 * turn active. While the origins are suspended nothing is written but the
 * COWs' snapshot loads (no record, no COW header, no hook): a filesystem
 * on a suspended origin is frozen, and anything that waits on it would
 * hang with the origins it holds.
 *
 * A re-run after a crash looks at what is there (fault points are those
 * of create, SNAPMGR_DEBUG_CRASH_AT=create:N):
 * - every member loaded: resume what is suspended, finish;
 * - some loaded and every origin still suspended: nothing has written to
 *   any origin since the loaded members were taken, so the rest is loaded
 *   now and the set holds the crashed run's instant (no pre-hook: the
 *   application was quiesced by that run, and a hook touching a frozen
 *   filesystem would hang);
 * - otherwise (an origin was resumed, by a partial resume, a failed load
 *   or a reboot): members already loaded hold an older instant than the
 *   rest would, so they are dropped, every suspended origin is resumed,
 *   and the set is taken again from the start, hooks included.
 * No run returns (or fails) with an origin it suspended left suspended.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "blockdev.h"
#include "dm-parse.h"
#include "error-private.h"
#include "hook.h"
#include "merge.h"
#include "record.h"
#include "era.h"
#include "stack.h"

struct member {
	char name[2 * SNAPMGR_NAME_MAX + 2]; /* checked to fit SNAPMGR_NAME_MAX */
	struct origin_record *rec;
	size_t idx; /* of its entry in rec->snapshots */
	bool loaded, suspended;
};

static struct snap_entry *member_entry(const struct member *m)
{
	return &m->rec->snapshots[m->idx];
}

static void members_free(struct member *mb, size_t n)
{
	for (size_t i = 0; mb && i < n; i++)
		origin_record_free(mb[i].rec);
	free(mb);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The members of set name every record lists, sorted, and (same order)
 * their origins; either may be NULL. No member: empty lists.
 */
static int set_scan(struct snapmgr_ctx *ctx, const char *name, char ***ret_members,
		    char ***ret_origins)
{
	_cleanup_(record_iter_done) struct record_iter it = {};
	_cleanup_strv_ char **members = NULL, **of = NULL;
	size_t n = 0;
	int r;

	members = calloc(1, sizeof(char *));
	of = calloc(1, sizeof(char *));
	if (!members || !of)
		return -ENOMEM;
	/* A damaged record of another origin does not hide the set. */
	while ((r = record_next(ctx, &it)) > 0) {
		struct origin_record *rec = it.rec;

		for (size_t i = 0; i < rec->n_snapshots; i++) {
			char **nm, **no;
			char buf[2 * SNAPMGR_NAME_MAX + 2];

			if (!rec->snapshots[i].set || !streq(rec->snapshots[i].set, name))
				continue;
			nm = realloc(members, (n + 2) * sizeof(char *));
			if (nm)
				members = nm;
			no = realloc(of, (n + 2) * sizeof(char *));
			if (no)
				of = no;
			if (!nm || !no)
				return -ENOMEM;
			/* Sorted together: "member\norigin", split below. */
			snprintf(buf, sizeof(buf), "%s\n%s", rec->snapshots[i].name, rec->name);
			members[n] = strdup(buf);
			of[n] = NULL;
			members[++n] = NULL;
			if (!members[n - 1])
				return -ENOMEM;
		}
	}
	if (r < 0)
		return r;
	snapmgr_clear_error(ctx);
	qsort(members, n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char *nl = strchr(members[i], '\n');

		*nl = '\0';
		of[i] = strdup(nl + 1);
		of[i + 1] = NULL;
		if (!of[i])
			return -ENOMEM;
	}
	if (ret_members)
		*ret_members = TAKE_PTR(members);
	if (ret_origins)
		*ret_origins = TAKE_PTR(of);
	return 0;
}

/* The error now in ctx, with "member NAME: " in front. */
static int member_error(struct snapmgr_ctx *ctx, const char *member, int r)
{
	char why[256];

	/* A copy: ctx's message cannot be formatted into itself. */
	snprintf(why, sizeof(why), "%s", snapmgr_get_error(ctx) ?: strerror(-r));
	return snapmgr_error(ctx, r, "member %s: %s", member, why);
}

/* Every origin of the set that is suspended, resumed: never leave one so. */
static int resume_all(struct snapmgr_ctx *ctx, struct member *mb, size_t n, int *fp)
{
	int ret = 0;

	for (size_t i = 0; i < n; i++) {
		_cleanup_smdm_device_ struct smdm_device *d = NULL;
		int r = device_lookup(ctx, mb[i].rec->name, &d);

		if (r == 0 && d && d->suspended) {
			r = smdm_resume(ctx, mb[i].rec->name);
			if (r == 0 && fp)
				fault_point(ctx, "create", fp);
		}
		if (r < 0 && ret == 0)
			ret = r;
		mb[i].suspended = false;
	}
	return ret;
}

/* resume_all() on an error path: returns r, the error that led here. */
static int resume_all_after(struct snapmgr_ctx *ctx, struct member *mb, size_t n, int r)
{
	char why[256];

	snprintf(why, sizeof(why), "%s", snapmgr_get_error(ctx) ?: strerror(-r));
	if (resume_all(ctx, mb, n, NULL) < 0)
		return snapmgr_error(ctx, r, "%s; resuming the origins failed too: %s", why,
				     snapmgr_get_error(ctx) ?: "?");
	return snapmgr_error(ctx, r, "%s", why);
}

/* Drops a member loaded at an older instant (its origin suspended around it). */
static int member_unload(struct snapmgr_ctx *ctx, struct member *m, int *fp)
{
	int r;

	r = smdm_suspend(ctx, m->rec->name);
	if (r < 0)
		return r;
	r = smdm_remove(ctx, m->name);
	if (r < 0 && r != -ENXIO) {
		(void)smdm_resume(ctx, m->rec->name);
		return r;
	}
	r = smdm_resume(ctx, m->rec->name);
	if (r < 0)
		return r;
	m->loaded = false;
	fault_point(ctx, "create", fp);
	return 0;
}

/* The snapshot device of m; its origin is suspended. */
static int member_load(struct snapmgr_ctx *ctx, struct member *m)
{
	struct snap_entry *e = member_entry(m);
	char params[128], uuid[64], token[TOKEN_MAX];
	uint32_t era = 0;
	int r;

	r = snapshot_params(ctx, m->rec->name, e->cow_device, e->chunk_size, params,
			    sizeof(params));
	if (r < 0)
		return r;
	/* As snapmgr_create(): the checkpoint inside the suspend. */
	if (origin_tracked(m->rec)) {
		r = era_checkpoint(ctx, m->rec->name, &era);
		if (r < 0)
			return r;
	}
	snprintf(uuid, sizeof(uuid), SNAPMGR_UUID_PREFIX "snap-%s", e->id);
	r = smdm_create(ctx, m->name, uuid, "snapshot", m->rec->sectors, params);
	if (r < 0)
		return r;
	if (origin_tracked(m->rec)) {
		token_format(m->rec->tracking->id, era, token);
		r = set_string(&e->change_token, token);
		if (r < 0)
			return r;
	}
	m->loaded = true;
	return 0;
}

/*
 * The pre-hook failed: undo the whole set as `snapctl remove SET` would,
 * and release the origins that were wrapped for it, so nothing is left.
 */
static int set_undo(struct snapmgr_ctx *ctx, const char *set, struct member *mb, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct snap_entry *e = member_entry(&mb[i]);
		unsigned flags = e->set_wrapped_origin && mb[i].rec->n_snapshots == 1 ?
					 SNAPMGR_REMOVE_RELEASE : 0;
		int r = remove_locked(ctx, mb[i].name, flags);

		if (r < 0)
			return member_error(ctx, mb[i].name, r);
	}
	log_info(ctx, "set %s: undone", set);
	return 0;
}

/* A COW file on a filesystem of a set origin would hang the load. */
static int check_cow_not_on_origins(struct snapmgr_ctx *ctx, const char *cow_file,
				    struct member *mb, size_t n)
{
	_cleanup_free_ char *copy = strdup(cow_file);
	struct stat st;

	if (!copy)
		return -ENOMEM;
	if (stat(dirname(copy), &st) < 0)
		return 0; /* entry_new() says what is wrong with it */
	for (size_t j = 0; j < n; j++) {
		_cleanup_smdm_device_ struct smdm_device *d = NULL;

		if (device_lookup(ctx, mb[j].rec->name, &d) == 0 && d && d->devnum == st.st_dev)
			return snapmgr_error(ctx, -EDEADLK,
					     "COW file %s is on origin %s, which the set suspends (loading the snapshot would wait for it forever)",
					     cow_file, mb[j].rec->name);
	}
	return 0;
}

/* Finds or adds every member's entry; changes nothing on disk. */
static int set_prepare(struct snapmgr_ctx *ctx, const struct snapmgr_set_opts *o,
		       const char *schedule, struct member *mb)
{
	_cleanup_strv_ char **old = NULL, **old_origins = NULL;
	_cleanup_free_ char *other = NULL;
	bool all_active = true;
	int r;

	if (record_find_origin_of(ctx, o->name, &other) == 0)
		return snapmgr_error(ctx, -EEXIST,
				     "a snapshot is named so; a set needs a name of its own");
	r = set_scan(ctx, o->name, &old, &old_origins);
	if (r < 0)
		return r;

	for (size_t i = 0; i < o->n_members; i++) {
		const struct snapmgr_set_member *m = &o->members[i];
		struct snapmgr_create_opts co = { .origin = m->origin, .origin_name = m->origin_name };
		_cleanup_record_ struct origin_record *on_disk = NULL;
		bool fresh;

		if (!m->origin)
			return snapmgr_error(ctx, -EINVAL, "member %zu has no origin", i + 1);
		r = origin_prepare(ctx, &co, &mb[i].rec);
		if (r < 0)
			return r;
		fresh = record_load(ctx, mb[i].rec->name, &on_disk) == -ENOENT;
		snapmgr_clear_error(ctx);
		if (strlen(o->name) + 1 + strlen(mb[i].rec->name) > SNAPMGR_NAME_MAX)
			return snapmgr_error(ctx, -ENAMETOOLONG,
					     "member name %s-%s is longer than %d bytes",
					     o->name, mb[i].rec->name, SNAPMGR_NAME_MAX);
		snprintf(mb[i].name, sizeof(mb[i].name), "%s-%s", o->name, mb[i].rec->name);
		for (size_t j = 0; j < i; j++) {
			const struct snapmgr_set_member *p = &o->members[j];

			if (streq(mb[j].rec->name, mb[i].rec->name))
				return snapmgr_error(ctx, -EINVAL,
						     "origin %s is named twice (a set takes one snapshot of each origin)",
						     mb[i].rec->name);
			if (streq(mb[j].rec->devnum, mb[i].rec->devnum))
				return snapmgr_error(ctx, -EINVAL,
						     "origins %s and %s are one device (%s)",
						     mb[j].rec->name, mb[i].rec->name, mb[i].rec->devnum);
			if ((m->cow_device && p->cow_device && streq(m->cow_device, p->cow_device)) ||
			    (m->cow_file && p->cow_file && streq(m->cow_file, p->cow_file)))
				return snapmgr_error(ctx, -EINVAL, "COW %s is given twice",
						     m->cow_device ?: m->cow_file);
		}
		mb[i].idx = SIZE_MAX;
		{
			struct snap_entry *e = record_find_snapshot(mb[i].rec, mb[i].name);

			if (e) {
				if (!e->set || !streq(e->set, o->name))
					return snapmgr_error(ctx, -EEXIST,
							     "member name %s is taken by a snapshot outside the set",
							     mb[i].name);
				if (e->state != SNAP_CREATING && e->state != SNAP_ACTIVE)
					return snapmgr_error(ctx, -EEXIST,
							     "member %s is %s; run 'snapctl remove %s' to finish",
							     mb[i].name, snap_state_to_string(e->state), o->name);
				if (e->state != SNAP_ACTIVE)
					all_active = false;
				mb[i].idx = (size_t)(e - mb[i].rec->snapshots);
			}
		}
		if (mb[i].idx == SIZE_MAX) {
			_cleanup_smdm_device_ struct smdm_device *snapdev = NULL;
			struct snap_entry *e;
			dev_t origin_dev = 0;

			r = device_lookup(ctx, mb[i].name, &snapdev);
			if (r < 0)
				return r;
			if (snapdev)
				return snapmgr_error(ctx, -EEXIST,
						     "member name %s is taken by a device-mapper device",
						     mb[i].name);
			if (m->cow_file) {
				r = check_cow_not_on_origins(ctx, m->cow_file, mb, i + 1);
				if (r < 0)
					return r;
			}
			co.snapshot = mb[i].name;
			co.cow_device = m->cow_device;
			co.cow_file = m->cow_file;
			co.cow_size = m->cow_size;
			co.chunk_size = m->chunk_size;
			co.force = o->force;
			(void)parse_devnum(mb[i].rec->devnum, &origin_dev);
			r = entry_new(ctx, &co, schedule, origin_dev, mb[i].rec, &e);
			if (r < 0)
				return member_error(ctx, mb[i].name, r);
			if (set_string(&e->set, o->name) < 0)
				return -ENOMEM;
			e->set_wrapped_origin = fresh;
			mb[i].idx = (size_t)(e - mb[i].rec->snapshots);
			all_active = false;
		}
	}
	/* A re-run is the same command: the set may not gain or lose members. */
	for (size_t k = 0; old[k]; k++) {
		bool named = false;

		for (size_t i = 0; i < o->n_members; i++)
			named |= streq(mb[i].name, old[k]);
		if (!named)
			return snapmgr_error(ctx, -EEXIST,
					     "the set has a member %s (origin %s) that this command does not name; run 'snapctl remove %s' to undo the set",
					     old[k], old_origins[k], o->name);
	}
	if (all_active)
		return snapmgr_error(ctx, -EEXIST, "snapshot set already exists");
	return 0;
}

static int set_create_locked(struct snapmgr_ctx *ctx, const struct snapmgr_set_opts *o,
			     const char *schedule)
{
	struct member *mb = calloc(o->n_members, sizeof(*mb));
	size_t n = o->n_members;
	bool all_loaded = true, any_loaded = false, all_suspended = true;
	int fp = 0, r, post = 0;

	if (!mb)
		return -ENOMEM;
	r = set_prepare(ctx, o, schedule, mb);
	if (r < 0)
		goto out;

	/* 1. The records: from here on, remove SET finds every member. */
	for (size_t i = 0; i < n; i++) {
		r = record_save(ctx, mb[i].rec);
		if (r < 0)
			goto out;
		fault_point(ctx, "create", &fp);
	}
	/* 2. Stacks and COWs, while the origins are live. */
	for (size_t i = 0; i < n; i++) {
		struct snap_entry *e;

		r = origin_assemble(ctx, mb[i].rec, &fp);
		if (r < 0)
			goto out;
		r = record_save(ctx, mb[i].rec);
		if (r < 0)
			goto out;
		e = member_entry(&mb[i]);
		if (e->cow_file) {
			r = cow_file_prepare(ctx, e, &fp);
			if (r < 0)
				goto out;
			r = record_save(ctx, mb[i].rec);
			if (r < 0)
				goto out;
		}
	}
	/* 3. Where an earlier run stopped. */
	for (size_t i = 0; i < n; i++) {
		_cleanup_smdm_device_ struct smdm_device *snapdev = NULL, *origdev = NULL;

		r = device_lookup(ctx, mb[i].name, &snapdev);
		if (r < 0)
			goto out;
		if (snapdev && !uuid_is_ours(snapdev, "snap")) {
			r = snapmgr_error(ctx, -EEXIST, "member name %s is taken", mb[i].name);
			goto out;
		}
		r = smdm_device_get(ctx, mb[i].rec->name, false, &origdev);
		if (r < 0)
			goto out;
		mb[i].loaded = !!snapdev;
		mb[i].suspended = origdev->suspended;
		all_loaded &= mb[i].loaded;
		any_loaded |= mb[i].loaded;
		all_suspended &= mb[i].suspended;
		/* Only before its snapshot exists is the era current a safe token. */
		if (!mb[i].loaded) {
			r = token_before_suspend(ctx, mb[i].rec, member_entry(&mb[i]), &fp);
			if (r < 0)
				goto out;
		}
	}
	if (!all_loaded && all_suspended) {
		log_notice(ctx, "set %s: the origins are still suspended by an interrupted run; completing the set at its instant",
			   o->name);
		for (size_t i = 0; i < n; i++) {
			const struct snap_entry *e = member_entry(&mb[i]);

			if (mb[i].loaded)
				continue;
			/* The COWs are not on the origins (checked): no hang. */
			r = blockdev_zero_head(e->cow_device, e->chunk_size);
			if (r < 0) {
				r = snapmgr_error(ctx, r, "cannot initialise COW %s: %s",
						  e->cow_device, strerror(-r));
				r = resume_all_after(ctx, mb, n, r);
				goto out;
			}
			fault_point(ctx, "create", &fp);
		}
	} else if (!all_loaded) {
		if (any_loaded)
			log_notice(ctx, "set %s: an interrupted run's snapshots hold an older instant; taking the set again",
				   o->name);
		r = resume_all(ctx, mb, n, &fp);
		if (r < 0)
			goto out;
		for (size_t i = 0; i < n; i++)
			if (mb[i].loaded) {
				r = member_unload(ctx, &mb[i], &fp);
				if (r < 0)
					goto out;
			}
		for (size_t i = 0; i < n; i++) {
			const struct snap_entry *e = member_entry(&mb[i]);

			/* A stale header would make the kernel load old exceptions. */
			r = blockdev_zero_head(e->cow_device, e->chunk_size);
			if (r < 0) {
				r = snapmgr_error(ctx, r, "cannot initialise COW %s: %s",
						  e->cow_device, strerror(-r));
				goto out;
			}
			fault_point(ctx, "create", &fp);
		}
		if (o->pre_hook) {
			r = hook_run(ctx, "pre", o->pre_hook, o->name, o->hook_timeout);
			if (r < 0) {
				char why[256];

				snprintf(why, sizeof(why), "%s", snapmgr_get_error(ctx));
				r = set_undo(ctx, o->name, mb, n);
				if (r < 0)
					goto out;
				r = snapmgr_error(ctx, -ECANCELED, "%s; the set was not created, nothing is left of it",
						  why);
				goto out;
			}
		}
		/* 4. Every origin still: writes in flight finish, filesystems freeze. */
		for (size_t i = 0; i < n; i++) {
			r = smdm_suspend(ctx, mb[i].rec->name);
			if (r < 0) {
				r = resume_all_after(ctx, mb, n, r);
				goto out;
			}
			mb[i].suspended = true;
			fault_point(ctx, "create", &fp);
		}
	}
	/* 5. Every snapshot, all at the instant of the last suspend. */
	for (size_t i = 0; i < n; i++) {
		if (mb[i].loaded)
			continue;
		r = member_load(ctx, &mb[i]);
		if (r < 0) {
			r = resume_all_after(ctx, mb, n, r);
			goto out;
		}
		fault_point(ctx, "create", &fp);
	}
	/* 6. Live again. */
	r = resume_all(ctx, mb, n, &fp);
	if (r < 0)
		goto out;
	if (o->post_hook)
		post = hook_run(ctx, "post", o->post_hook, o->name, o->hook_timeout);
	/* 7. The last steps: a crash after them is the same as success. */
	for (size_t i = 0; i < n; i++) {
		member_entry(&mb[i])->state = SNAP_ACTIVE;
		r = record_save(ctx, mb[i].rec);
		if (r < 0)
			goto out;
		if (i + 1 < n)
			fault_point(ctx, "create", &fp);
	}
	if (post < 0) {
		char why[256];

		snprintf(why, sizeof(why), "%s", snapmgr_get_error(ctx));
		r = snapmgr_error(ctx, -ECHILD, "the set was created, but %s", why);
		goto out;
	}
	r = 0;
out:
	members_free(mb, n);
	return r;
}

static int set_create(struct snapmgr_ctx *ctx, const struct snapmgr_set_opts *theirs,
		      const char *schedule)
{
	_cleanup_(unlockp) int lock = -1;
	_cleanup_free_ struct snapmgr_set_member *members = NULL;
	struct snapmgr_set_opts ours;
	const struct snapmgr_set_opts *o = &ours;
	size_t stride;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !theirs)
		return -EINVAL;
	r = opts_take(ctx, &ours, sizeof(ours), theirs, "snapmgr_set_opts");
	if (r < 0)
		return r;
	if (!o->name || (o->n_members > 0 && !o->members))
		return -EINVAL;
	/*
	 * The caller's members, each its own size (the array's stride is the
	 * first one's: one program built them all), into ours.
	 */
	if (o->n_members > 0) {
		memcpy(&stride, o->members, sizeof(stride));
		if (stride < sizeof(size_t))
			return snapmgr_error(ctx, -EINVAL,
					     "struct snapmgr_set_member has size %zu: set it up with SNAPMGR_OPTS()",
					     stride);
		members = calloc(o->n_members, sizeof(*members));
		if (!members)
			return -ENOMEM;
		for (size_t i = 0; i < o->n_members; i++) {
			r = opts_take(ctx, &members[i], sizeof(members[i]),
				      (const char *)o->members + i * stride,
				      "snapmgr_set_member");
			if (r < 0)
				return r;
		}
		ours.members = members;
	}
	r = snapmgr_check_name(ctx, o->name);
	if (r < 0)
		return r;
	if (o->n_members < 1)
		return snapmgr_error(ctx, -EINVAL, "a set needs at least one origin");
	for (size_t i = 0; i < o->n_members; i++) {
		const struct snapmgr_set_member *m = &o->members[i];

		if (!!m->cow_device == !!m->cow_file)
			return snapmgr_error(ctx, -EINVAL,
					     "origin %s: give exactly one of a COW device or a COW file",
					     m->origin ?: "?");
		if (m->chunk_size < 4096 || m->chunk_size > 512 * 1024 ||
		    (m->chunk_size & (m->chunk_size - 1)))
			return snapmgr_error(ctx, -EINVAL,
					     "chunk size %" PRIu64 " is not a power of two from 4 KiB to 512 KiB",
					     m->chunk_size);
		if (m->origin_name) {
			r = snapmgr_check_name(ctx, m->origin_name);
			if (r < 0)
				return member_error(ctx, m->origin ?: "?", r);
		}
	}
	r = op_begin(ctx, &lock);
	if (r < 0)
		return r;
	return set_create_locked(ctx, o, schedule);
}

_public_ int snapmgr_set_create(struct snapmgr_ctx *ctx, const struct snapmgr_set_opts *o)
{
	SNAPMGR_ENTRY(ctx);
	return set_create(ctx, o, NULL);
}

/* Every member's entry says which schedule made it: prune's facts. */
_public_ int snapmgr_set_create_scheduled(struct snapmgr_ctx *ctx,
					  const struct snapmgr_set_opts *o,
					  const char *schedule)
{
	SNAPMGR_ENTRY(ctx);
	if (!schedule || !*schedule)
		return -EINVAL;
	return set_create(ctx, o, schedule);
}

int set_name_taken(struct snapmgr_ctx *ctx, const char *name)
{
	_cleanup_strv_ char **members = NULL;
	int r = set_scan(ctx, name, &members, NULL);

	return r < 0 ? r : !!members[0];
}

_public_ int snapmgr_set_exists(struct snapmgr_ctx *ctx, const char *name)
{
	_cleanup_strv_ char **members = NULL;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !name)
		return -EINVAL;
	r = set_scan(ctx, name, &members, NULL);
	if (r < 0)
		return r;
	return members[0] ? 1 : 0;
}

/* The members of set name, sorted; -ENOENT with its message when none. */
static int set_members_or_enoent(struct snapmgr_ctx *ctx, const char *name,
				 char ***ret_members)
{
	_cleanup_strv_ char **members = NULL;
	int r;

	r = set_scan(ctx, name, &members, NULL);
	if (r < 0)
		return r;
	if (!members[0])
		return snapmgr_error(ctx, -ENOENT, "no such snapshot set");
	*ret_members = TAKE_PTR(members);
	return 0;
}

/* The start of an operation on a whole set: the state lock, then its
 * members (at least one, or -ENOENT with the reason). */
static int set_op_begin(struct snapmgr_ctx *ctx, const char *name, int *ret_lock,
			char ***ret_members)
{
	int r;

	r = op_begin(ctx, ret_lock);
	if (r < 0)
		return r;
	return set_members_or_enoent(ctx, name, ret_members);
}

_public_ int snapmgr_set_members(struct snapmgr_ctx *ctx, const char *name,
				 char ***ret_members)
{
	SNAPMGR_ENTRY(ctx);
	if (!ctx || !name || !ret_members)
		return -EINVAL;
	return set_members_or_enoent(ctx, name, ret_members);
}

/*
 * Each member goes as `snapctl remove MEMBER` would: a crash part-way
 * leaves the others listed under the set, and a re-run removes them.
 */
_public_ int snapmgr_set_remove(struct snapmgr_ctx *ctx, const char *name, unsigned flags)
{
	_cleanup_(unlockp) int lock = -1;
	_cleanup_strv_ char **members = NULL;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !name)
		return -EINVAL;
	r = set_op_begin(ctx, name, &lock, &members);
	if (r < 0)
		return r;
	/* Every member checked first: a set goes whole, or stays whole. */
	if (!(flags & SNAPMGR_REMOVE_FORCE))
		for (char **m = members; *m; m++) {
			_cleanup_smdm_device_ struct smdm_device *d = NULL;

			r = device_lookup(ctx, *m, &d);
			if (r < 0)
				return r;
			if (d && d->open_count > 0)
				return snapmgr_error(ctx, -EBUSY,
						     "member %s is in use (mounted or open); unmount it, or use --force",
						     *m);
		}
	for (char **m = members; *m; m++) {
		r = remove_locked(ctx, *m, flags);
		if (r < 0)
			return member_error(ctx, *m, r);
	}
	return 0;
}

/* Why member m cannot merge now, or 0 when it can. */
static int member_can_merge(struct snapmgr_ctx *ctx, const char *m)
{
	_cleanup_record_ struct origin_record *rec = NULL;
	_cleanup_smdm_device_ struct smdm_device *snapdev = NULL, *origdev = NULL;
	struct smdm_snapshot_status st;
	struct snap_entry *e, *other;
	const char *origin;
	int r;

	r = record_load_of(ctx, m, &rec, &e);
	if (r < 0)
		return r;
	origin = rec->name;
	/* Merging already: a set merge that stopped part-way, to finish. */
	if (e->state == SNAP_MERGING)
		return 0;
	if (e->state != SNAP_ACTIVE)
		return snapmgr_error(ctx, -EINVAL, "it is %s", snap_state_to_string(e->state));
	other = record_merging(rec);
	if (other)
		return snapmgr_error(ctx, -EBUSY, "origin %s is already merging snapshot %s",
				     origin, other->name);
	r = device_lookup(ctx, m, &snapdev);
	if (r < 0)
		return r;
	r = device_lookup(ctx, origin, &origdev);
	if (r < 0)
		return r;
	if (!snapdev || !origdev)
		return snapmgr_error(ctx, -ENODEV, "it is not active (run snapctl activate)");
	r = smdm_snapshot_status(ctx, m, &st);
	if (r < 0)
		return r;
	if (st.invalid)
		return snapmgr_error(ctx, -EINVAL, "it is invalid; there is nothing to merge back");
	if (origdev->open_count > 0)
		return snapmgr_error(ctx, -EBUSY, "origin %s is open (mounted?)", origin);
	if (snapdev->open_count > 0)
		return snapmgr_error(ctx, -EBUSY, "it is open (mounted?)");
	return 0;
}

/*
 * A single snapshot's merge may wait for the next boot (deferred); a set's
 * may not: deferred members would each start when their own devices are
 * free, or one would fail, and the origins would no longer hold one
 * instant. So every member must be able to merge now, checked before the
 * first starts.
 */
_public_ int snapmgr_set_merge_start(struct snapmgr_ctx *ctx, const char *name)
{
	_cleanup_(unlockp) int lock = -1;
	_cleanup_strv_ char **members = NULL;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !name)
		return -EINVAL;
	r = set_op_begin(ctx, name, &lock, &members);
	if (r < 0)
		return r;
	for (char **m = members; *m; m++) {
		r = member_can_merge(ctx, *m);
		if (r < 0) {
			char why[256];

			snprintf(why, sizeof(why), "%s", snapmgr_get_error(ctx) ?: strerror(-r));
			return snapmgr_error(ctx, r,
					     "member %s cannot merge now: %s; a set merges all its members at once or none (never deferred), so nothing was started",
					     *m, why);
		}
	}
	for (char **m = members; *m; m++) {
		bool deferred = false;

		r = merge_start_locked(ctx, *m, &deferred);
		if (r < 0)
			return member_error(ctx, *m, r);
		if (deferred)
			return snapmgr_error(ctx, -EBUSY,
					     "member %s was opened meanwhile, its merge is deferred; run 'snapctl merge %s' again when nothing holds the set's devices",
					     *m, name);
	}
	return 0;
}
