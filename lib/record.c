/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Records of our stacks, one atomic JSON file per origin. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "dm.h"
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

static int record_path(const char *origin, char **ret)
{
	return asprintf(ret, "%s/origins/%s.json", state_dir(), origin) < 0 ?
		       -ENOMEM : 0;
}

const char *json_get_string(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int record_load(struct snapmgr_ctx *ctx, const char *origin, json_object **ret)
{
	_cleanup_free_ char *path = NULL;
	json_object *o;

	if (record_path(origin, &path) < 0)
		return -ENOMEM;
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? -ENOENT : negative_errno();
	o = json_object_from_file(path);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return snapmgr_error(ctx, -EBADMSG, "record %s is damaged", path);
	}
	*ret = o;
	return 0;
}

int record_save(struct snapmgr_ctx *ctx, const char *origin, json_object *rec)
{
	_cleanup_free_ char *path = NULL, *tmp = NULL, *dir = NULL;
	_cleanup_close_ int fd = -1, dfd = -1;
	const char *text;
	size_t len;
	int r;

	if (asprintf(&dir, "%s/origins", state_dir()) < 0 ||
	    record_path(origin, &path) < 0 ||
	    asprintf(&tmp, "%s.tmp", path) < 0)
		return -ENOMEM;
	r = mkdir_p(dir);
	if (r < 0)
		return snapmgr_error(ctx, r, "cannot create %s: %s", dir,
				     strerror(-r));
	text = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE);
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

json_object *record_find_snapshot(json_object *rec, const char *snap,
				  size_t *ret_index)
{
	json_object *arr;

	if (!json_object_object_get_ex(rec, "snapshots", &arr))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);

		if (streq(json_get_string(e, "name"), snap)) {
			if (ret_index)
				*ret_index = i;
			return e;
		}
	}
	return NULL;
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

int record_find_origin_of(struct snapmgr_ctx *ctx, const char *snap,
			  char **ret_origin)
{
	char **origins = NULL;
	int r;

	r = record_list(&origins);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (char **o = origins; r == -ENOENT && *o; o++) {
		json_object *rec = NULL;

		if (record_load(ctx, *o, &rec) < 0)
			continue;
		if (record_find_snapshot(rec, snap, NULL)) {
			*ret_origin = strdup(*o);
			r = *ret_origin ? 0 : -ENOMEM;
		}
		json_object_put(rec);
	}
	strv_free(origins);
	return r;
}
