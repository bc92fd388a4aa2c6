/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

void request_done(struct request *r)
{
	free(r->snapshot);
	r->snapshot = NULL;
}

int request_parse(const char *line, size_t len, struct request *ret,
		  const char **ret_error)
{
	struct json_tokener *tok;
	json_object *o, *m, *snap;
	struct request r = {};
	const char *name;
	int e = -EINVAL;

	if (len > REQUEST_MAX) {
		*ret_error = "request too long";
		return -EINVAL;
	}
	if (len == 0 || memchr(line, '\0', len)) {
		*ret_error = len ? "NUL byte in request" : "empty request";
		return -EINVAL;
	}
	tok = json_tokener_new_ex(8); /* requests are flat */
	if (!tok) {
		*ret_error = "out of memory";
		return -ENOMEM;
	}
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		*ret_error = "not a JSON object";
		goto out;
	}
	if (!json_object_is_type(o, json_type_object)) {
		*ret_error = "not a JSON object";
		goto out;
	}
	if (!json_object_object_get_ex(o, "method", &m) ||
	    !json_object_is_type(m, json_type_string)) {
		*ret_error = "no \"method\" string";
		goto out;
	}
	name = json_object_get_string(m);
	if (strlen(name) != (size_t)json_object_get_string_len(m)) {
		*ret_error = "unknown method";
		goto out;
	}
	if (strcmp(name, "status") == 0)
		r.method = REQUEST_STATUS;
	else if (strcmp(name, "list") == 0)
		r.method = REQUEST_LIST;
	else if (strcmp(name, "subscribe") == 0)
		r.method = REQUEST_SUBSCRIBE;
	else {
		*ret_error = "unknown method";
		goto out;
	}
	if (json_object_object_get_ex(o, "snapshot", &snap) &&
	    !json_object_is_type(snap, json_type_null)) {
		if (r.method != REQUEST_STATUS ||
		    !json_object_is_type(snap, json_type_string)) {
			*ret_error = "\"snapshot\" must be a name, with status";
			goto out;
		}
		if (strlen(json_object_get_string(snap)) !=
		    (size_t)json_object_get_string_len(snap)) {
			*ret_error = "NUL in snapshot name";
			goto out;
		}
		r.snapshot = strdup(json_object_get_string(snap));
		if (!r.snapshot) {
			*ret_error = "out of memory";
			e = -ENOMEM;
			goto out;
		}
	}
	*ret = r;
	e = 0;
out:
	json_object_put(o);
	json_tokener_free(tok);
	return e;
}

struct json_object *reply_error(const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

struct json_object *reply_ok(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	return o;
}
