/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fake backend of lib/dm.h (see lib/fake.h): device-mapper as a table in
 * shared memory, with the kernel's rules that our crash-safety relies on. A
 * name or UUID is taken once; a table may only name devices that exist; a
 * device held by another table or open cannot be removed; a reload takes
 * effect at the next resume. Only the host tests link it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "dm.h"
#include "fake.h"

static struct fake_state *state;

struct fake_state *fake_state(void)
{
	if (!state) {
		void *p = mmap(NULL, sizeof(*state), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			abort();
		state = p;
		state->next_minor = 0;
	}
	return state;
}

void fake_reset(void)
{
	memset(fake_state(), 0, sizeof(*state));
}

void fake_reboot(void)
{
	struct fake_state *s = fake_state();

	memset(s->dm, 0, sizeof(s->dm));
	memset(s->loops, 0, sizeof(s->loops));
	s->merge_remaining = 0;
	s->merge_failed = false;
}

static unsigned env_unsigned(const char *name)
{
	const char *v = getenv(name);

	return v ? (unsigned)strtoul(v, NULL, 10) : 0;
}

int fake_step_begin(const char *what, const char *object)
{
	struct fake_state *s = fake_state();

	s->steps++;
	if (env_unsigned("SNAPMGR_FAKE_FAIL_AT") == s->steps) {
		if (getenv("SNAPMGR_FAKE_VERBOSE"))
			fprintf(stderr, "fake: step %u (%s %s) fails\n", s->steps, what, object);
		return -EIO;
	}
	return 0;
}

void fake_step_end(void)
{
	if (env_unsigned("SNAPMGR_FAKE_CRASH_AFTER") == fake_state()->steps)
		_exit(SNAPMGR_CRASH_EXIT);
}

static dev_t dm_devnum(const struct fake_dm *d)
{
	return makedev(FAKE_DM_MAJOR, d->minor);
}

struct fake_dm *fake_dm_find(const char *name)
{
	struct fake_state *s = fake_state();

	for (int i = 0; i < FAKE_MAX_DM; i++)
		if (s->dm[i].used && streq(s->dm[i].name, name))
			return &s->dm[i];
	return NULL;
}

struct fake_dm *fake_dm_by_devnum(dev_t devnum)
{
	struct fake_state *s = fake_state();

	for (int i = 0; s && i < FAKE_MAX_DM; i++)
		if (s->dm[i].used && dm_devnum(&s->dm[i]) == devnum)
			return &s->dm[i];
	return NULL;
}

/* Calls fn for each "major:minor" token of params; stops at its first < 0. */
static int for_each_devnum(const char *params, int (*fn)(dev_t, void *), void *data)
{
	char copy[256], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", params);
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		unsigned ma, mi;
		int n = 0, r;

		if (sscanf(t, "%u:%u%n", &ma, &mi, &n) != 2 || t[n])
			continue;
		r = fn(makedev(ma, mi), data);
		if (r < 0)
			return r;
	}
	return 0;
}

static int devnum_exists(dev_t d, void *data)
{
	(void)data;
	return fake_dm_by_devnum(d) || fake_loop_by_devnum(d) ||
			       fake_disk_by_devnum(d) ?
		       0 :
		       -ENXIO;
}

struct held {
	dev_t devnum;
	bool found;
};

static int devnum_match(dev_t d, void *data)
{
	struct held *h = data;

	h->found |= d == h->devnum;
	return 0;
}

bool fake_devnum_held(dev_t devnum, const struct fake_dm *exclude)
{
	struct fake_state *s = fake_state();
	struct held h = { .devnum = devnum };

	for (int i = 0; i < FAKE_MAX_DM; i++) {
		const struct fake_dm *d = &s->dm[i];

		if (!d->used || d == exclude)
			continue;
		if (d->live.set)
			for_each_devnum(d->live.params, devnum_match, &h);
		if (d->inactive.set)
			for_each_devnum(d->inactive.params, devnum_match, &h);
	}
	return h.found;
}

/* What the kernel checks when a table is loaded. */
static int table_check(struct snapmgr_ctx *ctx, const char *name, const char *target,
		       uint64_t length, const char *params)
{
	static const char *const known[] = { "linear", "snapshot", "snapshot-origin",
					     "snapshot-merge", "error", "era" };
	bool ok = false;

	for (size_t i = 0; i < ELEMENTSOF(known); i++)
		ok |= streq(target, known[i]);
	if (!ok || length == 0)
		return snapmgr_error(ctx, -EINVAL, "load %s: bad table %s %" PRIu64, name,
				     target, length);
	if (for_each_devnum(params, devnum_exists, NULL) < 0)
		return snapmgr_error(ctx, -ENXIO, "load %s: %s names a device that does not exist",
				     name, params);
	return 0;
}

