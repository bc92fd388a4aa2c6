/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "macro.h"
#include "server.h"

struct client {
	struct server *server;
	struct client *next;
	int fd;
	sd_event_source *src;
	char in[REQUEST_MAX + 1];
	size_t in_len;
	bool discarding; /* inside a line that was too long */
	bool read_closed;
	bool subscribed;
	char *out;
	size_t out_len, out_off, out_cap;
};

struct server {
	sd_event *ev;
	int fd;
	sd_event_source *src;
	gid_t allowed_gid;
	server_request_fn fn;
	void *userdata;
	struct client *clients;
	unsigned n_clients;
};

static void client_free(struct client *c)
{
	struct client **p;

	for (p = &c->server->clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	c->server->n_clients--;
	sd_event_source_disable_unref(c->src);
	close(c->fd);
	free(c->out);
	free(c);
}

static void client_update_events(struct client *c)
{
	uint32_t ev = c->read_closed ? 0 : EPOLLIN;

	if (c->out_len > c->out_off)
		ev |= EPOLLOUT;
	sd_event_source_set_io_events(c->src, ev);
}

/* Queues one line; false when the client must be dropped. */
static bool client_queue(struct client *c, const char *s, size_t len)
{
	size_t need;

	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	need = c->out_len + len + 1;
	if (need - c->out_off > SERVER_OUTPUT_MAX)
		return false; /* a slow reader: it will not stall us */
	if (need > c->out_cap && c->out_off > 0 && c->out_off >= c->out_cap / 2) {
		/*
		 * Drop what was sent rather than grow: the limit above counts
		 * unsent bytes only, so a reader that never quite catches up
		 * would otherwise make us keep all it ever received.
		 */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		need -= c->out_off;
		c->out_off = 0;
	}
	if (need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		char *n;

		while (cap < need)
			cap *= 2;
		n = realloc(c->out, cap);
		if (!n)
			return false;
		c->out = n;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, len);
	c->out[c->out_len + len] = '\n';
	c->out_len += len + 1;
	return true;
}

static bool client_queue_json(struct client *c, json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							    JSON_C_TO_STRING_NOSLASHESCAPE);

	return client_queue(c, s, strlen(s));
}

/* Writes what it can; false when the client is gone. */
static bool client_flush(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			return false;
		}
		c->out_off += (size_t)n;
	}
	return true;
}

static bool handle_line(struct client *c, const char *line, size_t len)
{
	struct request req;
	const char *err = NULL;
	json_object *reply;
	bool ok;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return true; /* blank lines are ignored */
	if (request_parse(line, len, &req, &err) < 0) {
		reply = reply_error(err);
	} else {
		if (req.method == REQUEST_SUBSCRIBE) {
			c->subscribed = true;
			reply = reply_ok();
			json_object_object_add(reply, "subscribed",
					       json_object_new_boolean(1));
		} else {
			reply = c->server->fn(c->server->userdata, &req);
			if (!reply)
				reply = reply_error("internal error");
		}
		request_done(&req);
	}
	ok = client_queue_json(c, reply);
	json_object_put(reply);
	return ok;
}

