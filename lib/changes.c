/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which origin extents were written since a snapshot was taken: the old
 * chunks of its persistent exception store, read while it is active.
 *
 * The store is parsed by the one reader in lib/cow-store.c (inspect uses
 * it too), here fed through an O_DIRECT, read-only file descriptor on the
 * COW device found from the snapshot's dm table: the kernel writes the
 * store with bios beneath any page cache, so only direct reads see what it
 * committed, and nothing is ever written.
 *
 * Why the list is complete: dm-snapshot holds an origin write until the
 * exception of every snapshot it concerns is committed, and
 * persistent_commit_exception() (drivers/md/dm-snap-persistent.c) calls the
 * callbacks that release those writes only after the metadata area holding
 * the new exception was written with REQ_PREFLUSH | REQ_FUA. So an origin
 * write that was acknowledged has its exception on disk; exceptions still
 * being batched in memory belong to writes that have not completed yet. If
 * that area write fails, the snapshot is invalidated, and we refuse invalid
 * snapshots (looked at before and after the store is read).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "blockdev.h"
#include "changes.h"
#include "dm.h"
#include "dm-parse.h"
#include "error-private.h"
#include "json-util.h"
#include "snapshot-use.h"

struct snapmgr_changes {
	int refcount;
	char *snapshot;
	char *uuid;
	char *origin;     /* snapshot-origin name, or NULL */
	char *cow_device;
	enum snapmgr_owner owner;
	dev_t origin_devnum; /* the origin device in the snapshot's table */
	dev_t snapshot_devnum;
	dev_t cow_devnum;
	uint64_t origin_size;
	uint64_t granularity;
	uint64_t exception_count;
	struct snapmgr_range *ranges;
	size_t n_ranges;
	uint64_t changed_bytes;
	/* From snapmgr_changes_since(): the token and the era it names. */
	char *token;
	uint32_t token_era;
};

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int changes_ranges_from_store(struct snapmgr_ctx *ctx,
			      const struct snapmgr_cow_store *store,
			      uint64_t origin_size,
			      struct snapmgr_range **ret_ranges,
			      size_t *ret_n)
{
	uint64_t n = snapmgr_cow_store_get_exception_count(store);
	uint64_t chunk = (uint64_t)snapmgr_cow_store_get_chunk_sectors(store) *
			 512;
	_cleanup_free_ uint64_t *old = NULL;
	_cleanup_free_ struct snapmgr_range *ranges = NULL;
	size_t k = 0;

	if (!chunk)
		return snapmgr_error(ctx, -EBADMSG, "the exception store has no chunk size");
	if (n) {
		old = malloc(n * sizeof(*old));
		ranges = malloc(n * sizeof(*ranges));
		if (!old || !ranges)
			return -ENOMEM;
	}
	for (uint64_t i = 0; i < n; i++)
		if (snapmgr_cow_store_get_exception(store, i, &old[i], NULL) < 0)
			return -EIO;
	qsort(old, n, sizeof(*old), compare_u64);

	for (uint64_t i = 0; i < n; i++) {
		uint64_t off, len = chunk;

		if (i && old[i] == old[i - 1])
			continue; /* a duplicate (inspect reports it) */
		if (old[i] > UINT64_MAX / chunk ||
		    (off = old[i] * chunk) >= origin_size)
			return snapmgr_error(ctx, -EBADMSG,
					     "exception for chunk %" PRIu64 " lies past the end of the origin (%" PRIu64 " bytes)",
					     old[i], origin_size);
		/* The last chunk may be partial: the origin ends there. */
		if (len > origin_size - off)
			len = origin_size - off;
		if (k && ranges[k - 1].offset + ranges[k - 1].length == off)
			ranges[k - 1].length += len;
		else
			ranges[k++] = (struct snapmgr_range){ off, len };
	}
	*ret_ranges = TAKE_PTR(ranges);
	*ret_n = k;
	return 0;
}

/*
 * The store read with O_DIRECT: a bounce buffer aligned to the device's
 * logical block size; reads are widened to whole blocks.
 */
struct direct_reader {
	int fd;
	uint64_t size;
	uint32_t align;
	uint8_t *buf;
	size_t buf_size;
};

static int64_t direct_read(void *userdata, void *out, size_t len,
			   uint64_t offset)
{
	struct direct_reader *d = userdata;
	size_t done = 0;

	if (offset >= d->size)
		return 0;
	if (len > d->size - offset)
		len = (size_t)(d->size - offset);
	while (done < len) {
		uint64_t pos = offset + done;
		uint64_t start = pos - pos % d->align;
		size_t skip = (size_t)(pos - start);
		size_t want = skip + (len - done);
		ssize_t n;

		want = (want + d->align - 1) / d->align * d->align;
		if (want > d->buf_size)
			want = d->buf_size;
		n = pread(d->fd, d->buf, want, (off_t)start);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if ((size_t)n <= skip)
			break;
		n -= (ssize_t)skip;
		if ((size_t)n > len - done)
			n = (ssize_t)(len - done);
		memcpy((uint8_t *)out + done, d->buf + skip, (size_t)n);
		done += (size_t)n;
	}
	return (int64_t)done;
}

