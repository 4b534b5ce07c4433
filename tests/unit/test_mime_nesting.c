/* Deeply nested multiparts: GMime matches every line that starts with "--"
 * against every open boundary, so 160,000 levels in 10 MB cost seconds of
 * CPU before ims's own depth limit applies.  The scan's parse and the mail
 * view must both stay cheap on such input, and say that a limit was hit. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "mailview.h"
#include "message.h"

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* levels nested multiparts, the innermost holding a text part; param is
 * how the boundary parameter is spelt up to its value. */
static GString *nested_as(int levels, const char *param)
{
	GString *m = g_string_new("From: a@example.org\r\nSubject: deep\r\nMIME-Version: 1.0\r\n");

	for (int i = 0; i < levels; i++)
		g_string_append_printf(
		    m, "Content-Type: multipart/mixed; %s\"b%d\"\r\n\r\n--b%d\r\n", param, i, i);
	g_string_append(m, "Content-Type: text/plain\r\n\r\ninnermost text\r\n");
	for (int i = levels - 1; i >= 0; i--)
		g_string_append_printf(m, "--b%d--\r\n", i);
	return m;
}

static GString *nested(int levels)
{
	return nested_as(levels, "boundary=");
}

static void test_deep_is_cheap(void)
{
	GString *m = nested(160000);
	struct ims_parsed *p = NULL;
	json_t *j = NULL;
	double t;

	fprintf(stderr, "  message of %zu bytes\n", m->len);
	t = cpu_s();
	CHECK(ims_parse_message(m->str, m->len, &p) == IMS_OK);
	t = cpu_s() - t;
	fprintf(stderr, "  scan parse: %.3f s CPU\n", t);
	CHECK(t < 1.0); /* 4.3 s without a bound (no sanitizers) */
	if (p) {
		CHECK(ims_parsed_malformed(p));
		CHECK(ims_parsed_mime_limit(p));
		CHECK(strcmp(ims_parsed_subject(p), "deep") == 0);
		ims_parsed_free(p);
	}
	t = cpu_s();
	CHECK(ims_mailview_parse(m->str, m->len, &j) == IMS_OK);
	t = cpu_s() - t;
	fprintf(stderr, "  mail view: %.3f s CPU\n", t);
	CHECK(t < 1.0);
	if (j) {
		CHECK(json_is_true(json_object_get(j, "mime_limit")));
		CHECK(json_is_true(json_object_get(j, "truncated")));
		CHECK(strcmp(json_string_value(json_object_get(j, "subject")), "deep") == 0);
	}
	json_decref(j);
	g_string_free(m, TRUE);

	/* the parameter spelt the ways GMime still reads: counted all the same */
	m = nested_as(160000, "BOUNDARY (a comment)\r\n =");
	t = cpu_s();
	CHECK(ims_parse_message(m->str, m->len, &p) == IMS_OK);
	CHECK(cpu_s() - t < 1.0);
	CHECK(p && ims_parsed_mime_limit(p));
	ims_parsed_free(p);
	g_string_free(m, TRUE);
	m = nested_as(160000, "boundary*=utf-8''");
	CHECK(ims_parse_message(m->str, m->len, &p) == IMS_OK);
	CHECK(p && ims_parsed_mime_limit(p));
	ims_parsed_free(p);
	g_string_free(m, TRUE);
}

/* Ordinary nesting, and many "--" lines in text, parse in full. */
static void test_ordinary_is_whole(void)
{
	GString *m = nested(20);
	struct ims_parsed *p = NULL;
	json_t *j = NULL;
	GString *sig = g_string_new("From: a@example.org\r\nSubject: long thread\r\n\r\n");

	CHECK(ims_parse_message(m->str, m->len, &p) == IMS_OK);
	if (p) {
		CHECK(!ims_parsed_mime_limit(p));
		CHECK(strstr(ims_parsed_text(p), "innermost text") != NULL);
		ims_parsed_free(p);
	}
	CHECK(ims_mailview_parse(m->str, m->len, &j) == IMS_OK);
	CHECK(j && !json_is_true(json_object_get(j, "mime_limit")));
	CHECK(j && strstr(json_string_value(json_object_get(j, "text")), "innermost text"));
	json_decref(j);
	for (int i = 0; i < 20000; i++)
		g_string_append(sig, "-- \r\nsignature, boundary of the thread\r\n");
	CHECK(ims_parse_message(sig->str, sig->len, &p) == IMS_OK);
	if (p) {
		CHECK(!ims_parsed_mime_limit(p));
		ims_parsed_free(p);
	}
	g_string_free(sig, TRUE);
	g_string_free(m, TRUE);
}

int main(void)
{
	RUN(test_ordinary_is_whole);
	RUN(test_deep_is_cheap);
	return CHECK_DONE();
}
