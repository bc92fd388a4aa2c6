/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal: a file we create behind a loop device (lib/backing-file.c),
 * for a snapshot's COW (lib/stack.c) or an origin's era metadata
 * (lib/track.c). what names it in messages: "COW", "era metadata".
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "libsnapmgr-private.h"

/*
 * The absolute path of file, which must not exist yet but whose directory
 * must: the record keeps it, and a later run may have another working
 * directory. hint ends the "already exists" message: what to do instead.
 */
int backing_file_absolute(struct snapmgr_ctx *ctx, const char *what, const char *file,
			  const char *hint, char **ret);
/*
 * Creates file with size bytes unless it exists, attaches it to a loop
 * device unless one is backed by it, and sets *device to that device; a
 * fault point of op after each step taken.
 */
int backing_file_prepare(struct snapmgr_ctx *ctx, const char *what, const char *file,
			 uint64_t size, const char *op, int *fp, char **device);
/* Attaches file unless attached and sets *device (activate: no fault points). */
int backing_file_attach(struct snapmgr_ctx *ctx, const char *file, char **device);
/*
 * Detaches file's loop device and deletes file if we created it; a fault
 * point of op between the two.
 */
int backing_file_release(struct snapmgr_ctx *ctx, const char *what, const char *file,
			 bool created, const char *op, int *fp);
