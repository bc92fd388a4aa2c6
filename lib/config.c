/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loading the policy configuration: DIR/snapmgrd.conf, then the drop-ins in
 * DIR/snapmgrd.conf.d (files named *.conf) in lexical order; see
 * snapmgrd.conf(5).
 *
 * The files are INI files read with inih. Debian builds inih without
 * INI_HANDLER_LINENO, so the handler is not told the line number; we feed
 * inih through our own reader, which counts lines exactly as inih does and
 * checks each line's syntax before inih sees it, so every message names the
 * file and line it is about. The reader also strips leading blanks, so an
 * indented line is never taken for the continuation of the previous value,
 * and refuses lines longer than inih's buffer instead of letting inih cut
 * them silently.
 *
 * Loading is all or nothing: the first error anywhere in the set fails the
 * whole load with one message, and the caller keeps its previous object.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "config-private.h"
#include "error-private.h"

#define MAIN_FILE "snapmgrd.conf"
#define DROPIN_DIR "snapmgrd.conf.d"
#define DROPIN_SUFFIX ".conf"
#define SECONDS_LIMIT 3600U /* poll_interval_max, alert_timeout */
#define EXTEND_BY_PERCENT_MAX 1000U

static const char *const policy_key_names[_POLICY_KEY_MAX] = {
	[POLICY_EXTEND_THRESHOLD] = "extend_threshold",
	[POLICY_EXTEND_BY] = "extend_by",
	[POLICY_MAX_COW_SIZE] = "max_cow_size",
	[POLICY_WARN_THRESHOLD] = "warn_threshold",
	[POLICY_ALERT_COMMAND] = "alert_command",
	[POLICY_AUTOEXTEND] = "autoextend",
};

static const char *const daemon_key_names[] = {
	"listen_metrics",
	"socket_path",
	"poll_interval_max",
	"alert_timeout",
	"log_level",
};

static const struct {
	const char *name;
	int level;
} log_levels[] = {
	{ "err", LOG_ERR },
	{ "warning", LOG_WARNING },
	{ "notice", LOG_NOTICE },
	{ "info", LOG_INFO },
	{ "debug", LOG_DEBUG },
};

/* A (section, key) already assigned in the current file. */
struct seen_key {
	char *section;
	char *key;
	unsigned int line;
};

struct parser {
	struct snapmgr_config *config;
	const char *path;
	FILE *f;
	unsigned int line;
	char *buf;
	size_t buf_size;
	/* The current line is a key whose value inih cuts at a comment. */
	bool value_has_comment;

	/* The section the current run of keys goes to, if a policy one. */
	char *section_name;
	struct config_section *section;

	struct seen_key *seen;
	size_t n_seen;

	/* First error: its line and message ("PATH:LINE: ..."), or failure. */
	char *error;
	unsigned int error_line;
	int failure; /* -ENOMEM or a read error */
};

enum section_kind {
	SECTION_NONE, /* keys before any section header */
	SECTION_UNKNOWN,
	SECTION_DAEMON,
	SECTION_DEFAULTS,
	SECTION_SNAPSHOT,
	SECTION_SCHEDULE,
};

static enum section_kind section_kind(const char *name, const char **ret_glob)
{
	const char *glob;

	if (!*name)
		return SECTION_NONE;
	if (streq(name, "daemon"))
		return SECTION_DAEMON;
	if (streq(name, "defaults"))
		return SECTION_DEFAULTS;
	glob = strchr(name, ':');
	if (glob && glob - name == 8 && strncmp(name, "snapshot", 8) == 0) {
		if (ret_glob)
			*ret_glob = glob + 1;
		return SECTION_SNAPSHOT;
	}
	if (glob && glob - name == 8 && strncmp(name, "schedule", 8) == 0) {
		if (ret_glob)
			*ret_glob = glob + 1;
		return SECTION_SCHEDULE;
	}
	return SECTION_UNKNOWN;
}

/* Records the first error, at the current line. Returns 0 for inih. */
_printf_(2, 3) static int parse_error(struct parser *p, const char *format,
				      ...)
{
	_cleanup_free_ char *message = NULL;
	va_list ap;
	int r;

	if (p->error || p->failure)
		return 0;
	va_start(ap, format);
	r = vasprintf(&message, format, ap);
	va_end(ap);
	if (r < 0 ||
	    asprintf(&p->error, "%s:%u: %s", p->path, p->line, message) < 0) {
		p->error = NULL;
		p->failure = -ENOMEM;
		return 0;
	}
	p->error_line = p->line;
	return 0;
}

static int parse_oom(struct parser *p)
{
	if (!p->failure)
		p->failure = -ENOMEM;
	return 0;
}

