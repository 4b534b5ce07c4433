/* CPU time of parsing deeply nested multiparts: GMime alone against
 * ims_mime_parse (classifier/mimeparse.c), which bounds GMime's boundary
 * matching first.  Not built by make; bench/mime-nesting.sh compiles and
 * runs it:
 *
 *   cc -O2 -I. -I$top/lib -I$top/classifier $(pkg-config --cflags gmime-3.0) \
 *      bench/mime-nesting.c classifier/mimeparse.c $(pkg-config --libs gmime-3.0)
 *   ./a.out
 *
 * Prints one markdown table row per message: its shape, size, the bound's
 * estimate and the CPU seconds of each parse (best of 3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>

#include "mimeparse.h"

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static GString *nested(int levels)
{
	GString *m = g_string_new("From: a@example.org\r\nSubject: deep\r\nMIME-Version: 1.0\r\n");

	for (int i = 0; i < levels; i++)
		g_string_append_printf(
		    m, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i);
	g_string_append(m, "Content-Type: text/plain\r\n\r\ninnermost text\r\n");
	for (int i = levels - 1; i >= 0; i--)
		g_string_append_printf(m, "--b%d--\r\n", i);
	return m;
}

static GString *plain(size_t size)
{
	GString *m = g_string_new("From: a@example.org\r\nSubject: plain\r\n\r\n");

	while (m->len < size)
		g_string_append(m, "An ordinary line of text, and another one after it.\r\n");
	return m;
}

static double best_of_3(const GString *m, int bounded)
{
	double best = 1e9;

	for (int r = 0; r < 3; r++) {
		double t = cpu_s();
		GMimeMessage *msg;

		if (bounded) {
			msg = ims_mime_parse(m->str, m->len, NULL, NULL);
		} else {
			GMimeStream *s = g_mime_stream_mem_new_with_buffer(m->str, m->len);
			GMimeParser *p = g_mime_parser_new_with_stream(s);

			msg = g_mime_parser_construct_message(p, NULL);
			g_object_unref(p);
			g_object_unref(s);
		}
		t = cpu_s() - t;
		if (msg)
			g_object_unref(msg);
		if (t < best)
			best = t;
	}
	return best;
}

static void row(const char *what, GString *m)
{
	unsigned long long work;
	int ok = ims_mime_work_ok(m->str, m->len, &work);

	printf("| %s | %.1f MB | %llu%s | %.3f | %.3f |\n", what, (double)m->len / 1e6, work,
	       ok ? "" : " (over: headers only)", best_of_3(m, 0), best_of_3(m, 1));
	fflush(stdout);
	g_string_free(m, TRUE);
}

int main(void)
{
	g_mime_init();
	printf("| message | size | B x min(K, B) | GMime alone, s CPU | ims_mime_parse, s CPU |\n"
	       "|---|---|---|---|---|\n");
	row("plain text", plain(10u << 20));
	row("20 nested multiparts", nested(20));
	row("1,414 nested (largest under the bound)", nested(1414));
	row("160,000 nested", nested(160000));
	return 0;
}
