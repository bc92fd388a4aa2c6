/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libsnapmgr: everything snapctl and snapmgrd share.
 *
 * Conventions (as in kmod and systemd): functions that can fail return a
 * negative errno; output parameters are named ret_* and are written only on
 * success; objects are opaque and reference counted, and *_unref() accepts
 * NULL and returns NULL. The library never prints: messages go to the log
 * function the caller sets with snapmgr_set_log_fn().
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct snapmgr_ctx;

/* Library version, e.g. "0.1.0". */
const char *snapmgr_version(void);

int snapmgr_new(struct snapmgr_ctx **ret_ctx);
struct snapmgr_ctx *snapmgr_ref(struct snapmgr_ctx *ctx);
struct snapmgr_ctx *snapmgr_unref(struct snapmgr_ctx *ctx);

/*
 * Log messages are delivered with a syslog priority (LOG_ERR..LOG_DEBUG).
 * Messages above the threshold set by snapmgr_set_log_priority() are dropped
 * before formatting. The default threshold is LOG_ERR; the default function
 * discards everything, because a library must not write to stderr on its own.
 */
typedef void (*snapmgr_log_fn)(void *data, int priority, const char *file,
			       int line, const char *fn, const char *format,
			       va_list args);
void snapmgr_set_log_fn(struct snapmgr_ctx *ctx, snapmgr_log_fn fn,
			void *data);
int snapmgr_get_log_priority(const struct snapmgr_ctx *ctx);
void snapmgr_set_log_priority(struct snapmgr_ctx *ctx, int priority);

#ifdef __cplusplus
}
#endif
