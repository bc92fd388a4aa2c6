/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Parsers for dm table lines (status lines go through libdevmapper). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "snapmgr.h"

/* "major:minor" */
int parse_devnum(const char *s, dev_t *ret);
/* A "snapshot" or "snapshot-merge" table: <origin> <cow> <P|PO|N> <chunk>. */
int parse_snapshot_table(const char *params, dev_t *ret_origin, dev_t *ret_cow,
			 bool *ret_persistent, uint32_t *ret_chunk);
enum snapmgr_owner snapmgr_owner_from_uuid(const char *uuid);
