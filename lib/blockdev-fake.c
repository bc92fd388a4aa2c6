/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fake block and loop devices of the host tests (see lib/fake.h), in
 * place of lib/blockdev.c and lib/loop.c: disks the test declares, loop
 * devices over real files, and /dev/mapper/NAME for the fake dm devices.
 * A device that a table uses is busy, as the kernel's O_EXCL says.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "blockdev.h"
#include "dm.h"
#include "fake.h"
#include "loop.h"

int fake_add_disk(const char *path, dev_t devnum, uint64_t size)
{
	struct fake_state *s = fake_state();

	for (int i = 0; i < FAKE_MAX_DISKS; i++)
		if (!s->disks[i].used) {
			s->disks[i].used = true;
			snprintf(s->disks[i].path, sizeof(s->disks[i].path), "%s", path);
			s->disks[i].devnum = devnum;
			s->disks[i].size = size;
			return 0;
		}
	return -ENOSPC;
}

struct fake_loop *fake_loop_by_devnum(dev_t devnum)
{
	struct fake_state *s = fake_state();

	for (int i = 0; i < FAKE_MAX_LOOPS; i++)
		if (s->loops[i].used && makedev(FAKE_LOOP_MAJOR, s->loops[i].n) == devnum)
			return &s->loops[i];
	return NULL;
}

struct fake_disk *fake_disk_by_devnum(dev_t devnum)
{
	struct fake_state *s = fake_state();

	for (int i = 0; i < FAKE_MAX_DISKS; i++)
		if (s->disks[i].used && s->disks[i].devnum == devnum)
			return &s->disks[i];
	return NULL;
}

int blockdev_devnum(const char *path, dev_t *ret_devnum)
{
	struct fake_state *s = fake_state();
	unsigned n;
	int k = 0;
	struct stat st;

	if (strncmp(path, "/dev/mapper/", 12) == 0) {
		const struct fake_dm *d = fake_dm_find(path + 12);

		if (!d)
			return -ENOENT;
		*ret_devnum = makedev(FAKE_DM_MAJOR, d->minor);
		return 0;
	}
	if (sscanf(path, "/dev/loop%u%n", &n, &k) == 1 && !path[k]) {
		if (!fake_loop_by_devnum(makedev(FAKE_LOOP_MAJOR, n)))
			return -ENOENT;
		*ret_devnum = makedev(FAKE_LOOP_MAJOR, n);
		return 0;
	}
	for (int i = 0; i < FAKE_MAX_DISKS; i++)
		if (s->disks[i].used && streq(s->disks[i].path, path)) {
			*ret_devnum = s->disks[i].devnum;
			return 0;
		}
	return stat(path, &st) == 0 ? -ENOTBLK : -ENOENT;
}

int blockdev_size(const char *path, uint64_t *ret_bytes)
{
	const struct fake_loop *l;
	const struct fake_disk *k;
	const struct fake_dm *d;
	struct stat st;
	dev_t devnum;
	int r;

	r = blockdev_devnum(path, &devnum);
	if (r < 0)
		return r;
	if ((k = fake_disk_by_devnum(devnum)))
		*ret_bytes = k->size;
	else if ((l = fake_loop_by_devnum(devnum)))
		*ret_bytes = stat(l->file, &st) == 0 ? (uint64_t)st.st_size : 0;
	else if ((d = fake_dm_by_devnum(devnum)))
		*ret_bytes = d->live.length * 512;
	return 0;
}

int blockdev_check_unused(const char *path)
{
	dev_t devnum;
	int r = blockdev_devnum(path, &devnum);

	if (r < 0)
		return r;
	return fake_devnum_held(devnum, NULL) ? -EBUSY : 0;
}

int blockdev_probe_signature(const char *path, char **ret_type)
{
	return 0;
}

