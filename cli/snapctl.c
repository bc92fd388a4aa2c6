/* SPDX-License-Identifier: GPL-2.0-or-later */
/* snapctl: the command table, global options and error reporting. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "config.h"
#include "snapctl.h"

static const struct cmd *const commands[] = {
	&cmd_create,
	&cmd_list,
	&cmd_status,
	&cmd_remove,
	&cmd_merge,
	&cmd_activate,
	&cmd_inspect,
	&cmd_advise,
	&cmd_check,
	&cmd_changes,
	&cmd_export,
	&cmd_import_diff,
	&cmd_mount,
	&cmd_umount,
	&cmd_prune,
	&cmd_track,
	&cmd_untrack,
	NULL,
};

static void print_usage(FILE *out)
{
	fprintf(out,
		"Usage:\n"
		" snapctl [options] <command> [command options]\n"
		"\n"
		"Manage device-mapper snapshots of raw block devices safely.\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; commands[i]; i++)
		fprintf(out, " %-10s %s\n", commands[i]->name, commands[i]->help);
	fprintf(out,
		"\n"
		"Options:\n"
		" -v, --verbose    log what the library does (repeat for debug)\n"
		" -h, --help       display this help\n"
		" -V, --version    display version\n"
		"\n"
		"Run 'snapctl <command> --help' for a command's options.\n"
		"For more details see snapctl(8).\n");
}

int fail(const char *object, int neg_errno, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "snapctl: %s: ", object);
	if (fmt) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	} else {
		fputs(strerror(-neg_errno), stderr);
	}
	fputc('\n', stderr);
	return EXIT_FAILURE_RUNTIME;
}

const char *lib_reason(struct snapmgr_ctx *ctx, int neg_errno)
{
	const char *e = snapmgr_get_error(ctx);

	return e ? e : strerror(-neg_errno);
}

int fail_lib(struct snapmgr_ctx *ctx, const char *object, int neg_errno)
{
	return fail(object, neg_errno, "%s", lib_reason(ctx, neg_errno));
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	bool top = streq(cmd, "snapctl");
	va_list ap;

	fputs("snapctl: ", stderr);
	if (!top)
		fprintf(stderr, "%s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (try 'snapctl %s%s--help')\n", top ? "" : cmd,
		top ? "" : " ");
	return EXIT_USAGE;
}

int check_operands(const char *cmd, int argc, char *argv[], int n, const char *missing)
{
	if (argc - optind < n)
		return usage_error(cmd, "%s", missing);
	if (argc - optind > n)
		return usage_error(cmd, "unexpected argument '%s'", argv[optind + n]);
	return 0;
}

int parse_size_arg(const char *cmd, const char *opt, const char *arg, uint64_t *ret)
{
	if (snapmgr_parse_size(arg, ret) < 0)
		return usage_error(cmd, "%s: '%s' is not a size (e.g. 512M, 4K)", opt, arg);
	return 0;
}

_printf_(6, 0) static void log_to_stderr(void *data _unused_, int priority,
			  const char *file _unused_, int line _unused_,
			  const char *fn _unused_, const char *format,
			  va_list args)
{
	fprintf(stderr, "snapctl: %s", priority <= LOG_ERR ? "" : "note: ");
	vfprintf(stderr, format, args);
	fputc('\n', stderr);
}

static const struct cmd *find_command(const char *name)
{
	for (size_t i = 0; commands[i]; i++)
		if (streq(commands[i]->name, name))
			return commands[i];
	return NULL;
}

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	struct snapmgr_ctx *ctx = NULL;
	const struct cmd *cmd;
	int verbose = 0, c, r;

	/* '+': stop at the first non-option, which is the command. */
	while ((c = getopt_long(argc, argv, "+vhV", options, NULL)) != -1) {
		switch (c) {
		case 'v':
			verbose++;
			break;
		case 'h':
			print_usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("snapctl from snapmgr %s (libsnapmgr %s)\n",
			       PROJECT_VERSION, snapmgr_version());
			return EXIT_OK;
		default:
			return usage_error("snapctl", "unrecognised option");
		}
	}
	if (optind >= argc)
		return usage_error("snapctl", "no command given");

	cmd = find_command(argv[optind]);
	if (!cmd)
		return usage_error("snapctl", "unknown command '%s'",
				   argv[optind]);

	r = snapmgr_new(&ctx);
	if (r < 0)
		return fail("snapctl", r, NULL);
	snapmgr_set_log_fn(ctx, log_to_stderr, NULL);
	snapmgr_set_log_priority(ctx, verbose >= 2 ? LOG_DEBUG :
				      verbose == 1 ? LOG_INFO : LOG_WARNING);

	/*
	 * Subcommands parse their own options, with the command name as
	 * argv[0]; optind = 0 makes getopt start afresh.
	 */
	argc -= optind;
	argv += optind;
	optind = 0;
	r = cmd->run(ctx, argc, argv);
	snapmgr_unref(ctx);
	return r;
}
