/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pure half of mounting snapshots: /proc/self/mountinfo read into
 * entries (major:minor is what tells a snapshot's mount from its origin's:
 * both filesystems carry the same UUID and label), and the options each
 * filesystem type needs to show a crash-consistent image read-only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>

#include "mount-private.h"

void mount_entries_free(struct mount_entry *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].mount_point);
		free(v[i].fstype);
		free(v[i].source);
	}
	free(v);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *unescape(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;

	if (!out)
		return NULL;
	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
				      (s[3] - '0'));
			s += 4;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return out;
}

/* "ID PARENT MAJ:MIN ROOT POINT OPTS [OPTIONAL...] - TYPE SOURCE SUPER" */
static int parse_line(char *line, struct mount_entry *e)
{
	char *field[6], *save = NULL, *t, *type, *source;
	unsigned maj, min;
	char end;

	for (int i = 0; i < 6; i++) {
		field[i] = strtok_r(i ? NULL : line, " \n", &save);
		if (!field[i])
			return -EBADMSG;
	}
	do
		t = strtok_r(NULL, " \n", &save);
	while (t && !streq(t, "-"));
	type = strtok_r(NULL, " \n", &save);
	source = strtok_r(NULL, " \n", &save);
	if (!t || !type || !source)
		return -EBADMSG;
	if (sscanf(field[2], "%u:%u%c", &maj, &min, &end) != 2)
		return -EBADMSG;
	e->devnum = makedev(maj, min);
	e->mount_point = unescape(field[4]);
	e->fstype = unescape(type);
	e->source = unescape(source);
	if (!e->mount_point || !e->fstype || !e->source)
		return -ENOMEM;
	return 0;
}

int mount_table_read(struct snapmgr_ctx *ctx, const char *path,
		     struct mount_entry **ret, size_t *ret_n)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	struct mount_entry *v = NULL;
	size_t n = 0, cap = 0, len = 0;
	unsigned lineno = 0;
	int r;

	if (!path)
		path = "/proc/self/mountinfo";
	f = fopen(path, "re");
	if (!f) {
		r = negative_errno();
		return snapmgr_error(ctx, r, "cannot read %s: %s", path, strerror(-r));
	}
	while (getline(&line, &len, f) >= 0) {
		lineno++;
		if (n == cap) {
			struct mount_entry *nv;

			cap = cap ? 2 * cap : 32;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				mount_entries_free(v, n);
				return -ENOMEM;
			}
			v = nv;
		}
		memset(&v[n], 0, sizeof(v[n]));
		r = parse_line(line, &v[n]);
		if (r < 0) {
			mount_entries_free(v, n + 1);
			if (r == -EBADMSG)
				return snapmgr_error(ctx, r, "%s:%u: not a mountinfo line", path, lineno);
			return r;
		}
		n++;
	}
	*ret = v;
	*ret_n = n;
	return 0;
}

const struct mount_entry *mount_table_find_point(const struct mount_entry *v,
						 size_t n, const char *path)
{
	for (size_t i = n; i-- > 0;)
		if (streq(v[i].mount_point, path))
			return &v[i];
	return NULL;
}

bool mount_is_ext(const char *fstype)
{
	return streq(fstype, "ext2") || streq(fstype, "ext3") ||
	       streq(fstype, "ext4");
}

bool mount_ext4_needs_recovery(const uint8_t *sb, size_t len)
{
	/* s_magic at 0x38 (0xef53), s_feature_incompat at 0x60; RECOVER 0x4 */
	if (len < 0x64 || sb[0x38] != 0x53 || sb[0x39] != 0xef)
		return false;
	return sb[0x60] & 0x4;
}

