/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal: running another project's tool (lib/tool.c). */
#pragma once

#include <stddef.h>

#include "libsnapmgr-private.h"

/*
 * Runs argv (found in PATH) with stdin from /dev/null; 0 when it exits
 * with a status up to max_ok. ret_out NULL: its stdout and stderr are
 * kept together for the error. Otherwise *ret_out gets all of stdout
 * (NUL-terminated, free() it; at most max_out bytes, -E2BIG beyond) and
 * stderr alone is kept for the error. Failing, the one-line error names
 * the tool and says what it said last; a tool that is not installed is
 * -ENOENT, "TOOL not found (install PACKAGE)" when package is known.
 */
int tool_run(struct snapmgr_ctx *ctx, char *const argv[], int max_ok,
	     const char *package, char **ret_out, size_t max_out);
