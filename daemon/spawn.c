/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Child processes of the loop: alert_command and lvextend. The loop never
 * waits for one: their exit is an sd-event child source. Each child leads
 * its own process group; one that overstays its time limit gets SIGTERM, then
 * SIGKILL 5 s later, and so does all it started, so a hung alert script
 * cannot pile up processes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon.h"

#define KILL_GRACE_USEC (5 * USEC_PER_SEC)

/* The time limit of one child: the userdata of a timer. */
struct deadline {
	struct daemon *d;
	pid_t pid; /* and process group */
	bool termed;
};

static int deadline_fired(sd_event_source *src, uint64_t usec _unused_,
			  void *userdata)
{
	struct deadline *dl = userdata;

	/*
	 * The group is still ours: sd-event reaps a child only after its
	 * handler ran, and child_exited() disables this timer first unless
	 * the leader went on our SIGTERM; then the group id stays reserved
	 * for as long as anything it started lives.
	 */
	log_d(dl->d, LOG_WARNING, "child %d ran past its time limit: %s",
	      (int)dl->pid, dl->termed ? "SIGKILL" : "SIGTERM");
	(void)kill(-dl->pid, dl->termed ? SIGKILL : SIGTERM);
	if (!dl->termed) {
		dl->termed = true;
		sd_event_source_set_time_relative(src, KILL_GRACE_USEC);
		sd_event_source_set_enabled(src, SD_EVENT_ONESHOT);
	} else if (sd_event_source_get_floating(src)) {
		/* Outlived its child (below): the loop's reference goes. */
		sd_event_source_set_floating(src, false);
	}
	return 0;
}

static void deadline_free(void *userdata)
{
	free(userdata);
}

/*
 * The child source's wrapper: ends the deadline, then the caller's handler.
 * sd-event has one userdata per source, so the deadline hangs off the timer
 * and the timer off this.
 */
struct child_call {
	sd_event_child_handler_t done;
	void *userdata;
	sd_event_source *deadline;
};

static int child_exited(sd_event_source *src, const siginfo_t *si,
			void *userdata)
{
	struct child_call *c = userdata;
	sd_event_child_handler_t done = c->done;
	void *data = c->userdata;

	if (c->deadline &&
	    ((struct deadline *)sd_event_source_get_userdata(c->deadline))->termed) {
		/*
		 * The leader went on SIGTERM, what it started may not have:
		 * the timer lives on to SIGKILL the rest of the group.
		 */
		sd_event_source_set_floating(c->deadline, true);
		c->deadline = sd_event_source_unref(c->deadline);
	}
	c->deadline = sd_event_source_disable_unref(c->deadline);
	return done(src, si, data);
}

static void child_call_free(void *userdata)
{
	struct child_call *c = userdata;

	sd_event_source_disable_unref(c->deadline);
	free(c);
}

struct exec_args {
	char *const *argv;
	const char *snapshot, *event;
};

static int exec_child(void *userdata)
{
	struct exec_args *a = userdata;

	if (a->snapshot)
		setenv("SNAPMGR_SNAPSHOT", a->snapshot, 1);
	if (a->event)
		setenv("SNAPMGR_EVENT", a->event, 1);
	execv(a->argv[0], a->argv);
	return 127;
}

/* Forks; the child runs fn(arg) with input on stdin and exits with its value. */
static int fork_child(struct daemon *d, int (*fn)(void *), void *arg,
		      const char *input, const char *what, unsigned timeout,
		      sd_event_child_handler_t done, void *userdata,
		      sd_event_source **ret_src, pid_t *ret_pid)
{
	struct child_call *call;
	sd_event_source *src = NULL;
	int pfd[2], r;
	pid_t pid;

	call = calloc(1, sizeof(*call));
	if (!call)
		return -ENOMEM;
	call->done = done;
	call->userdata = userdata;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		free(call);
		return -errno;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		close(pfd[0]);
		close(pfd[1]);
		free(call);
		return r;
	}
	if (pid == 0) {
		sigset_t ss;

		sigemptyset(&ss);
		sigprocmask(SIG_SETMASK, &ss, NULL);
		/* Its own process group, so a time limit kills what it ran. */
		(void)setpgid(0, 0);
		if (dup2(pfd[0], STDIN_FILENO) < 0)
			_exit(127);
		_exit(fn(arg));
	}
	(void)setpgid(pid, pid); /* as the child does: whoever runs first */
	close(pfd[0]);
	if (input) {
		/* Small (one object) and the pipe is fresh: fits its buffer. */
		fcntl(pfd[1], F_SETFL, O_NONBLOCK);
		if (write(pfd[1], input, strlen(input)) < 0) {
			/* the command may not read it; nothing to do */
		}
	}
	close(pfd[1]);

	r = sd_event_add_child(d->ev, &src, pid, WEXITED, child_exited, call);
	if (r < 0) {
		/* Cannot watch it: do not leave it unwatched and unlimited. */
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		free(call);
		return r;
	}
	sd_event_source_set_destroy_callback(src, child_call_free);
	sd_event_source_set_description(src, what);
	if (timeout) {
		struct deadline *dl = calloc(1, sizeof(*dl));

		if (dl) {
			dl->d = d;
			dl->pid = pid;
			if (sd_event_add_time_relative(d->ev, &call->deadline,
						       CLOCK_MONOTONIC,
						       timeout * USEC_PER_SEC,
						       USEC_PER_SEC / 10,
						       deadline_fired, dl) >= 0)
				sd_event_source_set_destroy_callback(call->deadline,
								     deadline_free);
			else
				free(dl);
		}
	}
	*ret_src = src;
	*ret_pid = pid;
	return 0;
}

int spawn(struct daemon *d, char *const argv[], const char *input,
	  const char *snapshot, const char *event, unsigned timeout,
	  sd_event_child_handler_t done, void *userdata,
	  sd_event_source **ret_src, pid_t *ret_pid)
{
	struct exec_args a = { argv, snapshot, event };

	return fork_child(d, exec_child, &a, input, event ? event : argv[0],
			  timeout, done, userdata, ret_src, ret_pid);
}

const char *child_status(const siginfo_t *si, char *buf, size_t size)
{
	snprintf(buf, size, "%s %d",
		 si->si_code == CLD_EXITED ? "exit status" : "signal",
		 si->si_status);
	return buf;
}
