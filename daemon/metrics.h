/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Prometheus exposition over HTTP (libmicrohttpd), driven from the sd-event
 * loop: MHD's epoll fd is one more io source, its timeout one more timer.
 * GET /metrics (any path) returns what render() writes; nothing else runs
 * in MHD's callbacks, so the loop never waits on a client.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <systemd/sd-event.h>

struct metrics;

/* Writes the exposition text to f. */
typedef void (*metrics_render_fn)(void *userdata, FILE *f);

int metrics_start(sd_event *ev, const char *host, uint16_t port,
		  metrics_render_fn render, void *userdata,
		  struct metrics **ret);
struct metrics *metrics_stop(struct metrics *m);

/* A label value escaped for the exposition format (\\, \", \n). */
void metrics_label(FILE *f, const char *value);
