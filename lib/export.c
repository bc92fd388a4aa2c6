/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * snapmgr_export(): a snapshot's data out, whole or since an older
 * snapshot of the same origin, as a raw image (holes for zeros) or an
 * "rbd diff v1" stream (lib/rbd-diff.c).
 *
 * Incremental: the blocks where SNAP differs from OLDER were written to the
 * origin after OLDER was taken and before SNAP was, so OLDER's exception
 * store lists them (lib/changes.c); reading those extents from SNAP and
 * writing them over a copy of OLDER gives a copy of SNAP. That needs OLDER
 * to be the older of the two: then every chunk in SNAP's store was written
 * while OLDER existed too, so OLDER's store covers it. We check exactly
 * that (a chunk of SNAP's store that OLDER's ranges miss means OLDER was
 * taken later), which is the property the copy relies on; and that both
 * snapshot the same origin device.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "changes.h"
#include "era.h"
#include "error-private.h"
#include "image-io.h"
#include "rbd-diff.h"

#define BLOCK_SIZE (1024U * 1024U)   /* read from the snapshot at once */
#define ZERO_GRAIN 4096U             /* zero runs are found at this grain */
#define PROGRESS_INTERVAL 1.0        /* seconds */
#define OLDER_RETRIES 5              /* re-reads of OLDER's store */

static inline void changes_unrefp(struct snapmgr_changes **c)
{
	snapmgr_changes_unref(*c);
}

/*
 * Is every range of newer inside (same chunk size) or at least touching
 * (different chunk sizes: a write inside a bigger chunk of newer shows as a
 * smaller chunk of older) a range of older? Both lists are sorted.
 */
bool export_older_covers(const struct snapmgr_range *older, size_t n_older,
			 const struct snapmgr_range *newer, size_t n_newer,
			 bool exact)
{
	size_t j = 0;

	for (size_t i = 0; i < n_newer; i++) {
		uint64_t s = newer[i].offset, e = s + newer[i].length;

		while (j < n_older && older[j].offset + older[j].length <= s)
			j++;
		if (j == n_older)
			return false;
		if (exact) {
			if (older[j].offset > s || older[j].offset + older[j].length < e)
				return false;
		} else if (older[j].offset >= e) {
			return false;
		}
	}
	return true;
}

struct exporter {
	struct snapmgr_ctx *ctx;
	const struct snapmgr_export_opts *opts;
	int src;
	bool rbd;
	struct image out;
	struct rbd_diff_writer w;
	uint8_t *buf;
	/* a run of zeros not yet written out */
	uint64_t zero_off, zero_len;
	struct snapmgr_transfer_stats st;
	double start, last_progress;
};

static int out_write(void *userdata, const void *buf, size_t len)
{
	struct exporter *x = userdata;

	return write_all(x->out.fd, buf, len);
}

static void progress(struct exporter *x, bool force)
{
	double t = now_seconds();

	x->st.seconds = t - x->start;
	if (!x->opts->progress)
		return;
	if (!force && t - x->last_progress < PROGRESS_INTERVAL)
		return;
	x->last_progress = t;
	x->opts->progress(x->opts->userdata, &x->st);
}

static int flush_zeros(struct exporter *x)
{
	int r;

	if (!x->zero_len)
		return 0;
	if (x->rbd)
		r = rbd_diff_write_zero(&x->w, x->zero_off, x->zero_len);
	else
		r = image_zero(&x->out, x->zero_off, x->zero_len);
	if (r < 0)
		return snapmgr_error(x->ctx, r, "%s: writing zeros at %" PRIu64 ": %s",
				     x->out.path, x->zero_off, strerror(-r));
	x->st.zero_bytes += x->zero_len;
	x->zero_len = 0;
	return 0;
}

