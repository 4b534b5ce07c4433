#include "config.h"

#include <string.h>

#include "checkpw.h"

ims_status ims_checkpw_parse(const char *buf, size_t n, const char **user, const char **password)
{
	const char *end1, *pw;

	*user = *password = NULL;
	if (!buf || n > IMS_CHECKPW_INPUT_MAX)
		return IMS_EINVAL;
	end1 = memchr(buf, '\0', n);
	if (!end1)
		return IMS_EINVAL;
	pw = end1 + 1;
	if (!memchr(pw, '\0', n - (size_t)(pw - buf)))
		return IMS_EINVAL;
	*user = buf;
	*password = pw;
	return IMS_OK;
}
