/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Records of our stacks, one atomic JSON file per origin: the one place that
 * knows their JSON shape. A record is checked completely when it is read, so
 * the code that acts on it never meets a missing key or an unknown state,
 * and anything this version cannot vouch for is refused, never guessed at.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "json-util.h"
#include "record.h"

const char *state_dir(void)
{
	const char *e = getenv("SNAPMGR_STATE_DIR");

	return e && *e ? e : SNAPMGR_STATE_DIR;
}

static int mkdir_p(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);

	if (!copy)
		return -ENOMEM;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			return negative_errno();
		*p = '/';
	}
	if (mkdir(copy, 0755) < 0 && errno != EEXIST)
		return negative_errno();
	return 0;
}


static const char *const state_names[_SNAP_STATE_MAX] = {
	[SNAP_CREATING] = "creating",
	[SNAP_ACTIVE] = "active",
	[SNAP_REMOVING] = "removing",
	[SNAP_MERGE_PENDING] = "merge_pending",
	[SNAP_MERGING] = "merging",
	[SNAP_MERGE_FAILED] = "merge_failed",
};

/* The index of s in names[n] (the on-disk strings of an enum), or -EINVAL. */
static int name_index(const char *const *names, unsigned n, const char *s)
{
	for (unsigned i = 0; i < n; i++)
		if (streq(s, names[i]))
			return (int)i;
	return -EINVAL;
}

const char *snap_state_to_string(enum snap_state s)
{
	return (unsigned)s < _SNAP_STATE_MAX ? state_names[s] : NULL;
}

int snap_state_from_string(const char *s, enum snap_state *ret)
{
	int i = name_index(state_names, _SNAP_STATE_MAX, s);

	if (i < 0)
		return i;
	*ret = (enum snap_state)i;
	return 0;
}

static const char *const track_state_names[_TRACK_STATE_MAX] = {
	[TRACK_STARTING] = "starting",
	[TRACK_ACTIVE] = "active",
	[TRACK_STOPPING] = "stopping",
};

const char *track_state_to_string(enum track_state s)
{
	return (unsigned)s < _TRACK_STATE_MAX ? track_state_names[s] : NULL;
}

int track_state_from_string(const char *s, enum track_state *ret)
{
	int i = name_index(track_state_names, _TRACK_STATE_MAX, s);

	if (i < 0)
		return i;
	*ret = (enum track_state)i;
	return 0;
}

void track_record_free(struct track_record *t)
{
	if (!t)
		return;
	free(t->id);
	free(t->metadata_device);
	free(t->metadata_file);
	free(t);
}

int set_string(char **field, const char *value)
{
	char *copy = NULL;

	if (value && !(copy = strdup(value)))
		return -ENOMEM;
	free(*field);
	*field = copy;
	return 0;
}

static void entry_clear(struct snap_entry *e)
{
	free(e->name);
	free(e->id);
	free(e->cow_device);
	free(e->cow_file);
	free(e->merge_error);
	free(e->set);
	free(e->schedule);
	free(e->change_token);
	memset(e, 0, sizeof(*e));
}

void origin_record_free(struct origin_record *rec)
{
	if (!rec)
		return;
	for (size_t i = 0; i < rec->n_snapshots; i++)
		entry_clear(&rec->snapshots[i]);
	free(rec->snapshots);
	free(rec->name);
	free(rec->id);
	free(rec->device);
	free(rec->devnum);
	track_record_free(rec->tracking);
	free(rec);
}

int origin_record_new(const char *name, const char *id, const char *device,
		      const char *devnum, uint64_t sectors,
		      struct origin_record **ret)
{
	_cleanup_record_ struct origin_record *rec = calloc(1, sizeof(*rec));

	if (!rec || set_string(&rec->name, name) < 0 ||
	    set_string(&rec->id, id) < 0 ||
	    set_string(&rec->device, device) < 0 ||
	    set_string(&rec->devnum, devnum) < 0)
		return -ENOMEM;
	rec->sectors = sectors;
	*ret = TAKE_PTR(rec);
	return 0;
}

struct snap_entry *record_find_snapshot(struct origin_record *rec,
					const char *snap)
{
	for (size_t i = 0; rec && i < rec->n_snapshots; i++)
		if (streq(rec->snapshots[i].name, snap))
			return &rec->snapshots[i];
	return NULL;
}

