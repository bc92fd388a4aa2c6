/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Resolving the policy of one snapshot from the loaded configuration.
 *
 * Start from the built-in defaults; apply every [defaults] section in the
 * order read (main file, then drop-ins in lexical order); then apply every
 * [snapshot:GLOB] section whose GLOB matches the snapshot's device-mapper
 * name, again in the order read. Each section overrides only the keys it
 * assigns, so a later section refines an earlier one key by key, and a
 * [snapshot:GLOB] key always beats a [defaults] key. An empty value restores
 * the built-in default.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "config-private.h"

struct snapmgr_policy {
	int refcount;
	struct policy_values values;
};

static const struct policy_values builtin = {
	.has = POLICY_BIT(POLICY_EXTEND_BY) |
	       POLICY_BIT(POLICY_WARN_THRESHOLD) |
	       POLICY_BIT(POLICY_AUTOEXTEND),
	.warn_threshold = DEFAULT_WARN_THRESHOLD,
	.extend_by_unit = SNAPMGR_EXTEND_PERCENT,
	.extend_by = DEFAULT_EXTEND_BY_PERCENT,
	.autoextend = DEFAULT_AUTOEXTEND,
};

void policy_values_done(struct policy_values *v)
{
	free(v->alert_command);
	v->alert_command = NULL;
}

/* Copies key k from src (which holds it or not) into dst. */
static int copy_key(struct policy_values *dst, const struct policy_values *src,
		    enum policy_key k)
{
	unsigned int bit = POLICY_BIT(k);

	if (!(src->has & bit)) {
		dst->has &= ~bit;
		if (k == POLICY_ALERT_COMMAND)
			policy_values_done(dst);
		return 0;
	}
	switch (k) {
	case POLICY_EXTEND_THRESHOLD:
		dst->extend_threshold = src->extend_threshold;
		break;
	case POLICY_EXTEND_BY:
		dst->extend_by_unit = src->extend_by_unit;
		dst->extend_by = src->extend_by;
		break;
	case POLICY_MAX_COW_SIZE:
		dst->max_cow_size = src->max_cow_size;
		break;
	case POLICY_WARN_THRESHOLD:
		dst->warn_threshold = src->warn_threshold;
		break;
	case POLICY_ALERT_COMMAND: {
		char *s = strdup(src->alert_command);

		if (!s)
			return -ENOMEM;
		free(dst->alert_command);
		dst->alert_command = s;
		break;
	}
	case POLICY_AUTOEXTEND:
		dst->autoextend = src->autoextend;
		break;
	case _POLICY_KEY_MAX:
		break;
	}
	dst->has |= bit;
	return 0;
}

int policy_values_apply(struct policy_values *dst,
			const struct policy_values *src)
{
	for (enum policy_key k = 0; k < _POLICY_KEY_MAX; k++) {
		int r;

		if (!(src->assigned & POLICY_BIT(k)))
			continue;
		/* Assigned without a value: back to the built-in default. */
		r = copy_key(dst, (src->has & POLICY_BIT(k)) ? src : &builtin,
			     k);
		if (r < 0)
			return r;
		dst->assigned |= POLICY_BIT(k);
	}
	return 0;
}

_public_ int snapmgr_policy_for(const struct snapmgr_config *config,
				const char *snapshot_name,
				struct snapmgr_policy **ret_policy)
{
	struct snapmgr_policy *policy;
	int r = 0;

	if (!config || !snapshot_name || !ret_policy)
		return -EINVAL;

	policy = calloc(1, sizeof(*policy));
	if (!policy)
		return -ENOMEM;
	policy->refcount = 1;
	policy->values = builtin;

