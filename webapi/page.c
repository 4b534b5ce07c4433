#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "page.h"

int ims_page_time_arg(struct ims_req *r, const char *name, long long *v)
{
	const char *s = ims_req_query(r, name);
	char *end;
	long long x;

	if (!s)
		return 0;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || end == s || *end || x < 0) {
		ims_req_error(r, 400, "%s must be a time in Unix milliseconds", name);
		return -1;
	}
	*v = x;
	return 0;
}

void ims_page_failed(struct ims_req *r, ims_status st)
{
	if (st == IMS_EINVAL)
		ims_req_error(r, 400, "malformed cursor");
	else if (st == IMS_EFORMAT)
		ims_req_error(r, 500, "unexpected store reply");
	else
		ims_req_store_failed(r, st);
}
