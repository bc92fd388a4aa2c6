/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal to libsnapmgr: never installed, never included by cli/ or daemon/. */
#pragma once

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <syslog.h>

#include "macro.h"
#include "snapmgr.h"

void snapmgr_log(struct snapmgr_ctx *ctx, int priority, const char *file,
		 int line, const char *fn, const char *format, ...)
	_printf_(6, 7);

/* Formatting is skipped entirely when the priority is filtered out. */
#define snapmgr_log_cond(ctx, prio, ...)                                       \
	do {                                                                   \
		struct snapmgr_ctx *_c_ = (ctx);                               \
		if (_c_ && snapmgr_get_log_priority(_c_) >= (prio))            \
			snapmgr_log(_c_, prio, __FILE__, __LINE__, __func__,   \
				    __VA_ARGS__);                              \
	} while (0)

#define log_debug(ctx, ...) snapmgr_log_cond(ctx, LOG_DEBUG, __VA_ARGS__)
#define log_info(ctx, ...) snapmgr_log_cond(ctx, LOG_INFO, __VA_ARGS__)
#define log_notice(ctx, ...) snapmgr_log_cond(ctx, LOG_NOTICE, __VA_ARGS__)
#define log_warning(ctx, ...) snapmgr_log_cond(ctx, LOG_WARNING, __VA_ARGS__)
#define log_err(ctx, ...) snapmgr_log_cond(ctx, LOG_ERR, __VA_ARGS__)

/*
 * Records why an operation failed, for snapmgr_get_error(), and returns r
 * (a negative errno) so callers can write: return snapmgr_error(ctx, -EBUSY,
 * "in use"). The message is one line, without the object's name.
 */
int snapmgr_error(struct snapmgr_ctx *ctx, int r, const char *format, ...)
	_printf_(3, 4);

/*
 * The caller's option struct (its size first: SNAPMGR_OPTS) into ours of
 * our_size bytes: what both know copied, the rest of ours zero, our size
 * set. -EINVAL for a size of 0, -EOPNOTSUPP for set bytes beyond ours;
 * type names the struct in the message.
 */
int opts_take(struct snapmgr_ctx *ctx, void *ours, size_t our_size,
	      const void *theirs, const char *type);
/*
 * The caller's result struct (its size first: SNAPMGR_RESULT): -EINVAL,
 * with a message naming type, when the size is not set up; call it on
 * entry. result_give() then writes ours (of our_size bytes) into theirs as
 * far as both know, and sets their size to what it wrote; only after a
 * successful result_check().
 */
int result_check(struct snapmgr_ctx *ctx, const void *theirs, const char *type);
void result_give(void *theirs, const void *ours, size_t our_size);

/* A byte range of a device: changed extents, workload writes. */
struct snapmgr_range {
	uint64_t offset;
	uint64_t length;
};

/*
 * The public "get the index-th range" accessors: -ENOENT past the end, and
 * either output may be NULL.
 */
static inline int range_at(const struct snapmgr_range *ranges, size_t n,
			   uint64_t index, uint64_t *ret_offset,
			   uint64_t *ret_length)
{
	if (index >= n)
		return -ENOENT;
	if (ret_offset)
		*ret_offset = ranges[index].offset;
	if (ret_length)
		*ret_length = ranges[index].length;
	return 0;
}
