/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapmgr_config_load() and snapmgr_policy_for(): drop-in order, section
 * precedence, every kind of bad value with its file:line message, missing
 * and unreadable files, all-or-nothing loading.
 */
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "libsnapmgr-private.h"

struct fixture {
	struct snapmgr_ctx *ctx;
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(snapmgr_new(&f->ctx), 0);
	strcpy(f->dir, "/tmp/test-config.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	*state = f;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	chmod(path, 0700);
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	chmod(f->dir, 0700);
	nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	snapmgr_unref(f->ctx);
	free(f);
	return 0;
}

/* Writes DIR/name (creating snapmgrd.conf.d when needed). */
static void write_file(struct fixture *f, const char *name,
		       const char *content)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/snapmgrd.conf.d", f->dir);
	if (strncmp(name, "snapmgrd.conf.d/", 16) == 0)
		mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	fp = fopen(path, "we");
	assert_non_null(fp);
	assert_int_equal(fwrite(content, 1, strlen(content), fp),
			 strlen(content));
	assert_int_equal(fclose(fp), 0);
}

static struct snapmgr_config *load_ok(struct fixture *f)
{
	struct snapmgr_config *config = NULL;
	char *message = NULL;
	int r;

	r = snapmgr_config_load(f->ctx, f->dir, &config, &message);
	if (r < 0)
		fail_msg("load failed: %d %s", r, message ? message : "");
	assert_null(message);
	assert_non_null(config);
	return config;
}

/* Loads, expecting failure r with the message PATH:rest (PATH in dir). */
static void load_fails(struct fixture *f, int expected, const char *file,
		       const char *rest)
{
	struct snapmgr_config *config = (struct snapmgr_config *)f; /* sentinel */
	char *message = NULL;
	char expected_message[512];
	int r;

	r = snapmgr_config_load(f->ctx, f->dir, &config, &message);
	if (r != expected)
		fail_msg("load gave %d (%s), expected %d", r,
			 message ? message : "no message", expected);
	assert_ptr_equal(config, (struct snapmgr_config *)f);
	assert_non_null(message);
	snprintf(expected_message, sizeof(expected_message), "%s/%s%s",
		 f->dir, file, rest);
	assert_string_equal(message, expected_message);
	free(message);
}

static struct snapmgr_policy *policy(struct snapmgr_config *config,
				     const char *name)
{
	struct snapmgr_policy *p = NULL;

	assert_int_equal(snapmgr_policy_for(config, name, &p), 0);
	assert_non_null(p);
	return p;
}

static void assert_extend_by(struct snapmgr_policy *p,
			     enum snapmgr_extend_unit unit, uint64_t value)
{
	enum snapmgr_extend_unit u;
	uint64_t v;

	assert_int_equal(snapmgr_policy_get_extend_by(p, &u, &v), 0);
	assert_int_equal(u, unit);
	assert_int_equal(v, value);
}

static void assert_builtin_policy(struct snapmgr_policy *p)
{
	unsigned int percent = 12345;
	uint64_t bytes = 12345;

	assert_int_equal(snapmgr_policy_get_extend_threshold(p, &percent),
			 -ENODATA);
	assert_int_equal(percent, 12345);
	assert_int_equal(snapmgr_policy_get_max_cow_size(p, &bytes),
			 -ENODATA);
	assert_int_equal(bytes, 12345);
	assert_null(snapmgr_policy_get_alert_command(p));
	assert_int_equal(snapmgr_policy_get_warn_threshold(p), 80);
	assert_true(snapmgr_policy_get_autoextend(p));
	assert_extend_by(p, SNAPMGR_EXTEND_PERCENT, 20);
}

static void assert_builtin_daemon(struct snapmgr_config *config)
{
	const char *host = NULL;
	uint16_t port = 0;

	assert_null(snapmgr_config_get_listen_metrics(config));
	assert_int_equal(snapmgr_config_get_metrics_address(config, &host,
							    &port),
			 -ENODATA);
	assert_string_equal(snapmgr_config_get_socket_path(config),
			    "/run/snapmgr/snapmgrd.sock");
	assert_int_equal(snapmgr_config_get_poll_interval_max(config), 30);
	assert_int_equal(snapmgr_config_get_alert_timeout(config), 60);
	assert_int_equal(snapmgr_config_get_log_level(config), LOG_INFO);
}

