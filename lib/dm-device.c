/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* struct smdm_device (lib/dm.h), whichever backend filled it in. */
#include <stdlib.h>

#include "dm.h"

void smdm_device_free(struct smdm_device *dev)
{
	if (!dev)
		return;
	free(dev->name);
	free(dev->uuid);
	free(dev->target_type);
	free(dev->params);
	free(dev);
}
