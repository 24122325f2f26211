/* SPDX-License-Identifier: MIT */
/* A minimal check harness for the unit tests: count, report, exit code. */
#ifndef ISCSIROOT_TEST_H
#define ISCSIROOT_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                            \
	do {                                                                   \
		test_checks++;                                                 \
		if (!(cond)) {                                                 \
			test_failures++;                                       \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
		}                                                              \
	} while (0)

#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		long long _a = (long long)(a), _b = (long long)(b);            \
		test_checks++;                                                 \
		if (_a != _b) {                                                \
			test_failures++;                                       \
			fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", \
				__FILE__, __LINE__, #a, _a, #b, _b);           \
		}                                                              \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		const char *_a = (a), *_b = (b);                               \
		test_checks++;                                                 \
		if (!_a || !_b || strcmp(_a, _b)) {                            \
			test_failures++;                                       \
			fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n", \
				__FILE__, __LINE__, #a, _a ? _a : "(null)",    \
				_b ? _b : "(null)");                           \
		}                                                              \
	} while (0)

static inline int test_report(const char *name)
{
	printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
	return test_failures ? 1 : 0;
}

/* A table of named cases: TEST_ONLY=name runs one, TEST_DEBUG=1 shows
 * the log (else errors only). Returns test_report(suite). */
struct test_case {
	const char *name;
	void (*run)(void);
};

static inline int test_run_cases(const char *suite, const struct test_case *cases,
				 size_t n)
{
	const char *only = getenv("TEST_ONLY");

	log_set_level(getenv("TEST_DEBUG") ? LOG_DEBUG : LOG_ERR);
	for (size_t i = 0; i < n; i++)
		if (!only || !strcmp(only, cases[i].name))
			cases[i].run();
	return test_report(suite);
}

#endif
