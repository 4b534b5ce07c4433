/* Fuzz target: the raw header/body splitter and the From helpers. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rfc5322.h"

/* Oracle: each From address is a NUL-terminated string within the limit. */
static int check_addr(const char *addr, void *arg)
{
	(void)arg;
	if (strlen(addr) > IMS_MSG_ADDR_MAX)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_msg *m = NULL;
	char domain[256];
	size_t naddr, len;

	if (ims_msg_parse((const char *)data, size, 200, 8192, &m) != IMS_OK)
		return 0;
	for (size_t i = 0; i < ims_msg_header_count(m); i++) {
		const char *name, *value;
		ims_msg_header(m, i, &name, &value, &len);
	}
	(void)ims_msg_find(m, "Subject", 0);
	(void)ims_msg_body(m, &len);
	(void)ims_msg_from_count(m);
	(void)ims_msg_from_domain(m, domain, sizeof domain, &naddr);
	(void)ims_msg_from_addrs(m, check_addr, NULL);
	ims_msg_free(m);
	return 0;
}
