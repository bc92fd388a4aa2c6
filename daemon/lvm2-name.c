/* SPDX-License-Identifier: GPL-2.0-or-later */
/* lvm2's dm names back to VG/LV: pure, unit-tested in tests/unit/test-predict.c. */
#include <errno.h>
#include <stdio.h>

#include "lvm2-name.h"

int lvm2_name(const char *dm_name, char **ret)
{
	char vg[256], lv[256];
	size_t i, o = 0;
	const char *p = dm_name;

	for (i = 0; p[i]; i++) {
		if (p[i] == '-' && p[i + 1] == '-') {
			if (o + 1 >= sizeof(vg))
				return -EINVAL;
			vg[o++] = '-';
			i++;
			continue;
		}
		if (p[i] == '-')
			break;
		if (o + 1 >= sizeof(vg))
			return -EINVAL;
		vg[o++] = p[i];
	}
	if (p[i] != '-' || o == 0)
		return -EINVAL;
	vg[o] = '\0';
	p += i + 1;
	for (i = 0, o = 0; p[i]; i++) {
		if (p[i] == '-' && p[i + 1] == '-')
			i++;
		else if (p[i] == '-')
			return -EINVAL; /* a layer ("-cow", "-real") */
		if (o + 1 >= sizeof(lv))
			return -EINVAL;
		lv[o++] = p[i];
	}
	if (o == 0)
		return -EINVAL;
	lv[o] = '\0';
	if (asprintf(ret, "%s/%s", vg, lv) < 0)
		return -ENOMEM;
	return 0;
}
