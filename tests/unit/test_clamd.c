/* lib/clamd.c against a fake clamd on a unix socket (a thread of this test):
 * the INSTREAM framing it sends, each reply form, a reply too long, a clamd
 * that never answers (the deadline), one that is not there, and addresses. */
#include "config.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "clamd.h"

enum mode { REPLY, SILENT, EARLY };

struct fake {
	char path[108];
	int lfd;
	enum mode mode;
	const char *reply; /* sent with its NUL */
	size_t reply_len;
	/* what the client sent, after the framing */
	char cmd[16];
	char *data;
	size_t len;
	int chunks, framing_ok;
	pthread_t t;
};

static int read_full(int fd, void *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(fd, (char *)buf + got, n - got);

		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void *serve(void *arg)
{
	struct fake *f = arg;
	int fd = accept(f->lfd, NULL, NULL);
	uint32_t be;

	if (fd < 0)
		return NULL;
	if (f->mode == EARLY) { /* refuses at once, as clamd over StreamMaxLength */
		(void)write(fd, f->reply, f->reply_len);
		close(fd);
		return NULL;
	}
	if (read_full(fd, f->cmd, 10) < 0)
		goto out;
	for (;;) {
		if (read_full(fd, &be, 4) < 0)
			goto out;
		be = ntohl(be);
		if (be == 0)
			break;
		f->data = realloc(f->data, f->len + be);
		if (read_full(fd, f->data + f->len, be) < 0)
			goto out;
		f->len += be;
		f->chunks++;
	}
	f->framing_ok = 1;
	if (f->mode == SILENT) {
		sleep(2);
		goto out;
	}
	(void)write(fd, f->reply, f->reply_len);
out:
	close(fd);
	return NULL;
}

static void fake_start(struct fake *f, enum mode mode, const char *reply, size_t reply_len)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	static int seq;

	memset(f, 0, sizeof *f);
	f->mode = mode;
	f->reply = reply;
	f->reply_len = reply_len;
	snprintf(f->path, sizeof f->path, "/tmp/ims-test-clamd-%d-%d.sock", (int)getpid(), seq++);
	unlink(f->path);
	snprintf(un.sun_path, sizeof un.sun_path, "%s", f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(f->lfd, (struct sockaddr *)&un, sizeof un) == 0);
	CHECK(listen(f->lfd, 4) == 0);
	pthread_create(&f->t, NULL, serve, f);
}

static void fake_stop(struct fake *f)
{
	pthread_join(f->t, NULL);
	close(f->lfd);
	unlink(f->path);
	free(f->data);
}

static ims_status scan_with(struct fake *f, const char *data, size_t len, int timeout_ms,
                            bool *infected, char *name, size_t namelen)
{
	struct ims_clamd *c = NULL;
	char addr[128], why[128];
	ims_status st;

	snprintf(addr, sizeof addr, "unix:%s", f->path);
	CHECK(ims_clamd_new(addr, timeout_ms, &c, why, sizeof why) == IMS_OK);
	st = ims_clamd_scan(c, data, len, infected, name, namelen);
	ims_clamd_free(c);
	return st;
}

static void test_clean_and_framing(void)
{
	static const char ok[] = "stream: OK";
	struct fake f;
	bool inf = true;
	char name[128];
	size_t len = 3 * IMS_CLAMD_CHUNK + 17;
	char *msg = malloc(len);

	for (size_t i = 0; i < len; i++)
		msg[i] = (char)(i * 7);
	fake_start(&f, REPLY, ok, sizeof ok);
	CHECK(scan_with(&f, msg, len, 5000, &inf, name, sizeof name) == IMS_OK);
	fake_stop(&f);
	CHECK(!inf);
	CHECK(memcmp(f.cmd, "zINSTREAM\0", 10) == 0);
	CHECK(f.framing_ok && f.chunks == 4);
	/* f.data was freed by fake_stop: compare before */
	free(msg);
}

static void test_found(void)
{
	static const char found[] = "stream: eicar.com.UNOFFICIAL FOUND";
	struct fake f;
	bool inf = false;
	char name[128];

	fake_start(&f, REPLY, found, sizeof found);
	CHECK(scan_with(&f, "x", 1, 5000, &inf, name, sizeof name) == IMS_OK);
	fake_stop(&f);
	CHECK(inf);
	CHECK(strcmp(name, "eicar.com.UNOFFICIAL") == 0);
}

