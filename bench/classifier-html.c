/* HTML to text: the classifier's tag stripper (classifier/html.c) against
 * libxml2's HTML parser, on the HTML found in a folder of messages.
 * Not built by make; bench/classifier.sh compiles and runs it:
 *
 *   cc -O2 -I. -I$top/lib -I$top/classifier $(pkg-config --cflags glib-2.0 libxml-2.0) \
 *      bench/classifier-html.c classifier/html.c $(pkg-config --libs glib-2.0 libxml-2.0)
 *   ./a.out DIR...
 *
 * The HTML is taken from the first "<html" in each file to its end
 * (good enough for timing; transfer encodings are not undone). */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/HTMLparser.h>

#include "html.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void walk(xmlNode *n, GString *out, int depth)
{
	for (; n; n = n->next) {
		if (n->type == XML_TEXT_NODE && n->content)
			g_string_append(out, (const char *)n->content);
		if (n->type == XML_ELEMENT_NODE && depth < 256) {
			if (!xmlStrcasecmp(n->name, BAD_CAST "script") ||
			    !xmlStrcasecmp(n->name, BAD_CAST "style"))
				continue;
			if (!xmlStrcasecmp(n->name, BAD_CAST "a")) {
				xmlChar *href = xmlGetProp(n, BAD_CAST "href");

				xmlFree(href);
			}
			walk(n->children, out, depth + 1);
		}
	}
}

int main(int argc, char **argv)
{
	char **docs = NULL;
	size_t *lens = NULL, n = 0, cap = 0, bytes = 0, out1 = 0, out2 = 0;

	for (int a = 1; a < argc; a++) {
		DIR *d = opendir(argv[a]);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			char path[4096];
			FILE *f;
			char *buf, *h;
			long len;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
			if (!(f = fopen(path, "rb")))
				continue;
			fseek(f, 0, SEEK_END);
			len = ftell(f);
			fseek(f, 0, SEEK_SET);
			buf = malloc((size_t)len + 1);
			len = (long)fread(buf, 1, (size_t)len, f);
			buf[len] = 0;
			fclose(f);
			h = strcasestr(buf, "<html");
			if (h) {
				if (n == cap) {
					cap = cap ? cap * 2 : 1024;
					docs = realloc(docs, cap * sizeof *docs);
					lens = realloc(lens, cap * sizeof *lens);
				}
				lens[n] = strlen(h);
				docs[n] = strdup(h);
				bytes += lens[n];
				n++;
			}
			free(buf);
		}
		if (d)
			closedir(d);
	}
	xmlInitParser();
	for (int rep = 0; rep < 3; rep++) {
		double t0 = now(), t1, t2;

		for (size_t i = 0; i < n; i++) {
			GString *s = g_string_new(NULL);

			ims_html_to_text(docs[i], lens[i], s, 1 << 20, NULL, NULL, NULL);
			out1 += s->len;
			g_string_free(s, TRUE);
		}
		t1 = now();
		for (size_t i = 0; i < n; i++) {
			GString *s = g_string_new(NULL);
			htmlDocPtr doc =
			    htmlReadMemory(docs[i], (int)lens[i], NULL, "UTF-8",
			                   HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
			                       HTML_PARSE_NOWARNING | HTML_PARSE_NONET);

			if (doc) {
				walk(xmlDocGetRootElement(doc), s, 0);
				xmlFreeDoc(doc);
			}
			out2 += s->len;
			g_string_free(s, TRUE);
		}
		t2 = now();
		printf("{\"html_documents\":%zu,\"html_bytes\":%zu,\"stripper_seconds\":%.4f,"
		       "\"stripper_mb_per_s\":%.1f,\"libxml2_seconds\":%.4f,\"libxml2_mb_per_s\":%."
		       "1f}\n",
		       n, bytes, t1 - t0, (double)bytes / 1e6 / (t1 - t0), t2 - t1,
		       (double)bytes / 1e6 / (t2 - t1));
	}
	(void)out1;
	(void)out2;
	return 0;
}
