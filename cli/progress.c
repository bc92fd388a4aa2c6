/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Progress of export and import-diff: a bar on a terminal (bytes, rate,
 * time left), JSON lines with --json, a summary at the end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "snapctl.h"

static double mib(uint64_t b)
{
	return (double)b / (1024.0 * 1024.0);
}

static void print_json_line(FILE *f, const struct snapmgr_transfer_stats *st,
			    bool done)
{
	double rate = st->seconds > 0 ? (double)st->done_bytes / st->seconds : 0;

	fprintf(f, "{\"done\": %s, \"done_bytes\": %" PRIu64 ", \"total_bytes\": %" PRIu64
		   ", \"bytes_read\": %" PRIu64 ", \"bytes_written\": %" PRIu64
		   ", \"zero_bytes\": %" PRIu64 ", \"seconds\": %.3f, \"bytes_per_second\": %.0f}\n",
		done ? "true" : "false", st->done_bytes, st->total_bytes,
		st->bytes_read, st->bytes_written, st->zero_bytes, st->seconds,
		rate);
	fflush(f);
}

void progress_init(struct progress *p, bool json, bool stream_on_stdout)
{
	*p = (struct progress){
		.json = json,
		.out = json && !stream_on_stdout ? stdout : stderr,
		.bar = !json && isatty(STDERR_FILENO),
	};
}

void progress_update(void *userdata, const struct snapmgr_transfer_stats *st)
{
	struct progress *p = userdata;
	double pct, rate, left;
	char bar[31];
	int fill;

	if (p->json) {
		print_json_line(p->out, st, false);
		return;
	}
	if (!p->bar)
		return;
	pct = st->total_bytes ? 100.0 * (double)st->done_bytes / (double)st->total_bytes : 100.0;
	rate = st->seconds > 0 ? (double)st->done_bytes / st->seconds : 0;
	left = rate > 0 ? (double)(st->total_bytes - st->done_bytes) / rate : 0;
	fill = (int)(pct * 30 / 100);
	for (int i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : ' ';
	bar[30] = '\0';
	fprintf(stderr, "\r[%s] %3.0f%%  %.1f/%.1f MiB  %.1f MiB/s  %d:%02d left ",
		bar, pct, mib(st->done_bytes), mib(st->total_bytes), mib((uint64_t)rate),
		(int)left / 60, (int)left % 60);
	p->drawn = true;
}

int progress_done(struct snapmgr_ctx *ctx, struct progress *p, const char *what, int r,
		  const struct snapmgr_transfer_stats *st)
{
	/* The bar's line ends first, so that what follows starts a line. */
	if (p->drawn)
		fputc('\n', stderr);
	p->drawn = false;
	if (r < 0)
		return fail_lib(ctx, what, r);
	if (p->json) {
		print_json_line(p->out, st, true);
		return EXIT_OK;
	}
	fprintf(stderr, "snapctl: %s: %" PRIu64 " bytes read, %" PRIu64 " written, %" PRIu64
			" as zeros, in %.2f s\n",
		what, st->bytes_read, st->bytes_written, st->zero_bytes, st->seconds);
	return EXIT_OK;
}
