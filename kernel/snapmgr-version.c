// SPDX-License-Identifier: GPL-2.0-only
/*
 * Marks the module as snapmgr's build of dm-snapshot, so `modinfo` and
 * /sys/module/dm_snapshot/ tell it apart from the distribution's.
 */
#include <linux/module.h>

MODULE_INFO(snapmgr_version, SNAPMGR_VERSION);
