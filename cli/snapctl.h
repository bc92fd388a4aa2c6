/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared by snapctl's subcommands: the command table and error reporting. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "macro.h"
#include "snapmgr.h"

/* Documented in snapctl(8), EXIT STATUS. */
enum {
	EXIT_OK = 0,
	EXIT_FAILURE_RUNTIME = 1, /* the operation failed; nothing half-made */
	EXIT_USAGE = 2,           /* bad command line; nothing was touched */
	/* changes/export --since TOKEN: the token cannot answer, back up in full */
	EXIT_FULL_BACKUP = 3,
};

struct cmd {
	const char *name;
	int (*run)(struct snapmgr_ctx *ctx, int argc, char *argv[]);
	const char *help; /* one line for `snapctl --help` */
};

extern const struct cmd cmd_create, cmd_list, cmd_status, cmd_remove;
extern const struct cmd cmd_merge, cmd_activate;
extern const struct cmd cmd_inspect;
extern const struct cmd cmd_advise;
extern const struct cmd cmd_check;
extern const struct cmd cmd_changes, cmd_export, cmd_import_diff;
extern const struct cmd cmd_mount, cmd_umount;
extern const struct cmd cmd_prune;
extern const struct cmd cmd_track, cmd_untrack;

/* Progress of export and import-diff (progress.c). */
struct snapmgr_transfer_stats;
struct progress {
	bool json, bar, drawn;
	FILE *out;
};
/* JSON lines go to stdout, or stderr when the stream itself goes there. */
void progress_init(struct progress *p, bool json, bool stream_on_stdout);
void progress_update(void *userdata, const struct snapmgr_transfer_stats *st);
/*
 * The transfer of what ended with r: the bar's line ended, then r's one
 * line (EXIT_FAILURE_RUNTIME) or the summary (EXIT_OK).
 */
int progress_done(struct snapmgr_ctx *ctx, struct progress *p, const char *what, int r,
		  const struct snapmgr_transfer_stats *st);

/* The JSON status document of one snapshot on stdout (cmd-status.c). */
int print_status_json(struct snapmgr_ctx *ctx, const char *name);


/*
 * snapmgrd's status socket (daemon-client.c): $SNAPMGR_SOCKET or the default
 * path. One request line, the reply parsed; -errno when the daemon does not
 * run (-ENOENT, -ECONNREFUSED) or does not answer within timeout_ms.
 */
struct json_object;
const char *daemon_socket_path(void);
int daemon_request(const char *request, int timeout_ms,
		   struct json_object **ret_reply);
/* The entry named name in a reply's "snapshots" array, or NULL. */
struct json_object *daemon_snapshot_entry(struct json_object *arr, const char *name);

/* `snapctl: <object>: <reason>` on stderr; returns EXIT_FAILURE_RUNTIME. */
int fail(const char *object, int neg_errno, const char *fmt, ...)
	_printf_(3, 4);
/*
 * Why a library call failed: the context's one-line message, else the
 * errno's text (never an earlier call's message: the library clears it on
 * entry).
 */
const char *lib_reason(struct snapmgr_ctx *ctx, int neg_errno);
/*
 * The one way to report a failed library call: `snapctl: <object>:
 * <reason>` with lib_reason(); returns EXIT_FAILURE_RUNTIME.
 */
int fail_lib(struct snapmgr_ctx *ctx, const char *object, int neg_errno);
/* A usage error, pointing at --help; returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) _printf_(2, 3);
/*
 * Exactly n operands after the options (argv[optind] on), or a usage error:
 * missing says what is missing when there are fewer, the first one too
 * many is named. Returns 0, or EXIT_USAGE after saying why.
 */
int check_operands(const char *cmd, int argc, char *argv[], int n, const char *missing);
/* opt's argument as a size (K/M/G/T); 0, or EXIT_USAGE after saying why. */
int parse_size_arg(const char *cmd, const char *opt, const char *arg, uint64_t *ret);
