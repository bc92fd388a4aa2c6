/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Chunk size advice: what the writes of a workload would cost a dm snapshot
 * with each chunk size from 4 KiB to 512 KiB, and which one to take.
 *
 * The model replays the writes in order against an empty exception table,
 * the way dm-snap.c handles them:
 *  - dm splits every bio at chunk boundaries (the snapshot's max_io_len;
 *    the snapshot-origin's is the smallest chunk of its snapshots);
 *  - a write to the snapshot that covers a whole chunk without exception
 *    takes the full-chunk bypass: it goes to the COW, nothing is read;
 *  - any other first write to a chunk (to the snapshot, partial; to the
 *    origin, always) copies the whole chunk: read from the origin, written
 *    to the COW;
 *  - every new exception is committed: the persistent store writes its
 *    metadata area, one chunk, before the write completes;
 *  - later writes to a chunk with an exception cost only themselves.
 * Each I/O costs a fixed overhead (seek, request, completion; worth
 * OP_BYTES bytes of transfer) plus its bytes. The predicted time is the sum;
 * the advice is the cheapest chunk size, or a smaller one whose cost is
 * within TIE_PERCENT, since smaller chunks waste less COW space.
 */
#include <blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "blockdev.h"
#include "json-util.h"
#include "workload-private.h"
#include "error-private.h"

#define N_CANDIDATES 8 /* 4 KiB << 0..7 */
#define MAX_REASONS 8
#define OP_BYTES_SSD (32.0 * 1024)
#define OP_BYTES_ROTATIONAL (1024.0 * 1024)
#define TIE_PERCENT 2.0
#define EXCEPTION_BYTES 16 /* one on-disk exception: old and new chunk */

struct snapmgr_advice {
	int refcount;
	struct snapmgr_device_facts facts;
	bool have_facts;
	unsigned int targets;
	struct snapmgr_workload *workload;
	size_t chosen;
	struct snapmgr_advice_candidate c[N_CANDIDATES];
	char *reasons[MAX_REASONS];
	size_t n_reasons;
};

/* ------------------------------------------------------- device facts */

static uint32_t read_queue_u32(dev_t devnum, const char *file)
{
	char p[256];

	/* The device's own queue, else its parent's (a partition). */
	for (int parent = 0; parent < 2; parent++) {
		_cleanup_fclose_ FILE *f = NULL;
		unsigned long v;

		snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/%squeue/%s",
			 major(devnum), minor(devnum), parent ? "../" : "",
			 file);
		f = fopen(p, "re");
		if (f && fscanf(f, "%lu", &v) == 1)
			return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	}
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/*
 * ext2/3/4 superblock at byte 1024: s_log_block_size (0x18), s_magic
 * (0x38), s_raid_stride (0x164, in blocks), s_raid_stripe_width (0x170).
 */
int advise_parse_ext_superblock(const uint8_t *sb, size_t len,
				struct snapmgr_device_facts *facts)
{
	uint32_t log, block;
	uint64_t stride, stripe;

	if (len < 0x174 || sb[0x38] != 0x53 || sb[0x39] != 0xef)
		return -EINVAL;
	log = le32(sb + 0x18);
	if (log > 6) /* 1 KiB << 6 = 64 KiB, the largest ext4 allows */
		return -EINVAL;
	block = UINT32_C(1024) << log;
	stride = (uint64_t)(sb[0x164] | sb[0x165] << 8) * block;
	stripe = (uint64_t)le32(sb + 0x170) * block;
	facts->fs_block_size = block;
	facts->raid_stride = stride <= UINT32_MAX ? (uint32_t)stride : 0;
	facts->raid_stripe_width = stripe <= UINT32_MAX ? (uint32_t)stripe : 0;
	return 0;
}

static void probe_fs(struct snapmgr_ctx *ctx, const char *path,
		     struct snapmgr_device_facts *facts)
{
	blkid_probe pr = blkid_new_probe_from_filename(path);
	const char *v;

	if (!pr) {
		log_debug(ctx, "%s: libblkid cannot probe: %m", path);
		return;
	}
	blkid_probe_enable_superblocks(pr, 1);
	blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE |
					      BLKID_SUBLKS_MAGIC);
	if (blkid_do_safeprobe(pr) == 0) {
		if (blkid_probe_lookup_value(pr, "TYPE", &v, NULL) == 0)
			snprintf(facts->fs_type, sizeof(facts->fs_type), "%s",
				 v);
		if (blkid_probe_lookup_value(pr, "BLOCK_SIZE", &v, NULL) == 0)
			facts->fs_block_size = (uint32_t)strtoul(v, NULL, 10);
	}
	blkid_free_probe(pr);

	/* libblkid does not expose ext4's RAID geometry: read it ourselves. */
	if (streq(facts->fs_type, "ext2") || streq(facts->fs_type, "ext3") ||
	    streq(facts->fs_type, "ext4")) {
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
		uint8_t sb[1024];

		if (fd >= 0 && pread(fd, sb, sizeof(sb), 1024) == sizeof(sb))
			(void)advise_parse_ext_superblock(sb, sizeof(sb), facts);
	}
}