int changes_open_store(struct snapmgr_ctx *ctx, const char *cow_path,
		       uint64_t origin_size, struct snapmgr_cow_store **ret)
{
	struct direct_reader d = { .fd = -1, .buf_size = 1024 * 1024 };
	struct stat st;
	int sector = 512, r;

	d.fd = open(cow_path, O_RDONLY | O_DIRECT | O_CLOEXEC | O_NOCTTY);
	if (d.fd < 0) {
		r = negative_errno();
		return snapmgr_error(ctx, r, "cannot open the COW device %s: %s",
				     cow_path, strerror(-r));
	}
	if (fstat(d.fd, &st) < 0 || !S_ISBLK(st.st_mode)) {
		close(d.fd);
		return snapmgr_error(ctx, -ENOTBLK, "the COW %s is not a block device", cow_path);
	}
	if (ioctl(d.fd, BLKGETSIZE64, &d.size) < 0 ||
	    ioctl(d.fd, BLKSSZGET, &sector) < 0) {
		r = negative_errno();
		close(d.fd);
		return r;
	}
	d.align = sector > 0 ? (uint32_t)sector : 512;
	if (posix_memalign((void **)&d.buf, 4096, d.buf_size) != 0) {
		close(d.fd);
		return -ENOMEM;
	}
	r = snapmgr_cow_store_new_from_reader(ctx, direct_read, &d, d.size,
					      origin_size, ret);
	free(d.buf);
	close(d.fd);
	return r;
}

static struct snapmgr_changes *changes_free(struct snapmgr_changes *c)
{
	if (!c)
		return NULL;
	free(c->snapshot);
	free(c->uuid);
	free(c->origin);
	free(c->cow_device);
	free(c->token);
	free(c->ranges);
	free(c);
	return NULL;
}

static inline void changes_freep(struct snapmgr_changes **c)
{
	changes_free(*c);
}

static inline void store_unrefp(struct snapmgr_cow_store **s)
{
	snapmgr_cow_store_unref(*s);
}

/* A snapshot whose changes cannot be known. */
static const struct state_refusals changes_refusals = {
	.invalid = "changes unknown: snapshot invalid; take a full backup",
	.overflow = "changes unknown: snapshot invalid; take a full backup",
	.merging = "changes unknown: snapshot merging into its origin",
	.merge_failed = "changes unknown: snapshot's merge failed; take a full backup",
	.unknown = "changes unknown: snapshot in an unknown state",
};

