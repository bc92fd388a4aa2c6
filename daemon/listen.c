/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The status socket: inherited from systemd (socket activation), or made
 * here at --socket or socket_path, owned by root:snapmgr, mode 0660; a
 * live socket at that path means another snapmgrd, which is left alone.
 */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "daemon.h"

int open_socket(struct daemon *d, int *ret_fd)
{
	const char *path = d->socket_path_opt ? d->socket_path_opt :
			   snapmgr_config_get_socket_path(d->config);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct group *g;
	_cleanup_free_ char *dir = NULL;
	char *slash;
	int n, fd;

	n = sd_listen_fds(1);
	if (n > 1) {
		log_d(d, LOG_ERR, "expected one socket from the service manager, got %d", n);
		return -EINVAL;
	}
	if (n == 1) {
		if (sd_is_socket_unix(SD_LISTEN_FDS_START, SOCK_STREAM, 1, NULL, 0) <= 0) {
			log_d(d, LOG_ERR, "the inherited fd is not a listening Unix stream socket");
			return -EINVAL;
		}
		*ret_fd = SD_LISTEN_FDS_START;
		return 0;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_d(d, LOG_ERR, "%s: socket path too long", path);
		return -ENAMETOOLONG;
	}
	dir = strdup(path);
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			log_d(d, LOG_ERR, "cannot create %s: %m", dir);
			return -errno;
		}
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A live socket means another snapmgrd: do not steal it. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 ||
	    errno == EAGAIN) {
		log_d(d, LOG_ERR, "%s: another snapmgrd is running", path);
		close(fd);
		return -EADDRINUSE;
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 64) < 0) {
		int e = -errno;

		log_d(d, LOG_ERR, "%s: cannot listen: %m", path);
		close(fd);
		return e;
	}
	g = getgrnam("snapmgr");
	if (g && chown(path, 0, g->gr_gid) < 0)
		log_d(d, LOG_WARNING, "%s: cannot give it to group snapmgr: %m", path);
	if (chmod(path, 0660) < 0)
		log_d(d, LOG_WARNING, "%s: chmod: %m", path);
	d->socket_path = strdup(path);
	*ret_fd = fd;
	return 0;
}