static int emit_data(struct exporter *x, uint64_t off, const uint8_t *p,
		     size_t len)
{
	int r;

	r = flush_zeros(x);
	if (r < 0)
		return r;
	if (x->rbd)
		r = rbd_diff_write_data(&x->w, off, len, p);
	else if (x->out.is_stream)
		r = write_all(x->out.fd, p, len);
	else
		r = pwrite_all(x->out.fd, p, len, off);
	if (r < 0)
		return snapmgr_error(x->ctx, r, "%s: writing at %" PRIu64 ": %s",
				     x->out.path, off, strerror(-r));
	x->st.bytes_written += len;
	return 0;
}

static int emit_zero(struct exporter *x, uint64_t off, uint64_t len)
{
	if (x->zero_len && x->zero_off + x->zero_len == off) {
		x->zero_len += len;
		return 0;
	}
	int r = flush_zeros(x);

	if (r < 0)
		return r;
	x->zero_off = off;
	x->zero_len = len;
	return 0;
}

static int read_block(struct exporter *x, uint64_t off, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(x->src, x->buf + done, len - done,
				  (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = negative_errno();

			return snapmgr_error(x->ctx, r, "reading the snapshot at %" PRIu64 ": %s",
					     off + done, strerror(-r));
		}
		if (n == 0)
			return snapmgr_error(x->ctx, -EIO, "the snapshot ends at %" PRIu64 ", before its size", off + done);
		done += (size_t)n;
	}
	x->st.bytes_read += len;
	return 0;
}

/* One range: read block by block, split into data and zero runs. */
static int copy_range(struct exporter *x, uint64_t off, uint64_t len)
{
	while (len) {
		size_t n = len < BLOCK_SIZE ? (size_t)len : BLOCK_SIZE;
		size_t run = 0; /* start of the current data run in buf */
		int r;

		r = read_block(x, off, n);
		if (r < 0)
			return r;
		for (size_t p = 0; p < n; p += ZERO_GRAIN) {
			size_t g = n - p < ZERO_GRAIN ? n - p : ZERO_GRAIN;

			if (!is_zero(x->buf + p, g))
				continue;
			if (p > run) {
				r = emit_data(x, off + run, x->buf + run, p - run);
				if (r < 0)
					return r;
			}
			r = emit_zero(x, off + p, g);
			if (r < 0)
				return r;
			run = p + g;
		}
		if (n > run) {
			r = emit_data(x, off + run, x->buf + run, n - run);
			if (r < 0)
				return r;
		}
		off += n;
		len -= n;
		x->st.done_bytes += n;
		progress(x, false);
	}
	return 0;
}

static int open_source(struct exporter *x, const char *name)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "/dev/mapper/%s", name) < 0)
		return -ENOMEM;
	/* Direct: a backup's one pass should not evict the page cache. */
	x->src = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (x->src < 0 && errno == EINVAL)
		x->src = open(path, O_RDONLY | O_CLOEXEC);
	if (x->src < 0) {
		int r = negative_errno();

		return snapmgr_error(x->ctx, r, "cannot open %s: %s", path, strerror(-r));
	}
	return 0;
}

