/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

struct metrics {
	sd_event *ev;
	struct MHD_Daemon *mhd;
	sd_event_source *io, *timer;
	metrics_render_fn render;
	void *userdata;
};

void metrics_label(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*v, f);
	}
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn,
			      const char *url, const char *method,
			      const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct metrics *m = cls;
	struct MHD_Response *resp;
	char *buf = NULL;
	size_t len = 0;
	enum MHD_Result ret;
	FILE *f;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		static char msg[] = "only GET\n";

		resp = MHD_create_response_from_buffer(strlen(msg), msg,
						       MHD_RESPMEM_PERSISTENT);
		ret = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
		MHD_destroy_response(resp);
		return ret;
	}
	f = open_memstream(&buf, &len);
	if (!f)
		return MHD_NO;
	m->render(m->userdata, f);
	if (fclose(f) != 0) {
		free(buf);
		return MHD_NO;
	}
	resp = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type",
				"text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void rearm(struct metrics *m)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (MHD_get_timeout(m->mhd, &ms) == MHD_YES) {
		sd_event_source_set_time_relative(m->timer, ms * 1000);
		sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
	} else {
		sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct metrics *m = userdata;

	MHD_run(m->mhd);
	rearm(m);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct metrics *m = userdata;

	MHD_run(m->mhd);
	rearm(m);
	return 0;
}

int metrics_start(sd_event *ev, const char *host, uint16_t port,
		  metrics_render_fn render, void *userdata,
		  struct metrics **ret)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	const union MHD_DaemonInfo *info;
	struct metrics *m;
	char portstr[8];
	unsigned flags = MHD_USE_EPOLL;
	int r;

	snprintf(portstr, sizeof(portstr), "%u", port);
	r = getaddrinfo(host, portstr, &hints, &ai);
	if (r != 0)
		return -EINVAL;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m = calloc(1, sizeof(*m));
	if (!m) {
		freeaddrinfo(ai);
		return -ENOMEM;
	}
	m->ev = ev;
	m->render = render;
	m->userdata = userdata;
	m->mhd = MHD_start_daemon(flags, port, NULL, NULL, handle, m,
				  MHD_OPTION_SOCK_ADDR, ai->ai_addr,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
				  MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!m->mhd) {
		free(m);
		return -EADDRNOTAVAIL;
	}
	info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info ||
	    sd_event_add_io(ev, &m->io, info->epoll_fd, EPOLLIN, on_io, m) < 0 ||
	    sd_event_add_time_relative(ev, &m->timer, CLOCK_MONOTONIC, 0, 1000,
				       on_timer, m) < 0) {
		metrics_stop(m);
		return -EIO;
	}
	sd_event_source_set_description(m->io, "metrics");
	sd_event_source_set_description(m->timer, "metrics-timeout");
	rearm(m);
	*ret = m;
	return 0;
}

struct metrics *metrics_stop(struct metrics *m)
{
	if (!m)
		return NULL;
	sd_event_source_disable_unref(m->io);
	sd_event_source_disable_unref(m->timer);
	if (m->mhd)
		MHD_stop_daemon(m->mhd);
	free(m);
	return NULL;
}
