/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every dm snapshot on the host, whoever made it: discovered from the
 * device-mapper tables, its usage from the kernel's status line (parsed by
 * libdevmapper's dm_get_status_snapshot), and our module's counters.
 */
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "blockdev.h"
#include "dm.h"
#include "dm-parse.h"
#include "error-private.h"
#include "record.h"

#define MAX_COUNTERS 16

struct snapmgr_snapshot {
	int refcount;
	char *name;
	char *uuid;
	enum snapmgr_owner owner;
	enum snapmgr_state state;
	char *origin;        /* snapshot-origin device name, or NULL */
	char *origin_device; /* what the origin stands on */
	char *cow_device;
	char *cow_file;      /* when the COW is a loop device */
	char *set;           /* the snapshot set of its record entry */
	char *change_token;  /* of its record entry (a tracked origin's) */
	uint32_t chunk_sectors;
	bool persistent;
	bool has_usage;
	uint64_t size_sectors, used_sectors, metadata_sectors;
	int open_count;
	bool has_counters;
	size_t n_counters;
	struct {
		char *key;
		char *value;
	} counters[MAX_COUNTERS];
};

_public_ const char *snapmgr_owner_to_string(enum snapmgr_owner owner)
{
	switch (owner) {
	case SNAPMGR_OWNER_SNAPMGR:
		return "snapmgr";
	case SNAPMGR_OWNER_LVM2:
		return "lvm2";
	case SNAPMGR_OWNER_OTHER:
		return "other";
	}
	return NULL;
}

_public_ const char *snapmgr_state_to_string(enum snapmgr_state state)
{
	static const char *const names[] = {
		[SNAPMGR_STATE_ACTIVE] = "active",
		[SNAPMGR_STATE_INVALID] = "invalid",
		[SNAPMGR_STATE_OVERFLOW] = "overflow",
		[SNAPMGR_STATE_MERGING] = "merging",
		[SNAPMGR_STATE_MERGE_FAILED] = "merge_failed",
	};

	if ((unsigned)state >= ELEMENTSOF(names))
		return NULL;
	return names[state];
}

enum snapmgr_owner snapmgr_owner_from_uuid(const char *uuid)
{
	if (uuid && strncmp(uuid, SNAPMGR_UUID_PREFIX,
			    strlen(SNAPMGR_UUID_PREFIX)) == 0)
		return SNAPMGR_OWNER_SNAPMGR;
	if (uuid && strncmp(uuid, "LVM-", 4) == 0)
		return SNAPMGR_OWNER_LVM2;
	return SNAPMGR_OWNER_OTHER;
}

static void snapshot_free(struct snapmgr_snapshot *s)
{
	free(s->name);
	free(s->uuid);
	free(s->origin);
	free(s->origin_device);
	free(s->cow_device);
	free(s->cow_file);
	free(s->set);
	free(s->change_token);
	for (size_t i = 0; i < s->n_counters; i++) {
		free(s->counters[i].key);
		free(s->counters[i].value);
	}
	free(s);
}

_public_ struct snapmgr_snapshot *snapmgr_snapshot_ref(struct snapmgr_snapshot *s)
{
	if (s)
		s->refcount++;
	return s;
}

_public_ struct snapmgr_snapshot *
snapmgr_snapshot_unref(struct snapmgr_snapshot *s)
{
	if (s && --s->refcount == 0)
		snapshot_free(s);
	return NULL;
}

_public_ void snapmgr_snapshot_list_free(struct snapmgr_snapshot **list)
{
	if (!list)
		return;
	for (struct snapmgr_snapshot **p = list; *p; p++)
		snapmgr_snapshot_unref(*p);
	free(list);
}

int parse_devnum(const char *s, dev_t *ret)
{
	unsigned ma, mi;
	int n = 0;

	if (sscanf(s, "%u:%u%n", &ma, &mi, &n) != 2 || s[n] != '\0')
		return -EINVAL;
	*ret = makedev(ma, mi);
	return 0;
}