/* OLDER's changes, checked against SNAP; re-read while a commit lags. */
static int get_since(struct snapmgr_ctx *ctx, const struct snapmgr_changes *snap,
		     const char *since, struct snapmgr_changes **ret)
{
	const struct snapmgr_range *a, *b;
	size_t na, nb;
	int r;

	if (streq(since, snapmgr_changes_get_snapshot(snap)))
		return snapmgr_error(ctx, -EINVAL, "--since names the snapshot itself");
	/*
	 * A change token: the blocks written since it, which cover every
	 * byte in which SNAP differs from the origin at the token (refused
	 * when SNAP is older than the token, or the token cannot answer).
	 */
	if (token_looks_like(since))
		return snapmgr_changes_since(ctx, snapmgr_changes_get_snapshot(snap), since, ret);
	for (unsigned int attempt = 0;; attempt++) {
		struct snapmgr_changes *older = NULL;

		r = snapmgr_changes_get(ctx, since, &older);
		if (r < 0) {
			const char *why = snapmgr_get_error(ctx);
			_cleanup_free_ char *copy = why ? strdup(why) : NULL;

			return snapmgr_error(ctx, r, "--since %s: %s", since,
					     copy ? copy : strerror(-r));
		}
		if (changes_origin_devnum(older) != changes_origin_devnum(snap)) {
			snapmgr_changes_unref(older);
			return snapmgr_error(ctx, -EINVAL, "--since %s: not a snapshot of the same origin as %s",
					     since, snapmgr_changes_get_snapshot(snap));
		}
		a = changes_ranges(older, &na);
		b = changes_ranges(snap, &nb);
		if (export_older_covers(a, na, b, nb,
					snapmgr_changes_get_granularity(older) ==
						snapmgr_changes_get_granularity(snap))) {
			*ret = older;
			return 0;
		}
		snapmgr_changes_unref(older);
		if (attempt == OLDER_RETRIES)
			break;
		/* An origin write commits each snapshot's exception on its own. */
		nanosleep(&(struct timespec){ .tv_nsec = 200 * 1000 * 1000 }, NULL);
	}
	return snapmgr_error(ctx, -EINVAL, "--since %s: not older than %s (%s lists chunks written before %s was taken)",
			     since, snapmgr_changes_get_snapshot(snap),
			     snapmgr_changes_get_snapshot(snap), since);
}

static int check_opts(struct snapmgr_ctx *ctx, const struct snapmgr_export_opts *o)
{
	if (!o->snapshot || (!o->output == !o->target))
		return snapmgr_error(ctx, -EINVAL, "give exactly one of an output file and a target");
	if (o->format != SNAPMGR_EXPORT_RAW && o->format != SNAPMGR_EXPORT_RBD_DIFF)
		return snapmgr_error(ctx, -EINVAL, "unknown format");
	if (o->target && o->format != SNAPMGR_EXPORT_RAW)
		return snapmgr_error(ctx, -EINVAL, "a target is updated in place: only the raw format");
	if (o->since && o->output && o->format == SNAPMGR_EXPORT_RAW)
		return snapmgr_error(ctx, -EINVAL, "an incremental raw export goes --to the previous backup (a raw file cannot say which extents it holds; use --format rbd-diff)");
	return 0;
}

