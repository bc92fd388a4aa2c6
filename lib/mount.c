/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Mounting a snapshot's filesystem the safe way (snapctl mount/umount).
 *
 * The traps: a snapshot carries its origin's filesystem UUID and label, so
 * mounting "by UUID" may well mount the origin; XFS refuses a second
 * filesystem with a mounted one's UUID; a read-only mount of a dirty
 * journal or log replays it, writing to the device under "ro" (or fails
 * when the device is read-only). So: the device is the snapshot's own dm
 * node, checked by major:minor before and after; the type comes from
 * libblkid probing that node; the options per type are chosen in
 * lib/mount-table.c; the mount itself is mount(2) with that path, never a
 * tag (util-linux's libmount is not a dependency of ours, and mount(8)
 * would resolve UUID= and LABEL= the way we must not).
 */
#include <blkid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "blockdev.h"
#include "dm.h"
#include "error-private.h"
#include "mount-private.h"
#include "snapshot-use.h"

#define MAX_WARNINGS 4

struct snapmgr_mount {
	int refcount;
	char *snapshot;
	char *device;
	char *directory;
	char *fstype;
	char *options;
	bool read_only;
	size_t n_warnings;
	char *warnings[MAX_WARNINGS];
};

static void mount_free(struct snapmgr_mount *m)
{
	if (!m)
		return;
	free(m->snapshot);
	free(m->device);
	free(m->directory);
	free(m->fstype);
	free(m->options);
	for (size_t i = 0; i < m->n_warnings; i++)
		free(m->warnings[i]);
	free(m);
}

static inline void mount_freep(struct snapmgr_mount **m)
{
	mount_free(*m);
}

struct entries {
	struct mount_entry *v;
	size_t n;
};

static inline void entries_done(struct entries *e)
{
	mount_entries_free(e->v, e->n);
}

_printf_(2, 3) static void add_warning(struct snapmgr_mount *m, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	if (m->n_warnings >= MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0)
		m->warnings[m->n_warnings++] = s;
	va_end(ap);
}

/* A snapshot whose filesystem must not be mounted. */
static const struct state_refusals mount_refusals = {
	.invalid = "snapshot invalid (the kernel dropped it: COW full or failed): its data is gone",
	.overflow = "snapshot invalid (its COW overflowed): its data is gone",
	.merging = "snapshot merging into its origin",
	.merge_failed = "snapshot's merge failed: not mountable",
	.unknown = "snapshot in an unknown state",
};

/*
 * The snapshot's dm node and number: a snapshot target, its node the same
 * device (a stale /dev/mapper entry would mount something else).
 */
static int snapshot_device(struct snapmgr_ctx *ctx, const char *name,
			   char **ret_path, dev_t *ret_devnum)
{
	_cleanup_smdm_device_ struct smdm_device *table = NULL;
	_cleanup_free_ char *path = NULL;
	dev_t node;
	int r;

	r = snapshot_table_get(ctx, name, "the device's table is not a single snapshot target", &table);
	if (r < 0)
		return r;
	r = blockdev_path_for_devnum(table->devnum, &path);
	if (r < 0)
		return snapmgr_error(ctx, r, "no device node for %u:%u",
				     major(table->devnum), minor(table->devnum));
	r = blockdev_devnum(path, &node);
	if (r < 0 || node != table->devnum)
		return snapmgr_error(ctx, -ENODEV, "%s is not the snapshot's device %u:%u",
				     path, major(table->devnum), minor(table->devnum));
	*ret_path = TAKE_PTR(path);
	*ret_devnum = table->devnum;
	return 0;
}

/* An empty directory that is no mount point; its canonical path. */
static int check_directory(struct snapmgr_ctx *ctx, const char *dir,
			   const struct entries *mounts, char **ret_path)
{
	_cleanup_free_ char *path = realpath(dir, NULL);
	const struct mount_entry *e;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int r;

	if (!path || stat(path, &st) < 0) {
		r = negative_errno();
		return snapmgr_error(ctx, r, "cannot use %s: %s", dir, strerror(-r));
	}
	if (!S_ISDIR(st.st_mode))
		return snapmgr_error(ctx, -ENOTDIR, "%s is not a directory", dir);
	e = mount_table_find_point(mounts->v, mounts->n, path);
	if (e)
		return snapmgr_error(ctx, -EBUSY, "%s is already a mount point (%s from %s)",
				     path, e->fstype, e->source);
	d = opendir(path);
	if (!d) {
		r = negative_errno();
		return snapmgr_error(ctx, r, "cannot read %s: %s", path, strerror(-r));
	}
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			break;
	closedir(d);
	if (de)
		return snapmgr_error(ctx, -ENOTEMPTY, "%s is not empty: mounting would hide its files", path);
	*ret_path = TAKE_PTR(path);
	return 0;
}

