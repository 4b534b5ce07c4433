/* HTML to text for the classifier: a small, linear-time tag stripper.
 *
 * Not an HTML parser: it keeps the text between tags, drops <script>,
 * <style> and comments, turns block tags into line breaks, decodes
 * character references (named basics and numeric), and reports every
 * <a href> with its anchor text.  Why not libxml2 or gumbo: see
 * docs/classifier.md ("HTML"). Bounded: output stops at max_out bytes,
 * tags longer than IMS_HTML_MAX_TAG are skipped, anchor texts are cut at
 * IMS_HTML_MAX_ANCHOR. */
#ifndef IMS_HTML_H
#define IMS_HTML_H

#include <stddef.h>

#include <glib.h>

#define IMS_HTML_MAX_TAG    4096
#define IMS_HTML_MAX_ANCHOR 1024

/* Called once per link; href and text are NUL-terminated, UTF-8 where the
 * input was, and only valid during the call. */
typedef void (*ims_html_link_fn)(void *ctx, const char *href, const char *text);

/* Stats the caller may turn into features. */
struct ims_html_stats {
	unsigned images;
	unsigned tags;
	unsigned links;
};

/* Appends the text of len bytes of html to out (at most max_out bytes in
 * out in all).  link may be NULL.  stats may be NULL. */
void ims_html_to_text(const char *html, size_t len, GString *out, size_t max_out,
                      ims_html_link_fn link, void *ctx, struct ims_html_stats *stats);

/* Appends the UTF-8 encoding of code point cp (invalid ones as U+FFFD). */
void ims_html_append_utf8(GString *out, unsigned long cp);

#endif
