/* lib/quarantine.c without Redis: the copy a release delivers, and the
 * [quarantine] keys. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "conf.h"
#include "quarantine.h"

static const char held[] = "Authentication-Results: mx.example.test; spf=pass\r\n"
                           "X-Spam-Flag: YES\r\n"
                           "X-Spam-Score: 12.0\r\n"
                           "X-Spam-Status: Yes, score=12.0 required=5.0 tests=SVM_SPAM\r\n"
                           "X-IMS-Scan-Id: 01JABCDEFGHJKMNPQRSTVWXYZ0\r\n"
                           "X-IMS-Released: by someone@example.org at 2020-01-01T00:00:00Z\r\n"
                           "From: bob@example.org\r\n"
                           "Subject: held\r\n"
                           "\r\n"
                           "X-Spam-Flag: YES in the body stays\r\n";

static void test_released_copy(void)
{
	char *out = NULL;
	size_t len = 0;

	CHECK(ims_quarantine_released_copy(held, strlen(held), "admin@example.test",
	                                   1764547200000ull, &out, &len) == IMS_OK);
	if (!out)
		return;
	CHECK(strlen(out) == len);
	/* the Junk rule looks at X-Spam-Flag: one, NO, first */
	CHECK(strncmp(out, "X-IMS-Released: by admin@example.test at 2025-12-01T00:00:00Z\r\n",
	              63) == 0);
	CHECK_STR_CONTAINS(out, "\r\nX-Spam-Flag: NO\r\n");
	CHECK(strstr(out, "X-Spam-Flag: YES\r\n") == NULL);
	CHECK(strstr(out, "X-Spam-Status: Yes") == NULL);
	CHECK(strstr(out, "someone@example.org") == NULL); /* an older, forged one is gone */
	CHECK_STR_CONTAINS(
	    out, "\r\nX-Spam-Status: No, released from quarantine by admin@example.test\r\n");
	CHECK_STR_CONTAINS(out, "\r\nX-IMS-Scan-Id: 01JABCDEFGHJKMNPQRSTVWXYZ0\r\n");
	CHECK_STR_CONTAINS(out, "\r\nX-Spam-Score: 12.0\r\n");
	CHECK_STR_CONTAINS(out, "\r\nSubject: held\r\n\r\nX-Spam-Flag: YES in the body stays\r\n");
	free(out);
}

static void test_released_copy_no_header(void)
{
	char *out = NULL;
	size_t len = 0;

	static const char raw[] = " not a header\r\nX-Spam-Flag: YES\r\n\r\nbody\r\n";
	char *blank;

	/* found by fuzz-release: glued to our header fields, the first line
	 * folded into them and the forged flag became a header again */
	CHECK(ims_quarantine_released_copy(raw, strlen(raw), "a@example.test", 0, &out, &len) ==
	      IMS_OK);
	CHECK_STR_CONTAINS(out, "X-Spam-Flag: NO\r\n");
	blank = out ? strstr(out, "\r\n\r\n") : NULL;
	CHECK(blank && strstr(out, "YES") > blank);
	CHECK(blank && strncmp(blank + 4, raw, strlen(raw)) == 0);
	free(out);
}

static struct ims_conf *load(const char *text, char *err, size_t errlen)
{
	char path[] = "/tmp/ims-test-quarantine-XXXXXX";
	int fd = mkstemp(path);
	struct ims_conf *c = NULL;

	if (fd < 0)
		return NULL;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		close(fd);
		unlink(path);
		return NULL;
	}
	close(fd);
	if (ims_conf_load(path, &c, err, errlen) != IMS_OK)
		c = NULL;
	unlink(path);
	return c;
}

static void test_user_release_policy(void)
{
	char err[512] = "";
	struct ims_conf *c = load("[quarantine]\nuser_release = score, dmarc\n", err, sizeof err);

	CHECK(c != NULL);
	if (c) {
		CHECK(ims_quarantine_user_may_release(c, "score"));
		CHECK(ims_quarantine_user_may_release(c, "dmarc"));
		CHECK(!ims_quarantine_user_may_release(c, "virus"));
		ims_conf_unref(c);
	}
	c = load("[quarantine]\nuser_release =\n", err, sizeof err);
	CHECK(c != NULL);
	if (c) {
		CHECK(!ims_quarantine_user_may_release(c, "score"));
		ims_conf_unref(c);
	}
	/* only the kinds of hold users may ever release are accepted */
	c = load("[quarantine]\nuser_release = score,virus\n", err, sizeof err);
	CHECK(c == NULL);
	CHECK_STR_CONTAINS(err, "'virus' is not one of score,dmarc");
	ims_conf_unref(c);
	CHECK(ims_conf_defaults(&c) == IMS_OK);
	if (c) {
		CHECK(ims_quarantine_user_may_release(c, "score"));
		CHECK(!ims_quarantine_user_may_release(c, "dmarc"));
		ims_conf_unref(c);
	}
}

int main(void)
{
	RUN(test_released_copy);
	RUN(test_released_copy_no_header);
	RUN(test_user_release_policy);
	return CHECK_DONE();
}
