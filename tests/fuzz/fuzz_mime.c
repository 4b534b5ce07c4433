/* Fuzz target: MIME parsing to text, links and attachments
 * (classifier/message.c, GMime).
 *
 * Oracles: text and subject are UTF-8; text, links and attachments stay
 * within their limits; every link and attachment has its strings. */
#include "config.h"

#include <glib.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_parsed *p = NULL;
	const struct ims_link *links;
	const struct ims_attachment *att;
	const char *text, *subject;
	size_t nl, na;

	if (ims_parse_message((const char *)data, size, &p) != IMS_OK)
		return 0;
	text = ims_parsed_text(p);
	subject = ims_parsed_subject(p);
	if (!text || !subject)
		fuzz_fail("text or subject is NULL");
	if (!g_utf8_validate(text, -1, NULL))
		fuzz_fail("body text is not UTF-8");
	if (!g_utf8_validate(subject, -1, NULL))
		fuzz_fail("subject is not UTF-8: %s", subject);
	if (strlen(text) > IMS_MIME_MAX_TEXT + 4)
		fuzz_fail("%zu bytes of text", strlen(text));
	nl = ims_parsed_links(p, &links);
	na = ims_parsed_attachments(p, &att);
	if (nl > IMS_MIME_MAX_LINKS || na > IMS_MIME_MAX_ATTACHMENTS)
		fuzz_fail("%zu links, %zu attachments", nl, na);
	for (size_t i = 0; i < nl; i++)
		if (!links[i].href || !links[i].text)
			fuzz_fail("link %zu without href or text", i);
	for (size_t i = 0; i < na; i++)
		if (!att[i].filename || !att[i].content_type)
			fuzz_fail("attachment %zu without filename or type", i);
	(void)ims_parsed_malformed(p);
	ims_parsed_free(p);
	return 0;
}
