/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal to libsnapmgr: dm-snapshot's module parameters from sysfs. */
#pragma once

#include <stdbool.h>

/*
 * Reads a bool module parameter file (Y or N). Returns 0, -ENOENT when it
 * does not exist, -EBADMSG when it holds anything else, or another -errno.
 */
int module_param_read_bool(const char *path, bool *ret_value);
