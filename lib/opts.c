/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Option structs that carry their own size (SNAPMGR_OPTS in snapmgr.h): an
 * entry point copies the caller's into a struct of its own size before
 * reading any field, so every later read is of memory that exists and of
 * a field this library knows, whichever libsnapmgr the caller was built
 * against.
 */
#include <string.h>

#include "libsnapmgr-private.h"

/* The size a sized struct begins with; -EINVAL when it was not set up. */
static int sized_struct_size(struct snapmgr_ctx *ctx, const void *theirs,
			     const char *type, const char *macro,
			     size_t *ret_size)
{
	size_t their_size;

	if (!theirs)
		return -EINVAL;
	memcpy(&their_size, theirs, sizeof(their_size));
	if (their_size < sizeof(size_t))
		return snapmgr_error(ctx, -EINVAL,
				     "struct %s has size %zu: set it up with %s()",
				     type, their_size, macro);
	*ret_size = their_size;
	return 0;
}

int opts_take(struct snapmgr_ctx *ctx, void *ours, size_t our_size,
	      const void *theirs, const char *type)
{
	const unsigned char *bytes = theirs;
	size_t their_size = 0;
	int r;

	r = sized_struct_size(ctx, theirs, type, "SNAPMGR_OPTS", &their_size);
	if (r < 0)
		return r;
	for (size_t i = our_size; i < their_size; i++)
		if (bytes[i])
			return snapmgr_error(ctx, -EOPNOTSUPP,
					     "struct %s sets fields this libsnapmgr (%s) does not have",
					     type, snapmgr_version());
	memset(ours, 0, our_size);
	memcpy(ours, theirs, their_size < our_size ? their_size : our_size);
	memcpy(ours, &our_size, sizeof(our_size));
	return 0;
}

/*
 * Result structs (SNAPMGR_RESULT): checked on entry, before any work, so a
 * caller that did not set the size learns it before an export runs for an
 * hour; filled at the end with the bytes both sides know.
 */
int result_check(struct snapmgr_ctx *ctx, const void *theirs, const char *type)
{
	size_t their_size = 0;

	return sized_struct_size(ctx, theirs, type, "SNAPMGR_RESULT", &their_size);
}

void result_give(void *theirs, const void *ours, size_t our_size)
{
	size_t their_size, n;

	memcpy(&their_size, theirs, sizeof(their_size));
	n = their_size < our_size ? their_size : our_size;
	memcpy((unsigned char *)theirs + sizeof(size_t),
	       (const unsigned char *)ours + sizeof(size_t), n - sizeof(size_t));
	memcpy(theirs, &n, sizeof(n));
}
