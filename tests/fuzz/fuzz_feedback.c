/* Fuzz target: what `ims feedback learn` makes of a message a user moved
 * (its key from X-IMS-Scan-Id or SHA-256, the size bound). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "feedback.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_feedback_msg m;
	size_t max = size > 1 ? size / 2 : 1;

	if (ims_feedback_msg_from((const char *)data, size, max, &m) != IMS_OK)
		return 0;
	if (strlen(m.key) >= IMS_FEEDBACK_KEY_MAX || m.raw_len > max || m.size != size ||
	    m.truncated != (m.raw_len < size))
		__builtin_trap();
	ims_feedback_msg_clear(&m);
	return 0;
}
