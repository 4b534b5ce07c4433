/* Starts and stops a real local DNS server (nsd, through
 * tests/harness/dns.py) for the unit tests of lib/dns and the modules on
 * top of it.  Records are given as JSON text: {"name": [["TYPE", data]]}. */
#ifndef IMS_TEST_DNS_SERVER_H
#define IMS_TEST_DNS_SERVER_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct test_dns {
	char dir[256];
	int port;
	int pid;
	char server[64]; /* "127.0.0.1:port" */
};

/* Returns 0 and fills t, 77 when nsd or python3 is missing (skip), -1 on
 * failure. */
static inline int test_dns_start(struct test_dns *t, const char *records_json)
{
	const char *top = getenv("top_srcdir");
	char path[512], cmd[1024];
	FILE *f, *p;

	if (access("/usr/sbin/nsd", X_OK) != 0 || access("/usr/bin/python3", X_OK) != 0)
		return 77;
	snprintf(t->dir, sizeof t->dir, "/tmp/ims-test-dns-XXXXXX");
	if (!mkdtemp(t->dir))
		return -1;
	snprintf(path, sizeof path, "%s/records.json", t->dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(records_json, f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/harness/dns.py start %s %s",
	         top ? top : ".", t->dir, path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (fscanf(p, "%d %d", &t->port, &t->pid) != 2)
		t->port = 0;
	if (pclose(p) != 0 || t->port <= 0)
		return -1;
	snprintf(t->server, sizeof t->server, "127.0.0.1:%d", t->port);
	return 0;
}

/* True while pid runs (a zombie waiting for init counts as gone). */
static inline int test_dns_alive(int pid)
{
	char path[64], buf[256];
	FILE *f;
	int alive = 0;

	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fgets(buf, sizeof buf, f)) {
		const char *paren = strrchr(buf, ')');
		alive = paren && paren[1] == ' ' && paren[2] != 'Z';
	}
	fclose(f);
	return alive;
}

static inline void test_dns_stop(struct test_dns *t)
{
	char cmd[600];

	if (t->pid > 0) {
		kill(t->pid, SIGTERM);
		for (int i = 0; i < 250 && test_dns_alive(t->pid); i++)
			usleep(20000);
		t->pid = 0;
	}
	if (t->dir[0]) {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", t->dir);
		t->dir[0] = '\0';
	}
}

#endif
