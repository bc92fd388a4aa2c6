/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer harness for the "rbd diff v1" reader (lib/rbd-diff.c): the
 * input is the stream, handed over in reads of varying sizes (the first
 * byte picks them), every record walked and its data read in part or
 * whole, as snapctl import-diff does. Errors must be -EBADMSG with a
 * message, never a crash. tests/fuzz/run-fuzz runs it.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "rbd-diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct src {
	const uint8_t *data;
	size_t size, pos;
	size_t step;
};

static ssize_t src_read(void *userdata, void *buf, size_t len)
{
	struct src *s = userdata;
	size_t n = s->size - s->pos;

	if (n > len)
		n = len;
	if (s->step && n > s->step)
		n = s->step;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct src s = { .data = data, .size = size };
	struct rbd_diff_reader r;
	struct rbd_diff_record rec;
	uint8_t buf[4096];
	unsigned int records = 0;
	int k;

	if (size) {
		/* 0: whole reads; else reads of 1..255 bytes. */
		s.step = data[0] & 0x80 ? data[0] & 0x7f : 0;
		s.data++;
		s.size--;
	}
	rbd_diff_reader_init(&r, src_read, &s);
	k = rbd_diff_read_header(&r);
	while (k == 0) {
		k = rbd_diff_next(&r, &rec);
		if (k < 0 || rec.type == 'e')
			break;
		if (rec.type != 'w' && rec.type != 'z')
			abort();
		if (rec.offset + rec.length > r.size || rec.offset + rec.length < rec.offset)
			abort();
		/* Every other record's data is left for next() to skip. */
		if (rec.type == 'w' && (records++ & 1)) {
			while (r.data_left && k == 0) {
				size_t n = r.data_left < sizeof(buf) ? (size_t)r.data_left
								     : sizeof(buf);

				k = rbd_diff_read_data(&r, buf, n);
			}
		}
	}
	if (k < 0 && (k != -EBADMSG || !r.error[0]))
		abort();
	if (r.pos > s.size)
		abort();
	rbd_diff_reader_done(&r);
	return 0;
}
