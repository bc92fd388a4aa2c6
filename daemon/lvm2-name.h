/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/*
 * "VG/LV" from lvm2's dm name "VG-LV", where a '-' inside either name is
 * doubled ("my--vg-lv" is my-vg/lv). -EINVAL for a layer ("VG-LV-cow",
 * "-real") or anything else not of that shape; *ret is malloc'ed.
 */
int lvm2_name(const char *dm_name, char **ret);
