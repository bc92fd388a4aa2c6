/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "macro.h"
#include "protocol.h"

void request_done(struct request *r)
{
	free(r->snapshot);
	r->snapshot = NULL;
}

static void json_tokener_freep(struct json_tokener **tok)
{
	if (*tok)
		json_tokener_free(*tok);
}

/* A JSON string's text, or NULL when it holds a NUL byte (which a C
 * string would cut short: the name asked for is not the one we would use). */
static const char *json_plain_string(json_object *s)
{
	const char *text = json_object_get_string(s);

	return strlen(text) == (size_t)json_object_get_string_len(s) ? text :
								       NULL;
}

int request_parse(const char *line, size_t len, struct request *ret,
		  const char **ret_error)
{
	_cleanup_(json_tokener_freep) struct json_tokener *tok = NULL;
	_cleanup_(json_putp) json_object *o = NULL;
	json_object *m, *snap;
	struct request r = {};
	const char *name;

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
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object)) {
		*ret_error = "not a JSON object";
		return -EINVAL;
	}
	if (!json_object_object_get_ex(o, "method", &m) ||
	    !json_object_is_type(m, json_type_string)) {
		*ret_error = "no \"method\" string";
		return -EINVAL;
	}
	name = json_plain_string(m);
	if (streq(name, "status"))
		r.method = REQUEST_STATUS;
	else if (streq(name, "list"))
		r.method = REQUEST_LIST;
	else if (streq(name, "subscribe"))
		r.method = REQUEST_SUBSCRIBE;
	else {
		*ret_error = "unknown method";
		return -EINVAL;
	}
	if (json_object_object_get_ex(o, "snapshot", &snap) &&
	    !json_object_is_type(snap, json_type_null)) {
		if (r.method != REQUEST_STATUS ||
		    !json_object_is_type(snap, json_type_string)) {
			*ret_error = "\"snapshot\" must be a name, with status";
			return -EINVAL;
		}
		if (!json_plain_string(snap)) {
			*ret_error = "NUL in snapshot name";
			return -EINVAL;
		}
		r.snapshot = strdup(json_plain_string(snap));
		if (!r.snapshot) {
			*ret_error = "out of memory";
			return -ENOMEM;
		}
	}
	*ret = r;
	return 0;
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