/* Splits what was read into lines; false to drop the client. */
static bool client_process(struct client *c)
{
	size_t start = 0;

	for (size_t i = 0; i < c->in_len; i++) {
		if (c->in[i] != '\n')
			continue;
		if (c->discarding)
			c->discarding = false;
		else if (!handle_line(c, c->in + start, i - start))
			return false;
		start = i + 1;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	if (c->in_len > REQUEST_MAX) {
		/* No newline in sight: answer once, skip to the next one. */
		if (!c->discarding) {
			json_object *r = reply_error("request too long");
			bool ok = client_queue_json(c, r);

			json_object_put(r);
			if (!ok)
				return false;
		}
		c->discarding = true;
		c->in_len = 0;
	}
	return true;
}

static int client_io(sd_event_source *s, int fd, uint32_t revents,
		     void *userdata)
{
	struct client *c = userdata;

	if (revents & EPOLLIN) {
		ssize_t n = recv(fd, c->in + c->in_len,
				 sizeof(c->in) - c->in_len, MSG_DONTWAIT);

		if (n < 0 && errno != EAGAIN && errno != EINTR)
			goto drop;
		if (n == 0) {
			/* Half-closed: answer a last unterminated line. */
			c->read_closed = true;
			if (c->in_len > 0 && !c->discarding &&
			    !handle_line(c, c->in, c->in_len))
				goto drop;
			c->in_len = 0;
		} else if (n > 0) {
			c->in_len += (size_t)n;
			if (!client_process(c))
				goto drop;
		}
	} else if (revents & (EPOLLHUP | EPOLLERR) && !(revents & EPOLLOUT)) {
		goto drop;
	}
	if (!client_flush(c))
		goto drop;
	if (c->read_closed && c->out_off == c->out_len && !c->subscribed)
		goto drop;
	if (c->read_closed && (revents & (EPOLLHUP | EPOLLERR)))
		goto drop;
	client_update_events(c);
	return 0;
drop:
	client_free(c);
	return 0;
}

static bool peer_allowed(int fd, gid_t allowed)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char path[64], line[512];
	FILE *f;
	bool ok = false;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return false;
	if (cred.uid == 0 || cred.uid == geteuid())
		return true;
	if (allowed == (gid_t)-1)
		return false;
	if (cred.gid == allowed)
		return true;
	/* Supplementary groups: from /proc, racy only against the peer itself. */
	snprintf(path, sizeof(path), "/proc/%d/status", (int)cred.pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *p, *end;

		if (strncmp(line, "Groups:", 7) != 0)
			continue;
		for (p = line + 7;; p = end) {
			unsigned long g = strtoul(p, &end, 10);

			if (end == p)
				break;
			if ((gid_t)g == allowed)
				ok = true;
		}
	}
	fclose(f);
	return ok;
}

static void server_add_client(struct server *srv, int cfd);

static int server_accept(sd_event_source *s, int fd, uint32_t revents,
			 void *userdata)
{
	struct server *srv = userdata;

	/* Drain the backlog, a bounded number at a time. */
	for (int i = 0; i < 64; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0)
			break;
		server_add_client(srv, cfd);
	}
	return 0;
}

static void server_add_client(struct server *srv, int cfd)
{
	struct client *c;

	if (srv->n_clients >= SERVER_CLIENTS_MAX ||
	    !peer_allowed(cfd, srv->allowed_gid)) {
		close(cfd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return;
	}
	c->server = srv;
	c->fd = cfd;
	if (sd_event_add_io(srv->ev, &c->src, cfd, EPOLLIN, client_io, c) < 0) {
		close(cfd);
		free(c);
		return;
	}
	sd_event_source_set_description(c->src, "client");
	c->next = srv->clients;
	srv->clients = c;
	srv->n_clients++;
}

int server_new(sd_event *ev, int listen_fd, gid_t allowed_gid,
	       server_request_fn fn, void *userdata, struct server **ret)
{
	struct server *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	s->ev = ev;
	s->fd = listen_fd;
	s->allowed_gid = allowed_gid;
	s->fn = fn;
	s->userdata = userdata;
	r = fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK);
	if (r < 0) {
		free(s);
		return -errno;
	}
	r = sd_event_add_io(ev, &s->src, listen_fd, EPOLLIN, server_accept, s);
	if (r < 0) {
		free(s);
		return r;
	}
	sd_event_source_set_description(s->src, "status-socket");
	*ret = s;
	return 0;
}

struct server *server_free(struct server *s)
{
	if (!s)
		return NULL;
	while (s->clients)
		client_free(s->clients);
	sd_event_source_disable_unref(s->src);
	free(s);
	return NULL;
}

void server_broadcast(struct server *s, struct json_object *event)
{
	struct client *c, *next;

	if (!s)
		return;
	for (c = s->clients; c; c = next) {
		next = c->next;
		if (!c->subscribed)
			continue;
		if (!client_queue_json(c, event) || !client_flush(c)) {
			client_free(c);
			continue;
		}
		client_update_events(c);
	}
}

unsigned server_client_count(const struct server *s)
{
	return s ? s->n_clients : 0;
}