static void test_missing_dir(void **state)
{
	struct fixture *f = *state;
	struct snapmgr_config *config;
	struct snapmgr_policy *p;

	/* The directory itself is missing. */
	strcat(f->dir, "/nothing-here");
	config = load_ok(f);
	f->dir[strlen(f->dir) - strlen("/nothing-here")] = '\0';
	assert_builtin_daemon(config);
	p = policy(config, "vg0-root-snap");
	assert_builtin_policy(p);
	snapmgr_policy_unref(p);
	snapmgr_config_unref(config);

	/* Present but empty. */
	config = load_ok(f);
	assert_builtin_daemon(config);
	snapmgr_config_unref(config);
}

static void test_main_and_dropins(void **state)
{
	struct fixture *f = *state;
	struct snapmgr_config *config;
	struct snapmgr_policy *p;
	const char *host;
	uint16_t port;
	unsigned int percent;
	uint64_t bytes;

	write_file(f, "snapmgrd.conf",
		   "# main file\n"
		   "[daemon]\n"
		   "listen_metrics = 127.0.0.1:9469\n"
		   "socket_path = /run/test.sock\n"
		   "poll_interval_max = 5\n"
		   "alert_timeout = 7\n"
		   "log_level = debug\n"
		   "\n"
		   "[defaults]\n"
		   "  extend_threshold = 70   ; indented, with a comment\n"
		   "extend_by = 512M\n"
		   "max_cow_size = 10G\n"
		   "warn_threshold = 85%\n"
		   "alert_command = logger -t snapmgr \"$SNAPMGR_SNAPSHOT\"\n"
		   "autoextend = no\n");
	/* strcmp order: 10-... before 9-...; 9 wins. */
	write_file(f, "snapmgrd.conf.d/9-late.conf",
		   "[daemon]\nlog_level = warning\n"
		   "[defaults]\nautoextend = on\n");
	write_file(f, "snapmgrd.conf.d/10-early.conf",
		   "[daemon]\nlog_level = err\nlisten_metrics = [::1]:9470\n"
		   "[defaults]\nautoextend = off\nwarn_threshold = 90\n");
	/* Not drop-ins: wrong suffix, hidden. */
	write_file(f, "snapmgrd.conf.d/README", "not an ini file\n");
	write_file(f, "snapmgrd.conf.d/.hidden.conf", "[bogus]\n");
	write_file(f, "snapmgrd.conf.d/old.conf.bak", "[bogus]\n");
	/* A link to /dev/null reads as empty. */
	{
		char path[256];

		snprintf(path, sizeof(path), "%s/snapmgrd.conf.d/zz.conf",
			 f->dir);
		assert_int_equal(symlink("/dev/null", path), 0);
	}

	config = load_ok(f);
	assert_string_equal(snapmgr_config_get_listen_metrics(config),
			    "[::1]:9470");
	assert_int_equal(snapmgr_config_get_metrics_address(config, &host,
							    &port),
			 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 9470);
	assert_string_equal(snapmgr_config_get_socket_path(config),
			    "/run/test.sock");
	assert_int_equal(snapmgr_config_get_poll_interval_max(config), 5);
	assert_int_equal(snapmgr_config_get_alert_timeout(config), 7);
	assert_int_equal(snapmgr_config_get_log_level(config), LOG_WARNING);

	p = policy(config, "anything");
	snapmgr_config_unref(config); /* the policy is a copy */
	assert_int_equal(snapmgr_policy_get_extend_threshold(p, &percent), 0);
	assert_int_equal(percent, 70);
	assert_extend_by(p, SNAPMGR_EXTEND_BYTES, 512ULL << 20);
	assert_int_equal(snapmgr_policy_get_max_cow_size(p, &bytes), 0);
	assert_int_equal(bytes, 10ULL << 30);
	assert_int_equal(snapmgr_policy_get_warn_threshold(p), 90);
	assert_string_equal(snapmgr_policy_get_alert_command(p),
			    "logger -t snapmgr \"$SNAPMGR_SNAPSHOT\"");
	assert_true(snapmgr_policy_get_autoextend(p));
	assert_ptr_equal(snapmgr_policy_ref(p), p);
	assert_null(snapmgr_policy_unref(p));
	assert_null(snapmgr_policy_unref(p));
	assert_null(snapmgr_policy_unref(NULL));
}