static void table_set(struct fake_table *t, const char *target, uint64_t length,
		      const char *params)
{
	t->set = true;
	snprintf(t->target, sizeof(t->target), "%s", target);
	t->length = length;
	snprintf(t->params, sizeof(t->params), "%s", params);
}

int smdm_setup(struct snapmgr_ctx *ctx)
{
	(void)fake_state();
	return 0;
}

void smdm_forget(struct snapmgr_ctx *ctx)
{
	/* The fake keeps no pointer to a context. */
}

/* The kernel's status line of a snapshot target, in its format. */
static void snapshot_status(const struct fake_dm *d, char *buf, size_t size)
{
	const struct fake_state *s = fake_state();
	uint64_t total = 1 << 14;

	if (streq(d->live.target, "snapshot-merge")) {
		if (s->merge_failed)
			snprintf(buf, size, "Merge failed");
		else
			snprintf(buf, size, "%" PRIu64 "/%" PRIu64 " %d",
				 FAKE_COW_METADATA + s->merge_remaining, total,
				 FAKE_COW_METADATA);
	} else {
		snprintf(buf, size, "%d/%" PRIu64 " %d", FAKE_COW_METADATA, total,
			 FAKE_COW_METADATA);
	}
}

static int device_info(const struct fake_dm *d, bool status, struct smdm_device **ret)
{
	_cleanup_smdm_device_ struct smdm_device *dev = calloc(1, sizeof(*dev));
	char buf[256] = "";

	if (!dev)
		return -ENOMEM;
	dev->name = strdup(d->name);
	dev->uuid = strdup(d->uuid);
	dev->devnum = dm_devnum(d);
	dev->open_count = d->open_count;
	dev->suspended = d->suspended;
	dev->live_table = d->live.set;
	dev->event_nr = d->event_nr;
	dev->target_count = d->live.set;
	if (d->live.set) {
		if (status && (streq(d->live.target, "snapshot") ||
			       streq(d->live.target, "snapshot-merge")))
			snapshot_status(d, buf, sizeof(buf));
		else if (status && streq(d->live.target, "era"))
			/* dm-era's: metadata block size, used/total, era, held root */
			snprintf(buf, sizeof(buf), "8 16/1024 %" PRIu32 " %s", d->era,
				 d->era_held ? "7" : "-");
		else if (!status)
			snprintf(buf, sizeof(buf), "%s", d->live.params);
		dev->target_type = strdup(d->live.target);
		dev->params = strdup(buf);
		dev->length = d->live.length;
		if (!dev->target_type || !dev->params)
			return -ENOMEM;
	}
	if (!dev->name || !dev->uuid)
		return -ENOMEM;
	*ret = TAKE_PTR(dev);
	return 0;
}

int smdm_device_get(struct snapmgr_ctx *ctx, const char *name, bool status,
		    struct smdm_device **ret)
{
	const struct fake_dm *d = fake_dm_find(name);

	return d ? device_info(d, status, ret) : -ENXIO;
}

int smdm_device_get_by_devnum(struct snapmgr_ctx *ctx, dev_t devnum, bool status,
			      struct smdm_device **ret)
{
	const struct fake_dm *d = fake_dm_by_devnum(devnum);

	return d ? device_info(d, status, ret) : -ENXIO;
}

int smdm_list_names(struct snapmgr_ctx *ctx, char ***ret_names)
{
	struct fake_state *s = fake_state();
	char **v = calloc(FAKE_MAX_DM + 1, sizeof(char *));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (int i = 0; i < FAKE_MAX_DM; i++)
		if (s->dm[i].used && !(v[n++] = strdup(s->dm[i].name))) {
			strv_free(v);
			return -ENOMEM;
		}
	*ret_names = v;
	return 0;
}

int smdm_list_events(struct snapmgr_ctx *ctx,
		     struct snapmgr_dm_event ***ret_list)
{
	struct fake_state *s = fake_state();
	struct snapmgr_dm_event **list = calloc(1, sizeof(*list));
	size_t n = 0;
	int r;

