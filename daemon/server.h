/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The status socket: accepts connections on a listening Unix socket, checks
 * each peer (SO_PEERCRED), reads one request per line and queues one reply
 * per line. Never blocks: reads and writes are non-blocking, a line longer
 * than REQUEST_MAX is answered with an error and skipped, a client whose
 * unsent output passes SERVER_OUTPUT_MAX is dropped.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "protocol.h"

#define SERVER_OUTPUT_MAX (8U << 20)
#define SERVER_CLIENTS_MAX 256

struct server;
struct json_object;

/* Returns the reply (owned by the server afterwards), NULL for none. */
typedef struct json_object *(*server_request_fn)(void *userdata,
						 const struct request *req);

/* allowed_gid: peers in this group may connect (besides root and our uid);
 * (gid_t)-1 for none. */
int server_new(sd_event *ev, int listen_fd, gid_t allowed_gid,
	       server_request_fn fn, void *userdata, struct server **ret);
struct server *server_free(struct server *s);
/* Sends event (not consumed) to every subscribed client. */
void server_broadcast(struct server *s, struct json_object *event);
unsigned server_client_count(const struct server *s);