static void test_section_precedence(void **state)
{
	struct fixture *f = *state;
	struct snapmgr_config *config;
	struct snapmgr_policy *p;
	unsigned int percent;
	uint64_t bytes;

	write_file(f, "snapmgrd.conf",
		   "[snapshot:vg0-*]\n"
		   "extend_threshold = 60\n"
		   "extend_by = 50%\n"
		   "[snapshot:*]\n"
		   "extend_threshold = 75\n"
		   "warn_threshold = 70\n"
		   "[snapshot:vg1-db?]\n"
		   "max_cow_size = 1G\n"
		   "[defaults]\n" /* after the snapshot sections: still loses */
		   "extend_threshold = 95\n"
		   "warn_threshold = 50\n"
		   "alert_command = /usr/local/bin/alert\n");
	write_file(f, "snapmgrd.conf.d/50-vg0.conf",
		   "[snapshot:vg0-*]\n"
		   "extend_threshold = 65\n");

	config = load_ok(f);

	/* [snapshot:vg0-*] twice, [snapshot:*] in between, [defaults]. */
	p = policy(config, "vg0-root");
	assert_int_equal(snapmgr_policy_get_extend_threshold(p, &percent), 0);
	assert_int_equal(percent, 65); /* the drop-in refines the main file */
	assert_extend_by(p, SNAPMGR_EXTEND_PERCENT, 50);
	assert_int_equal(snapmgr_policy_get_warn_threshold(p), 70);
	assert_string_equal(snapmgr_policy_get_alert_command(p),
			    "/usr/local/bin/alert");
	assert_int_equal(snapmgr_policy_get_max_cow_size(p, &bytes),
			 -ENODATA);
	snapmgr_policy_unref(p);

	/* Only [snapshot:*] and [snapshot:vg1-db?]. */
	p = policy(config, "vg1-db2");
	assert_int_equal(snapmgr_policy_get_extend_threshold(p, &percent), 0);
	assert_int_equal(percent, 75);
	assert_extend_by(p, SNAPMGR_EXTEND_PERCENT, 20);
	assert_int_equal(snapmgr_policy_get_max_cow_size(p, &bytes), 0);
	assert_int_equal(bytes, 1ULL << 30);
	snapmgr_policy_unref(p);

	/* '?' is one character. */
	p = policy(config, "vg1-db10");
	assert_int_equal(snapmgr_policy_get_max_cow_size(p, &bytes),
			 -ENODATA);
	snapmgr_policy_unref(p);
	snapmgr_config_unref(config);
}

static void test_empty_value_restores_default(void **state)
{
	struct fixture *f = *state;
	struct snapmgr_config *config;
	struct snapmgr_policy *p;
	unsigned int percent;
	uint64_t bytes;

	write_file(f, "snapmgrd.conf",
		   "[daemon]\n"
		   "listen_metrics = localhost:9469\n"
		   "socket_path = /tmp/x.sock\n"
		   "log_level = debug\n"
		   "[defaults]\n"
		   "extend_threshold = 70\n"
		   "warn_threshold = 60\n"
		   "extend_by = 1G\n"
		   "max_cow_size = 2G\n"
		   "alert_command = true\n"
		   "autoextend = false\n");
	write_file(f, "snapmgrd.conf.d/reset.conf",
		   "[daemon]\n"
		   "listen_metrics =\n"
		   "socket_path =\n"
		   "log_level =\n"
		   "[snapshot:keep-*]\n"
		   "extend_threshold =\n"
		   "warn_threshold =\n"
		   "extend_by =\n"
		   "max_cow_size =\n"
		   "alert_command =\n"
		   "autoextend =\n");

	config = load_ok(f);
	assert_builtin_daemon(config);

	p = policy(config, "keep-1");
	assert_builtin_policy(p);
	snapmgr_policy_unref(p);

	p = policy(config, "other");
	assert_int_equal(snapmgr_policy_get_extend_threshold(p, &percent), 0);
	assert_int_equal(percent, 70);
	assert_int_equal(snapmgr_policy_get_max_cow_size(p, &bytes), 0);
	assert_false(snapmgr_policy_get_autoextend(p));
	snapmgr_policy_unref(p);
	snapmgr_config_unref(config);
}

