/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness for the persistent exception store reader: the input is
 * the COW device. Every getter, the exception iterator and the findings are
 * walked, so that ASan/UBSan see all of it. tests/fuzz/run-fuzz runs it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libsnapmgr-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t sink;

static void walk(const struct snapmgr_cow_store *s)
{
	enum snapmgr_cow_finding kind;
	enum snapmgr_severity sev;
	const char *msg;
	uint64_t o, n, i;

	sink += snapmgr_cow_store_get_size(s);
	sink += snapmgr_cow_store_get_magic(s);
	sink += snapmgr_cow_store_get_valid(s);
	sink += snapmgr_cow_store_get_version(s);
	sink += snapmgr_cow_store_get_chunk_sectors(s);
	sink += snapmgr_cow_store_get_exceptions_per_area(s);
	sink += snapmgr_cow_store_get_metadata_areas(s);
	sink += snapmgr_cow_store_get_used_sectors(s);
	sink += snapmgr_cow_store_get_metadata_sectors(s);
	sink += snapmgr_cow_store_get_hole_chunks(s);
	sink += (uint64_t)snapmgr_cow_store_get_worst_severity(s);
	sink += snapmgr_cow_store_is_consistent(s);

	for (i = 0; snapmgr_cow_store_get_exception(s, i, &o, &n) == 0; i++)
		sink += o ^ n;
	if (i != snapmgr_cow_store_get_exception_count(s))
		abort();

	for (size_t k = 0;
	     snapmgr_cow_store_get_finding(s, k, &kind, &sev, &msg) == 0;
	     k++) {
		if (!snapmgr_cow_finding_to_string(kind) ||
		    !snapmgr_severity_to_string(sev) || !msg)
			abort();
		sink += strlen(msg);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct snapmgr_ctx *ctx;
	struct snapmgr_cow_store *s = NULL;
	/* An origin as large as the COW, then none: both paths. */
	const uint64_t origins[] = { size, 0 };

	if (!ctx && snapmgr_new(&ctx) < 0)
		abort();

	for (size_t i = 0; i < ELEMENTSOF(origins); i++) {
		int r = snapmgr_cow_store_new_from_buffer(ctx, data, size,
							  origins[i], &s);

		if (r < 0) {
			/* Only running out of memory may fail on a buffer. */
			if (r != -ENOMEM && r != -E2BIG)
				abort();
			continue;
		}
		walk(s);
		s = snapmgr_cow_store_unref(s);
	}
	return 0;
}
