/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Change tokens: what a backup keeps to ask, next time, what changed
 * since. A token names the tracking it belongs to (its id, new at every
 * `snapctl track`) and the first era whose writes are not in the backup.
 * Names of snapshots and origins cannot hold ':', so a token is never
 * mistaken for one.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "era.h"

#define TOKEN_PREFIX "era1:"

void token_format(const char *tracking_id, uint32_t era, char buf[TOKEN_MAX])
{
	snprintf(buf, TOKEN_MAX, TOKEN_PREFIX "%s:%" PRIu32, tracking_id, era);
}

bool token_looks_like(const char *s)
{
	return s && strchr(s, ':');
}

int token_parse(const char *s, char ret_id[33], uint32_t *ret_era)
{
	const char *id, *colon;
	unsigned long long era;
	char *end;

	if (!s || strncmp(s, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0)
		return -EINVAL;
	id = s + strlen(TOKEN_PREFIX);
	colon = strchr(id, ':');
	if (!colon || colon - id != 32)
		return -EINVAL;
	for (const char *p = id; p < colon; p++)
		if (!strchr("0123456789abcdef", *p))
			return -EINVAL;
	if (colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	errno = 0;
	era = strtoull(colon + 1, &end, 10);
	if (errno || *end || era > UINT32_MAX)
		return -EINVAL;
	memcpy(ret_id, id, 32);
	ret_id[32] = '\0';
	*ret_era = (uint32_t)era;
	return 0;
}