	if (!list)
		return -ENOMEM;
	for (int i = 0; i < FAKE_MAX_DM; i++) {
		if (!s->dm[i].used)
			continue;
		r = smdm_events_add(&list, &n, s->dm[i].name, s->dm[i].event_nr);
		if (r < 0) {
			snapmgr_events_list_free(list);
			return r;
		}
	}
	smdm_events_sort(list, n);
	*ret_list = list;
	return 0;
}

/* Debian's stock module: no counters. dm-era as Debian's kernel has it. */
int smdm_target_version(struct snapmgr_ctx *ctx, const char *target,
			uint32_t ret_version[3])
{
	if (streq(target, "era")) {
		ret_version[0] = 1;
		ret_version[1] = 0;
		ret_version[2] = 0;
		return 0;
	}
	if (!streq(target, "snapshot"))
		return -ENOENT;
	ret_version[0] = 1;
	ret_version[1] = 16;
	ret_version[2] = 0;
	return 0;
}

int smdm_create(struct snapmgr_ctx *ctx, const char *name, const char *uuid,
		const char *target, uint64_t length, const char *params)
{
	struct fake_state *s = fake_state();
	struct fake_dm *d = NULL;
	int r;

	r = fake_step_begin("create", name);
	if (r < 0)
		return snapmgr_error(ctx, r, "create %s: %s", name, strerror(-r));
	if (fake_dm_find(name))
		return snapmgr_error(ctx, -EBUSY, "create %s: %s", name, strerror(EBUSY));
	for (int i = 0; i < FAKE_MAX_DM; i++) {
		if (uuid && s->dm[i].used && streq(s->dm[i].uuid, uuid))
			return snapmgr_error(ctx, -EBUSY, "create %s: UUID %s is taken", name, uuid);
		if (!d && !s->dm[i].used)
			d = &s->dm[i];
	}
	if (!d)
		return snapmgr_error(ctx, -ENOSPC, "create %s: the fake's table is full", name);
	r = table_check(ctx, name, target, length, params);
	if (r < 0)
		return r;
	memset(d, 0, sizeof(*d));
	d->used = true;
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->uuid, sizeof(d->uuid), "%s", uuid ? uuid : "");
	d->minor = s->next_minor++;
	table_set(&d->live, target, length, params);
	/* dm-era moves to a new era at every resume: 1 after the first. */
	d->era = 1;
	fake_step_end();
	return 0;
}

/* A step on an existing device: the fault, if any, then the lookup. */
static int device_step(struct snapmgr_ctx *ctx, const char *what, const char *name,
		       struct fake_dm **ret)
{
	int r = fake_step_begin(what, name);

	if (r == 0 && !(*ret = fake_dm_find(name)))
		r = -ENXIO;
	if (r < 0)
		return snapmgr_error(ctx, r, "%s %s: %s", what, name, strerror(-r));
	return 0;
}

int smdm_reload(struct snapmgr_ctx *ctx, const char *name, const char *target,
		uint64_t length, const char *params)
{
	struct fake_dm *d;
	int r;

	r = device_step(ctx, "reload", name, &d);
	if (r < 0)
		return r;
	r = table_check(ctx, name, target, length, params);
	if (r < 0)
		return r;
	table_set(&d->inactive, target, length, params);
	fake_step_end();
	return 0;
}

int smdm_suspend(struct snapmgr_ctx *ctx, const char *name)
{
	struct fake_dm *d;
	int r;

	r = device_step(ctx, "suspend", name, &d);
	if (r < 0)
		return r;
	d->suspended = true;
	fake_step_end();
	return 0;
}

int smdm_resume(struct snapmgr_ctx *ctx, const char *name)
{
	struct fake_dm *d;
	int r;

	r = device_step(ctx, "resume", name, &d);
	if (r < 0)
		return r;
	if (d->inactive.set) {
		d->live = d->inactive;
		d->inactive.set = false;
		d->event_nr++;
	}
	d->suspended = false;
	fake_step_end();
	return 0;
}

static int remove_one(struct snapmgr_ctx *ctx, const char *name, bool deferred)
{
	struct fake_dm *d;
	int r;

	r = device_step(ctx, "remove", name, &d);
	if (r < 0)
		return r;
	if (fake_devnum_held(dm_devnum(d), d))
		return snapmgr_error(ctx, -EBUSY, "remove %s: %s (held by another table)",
				     name, strerror(EBUSY));
	if (d->open_count > 0 && deferred)
		d->remove_deferred = true;
	else if (d->open_count > 0)
		return snapmgr_error(ctx, -EBUSY, "remove %s: %s", name, strerror(EBUSY));
	else
		memset(d, 0, sizeof(*d));
	fake_step_end();
	return 0;
}