_public_ int snapmgr_changes_get(struct snapmgr_ctx *ctx, const char *name,
				 struct snapmgr_changes **ret)
{
	_cleanup_(changes_freep) struct snapmgr_changes *c = NULL;
	_cleanup_(snapshot_unrefp) struct snapmgr_snapshot *snap = NULL;
	_cleanup_(store_unrefp) struct snapmgr_cow_store *store = NULL;
	_cleanup_smdm_device_ struct smdm_device *table = NULL;
	struct snapmgr_usage usage = SNAPMGR_RESULT(struct snapmgr_usage);
	bool persistent;
	uint32_t chunk_sectors;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !name || !ret)
		return -EINVAL;

	r = snapshot_get_usable(ctx, name, &changes_refusals, &snap);
	if (r < 0)
		return r;
	r = snapshot_table_get(ctx, name, "changes unknown: the table is no longer a single snapshot target",
			       &table);
	if (r < 0)
		return r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->refcount = 1;
	c->snapshot = strdup(name);
	c->uuid = strdup(table->uuid ? table->uuid : "");
	if (!c->snapshot || !c->uuid)
		return -ENOMEM;
	if (snapmgr_snapshot_get_origin(snap)) {
		c->origin = strdup(snapmgr_snapshot_get_origin(snap));
		if (!c->origin)
			return -ENOMEM;
	}
	c->owner = snapmgr_snapshot_get_owner(snap);
	c->snapshot_devnum = table->devnum;
	r = parse_snapshot_table(table->params, &c->origin_devnum,
				 &c->cow_devnum, &persistent, &chunk_sectors);
	if (r < 0)
		return snapmgr_error(ctx, r, "cannot parse the snapshot table '%s'", table->params);
	if (!persistent)
		return snapmgr_error(ctx, -EOPNOTSUPP, "changes unknown: a transient (N) snapshot keeps its exceptions in memory only");
	/* The snapshot target is as long as its origin was when it was loaded. */
	c->origin_size = table->length * 512;
	c->granularity = (uint64_t)chunk_sectors * 512;
	r = blockdev_path_for_devnum(c->cow_devnum, &c->cow_device);
	if (r < 0)
		return snapmgr_error(ctx, r, "cannot find the COW device %u:%u",
				     major(c->cow_devnum), minor(c->cow_devnum));

	r = changes_open_store(ctx, c->cow_device, c->origin_size, &store);
	if (r == -E2BIG)
		return snapmgr_error(ctx, r, "more than %" PRIu64 " exceptions, too many to list",
				     (uint64_t)SNAPMGR_COW_MAX_EXCEPTIONS);
	if (r < 0)
		return r;
	if (!snapmgr_cow_store_get_valid(store))
		return snapmgr_error(ctx, -ESTALE, "changes unknown: snapshot invalid; take a full backup");
	if (snapmgr_cow_store_get_chunk_sectors(store) != chunk_sectors)
		return snapmgr_error(ctx, -EBADMSG,
				     "the exception store's chunk size (%" PRIu32 " sectors) differs from the table's (%" PRIu32 ")",
				     snapmgr_cow_store_get_chunk_sectors(store), chunk_sectors);
	if (snapmgr_cow_store_get_worst_severity(store) >= (int)SNAPMGR_SEVERITY_ERROR) {
		const char *msg = NULL;
		enum snapmgr_severity sev;

		for (size_t i = 0; snapmgr_cow_store_get_finding(store, i, NULL, &sev, &msg) == 0; i++)
			if (sev == SNAPMGR_SEVERITY_ERROR)
				break;
		return snapmgr_error(ctx, -EBADMSG, "changes unknown: exception store inconsistent: %s", msg ? msg : "?");
	}
	r = changes_ranges_from_store(ctx, store, c->origin_size, &c->ranges,
				      &c->n_ranges);
	if (r < 0)
		return r;
	c->exception_count = snapmgr_cow_store_get_exception_count(store);
	for (size_t i = 0; i < c->n_ranges; i++)
		c->changed_bytes += c->ranges[i].length;

	/* Invalidated while we read: what we read may be incomplete. */
	r = snapmgr_snapshot_read_usage(ctx, name, &usage);
	if (r < 0)
		return snapmgr_error(ctx, r, "changes unknown: the snapshot went away while its store was read");
	r = snapshot_check_state(ctx, usage.state, &changes_refusals);
	if (r < 0)
		return r;

	log_debug(ctx, "%s: %" PRIu64 " exceptions, %zu ranges, %" PRIu64 " bytes changed",
		  name, c->exception_count, c->n_ranges, c->changed_bytes);
	*ret = TAKE_PTR(c);
	return 0;
}

int changes_new_tracked(const char *snapshot, const char *origin, const char *token,
			uint32_t era, uint64_t origin_size, uint64_t granularity,
			struct snapmgr_range *ranges, size_t n, struct snapmgr_changes **ret)
{
	_cleanup_(changes_freep) struct snapmgr_changes *c = calloc(1, sizeof(*c));

	if (!c) {
		free(ranges);
		return -ENOMEM;
	}
	c->refcount = 1;
	c->ranges = ranges;
	c->n_ranges = n;
	c->owner = SNAPMGR_OWNER_SNAPMGR;
	if ((snapshot && !(c->snapshot = strdup(snapshot))) ||
	    !(c->origin = strdup(origin)) || !(c->token = strdup(token)))
		return -ENOMEM;
	c->token_era = era;
	c->origin_size = origin_size;
	c->granularity = granularity;
	for (size_t i = 0; i < n; i++)
		c->changed_bytes += ranges[i].length;
	*ret = TAKE_PTR(c);
	return 0;
}

_public_ const char *snapmgr_changes_get_token(const struct snapmgr_changes *c)
{
	return c ? c->token : NULL;
}

_public_ struct snapmgr_changes *snapmgr_changes_ref(struct snapmgr_changes *c)
{
	if (c)
		c->refcount++;
	return c;
}

_public_ struct snapmgr_changes *snapmgr_changes_unref(struct snapmgr_changes *c)
{
	if (!c || --c->refcount > 0)
		return NULL;
	return changes_free(c);
}

_public_ const char *snapmgr_changes_get_snapshot(const struct snapmgr_changes *c)
{
	return c ? c->snapshot : NULL;
}

_public_ const char *snapmgr_changes_get_origin(const struct snapmgr_changes *c)
{
	return c ? c->origin : NULL;
}

_public_ uint64_t snapmgr_changes_get_origin_size(const struct snapmgr_changes *c)
{
	return c ? c->origin_size : 0;
}