int blockdev_path_for_devnum(dev_t devnum, char **ret_path)
{
	const struct fake_dm *d = fake_dm_by_devnum(devnum);
	const struct fake_loop *l = fake_loop_by_devnum(devnum);
	const struct fake_disk *k = fake_disk_by_devnum(devnum);
	int r = -ENODEV;

	if (d)
		r = asprintf(ret_path, "/dev/mapper/%s", d->name);
	else if (l)
		r = asprintf(ret_path, "/dev/loop%u", l->n);
	else if (k)
		r = asprintf(ret_path, "%s", k->path);
	return r == -ENODEV ? r : r < 0 ? -ENOMEM : 0;
}

int blockdev_dm_uuid(dev_t devnum, char **ret_uuid)
{
	const struct fake_dm *d = fake_dm_by_devnum(devnum);

	*ret_uuid = strdup(d ? d->uuid : "");
	return *ret_uuid ? 0 : -ENOMEM;
}

int blockdev_loop_backing_file(dev_t devnum, char **ret_file)
{
	const struct fake_loop *l = fake_loop_by_devnum(devnum);

	if (!l)
		return -ENOENT;
	*ret_file = strdup(l->file);
	return *ret_file ? 0 : -ENOMEM;
}

/* A step of its own: the COW's header is written before the snapshot loads. */
int blockdev_zero_head(const char *path, size_t len)
{
	dev_t devnum;
	int r;

	r = fake_step_begin("zero", path);
	if (r < 0)
		return r;
	r = blockdev_devnum(path, &devnum);
	if (r < 0)
		return r;
	fake_step_end();
	return 0;
}

/* --- loop devices, in place of lib/loop.c */

int loop_find(const char *file, char **ret_dev)
{
	struct fake_state *s = fake_state();

	for (int i = 0; i < FAKE_MAX_LOOPS; i++)
		if (s->loops[i].used && streq(s->loops[i].file, file))
			return asprintf(ret_dev, "/dev/loop%u", s->loops[i].n) < 0 ? -ENOMEM : 0;
	return -ENOENT;
}

int loop_attach(struct snapmgr_ctx *ctx, const char *file, char **ret_dev)
{
	struct fake_state *s = fake_state();
	struct fake_loop *l = NULL;
	unsigned n = 0;
	int r;

	r = fake_step_begin("loop-attach", file);
	if (r < 0)
		return snapmgr_error(ctx, r, "cannot attach %s: %s", file, strerror(-r));
	if (access(file, F_OK) < 0)
		return snapmgr_error(ctx, negative_errno(), "cannot attach %s: %m", file);
	/* The lowest free number, as LOOP_CTL_GET_FREE gives. */
	for (bool taken = true; taken; n += taken) {
		taken = false;
		for (int i = 0; i < FAKE_MAX_LOOPS; i++)
			taken |= s->loops[i].used && s->loops[i].n == n;
	}
	for (int i = 0; !l && i < FAKE_MAX_LOOPS; i++)
		if (!s->loops[i].used)
			l = &s->loops[i];
	if (!l)
		return snapmgr_error(ctx, -ENOSPC, "cannot attach %s: no free loop device", file);
	if (asprintf(ret_dev, "/dev/loop%u", n) < 0)
		return -ENOMEM;
	l->used = true;
	l->n = n;
	snprintf(l->file, sizeof(l->file), "%s", file);
	fake_step_end();
	return 0;
}

/*
 * Stricter than the kernel, which would detach a busy loop device lazily:
 * our code must never detach a COW that a snapshot still uses.
 */
int loop_detach(struct snapmgr_ctx *ctx, const char *dev)
{
	dev_t devnum;
	int r;

	r = fake_step_begin("loop-detach", dev);
	if (r < 0)
		return snapmgr_error(ctx, r, "cannot detach %s: %s", dev, strerror(-r));
	r = blockdev_devnum(dev, &devnum);
	if (r < 0)
		return snapmgr_error(ctx, r, "cannot detach %s: %s", dev, strerror(-r));
	if (fake_devnum_held(devnum, NULL))
		return snapmgr_error(ctx, -EBUSY, "cannot detach %s: a table uses it", dev);
	memset(fake_loop_by_devnum(devnum), 0, sizeof(struct fake_loop));
	fake_step_end();
	return 0;
}
