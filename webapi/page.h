/* Paged lists of the web API: the cursor pages of lib/tpage.h and the
 * time arguments of a list's query string. */
#ifndef IMS_WEB_PAGE_H
#define IMS_WEB_PAGE_H

#include "request.h"
#include "tpage.h"

/* Parses ?name= as a time in ms; *v unchanged when absent.  -1 and a 400
 * on r when malformed. */
int ims_page_time_arg(struct ims_req *r, const char *name, long long *v);

/* Sets the response for a failed ims_page_read (or a list built on it):
 * 400 for a malformed cursor, else as ims_req_store_failed. */
void ims_page_failed(struct ims_req *r, ims_status st);

#endif
