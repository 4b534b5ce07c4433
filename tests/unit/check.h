/* Minimal unit-test helpers: each test program runs its cases, prints one
 * line per failed check, and exits 1 if any failed (0 otherwise), which is
 * what automake's test driver reads. */
#ifndef IMS_TEST_CHECK_H
#define IMS_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,       \
				__LINE__, #cond);                                    \
			check_failures++;                                            \
		}                                                                    \
	} while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                              \
	do {                                                                         \
		const char *h_ = (hay), *n_ = (needle);                              \
		if (!h_ || !strstr(h_, n_)) {                                        \
			fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n",       \
				__FILE__, __LINE__, h_ ? h_ : "(null)", n_);         \
			check_failures++;                                            \
		}                                                                    \
	} while (0)

#define RUN(test)                                                                    \
	do {                                                                         \
		int before_ = check_failures;                                        \
		test();                                                              \
		printf("%s %s\n", check_failures == before_ ? "ok  " : "FAIL", #test); \
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

#endif
