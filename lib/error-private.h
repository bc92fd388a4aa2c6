/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The library's error contract (internal to libsnapmgr, never installed):
 *
 * - A function that fails returns a negative errno and, through
 *   snapmgr_error(), leaves one line in the context saying why.
 * - Every public entry point that takes a context starts with
 *   SNAPMGR_ENTRY(ctx), so snapmgr_get_error() never shows an earlier
 *   call's reason beside this call's errno: after a call that succeeded it
 *   is NULL, after one that failed it is that failure's own message.
 */
#pragma once

#include "libsnapmgr-private.h"

/*
 * First statement of a public entry point. ctx may be NULL: the entry
 * point's own argument check reports that (-EINVAL).
 */
#define SNAPMGR_ENTRY(ctx) snapmgr_clear_error(ctx)
