/* The request-head deadline of ims-webapi (webapi/connguard.c) on socket
 * pairs: a connection that never completes its head is shut down after
 * head_timeout_s, one that did is left alone, and the next head of a
 * kept-alive connection gets idle_s + head_timeout_s. */
#include "config.h"

#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "connguard.h"
#include "log.h"

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* True when the server side of the pair was shut down: the peer reads EOF. */
static int shut(int peer)
{
	char c;

	return recv(peer, &c, 1, MSG_DONTWAIT) == 0;
}

static void test_deadline(void)
{
	struct ims_connguard *g = NULL;
	int slow[2], done[2], kept[2];
	struct ims_connguard_conn *cs, *cd, *ck;

	CHECK(ims_connguard_new(1, 1, &g) == IMS_OK);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, slow) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, done) == 0);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, kept) == 0);
	cs = ims_connguard_open(g, slow[0], "192.0.2.1");
	cd = ims_connguard_open(g, done[0], "192.0.2.2");
	ck = ims_connguard_open(g, kept[0], "192.0.2.3");
	ims_connguard_head_done(g, cd);
	ims_connguard_head_done(g, ck);
	ims_connguard_request_done(g, ck); /* the next head: 1 + 1 s */
	sleep_ms(600);
	CHECK(!shut(slow[1]) && !shut(done[1]) && !shut(kept[1]));
	sleep_ms(900); /* 1.5 s: past the first deadline and its 0.25 s tick */
	CHECK(shut(slow[1]));
	CHECK(!shut(done[1]) && !shut(kept[1]));
	sleep_ms(1000); /* 2.5 s */
	CHECK(shut(kept[1]) && !shut(done[1]));
	ims_connguard_close(g, cs);
	ims_connguard_close(g, cd);
	ims_connguard_close(g, ck);
	ims_connguard_close(g, NULL);
	ims_connguard_free(g);
	for (int i = 0; i < 2; i++) {
		close(slow[i]);
		close(done[i]);
		close(kept[i]);
	}
}

int main(void)
{
	ims_log_open("test", "stderr", "info", "mail");
	RUN(test_deadline);
	return CHECK_DONE();
}