/*
 * "snapshot" and "snapshot-merge" tables: <origin> <cow> <P|PO|N> <chunk>,
 * devices as major:minor.
 */
int parse_snapshot_table(const char *params, dev_t *ret_origin,
			 dev_t *ret_cow, bool *ret_persistent,
			 uint32_t *ret_chunk)
{
	char origin[32], cow[32], mode[4];
	uint32_t chunk;
	int n = 0;

	if (sscanf(params, "%31s %31s %3s %" SCNu32 "%n", origin, cow, mode,
		   &chunk, &n) != 4 || params[n] != '\0')
		return -EINVAL;
	if (parse_devnum(origin, ret_origin) < 0 ||
	    parse_devnum(cow, ret_cow) < 0)
		return -EINVAL;
	if (mode[0] != 'P' && mode[0] != 'p' && mode[0] != 'N' &&
	    mode[0] != 'n')
		return -EINVAL;
	*ret_persistent = mode[0] == 'P' || mode[0] == 'p';
	*ret_chunk = chunk;
	return 0;
}

/* Our module's "stats" reply: key=value pairs separated by blanks. */
static int parse_counters(struct snapmgr_snapshot *s, const char *reply)
{
	_cleanup_free_ char *copy = strdup(reply);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq || eq == tok)
			return -EINVAL;
		if (s->n_counters == MAX_COUNTERS)
			break;
		*eq = '\0';
		s->counters[s->n_counters].key = strdup(tok);
		s->counters[s->n_counters].value = strdup(eq + 1);
		if (!s->counters[s->n_counters].key ||
		    !s->counters[s->n_counters].value)
			return -ENOMEM;
		s->n_counters++;
	}
	s->has_counters = true;
	return 0;
}

/*
 * Our module reports a patch level of 2 or more in the snapshot target's
 * version when it answers "stats"; Debian's reports 0 and would only log
 * "does not support messages" if asked.
 */
static bool module_has_counters(struct snapmgr_ctx *ctx)
{
	uint32_t v[3];

	return smdm_target_version(ctx, "snapshot", v) == 0 && v[2] >= 2;
}

static void resolve_origin_device(struct snapmgr_ctx *ctx, dev_t real,
				  char **ret)
{
	_cleanup_smdm_device_ struct smdm_device *d = NULL;
	dev_t under;

	/* NAME-real (ours) and LV-real (lvm2) are linear over the device. */
	if (smdm_device_get_by_devnum(ctx, real, false, &d) == 0 &&
	    streq(d->target_type, "linear") && d->target_count == 1) {
		char devs[32];

		if (sscanf(d->params, "%31s", devs) == 1 &&
		    parse_devnum(devs, &under) == 0 &&
		    blockdev_path_for_devnum(under, ret) == 0)
			return;
	}
	(void)blockdev_path_for_devnum(real, ret);
}

/*
 * Builds the object for one device whose table is a snapshot; origins maps
 * each snapshot-origin's underlying device to its name.
 */
static int snapshot_build(struct snapmgr_ctx *ctx, const struct smdm_device *table,
			  char **origin_names, dev_t *origin_reals,
			  size_t n_origins, bool counters,
			  struct snapmgr_snapshot **ret)
{
	struct smdm_snapshot_status st;
	struct snapmgr_snapshot *s;
	dev_t origin_dev, cow_dev;
	bool merge = streq(table->target_type, "snapshot-merge");
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->refcount = 1;
	s->name = strdup(table->name);
	s->uuid = strdup(table->uuid);
	if (!s->name || !s->uuid) {
		r = -ENOMEM;
		goto fail;
	}
	s->owner = snapmgr_owner_from_uuid(table->uuid);
	s->open_count = table->open_count;
	r = parse_snapshot_table(table->params, &origin_dev, &cow_dev,
				 &s->persistent, &s->chunk_sectors);
	if (r < 0) {
		log_warning(ctx, "%s: cannot parse snapshot table '%s'",
			    table->name, table->params);
		goto fail;
	}
	if (merge) {
		/* The merging snapshot takes the origin's place and name. */
		s->origin = strdup(table->name);
	} else {
		for (size_t i = 0; i < n_origins; i++)
			if (origin_reals[i] == origin_dev) {
				s->origin = strdup(origin_names[i]);
				break;
			}
	}
	resolve_origin_device(ctx, origin_dev, &s->origin_device);
	(void)blockdev_path_for_devnum(cow_dev, &s->cow_device);
	(void)blockdev_loop_backing_file(cow_dev, &s->cow_file);

