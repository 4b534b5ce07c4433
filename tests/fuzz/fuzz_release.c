/* Fuzz target: the copy a quarantine release delivers
 * (ims_quarantine_released_copy), from any bytes a sender could have put
 * into a held message.  Oracle: the copy's header section has exactly one
 * X-Spam-Flag, which says NO, and exactly one X-IMS-Released, ours, so no
 * input can keep a verdict that files it into Junk or forge who released it. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "quarantine.h"
#include "rfc5322.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *out = NULL;
	size_t len = 0, flags = 0, released = 0;
	struct ims_msg *m = NULL;

	if (ims_quarantine_released_copy((const char *)data, size, "admin@example.test",
	                                 1764547200000ull, &out, &len) != IMS_OK)
		return 0;
	if (ims_msg_parse(out, len, 1000000, 64 * 1024 * 1024, &m) != IMS_OK)
		abort(); /* the copy always starts with our header fields */
	for (size_t i = 0; i < ims_msg_header_count(m); i++) {
		const char *name, *value;
		size_t vlen;
		ims_msg_header(m, i, &name, &value, &vlen);
		if (strcasecmp(name, "X-Spam-Flag") == 0) {
			flags++;
			if (strcmp(value, " NO") != 0)
				abort();
		}
		if (strcasecmp(name, "X-IMS-Released") == 0) {
			released++;
			if (strncmp(value, " by admin@example.test at ", 26) != 0)
				abort();
		}
	}
	if (flags != 1 || released != 1)
		abort();
	ims_msg_free(m);
	free(out);
	return 0;
}
