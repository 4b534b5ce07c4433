/* lib/feedback.c without Redis: the message key (X-IMS-Scan-Id or SHA-256)
 * and the size bound.  The Redis side (one entry per message and user, the
 * bounds) is tested against a real redis-server and Dovecot in
 * tests/cli/test_feedback_imap.py. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "check.h"
#include "feedback.h"

#define ID "01JD3M8Q5Z7X1V9K2C4B6N8P0R"

/* out: a buffer of KEY_MAX bytes */
#define KEY_MAX IMS_FEEDBACK_KEY_MAX
static void key_of(const char *raw, char *out)
{
	struct ims_feedback_msg m;

	CHECK(ims_feedback_msg_from(raw, strlen(raw), 65536, &m) == IMS_OK);
	snprintf(out, KEY_MAX, "%s", m.key);
	ims_feedback_msg_clear(&m);
}

static void test_key(void)
{
	char k[IMS_FEEDBACK_KEY_MAX];

	key_of("From: a@b\r\nX-IMS-Scan-Id: " ID "\r\n\r\nbody\r\n", k);
	CHECK(strcmp(k, ID) == 0);
	key_of("x-ims-scan-id:\t " ID " \r\nFrom: a@b\n\nbody\n", k); /* any case, blanks */
	CHECK(strcmp(k, ID) == 0);
	/* only the first field counts, and it must be a scan id and nothing else */
	key_of("X-IMS-Scan-Id: " ID " trailing\r\nX-IMS-Scan-Id: " ID "\r\n\r\n", k);
	CHECK(strncmp(k, "sha256:", 7) == 0);
	key_of("X-IMS-Scan-Id: 01JD3M8Q5Z7X1V9K2C4B6N8P0\r\n\r\n", k); /* 25 characters */
	CHECK(strncmp(k, "sha256:", 7) == 0);
	/* no header at all: the SHA-256 of the bytes (FIPS 180-2 "abc") */
	key_of("abc", k);
	CHECK(
	    strcmp(k, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") ==
	    0);
}

static void test_bounds(void)
{
	static char big[3000];
	struct ims_feedback_msg m;
	int fds[2];

	memset(big, 'x', sizeof big);
	memcpy(big, "Subject: s\r\n\r\n", 14);
	CHECK(ims_feedback_msg_from(big, sizeof big, 1024, &m) == IMS_OK);
	CHECK(m.raw_len == 1024 && m.size == sizeof big && m.truncated && m.raw[1024] == '\0');
	ims_feedback_msg_clear(&m);
	CHECK(ims_feedback_msg_from(big, 0, 1024, &m) == IMS_EINVAL);
	/* from a pipe, as Dovecot hands it over: the key covers every byte */
	CHECK(pipe(fds) == 0);
	CHECK(write(fds[1], big, sizeof big) == (ssize_t)sizeof big);
	close(fds[1]);
	CHECK(ims_feedback_msg_read(fds[0], 1024, &m) == IMS_OK);
	close(fds[0]);
	{
		struct ims_feedback_msg whole;

		CHECK(ims_feedback_msg_from(big, sizeof big, sizeof big, &whole) == IMS_OK);
		CHECK(strcmp(m.key, whole.key) == 0 && !whole.truncated);
		ims_feedback_msg_clear(&whole);
	}
	CHECK(m.raw_len == 1024 && m.size == sizeof big && m.truncated);
	ims_feedback_msg_clear(&m);
	CHECK(pipe(fds) == 0);
	close(fds[1]);
	CHECK(ims_feedback_msg_read(fds[0], 1024, &m) == IMS_EINVAL); /* empty */
	close(fds[0]);
	CHECK(strcmp(ims_feedback_outcome_name(IMS_FEEDBACK_USER_FULL), "user_full") == 0);
}

int main(void)
{
	RUN(test_key);
	RUN(test_bounds);
	return CHECK_DONE();
}