/*
 * inih's find_chars_or_comment(): the first of chars, or the start of an
 * inline comment (';' after a blank), or the end of the string.
 */
static const char *find_chars_or_comment(const char *s, const char *chars)
{
	bool was_space = false;

	while (*s && (!chars || !strchr(chars, *s)) &&
	       !(was_space && *s == ';')) {
		was_space = isspace((unsigned char)*s);
		s++;
	}
	return s;
}

/* What inih will make of a line (leading blanks stripped), checked first. */
static void schedule_header(struct parser *p, const char *name);

static void check_line(struct parser *p, const char *s)
{
	const char *end;

	p->value_has_comment = false;
	if (!*s || *s == ';' || *s == '#')
		return;

	if (*s == '[') {
		_cleanup_free_ char *name = NULL;

		end = find_chars_or_comment(s + 1, "]");
		if (*end != ']') {
			parse_error(p, "missing ']' after the section name");
			return;
		}
		name = strndup(s + 1, end - (s + 1));
		if (!name) {
			parse_oom(p);
			return;
		}
		end++;
		while (isspace((unsigned char)*end))
			end++;
		if (*end && *end != ';' && *end != '#') {
			parse_error(p, "unexpected text after '[%s]'", name);
			return;
		}
		switch (section_kind(name, NULL)) {
		case SECTION_NONE:
			parse_error(p, "empty section name '[]'");
			return;
		case SECTION_UNKNOWN:
			parse_error(p,
				    "unknown section '[%s]' (expected [daemon], [defaults], [snapshot:PATTERN] or [schedule:NAME])",
				    name);
			return;
		case SECTION_SNAPSHOT:
			if (streq(name, "snapshot:"))
				parse_error(p,
					    "'[snapshot:]' needs a pattern, e.g. [snapshot:vg0-*]");
			return;
		case SECTION_SCHEDULE:
			schedule_header(p, name + 9);
			return;
		default:
			return;
		}
	}

	end = find_chars_or_comment(s, "=:");
	if (*end != '=' && *end != ':') {
		parse_error(p, "expected 'key = value' or a [section]");
		return;
	}
	p->value_has_comment = *find_chars_or_comment(end + 1, NULL) != '\0';
}

