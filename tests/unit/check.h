/* Minimal unit-test helpers: each test program runs its cases, prints one
 * line per failed check, and exits 1 if any failed (0 otherwise), which is
 * what automake's test driver reads. */
#ifndef IMS_TEST_CHECK_H
#define IMS_TEST_CHECK_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                                            \
	do {                                                                                       \
		const char *h_ = (hay), *n_ = (needle);                                            \
		if (!h_ || !strstr(h_, n_)) {                                                      \
			fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n", __FILE__, __LINE__, \
			        h_ ? h_ : "(null)", n_);                                           \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define RUN(test)                                                                                  \
	do {                                                                                       \
		int before_ = check_failures;                                                      \
		test();                                                                            \
		printf("%s %s\n", check_failures == before_ ? "ok  " : "FAIL", #test);             \
	} while (0)

#define CHECK_DONE() (check_failures ? 1 : 0)

/* Path of a test fixture under tests/data (top_srcdir is set by make check). */
static inline const char *fixture(const char *name)
{
	static char buf[4096];
	const char *top = getenv("top_srcdir");

	snprintf(buf, sizeof buf, "%s/tests/data/%s", top ? top : ".", name);
	return buf;
}

/* Runs fn(args[i]) (args may be NULL: fn(i as a pointer)) in n threads at
 * once, n <= 16, and returns the sum of what they return: each worker
 * returns its count of failures as (void *)(intptr_t)count.  For modules
 * one handle of which the milter shares between threads. */
static inline long run_threads(void *(*fn)(void *), int n, void *const *args)
{
	pthread_t t[16];
	long bad = 0;
	int started = 0;

	for (int i = 0; i < n && i < 16; i++, started++)
		if (pthread_create(&t[i], NULL, fn, args ? args[i] : (void *)(intptr_t)i) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			bad++;
			break;
		}
	for (int i = 0; i < started; i++) {
		void *r;
		pthread_join(t[i], &r);
		bad += (long)(intptr_t)r;
	}
	return bad;
}

#endif
