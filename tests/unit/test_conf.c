/* ims.conf parsing: defaults, every type, and bad input named by file,
 * line and key. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "conf.h"
#include "log.h"
#include "symbols.h"

static char tmpdir[] = "/tmp/ims-test-conf-XXXXXX";

static const char *write_conf(const char *name, const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_defaults(void)
{
	struct ims_conf *c;

	CHECK(ims_conf_defaults(&c) == IMS_OK);
	CHECK(c->redis_port == 6379);
	CHECK(c->milter_max_message_size == 25u * 1024 * 1024);
	CHECK(c->milter_local_domains && c->milter_local_domains[0] == NULL);
	CHECK(c->action_reject == 15.0);
	CHECK(ims_conf_score(c, "SPF_FAIL") == ims_symbols[ims_symbol_find("SPF_FAIL")].weight);
	ims_conf_unref(c);
}

static void test_good_file(void)
{
	struct ims_conf *c = NULL;
	char err[512] = "";
	const char *p = write_conf("good.conf", "; comment\n"
	                                        "[redis]\nport = 6380\nsocket = /tmp/r.sock\n"
	                                        "[milter]\nlocal_domains = a.test, b.test ,\n"
	                                        "max_message_size = 2M\nsign_outbound = off\n"
	                                        "[scores]\nSPF_FAIL = 4.5\n"
	                                        "[actions]\nreject = -1\n"
	                                        "[log]\nlevel = debug\n");

	CHECK(ims_conf_load(p, &c, err, sizeof err) == IMS_OK);
	if (!c) {
		fprintf(stderr, "error: %s\n", err);
		return;
	}
	CHECK(c->redis_port == 6380);
	CHECK(strcmp(c->redis_socket, "/tmp/r.sock") == 0);
	CHECK(strcmp(c->milter_local_domains[0], "a.test") == 0);
	CHECK(strcmp(c->milter_local_domains[1], "b.test") == 0);
	CHECK(c->milter_local_domains[2] == NULL);
	CHECK(c->milter_max_message_size == 2u * 1024 * 1024);
	CHECK(!c->milter_sign_outbound);
	CHECK(ims_conf_score(c, "SPF_FAIL") == 4.5);
	CHECK(c->action_reject == -1);
	CHECK(strcmp(c->log_level, "debug") == 0);
	CHECK(ims_conf_ref(c) == c);
	ims_conf_unref(c);
	ims_conf_unref(c);
}

static void expect_error(const char *text, const char *needle)
{
	struct ims_conf *c = NULL;
	char err[512] = "";
	const char *p = write_conf("bad.conf", text);

	CHECK(ims_conf_load(p, &c, err, sizeof err) == IMS_EINVAL);
	CHECK(c == NULL);
	CHECK_STR_CONTAINS(err, p);
	CHECK_STR_CONTAINS(err, needle);
}

static void test_bad_input(void)
{
	expect_error("[redis]\nport = 6380\nbogus = 1\n", ":3: unknown key 'bogus' in [redis]");
	expect_error("[nosuch]\na = b\n", ":2: unknown section [nosuch]");
	expect_error("[redis]\n\nport = 70000\n", ":3: [redis] port: 70000 is out of range");
	expect_error("[redis]\nport = 12ab\n", ":2: [redis] port: '12ab' is not a whole number");
	expect_error("[milter]\nmax_message_size = 5Q\n", "is not a size");
	expect_error("[milter]\nsign_outbound = maybe\n", "is not yes or no");
	expect_error("[log]\ntarget = file\n", "'file' is not one of auto,stderr,syslog");
	expect_error("[scores]\nNO_SUCH_SYMBOL = 1\n", "unknown symbol 'NO_SUCH_SYMBOL'");
	expect_error("[scores]\nSPF_FAIL = lots\n", "is not a weight");
	expect_error("[actions]\ntag = nan\n", "is not a number");
	expect_error("[redis]\nthis line has no equals sign\n", ":2: ");
	expect_error("port = 1\n", ":1: unknown section []");
	/* [redis] cluster: HOST:PORT nodes, never with host/port/socket/db */
	expect_error("[redis]\ncluster = 127.0.0.1:7000, 127.0.0.1\n",
	             "'127.0.0.1': want HOST:PORT");
	expect_error("[redis]\ncluster = redis-a:70000\n", "is not a port");
	expect_error("[redis]\ncluster = redis_a:7000\n", "want HOST:PORT");
	expect_error("[redis]\ncluster = :7000\n", "want HOST:PORT");
	expect_error("[redis]\nport = 6380\ncluster = 127.0.0.1:7000\n",
	             ":2: [redis] port and cluster are both set");
	expect_error("[redis]\ncluster = 127.0.0.1:7000\nsocket = /run/r.sock\n",
	             ":3: [redis] socket and cluster are both set");
	expect_error("[redis]\ncluster = 127.0.0.1:7000\ndb = 1\n", ":3: [redis] db and cluster");
	/* [redis] wait_replicas: WAIT must answer before the command timeout */
	expect_error("[redis]\nwait_replicas = 1\ntimeout_ms = 100\n",
	             ":3: [redis] wait_timeout_ms (100) must be below timeout_ms (100)");
	expect_error("[redis]\nwait_replicas = 17\n", ":2:");
	/* The first error is the one reported. */
	expect_error("[redis]\nport = x\nhost2 = y\n", ":2: [redis] port");
}

