/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <math.h>

#include "predict.h"

void predictor_reset(struct predictor *p)
{
	*p = (struct predictor){};
}

void predictor_add(struct predictor *p, double t, uint64_t used)
{
	double dt, inst, alpha;

	if (!p->have_sample || used < p->last_used || t < p->last_t) {

		predictor_reset(p);
		p->have_sample = true;
		p->last_t = t;
		p->last_used = used;
		p->samples = 1;
		return;
	}
	dt = t - p->last_t;
	if (dt < 1e-3) /* too close to tell anything; keep the older one */
		return;
	inst = (double)(used - p->last_used) / dt;
	if (p->samples == 1)
		p->rate = inst;
	else {
		alpha = 1.0 - exp(-dt / PREDICT_RATE_TAU);
		p->rate += alpha * (inst - p->rate);
	}
	p->peak *= exp(-dt / PREDICT_PEAK_TAU);
	if (inst > p->peak)
		p->peak = inst;
	p->last_t = t;
	p->last_used = used;
	p->samples++;
}

double predict_seconds_until(const struct predictor *p, uint64_t used,
			     uint64_t target)
{
	if (used >= target)
		return 0.0;
	if (p->samples < 2 || p->rate < 1.0) /* under a byte a second: idle */
		return INFINITY;
	return (double)(target - used) / p->rate;
}

double predict_crossing_time(double t0, uint64_t u0, double t1, uint64_t u1,
			     uint64_t threshold)
{
	if (u1 <= u0 || threshold <= u0 || threshold > u1 || t1 <= t0)
		return t1;
	return t0 + (t1 - t0) * (double)(threshold - u0) / (double)(u1 - u0);
}

double choose_interval(const struct interval_params *ip)
{
	double worst = fmax(fmax(ip->rate, ip->peak), ip->burst_rate);
	double interval;

	if (ip->used >= ip->next_mark || worst <= 0.0)
		interval = ip->used >= ip->next_mark ? ip->min_interval :
						       ip->max_interval;
	else
		interval = (double)(ip->next_mark - ip->used) / worst / 2.0;
	if (interval < ip->min_interval)
		interval = ip->min_interval;
	if (interval > ip->max_interval)
		interval = ip->max_interval;
	return interval;
}