_public_ int snapmgr_device_facts_probe(struct snapmgr_ctx *ctx,
					const char *path,
					struct snapmgr_device_facts *ret)
{
	struct snapmgr_device_facts f = SNAPMGR_RESULT(struct snapmgr_device_facts);
	dev_t devnum;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !path || !ret)
		return -EINVAL;
	r = result_check(ctx, ret, "snapmgr_device_facts");
	if (r < 0)
		return r;
	r = blockdev_devnum_checked(ctx, path, &devnum);
	if (r < 0)
		return r;
	f.logical_block_size = read_queue_u32(devnum, "logical_block_size");
	f.physical_block_size = read_queue_u32(devnum, "physical_block_size");
	f.minimum_io_size = read_queue_u32(devnum, "minimum_io_size");
	f.optimal_io_size = read_queue_u32(devnum, "optimal_io_size");
	f.rotational = read_queue_u32(devnum, "rotational") == 1;
	probe_fs(ctx, path, &f);
	result_give(ret, &f, sizeof(f));
	return 0;
}

/* --------------------------------------------------------------- model */

/* An open-addressing set of chunk numbers (+1, so 0 means empty). */
struct chunk_set {
	uint64_t *slots;
	size_t mask, used;
};

static int set_init(struct chunk_set *s, size_t expected)
{
	size_t n = 1024;

	while (n < expected * 2 && n < (SIZE_MAX >> 2))
		n <<= 1;
	s->slots = calloc(n, sizeof(*s->slots));
	if (!s->slots)
		return -ENOMEM;
	s->mask = n - 1;
	s->used = 0;
	return 0;
}

static int set_grow(struct chunk_set *s)
{
	struct chunk_set n;
	int r;

	r = set_init(&n, (s->mask + 1));
	if (r < 0)
		return r;
	for (size_t i = 0; i <= s->mask; i++) {
		uint64_t k = s->slots[i];

		if (k) {
			size_t j = (size_t)((k * UINT64_C(0x9e3779b97f4a7c15)) >> 20) & n.mask;

			while (n.slots[j])
				j = (j + 1) & n.mask;
			n.slots[j] = k;
			n.used++;
		}
	}
	free(s->slots);
	*s = n;
	return 0;
}

/* 1 if chunk was added, 0 if it was there, -ENOMEM. */
static int set_add(struct chunk_set *s, uint64_t chunk)
{
	uint64_t k = chunk + 1;
	size_t j;

	if ((s->used + 1) * 2 > s->mask + 1) {
		int r = set_grow(s);

		if (r < 0)
			return r;
	}
	j = (size_t)((k * UINT64_C(0x9e3779b97f4a7c15)) >> 20) & s->mask;
	while (s->slots[j]) {
		if (s->slots[j] == k)
			return 0;
		j = (j + 1) & s->mask;
	}
	s->slots[j] = k;
	s->used++;
	return 1;
}

