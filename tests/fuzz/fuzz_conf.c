/* Fuzz target: ims.conf parsing (libinih + the config table).
 *
 * Oracle: a refused file gets a one-line reason. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ims_conf *c = NULL;
	char path[64], err[1024] = "";
	int fd = memfd_create("ims-fuzz-conf", 0);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		if (ims_conf_load(path, &c, err, sizeof err) == IMS_OK)
			ims_conf_unref(c);
		else if (!err[0] || strpbrk(err, "\r\n"))
			fuzz_fail("refused without a one-line reason: \"%s\"", err);
	}
	close(fd);
	return 0;
}
