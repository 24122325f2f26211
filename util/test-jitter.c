/* SPDX-License-Identifier: MIT */
/* jitter_ms: every delay within [delay/2, delay], and spread over that
 * range (a fixed or narrow value would bring a fleet back in step). */
#include "test.h"
#include "util.h"

int main(void)
{
	int64_t lo = INT64_MAX, hi = 0;
	unsigned buckets[8] = { 0 };

	for (int i = 0; i < 4000; i++) {
		int64_t d = jitter_ms(8000);

		CHECK(d >= 4000 && d <= 8000);
		lo = MIN(lo, d);
		hi = MAX(hi, d);
		buckets[MIN((d - 4000) / 500, 7)]++;
	}
	CHECK(hi - lo > 3500);
	for (int b = 0; b < 8; b++)
		CHECK(buckets[b] > 200);        /* 500 expected in each */
	CHECK_EQ(jitter_ms(0), 0);
	CHECK_EQ(jitter_ms(1), 1);
	CHECK(jitter_ms(2) >= 1 && jitter_ms(2) <= 2);
	return test_report("jitter");
}