/* An fgets()-like ini_reader: one whole line per call, counted. */
static char *read_line(char *str, int num, void *stream)
{
	struct parser *p = stream;
	ssize_t n;
	char *s;
	size_t len;

	errno = 0;
	n = getline(&p->buf, &p->buf_size, p->f);
	if (n < 0) {
		if (ferror(p->f) || errno == ENOMEM)
			p->failure = negative_errno();
		return NULL;
	}
	p->line++;

	s = p->buf;
	if ((size_t)n != strlen(s)) {
		parse_error(p, "the line contains a NUL byte");
		s[0] = '\0';
	}
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	if (p->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3; /* UTF-8 byte order mark */
	while (isspace((unsigned char)*s))
		s++;

	len = strlen(s);
	if (num < 1 || len > (size_t)num - 1) {
		parse_error(p, "the line is longer than %d characters", num - 1);
		len = 0;
	}
	memcpy(str, s, len);
	str[len] = '\0';
	check_line(p, str);
	return str;
}

/* "80" or "80%", from min to max. */
static int parse_percent(const char *value, unsigned int min,
			 unsigned int max, bool need_sign,
			 unsigned int *ret_percent)
{
	unsigned long v = 0;
	const char *s;

	for (s = value; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return -ERANGE;
	}
	if (s == value)
		return -EINVAL;
	if (*s == '%')
		s++;
	else if (need_sign)
		return -EINVAL;
	if (*s)
		return -EINVAL;
	if (v < min)
		return -ERANGE;
	*ret_percent = (unsigned int)v;
	return 0;
}

/* KEY = whole seconds, 1 to SECONDS_LIMIT; empty: back to the default. */
static int parse_seconds(struct parser *p, const char *key, const char *value,
			 unsigned int fallback, unsigned int *ret)
{
	unsigned int seconds;

	if (!*value) {
		*ret = fallback;
		return 1;
	}
	if (parse_percent(value, 1, SECONDS_LIMIT, false, &seconds) < 0 ||
	    strchr(value, '%'))
		return parse_error(p,
				   "%s: '%s' is not a number of seconds between 1 and %u",
				   key, value, SECONDS_LIMIT);
	*ret = seconds;
	return 1;
}

static int parse_bool(const char *value, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* A size for the COW: more than 0, whole 512-byte sectors. */
static int parse_cow_size(struct parser *p, const char *key,
			  const char *value, uint64_t *ret_bytes)
{
	uint64_t bytes;
	int r;

	r = snapmgr_parse_size(value, &bytes);
	if (r == -ERANGE)
		return parse_error(p, "%s: '%s' is too large", key, value);
	if (r < 0)
		return parse_error(p, "%s: '%s' is not a size like 512M or 2G",
				   key, value);
	if (bytes == 0)
		return parse_error(p, "%s: '%s' is not more than 0", key,
				   value);
	if (bytes % 512)
		return parse_error(p,
				   "%s: '%s' is not a multiple of 512 bytes",
				   key, value);
	*ret_bytes = bytes;
	return 1;
}

static bool is_hostname(const char *s)
{
	size_t label = 0, len = strlen(s);
	bool only_digits = true;

	if (len == 0 || len > 253)
		return false;
	for (const char *c = s; *c; c++) {
		if (*c == '.') {
			if (label == 0 || c[-1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*c) && *c != '-')
			return false;
		if (*c == '-' && label == 0)
			return false;
		if (!isdigit((unsigned char)*c))
			only_digits = false;
		if (++label > 63)
			return false;
	}
	/* "300.1.2.3" is a bad IPv4 address, not a host name. */
	return label > 0 && s[len - 1] != '-' && !only_digits;
}

/* HOST:PORT with an IPv4 address or host name, or [IPv6]:PORT. */
static int parse_listen(const char *value, char **ret_host,
			uint16_t *ret_port)
{
	_cleanup_free_ char *host = NULL;
	const char *port;
	unsigned long v = 0;
	unsigned char addr[16];

	if (value[0] == '[') {
		const char *end = strchr(value, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		host = strndup(value + 1, end - value - 1);
		if (!host)
			return -ENOMEM;
		if (inet_pton(AF_INET6, host, addr) != 1)
			return -EINVAL;
		port = end + 2;
	} else {
		const char *colon = strrchr(value, ':');

		if (!colon)
			return -EINVAL;
		host = strndup(value, colon - value);
		if (!host)
			return -ENOMEM;
		if (inet_pton(AF_INET, host, addr) != 1 && !is_hostname(host))
			return -EINVAL;
		port = colon + 1;
	}

	if (!*port)
		return -EINVAL;
	for (const char *c = port; *c; c++) {
		if (*c < '0' || *c > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*c - '0');
		if (v > 65535)
			return -ERANGE;
	}
	if (v == 0)
		return -ERANGE;
	*ret_host = TAKE_PTR(host);
	*ret_port = (uint16_t)v;
	return 0;
}

static int set_string(struct parser *p, char **dst, const char *value)
{
	char *s = NULL;

	if (value) {
		s = strdup(value);
		if (!s)
			return parse_oom(p);
	}
	free(*dst);
	*dst = s;
	return 1;
}

static int parse_daemon_key(struct parser *p, const char *key,
			    const char *value)
{
	struct snapmgr_config *c = p->config;

	if (streq(key, "listen_metrics")) {
		char *host = NULL;
		uint16_t port;
		int r;

		if (!*value) {
			free(c->metrics_host);
			c->metrics_host = NULL;
			c->metrics_port = 0;
			return set_string(p, &c->listen_metrics, NULL);
		}
		r = parse_listen(value, &host, &port);
		if (r == -ENOMEM)
			return parse_oom(p);
		if (r == -ERANGE)
			return parse_error(p,
					   "%s: '%s' has no port between 1 and 65535",
					   key, value);
		if (r < 0)
			return parse_error(p,
					   "%s: '%s' is not an address like 127.0.0.1:9469 or [::1]:9469",
					   key, value);
		free(c->metrics_host);
		c->metrics_host = host;
		c->metrics_port = port;
		return set_string(p, &c->listen_metrics, value);
	}

	if (streq(key, "socket_path")) {
		if (!*value)
			return set_string(p, &c->socket_path,
					  DEFAULT_SOCKET_PATH);
		if (value[0] != '/')
			return parse_error(p, "%s: '%s' is not an absolute path",
					   key, value);
		if (strlen(value) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return parse_error(p,
					   "%s: '%s' is longer than %zu characters",
					   key, value,
					   sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return set_string(p, &c->socket_path, value);
	}

	if (streq(key, "poll_interval_max"))
		return parse_seconds(p, key, value, DEFAULT_POLL_INTERVAL_MAX,
				     &c->poll_interval_max);
	if (streq(key, "alert_timeout"))
		return parse_seconds(p, key, value, DEFAULT_ALERT_TIMEOUT,
				     &c->alert_timeout);

	if (streq(key, "log_level")) {
		if (!*value) {
			c->log_level = DEFAULT_LOG_LEVEL;
			return 1;
		}
		for (size_t i = 0; i < ELEMENTSOF(log_levels); i++)
			if (strcasecmp(value, log_levels[i].name) == 0) {
				c->log_level = log_levels[i].level;
				return 1;
			}
		return parse_error(p,
				   "%s: '%s' is not a log level (err, warning, notice, info, debug)",
				   key, value);
	}

	for (size_t i = 0; i < ELEMENTSOF(policy_key_names); i++)
		if (streq(key, policy_key_names[i]))
			return parse_error(p,
					   "%s: not a [daemon] key; it belongs in [defaults] or [snapshot:PATTERN]",
					   key);
	return parse_error(p, "unknown key '%s' in [daemon]", key);
}

static int parse_policy_key(struct parser *p, const char *section,
			    const char *key, const char *value,
			    struct policy_values *v)
{
	enum policy_key k;
	unsigned int bit;

	for (k = 0; k < _POLICY_KEY_MAX; k++)
		if (streq(key, policy_key_names[k]))
			break;
	if (k == _POLICY_KEY_MAX) {
		for (size_t i = 0; i < ELEMENTSOF(daemon_key_names); i++)
			if (streq(key, daemon_key_names[i]))
				return parse_error(p,
						   "%s: not a [%s] key; it belongs in [daemon]",
						   key, section);
		return parse_error(p, "unknown key '%s' in [%s]", key,
				   section);
	}
	bit = POLICY_BIT(k);

	if (!*value) {
		/* Assigned but empty: restores the built-in default. */
		v->assigned |= bit;
		v->has &= ~bit;
		if (k == POLICY_ALERT_COMMAND)
			policy_values_done(v);
		return 1;
	}

	switch (k) {
	case POLICY_EXTEND_THRESHOLD:
	case POLICY_WARN_THRESHOLD: {
		unsigned int percent;

		if (parse_percent(value, 1, 100, false, &percent) < 0)
			return parse_error(p,
					   "%s: '%s' is not a percentage between 1 and 100",
					   key, value);
		if (k == POLICY_EXTEND_THRESHOLD)
			v->extend_threshold = percent;
		else
			v->warn_threshold = percent;
		break;
	}
	case POLICY_EXTEND_BY:
		if (strchr(value, '%')) {
			unsigned int percent;

			if (parse_percent(value, 1, EXTEND_BY_PERCENT_MAX,
					  true, &percent) < 0)
				return parse_error(p,
						   "%s: '%s' is not a percentage between 1%% and %u%%",
						   key, value,
						   EXTEND_BY_PERCENT_MAX);
			v->extend_by_unit = SNAPMGR_EXTEND_PERCENT;
			v->extend_by = percent;
		} else {
			uint64_t bytes;
			int r;

			r = parse_cow_size(p, key, value, &bytes);
			if (r <= 0)
				return r;
			v->extend_by_unit = SNAPMGR_EXTEND_BYTES;
			v->extend_by = bytes;
		}
		break;
	case POLICY_MAX_COW_SIZE: {
		uint64_t bytes;
		int r;

		r = parse_cow_size(p, key, value, &bytes);
		if (r <= 0)
			return r;
		v->max_cow_size = bytes;
		break;
	}
	case POLICY_ALERT_COMMAND: {
		char *s;

		if (p->value_has_comment)
			return parse_error(p,
					   "%s: ' ;' starts a comment and would cut the command short; put the commands in a script",
					   key);
		s = strdup(value);
		if (!s)
			return parse_oom(p);
		free(v->alert_command);
		v->alert_command = s;
		break;
	}
	case POLICY_AUTOEXTEND:
		if (parse_bool(value, &v->autoextend) < 0)
			return parse_error(p,
					   "%s: '%s' is not a boolean (yes/no, true/false, on/off, 1/0)",
					   key, value);
		break;
	case _POLICY_KEY_MAX:
		break;
	}
	v->assigned |= bit;
	v->has |= bit;
	return 1;
}

/* The policy section keys of this run go to, new at each section header. */
static struct config_section *current_section(struct parser *p,
					      const char *section,
					      const char *glob)
{
	struct snapmgr_config *c = p->config;
	struct config_section *sections, *s;

	if (p->section && streq(p->section_name, section))
		return p->section;

	free(p->section_name);
	p->section = NULL;
	p->section_name = strdup(section);
	if (!p->section_name)
		return NULL;

	sections = reallocarray(c->sections, c->n_sections + 1,
				sizeof(*sections));
	if (!sections)
		return NULL;
	c->sections = sections;
	s = &sections[c->n_sections];
	*s = (struct config_section){ 0 };
	if (glob) {
		s->glob = strdup(glob);
		if (!s->glob)
			return NULL;
	}
	c->n_sections++;
	p->section = s;
	return s;
}

/* Refuses a key assigned twice in one section of one file. */
static int check_duplicate(struct parser *p, const char *section,
			   const char *key)
{
	struct seen_key *seen;

	for (size_t i = 0; i < p->n_seen; i++)
		if (streq(p->seen[i].section, section) &&
		    streq(p->seen[i].key, key))
			return parse_error(p,
					   "%s: already set in [%s] on line %u",
					   key, section, p->seen[i].line);

	seen = reallocarray(p->seen, p->n_seen + 1, sizeof(*seen));
	if (!seen)
		return parse_oom(p);
	p->seen = seen;
	seen = &p->seen[p->n_seen];
	seen->section = strdup(section);
	seen->key = strdup(key);
	seen->line = p->line;
	p->n_seen++;
	if (!seen->section || !seen->key)
		return parse_oom(p);
	return 1;
}

/* --- [schedule:NAME] */

/*
 * NAME goes into snapshot names (NAME-YYYYmmddTHHMMSS), so it is a dm
 * name's characters and short enough to leave room for the timestamp.
 */
#define SCHEDULE_NAME_MAX (SNAPMGR_NAME_MAX - 16)

static struct snapmgr_schedule *schedule_find(struct snapmgr_config *c,
					      const char *name)
{
	for (size_t i = 0; i < c->n_schedules; i++)
		if (streq(c->schedules[i].name, name))
			return &c->schedules[i];
	return NULL;
}

static void schedule_header(struct parser *p, const char *name)
{
	struct snapmgr_config *c = p->config;
	struct snapmgr_schedule *v;

	if (!*name) {
		parse_error(p, "'[schedule:]' needs a name, e.g. [schedule:hourly]");
		return;
	}
	if (strlen(name) > SCHEDULE_NAME_MAX ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != strlen(name) ||
	    name[0] == '.' || name[0] == '-') {
		parse_error(p,
			    "schedule name '%s' is not 1 to %d letters, digits, '_', '.' or '-' (not first)",
			    name, SCHEDULE_NAME_MAX);
		return;
	}
	if (schedule_find(c, name))
		return; /* a later file adds to it, key by key */
	v = reallocarray(c->schedules, c->n_schedules + 1, sizeof(*v));
	if (!v) {
		parse_oom(p);
		return;
	}
	c->schedules = v;
	v = &c->schedules[c->n_schedules];
	*v = (struct snapmgr_schedule){ 0 };
	if (!(v->name = strdup(name)) ||
	    asprintf(&v->where, "%s:%u", p->path, p->line) < 0) {
		v->where = NULL;
		free(v->name);
		parse_oom(p);
		return;
	}
	c->n_schedules++;
}

static int parse_duration_key(struct parser *p, const char *key,
			      const char *value, uint64_t *ret)
{
	uint64_t s;

	if (snapmgr_parse_duration(value, &s) < 0 || s == 0 || s > UINT32_MAX)
		return parse_error(p,
				   "%s: '%s' is not a duration like 30, 10s, 5min, 1h or 1d",
				   key, value);
	*ret = s;
	return 1;
}

/*
 * origins = A B ...: the schedule takes a snapshot set of them. One key
 * with a blank-separated list, like systemd's list settings, rather than
 * a repeated origin key: this parser refuses a key given twice in a
 * section, and a later file overrides a key whole, list included.
 */
static int parse_origins(struct parser *p, struct snapmgr_schedule *s,
			 const char *value)
{
	_cleanup_strv_ char **v = NULL;
	size_t n = 0;

	v = calloc(1, sizeof(char *));
	if (!v)
		return parse_oom(p);
	for (const char *c = value;;) {
		size_t len;
		char **w;

		c += strspn(c, " \t");
		if (!*c)
			break;
		len = strcspn(c, " \t");
		for (size_t i = 0; i < n; i++)
			if (strlen(v[i]) == len && strncmp(v[i], c, len) == 0)
				return parse_error(p, "origins: '%s' is named twice",
						   v[i]);
		w = reallocarray(v, n + 2, sizeof(*w));
		if (!w)
			return parse_oom(p);
		v = w;
		v[n] = strndup(c, len);
		v[n + 1] = NULL;
		if (!v[n])
			return parse_oom(p);
		n++;
		c += len;
	}
	if (n < 2)
		return parse_error(p,
				   "origins: '%s' is not two or more origins (one origin: use origin =)",
				   value);
	strv_free(s->origins);
	s->origins = TAKE_PTR(v);
	return 1;
}

static int parse_schedule_key(struct parser *p, const char *name,
			      const char *key, const char *value)
{
	struct snapmgr_schedule *s = schedule_find(p->config, name);

	if (!s)
		return 0; /* its header was refused, and reported */
	if (streq(key, "origin")) {
		if (!*value)
			return parse_error(p, "origin: empty");
		return set_string(p, &s->origin, value);
	}
	if (streq(key, "origins"))
		return parse_origins(p, s, value);
	if (streq(key, "cow_dir")) {
		if (value[0] != '/')
			return parse_error(p, "cow_dir: '%s' is not an absolute path",
					   value);
		return set_string(p, &s->cow_dir, value);
	}
	if (streq(key, "cow_size"))
		return parse_cow_size(p, key, value, &s->cow_size);
	if (streq(key, "interval"))
		return parse_duration_key(p, key, value, &s->interval);
	if (streq(key, "keep_for"))
		return parse_duration_key(p, key, value, &s->keep_for);
	if (streq(key, "keep")) {
		unsigned int n;

		if (parse_percent(value, 1, 100000, false, &n) < 0)
			return parse_error(p,
					   "keep: '%s' is not a number of snapshots between 1 and 100000",
					   value);
		s->has_keep = true;
		s->keep = n;
		return 1;
	}
	if (streq(key, "pre_hook"))
		return set_string(p, &s->pre_hook, *value ? value : NULL);
	if (streq(key, "post_hook"))
		return set_string(p, &s->post_hook, *value ? value : NULL);
	return parse_error(p, "unknown key '%s' in [schedule:%s]", key, name);
}

_printf_(2, 3) static int set_message(char **message, const char *format, ...);

/* After the last file: each schedule has what it needs to run. */
static int schedules_check(struct snapmgr_config *c, char **ret_message)
{
	for (size_t i = 0; i < c->n_schedules; i++) {
		const struct snapmgr_schedule *s = &c->schedules[i];
		const char *missing = !s->origin && !s->origins ? "origin or origins" :
				      !s->cow_dir ? "cow_dir" :
				      !s->cow_size ? "cow_size" :
				      !s->interval ? "interval" :
				      !s->has_keep && !s->keep_for ? "keep or keep_for" : NULL;

		if (missing) {
			if (ret_message)
				set_message(ret_message, "%s: [schedule:%s] has no %s",
					    s->where, s->name, missing);
			return -EINVAL;
		}
		if (s->origin && s->origins) {
			if (ret_message)
				set_message(ret_message,
					    "%s: [schedule:%s] has both origin and origins; give one",
					    s->where, s->name);
			return -EINVAL;
		}
	}
	return 0;
}

static int handle_key(void *user, const char *section, const char *key,
		      const char *value)
{
	struct parser *p = user;
	const char *glob = NULL;
	enum section_kind kind;
	struct config_section *s;
	int r;

	if (p->error || p->failure)
		return 0;

	kind = section_kind(section, &glob);
	if (kind == SECTION_NONE)
		return parse_error(p,
				   "%s: outside of a section; put it under [daemon], [defaults] or [snapshot:PATTERN]",
				   *key ? key : "=");
	if (kind == SECTION_UNKNOWN)
		return 0; /* already reported at the header */
	if (!*key)
		return parse_error(p, "missing key name before '='");

	r = check_duplicate(p, section, key);
	if (r <= 0)
		return r;

	if (kind == SECTION_DAEMON)
		return parse_daemon_key(p, key, value);
	if (kind == SECTION_SCHEDULE)
		return parse_schedule_key(p, glob, key, value);

	s = current_section(p, section, kind == SECTION_SNAPSHOT ? glob : NULL);
	if (!s)
		return parse_oom(p);
	return parse_policy_key(p, section, key, value, &s->values);
}

static void parser_done(struct parser *p)
{
	for (size_t i = 0; i < p->n_seen; i++) {
		free(p->seen[i].section);
		free(p->seen[i].key);
	}
	free(p->seen);
	free(p->section_name);
	free(p->buf);
	free(p->error);
}

static int set_message(char **message, const char *format, ...)
	_printf_(2, 3);
static int set_message(char **message, const char *format, ...)
{
	va_list ap;
	int r;

	va_start(ap, format);
	r = vasprintf(message, format, ap);
	va_end(ap);
	if (r < 0) {
		*message = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Reads one file into config. A missing file is fine when missing_ok. */
static int parse_file(struct snapmgr_config *config, const char *path,
		      char **ret_message)
{
	_cleanup_fclose_ FILE *f = NULL;
	struct parser p = { .config = config, .path = path };
	struct stat st;
	int r;

	f = fopen(path, "re");
	if (!f) {
		r = negative_errno();
		if (r == -ENOENT) {
			log_debug(config->ctx, "%s: not found", path);
			return 0;
		}
		set_message(ret_message, "%s: %s", path, strerrordesc_np(-r));
		return r;
	}
	if (fstat(fileno(f), &st) < 0) {
		r = negative_errno();
		set_message(ret_message, "%s: %s", path, strerrordesc_np(-r));
		return r;
	}
	if (S_ISDIR(st.st_mode)) {
		set_message(ret_message, "%s: is a directory", path);
		return -EISDIR;
	}

	log_debug(config->ctx, "reading %s", path);
	p.f = f;
	r = ini_parse_stream(read_line, &p, handle_key, &p);

	if (p.failure == -ENOMEM || r == -2) {
		r = -ENOMEM;
	} else if (p.failure) {
		r = p.failure;
		set_message(ret_message, "%s: %s", path,
			    strerrordesc_np(-r));
	} else if (r > 0 && (!p.error || (unsigned int)r < p.error_line)) {
		/* A syntax error check_line() did not foresee. */
		set_message(ret_message, "%s:%d: syntax error", path, r);
		r = -EINVAL;
	} else if (p.error) {
		*ret_message = TAKE_PTR(p.error);
		r = -EINVAL;
	} else if (r < 0) {
		r = -EIO;
		set_message(ret_message, "%s: cannot be read", path);
	}
	parser_done(&p);
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The drop-ins *.conf of dir, in lexical (strcmp) order. */
static int list_dropins(const char *dir, char ***ret_names, size_t *ret_n,
			char **ret_message)
{
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = opendir(dir);
	if (!d) {
		r = negative_errno();
		if (r == -ENOENT) {
			*ret_names = NULL;
			*ret_n = 0;
			return 0;
		}
		set_message(ret_message, "%s: %s", dir, strerrordesc_np(-r));
		return r;
	}
	for (;;) {
		size_t len;
		char **grown;

		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno) {
				r = negative_errno();
				set_message(ret_message, "%s: %s", dir,
					    strerrordesc_np(-r));
			}
			break;
		}
		len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= strlen(DROPIN_SUFFIX) ||
		    !streq(de->d_name + len - strlen(DROPIN_SUFFIX),
			   DROPIN_SUFFIX))
			continue;
		grown = reallocarray(names, n + 1, sizeof(*names));
		if (!grown) {
			r = -ENOMEM;
			break;
		}
		names = grown;
		names[n] = strdup(de->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (r < 0) {
		free_names(names, n);
		return r;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*ret_names = names;
	*ret_n = n;
	return 0;
}

static int config_new(struct snapmgr_ctx *ctx,
		      struct snapmgr_config **ret_config)
{
	struct snapmgr_config *c;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->refcount = 1;
	c->ctx = snapmgr_ref(ctx);
	c->poll_interval_max = DEFAULT_POLL_INTERVAL_MAX;
	c->alert_timeout = DEFAULT_ALERT_TIMEOUT;
	c->log_level = DEFAULT_LOG_LEVEL;
	c->socket_path = strdup(DEFAULT_SOCKET_PATH);
	if (!c->socket_path) {
		snapmgr_config_unref(c);
		return -ENOMEM;
	}
	*ret_config = c;
	return 0;
}

static int config_read(struct snapmgr_config *config, const char *dir,
		       char **ret_message)
{
	_cleanup_free_ char *path = NULL, *dropin_dir = NULL;
	char **names = NULL;
	size_t n = 0;
	int r;

	if (asprintf(&path, "%s/%s", dir, MAIN_FILE) < 0) {
		path = NULL;
		return -ENOMEM;
	}
	r = parse_file(config, path, ret_message);
	if (r < 0)
		return r;

	if (asprintf(&dropin_dir, "%s/%s", dir, DROPIN_DIR) < 0) {
		dropin_dir = NULL;
		return -ENOMEM;
	}
	r = list_dropins(dropin_dir, &names, &n, ret_message);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i++) {
		_cleanup_free_ char *dropin = NULL;

		if (asprintf(&dropin, "%s/%s", dropin_dir, names[i]) < 0) {
			dropin = NULL;
			r = -ENOMEM;
			break;
		}
		r = parse_file(config, dropin, ret_message);
	}
	free_names(names, n);
	return r < 0 ? r : 0;
}

_public_ int snapmgr_config_load(struct snapmgr_ctx *ctx, const char *dir,
				 struct snapmgr_config **ret_config,
				 char **reterr_message)
{
	_cleanup_free_ char *top = NULL, *message = NULL;
	struct snapmgr_config *config = NULL;
	size_t len;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !ret_config || (dir && !*dir))
		return -EINVAL;

	/* "/etc/snapmgr/" names files /etc/snapmgr/snapmgrd.conf. */
	top = strdup(dir ? dir : SNAPMGR_CONF_DIR);
	if (!top)
		return -ENOMEM;
	len = strlen(top);
	while (len > 1 && top[len - 1] == '/')
		top[--len] = '\0';
	if (streq(top, "/"))
		top[0] = '\0';

	r = config_new(ctx, &config);
	if (r >= 0)
		r = config_read(config, top, &message);
	if (r >= 0)
		r = schedules_check(config, &message);
	if (r < 0) {
		snapmgr_config_unref(config);
		if (r == -ENOMEM && !message)
			set_message(&message, "out of memory");
		if (reterr_message)
			*reterr_message = TAKE_PTR(message);
		return r;
	}
	log_debug(ctx, "configuration from %s: %zu policy sections",
		  top[0] ? top : "/", config->n_sections);
	*ret_config = config;
	return 0;
}

_public_ struct snapmgr_config *
snapmgr_config_ref(struct snapmgr_config *config)
{
	if (config)
		config->refcount++;
	return config;
}

_public_ struct snapmgr_config *
snapmgr_config_unref(struct snapmgr_config *config)
{
	if (!config || --config->refcount > 0)
		return NULL;
	for (size_t i = 0; i < config->n_sections; i++) {
		free(config->sections[i].glob);
		policy_values_done(&config->sections[i].values);
	}
	free(config->sections);
	for (size_t i = 0; i < config->n_schedules; i++) {
		struct snapmgr_schedule *s = &config->schedules[i];

		free(s->name);
		free(s->origin);
		strv_free(s->origins);
		free(s->cow_dir);
		free(s->pre_hook);
		free(s->post_hook);
		free(s->where);
	}
	free(config->schedules);
	free(config->listen_metrics);
	free(config->metrics_host);
	free(config->socket_path);
	snapmgr_unref(config->ctx);
	free(config);
	return NULL;
}

_public_ const char *
snapmgr_config_get_listen_metrics(const struct snapmgr_config *config)
{
	return config ? config->listen_metrics : NULL;
}

_public_ int
snapmgr_config_get_metrics_address(const struct snapmgr_config *config,
				   const char **ret_host, uint16_t *ret_port)
{
	if (!config || !ret_host || !ret_port)
		return -EINVAL;
	if (!config->listen_metrics)
		return -ENODATA;
	*ret_host = config->metrics_host;
	*ret_port = config->metrics_port;
	return 0;
}

_public_ const char *
snapmgr_config_get_socket_path(const struct snapmgr_config *config)
{
	return config ? config->socket_path : DEFAULT_SOCKET_PATH;
}

_public_ unsigned int
snapmgr_config_get_poll_interval_max(const struct snapmgr_config *config)
{
	return config ? config->poll_interval_max : DEFAULT_POLL_INTERVAL_MAX;
}

_public_ unsigned int
snapmgr_config_get_alert_timeout(const struct snapmgr_config *config)
{
	return config ? config->alert_timeout : DEFAULT_ALERT_TIMEOUT;
}

_public_ int snapmgr_config_get_log_level(const struct snapmgr_config *config)
{
	return config ? config->log_level : DEFAULT_LOG_LEVEL;
}

_public_ size_t
snapmgr_config_get_schedule_count(const struct snapmgr_config *config)
{
	return config ? config->n_schedules : 0;
}

_public_ const struct snapmgr_schedule *
snapmgr_config_get_schedule(const struct snapmgr_config *config, size_t index)
{
	return config && index < config->n_schedules ? &config->schedules[index] : NULL;
}

_public_ const char *snapmgr_schedule_get_name(const struct snapmgr_schedule *s)
{
	return s ? s->name : NULL;
}

_public_ const char *snapmgr_schedule_get_origin(const struct snapmgr_schedule *s)
{
	return s ? s->origin : NULL;
}

_public_ const char *const *
snapmgr_schedule_get_origins(const struct snapmgr_schedule *s)
{
	return s ? (const char *const *)s->origins : NULL;
}

_public_ const char *snapmgr_schedule_get_cow_dir(const struct snapmgr_schedule *s)
{
	return s ? s->cow_dir : NULL;
}

_public_ uint64_t snapmgr_schedule_get_cow_size(const struct snapmgr_schedule *s)
{
	return s ? s->cow_size : 0;
}

_public_ uint64_t snapmgr_schedule_get_interval(const struct snapmgr_schedule *s)
{
	return s ? s->interval : 0;
}

_public_ int snapmgr_schedule_get_keep(const struct snapmgr_schedule *s,
				       unsigned int *ret_keep)
{
	if (!s || !ret_keep)
		return -EINVAL;
	if (!s->has_keep)
		return -ENODATA;
	*ret_keep = s->keep;
	return 0;
}

_public_ uint64_t snapmgr_schedule_get_keep_for(const struct snapmgr_schedule *s)
{
	return s ? s->keep_for : 0;
}

_public_ const char *snapmgr_schedule_get_pre_hook(const struct snapmgr_schedule *s)
{
	return s ? s->pre_hook : NULL;
}

_public_ const char *snapmgr_schedule_get_post_hook(const struct snapmgr_schedule *s)
{
	return s ? s->post_hook : NULL;
}