struct sim {
	double cost;          /* bytes-equivalent time */
	uint64_t exceptions;
	uint64_t copies;
	uint64_t bypassed;    /* snapshot pieces that took the bypass */
	uint64_t snap_copies; /* snapshot pieces that copied */
	uint64_t written;
};

/* A COW write smaller than the device's minimum I/O is read-modify-write. */
static double io_cost(double bytes, double op, double min_io)
{
	double c = op + bytes;

	if (min_io > 0 && bytes < min_io)
		c += op + min_io;
	return c;
}

static int simulate(const struct snapmgr_workload *w, uint64_t chunk,
		    bool to_snapshot, double op, double min_io,
		    struct sim *sim)
{
	struct chunk_set set;
	int r;

	r = set_init(&set, w->n < 1u << 20 ? w->n : 1u << 20);
	if (r < 0)
		return r;
	for (size_t i = 0; i < w->n; i++) {
		uint64_t off = w->writes[i].offset, end = off + w->writes[i].length;

		sim->written += w->writes[i].length;
		for (uint64_t c = off / chunk; c * chunk < end; c++) {
			uint64_t s = c * chunk > off ? c * chunk : off;
			uint64_t e = (c + 1) * chunk < end ? (c + 1) * chunk : end;
			bool full = s == c * chunk && e == (c + 1) * chunk;

			r = set_add(&set, c);
			if (r < 0) {
				free(set.slots);
				return r;
			}
			/* The write itself, one I/O per piece. */
			sim->cost += io_cost((double)(e - s), op,
					     to_snapshot ? min_io : 0);
			if (r == 0)
				continue;
			sim->exceptions++;
			/* Commit: the metadata area, one chunk. */
			sim->cost += io_cost((double)chunk, op, min_io);
			if (to_snapshot && full) {
				sim->bypassed++;
				continue;
			}
			if (to_snapshot)
				sim->snap_copies++;
			sim->copies++;
			sim->cost += op + (double)chunk; /* read the origin */
			sim->cost += io_cost((double)chunk, op, min_io);
		}
	}
	free(set.slots);
	return 0;
}

/* The write size a workload made of facts uses, and why. */
static uint64_t facts_unit(const struct snapmgr_device_facts *f,
			   const char **ret_why)
{
	uint64_t u;

	if (f && f->raid_stripe_width >= 4096) {
		*ret_why = "the filesystem's RAID stripe width";
		u = f->raid_stripe_width;
	} else if (f && f->fs_block_size) {
		*ret_why = "the filesystem block size";
		u = f->fs_block_size;
	} else if (f && f->physical_block_size) {
		*ret_why = "the physical block size";
		u = f->physical_block_size;
	} else {
		*ret_why = "nothing better is known";
		u = 4096;
	}
	if (u < SNAPMGR_ADVISE_CHUNK_MIN)
		u = SNAPMGR_ADVISE_CHUNK_MIN;
	if (u > SNAPMGR_ADVISE_CHUNK_MAX)
		u = SNAPMGR_ADVISE_CHUNK_MAX;
	/* Round down to a power of two. */
	while (u & (u - 1))
		u &= u - 1;
	return u;
}

static void fmt_size(char *buf, size_t len, uint64_t bytes)
{
	if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
		snprintf(buf, len, "%" PRIu64 " MiB", bytes >> 20);
	else if (bytes >= 1024 && bytes % 1024 == 0)
		snprintf(buf, len, "%" PRIu64 " KiB", bytes >> 10);
	else
		snprintf(buf, len, "%" PRIu64 " bytes", bytes);
}

_printf_(2, 3) static int add_reason(struct snapmgr_advice *a,
				     const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	if (a->n_reasons >= MAX_REASONS)
		return 0;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	a->reasons[a->n_reasons++] = s;
	return 0;
}

