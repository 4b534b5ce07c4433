/* Writing JSON text straight into a growable buffer, for the hot list
 * routes where building jansson objects only to serialise them again costs
 * more than the rest of the request.  Strings are escaped per RFC 8259;
 * bytes that are not valid UTF-8 become U+FFFD, so the output is always
 * valid JSON. */
#ifndef IMS_WEB_JSONW_H
#define IMS_WEB_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define IMS_JSONW_MAX ((size_t)256 << 20) /* a response larger fails */

/* A buffer being written; zero-initialise it ({0}).  After a failed
 * allocation (or IMS_JSONW_MAX) every write is dropped and failed is set. */
struct ims_jsonw {
	char *buf;
	size_t len, cap;
	bool failed;
};

/* The slow path of ims_jsonw_raw: grows the buffer first. */
void ims_jsonw_raw_grow(struct ims_jsonw *w, const char *s, size_t n);

/* Appends n bytes as they are. */
static inline void ims_jsonw_raw(struct ims_jsonw *w, const char *s, size_t n)
{
	if (w->cap - w->len > n) { /* one byte stays free for the NUL */
		memcpy(w->buf + w->len, s, n);
		w->len += n;
	} else {
		ims_jsonw_raw_grow(w, s, n);
	}
}

/* Appends a NUL-terminated text as it is. */
void ims_jsonw_puts(struct ims_jsonw *w, const char *s);

/* Appends s (len bytes) as a JSON string, quotes included. */
void ims_jsonw_string(struct ims_jsonw *w, const char *s, size_t len);

/* Hands over the text (NUL-terminated, length in *len), which the caller
 * frees; NULL if a write failed.  w is empty afterwards either way. */
char *ims_jsonw_take(struct ims_jsonw *w, size_t *len);

/* Frees what w holds. */
void ims_jsonw_free(struct ims_jsonw *w);

/* Writes s (len bytes) as a JSON string, quotes included, to a stream. */
void ims_jsonw_str(FILE *f, const char *s, size_t len);

#endif
