// SPDX-License-Identifier: GPL-2.0-only
/*
 * Marks the module as snapmgr's build of dm-snapshot, so `modinfo` and
 * /sys/module/dm_snapshot/ tell it apart from the distribution's, which
 * has no version at all.  The targets' own versions carry the snapmgr
 * interface revision (see DM_SNAPMGR_PATCHLEVEL in dm-snap.c).
 */
#include <linux/module.h>

MODULE_VERSION(SNAPMGR_VERSION);
MODULE_INFO(snapmgr_version, SNAPMGR_VERSION);
