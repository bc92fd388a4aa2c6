/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Workloads for chunk size advice: the writes a device sees, as (byte
 * offset, byte length) pairs, read from a blkparse text trace, sampled live
 * from the kernel's block_bio_queue trace events (tracefs), or, without
 * tracefs, made up from /sys/block/DEV/stat deltas (average size only).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "blockdev.h"
#include "workload-private.h"
#include "error-private.h"

_public_ const char *
snapmgr_workload_source_to_string(enum snapmgr_workload_source s)
{
	static const char *const names[] = {
		[SNAPMGR_WORKLOAD_MANUAL] = "manual",
		[SNAPMGR_WORKLOAD_BLKPARSE] = "blkparse",
		[SNAPMGR_WORKLOAD_TRACEFS] = "tracefs",
		[SNAPMGR_WORKLOAD_DISKSTATS] = "diskstats",
		[SNAPMGR_WORKLOAD_DEVICE] = "device",
	};

	if ((unsigned)s >= ELEMENTSOF(names))
		return NULL;
	return names[s];
}

_public_ int snapmgr_workload_new(struct snapmgr_ctx *ctx,
				  struct snapmgr_workload **ret)
{
	struct snapmgr_workload *w;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !ret)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->refcount = 1;
	w->source = SNAPMGR_WORKLOAD_MANUAL;
	*ret = w;
	return 0;
}

_public_ struct snapmgr_workload *snapmgr_workload_ref(struct snapmgr_workload *w)
{
	if (w)
		w->refcount++;
	return w;
}

_public_ struct snapmgr_workload *
snapmgr_workload_unref(struct snapmgr_workload *w)
{
	if (!w || --w->refcount > 0)
		return NULL;
	free(w->writes);
	free(w->note);
	free(w);
	return NULL;
}

static void workload_unrefp(struct snapmgr_workload **w)
{
	snapmgr_workload_unref(*w);
}
#define _cleanup_workload_ _cleanup_(workload_unrefp)

_public_ int snapmgr_workload_add_write(struct snapmgr_workload *w,
					uint64_t offset, uint64_t length)
{
	if (!w || length == 0 || offset + length < offset)
		return -EINVAL;
	if (w->n >= SNAPMGR_WORKLOAD_MAX_WRITES)
		return -E2BIG;
	if (w->n == w->allocated) {
		size_t na = w->allocated ? w->allocated * 2 : 1024;
		struct snapmgr_range *nw;

		nw = reallocarray(w->writes, na, sizeof(*nw));
		if (!nw)
			return -ENOMEM;
		w->writes = nw;
		w->allocated = na;
	}
	w->writes[w->n].offset = offset;
	w->writes[w->n].length = length;
	w->n++;
	w->bytes += length;
	return 0;
}

_public_ enum snapmgr_workload_source
snapmgr_workload_get_source(const struct snapmgr_workload *w)
{
	return w ? w->source : SNAPMGR_WORKLOAD_MANUAL;
}

_public_ const char *snapmgr_workload_get_note(const struct snapmgr_workload *w)
{
	return w ? w->note : NULL;
}

_public_ uint64_t
snapmgr_workload_get_write_count(const struct snapmgr_workload *w)
{
	return w ? w->n : 0;
}

_public_ uint64_t snapmgr_workload_get_bytes(const struct snapmgr_workload *w)
{
	return w ? w->bytes : 0;
}

_public_ double snapmgr_workload_get_seconds(const struct snapmgr_workload *w)
{
	return w ? w->seconds : 0;
}

_public_ int snapmgr_workload_get_write(const struct snapmgr_workload *w,
					uint64_t index, uint64_t *ret_offset,
					uint64_t *ret_length)
{
	if (!w)
		return -EINVAL;
	return range_at(w->writes, w->n, index, ret_offset, ret_length);
}

/* Bucket i holds 512 << i bytes; the last one everything larger. */
static unsigned int bucket_of(uint64_t v, bool round_up)
{
	unsigned int i;

	for (i = 0; i + 1 < SNAPMGR_WORKLOAD_BUCKETS; i++) {
		uint64_t b = UINT64_C(512) << i;

		if (round_up ? v <= b : v < (b << 1))
			return i;
	}
	return SNAPMGR_WORKLOAD_BUCKETS - 1;
}

/* The largest power of two dividing offset (offset 0: the largest). */
uint64_t workload_alignment(uint64_t offset)
{
	if (offset == 0)
		return UINT64_C(512) << (SNAPMGR_WORKLOAD_BUCKETS - 1);
	return offset & -offset;
}