/* libblkid's TYPE and UUID of the filesystem on path. */
static int probe_fs(struct snapmgr_ctx *ctx, const char *path,
		    char **ret_type, char **ret_uuid)
{
	blkid_probe pr = blkid_new_probe_from_filename(path);
	const char *type = NULL, *uuid = NULL;
	int r;

	if (!pr) {
		r = errno ? negative_errno() : -EIO;
		return snapmgr_error(ctx, r, "libblkid cannot probe %s: %s", path, strerror(-r));
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID |
					  BLKID_SUBLKS_USAGE);
	r = blkid_do_safeprobe(pr);
	if (r == -2) {
		blkid_free_probe(pr);
		return snapmgr_error(ctx, -EMEDIUMTYPE, "more than one filesystem signature: not guessing which to mount");
	}
	if (r != 0 || blkid_probe_lookup_value(pr, "TYPE", &type, NULL) < 0) {
		blkid_free_probe(pr);
		return snapmgr_error(ctx, -EMEDIUMTYPE, "no filesystem found on it");
	}
	(void)blkid_probe_lookup_value(pr, "UUID", &uuid, NULL);
	*ret_type = strdup(type);
	*ret_uuid = uuid ? strdup(uuid) : NULL;
	blkid_free_probe(pr);
	return *ret_type ? 0 : -ENOMEM;
}

static bool device_read_only(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	int ro = 0;

	return fd >= 0 && ioctl(fd, BLKROGET, &ro) == 0 && ro;
}

static bool ext_needs_recovery(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t sb[1024];

	return fd >= 0 && pread(fd, sb, sizeof(sb), 1024) == (ssize_t)sizeof(sb) &&
	       mount_ext4_needs_recovery(sb, sizeof(sb));
}

/* The filesystem UUID of the origin the snapshot was taken of, or NULL. */
static char *origin_uuid(struct snapmgr_snapshot *s)
{
	const char *o = snapmgr_snapshot_get_origin(s);
	_cleanup_free_ char *path = NULL;
	char *type = NULL, *uuid = NULL;

	if (o && asprintf(&path, "/dev/mapper/%s", o) < 0)
		return NULL;
	if (!path && snapmgr_snapshot_get_origin_device(s))
		path = strdup(snapmgr_snapshot_get_origin_device(s));
	if (!path || probe_fs(NULL, path, &type, &uuid) < 0)
		return NULL;
	free(type);
	return uuid;
}