static void test_listen_metrics(void **state)
{
	static const struct {
		const char *value, *host;
		uint16_t port;
	} good[] = {
		{ "127.0.0.1:9469", "127.0.0.1", 9469 },
		{ "0.0.0.0:1", "0.0.0.0", 1 },
		{ "[::1]:9469", "::1", 9469 },
		{ "[::]:65535", "::", 65535 },
		{ "[fe80::1%eth0]:80", NULL, 0 }, /* scope ids: refused */
		{ "localhost:9469", "localhost", 9469 },
		{ "metrics.example.org:8080", "metrics.example.org", 8080 },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < ELEMENTSOF(good); i++) {
		struct snapmgr_config *config;
		const char *host;
		uint16_t port;
		char content[128];

		snprintf(content, sizeof(content),
			 "[daemon]\nlisten_metrics = %s\n", good[i].value);
		write_file(f, "snapmgrd.conf", content);
		if (!good[i].host) {
			char rest[128];

			snprintf(rest, sizeof(rest),
				 ":2: listen_metrics: '%s' is not an address like 127.0.0.1:9469 or [::1]:9469",
				 good[i].value);
			load_fails(f, -EINVAL, "snapmgrd.conf", rest);
			continue;
		}
		config = load_ok(f);
		assert_string_equal(snapmgr_config_get_listen_metrics(config),
				    good[i].value);
		assert_int_equal(snapmgr_config_get_metrics_address(config,
								    &host,
								    &port),
				 0);
		assert_string_equal(host, good[i].host);
		assert_int_equal(port, good[i].port);
		snapmgr_config_unref(config);
	}
}

/* Each bad line, as line 3 of the main file, and the message it gives. */
static const struct {
	const char *section, *line, *message;
} bad_lines[] = {
	{ "defaults", "extend_threshold = 150",
	  "extend_threshold: '150' is not a percentage between 1 and 100" },
	{ "defaults", "extend_threshold = 0",
	  "extend_threshold: '0' is not a percentage between 1 and 100" },
	{ "defaults", "extend_threshold = -5",
	  "extend_threshold: '-5' is not a percentage between 1 and 100" },
	{ "defaults", "extend_threshold = 80 %",
	  "extend_threshold: '80 %' is not a percentage between 1 and 100" },
	{ "snapshot:x", "warn_threshold = 99999999999999999999",
	  "warn_threshold: '99999999999999999999' is not a percentage between 1 and 100" },
	{ "defaults", "warn_threshold = high",
	  "warn_threshold: 'high' is not a percentage between 1 and 100" },
	{ "defaults", "extend_by = 0%",
	  "extend_by: '0%' is not a percentage between 1% and 1000%" },
	{ "defaults", "extend_by = 1001%",
	  "extend_by: '1001%' is not a percentage between 1% and 1000%" },
	{ "defaults", "extend_by = 5%%",
	  "extend_by: '5%%' is not a percentage between 1% and 1000%" },
	{ "defaults", "extend_by = 12X",
	  "extend_by: '12X' is not a size like 512M or 2G" },
	{ "defaults", "extend_by = 0",
	  "extend_by: '0' is not more than 0" },
	{ "defaults", "extend_by = 1000",
	  "extend_by: '1000' is not a multiple of 512 bytes" },
	{ "defaults", "max_cow_size = 2GB",
	  "max_cow_size: '2GB' is not a size like 512M or 2G" },
	{ "defaults", "max_cow_size = 99999999999T",
	  "max_cow_size: '99999999999T' is too large" },
	{ "defaults", "autoextend = maybe",
	  "autoextend: 'maybe' is not a boolean (yes/no, true/false, on/off, 1/0)" },
	{ "defaults", "alert_command = mail -s full root ; logger full",
	  "alert_command: ' ;' starts a comment and would cut the command short; put the commands in a script" },
	{ "daemon", "log_level = verbose",
	  "log_level: 'verbose' is not a log level (err, warning, notice, info, debug)" },
	{ "daemon", "poll_interval_max = 0",
	  "poll_interval_max: '0' is not a number of seconds between 1 and 3600" },
	{ "daemon", "poll_interval_max = 10s",
	  "poll_interval_max: '10s' is not a number of seconds between 1 and 3600" },
	{ "daemon", "alert_timeout = 3601",
	  "alert_timeout: '3601' is not a number of seconds between 1 and 3600" },
	{ "daemon", "alert_timeout = -1",
	  "alert_timeout: '-1' is not a number of seconds between 1 and 3600" },
	{ "daemon", "poll_interval_max = 50%",
	  "poll_interval_max: '50%' is not a number of seconds between 1 and 3600" },
	{ "daemon", "socket_path = run/snapmgrd.sock",
	  "socket_path: 'run/snapmgrd.sock' is not an absolute path" },
	{ "daemon",
	  "socket_path = /run/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.sock",
	  "socket_path: '/run/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx.sock' is longer than 107 characters" },
	{ "daemon", "listen_metrics = 9469",
	  "listen_metrics: '9469' is not an address like 127.0.0.1:9469 or [::1]:9469" },
	{ "daemon", "listen_metrics = ::1:9469",
	  "listen_metrics: '::1:9469' is not an address like 127.0.0.1:9469 or [::1]:9469" },
	{ "daemon", "listen_metrics = :9469",
	  "listen_metrics: ':9469' is not an address like 127.0.0.1:9469 or [::1]:9469" },
	{ "daemon", "listen_metrics = 300.1.1.1:9469",
	  "listen_metrics: '300.1.1.1:9469' is not an address like 127.0.0.1:9469 or [::1]:9469" },
	{ "daemon", "listen_metrics = [::1]9469",
	  "listen_metrics: '[::1]9469' is not an address like 127.0.0.1:9469 or [::1]:9469" },
	{ "daemon", "listen_metrics = 127.0.0.1:",
	  "listen_metrics: '127.0.0.1:' is not an address like 127.0.0.1:9469 or [::1]:9469" },
	{ "daemon", "listen_metrics = 127.0.0.1:65536",
	  "listen_metrics: '127.0.0.1:65536' has no port between 1 and 65535" },
	{ "daemon", "listen_metrics = [::1]:0",
	  "listen_metrics: '[::1]:0' has no port between 1 and 65535" },
	/* Unknown keys, keys in the wrong section. */
	{ "daemon", "colour = blue", "unknown key 'colour' in [daemon]" },
	{ "defaults", "extend_treshold = 80",
	  "unknown key 'extend_treshold' in [defaults]" },
	{ "snapshot:vg0-*", "Extend_threshold = 80",
	  "unknown key 'Extend_threshold' in [snapshot:vg0-*]" },
	{ "defaults", "socket_path = /x",
	  "socket_path: not a [defaults] key; it belongs in [daemon]" },
	{ "daemon", "warn_threshold = 80",
	  "warn_threshold: not a [daemon] key; it belongs in [defaults] or [snapshot:PATTERN]" },
	/* Syntax. */
	{ "defaults", "extend_threshold", "expected 'key = value' or a [section]" },
	{ "defaults", "= 5", "missing key name before '='" },
	{ "defaults", "[defaults", "missing ']' after the section name" },
	{ "defaults", "[deamon]",
	  "unknown section '[deamon]' (expected [daemon], [defaults], [snapshot:PATTERN] or [schedule:NAME])" },
	{ "defaults", "[ daemon ]",
	  "unknown section '[ daemon ]' (expected [daemon], [defaults], [snapshot:PATTERN] or [schedule:NAME])" },
	{ "defaults", "[]", "empty section name '[]'" },
	{ "defaults", "[snapshot:]",
	  "'[snapshot:]' needs a pattern, e.g. [snapshot:vg0-*]" },
	{ "defaults", "[daemon] x", "unexpected text after '[daemon]'" },
};