/* Values that parse as their type but cannot work (issue 13): each refused
 * with its file, line and key before a daemon starts with it. */
static void test_value_checks(void)
{
	expect_error("[milter]\ntrusted_networks = 10.0.0.0/8\ntrusted_networks = 10.0.0/8\n",
	             ":3: [milter] trusted_networks: '10.0.0/8' is not an IP address");
	expect_error("[milter]\ntrusted_networks = 10.1.2.3/8\n", "host bits set");
	expect_error("[milter]\ntrusted_networks = 192.0.2.0/33\n", "bad prefix length");
	expect_error("[milter]\nsocket = tcp:foo\n", ":2: [milter] socket: 'tcp:foo': want unix:");
	expect_error("[siem]\nsyslog = syslog.example:514\n", "not unix:PATH, udp:HOST:PORT");
	expect_error("[siem]\nsyslog = udp:siem.example:514\n", "HOST is an address");
	expect_error("[siem]\nsyslog = tcp:127.0.0.1\n", "no HOST:PORT");
	expect_error("[siem]\nsyslog = unix:dev/log\n", "not an absolute socket path");
	expect_error("[milter]\nsocket = inet:99999@127.0.0.1\n", "PORT 1-65535");
	expect_error("[milter]\nsocket = inet:8891@localhost\n", "not an IP address");
	expect_error("[milter]\nsocket = unix:relative/sock\n", "absolute path");
	expect_error("[milter]\nuser = no-such-user-ims-test\n",
	             ":2: [milter] user: no such system user 'no-such-user-ims-test'");
	expect_error("[milter]\nlocal_domains = example.com, exa mple.com\n",
	             "'exa mple.com' is not a domain name");
	expect_error("[milter]\nauthserv_id = mx; dkim=pass\n", "may hold only");
	expect_error("[dns]\nnameservers = 127.0.0.1:53, localhost:53\n", "'localhost' is not");
	expect_error("[dns]\nnameservers = 127.0.0.1:0\n", "is not a port");
	expect_error("[dkim]\nkeys = example.com:sel\n", "want domain:selector:/path");
	expect_error("[webapi]\nlisten = 8080\n", "'8080' is not an IP address");
	expect_error("[webapi]\nlisten = 127.0.0.1\n", "has no :PORT");
	expect_error("[webapi]\nsubmission = http://127.0.0.1:587\n", "want smtp://");
	expect_error("[webapi]\njwt_secret_file = jwt.secret\n", "not an absolute path");
	/* thresholds in order; the later line is blamed */
	expect_error("[actions]\ntag = 8\nquarantine = 6\n",
	             ":3: [actions] quarantine (6) must be above tag (8)");
	expect_error("[actions]\nreject = 4\n", ":2: [actions] reject (4) must be above tag (5)");
	expect_error("[webapi]\naccess_ttl_s = 86400\nrefresh_ttl_s = 3600\n",
	             ":3: [webapi] access_ttl_s (86400) must be below refresh_ttl_s");
}

static void test_value_checks_accept(void)
{
	struct ims_conf *c = NULL;
	char err[512] = "";
	const char *s = NULL, *n = NULL;
	const char *p =
	    write_conf("ok.conf", "[milter]\nsocket = unix:/run/ims/milter.sock\n"
	                          "user = root\ntrusted_networks = 10.0.0.0/8, ::1, "
	                          "2001:db8::/32, 192.0.2.7\n"
	                          "[dns]\nnameservers = 127.0.0.1:5353, [::1]:53, ::1\n"
	                          "[actions]\ntag = -1\nquarantine = 3\nreject = -1\n"
	                          "[webapi]\nsubmission = smtps://mail.example.com:465\n");

	CHECK(ims_conf_load(p, &c, err, sizeof err) == IMS_OK);
	if (!c)
		fprintf(stderr, "error: %s\n", err);
	ims_conf_unref(c);
	/* every key with a value check is a key of the table */
	for (size_t i = 0; ims_conf_checked_key(i, &s, &n); i++)
		CHECK(ims_conf_has_key(s, n));
	CHECK(s != NULL);
}

