/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal to libsnapmgr: the workload object and helpers for advise.c. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "libsnapmgr-private.h"

struct snapmgr_workload {
	int refcount;
	enum snapmgr_workload_source source;
	char *note;
	double seconds;
	struct snapmgr_range *writes;
	size_t n, allocated;
	uint64_t bytes;
};

int workload_set_note(struct snapmgr_workload *w, const char *note);
uint64_t workload_alignment(uint64_t offset);
uint64_t workload_next_random(uint64_t *state);
/* count writes of size bytes at pseudo-random size-aligned offsets < span. */
int workload_fill_random(struct snapmgr_workload *w, uint64_t count,
			 uint64_t size, uint64_t span);
int workload_parse_blkparse_line(const char *line, char *ret_action,
				 uint64_t *ret_devnum, uint64_t *ret_sector,
				 uint64_t *ret_sectors);
int workload_parse_tracefs_line(const char *line, uint64_t *ret_sector,
				uint64_t *ret_sectors);

/* advise.c: block size and RAID geometry from an ext2/3/4 superblock. */
int advise_parse_ext_superblock(const uint8_t *sb, size_t len,
				struct snapmgr_device_facts *facts);