_public_ int snapmgr_mount(struct snapmgr_ctx *ctx, const char *snapshot,
			   const char *directory, unsigned flags,
			   const char *options, struct snapmgr_mount **ret)
{
	_cleanup_(mount_freep) struct snapmgr_mount *m = NULL;
	_cleanup_(snapshot_unrefp) struct snapmgr_snapshot *snap = NULL;
	_cleanup_(entries_done) struct entries mounts = { 0 };
	_cleanup_free_ char *uuid = NULL, *data = NULL, *ouuid = NULL;
	_cleanup_free_ char *checked = NULL;
	bool rw = flags & SNAPMGR_MOUNT_RW;
	bool new_uuid = flags & SNAPMGR_MOUNT_NEW_UUID;
	unsigned long msflags;
	struct stat st;
	dev_t devnum;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !snapshot || !directory || !ret ||
	    (flags & ~(unsigned)(SNAPMGR_MOUNT_RW | SNAPMGR_MOUNT_NEW_UUID)))
		return -EINVAL;
	if (new_uuid && !rw)
		return snapmgr_error(ctx, -EINVAL, "--new-uuid changes the filesystem: it needs --rw");
	/* Bad -o words are refused before anything is looked at. */
	r = mount_choose_options(ctx, "", rw, new_uuid, options, &msflags,
				 &data, &checked);
	if (r < 0)
		return r;
	free(data);
	data = NULL;

	r = snapshot_get_usable(ctx, snapshot, &mount_refusals, &snap);
	if (r < 0)
		return r;
	/* We write only to devices we made: a read-only mount writes nothing. */
	if (rw && snapmgr_snapshot_get_owner(snap) != SNAPMGR_OWNER_SNAPMGR)
		return snapmgr_error(ctx, -EPERM, "not managed by snapmgr (owner %s): --rw would write to it; mount it read-only",
				     snapmgr_owner_to_string(snapmgr_snapshot_get_owner(snap)));

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->refcount = 1;
	m->read_only = !rw;
	m->snapshot = strdup(snapshot);
	if (!m->snapshot)
		return -ENOMEM;
	r = snapshot_device(ctx, snapshot, &m->device, &devnum);
	if (r < 0)
		return r;

	r = mount_table_read(ctx, NULL, &mounts.v, &mounts.n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < mounts.n; i++)
		if (mounts.v[i].devnum == devnum)
			return snapmgr_error(ctx, -EBUSY, "already mounted at %s",
					     mounts.v[i].mount_point);
	r = check_directory(ctx, directory, &mounts, &m->directory);
	if (r < 0)
		return r;

	r = probe_fs(ctx, m->device, &m->fstype, &uuid);
	if (r < 0)
		return r;
	if (rw && device_read_only(m->device))
		return snapmgr_error(ctx, -EROFS, "the snapshot's device is read-only: --rw needs a writable snapshot");
	r = mount_choose_options(ctx, m->fstype, rw, new_uuid, options,
				 &msflags, &data, &m->options);
	if (r < 0)
		return r;

	if (!rw && mount_is_ext(m->fstype) && ext_needs_recovery(m->device))
		add_warning(m, "the journal holds changes not yet written home (the snapshot was taken without freezing the filesystem): noload shows the filesystem without them; mount --rw to replay them into the snapshot");
	if (rw && !new_uuid) {
		ouuid = origin_uuid(snap);
		add_warning(m, "the clone's filesystem UUID %s is %s: whatever mounts by UUID or LABEL (fstab, systemd, mount UUID=) may take either; --new-uuid gives the clone its own",
			    uuid ? uuid : "(none)",
			    ouuid && uuid && streq(ouuid, uuid) ? "its origin's too" : "probably its origin's too");
	}
	if (new_uuid) {
		r = mount_new_uuid(ctx, m->device, m->fstype, m->directory);
		if (r < 0)
			return r;
	}

	/* By the node's path, never a tag: see the top of this file. */
	log_debug(ctx, "mount(%s, %s, %s, %#lx, %s)", m->device, m->directory,
		  m->fstype, msflags, data ? data : "");
	if (mount(m->device, m->directory, m->fstype, msflags, data) < 0) {
		struct snapmgr_usage usage = SNAPMGR_RESULT(struct snapmgr_usage);

		r = negative_errno();
		/* A clone's writes (--new-uuid, a log replay) can fill its COW. */
		if (snapmgr_snapshot_read_usage(ctx, snapshot, &usage) == 0 &&
		    usage.state != SNAPMGR_STATE_ACTIVE)
			return snapmgr_error(ctx, r, "mount -t %s failed: the snapshot is %s now (its COW full?)",
					     m->fstype, snapmgr_state_to_string(usage.state));
		return snapmgr_error(ctx, r, "mount -t %s -o %s failed: %s (the kernel log may say more)",
				     m->fstype, m->options, strerror(-r));
	}
	/* What is mounted there now must be the snapshot, nothing else. */
	if (stat(m->directory, &st) < 0 || st.st_dev != devnum) {
		(void)umount2(m->directory, 0);
		return snapmgr_error(ctx, -EIO, "%s does not show the snapshot's device after the mount; unmounted",
				     m->directory);
	}
	log_info(ctx, "%s: %s mounted on %s (%s)", snapshot, m->fstype,
		 m->directory, m->options);
	*ret = TAKE_PTR(m);
	return 0;
}

_public_ struct snapmgr_mount *snapmgr_mount_ref(struct snapmgr_mount *m)
{
	if (m)
		m->refcount++;
	return m;
}

_public_ struct snapmgr_mount *snapmgr_mount_unref(struct snapmgr_mount *m)
{
	if (m && --m->refcount == 0)
		mount_free(m);
	return NULL;
}

_public_ const char *snapmgr_mount_get_snapshot(const struct snapmgr_mount *m) { return m ? m->snapshot : NULL; }
_public_ const char *snapmgr_mount_get_device(const struct snapmgr_mount *m) { return m ? m->device : NULL; }
_public_ const char *snapmgr_mount_get_directory(const struct snapmgr_mount *m) { return m ? m->directory : NULL; }
_public_ const char *snapmgr_mount_get_fstype(const struct snapmgr_mount *m) { return m ? m->fstype : NULL; }
_public_ const char *snapmgr_mount_get_options(const struct snapmgr_mount *m) { return m ? m->options : NULL; }
_public_ bool snapmgr_mount_get_read_only(const struct snapmgr_mount *m) { return m && m->read_only; }

