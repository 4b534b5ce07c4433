/* Cursor pagination over the time-ordered sorted sets of the store (the
 * scan indexes, the quarantine indexes), newest first.
 *
 * A cursor is "TIME-ID" of the last item a page returned; the next page
 * starts after it: items with an older time, or the same time and a
 * smaller id (Redis orders equal scores by member).  Cursors stay right
 * while new items arrive at the top. */
#ifndef IMS_TPAGE_H
#define IMS_TPAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

struct ims_store;

#define IMS_PAGE_ID_MAX 64
#define IMS_CURSOR_MAX  96

struct ims_page {
	size_t n;
	char (*ids)[IMS_PAGE_ID_MAX + 1];
	long long *times;
	bool more; /* there are items after the last one */
};

/* Reads up to limit members of the sorted set key (a name of rkeys.h),
 * newest first, after cursor (NULL or "": from the newest) with times in
 * [min, max] (ms; LLONG_MIN and LLONG_MAX for no bound).  IMS_EINVAL for
 * a malformed cursor, IMS_ETEMP when Redis failed, IMS_EFORMAT when key
 * is not a sorted set.  The caller frees p with ims_page_free (also after
 * a failure). */
ims_status ims_page_read(struct ims_store *st, const char *key, const char *cursor, long long min,
                         long long max, size_t limit, struct ims_page *p);
void ims_page_free(struct ims_page *p);

/* The cursor after item i of p, into out (IMS_CURSOR_MAX bytes). */
void ims_page_cursor(const struct ims_page *p, size_t i, char *out);

#endif
