/* lib/log.c: log values a sender chose cannot break the key=value line;
 * lib/siem.c: CEF escaping of header and extension. */
#include "config.h"

#include "check.h"
#include "log.h"
#include "siem.h"

static void test_quote(void)
{
	char out[64];

	CHECK(strcmp(ims_log_quote(out, sizeof out, "plain@example.org"),
	             "\"plain@example.org\"") == 0);
	CHECK(strcmp(ims_log_quote(out, sizeof out, NULL), "\"\"") == 0);
	/* a quote, a backslash and a line break stay inside the value */
	CHECK(strcmp(ims_log_quote(out, sizeof out, "a\" action=accept\\\r\nx"),
	             "\"a\\\" action=accept\\\\\\x0d\\x0ax\"") == 0);
	/* cut at the buffer, still closed */
	CHECK(strcmp(ims_log_quote(out, 12, "abcdefghijklmnop"), "\"abcdef...\"") == 0);
	CHECK(strlen(ims_log_quote(out, 8, "\"\"\"\"\"\"\"\"")) < 8);
	CHECK(out[strlen(out) - 1] == '"');
}

static void test_cef(void)
{
	const char *kv[] = {"type", "admin", "op", "x|y\\z", "target", "a=b\\c\nd"};
	struct ims_siem_event e = {"1-0", kv, 3};
	char *s = ims_siem_cef(&e);

	CHECK_STR_CONTAINS(s, "|x\\|y\\\\z|admin x\\|y\\\\z|3|externalId=1-0 ");
	CHECK_STR_CONTAINS(s, " op=x|y\\\\z target=a\\=b\\\\c\\nd");
	free(s);
	s = ims_siem_json(&e);
	CHECK(s && strcmp(s, "{\"stream_id\":\"1-0\",\"type\":\"admin\",\"op\":\"x|y\\\\z\","
	                     "\"target\":\"a=b\\\\c\\nd\"}") == 0);
	free(s);
}

static void test_target(void)
{
	char err[256];

	CHECK(ims_siem_target_check("udp:127.0.0.1:514", err, sizeof err) == IMS_OK);
	CHECK(ims_siem_target_check("tcp:[::1]:6514", err, sizeof err) == IMS_OK);
	CHECK(ims_siem_target_check("unix:/dev/log", err, sizeof err) == IMS_OK);
	CHECK(ims_siem_target_check("udp:[]:514", err, sizeof err) == IMS_EINVAL);
	CHECK(ims_siem_target_check("udp::514", err, sizeof err) == IMS_EINVAL);
	CHECK(ims_siem_target_check("udp:127.0.0.1:", err, sizeof err) == IMS_EINVAL);
	CHECK(ims_siem_target_check("udp:127.0.0.1:syslog", err, sizeof err) == IMS_EINVAL);
	CHECK(ims_siem_target_check("http://x", err, sizeof err) == IMS_EINVAL);
}

int main(void)
{
	RUN(test_quote);
	RUN(test_cef);
	RUN(test_target);
	return CHECK_DONE();
}