static int get_bucket(const struct snapmgr_workload *w, unsigned int index,
		      bool sizes, uint64_t *ret_bytes, uint64_t *ret_count)
{
	uint64_t count = 0;

	if (!w)
		return -EINVAL;
	if (index >= SNAPMGR_WORKLOAD_BUCKETS)
		return -ENOENT;
	for (size_t i = 0; i < w->n; i++) {
		uint64_t v = sizes ? w->writes[i].length
				   : workload_alignment(w->writes[i].offset);

		if (bucket_of(v, sizes) == index)
			count++;
	}
	if (ret_bytes)
		*ret_bytes = UINT64_C(512) << index;
	if (ret_count)
		*ret_count = count;
	return 0;
}

_public_ int snapmgr_workload_get_size_bucket(const struct snapmgr_workload *w,
					      unsigned int index,
					      uint64_t *ret_bytes,
					      uint64_t *ret_count)
{
	return get_bucket(w, index, true, ret_bytes, ret_count);
}

_public_ int
snapmgr_workload_get_alignment_bucket(const struct snapmgr_workload *w,
				      unsigned int index, uint64_t *ret_bytes,
				      uint64_t *ret_count)
{
	return get_bucket(w, index, false, ret_bytes, ret_count);
}

int workload_set_note(struct snapmgr_workload *w, const char *note)
{
	char *n = strdup(note);

	if (!n)
		return -ENOMEM;
	free(w->note);
	w->note = n;
	return 0;
}

/*
 * One event of blkparse's default output:
 *   "  8,16   1       42     0.001234567  1234  Q  WS 2048 + 8 [fio]"
 * Returns 1 for a write of the wanted action, 0 for any other line, -EINVAL
 * for a Q or C line that does not parse.
 */
int workload_parse_blkparse_line(const char *line, char *ret_action,
				 uint64_t *ret_devnum, uint64_t *ret_sector,
				 uint64_t *ret_sectors)
{
	unsigned int maj, min, cpu, seq, pid;
	char tstamp[32], action[8], rwbs[16], plus[4];
	unsigned long long sector, count;
	int n, used = 0;

	n = sscanf(line, " %u,%u %u %u %31s %u %7s %15s%n", &maj, &min, &cpu,
		   &seq, tstamp, &pid, action, rwbs, &used);
	if (n < 7)
		return 0; /* a summary or message line */
	if (!streq(action, "Q") && !streq(action, "C"))
		return 0;
	if (n < 8)
		return -EINVAL;
	if (!strchr(rwbs, 'W'))
		return 0;
	/* Flushes without data are "Q FWS 0 + 0" or have no sector at all. */
	line += used + strspn(line + used, " \t");
	if (*line == '[' || *line == '\0' || *line == '\n')
		return 0;
	n = sscanf(line, "%llu %3s %llu", &sector, plus, &count);
	if (n != 3 || !streq(plus, "+"))
		return -EINVAL;
	if (count == 0)
		return 0;
	*ret_action = action[0];
	*ret_devnum = ((uint64_t)maj << 32) | min;
	*ret_sector = sector;
	*ret_sectors = count;
	return 1;
}

_public_ int snapmgr_workload_read_blkparse(struct snapmgr_ctx *ctx,
					    const char *path, uint64_t devnum,
					    struct snapmgr_workload **ret)
{
	_cleanup_workload_ struct snapmgr_workload *q = NULL, *c = NULL;
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	size_t size = 0;
	unsigned long lineno = 0;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !path || !ret)
		return -EINVAL;
	f = fopen(path, "re");
	if (!f)
		return snapmgr_error(ctx, negative_errno(), "cannot open: %m");
	r = snapmgr_workload_new(ctx, &q);
	if (r < 0)
		return r;
	r = snapmgr_workload_new(ctx, &c);
	if (r < 0)
		return r;
	while (getline(&line, &size, f) >= 0) {
		uint64_t dev, sector, sectors;
		char action;

		lineno++;
		r = workload_parse_blkparse_line(line, &action, &dev, &sector,
						 &sectors);
		if (r < 0)
			return snapmgr_error(ctx, r,
					     "line %lu: not a blkparse event",
					     lineno);
		if (r == 0)
			continue;
		if (devnum && dev != devnum)
			continue;
		if (sector > UINT64_MAX / 512 || sectors > UINT32_MAX)
			return snapmgr_error(ctx, -ERANGE,
					     "line %lu: sector out of range",
					     lineno);
		r = snapmgr_workload_add_write(action == 'Q' ? q : c,
					       sector * 512, sectors * 512);
		if (r < 0)
			return snapmgr_error(ctx, r, "line %lu: %s", lineno,
					     strerror(-r));
	}
	if (ferror(f))
		return snapmgr_error(ctx, -EIO, "read error");
	if (q->n == 0 && c->n == 0)
		return snapmgr_error(ctx, -ENODATA,
				     "no write (Q or C event with W) in the trace");
	if (q->n == 0) {
		r = workload_set_note(c, "from completion (C) events: the trace has no queue (Q) events, so merged requests count as one write");
		if (r < 0)
			return r;
		c->source = SNAPMGR_WORKLOAD_BLKPARSE;
		*ret = TAKE_PTR(c);
		return 0;
	}
	q->source = SNAPMGR_WORKLOAD_BLKPARSE;
	*ret = TAKE_PTR(q);
	return 0;
}