static void test_bad_values(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < ELEMENTSOF(bad_lines); i++) {
		char content[512], rest[512];

		/* Line 3, after a valid line; a later good line does not
		 * hide it, a later bad one is not reported. */
		snprintf(content, sizeof(content),
			 "[%s]\n# comment\n%s\n[defaults]\nwarn_threshold = 90\nbogus = 1\n",
			 bad_lines[i].section, bad_lines[i].line);
		write_file(f, "snapmgrd.conf", content);
		snprintf(rest, sizeof(rest), ":3: %s", bad_lines[i].message);
		load_fails(f, -EINVAL, "snapmgrd.conf", rest);
	}
}

static void test_structure_errors(void **state)
{
	struct fixture *f = *state;
	char long_line[300];

	write_file(f, "snapmgrd.conf", "log_level = info\n[daemon]\n");
	load_fails(f, -EINVAL, "snapmgrd.conf",
		   ":1: log_level: outside of a section; put it under [daemon], [defaults] or [snapshot:PATTERN]");

	/* Set twice in one section of one file, even across headers. */
	write_file(f, "snapmgrd.conf",
		   "[snapshot:a*]\nwarn_threshold = 90\n"
		   "[defaults]\nwarn_threshold = 90\n"
		   "[snapshot:a*]\n\nwarn_threshold = 95\n");
	load_fails(f, -EINVAL, "snapmgrd.conf",
		   ":7: warn_threshold: already set in [snapshot:a*] on line 2");
	write_file(f, "snapmgrd.conf",
		   "[daemon]\nlog_level = info\nlog_level = debug\n");
	load_fails(f, -EINVAL, "snapmgrd.conf",
		   ":3: log_level: already set in [daemon] on line 2");

	/* An empty unknown section is still refused. */
	write_file(f, "snapmgrd.conf", "[daemon]\n[demon]\n");
	load_fails(f, -EINVAL, "snapmgrd.conf",
		   ":2: unknown section '[demon]' (expected [daemon], [defaults], [snapshot:PATTERN] or [schedule:NAME])");

	/* inih's buffer holds 199 characters: longer lines are refused. */
	memset(long_line, 'x', sizeof(long_line));
	memcpy(long_line, "[defaults]\nalert_command = ", 27);
	long_line[11 + 199] = '\n';
	long_line[11 + 200] = '\0';
	write_file(f, "snapmgrd.conf", long_line);
	{
		struct snapmgr_config *config = load_ok(f);
		struct snapmgr_policy *p = policy(config, "x");

		assert_int_equal(strlen(snapmgr_policy_get_alert_command(p)),
				 199 - 16);
		snapmgr_policy_unref(p);
		snapmgr_config_unref(config);
	}
	long_line[11 + 199] = 'x';
	long_line[11 + 200] = '\n';
	long_line[11 + 201] = '\0';
	write_file(f, "snapmgrd.conf", long_line);
	load_fails(f, -EINVAL, "snapmgrd.conf",
		   ":2: the line is longer than 199 characters");

	/* A NUL byte. */
	{
		char path[256];
		FILE *fp;

		snprintf(path, sizeof(path), "%s/snapmgrd.conf", f->dir);
		fp = fopen(path, "we");
		assert_non_null(fp);
		fwrite("[daemon]\nlog_level = in\0fo\n", 1, 27, fp);
		fclose(fp);
	}
	load_fails(f, -EINVAL, "snapmgrd.conf",
		   ":2: the line contains a NUL byte");

	/* A byte order mark, CRLF line ends and ':' are fine. */
	write_file(f, "snapmgrd.conf",
		   "\xEF\xBB\xBF[daemon]\r\nlog_level: notice\r\n");
	{
		struct snapmgr_config *config = load_ok(f);

		assert_int_equal(snapmgr_config_get_log_level(config),
				 LOG_NOTICE);
		snapmgr_config_unref(config);
	}
}

