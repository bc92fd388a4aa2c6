/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A writable clone's own filesystem UUID (snapctl mount --rw --new-uuid),
 * through the filesystem's own tools: no one else should write its
 * superblock. Both tools refuse a filesystem whose journal or log still
 * holds changes, and a snapshot of a mounted filesystem may have one:
 *
 * - ext2/3/4: `e2fsck -f -p` first. It replays the journal into the
 *   snapshot (the clone, which is about to be written anyway) and checks
 *   it; -p (preen) fixes only what is safe without a human and fails
 *   otherwise, so we stop there. tune2fs -U also wants a freshly checked
 *   filesystem when metadata_csum is on (Debian's default).
 * - XFS: xfs_admin -U refuses a dirty log. `xfs_repair -L` would clear it,
 *   throwing away the changes it holds: never. The clone is mounted once
 *   (nouuid: the origin has the same UUID) and unmounted, which replays
 *   the log the way the kernel does after a crash; then xfs_admin.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mount-private.h"

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

/*
 * Runs argv (found in PATH), its output kept for the error; 0 when it
 * exits with a status up to max_ok.
 */
static int run_tool(struct snapmgr_ctx *ctx, char *const argv[], int max_ok)
{
	posix_spawn_file_actions_t fa;
	char buf[4096], line[256];
	size_t len = 0;
	int pipefd[2], status, r;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return negative_errno();
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		return snapmgr_error(ctx, -r, "cannot run %s: %s", argv[0], strerror(r));
	}
	/* Keep the tail: the reason is at the end. */
	for (;;) {
		ssize_t n = read(pipefd[0], buf + len, sizeof(buf) - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf) - 1) {
			memmove(buf, buf + len / 2, len - len / 2);
			len -= len / 2;
		}
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return negative_errno();
	last_line(buf, len, line, sizeof(line));
	log_debug(ctx, "%s: exit status %d: %s", argv[0], status, line);
	if (WIFEXITED(status) && WEXITSTATUS(status) <= max_ok)
		return 0;
	if (WIFEXITED(status))
		return snapmgr_error(ctx, -EIO, "%s failed (exit %d)%s%s", argv[0],
				     WEXITSTATUS(status), *line ? ": " : "", line);
	return snapmgr_error(ctx, -EIO, "%s was killed by signal %d", argv[0],
			     WTERMSIG(status));
}

static int ext_new_uuid(struct snapmgr_ctx *ctx, const char *dev)
{
	char *fsck[] = { "e2fsck", "-f", "-p", (char *)dev, NULL };
	char *tune[] = { "tune2fs", "-U", "random", (char *)dev, NULL };
	int r;

	log_info(ctx, "%s: e2fsck -f -p (replays the journal into the clone), then tune2fs -U random", dev);
	/* e2fsck: 1 = errors corrected, which -p does only when it is safe. */
	r = run_tool(ctx, fsck, 1);
	if (r < 0)
		return snapmgr_error(ctx, r, "--new-uuid: the clone's filesystem needs a manual check: %s",
				     snapmgr_get_error(ctx) ?: strerror(-r));
	return run_tool(ctx, tune, 0);
}

static int xfs_new_uuid(struct snapmgr_ctx *ctx, const char *dev,
			const char *dir)
{
	char *admin[] = { "xfs_admin", "-U", "generate", (char *)dev, NULL };
	int r;

	log_info(ctx, "%s: mounted once on %s to replay the log, then xfs_admin -U generate", dev, dir);
	/* Mounting replays the log into the clone; umount leaves it clean. */
	if (mount(dev, dir, "xfs", 0, "nouuid") < 0) {
		r = negative_errno();
		return snapmgr_error(ctx, r, "--new-uuid: mounting once to replay the XFS log failed: %s",
				     strerror(-r));
	}
	if (umount2(dir, 0) < 0) {
		r = negative_errno();
		return snapmgr_error(ctx, r, "--new-uuid: cannot unmount %s after the log replay: %s",
				     dir, strerror(-r));
	}
	return run_tool(ctx, admin, 0);
}

int mount_new_uuid(struct snapmgr_ctx *ctx, const char *dev,
		   const char *fstype, const char *dir)
{
	if (mount_is_ext(fstype))
		return ext_new_uuid(ctx, dev);
	if (streq(fstype, "xfs"))
		return xfs_new_uuid(ctx, dev, dir);
	return snapmgr_error(ctx, -EOPNOTSUPP, "--new-uuid knows ext2/3/4 and xfs, not %s", fstype);
}