/* ------------------------------------------------------------- sampling */

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_file(const char *path, const char *value)
{
	_cleanup_close_ int fd = -1;
	size_t len = strlen(value);

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (write(fd, value, len) != (ssize_t)len)
		return negative_errno();
	return 0;
}

static const char *tracefs_root(void)
{
	static const char *const roots[] = {
		"/sys/kernel/tracing",
		"/sys/kernel/debug/tracing",
	};
	char p[128];

	for (size_t i = 0; i < ELEMENTSOF(roots); i++) {
		snprintf(p, sizeof(p), "%s/instances", roots[i]);
		if (access(p, W_OK) == 0)
			return roots[i];
	}
	return NULL;
}

/*
 * "fio-123 [001] ..... 12.345: block_bio_queue: 7,0 WS 2048 + 8 [fio]".
 * 1 for a write, 0 for anything else.
 */
int workload_parse_tracefs_line(const char *line, uint64_t *ret_sector,
				uint64_t *ret_sectors)
{
	const char *p = strstr(line, "block_bio_queue: ");
	unsigned int maj, min;
	unsigned long long sector, count;
	char rwbs[16];

	if (!p)
		return 0;
	if (sscanf(p + strlen("block_bio_queue: "), "%u,%u %15s %llu + %llu",
		   &maj, &min, rwbs, &sector, &count) != 5)
		return 0;
	if (!strchr(rwbs, 'W') || count == 0)
		return 0;
	*ret_sector = sector;
	*ret_sectors = count;
	return 1;
}

static int consume_lines(struct snapmgr_workload *w, char *buf, size_t *len)
{
	char *start = buf, *nl;
	int r;

	while ((nl = memchr(start, '\n', *len - (size_t)(start - buf)))) {
		uint64_t sector, sectors;

		*nl = '\0';
		if (workload_parse_tracefs_line(start, &sector, &sectors) == 1) {
			r = snapmgr_workload_add_write(w, sector * 512,
						       sectors * 512);
			if (r < 0 && r != -E2BIG)
				return r;
		}
		start = nl + 1;
	}
	*len -= (size_t)(start - buf);
	memmove(buf, start, *len);
	return 0;
}

static int sample_tracefs(struct snapmgr_ctx *ctx, const char *root,
			  dev_t devnum, unsigned int seconds,
			  struct snapmgr_workload *w)
{
	char inst[256], p[384], filter[64], buf[65536];
	_cleanup_close_ int fd = -1;
	size_t len = 0;
	double start, end;
	int r;

	snprintf(inst, sizeof(inst), "%s/instances/snapmgr-advise-%d", root,
		 (int)getpid());
	if (mkdir(inst, 0700) < 0 && errno != EEXIST)
		return negative_errno();
	snprintf(p, sizeof(p), "%s/buffer_size_kb", inst);
	(void)write_file(p, "8192");
	/* The kernel's dev_t in the event is MKDEV(): major << 20 | minor. */
	snprintf(filter, sizeof(filter), "dev == %u",
		 (major(devnum) << 20) | minor(devnum));
	snprintf(p, sizeof(p), "%s/events/block/block_bio_queue/filter", inst);
	r = write_file(p, filter);
	if (r < 0)
		goto out;
	snprintf(p, sizeof(p), "%s/trace_pipe", inst);
	fd = open(p, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = negative_errno();
		goto out;
	}
	snprintf(p, sizeof(p), "%s/events/block/block_bio_queue/enable", inst);
	r = write_file(p, "1");
	if (r < 0)
		goto out;
	log_debug(ctx, "tracing block_bio_queue (%s) for %u s in %s", filter,
		  seconds, inst);
	start = now_seconds();
	end = start + seconds;
	for (bool draining = false;;) {
		double left = end - now_seconds();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (left <= 0 && !draining) {
			(void)write_file(p, "0");
			w->seconds = now_seconds() - start;
			draining = true;
		}
		if (!draining && poll(&pfd, 1, (int)(left * 1000) + 1) < 0 &&
		    errno != EINTR) {
			r = negative_errno();
			goto out;
		}
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			r = negative_errno();
			goto out;
		}
		if (n <= 0) {
			if (draining)
				break;
			continue;
		}
		len += (size_t)n;
		r = consume_lines(w, buf, &len);
		if (r < 0)
			goto out;
		if (len == sizeof(buf) - 1)
			len = 0; /* a line longer than the buffer: drop it */
	}
	r = 0;
