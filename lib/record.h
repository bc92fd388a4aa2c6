/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What is needed to re-assemble our stacks after a reboot: one JSON file per
 * origin under the state directory (default /var/lib/snapmgr, or
 * $SNAPMGR_STATE_DIR), written atomically (write, fsync, rename, fsync the
 * directory). The dm tables are the truth when the two disagree.
 */
#pragma once

#include <json-c/json.h>

#include "libsnapmgr-private.h"

const char *state_dir(void);
/* -ENOENT when there is no record for that origin. */
int record_load(struct snapmgr_ctx *ctx, const char *origin,
		json_object **ret);
int record_save(struct snapmgr_ctx *ctx, const char *origin, json_object *rec);
int record_delete(struct snapmgr_ctx *ctx, const char *origin);
/* The snapshot entry named snap in rec's "snapshots", or NULL. */
json_object *record_find_snapshot(json_object *rec, const char *snap,
				  size_t *ret_index);
/* The names of all origins with a record (NULL-terminated; strv_free). */
int record_list(char ***ret_origins);
/* Finds the origin whose record lists snap; -ENOENT if none. */
int record_find_origin_of(struct snapmgr_ctx *ctx, const char *snap,
			  char **ret_origin);
const char *json_get_string(json_object *o, const char *key);