static void test_error_in_dropin(void **state)
{
	struct fixture *f = *state;

	write_file(f, "snapmgrd.conf",
		   "[defaults]\nextend_threshold = 80\n");
	write_file(f, "snapmgrd.conf.d/10-ok.conf",
		   "[defaults]\nextend_threshold = 90\n");
	write_file(f, "snapmgrd.conf.d/20-bad.conf",
		   "; refine\n[snapshot:vg0-*]\nextend_threshold = 85\n"
		   "max_cow_size = lots\n");
	/* All or nothing: one bad drop-in fails the whole load. */
	load_fails(f, -EINVAL, "snapmgrd.conf.d/20-bad.conf",
		   ":4: max_cow_size: 'lots' is not a size like 512M or 2G");

	/* The same key in another file is an override, not a duplicate. */
	write_file(f, "snapmgrd.conf.d/20-bad.conf",
		   "[defaults]\nextend_threshold = 85\n");
	snapmgr_config_unref(load_ok(f));
}

static void test_unreadable(void **state)
{
	struct fixture *f = *state;
	char path[256];

	/* snapmgrd.conf is a directory. */
	snprintf(path, sizeof(path), "%s/snapmgrd.conf", f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	load_fails(f, -EISDIR, "snapmgrd.conf", ": is a directory");
	assert_int_equal(rmdir(path), 0);

	/* So is a drop-in. */
	snprintf(path, sizeof(path), "%s/snapmgrd.conf.d", f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/snapmgrd.conf.d/x.conf", f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	load_fails(f, -EISDIR, "snapmgrd.conf.d/x.conf", ": is a directory");
	assert_int_equal(rmdir(path), 0);
	snprintf(path, sizeof(path), "%s/snapmgrd.conf.d", f->dir);
	assert_int_equal(rmdir(path), 0);

	/* snapmgrd.conf.d is a file. */
	write_file(f, "snapmgrd.conf.d", "");
	load_fails(f, -ENOTDIR, "snapmgrd.conf.d", ": Not a directory");
	assert_int_equal(unlink(path), 0);

	/* The directory given is a file. */
	write_file(f, "file", "");
	strcat(f->dir, "/file");
	load_fails(f, -ENOTDIR, "snapmgrd.conf", ": Not a directory");
	f->dir[strlen(f->dir) - strlen("/file")] = '\0';

	/* Permission denied: root reads anything, so only as a user. */
	if (geteuid() == 0)
		return;
	write_file(f, "snapmgrd.conf", "[daemon]\n");
	snprintf(path, sizeof(path), "%s/snapmgrd.conf", f->dir);
	assert_int_equal(chmod(path, 0), 0);
	load_fails(f, -EACCES, "snapmgrd.conf", ": Permission denied");
	assert_int_equal(unlink(path), 0);
	write_file(f, "snapmgrd.conf.d/a.conf", "[daemon]\n");
	snprintf(path, sizeof(path), "%s/snapmgrd.conf.d", f->dir);
	assert_int_equal(chmod(path, 0), 0);
	load_fails(f, -EACCES, "snapmgrd.conf.d", ": Permission denied");
}

static void test_dir_spelling(void **state)
{
	struct fixture *f = *state;
	struct snapmgr_config *config = NULL;
	char dir[80], *message = NULL, expected[160];

	/* A trailing slash does not double in messages. */
	write_file(f, "snapmgrd.conf", "[daemon]\nlog_level = loud\n");
	snprintf(dir, sizeof(dir), "%s//", f->dir);
	assert_int_equal(snapmgr_config_load(f->ctx, dir, &config, &message),
			 -EINVAL);
	assert_null(config);
	snprintf(expected, sizeof(expected),
		 "%s/snapmgrd.conf:2: log_level: 'loud' is not a log level (err, warning, notice, info, debug)",
		 f->dir);
	assert_string_equal(message, expected);
	free(message);

	/* The message is optional. */
	assert_int_equal(snapmgr_config_load(f->ctx, dir, &config, NULL),
			 -EINVAL);
	assert_null(config);

	assert_int_equal(snapmgr_config_load(NULL, dir, &config, NULL),
			 -EINVAL);
	assert_int_equal(snapmgr_config_load(f->ctx, dir, NULL, NULL),
			 -EINVAL);
	assert_int_equal(snapmgr_config_load(f->ctx, "", &config, NULL),
			 -EINVAL);
	assert_int_equal(snapmgr_policy_for(NULL, "x", NULL), -EINVAL);
	assert_null(snapmgr_config_unref(NULL));
	assert_null(snapmgr_config_ref(NULL));
}

static void test_next_cow_size(void **state)
{
	struct fixture *f = *state;
	struct snapmgr_config *config;
	struct snapmgr_policy *p;
	uint64_t size = 0;

	write_file(f, "snapmgrd.conf",
		   "[snapshot:pct]\nextend_by = 50%\nmax_cow_size = 2G\n"
		   "[snapshot:abs]\nextend_by = 512M\n"
		   "[snapshot:odd]\nextend_by = 1%\n");
	config = load_ok(f);

	p = policy(config, "pct");
	assert_int_equal(snapmgr_policy_next_cow_size(p, 1ULL << 30, &size),
			 0);
	assert_int_equal(size, 3ULL << 29);
	/* Capped at max_cow_size, then no room left. */
	assert_int_equal(snapmgr_policy_next_cow_size(p, 3ULL << 29, &size),
			 0);
	assert_int_equal(size, 2ULL << 30);
	size = 7;
	assert_int_equal(snapmgr_policy_next_cow_size(p, 2ULL << 30, &size),
			 -ENOSPC);
	assert_int_equal(size, 7);
	assert_int_equal(snapmgr_policy_next_cow_size(p, 0, &size), -EINVAL);
	snapmgr_policy_unref(p);

	p = policy(config, "abs");
	assert_int_equal(snapmgr_policy_next_cow_size(p, 1ULL << 30, &size),
			 0);
	assert_int_equal(size, (1ULL << 30) + (512ULL << 20));
	/* No limit: saturates instead of wrapping. */
	assert_int_equal(snapmgr_policy_next_cow_size(p, UINT64_MAX - 4096,
						      &size),
			 0);
	assert_int_equal(size, UINT64_MAX & ~UINT64_C(511));
	snapmgr_policy_unref(p);

	/* 1% of 100 sectors: rounded up to a whole sector. */
	p = policy(config, "odd");
	assert_int_equal(snapmgr_policy_next_cow_size(p, 51200, &size), 0);
	assert_int_equal(size, 51200 + 512);
	snapmgr_policy_unref(p);

	/* Built-in 20%. */
	p = policy(config, "other");
	assert_int_equal(snapmgr_policy_next_cow_size(p, 10ULL << 20, &size),
			 0);
	assert_int_equal(size, 12ULL << 20);
	snapmgr_policy_unref(p);
	snapmgr_config_unref(config);
}

/*
 * docs/snapmgrd.conf.example loads as shipped, and with every key and
 * section uncommented. Found from the binary (BUILD/tests/unit/) and
 * __FILE__, which meson gives relative to the build directory.
 */
static void test_example_file(void **state)
{
	struct fixture *f = *state;
	char exe[PATH_MAX], path[PATH_MAX * 2], line[256];
	char source[] = __FILE__;
	struct snapmgr_config *config;
	struct snapmgr_policy *p;
	unsigned int percent;
	uint64_t bytes;
	char *build;
	FILE *in, *out, *plain;
	ssize_t n;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	build = dirname(dirname(dirname(exe)));
	snprintf(path, sizeof(path), "%s%s%s/../../docs/snapmgrd.conf.example",
		 source[0] == '/' ? "" : build, source[0] == '/' ? "" : "/",
		 dirname(source));
	in = fopen(path, "re");
	if (!in)
		fail_msg("cannot open %s", path);

	snprintf(exe, sizeof(exe), "%s/snapmgrd.conf", f->dir);
	plain = fopen(exe, "we");
	snprintf(exe, sizeof(exe), "%s/snapmgrd.conf.d", f->dir);
	assert_int_equal(mkdir(exe, 0755), 0);
	snprintf(exe, sizeof(exe), "%s/snapmgrd.conf.d/all.conf", f->dir);
	out = fopen(exe, "we");
	assert_non_null(plain);
	assert_non_null(out);
	while (fgets(line, sizeof(line), in)) {
		fputs(line, plain);
		if (line[0] == '#' && (line[1] == '[' ||
				       (line[1] >= 'a' && line[1] <= 'z' &&
					strstr(line, " = "))))
			fputs(line + 1, out);
		else
			fputs(line, out);
	}
	fclose(in);
	fclose(plain);
	fclose(out);

	config = load_ok(f); /* the shipped file plus the uncommented one */
	assert_string_equal(snapmgr_config_get_listen_metrics(config),
			    "127.0.0.1:9469");
	assert_string_equal(snapmgr_config_get_socket_path(config),
			    "/run/snapmgr/snapmgrd.sock");
	assert_int_equal(snapmgr_config_get_poll_interval_max(config), 30);
	assert_int_equal(snapmgr_config_get_alert_timeout(config), 60);
	assert_int_equal(snapmgr_config_get_log_level(config), LOG_INFO);

	p = policy(config, "lv-home");
	assert_int_equal(snapmgr_policy_get_extend_threshold(p, &percent), 0);
	assert_int_equal(percent, 70);
	assert_extend_by(p, SNAPMGR_EXTEND_PERCENT, 20);
	assert_int_equal(snapmgr_policy_get_max_cow_size(p, &bytes), 0);
	assert_int_equal(bytes, 50ULL << 30);
	assert_int_equal(snapmgr_policy_get_warn_threshold(p), 80);
	assert_non_null(snapmgr_policy_get_alert_command(p));
	assert_true(snapmgr_policy_get_autoextend(p));
	snapmgr_policy_unref(p);

	p = policy(config, "vg0-root");
	assert_int_equal(snapmgr_policy_get_extend_threshold(p, &percent), 0);
	assert_int_equal(percent, 60);
	assert_extend_by(p, SNAPMGR_EXTEND_BYTES, 1ULL << 30);
	snapmgr_policy_unref(p);

	p = policy(config, "backup-1");
	assert_false(snapmgr_policy_get_autoextend(p));
	assert_int_equal(snapmgr_policy_get_warn_threshold(p), 95);
	snapmgr_policy_unref(p);
	snapmgr_config_unref(config);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_missing_dir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_main_and_dropins, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_section_precedence, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_empty_value_restores_default,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen_metrics, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_structure_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_error_in_dropin, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_unreadable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dir_spelling, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_next_cow_size, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_example_file, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