	s->state = merge ? SNAPMGR_STATE_MERGING : SNAPMGR_STATE_ACTIVE;
	r = smdm_snapshot_status(ctx, table->name, &st);
	if (r == -EBADMSG)
		r = 0; /* logged; listed without usage */
	else if (r < 0)
		goto fail;
	else if (st.merge_failed)
		s->state = SNAPMGR_STATE_MERGE_FAILED;
	else if (st.overflow)
		s->state = SNAPMGR_STATE_OVERFLOW;
	else if (st.invalid)
		s->state = SNAPMGR_STATE_INVALID;
	else if (st.has_usage) {
		s->has_usage = true;
		s->used_sectors = st.used_sectors;
		s->size_sectors = st.total_sectors;
		s->metadata_sectors = st.metadata_sectors;
	}

	if (counters) {
		_cleanup_free_ char *reply = NULL;

		if (smdm_message(ctx, table->name, "stats", &reply) == 0 && reply &&
		    parse_counters(s, reply) < 0)
			log_warning(ctx, "%s: odd stats reply '%s'", s->name,
				    reply);
	}
	*ret = s;
	return 0;
fail:
	snapshot_free(s);
	return r;
}

/*
 * Snapshots that only our records know of: a merge that failed leaves no
 * snapshot device (the origin was put back on its device), and neither does
 * a merge whose finalisation was cut short after the origin's table went
 * back to normal (its COW is still to be released). List them, as
 * merge_failed and merging, so status says so and snapmgrd finishes them.
 */
static int strdup_or_null(const char *s, char **ret)
{
	*ret = NULL;
	return s && !(*ret = strdup(s)) ? -ENOMEM : 0;
}

/* Whether list already shows entry e of origin's record. */
static bool listed(struct snapmgr_snapshot **list, size_t n, const char *origin,
		   const struct snap_entry *e)
{
	for (size_t k = 0; k < n; k++) {
		if (streq(list[k]->name, e->name))
			return true;
		/* Still merging: listed under the origin's name. */
		if (e->state == SNAP_MERGING && streq(list[k]->name, origin) &&
		    (list[k]->state == SNAPMGR_STATE_MERGING ||
		     list[k]->state == SNAPMGR_STATE_MERGE_FAILED))
			return true;
	}
	return false;
}

