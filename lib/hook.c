/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hooks around a snapshot set's suspend (application quiescing). A hook is
 * the administrator's shell command; it gets its own process group, so
 * that on a timeout whatever it started dies with it and cannot go on
 * writing after we reported it failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hook.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int hook_run(struct snapmgr_ctx *ctx, const char *what, const char *cmd,
	     const char *set, unsigned timeout)
{
	int64_t deadline;
	int status;
	pid_t pid;

	if (timeout == 0)
		timeout = HOOK_TIMEOUT_DEFAULT;
	log_info(ctx, "set %s: running the %s-hook: %s", set, what, cmd);
	fflush(NULL); /* the child must not write our buffers twice */
	pid = fork();
	if (pid < 0)
		return snapmgr_error(ctx, negative_errno(), "cannot start the %s-hook: %m", what);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		(void)setpgid(0, 0);
		if (null >= 0)
			(void)dup2(null, STDIN_FILENO);
		setenv("SNAPMGR_SET", set, 1);
		setenv("SNAPMGR_HOOK", what, 1);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	/* Both sides, so the group exists before a kill can name it. */
	(void)setpgid(pid, pid);
	deadline = now_ms() + (int64_t)timeout * 1000;
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return snapmgr_error(ctx, negative_errno(), "%s-hook: %m", what);
		if (now_ms() >= deadline) {
			(void)kill(-pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			return snapmgr_error(ctx, -ECHILD,
					     "the %s-hook timed out after %u s (killed): %s",
					     what, timeout, cmd);
		}
		(void)nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000 }, NULL);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		return snapmgr_error(ctx, -ECHILD, "the %s-hook failed (exit status %d): %s",
				     what, WEXITSTATUS(status), cmd);
	return snapmgr_error(ctx, -ECHILD, "the %s-hook was killed by signal %d: %s",
			     what, WTERMSIG(status), cmd);
}
