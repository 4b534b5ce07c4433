/* Fuzz target: building an outgoing message from the JSON of POST
 * /emails/send and POST /emails/drafts (webapi/compose.c, GMime), attachments
 * included.  The input is the request body.
 *
 * Oracles: a built message has CRLF line ends only, parses, carries only
 * the header fields compose writes (From once, no Bcc: the input cannot
 * add or smuggle a field), and its envelope recipients have no white space,
 * angle brackets or line breaks; a refusal has a one-line reason. */
#include "config.h"

#include <gmime/gmime.h>
#include <jansson.h>
#include <stdint.h>
#include <strings.h>

#include "compose.h"
#include "fuzz_common.h"
#include "rfc5322.h"

static void check_message(const struct ims_composed *c, int draft)
{
	static const char *const fields[] = {"From",
	                                     "To",
	                                     "Cc",
	                                     "Subject",
	                                     "Date",
	                                     "Message-Id",
	                                     "MIME-Version",
	                                     "Content-Type",
	                                     "Content-Transfer-Encoding",
	                                     NULL};
	struct ims_msg *m = NULL;
	size_t froms = 0;

	for (size_t i = 0; i < c->len; i++) {
		if (c->raw[i] == '\n' && (i == 0 || c->raw[i - 1] != '\r'))
			fuzz_fail("bare LF at %zu", i);
		if (c->raw[i] == '\r' && (i + 1 >= c->len || c->raw[i + 1] != '\n'))
			fuzz_fail("bare CR at %zu", i);
		if (c->raw[i] == '\0')
			fuzz_fail("NUL at %zu", i);
	}
	if (ims_msg_parse(c->raw, c->len, 1000, 1u << 20, &m) != IMS_OK)
		fuzz_fail("composed message does not parse:\n%s", c->raw);
	for (size_t i = 0; i < ims_msg_header_count(m); i++) {
		const char *name, *value;
		size_t vlen;
		int known = 0;

		ims_msg_header(m, i, &name, &value, &vlen);
		for (size_t k = 0; fields[k]; k++)
			known |= strcasecmp(fields[k], name) == 0;
		if (!known)
			fuzz_fail("composed message has a %s field:\n%s", name, c->raw);
		froms += strcasecmp(name, "From") == 0;
	}
	if (froms != 1)
		fuzz_fail("composed message has %zu From fields", froms);
	ims_msg_free(m);
	if ((c->nrcpts == 0 && !draft) || c->nrcpts > IMS_COMPOSE_MAX_RCPTS)
		fuzz_fail("%zu recipients", c->nrcpts);
	for (size_t i = 0; i < c->nrcpts; i++)
		if (!c->rcpts[i] || !c->rcpts[i][0] || strpbrk(c->rcpts[i], " \t\r\n<>"))
			fuzz_fail("recipient \"%s\"", c->rcpts[i] ? c->rcpts[i] : "(null)");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct ims_composed c;
	json_t *j;
	char err[512] = "";
	ims_status rc;

	if (!init) {
		g_mime_init();
		init = 1;
	}
	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return 0;
	}
	/* a message to send, then the same as a draft (POST /emails/drafts) */
	for (int draft = 0; draft <= 1; draft++) {
		rc = draft ? ims_compose_draft("alice@example.test", j, &c, err, sizeof err)
		           : ims_compose("alice@example.test", j, &c, err, sizeof err);
		if (rc == IMS_OK) {
			check_message(&c, draft);
			ims_composed_free(&c);
		} else if (rc == IMS_EINVAL && (!err[0] || strpbrk(err, "\r\n"))) {
			fuzz_fail("refusal without a one-line reason: \"%s\"", err);
		}
	}
	json_decref(j);
	return 0;
}