_public_ const char *snapmgr_mount_get_warning(const struct snapmgr_mount *m,
					       size_t index)
{
	return m && index < m->n_warnings ? m->warnings[index] : NULL;
}

_public_ int snapmgr_mount_to_json(const struct snapmgr_mount *m,
				   struct json_object **ret)
{
	json_object *o;
	int r = 0;

	if (!m || !ret)
		return -EINVAL;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	r |= json_object_object_add(o, "snapshot", json_object_new_string(m->snapshot));
	r |= json_object_object_add(o, "device", json_object_new_string(m->device));
	r |= json_object_object_add(o, "directory", json_object_new_string(m->directory));
	r |= json_object_object_add(o, "fstype", json_object_new_string(m->fstype));
	r |= json_object_object_add(o, "options", json_object_new_string(m->options));
	r |= json_object_object_add(o, "read_only", json_object_new_boolean(m->read_only));
	if (r) {
		json_object_put(o);
		return -ENOMEM;
	}
	*ret = o;
	return 0;
}

/*
 * Is devnum a dm snapshot device (ours, lvm2's or any)? sysfs says first
 * whether it is dm at all, so other mounts are refused without dm.
 */
static bool is_snapshot_devnum(struct snapmgr_ctx *ctx, dev_t devnum)
{
	_cleanup_smdm_device_ struct smdm_device *d = NULL;
	char sys[64];

	snprintf(sys, sizeof(sys), "/sys/dev/block/%u:%u/dm", major(devnum), minor(devnum));
	if (access(sys, F_OK) < 0 || smdm_setup(ctx) < 0)
		return false;
	if (smdm_device_get_by_devnum(ctx, devnum, false, &d) < 0)
		return false;
	return streq(d->target_type, "snapshot");
}

static int umount_point(struct snapmgr_ctx *ctx, const char *path)
{
	int r;

	if (umount2(path, UMOUNT_NOFOLLOW) < 0) {
		r = negative_errno();
		return snapmgr_error(ctx, r, "cannot unmount %s: %s", path, strerror(-r));
	}
	log_info(ctx, "unmounted %s", path);
	return 0;
}

_public_ int snapmgr_umount(struct snapmgr_ctx *ctx, const char *what,
			    unsigned *ret_count)
{
	_cleanup_(entries_done) struct entries mounts = { 0 };
	_cleanup_free_ char *dev = NULL, *path = NULL;
	const struct mount_entry *e;
	struct stat st;
	unsigned count = 0;
	dev_t devnum;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !what)
		return -EINVAL;
	r = mount_table_read(ctx, NULL, &mounts.v, &mounts.n);
	if (r < 0)
		return r;

	/* A name has no '/'; a directory given as a bare word must exist. */
	if (!strchr(what, '/') && !(stat(what, &st) == 0 && S_ISDIR(st.st_mode))) {
		r = snapshot_device(ctx, what, &dev, &devnum);
		if (r < 0)
			return r;
		/* Topmost first: a mount on top of another goes before it. */
		for (size_t i = mounts.n; i-- > 0;) {
			if (mounts.v[i].devnum != devnum)
				continue;
			r = umount_point(ctx, mounts.v[i].mount_point);
			if (r < 0)
				return r;
			count++;
		}
		if (!count)
			return snapmgr_error(ctx, -ENOENT, "not mounted");
	} else {
		path = realpath(what, NULL);
		if (!path) {
			r = negative_errno();
			return snapmgr_error(ctx, r, "cannot use %s: %s", what, strerror(-r));
		}
		e = mount_table_find_point(mounts.v, mounts.n, path);
		if (!e)
			return snapmgr_error(ctx, -EINVAL, "%s is not a mount point", path);
		if (!is_snapshot_devnum(ctx, e->devnum))
			return snapmgr_error(ctx, -EPERM, "%s is not a mount of a snapshot (%s from %s): not ours to unmount",
					     path, e->fstype, e->source);
		r = umount_point(ctx, path);
		if (r < 0)
			return r;
		count = 1;
	}
	if (ret_count)
		*ret_count = count;
	return 0;
}