_public_ int snapmgr_export(struct snapmgr_ctx *ctx,
			    const struct snapmgr_export_opts *theirs,
			    struct snapmgr_transfer_stats *ret_stats)
{
	_cleanup_(changes_unrefp) struct snapmgr_changes *snap = NULL;
	_cleanup_(changes_unrefp) struct snapmgr_changes *older = NULL;
	struct snapmgr_export_opts ours;
	const struct snapmgr_export_opts *opts = &ours;
	struct exporter x = { .ctx = ctx, .opts = opts, .src = -1,
			      .out = { .fd = -1 },
			      .st = SNAPMGR_RESULT(struct snapmgr_transfer_stats) };
	const struct snapmgr_range *ranges;
	struct snapmgr_range whole;
	uint64_t size;
	size_t n;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !theirs)
		return -EINVAL;
	r = opts_take(ctx, &ours, sizeof(ours), theirs, "snapmgr_export_opts");
	if (r < 0)
		return r;
	if (ret_stats) {
		r = result_check(ctx, ret_stats, "snapmgr_transfer_stats");
		if (r < 0)
			return r;
	}
	r = check_opts(ctx, opts);
	if (r < 0)
		return r;

	/* SNAP's store first, then OLDER's: the later read sees more. */
	r = snapmgr_changes_get(ctx, opts->snapshot, &snap);
	if (r < 0)
		return r;
	size = snapmgr_changes_get_origin_size(snap);
	if (opts->since) {
		r = get_since(ctx, snap, opts->since, &older);
		if (r < 0)
			return r;
		ranges = changes_ranges(older, &n);
		x.st.total_bytes = snapmgr_changes_get_changed_bytes(older);
	} else {
		whole = (struct snapmgr_range){ 0, size };
		ranges = &whole;
		n = size ? 1 : 0;
		x.st.total_bytes = size;
	}

	r = open_source(&x, opts->snapshot);
	if (r < 0)
		return r;
	if (posix_memalign((void **)&x.buf, 4096, BLOCK_SIZE) != 0) {
		r = -ENOMEM;
		goto out;
	}

	if (opts->target) {
		r = image_open_target(ctx, opts->target, opts->since ? 0 : size, &x.out);
		if (r < 0)
			goto out;
		if ((x.out.is_blockdev &&
		     (changes_uses_devnum(snap, x.out.devnum) ||
		      (older && changes_uses_devnum(older, x.out.devnum)))) ||
		    changes_uses_file(snap, x.out.fd) ||
		    (older && changes_uses_file(older, x.out.fd))) {
			r = snapmgr_error(ctx, -EINVAL, "%s is part of the snapshot's own stack", opts->target);
			goto out;
		}
		if (x.out.size != size) {
			r = snapmgr_error(ctx, -EINVAL, "%s is %" PRIu64 " bytes, the snapshot %" PRIu64 ": not a backup of this origin",
					  opts->target, x.out.size, size);
			goto out;
		}
	} else {
		r = image_open_output(ctx, opts->output, &x.out);
		if (r < 0)
			goto out;
		if (!x.out.is_stream || opts->format == SNAPMGR_EXPORT_RAW) {
			/* A raw file: created sparse, holes for zeros. */
			if (!streq(opts->output, "-")) {
				x.out.is_stream = false;
				if (ftruncate(x.out.fd, (off_t)size) < 0) {
					r = snapmgr_error(ctx, negative_errno(), "%s: cannot size it", opts->output);
					goto out;
				}
			}
		}
	}

	x.rbd = opts->format == SNAPMGR_EXPORT_RBD_DIFF;
	if (x.rbd) {
		rbd_diff_writer_init(&x.w, out_write, &x);
		r = rbd_diff_write_header(&x.w, opts->since, opts->snapshot, size);
		if (r < 0) {
			r = snapmgr_error(ctx, r, "%s: %s", x.out.path, strerror(-r));
			goto out;
		}
	}

	x.start = x.last_progress = now_seconds();
	progress(&x, true);
	for (size_t i = 0; i < n; i++) {
		r = copy_range(&x, ranges[i].offset, ranges[i].length);
		if (r < 0)
			goto out;
	}
	r = flush_zeros(&x);
	if (r < 0)
		goto out;
	if (x.rbd) {
		r = rbd_diff_write_end(&x.w);
		if (r < 0) {
			r = snapmgr_error(ctx, r, "%s: %s", x.out.path, strerror(-r));
			goto out;
		}
	}
	r = image_sync(&x.out);
	if (r < 0) {
		r = snapmgr_error(ctx, r, "%s: %s", x.out.path, strerror(-r));
		goto out;
	}
	progress(&x, true);
	log_info(ctx, "%s: %" PRIu64 " bytes read, %" PRIu64 " written, %" PRIu64 " zeros, in %.2f s",
		 opts->snapshot, x.st.bytes_read, x.st.bytes_written,
		 x.st.zero_bytes, x.st.seconds);
	if (ret_stats)
		result_give(ret_stats, &x.st, sizeof(x.st));
	r = 0;
out:
	if (x.out.fd >= 0 || x.out.path) {
		int k = image_close(&x.out, r == 0);

		if (r == 0 && k < 0)
			r = snapmgr_error(ctx, k, "closing the output: %s", strerror(-k));
	}
	if (x.src >= 0)
		close(x.src);
	free(x.buf);
	return r;
}