static void workload_summary(const struct snapmgr_workload *w,
			     uint64_t *ret_size, double *ret_share,
			     double *ret_aligned)
{
	uint64_t best = 0, best_count = 0, count, aligned = 0;

	for (unsigned int i = 0; i < SNAPMGR_WORKLOAD_BUCKETS; i++) {
		uint64_t b;

		if (snapmgr_workload_get_size_bucket(w, i, &b, &count) == 0 &&
		    count > best_count) {
			best = b;
			best_count = count;
		}
	}
	for (size_t i = 0; i < w->n; i++)
		if (workload_alignment(w->writes[i].offset) >= best)
			aligned++;
	*ret_size = best;
	*ret_share = w->n ? (double)best_count / (double)w->n : 0;
	*ret_aligned = w->n ? (double)aligned / (double)w->n : 0;
}

static int explain(struct snapmgr_advice *a, const char *made_from)
{
	const struct snapmgr_advice_candidate *b = &a->c[a->chosen];
	const struct snapmgr_workload *w = a->workload;
	char s1[32], s2[32];
	uint64_t common;
	double share, aligned;
	int r;

	fmt_size(s1, sizeof(s1), b->chunk_size);
	if (made_from) {
		fmt_size(s2, sizeof(s2), w->writes[0].length);
		r = add_reason(a, "no workload sampled: assumed random writes of %s (%s)",
			       s2, made_from);
	} else {
		workload_summary(w, &common, &share, &aligned);
		fmt_size(s2, sizeof(s2), common);
		r = add_reason(a, "%zu writes (%.1f MiB, %s): %.0f%% are of %s or just under, %.0f%% aligned to it",
			       w->n, (double)w->bytes / (1 << 20),
			       snapmgr_workload_source_to_string(w->source),
			       share * 100, s2, aligned * 100);
	}
	if (r < 0)
		return r;

	if (!isnan(b->bypass_fraction))
		r = add_reason(a, "%s: %.0f%% of new chunks written through the snapshot take the full-chunk bypass; %.2f bytes copied from the origin per byte written; the COW grows %.2f GiB per GiB written",
			       s1, b->bypass_fraction * 100, b->copy_ratio,
			       b->cow_per_gib / (1 << 30));
	else
		r = add_reason(a, "%s: %.2f bytes copied from the origin per byte written; the COW grows %.2f GiB per GiB written",
			       s1, b->copy_ratio, b->cow_per_gib / (1 << 30));
	if (r < 0)
		return r;

	/* The neighbours: why not smaller, why not larger. */
	if (a->chosen > 0) {
		const struct snapmgr_advice_candidate *s = &a->c[a->chosen - 1];

		fmt_size(s2, sizeof(s2), s->chunk_size);
		r = add_reason(a, "%s is predicted %.2fx slower: more chunks per write, an exception and a metadata commit for each",
			       s2, s->cost / b->cost);
		if (r < 0)
			return r;
	}
	if (a->chosen + 1 < N_CANDIDATES) {
		const struct snapmgr_advice_candidate *l = &a->c[a->chosen + 1];

		fmt_size(s2, sizeof(s2), l->chunk_size);
		if (l->cost / b->cost < 1.0 + TIE_PERCENT / 100)
			r = add_reason(a, "%s would be about as fast but fills the COW %.2fx faster",
				       s2, l->cow_per_gib / b->cow_per_gib);
		else
			r = add_reason(a, "%s is predicted %.2fx slower: %.2f bytes copied per byte written, COW grows %.2fx faster",
				       s2, l->cost / b->cost, l->copy_ratio,
				       l->cow_per_gib / b->cow_per_gib);
		if (r < 0)
			return r;
	}
	if (a->chosen > 0)
		r = add_reason(a, "4 KiB (lvm2's default) is predicted %.2fx slower",
			       a->c[0].cost / b->cost);
	if (r < 0)
		return r;
	if (a->have_facts && a->facts.minimum_io_size > 4096) {
		fmt_size(s2, sizeof(s2), a->facts.minimum_io_size);
		r = add_reason(a, "the device's minimum I/O size is %s: smaller chunks are read-modify-write",
			       s2);
	}
	if (r >= 0 && w->note)
		r = add_reason(a, "%s", w->note);
	return r < 0 ? r : 0;
}