struct snap_entry *record_merging(struct origin_record *rec)
{
	for (size_t i = 0; rec && i < rec->n_snapshots; i++)
		if (rec->snapshots[i].state == SNAP_MERGING ||
		    rec->snapshots[i].state == SNAP_MERGE_FAILED)
			return &rec->snapshots[i];
	return NULL;
}

int record_add_snapshot(struct origin_record *rec, struct snap_entry **ret)
{
	struct snap_entry *v;

	v = realloc(rec->snapshots, (rec->n_snapshots + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	rec->snapshots = v;
	memset(&v[rec->n_snapshots], 0, sizeof(*v));
	*ret = &v[rec->n_snapshots++];
	return 0;
}

void record_remove_snapshot(struct origin_record *rec, struct snap_entry *entry)
{
	size_t i = (size_t)(entry - rec->snapshots);

	if (i >= rec->n_snapshots)
		return;
	entry_clear(entry);
	memmove(&rec->snapshots[i], &rec->snapshots[i + 1],
		(rec->n_snapshots - i - 1) * sizeof(*entry));
	rec->n_snapshots--;
}

static int record_path(const char *origin, char **ret)
{
	return asprintf(ret, "%s/origins/%s.json", state_dir(), origin) < 0 ?
		       -ENOMEM : 0;
}

/* --- reading: every key checked, every failure one line naming the file */

static inline void json_tokener_freep(json_tokener **t)
{
	if (*t)
		json_tokener_free(*t);
}

/* Where in the file a bad value is, for messages: "" or "snapshot 2: ". */
struct where {
	struct snapmgr_ctx *ctx;
	const char *path;
	char at[64];
};

_printf_(2, 3) static int bad(const struct where *w, const char *format, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, format);
	vsnprintf(what, sizeof(what), format, ap);
	va_end(ap);
	return snapmgr_error(w->ctx, -EBADMSG, "record %s: %s%s", w->path,
			     w->at, what);
}

/* 1 and *ret when present, 0 when absent or null (and optional). */
static int get_value(const struct where *w, json_object *o, const char *key,
		     json_type type, bool optional, json_object **ret)
{
	static const char *const type_names[] = {
		[json_type_boolean] = "true or false",
		[json_type_int] = "an integer",
		[json_type_string] = "a string",
		[json_type_array] = "an array",
		[json_type_object] = "an object",
	};
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !v) {
		if (optional)
			return 0;
		return bad(w, "missing key \"%s\"", key);
	}
	if (!json_object_is_type(v, type))
		return bad(w, "\"%s\" is not %s", key, type_names[type]);
	*ret = v;
	return 1;
}

static int get_string(const struct where *w, json_object *o, const char *key,
		      bool optional, char **ret)
{
	json_object *v = NULL;
	int r = get_value(w, o, key, json_type_string, optional, &v);

	if (r <= 0)
		return r;
	if (!*json_object_get_string(v))
		return bad(w, "\"%s\" is empty", key);
	return set_string(ret, json_object_get_string(v));
}

/* Non-negative integers only: sizes and sector counts. */
static int get_u64(const struct where *w, json_object *o, const char *key,
		   bool optional, uint64_t *ret)
{
	json_object *v = NULL;
	int64_t n;
	int r = get_value(w, o, key, json_type_int, optional, &v);

	if (r <= 0)
		return r;
	n = json_object_get_int64(v);
	if (n < 0)
		return bad(w, "\"%s\" is negative (%" PRId64 ")", key, n);
	*ret = (uint64_t)n;
	return 1;
}

static int get_bool(const struct where *w, json_object *o, const char *key,
		    bool *ret)
{
	json_object *v = NULL;
	int r = get_value(w, o, key, json_type_boolean, true, &v);

	if (r > 0)
		*ret = json_object_get_boolean(v);
	return r;
}

static int parse_entry(struct where *w, json_object *o, int64_t version,
		       struct snap_entry *e)
{
	_cleanup_free_ char *state = NULL;
	uint64_t created = 0;
	int r;

