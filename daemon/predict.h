/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fill-rate prediction and the choice of the next look at a snapshot: pure
 * arithmetic, no device-mapper, unit-tested in tests/unit/test-predict.c.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct predictor {
	bool have_sample;
	double last_t;      /* seconds, monotonic */
	uint64_t last_used; /* bytes */
	double rate;        /* bytes/s, exponentially weighted */
	double peak;        /* bytes/s, highest recent rate, decaying */
	unsigned samples;
};

/* Time constants: the rate follows a change within ~RATE_TAU seconds. */
#define PREDICT_RATE_TAU 2.0
#define PREDICT_PEAK_TAU 120.0

void predictor_reset(struct predictor *p);
/*
 * Adds a sample (t seconds, used bytes). A drop in usage (a merge, a new
 * snapshot under the same name) restarts the estimate.
 */
void predictor_add(struct predictor *p, double t, uint64_t used);
/* Seconds until used reaches target at the current rate; INFINITY if never. */
double predict_seconds_until(const struct predictor *p, uint64_t used,
			     uint64_t target);

/*
 * Linear interpolation of when usage crossed threshold between the previous
 * sample (t0, u0) and this one (t1, u1); t1 when it cannot tell.
 */
double predict_crossing_time(double t0, uint64_t u0, double t1, uint64_t u1,
			     uint64_t threshold);

struct interval_params {
	uint64_t used;        /* bytes */
	uint64_t next_mark;   /* bytes: the next threshold that matters */
	double rate, peak;    /* from the predictor */
	double burst_rate;    /* bytes/s a writer may suddenly reach */
	double min_interval;  /* seconds: the reaction target's share */
	double max_interval;  /* seconds: poll_interval_max */
};
/*
 * Seconds until the next look: half the time the next mark would take to
 * reach at the worst plausible rate (the larger of rate, peak and
 * burst_rate), so a writer is seen at least twice before it crosses, and
 * the look after the crossing is at most min_interval late.
 */
double choose_interval(const struct interval_params *ip);
