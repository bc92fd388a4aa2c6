/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsing sizes given on a command line or in a configuration file:
 * "4096", "64M", "16MiB", "1G". Suffixes are powers of 1024.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "libsnapmgr-private.h"

static const struct {
	char letter;
	unsigned int shift;
} units[] = {
	{ 'K', 10 },
	{ 'M', 20 },
	{ 'G', 30 },
	{ 'T', 40 },
};

_public_ int snapmgr_parse_size(const char *s, uint64_t *ret_bytes)
{
	uint64_t value = 0;
	unsigned int shift = 0;
	const char *p;

	if (!s || !ret_bytes)
		return -EINVAL;

	/* Digits only: no sign, no blanks, no hex or octal prefixes. */
	for (p = s; *p >= '0' && *p <= '9'; p++) {
		if (__builtin_mul_overflow(value, 10, &value) ||
		    __builtin_add_overflow(value, (uint64_t)(*p - '0'),
					   &value))
			return -ERANGE;
	}
	if (p == s)
		return -EINVAL;

	if (*p) {
		size_t i;

		for (i = 0; i < ELEMENTSOF(units); i++)
			if (*p == units[i].letter ||
			    *p == units[i].letter - 'A' + 'a')
				break;
		if (i == ELEMENTSOF(units))
			return -EINVAL;
		shift = units[i].shift;
		p++;
		/* "K" and "KiB" mean the same; "KB" is ambiguous: refused. */
		if (*p && !streq(p, "iB"))
			return -EINVAL;
	}

	if (shift && value > (UINT64_MAX >> shift))
		return -ERANGE;

	*ret_bytes = value << shift;
	return 0;
}