	for (size_t i = 0; i < config->n_sections && r >= 0; i++)
		if (!config->sections[i].glob)
			r = policy_values_apply(&policy->values,
						&config->sections[i].values);
	for (size_t i = 0; i < config->n_sections && r >= 0; i++) {
		const struct config_section *s = &config->sections[i];

		if (!s->glob || fnmatch(s->glob, snapshot_name, 0) != 0)
			continue;
		log_debug(config->ctx, "%s: matches [snapshot:%s]",
			  snapshot_name, s->glob);
		r = policy_values_apply(&policy->values, &s->values);
	}
	if (r < 0) {
		snapmgr_policy_unref(policy);
		return r;
	}
	*ret_policy = policy;
	return 0;
}

_public_ struct snapmgr_policy *
snapmgr_policy_ref(struct snapmgr_policy *policy)
{
	if (policy)
		policy->refcount++;
	return policy;
}

_public_ struct snapmgr_policy *
snapmgr_policy_unref(struct snapmgr_policy *policy)
{
	if (!policy || --policy->refcount > 0)
		return NULL;
	policy_values_done(&policy->values);
	free(policy);
	return NULL;
}

static bool has(const struct snapmgr_policy *policy, enum policy_key k)
{
	return policy->values.has & POLICY_BIT(k);
}

_public_ int
snapmgr_policy_get_extend_threshold(const struct snapmgr_policy *policy,
				    unsigned int *ret_percent)
{
	if (!policy || !ret_percent)
		return -EINVAL;
	if (!has(policy, POLICY_EXTEND_THRESHOLD))
		return -ENODATA;
	*ret_percent = policy->values.extend_threshold;
	return 0;
}

_public_ int snapmgr_policy_get_extend_by(const struct snapmgr_policy *policy,
					  enum snapmgr_extend_unit *ret_unit,
					  uint64_t *ret_value)
{
	if (!policy || !ret_unit || !ret_value)
		return -EINVAL;
	*ret_unit = policy->values.extend_by_unit;
	*ret_value = policy->values.extend_by;
	return 0;
}

_public_ int
snapmgr_policy_get_max_cow_size(const struct snapmgr_policy *policy,
				uint64_t *ret_bytes)
{
	if (!policy || !ret_bytes)
		return -EINVAL;
	if (!has(policy, POLICY_MAX_COW_SIZE))
		return -ENODATA;
	*ret_bytes = policy->values.max_cow_size;
	return 0;
}

_public_ unsigned int
snapmgr_policy_get_warn_threshold(const struct snapmgr_policy *policy)
{
	return policy ? policy->values.warn_threshold : DEFAULT_WARN_THRESHOLD;
}

_public_ const char *
snapmgr_policy_get_alert_command(const struct snapmgr_policy *policy)
{
	return policy ? policy->values.alert_command : NULL;
}

_public_ bool snapmgr_policy_get_autoextend(const struct snapmgr_policy *policy)
{
	return policy ? policy->values.autoextend : DEFAULT_AUTOEXTEND;
}

_public_ int snapmgr_policy_next_cow_size(const struct snapmgr_policy *policy,
					  uint64_t cow_size,
					  uint64_t *ret_size)
{
	const struct policy_values *v;
	uint64_t step, size;

	if (!policy || !ret_size || cow_size == 0)
		return -EINVAL;
	v = &policy->values;

	if (v->extend_by_unit == SNAPMGR_EXTEND_PERCENT) {
		unsigned __int128 s = (unsigned __int128)cow_size *
				      v->extend_by;

		s = (s + 99) / 100;
		step = s > UINT64_MAX ? UINT64_MAX : (uint64_t)s;
	} else {
		step = v->extend_by;
	}
	/* Whole sectors; at least one. */
	if (__builtin_add_overflow(step, 511, &step))
		step = UINT64_MAX;
	step &= ~UINT64_C(511);
	if (step == 0)
		step = 512;

	if (__builtin_add_overflow(cow_size, step, &size))
		size = UINT64_MAX & ~UINT64_C(511);
	if (has(policy, POLICY_MAX_COW_SIZE) && size > v->max_cow_size)
		size = v->max_cow_size;
	if (size <= cow_size)
		return -ENOSPC;
	*ret_size = size;
	return 0;
}
