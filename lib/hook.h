/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal: the pre- and post-hooks of snapshot sets (lib/hook.c). */
#pragma once

#include "libsnapmgr-private.h"

#define HOOK_TIMEOUT_DEFAULT 60

/*
 * Runs `sh -c cmd` with SNAPMGR_SET=set and SNAPMGR_HOOK=what, stdin from
 * /dev/null, and waits at most timeout seconds (0: the default). 0 when it
 * exited 0; else -ECHILD with a one-line message: its exit status, the
 * signal that ended it, or that it timed out (then its whole process
 * group is killed).
 */
int hook_run(struct snapmgr_ctx *ctx, const char *what, const char *cmd,
	     const char *set, unsigned timeout);