	if (!json_object_is_type(o, json_type_object))
		return bad(w, "not an object");
	if ((r = get_string(w, o, "name", false, &e->name)) < 0)
		return r;
	/* From here on, name the snapshot rather than its index. */
	snprintf(w->at, sizeof(w->at), "snapshot %.40s: ", e->name);
	if ((r = get_string(w, o, "id", false, &e->id)) < 0 ||
	    (r = get_string(w, o, "state", false, &state)) < 0 ||
	    (r = get_u64(w, o, "chunk_size", false, &e->chunk_size)) < 0 ||
	    (r = get_string(w, o, "cow_device", true, &e->cow_device)) < 0 ||
	    (r = get_string(w, o, "cow_file", true, &e->cow_file)) < 0 ||
	    (r = get_bool(w, o, "cow_file_created", &e->cow_file_created)) < 0 ||
	    (r = get_string(w, o, "merge_error", true, &e->merge_error)) < 0 ||
	    (r = get_u64(w, o, "created", true, &created)) < 0 ||
	    (r = get_string(w, o, "schedule", true, &e->schedule)) < 0)
		return r;
	if (version >= 2 &&
	    ((r = get_string(w, o, "set", true, &e->set)) < 0 ||
	     (r = get_bool(w, o, "set_wrapped_origin", &e->set_wrapped_origin)) < 0))
		return r;
	/* A version 1 record never had these: it was written by hand. */
	if (version < 2 && (json_object_object_get_ex(o, "set", NULL) ||
			    json_object_object_get_ex(o, "set_wrapped_origin", NULL)))
		return bad(w, "\"set\" needs record version 2");
	if (version >= 3 &&
	    (r = get_string(w, o, "change_token", true, &e->change_token)) < 0)
		return r;
	if (version < 3 && json_object_object_get_ex(o, "change_token", NULL))
		return bad(w, "\"change_token\" needs record version 3");
	if (e->set_wrapped_origin && !e->set)
		return bad(w, "\"set_wrapped_origin\" without \"set\"");
	if (created > INT64_MAX)
		return bad(w, "\"created\" is out of range");
	e->created = (int64_t)created;
	if (snap_state_from_string(state, &e->state) < 0)
		return bad(w, "unknown state \"%s\"", state);
	if (e->chunk_size < 512 || e->chunk_size % 512)
		return bad(w, "chunk_size %" PRIu64 " is not a whole number of sectors",
			   e->chunk_size);
	if (!e->cow_device && !e->cow_file)
		return bad(w, "neither \"cow_device\" nor \"cow_file\"");
	if (e->cow_file && get_u64(w, o, "cow_size", false, &e->cow_size) < 0)
		return -EBADMSG;
	r = get_u64(w, o, "merge_start_used", true, &e->merge_start_used);
	if (r < 0)
		return r;
	if (r > 0) {
		e->has_merge_usage = true;
		r = get_u64(w, o, "merge_metadata", false, &e->merge_metadata);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_tracking(struct where *w, json_object *o,
			  struct track_record **ret)
{
	_cleanup_free_ char *state = NULL;
	struct track_record *t;
	int r;

	snprintf(w->at, sizeof(w->at), "tracking: ");
	if (!json_object_is_type(o, json_type_object))
		return bad(w, "not an object");
	t = *ret = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	if ((r = get_string(w, o, "id", false, &t->id)) < 0 ||
	    (r = get_string(w, o, "state", false, &state)) < 0 ||
	    (r = get_u64(w, o, "block_size", false, &t->block_size)) < 0 ||
	    (r = get_string(w, o, "metadata_device", true, &t->metadata_device)) < 0 ||
	    (r = get_string(w, o, "metadata_file", true, &t->metadata_file)) < 0 ||
	    (r = get_bool(w, o, "metadata_file_created", &t->metadata_file_created)) < 0)
		return r;
	if (track_state_from_string(state, &t->state) < 0)
		return bad(w, "unknown state \"%s\"", state);
	if (t->block_size < 4096 || t->block_size % 4096)
		return bad(w, "block_size %" PRIu64 " is not a multiple of 4096",
			   t->block_size);
	if (!t->metadata_device && !t->metadata_file)
		return bad(w, "neither \"metadata_device\" nor \"metadata_file\"");
	if (t->metadata_file &&
	    (r = get_u64(w, o, "metadata_size", false, &t->metadata_size)) < 0)
		return r;
	w->at[0] = '\0';
	return 0;
}

int record_parse(struct snapmgr_ctx *ctx, const char *path, const char *origin,
		 const char *text, size_t len, struct origin_record **ret)
{
	_cleanup_(json_putp) json_object *o = NULL;
	_cleanup_record_ struct origin_record *rec = NULL;
	_cleanup_(json_tokener_freep) json_tokener *tok = NULL;
	struct where w = { .ctx = ctx, .path = path };
	enum json_tokener_error jerr;
	json_object *v = NULL, *arr = NULL;
	int64_t version;
	size_t n;
	int r;

	tok = json_tokener_new();
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (!o && jerr == json_tokener_continue)
		return bad(&w, "truncated (the JSON ends early)");
	if (!o || jerr != json_tokener_success)
		return bad(&w, "not valid JSON (%s)", json_tokener_error_desc(jerr));
	for (size_t i = json_tokener_get_parse_end(tok); i < len; i++)
		if (!strchr(" \t\r\n", text[i]))
			return bad(&w, "text after the end of the record");
	if (!json_object_is_type(o, json_type_object))
		return bad(&w, "not a JSON object");

	/* The version first: a newer layout's other keys mean nothing here. */
	r = get_value(&w, o, "version", json_type_int, false, &v);
	if (r < 0)
		return r;
	version = json_object_get_int64(v);
	if (version < RECORD_VERSION_MIN || version > RECORD_VERSION)
		return bad(&w, "unknown version %" PRId64 " (this snapmgr reads versions %d to %d)",
			   version, RECORD_VERSION_MIN, RECORD_VERSION);

	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return -ENOMEM;
	if ((r = get_string(&w, o, "name", false, &rec->name)) < 0 ||
	    (r = get_string(&w, o, "id", false, &rec->id)) < 0 ||
	    (r = get_string(&w, o, "device", false, &rec->device)) < 0 ||
	    (r = get_string(&w, o, "devnum", false, &rec->devnum)) < 0 ||
	    (r = get_u64(&w, o, "sectors", false, &rec->sectors)) < 0 ||
	    (r = get_bool(&w, o, "unwrapped", &rec->unwrapped)) < 0 ||
	    (r = get_value(&w, o, "snapshots", json_type_array, false, &arr)) < 0)
		return r;
	if (origin && !streq(rec->name, origin))
		return bad(&w, "it is the record of \"%s\"", rec->name);
	if (rec->sectors == 0)
		return bad(&w, "\"sectors\" is 0");
	r = get_value(&w, o, "tracking", json_type_object, true, &v);
	if (r < 0)
		return r;
	if (r > 0 && version < 3)
		return bad(&w, "\"tracking\" needs record version 3");
	if (r > 0) {
		r = parse_tracking(&w, v, &rec->tracking);
		if (r < 0)
			return r;
	}

	n = json_object_array_length(arr);
	rec->snapshots = calloc(n ? n : 1, sizeof(*rec->snapshots));
	if (!rec->snapshots)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		snprintf(w.at, sizeof(w.at), "snapshot %zu: ", i + 1);
		rec->n_snapshots = i + 1; /* so that free() sees what is set */
		r = parse_entry(&w, json_object_array_get_idx(arr, i), version,
				&rec->snapshots[i]);
		if (r < 0)
			return r;
		if (record_find_snapshot(rec, rec->snapshots[i].name) !=
		    &rec->snapshots[i]) {
			w.at[0] = '\0';
			return bad(&w, "snapshot \"%s\" is listed twice",
				   rec->snapshots[i].name);
		}
	}
	*ret = TAKE_PTR(rec);
	return 0;
}

int record_load(struct snapmgr_ctx *ctx, const char *origin,
		struct origin_record **ret)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	size_t size = 0;

