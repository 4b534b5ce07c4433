/* Prints the sample config or the configuration reference from the one
 * table in lib/conf.c.  `make check` compares its output with the
 * committed etc/ims.conf.sample.in and docs/configuration.md. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conf.h"

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--sample") == 0)
		ims_conf_write_sample(stdout, true);
	else if (argc == 2 && strcmp(argv[1], "--reference") == 0)
		ims_conf_write_reference(stdout, true);
	else if (argc == 2 && strcmp(argv[1], "--man") == 0)
		ims_conf_write_man(stdout);
	else {
		fprintf(stderr, "usage: ims-conf-doc --sample | --reference | --man\n");
		return 2;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