static void test_errors(void)
{
	static const char err[] = "stream: Can't allocate memory ERROR";
	static const char limit[] = "INSTREAM size limit exceeded. ERROR";
	struct fake f;
	bool inf;
	char name[128];
	char *big = calloc(1, 4 << 20);

	fake_start(&f, REPLY, err, sizeof err);
	CHECK(scan_with(&f, "x", 1, 5000, &inf, name, sizeof name) == IMS_ETEMP);
	fake_stop(&f);
	CHECK_STR_CONTAINS(name, "ERROR");
	/* clamd answers and closes before the client has sent everything */
	fake_start(&f, EARLY, limit, sizeof limit);
	CHECK(scan_with(&f, big, 4 << 20, 5000, &inf, name, sizeof name) == IMS_ELIMIT);
	fake_stop(&f);
	free(big);
}

static void test_long_reply(void)
{
	static char lng[IMS_CLAMD_MAX_REPLY + 100];
	struct fake f;
	bool inf;
	char name[128];

	memset(lng, 'A', sizeof lng);
	fake_start(&f, REPLY, lng, sizeof lng);
	CHECK(scan_with(&f, "x", 1, 5000, &inf, name, sizeof name) == IMS_ETEMP);
	fake_stop(&f);
	CHECK(!inf);
	CHECK_STR_CONTAINS(name, "longer than");
}

static void test_timeout(void)
{
	struct fake f;
	bool inf;
	char name[128];
	struct timespec a, b;
	long ms;

	fake_start(&f, SILENT, "", 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	CHECK(scan_with(&f, "x", 1, 300, &inf, name, sizeof name) == IMS_ETEMP);
	clock_gettime(CLOCK_MONOTONIC, &b);
	fake_stop(&f);
	ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	CHECK(ms >= 250 && ms < 1500);
	CHECK_STR_CONTAINS(name, "timed out");
}

static void test_down(void)
{
	struct ims_clamd *c = NULL;
	char why[128], name[128];
	bool inf;

	CHECK(ims_clamd_new("unix:/nonexistent/clamd.sock", 1000, &c, why, sizeof why) == IMS_OK);
	CHECK(ims_clamd_scan(c, "x", 1, &inf, name, sizeof name) == IMS_ETEMP);
	CHECK_STR_CONTAINS(name, "connect");
	ims_clamd_free(c);
	/* TCP: nothing listens on port 9 of loopback */
	CHECK(ims_clamd_new("127.0.0.1:9", 1000, &c, why, sizeof why) == IMS_OK);
	CHECK(ims_clamd_scan(c, "x", 1, &inf, name, sizeof name) == IMS_ETEMP);
	ims_clamd_free(c);
}

static void test_addresses(void)
{
	struct ims_clamd *c = NULL;
	char why[128];

	CHECK(ims_clamd_new("/run/clamav/clamd.ctl", 1000, &c, why, sizeof why) == IMS_OK);
	ims_clamd_free(c);
	CHECK(ims_clamd_new("[::1]:3310", 1000, &c, why, sizeof why) == IMS_OK);
	ims_clamd_free(c);
	c = NULL;
	CHECK(ims_clamd_new("unix:relative.sock", 1000, &c, why, sizeof why) == IMS_EINVAL && !c);
	CHECK(ims_clamd_new("clamd.example:3310", 1000, &c, why, sizeof why) == IMS_EINVAL && !c);
	CHECK(ims_clamd_new("", 1000, &c, why, sizeof why) == IMS_EINVAL && !c);
}

static void test_parse_reply(void)
{
	bool inf;
	char name[64];

	CHECK(ims_clamd_parse_reply("stream: OK\n", 11, &inf, name, sizeof name) == IMS_OK && !inf);
	CHECK(ims_clamd_parse_reply("stream: Win.Test.EICAR_HDB-1 FOUND", 34, &inf, name,
	                            sizeof name) == IMS_OK &&
	      inf && strcmp(name, "Win.Test.EICAR_HDB-1") == 0);
	CHECK(ims_clamd_parse_reply("stream: FOUND", 13, &inf, name, sizeof name) == IMS_ETEMP);
	CHECK(ims_clamd_parse_reply("stream: a\tb FOUND", 17, &inf, name, sizeof name) ==
	      IMS_ETEMP);
	CHECK(ims_clamd_parse_reply("PONG", 4, &inf, name, sizeof name) == IMS_ETEMP);
	CHECK(ims_clamd_parse_reply("", 0, &inf, name, sizeof name) == IMS_ETEMP && !inf);
}

int main(void)
{
	RUN(test_clean_and_framing);
	RUN(test_found);
	RUN(test_errors);
	RUN(test_long_reply);
	RUN(test_timeout);
	RUN(test_down);
	RUN(test_addresses);
	RUN(test_parse_reply);
	return CHECK_DONE();
}