/* [log] target = auto: stderr until a daemon detaches, syslog after; the
 * explicit targets stay where they are. */
static void test_redis_cluster(void)
{
	struct ims_conf *c = NULL;
	char err[512] = "";
	const char *p = write_conf("cluster.conf", "[redis]\ncluster = 127.0.0.1:7000, "
	                                           "[::1]:7001,redis-b.example:7002\n");

	CHECK(ims_conf_load(p, &c, err, sizeof err) == IMS_OK);
	if (!c) {
		fprintf(stderr, "error: %s\n", err);
		return;
	}
	CHECK(strcmp(c->redis_cluster[0], "127.0.0.1:7000") == 0);
	CHECK(strcmp(c->redis_cluster[2], "redis-b.example:7002") == 0);
	CHECK(c->redis_cluster[3] == NULL);
	ims_conf_unref(c);
}

static void test_log_auto(void)
{
	struct ims_conf *c;

	CHECK(ims_conf_defaults(&c) == IMS_OK);
	CHECK(strcmp(c->log_target, "auto") == 0);
	CHECK(ims_log_open("test", c->log_target, NULL, "local0") == IMS_OK);
	CHECK(!ims_log_to_syslog());
	ims_log_detached();
	CHECK(ims_log_to_syslog());
	CHECK(ims_log_open("test", "stderr", NULL, NULL) == IMS_OK);
	ims_log_detached();
	CHECK(!ims_log_to_syslog());
	ims_conf_unref(c);
}

static void test_long_lists(void)
{
	struct ims_conf *c = NULL;
	char err[512] = "", line[400];
	const char *p = write_conf("list.conf", "[dkim]\nkeys = a.test:s:/k/a.pem\n"
	                                        "keys = b.test:s:/k/b.pem, c.test:s:/k/c.pem\n"
	                                        "[milter]\nlocal_domains = x.test\n");

	CHECK(ims_conf_load(p, &c, err, sizeof err) == IMS_OK);
	if (c) {
		CHECK(strcmp(c->dkim_keys[0], "a.test:s:/k/a.pem") == 0);
		CHECK(strcmp(c->dkim_keys[2], "c.test:s:/k/c.pem") == 0);
		CHECK(c->dkim_keys[3] == NULL);
		/* the default of a list is replaced, not appended to */
		CHECK(strcmp(c->milter_local_domains[0], "x.test") == 0);
		ims_conf_unref(c);
	}
	memset(line, 'a', sizeof line);
	memcpy(line, "[milter]\nlocal_domains = ", 25);
	line[sizeof line - 2] = '\n';
	line[sizeof line - 1] = '\0';
	p = write_conf("long.conf", line);
	c = NULL;
	CHECK(ims_conf_load(p, &c, err, sizeof err) == IMS_EINVAL);
	CHECK_STR_CONTAINS(err, ":2: line longer than 197 characters");
}

static void test_missing_file(void)
{
	struct ims_conf *c = NULL;
	char err[512] = "";

	CHECK(ims_conf_load("/nonexistent/ims.conf", &c, err, sizeof err) == IMS_ENOTFOUND);
	CHECK_STR_CONTAINS(err, "/nonexistent/ims.conf: cannot open");
}

static void test_binary_garbage(void)
{
	struct ims_conf *c = NULL;
	char err[512] = "";
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/garbage.conf", tmpdir);
	f = fopen(path, "wb");
	for (int i = 0; i < 4096; i++)
		fputc((i * 7919) & 0xff, f);
	fclose(f);
	CHECK(ims_conf_load(path, &c, err, sizeof err) == IMS_EINVAL);
	CHECK(c == NULL);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		return 99;
	RUN(test_defaults);
	RUN(test_good_file);
	RUN(test_bad_input);
	RUN(test_value_checks);
	RUN(test_value_checks_accept);
	RUN(test_redis_cluster);
	RUN(test_log_auto);
	RUN(test_long_lists);
	RUN(test_missing_file);
	RUN(test_binary_garbage);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		return 99;
	return CHECK_DONE();
}