_public_ int snapmgr_advise(struct snapmgr_ctx *ctx,
			    const struct snapmgr_device_facts *theirs,
			    const struct snapmgr_workload *workload,
			    unsigned int targets, struct snapmgr_advice **ret)
{
	struct snapmgr_device_facts ours;
	const struct snapmgr_device_facts *facts = NULL;
	struct snapmgr_advice *a;
	const char *made_from = NULL;
	double op, min_io = 0, best = INFINITY;
	int r;

	SNAPMGR_ENTRY(ctx);
	if (!ctx || !ret || !targets ||
	    (targets & ~(unsigned)(SNAPMGR_ADVISE_BACKUP | SNAPMGR_ADVISE_CLONE)))
		return -EINVAL;
	if (theirs) {
		/* Facts may be the caller's own, made up: an option struct. */
		r = opts_take(ctx, &ours, sizeof(ours), theirs, "snapmgr_device_facts");
		if (r < 0)
			return r;
		facts = &ours;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->refcount = 1;
	a->targets = targets;
	if (facts) {
		a->facts = *facts;
		a->have_facts = true;
		if (facts->minimum_io_size > facts->physical_block_size)
			min_io = facts->minimum_io_size;
		else
			min_io = facts->physical_block_size;
	}
	op = facts && facts->rotational ? OP_BYTES_ROTATIONAL : OP_BYTES_SSD;

	if (workload && workload->n > 0) {
		a->workload = snapmgr_workload_ref((struct snapmgr_workload *)workload);
	} else {
		uint64_t unit = facts_unit(facts, &made_from);

		r = snapmgr_workload_new(ctx, &a->workload);
		if (r < 0)
			goto fail;
		a->workload->source = SNAPMGR_WORKLOAD_DEVICE;
		/* Few collisions even for 512 KiB chunks: a 64 GiB span. */
		r = workload_fill_random(a->workload, 4096, unit,
					 UINT64_C(64) << 30);
		if (r < 0)
			goto fail;
		if (workload && workload->note) {
			r = workload_set_note(a->workload, workload->note);
			if (r < 0)
				goto fail;
		}
		if (workload)
			made_from = "no write was seen while sampling";
	}

	for (size_t i = 0; i < N_CANDIDATES; i++) {
		uint64_t chunk = (uint64_t)SNAPMGR_ADVISE_CHUNK_MIN << i;
		struct snapmgr_advice_candidate *c = &a->c[i];
		struct sim sim = {};

		if (targets & SNAPMGR_ADVISE_BACKUP) {
			r = simulate(a->workload, chunk, false, op, min_io, &sim);
			if (r < 0)
				goto fail;
		}
		if (targets & SNAPMGR_ADVISE_CLONE) {
			r = simulate(a->workload, chunk, true, op, min_io, &sim);
			if (r < 0)
				goto fail;
		}
		c->chunk_size = chunk;
		c->bypass_fraction = sim.bypassed + sim.snap_copies ?
			(double)sim.bypassed / (double)(sim.bypassed + sim.snap_copies) :
			NAN;
		c->copy_ratio = sim.written ? (double)(sim.copies * chunk) / (double)sim.written : 0;
		c->cow_per_gib = sim.written ?
			(double)sim.exceptions * (double)(chunk + EXCEPTION_BYTES) /
				(double)sim.written * (double)(1 << 30) : 0;
		c->cost = sim.cost;
		if (sim.cost < best)
			best = sim.cost;
	}
	a->chosen = N_CANDIDATES;
	for (size_t i = 0; i < N_CANDIDATES; i++) {
		a->c[i].cost = best > 0 ? a->c[i].cost / best : 1.0;
		/* The smallest chunk within the tie margin of the best. */
		if (a->chosen == N_CANDIDATES &&
		    a->c[i].cost <= 1.0 + TIE_PERCENT / 100)
			a->chosen = i;
	}
	if (a->chosen == N_CANDIDATES)
		a->chosen = 0;
	r = explain(a, made_from);
	if (r < 0)
		goto fail;
	*ret = a;
	return 0;
fail:
	snapmgr_advice_unref(a);
	return r;
}

_public_ struct snapmgr_advice *snapmgr_advice_ref(struct snapmgr_advice *a)
{
	if (a)
		a->refcount++;
	return a;
}

_public_ struct snapmgr_advice *snapmgr_advice_unref(struct snapmgr_advice *a)
{
	if (!a || --a->refcount > 0)
		return NULL;
	for (size_t i = 0; i < a->n_reasons; i++)
		free(a->reasons[i]);
	snapmgr_workload_unref(a->workload);
	free(a);
	return NULL;
}

_public_ uint64_t snapmgr_advice_get_chunk_size(const struct snapmgr_advice *a)
{
	return a ? a->c[a->chosen].chunk_size : 0;
}

_public_ const char *snapmgr_advice_get_reason(const struct snapmgr_advice *a,
					       size_t index)
{
	return a && index < a->n_reasons ? a->reasons[index] : NULL;
}

_public_ int snapmgr_advice_get_candidate(const struct snapmgr_advice *a,
					  size_t index,
					  struct snapmgr_advice_candidate *ret)
{
	if (!a || !ret)
		return -EINVAL;
	if (index >= N_CANDIDATES)
		return -ENOENT;
	if (result_check(NULL, ret, "snapmgr_advice_candidate") < 0)
		return -EINVAL;
	result_give(ret, &a->c[index], sizeof(a->c[index]));
	return 0;
}

/* ---------------------------------------------------------------- JSON */

static struct json_object *new_double(double v)
{
	/* 4 decimals are plenty, and keep the output readable. */
	return isnan(v) || isinf(v) ? NULL :
		json_object_new_double((double)(int64_t)(v * 10000 + (v < 0 ? -0.5 : 0.5)) / 10000);
}

static struct json_object *device_json(const struct snapmgr_device_facts *f)
{
	struct json_object *o = json_object_new_object(), *fs = NULL;
	int r = 0;

	if (!o)
		return NULL;
	r |= json_add_nullable(o, "logical_block_size", json_object_new_uint64(f->logical_block_size));
	r |= json_add_nullable(o, "physical_block_size", json_object_new_uint64(f->physical_block_size));
	r |= json_add_nullable(o, "minimum_io_size", json_object_new_uint64(f->minimum_io_size));
	r |= json_add_nullable(o, "optimal_io_size", json_object_new_uint64(f->optimal_io_size));
	r |= json_add_nullable(o, "rotational", json_object_new_boolean(f->rotational));
	if (f->fs_type[0]) {
		fs = json_object_new_object();
		if (!fs)
			r = -ENOMEM;
		else {
			r |= json_add_nullable(fs, "type", json_object_new_string(f->fs_type));
			r |= json_add_nullable(fs, "block_size", json_object_new_uint64(f->fs_block_size));
			r |= json_add_nullable(fs, "raid_stride", json_object_new_uint64(f->raid_stride));
			r |= json_add_nullable(fs, "raid_stripe_width", json_object_new_uint64(f->raid_stripe_width));
		}
	}
	r |= json_add_nullable(o, "filesystem", fs);
	if (r) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *histogram_json(const struct snapmgr_workload *w,
					  bool sizes)
{
	struct json_object *arr = json_object_new_array();
	uint64_t bytes, count;

	if (!arr)
		return NULL;
	for (unsigned int i = 0; i < SNAPMGR_WORKLOAD_BUCKETS; i++) {
		struct json_object *e;
		int r = 0;

		if (sizes)
			snapmgr_workload_get_size_bucket(w, i, &bytes, &count);
		else
			snapmgr_workload_get_alignment_bucket(w, i, &bytes, &count);
		if (!count)
			continue;
		e = json_object_new_object();
		if (!e || json_append(arr, e) < 0) {
			json_object_put(arr);
			return NULL;
		}
		r |= json_add_nullable(e, "bytes", json_object_new_uint64(bytes));
		r |= json_add_nullable(e, "count", json_object_new_uint64(count));
		if (r) {
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

_public_ int snapmgr_advice_to_json(const struct snapmgr_advice *a,
				    struct json_object **ret)
{
	_cleanup_(json_putp) struct json_object *root = NULL;
	struct json_object *wl, *arr, *rec, *reasons, *targets;
	const struct snapmgr_workload *w;
	int r = 0;

	if (!a || !ret)
		return -EINVAL;
	w = a->workload;
	root = json_object_new_object();
	if (!root)
		return -ENOMEM;
	if (a->have_facts) {
		struct json_object *d = device_json(&a->facts);

		if (!d)
			return -ENOMEM;
		r |= json_add_nullable(root, "device", d);
	} else {
		r |= json_add_nullable(root, "device", NULL);
	}
	targets = json_object_new_array();
	if (!targets || json_add_nullable(root, "for", targets) < 0)
		return -ENOMEM;
	if (a->targets & SNAPMGR_ADVISE_BACKUP)
		r |= json_append(targets, json_object_new_string("backup"));
	if (a->targets & SNAPMGR_ADVISE_CLONE)
		r |= json_append(targets, json_object_new_string("clone"));

	wl = json_object_new_object();
	if (!wl || json_add_nullable(root, "workload", wl) < 0)
		return -ENOMEM;
	r |= json_add_nullable(wl, "source", json_object_new_string(snapmgr_workload_source_to_string(w->source)));
	r |= json_add_nullable(wl, "note", w->note ? json_object_new_string(w->note) : NULL);
	r |= json_add_nullable(wl, "seconds", new_double(w->seconds));
	r |= json_add_nullable(wl, "writes", json_object_new_uint64(w->n));
	r |= json_add_nullable(wl, "bytes", json_object_new_uint64(w->bytes));
	arr = histogram_json(w, true);
	r |= arr ? json_add_nullable(wl, "size_histogram", arr) : -ENOMEM;
	arr = histogram_json(w, false);
	r |= arr ? json_add_nullable(wl, "alignment_histogram", arr) : -ENOMEM;

	arr = json_object_new_array();
	if (!arr || json_add_nullable(root, "candidates", arr) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < N_CANDIDATES; i++) {
		const struct snapmgr_advice_candidate *c = &a->c[i];
		struct json_object *e = json_object_new_object();

		if (!e || json_append(arr, e) < 0)
			return -ENOMEM;
		r |= json_add_nullable(e, "chunk_size", json_object_new_uint64(c->chunk_size));
		r |= json_add_nullable(e, "bypass_fraction", new_double(c->bypass_fraction));
		r |= json_add_nullable(e, "copy_ratio", new_double(c->copy_ratio));
		r |= json_add_nullable(e, "cow_bytes_per_gib", json_object_new_uint64((uint64_t)(c->cow_per_gib + 0.5)));
		r |= json_add_nullable(e, "relative_cost", new_double(c->cost));
		r |= json_add_nullable(e, "recommended", json_object_new_boolean(i == a->chosen));
	}

	rec = json_object_new_object();
	reasons = json_object_new_array();
	if (!rec || json_add_nullable(root, "recommendation", rec) < 0 || !reasons) {
		json_object_put(reasons);
		return -ENOMEM;
	}
	r |= json_add_nullable(rec, "chunk_size", json_object_new_uint64(a->c[a->chosen].chunk_size));
	r |= json_add_nullable(rec, "reasons", reasons);
	for (size_t i = 0; i < a->n_reasons; i++)
		r |= json_append(reasons, json_object_new_string(a->reasons[i]));
	if (r)
		return -ENOMEM;
	*ret = TAKE_PTR(root);
	return 0;
}
