/* Cursor pagination over the time-ordered sorted sets of the store
 * (folders, the scan index, quarantine), newest first.
 *
 * A cursor is "TIME-ID" of the last item a page returned; the next page
 * starts after it: items with an older time, or the same time and a
 * smaller id (Redis orders equal scores by member).  Cursors stay right
 * while new items arrive at the top. */
#ifndef IMS_WEB_PAGE_H
#define IMS_WEB_PAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "request.h"

#define IMS_PAGE_ID_MAX 64
#define IMS_CURSOR_MAX  96

struct ims_page {
	size_t n;
	char (*ids)[IMS_PAGE_ID_MAX + 1];
	long long *times;
	bool more; /* there are items after the last one */
};

/* Reads up to limit members of key, newest first, after cursor (NULL or
 * "": from the newest) with times in [min, max] (ms; use LLONG_MIN and
 * LLONG_MAX for no bound).  IMS_EINVAL (and a 400 on r) for a malformed
 * cursor, IMS_ETEMP (503 on r) when Redis failed.  The caller frees p
 * with ims_page_free. */
ims_status ims_page_read(struct ims_req *r, const char *key, const char *cursor, long long min,
                         long long max, size_t limit, struct ims_page *p);
void ims_page_free(struct ims_page *p);

/* The cursor after item i of p, into out (IMS_CURSOR_MAX bytes). */
void ims_page_cursor(const struct ims_page *p, size_t i, char *out);

/* Parses ?name= as a time in ms; *v unchanged when absent.  -1 and a 400
 * on r when malformed. */
int ims_page_time_arg(struct ims_req *r, const char *name, long long *v);

#endif