out:
	snprintf(p, sizeof(p), "%s/events/block/block_bio_queue/enable", inst);
	(void)write_file(p, "0");
	if (fd >= 0)
		close(TAKE_FD(fd));
	if (rmdir(inst) < 0)
		log_warning(ctx, "cannot remove trace instance %s: %m", inst);
	return r;
}

static int read_write_stats(dev_t devnum, uint64_t *ret_ios,
			    uint64_t *ret_sectors)
{
	char p[128];
	_cleanup_fclose_ FILE *f = NULL;
	unsigned long long v[7];

	snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/stat", major(devnum),
		 minor(devnum));
	f = fopen(p, "re");
	if (!f)
		return negative_errno();
	if (fscanf(f, "%llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6]) != 7)
		return -EIO;
	*ret_ios = v[4];
	*ret_sectors = v[6];
	return 0;
}

/* Deterministic pseudo-random positions (a 64-bit LCG, Knuth's MMIX). */
uint64_t workload_next_random(uint64_t *state)
{
	*state = *state * UINT64_C(6364136223846793005) +
		 UINT64_C(1442695040888963407);
	return *state >> 11;
}

int workload_fill_random(struct snapmgr_workload *w, uint64_t count,
			 uint64_t size, uint64_t span)
{
	uint64_t slots, state = 42;
	int r;

	if (size == 0)
		return -EINVAL;
	slots = span / size ?: 1;
	for (uint64_t i = 0; i < count; i++) {
		r = snapmgr_workload_add_write(
			w, (workload_next_random(&state) % slots) * size, size);
		if (r < 0)
			return r;
	}
	return 0;
}

static int sample_diskstats(struct snapmgr_ctx *ctx, const char *path,
			    dev_t devnum, unsigned int seconds,
			    struct snapmgr_workload *w)
{
	uint64_t ios0, sec0, ios1, sec1, avg, span = 0;
	double start;
	int r;

	r = read_write_stats(devnum, &ios0, &sec0);
	if (r < 0)
		return r;
	start = now_seconds();
	if (seconds)
		sleep(seconds);
	r = read_write_stats(devnum, &ios1, &sec1);
	if (r < 0)
		return r;
	w->seconds = now_seconds() - start;
	w->source = SNAPMGR_WORKLOAD_DISKSTATS;
	r = workload_set_note(w, "sampled from /sys/block/DEV/stat: only the average write size is known; writes are assumed random and aligned to it (less precise than tracing; mount tracefs at /sys/kernel/tracing for better advice)");
	if (r < 0)
		return r;
	if (ios1 <= ios0 || sec1 <= sec0)
		return 0;
	/* A whole number of 512-byte sectors, at least one. */
	avg = (sec1 - sec0) / (ios1 - ios0) * 512 ?: 512;
	(void)blockdev_size(path, &span);
	if (span < avg)
		span = UINT64_C(1) << 30;
	log_debug(ctx, "diskstats: %" PRIu64 " writes, average %" PRIu64 " bytes",
		  ios1 - ios0, avg);
	return workload_fill_random(w, ios1 - ios0 < 100000 ? ios1 - ios0 : 100000,
				    avg, span);
}

_public_ int snapmgr_workload_sample(struct snapmgr_ctx *ctx, const char *path,
				     unsigned int seconds,
				     struct snapmgr_workload **ret)
{
	_cleanup_workload_ struct snapmgr_workload *w = NULL;
	const char *root;
	dev_t devnum;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !path || !ret)
		return -EINVAL;
	r = blockdev_devnum_checked(ctx, path, &devnum);
	if (r < 0)
		return r;
	r = snapmgr_workload_new(ctx, &w);
	if (r < 0)
		return r;

	root = tracefs_root();
	if (root) {
		w->source = SNAPMGR_WORKLOAD_TRACEFS;
		r = sample_tracefs(ctx, root, devnum, seconds, w);
		if (r == 0) {
			*ret = TAKE_PTR(w);
			return 0;
		}
		log_info(ctx, "tracing failed (%s), using /sys/block/DEV/stat",
			 strerror(-r));
		snapmgr_workload_unref(w);
		w = NULL;
		r = snapmgr_workload_new(ctx, &w);
		if (r < 0)
			return r;
	} else {
		log_info(ctx, "tracefs is not mounted at /sys/kernel/tracing: sampling /sys/block/DEV/stat");
	}
	r = sample_diskstats(ctx, path, devnum, seconds, w);
	if (r < 0)
		return snapmgr_error(ctx, r, "cannot read the I/O statistics: %s",
				     strerror(-r));
	*ret = TAKE_PTR(w);
	return 0;
}