_public_ uint64_t snapmgr_changes_get_granularity(const struct snapmgr_changes *c)
{
	return c ? c->granularity : 0;
}

_public_ uint64_t snapmgr_changes_get_changed_bytes(const struct snapmgr_changes *c)
{
	return c ? c->changed_bytes : 0;
}

_public_ size_t snapmgr_changes_get_range_count(const struct snapmgr_changes *c)
{
	return c ? c->n_ranges : 0;
}

_public_ int snapmgr_changes_get_range(const struct snapmgr_changes *c,
				       size_t index, uint64_t *ret_offset,
				       uint64_t *ret_length)
{
	if (!c)
		return -EINVAL;
	return range_at(c->ranges, c->n_ranges, index, ret_offset, ret_length);
}

const struct snapmgr_range *changes_ranges(const struct snapmgr_changes *c,
					   size_t *ret_n)
{
	*ret_n = c->n_ranges;
	return c->ranges;
}

dev_t changes_origin_devnum(const struct snapmgr_changes *c)
{
	return c->origin_devnum;
}

bool changes_uses_devnum(const struct snapmgr_changes *c, dev_t d)
{
	return d == c->origin_devnum || d == c->snapshot_devnum ||
	       d == c->cow_devnum;
}

_public_ int snapmgr_changes_to_json(const struct snapmgr_changes *c,
				     enum snapmgr_changes_format format,
				     struct json_object **ret)
{
	json_object *root = NULL, *since = NULL, *arr = NULL;
	int r = 0;

	if (!c || !ret)
		return -EINVAL;
	arr = json_object_new_array();
	if (!arr)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_ranges; i++) {
		json_object *e = json_object_new_object();

		if (!e)
			goto oom;
		r |= json_add(e, "offset", json_object_new_uint64(c->ranges[i].offset));
		r |= json_add(e, "length", json_object_new_uint64(c->ranges[i].length));
		/* rbd diff --format=json prints the word, as a string. */
		if (format == SNAPMGR_CHANGES_RBD_JSON)
			r |= json_add(e, "exists", json_object_new_string("true"));
		if (r < 0 || json_object_array_add(arr, e) < 0) {
			json_object_put(e);
			goto oom;
		}
	}
	if (format == SNAPMGR_CHANGES_RBD_JSON) {
		*ret = arr;
		return 0;
	}

	root = json_object_new_object();
	since = json_object_new_object();
	if (!root || !since)
		goto oom;
	if (c->token) {
		r |= json_add(since, "token", json_object_new_string(c->token));
		r |= json_add(since, "era", json_object_new_uint64(c->token_era));
		r |= json_add(since, "origin", json_object_new_string(c->origin));
		if (c->snapshot)
			r |= json_add(since, "snapshot", json_object_new_string(c->snapshot));
		else
			json_object_object_add(since, "snapshot", NULL);
		goto since_done;
	}
	r |= json_add(since, "snapshot", json_object_new_string(c->snapshot));
	r |= json_add(since, "uuid", json_object_new_string(c->uuid));
	r |= json_add(since, "owner", json_object_new_string(snapmgr_owner_to_string(c->owner)));
	if (c->origin)
		r |= json_add(since, "origin", json_object_new_string(c->origin));
	else
		json_object_object_add(since, "origin", NULL);
	r |= json_add(since, "cow_device", json_object_new_string(c->cow_device));
	r |= json_add(since, "exception_count", json_object_new_uint64(c->exception_count));
since_done:
	r |= json_add(root, "origin_size_bytes", json_object_new_uint64(c->origin_size));
	r |= json_add(root, "granularity_bytes", json_object_new_uint64(c->granularity));
	r |= json_add(root, "changed_bytes", json_object_new_uint64(c->changed_bytes));
	r |= json_add(root, "since", since);
	since = NULL;
	r |= json_add(root, "ranges", arr);
	arr = NULL;
	if (r < 0)
		goto oom;
	*ret = root;
	return 0;
oom:
	json_object_put(root);
	json_object_put(since);
	json_object_put(arr);
	return -ENOMEM;
}

/* Is the file open at fd the one behind the snapshot's COW or origin loop? */
bool changes_uses_file(const struct snapmgr_changes *c, int fd)
{
	const dev_t devs[] = { c->cow_devnum, c->origin_devnum };
	struct stat st, bst;

	if (fstat(fd, &st) < 0)
		return false;
	for (size_t i = 0; i < ELEMENTSOF(devs); i++) {
		_cleanup_free_ char *file = NULL;

		if (blockdev_loop_backing_file(devs[i], &file) == 0 &&
		    stat(file, &bst) == 0 && bst.st_dev == st.st_dev &&
		    bst.st_ino == st.st_ino)
			return true;
	}
	return false;
}
