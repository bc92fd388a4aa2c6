/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Asking snapmgrd (docs/socket.md): one request line, one reply line, with
 * a deadline, so a daemon that hangs never hangs snapctl.
 */
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "snapctl.h"

#define REPLY_MAX (64U << 20)

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *daemon_socket_path(void)
{
	const char *p = getenv("SNAPMGR_SOCKET");

	return p && *p ? p : SNAPMGR_RUN_DIR "/snapmgrd.sock";
}

int daemon_request(const char *request, int timeout_ms,
		   struct json_object **ret_reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = daemon_socket_path();
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0, off = 0, rlen = strlen(request);
	long long deadline = now_ms() + timeout_ms;
	json_object *o;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno; /* not running: ENOENT, ECONNREFUSED */
	for (;;) {
		struct pollfd p = { .fd = fd };
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return -ETIMEDOUT;
		p.events = off < rlen + 1 ? POLLOUT : POLLIN;
		if (poll(&p, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (off < rlen + 1) {
			if (off < rlen)
				n = send(fd, request + off, rlen - off, MSG_NOSIGNAL);
			else
				n = send(fd, "\n", 1, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				return -errno;
			if (n > 0)
				off += (size_t)n;
			continue;
		}
		if (len + 65536 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536 * 2;
			if (cap > REPLY_MAX)
				return -E2BIG;
			nb = realloc(buf, cap);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		len += (size_t)n;
		if (memchr(buf + len - n, '\n', (size_t)n))
			break;
	}
	buf[len] = '\0';
	o = json_tokener_parse(buf);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EBADMSG;
	}
	*ret_reply = o;
	return 0;
}

struct json_object *daemon_snapshot_entry(struct json_object *arr, const char *name)
{
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i), *n;

		if (json_object_object_get_ex(o, "name", &n) &&
		    streq(json_object_get_string(n), name))
			return o;
	}
	return NULL;
}
