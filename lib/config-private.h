/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal to libsnapmgr: the loaded configuration (lib/config.c) and the
 * policy settings it holds, which lib/policy.c resolves per snapshot.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "libsnapmgr-private.h"

/* Built-in defaults, documented in man/snapmgrd.conf.5. */
#define DEFAULT_SOCKET_PATH SNAPMGR_RUN_DIR "/snapmgrd.sock"
#define DEFAULT_POLL_INTERVAL_MAX 30U /* seconds */
#define DEFAULT_ALERT_TIMEOUT 60U /* seconds */
#define DEFAULT_LOG_LEVEL LOG_INFO
#define DEFAULT_WARN_THRESHOLD 80U    /* percent */
#define DEFAULT_EXTEND_BY_PERCENT 20U
#define DEFAULT_AUTOEXTEND true

enum policy_key {
	POLICY_EXTEND_THRESHOLD,
	POLICY_EXTEND_BY,
	POLICY_MAX_COW_SIZE,
	POLICY_WARN_THRESHOLD,
	POLICY_ALERT_COMMAND,
	POLICY_AUTOEXTEND,
	_POLICY_KEY_MAX,
};

#define POLICY_BIT(k) (1U << (k))

/*
 * Policy settings: what one section assigns, or a resolved policy.
 * assigned: the section names the key (possibly with an empty value, which
 * restores the built-in default). has: the key holds a value.
 */
struct policy_values {
	unsigned int assigned;
	unsigned int has;
	unsigned int extend_threshold;
	unsigned int warn_threshold;
	enum snapmgr_extend_unit extend_by_unit;
	uint64_t extend_by;
	uint64_t max_cow_size;
	char *alert_command;
	bool autoextend;
};

/* One run of keys under a [defaults] or [snapshot:GLOB] header. */
struct config_section {
	char *glob; /* NULL for [defaults] */
	struct policy_values values;
};

/* One [schedule:NAME]: keys merged over every file, checked after the last. */
struct snapmgr_schedule {
	char *name;
	char *origin;
	char **origins;      /* a set schedule: NULL-terminated; origin is NULL */
	char *cow_dir;
	uint64_t cow_size;   /* bytes */
	uint64_t interval;   /* seconds */
	bool has_keep;
	unsigned int keep;
	uint64_t keep_for;   /* seconds; 0: no age limit */
	char *pre_hook, *post_hook;
	char *where;         /* "FILE:LINE" of its first header, for messages */
};

struct snapmgr_config {
	int refcount;
	struct snapmgr_ctx *ctx;

	char *listen_metrics; /* NULL: off */
	char *metrics_host;   /* without the brackets of an IPv6 address */
	uint16_t metrics_port;
	char *socket_path;
	unsigned int poll_interval_max;
	unsigned int alert_timeout;
	int log_level;

	/* In the order read: main file, then drop-ins in lexical order. */
	struct config_section *sections;
	size_t n_sections;

	struct snapmgr_schedule *schedules;
	size_t n_schedules;
};

void policy_values_done(struct policy_values *v);
/* Applies what src assigns on top of dst; -ENOMEM. */
int policy_values_apply(struct policy_values *dst,
			const struct policy_values *src);