	if (record_path(origin, &path) < 0)
		return -ENOMEM;
	f = fopen(path, "re");
	if (!f && errno == ENOENT)
		return -ENOENT;
	if (!f)
		return snapmgr_error(ctx, negative_errno(),
				     "cannot read record %s: %m", path);
	{
		_cleanup_fclose_ FILE *m = open_memstream(&text, &size);
		char buf[4096];
		size_t k;

		if (!m)
			return -ENOMEM;
		while ((k = fread(buf, 1, sizeof(buf), f)) > 0)
			if (fwrite(buf, 1, k, m) != k)
				return -ENOMEM;
		if (ferror(f))
			return snapmgr_error(ctx, -EIO,
					     "cannot read record %s: %m", path);
	}
	return record_parse(ctx, path, origin, text, size, ret);
}

/* --- writing: the same shape as every earlier release wrote */

static json_object *json_string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *entry_to_json(const struct snap_entry *e)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(e->name));
	json_object_object_add(o, "id", json_object_new_string(e->id));
	json_object_object_add(o, "state",
			       json_object_new_string(snap_state_to_string(e->state)));
	json_object_object_add(o, "chunk_size", json_object_new_int64((int64_t)e->chunk_size));
	/* null until a COW file is attached, as before. */
	json_object_object_add(o, "cow_device", json_string_or_null(e->cow_device));
	if (e->cow_file) {
		json_object_object_add(o, "cow_file", json_object_new_string(e->cow_file));
		json_object_object_add(o, "cow_size", json_object_new_int64((int64_t)e->cow_size));
		json_object_object_add(o, "cow_file_created",
				       json_object_new_boolean(e->cow_file_created));
	}
	if (e->has_merge_usage) {
		json_object_object_add(o, "merge_start_used",
				       json_object_new_int64((int64_t)e->merge_start_used));
		json_object_object_add(o, "merge_metadata",
				       json_object_new_int64((int64_t)e->merge_metadata));
	}
	if (e->merge_error)
		json_object_object_add(o, "merge_error", json_object_new_string(e->merge_error));
	if (e->set)
		json_object_object_add(o, "set", json_object_new_string(e->set));
	if (e->set_wrapped_origin)
		json_object_object_add(o, "set_wrapped_origin", json_object_new_boolean(true));
	/* Optional keys: records without them still mean what they meant. */
	if (e->created > 0)
		json_object_object_add(o, "created", json_object_new_int64(e->created));
	if (e->schedule)
		json_object_object_add(o, "schedule", json_object_new_string(e->schedule));
	if (e->change_token)
		json_object_object_add(o, "change_token", json_object_new_string(e->change_token));
	return o;
}

