/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Other projects' tools, run rather than re-implemented: e2fsck, tune2fs
 * and xfs_admin for a clone's UUID (lib/mount-uuid.c), era_invalidate for
 * dm-era's metadata (lib/era-changes.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tool.h"

extern char **environ;

/* The last non-empty line of what a tool printed, for the one-line error. */
static void last_line(char *buf, size_t len, char *out, size_t out_len)
{
	char *end, *start;

	buf[len] = '\0';
	end = buf + len;
	while (end > buf && (end[-1] == '\n' || end[-1] == ' '))
		*--end = '\0';
	start = strrchr(buf, '\n');
	start = start ? start + 1 : buf;
	len = strlen(start);
	if (len >= out_len)
		len = out_len - 1;
	memcpy(out, start, len);
	out[len] = '\0';
}

/* What the tool says on the error pipe: only its tail matters. */
struct tail {
	char buf[4096];
	size_t len;
};

static void tail_add(struct tail *t, const char *data, size_t n)
{
	while (n > 0) {
		size_t k = sizeof(t->buf) - 1 - t->len;

		if (k > n)
			k = n;
		memcpy(t->buf + t->len, data, k);
		t->len += k;
		data += k;
		n -= k;
		if (t->len == sizeof(t->buf) - 1) {
			memmove(t->buf, t->buf + t->len / 2, t->len - t->len / 2);
			t->len -= t->len / 2;
		}
	}
}

/* The whole of stdout, up to max bytes. */
struct capture {
	char *buf;
	size_t len, size, max;
	bool too_big;
};

static int capture_add(struct capture *c, const char *data, size_t n)
{
	if (c->too_big || c->len + n > c->max) {
		c->too_big = true;
		return 0;
	}
	if (c->len + n + 1 > c->size) {
		size_t size = c->size ? c->size : 65536;
		char *p;

		while (size < c->len + n + 1)
			size *= 2;
		p = realloc(c->buf, size);
		if (!p)
			return -ENOMEM;
		c->buf = p;
		c->size = size;
	}
	memcpy(c->buf + c->len, data, n);
	c->len += n;
	c->buf[c->len] = '\0';
	return 0;
}

/* Reads both pipes to their ends (a full pipe would block the tool). */
static int drain(int out_fd, int err_fd, struct capture *cap, struct tail *err)
{
	struct pollfd p[2] = { { .fd = out_fd, .events = POLLIN },
			       { .fd = err_fd, .events = POLLIN } };
	char buf[65536];
	int open_fds = (out_fd >= 0) + 1;

	if (out_fd < 0)
		p[0].fd = -1;
	while (open_fds > 0) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(p[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				p[i].fd = -1;
				open_fds--;
				continue;
			}
			if (i == 1 || !cap)
				tail_add(err, buf, (size_t)n);
			else if (capture_add(cap, buf, (size_t)n) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

int tool_run(struct snapmgr_ctx *ctx, char *const argv[], int max_ok,
	     const char *package, char **ret_out, size_t max_out)
{
	struct capture cap = { .max = max_out };
	_cleanup_free_ struct tail *err = calloc(1, sizeof(*err));
	posix_spawn_file_actions_t fa;
	int outp[2] = { -1, -1 }, errp[2], status, r;
	char line[256];
	pid_t pid;

	if (!err)
		return -ENOMEM;
	if (pipe2(errp, O_CLOEXEC) < 0)
		return negative_errno();
	if (ret_out && pipe2(outp, O_CLOEXEC) < 0) {
		r = negative_errno();
		close(errp[0]);
		close(errp[1]);
		return r;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, ret_out ? outp[1] : errp[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(errp[1]);
	if (ret_out)
		close(outp[1]);
	if (r != 0) {
		close(errp[0]);
		if (ret_out)
			close(outp[0]);
		if (r == ENOENT && package)
			return snapmgr_error(ctx, -ENOENT, "%s not found (install %s)",
					     argv[0], package);
		return snapmgr_error(ctx, -r, "cannot run %s: %s", argv[0], strerror(r));
	}
	r = drain(ret_out ? outp[0] : -1, errp[0], ret_out ? &cap : NULL, err);
	close(errp[0]);
	if (ret_out)
		close(outp[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			free(cap.buf);
			return negative_errno();
		}
	if (r < 0) {
		free(cap.buf);
		return r;
	}
	last_line(err->buf, err->len, line, sizeof(line));
	log_debug(ctx, "%s: exit status %d: %s", argv[0], status, line);
	if (WIFEXITED(status) && WEXITSTATUS(status) <= max_ok) {
		if (!ret_out)
			return 0;
		if (cap.too_big) {
			free(cap.buf);
			return snapmgr_error(ctx, -E2BIG, "%s printed more than %zu bytes",
					     argv[0], max_out);
		}
		*ret_out = cap.buf ? cap.buf : strdup("");
		return *ret_out ? 0 : -ENOMEM;
	}
	free(cap.buf);
	if (WIFEXITED(status))
		return snapmgr_error(ctx, -EIO, "%s failed (exit %d)%s%s", argv[0],
				     WEXITSTATUS(status), *line ? ": " : "", line);
	return snapmgr_error(ctx, -EIO, "%s was killed by signal %d", argv[0],
			     WTERMSIG(status));
}
