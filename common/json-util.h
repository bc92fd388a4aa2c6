/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * json-c's conventions, once for lib/, cli/ and daemon/: a constructor
 * returns NULL and an adder fails only without memory, and the value
 * handed to a failed adder is still the caller's to put.
 */
#pragma once

#include <errno.h>
#include <json-c/json.h>

static inline void json_putp(struct json_object **o)
{
	json_object_put(*o);
}

/* Adds val under key; val NULL is a constructor that failed: -ENOMEM. */
static inline int json_add(struct json_object *obj, const char *key, struct json_object *val)
{
	if (!val || json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

/* The same, but val NULL is JSON null (a value there is none of). */
static inline int json_add_nullable(struct json_object *obj, const char *key,
				    struct json_object *val)
{
	if (json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}

/* Appends val to the array arr; val NULL: -ENOMEM. */
static inline int json_append(struct json_object *arr, struct json_object *val)
{
	if (!val || json_object_array_add(arr, val) < 0) {
		json_object_put(val);
		return -ENOMEM;
	}
	return 0;
}