static json_object *tracking_to_json(const struct track_record *t)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(t->id));
	json_object_object_add(o, "state",
			       json_object_new_string(track_state_to_string(t->state)));
	json_object_object_add(o, "block_size", json_object_new_int64((int64_t)t->block_size));
	json_object_object_add(o, "metadata_device", json_string_or_null(t->metadata_device));
	if (t->metadata_file) {
		json_object_object_add(o, "metadata_file", json_object_new_string(t->metadata_file));
		json_object_object_add(o, "metadata_size",
				       json_object_new_int64((int64_t)t->metadata_size));
		json_object_object_add(o, "metadata_file_created",
				       json_object_new_boolean(t->metadata_file_created));
	}
	return o;
}

int record_format(const struct origin_record *rec, char **ret_text)
{
	_cleanup_(json_putp) json_object *o = json_object_new_object();
	json_object *arr = json_object_new_array();
	int version = RECORD_VERSION_MIN;
	char *text;

	/* The lowest version that holds it (see record.h). */
	for (size_t i = 0; i < rec->n_snapshots; i++)
		if (rec->snapshots[i].set && version < 2)
			version = 2;
	for (size_t i = 0; i < rec->n_snapshots; i++)
		if (rec->snapshots[i].change_token)
			version = 3;
	if (rec->tracking)
		version = 3;
	if (!o || !arr) {
		json_object_put(arr);
		return -ENOMEM;
	}
	json_object_object_add(o, "version", json_object_new_int(version));
	json_object_object_add(o, "name", json_object_new_string(rec->name));
	json_object_object_add(o, "id", json_object_new_string(rec->id));
	json_object_object_add(o, "device", json_object_new_string(rec->device));
	json_object_object_add(o, "devnum", json_object_new_string(rec->devnum));
	json_object_object_add(o, "sectors", json_object_new_int64((int64_t)rec->sectors));
	for (size_t i = 0; i < rec->n_snapshots; i++)
		json_object_array_add(arr, entry_to_json(&rec->snapshots[i]));
	json_object_object_add(o, "snapshots", arr);
	if (rec->unwrapped)
		json_object_object_add(o, "unwrapped", json_object_new_boolean(true));
	if (rec->tracking)
		json_object_object_add(o, "tracking", tracking_to_json(rec->tracking));
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							   JSON_C_TO_STRING_NOSLASHESCAPE));
	if (!text)
		return -ENOMEM;
	*ret_text = text;
	return 0;
}