/* The -o words mount(8) turns into MS_* flags instead of passing them on. */
static const struct {
	const char *name;
	unsigned long set, clear;
} flag_words[] = {
	{ "nosuid", MS_NOSUID, 0 },	{ "suid", 0, MS_NOSUID },
	{ "nodev", MS_NODEV, 0 },	{ "dev", 0, MS_NODEV },
	{ "noexec", MS_NOEXEC, 0 },	{ "exec", 0, MS_NOEXEC },
	{ "sync", MS_SYNCHRONOUS, 0 },	{ "async", 0, MS_SYNCHRONOUS },
	{ "dirsync", MS_DIRSYNC, 0 },
	{ "noatime", MS_NOATIME, 0 },	{ "atime", 0, MS_NOATIME },
	{ "nodiratime", MS_NODIRATIME, 0 }, { "diratime", 0, MS_NODIRATIME },
	{ "relatime", MS_RELATIME, 0 },	{ "norelatime", 0, MS_RELATIME },
	{ "strictatime", MS_STRICTATIME, 0 },
	{ "lazytime", MS_LAZYTIME, 0 },	{ "nolazytime", 0, MS_LAZYTIME },
	{ "silent", MS_SILENT, 0 },	{ "loud", 0, MS_SILENT },
};

static int append(char **s, const char *word)
{
	size_t old = *s ? strlen(*s) : 0;
	char *n = realloc(*s, old + strlen(word) + 2);

	if (!n)
		return -ENOMEM;
	if (old)
		n[old++] = ',';
	strcpy(n + old, word);
	*s = n;
	return 0;
}

int mount_choose_options(struct snapmgr_ctx *ctx, const char *fstype,
			 bool rw, bool new_uuid, const char *extra,
			 unsigned long *ret_flags, char **ret_data,
			 char **ret_shown)
{
	_cleanup_free_ char *data = NULL, *words = NULL, *shown = NULL;
	_cleanup_free_ char *copy = NULL;
	unsigned long flags = rw ? 0 : MS_RDONLY;
	bool xfs = streq(fstype, "xfs");
	char *save = NULL;
	int r = 0;

	/*
	 * XFS refuses a second filesystem with a mounted one's UUID, and the
	 * origin is usually mounted. norecovery: a read-only mount of a dirty
	 * log would otherwise replay it, writing to the device beneath "ro".
	 */
	if (xfs && !(rw && new_uuid))
		r |= append(&data, "nouuid");
	if (xfs && !rw)
		r |= append(&data, "norecovery");
	/* ext3/4: the same for the journal (why not a replay: snapctl(8)). */
	if (!rw && (streq(fstype, "ext3") || streq(fstype, "ext4")))
		r |= append(&data, "noload");
	if (r < 0)
		return -ENOMEM;

	if (extra) {
		copy = strdup(extra);
		if (!copy)
			return -ENOMEM;
	}
	for (char *w = copy ? strtok_r(copy, ",", &save) : NULL; w;
	     w = strtok_r(NULL, ",", &save)) {
		bool is_flag = false;

		if (streq(w, rw ? "rw" : "ro"))
			continue; /* what we do anyway */
		if (streq(w, "rw"))
			return snapmgr_error(ctx, -EINVAL, "-o rw: a writable mount needs --rw (and a writable snapshot)");
		if (streq(w, "ro"))
			return snapmgr_error(ctx, -EINVAL, "-o ro contradicts --rw");
		if (streq(w, "remount") || streq(w, "bind") || streq(w, "rbind") ||
		    streq(w, "move"))
			return snapmgr_error(ctx, -EINVAL, "-o %s: not an option of a new mount", w);
		for (size_t i = 0; i < ELEMENTSOF(flag_words); i++)
			if (streq(w, flag_words[i].name)) {
				flags = (flags | flag_words[i].set) & ~flag_words[i].clear;
				is_flag = true;
			}
		if (append(is_flag ? &words : &data, w) < 0)
			return -ENOMEM;
	}

	/* As a user reads it: ro (or rw), the data, the flag words. */
	r = append(&shown, rw ? "rw" : "ro");
	if (r == 0 && data)
		r = append(&shown, data);
	if (r == 0 && words)
		r = append(&shown, words);
	if (r < 0)
		return -ENOMEM;
	*ret_flags = flags;
	*ret_data = TAKE_PTR(data);
	*ret_shown = TAKE_PTR(shown);
	return 0;
}
