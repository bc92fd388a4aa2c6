/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The status socket's protocol (docs/socket.md): one JSON object per line
 * each way. Parsing is pure and unit-tested (tests/unit/test-protocol.c).
 */
#pragma once

#include <stddef.h>

struct json_object;

/* Longest request line accepted, newline excluded. */
#define REQUEST_MAX 4096

enum request_method {
	REQUEST_STATUS,    /* {"method":"status"[,"snapshot":NAME]} */
	REQUEST_LIST,      /* {"method":"list"}: names, states, fill */
	REQUEST_SUBSCRIBE, /* {"method":"subscribe"}: then events, one a line */
};

struct request {
	enum request_method method;
	char *snapshot; /* status of one snapshot; NULL for all */
};

/*
 * Parses one request line (len bytes, no newline). On error returns
 * -EINVAL with *ret_error a constant message for the error reply.
 */
int request_parse(const char *line, size_t len, struct request *ret,
		  const char **ret_error);
void request_done(struct request *r);

/* {"ok":false,"error":MSG} */
struct json_object *reply_error(const char *msg);
/* {"ok":true} */
struct json_object *reply_ok(void);