int record_save(struct snapmgr_ctx *ctx, const struct origin_record *rec)
{
	_cleanup_free_ char *path = NULL, *tmp = NULL, *dir = NULL, *text = NULL;
	_cleanup_close_ int fd = -1, dfd = -1;
	size_t len;
	int r;

	if (asprintf(&dir, "%s/origins", state_dir()) < 0 ||
	    record_path(rec->name, &path) < 0 ||
	    asprintf(&tmp, "%s.tmp", path) < 0 ||
	    record_format(rec, &text) < 0)
		return -ENOMEM;
	r = mkdir_p(dir);
	if (r < 0)
		return snapmgr_error(ctx, r, "cannot create %s: %s", dir,
				     strerror(-r));
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return snapmgr_error(ctx, negative_errno(), "cannot write %s: %m",
				     tmp);
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 ||
	    fsync(fd) < 0) {
		r = negative_errno();
		unlink(tmp);
		return snapmgr_error(ctx, r, "cannot write %s: %s", tmp,
				     strerror(-r));
	}
	if (rename(tmp, path) < 0) {
		r = negative_errno();
		unlink(tmp);
		return snapmgr_error(ctx, r, "cannot rename %s: %s", tmp,
				     strerror(-r));
	}
	/* The rename itself must survive a power cut. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void)fsync(dfd);
	return 0;
}

int record_delete(struct snapmgr_ctx *ctx, const char *origin)
{
	_cleanup_free_ char *path = NULL;

	if (record_path(origin, &path) < 0)
		return -ENOMEM;
	if (unlink(path) < 0 && errno != ENOENT)
		return snapmgr_error(ctx, negative_errno(),
				     "cannot delete %s: %m", path);
	return 0;
}

int record_list(char ***ret_origins)
{
	_cleanup_free_ char *dir = NULL;
	struct dirent *de;
	char **v;
	size_t n = 0;
	DIR *d;

	if (asprintf(&dir, "%s/origins", state_dir()) < 0)
		return -ENOMEM;
	v = calloc(1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	d = opendir(dir);
	if (!d) { /* nothing was ever made */
		*ret_origins = v;
		return 0;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char **nv;

		if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		nv = realloc(v, (n + 2) * sizeof(char *));
		if (!nv || !(nv[n] = strndup(de->d_name, len - 5))) {
			if (nv)
				v = nv;
			v[n] = NULL;
			strv_free(v);
			closedir(d);
			return -ENOMEM;
		}
		v = nv;
		v[++n] = NULL;
	}
	closedir(d);
	*ret_origins = v;
	return 0;
}

int record_next(struct snapmgr_ctx *ctx, struct record_iter *it)
{
	int r;

	origin_record_free(it->rec);
	it->rec = NULL;
	if (!it->origins) {
		r = record_list(&it->origins);
		if (r < 0)
			return r;
	}
	while (it->origins[it->next])
		if (record_load(ctx, it->origins[it->next++], &it->rec) == 0)
			return 1;
	return 0;
}

void record_iter_done(struct record_iter *it)
{
	origin_record_free(it->rec);
	strv_free(it->origins);
}

int record_load_of(struct snapmgr_ctx *ctx, const char *snap,
		   struct origin_record **ret_rec, struct snap_entry **ret_entry)
{
	_cleanup_(record_iter_done) struct record_iter it = {};
	int r;

	while ((r = record_next(ctx, &it)) > 0) {
		struct snap_entry *entry = record_find_snapshot(it.rec, snap);

		if (entry) {
			if (ret_entry)
				*ret_entry = entry;
			*ret_rec = TAKE_PTR(it.rec);
			return 0;
		}
	}
	return r < 0 ? r : -ENOENT;
}

int record_find_origin_of(struct snapmgr_ctx *ctx, const char *snap,
			  char **ret_origin)
{
	_cleanup_record_ struct origin_record *rec = NULL;
	int r;

	r = record_load_of(ctx, snap, &rec, NULL);
	if (r < 0)
		return r;
	*ret_origin = strdup(rec->name);
	return *ret_origin ? 0 : -ENOMEM;
}