int smdm_remove(struct snapmgr_ctx *ctx, const char *name)
{
	return remove_one(ctx, name, false);
}

int smdm_remove_deferred(struct snapmgr_ctx *ctx, const char *name)
{
	return remove_one(ctx, name, true);
}

/*
 * Like Debian's module, the snapshot target takes no messages; dm-era's
 * three are a step each (they commit its metadata).
 */
int smdm_message(struct snapmgr_ctx *ctx, const char *name, const char *message,
		 char **ret_response)
{
	struct fake_dm *d = fake_dm_find(name);
	int r;

	if (!d)
		return -ENXIO;
	if (!d->live.set || !streq(d->live.target, "era"))
		return -EINVAL;
	r = fake_step_begin("message", name);
	if (r < 0)
		return snapmgr_error(ctx, r, "message %s: %s", name, strerror(-r));
	if (streq(message, "checkpoint")) {
		d->era++;
	} else if (streq(message, "take_metadata_snap") && !d->era_held) {
		d->era++;
		d->era_held = true;
	} else if (streq(message, "drop_metadata_snap") && d->era_held) {
		d->era_held = false;
	} else {
		return snapmgr_error(ctx, -EINVAL, "message %s: %s refused", name, message);
	}
	fake_step_end();
	if (ret_response)
		*ret_response = NULL;
	return 0;
}

/* --- what tests compare */

void fake_devnum_name(dev_t devnum, char *buf, size_t size)
{
	const struct fake_dm *d = fake_dm_by_devnum(devnum);
	const struct fake_loop *l = fake_loop_by_devnum(devnum);
	const struct fake_disk *k = fake_disk_by_devnum(devnum);

	if (d)
		snprintf(buf, size, "dm:%s", d->name);
	else if (l)
		snprintf(buf, size, "loop:%s", l->file);
	else if (k)
		snprintf(buf, size, "disk:%s", k->path);
	else
		snprintf(buf, size, "?%u:%u", major(devnum), minor(devnum));
}

static int name_token(dev_t d, void *data)
{
	char name[300];
	FILE *f = data;

	fake_devnum_name(d, name, sizeof(name));
	fprintf(f, " %s", name);
	return 0;
}

/* The table with its device numbers as names, and its other words. */
static void describe_table(FILE *f, const char *which, const struct fake_table *t)
{
	char copy[256], *save = NULL;

	fprintf(f, " %s=%s", which, t->target);
	for_each_devnum(t->params, name_token, f);
	snprintf(copy, sizeof(copy), "%s", t->params);
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (!strchr(w, ':'))
			fprintf(f, " %s", w);
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *fake_describe(void)
{
	struct fake_state *s = fake_state();
	char *lines[FAKE_MAX_DM + FAKE_MAX_LOOPS];
	size_t n = 0, len = 0;
	char *text = NULL;
	FILE *out;

	for (int i = 0; i < FAKE_MAX_DM; i++) {
		const struct fake_dm *d = &s->dm[i];
		const char *kind = strncmp(d->uuid, "SNAPMGR-", 8) == 0 ? d->uuid + 8 : "other";
		size_t l = 0;
		FILE *f;

		if (!d->used)
			continue;
		f = open_memstream(&lines[n], &l);
		/* "SNAPMGR-snap-<id>": the kind only, ids are random. */
		fprintf(f, "dm %s %.4s", d->name, kind);
		if (d->live.set)
			describe_table(f, "live", &d->live);
		if (d->inactive.set)
			describe_table(f, "inactive", &d->inactive);
		if (d->suspended)
			fprintf(f, " SUSPENDED");
		if (d->remove_deferred)
			fprintf(f, " remove-deferred");
		fclose(f);
		n++;
	}
	for (int i = 0; i < FAKE_MAX_LOOPS; i++)
		if (s->loops[i].used && asprintf(&lines[n], "loop %s", s->loops[i].file) >= 0)
			n++;
	qsort(lines, n, sizeof(*lines), line_cmp);
	out = open_memstream(&text, &len);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s\n", lines[i]);
		free(lines[i]);
	}
	fclose(out);
	return text;
}
