/* Fuzz target: MIME parsing to text, links and attachments (GMime). */
#include "config.h"

#include <stdint.h>

#include "message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_parsed *p = NULL;
	const struct ims_link *links;
	const struct ims_attachment *att;

	if (ims_parse_message((const char *)data, size, &p) != IMS_OK)
		return 0;
	(void)ims_parsed_text(p);
	(void)ims_parsed_subject(p);
	(void)ims_parsed_links(p, &links);
	(void)ims_parsed_attachments(p, &att);
	(void)ims_parsed_malformed(p);
	ims_parsed_free(p);
	return 0;
}
