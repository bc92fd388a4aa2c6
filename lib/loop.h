/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loop devices for COW files. */
#pragma once

#include "libsnapmgr-private.h"

/*
 * Attaches file to a free loop device, read-write, autoclear off (the COW
 * must outlive us), and returns "/dev/loopN".
 */
int loop_attach(struct snapmgr_ctx *ctx, const char *file, char **ret_dev);
/* The loop device already backed by file, or -ENOENT. */
int loop_find(const char *file, char **ret_dev);
int loop_detach(struct snapmgr_ctx *ctx, const char *dev);