static int snapshot_from_record(const struct origin_record *rec,
				const struct snap_entry *e,
				struct snapmgr_snapshot **ret)
{
	struct snapmgr_snapshot *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->refcount = 1;
	s->owner = SNAPMGR_OWNER_SNAPMGR;
	s->state = e->state == SNAP_MERGE_FAILED ? SNAPMGR_STATE_MERGE_FAILED :
						    SNAPMGR_STATE_MERGING;
	s->chunk_sectors = (uint32_t)(e->chunk_size / 512);
	s->persistent = true;
	if (strdup_or_null(e->name, &s->name) < 0 || strdup_or_null("", &s->uuid) < 0 ||
	    strdup_or_null(rec->name, &s->origin) < 0 ||
	    strdup_or_null(e->cow_device, &s->cow_device) < 0 ||
	    strdup_or_null(e->cow_file, &s->cow_file) < 0 ||
	    strdup_or_null(rec->device, &s->origin_device) < 0 ||
	    strdup_or_null(e->set, &s->set) < 0 ||
	    strdup_or_null(e->change_token, &s->change_token) < 0) {
		snapshot_free(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

static int add_record_only(struct snapmgr_ctx *ctx,
			   struct snapmgr_snapshot **list, size_t *n_snaps,
			   size_t cap, struct snapmgr_snapshot ***ret_list)
{
	_cleanup_(record_iter_done) struct record_iter it = {};
	int r;

	*ret_list = list;
	while ((r = record_next(ctx, &it)) > 0) {
		struct origin_record *rec = it.rec;

		for (size_t i = 0; i < rec->n_snapshots; i++) {
			const struct snap_entry *e = &rec->snapshots[i];
			struct snapmgr_snapshot **nl;

			if ((e->state != SNAP_MERGING && e->state != SNAP_MERGE_FAILED) ||
			    listed(list, *n_snaps, rec->name, e))
				continue;
			nl = realloc(list, (cap + 1) * sizeof(*list));
			if (!nl)
				return -ENOMEM;
			list = nl;
			*ret_list = list;
			cap++;
			r = snapshot_from_record(rec, e, &list[*n_snaps]);
			if (r < 0)
				return r;
			list[++(*n_snaps)] = NULL;
		}
	}
	return r;
}

/* The set and change token of each of our snapshots: its record says. */
static int add_record_facts(struct snapmgr_ctx *ctx, struct snapmgr_snapshot **list)
{
	_cleanup_(record_iter_done) struct record_iter it = {};
	int r;

	while ((r = record_next(ctx, &it)) > 0) {
		struct origin_record *rec = it.rec;

		for (size_t i = 0; i < rec->n_snapshots; i++) {
			const struct snap_entry *e = &rec->snapshots[i];

			if (!e->set && !e->change_token)
				continue;
			for (struct snapmgr_snapshot **p = list; *p; p++) {
				if ((*p)->owner != SNAPMGR_OWNER_SNAPMGR ||
				    !streq((*p)->name, e->name))
					continue;
				if (!(*p)->set && strdup_or_null(e->set, &(*p)->set) < 0)
					return -ENOMEM;
				if (!(*p)->change_token &&
				    strdup_or_null(e->change_token, &(*p)->change_token) < 0)
					return -ENOMEM;
			}
		}
	}
	if (r < 0)
		return r;
	/* A damaged record is status's to report, not list's. */
	snapmgr_clear_error(ctx);
	return 0;
}

_public_ int snapmgr_snapshot_list(struct snapmgr_ctx *ctx,
				   struct snapmgr_snapshot ***ret_list)
{
	char **names = NULL;
	struct smdm_device **tables = NULL;
	char **origin_names = NULL;
	dev_t *origin_reals = NULL;
	struct snapmgr_snapshot **list = NULL;
	size_t n = 0, n_origins = 0, n_snaps = 0;
	bool counters = false;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !ret_list)
		return -EINVAL;
	r = smdm_setup(ctx);
	if (r < 0)
		return r;
	r = smdm_list_names(ctx, &names);
	if (r < 0)
		return r;
	while (names[n])
		n++;
	tables = calloc(n + 1, sizeof(*tables));
	origin_names = calloc(n + 1, sizeof(*origin_names));
	origin_reals = calloc(n + 1, sizeof(*origin_reals));
	list = calloc(n + 1, sizeof(*list));
	if (!tables || !origin_names || !origin_reals || !list) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		r = smdm_device_get(ctx, names[i], false, &tables[i]);
		if (r == -ENXIO) /* removed meanwhile */
			continue;
		if (r < 0)
			goto out;
		if (streq(tables[i]->target_type, "snapshot-origin") &&
		    parse_devnum(tables[i]->params, &origin_reals[n_origins]) == 0)
			origin_names[n_origins++] = tables[i]->name;
		if (streq(tables[i]->target_type, "snapshot"))
			counters = true;
	}
	if (counters)
		counters = module_has_counters(ctx);
	for (size_t i = 0; i < n; i++) {
		if (!tables[i] || (!streq(tables[i]->target_type, "snapshot") &&
				   !streq(tables[i]->target_type, "snapshot-merge")))
			continue;
		r = snapshot_build(ctx, tables[i], origin_names, origin_reals,
				   n_origins, counters, &list[n_snaps]);
		if (r == -ENXIO || r == -EINVAL) /* gone, or not parseable */
			continue;
		if (r < 0)
			goto out;
		n_snaps++;
	}
	r = add_record_only(ctx, list, &n_snaps, n + 1, &list);
	if (r < 0)
		goto out;
	r = add_record_facts(ctx, list);
	if (r < 0)
		goto out;
	*ret_list = TAKE_PTR(list);
	r = 0;
out:
	snapmgr_snapshot_list_free(list);
	for (size_t i = 0; tables && i < n; i++)
		smdm_device_free(tables[i]);
	free(tables);
	free(origin_names);
	free(origin_reals);
	strv_free(names);
	return r;
}

_public_ int snapmgr_snapshot_get(struct snapmgr_ctx *ctx, const char *name,
				  struct snapmgr_snapshot **ret)
{
	struct snapmgr_snapshot **list = NULL;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!name || !ret)
		return -EINVAL;
	r = snapmgr_snapshot_list(ctx, &list);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (struct snapmgr_snapshot **p = list; *p; p++)
		if (streq((*p)->name, name)) {
			*ret = snapmgr_snapshot_ref(*p);
			r = 0;
			break;
		}
	snapmgr_snapshot_list_free(list);
	return r;
}

