/* Runs SPF scenarios through ims_spf_check, for the RFC 7208 test suite.
 *
 *   spf_driver HOST:PORT < scenarios
 *
 * Each input line is "id<TAB>client-ip<TAB>helo<TAB>mail-from"; each output
 * line is "id<TAB>result<TAB>reason".  A new resolver (and so an empty
 * cache) per run: the suite's sections reuse names with other records. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "spf.h"

#define MAX_LINE 4096

static char *field(char **p)
{
	char *start = *p, *tab;

	if (!start)
		return (char *)"";
	tab = strchr(start, '\t');
	if (tab) {
		*tab = '\0';
		*p = tab + 1;
	} else {
		*p = NULL;
	}
	return start;
}

int main(int argc, char **argv)
{
	const char *servers[2] = {NULL, NULL};
	struct ims_dns *dns = NULL;
	struct ims_spf *spf = NULL;
	char line[MAX_LINE], err[256] = "";
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: spf_driver HOST:PORT < scenarios\n");
		return 2;
	}
	servers[0] = argv[1];
	if (ims_dns_new_servers(servers, 1500, &dns, err, sizeof err) != IMS_OK ||
	    ims_spf_new(dns, &spf) != IMS_OK) {
		fprintf(stderr, "spf_driver: setup failed: %s\n", err);
		goto out;
	}
	while (fgets(line, sizeof line, stdin)) {
		struct ims_spf_outcome o;
		char *p = line, *id, *ip, *helo, *from;

		line[strcspn(line, "\r\n")] = '\0';
		id = field(&p);
		ip = field(&p);
		helo = field(&p);
		from = field(&p);
		if (ims_spf_check(spf, ip, helo, from, &o) != IMS_OK)
			printf("%s\terror\tims_spf_check failed\n", id);
		else
			printf("%s\t%s\t%s\n", id, ims_spf_result_name(o.result), o.reason);
		fflush(stdout);
	}
	rc = 0;
out:
	ims_spf_free(spf);
	ims_dns_free(dns);
	return rc;
}
