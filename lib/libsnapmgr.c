/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The library context: reference counting and the caller's log function. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dm.h"
#include "error-private.h"

struct snapmgr_ctx {
	int refcount;
	int log_priority;
	snapmgr_log_fn log_fn;
	void *log_data;
	char error[512];
};

_public_ const char *snapmgr_version(void)
{
	return PROJECT_VERSION;
}

_public_ int snapmgr_new(struct snapmgr_ctx **ret_ctx)
{
	struct snapmgr_ctx *ctx;

	if (!ret_ctx)
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->refcount = 1;
	ctx->log_priority = LOG_ERR;
	*ret_ctx = ctx;
	return 0;
}

_public_ struct snapmgr_ctx *snapmgr_ref(struct snapmgr_ctx *ctx)
{
	if (ctx)
		ctx->refcount++;
	return ctx;
}

_public_ struct snapmgr_ctx *snapmgr_unref(struct snapmgr_ctx *ctx)
{
	if (!ctx || --ctx->refcount > 0)
		return NULL;
	/*
	 * libdevmapper's log hook is process-wide and points at the context
	 * that last called into device-mapper, maybe this one: detach it
	 * before the memory goes, or libdm's next message would be delivered
	 * through a freed context. Only if it is this one: another live
	 * context keeps it.
	 */
	smdm_forget(ctx);
	free(ctx);
	return NULL;
}

_public_ void snapmgr_set_log_fn(struct snapmgr_ctx *ctx, snapmgr_log_fn fn,
				 void *data)
{
	if (!ctx)
		return;
	ctx->log_fn = fn;
	ctx->log_data = data;
}

_public_ int snapmgr_get_log_priority(const struct snapmgr_ctx *ctx)
{
	return ctx ? ctx->log_priority : LOG_ERR;
}

_public_ void snapmgr_set_log_priority(struct snapmgr_ctx *ctx, int priority)
{
	if (ctx)
		ctx->log_priority = priority;
}

void snapmgr_log(struct snapmgr_ctx *ctx, int priority, const char *file,
		 int line, const char *fn, const char *format, ...)
{
	va_list args;

	if (!ctx || !ctx->log_fn)
		return;
	va_start(args, format);
	ctx->log_fn(ctx->log_data, priority, file, line, fn, format, args);
	va_end(args);
}

int snapmgr_error(struct snapmgr_ctx *ctx, int r, const char *format, ...)
{
	char buf[sizeof(ctx->error)];
	va_list args;

	/* Internal callers without a context still get their errno back. */
	if (!ctx)
		return r;
	/*
	 * Formatted aside first: the arguments may be the context's own
	 * message ("%s: %s", what, snapmgr_get_error(ctx)), and vsnprintf()
	 * into a buffer it also reads from is undefined.
	 */
	va_start(args, format);
	vsnprintf(buf, sizeof(buf), format, args);
	va_end(args);
	memcpy(ctx->error, buf, sizeof(buf));
	log_debug(ctx, "error: %s", ctx->error);
	return r;
}

_public_ const char *snapmgr_get_error(const struct snapmgr_ctx *ctx)
{
	return ctx && ctx->error[0] ? ctx->error : NULL;
}

_public_ void snapmgr_clear_error(struct snapmgr_ctx *ctx)
{
	if (ctx)
		ctx->error[0] = '\0';
}