/* Getters. */
_public_ const char *snapmgr_snapshot_get_name(const struct snapmgr_snapshot *s) { return s->name; }
_public_ const char *snapmgr_snapshot_get_uuid(const struct snapmgr_snapshot *s) { return s->uuid; }
_public_ enum snapmgr_owner snapmgr_snapshot_get_owner(const struct snapmgr_snapshot *s) { return s->owner; }
_public_ enum snapmgr_state snapmgr_snapshot_get_state(const struct snapmgr_snapshot *s) { return s->state; }
_public_ const char *snapmgr_snapshot_get_origin(const struct snapmgr_snapshot *s) { return s->origin; }
_public_ const char *snapmgr_snapshot_get_origin_device(const struct snapmgr_snapshot *s) { return s->origin_device; }
_public_ const char *snapmgr_snapshot_get_cow_device(const struct snapmgr_snapshot *s) { return s->cow_device; }
_public_ const char *snapmgr_snapshot_get_cow_file(const struct snapmgr_snapshot *s) { return s->cow_file; }
_public_ const char *snapmgr_snapshot_get_set(const struct snapmgr_snapshot *s) { return s->set; }
_public_ const char *snapmgr_snapshot_get_change_token(const struct snapmgr_snapshot *s) { return s->change_token; }
_public_ uint64_t snapmgr_snapshot_get_chunk_size(const struct snapmgr_snapshot *s) { return (uint64_t)s->chunk_sectors * 512; }
_public_ int snapmgr_snapshot_get_open_count(const struct snapmgr_snapshot *s) { return s->open_count; }

_public_ bool snapmgr_snapshot_get_usage(const struct snapmgr_snapshot *s,
					 uint64_t *ret_size, uint64_t *ret_used,
					 uint64_t *ret_metadata)
{
	if (!s->has_usage)
		return false;
	if (ret_size)
		*ret_size = s->size_sectors * 512;
	if (ret_used)
		*ret_used = s->used_sectors * 512;
	if (ret_metadata)
		*ret_metadata = s->metadata_sectors * 512;
	return true;
}

_public_ double snapmgr_snapshot_get_fill_percent(const struct snapmgr_snapshot *s)
{
	if (!s->has_usage)
		return s->state == SNAPMGR_STATE_ACTIVE ? 0.0 : 100.0;
	if (s->size_sectors == 0)
		return 0.0;
	return 100.0 * (double)s->used_sectors / (double)s->size_sectors;
}

