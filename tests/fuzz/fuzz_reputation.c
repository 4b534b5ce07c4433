/* Fuzz target: what the reputation checks read from outside: intel list
 * lines (feeds), DNS list rules (ims.conf), sender-list entries (the web
 * API), and the names looked up (registrable domain, reversed address).
 * Each line of the input goes through every parser. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dnsbl.h"
#include "intel.h"
#include "orgdomain.h"
#include "senders.h"

static void one(const char *line)
{
	char norm[IMS_INTEL_ENTRY_MAX + 1], why[300], out[300], ent[IMS_SENDERS_ENTRY_MAX + 1];
	enum ims_intel_kind kind;
	struct ims_dnsbl_rule r;

	if (ims_intel_parse_line(line, &kind, norm, sizeof norm, why, sizeof why) == IMS_OK &&
	    strlen(norm) >= sizeof norm)
		abort();
	ims_dnsbl_rule_parse(line, &r, why, sizeof why);
	if (ims_orgdomain(line, out, sizeof out) == IMS_OK && !*out)
		abort();
	ims_dnsbl_ip_name(line, "zen.test", out, sizeof out);
	ims_dnsbl_domain_name(line, "dbl.test", out, sizeof out);
	if (ims_senders_entry_norm(line, ent) == IMS_OK && strlen(ent) > IMS_SENDERS_ENTRY_MAX)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *line, *save = NULL;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		one(line);
	free(text);
	return 0;
}