_public_ const char *snapmgr_snapshot_get_counter(const struct snapmgr_snapshot *s,
						  const char *key)
{
	for (size_t i = 0; i < s->n_counters; i++)
		if (streq(s->counters[i].key, key))
			return s->counters[i].value;
	return NULL;
}

_public_ bool snapmgr_snapshot_has_counters(const struct snapmgr_snapshot *s)
{
	return s->has_counters;
}

static json_object *json_string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* A percentage as a JSON number with two decimals, e.g. 12.5 -> 12.50. */
static json_object *json_percent(double p)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.2f", p);
	return json_object_new_double_s(strtod(buf, NULL), buf);
}

/* Numbers as numbers: "12" becomes 12, "on" stays a string. */
static json_object *json_counter_value(const char *v)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (*v && *end == '\0' && errno == 0 && v[0] != '-')
		return json_object_new_uint64(n);
	return json_object_new_string(v);
}

/*
 * Our JSON gives sizes in bytes only; the kernel's stats counts some in
 * 512-byte sectors. Those keys are converted here (and renamed when the
 * name carries the unit); the others pass as they are.
 */
static const struct {
	const char *kernel_key, *json_key;
} sector_counters[] = {
	{ "origin_sectors_read", "origin_read_bytes" },
	{ "chunk_size", "chunk_size" },
};

static void counter_to_json(json_object *c, const char *key, const char *value)
{
	json_object *v = json_counter_value(value);

	for (size_t i = 0; i < ELEMENTSOF(sector_counters); i++) {
		if (!streq(key, sector_counters[i].kernel_key))
			continue;
		if (json_object_is_type(v, json_type_int)) {
			uint64_t n = json_object_get_uint64(v);

			json_object_put(v);
			v = json_object_new_uint64(n * 512);
		}
		key = sector_counters[i].json_key;
		break;
	}
	json_object_object_add(c, key, v);
}

_public_ int snapmgr_snapshot_to_json(const struct snapmgr_snapshot *s,
				      struct json_object **ret)
{
	json_object *o = json_object_new_object();
	uint64_t size, used, meta;
	bool usage = snapmgr_snapshot_get_usage(s, &size, &used, &meta);

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "name", json_object_new_string(s->name));
	json_object_object_add(o, "uuid", json_object_new_string(s->uuid));
	json_object_object_add(o, "owner", json_object_new_string(snapmgr_owner_to_string(s->owner)));
	json_object_object_add(o, "origin", json_string_or_null(s->origin));
	json_object_object_add(o, "origin_device", json_string_or_null(s->origin_device));
	json_object_object_add(o, "cow_device", json_string_or_null(s->cow_device));
	json_object_object_add(o, "cow_file", json_string_or_null(s->cow_file));
	json_object_object_add(o, "set", json_string_or_null(s->set));
	json_object_object_add(o, "change_token", json_string_or_null(s->change_token));
	json_object_object_add(o, "chunk_size", json_object_new_uint64(snapmgr_snapshot_get_chunk_size(s)));
	json_object_object_add(o, "persistent", json_object_new_boolean(s->persistent));
	json_object_object_add(o, "size_bytes", usage ? json_object_new_uint64(size) : NULL);
	json_object_object_add(o, "used_bytes", usage ? json_object_new_uint64(used) : NULL);
	json_object_object_add(o, "metadata_bytes", usage ? json_object_new_uint64(meta) : NULL);
	json_object_object_add(o, "fill_percent", json_percent(snapmgr_snapshot_get_fill_percent(s)));
	json_object_object_add(o, "state", json_object_new_string(snapmgr_state_to_string(s->state)));
	json_object_object_add(o, "open_count", json_object_new_int(s->open_count));
	if (s->has_counters) {
		json_object *c = json_object_new_object();

		for (size_t i = 0; i < s->n_counters; i++)
			counter_to_json(c, s->counters[i].key, s->counters[i].value);
		json_object_object_add(o, "counters", c);
	} else {
		json_object_object_add(o, "counters", NULL);
	}
	*ret = o;
	return 0;
}
